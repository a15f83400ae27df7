//! RFC 6797 §8.4 at connection time through every adapter, and the unsafe
//! adapter setups refused, against the loopback HTTPS + HTTP server.
//!
//! "Invalid certificates accepted" is a client whose `HstsVerifier` wraps
//! `AcceptAnyCertificate` over the webpki roots, which do not include the
//! test certificates: every host connects, except known HSTS hosts, which
//! fail with the §8.4 error. "Valid" is a server certificate issued by a
//! test CA that the verifier trusts.

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hsts::adapters::SetupError;
use hsts::tls::{AcceptAnyCertificate, CertificateStatus, HstsVerifier, KnownHostCertificateError};
use hsts::{HstsStore, SharedHstsStore, Source, Transport};
use http_body_util::{BodyExt, Full};
use support::{Loopback, TestServer};
use url::Url;

const HOST: &str = "secure.test";
const OTHER: &str = "other.test";
/// Under the preloaded `dev` TLD.
const PRELOADED: &str = "hsts-e2e.dev";
const LIMIT: Duration = Duration::from_secs(20);

/// A verifier that accepts any certificate except from known HSTS hosts,
/// which must chain to the webpki roots (and the test servers' do not).
fn insecure(store: &SharedHstsStore) -> Arc<HstsVerifier> {
    Arc::new(HstsVerifier::new(store.clone(), Arc::new(AcceptAnyCertificate::new())).unwrap())
}

/// A verifier that accepts any certificate, and whose strict roots are the
/// server's test CA.
fn trusting_ca(store: &SharedHstsStore, server: &TestServer) -> Arc<HstsVerifier> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(
            server.cert_der.clone(),
        ))
        .unwrap();
    Arc::new(
        HstsVerifier::with_roots(store.clone(), Arc::new(AcceptAnyCertificate::new()), roots)
            .unwrap(),
    )
}

fn make_known(store: &SharedHstsStore, host: &str) {
    let url = Url::parse(&format!("https://{host}/")).unwrap();
    store.note(&url, ["max-age=600"], Transport::Secure);
    assert!(store.lookup(host).unwrap().is_some());
}

/// The §8.4 error in `err`, checked for its host and its text.
fn assert_8_4(err: &(dyn std::error::Error + 'static), host: &str) {
    let found =
        KnownHostCertificateError::find(err).unwrap_or_else(|| panic!("no §8.4 error in {err:?}"));
    assert_eq!(found.host, host);
    let text = found.to_string();
    assert!(text.contains("RFC 6797 §8.4: no user recourse"), "{text}");
    assert!(text.contains("UnknownIssuer"), "{text}");
}

// ---------------------------------------------------------------- reqwest

mod with_reqwest {
    use super::*;
    use hsts::adapters::reqwest::HstsMiddleware;
    use reqwest_middleware::ClientWithMiddleware;

    fn builder() -> reqwest::ClientBuilder {
        let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
        reqwest::Client::builder()
            .resolve(HOST, loopback)
            .resolve(OTHER, loopback)
            .resolve(PRELOADED, loopback)
            .no_proxy()
    }

    fn client(store: &SharedHstsStore, verifier: &Arc<HstsVerifier>) -> ClientWithMiddleware {
        HstsMiddleware::new(store.clone())
            .verifier(verifier.clone())
            .build_client(builder())
            .unwrap()
    }

    async fn get(
        client: &ClientWithMiddleware,
        url: String,
    ) -> Result<reqwest::Response, reqwest_middleware::Error> {
        tokio::time::timeout(LIMIT, client.get(url).send())
            .await
            .expect("request timed out")
    }

    fn inner(err: &reqwest_middleware::Error) -> &(dyn std::error::Error + 'static) {
        match err {
            reqwest_middleware::Error::Reqwest(e) => e,
            reqwest_middleware::Error::Middleware(e) => e.as_ref(),
        }
    }

    #[tokio::test]
    async fn reqwest_8_4_unknown_connects_known_and_preloaded_fail() {
        let server = TestServer::start(&[HOST, OTHER, PRELOADED]);
        let store = SharedHstsStore::new(HstsStore::new());
        let verifier = insecure(&store);
        let client = client(&store, &verifier);
        let p = server.port;

        // Unknown host, invalid certificate accepted: it connects, and the
        // header it sends is not noted.
        let r = get(&client, format!("https://{HOST}:{p}/sts/600"))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(store.lookup(HOST).unwrap().is_none());
        assert_eq!(
            verifier.certificate_status(HOST),
            CertificateStatus::Invalid
        );

        // Once known, the same certificate ends the handshake: §8.4.
        make_known(&store, OTHER);
        let before = server.tls_requests();
        let err = get(&client, format!("https://{OTHER}:{p}/sts/0"))
            .await
            .unwrap_err();
        assert_8_4(inner(&err), OTHER);
        assert_eq!(server.tls_requests(), before, "nothing was sent");
        assert!(
            store.lookup(OTHER).unwrap().is_some(),
            "max-age=0 never read"
        );

        // A preloaded name fails the same way, even asked for over http.
        let err = get(&client, format!("http://{PRELOADED}:{p}/sts/600"))
            .await
            .unwrap_err();
        assert_8_4(inner(&err), PRELOADED);
        assert_eq!(server.plain_requests(), 0);
        assert_eq!(
            store.lookup(PRELOADED).unwrap().unwrap().source,
            Source::Preload
        );
    }

    #[tokio::test]
    async fn reqwest_valid_certificate_from_test_ca_connects_and_notes() {
        let server = TestServer::start_with_ca(&[HOST]);
        let store = SharedHstsStore::new(HstsStore::new());
        let verifier = trusting_ca(&store, &server);
        let client = client(&store, &verifier);
        let p = server.port;
        get(&client, format!("https://{HOST}:{p}/sts/600"))
            .await
            .unwrap();
        assert_eq!(verifier.certificate_status(HOST), CertificateStatus::Valid);
        assert_eq!(store.lookup(HOST).unwrap().unwrap().source, Source::Dynamic);
        // Known now, and the certificate is valid: fine, and http upgrades.
        let r = get(&client, format!("http://{HOST}:{p}/later"))
            .await
            .unwrap();
        assert_eq!((r.status().as_u16(), r.url().scheme()), (200, "https"));
        assert_eq!(server.plain_requests(), 0);
    }

    #[tokio::test]
    async fn reqwest_client_that_follows_redirects_is_refused() {
        let server = TestServer::start(&[HOST]);
        let store = SharedHstsStore::new(HstsStore::new());
        // The default redirect policy: reqwest follows hops unseen.
        let following = builder().build().unwrap();
        let client = reqwest_middleware::ClientBuilder::new(following)
            .with(HstsMiddleware::new(store.clone()))
            .build();
        let err = get(
            &client,
            format!("http://{HOST}:{}/redirect/302/ok", server.port),
        )
        .await
        .unwrap_err();
        let setup = inner(&err).downcast_ref::<SetupError>();
        assert!(
            matches!(setup, Some(SetupError::ClientFollowedRedirect { .. })),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("followed a redirect itself"),
            "{err}"
        );
    }
}

// ------------------------------------------------------------------- ureq

mod with_ureq {
    use super::*;
    use hsts::adapters::ureq::{
        config_builder, send_following_redirects, HstsConnector, HstsMiddleware, UreqError,
    };

    fn agent(store: &SharedHstsStore, verifier: &Arc<HstsVerifier>) -> ureq::Agent {
        let config = config_builder(HstsMiddleware::new(store.clone()).verifier(verifier.clone()))
            .http_status_as_error(false)
            .timeout_global(Some(LIMIT))
            .build();
        ureq::Agent::with_parts(config, HstsConnector::new(verifier), Loopback)
    }

    fn get(
        agent: &ureq::Agent,
        store: &SharedHstsStore,
        url: String,
    ) -> Result<http::Response<ureq::Body>, UreqError> {
        let req = http::Request::get(url).body(Vec::new()).unwrap();
        send_following_redirects(agent, store, req, 10)
    }

    #[test]
    fn ureq_8_4_unknown_connects_known_and_preloaded_fail() {
        let server = TestServer::start(&[HOST, OTHER, PRELOADED]);
        let store = SharedHstsStore::new(HstsStore::new());
        let verifier = insecure(&store);
        let agent = agent(&store, &verifier);
        let p = server.port;

        let r = get(&agent, &store, format!("https://{HOST}:{p}/sts/600")).unwrap();
        assert_eq!(r.status(), 200);
        assert!(store.lookup(HOST).unwrap().is_none());
        assert_eq!(
            verifier.certificate_status(HOST),
            CertificateStatus::Invalid
        );

        make_known(&store, OTHER);
        let before = server.tls_requests();
        let err = get(&agent, &store, format!("https://{OTHER}:{p}/sts/0")).unwrap_err();
        assert_8_4(&err, OTHER);
        assert!(err.to_string().contains("RFC 6797 §8.4"), "{err}");
        assert_eq!(server.tls_requests(), before);
        assert!(store.lookup(OTHER).unwrap().is_some());

        let err = get(&agent, &store, format!("http://{PRELOADED}:{p}/sts/600")).unwrap_err();
        assert_8_4(&err, PRELOADED);
        assert_eq!(server.plain_requests(), 0);
    }

    #[test]
    fn ureq_valid_certificate_from_test_ca_connects_and_notes() {
        let server = TestServer::start_with_ca(&[HOST]);
        let store = SharedHstsStore::new(HstsStore::new());
        let verifier = trusting_ca(&store, &server);
        let agent = agent(&store, &verifier);
        let p = server.port;
        get(&agent, &store, format!("https://{HOST}:{p}/sts/600")).unwrap();
        assert_eq!(store.lookup(HOST).unwrap().unwrap().source, Source::Dynamic);
        let r = get(&agent, &store, format!("http://{HOST}:{p}/later")).unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(server.log().last().unwrap(), "https /later");
        assert_eq!(server.plain_requests(), 0);
    }

    /// An agent with the middleware and ureq's default redirect handling.
    fn following_agent(server: &TestServer, store: &SharedHstsStore) -> ureq::Agent {
        let cert = ureq::tls::Certificate::from_der(&server.cert_der).to_owned();
        let config = ureq::Agent::config_builder()
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::from(vec![cert]))
                    .build(),
            )
            .middleware(HstsMiddleware::new(store.clone()))
            .timeout_global(Some(LIMIT))
            .build();
        ureq::Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::new(),
            Loopback,
        )
    }

    #[test]
    fn ureq_helper_refuses_an_agent_that_follows_redirects_before_sending() {
        let server = TestServer::start(&[HOST]);
        let store = SharedHstsStore::new(HstsStore::new());
        let agent = following_agent(&server, &store);
        let err = get(
            &agent,
            &store,
            format!("http://{HOST}:{}/redirect/302/ok", server.port),
        )
        .unwrap_err();
        assert!(
            matches!(err, UreqError::Setup(SetupError::AgentFollowsRedirects(10))),
            "{err}"
        );
        assert!(err.to_string().contains("max_redirects(0)"), "{err}");
        assert_eq!(server.plain_requests() + server.tls_requests(), 0);
    }

    #[test]
    fn ureq_middleware_refuses_a_redirect_the_agent_followed() {
        let server = TestServer::start(&[HOST]);
        let store = SharedHstsStore::new(HstsStore::new());
        let agent = following_agent(&server, &store);
        let req = http::Request::get(format!("http://{HOST}:{}/redirect/302/ok", server.port))
            .body(Vec::new())
            .unwrap();
        let err = agent.run(req).unwrap_err();
        let ureq::Error::Other(inner) = &err else {
            panic!("{err}")
        };
        assert!(
            matches!(
                inner.downcast_ref::<SetupError>(),
                Some(SetupError::ClientFollowedRedirect { .. })
            ),
            "{err}"
        );
    }
}

// ---------------------------------------------- tower over hyper-util

mod with_tower {
    use super::*;
    use hsts::adapters::tower::HstsLayer;
    use hyper_util::client::legacy::connect::dns::Name;
    use hyper_util::client::legacy::connect::{Connect, HttpConnector};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    use std::future::{ready, Ready};
    use tower::{Service, ServiceExt};

    fn loopback(_: Name) -> Ready<Result<std::vec::IntoIter<SocketAddr>, std::io::Error>> {
        ready(Ok(
            vec![SocketAddr::from((Ipv4Addr::LOCALHOST, 0))].into_iter()
        ))
    }

    /// hyper-util's client with the verifier's TLS configuration.
    fn hyper_client(verifier: &Arc<HstsVerifier>) -> Client<impl Connect + Clone, Full<Bytes>> {
        let mut http = HttpConnector::new_with_resolver(tower::service_fn(loopback));
        http.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(verifier.client_config())
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Client::builder(TokioExecutor::new()).build(https)
    }

    async fn get<S, RB>(svc: &mut S, url: String) -> Result<u16, S::Error>
    where
        S: Service<http::Request<Full<Bytes>>, Response = http::Response<RB>>,
        RB: http_body::Body,
        RB::Error: std::fmt::Debug,
    {
        let request = http::Request::get(url).body(Full::default()).unwrap();
        let response = tokio::time::timeout(LIMIT, async {
            let ready = svc.ready().await?;
            ready.call(request).await
        })
        .await
        .expect("request timed out")?;
        let status = response.status().as_u16();
        tokio::time::timeout(LIMIT, response.into_body().collect())
            .await
            .expect("body timed out")
            .unwrap();
        Ok(status)
    }

    #[tokio::test]
    async fn tower_8_4_unknown_connects_known_and_preloaded_fail() {
        let server = TestServer::start(&[HOST, OTHER, PRELOADED]);
        let store = SharedHstsStore::new(HstsStore::new());
        let verifier = insecure(&store);
        let mut svc = HstsLayer::new(store.clone())
            .verifier(verifier.clone())
            .follow_redirects(hyper_client(&verifier));
        let p = server.port;

        assert_eq!(
            get(&mut svc, format!("https://{HOST}:{p}/sts/600"))
                .await
                .unwrap(),
            200
        );
        assert!(store.lookup(HOST).unwrap().is_none());
        assert_eq!(
            verifier.certificate_status(HOST),
            CertificateStatus::Invalid
        );

        make_known(&store, OTHER);
        let before = server.tls_requests();
        let err = get(&mut svc, format!("https://{OTHER}:{p}/sts/0"))
            .await
            .unwrap_err();
        assert_8_4(&err, OTHER);
        assert_eq!(server.tls_requests(), before);
        assert!(store.lookup(OTHER).unwrap().is_some());

        let err = get(&mut svc, format!("http://{PRELOADED}:{p}/sts/600"))
            .await
            .unwrap_err();
        assert_8_4(&err, PRELOADED);
        assert_eq!(server.plain_requests(), 0);
    }

    #[tokio::test]
    async fn tower_valid_certificate_from_test_ca_connects_and_every_hop_upgrades() {
        let server = TestServer::start_with_ca(&[HOST]);
        let store = SharedHstsStore::new(HstsStore::new());
        let verifier = trusting_ca(&store, &server);
        // `follow_redirects` stacks FollowRedirect outside, HSTS inside.
        let mut svc = HstsLayer::new(store.clone())
            .verifier(verifier.clone())
            .follow_redirects(hyper_client(&verifier));
        let p = server.port;
        get(&mut svc, format!("https://{HOST}:{p}/sts/600"))
            .await
            .unwrap();
        assert_eq!(store.lookup(HOST).unwrap().unwrap().source, Source::Dynamic);
        let status = get(&mut svc, format!("http://{HOST}:{p}/to-https/to-http/end"))
            .await
            .unwrap();
        assert_eq!(status, 200);
        assert_eq!(server.plain_requests(), 0);
        let log = server.log();
        assert_eq!(
            &log[log.len() - 3..],
            [
                "https /to-https/to-http/end",
                "https /to-http/end",
                "https /end"
            ]
        );
    }
}

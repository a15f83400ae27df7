//! HTTPS DNS records (RFC 9460 §9.5) through every adapter's
//! `.https_records(…)` option, against the loopback HTTPS + HTTP server and
//! the loopback DNS server (`tests/support/dns.rs`: `_PORT._https.NAME` is
//! answered as NAME, so `http://alias.test:PORT/` is upgraded by
//! alias.test's AliasMode record).
//!
//! The same scenario runs through reqwest, ureq and tower over hyper-util:
//! - `alias.test` goes out over https (plain counter 0, TLS counter 1), on
//!   every hop of a redirect chain, and is not a known HSTS host afterwards;
//! - `nx.test` (NXDOMAIN), `none.test` (no record) and `slow.test` (no
//!   answer: the look-up times out) go out as plain http, unchanged;
//! - a known HSTS host is upgraded by HSTS without any DNS query.

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hsts::tls::{AcceptAnyCertificate, HstsVerifier};
use hsts::{HstsStore, SharedHstsStore, Transport};
use http_body_util::{BodyExt, Full};
use support::dns::DnsServer;
use support::{Loopback, TestServer};
use url::Url;

const LIMIT: Duration = Duration::from_secs(20);
/// Names the server's certificate covers (the ones reached over https).
const CERT_NAMES: &[&str] = &["alias.test", "known.test"];

/// A verifier whose strict roots are the server's test CA.
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

/// The scenario of the module documentation; `get` sends a GET through the
/// adapter (following redirects) and returns the final status.
fn scenario(
    server: &TestServer,
    dns: &DnsServer,
    store: &SharedHstsStore,
    mut get: impl FnMut(String) -> u16,
) {
    let p = server.port;
    let asked = |host: &str| dns.count(&format!("_{p}._https.{host}"));

    // AliasMode record: sent over https, nothing in plain text.
    assert_eq!(get(format!("http://alias.test:{p}/")), 200);
    assert_eq!((server.plain_requests(), server.tls_requests()), (0, 1));
    assert_eq!(server.log(), ["https /"]);
    assert_eq!(asked("alias.test"), 1);
    // Trusted no more than a cleartext 307: not a known HSTS host.
    assert!(store.lookup("alias.test").unwrap().is_none());

    // Every hop: the server's redirect back to http is upgraded again
    // (from the cached answer).
    assert_eq!(get(format!("http://alias.test:{p}/to-http/end")), 200);
    assert_eq!(server.plain_requests(), 0);
    assert_eq!(server.log()[1..], ["https /to-http/end", "https /end"]);
    assert_eq!(asked("alias.test"), 1, "cached for its TTL");
    assert!(store.lookup("alias.test").unwrap().is_none());

    // NXDOMAIN, no record, and a timeout: the request goes as it was.
    for host in ["nx.test", "none.test", "slow.test"] {
        let started = Instant::now();
        assert_eq!(get(format!("http://{host}:{p}/as-is")), 200, "{host}");
        assert_eq!(server.log().last().unwrap(), "http /as-is", "{host}");
        assert!(asked(host) >= 1, "{host} was asked");
        assert!(started.elapsed() < Duration::from_secs(5), "{host}");
        assert!(store.lookup(host).unwrap().is_none(), "{host}");
    }
    assert_eq!((server.plain_requests(), server.tls_requests()), (3, 3));

    // A known HSTS host is upgraded by HSTS alone: no query.
    let known = Url::parse("https://known.test/").unwrap();
    store.note(&known, ["max-age=600"], Transport::Secure);
    assert_eq!(get(format!("http://known.test:{p}/k")), 200);
    assert_eq!(server.log().last().unwrap(), "https /k");
    assert_eq!(asked("known.test"), 0);
    assert_eq!(server.plain_requests(), 3);
    assert_eq!(store.read(|s| s.len()), 1, "only the host noted by hand");
}

// ---------------------------------------------------------------- reqwest

#[test]
fn reqwest_https_records_upgrade_alias_and_leave_the_rest() {
    use hsts::adapters::reqwest::HstsMiddleware;

    let server = TestServer::start_with_ca(CERT_NAMES);
    let dns = DnsServer::start();
    let store = SharedHstsStore::new(HstsStore::new());
    let verifier = trusting_ca(&store, &server);
    let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut builder = reqwest::Client::builder().no_proxy();
    for name in [
        "alias.test",
        "known.test",
        "nx.test",
        "none.test",
        "slow.test",
    ] {
        builder = builder.resolve(name, loopback);
    }
    let client = HstsMiddleware::new(store.clone())
        .verifier(verifier)
        .https_records(dns.records(None))
        .build_client(builder)
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    scenario(&server, &dns, &store, |url| {
        rt.block_on(async {
            let r = tokio::time::timeout(LIMIT, client.get(url).send())
                .await
                .expect("request timed out")
                .unwrap();
            let status = r.status().as_u16();
            r.bytes().await.unwrap();
            status
        })
    });
}

// ------------------------------------------------------------------- ureq

#[test]
fn ureq_https_records_upgrade_alias_and_leave_the_rest() {
    use hsts::adapters::ureq::{
        config_builder, send_following_redirects, HstsConnector, HstsMiddleware,
    };

    let server = TestServer::start_with_ca(CERT_NAMES);
    let dns = DnsServer::start();
    let store = SharedHstsStore::new(HstsStore::new());
    let verifier = trusting_ca(&store, &server);
    let middleware = HstsMiddleware::new(store.clone())
        .verifier(verifier.clone())
        .https_records(dns.records(None));
    let config = config_builder(middleware)
        .http_status_as_error(false)
        .timeout_global(Some(LIMIT))
        .build();
    let agent = ureq::Agent::with_parts(config, HstsConnector::new(&verifier), Loopback);
    scenario(&server, &dns, &store, |url| {
        let req = http::Request::get(url).body(Vec::new()).unwrap();
        let mut r = send_following_redirects(&agent, &store, req, 10).unwrap();
        r.body_mut().read_to_vec().unwrap();
        r.status().as_u16()
    });
}

// ---------------------------------------------- tower over hyper-util

#[test]
fn tower_https_records_upgrade_alias_and_leave_the_rest() {
    use hsts::adapters::tower::HstsLayer;
    use hyper_util::client::legacy::connect::dns::Name;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    use std::future::{ready, Ready};
    use tower::{Service, ServiceExt};

    fn loopback(_: Name) -> Ready<Result<std::vec::IntoIter<SocketAddr>, std::io::Error>> {
        ready(Ok(
            vec![SocketAddr::from((Ipv4Addr::LOCALHOST, 0))].into_iter()
        ))
    }

    let server = TestServer::start_with_ca(CERT_NAMES);
    let dns = DnsServer::start();
    let store = SharedHstsStore::new(HstsStore::new());
    let verifier = trusting_ca(&store, &server);
    let rt = tokio::runtime::Runtime::new().unwrap();
    // hyper-util's client needs the runtime to be built.
    let _guard = rt.enter();
    let mut http = HttpConnector::new_with_resolver(tower::service_fn(loopback));
    http.enforce_http(false);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(verifier.client_config())
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let svc = HstsLayer::new(store.clone())
        .verifier(verifier)
        .https_records(dns.records(None))
        .follow_redirects(client);
    scenario(&server, &dns, &store, |url| {
        let mut svc = svc.clone();
        let request = http::Request::get(url).body(Full::default()).unwrap();
        // Spawned: the service's future is Send.
        let task = tokio::spawn(async move {
            let response = svc.ready().await?.call(request).await?;
            let status = response.status().as_u16();
            response.into_body().collect().await.unwrap();
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(status)
        });
        rt.block_on(async { tokio::time::timeout(LIMIT, task).await })
            .expect("request timed out")
            .unwrap()
            .unwrap()
    });
}

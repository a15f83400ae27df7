//! The tower layer over hyper-util's legacy client (TLS by hyper-rustls),
//! inside tower-http's `FollowRedirect`, against the loopback HTTPS + HTTP
//! server. The client resolves every name to 127.0.0.1.
#![cfg(feature = "tower")]

mod support;

use std::future::{ready, Ready};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use hsts::adapters::tower::HstsLayer;
use hsts::SharedHstsStore;
use hsts::{HstsStore, Source};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use support::TestServer;
use tower::{Layer, Service, ServiceBuilder, ServiceExt};
use tower_http::follow_redirect::FollowRedirectLayer;

const HOST: &str = "hsts-e2e.test";
const PRELOADED: &str = "hsts-e2e.dev";
const LIMIT: Duration = Duration::from_secs(20);

/// Every name is 127.0.0.1; port 0 lets the connector use the URI's port.
fn loopback(_: Name) -> Ready<Result<std::vec::IntoIter<SocketAddr>, std::io::Error>> {
    ready(Ok(
        vec![SocketAddr::from((Ipv4Addr::LOCALHOST, 0))].into_iter()
    ))
}

/// hyper-util's client, trusting only the test server's certificate.
fn hyper_client(server: &TestServer) -> Client<impl Connect + Clone, Full<Bytes>> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(
            server.cert_der.clone(),
        ))
        .unwrap();
    let tls = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut http = HttpConnector::new_with_resolver(tower::service_fn(loopback));
    http.enforce_http(false);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new()).build(https)
}

/// GETs `url` through `svc`; returns the status and the body.
async fn get<S, RB>(svc: &mut S, url: String) -> (u16, Bytes)
where
    S: Service<http::Request<Full<Bytes>>, Response = http::Response<RB>>,
    S::Error: std::fmt::Debug,
    RB: http_body::Body,
    RB::Error: std::fmt::Debug,
{
    let request = http::Request::get(url).body(Full::default()).unwrap();
    let response = tokio::time::timeout(LIMIT, async {
        let ready = svc.ready().await.unwrap();
        ready.call(request).await.unwrap()
    })
    .await
    .expect("request timed out");
    let status = response.status().as_u16();
    let body = tokio::time::timeout(LIMIT, response.into_body().collect())
        .await
        .expect("body timed out")
        .unwrap()
        .to_bytes();
    (status, body)
}

#[tokio::test]
async fn hyper_client_inside_follow_redirect() {
    let server = TestServer::start(&[HOST]);
    let store = SharedHstsStore::new(HstsStore::new());
    let mut svc = ServiceBuilder::new()
        .layer(FollowRedirectLayer::new())
        .layer(HstsLayer::new(store.clone()))
        .service(hyper_client(&server));
    let p = server.port;

    // Not yet known: plain http goes out as plain http.
    assert_eq!(
        get(&mut svc, format!("http://{HOST}:{p}/before")).await,
        (200, Bytes::from("ok"))
    );
    assert_eq!(server.plain_requests(), 1);

    // (a) The first https response notes the host.
    get(&mut svc, format!("https://{HOST}:{p}/sts/600")).await;
    assert_eq!(store.lookup(HOST).unwrap().unwrap().source, Source::Dynamic);

    // (b) A later http:// request goes out as https.
    assert_eq!(
        get(&mut svc, format!("http://{HOST}:{p}/later")).await.0,
        200
    );
    assert_eq!(server.plain_requests(), 1);
    assert_eq!(server.log().last().unwrap(), "https /later");

    // (c) http → https → http: FollowRedirect calls the layer for each hop.
    let (status, _) = get(&mut svc, format!("http://{HOST}:{p}/to-https/to-http/end")).await;
    assert_eq!(status, 200);
    assert_eq!(server.plain_requests(), 1);
    let log = server.log();
    assert_eq!(
        &log[log.len() - 3..],
        [
            "https /to-https/to-http/end",
            "https /to-http/end",
            "https /end"
        ]
    );

    // (d) max-age=0 switches the host off: http goes to the plain server.
    get(&mut svc, format!("https://{HOST}:{p}/sts/0")).await;
    assert!(store.lookup(HOST).unwrap().is_none());
    get(&mut svc, format!("http://{HOST}:{p}/after")).await;
    assert_eq!(server.plain_requests(), 2);
    assert_eq!(server.log().last().unwrap(), "http /after");
}

#[tokio::test]
async fn hyper_client_preloaded_and_invalid_certs_setting() {
    let server = TestServer::start(&[PRELOADED, HOST]);
    let store = SharedHstsStore::new(HstsStore::new());
    let mut svc = ServiceBuilder::new()
        .layer(FollowRedirectLayer::new())
        .layer(HstsLayer::new(store.clone()))
        .service(hyper_client(&server));

    // (e) A preloaded name never goes out over plain http, even on the
    // first request and through a redirect back to http.
    let p = server.port;
    get(&mut svc, format!("http://{PRELOADED}:{p}/to-http/x")).await;
    assert_eq!((server.plain_requests(), server.tls_requests()), (0, 2));
    assert_eq!(
        store.lookup(PRELOADED).unwrap().unwrap().source,
        Source::Preload
    );

    // A client declared to accept invalid certificates never notes.
    let mut lax = HstsLayer::new(store.clone())
        .accept_invalid_certs(true)
        .layer(hyper_client(&server));
    get(&mut lax, format!("https://{HOST}:{p}/sts/600")).await;
    assert!(store.lookup(HOST).unwrap().is_none());
}

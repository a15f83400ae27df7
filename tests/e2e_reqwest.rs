//! reqwest through reqwest-middleware against a real loopback HTTPS + HTTP server.
#![cfg(feature = "reqwest")]

mod support;

use std::net::SocketAddr;

use hsts::adapters::reqwest::HstsMiddleware;
use hsts::shared::SharedHstsStore;
use hsts::{HstsStore, Source};
use reqwest_middleware::ClientWithMiddleware;
use support::TestServer;

const HOST: &str = "hsts-e2e.test";
const PRELOADED: &str = "hsts-e2e.dev";

fn client(server: &TestServer, mw: HstsMiddleware) -> ClientWithMiddleware {
    let cert = reqwest::Certificate::from_der(&server.cert_der).unwrap();
    let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let inner = reqwest::Client::builder()
        .tls_certs_only([cert])
        .resolve(HOST, loopback)
        .resolve(PRELOADED, loopback)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    reqwest_middleware::ClientBuilder::new(inner)
        .with(mw)
        .build()
}

async fn get(client: &ClientWithMiddleware, url: String) -> reqwest::Response {
    tokio::time::timeout(std::time::Duration::from_secs(20), client.get(url).send())
        .await
        .expect("request timed out")
        .unwrap()
}

#[tokio::test]
async fn notes_upgrades_follows_every_hop_and_forgets() {
    let server = TestServer::start(&[HOST]);
    let store = SharedHstsStore::new(HstsStore::new());
    let client = client(&server, HstsMiddleware::new(store.clone()));
    let p = server.port;

    get(&client, format!("http://{HOST}:{p}/before")).await;
    assert_eq!(server.plain_requests(), 1);
    get(&client, format!("http://{HOST}:{p}/sts/600")).await;
    assert!(
        store.lookup(HOST).unwrap().is_none(),
        "a header over http is ignored"
    );

    // (a) the first https response notes the host
    get(&client, format!("https://{HOST}:{p}/sts/600")).await;
    assert_eq!(store.lookup(HOST).unwrap().unwrap().source, Source::Dynamic);

    // (b) a later http:// request goes out as https
    let plain = server.plain_requests();
    let r = get(&client, format!("http://{HOST}:{p}/later")).await;
    assert_eq!(r.url().scheme(), "https");
    assert_eq!(server.plain_requests(), plain);

    // (c) http → https → http: every hop over https
    let r = get(&client, format!("http://{HOST}:{p}/to-https/to-http/final")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.url().path(), "/final");
    assert_eq!(server.plain_requests(), plain);
    let log = server.log();
    assert_eq!(
        &log[log.len() - 3..],
        [
            "https /to-https/to-http/final",
            "https /to-http/final",
            "https /final"
        ]
    );

    // (d) max-age=0 switches the host off again
    get(&client, format!("https://{HOST}:{p}/sts/0")).await;
    assert!(store.lookup(HOST).unwrap().is_none());
    get(&client, format!("http://{HOST}:{p}/after")).await;
    assert_eq!(server.plain_requests(), plain + 1);
}

#[tokio::test]
async fn preloaded_name_is_never_fetched_over_plain_http() {
    let server = TestServer::start(&[PRELOADED]);
    let store = SharedHstsStore::new(HstsStore::new());
    let client = client(&server, HstsMiddleware::new(store.clone()));
    let r = get(&client, format!("http://{PRELOADED}:{}/first", server.port)).await;
    assert_eq!(r.status(), 200);
    assert_eq!((server.plain_requests(), server.tls_requests()), (0, 1));
    assert_eq!(
        store.lookup(PRELOADED).unwrap().unwrap().source,
        Source::Preload
    );
}

#[tokio::test]
async fn invalid_certs_setting_and_hop_cap() {
    let server = TestServer::start(&[HOST]);
    let store = SharedHstsStore::new(HstsStore::new());
    let lax = client(
        &server,
        HstsMiddleware::new(store.clone()).accept_invalid_certs(true),
    );
    get(&lax, format!("https://{HOST}:{}/sts/600", server.port)).await;
    assert!(store.lookup(HOST).unwrap().is_none());

    let capped = client(&server, HstsMiddleware::new(store.clone()).max_hops(1));
    let err = capped
        .get(format!("http://{HOST}:{}/to-http/to-http/x", server.port))
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("more than 1 redirects"), "{err}");
}

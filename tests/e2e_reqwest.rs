//! reqwest through reqwest-middleware against a real loopback HTTPS + HTTP server.
#![cfg(feature = "reqwest")]

mod support;

use std::net::SocketAddr;

use hsts::adapters::reqwest::HstsMiddleware;
use hsts::SharedHstsStore;
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

/// Sends `request` with a time limit and returns the status and the body.
async fn send(request: reqwest_middleware::RequestBuilder) -> (u16, String) {
    let limit = std::time::Duration::from_secs(20);
    let r = tokio::time::timeout(limit, request.send())
        .await
        .expect("request timed out")
        .unwrap();
    let status = r.status().as_u16();
    let body = tokio::time::timeout(limit, r.text())
        .await
        .expect("body timed out")
        .unwrap();
    (status, body)
}

#[tokio::test]
async fn redirects_keep_or_drop_method_and_body_by_status() {
    let server = TestServer::start(&[HOST]);
    let store = SharedHstsStore::new(HstsStore::new());
    let client = client(&server, HstsMiddleware::new(store.clone()));
    let p = server.port;
    get(&client, format!("https://{HOST}:{p}/sts/600")).await;
    let post = |code: u16| {
        client
            .post(format!("http://{HOST}:{p}/redirect/{code}/echo"))
            .header("authorization", "Bearer t")
            .body("payload")
    };
    // 307 and 308 resend the method and the body; 301, 302 and 303 turn a
    // POST into a GET without a body. Same origin: credentials stay.
    assert_eq!(send(post(307)).await, (200, "POST auth payload".into()));
    assert_eq!(send(post(308)).await, (200, "POST auth payload".into()));
    assert_eq!(send(post(301)).await, (200, "GET auth ".into()));
    assert_eq!(send(post(302)).await, (200, "GET auth ".into()));
    assert_eq!(send(post(303)).await, (200, "GET auth ".into()));
    // Every hop went out over https: the host is known.
    assert_eq!(server.plain_requests(), 0);

    // A 307 with a streamed body cannot be replayed: a typed error, not a
    // silent request without its body.
    let stream = futures_stream_body();
    let err = client
        .post(format!("https://{HOST}:{p}/redirect/307/echo"))
        .body(stream)
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot be cloned"), "{err}");
}

/// A request body that reqwest cannot clone.
fn futures_stream_body() -> reqwest::Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    tokio::spawn(async move {
        let _ = tx.send(Ok(b"streamed".to_vec())).await;
    });
    reqwest::Body::wrap(ReceiverBody(rx))
}

struct ReceiverBody(tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>);

impl http_body::Body for ReceiverBody {
    type Data = bytes::Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, std::io::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|o| o.map(|r| r.map(|v| http_body::Frame::data(bytes::Bytes::from(v)))))
    }
}

#[tokio::test]
async fn a_client_that_accepts_invalid_certificates_never_notes() {
    // The client trusts nothing and accepts any certificate: the server's
    // self-signed one is invalid to it, yet the request succeeds.
    let server = TestServer::start(&[HOST]);
    let store = SharedHstsStore::new(HstsStore::new());
    let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let inner = reqwest::Client::builder()
        .tls_certs_only([])
        .tls_danger_accept_invalid_certs(true)
        .resolve(HOST, loopback)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let lax = reqwest_middleware::ClientBuilder::new(inner)
        .with(HstsMiddleware::new(store.clone()).accept_invalid_certs(true))
        .build();
    let (status, _) = send(lax.get(format!("https://{HOST}:{}/sts/600", server.port))).await;
    assert_eq!(status, 200);
    assert!(store.lookup(HOST).unwrap().is_none());
}

#[tokio::test]
async fn credentials_stay_with_their_origin() {
    let server = TestServer::start(&[HOST, PRELOADED]);
    let store = SharedHstsStore::new(HstsStore::new());
    let client = client(&server, HstsMiddleware::new(store.clone()));
    let p = server.port;
    let via = |target: &str| {
        client
            .get(format!("https://{HOST}:{p}/{target}"))
            .header("authorization", "Bearer t")
    };
    // Same origin: kept. Another host: dropped.
    assert_eq!(send(via("redirect/302/echo")).await.1, "GET auth ");
    assert_eq!(
        send(via(&format!("to-host/{PRELOADED}/echo"))).await.1,
        "GET no-auth "
    );
}

#[tokio::test]
async fn a_client_that_follows_redirects_is_refused() {
    let server = TestServer::start(&[HOST]);
    let store = SharedHstsStore::new(HstsStore::new());
    let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let builder = || {
        reqwest::Client::builder()
            .resolve(HOST, loopback)
            .no_proxy()
    };
    // reqwest's default policy follows redirects inside the client.
    let following = reqwest_middleware::ClientBuilder::new(builder().build().unwrap())
        .with(HstsMiddleware::new(store.clone()))
        .build();
    let url = format!("http://{HOST}:{}/redirect/302/ok", server.port);
    let err = following.get(&url).send().await.unwrap_err();
    assert!(
        err.to_string().contains("followed a redirect itself"),
        "{err}"
    );
    // build_client turns the client's redirects off.
    let right = HstsMiddleware::new(store.clone())
        .build_client(builder())
        .unwrap();
    let (status, body) = send(right.get(&url)).await;
    assert_eq!((status, body.as_str()), (200, "ok"));
}

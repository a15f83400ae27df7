//! The tower layer inside tower-http's FollowRedirect, over a real client,
//! against a loopback HTTPS + HTTP server.
#![cfg(all(feature = "tower", feature = "ureq"))]

mod support;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hsts::adapters::tower::HstsLayer;
use hsts::SharedHstsStore;
use hsts::{HstsStore, Source};
use http_body_util::{BodyExt, Full};
use support::TestServer;
use tower::{Layer, Service, ServiceBuilder, ServiceExt};
use tower_http::follow_redirect::FollowRedirectLayer;

const HOST: &str = "hsts-e2e.test";
const PRELOADED: &str = "hsts-e2e.dev";

/// A plain HTTP client as a tower service: one request, no redirects.
#[derive(Clone)]
struct Client(ureq::Agent);

impl Service<http::Request<Full<Bytes>>> for Client {
    type Response = http::Response<Full<Bytes>>;
    type Error = Box<dyn std::error::Error + Send + Sync>;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Full<Bytes>>) -> Self::Future {
        let agent = self.0.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await?.to_bytes().to_vec();
            let req = http::Request::from_parts(parts, body);
            let resp = tokio::task::spawn_blocking(move || -> Result<_, ureq::Error> {
                let (parts, mut body) = agent.run(req)?.into_parts();
                Ok(http::Response::from_parts(
                    parts,
                    Full::new(Bytes::from(body.read_to_vec()?)),
                ))
            })
            .await??;
            Ok(resp)
        })
    }
}

fn client(server: &TestServer) -> Client {
    Client(support::ureq_agent(
        server,
        None::<hsts::adapters::ureq::HstsMiddleware>,
    ))
}

async fn get<S>(svc: &mut S, url: String) -> http::Response<Full<Bytes>>
where
    S: Service<http::Request<Full<Bytes>>, Response = http::Response<Full<Bytes>>>,
    S::Error: std::fmt::Debug,
{
    let req = http::Request::get(url).body(Full::default()).unwrap();
    let call = svc.ready().await.unwrap().call(req);
    tokio::time::timeout(std::time::Duration::from_secs(20), call)
        .await
        .expect("timed out")
        .unwrap()
}

#[tokio::test]
async fn every_hop_inside_follow_redirect_passes_through_hsts() {
    let server = TestServer::start(&[HOST]);
    let store = SharedHstsStore::new(HstsStore::new());
    let mut svc = ServiceBuilder::new()
        .layer(FollowRedirectLayer::new())
        .layer(HstsLayer::new(store.clone()))
        .service(client(&server));
    let p = server.port;

    get(&mut svc, format!("http://{HOST}:{p}/before")).await;
    assert_eq!(server.plain_requests(), 1);

    // (a) the first https response notes the host
    get(&mut svc, format!("https://{HOST}:{p}/sts/600")).await;
    assert_eq!(store.lookup(HOST).unwrap().unwrap().source, Source::Dynamic);

    // (b) a later http:// request goes out as https
    get(&mut svc, format!("http://{HOST}:{p}/later")).await;
    assert_eq!(server.plain_requests(), 1);
    assert_eq!(server.log().last().unwrap(), "https /later");

    // (c) http → https → http, followed by FollowRedirect: every hop over https
    let r = get(
        &mut svc,
        format!("http://{HOST}:{p}/to-https/to-http/final"),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(server.plain_requests(), 1);
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
    get(&mut svc, format!("https://{HOST}:{p}/sts/0")).await;
    assert!(store.lookup(HOST).unwrap().is_none());
    get(&mut svc, format!("http://{HOST}:{p}/after")).await;
    assert_eq!(server.plain_requests(), 2);
}

#[tokio::test]
async fn preloaded_name_and_invalid_certs() {
    let server = TestServer::start(&[PRELOADED, HOST]);
    let store = SharedHstsStore::new(HstsStore::new());
    let mut svc = HstsLayer::new(store.clone()).layer(client(&server));
    get(
        &mut svc,
        format!("http://{PRELOADED}:{}/first", server.port),
    )
    .await;
    assert_eq!((server.plain_requests(), server.tls_requests()), (0, 1));

    let mut lax = HstsLayer::new(store.clone())
        .accept_invalid_certs(true)
        .layer(client(&server));
    get(&mut lax, format!("https://{HOST}:{}/sts/600", server.port)).await;
    assert!(store.lookup(HOST).unwrap().is_none());
}

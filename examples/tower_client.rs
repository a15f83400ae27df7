//! Put HSTS into a tower stack: cargo run --example tower_client --features tower
//!
//! The layer goes inside tower-http's FollowRedirect so it sees every hop.
//! Here the inner "client" only reports the URI it was asked for, so the
//! example runs without a network.

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::task::{Context, Poll};

use hsts::adapters::tower::HstsLayer;
use hsts::SharedHstsStore;
use hsts::{HstsStore, Transport};
use tower_layer::Layer;
use tower_service::Service;

/// Stands in for hyper-util's client: answers with the URI it received.
struct Echo;

impl Service<http::Request<()>> for Echo {
    type Response = http::Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<()>) -> Self::Future {
        ready(Ok(http::Response::new(req.uri().to_string())))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = SharedHstsStore::new(HstsStore::new());
    store.note(
        &url::Url::parse("https://example.com/")?,
        ["max-age=600"],
        Transport::Secure,
    );
    let mut service = HstsLayer::new(store).layer(Echo);
    for url in [
        "http://example.com/a",
        "http://github.com/",
        "http://example.org/",
    ] {
        let request = http::Request::get(url).body(())?;
        // The layer's future is ready at once for this inner service.
        let mut fut = std::pin::pin!(service.call(request));
        let waker = std::task::Waker::noop();
        if let Poll::Ready(Ok(response)) = fut.as_mut().poll(&mut Context::from_waker(waker)) {
            println!("{url} -> {}", response.body());
        }
    }
    Ok(())
}

//! HSTS in a tower stack over hyper-util's client, against a loopback
//! server it starts itself:
//!
//! ```text
//! cargo run --example tower_client --features tower,rustls [STORE_FILE]
//! ```
//!
//! The layer goes inside tower-http's FollowRedirect
//! (`HstsLayer::follow_redirects`), so it sees every hop. The server
//! (`common/mod.rs`) answers https and plain http on one port, with
//! `Strict-Transport-Security: max-age=600` over https. The first `http://`
//! request goes out as it is (the host is not known yet), the https
//! response is noted, and the next `http://` request is upgraded. The store
//! lives in a file (the argument, or one in the temporary directory): run
//! the example twice and the first request of the second run is upgraded
//! from the file.

#[path = "common/mod.rs"]
mod common;

use std::future::{ready, Ready};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use common::{Loopback, Summary};
use hsts::adapters::tower::{HstsLayer, SentUri};
use hsts::tls::HstsVerifier;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::{Service, ServiceExt};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run(&common::store_path("tower_client"))?;
    Ok(())
}

/// Sends every name to 127.0.0.1 (the connector keeps the URL's port).
fn to_loopback(_: Name) -> Ready<std::io::Result<std::vec::IntoIter<SocketAddr>>> {
    ready(Ok(vec![SocketAddr::from(([127, 0, 0, 1], 0))].into_iter()))
}

/// One run against a fresh loopback server, with the store in `path`.
pub fn run(path: &Path) -> Result<Summary, Box<dyn std::error::Error>> {
    let server = Loopback::start()?;
    let (store, known_at_start) = common::open_store(path)?;
    // RFC 6797 §8.4 and §8.1: hyper-rustls does TLS with a verifier that
    // trusts the server's certificate and tells the layer it was valid.
    let verifier = Arc::new(HstsVerifier::strict(store.clone(), server.roots())?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let _entered = runtime.enter();
    let mut http = HttpConnector::new_with_resolver(tower::service_fn(to_loopback));
    http.enforce_http(false);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(verifier.client_config())
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    // FollowRedirect outside, HSTS inside: every hop is upgraded and noted.
    let mut service = HstsLayer::new(store.clone())
        .verifier(verifier)
        .follow_redirects(client);

    for (scheme, path) in [("http", "/first"), ("https", "/sts"), ("http", "/again")] {
        let url = server.url(scheme, path);
        let request = http::Request::get(&url).body(Full::default())?;
        let response = runtime.block_on(async {
            let response = service.ready().await?.call(request).await?;
            let (parts, body) = response.into_parts();
            body.collect().await?;
            Ok::<_, Box<dyn std::error::Error>>(parts)
        })?;
        // The layer records the URI it sent the (last) request to.
        let sent = response
            .extensions
            .get::<SentUri>()
            .map(|u| u.0.to_string())
            .unwrap_or_default();
        common::show(&url, &sent, &server);
        if scheme == "https" {
            common::show_note(&store);
        }
    }
    common::finish(&store, path, &server, known_at_start)
}

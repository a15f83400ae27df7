//! reqwest with HSTS, against a loopback server it starts itself:
//!
//! ```text
//! cargo run --example reqwest_client --features reqwest,rustls [STORE_FILE]
//! ```
//!
//! The server (`common/mod.rs`) answers https and plain http on one port,
//! with `Strict-Transport-Security: max-age=600` over https. The first
//! `http://` request goes out as it is (the host is not known yet), the
//! https response is noted, and the next `http://` request is upgraded. The
//! store lives in a file (the argument, or one in the temporary
//! directory): run the example twice and the first request of the second
//! run is upgraded from the file.

#[path = "common/mod.rs"]
mod common;

use std::path::Path;
use std::sync::Arc;

use common::{Loopback, Summary, NAME};
use hsts::adapters::reqwest::HstsMiddleware;
use hsts::tls::HstsVerifier;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run(&common::store_path("reqwest_client"))?;
    Ok(())
}

/// One run against a fresh loopback server, with the store in `path`.
pub fn run(path: &Path) -> Result<Summary, Box<dyn std::error::Error>> {
    let server = Loopback::start()?;
    let (store, known_at_start) = common::open_store(path)?;
    // RFC 6797 §8.4 and §8.1: TLS by a verifier that trusts the server's
    // certificate and tells the middleware it was valid.
    let verifier = Arc::new(HstsVerifier::strict(store.clone(), server.roots())?);
    // Redirects off in reqwest: the middleware follows them, upgrading
    // every hop. The server's name resolves to loopback.
    let builder = reqwest::Client::builder()
        .resolve(NAME, "127.0.0.1:0".parse()?)
        .no_proxy();
    let client = HstsMiddleware::new(store.clone())
        .verifier(verifier)
        .build_client(builder)?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    for (scheme, path) in [("http", "/first"), ("https", "/sts"), ("http", "/again")] {
        let url = server.url(scheme, path);
        let response = runtime.block_on(client.get(&url).send())?;
        common::show(&url, response.url().as_str(), &server);
        if scheme == "https" {
            common::show_note(&store);
        }
    }
    common::finish(&store, path, &server, known_at_start)
}

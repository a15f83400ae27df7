//! ureq 3 with HSTS, against a loopback server it starts itself:
//!
//! ```text
//! cargo run --example ureq_client --features ureq,rustls [STORE_FILE]
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

use common::{Loopback, Summary};
use hsts::adapters::ureq::{
    config_builder, send_following_redirects, HstsConnector, HstsMiddleware,
};
use hsts::tls::HstsVerifier;
use ureq::ResponseExt;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run(&common::store_path("ureq_client"))?;
    Ok(())
}

/// Sends every name to 127.0.0.1, keeping the URL's port.
#[derive(Debug)]
struct ToLoopback;

impl ureq::unversioned::resolver::Resolver for ToLoopback {
    fn resolve(
        &self,
        uri: &http::Uri,
        _: &ureq::config::Config,
        _: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
            Some("https") => 443,
            _ => 80,
        });
        let mut addrs = self.empty();
        addrs.push(([127, 0, 0, 1], port).into());
        Ok(addrs)
    }
}

/// One run against a fresh loopback server, with the store in `path`.
pub fn run(path: &Path) -> Result<Summary, Box<dyn std::error::Error>> {
    let server = Loopback::start()?;
    let (store, known_at_start) = common::open_store(path)?;
    // RFC 6797 §8.4 and §8.1: TLS by a verifier that trusts the server's
    // certificate (ureq's TlsConfig takes no rustls configuration, so the
    // adapter's connector does TLS) and tells the middleware it was valid.
    let verifier = Arc::new(HstsVerifier::strict(store.clone(), server.roots())?);
    // config_builder: the middleware, and no redirects followed by ureq
    // itself; send_following_redirects follows them, one upgraded hop at a
    // time.
    let config =
        config_builder(HstsMiddleware::new(store.clone()).verifier(verifier.clone())).build();
    let agent = ureq::Agent::with_parts(config, HstsConnector::new(&verifier), ToLoopback);

    for (scheme, path) in [("http", "/first"), ("https", "/sts"), ("http", "/again")] {
        let url = server.url(scheme, path);
        let request = http::Request::get(&url).body(Vec::new())?;
        let response = send_following_redirects(&agent, &store, request, 10)?;
        common::show(&url, &response.get_uri().to_string(), &server);
        if scheme == "https" {
            common::show_note(&store);
        }
    }
    common::finish(&store, path, &server, known_at_start)
}

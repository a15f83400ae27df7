//! Set up ureq 3 with HSTS: cargo run --example ureq_client --features ureq
//!
//! Builds the agent and shows which URL each request would go to. It sends
//! nothing, so it runs without a network.

use hsts::adapters::ureq::HstsMiddleware;
use hsts::SharedHstsStore;
use hsts::{HstsStore, Transport};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = SharedHstsStore::new(HstsStore::new());
    // ureq runs middleware outside its redirect loop: switch its redirects
    // off and use hsts::adapters::ureq::send_following_redirects, which
    // follows them one upgraded hop at a time.
    let _agent: ureq::Agent = ureq::Agent::config_builder()
        .middleware(HstsMiddleware::new(store.clone()))
        .max_redirects(0)
        .max_redirects_will_error(false)
        .build()
        .into();

    let learned = url::Url::parse("https://example.com/")?;
    store.note(
        &learned,
        ["max-age=31536000; includeSubDomains"],
        Transport::Secure,
    );

    for url in [
        "http://www.example.com/",
        "ws://example.com/chat",
        "http://paypal.com/",
        "http://example.org/",
    ] {
        let mut request = http::Request::get(url).body(())?;
        hsts::http::upgrade_request(&store, &mut request);
        println!("{url} -> {}", request.uri());
    }
    Ok(())
}

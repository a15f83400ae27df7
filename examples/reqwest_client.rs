//! Set up reqwest with HSTS: cargo run --example reqwest_client --features reqwest
//!
//! Builds the client and shows which URL each request would go to. It sends
//! nothing, so it runs without a network.

use hsts::adapters::reqwest::HstsMiddleware;
use hsts::SharedHstsStore;
use hsts::{HstsStore, Transport};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // This project's dev build of reqwest leaves the TLS crypto provider to
    // the application; a normal `reqwest` dependency brings its own.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let store = SharedHstsStore::new(HstsStore::new());
    // The middleware follows redirects itself, so every hop is upgraded.
    let inner = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let client = reqwest_middleware::ClientBuilder::new(inner)
        .with(HstsMiddleware::new(store.clone()))
        .build();

    // What a response with Strict-Transport-Security would do:
    let learned = url::Url::parse("https://example.com/")?;
    store.note(&learned, ["max-age=31536000"], Transport::Secure);

    for url in [
        "http://example.com/login",
        "http://github.com/",
        "http://example.org/",
    ] {
        let request = client.get(url).build()?;
        let to = store.upgrade(request.url()).url(request.url());
        println!("{url} -> {to}");
    }
    Ok(())
}

//! ureq 3 against a real loopback HTTPS + HTTP server.
#![cfg(feature = "ureq")]

mod support;

use hsts::adapters::ureq::{send_following_redirects, HstsMiddleware};
use hsts::SharedHstsStore;
use hsts::{HstsStore, Source};
use support::{Loopback, TestServer};
use ureq::unversioned::transport::DefaultConnector;

const HOST: &str = "hsts-e2e.test";
const PRELOADED: &str = "hsts-e2e.dev";

fn agent(server: &TestServer, store: &SharedHstsStore) -> ureq::Agent {
    support::ureq_agent(server, Some(HstsMiddleware::new(store.clone())))
}

fn get(agent: &ureq::Agent, store: &SharedHstsStore, url: &str) -> http::Response<ureq::Body> {
    let req = http::Request::get(url).body(Vec::new()).unwrap();
    send_following_redirects(agent, store, req, 10).unwrap()
}

#[test]
fn notes_upgrades_follows_every_hop_and_forgets() {
    let server = TestServer::start(&[HOST]);
    let store = SharedHstsStore::new(HstsStore::new());
    let agent = agent(&server, &store);
    let p = server.port;

    // Unknown host: plain http goes out as plain http.
    get(&agent, &store, &format!("http://{HOST}:{p}/before"));
    assert_eq!(server.plain_requests(), 1);
    // A header over plain http is ignored.
    get(&agent, &store, &format!("http://{HOST}:{p}/sts/600"));
    assert!(store.lookup(HOST).unwrap().is_none());

    // (a) The first https response notes the host.
    get(&agent, &store, &format!("https://{HOST}:{p}/sts/600"));
    assert_eq!(store.lookup(HOST).unwrap().unwrap().source, Source::Dynamic);

    // (b) A later http:// request goes out as https.
    let plain_before = server.plain_requests();
    let r = get(&agent, &store, &format!("http://{HOST}:{p}/later"));
    assert_eq!(r.status(), 200);
    assert_eq!(server.plain_requests(), plain_before);
    assert_eq!(server.log().last().unwrap(), "https /later");

    // (c) http → https → http on the same host: every hop over https.
    let r = get(
        &agent,
        &store,
        &format!("http://{HOST}:{p}/to-https/to-http/final"),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(server.plain_requests(), plain_before);
    let log = server.log();
    assert_eq!(
        &log[log.len() - 3..],
        [
            "https /to-https/to-http/final",
            "https /to-http/final",
            "https /final"
        ]
    );

    // (d) max-age=0 switches the host off again.
    get(&agent, &store, &format!("https://{HOST}:{p}/sts/0"));
    assert!(store.lookup(HOST).unwrap().is_none());
    get(&agent, &store, &format!("http://{HOST}:{p}/after"));
    assert_eq!(server.plain_requests(), plain_before + 1);
}

#[test]
fn preloaded_name_is_never_fetched_over_plain_http() {
    let server = TestServer::start(&[PRELOADED]);
    let store = SharedHstsStore::new(HstsStore::new());
    let agent = agent(&server, &store);
    let r = get(
        &agent,
        &store,
        &format!("http://{PRELOADED}:{}/first", server.port),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(server.plain_requests(), 0);
    assert_eq!(server.tls_requests(), 1);
    assert_eq!(
        store.lookup(PRELOADED).unwrap().unwrap().source,
        Source::Preload
    );
}

#[test]
fn accept_invalid_certs_never_notes() {
    let server = TestServer::start(&[HOST]);
    let store = SharedHstsStore::new(HstsStore::new());
    let agent = support::ureq_agent(
        &server,
        Some(HstsMiddleware::new(store.clone()).accept_invalid_certs(true)),
    );
    get(
        &agent,
        &store,
        &format!("https://{HOST}:{}/sts/600", server.port),
    );
    assert!(store.lookup(HOST).unwrap().is_none());
}

#[test]
fn redirect_loops_are_capped() {
    let server = TestServer::start(&[HOST]);
    let store = SharedHstsStore::new(HstsStore::new());
    let agent = agent(&server, &store);
    let url = format!("http://{HOST}:{}/to-http/to-http/to-http/x", server.port);
    let req = http::Request::get(url).body(Vec::new()).unwrap();
    let err = send_following_redirects(&agent, &store, req, 2).unwrap_err();
    assert!(err.to_string().contains("more than 2 redirects"), "{err}");
}

/// POSTs `payload` with credentials to a `code` redirect that leads to
/// `/echo`; returns what `/echo` saw.
fn echo(agent: &ureq::Agent, store: &SharedHstsStore, port: u16, code: u16) -> String {
    let url = format!("http://{HOST}:{port}/redirect/{code}/echo");
    let req = http::Request::post(url)
        .header("authorization", "Bearer t")
        .body(b"payload".to_vec())
        .unwrap();
    let mut r = send_following_redirects(agent, store, req, 10).unwrap();
    r.body_mut().read_to_string().unwrap()
}

#[test]
fn redirects_keep_or_drop_method_and_body_by_status() {
    let server = TestServer::start(&[HOST]);
    let store = SharedHstsStore::new(HstsStore::new());
    let agent = agent(&server, &store);
    get(
        &agent,
        &store,
        &format!("https://{HOST}:{}/sts/600", server.port),
    );
    assert_eq!(echo(&agent, &store, server.port, 307), "POST auth payload");
    assert_eq!(echo(&agent, &store, server.port, 308), "POST auth payload");
    assert_eq!(echo(&agent, &store, server.port, 301), "GET auth ");
    assert_eq!(echo(&agent, &store, server.port, 302), "GET auth ");
    assert_eq!(echo(&agent, &store, server.port, 303), "GET auth ");
    assert_eq!(server.plain_requests(), 0);
}

#[test]
fn the_helper_refuses_an_agent_without_the_middleware() {
    let server = TestServer::start(&[HOST]);
    let store = SharedHstsStore::new(HstsStore::new());
    let bare = support::ureq_agent(&server, None::<HstsMiddleware>);
    let req = http::Request::get(format!("https://{HOST}:{}/sts/600", server.port))
        .body(Vec::new())
        .unwrap();
    let err = send_following_redirects(&bare, &store, req, 10).unwrap_err();
    assert!(
        matches!(err, hsts::adapters::ureq::UreqError::MissingMiddleware),
        "{err}"
    );
}

#[test]
fn an_agent_that_skips_certificate_checks_never_notes() {
    // No root is trusted and verification is off: the self-signed
    // certificate is invalid, yet the request goes through.
    let server = TestServer::start(&[HOST]);
    let store = SharedHstsStore::new(HstsStore::new());
    let config = ureq::Agent::config_builder()
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .disable_verification(true)
                .build(),
        )
        .middleware(HstsMiddleware::new(store.clone()).accept_invalid_certs(true))
        .max_redirects(0)
        .timeout_global(Some(std::time::Duration::from_secs(20)))
        .build();
    let lax = ureq::Agent::with_parts(config, DefaultConnector::new(), Loopback);
    let r = get(
        &lax,
        &store,
        &format!("https://{HOST}:{}/sts/600", server.port),
    );
    assert_eq!(r.status(), 200);
    assert!(store.lookup(HOST).unwrap().is_none());
}

#[test]
fn credentials_stay_with_their_origin() {
    let server = TestServer::start(&[HOST, PRELOADED]);
    let store = SharedHstsStore::new(HstsStore::new());
    let agent = agent(&server, &store);
    let via = |target: &str| {
        let req = http::Request::get(format!("https://{HOST}:{}/{target}", server.port))
            .header("authorization", "Bearer t")
            .body(Vec::new())
            .unwrap();
        let mut r = send_following_redirects(&agent, &store, req, 10).unwrap();
        r.body_mut().read_to_string().unwrap()
    };
    assert_eq!(via("redirect/302/echo"), "GET auth ");
    assert_eq!(via(&format!("to-host/{PRELOADED}/echo")), "GET no-auth ");
}

#[test]
fn an_agent_that_follows_redirects_is_refused() {
    // ureq's default: up to 10 redirects followed inside the agent, unseen.
    let server = TestServer::start(&[HOST]);
    let store = SharedHstsStore::new(HstsStore::new());
    let config = ureq::Agent::config_builder()
        .middleware(HstsMiddleware::new(store.clone()))
        .timeout_global(Some(std::time::Duration::from_secs(20)))
        .build();
    let agent = ureq::Agent::with_parts(config, DefaultConnector::new(), Loopback);
    let url = format!("http://{HOST}:{}/redirect/302/ok", server.port);
    let req = http::Request::get(&url).body(Vec::new()).unwrap();
    let err = send_following_redirects(&agent, &store, req, 10).unwrap_err();
    assert!(
        matches!(
            err,
            hsts::adapters::ureq::UreqError::Setup(
                hsts::adapters::SetupError::AgentFollowsRedirects(10)
            )
        ),
        "{err}"
    );
    assert_eq!(server.plain_requests(), 0, "refused before sending");
    // The middleware alone fails the call that ureq redirected itself.
    let err = agent
        .run(http::Request::get(&url).body(Vec::new()).unwrap())
        .unwrap_err();
    assert!(
        err.to_string().contains("followed a redirect itself"),
        "{err}"
    );
    // config_builder sets the agent up right.
    let config = hsts::adapters::ureq::config_builder(HstsMiddleware::new(store.clone())).build();
    let agent = ureq::Agent::with_parts(config, DefaultConnector::new(), Loopback);
    let r = get(&agent, &store, &url);
    assert_eq!(r.status(), 200);
}

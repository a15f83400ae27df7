//! HTTPS records (RFC 9460 §9.5) as an upgrade source, against a small DNS
//! server of the test's own on loopback (UDP, and TCP for truncated
//! answers). The server counts the queries for each name, so the tests can
//! tell a cached answer from a fresh one; time is driven through the
//! `_at(now)` twins.
//!
//! The server and its zone: `tests/support/dns.rs`.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use hsts::clock::FixedClock;
use hsts::dns::{
    HttpsRecords, HttpsRrConfig, HttpsRrOutcome, HttpsRrReason, Incompatibility, LookupError,
    UpgradeDecision,
};
use hsts::{HstsStore, PreloadSource, SharedHstsStore, StoreConfig, Transport};
use support::dns::DnsServer;
use url::Url;

// ---------------------------------------------------------------- helpers

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap()
}

fn secs(s: i64) -> chrono::Duration {
    chrono::Duration::seconds(s)
}

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn upgraded_to(outcome: &HttpsRrOutcome) -> Option<&str> {
    match outcome {
        HttpsRrOutcome::Upgrade { url, .. } => Some(url.as_str()),
        _ => None,
    }
}

/// `records.lookup_at(u, t0())` as a task of its own.
fn spawn_lookup(records: &HttpsRecords, u: &Url) -> tokio::task::JoinHandle<HttpsRrOutcome> {
    let (records, u) = (records.clone(), u.clone());
    tokio::spawn(async move { records.lookup_at(&u, t0()).await })
}

// ---------------------------------------------------------------- tests

#[test]
fn alias_mode_upgrades_http_to_https() {
    let server = DnsServer::start();
    let records = server.records(None);
    let out = records.lookup_blocking_at(&url("http://alias.test/a?b#c"), t0());
    assert_eq!(
        out,
        HttpsRrOutcome::Upgrade {
            url: url("https://alias.test/a?b#c"),
            reason: HttpsRrReason::AliasMode {
                target: "cdn.test".into()
            },
        }
    );
    assert_eq!(server.count("alias.test"), 1);
}

#[tokio::test]
async fn compatible_service_mode_upgrades_async() {
    let server = DnsServer::start();
    let records = server.records(None);
    let out = records.lookup_at(&url("http://svc.test/"), t0()).await;
    assert_eq!(
        out,
        HttpsRrOutcome::Upgrade {
            url: url("https://svc.test/"),
            reason: HttpsRrReason::ServiceMode {
                priority: 1,
                target: ".".into()
            },
        }
    );
    assert_eq!(server.count("svc.test"), 1);
}

#[test]
fn unknown_mandatory_key_is_not_upgraded() {
    let server = DnsServer::start();
    let records = server.records(None);
    let u = url("http://weird.test/");
    let out = records.lookup_blocking_at(&u, t0());
    assert_eq!(
        out,
        HttpsRrOutcome::Incompatible(Incompatibility::UnknownMandatoryKey(65000))
    );
    assert_eq!(out.url(&u), u);
}

#[test]
fn service_mode_without_a_common_alpn_is_not_upgraded() {
    let server = DnsServer::start();
    let records = server.records(None);
    assert_eq!(
        records.lookup_blocking_at(&url("http://h3only.test/"), t0()),
        HttpsRrOutcome::Incompatible(Incompatibility::NoCommonAlpn)
    );
    // A client that speaks h3 can use it.
    let mut config = HttpsRrConfig::default_with_addr(server.addr);
    config.alpn = vec!["h3".into()];
    let h3 = HttpsRecords::new(config).unwrap();
    assert!(h3
        .lookup_blocking_at(&url("http://h3only.test/"), t0())
        .is_upgrade());
}

#[test]
fn no_record_and_nxdomain_leave_the_url_and_are_cached_by_the_soa() {
    let server = DnsServer::start();
    let records = server.records(None);
    let none = url("http://none.test/");
    let nx = url("http://nx.test/");
    assert_eq!(
        records.lookup_blocking_at(&none, t0()),
        HttpsRrOutcome::NoRecord { nxdomain: false }
    );
    assert_eq!(
        records.lookup_blocking_at(&nx, t0()),
        HttpsRrOutcome::NoRecord { nxdomain: true }
    );
    assert_eq!((server.count("none.test"), server.count("nx.test")), (1, 1));
    // The SOA's negative TTL is 30 s: cached until then, asked again after.
    for (u, n) in [(&none, "none.test"), (&nx, "nx.test")] {
        let _ = records.lookup_blocking_at(u, t0() + secs(29));
        assert_eq!(server.count(n), 1, "{n} within the negative TTL");
        let _ = records.lookup_blocking_at(u, t0() + secs(30));
        assert_eq!(server.count(n), 2, "{n} after the negative TTL");
    }
}

#[test]
fn servfail_is_a_reported_failure() {
    let server = DnsServer::start();
    let records = server.records(None);
    let u = url("http://fail.test/");
    let out = records.lookup_blocking_at(&u, t0());
    assert!(
        matches!(out, HttpsRrOutcome::Failed(LookupError::ErrorResponse(_))),
        "{out:?}"
    );
    assert_eq!(out.url(&u), u);
}

#[test]
fn timeout_leaves_the_url_unchanged_within_the_bound() {
    let server = DnsServer::start();
    let records = server.records(None);
    let bound = records.config().timeout;
    let u = url("http://slow.test/x");
    let started = Instant::now();
    let out = records.lookup_blocking_at(&u, t0());
    let took = started.elapsed();
    assert_eq!(out, HttpsRrOutcome::Failed(LookupError::Timeout(bound)));
    assert_eq!(out.url(&u), u);
    assert!(took >= bound, "gave up early: {took:?}");
    assert!(took < bound + Duration::from_millis(700), "took {took:?}");
    assert!(server.count("slow.test") >= 1);
    // The failure is remembered for failure_ttl (5 s): no second wait.
    let asked = server.count("slow.test");
    let started = Instant::now();
    let again = records.lookup_blocking_at(&u, t0() + secs(4));
    assert!(matches!(again, HttpsRrOutcome::Failed(_)));
    assert!(started.elapsed() < Duration::from_millis(100));
    assert_eq!(server.count("slow.test"), asked);
    let _ = records.lookup_blocking_at(&u, t0() + secs(5));
    assert!(server.count("slow.test") > asked);
}

#[tokio::test]
async fn timeout_async_within_the_bound() {
    let server = DnsServer::start();
    let records = server.records(None);
    let bound = records.config().timeout;
    let started = Instant::now();
    let out = records.lookup_at(&url("http://slow.test/"), t0()).await;
    let took = started.elapsed();
    assert_eq!(out, HttpsRrOutcome::Failed(LookupError::Timeout(bound)));
    assert!(took < bound + Duration::from_millis(700), "took {took:?}");
}

#[test]
fn ttl_cache_skips_the_server_until_the_ttl_ends() {
    let server = DnsServer::start();
    let clock = Arc::new(FixedClock::new(t0()));
    let records = server.records(Some(clock.clone()));
    let u = url("http://svc.test/");
    // The plain methods read the injected clock.
    assert!(records.lookup_blocking(&u).is_upgrade());
    assert_eq!(server.count("svc.test"), 1);
    clock.advance(secs(299));
    assert!(records.lookup_blocking(&u).is_upgrade());
    assert_eq!(server.count("svc.test"), 1, "within the TTL of 300 s");
    assert!(records.cached_at(&u, t0() + secs(299)).is_some());
    assert!(records.cached_at(&u, t0() + secs(300)).is_none());
    // The `_at` twins: at the TTL the answer is stale and asked again.
    assert!(records
        .lookup_blocking_at(&u, t0() + secs(300))
        .is_upgrade());
    assert_eq!(server.count("svc.test"), 2, "after the TTL");
    // AliasMode answer with TTL 60.
    let a = url("http://alias.test/");
    let _ = records.lookup_blocking_at(&a, t0());
    let _ = records.lookup_blocking_at(&a, t0() + secs(59));
    assert_eq!(server.count("alias.test"), 1);
    let _ = records.lookup_blocking_at(&a, t0() + secs(60));
    assert_eq!(server.count("alias.test"), 2);
}

#[test]
fn ws_becomes_wss_and_port_80_becomes_443() {
    let server = DnsServer::start();
    let records = server.records(None);
    let ws = records.lookup_blocking_at(&url("ws://alias.test/chat"), t0());
    assert_eq!(upgraded_to(&ws), Some("wss://alias.test/chat"));
    let p80 = records.lookup_blocking_at(&url("http://alias.test:80/x"), t0());
    assert_eq!(upgraded_to(&p80), Some("https://alias.test/x"));
    let ws80 = records.lookup_blocking_at(&url("ws://svc.test:80/"), t0());
    assert_eq!(upgraded_to(&ws80), Some("wss://svc.test/"));
    // All three ask the host's own name, once per name.
    assert_eq!(
        (server.count("alias.test"), server.count("svc.test")),
        (1, 1)
    );
}

#[test]
fn an_explicit_port_asks_the_port_prefixed_name() {
    let server = DnsServer::start();
    let records = server.records(None);
    let out = records.lookup_blocking_at(&url("http://port.test:8080/p"), t0());
    assert_eq!(upgraded_to(&out), Some("https://port.test:8080/p"));
    assert_eq!(server.count("_8080._https.port.test"), 1);
    assert_eq!(server.count("port.test"), 0);
    // The default port asks the bare name, which has no record here.
    assert_eq!(
        records.lookup_blocking_at(&url("http://port.test/"), t0()),
        HttpsRrOutcome::NoRecord { nxdomain: false }
    );
    assert_eq!(server.count("port.test"), 1);
    // A port with no record of its own is not upgraded by the bare name's.
    assert!(!records
        .lookup_blocking_at(&url("http://alias.test:8081/"), t0())
        .is_upgrade());
    assert_eq!(server.count("_8081._https.alias.test"), 1);
}

#[test]
fn a_truncated_udp_answer_is_asked_again_over_tcp() {
    let server = DnsServer::start();
    let records = server.records(None);
    let out = records.lookup_blocking_at(&url("http://big.test/"), t0());
    assert_eq!(
        out,
        HttpsRrOutcome::Upgrade {
            url: url("https://big.test/"),
            reason: HttpsRrReason::ServiceMode {
                priority: 20,
                target: "big-target.test".into()
            },
        }
    );
    assert_eq!(server.count("big.test"), 2, "UDP, then TCP");
}

#[test]
fn the_store_beside_it_is_unchanged_and_hsts_comes_first() {
    let server = DnsServer::start();
    let records = server.records(None);
    let store = SharedHstsStore::new(HstsStore::with_config(StoreConfig {
        preload: PreloadSource::Off,
        ..StoreConfig::default()
    }));
    for name in ["alias.test", "svc.test"] {
        let u = url(&format!("http://{name}/"));
        let decision = records.upgrade_blocking_at(&store, &u, t0());
        assert!(
            matches!(decision, UpgradeDecision::HttpsRecord { .. }),
            "{decision:?}"
        );
        assert_eq!(
            decision.url(&u).as_str(),
            format!("https://{name}/").as_str()
        );
        assert_eq!(store.lookup_at(name, t0()).unwrap(), None);
        assert_eq!(store.upgrade_at(&u, t0()), hsts::Upgrade::Unchanged);
    }
    assert_eq!(store.read(|s| s.len()), 0);
    // Not upgraded: unchanged, with the reason.
    let none = url("http://none.test/");
    assert_eq!(
        records.upgrade_blocking_at(&store, &none, t0()),
        UpgradeDecision::Unchanged(HttpsRrOutcome::NoRecord { nxdomain: false })
    );
    // A known HSTS host is upgraded by HSTS and DNS is not asked.
    store.note_at(
        &url("https://known.test/"),
        ["max-age=600"],
        Transport::Secure,
        t0(),
    );
    let asked = server.total();
    let known = url("http://known.test/k");
    assert_eq!(
        records.upgrade_blocking_at(&store, &known, t0()),
        UpgradeDecision::Hsts(url("https://known.test/k"))
    );
    assert_eq!(server.total(), asked);
    assert_eq!(store.read(|s| s.len()), 1);
}

#[tokio::test]
async fn blocking_api_works_inside_a_tokio_runtime() {
    let server = DnsServer::start();
    let records = server.records(None);
    let out = records.lookup_blocking_at(&url("http://alias.test/"), t0());
    assert!(out.is_upgrade(), "{out:?}");
    let store = SharedHstsStore::new(HstsStore::new());
    let decision = records
        .upgrade_at(&store, &url("http://svc.test/"), t0())
        .await;
    assert!(decision.is_upgraded());
}

/// Look-ups of one name that miss at the same time send one query: the
/// others wait for its answer. The server answers 100 ms late and nothing
/// else meanwhile, so eight queries would not all be answered within the
/// 300 ms timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_for_one_name_send_one_query() {
    let server = DnsServer::start();
    let records = server.records(None);
    let u = url("http://delayed.test/x");
    let tasks: Vec<_> = (0..8).map(|_| spawn_lookup(&records, &u)).collect();
    for t in tasks {
        let out = t.await.unwrap();
        assert_eq!(upgraded_to(&out), Some("https://delayed.test/x"), "{out:?}");
    }
    assert_eq!(server.count("delayed.test"), 1);
}

/// The same from blocking callers on threads of their own, each with its
/// own runtime.
#[test]
fn concurrent_blocking_misses_send_one_query() {
    let server = DnsServer::start();
    let records = server.records(None);
    let u = url("http://delayed.test/");
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..6)
            .map(|_| scope.spawn(|| records.lookup_blocking_at(&u, t0())))
            .collect();
        for t in threads {
            let out = t.join().unwrap();
            assert_eq!(upgraded_to(&out), Some("https://delayed.test/"), "{out:?}");
        }
    });
    assert_eq!(server.count("delayed.test"), 1);
}

/// A look-up that is cancelled while its query is in flight does not
/// strand those waiting for it: they ask themselves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_asker_leaves_the_waiters_to_ask() {
    let server = DnsServer::start();
    let records = server.records(None);
    let u = url("http://delayed.test/");
    let asker = spawn_lookup(&records, &u);
    // Let the asker send its query, then let a second look-up join it.
    tokio::time::sleep(Duration::from_millis(30)).await;
    let waiter = spawn_lookup(&records, &u);
    tokio::time::sleep(Duration::from_millis(30)).await;
    asker.abort();
    let out = waiter.await.unwrap();
    assert_eq!(upgraded_to(&out), Some("https://delayed.test/"), "{out:?}");
    assert_eq!(server.count("delayed.test"), 2);
}

/// A look-up whose caller stops polling it (without dropping it) holds
/// its place in the table: the first waiter gives up on it after the
/// timeout and takes that place, so a look-up that comes later waits for
/// the waiter's query instead of the stalled one. With a 1 s timeout, on
/// a name the server answers 250 ms late and one query at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_asker_is_replaced_by_its_first_waiter() {
    let server = DnsServer::start();
    let mut config = HttpsRrConfig::default_with_addr(server.addr);
    config.timeout = Duration::from_secs(1);
    let records = HttpsRecords::new(config).unwrap();
    let u = url("http://later.test/");
    // Polled once (its query sent), then kept without being polled.
    let mut stalled = Box::pin(records.lookup_at(&u, t0()));
    assert!(
        tokio::time::timeout(Duration::from_millis(20), &mut stalled)
            .await
            .is_err()
    );
    let first = spawn_lookup(&records, &u);
    // The first waiter's query reaches the server after its 1 s wait,
    // once it has taken the stalled one's place.
    let started = Instant::now();
    while server.count_udp("later.test") < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no second query"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(started.elapsed() >= Duration::from_millis(900));
    // Its answer comes 250 ms later; this look-up waits for it.
    let later = spawn_lookup(&records, &u);
    for t in [first, later] {
        let out = t.await.unwrap();
        assert_eq!(upgraded_to(&out), Some("https://later.test/"), "{out:?}");
    }
    assert_eq!(
        server.count_udp("later.test"),
        2,
        "the stalled query and the first waiter's"
    );
    drop(stalled);
}

#[test]
fn lookup_latency_on_loopback() {
    let server = DnsServer::start();
    let records = server.records(None);
    let u = url("http://svc.test/");
    let rounds = 20u32;
    let started = Instant::now();
    for _ in 0..rounds {
        records.clear_cache();
        assert!(records.lookup_blocking_at(&u, t0()).is_upgrade());
    }
    let miss = started.elapsed() / rounds;
    let started = Instant::now();
    for _ in 0..1000 {
        assert!(records.lookup_blocking_at(&u, t0()).is_upgrade());
    }
    let hit = started.elapsed() / 1000;
    eprintln!("HTTPS record look-up on loopback, blocking API: miss {miss:?}, cached {hit:?}");
    assert_eq!(server.count("svc.test"), rounds as usize);
    assert!(miss < Duration::from_millis(300));
}

//! Browsing contexts and the policies that use them (issue #11, part A):
//! the HSTS super-cookie under each policy, WebKit's first-party examples,
//! navigation-only upgrades, write dampening, and the CLI options.

use std::process::{Command, Output};

use chrono::{DateTime, Duration, TimeZone, Utc};
use hsts::{
    AcceptFrom, HstsStore, IgnoreReason, Outcome, PreloadSource, RequestContext, SaveOptions,
    SharedHstsStore, StoreConfig, Transport,
};
use url::Url;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn sub_of(page: &str) -> RequestContext {
    RequestContext::subresource_of(&url(page)).unwrap()
}

fn store(accept_from: AcceptFrom, navigations_only: bool) -> HstsStore {
    HstsStore::with_config(StoreConfig {
        preload: PreloadSource::Off,
        accept_from,
        navigations_only,
        ..StoreConfig::default()
    })
}

/// One policy measured, with the name the closing note quotes.
#[derive(Debug, Clone, Copy)]
struct Policy {
    name: &'static str,
    accept_from: AcceptFrom,
    navigations_only: bool,
    partition: bool,
    hashed: bool,
}

const fn policy(name: &'static str, accept_from: AcceptFrom, navigations_only: bool) -> Policy {
    Policy {
        name,
        accept_from,
        navigations_only,
        partition: false,
        hashed: false,
    }
}

/// The policies measured: each switch alone, and partitioning in a store
/// with hashed hosts (hashing alone defends nothing: it hides names at
/// rest, not bits in a lookup).
fn policies() -> [Policy; 7] {
    let partition = Policy {
        partition: true,
        ..policy("partition", AcceptFrom::Any, false)
    };
    [
        policy("any", AcceptFrom::Any, false),
        policy("same-site", AcceptFrom::SameSite, false),
        policy("top-level", AcceptFrom::TopLevel, false),
        policy("navigations-only", AcceptFrom::Any, true),
        partition,
        Policy {
            name: "hash-hosts",
            hashed: true,
            ..policy("", AcceptFrom::Any, false)
        },
        Policy {
            name: "partition+hash-hosts",
            hashed: true,
            ..partition
        },
    ]
}

/// A preload-free store under policy `p`.
fn store_for(p: Policy) -> HstsStore {
    let config = StoreConfig {
        preload: PreloadSource::Off,
        accept_from: p.accept_from,
        navigations_only: p.navigations_only,
        partition: p.partition,
        ..StoreConfig::default()
    };
    if p.hashed {
        HstsStore::hashed(config).unwrap()
    } else {
        HstsStore::with_config(config)
    }
}

/// The tracker's write: embedded in `https://news.example/`, it answers a
/// subresource request to `https://bN.tracker.example/` with HSTS for each
/// 1-bit N of `id`.
fn write_id(store: &mut HstsStore, id: u32) {
    let ctx = sub_of("https://news.example/");
    let mut view = store.in_context(&ctx);
    for bit in (0..32).filter(|b| id >> b & 1 == 1) {
        let pixel = url(&format!("https://b{bit}.tracker.example/p.gif"));
        view.note_at(&pixel, ["max-age=31536000"], Transport::Secure, t0());
    }
}

/// The tracker's read, an hour later on `https://shop.example/`: bit N is 1
/// when its subresource request to `http://bN.tracker.example/` is upgraded.
fn read_id(store: &mut HstsStore) -> u32 {
    let ctx = sub_of("https://shop.example/");
    let view = store.in_context(&ctx);
    let later = t0() + Duration::hours(1);
    (0..32)
        .filter(|bit| {
            let pixel = url(&format!("http://b{bit}.tracker.example/p.gif"));
            let up = view.upgrade_at(&pixel, later);
            // The text form answers as the `Url` form does, in every context.
            let text = view.upgrade_text_at(&pixel, later);
            assert_eq!(text.to_string(), up.clone().url(&pixel).as_str());
            up.is_upgraded()
        })
        .fold(0, |id, bit| id | 1 << bit)
}

/// How many of the 32 bits the tracker learns: two users get complementary
/// identifiers, and a bit is recovered when both read back what was written
/// (reading 0 everywhere recovers nothing, however many 0-bits there were).
fn bits_recovered(p: Policy) -> u32 {
    let id = 0xA5C3_0F96_u32;
    let mut alice = store_for(p);
    let mut bob = store_for(p);
    write_id(&mut alice, id);
    write_id(&mut bob, !id);
    let (a, b) = (read_id(&mut alice), read_id(&mut bob));
    (!(a ^ id) & !(b ^ !id)).count_ones()
}

#[test]
fn super_cookie_is_real_under_any_and_defeated_by_each_policy() {
    for p in policies() {
        let bits = bits_recovered(p);
        println!("super-cookie: {}: {bits} of 32 bits recovered", p.name);
        let want = if matches!(p.name, "any" | "hash-hosts") {
            32
        } else {
            0
        };
        assert_eq!(bits, want, "{}", p.name);
    }
}

#[test]
fn first_party_hsts_works_under_every_policy() {
    for p in policies() {
        let (name, navigations_only) = (p.name, p.navigations_only);
        let mut s = store_for(p);
        let nav = RequestContext::navigation_from(&url("https://search.example/q")).unwrap();
        let out = s.in_context(&nav).note_at(
            &url("https://bank.example/"),
            ["max-age=31536000"],
            Transport::Secure,
            t0(),
        );
        assert_eq!(out, Outcome::Noted, "{name}");
        let later = t0() + Duration::days(3);
        let plain = url("http://bank.example/login");
        // A later navigation, with a context or without.
        let again = RequestContext::navigation();
        assert!(s.in_context(&again).upgrade_at(&plain, later).is_upgraded());
        assert!(s.upgrade_at(&plain, later).is_upgraded(), "{name}");
        // The bank's own subresources are upgraded unless navigations_only.
        let own = sub_of("https://bank.example/");
        let img = url("http://bank.example/logo.png");
        let up = s.in_context(&own).upgrade_at(&img, later).is_upgraded();
        assert_eq!(up, !navigations_only, "{name}");
    }
}

#[test]
fn webkit_first_party_examples() {
    // WebKit: on top-level sub.domain.example.com a subresource response may
    // set HSTS for sub.domain.example.com and example.com only. Columns: Any,
    // SameSite, TopLevel.
    let cases = [
        ("sub.domain.example.com", [true, true, true]),
        ("example.com", [true, true, true]),
        ("some.sub.domain.example.com", [true, true, false]),
        ("domain.example.com", [true, true, false]),
        ("other.org", [true, false, false]),
    ];
    let ctx = sub_of("https://sub.domain.example.com/page");
    let policies = [AcceptFrom::Any, AcceptFrom::SameSite, AcceptFrom::TopLevel];
    for (host, want) in cases {
        for (policy, want) in policies.into_iter().zip(want) {
            let mut s = store(policy, false);
            let from = url(&format!("https://{host}/x.js"));
            let out = s
                .in_context(&ctx)
                .note_at(&from, ["max-age=600"], Transport::Secure, t0());
            let expected = if want {
                Outcome::Noted
            } else {
                Outcome::Ignored(IgnoreReason::ThirdParty)
            };
            assert_eq!(out, expected, "{host} under {policy:?}");
            assert_eq!(s.len(), usize::from(want), "{host} under {policy:?}");
        }
    }
}

#[test]
fn a_refused_third_party_cannot_remove_either() {
    let mut s = store(AcceptFrom::SameSite, false);
    let victim = url("https://victim.example/");
    s.note_at(&victim, ["max-age=600"], Transport::Secure, t0());
    let ctx = sub_of("https://evil.example/");
    let out = s
        .in_context(&ctx)
        .note_at(&victim, ["max-age=0"], Transport::Secure, t0());
    assert_eq!(out, Outcome::Ignored(IgnoreReason::ThirdParty));
    assert!(s.is_known_at("victim.example", t0()).unwrap());
}

#[test]
fn navigations_only_still_upgrades_preloaded_hosts_in_subresources() {
    let mut s = HstsStore::with_config(StoreConfig {
        navigations_only: true,
        ..StoreConfig::default()
    });
    let ctx = sub_of("https://news.example/");
    let view = s.in_context(&ctx);
    // github.com is on the built-in preload list; the list cannot carry
    // per-user bits, so it upgrades every request.
    let preloaded = url("http://github.com/x.js");
    assert!(view.upgrade_at(&preloaded, t0()).is_upgraded());
    let m = view.lookup_at("github.com", t0()).unwrap().unwrap();
    assert_eq!(m.source, hsts::Source::Preload);
}

#[test]
fn write_dampening() {
    let mut s = store(AcceptFrom::Any, false);
    let u = url("https://a.example/");
    let year = "max-age=31536000";
    assert_eq!(
        s.note_at(&u, [year], Transport::Secure, t0()),
        Outcome::Noted
    );
    let first = s.iter().next().unwrap().to_entry();
    // An hour later the expiry would move by an hour: left as it is.
    let hour = t0() + Duration::hours(1);
    assert_eq!(
        s.note_at(&u, [year], Transport::Secure, hour),
        Outcome::Unchanged
    );
    assert_eq!(s.iter().next().unwrap().to_entry(), first);
    // A slightly shorter max-age moves it back by under a day: also unchanged.
    let shorter = "max-age=31500000";
    assert_eq!(
        s.note_at(&u, [shorter], Transport::Secure, hour),
        Outcome::Unchanged
    );
    // includeSubDomains changing is always written.
    let isd = "max-age=31536000; includeSubDomains";
    assert_eq!(
        s.note_at(&u, [isd], Transport::Secure, hour),
        Outcome::Updated
    );
    // Two days later the expiry moves by more than a day: written.
    let days = t0() + Duration::days(2);
    assert_eq!(
        s.note_at(&u, [isd], Transport::Secure, days),
        Outcome::Updated
    );
    assert_eq!(s.iter().next().unwrap().observed, days);
}

#[test]
fn short_max_ages_are_never_dampened_into_a_lapse() {
    let mut s = store(AcceptFrom::Any, false);
    let u = url("https://short.example/");
    s.note_at(&u, ["max-age=600"], Transport::Secure, t0());
    // Resent every five minutes, the entry is renewed each time and stays known.
    for i in 1..=12 {
        let at = t0() + Duration::minutes(5 * i);
        assert_eq!(
            s.note_at(&u, ["max-age=600"], Transport::Secure, at),
            Outcome::Updated
        );
    }
    assert!(s
        .is_known_at("short.example", t0() + Duration::minutes(65))
        .unwrap());
}

#[test]
fn shared_store_does_not_count_a_dampened_renote() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.bin");
    let config = StoreConfig {
        preload: PreloadSource::Off,
        ..StoreConfig::default()
    };
    let options = SaveOptions {
        every_changes: Some(2),
        on_drop: false,
    };
    let shared = SharedHstsStore::with_file(HstsStore::with_config(config), &path, options);
    let a = url("https://a.example/");
    assert_eq!(
        shared.note_at(&a, ["max-age=31536000"], Transport::Secure, t0()),
        Outcome::Noted
    );
    for h in 1..=5 {
        let at = t0() + Duration::hours(h);
        let out = shared.note_at(&a, ["max-age=31536000"], Transport::Secure, at);
        assert_eq!(out, Outcome::Unchanged);
    }
    // The same through a context.
    let ctx = RequestContext::navigation();
    let out = shared
        .in_context(&ctx)
        .note_at(&a, ["max-age=31536000"], Transport::Secure, t0());
    assert_eq!(out, Outcome::Unchanged);
    assert_eq!(shared.changes(), 1);
    assert!(!path.exists(), "a dampened re-note triggered a save");
    let b = url("https://b.example/");
    shared.note_at(&b, ["max-age=600"], Transport::Secure, t0());
    assert_eq!(shared.changes(), 2);
    assert!(path.exists());
}

#[test]
fn shared_store_in_context_follows_the_policies() {
    let shared = SharedHstsStore::new(store(AcceptFrom::TopLevel, true));
    let ctx = sub_of("https://news.example/");
    let view = shared.in_context(&ctx);
    let pixel = url("https://b0.tracker.example/");
    assert_eq!(
        view.note_at(&pixel, ["max-age=600"], Transport::Secure, t0()),
        Outcome::Ignored(IgnoreReason::ThirdParty)
    );
    assert_eq!(shared.changes(), 0);
    let own = url("https://news.example/");
    assert_eq!(
        view.note_at(&own, ["max-age=600"], Transport::Secure, t0()),
        Outcome::Noted
    );
    let plain = url("http://news.example/");
    assert!(!view.upgrade_at(&plain, t0()).is_upgraded());
    assert!(!view.upgrade_text_at(&plain, t0()).is_upgraded());
    assert!(view.lookup_at("news.example", t0()).unwrap().is_none());
    assert!(shared.upgrade_at(&plain, t0()).is_upgraded());
}

fn hsts(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hsts"))
        .arg("--no-preload")
        .args(args)
        .output()
        .expect("the hsts binary runs")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim_end().to_owned()
}

#[test]
fn cli_third_party_header_is_ignored_with_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.bin");
    let store = store.to_str().unwrap();
    let sub = [
        "--top-level",
        "https://news.example/",
        "--subresource",
        "https://b1.tracker.example/",
        "max-age=600",
    ];
    let base = [
        "--store",
        store,
        "--now",
        "1767225600",
        "--accept-from",
        "same-site",
    ];
    let plain = hsts(&[&base[..], &["observe"], &sub[..]].concat());
    assert_eq!(plain.status.code(), Some(0));
    assert_eq!(out(&plain), "ignored: third-party response");
    let json = hsts(&[&base[..], &["observe", "--json"], &sub[..]].concat());
    let v: serde_json::Value = serde_json::from_str(&out(&json)).unwrap();
    assert_eq!(v["outcome"], "ignored");
    assert_eq!(v["code"], "third_party");
    assert_eq!(v["reason"], "third-party response");
    // Under the default policy the same response is noted...
    let any = hsts(
        &[
            &["--store", store, "--now", "1767225600", "observe"],
            &sub[..],
        ]
        .concat(),
    );
    assert_eq!(out(&any), "noted");
    // ...and read back through a subresource, unless --navigations-only.
    let read = [
        "rewrite",
        "--top-level",
        "https://shop.example/",
        "--subresource",
        "http://b1.tracker.example/",
    ];
    let now = ["--store", store, "--now", "1767225700"];
    let up = hsts(&[&now[..], &read[..]].concat());
    assert_eq!(out(&up), "https://b1.tracker.example/");
    let nav_only = hsts(&[&now[..], &["--navigations-only"], &read[..]].concat());
    assert_eq!(out(&nav_only), "http://b1.tracker.example/");
    let check = [
        "--navigations-only",
        "check",
        "--top-level",
        "https://shop.example/",
        "--subresource",
        "b1.tracker.example",
    ];
    let checked = hsts(&[&now[..], &check[..]].concat());
    assert_eq!(out(&checked), "b1.tracker.example\thttp");
    // --subresource needs --top-level: a usage error.
    let bad = hsts(&[&now[..], &["check", "--subresource", "a.example"]].concat());
    assert_eq!(bad.status.code(), Some(2));
}

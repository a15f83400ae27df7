//! Issue #13: no allocation per host on the `check` path. The CLI's loop
//! is: read a line into a reused buffer (borrowed, not copied), take it as
//! a `CanonicalName` where it lies when it is canonical as given, or else
//! canonicalise it into one reused `CanonicalHost` (`CanonicalHost::set`),
//! ask `InContext::is_known_canonical_at`, write the answer into a
//! buffered writer. The library part of that loop is run here under a counting
//! global allocator, over members, subdomains, non-members, upper case,
//! trailing dots and IP literals, with the built-in preload list and a
//! store holding dynamic entries, keyed by name or by hashed name.

use chrono::{TimeZone, Utc};
use hsts::{CanonicalHost, CanonicalName, HstsStore, RequestContext, StoreConfig, Transport};
use url::Url;

fn hosts() -> Vec<String> {
    let mut v = Vec::new();
    for i in 0..500 {
        v.push(format!("h{i}.example"));
        v.push(format!("WWW.Site{i}.Example."));
        v.push(format!("a.b.dyn{}.test", i % 50));
    }
    for h in [
        "accounts.google.com",
        "mail.google.com",
        "www.paypal.com",
        "github.com",
        "x.y.z.github.io",
        "192.0.2.1",
        "[2001:db8::1]",
        "localhost",
        "a.localhost",
    ] {
        v.push(h.to_owned());
    }
    v
}

/// Answers every host as the CLI's `check` does (`as_given`: a name
/// canonical as given is taken where it lies, the others go through the
/// scratch name; otherwise every host goes through the scratch name); how
/// many must use https.
fn answer_all(
    store: &mut HstsStore,
    ctx: &RequestContext,
    scratch: &mut CanonicalHost,
    hosts: &[String],
    as_given: bool,
) -> usize {
    let now = Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap();
    let view = store.in_context(ctx);
    let mut known = 0;
    for h in hosts {
        let yes = match CanonicalName::new(h).filter(|_| as_given) {
            Some(name) => view.is_known_canonical_at(name, now),
            None => {
                matches!(scratch.set(h), Ok(None)) && view.is_known_canonical_at(&*scratch, now)
            }
        };
        known += usize::from(yes);
    }
    known
}

fn store(partition: bool, hashed: bool) -> HstsStore {
    let config = StoreConfig {
        partition,
        ..StoreConfig::default()
    };
    let mut s = if hashed {
        HstsStore::hashed(config).unwrap()
    } else {
        HstsStore::with_config(config)
    };
    let t = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    for i in 0..50 {
        let url = Url::parse(&format!("https://dyn{i}.test/")).unwrap();
        s.note_at(
            &url,
            ["max-age=31536000; includeSubDomains"],
            Transport::Secure,
            t,
        );
    }
    s
}

#[test]
fn the_check_path_allocates_nothing_per_host() {
    let hosts = hosts();
    let page = Url::parse("https://news.example/").unwrap();
    let cases = [
        (false, RequestContext::navigation()),
        (true, RequestContext::navigation()),
        (false, RequestContext::subresource_of(&page).unwrap()),
    ];
    for ((partition, ctx), hashed) in cases
        .iter()
        .flat_map(|c| [(c.clone(), false), (c.clone(), true)])
    {
        let mut s = store(partition, hashed);
        // Warm up: the scratch name grows to the longest host once.
        let mut scratch = CanonicalHost::new("scratch.invalid").unwrap();
        let expected = answer_all(&mut s, &ctx, &mut scratch, &hosts, true);
        assert!(expected >= 500 + 2, "{expected}");
        // Taking a name as given changes no answer.
        let copied = answer_all(&mut s, &ctx, &mut scratch, &hosts, false);
        assert_eq!(copied, expected);
        let mut again = 0;
        let info = allocation_counter::measure(|| {
            again = answer_all(&mut s, &ctx, &mut scratch, &hosts, true);
        });
        assert_eq!(again, expected);
        assert!(
            info.count_total == 0,
            "partition {partition}, hashed {hashed}: {} allocations for {} hosts",
            info.count_total,
            hosts.len()
        );
    }
}

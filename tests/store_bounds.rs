//! Capacity, eviction and the per-site quota.

use chrono::{DateTime, Duration, TimeZone, Utc};
use hsts::internal::StoreInternals;
use hsts::{HstsStore, Outcome, PreloadSource, StoreConfig, Transport};
use url::Url;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
}

fn config(capacity: usize, quota: usize) -> StoreConfig {
    StoreConfig {
        capacity,
        per_site_quota: quota,
        preload: PreloadSource::Off,
        ..StoreConfig::default()
    }
}

fn note(store: &mut HstsStore, host: &str, max_age: u64, at: DateTime<Utc>) -> Outcome {
    let url = Url::parse(&format!("https://{host}/")).unwrap();
    store.note_at(&url, [format!("max-age={max_age}")], Transport::Secure, at)
}

#[test]
fn defaults() {
    let c = StoreConfig::default();
    assert_eq!((c.capacity, c.per_site_quota), (100_000, 64));
}

#[test]
fn quota_replaces_the_oldest_entry_of_the_same_site() {
    let mut s = HstsStore::with_config(config(1000, 3));
    note(&mut s, "victim.example", 1000, t0());
    for i in 0..3 {
        note(
            &mut s,
            &format!("h{i}.tracker.example.co.uk"),
            1000,
            t0() + Duration::seconds(i),
        );
    }
    assert_eq!(s.len(), 4);
    note(
        &mut s,
        "h3.tracker.example.co.uk",
        1000,
        t0() + Duration::seconds(10),
    );
    assert_eq!(s.len(), 4);
    let now = t0() + Duration::seconds(11);
    assert!(
        !s.is_known_at("h0.tracker.example.co.uk", now).unwrap(),
        "oldest of the site went"
    );
    assert!(s.is_known_at("h1.tracker.example.co.uk", now).unwrap());
    assert!(s.is_known_at("h3.tracker.example.co.uk", now).unwrap());
    assert!(
        s.is_known_at("victim.example", now).unwrap(),
        "another site is untouched"
    );
    // Re-noting a host already present does not count against the quota.
    assert_eq!(
        note(&mut s, "h1.tracker.example.co.uk", 1000, now),
        Outcome::Updated
    );
    assert_eq!(s.len(), 4);
}

#[test]
fn capacity_evicts_the_soonest_expiring_among_the_least_recently_observed() {
    let mut s = HstsStore::with_config(config(10, 64));
    // Ten sites; the oldest observations are a*.example, and among them
    // a3.example expires soonest.
    for i in 0..10 {
        let max_age = if i == 3 { 50 } else { 10_000 };
        note(
            &mut s,
            &format!("a{i}.example"),
            max_age,
            t0() + Duration::seconds(i),
        );
    }
    note(&mut s, "new.example", 10_000, t0() + Duration::seconds(100));
    assert_eq!(s.len(), 10);
    let now = t0() + Duration::seconds(101);
    assert!(s.is_known_at("new.example", now).unwrap());
    assert!(
        s.get_str("a3.example").is_none(),
        "the soonest-expiring of the oldest was evicted"
    );
    // The next eviction takes the least recently observed of equal expiries.
    note(
        &mut s,
        "newer.example",
        10_000,
        t0() + Duration::seconds(200),
    );
    assert!(s.get_str("a0.example").is_none());
    assert_eq!(s.len(), 10);
}

#[test]
fn attacker_with_a_million_subdomains_evicts_no_other_site() {
    let mut s = HstsStore::with_config(config(100_000, 64));
    let start = t0();
    // 1,000 honest sites noted first.
    for i in 0..1000 {
        note(&mut s, &format!("www.site{i}.example"), 31_536_000, start);
    }
    // The attacker: 1,000,000 HSTS subdomains spread over four sites.
    let attack_sites = ["evil.com", "tracker.net", "ads.co.uk", "cdn.example.org"];
    let mut at = start;
    for i in 0..1_000_000u32 {
        at += Duration::milliseconds(1);
        let site = attack_sites[(i % 4) as usize];
        note(&mut s, &format!("x{i}.{site}"), 31_536_000, at);
    }
    // Memory stays bounded: the attacker holds at most 64 entries per site.
    assert_eq!(s.len(), 1000 + 4 * 64);
    let now = at + Duration::seconds(1);
    for i in 0..1000 {
        assert!(
            s.is_known_at(&format!("www.site{i}.example"), now).unwrap(),
            "site{i} evicted"
        );
    }
    // The attacker's newest entries are the ones kept.
    assert!(s.is_known_at("x999999.cdn.example.org", now).unwrap());
    assert!(!s.is_known_at("x0.evil.com", now).unwrap());
}

#[test]
fn clearing_a_site_and_a_time_range() {
    let mut s = HstsStore::with_config(config(1000, 64));
    note(&mut s, "a.example.co.uk", 100, t0());
    note(&mut s, "b.example.co.uk", 100, t0() + Duration::seconds(5));
    note(&mut s, "example.co.uk", 100, t0() + Duration::seconds(5));
    note(&mut s, "other.co.uk", 100, t0() + Duration::seconds(5));
    assert_eq!(s.clear_site_at("www.example.co.uk", t0()).unwrap(), 3);
    assert_eq!(s.len(), 1);
    note(&mut s, "late.example", 100, t0() + Duration::seconds(60));
    let removed = s.clear_observed_between_at(
        t0() + Duration::seconds(30),
        t0() + Duration::seconds(90),
        t0(),
    );
    assert_eq!(removed, 1);
    assert!(s.get_str("other.co.uk").is_some());
    assert_eq!(s.clear_at(t0()), 1);
    assert!(s.is_empty());
    assert_eq!(s.tombstones().count(), 5);
}

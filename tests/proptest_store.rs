//! The store against a naive reference model.
//!
//! The model is a `Vec` of `(host, includeSubDomains, expires)` rows and
//! answers queries with a linear scan written straight from RFC 6797:
//! §8.1.1 for noting (max-age 0 removes, anything else notes or replaces the
//! whole policy) and §8.2 for matching (a congruent match, else a superdomain
//! match with includeSubDomains asserted; an entry is known up to and
//! including its expiry instant). Random sequences of observations, queries,
//! purges and clock moves run through both, over hosts drawn from a tiny
//! label alphabet so that names collide and nest all the time.
//!
//! Each case also draws a policy (`accept_from`, `navigations_only`,
//! `partition`), whether the store hashes its hosts, and for each
//! observation and query a browsing context (a navigation, or a subresource
//! of a page on one of the same hosts); the model applies the first-party
//! rules, navigation-only upgrades, partitions and write dampening from
//! their definitions (issue #11). A partitioned model keys its rows by
//! (partition site, host): the site of the top-level page for a
//! subresource, the host's own site for a navigation or a context-free
//! call. A hashed store must answer exactly as the model does, except that
//! the names it reports are hashes: those are checked to be well formed
//! and to stand for one name each, consistently.

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use hsts::{AcceptFrom, CanonicalHost, HstsStore, RequestContext, StoreConfig, Transport};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use url::Url;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    }
}

/// A host as generated: 1 to 3 labels over {a, b, c}, written with random
/// upper case and maybe a trailing dot. `canonical` is the model's key.
#[derive(Debug, Clone)]
struct GenHost {
    written: String,
    canonical: String,
}

fn gen_host() -> impl Strategy<Value = GenHost> {
    (
        prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 1..=3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(labels, upper_first, dot)| {
            let canonical = labels.join(".");
            let mut written = if upper_first {
                let mut c = canonical.clone();
                c[..1].make_ascii_uppercase();
                c
            } else {
                canonical.clone()
            };
            if dot {
                written.push('.');
            }
            GenHost { written, canonical }
        })
}

fn gen_max_age() -> impl Strategy<Value = u64> {
    prop_oneof![
        2 => Just(0u64),
        6 => 1u64..600,
        1 => Just(u64::MAX),
        1 => Just(i64::MAX as u64),
        1 => Just(1_000_000_000_000u64),
    ]
}

fn gen_transport() -> impl Strategy<Value = Transport> {
    prop_oneof![
        6 => Just(Transport::Secure),
        1 => Just(Transport::CertificateErrors),
        1 => Just(Transport::Insecure),
    ]
}

/// A browsing context as generated: `None` for a top-level navigation, or
/// the top-level page's host and whether the request is a navigation from it.
type GenCtx = Option<(GenHost, bool)>;

fn gen_ctx() -> impl Strategy<Value = GenCtx> {
    prop_oneof![
        2 => Just(None),
        3 => (gen_host(), prop::bool::weighted(0.2)).prop_map(Some),
    ]
}

/// The store's policy switches, and whether it hashes its hosts.
#[derive(Debug, Clone, Copy)]
struct Policy {
    accept_from: AcceptFrom,
    navigations_only: bool,
    partition: bool,
    hashed: bool,
}

fn gen_policy() -> impl Strategy<Value = Policy> {
    (
        prop::sample::select(vec![
            AcceptFrom::Any,
            AcceptFrom::SameSite,
            AcceptFrom::TopLevel,
        ]),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(accept_from, navigations_only, partition, hashed)| Policy {
                accept_from,
                navigations_only,
                partition,
                hashed,
            },
        )
}

fn store_of(policy: Policy) -> HstsStore {
    let config = StoreConfig {
        accept_from: policy.accept_from,
        navigations_only: policy.navigations_only,
        partition: policy.partition,
        ..StoreConfig::default()
    };
    if policy.hashed {
        HstsStore::hashed(config).expect("a random salt")
    } else {
        HstsStore::with_config(config)
    }
}

/// Whether `s` has the shape of a hashed key: 32 hex digits (a site or a
/// partition), or two such around a dot (a host).
fn is_hash(s: &str, parts: usize) -> bool {
    s.len() == parts * 33 - 1
        && s.split('.').count() == parts
        && s.split('.').all(|h| {
            h.len() == 32
                && h.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// The names a store reports against the model's. A plain store reports
/// the model's names; a hashed one a key per name that must be well formed,
/// the same every time for a name, different for different names, and end
/// in the same site hash for the names of one site.
#[derive(Debug, Default)]
struct Names {
    hashed: bool,
    host: HashMap<String, String>,
    back: HashMap<String, String>,
    site: HashMap<String, String>,
}

impl Names {
    fn check(&mut self, got: &str, want: &str) -> Result<(), TestCaseError> {
        if !self.hashed {
            prop_assert_eq!(got, want);
            return Ok(());
        }
        prop_assert!(is_hash(got, 2), "not a hashed key: {}", got);
        let seen = self.host.entry(want.to_owned()).or_insert(got.to_owned());
        prop_assert_eq!(seen.as_str(), got, "two keys for {}", want);
        let back = self.back.entry(got.to_owned()).or_insert(want.to_owned());
        prop_assert_eq!(back.as_str(), want, "one key for two names");
        let site_hash = self
            .site
            .entry(site(want).to_owned())
            .or_insert(got[33..].to_owned());
        prop_assert_eq!(
            site_hash.as_str(),
            &got[33..],
            "two site keys for {}",
            site(want)
        );
        Ok(())
    }
}

fn request_context(ctx: &GenCtx) -> RequestContext {
    match ctx {
        None => RequestContext::navigation(),
        Some((top, nav)) => {
            let page = Url::parse(&format!("https://{}/", top.written)).unwrap();
            if *nav {
                RequestContext::navigation_from(&page).unwrap()
            } else {
                RequestContext::subresource_of(&page).unwrap()
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// A response from `https://host/` (or `http://` for Insecure).
    Observe {
        host: GenHost,
        max_age: u64,
        isd: bool,
        transport: Transport,
        ctx: GenCtx,
    },
    Query(GenHost, GenCtx),
    /// Move the clock by this many seconds (mostly forward).
    Advance(i64),
    Purge,
    /// `remove_at`: the host goes from every partition.
    Remove(GenHost),
    /// `clear_site_at`: the site's hosts go from every partition, and the
    /// site's own partition goes whole.
    ClearSite(GenHost),
}

fn gen_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (gen_host(), gen_max_age(), any::<bool>(), gen_transport(), gen_ctx()).prop_map(
            |(host, max_age, isd, transport, ctx)| Op::Observe { host, max_age, isd, transport, ctx }
        ),
        5 => (gen_host(), gen_ctx()).prop_map(|(h, c)| Op::Query(h, c)),
        3 => prop_oneof![4 => 0i64..700, 1 => -50i64..0, 1 => Just(10_000_000i64)].prop_map(Op::Advance),
        1 => Just(Op::Purge),
        1 => gen_host().prop_map(Op::Remove),
        1 => gen_host().prop_map(Op::ClearSite),
    ]
}

/// A row of the model: the partition (the top-level site; empty when the
/// store is not partitioned), the host, includeSubDomains, the expiry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    part: String,
    host: String,
    isd: bool,
    expires: DateTime<Utc>,
}

/// The reference model.
#[derive(Debug)]
struct Model {
    rows: Vec<Row>,
    policy: Policy,
}

/// The site of a host over the alphabet: no label is a known suffix, so a
/// name's last label is its public suffix and its last two its site; a
/// single label is its own site.
fn site(host: &str) -> &str {
    match host.rmatch_indices('.').nth(1) {
        Some((i, _)) => &host[i + 1..],
        None => host,
    }
}

/// `now + max_age`, or the end of time when that does not fit.
fn model_expiry(now: DateTime<Utc>, max_age: u64) -> DateTime<Utc> {
    let Ok(secs) = i64::try_from(max_age) else {
        return DateTime::<Utc>::MAX_UTC;
    };
    Duration::try_seconds(secs)
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl Model {
    /// The partition of a request to `host` in `ctx`: the page's site for
    /// a subresource, the host's own site otherwise; none (empty) when the
    /// store is not partitioned.
    fn partition(&self, host: &str, ctx: &GenCtx) -> String {
        if !self.policy.partition {
            return String::new();
        }
        match ctx {
            Some((top, false)) => site(&top.canonical).to_owned(),
            _ => site(host).to_owned(),
        }
    }

    fn position(&self, part: &str, host: &str) -> Option<usize> {
        self.rows
            .iter()
            .position(|r| r.part == part && r.host == host)
    }

    fn live(&self, part: &str, host: &str, now: DateTime<Utc>) -> bool {
        self.position(part, host)
            .is_some_and(|i| now <= self.rows[i].expires)
    }

    /// Whether a response from `host` in `ctx` may set HSTS: navigations
    /// always; subresources as the policy says (Firefox: same site; WebKit:
    /// the top-level host or site only).
    fn may_set(&self, host: &str, ctx: &GenCtx) -> bool {
        let Some((top, false)) = ctx else {
            return true;
        };
        let top = top.canonical.as_str();
        match self.policy.accept_from {
            AcceptFrom::SameSite => site(host) == site(top),
            AcceptFrom::TopLevel => host == top || host == site(top),
            _ => true,
        }
    }

    /// §8.1.1. Returns what the outcome must be. max-age=0 for an entry
    /// that is present but already expired drops it, and is `ignored`: the
    /// host was no longer known.
    fn observe(
        &mut self,
        host: &str,
        max_age: u64,
        isd: bool,
        transport: Transport,
        ctx: &GenCtx,
        now: DateTime<Utc>,
    ) -> &'static str {
        if transport != Transport::Secure || !self.may_set(host, ctx) {
            return "ignored";
        }
        let part = self.partition(host, ctx);
        let was_live = self.live(&part, host, now);
        let pos = self.position(&part, host);
        if max_age == 0 {
            if let Some(i) = pos {
                self.rows.remove(i);
            }
            return match (pos, was_live) {
                (Some(_), true) => "removed",
                (None, _) | (Some(_), false) => "ignored",
            };
        }
        let row = Row {
            part,
            host: host.to_owned(),
            isd,
            expires: model_expiry(now, max_age),
        };
        // Write dampening: the same includeSubDomains and an expiry within a
        // day of a stored one that is more than a day away leave it as it is.
        let day = Duration::days(1);
        if let Some(i) = pos {
            let old = &self.rows[i];
            if old.isd == isd && old.expires - now > day && (row.expires - old.expires).abs() < day
            {
                return "unchanged";
            }
        }
        match pos {
            Some(i) => self.rows[i] = row,
            None => self.rows.push(row),
        }
        if was_live {
            "updated"
        } else {
            "noted"
        }
    }

    /// §8.2 by linear scan: the congruent entry if it is live, else the
    /// nearest live superdomain entry asserting includeSubDomains. A
    /// context-free lookup is a navigation: the host's own partition.
    fn lookup(&self, host: &str, now: DateTime<Utc>) -> Option<Row> {
        self.lookup_in(host, &None, now)
    }

    /// A lookup in `ctx`: with navigations_only, a subresource sees no
    /// dynamic entry (and the alphabet has no preloaded host); with
    /// partitions, only the rows of the request's partition count.
    fn lookup_in(&self, host: &str, ctx: &GenCtx, now: DateTime<Utc>) -> Option<Row> {
        if self.policy.navigations_only && matches!(ctx, Some((_, false))) {
            return None;
        }
        let part = self.partition(host, ctx);
        let seen = |r: &&Row| r.part == part && now <= r.expires;
        if let Some(r) = self.rows.iter().filter(seen).find(|r| r.host == host) {
            return Some(r.clone());
        }
        self.rows
            .iter()
            .filter(seen)
            .filter(|r| r.isd && host.ends_with(&format!(".{}", r.host)))
            .max_by_key(|r| r.host.len())
            .cloned()
    }

    fn purge(&mut self, now: DateTime<Utc>) -> usize {
        let before = self.rows.len();
        self.rows.retain(|r| now <= r.expires);
        before - self.rows.len()
    }

    /// `remove_at`: the host in every partition, expired or not. Whether
    /// there was one.
    fn remove(&mut self, host: &str) -> bool {
        let before = self.rows.len();
        self.rows.retain(|r| r.host != host);
        before != self.rows.len()
    }

    /// `clear_site_at`: every host of the domain's site, in every
    /// partition, and (partitioned) everything in the site's partition.
    fn clear_site(&mut self, domain: &str) -> usize {
        let s = site(domain).to_owned();
        let partition = self.policy.partition;
        let before = self.rows.len();
        self.rows
            .retain(|r| site(&r.host) != s && !(partition && r.part == s));
        before - self.rows.len()
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

/// The store's entries as the model's rows would be. A hashed store shows
/// hashes, which must be well formed; only what else they hold compares.
fn rows_of(store: &HstsStore, hashed: bool) -> Result<Vec<Row>, TestCaseError> {
    let mut rows = Vec::new();
    for e in store.iter() {
        let part = e.partition.unwrap_or("").to_owned();
        if hashed {
            prop_assert!(is_hash(e.host, 2), "entry key {}", e.host);
            prop_assert!(
                part.is_empty() || is_hash(&part, 1),
                "partition key {}",
                part
            );
        }
        rows.push(Row {
            part,
            host: e.host.to_owned(),
            isd: e.include_subdomains,
            expires: e.expires,
        });
    }
    Ok(rows)
}

/// Whether the store holds what the model does: the same rows (partition,
/// host, includeSubDomains, expiry); for a hashed store, the same
/// partitioned-or-not, includeSubDomains and expiry.
fn same_rows(store: &HstsStore, model: &Model) -> Result<(), TestCaseError> {
    let hashed = model.policy.hashed;
    let blind = |mut rows: Vec<Row>| {
        if hashed {
            for r in &mut rows {
                r.host.clear();
                if !r.part.is_empty() {
                    r.part = "p".to_owned();
                }
            }
        }
        rows.sort();
        rows
    };
    let got = blind(rows_of(store, hashed)?);
    let want = blind(model.rows.clone());
    prop_assert_eq!(got, want);
    Ok(())
}

/// Runs `ops` through a store and the model, checking every step; returns
/// both and the final clock.
fn run_ops(policy: Policy, ops: &[Op]) -> Result<(HstsStore, Model, DateTime<Utc>), TestCaseError> {
    let mut store = store_of(policy);
    prop_assert_eq!(store.is_hashed(), policy.hashed);
    let mut names = Names {
        hashed: policy.hashed,
        ..Names::default()
    };
    let mut model = Model {
        rows: Vec::new(),
        policy,
    };
    let mut now = t0();
    for (step, op) in ops.iter().enumerate() {
        match op {
            Op::Observe {
                host,
                max_age,
                isd,
                transport,
                ctx,
            } => {
                let scheme = if *transport == Transport::Insecure {
                    "http"
                } else {
                    "https"
                };
                let url = Url::parse(&format!("{scheme}://{}/", host.written)).unwrap();
                let value = if *isd {
                    format!("max-age={max_age}; includeSubDomains")
                } else {
                    format!("max-age={max_age}")
                };
                let rc = request_context(ctx);
                let got = match ctx {
                    None => store.note_at(&url, [value.as_str()], *transport, now),
                    Some(_) => {
                        store
                            .in_context(&rc)
                            .note_at(&url, [value.as_str()], *transport, now)
                    }
                };
                let want = model.observe(&host.canonical, *max_age, *isd, *transport, ctx, now);
                prop_assert_eq!(got.as_str(), want, "step {}: {:?} -> {:?}", step, op, got);
            }
            Op::Query(host, ctx) => {
                let rc = request_context(ctx);
                let got = match ctx {
                    None => store.lookup_at(&host.written, now),
                    Some(_) => store.in_context(&rc).lookup_at(&host.written, now),
                }
                .expect("generated hosts are valid");
                let want = model.lookup_in(&host.canonical, ctx, now);
                // An upgrade in the same context agrees with the lookup.
                let plain = Url::parse(&format!("http://{}/", host.written)).unwrap();
                let upgraded = store.in_context(&rc).upgrade_at(&plain, now).is_upgraded();
                prop_assert_eq!(upgraded, want.is_some(), "step {}: upgrade {:?}", step, op);
                if let (Some(g), Some(w)) = (&got, &want) {
                    names.check(&g.host, &w.host)?;
                }
                let got = got.map(|m| (m.include_subdomains, m.expires));
                let want = want.map(|r| (r.isd, Some(r.expires)));
                prop_assert_eq!(&got, &want, "step {}: query {:?} at {}", step, host, now);
                let known = model.lookup(&host.canonical, now).is_some();
                prop_assert_eq!(store.is_known_at(&host.written, now), Ok(known));
                // The partition the request uses, unhashed even in a
                // hashed store.
                let canonical = CanonicalHost::new(&host.written).unwrap();
                let part = store.in_context(&rc).partition(&canonical);
                let want_part =
                    Some(model.partition(&host.canonical, ctx)).filter(|p| !p.is_empty());
                prop_assert_eq!(part, want_part, "step {}: partition of {:?}", step, op);
            }
            Op::Advance(secs) => now += Duration::seconds(*secs),
            Op::Purge => {
                prop_assert_eq!(
                    store.purge_expired_at(now),
                    model.purge(now),
                    "step {}",
                    step
                );
            }
            Op::Remove(host) => {
                let got = store.remove_at(&host.written, now).unwrap();
                let want = model.remove(&host.canonical);
                prop_assert_eq!(got.is_some(), want, "step {}: {:?}", step, op);
                if let Some(e) = got {
                    names.check(&e.host, &host.canonical)?;
                }
            }
            Op::ClearSite(domain) => {
                let got = store.clear_site_at(&domain.written, now).unwrap();
                prop_assert_eq!(
                    got,
                    model.clear_site(&domain.canonical),
                    "step {}: {:?}",
                    step,
                    op
                );
            }
        }
        prop_assert_eq!(store.len(), model.rows.len(), "step {}: {:?}", step, op);
    }
    same_rows(&store, &model)?;
    Ok((store, model, now))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn store_agrees_with_reference_model(
        policy in gen_policy(),
        ops in prop::collection::vec(gen_op(), 1..=40),
    ) {
        run_ops(policy, &ops)?;
    }

    /// Every query after a run agrees too, for every host of the alphabet.
    #[test]
    fn final_state_agrees_everywhere(
        policy in gen_policy(),
        ops in prop::collection::vec(gen_op(), 1..=40),
    ) {
        let (mut store, model, now) = run_ops(policy, &ops)?;
        let mut names = Names { hashed: policy.hashed, ..Names::default() };
        let labels = ["a", "b", "c"];
        let mut all = Vec::new();
        for x in labels {
            all.push(x.to_owned());
            for y in labels {
                all.push(format!("{x}.{y}"));
                for z in labels {
                    all.push(format!("{x}.{y}.{z}"));
                }
            }
        }
        for probe in [now, now + Duration::seconds(1), now + Duration::seconds(600)] {
            for h in &all {
                let got = store.lookup_at(h, probe).unwrap();
                let want = model.lookup(h, probe);
                if let (Some(g), Some(w)) = (&got, &want) {
                    names.check(&g.host, &w.host)?;
                }
                let got = got.map(|m| (m.include_subdomains, m.expires));
                let want = want.map(|r| (r.isd, Some(r.expires)));
                prop_assert_eq!(got, want, "{} at {}", h, probe);
                // And as a subresource of a page on each site: the page's
                // partition.
                for top in all.iter().filter(|t| site(t) == t.as_str()) {
                    let page = Url::parse(&format!("https://{top}/")).unwrap();
                    let rc = RequestContext::subresource_of(&page).unwrap();
                    let ctx: GenCtx = Some((GenHost { written: top.clone(), canonical: top.clone() }, false));
                    let got = store.in_context(&rc).lookup_at(h, probe).unwrap();
                    let want = model.lookup_in(h, &ctx, probe);
                    if let (Some(g), Some(w)) = (&got, &want) {
                        names.check(&g.host, &w.host)?;
                    }
                    let got = got.map(|m| (m.include_subdomains, m.expires));
                    let want = want.map(|r| (r.isd, Some(r.expires)));
                    prop_assert_eq!(got, want, "{} from {} at {}", h, top, probe);
                }
            }
        }
    }
}

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

use chrono::{DateTime, Duration, TimeZone, Utc};
use hsts::{HstsStore, Transport};
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

#[derive(Debug, Clone)]
enum Op {
    /// A response from `https://host/` (or `http://` for Insecure).
    Observe {
        host: GenHost,
        max_age: u64,
        isd: bool,
        transport: Transport,
    },
    Query(GenHost),
    /// Move the clock by this many seconds (mostly forward).
    Advance(i64),
    Purge,
}

fn gen_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (gen_host(), gen_max_age(), any::<bool>(), gen_transport()).prop_map(
            |(host, max_age, isd, transport)| Op::Observe { host, max_age, isd, transport }
        ),
        5 => gen_host().prop_map(Op::Query),
        3 => prop_oneof![4 => 0i64..700, 1 => -50i64..0, 1 => Just(10_000_000i64)].prop_map(Op::Advance),
        1 => Just(Op::Purge),
    ]
}

/// The reference model.
#[derive(Debug, Default)]
struct Model {
    rows: Vec<(String, bool, DateTime<Utc>)>,
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
    fn position(&self, host: &str) -> Option<usize> {
        self.rows.iter().position(|(h, _, _)| h == host)
    }

    fn live(&self, host: &str, now: DateTime<Utc>) -> bool {
        self.position(host).is_some_and(|i| now <= self.rows[i].2)
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
        now: DateTime<Utc>,
    ) -> &'static str {
        if transport != Transport::Secure {
            return "ignored";
        }
        let was_live = self.live(host, now);
        let pos = self.position(host);
        if max_age == 0 {
            if let Some(i) = pos {
                self.rows.remove(i);
            }
            return match (pos, was_live) {
                (Some(_), true) => "removed",
                (None, _) | (Some(_), false) => "ignored",
            };
        }
        let row = (host.to_owned(), isd, model_expiry(now, max_age));
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
    /// nearest live superdomain entry asserting includeSubDomains.
    fn lookup(&self, host: &str, now: DateTime<Utc>) -> Option<(String, bool, DateTime<Utc>)> {
        let live = |r: &&(String, bool, DateTime<Utc>)| now <= r.2;
        if let Some(r) = self.rows.iter().filter(live).find(|r| r.0 == host) {
            return Some(r.clone());
        }
        self.rows
            .iter()
            .filter(live)
            .filter(|r| r.1 && host.ends_with(&format!(".{}", r.0)))
            .max_by_key(|r| r.0.len())
            .cloned()
    }

    fn purge(&mut self, now: DateTime<Utc>) -> usize {
        let before = self.rows.len();
        self.rows.retain(|r| now <= r.2);
        before - self.rows.len()
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

/// Runs `ops` through a store and the model, checking every step; returns
/// both and the final clock.
fn run_ops(ops: &[Op]) -> Result<(HstsStore, Model, DateTime<Utc>), TestCaseError> {
    let mut store = HstsStore::new();
    let mut model = Model::default();
    let mut now = t0();
    for (step, op) in ops.iter().enumerate() {
        match op {
            Op::Observe {
                host,
                max_age,
                isd,
                transport,
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
                let got = store.note_at(&url, [value.as_str()], *transport, now);
                let want = model.observe(&host.canonical, *max_age, *isd, *transport, now);
                prop_assert_eq!(got.as_str(), want, "step {}: {:?} -> {:?}", step, op, got);
            }
            Op::Query(host) => {
                let got = store
                    .lookup_at(&host.written, now)
                    .expect("generated hosts are valid");
                let want = model.lookup(&host.canonical, now);
                let got = got.map(|m| (m.host, m.include_subdomains, m.expires));
                let want = want.map(|(h, isd, exp)| (h, isd, Some(exp)));
                prop_assert_eq!(&got, &want, "step {}: query {:?} at {}", step, host, now);
                prop_assert_eq!(store.is_known_at(&host.written, now), Ok(want.is_some()));
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
        }
        prop_assert_eq!(store.len(), model.rows.len(), "step {}: {:?}", step, op);
    }
    Ok((store, model, now))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn store_agrees_with_reference_model(ops in prop::collection::vec(gen_op(), 1..=40)) {
        run_ops(&ops)?;
    }

    /// Every query after a run agrees too, for every host of the alphabet.
    #[test]
    fn final_state_agrees_everywhere(ops in prop::collection::vec(gen_op(), 1..=40)) {
        let (store, model, now) = run_ops(&ops)?;
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
                let got = store.lookup_at(h, probe).unwrap().map(|m| (m.host, m.include_subdomains));
                let want = model.lookup(h, probe).map(|(h, isd, _)| (h, isd));
                prop_assert_eq!(got, want, "{} at {}", h, probe);
            }
        }
    }
}

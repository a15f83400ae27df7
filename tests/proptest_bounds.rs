//! The bounded store against a plain model of its eviction policy.
//!
//! The model keeps a `Vec` of rows in noting order (an update moves a row to
//! the end), each with its days of use and its class, and applies the
//! written policy with linear scans: a new host of a full site replaces,
//! among the site's entries that cover no other entry of the site with
//! includeSubDomains, the least recently observed (ties by name); a new
//! host in a full store evicts from the lowest class that has rows (a row
//! whose days of use call for a higher class is first moved there, to the
//! end), among its `EVICTION_WINDOW` oldest rows, the one that expires
//! soonest (the older on a tie). A use is a note of a known host or a
//! lookup that matches, on a later day. Random notes, lookups, removals,
//! site clearings and purges over a tiny capacity and quota run through
//! both, and every entry must agree after every step.

use chrono::{DateTime, Duration, TimeZone, Utc};
use hsts::internal::StoreInternals;
use hsts::EVICTION_WINDOW;
use hsts::{HstsStore, Outcome, PreloadSource, StoreConfig, Transport};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use url::Url;

const CAPACITY: usize = 6;
const QUOTA: usize = 3;

#[derive(Debug, Clone)]
enum Op {
    Note {
        sub: &'static str,
        site: &'static str,
        max_age: u64,
        isd: bool,
    },
    Advance(i64),
    AdvanceDays(i64),
    Lookup {
        sub: &'static str,
        site: &'static str,
    },
    Remove {
        sub: &'static str,
        site: &'static str,
    },
    ClearSite(&'static str),
    Purge,
}

fn host(sub: &str, site: &str) -> String {
    if sub.is_empty() {
        site.to_owned()
    } else {
        format!("{sub}.{site}")
    }
}

fn gen_op() -> impl Strategy<Value = Op> {
    let sub = prop::sample::select(vec!["", "a", "b", "c", "d", "e.f"]);
    let site = prop::sample::select(vec!["x.com", "y.com", "z.co.uk"]);
    prop_oneof![
        8 => (sub.clone(), site.clone(), prop_oneof![1 => Just(0u64), 6 => 1u64..40], any::<bool>())
            .prop_map(|(sub, site, max_age, isd)| Op::Note { sub, site, max_age, isd }),
        3 => (0i64..6).prop_map(Op::Advance),
        1 => (1i64..3).prop_map(Op::AdvanceDays),
        3 => (sub.clone(), site.clone()).prop_map(|(sub, site)| Op::Lookup { sub, site }),
        1 => (sub, site.clone()).prop_map(|(sub, site)| Op::Remove { sub, site }),
        1 => site.prop_map(Op::ClearSite),
        1 => Just(Op::Purge),
    ]
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    host: String,
    site: &'static str,
    isd: bool,
    observed: DateTime<Utc>,
    expires: DateTime<Utc>,
    days: u16,
    last_day: i64,
    class: usize,
}

const CLASSES: usize = 8;

fn day(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(86_400)
}

fn class_of(days: u16) -> usize {
    let mut c = 0;
    while c + 1 < CLASSES && (days as u32) >= 1 << (c + 1) {
        c += 1;
    }
    c
}

impl Row {
    fn used(&mut self, now: DateTime<Utc>) {
        if day(now) > self.last_day {
            self.days = self.days.saturating_add(1);
            self.last_day = day(now);
        }
    }
}

#[derive(Default)]
struct Model {
    rows: Vec<Row>,
}

impl Model {
    fn pos(&self, host: &str) -> Option<usize> {
        self.rows.iter().position(|r| r.host == host)
    }

    fn note(&mut self, row: Row, max_age: u64, now: DateTime<Utc>) -> Outcome {
        if max_age == 0 {
            return match self.pos(&row.host) {
                Some(i) if now <= self.rows.remove(i).expires => Outcome::Removed,
                _ => Outcome::Ignored(hsts::IgnoreReason::NotKnown),
            };
        }
        if let Some(i) = self.pos(&row.host) {
            let mut old = self.rows.remove(i);
            let outcome = if now <= old.expires {
                Outcome::Updated
            } else {
                Outcome::Noted
            };
            old.used(now);
            self.rows.push(Row {
                days: old.days,
                last_day: old.last_day,
                class: old.class,
                ..row
            });
            return outcome;
        }
        while self.rows.iter().filter(|r| r.site == row.site).count() >= QUOTA {
            let victim = self.site_victim(row.site);
            self.rows.remove(victim);
        }
        while self.rows.len() >= CAPACITY {
            let victim = self.store_victim();
            self.rows.remove(victim);
        }
        self.rows.push(row);
        Outcome::Noted
    }

    fn site_victim(&self, site: &str) -> usize {
        let members: Vec<usize> = (0..self.rows.len())
            .filter(|&i| self.rows[i].site == site)
            .collect();
        let covers = |a: &Row| {
            a.isd
                && members.iter().any(|&j| {
                    let b = &self.rows[j].host;
                    b.len() > a.host.len() && b.ends_with(&format!(".{}", a.host))
                })
        };
        let oldest = |c: &mut dyn Iterator<Item = usize>| {
            c.min_by(|&a, &b| {
                let (a, b) = (&self.rows[a], &self.rows[b]);
                (a.observed, &a.host).cmp(&(b.observed, &b.host))
            })
        };
        let mut free = members.iter().copied().filter(|&i| !covers(&self.rows[i]));
        oldest(&mut free)
            .or_else(|| oldest(&mut members.iter().copied()))
            .unwrap()
    }

    fn store_victim(&mut self) -> usize {
        for class in 0..CLASSES {
            loop {
                let window: Vec<usize> = (0..self.rows.len())
                    .filter(|&i| self.rows[i].class == class)
                    .take(EVICTION_WINDOW)
                    .collect();
                if window.is_empty() {
                    break;
                }
                let due: Vec<String> = window
                    .iter()
                    .filter(|&&i| class_of(self.rows[i].days) > class)
                    .map(|&i| self.rows[i].host.clone())
                    .collect();
                if due.is_empty() {
                    let mut best = window[0];
                    for &i in &window[1..] {
                        if self.rows[i].expires < self.rows[best].expires {
                            best = i;
                        }
                    }
                    return best;
                }
                for h in due {
                    let i = self.pos(&h).unwrap();
                    let mut r = self.rows.remove(i);
                    r.class = class_of(r.days);
                    self.rows.push(r);
                }
            }
        }
        unreachable!("a full store has rows")
    }

    /// A lookup: a live congruent row, or a live superdomain row with
    /// includeSubDomains, is used.
    fn lookup(&mut self, host: &str, now: DateTime<Utc>) -> bool {
        let live = |r: &Row| now <= r.expires;
        let congruent = self.rows.iter().position(|r| r.host == host && live(r));
        let found = congruent.or_else(|| {
            let mut h = host;
            while let Some(dot) = h.find('.') {
                h = &h[dot + 1..];
                if let Some(i) = self
                    .rows
                    .iter()
                    .position(|r| r.host == h && r.isd && live(r))
                {
                    return Some(i);
                }
            }
            None
        });
        match found {
            Some(i) => {
                self.rows[i].used(now);
                true
            }
            None => false,
        }
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut store = HstsStore::with_config(StoreConfig {
        preload: PreloadSource::Off,
        capacity: CAPACITY,
        per_site_quota: QUOTA,
        ..StoreConfig::default()
    });
    let mut model = Model::default();
    let mut now = t0();
    for op in ops {
        match op {
            Op::Note {
                sub,
                site,
                max_age,
                isd,
            } => {
                let h = host(sub, site);
                let value = if *isd {
                    format!("max-age={max_age}; includeSubDomains")
                } else {
                    format!("max-age={max_age}")
                };
                let url = Url::parse(&format!("https://{h}/")).unwrap();
                let got = store.note_at(&url, [value], Transport::Secure, now);
                let want = model.note(
                    Row {
                        host: h,
                        site,
                        isd: *isd,
                        observed: now,
                        expires: now + Duration::seconds(*max_age as i64),
                        days: 1,
                        last_day: day(now),
                        class: 0,
                    },
                    *max_age,
                    now,
                );
                prop_assert_eq!(got, want);
            }
            Op::Advance(s) => now += Duration::seconds(*s),
            Op::AdvanceDays(d) => now += Duration::days(*d),
            Op::Lookup { sub, site } => {
                let h = host(sub, site);
                let got = store.is_known_at(&h, now).unwrap();
                prop_assert_eq!(got, model.lookup(&h, now));
            }
            Op::Remove { sub, site } => {
                let h = host(sub, site);
                let got = store.remove_at(&h, now).unwrap().is_some();
                let want = model.pos(&h).map(|i| model.rows.remove(i)).is_some();
                prop_assert_eq!(got, want);
            }
            Op::ClearSite(site) => {
                let got = store.clear_site_at(site, now).unwrap();
                let before = model.rows.len();
                model.rows.retain(|r| r.site != *site);
                prop_assert_eq!(got, before - model.rows.len());
            }
            Op::Purge => {
                let got = store.purge_expired_at(now);
                let before = model.rows.len();
                model.rows.retain(|r| now <= r.expires);
                prop_assert_eq!(got, before - model.rows.len());
            }
        }
        let mut have: Vec<(String, bool, DateTime<Utc>, DateTime<Utc>)> = store
            .iter()
            .map(|e| {
                (
                    e.host.to_owned(),
                    e.include_subdomains,
                    e.observed,
                    e.expires,
                )
            })
            .collect();
        have.sort();
        let mut want: Vec<(String, bool, DateTime<Utc>, DateTime<Utc>)> = model
            .rows
            .iter()
            .map(|r| (r.host.clone(), r.isd, r.observed, r.expires))
            .collect();
        want.sort();
        prop_assert_eq!(have, want, "after {:?}", op);
        prop_assert!(store.len() <= CAPACITY);
        prop_assert!(store.tombstones().count() <= 2 * CAPACITY);
        for r in &model.rows {
            prop_assert_eq!(store.get_str(&r.host).map(|e| e.observed), Some(r.observed));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn bounded_store_follows_its_written_policy(ops in prop::collection::vec(gen_op(), 1..=80)) {
        run(&ops)?;
    }
}

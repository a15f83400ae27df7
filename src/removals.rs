//! Remembered removals ("tombstones"): which hosts were removed (by
//! `max-age=0` or a forget) and when, so that merging with a store file that
//! another process wrote lets a newer removal win over an older entry. The
//! bound comes from [`Limits`](crate::bounds::Limits).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::bounds::Limits;

/// Hosts removed and when, bounded. Each is remembered under its key and
/// its partition, joined by a space (which no key holds): `key` outside
/// partitions, `key partition` in one.
#[derive(Debug, Clone, Default)]
pub(crate) struct Removals {
    by_host: HashMap<Box<str>, DateTime<Utc>>,
}

/// The map key of `host` in partition `part`.
fn joined<'a>(part: &str, host: &'a str) -> std::borrow::Cow<'a, str> {
    if part.is_empty() {
        host.into()
    } else {
        format!("{host} {part}").into()
    }
}

/// `(partition, key)` of a map key.
fn split(k: &str) -> (&str, &str) {
    match k.split_once(' ') {
        Some((host, part)) => (part, host),
        None => ("", k),
    }
}

impl Removals {
    /// Remembers that `host` was removed at `at`, keeping the newest time.
    /// When [`Limits::removals_held`] are held, only the newest
    /// [`Limits::removals_kept_on_trim`] stay before this one is added.
    pub(crate) fn record(&mut self, part: &str, host: &str, at: DateTime<Utc>, limits: Limits) {
        let host = joined(part, host);
        if let Some(t) = self.by_host.get_mut(&*host) {
            *t = (*t).max(at);
            return;
        }
        if self.by_host.len() >= limits.removals_held() {
            self.trim(limits.removals_kept_on_trim());
        }
        self.by_host.insert(host.into_owned().into(), at);
    }

    /// Keeps only the `keep` newest removals.
    fn trim(&mut self, keep: usize) {
        let mut all: Vec<(Box<str>, DateTime<Utc>)> = self.by_host.drain().collect();
        if keep < all.len() {
            all.select_nth_unstable_by(keep, |a, b| b.1.cmp(&a.1));
            all.truncate(keep);
        }
        self.by_host.extend(all);
    }

    /// Forgets the removal of `host` (it was noted again).
    pub(crate) fn forget(&mut self, part: &str, host: &str) {
        if !self.by_host.is_empty() {
            self.by_host.remove(&*joined(part, host));
        }
    }

    /// When `host` was last removed, if that is remembered.
    pub(crate) fn get(&self, part: &str, host: &str) -> Option<DateTime<Utc>> {
        if self.by_host.is_empty() {
            return None;
        }
        self.by_host.get(&*joined(part, host)).copied()
    }

    /// Every remembered removal as `(partition, key, when)`, in no
    /// particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str, DateTime<Utc>)> + '_ {
        self.by_host.iter().map(|(k, t)| {
            let (part, host) = split(k);
            (part, host, *t)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn newest_time_wins_and_the_bound_keeps_the_newest() {
        let t = |s| Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap();
        let limits = Limits::new(2, 64);
        let mut r = Removals::default();
        r.record("", "a.example", t(5), limits);
        r.record("", "a.example", t(3), limits);
        assert_eq!(r.get("", "a.example"), Some(t(5)));
        for (i, h) in ["b.example", "c.example", "d.example"].iter().enumerate() {
            r.record("", h, t(10 + i as i64), limits);
        }
        // Four held: the next one trims to the newest two first.
        r.record("", "e.example", t(20), limits);
        let mut hosts: Vec<&str> = r.iter().map(|(_, h, _)| h).collect();
        hosts.sort();
        assert_eq!(hosts, ["c.example", "d.example", "e.example"]);
        r.forget("", "e.example");
        assert_eq!(r.get("", "e.example"), None);
    }

    #[test]
    fn partitions_are_remembered_apart() {
        let t = |s: i64| Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap();
        let limits = Limits::new(100, 64);
        let mut r = Removals::default();
        r.record("news.example", "a.example", t(1), limits);
        assert_eq!(r.get("", "a.example"), None);
        assert_eq!(r.get("news.example", "a.example"), Some(t(1)));
        let all: Vec<_> = r.iter().collect();
        assert_eq!(all, [("news.example", "a.example", t(1))]);
    }
}

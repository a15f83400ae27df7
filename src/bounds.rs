//! The indexes that keep a store bounded: by observation time (for
//! eviction when the store is full) and by site (for the per-site quota).
//!
//! Policy, written down in DESIGN.md ("Bounded and flush-resistant"):
//! - a new host of a site that already holds `per_site_quota` entries
//!   replaces that site's least recently observed entry, never another
//!   site's;
//! - a new host in a store holding `capacity` entries evicts, among the
//!   [`EVICTION_WINDOW`] least recently observed entries, the one that
//!   expires soonest.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use crate::psl::SuffixList;
use crate::store::Entry;

/// How many of the least recently observed entries are weighed on eviction.
pub const EVICTION_WINDOW: usize = 8;

type Key = (DateTime<Utc>, Box<str>);

/// The hosts of one site with their observation times.
type SiteHosts = Vec<(DateTime<Utc>, Box<str>)>;

/// Secondary indexes over a store's entries.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bounds {
    by_observed: BTreeSet<Key>,
    /// Per site, its hosts with their observation times. A site holds at
    /// most its quota (64 by default), so a short vector beats a tree.
    by_site: HashMap<Box<str>, SiteHosts>,
}

/// The site (eTLD+1) of a canonical host, or the host itself when it has none.
pub(crate) fn site_of(host: &str) -> Box<str> {
    SuffixList::builtin()
        .site(host)
        .map(String::into_boxed_str)
        .unwrap_or_else(|| host.into())
}

impl Bounds {
    /// Indexes an entry of `site`.
    pub fn add(&mut self, e: &Entry, site: Box<str>) {
        let host: Box<str> = e.host.as_str().into();
        self.by_site
            .entry(site)
            .or_default()
            .push((e.observed, host.clone()));
        self.by_observed.insert((e.observed, host));
    }

    /// Drops an entry of `site` from the indexes.
    pub fn remove(&mut self, e: &Entry, site: &str) {
        self.by_observed
            .remove(&(e.observed, e.host.as_str().into()));
        if let Some(hosts) = self.by_site.get_mut(site) {
            if let Some(i) = hosts.iter().position(|(_, h)| **h == *e.host) {
                hosts.swap_remove(i);
            }
            if hosts.is_empty() {
                self.by_site.remove(site);
            }
        }
    }

    /// The number of entries of `site`, and its least recently observed host.
    pub fn site_load(&self, site: &str) -> (usize, Option<&str>) {
        match self.by_site.get(site) {
            Some(hosts) => (hosts.len(), hosts.iter().min().map(|(_, h)| &**h)),
            None => (0, None),
        }
    }

    /// The entry to evict when the store is full.
    pub fn victim<'a>(&'a self, entries: &HashMap<String, Entry>) -> Option<&'a str> {
        self.by_observed
            .iter()
            .take(EVICTION_WINDOW)
            .min_by_key(|(observed, host)| (entries.get(&**host).map(|e| e.expires), *observed))
            .map(|(_, h)| &**h)
    }
}

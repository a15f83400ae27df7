//! The settings of a store: [`StoreConfig`] and the preload list it
//! consults ([`PreloadSource`]).

use std::sync::Arc;

use chrono::Duration;

use crate::bounds;
use crate::context::AcceptFrom;
use crate::preload::PreloadList;
use crate::psl::SuffixSource;

/// Which compiled preload list a store consults besides its dynamic entries.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum PreloadSource {
    /// The list built into this crate (Chromium's), the default.
    #[default]
    Builtin,
    /// No preload list: only dynamic entries count.
    Off,
    /// A list loaded at run time, for example a newer one.
    List(Arc<PreloadList>),
}

impl PreloadSource {
    /// The list, if any.
    pub fn list(&self) -> Option<&PreloadList> {
        match self {
            PreloadSource::Builtin => Some(PreloadList::builtin()),
            PreloadSource::Off => None,
            PreloadSource::List(l) => Some(l),
        }
    }
}

impl PartialEq for PreloadSource {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (PreloadSource::Builtin, PreloadSource::Builtin)
            | (PreloadSource::Off, PreloadSource::Off) => true,
            (PreloadSource::List(a), PreloadSource::List(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for PreloadSource {}

impl std::fmt::Debug for PreloadSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PreloadSource::Builtin => f.write_str("Builtin"),
            PreloadSource::Off => f.write_str("Off"),
            PreloadSource::List(l) => f.debug_tuple("List").field(l).finish(),
        }
    }
}

/// Settings of a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// Cap applied to every noted max-age, in seconds. `None` (the default)
    /// keeps the value as sent; Chromium caps at one year.
    pub max_age_cap: Option<u64>,
    /// Never note and never match `localhost` and `*.localhost` (default
    /// `true`, as Fetch and Chromium do).
    pub exempt_localhost: bool,
    /// The preload list consulted on every lookup (default: the built-in one).
    pub preload: PreloadSource,
    /// Once the preload list is older than this, it is no longer trusted and
    /// only dynamic entries count. `None` (the default) trusts it forever;
    /// Chromium stops after 70 days, Firefox after 18 weeks.
    pub preload_max_staleness: Option<Duration>,
    /// The most dynamic entries the store holds (default 100,000; at most
    /// [`MAX_CAPACITY`](crate::MAX_CAPACITY), 8,000,000, and larger
    /// values count as that). When it is full, a new host evicts, among the
    /// least recently observed entries, the one that expires soonest. It
    /// also bounds the remembered removals (at most
    /// [`MAX_CAPACITY`](crate::MAX_CAPACITY) in all).
    pub capacity: usize,
    /// The most dynamic entries one site (registrable domain, eTLD+1) may
    /// hold (default 64). A new host beyond it replaces the site's least
    /// recently observed entry, never another site's: a tracker cannot
    /// flush the store or encode an identifier in thousands of subdomains.
    pub per_site_quota: usize,
    /// The Public Suffix List that groups hosts into sites (default: the
    /// built-in one).
    pub suffix_list: SuffixSource,
    /// Who may set HSTS through a subresource response (default
    /// [`AcceptFrom::Any`], RFC 6797). Applies to notes made through
    /// [`HstsStore::in_context`](crate::HstsStore::in_context); the
    /// context-free calls are top-level navigations, always first-party.
    pub accept_from: AcceptFrom,
    /// Dynamic entries upgrade top-level navigations only; preloaded hosts
    /// upgrade every request (default `false`; Chromium's
    /// `kHstsTopLevelNavigationsOnly`). A tracker can still set entries but
    /// cannot read them back through subresource loads.
    pub navigations_only: bool,
    /// Partitions dynamic state by top-level site (default `false`; Firefox
    /// with network partitioning, Brave): an entry noted while the user is
    /// on site A is seen only by requests made from site A's pages. The
    /// preload list, which cannot carry per-user bits, is seen everywhere.
    /// A request without a page (the context-free calls, a top-level
    /// navigation) is in the partition of its own host's site. Entries
    /// noted before the switch was turned on stay outside any partition.
    pub partition: bool,
}

impl StoreConfig {
    /// [`StoreConfig::capacity`] as applied: within `1..=MAX_CAPACITY`.
    pub fn capacity_in_force(&self) -> usize {
        bounds::capacity_in_force(self.capacity)
    }

    /// The capacity and quota as applied.
    pub(crate) fn limits(&self) -> bounds::Limits {
        bounds::Limits::new(self.capacity, self.per_site_quota)
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            max_age_cap: None,
            exempt_localhost: true,
            preload: PreloadSource::Builtin,
            preload_max_staleness: None,
            capacity: 100_000,
            per_site_quota: 64,
            suffix_list: SuffixSource::Builtin,
            accept_from: AcceptFrom::Any,
            navigations_only: false,
            partition: false,
        }
    }
}

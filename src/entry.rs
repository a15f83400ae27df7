//! What the store holds and what a lookup answers: [`Entry`] (owned),
//! [`EntryRef`] (borrowed from the store), [`Match`] and its [`Source`].

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::host::{CanonicalHost, HostError};

/// One known HSTS host learned from a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The canonical host name.
    pub host: String,
    /// Whether the policy covers subdomains (§6.1.2).
    pub include_subdomains: bool,
    /// When the policy was received.
    pub observed: DateTime<Utc>,
    /// When it lapses: `observed + max-age`, saturated at the largest instant.
    pub expires: DateTime<Utc>,
}

impl Entry {
    /// RFC 6797 §8.1.1: an entry is expired once its expiry date is in the
    /// past. At exactly `expires` it is still live.
    pub fn is_live_at(&self, now: DateTime<Utc>) -> bool {
        now <= self.expires
    }

    /// A borrowed view of this entry.
    pub fn as_ref(&self) -> EntryRef<'_> {
        EntryRef {
            host: &self.host,
            partition: None,
            include_subdomains: self.include_subdomains,
            observed: self.observed,
            expires: self.expires,
        }
    }
}

/// An entry as the store holds it, borrowed: what
/// [`HstsStore::iter`](crate::HstsStore::iter) and
/// [`HstsStore::get`](crate::HstsStore::get) yield. The store keeps names in one arena rather than
/// one `String` each; [`EntryRef::to_entry`] makes an owned copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef<'a> {
    /// The canonical host name; in a store with hashed hosts, the keyed
    /// hash that stands for it (see [`HstsStore::hashed`](crate::HstsStore::hashed)).
    pub host: &'a str,
    /// In a partitioned store, the top-level site whose partition holds
    /// the entry (hashed too in a store with hashed hosts); `None` outside
    /// partitions. [`EntryRef::to_entry`] leaves it out.
    pub partition: Option<&'a str>,
    /// Whether the policy covers subdomains (§6.1.2).
    pub include_subdomains: bool,
    /// When the policy was received.
    pub observed: DateTime<Utc>,
    /// When it lapses: `observed + max-age`, saturated at the largest instant.
    pub expires: DateTime<Utc>,
}

impl EntryRef<'_> {
    /// See [`Entry::is_live_at`].
    pub fn is_live_at(&self, now: DateTime<Utc>) -> bool {
        now <= self.expires
    }

    /// An owned copy.
    pub fn to_entry(&self) -> Entry {
        Entry {
            host: self.host.to_owned(),
            include_subdomains: self.include_subdomains,
            observed: self.observed,
            expires: self.expires,
        }
    }
}

/// Where a match came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Source {
    /// Learned from a `Strict-Transport-Security` response header.
    Dynamic,
    /// From the compiled preload list.
    Preload,
}

impl Source {
    /// `"dynamic"` or `"preload"`, as the CLI prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Dynamic => "dynamic",
            Source::Preload => "preload",
        }
    }
}

/// The entry that makes a host a known HSTS host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The host of the matching entry: the queried host itself (a congruent
    /// match) or one of its superdomains.
    pub host: String,
    /// Whether that entry asserts includeSubDomains.
    pub include_subdomains: bool,
    /// When the entry expires; `None` for preload entries, which do not.
    pub expires: Option<DateTime<Utc>>,
    /// Which source matched.
    pub source: Source,
}

/// `observed + max_age`, saturated at the largest representable instant.
pub(crate) fn expiry(observed: DateTime<Utc>, max_age: u64) -> DateTime<Utc> {
    i64::try_from(max_age)
        .ok()
        .and_then(Duration::try_seconds)
        .and_then(|d| observed.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Write dampening. Firefox rewrites an entry only when its state or
/// includeSubDomains changes or its expiry moves by more than a day; so does
/// the store, with one guard of its own: an entry that lapses within a day
/// is always renewed, so that a short max-age sent on every response (say
/// 600 seconds) keeps the host known instead of lapsing. The stored expiry
/// thus trails the RFC's by less than a day, and only while more than a day
/// of it remains.
pub(crate) fn dampened(
    old: EntryRef<'_>,
    include_subdomains: bool,
    expires: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    let day = Duration::days(1);
    old.include_subdomains == include_subdomains
        && old.expires.signed_duration_since(now) > day
        && (expires.signed_duration_since(old.expires)).abs() < day
}

/// The [`Match`] a dynamic entry makes.
pub(crate) fn dynamic_match(e: EntryRef<'_>) -> Match {
    Match {
        host: e.host.to_owned(),
        include_subdomains: e.include_subdomains,
        expires: Some(e.expires),
        source: Source::Dynamic,
    }
}

/// The one validity rule for a dynamic entry, wherever it comes from (a
/// store file, a JSON or curl import, [`HstsStore::insert_entry`]) and
/// wherever it goes (encoding): a record is valid iff
///
/// - its host is a canonical domain name, or canonicalises to one (not an
///   IP literal, not an invalid name);
/// - both times are representable in whole seconds within the store
///   file's `i64` range (every `DateTime<Utc>` is; checked all the same so
///   that what is accepted here is exactly what decoding accepts);
/// - it does not expire before it was observed, compared at the file's
///   precision of whole seconds (`expires.timestamp() >=
///   observed.timestamp()`), so that what memory accepts the file keeps.
///
/// Returns the host in canonical form.
///
/// [`HstsStore::insert_entry`]: crate::HstsStore::insert_entry
pub(crate) fn check_record(
    host: &str,
    observed: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<CanonicalHost, EntryProblem> {
    let host = CanonicalHost::new(host)?;
    for (field, t) in [("observed", observed), ("expiry", expires)] {
        if DateTime::<Utc>::from_timestamp(t.timestamp(), 0).is_none() {
            return Err(EntryProblem::TimeOutOfRange {
                field,
                secs: t.timestamp(),
            });
        }
    }
    if expires.timestamp() < observed.timestamp() {
        return Err(EntryProblem::ExpiresBeforeObserved);
    }
    Ok(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_validity_rule() {
        let t = |s: i64, ns: u32| Utc.timestamp_opt(1_800_000_000 + s, ns).unwrap();
        assert_eq!(
            check_record("A.Example.", t(0, 0), t(0, 0))
                .unwrap()
                .as_str(),
            "a.example"
        );
        assert!(matches!(
            check_record("1.2.3.4", t(0, 0), t(1, 0)),
            Err(EntryProblem::Host(_))
        ));
        assert_eq!(
            check_record("a.example", t(1, 0), t(0, 0)),
            Err(EntryProblem::ExpiresBeforeObserved)
        );
        // Within one second, at the file's precision, the order is equal.
        assert!(check_record("a.example", t(0, 900), t(0, 100)).is_ok());
        assert!(check_record(
            "a.example",
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC
        )
        .is_ok());
    }
}

/// Why a record is not a valid entry (the one validity rule: a canonical
/// domain name, `expires >= observed`, both in whole seconds of the store
/// file's range): for a store file's entry, an import, or
/// [`HstsStore::insert_entry`](crate::HstsStore::insert_entry).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryProblem {
    /// The name is not a valid host name (or is an IP literal).
    #[error(transparent)]
    Host(#[from] HostError),
    /// The entry expires before it was observed.
    #[error("expiry before observation")]
    ExpiresBeforeObserved,
    /// A time of the entry is not representable in whole seconds within
    /// the store file's range.
    #[error("{field} time {secs} out of range")]
    TimeOutOfRange {
        /// Which time: "observed" or "expiry".
        field: &'static str,
        /// The time, in unix seconds.
        secs: i64,
    },
}

//! What an import did: [`ImportReport`], with each entry it left out
//! ([`SkipReason`]) and each curl line it could not take ([`CurlProblem`]).

use std::net::IpAddr;

use crate::{EntryProblem, HostError};

/// What an import did. Every entry read is counted once among `added`,
/// `updated`, `expired`, `skipped`, or (if the capacity or the per-site
/// quota pushed it out again) `evicted`; `evicted` also counts the entries
/// that were in the store before and are no longer there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Entries (or entry lines) the file held.
    pub read: usize,
    /// Hosts that were not in the store and are now.
    pub added: usize,
    /// Hosts that were in the store and whose entry was replaced.
    pub updated: usize,
    /// Entries left out because they had already expired at `now`.
    pub expired: usize,
    /// Lines (or entries) left out: `(line, why)`. The line is 1-based in
    /// a curl file; for any other entry, it is the entry's 1-based
    /// position among the entries read.
    pub skipped: Vec<(usize, SkipReason)>,
    /// Entries gone because of the capacity or the per-site quota: ones
    /// the store held before and imported ones pushed out by later
    /// imported ones (or, in a binary file larger than the limits, left
    /// out when decoding it).
    pub evicted: usize,
}

impl ImportReport {
    /// How many imported entries the store now holds: `added + updated`.
    pub fn imported(&self) -> usize {
        self.added + self.updated
    }
}

/// Why an import left a line or an entry out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SkipReason {
    /// The line of a curl file cannot be taken.
    #[error(transparent)]
    Curl(CurlProblem),
    /// The store refused the entry.
    #[error("{host}: {source}")]
    Refused {
        /// The host of the entry.
        host: String,
        /// Why the store refused it.
        source: HostError,
    },
    /// The entry of a store file is in a partition, which an import (into
    /// no partition) would join with everything else.
    #[error("{host}: in the partition of {partition}, not imported")]
    Partitioned {
        /// The host of the entry.
        host: String,
        /// Its partition's top-level site.
        partition: String,
    },
    /// The entry breaks the validity rule (see [`EntryProblem`]): a bad
    /// name, an IP literal, an expiry before the observation.
    #[error("{host}: {problem}")]
    Invalid {
        /// The host of the entry, as found.
        host: String,
        /// What is wrong with it.
        problem: EntryProblem,
    },
    /// The file holds another entry for the same host observed later (or
    /// as late, further on); that one is imported instead.
    #[error("{host}: superseded by a later entry for the same host")]
    Duplicate {
        /// The canonical host.
        host: String,
    },
}

/// What is wrong with one line of a curl HSTS cache file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CurlProblem {
    /// The line is not UTF-8: the file is not a curl HSTS file.
    #[error("not UTF-8 text: not a curl HSTS file")]
    NotUtf8,
    /// The line is longer than any entry can be.
    #[error("line longer than {limit} bytes")]
    TooLong {
        /// The longest line taken.
        limit: usize,
    },
    /// No space between the host and the expiry.
    #[error("expected `host \"YYYYMMDD HH:MM:SS\"`")]
    Syntax,
    /// The expiry is not in double quotes.
    #[error("the expiry must be in double quotes")]
    Unquoted,
    /// The host ends in a dot.
    #[error("host {0:?} has a trailing dot: ambiguous, skipped")]
    TrailingDot(String),
    /// The host is an IP literal.
    #[error("{0} is an IP literal: never an HSTS host")]
    IpLiteral(IpAddr),
    /// The host is not a valid host name.
    #[error("invalid host {host:?}: {source}")]
    InvalidHost {
        /// The host as found.
        host: String,
        /// Why it was refused.
        source: HostError,
    },
    /// The expiry is not a date of the form `YYYYMMDD HH:MM:SS`.
    #[error("bad date {stamp:?}: {source}")]
    BadDate {
        /// The expiry as found.
        stamp: String,
        /// Why it was refused.
        source: chrono::ParseError,
    },
    /// The entry has already expired.
    #[error("expired at {0}")]
    Expired(String),
}

//! What a compilation reports: the entries taken, the names left out and
//! why, and the error for a table over one of the format's limits.

use crate::preload::error::PreloadError;

/// Why a name of the source list was left out of the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SkipReason {
    /// An IP literal such as `1.0.0.1`: IP hosts are never HSTS hosts
    /// (RFC 6797 §8.1.1, §8.3), so the entry could never match.
    #[error("IP literal: IP hosts are never HSTS hosts")]
    IpLiteral,
    /// Not a valid host name.
    #[error("invalid name: {0}")]
    InvalidName(String),
    /// A character the table cannot hold (outside `[a-z0-9-.]` after
    /// canonicalisation, such as `_`).
    #[error("character outside [a-z0-9-.]")]
    UnsupportedCharacter,
}

/// What a compilation did: the entries taken and the ones left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompileReport {
    pub(super) entries: usize,
    pub(super) not_force_https: usize,
    pub(super) skipped: Vec<(String, SkipReason)>,
}

impl CompileReport {
    /// The number of names in the table.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// Entries whose mode is not `force-https` (not imported).
    pub fn not_force_https(&self) -> usize {
        self.not_force_https
    }

    /// Names that were left out, with the reason, in source order.
    pub fn skipped_names(&self) -> impl Iterator<Item = (&str, &SkipReason)> {
        self.skipped.iter().map(|(n, r)| (n.as_str(), r))
    }
}

/// `what` is `len`, over the format's `limit`.
pub(super) fn too_large(what: &'static str, len: impl TryInto<u64>, limit: u64) -> PreloadError {
    PreloadError::TooLarge {
        what,
        len: len.try_into().unwrap_or(u64::MAX),
        limit,
    }
}

/// `v` as a `u32` header field, or [`PreloadError::TooLarge`].
pub(super) fn fit_u32(
    what: &'static str,
    v: impl TryInto<u32> + TryInto<u64> + Copy,
) -> Result<u32, PreloadError> {
    TryInto::<u32>::try_into(v).map_err(|_| too_large(what, v, u64::from(u32::MAX)))
}

//! What a store keys its entries by: the canonical host name, or, in a
//! store with hashed hosts, a keyed hash of it that no one can turn back
//! into the name without guessing it.
//!
//! A hashed key is `H(host) "." H(site)`: 32 lowercase hex digits for the
//! host, a dot, 32 for its site (eTLD+1), where `H(x)` is the first 128
//! bits of SHA-256 over the store's 16-byte random salt followed by `x`.
//! Keeping the site's hash after the dot lets the per-site quota, clearing
//! by site and partitions work without the names; the salt, kept in the
//! store file, makes the hashes of two stores unrelated, so they cannot be
//! joined, and makes precomputed tables of hashed names useless.
//! (Chromium's on-disk HSTS state keeps an unsalted SHA-256 per host.)

use std::borrow::Cow;
use std::fmt;

use sha2::{Digest, Sha256};

/// Bytes of salt.
pub(crate) const SALT_LEN: usize = 16;
/// Hex digits of one hashed name.
pub(crate) const HASH_HEX: usize = 32;

/// A store's salt: random, one per store file.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Salt(pub(crate) [u8; SALT_LEN]);

impl fmt::Debug for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The salt is not secret (it is in the file), but it has no place
        // in logs either.
        f.write_str("Salt(..)")
    }
}

/// Why a salt could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct RandomError(String);

impl Salt {
    /// A fresh salt from the operating system's random source.
    pub(crate) fn random() -> Result<Salt, RandomError> {
        let mut b = [0u8; SALT_LEN];
        getrandom::fill(&mut b).map_err(|e| RandomError(e.to_string()))?;
        Ok(Salt(b))
    }
}

/// How a store keys its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Keys {
    /// By canonical name.
    #[default]
    Plain,
    /// By keyed hash.
    Hashed(Salt),
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl Keys {
    /// Whether names are hashed.
    pub(crate) fn is_hashed(&self) -> bool {
        matches!(self, Keys::Hashed(_))
    }

    /// The salt, when names are hashed.
    pub(crate) fn salt(&self) -> Option<Salt> {
        match self {
            Keys::Plain => None,
            Keys::Hashed(s) => Some(*s),
        }
    }

    /// The key of a site (or of a partition's top-level site).
    pub(crate) fn site_key<'a>(&self, site: &'a str) -> Cow<'a, str> {
        match self {
            Keys::Plain => Cow::Borrowed(site),
            Keys::Hashed(salt) => {
                let mut out = String::with_capacity(HASH_HEX);
                push_hash(&mut out, salt, site);
                Cow::Owned(out)
            }
        }
    }

    /// The key of a canonical host whose site is `site` (a suffix of
    /// `host`, or `host` itself).
    pub(crate) fn host_key<'a>(&self, host: &'a str, site: &str) -> Cow<'a, str> {
        match self {
            Keys::Plain => Cow::Borrowed(host),
            Keys::Hashed(salt) => {
                let mut out = String::with_capacity(2 * HASH_HEX + 1);
                push_hash(&mut out, salt, host);
                out.push('.');
                push_hash(&mut out, salt, site);
                Cow::Owned(out)
            }
        }
    }

    /// [`Keys::host_key`] with the site's key already made (lookups hash
    /// the site once for every candidate superdomain).
    pub(crate) fn host_key_with_site<'a>(&self, host: &'a str, site_key: &str) -> Cow<'a, str> {
        match self {
            Keys::Plain => Cow::Borrowed(host),
            Keys::Hashed(salt) => {
                let mut out = String::with_capacity(2 * HASH_HEX + 1);
                push_hash(&mut out, salt, host);
                out.push('.');
                out.push_str(site_key);
                Cow::Owned(out)
            }
        }
    }

    /// Whether `key` has the shape of this store's keys: for a hashed
    /// store, two hashes around a dot (a store file holding anything else
    /// under a hashed header would put names in memory).
    pub(crate) fn is_host_key(&self, key: &str) -> bool {
        match self {
            Keys::Plain => true,
            Keys::Hashed(_) => {
                key.len() == 2 * HASH_HEX + 1
                    && key.as_bytes()[HASH_HEX] == b'.'
                    && is_hash(&key[..HASH_HEX])
                    && is_hash(&key[HASH_HEX + 1..])
            }
        }
    }

    /// Whether `key` has the shape of this store's partition keys (empty:
    /// no partition).
    pub(crate) fn is_partition_key(&self, key: &str) -> bool {
        match self {
            Keys::Plain => true,
            Keys::Hashed(_) => key.is_empty() || is_hash(key),
        }
    }
}

/// 32 lowercase hex digits.
fn is_hash(s: &str) -> bool {
    s.len() == HASH_HEX && s.bytes().all(|b| HEX.contains(&b))
}

/// Appends the hex of the first 128 bits of SHA-256(salt || name).
fn push_hash(out: &mut String, salt: &Salt, name: &str) {
    let mut h = Sha256::new();
    h.update(salt.0);
    h.update(name.as_bytes());
    let d = h.finalize();
    for b in &d[..HASH_HEX / 2] {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_keys_have_their_shape_and_depend_on_the_salt() {
        let a = Keys::Hashed(Salt([1; SALT_LEN]));
        let b = Keys::Hashed(Salt([2; SALT_LEN]));
        let k = a.host_key("www.example.com", "example.com");
        assert!(a.is_host_key(&k), "{k}");
        assert!(!k.contains("example"));
        assert_eq!(&k[HASH_HEX + 1..], a.site_key("example.com"));
        assert_eq!(
            a.host_key_with_site("www.example.com", &a.site_key("example.com")),
            k
        );
        assert_ne!(b.host_key("www.example.com", "example.com"), k);
        assert!(!a.is_host_key("www.example.com"));
        assert!(a.is_partition_key("") && !a.is_partition_key("news.example"));
        assert_eq!(Keys::Plain.host_key("a.example", "a.example"), "a.example");
        assert_ne!(Salt::random().unwrap(), Salt::random().unwrap());
    }
}

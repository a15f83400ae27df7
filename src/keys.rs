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
    pub(crate) fn site_key<'a>(&self, site: &'a str) -> Key<'a> {
        match self {
            Keys::Plain => Key::Plain(Cow::Borrowed(site)),
            Keys::Hashed(salt) => {
                let mut buf = [0; KEY_LEN];
                buf[..HASH_HEX].copy_from_slice(&hash_hex(salt, site));
                Key::Hashed { buf, len: HASH_HEX }
            }
        }
    }

    /// The key of a canonical host whose site is `site` (a suffix of
    /// `host`, or `host` itself).
    pub(crate) fn host_key<'a>(&self, host: &'a str, site: &str) -> Key<'a> {
        self.host_key_with_site(host, &self.site_key(site))
    }

    /// [`Keys::host_key`] with the site's key (from [`Keys::site_key`])
    /// already made: lookups hash the site once for every candidate
    /// superdomain.
    pub(crate) fn host_key_with_site<'a>(&self, host: &'a str, site_key: &Key<'_>) -> Key<'a> {
        let Keys::Hashed(salt) = self else {
            return Key::Plain(Cow::Borrowed(host));
        };
        let mut buf = [0; KEY_LEN];
        buf[..HASH_HEX].copy_from_slice(&hash_hex(salt, host));
        buf[HASH_HEX] = b'.';
        let site = match site_key {
            Key::Hashed { buf: site, .. } => &site[..HASH_HEX],
            // A site key made by plain keys: hashed here, never kept.
            Key::Plain(site) => &hash_hex(salt, site)[..],
        };
        buf[HASH_HEX + 1..].copy_from_slice(site);
        Key::Hashed { buf, len: KEY_LEN }
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

/// The hex of the first 128 bits of SHA-256(salt || name).
fn hash_hex(salt: &Salt, name: &str) -> [u8; HASH_HEX] {
    let mut h = Sha256::new();
    h.update(salt.0);
    h.update(name.as_bytes());
    let d = h.finalize();
    let mut out = [0; HASH_HEX];
    for (pair, b) in out.chunks_exact_mut(2).zip(&d[..HASH_HEX / 2]) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 15)];
    }
    out
}

/// Bytes of a hashed host key: two hashes around a dot.
const KEY_LEN: usize = 2 * HASH_HEX + 1;

/// A key as the table holds it: the name itself in a plain store, or in a
/// hashed store a fixed-length hex key held inline, so that making one
/// (each candidate of a lookup does) allocates nothing.
#[derive(Debug, Clone)]
pub(crate) enum Key<'a> {
    /// The name (a plain store).
    Plain(Cow<'a, str>),
    /// Hex digits, and a dot in a host key: the first `len` bytes.
    Hashed {
        /// The key's bytes, then zeros.
        buf: [u8; KEY_LEN],
        /// How many of them are the key (`HASH_HEX` or `KEY_LEN`).
        len: usize,
    },
}

impl Key<'_> {
    /// The key, as text.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Key::Plain(name) => name,
            // Hex digits and a dot: always UTF-8.
            Key::Hashed { buf, len } => std::str::from_utf8(&buf[..*len]).unwrap_or_default(),
        }
    }
}

impl std::ops::Deref for Key<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Key<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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
        assert_eq!(&k[HASH_HEX + 1..], &*a.site_key("example.com"));
        assert!(a.is_partition_key(&a.site_key("example.com")));
        assert_eq!(
            &*a.host_key_with_site("www.example.com", &a.site_key("example.com")),
            &*k
        );
        assert_ne!(&*b.host_key("www.example.com", "example.com"), &*k);
        assert!(!a.is_host_key("www.example.com"));
        assert!(a.is_partition_key("") && !a.is_partition_key("news.example"));
        assert_eq!(
            &*Keys::Plain.host_key("a.example", "a.example"),
            "a.example"
        );
        // A plain site key given to hashed keys is hashed, never kept.
        let plain_site = Keys::Plain.site_key("example.com");
        assert_eq!(&*a.host_key_with_site("www.example.com", &plain_site), &*k);
        // The hash is the first 128 bits of SHA-256(salt || name), in hex.
        let mut h = Sha256::new();
        h.update([1; SALT_LEN]);
        h.update(b"example.com");
        let want: String = h.finalize()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(&*a.site_key("example.com"), want);
        assert_ne!(Salt::random().unwrap(), Salt::random().unwrap());
    }
}

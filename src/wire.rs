//! What the two binary formats (the store file and the compiled preload
//! table) share: the label at the front, the format version, reserved bytes
//! that must be zero, little-endian fields, CRC-32 checks, and reading a
//! file through a size limit. Each check is written once here, and each
//! failure has one name ([`WireError`]); the formats map it into their own
//! error types.

use std::fs::{Metadata, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

/// A failure of one of the shared checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WireError {
    /// Fewer bytes than needed.
    Truncated {
        /// Bytes present.
        len: u64,
        /// Bytes needed.
        needed: u64,
    },
    /// The bytes do not start with the format's label.
    BadMagic,
    /// A version this build does not read.
    UnsupportedVersion {
        /// The version found.
        found: u16,
        /// The version this build reads.
        supported: u16,
    },
    /// Reserved bytes that must be zero are not.
    ReservedNotZero,
    /// A CRC-32 does not match.
    Checksum {
        /// Which part was checked ("header", "body").
        part: &'static str,
        /// The checksum recorded.
        expected: u32,
        /// The checksum of the bytes present.
        actual: u32,
    },
    /// Bytes left over after the end the header announces.
    TrailingData(u64),
    /// Larger than the limit for this kind of input.
    TooLarge {
        /// Bytes present (at least; reading stops past the limit).
        len: u64,
        /// The limit.
        limit: u64,
    },
}

/// Checks that `bytes` start with `magic` and hold at least `header_len`
/// bytes. A prefix of the label is reported as truncated, not as foreign.
pub(crate) fn check_label(bytes: &[u8], magic: &[u8], header_len: usize) -> Result<(), WireError> {
    let truncated = WireError::Truncated {
        len: bytes.len() as u64,
        needed: header_len as u64,
    };
    if !bytes.starts_with(magic) {
        return Err(if !bytes.is_empty() && magic.starts_with(bytes) {
            truncated
        } else {
            WireError::BadMagic
        });
    }
    if bytes.len() < header_len {
        return Err(truncated);
    }
    Ok(())
}

/// Checks the little-endian version at `at` against the one this build reads.
pub(crate) fn check_version(bytes: &[u8], at: usize, supported: u16) -> Result<(), WireError> {
    let found = u16_at(bytes, at).ok_or(WireError::Truncated {
        len: bytes.len() as u64,
        needed: at as u64 + 2,
    })?;
    if found != supported {
        return Err(WireError::UnsupportedVersion { found, supported });
    }
    Ok(())
}

/// Checks that `bytes[range]` are all zero (missing bytes count as zero:
/// the length is checked elsewhere).
pub(crate) fn check_reserved(bytes: &[u8], range: std::ops::Range<usize>) -> Result<(), WireError> {
    match bytes.get(range) {
        Some(r) if r.iter().any(|&b| b != 0) => Err(WireError::ReservedNotZero),
        _ => Ok(()),
    }
}

/// Checks the CRC-32 of `data` against `expected`.
pub(crate) fn check_crc(part: &'static str, data: &[u8], expected: u32) -> Result<(), WireError> {
    let actual = crc32fast::hash(data);
    if actual != expected {
        return Err(WireError::Checksum {
            part,
            expected,
            actual,
        });
    }
    Ok(())
}

/// Checks that a body announced as `body_len` bytes after a header of
/// `header_len` bytes is exactly what `total` bytes hold.
pub(crate) fn check_length(
    total: usize,
    header_len: usize,
    body_len: u64,
) -> Result<(), WireError> {
    let needed = body_len.saturating_add(header_len as u64);
    let len = total as u64;
    if needed > len {
        return Err(WireError::Truncated { len, needed });
    }
    if needed < len {
        return Err(WireError::TrailingData(len - needed));
    }
    Ok(())
}

/// The little-endian `u16` at `at`, if the bytes are there.
pub(crate) fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

/// The little-endian `u32` at `at`, if the bytes are there.
#[inline]
pub(crate) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// The little-endian `u64` at `at`, if the bytes are there.
pub(crate) fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

/// Why a bounded read failed.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The operating system refused; `op` says what was being done.
    Io {
        /// "stat", "open" or "read".
        op: &'static str,
        /// The error.
        source: io::Error,
    },
    /// The path exists but is not a regular file (a FIFO would block, a
    /// device would never end); what it is.
    NotRegular(&'static str),
    /// The file is larger than the limit.
    TooLarge(WireError),
}

/// Opening flags: never block (a FIFO), and optionally never follow a link.
#[cfg(unix)]
pub(crate) fn special_flags(opts: &mut OpenOptions, nofollow: bool) {
    use rustix::fs::OFlags;
    use std::os::unix::fs::OpenOptionsExt;
    let mut flags = OFlags::NONBLOCK | OFlags::CLOEXEC;
    if nofollow {
        flags |= OFlags::NOFOLLOW;
    }
    opts.custom_flags(flags.bits() as i32);
}

/// Opening flags: nothing special where there is no `O_NONBLOCK`.
#[cfg(not(unix))]
pub(crate) fn special_flags(_: &mut OpenOptions, _: bool) {}

/// What `meta` is, for an error about something that is not a regular file.
pub(crate) fn kind_of(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    if t.is_symlink() {
        return "a symbolic link";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Reads a whole regular file of at most `limit` bytes; `Ok(None)` when it
/// does not exist. Anything else (a FIFO, a device, a directory) is refused
/// at once: it is checked before opening, opened without blocking, and the
/// opened handle is checked again (race-free). Never reads more than
/// `limit + 1` bytes, whatever the metadata claims, and never reserves
/// more than the limit.
pub(crate) fn read_bounded(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, ReadError> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => return Err(ReadError::NotRegular(kind_of(&m))),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(ReadError::Io { op: "stat", source }),
    }
    let mut open = OpenOptions::new();
    open.read(true);
    special_flags(&mut open, false);
    let f = match open.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(ReadError::Io { op: "open", source }),
    };
    let meta = f
        .metadata()
        .map_err(|source| ReadError::Io { op: "stat", source })?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind_of(&meta)));
    }
    let too_large = |len| ReadError::TooLarge(WireError::TooLarge { len, limit });
    if meta.len() > limit {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    f.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| ReadError::Io { op: "read", source })?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_version_reserved_length() {
        assert_eq!(check_label(b"", b"MAGC", 8), Err(WireError::BadMagic));
        assert_eq!(
            check_label(b"MA", b"MAGC", 8),
            Err(WireError::Truncated { len: 2, needed: 8 })
        );
        assert_eq!(
            check_label(b"XXXXXXXX", b"MAGC", 8),
            Err(WireError::BadMagic)
        );
        assert_eq!(
            check_label(b"MAGC12", b"MAGC", 8),
            Err(WireError::Truncated { len: 6, needed: 8 })
        );
        assert_eq!(check_label(b"MAGC1234", b"MAGC", 8), Ok(()));
        assert_eq!(
            check_version(&[0, 3, 0], 1, 2),
            Err(WireError::UnsupportedVersion {
                found: 3,
                supported: 2
            })
        );
        assert_eq!(check_version(&[0, 2, 0], 1, 2), Ok(()));
        assert_eq!(
            check_reserved(&[0, 1], 0..2),
            Err(WireError::ReservedNotZero)
        );
        assert_eq!(check_reserved(&[0, 0], 0..2), Ok(()));
        assert_eq!(
            check_length(10, 4, 7),
            Err(WireError::Truncated {
                len: 10,
                needed: 11
            })
        );
        assert_eq!(check_length(10, 4, 5), Err(WireError::TrailingData(1)));
        assert!(check_length(10, 4, u64::MAX).is_err());
        assert_eq!(check_length(10, 4, 6), Ok(()));
        assert!(matches!(
            check_crc("body", b"abc", 0),
            Err(WireError::Checksum { part: "body", .. })
        ));
        assert_eq!(check_crc("body", b"abc", crc32fast::hash(b"abc")), Ok(()));
    }

    #[test]
    fn bounded_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        assert!(read_bounded(&p, 4).unwrap().is_none());
        std::fs::write(&p, b"12345").unwrap();
        assert!(matches!(
            read_bounded(&p, 4),
            Err(ReadError::TooLarge(WireError::TooLarge {
                len: 5,
                limit: 4
            }))
        ));
        assert_eq!(read_bounded(&p, 5).unwrap().unwrap(), b"12345");
        assert!(matches!(
            read_bounded(dir.path(), 5),
            Err(ReadError::NotRegular("a directory"))
        ));
    }
}

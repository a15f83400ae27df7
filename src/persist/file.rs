//! The store file on disk: where a path really leads, the advisory lock,
//! the bounded read, the atomic write, and the sweep of temporary files a
//! crashed writer left behind.
//!
//! The directory of a store may be writable by others (a shared `/tmp`), so
//! nothing here trusts a name in it: temporary files are created exclusively
//! under a random name with mode 0600, the lock file is never a symbolic
//! link, and anything that is not a regular file is refused before it is
//! opened for long (a FIFO would block, a device would never end).

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::error::{io_err, PersistError, MAX_FILE_LEN};
use crate::wire::{self, ReadError};

/// How long [`save_with`](super::save_with) and
/// [`update_with`](super::update_with) wait for another process's lock on
/// the store file.
///
/// ```
/// use std::time::Duration;
/// use hsts::persist::LockOptions;
///
/// assert_eq!(LockOptions::default().timeout, LockOptions::DEFAULT_TIMEOUT);
/// let quick = LockOptions::with_timeout(Duration::from_millis(200));
/// assert_eq!(quick.timeout, Duration::from_millis(200));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LockOptions {
    /// Give up with [`PersistError::LockTimeout`] after waiting this long.
    /// Zero tries once.
    pub timeout: Duration,
}

impl LockOptions {
    /// The timeout of [`save`](super::save) and [`update`](super::update):
    /// five seconds.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

    /// Options that wait at most `timeout` for the lock.
    pub fn with_timeout(timeout: Duration) -> Self {
        LockOptions { timeout }
    }
}

impl Default for LockOptions {
    fn default() -> Self {
        LockOptions::with_timeout(Self::DEFAULT_TIMEOUT)
    }
}

/// The longest chain of symbolic links followed (Linux's own limit).
const MAX_LINKS: usize = 40;

/// Characters of randomness in a temporary file's name.
const TEMP_RAND_LEN: usize = 12;

/// An exclusive advisory lock on `FILE.lock`, released on drop.
pub(crate) struct LockGuard {
    _file: File,
}

fn not_regular(path: &Path, meta: &Metadata) -> PersistError {
    PersistError::NotARegularFile {
        path: path.to_owned(),
        kind: wire::kind_of(meta),
    }
}

/// May the symbolic link `link` (whose metadata is `meta`) be followed?
/// Mirrors Linux's `fs.protected_symlinks`: a link in a sticky
/// world-writable directory (`/tmp`) is followed only when it belongs to
/// us or to the directory's owner, so another user cannot point our store
/// (or an `export -o` file) at a file of ours. Resolving the link
/// ourselves would otherwise bypass the kernel's own check.
#[cfg(unix)]
fn may_follow(link: &Path, meta: &Metadata) -> Result<(), PersistError> {
    use std::os::unix::fs::MetadataExt;
    let dir = match link.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let dir_meta = std::fs::metadata(dir).map_err(io_err("stat", dir))?;
    let sticky_shared = dir_meta.mode() & 0o1002 == 0o1002;
    let me = rustix::process::geteuid().as_raw();
    if sticky_shared && meta.uid() != me && meta.uid() != dir_meta.uid() {
        return Err(PersistError::UntrustedSymlink {
            path: link.to_owned(),
            owner: meta.uid(),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn may_follow(_: &Path, _: &Metadata) -> Result<(), PersistError> {
    Ok(())
}

/// Follows the chain of symbolic links at `path` to the file it names (which
/// need not exist: a dangling link names the file to create), and refuses
/// anything there that is not a regular file. Returns the final path and,
/// when the file exists, its metadata.
pub(crate) fn resolve(path: &Path) -> Result<(PathBuf, Option<Metadata>), PersistError> {
    let mut current = path.to_owned();
    for _ in 0..=MAX_LINKS {
        let meta = match std::fs::symlink_metadata(&current) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((current, None)),
            Err(e) => return Err(io_err("stat", &current)(e)),
        };
        if meta.file_type().is_symlink() {
            may_follow(&current, &meta)?;
            let to = std::fs::read_link(&current).map_err(io_err("read link", &current))?;
            current = match current.parent() {
                Some(dir) if to.is_relative() => dir.join(to),
                _ => to,
            };
            continue;
        }
        if !meta.is_file() {
            return Err(not_regular(&current, &meta));
        }
        return Ok((current, Some(meta)));
    }
    Err(io_err("resolve", path)(io::Error::other(
        "too many levels of symbolic links",
    )))
}

/// Takes the exclusive advisory lock of the (resolved) store file `path`,
/// `FILE.lock` beside it, waiting at most `opts.timeout` for other holders.
/// The lock file is created with mode 0600 and is never a symbolic link,
/// a FIFO or a device.
pub(crate) fn lock(path: &Path, opts: &LockOptions) -> Result<LockGuard, PersistError> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let mut open = OpenOptions::new();
    open.create(true).truncate(false).write(true);
    wire::special_flags(&mut open, true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    let file = open
        .open(&lock_path)
        .map_err(io_err("create lock file", &lock_path))?;
    let meta = file.metadata().map_err(io_err("stat", &lock_path))?;
    if !meta.is_file() {
        return Err(not_regular(&lock_path, &meta));
    }
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(LockGuard { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(io_err("lock", &lock_path)(e)),
        }
        let waited = start.elapsed();
        if waited >= opts.timeout {
            return Err(PersistError::LockTimeout {
                path: lock_path,
                waited,
            });
        }
        let left = opts.timeout - waited;
        std::thread::sleep(left.min(Duration::from_millis(20)));
    }
}

/// Is `file_name` one of our temporary files for the store named `name`:
/// `.NAME.X.tmp` where `X` is letters and digits only (the random part, or
/// the process id of older versions)? `X` holds no dot, so the temporary
/// files of a store named `NAME.more` never match.
fn is_our_temp(file_name: &str, name: &str) -> bool {
    let Some(rest) = file_name.strip_prefix('.') else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(name) else {
        return false;
    };
    let Some(mid) = rest.strip_prefix('.').and_then(|r| r.strip_suffix(".tmp")) else {
        return false;
    };
    !mid.is_empty() && mid.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Removes the temporary files a crashed writer of the (resolved) store
/// file `path` left in its directory. Call with the store's lock held: no
/// other writer of this store is between creating and renaming one. Only
/// regular files are removed; links are never followed. Best effort.
pub(crate) fn sweep_temps(path: &Path) {
    let (dir, Some(name)) = dir_and_name(path) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        if !is_our_temp(file_name, &name) {
            continue;
        }
        let p = entry.path();
        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_file()) {
            let _ = std::fs::remove_file(&p);
        }
    }
}

fn dir_and_name(path: &Path) -> (PathBuf, Option<String>) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    (dir, name)
}

/// Reads the whole file at `path`, of at most [`MAX_FILE_LEN`] bytes;
/// `Ok(None)` when it does not exist. A FIFO, a device or a directory is
/// [`PersistError::NotARegularFile`], found without blocking: checked
/// before opening, opened with `O_NONBLOCK`, and checked again on the
/// open handle.
/// Reads a file to import: at most [`MAX_FILE_LEN`] bytes of a regular
/// file (a FIFO or a device is refused at once rather than waited on or
/// read without end).
///
/// ```
/// use hsts::persist::{self, PersistError};
///
/// assert!(matches!(
///     persist::read_file(std::path::Path::new("/dev/zero")),
///     Err(PersistError::NotARegularFile { .. })
/// ));
/// ```
pub fn read_file(path: impl AsRef<Path>) -> Result<Vec<u8>, PersistError> {
    let path = path.as_ref();
    read_limited(path)?.ok_or_else(|| {
        io_err("open", path)(io::Error::new(io::ErrorKind::NotFound, "no such file"))
    })
}

pub(crate) fn read_limited(path: &Path) -> Result<Option<Vec<u8>>, PersistError> {
    wire::read_bounded(path, MAX_FILE_LEN).map_err(|e| match e {
        ReadError::Io { op, source } => io_err(op, path)(source),
        ReadError::NotRegular(kind) => PersistError::NotARegularFile {
            path: path.to_owned(),
            kind,
        },
        ReadError::TooLarge(e) => e.into(),
    })
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, fsync, rename over `path`, fsync of the directory. Readers see
/// either the old file or the new one, never a mixture; after a crash the
/// file is the old one or the new one.
///
/// - The temporary file `.NAME.XXXXXXXXXXXX.tmp` has a random name and is
///   created exclusively (`O_EXCL`, so never through a planted link) with
///   mode 0600; it is removed when writing or renaming fails.
/// - A file that exists keeps its permission bits; a new one is 0600.
/// - When `path` is a symbolic link, the file it leads to is written and
///   the link stays. A link in a sticky world-writable directory (`/tmp`)
///   is followed only when it belongs to us or to the directory's owner
///   ([`PersistError::UntrustedSymlink`]).
/// - Anything at `path` that is not a regular file (a directory, a FIFO, a
///   device) is refused with [`PersistError::NotARegularFile`].
///
/// # Errors
///
/// Those above, and [`PersistError::Io`] naming the step that failed
/// (`create` or `write` of the temporary file, `rename`).
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<(), PersistError> {
    let path = path.as_ref();
    let (target, meta) = resolve(path)?;
    write_resolved(&target, meta.as_ref(), bytes)
}

/// [`write_atomic`] to the already resolved `target`, whose metadata (when
/// it exists) is `meta`.
pub(crate) fn write_resolved(
    target: &Path,
    meta: Option<&Metadata>,
    bytes: &[u8],
) -> Result<(), PersistError> {
    let (dir, name) = dir_and_name(target);
    let name = name.unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .rand_bytes(TEMP_RAND_LEN)
        .tempfile_in(&dir)
        .map_err(io_err("create temporary file in", &dir))?;
    let tmp_path = tmp.path().to_owned();
    let written = (|| {
        #[cfg(unix)]
        if let Some(m) = meta {
            use std::os::unix::fs::PermissionsExt;
            let mode = m.permissions().mode() & 0o777;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        #[cfg(not(unix))]
        let _ = meta;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()
    })();
    // On error, dropping `tmp` removes the temporary file.
    written.map_err(io_err("write", &tmp_path))?;
    tmp.persist(target)
        .map_err(|e| io_err("rename", target)(e.error))?;
    // The rename is durable once the directory is synced. Some platforms
    // cannot open a directory for this; the data itself is already synced.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_pattern_is_exact() {
        assert!(is_our_temp(".S.abcXYZ012345.tmp", "S"));
        assert!(is_our_temp(".S.4242.tmp", "S"));
        assert!(!is_our_temp(".S..tmp", "S"));
        assert!(!is_our_temp(".S.x.abc.tmp", "S"));
        assert!(!is_our_temp(".S.abc.tmp", "S.x"));
        assert!(!is_our_temp("S.abc.tmp", "S"));
        assert!(!is_our_temp(".S.abc.tmpx", "S"));
        assert!(!is_our_temp(".T.abc.tmp", "S"));
    }

    #[cfg(unix)]
    #[test]
    fn lock_refuses_a_symlinked_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let store = dir.path().join("S");
        std::os::unix::fs::symlink(&victim, dir.path().join("S.lock")).unwrap();
        assert!(lock(&store, &LockOptions::default()).is_err());
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
    }

    #[cfg(unix)]
    #[test]
    fn resolve_follows_chains_and_refuses_loops() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        symlink("b", d.join("a")).unwrap();
        symlink("c", d.join("b")).unwrap();
        let (t, m) = resolve(&d.join("a")).unwrap();
        assert_eq!(t, d.join("c"));
        assert!(m.is_none());
        symlink("loop2", d.join("loop1")).unwrap();
        symlink("loop1", d.join("loop2")).unwrap();
        assert!(resolve(&d.join("loop1")).is_err());
        assert!(matches!(
            resolve(d),
            Err(PersistError::NotARegularFile { .. })
        ));
    }
}

//! The store file on disk: the advisory lock, the bounded read and the
//! atomic write.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::{io_err, PersistError, MAX_FILE_LEN};
use crate::wire::{self, ReadError};

/// An exclusive advisory lock on `FILE.lock`, released on drop.
pub(crate) struct LockGuard {
    _file: File,
}

/// Takes the exclusive advisory lock of the store file `path`, waiting for
/// other holders.
pub(crate) fn lock(path: &Path) -> Result<LockGuard, PersistError> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io_err("create lock file", &lock_path))?;
    file.lock().map_err(io_err("lock", &lock_path))?;
    Ok(LockGuard { _file: file })
}

/// Reads the whole file at `path`, of at most [`MAX_FILE_LEN`] bytes;
/// `Ok(None)` when it does not exist.
pub(crate) fn read_limited(path: &Path) -> Result<Option<Vec<u8>>, PersistError> {
    wire::read_bounded(path, MAX_FILE_LEN).map_err(|e| match e {
        ReadError::Io { op, source } => io_err(op, path)(source),
        ReadError::TooLarge(w) => w.into(),
    })
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, fsync, rename over `path`, fsync of the directory. Readers see
/// either the old file or the new one, never a mixture; after a crash the
/// file is the old one or the new one.
///
/// The temporary file is `.NAME.PID.tmp` next to `path`, and is removed
/// when writing or renaming fails.
///
/// # Errors
///
/// [`PersistError::Io`] naming the step that failed (`write` of the
/// temporary file, or `rename`).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PersistError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err("write", &tmp)(e));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err("rename", path)(e));
    }
    // The rename is durable once the directory is synced. Some platforms
    // cannot open a directory for this; the data itself is already synced.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

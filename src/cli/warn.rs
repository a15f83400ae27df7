//! Warnings on stderr: each printed at most once per process, and none
//! with the global `--quiet` or `HSTS_QUIET=1`. Errors are not warnings:
//! they are always printed.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// `--quiet` or `HSTS_QUIET`.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Which of the [`Once`] warnings were printed, one bit each.
static PRINTED: AtomicU32 = AtomicU32::new(0);

/// Warnings printed at most once per process, whichever command (or
/// library path) asks for them first.
#[derive(Debug, Clone, Copy)]
#[repr(u32)]
pub(crate) enum Once {
    /// The preload list in use is over 18 weeks old.
    StaleList = 1,
    /// The store file named by --store does not exist.
    MissingStore = 2,
}

/// Silences warnings for the rest of the process.
pub(crate) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// `HSTS_QUIET` is set to anything but empty, `0` or `false`.
pub(crate) fn quiet_from_env() -> bool {
    std::env::var_os("HSTS_QUIET").is_some_and(|v| !(v.is_empty() || v == "0" || v == "false"))
}

/// Prints `hsts: warning: MSG` on stderr unless quiet.
pub(crate) fn warn(msg: &str) {
    if !QUIET.load(Ordering::Relaxed) {
        eprintln!("hsts: warning: {msg}");
    }
}

/// [`warn`], the first time `which` is asked for in this process.
pub(crate) fn once(which: Once, msg: &str) {
    let bit = which as u32;
    if PRINTED.fetch_or(bit, Ordering::Relaxed) & bit == 0 {
        warn(msg);
    }
}

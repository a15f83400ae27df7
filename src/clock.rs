//! The injectable clock.
//!
//! The store never reads the wall clock deep inside: each time-dependent
//! method has an explicit-time twin (`…_at(now)`), and the plain method asks
//! the store's [`Clock`] once.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use hsts::clock::{Clock, FixedClock};
//!
//! let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
//! let clock = FixedClock::new(t);
//! assert_eq!(clock.now(), t);
//! clock.advance(chrono::Duration::seconds(5));
//! assert_eq!(clock.now(), t + chrono::Duration::seconds(5));
//! ```

use chrono::{DateTime, Utc};
use std::sync::Mutex;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stays where it is set: for tests and for replaying logs.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    /// A clock stopped at `t`.
    pub fn new(t: DateTime<Utc>) -> Self {
        FixedClock(Mutex::new(t))
    }

    /// Moves the clock to `t`.
    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }

    /// Moves the clock forward (or back, for a negative duration), saturating.
    pub fn advance(&self, d: chrono::Duration) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *g = g.checked_add_signed(d).unwrap_or(*g);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

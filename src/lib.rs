//! hsts: the user-agent side of HTTP Strict Transport Security (RFC 6797).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod clock;
pub mod header;
pub mod host;
pub mod preload;
pub mod store;
pub mod upgrade;

pub use header::{HeaderError, StsHeader};
pub use host::{CanonicalHost, Host, HostError};
pub use store::{Entry, HstsStore, IgnoreReason, Match, Outcome, Source, StoreConfig, Transport};
pub use upgrade::Upgrade;

//! Sites (registrable domains, eTLD+1) from the Public Suffix List.
//!
//! The list in `data/public_suffix_list.dat` is built in and parsed on first
//! use; a newer list can be loaded at run time with [`SuffixList::parse`].
//!
//! ```
//! use hsts::psl::SuffixList;
//!
//! let psl = SuffixList::builtin();
//! assert_eq!(psl.site("a.b.example.co.uk").as_deref(), Some("example.co.uk"));
//! assert_eq!(psl.site("co.uk"), None); // a public suffix has no site
//! ```

use std::sync::OnceLock;

use publicsuffix::{List, Psl};

static BUILTIN: &str = include_str!("../data/public_suffix_list.dat");

/// A parsed Public Suffix List.
#[derive(Debug)]
pub struct SuffixList(List);

/// The list could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("invalid public suffix list: {0}")]
pub struct PslError(String);

impl SuffixList {
    /// The list built into the crate, parsed on first use.
    pub fn builtin() -> &'static SuffixList {
        static LIST: OnceLock<SuffixList> = OnceLock::new();
        LIST.get_or_init(|| {
            SuffixList::parse(BUILTIN).unwrap_or_else(|_| SuffixList(List::default()))
        })
    }

    /// Parses a list in the publicsuffix.org format.
    pub fn parse(text: &str) -> Result<SuffixList, PslError> {
        text.parse::<List>()
            .map(SuffixList)
            .map_err(|e| PslError(e.to_string()))
    }

    /// The registrable domain (eTLD+1) of a canonical host, if it has one.
    /// A name under no known suffix counts its last label as the suffix.
    pub fn site(&self, host: &str) -> Option<String> {
        let d = self.0.domain(host.as_bytes())?;
        std::str::from_utf8(d.as_bytes()).ok().map(str::to_owned)
    }
}

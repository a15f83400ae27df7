//! Sites (registrable domains, eTLD+1) from the Public Suffix List.
//!
//! The list in `data/public_suffix_list.dat` is built in and parsed on first
//! use; a newer list can be loaded at run time with [`SuffixList::parse`].
//!
//! ```
//! use hsts::SuffixList;
//!
//! let psl = SuffixList::builtin();
//! assert_eq!(psl.site("a.b.example.co.uk").as_deref(), Some("example.co.uk"));
//! assert_eq!(psl.site("co.uk"), None); // a public suffix has no site
//! ```

use std::sync::{Arc, OnceLock};

use publicsuffix::{List, Psl};

static BUILTIN: &str = include_str!("../data/public_suffix_list.dat");

/// A parsed Public Suffix List.
#[derive(Debug)]
pub struct SuffixList(List);

/// The list could not be parsed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PslError {
    /// No rule inside a `// ===BEGIN ICANN DOMAINS===` or
    /// `// ===BEGIN PRIVATE DOMAINS===` section.
    #[error(
        "invalid public suffix list: no rules inside a `// ===BEGIN ICANN DOMAINS===` \
         or `// ===BEGIN PRIVATE DOMAINS===` section"
    )]
    NoRules,
    /// A rule the parser refused.
    #[error("invalid public suffix list: {0}")]
    Rule(publicsuffix::Error),
}

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
        text.parse::<List>().map(SuffixList).map_err(|e| match e {
            publicsuffix::Error::InvalidList => PslError::NoRules,
            e => PslError::Rule(e),
        })
    }

    /// The registrable domain (eTLD+1) of a canonical host, if it has one.
    /// A name under no known suffix counts its last label as the suffix.
    pub fn site(&self, host: &str) -> Option<String> {
        self.site_str(host).map(str::to_owned)
    }

    /// [`SuffixList::site`] as a slice of `host`, without allocating.
    ///
    /// ```
    /// use hsts::SuffixList;
    ///
    /// let host = "www.example.co.uk";
    /// assert_eq!(SuffixList::builtin().site_str(host), Some(&host[4..]));
    /// ```
    pub fn site_str<'h>(&self, host: &'h str) -> Option<&'h str> {
        let d = self.0.domain(host.as_bytes())?;
        let n = d.as_bytes().len();
        let start = host.len().checked_sub(n)?;
        let site = host.get(start..)?;
        (site.as_bytes() == d.as_bytes() && (start == 0 || host.as_bytes()[start - 1] == b'.'))
            .then_some(site)
    }

    /// Where the site (eTLD+1) of `host` starts in it: 0 when the host has
    /// no site of its own (a public suffix, or a single label), which then
    /// counts as its own site.
    pub fn site_offset(&self, host: &str) -> usize {
        self.site_str(host).map_or(0, |s| host.len() - s.len())
    }
}

/// Which Public Suffix List a store uses to group hosts into sites for the
/// per-site quota and for clearing a site.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum SuffixSource {
    /// The list built into this crate, the default.
    #[default]
    Builtin,
    /// A list parsed at run time, for example a newer one.
    List(Arc<SuffixList>),
}

impl SuffixSource {
    /// The list.
    pub fn list(&self) -> &SuffixList {
        match self {
            SuffixSource::Builtin => SuffixList::builtin(),
            SuffixSource::List(l) => l,
        }
    }
}

impl PartialEq for SuffixSource {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (SuffixSource::Builtin, SuffixSource::Builtin) => true,
            (SuffixSource::List(a), SuffixSource::List(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for SuffixSource {}

impl std::fmt::Debug for SuffixSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SuffixSource::Builtin => f.write_str("Builtin"),
            SuffixSource::List(_) => f.write_str("List(..)"),
        }
    }
}

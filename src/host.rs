//! Host names in canonical form (RFC 6797 §8.3 and §10, with UTS #46).
//!
//! Every store operation works on a [`CanonicalHost`]: the name mapped to
//! ASCII with IDNA (UTS #46), lower-cased, and with one trailing dot removed,
//! so that `Bücher.example.`, `bücher.example` and `xn--bcher-kva.example`
//! are one host.
//!
//! ```
//! use hsts::host::{canonicalize, Host};
//!
//! let h = canonicalize("WWW.Bücher.Example.").unwrap();
//! assert_eq!(h, Host::Domain("www.xn--bcher-kva.example".parse().unwrap()));
//! assert!(matches!(canonicalize("[::1]").unwrap(), Host::Ip(_)));
//! assert!(canonicalize("a..b").is_err());
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// The longest domain name we accept, in octets, without the trailing dot.
pub const MAX_NAME_LEN: usize = 253;
/// The longest label we accept, in octets.
pub const MAX_LABEL_LEN: usize = 63;
/// Input longer than this is refused before any work is done on it.
const MAX_INPUT_LEN: usize = 4096;

/// Why a host name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The name is empty (or is only a dot).
    #[error("empty host name")]
    Empty,
    /// A label is empty, as in `.example.com` or `a..b`.
    #[error("empty label at byte {0}")]
    EmptyLabel(usize),
    /// A label is longer than 63 octets.
    #[error("label of {len} octets at byte {at} is longer than 63")]
    LabelTooLong {
        /// The label's length in octets.
        len: usize,
        /// Its offset in the ASCII form.
        at: usize,
    },
    /// The name is longer than 253 octets.
    #[error("host name of {0} octets is longer than 253")]
    TooLong(usize),
    /// IDNA (UTS #46) refused the name for a reason none of the other
    /// variants names (a disallowed code point, a bidi or joiner rule).
    #[error("not a valid host name: IDNA (UTS #46) refused it")]
    Idna,
    /// The name looks numeric but is not a valid IPv4 address.
    #[error("invalid IPv4 address (the last label is numeric, so the name is read as one)")]
    InvalidIpv4,
    /// A bracketed or colon-bearing name that is not a valid IPv6 address,
    /// nor a name with a port.
    #[error("invalid IPv6 address")]
    InvalidIpv6,
    /// A URL (`https://example.com/`, `example.com/path`) where a host
    /// name belongs.
    #[error("this is a URL, not a host name: pass the host alone")]
    Url,
    /// A host followed by a port (`example.com:443`, `[::1]:443`).
    #[error("has a port (:{port}): pass the host name without it")]
    Port {
        /// The port as given.
        port: String,
    },
    /// White space before or after the name (`" example.com"`).
    #[error("has white space around it")]
    Whitespace,
    /// A character that no host name has (`"exa mple.com"`, `"a_b?c"`).
    #[error("character {ch:?} at byte {at} is not allowed in a host name")]
    InvalidCharacter {
        /// The character.
        ch: char,
        /// Its byte offset in the input.
        at: usize,
    },
    /// A label that starts with `xn--` but is not valid Punycode, or
    /// decodes to a name IDNA refuses.
    #[error("{label:?} is not a valid A-label (xn--: Punycode that IDNA accepts)")]
    BadALabel {
        /// The label as given.
        label: String,
    },
    /// An IP literal where a domain name is required.
    #[error("{0} is an IP literal, not a domain name")]
    IpLiteral(IpAddr),
}

/// A parsed host: a domain name in canonical form, or an IP literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A domain name in canonical ASCII form.
    Domain(CanonicalHost),
    /// An IPv4 or IPv6 literal. RFC 6797 §8.1.1 and §8.3: never noted, never matched.
    Ip(IpAddr),
}

/// A domain name in canonical form: ASCII (A-labels), lower case, no
/// trailing dot, every label 1 to 63 octets, at most 253 octets in all.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CanonicalHost(String);

impl CanonicalHost {
    /// Canonicalises a domain name; an IP literal is an error here.
    pub fn new(input: &str) -> Result<CanonicalHost, HostError> {
        match canonicalize(input)? {
            Host::Domain(d) => Ok(d),
            Host::Ip(ip) => Err(HostError::IpLiteral(ip)),
        }
    }

    /// The canonical name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the host and returns the canonical name.
    pub fn into_string(self) -> String {
        self.0
    }

    /// Canonicalises `input` into this value, reusing its buffer: a loop
    /// over many hosts (the CLI's `check -`) allocates nothing once the
    /// buffer has grown to the longest name. Returns the IP address when
    /// `input` is an IP literal (this value is then unspecified), as
    /// [`canonicalize`] would; errors as [`canonicalize`] gives them.
    ///
    /// ```
    /// use hsts::CanonicalHost;
    ///
    /// let mut h = CanonicalHost::new("a.example").unwrap();
    /// assert_eq!(h.set("WWW.Example.COM.").unwrap(), None);
    /// assert_eq!(h.as_str(), "www.example.com");
    /// assert!(h.set("192.0.2.1").unwrap().is_some());
    /// assert!(h.set("bad..name").is_err());
    /// ```
    pub fn set(&mut self, input: &str) -> Result<Option<IpAddr>, HostError> {
        if input.len() <= MAX_NAME_LEN + 1 {
            let trimmed = input.strip_suffix('.').unwrap_or(input);
            if let Scan::Plain { upper } = scan(trimmed.as_bytes()) {
                self.0.clear();
                self.0.push_str(trimmed);
                if upper {
                    self.0.make_ascii_lowercase();
                }
                return Ok(None);
            }
        }
        match canonicalize(input)? {
            Host::Domain(d) => {
                *self = d;
                Ok(None)
            }
            Host::Ip(ip) => Ok(Some(ip)),
        }
    }

    /// Whether this is `localhost` or a name under `.localhost`, which Fetch
    /// and Chromium never treat as HSTS hosts.
    pub fn is_localhost(&self) -> bool {
        is_localhost_name(&self.0)
    }

    /// The proper superdomains of this name, nearest first, down to the
    /// single-label top-level domain: `a.b.example` gives `b.example`, `example`.
    pub fn superdomains(&self) -> Superdomains<'_> {
        Superdomains { rest: &self.0 }
    }
}

/// The proper superdomains of an already canonical name, nearest first
/// (see [`CanonicalHost::superdomains`]).
pub(crate) fn superdomains_of(name: &str) -> Superdomains<'_> {
    Superdomains { rest: name }
}

/// A domain name that is canonical as given (see [`CanonicalHost`]),
/// borrowed: what [`CanonicalHost::set`] would otherwise copy. It also
/// carries where its dots are when the name is at most 64 octets, found
/// while checking it, so that a lookup does not look for them again.
///
/// ```
/// use hsts::host::CanonicalName;
///
/// assert_eq!(CanonicalName::new("www.example.com.").unwrap().as_str(), "www.example.com");
/// // Names that need work take [`CanonicalHost`](hsts::CanonicalHost).
/// assert!(CanonicalName::new("WWW.Example.com").is_none());
/// assert!(CanonicalName::new("bücher.example").is_none());
/// assert!(CanonicalName::new("192.0.2.1").is_none());
/// assert!(CanonicalName::new("bad..name").is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CanonicalName<'a> {
    name: &'a str,
    /// Bit i set if byte i is a dot, for a name of up to 64 octets.
    dots: Option<u64>,
}

impl<'a> CanonicalName<'a> {
    /// `input` without one trailing dot, if that is canonical as it is:
    /// lower case letters, digits, `-` and `_`, labels of 1 to 63 octets,
    /// at most 253 in all, no A-label and not an IPv4 address. `None`
    /// when it is not: [`CanonicalHost::new`] or [`CanonicalHost::set`]
    /// then lowers, maps or rejects it.
    #[inline]
    pub fn new(input: &'a str) -> Option<CanonicalName<'a>> {
        let name = input.strip_suffix('.').unwrap_or(input);
        match scan_with_dots(name.as_bytes()) {
            (Scan::Plain { upper: false }, dots) => Some(CanonicalName { name, dots }),
            _ => None,
        }
    }

    /// A name the caller knows to be canonical (a [`CanonicalHost`]'s, or
    /// a `url` domain whose lengths were checked), and where its dots are
    /// if the caller found them.
    pub(crate) fn known(name: &'a str, dots: Option<u64>) -> CanonicalName<'a> {
        debug_assert!(name.len() <= 64 || dots.is_none());
        CanonicalName { name, dots }
    }

    /// The name.
    pub fn as_str(&self) -> &'a str {
        self.name
    }

    /// Where the dots are (bit i for byte i), when the name is at most 64
    /// octets and they were found while checking it.
    pub(crate) fn dots(&self) -> Option<u64> {
        self.dots
    }
}

impl<'a> From<&'a CanonicalHost> for CanonicalName<'a> {
    fn from(host: &'a CanonicalHost) -> CanonicalName<'a> {
        CanonicalName::known(&host.0, None)
    }
}

/// Whether an already canonical name is `localhost` or under it.
pub(crate) fn is_localhost_name(name: &str) -> bool {
    name == "localhost" || name.ends_with(".localhost")
}

/// Iterator over a name's proper superdomains; see [`CanonicalHost::superdomains`].
#[derive(Debug, Clone)]
pub struct Superdomains<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Superdomains<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        let dot = self.rest.find('.')?;
        self.rest = &self.rest[dot + 1..];
        Some(self.rest)
    }
}

impl fmt::Display for CanonicalHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CanonicalHost {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for CanonicalHost {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl FromStr for CanonicalHost {
    type Err = HostError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CanonicalHost::new(s)
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d.as_str()),
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Host::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// Canonicalises a host as it appears in a URL's authority or as a bare name.
///
/// IPv6 literals may be bracketed (`[::1]`) or bare (`::1`). Names whose last
/// label is numeric are parsed as IPv4 the way the WHATWG URL standard does,
/// so `127.1` and `0x7f.0.0.1` are IP literals too.
pub fn canonicalize(input: &str) -> Result<Host, HostError> {
    canonicalize_inner(input).map_err(|e| explain(input, e))
}

/// A refusal made specific, for a person reading it: a URL, a port, white
/// space, a bad character or a bad A-label rather than "IDNA refused" or
/// "invalid IPv6". Only the error changes: what is accepted does not.
#[cold]
fn explain(input: &str, e: HostError) -> HostError {
    if !matches!(
        e,
        HostError::Idna | HostError::InvalidIpv4 | HostError::InvalidIpv6
    ) {
        return e;
    }
    if input.trim() != input {
        return HostError::Whitespace;
    }
    if input.contains("://") {
        return HostError::Url;
    }
    if let Some((host, port)) = input.rsplit_once(':') {
        let bracketed = host.starts_with('[') && host.ends_with(']');
        if !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && (bracketed || !host.contains(':'))
        {
            return HostError::Port {
                port: port.to_owned(),
            };
        }
    }
    if e == HostError::InvalidIpv6 || e == HostError::InvalidIpv4 {
        return e;
    }
    if input.contains('/') {
        return HostError::Url;
    }
    let bad = input.char_indices().find(|&(_, c)| {
        c.is_ascii() && !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
    });
    if let Some((at, ch)) = bad {
        return HostError::InvalidCharacter { ch, at };
    }
    let a_label = input.split('.').find(|l| is_a_label(l.as_bytes()));
    if let Some(label) = a_label {
        return HostError::BadALabel {
            label: label.to_owned(),
        };
    }
    e
}

#[inline]
fn canonicalize_inner(input: &str) -> Result<Host, HostError> {
    if input.len() > MAX_INPUT_LEN {
        return Err(HostError::TooLong(input.len()));
    }
    if let Some(inner) = input.strip_prefix('[') {
        let inner = inner.strip_suffix(']').ok_or(HostError::InvalidIpv6)?;
        return Ipv6Addr::from_str(inner)
            .map(|ip| Host::Ip(IpAddr::V6(ip)))
            .map_err(|_| HostError::InvalidIpv6);
    }
    if input.contains(':') {
        return Ipv6Addr::from_str(input)
            .map(|ip| Host::Ip(IpAddr::V6(ip)))
            .map_err(|_| HostError::InvalidIpv6);
    }
    // RFC 6797 §8.3 step 1 (and §10): a trailing dot does not make a
    // different host. Exactly one is removed; `example.com..` stays invalid.
    let trimmed = input.strip_suffix('.').unwrap_or(input);
    if trimmed.is_empty() {
        return Err(HostError::Empty);
    }
    match scan(trimmed.as_bytes()) {
        Scan::Plain { upper: false } => Ok(Host::Domain(CanonicalHost(trimmed.to_owned()))),
        Scan::Plain { upper: true } => {
            Ok(Host::Domain(CanonicalHost(trimmed.to_ascii_lowercase())))
        }
        Scan::Other => {
            if let Some(ip) = ipv4_like(trimmed)? {
                return Ok(Host::Ip(IpAddr::V4(ip)));
            }
            canonicalize_slow(trimmed)
        }
    }
}

/// What one pass over a name (without its trailing dot) found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// Canonical once ASCII upper case is lowered (`upper`): letters,
    /// digits, `-` and `_`, labels of 1 to 63 octets, at most 253 in all,
    /// no `xn--` label (those need Punycode validation), and a last label
    /// that is not numeric (those are IPv4 or invalid). UTS #46 maps such a
    /// name to itself lowered, so it skips the IDNA machinery.
    Plain {
        /// Whether an ASCII upper-case letter was seen.
        upper: bool,
    },
    /// Anything else: the full path decides.
    Other,
}

/// Byte classes for [`scan_long`]: one table read per byte instead of a chain
/// of range tests.
const BAD: u8 = 0;
const LDH: u8 = 1;
const DIGIT: u8 = 2;
const UPPER: u8 = 3;
const DOT: u8 = 4;
static CLASS: [u8; 256] = {
    let mut t = [BAD; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = match b as u8 {
            b'a'..=b'z' | b'-' | b'_' => LDH,
            b'0'..=b'9' => DIGIT,
            b'A'..=b'Z' => UPPER,
            b'.' => DOT,
            _ => BAD,
        };
        b += 1;
    }
    t
};

/// One pass over `name`: see [`Scan`]. A name of up to 64 octets (nearly
/// every name) is read eight bytes at a time, without a branch per byte:
/// each word gives which of its bytes are bad, upper case, dots and
/// hyphens ([`word_classes`]), gathered as bit masks over the name, and
/// the label rules are then tests on those masks.
fn scan(name: &[u8]) -> Scan {
    scan_with_dots(name).0
}

/// [`scan`], and for a name of up to 64 octets where its dots are (bit i
/// set if byte i is a dot), found on the way.
#[inline(always)]
fn scan_with_dots(name: &[u8]) -> (Scan, Option<u64>) {
    let n = name.len();
    if n == 0 || n > 64 {
        return (scan_long(name), None);
    }
    let (mut bad, mut upper, mut dots, mut hyphens) = (0, 0, 0u64, 0u64);
    let mut gather = |word: [u8; 8], at: usize| {
        let c = word_classes(u64::from_le_bytes(word));
        bad |= c.bad;
        upper |= c.upper;
        dots |= c.dots << at;
        hyphens |= c.hyphens << at;
    };
    if n <= 8 {
        // Padded with a letter, which changes nothing.
        let mut word = [b'a'; 8];
        word[..n].copy_from_slice(name);
        gather(word, 0);
    } else {
        let mut at = 0;
        while at + 8 < n {
            gather(name[at..at + 8].try_into().expect("8 bytes"), at);
            at += 8;
        }
        // The last eight bytes, which may overlap the word before: the
        // masks are ORed, so a byte seen twice counts once.
        gather(name[n - 8..].try_into().expect("8 bytes"), n - 8);
    }
    if bad != 0 {
        return (Scan::Other, None);
    }
    // An empty label, or a label of 64 octets (with n <= 64, only a name
    // without a dot has one).
    if has_empty_label(dots, n) || (dots == 0 && n > MAX_LABEL_LEN) {
        return (Scan::Other, None);
    }
    // An A-label has "--" at its third and fourth octets: only a name with
    // two hyphens in a row has its labels looked at.
    if hyphens & (hyphens >> 1) != 0 && name.split(|&b| b == b'.').any(is_a_label) {
        return (Scan::Other, None);
    }
    // A numeric last label (decimal, or 0x hex) makes the name IPv4 or
    // invalid: the full path decides.
    let last = &name[64 - dots.leading_zeros() as usize..];
    if last.iter().all(u8::is_ascii_digit)
        || (last.len() > 1 && last[0] == b'0' && matches!(last[1], b'x' | b'X'))
    {
        return (Scan::Other, None);
    }
    (Scan::Plain { upper: upper != 0 }, Some(dots))
}

/// Whether a name of `n` octets (1 to 64) with its dots at the set bits
/// of `dots` (bit i for byte i) has an empty label: a dot first, last, or
/// right after another.
#[inline(always)]
pub(crate) fn has_empty_label(dots: u64, n: usize) -> bool {
    dots & (1 | 1 << (n - 1) | dots << 1) != 0
}

/// What [`word_classes`] finds in eight bytes.
struct WordClasses {
    /// Non-zero if a byte is not a letter, digit, `-`, `_` or `.`.
    bad: u64,
    /// Non-zero if a byte is an upper-case letter.
    upper: u64,
    /// Bit i set if byte i is a dot.
    dots: u64,
    /// Bit i set if byte i is a hyphen.
    hyphens: u64,
}

/// The classes of the eight bytes of `x` (byte i is bits 8i..8i+8), all
/// at once, each answer in the high bit of each byte ([`crate::swar`]),
/// tested on the bytes with their high bits cleared (a byte with its high
/// bit set is `bad` whatever else it matches).
#[inline(always)]
fn word_classes(x: u64) -> WordClasses {
    use crate::swar::{at_least_low as at_least, eq_low, HIGH, ONES};
    let low = x & !HIGH;
    let equal = |c: u8| eq_low(low, c);
    // Setting bit 5 lowers A-Z onto a-z, and moves no other byte into it.
    let folded = low | (ONES * 0x20);
    let letter = at_least(folded, b'a') & !at_least(folded, b'z' + 1);
    let upper = letter & !(low << 2);
    let digit = at_least(low, b'0') & !at_least(low, b'9' + 1);
    let dot = equal(b'.');
    let hyphen = equal(b'-');
    let fine = letter | digit | dot | hyphen | equal(b'_');
    // One bit per byte, byte i at bit i.
    let pack = crate::swar::pack_high;
    WordClasses {
        bad: (x & HIGH) | (fine ^ HIGH),
        upper,
        dots: pack(dot),
        hyphens: pack(hyphen),
    }
}

/// [`scan`] for a name of any length, one label at a time (with a branch
/// at each dot): the path for names over 64 octets.
fn scan_long(name: &[u8]) -> Scan {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Scan::Other;
    }
    let mut upper = false;
    let mut bad = false;
    let mut label_start = 0;
    // Whether the current label is all digits so far (a numeric last label
    // makes the name IPv4-like).
    let mut digits = true;
    for (i, &b) in name.iter().enumerate() {
        let c = CLASS[b as usize];
        if c == DOT {
            let len = i - label_start;
            if len == 0 || len > MAX_LABEL_LEN || is_a_label(&name[label_start..i]) {
                return Scan::Other;
            }
            label_start = i + 1;
            digits = true;
            continue;
        }
        bad |= c == BAD;
        upper |= c == UPPER;
        digits &= c == DIGIT;
    }
    let last = &name[label_start..];
    if bad || last.is_empty() || last.len() > MAX_LABEL_LEN || is_a_label(last) {
        return Scan::Other;
    }
    // A numeric last label (decimal, or 0x hex) makes the name IPv4 or
    // invalid: the full path decides.
    if digits || (last.len() > 1 && last[0] == b'0' && matches!(last[1], b'x' | b'X')) {
        return Scan::Other;
    }
    Scan::Plain { upper }
}

/// Whether a label starts with the ACE prefix `xn--`, in any case.
fn is_a_label(label: &[u8]) -> bool {
    label.len() >= 4 && label[..4].eq_ignore_ascii_case(b"xn--")
}

/// UTS #46 to ASCII, then the checks that follow it.
fn canonicalize_slow(trimmed: &str) -> Result<Host, HostError> {
    let ascii = idna::domain_to_ascii_cow(trimmed.as_bytes(), idna::AsciiDenyList::URL)
        .map_err(|_| HostError::Idna)?;
    let mut name = ascii.into_owned();
    // IDNA already lower-cases; an ASCII name it passed through unchanged is
    // lower-cased here for certainty.
    name.make_ascii_lowercase();
    // Mapping can produce a trailing dot (for example from U+3002).
    if name.ends_with('.') {
        return Err(HostError::EmptyLabel(name.len()));
    }
    if let Some(ip) = ipv4_like(&name)? {
        return Ok(Host::Ip(IpAddr::V4(ip)));
    }
    check_lengths(&name)?;
    Ok(Host::Domain(CanonicalHost(name)))
}

/// Checks DNS length limits on an ASCII name without a trailing dot.
pub(crate) fn check_lengths(name: &str) -> Result<(), HostError> {
    if name.is_empty() {
        return Err(HostError::Empty);
    }
    let mut at = 0;
    for label in name.split('.') {
        if label.is_empty() {
            return Err(HostError::EmptyLabel(at));
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(HostError::LabelTooLong {
                len: label.len(),
                at,
            });
        }
        at += label.len() + 1;
    }
    if name.len() > MAX_NAME_LEN {
        return Err(HostError::TooLong(name.len()));
    }
    Ok(())
}

/// The WHATWG "ends in a number" check: when the last label is numeric
/// (decimal, or `0x` hex), the whole name must parse as IPv4.
fn ipv4_like(name: &str) -> Result<Option<Ipv4Addr>, HostError> {
    let last = name.rsplit('.').next().unwrap_or(name);
    let numeric = !last.is_empty()
        && (last.bytes().all(|b| b.is_ascii_digit())
            || last
                .strip_prefix("0x")
                .or_else(|| last.strip_prefix("0X"))
                .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit())));
    if !numeric {
        return Ok(None);
    }
    // Plain dotted decimal (no leading zeros, four parts) means the same to
    // std and to WHATWG, and std's parser does not allocate; the WHATWG
    // forms (hex, octal, fewer parts) go to the url crate.
    if let Ok(ip) = Ipv4Addr::from_str(name) {
        return Ok(Some(ip));
    }
    match url::Host::parse(name) {
        Ok(url::Host::Ipv4(ip)) => Ok(Some(ip)),
        _ => Err(HostError::InvalidIpv4),
    }
}

impl From<CanonicalHost> for String {
    fn from(h: CanonicalHost) -> String {
        h.0
    }
}

/// Converts the host of a parsed URL. `url` has already applied IDNA, so
/// this only checks the DNS length limits.
pub fn from_url_host(host: url::Host<&str>) -> Result<Host, HostError> {
    match host {
        url::Host::Ipv4(ip) => Ok(Host::Ip(IpAddr::V4(ip))),
        url::Host::Ipv6(ip) => Ok(Host::Ip(IpAddr::V6(ip))),
        url::Host::Domain(d) => canonicalize(d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dom(s: &str) -> String {
        match canonicalize(s).unwrap() {
            Host::Domain(d) => d.into_string(),
            Host::Ip(ip) => panic!("{s} gave IP {ip}"),
        }
    }

    #[test]
    fn plain_fast_path_agrees_with_idna() {
        // Every name the one-pass scan takes must come out of UTS #46 and
        // the IPv4 check as the scan says: itself, lowered.
        let alphabet = b"abz09-_.xAZ";
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut taken = 0;
        for _ in 0..20_000 {
            crate::xorshift(&mut seed);
            let len = 1 + (seed % 24) as usize;
            let name: String = (0..len)
                .map(|i| alphabet[((seed >> (i * 2 % 60)) as usize + i) % alphabet.len()] as char)
                .collect();
            if let Scan::Plain { .. } = scan(name.as_bytes()) {
                taken += 1;
                assert_eq!(ipv4_like(&name), Ok(None), "{name}");
                assert_eq!(
                    canonicalize_slow(&name),
                    Ok(Host::Domain(CanonicalHost(name.to_ascii_lowercase()))),
                    "{name}"
                );
            }
        }
        assert!(taken > 1_000, "{taken}");
        for name in [
            "xn--bcher-kva.example",
            "a.XN--x",
            "a.xn--",
            "a..b",
            "1.2.3.4",
            "a.0x1f",
            "a.123",
            ".a",
            "a.",
        ] {
            assert_eq!(scan(name.as_bytes()), Scan::Other, "{name}");
        }
        assert_eq!(scan(b"Example.com"), Scan::Plain { upper: true });
        assert_eq!(scan(b"-a-.b_"), Scan::Plain { upper: false });
        assert_eq!(
            scan(b"a.0xg"),
            Scan::Other,
            "hex-looking: the full path decides"
        );
        let mut h = CanonicalHost::new("x.example").unwrap();
        for name in [
            "A.Example.",
            "xn--bcher-kva.example",
            "B\u{00dc}cher.example",
            "a.b",
        ] {
            match h.set(name) {
                Ok(None) => assert_eq!(Ok(Host::Domain(h.clone())), canonicalize(name)),
                other => assert_eq!(other.map(|_| ()), canonicalize(name).map(|_| ())),
            }
        }
    }

    #[test]
    fn scan_of_short_names_agrees_with_the_label_by_label_scan() {
        // Names up to 70 octets over an alphabet that makes empty, long,
        // numeric, hex and A-labels, and every byte in a few places.
        let alphabet = b"abxnXN09-_.Z.";
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..300_000 {
            crate::xorshift(&mut seed);
            let len = (seed % 71) as usize;
            let name: Vec<u8> = (0..len)
                .map(|i| alphabet[((seed >> (i * 3 % 60)) as usize + i * 7) % alphabet.len()])
                .collect();
            assert_eq!(
                scan(&name),
                scan_long(&name),
                "{}",
                String::from_utf8_lossy(&name)
            );
        }
        for b in 0..=255u8 {
            for at in [0, 1, 2, 4] {
                let mut name = b"ab.cd".to_vec();
                name[at] = b;
                assert_eq!(scan(&name), scan_long(&name), "{b} at {at}");
            }
        }
        for name in [
            "a".repeat(63),
            "a".repeat(64),
            format!("{}.b", "a".repeat(62)),
            format!("b.{}", "a".repeat(62)),
            format!("b.{}", "a".repeat(63)),
            "a.xn--b".into(),
            "xn--b.a".into(),
            "a--b.c".into(),
            "a.b--".into(),
            "a.0x".into(),
            "a.0X1".into(),
            "a.0".into(),
            "a.1b".into(),
        ] {
            assert_eq!(scan(name.as_bytes()), scan_long(name.as_bytes()), "{name}");
        }
    }

    /// A name taken as given is exactly what canonicalisation would give,
    /// and is taken whenever canonicalisation would give it back as it
    /// is; its dot mask, when it has one, marks its dots.
    #[test]
    fn names_taken_as_given_are_canonical() {
        let alphabet = b"abxnXN09-_.Z.:\xc3";
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut taken = 0;
        for _ in 0..200_000 {
            crate::xorshift(&mut seed);
            let len = (seed % 80) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|i| alphabet[((seed >> (i * 3 % 60)) as usize + i * 5) % alphabet.len()])
                .collect();
            let Ok(input) = String::from_utf8(bytes) else {
                continue;
            };
            let trimmed = input.strip_suffix('.').unwrap_or(&input);
            let canonical = canonicalize(&input);
            let as_is = matches!(&canonical, Ok(Host::Domain(d)) if d.as_str() == trimmed);
            match CanonicalName::new(&input) {
                Some(name) => {
                    taken += 1;
                    assert!(as_is, "{input:?} -> {canonical:?}");
                    assert_eq!(name.as_str(), trimmed);
                    let want = trimmed
                        .bytes()
                        .enumerate()
                        .filter(|&(_, c)| c == b'.')
                        .fold(0u64, |m, (i, _)| m | 1 << i);
                    assert_eq!(
                        name.dots(),
                        (trimmed.len() <= 64).then_some(want),
                        "{input:?}"
                    );
                }
                // Canonical as given but refused: names with an A-label
                // (their Punycode needs checking) or a last label that
                // starts like a number (the IPv4 rules decide).
                None => assert!(
                    !as_is
                        || trimmed.split('.').any(|l| is_a_label(l.as_bytes()))
                        || trimmed
                            .rsplit('.')
                            .next()
                            .is_some_and(|l| l.starts_with(|c: char| c.is_ascii_digit())),
                    "{input:?}"
                ),
            }
        }
        assert!(taken > 2_000, "{taken}");
        let long = format!("{}.{}.example", "a".repeat(63), "b".repeat(63));
        assert_eq!(CanonicalName::new(&long).unwrap().dots(), None);
    }

    #[test]
    fn ipv4_fast_path_agrees_with_whatwg() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..5_000 {
            crate::xorshift(&mut seed);
            let b = seed.to_le_bytes();
            for name in [
                format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3]),
                format!("0{}.{}.{}.{}", b[0], b[1], b[2], b[3]),
                format!("{}.{}", b[0], u32::from_le_bytes([b[4], b[5], b[6], 0])),
            ] {
                let whatwg = match url::Host::parse(&name) {
                    Ok(url::Host::Ipv4(ip)) => Ok(Some(ip)),
                    _ => Err(HostError::InvalidIpv4),
                };
                assert_eq!(ipv4_like(&name), whatwg, "{name}");
            }
        }
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(dom("Example.COM"), "example.com");
        assert_eq!(dom("example.com."), "example.com");
        assert_eq!(dom("bücher.example"), "xn--bcher-kva.example");
        assert_eq!(dom("BÜCHER.example"), "xn--bcher-kva.example");
        assert_eq!(dom("XN--BCHER-KVA.example"), "xn--bcher-kva.example");
        assert_eq!(
            dom("食狮.中国.localhost"),
            "xn--85x722f.xn--fiqs8s.localhost"
        );
        assert_eq!(dom("intranet"), "intranet");
    }

    #[test]
    fn rejects_bad_names() {
        assert_eq!(canonicalize(""), Err(HostError::Empty));
        assert_eq!(canonicalize("."), Err(HostError::Empty));
        assert_eq!(canonicalize(".example.com"), Err(HostError::EmptyLabel(0)));
        assert!(matches!(
            canonicalize("a..b"),
            Err(HostError::EmptyLabel(_))
        ));
        assert!(matches!(
            canonicalize("example.com.."),
            Err(HostError::EmptyLabel(_))
        ));
        let long_label = format!("{}.example.com", "a".repeat(64));
        assert!(matches!(
            canonicalize(&long_label),
            Err(HostError::LabelTooLong { len: 64, at: 0 })
        ));
        assert!(canonicalize(&format!("{}.example.com", "a".repeat(63))).is_ok());
        let long_name = vec!["abcdefghi"; 26].join(".");
        assert_eq!(long_name.len(), 259);
        assert_eq!(canonicalize(&long_name), Err(HostError::TooLong(259)));
        assert_eq!(
            canonicalize("exa mple.com"),
            Err(HostError::InvalidCharacter { ch: ' ', at: 3 })
        );
        assert_eq!(
            canonicalize("xn--a.com"),
            Err(HostError::BadALabel {
                label: "xn--a".into()
            })
        );
        assert!(canonicalize(&"a".repeat(100_000)).is_err());
    }

    #[test]
    fn ip_literals() {
        for s in [
            "127.0.0.1",
            "10.0.0.1",
            "127.1",
            "0x7f.0.0.1",
            "::1",
            "[::1]",
            "[2001:db8::1]",
            "[::ffff:127.0.0.1]",
            "1.0.0.1.",
        ] {
            assert!(matches!(canonicalize(s), Ok(Host::Ip(_))), "{s}");
        }
        assert_eq!(canonicalize("1.2.3.999"), Err(HostError::InvalidIpv4));
        assert_eq!(canonicalize("[::1"), Err(HostError::InvalidIpv6));
        assert!(matches!(
            CanonicalHost::new("::1"),
            Err(HostError::IpLiteral(_))
        ));
    }

    #[test]
    fn localhost_and_superdomains() {
        assert!(CanonicalHost::new("LOCALHOST.").unwrap().is_localhost());
        assert!(CanonicalHost::new("a.b.localhost").unwrap().is_localhost());
        assert!(!CanonicalHost::new("notlocalhost").unwrap().is_localhost());
        let h = CanonicalHost::new("a.b.example").unwrap();
        assert_eq!(
            h.superdomains().collect::<Vec<_>>(),
            ["b.example", "example"]
        );
        assert_eq!(CanonicalHost::new("com").unwrap().superdomains().count(), 0);
    }
}

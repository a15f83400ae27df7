//! Lint a `Strict-Transport-Security` value for the people who deploy it.
//!
//! [`lint`] reads the value with this crate's RFC 6797 §6.1 parser, the one
//! the store uses, so "valid" means exactly "a user agent records it". It
//! then checks the value against the rules of a [`Profile`]: RFC 6797
//! alone, hstspreload.org's header rules, the Mozilla Observatory, SSL Labs
//! and testssl.sh, or all of them. Every [`Finding`] has a stable [`Code`], a
//! [`Severity`] and a message that says what a browser will do and how to
//! fix the header.
//!
//! ```
//! use hsts::lint::{lint, Code, Profile, Severity};
//!
//! // A Qlik Sense admin's value: directive names are case-insensitive.
//! let r = lint("max-age=31536000;includeSubDomains;Preload", Profile::Preload);
//! assert!(r.valid() && r.preload_ready() && !r.has_errors());
//!
//! // The first step of a staged ramp-up: valid, with an info finding.
//! let r = lint("max-age=300", Profile::Rfc);
//! assert!(r.valid() && !r.has_errors());
//! assert_eq!(r.findings[0].code, Code::RampUp);
//!
//! // A week is too short for SSL Labs (180 days).
//! let r = lint("max-age=604800", Profile::Ssllabs);
//! assert!(r.codes().any(|c| c == Code::MaxAgeTooShort));
//!
//! // A comma is no separator: every browser ignores this header.
//! let r = lint("max-age=31536000, includeSubDomains", Profile::Rfc);
//! assert!(!r.valid());
//! assert_eq!(r.findings[0].code, Code::CommaSeparator);
//! assert_eq!(r.findings[0].severity, Severity::Error);
//!
//! // A trailing ';' is fine for browsers, but hstspreload.org warns.
//! assert!(lint("max-age=31536000;", Profile::Rfc).findings.iter().all(|f| f.code != Code::EmptyDirective));
//! let r = lint("max-age=31536000; includeSubDomains; preload;", Profile::Preload);
//! assert!(r.preload_ready());
//! assert_eq!(r.findings[0].code, Code::EmptyDirective);
//! assert_eq!(r.findings[0].severity, Severity::Warning);
//! ```
//!
//! The staged ramp-up that the [`Code::RampUp`] finding names is
//! [`RAMP_UP`].

use std::fmt;
use std::str::FromStr;

use crate::header::{parse_observed, Seen};
use crate::{HeaderError, HeaderErrorKind, StsHeader};

/// One year in seconds: hstspreload.org's minimum max-age for preloading,
/// pshtt's "Strong HSTS", Tenable WAS 98715's minimum.
pub const ONE_YEAR: u64 = 31_536_000;
/// Ten years in seconds: hstspreload.org warns above this.
pub const TEN_YEARS: u64 = 315_360_000;
/// 180 days in seconds: the Mozilla Observatory's six months, SSL Labs'
/// `LONG_MAX_AGE` and testssl.sh's threshold.
pub const SIX_MONTHS: u64 = 15_552_000;
/// 126 days in seconds: pshtt's "Preload Ready" and hstspreload.org's
/// legacy policy (not used by any profile; for reference).
pub const PSHTT_PRELOAD_READY: u64 = 10_886_400;

/// A set of rules to lint against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// RFC 6797 validity only: errors only for a header browsers ignore.
    Rfc,
    /// hstspreload.org's header rules: max-age of a year or more,
    /// includeSubDomains and preload, and its parse warnings.
    Preload,
    /// The Mozilla Observatory: max-age of six months (15552000) or more.
    Observatory,
    /// SSL Labs and testssl.sh: max-age of 180 days (15552000) or more.
    Ssllabs,
    /// Every rule of every profile, at the strictest severity.
    Strict,
}

impl Profile {
    /// Every profile, in documentation order.
    pub const ALL: [Profile; 5] = [
        Profile::Rfc,
        Profile::Preload,
        Profile::Observatory,
        Profile::Ssllabs,
        Profile::Strict,
    ];

    /// The profile's name, as `FromStr` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Rfc => "rfc",
            Profile::Preload => "preload",
            Profile::Observatory => "observatory",
            Profile::Ssllabs => "ssllabs",
            Profile::Strict => "strict",
        }
    }

    fn preload_rules(self) -> bool {
        matches!(self, Profile::Preload | Profile::Strict)
    }

    fn six_month_rule(self) -> bool {
        matches!(
            self,
            Profile::Observatory | Profile::Ssllabs | Profile::Strict
        )
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A profile name that [`Profile::from_str`] does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile {0:?} (expected rfc, preload, observatory, ssllabs or strict)")]
pub struct UnknownProfile(pub String);

impl FromStr for Profile {
    type Err = UnknownProfile;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownProfile(s.to_owned()))
    }
}

/// How much a finding matters. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing; nothing to fix.
    Info,
    /// Browsers use the header, but a tool of the profile complains or a
    /// fix is advised.
    Warning,
    /// Browsers ignore the header, or the profile's tool fails it.
    Error,
}

impl Severity {
    /// `"info"`, `"warning"` or `"error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stable code of a finding. The strings ([`Code::as_str`]) are part
/// of the CLI's JSON contract and documented in README.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Code {
    /// The header has no max-age directive (or is empty): browsers ignore it.
    MissingMaxAge,
    /// A directive appears twice: RFC 6797 says to ignore the header.
    DuplicateDirective,
    /// max-age is not a number of seconds: browsers ignore the header.
    InvalidMaxAge,
    /// includeSubDomains has a value: browsers ignore the header.
    IncludeSubdomainsValue,
    /// Something that cannot start a directive name (a quote, a non-ASCII
    /// character): browsers ignore the header.
    InvalidName,
    /// A directive value that is neither a token nor a quoted-string.
    InvalidValue,
    /// A quoted-string that is never closed.
    UnterminatedQuote,
    /// A comma where a `;` belongs: browsers ignore the header.
    CommaSeparator,
    /// Other data where a `;` or the end belongs.
    UnexpectedData,
    /// A control character (a pasted line break, a NUL).
    ControlCharacter,
    /// `max-age=0`: browsers that have the policy forget it.
    MaxAgeZero,
    /// max-age below a year: a step of the staged ramp-up ([`RAMP_UP`]).
    RampUp,
    /// max-age below hstspreload.org's one year.
    MaxAgeBelowPreload,
    /// max-age above ten years (hstspreload.org warns).
    MaxAgeOverTenYears,
    /// max-age below 180 days (Observatory, SSL Labs, testssl.sh).
    MaxAgeTooShort,
    /// includeSubDomains is absent.
    MissingIncludeSubdomains,
    /// preload is absent.
    MissingPreload,
    /// An empty directive: a stray or trailing `;`.
    EmptyDirective,
    /// A directive browsers do not know (they ignore it).
    UnknownDirective,
    /// max-age has a leading zero.
    MaxAgeLeadingZero,
    /// max-age is quoted or has white space around `=`: valid for
    /// browsers, refused by hstspreload.org.
    MaxAgeSyntax,
    /// preload has a value: hstspreload.org does not count it.
    PreloadValue,
    /// The text started with the field name and a colon, which was set aside.
    FieldName,
    /// The header meets every hstspreload.org header rule.
    PreloadReady,
}

impl Code {
    /// Every code, in documentation order.
    pub const ALL: [Code; 24] = [
        Code::MissingMaxAge,
        Code::DuplicateDirective,
        Code::InvalidMaxAge,
        Code::IncludeSubdomainsValue,
        Code::InvalidName,
        Code::InvalidValue,
        Code::UnterminatedQuote,
        Code::CommaSeparator,
        Code::UnexpectedData,
        Code::ControlCharacter,
        Code::MaxAgeZero,
        Code::RampUp,
        Code::MaxAgeBelowPreload,
        Code::MaxAgeOverTenYears,
        Code::MaxAgeTooShort,
        Code::MissingIncludeSubdomains,
        Code::MissingPreload,
        Code::EmptyDirective,
        Code::UnknownDirective,
        Code::MaxAgeLeadingZero,
        Code::MaxAgeSyntax,
        Code::PreloadValue,
        Code::FieldName,
        Code::PreloadReady,
    ];

    /// The stable kebab-case code, e.g. `"comma-separator"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::MissingMaxAge => "missing-max-age",
            Code::DuplicateDirective => "duplicate-directive",
            Code::InvalidMaxAge => "invalid-max-age",
            Code::IncludeSubdomainsValue => "include-subdomains-value",
            Code::InvalidName => "invalid-name",
            Code::InvalidValue => "invalid-value",
            Code::UnterminatedQuote => "unterminated-quote",
            Code::CommaSeparator => "comma-separator",
            Code::UnexpectedData => "unexpected-data",
            Code::ControlCharacter => "control-character",
            Code::MaxAgeZero => "max-age-zero",
            Code::RampUp => "ramp-up",
            Code::MaxAgeBelowPreload => "max-age-below-preload",
            Code::MaxAgeOverTenYears => "max-age-over-ten-years",
            Code::MaxAgeTooShort => "max-age-too-short",
            Code::MissingIncludeSubdomains => "missing-include-subdomains",
            Code::MissingPreload => "missing-preload",
            Code::EmptyDirective => "empty-directive",
            Code::UnknownDirective => "unknown-directive",
            Code::MaxAgeLeadingZero => "max-age-leading-zero",
            Code::MaxAgeSyntax => "max-age-syntax",
            Code::PreloadValue => "preload-value",
            Code::FieldName => "field-name",
            Code::PreloadReady => "preload-ready",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing lint has to say about a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The stable code.
    pub code: Code,
    /// How much it matters under the profile linted against.
    pub severity: Severity,
    /// What a browser will do, and how to fix it.
    pub message: String,
}

/// The result of [`lint`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The profile linted against.
    pub profile: Profile,
    /// The header as a user agent records it, or why it ignores it.
    pub parsed: Result<StsHeader, HeaderError>,
    /// The findings, errors first, then warnings, then info.
    pub findings: Vec<Finding>,
    preload_ready: bool,
}

impl Report {
    /// Whether browsers use the header (RFC 6797 §6.1).
    pub fn valid(&self) -> bool {
        self.parsed.is_ok()
    }

    /// The header as a user agent records it, if valid.
    pub fn header(&self) -> Option<StsHeader> {
        self.parsed.as_ref().ok().copied()
    }

    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// Whether the header meets hstspreload.org's header rules (whatever the
    /// profile): a year or more, includeSubDomains and preload, and nothing
    /// hstspreload.org refuses. The site's redirects are not checked here.
    pub fn preload_ready(&self) -> bool {
        self.preload_ready
    }

    /// The codes of the findings, in order.
    pub fn codes(&self) -> impl Iterator<Item = Code> + '_ {
        self.findings.iter().map(|f| f.code)
    }
}

/// One step of the staged ramp-up to preloading, as hstspreload.org
/// recommends it: each step stays in place for at least its max-age before
/// the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The header value of this step.
    pub header: StsHeader,
    /// What to verify before sending this step's header.
    pub verify: &'static str,
}

/// The staged ramp-up: 5 minutes, one week, one month, then one year with
/// preload (hstspreload.org and Mozilla suggest two years, 63072000, for
/// the last step; one year is the least the preload list takes).
pub const RAMP_UP: [Step; 4] = [
    Step {
        header: StsHeader {
            max_age: 300,
            include_subdomains: true,
            preload: false,
        },
        verify: "every host under the domain that people or machines use (www, mail, VPN, \
                 intranet, printers, staging) serves https with a valid certificate; http:// \
                 redirects to https:// on the same host; the header is sent on every https \
                 response (`hsts lint` passes)",
    },
    Step {
        header: StsHeader {
            max_age: 604_800,
            include_subdomains: true,
            preload: false,
        },
        verify: "step 1 stayed in place for at least 5 minutes of real traffic with no broken \
                 pages, mixed-content errors or lost visitors, and no subdomain turned up that \
                 cannot do https",
    },
    Step {
        header: StsHeader {
            max_age: 2_592_000,
            include_subdomains: true,
            preload: false,
        },
        verify: "a full week at step 2 with the same checks, including rarely used subdomains \
                 and internal tools; metrics (traffic, errors, support calls) unchanged",
    },
    Step {
        header: StsHeader {
            max_age: ONE_YEAR,
            include_subdomains: true,
            preload: true,
        },
        verify: "a full month at step 3 without problems; `hsts lint --profile preload` passes; \
                 http://domain redirects first to https://domain (not to www); then submit the \
                 domain at https://hstspreload.org (removal from browsers takes months)",
    },
];

/// Lints one `Strict-Transport-Security` field value under `profile`.
///
/// A value that starts with the field name and a colon (a whole header
/// line, as pasted from `curl -I` or a Qlik QMC field) is linted after the
/// colon, with a [`Code::FieldName`] info finding. Byte offsets in the
/// messages count from the start of the value linted.
pub fn lint(value: &str, profile: Profile) -> Report {
    let mut findings = Vec::new();
    let value = match strip_field_name(value) {
        Some(rest) => {
            findings.push(Finding {
                code: Code::FieldName,
                severity: Severity::Info,
                message: "the text starts with the field name \"Strict-Transport-Security:\"; \
                          linted the value after the colon. That is right for a header line \
                          (Qlik's \"Additional response headers\", curl -I output), but if your \
                          server sends this whole text as the value, browsers see the name twice \
                          and ignore the header: configure only the part after the colon"
                    .into(),
            });
            rest
        }
        None => value,
    };
    let raw = value.as_bytes();
    let mut seen = Vec::new();
    let parsed = parse_observed(raw, |s| seen.push(s));
    let mut preload_ready = false;
    match &parsed {
        Err(e) => findings.push(parse_finding(raw, e, &seen)),
        Ok(h) => {
            let under_preload = policy(h, raw, &seen, Profile::Preload);
            preload_ready = under_preload.iter().all(|f| f.severity != Severity::Error);
            if profile == Profile::Preload {
                findings.extend(under_preload);
            } else {
                findings.extend(policy(h, raw, &seen, profile));
            }
            if preload_ready {
                findings.push(Finding {
                    code: Code::PreloadReady,
                    severity: Severity::Info,
                    message: format!(
                        "valid and preload-ready: {} meets hstspreload.org's header rules \
                         (directive names are case-insensitive). Before submitting the domain at \
                         https://hstspreload.org, make sure http:// redirects to https:// on the \
                         same host first and every subdomain serves https",
                        h
                    ),
                });
            }
        }
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    Report {
        profile,
        parsed,
        findings,
        preload_ready,
    }
}

/// The value after a leading `Strict-Transport-Security:`, if present.
fn strip_field_name(value: &str) -> Option<&str> {
    const NAME: &str = "strict-transport-security";
    let v = value.trim_start_matches([' ', '\t']);
    let head = v.get(..NAME.len())?;
    if !head.eq_ignore_ascii_case(NAME) {
        return None;
    }
    let rest = v[NAME.len()..].trim_start_matches([' ', '\t']);
    rest.strip_prefix(':')
}

const IGNORED: &str = "every browser ignores the whole header, as if it had not been sent";

/// The finding for a header the parser refused.
fn parse_finding(raw: &[u8], e: &HeaderError, seen: &[Seen<'_>]) -> Finding {
    let at = e.offset;
    let shown = shown_at(raw, at);
    let (code, message) = match &e.kind {
        HeaderErrorKind::MissingMaxAge => {
            let near = seen.iter().find_map(|s| match s {
                Seen::Directive { name, .. } if near_miss(name) == Some(Known::MaxAge) => {
                    Some(String::from_utf8_lossy(name).into_owned())
                }
                _ => None,
            });
            let what = if raw.iter().all(|b| matches!(b, b' ' | b'\t')) {
                "the value is empty".to_owned()
            } else if let Some(n) = near {
                format!("there is no max-age directive (`{n}` is not max-age)")
            } else {
                "there is no max-age directive, which RFC 6797 §6.1.1 requires".to_owned()
            };
            (
                Code::MissingMaxAge,
                format!("{what}: {IGNORED}. Start with max-age=SECONDS, e.g. max-age=31536000"),
            )
        }
        HeaderErrorKind::DuplicateDirective(name) => {
            let known = matches!(name.as_str(), "max-age" | "includesubdomains");
            let who = if known {
                IGNORED.to_owned()
            } else {
                "RFC 6797 §6.1 says to ignore the whole header, as this engine does (some \
                 browsers tolerate a repeated unknown directive: do not rely on it)"
                    .to_owned()
            };
            (
                Code::DuplicateDirective,
                format!(
                    "the directive {name} appears a second time at byte {at}: {who}. Keep one \
                     (two headers joined into one value also cause this: send one header)"
                ),
            )
        }
        HeaderErrorKind::InvalidMaxAge => {
            let what = if starts_with_ci(&raw[at..], b"max-age") {
                "max-age has no value".to_owned()
            } else {
                format!("max-age={shown} is not a number of seconds")
            };
            (
                Code::InvalidMaxAge,
                format!(
                    "{what} (byte {at}): {IGNORED}. Write the seconds in digits only, e.g. \
                     max-age=31536000 for a year (no units, no sign, no decimals)"
                ),
            )
        }
        HeaderErrorKind::IncludeSubDomainsValue => (
            Code::IncludeSubdomainsValue,
            format!(
                "includeSubDomains has a value ({shown} at byte {at}): {IGNORED}. Write \
                 includeSubDomains alone, with no '='"
            ),
        ),
        HeaderErrorKind::InvalidName => (Code::InvalidName, invalid_name(raw, at, &shown)),
        HeaderErrorKind::InvalidValue => (
            Code::InvalidValue,
            format!(
                "the directive value at byte {at} ({}) is neither a token nor a quoted \
                 string: {IGNORED}. Give a value after '=' or remove the '='",
                if shown.is_empty() {
                    "nothing".to_owned()
                } else {
                    format!("`{shown}`")
                }
            ),
        ),
        HeaderErrorKind::UnterminatedQuote => (
            Code::UnterminatedQuote,
            format!(
                "the quote opened at byte {at} is never closed: {IGNORED}. Close it, or \
                 better, write the value without quotes"
            ),
        ),
        HeaderErrorKind::UnexpectedData if raw.get(at) == Some(&b',') => {
            let fixed = String::from_utf8_lossy(raw).replace(',', ";");
            let fix = match StsHeader::parse(&fixed) {
                Ok(h) => format!("Write: {h}"),
                Err(_) => "Separate directives with ';'".to_owned(),
            };
            (
                Code::CommaSeparator,
                format!(
                    "a comma at byte {at}: directives are separated by ';', never ',', so {IGNORED}, \
                     and the site gets no HSTS at all. {fix} (if two Strict-Transport-Security \
                     headers were joined with a comma by a proxy, send only one)"
                ),
            )
        }
        HeaderErrorKind::UnexpectedData => {
            let hint = match raw.get(at) {
                Some(&b) if b.is_ascii_alphanumeric() => {
                    "a ';' is missing before it: separate directives with ';'"
                }
                Some(b'"') => "a quote may only enclose a whole directive value",
                Some(&b) if b >= 0x80 => {
                    "a non-ASCII character (a typographic quote or dash pasted from a document?) \
                     may only appear inside a quoted value: retype it in plain ASCII"
                }
                _ => "only ';' or the end may follow a directive",
            };
            (
                Code::UnexpectedData,
                format!("unexpected `{shown}` at byte {at}: {IGNORED}. {hint}"),
            )
        }
        HeaderErrorKind::ControlCharacter(c) => (
            Code::ControlCharacter,
            format!(
                "control character 0x{c:02x} at byte {at}{}: {IGNORED}. Put the whole value \
                 on one line with plain spaces",
                if matches!(c, b'\r' | b'\n') {
                    " (a line break pasted into the value?)"
                } else {
                    ""
                }
            ),
        ),
    };
    Finding {
        code,
        severity: Severity::Error,
        message,
    }
}

fn invalid_name(raw: &[u8], at: usize, shown: &str) -> String {
    let hint = match raw.get(at) {
        Some(b'"') | Some(b'\'') if at == first_non_space(raw) => {
            "the value seems to be wrapped in quotes: in nginx, Apache or Caddy the quotes belong \
             to the configuration syntax, not to the header; remove them from the value"
        }
        Some(&b) if b >= 0x80 => {
            "a non-ASCII character (a typographic quote or dash pasted from a document?) cannot \
             start a directive: retype it in plain ASCII"
        }
        Some(b',') => "directives are separated by ';', never ','",
        _ => "a directive name is a token: letters, digits and -._~ and the like",
    };
    format!("`{shown}` at byte {at} cannot start a directive name: {IGNORED}. Hint: {hint}")
}

fn first_non_space(raw: &[u8]) -> usize {
    raw.iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(raw.len())
}

/// Up to 24 characters of `raw` from `at` to the next `;`, for messages,
/// with control characters escaped.
fn shown_at(raw: &[u8], at: usize) -> String {
    let rest = raw.get(at..).unwrap_or_default();
    let end = rest.iter().position(|&b| b == b';').unwrap_or(rest.len());
    let text = String::from_utf8_lossy(&rest[..end]);
    let mut out: String = text
        .trim_end()
        .chars()
        .take(24)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if text.trim_end().chars().count() > 24 {
        out.push('…');
    }
    out
}

fn starts_with_ci(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// The directives lint knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    MaxAge,
    IncludeSubdomains,
    Preload,
}

impl Known {
    fn of(name: &[u8]) -> Option<Known> {
        if name.eq_ignore_ascii_case(b"max-age") {
            Some(Known::MaxAge)
        } else if name.eq_ignore_ascii_case(b"includesubdomains") {
            Some(Known::IncludeSubdomains)
        } else if name.eq_ignore_ascii_case(b"preload") {
            Some(Known::Preload)
        } else {
            None
        }
    }

    fn spelling(self) -> &'static str {
        match self {
            Known::MaxAge => "max-age",
            Known::IncludeSubdomains => "includeSubDomains",
            Known::Preload => "preload",
        }
    }
}

/// The known directive an unknown name was probably meant to be: equal
/// once case, `-` and `_` are ignored, or within two edits of it.
fn near_miss(name: &[u8]) -> Option<Known> {
    if Known::of(name).is_some() || name.len() > 40 {
        return None;
    }
    let squash = |s: &[u8]| -> Vec<u8> {
        s.iter()
            .filter(|b| !matches!(b, b'-' | b'_'))
            .map(u8::to_ascii_lowercase)
            .collect()
    };
    let n = squash(name);
    [
        (Known::MaxAge, &b"maxage"[..]),
        (Known::IncludeSubdomains, &b"includesubdomains"[..]),
        (Known::Preload, &b"preload"[..]),
    ]
    .into_iter()
    .find(|(_, target)| edit_distance(&n, target) <= if target.len() > 6 { 2 } else { 1 })
    .map(|(k, _)| k)
}

/// Levenshtein distance, for short names only.
fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A duration in words: "5 minutes", "7 days", "1 year", "about 3 hours".
pub fn describe_seconds(secs: u64) -> String {
    fn plural(n: u64, unit: &str) -> String {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    }
    const UNITS: [(u64, &str); 4] = [
        (ONE_YEAR, "year"),
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
    ];
    if secs < 60 {
        return plural(secs, "second");
    }
    if let Some((size, unit)) = UNITS
        .into_iter()
        .find(|(size, _)| secs.is_multiple_of(*size))
    {
        return plural(secs / size, unit);
    }
    let (size, unit) = match secs {
        s if s >= 2 * ONE_YEAR => (ONE_YEAR, "year"),
        s if s >= 86_400 => (86_400, "day"),
        s if s >= 3_600 => (3_600, "hour"),
        _ => (60, "minute"),
    };
    let n = secs / size + u64::from(secs % size >= size / 2);
    format!("about {}", plural(n, unit))
}

/// `max-age=N (words)`.
fn max_age_words(secs: u64) -> String {
    format!("max-age={secs} ({})", describe_seconds(secs))
}

/// The findings for a valid header under `profile`.
fn policy(h: &StsHeader, raw: &[u8], seen: &[Seen<'_>], profile: Profile) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |code: Code, severity: Option<Severity>, message: String| {
        if let Some(severity) = severity {
            out.push(Finding {
                code,
                severity,
                message,
            });
        }
    };
    let preload_rules = profile.preload_rules();
    let when = |rule: bool, s: Severity| rule.then_some(s);
    let age = h.max_age;

    if age == 0 {
        push(
            Code::MaxAgeZero,
            Some(if profile == Profile::Rfc {
                Severity::Warning
            } else {
                Severity::Error
            }),
            "max-age=0 disables HSTS: every browser that has this host's policy forgets it \
             (its subdomains too, if the policy had includeSubDomains) and allows http again; \
             only a preloaded name stays https. Send it only to back out of HSTS; to deploy \
             HSTS, send a positive max-age, starting with max-age=300 (`hsts build --plan`)"
                .into(),
        );
    } else if age < ONE_YEAR {
        push(Code::RampUp, Some(Severity::Info), ramp_up_message(age));
    }

    if age > 0 && age < ONE_YEAR {
        let sev = if preload_rules {
            Some(Severity::Error)
        } else {
            when(h.preload, Severity::Warning)
        };
        let lead = if h.preload && !preload_rules {
            "the header asks for preload, but "
        } else {
            ""
        };
        push(
            Code::MaxAgeBelowPreload,
            sev,
            format!(
                "{lead}{} is below the one year (31536000) hstspreload.org requires: it refuses \
                 the submission, and a preloaded domain whose header drops below it can be \
                 removed. Browsers still use the header. Raise it to max-age=31536000 or more \
                 once the ramp-up is done",
                max_age_words(age)
            ),
        );
    }
    if age > TEN_YEARS {
        push(
            Code::MaxAgeOverTenYears,
            when(preload_rules, Severity::Warning),
            format!(
                "{} is over ten years: hstspreload.org warns about it, and browsers cap it \
                 anyway (Chromium keeps a policy at most one year). Use max-age=63072000 \
                 (2 years)",
                max_age_words(age)
            ),
        );
    }
    if age > 0 && age < SIX_MONTHS {
        let who = match profile {
            Profile::Observatory => {
                "the Mozilla Observatory deducts 10 points below six months (15552000)"
            }
            Profile::Ssllabs => {
                "SSL Labs reports HSTS with a max-age under 180 days (15552000) as \"TOO SHORT\", \
                 and testssl.sh flags it"
            }
            _ => {
                "SSL Labs (\"TOO SHORT\"), testssl.sh and the Mozilla Observatory all want at \
                 least 180 days (15552000)"
            }
        };
        push(
            Code::MaxAgeTooShort,
            when(profile.six_month_rule(), Severity::Error),
            format!(
                "{} is too short: {who}. Browsers still use it, but forget the policy {} after \
                 the last visit. Raise it to at least max-age=15552000; a year (31536000) is \
                 what the preload list needs",
                max_age_words(age),
                describe_seconds(age)
            ),
        );
    }

    if !h.include_subdomains {
        let sev = if preload_rules {
            Some(Severity::Error)
        } else {
            when(h.preload, Severity::Warning)
        };
        let lead = if h.preload && !preload_rules {
            "the header asks for preload, which covers every subdomain, but "
        } else {
            ""
        };
        push(
            Code::MissingIncludeSubdomains,
            sev,
            format!(
                "{lead}includeSubDomains is missing: browsers apply the policy to this host \
                 only, so its subdomains can still be reached over http. hstspreload.org \
                 requires it. Add `; includeSubDomains` once every subdomain serves https"
            ),
        );
    }
    if !h.preload {
        push(
            Code::MissingPreload,
            when(preload_rules, Severity::Error),
            "preload is missing: hstspreload.org refuses the submission, and removes a \
             preloaded domain whose header lacks it. Browsers do not need it for the header \
             itself. Add `; preload` when you are ready to submit the domain"
                .into(),
        );
    }

    let mut empty_reported = false;
    let mut unknown = Vec::new();
    for s in seen {
        match *s {
            Seen::Empty(at) => {
                if !empty_reported {
                    empty_reported = true;
                    push(
                        Code::EmptyDirective,
                        when(preload_rules, Severity::Warning),
                        format!(
                            "an empty directive (a stray or trailing ';' near byte {at}): \
                             browsers ignore it, but hstspreload.org warns. Remove the extra ';'"
                        ),
                    );
                }
            }
            Seen::Directive {
                name,
                name_at,
                eq_at,
                value,
            } => match Known::of(name) {
                Some(Known::MaxAge) => {
                    let (start, end) = value.unwrap_or((0, 0));
                    let v = &raw[start..end];
                    let spaced =
                        eq_at.is_some_and(|eq| eq != name_at + name.len() || start != eq + 1);
                    if v.first() == Some(&b'"') || spaced {
                        let what = if spaced {
                            "has white space around '='"
                        } else {
                            "is quoted"
                        };
                        push(
                            Code::MaxAgeSyntax,
                            when(preload_rules, Severity::Error),
                            format!(
                                "max-age {what}: browsers accept it (RFC 6797 allows it), but \
                                 hstspreload.org reads max-age only as `max-age=` followed by \
                                 digits and refuses the header. Write max-age={age}"
                            ),
                        );
                    }
                    let digits = v.strip_prefix(b"\"").unwrap_or(v);
                    if digits.len() > 1 && digits[0] == b'0' && digits[1].is_ascii_digit() {
                        push(
                            Code::MaxAgeLeadingZero,
                            when(preload_rules, Severity::Warning),
                            format!(
                                "max-age has a leading zero: browsers read {age}, but \
                                 hstspreload.org warns. Write max-age={age}"
                            ),
                        );
                    }
                }
                Some(Known::Preload) if value.is_some() => push(
                    Code::PreloadValue,
                    when(preload_rules, Severity::Error),
                    "preload has a value: hstspreload.org does not count `preload=…` as preload \
                     and refuses the header (browsers ignore preload either way). Write preload \
                     alone"
                        .into(),
                ),
                Some(_) => {}
                None => unknown.push((name, name_at)),
            },
        }
    }
    unknown_findings(&unknown, preload_rules, &mut push);
    out
}

/// Findings for unknown directives: each near miss of a known name on its
/// own (a warning in every profile), the rest in one finding.
fn unknown_findings(
    unknown: &[(&[u8], usize)],
    preload_rules: bool,
    push: &mut impl FnMut(Code, Option<Severity>, String),
) {
    const LISTED: usize = 5;
    let mut plain = Vec::new();
    let mut near = 0;
    for &(name, at) in unknown {
        let shown = String::from_utf8_lossy(name);
        match near_miss(name) {
            Some(k) if near < LISTED => {
                near += 1;
                let effect = match k {
                    Known::MaxAge => "max-age is then missing",
                    Known::IncludeSubdomains => "subdomains are NOT covered",
                    Known::Preload => "hstspreload.org sees no preload",
                };
                push(
                    Code::UnknownDirective,
                    Some(Severity::Warning),
                    format!(
                        "`{shown}` at byte {at} is not {}: browsers ignore it, so {effect}. \
                         Write {}",
                        k.spelling(),
                        k.spelling()
                    ),
                );
            }
            _ => plain.push(shown),
        }
    }
    if plain.is_empty() {
        return;
    }
    let mut names = plain
        .iter()
        .take(LISTED)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if plain.len() > LISTED {
        names.push_str(&format!(" and {} more", plain.len() - LISTED));
    }
    push(
        Code::UnknownDirective,
        Some(if preload_rules {
            Severity::Warning
        } else {
            Severity::Info
        }),
        format!(
            "unknown directive{} {names}: browsers ignore {}, hstspreload.org warns. Remove {} \
             unless another tool needs {}",
            if plain.len() == 1 { "" } else { "s" },
            if plain.len() == 1 { "it" } else { "them" },
            if plain.len() == 1 { "it" } else { "them" },
            if plain.len() == 1 { "it" } else { "them" },
        ),
    );
}

/// The info finding for `0 < max_age < ONE_YEAR`.
fn ramp_up_message(age: u64) -> String {
    let steps = "5 minutes, 1 week, 1 month, then 1 year with includeSubDomains and preload";
    let next = RAMP_UP.iter().find(|s| s.header.max_age > age);
    let next = next.map_or(String::new(), |s| {
        format!(
            " Next step, after waiting out the current max-age with no problems: {}",
            s.header
        )
    });
    match RAMP_UP.iter().position(|s| s.header.max_age == age) {
        Some(i) => format!(
            "{} is the max-age of step {} of the staged ramp-up ({steps}; `hsts build --plan`): browsers \
             keep the policy for {} after each visit, so a mistake is cheap to undo.{next}",
            max_age_words(age),
            i + 1,
            describe_seconds(age)
        ),
        None => format!(
            "{} is below a year: fine as a step of a staged ramp-up ({steps}; `hsts build \
             --plan`); browsers keep the policy for {} after each visit.{next}",
            max_age_words(age),
            describe_seconds(age)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_words() {
        assert_eq!(describe_seconds(300), "5 minutes");
        assert_eq!(describe_seconds(604_800), "7 days");
        assert_eq!(describe_seconds(ONE_YEAR), "1 year");
        assert_eq!(describe_seconds(63_072_000), "2 years");
        assert_eq!(describe_seconds(1), "1 second");
        assert_eq!(describe_seconds(1000), "about 17 minutes");
        assert_eq!(describe_seconds(u64::MAX), "about 584942417355 years");
    }

    #[test]
    fn near_misses() {
        assert_eq!(
            near_miss(b"includeSubDomain"),
            Some(Known::IncludeSubdomains)
        );
        assert_eq!(
            near_miss(b"include_subdomains"),
            Some(Known::IncludeSubdomains)
        );
        assert_eq!(near_miss(b"max_age"), Some(Known::MaxAge));
        assert_eq!(near_miss(b"preloaded"), Some(Known::Preload));
        assert_eq!(near_miss(b"prelod"), Some(Known::Preload));
        assert_eq!(near_miss(b"foo"), None);
        assert_eq!(near_miss(b"max-age"), None);
    }

    #[test]
    fn field_name_is_set_aside() {
        assert_eq!(
            strip_field_name("Strict-Transport-Security: max-age=1"),
            Some(" max-age=1")
        );
        assert_eq!(strip_field_name("strict-transport-security :x"), Some("x"));
        assert_eq!(strip_field_name("max-age=1"), None);
        assert_eq!(strip_field_name("strict-transport-securit"), None);
    }

    #[test]
    fn seen_elements() {
        let mut seen = Vec::new();
        parse_observed(b" ; MAX-AGE = \"20\" ;x;", |s| seen.push(s)).unwrap();
        assert_eq!(
            seen,
            [
                Seen::Empty(1),
                Seen::Directive {
                    name: b"MAX-AGE",
                    name_at: 3,
                    eq_at: Some(11),
                    value: Some((13, 17))
                },
                Seen::Directive {
                    name: b"x",
                    name_at: 19,
                    eq_at: None,
                    value: None
                },
                Seen::Empty(21),
            ]
        );
    }
}

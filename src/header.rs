//! The `Strict-Transport-Security` response header field (RFC 6797 §6.1).
//!
//! The grammar, from RFC 6797 §6.1, with the implied linear white space
//! (LWS) of RFC 2616 §2.1 between every pair of adjacent tokens:
//!
//! ```text
//! Strict-Transport-Security = "Strict-Transport-Security" ":"
//!                             [ directive ]  *( ";" [ directive ] )
//! directive                 = directive-name [ "=" directive-value ]
//! directive-name            = token
//! directive-value           = token | quoted-string
//! ```
//!
//! ```
//! use hsts::StsHeader;
//!
//! let h: StsHeader = "max-age=31536000; includeSubDomains; preload".parse().unwrap();
//! assert_eq!(h.max_age, 31_536_000);
//! assert!(h.include_subdomains);
//! assert!(h.preload);
//! assert_eq!(h.to_string(), "max-age=31536000; includeSubDomains; preload");
//!
//! let err = StsHeader::parse("max-age=1; max-age=2").unwrap_err();
//! assert_eq!(err.to_string(), "duplicate directive max-age at byte 11");
//! ```

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

/// A valid `Strict-Transport-Security` header field value.
///
/// Produced by [`StsHeader::parse`]; its [`Display`](fmt::Display) form is a
/// canonical header that parses back to the same value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StsHeader {
    /// The `max-age` directive in seconds (§6.1.1). Values too large for a
    /// `u64` saturate to `u64::MAX`. Zero asks the user agent to forget the host.
    pub max_age: u64,
    /// The valueless `includeSubDomains` directive (§6.1.2).
    pub include_subdomains: bool,
    /// The `preload` directive of hstspreload.org. It is not part of RFC 6797:
    /// it is reported whenever present, whatever value it carries.
    pub preload: bool,
}

/// What was wrong with a header field value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderErrorKind {
    /// RFC 6797 §6.1 requirement 1: the REQUIRED max-age directive is absent.
    #[error("max-age directive missing")]
    MissingMaxAge,
    /// §6.1 requirement 2: a directive name appears more than once.
    #[error("duplicate directive {0}")]
    DuplicateDirective(String),
    /// §6.1.1: the max-age value (after unquoting) is not `1*DIGIT`.
    #[error("max-age value is not delta-seconds")]
    InvalidMaxAge,
    /// §6.1.2: includeSubDomains carries a value.
    #[error("includeSubDomains takes no value")]
    IncludeSubDomainsValue,
    /// A directive name is not an RFC 2616 token.
    #[error("directive name is not a token")]
    InvalidName,
    /// A directive value is neither a token nor a quoted-string.
    #[error("directive value is neither token nor quoted-string")]
    InvalidValue,
    /// A quoted-string has no closing quote.
    #[error("unterminated quoted-string")]
    UnterminatedQuote,
    /// Something other than `;` or the end follows a directive.
    #[error("unexpected data after directive")]
    UnexpectedData,
    /// A control character other than folded white space.
    #[error("control character 0x{0:02x}")]
    ControlCharacter(u8),
}

/// An invalid header field value: the header MUST be ignored as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct HeaderError {
    /// What was wrong.
    pub kind: HeaderErrorKind,
    /// Byte offset in the field value where the problem was found.
    pub offset: usize,
}

impl HeaderError {
    fn new(kind: HeaderErrorKind, offset: usize) -> Self {
        HeaderError { kind, offset }
    }
}

/// RFC 2616 §2.2: `CTL = <any US-ASCII control character (octets 0 - 31) and DEL (127)>`.
fn is_ctl(b: u8) -> bool {
    b < 32 || b == 127
}

/// RFC 2616 §2.2 `separators`.
fn is_separator(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')'
            | b'<'
            | b'>'
            | b'@'
            | b','
            | b';'
            | b':'
            | b'\\'
            | b'"'
            | b'/'
            | b'['
            | b']'
            | b'?'
            | b'='
            | b'{'
            | b'}'
            | b' '
            | b'\t'
    )
}

/// RFC 2616 §2.2: `token = 1*<any CHAR except CTLs or separators>` (CHAR is US-ASCII).
fn is_token_char(b: u8) -> bool {
    b < 128 && !is_ctl(b) && !is_separator(b)
}

/// A cursor over the field value's bytes.
struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
}

/// A directive value as written.
enum Value {
    Token(String),
    Quoted(String),
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn err(&self, kind: HeaderErrorKind) -> HeaderError {
        HeaderError::new(kind, self.pos)
    }

    /// Skips implied LWS: `LWS = [CRLF] 1*( SP | HT )` (RFC 2616 §2.2).
    /// A CR or LF that does not start a fold is a control character.
    fn skip_lws(&mut self) -> Result<(), HeaderError> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t') => self.pos += 1,
                Some(b'\r') => {
                    let fold = self.s.get(self.pos + 1) == Some(&b'\n')
                        && matches!(self.s.get(self.pos + 2), Some(b' ' | b'\t'));
                    if !fold {
                        return Err(self.err(HeaderErrorKind::ControlCharacter(b'\r')));
                    }
                    self.pos += 3;
                }
                Some(b'\n') => return Err(self.err(HeaderErrorKind::ControlCharacter(b'\n'))),
                _ => return Ok(()),
            }
        }
    }

    fn token(&mut self) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(is_token_char) {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    /// `quoted-string = ( <"> *(qdtext | quoted-pair ) <"> )`, with
    /// `qdtext = <any TEXT except <">>` and `quoted-pair = "\" CHAR`.
    /// Returns the unescaped content. The cursor is on the opening quote.
    fn quoted_string(&mut self) -> Result<String, HeaderError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(HeaderError::new(HeaderErrorKind::UnterminatedQuote, open)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                Some(b'\\') => match self.s.get(self.pos + 1) {
                    // CHAR = <any US-ASCII character (octets 0 - 127)>
                    Some(&c) if c < 128 => {
                        out.push(c);
                        self.pos += 2;
                    }
                    Some(_) => {
                        self.pos += 1;
                        return Err(self.err(HeaderErrorKind::InvalidValue));
                    }
                    None => return Err(HeaderError::new(HeaderErrorKind::UnterminatedQuote, open)),
                },
                // TEXT = <any OCTET except CTLs, but including LWS>
                Some(b'\r') => {
                    let fold = self.s.get(self.pos + 1) == Some(&b'\n')
                        && matches!(self.s.get(self.pos + 2), Some(b' ' | b'\t'));
                    if !fold {
                        return Err(self.err(HeaderErrorKind::ControlCharacter(b'\r')));
                    }
                    out.push(b' ');
                    self.pos += 3;
                }
                Some(c) if c == b'\t' || !is_ctl(c) => {
                    out.push(c);
                    self.pos += 1;
                }
                Some(c) => return Err(self.err(HeaderErrorKind::ControlCharacter(c))),
            }
        }
    }

    /// The error for a byte that cannot continue the grammar at this point.
    fn unexpected(&self, fallback: HeaderErrorKind) -> HeaderError {
        match self.peek() {
            Some(c) if is_ctl(c) && c != b'\t' => self.err(HeaderErrorKind::ControlCharacter(c)),
            Some(b'"') if matches!(fallback, HeaderErrorKind::UnexpectedData) => {
                self.err(HeaderErrorKind::UnexpectedData)
            }
            _ => self.err(fallback),
        }
    }
}

impl StsHeader {
    /// Parses one `Strict-Transport-Security` field value, as bytes.
    ///
    /// The field value may hold any octets; non-ASCII is allowed only inside a
    /// quoted-string. On any violation of §6.1 the whole header is invalid
    /// and the error says what and where.
    ///
    /// ```
    /// use hsts::{StsHeader, HeaderErrorKind};
    ///
    /// let h = StsHeader::parse_bytes(b"max-age=\"1\\00\"").unwrap();
    /// assert_eq!(h.max_age, 100); // a quoted-pair is unescaped
    ///
    /// let e = StsHeader::parse_bytes(b"includeSubDomains").unwrap_err();
    /// assert_eq!(e.kind, HeaderErrorKind::MissingMaxAge);
    /// ```
    pub fn parse_bytes(value: &[u8]) -> Result<StsHeader, HeaderError> {
        parse_observed(value, |_| {})
    }

    /// Parses one field value given as a string; see [`StsHeader::parse_bytes`].
    pub fn parse(value: &str) -> Result<StsHeader, HeaderError> {
        Self::parse_bytes(value.as_bytes())
    }
}

/// One element of the directive list as the parser accepted it, for
/// `crate::lint`: the same single pass as [`StsHeader::parse_bytes`], so
/// that lint reads a value exactly as a user agent does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen<'a> {
    /// An empty list element (`;;`, or a `;` at the end), at this offset.
    Empty(usize),
    /// A directive.
    Directive {
        /// The name as sent.
        name: &'a [u8],
        /// Where the name starts.
        name_at: usize,
        /// Where the `=` is, if the directive has a value.
        eq_at: Option<usize>,
        /// The value's raw span (quotes included), if any.
        value: Option<(usize, usize)>,
    },
}

/// [`StsHeader::parse_bytes`], calling `observe` for each list element
/// once it has been accepted.
pub(crate) fn parse_observed<'a>(
    value: &'a [u8],
    mut observe: impl FnMut(Seen<'a>),
) -> Result<StsHeader, HeaderError> {
    let mut lx = Lexer { s: value, pos: 0 };
    let mut seen = Directives::default();
    loop {
        // [ directive ]
        lx.skip_lws()?;
        let name_at = lx.pos;
        let name = lx.token();
        if !name.is_empty() {
            lx.skip_lws()?;
            let eq_at = (lx.peek() == Some(b'=')).then_some(lx.pos);
            let value = directive_value(&mut lx)?;
            let span = value
                .as_ref()
                .map(|(_, at)| (*at, value_end(&lx.s[..lx.pos], *at)));
            seen.take(name, name_at, value)?;
            observe(Seen::Directive {
                name,
                name_at,
                eq_at,
                value: span,
            });
        } else if matches!(lx.peek(), None | Some(b';')) {
            observe(Seen::Empty(name_at));
        }
        // *( ";" [ directive ] )
        match lx.peek() {
            None => break,
            Some(b';') => lx.pos += 1,
            Some(_) if name.is_empty() && lx.pos == name_at => {
                return Err(lx.unexpected(HeaderErrorKind::InvalidName));
            }
            Some(_) => return Err(lx.unexpected(HeaderErrorKind::UnexpectedData)),
        }
    }
    seen.finish(value.len())
}

/// The end of a directive value that starts at `at`, given the input up to
/// the cursor (which is past the value and its trailing LWS).
fn value_end(upto: &[u8], at: usize) -> usize {
    let mut end = upto.len();
    while end > at && matches!(upto[end - 1], b' ' | b'\t' | b'\r' | b'\n') {
        end -= 1;
    }
    end
}

/// `[ "=" directive-value ]` after a directive name, with the offset of
/// the value; the cursor is past the name and its LWS.
fn directive_value(lx: &mut Lexer<'_>) -> Result<Option<(Value, usize)>, HeaderError> {
    if lx.peek() != Some(b'=') {
        return Ok(None);
    }
    lx.pos += 1;
    lx.skip_lws()?;
    let value_at = lx.pos;
    let v = match lx.peek() {
        Some(b'"') => Value::Quoted(lx.quoted_string()?),
        _ => {
            let t = lx.token();
            if t.is_empty() {
                return Err(lx.unexpected(HeaderErrorKind::InvalidValue));
            }
            Value::Token(String::from_utf8_lossy(t).into_owned())
        }
    };
    lx.skip_lws()?;
    Ok(Some((v, value_at)))
}

/// The directives of one field value so far.
#[derive(Default)]
struct Directives {
    max_age: Option<u64>,
    include_subdomains: bool,
    preload: bool,
    /// Lower-cased names already seen, for §6.1 requirement 2. A set, so
    /// that a hostile field of a million distinct unknown directives costs
    /// linear time, not quadratic (std's hasher is keyed per process).
    names: HashSet<Vec<u8>>,
}

impl Directives {
    /// Takes one directive: its name as sent, where the name starts, and
    /// its value with where that starts.
    fn take(
        &mut self,
        name: &[u8],
        name_at: usize,
        value: Option<(Value, usize)>,
    ) -> Result<(), HeaderError> {
        let lower = name.to_ascii_lowercase();
        // "All directives MUST appear only once in an STS header field."
        if self.names.contains(&lower) {
            let name = String::from_utf8_lossy(&lower).into_owned();
            return Err(HeaderError::new(
                HeaderErrorKind::DuplicateDirective(name),
                name_at,
            ));
        }
        match lower.as_slice() {
            b"max-age" => {
                // §6.1.1: max-age-value = delta-seconds = 1*DIGIT, possibly quoted.
                let (v, at) = value
                    .ok_or_else(|| HeaderError::new(HeaderErrorKind::InvalidMaxAge, name_at))?;
                let (Value::Token(digits) | Value::Quoted(digits)) = &v;
                let secs = parse_delta_seconds(digits)
                    .ok_or_else(|| HeaderError::new(HeaderErrorKind::InvalidMaxAge, at))?;
                self.max_age = Some(secs);
            }
            b"includesubdomains" => {
                // §6.1.2: the includeSubDomains directive is valueless.
                if let Some((_, at)) = value {
                    return Err(HeaderError::new(
                        HeaderErrorKind::IncludeSubDomainsValue,
                        at,
                    ));
                }
                self.include_subdomains = true;
            }
            // The hstspreload.org extension: any value is tolerated.
            b"preload" => self.preload = true,
            // §6.1 requirement 5: unknown directives are ignored.
            _ => {}
        }
        self.names.insert(lower);
        Ok(())
    }

    /// The header, if max-age was given (§6.1.1: it is REQUIRED).
    fn finish(self, len: usize) -> Result<StsHeader, HeaderError> {
        match self.max_age {
            Some(max_age) => Ok(StsHeader {
                max_age,
                include_subdomains: self.include_subdomains,
                preload: self.preload,
            }),
            None => Err(HeaderError::new(HeaderErrorKind::MissingMaxAge, len)),
        }
    }
}

/// `delta-seconds = 1*DIGIT`, saturating at `u64::MAX`.
fn parse_delta_seconds(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

impl FromStr for StsHeader {
    type Err = HeaderError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StsHeader::parse(s)
    }
}

impl fmt::Display for StsHeader {
    /// The canonical form: `max-age=N`, then `; includeSubDomains` and
    /// `; preload` when set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "max-age={}", self.max_age)?;
        if self.include_subdomains {
            f.write_str("; includeSubDomains")?;
        }
        if self.preload {
            f.write_str("; preload")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> HeaderErrorKind {
        StsHeader::parse(s).unwrap_err().kind
    }

    #[test]
    fn basic_forms() {
        let h = StsHeader::parse("max-age=10").unwrap();
        assert_eq!(
            (h.max_age, h.include_subdomains, h.preload),
            (10, false, false)
        );
        let h = StsHeader::parse(" ; MAX-AGE = \"20\" ;includesubdomains;;").unwrap();
        assert_eq!((h.max_age, h.include_subdomains), (20, true));
    }

    #[test]
    fn missing_max_age() {
        assert_eq!(kind(""), HeaderErrorKind::MissingMaxAge);
        assert_eq!(kind(";;"), HeaderErrorKind::MissingMaxAge);
        assert_eq!(kind("includeSubDomains"), HeaderErrorKind::MissingMaxAge);
        assert_eq!(kind("max-agex=1"), HeaderErrorKind::MissingMaxAge);
    }

    #[test]
    fn duplicates_case_insensitive_with_offset() {
        let e = StsHeader::parse("max-age=1; MAX-AGE=2").unwrap_err();
        assert_eq!(
            e.kind,
            HeaderErrorKind::DuplicateDirective("max-age".into())
        );
        assert_eq!(e.offset, 11);
        assert_eq!(
            kind("max-age=1; foo=1; FOO=\"2\""),
            HeaderErrorKind::DuplicateDirective("foo".into())
        );
        assert_eq!(
            kind("max-age=1; preload; preload"),
            HeaderErrorKind::DuplicateDirective("preload".into())
        );
    }

    #[test]
    fn max_age_must_be_digits() {
        for bad in ["+1", "-1", "1.5", "1a", "\"\"", "\" 1\"", "1e3", "-0"] {
            assert_eq!(
                kind(&format!("max-age={bad}")),
                HeaderErrorKind::InvalidMaxAge,
                "{bad}"
            );
        }
        assert_eq!(kind("max-age"), HeaderErrorKind::InvalidMaxAge);
        assert_eq!(kind("max-age="), HeaderErrorKind::InvalidValue);
        assert_eq!(StsHeader::parse("max-age=007").unwrap().max_age, 7);
    }

    #[test]
    fn max_age_saturates() {
        assert_eq!(
            StsHeader::parse("max-age=18446744073709551615")
                .unwrap()
                .max_age,
            u64::MAX
        );
        assert_eq!(
            StsHeader::parse("max-age=18446744073709551616")
                .unwrap()
                .max_age,
            u64::MAX
        );
        let long = format!("max-age={}", "9".repeat(10_000));
        assert_eq!(StsHeader::parse(&long).unwrap().max_age, u64::MAX);
    }

    #[test]
    fn include_subdomains_is_valueless() {
        assert_eq!(
            kind("max-age=1; includeSubDomains=\"\""),
            HeaderErrorKind::IncludeSubDomainsValue
        );
        assert_eq!(
            kind("max-age=1; includeSubDomains=true"),
            HeaderErrorKind::IncludeSubDomainsValue
        );
    }

    #[test]
    fn preload_with_value_is_fine() {
        let h = StsHeader::parse("max-age=1; preload=yes").unwrap();
        assert!(h.preload);
    }

    #[test]
    fn unknown_directives() {
        assert!(StsHeader::parse("max-age=1; foo").is_ok());
        assert!(StsHeader::parse("max-age=1; foo=bar").is_ok());
        assert!(StsHeader::parse("max-age=1; foo=\"a;b\\\"c\"").is_ok());
        assert_eq!(
            kind("max-age=1; foo=bar=baz"),
            HeaderErrorKind::UnexpectedData
        );
        assert_eq!(kind("max-age=1; foo=@"), HeaderErrorKind::InvalidValue);
        assert_eq!(kind("max-age=1; (x)"), HeaderErrorKind::InvalidName);
        assert_eq!(
            kind("max-age=1; foo=\"abc"),
            HeaderErrorKind::UnterminatedQuote
        );
    }

    #[test]
    fn separators_and_whitespace() {
        assert_eq!(
            kind("max-age=1 includeSubDomains"),
            HeaderErrorKind::UnexpectedData
        );
        assert_eq!(kind("max-age=1\""), HeaderErrorKind::UnexpectedData);
        assert!(
            StsHeader::parse("max-age=1;\r\n\tincludeSubDomains")
                .unwrap()
                .include_subdomains
        );
        assert_eq!(
            kind("max-age=1;\r\nincludeSubDomains"),
            HeaderErrorKind::ControlCharacter(b'\r')
        );
        assert_eq!(kind("max-age=1\0"), HeaderErrorKind::ControlCharacter(0));
        assert_eq!(
            kind("max-age=1; x\x0b"),
            HeaderErrorKind::ControlCharacter(0x0b)
        );
    }

    #[test]
    fn non_ascii() {
        assert!(StsHeader::parse("max-age=1; foo=\"ü\"").is_ok());
        assert_eq!(kind("mäx-age=1"), HeaderErrorKind::UnexpectedData);
        assert!(StsHeader::parse_bytes(b"max-age=1; foo=\"\xff\"").is_ok());
        assert!(StsHeader::parse_bytes(b"max-age=1; \xff").is_err());
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "max-age=0",
            "max-age=5; includeSubDomains",
            "max-age=5; preload",
        ] {
            let h = StsHeader::parse(s).unwrap();
            assert_eq!(h.to_string(), s);
            assert_eq!(StsHeader::parse(&h.to_string()).unwrap(), h);
        }
    }
}

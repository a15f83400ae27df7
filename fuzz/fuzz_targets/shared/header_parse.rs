//! The header_parse fuzz check (see `fuzz_targets/header_parse.rs`).

use arbitrary::Arbitrary;
use hsts::StsHeader;

/// A piece of a header, chosen so that near-valid inputs are common.
#[derive(Debug, Arbitrary)]
enum Piece {
    MaxAge,
    IncludeSubDomains,
    Preload,
    /// A short token (letters and `-`, from the raw byte).
    Name(u8),
    Equals,
    Semicolon,
    Space,
    Tab,
    Fold,
    Quote,
    Backslash,
    Digits(u64),
    LongDigits(u8),
    /// Any single byte.
    Byte(u8),
    /// A run of raw bytes.
    Raw(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
enum Input {
    Bytes(Vec<u8>),
    Pieces(Vec<Piece>),
}

impl Input {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Input::Bytes(b) => b.clone(),
            Input::Pieces(pieces) => {
                let mut out = Vec::new();
                for p in pieces {
                    match p {
                        Piece::MaxAge => out.extend_from_slice(b"max-age"),
                        Piece::IncludeSubDomains => out.extend_from_slice(b"includeSubDomains"),
                        Piece::Preload => out.extend_from_slice(b"preload"),
                        Piece::Name(n) => {
                            let alphabet = b"aZx-";
                            for i in 0..(n % 5 + 1) {
                                out.push(alphabet[usize::from((n >> i) % 4)]);
                            }
                        }
                        Piece::Equals => out.push(b'='),
                        Piece::Semicolon => out.push(b';'),
                        Piece::Space => out.push(b' '),
                        Piece::Tab => out.push(b'\t'),
                        Piece::Fold => out.extend_from_slice(b"\r\n "),
                        Piece::Quote => out.push(b'"'),
                        Piece::Backslash => out.push(b'\\'),
                        Piece::Digits(d) => out.extend_from_slice(d.to_string().as_bytes()),
                        Piece::LongDigits(n) => {
                            out.extend(std::iter::repeat_n(b'9', usize::from(*n)))
                        }
                        Piece::Byte(b) => out.push(*b),
                        Piece::Raw(r) => out.extend_from_slice(r),
                    }
                }
                out
            }
        }
    }
}

/// Decodes `data` the way `fuzz_target!` decodes a typed input, then checks
/// the properties. Shared by the fuzz target and `tests/fuzz_regressions.rs`.
pub fn run(data: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(arbitrary::Unstructured::new(data)) else {
        return;
    };
    let bytes = input.bytes();
    match StsHeader::parse_bytes(&bytes) {
        Ok(h) => {
            let printed = h.to_string();
            assert_eq!(StsHeader::parse(&printed), Ok(h), "{printed:?}");
            assert_eq!(printed.parse::<StsHeader>(), Ok(h));
        }
        Err(e) => {
            assert!(e.offset <= bytes.len(), "{e:?} for {} bytes", bytes.len());
            let _ = e.to_string();
        }
    }
}

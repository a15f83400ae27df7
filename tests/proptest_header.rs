//! Property tests of the `Strict-Transport-Security` parser (RFC 6797 §6.1).

use hsts::StsHeader;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        // Shrunk failures are kept beside this file (tests/*.proptest-regressions).
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    }
}

/// Pieces that headers are made of, valid and not: directive names in
/// several cases, values, separators, white space, quotes, escapes, folds,
/// control characters and non-ASCII.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"max-age".to_vec()),
        Just(b"MAX-AGE".to_vec()),
        Just(b"Max-Age".to_vec()),
        Just(b"includeSubDomains".to_vec()),
        Just(b"INCLUDESUBDOMAINS".to_vec()),
        Just(b"preload".to_vec()),
        Just(b"foo".to_vec()),
        Just(b"=".to_vec()),
        Just(b";".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\t".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"\r\n ".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\0".to_vec()),
        Just(b",".to_vec()),
        Just(b"@".to_vec()),
        Just(b"-".to_vec()),
        Just("ü".as_bytes().to_vec()),
        Just(b"\xff".to_vec()),
        Just(b"\x7f".to_vec()),
        "[0-9]{1,25}".prop_map(String::into_bytes),
        "[a-zA-Z-]{1,8}".prop_map(String::into_bytes),
    ]
}

fn near_valid() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(fragment(), 0..24).prop_map(|v| v.concat())
}

/// Checks what must hold for any input: no panic (implicit), errors point
/// into the input, and a parsed value prints back to an equal value.
fn check_any(input: &[u8]) -> Result<(), TestCaseError> {
    match StsHeader::parse_bytes(input) {
        Ok(h) => {
            let printed = h.to_string();
            prop_assert_eq!(StsHeader::parse(&printed), Ok(h));
            // A valid header has a max-age directive (§6.1 requirement 1).
            let lower = input.to_ascii_lowercase();
            prop_assert!(lower.windows(7).any(|w| w == b"max-age"));
        }
        Err(e) => {
            prop_assert!(e.offset <= input.len(), "offset {} past the end", e.offset);
            prop_assert!(!e.to_string().is_empty());
        }
    }
    Ok(())
}

/// How a generated directive is written.
#[derive(Debug, Clone)]
struct Directive {
    text: String,
}

/// Optional white space (LWS) around tokens.
fn ws() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(String::new()),
        1 => "[ \t]{1,3}",
        1 => Just("\r\n ".to_owned()),
    ]
}

/// Random letter case for a directive name.
fn recase(name: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<bool>(), name.len()).prop_map(move |up| {
        name.chars()
            .zip(up)
            .map(|(c, u)| {
                if u {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    })
}

/// A max-age value as written: digits (possibly with leading zeros, possibly
/// longer than u64), optionally quoted; and the value it stands for.
fn max_age_value() -> impl Strategy<Value = (String, u64)> {
    prop_oneof![
        any::<u64>().prop_map(|n| (n.to_string(), n)),
        (0u64..1000).prop_map(|n| (n.to_string(), n)),
        ("0{1,5}", 0u64..100).prop_map(|(z, n)| (format!("{z}{n}"), n)),
        "[1-9][0-9]{20,40}".prop_map(|s| (s, u64::MAX)),
    ]
    .prop_flat_map(|(digits, n)| {
        prop_oneof![Just(digits.clone()), Just(format!("\"{digits}\""))]
            .prop_map(move |written| (written, n))
    })
}

/// A header built from a model: max-age, maybe includeSubDomains, maybe
/// preload, maybe unknown directives, in any order, with empty directives
/// and white space sprinkled in. Returns the text and the expected value.
fn valid_header() -> impl Strategy<Value = (String, StsHeader)> {
    (
        max_age_value(),
        recase("max-age"),
        any::<bool>(),
        recase("includesubdomains"),
        any::<bool>(),
        recase("preload"),
        prop::option::of("[a-z]{1,6}"),
        prop::collection::vec(prop::option::of("[a-z]{1,6}|\"[a-z ;=,]{0,6}\""), 0..3),
    )
        .prop_flat_map(
            |((value, n), ma, isd, isd_name, pre, pre_name, pre_value, unknown)| {
                let mut ds = vec![Directive {
                    text: format!("{ma}\u{0}{value}"),
                }];
                if isd {
                    ds.push(Directive { text: isd_name });
                }
                if pre {
                    let text = match &pre_value {
                        Some(v) => format!("{pre_name}\u{0}{v}"),
                        None => pre_name,
                    };
                    ds.push(Directive { text });
                }
                for (i, v) in unknown.iter().enumerate() {
                    // Distinct names: a repeated directive would be invalid.
                    let name = format!("x-ext{i}");
                    let text = match v {
                        Some(v) => format!("{name}\u{0}{v}"),
                        None => name,
                    };
                    ds.push(Directive { text });
                }
                let want = StsHeader {
                    max_age: n,
                    include_subdomains: isd,
                    preload: pre,
                };
                let len = ds.len();
                (
                    Just(ds).prop_shuffle(),
                    prop::collection::vec((ws(), ws(), 0usize..3), len + 1),
                    Just(want),
                )
            },
        )
        .prop_map(|(ds, spacing, want)| {
            let mut text = String::new();
            for (i, d) in ds.iter().enumerate() {
                let (before, around_eq, empties) = &spacing[i];
                // Empty directives: ";" with nothing before it (§6.1 allows them).
                for _ in 0..*empties {
                    text.push_str(before);
                    text.push(';');
                }
                if i > 0 {
                    text.push(';');
                }
                text.push_str(before);
                // "\0" marks where "=" goes, so LWS can surround it.
                text.push_str(&d.text.replace('\0', &format!("{around_eq}={around_eq}")));
                text.push_str(around_eq);
            }
            let (trailing, _, empties) = &spacing[ds.len()];
            for _ in 0..*empties {
                text.push(';');
                text.push_str(trailing);
            }
            (text, want)
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..256)) {
        check_any(&input)?;
    }

    #[test]
    fn near_valid_inputs_never_panic(input in near_valid()) {
        check_any(&input)?;
    }

    #[test]
    fn near_valid_after_max_age_never_panic(tail in near_valid()) {
        let mut input = b"max-age=5;".to_vec();
        input.extend_from_slice(&tail);
        check_any(&input)?;
    }

    #[test]
    fn generated_valid_headers_parse_to_the_model((text, want) in valid_header()) {
        prop_assert_eq!(StsHeader::parse(&text), Ok(want), "header {:?}", text);
    }

    #[test]
    fn display_round_trips(max_age in any::<u64>(), isd in any::<bool>(), preload in any::<bool>()) {
        let h = StsHeader { max_age, include_subdomains: isd, preload };
        let printed = h.to_string();
        prop_assert_eq!(StsHeader::parse(&printed), Ok(h));
    }

    /// A repeated directive makes the whole header invalid (§6.1 requirement 2).
    #[test]
    fn duplicated_directive_is_invalid(
        (text, _) in valid_header(),
        name in prop_oneof![recase("max-age"), recase("includesubdomains"), recase("preload")],
    ) {
        let lower = name.to_ascii_lowercase();
        let dup = if lower == "max-age" { format!("{name}=1") } else { name };
        let input = format!("{text};{dup}");
        // Only a duplicate if the generated header already has that directive.
        let present = match lower.as_str() {
            "max-age" => true,
            other => StsHeader::parse(&text).map(|h| if other == "preload" { h.preload } else { h.include_subdomains }).unwrap_or(false),
        };
        if present {
            prop_assert!(StsHeader::parse(&input).is_err(), "{:?}", input);
        } else {
            prop_assert!(StsHeader::parse(&input).is_ok(), "{:?}", input);
        }
    }
}

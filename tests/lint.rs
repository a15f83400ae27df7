//! `hsts::lint` and `hsts lint`: every code under every profile, the
//! headers of issue #14, and properties tying lint to the parser.

mod cli_support;

use cli_support::hsts;
use hsts::lint::{lint, Code, Profile, Severity};
use hsts::StsHeader;
use proptest::prelude::*;

use Profile::{Observatory, Preload, Rfc, Ssllabs, Strict};

const E: Severity = Severity::Error;
const W: Severity = Severity::Warning;
const I: Severity = Severity::Info;

/// The findings of `value` under `profile`, as (code, severity), sorted.
fn found(value: &str, profile: Profile) -> Vec<(&'static str, Severity)> {
    let mut v: Vec<_> = lint(value, profile)
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.severity))
        .collect();
    v.sort();
    v
}

fn sorted(mut v: Vec<(&'static str, Severity)>) -> Vec<(&'static str, Severity)> {
    v.sort();
    v
}

/// (value, profiles, valid, expected findings).
type Case = (
    &'static str,
    &'static [Profile],
    bool,
    &'static [(&'static str, Severity)],
);

const ALL: &[Profile] = &Profile::ALL;
const NOT_PRELOAD: &[Profile] = &[Rfc, Observatory, Ssllabs];

const CASES: &[Case] = &[
    // The Qlik Sense value: names are case-insensitive; preload-ready everywhere.
    (
        "max-age=31536000;includeSubDomains;Preload",
        ALL,
        true,
        &[("preload-ready", I)],
    ),
    // ... and pasted as the whole header line.
    (
        "Strict-Transport-Security: max-age=31536000;includeSubDomains;Preload",
        ALL,
        true,
        &[("field-name", I), ("preload-ready", I)],
    ),
    // The first step of the staged ramp-up.
    ("max-age=300", &[Rfc], true, &[("ramp-up", I)]),
    (
        "max-age=300",
        &[Preload],
        true,
        &[
            ("max-age-below-preload", E),
            ("missing-include-subdomains", E),
            ("missing-preload", E),
            ("ramp-up", I),
        ],
    ),
    (
        "max-age=300",
        &[Observatory, Ssllabs],
        true,
        &[("max-age-too-short", E), ("ramp-up", I)],
    ),
    (
        "max-age=300",
        &[Strict],
        true,
        &[
            ("max-age-below-preload", E),
            ("max-age-too-short", E),
            ("missing-include-subdomains", E),
            ("missing-preload", E),
            ("ramp-up", I),
        ],
    ),
    // Domino's default week: too short for SSL Labs.
    (
        "max-age=604800",
        &[Ssllabs, Observatory],
        true,
        &[("max-age-too-short", E), ("ramp-up", I)],
    ),
    ("max-age=604800", &[Rfc], true, &[("ramp-up", I)]),
    // Domino's fix: two years with includeSubDomains.
    (
        "max-age=63072000; includeSubDomains",
        NOT_PRELOAD,
        true,
        &[],
    ),
    (
        "max-age=63072000; includeSubDomains",
        &[Preload, Strict],
        true,
        &[("missing-preload", E)],
    ),
    // Six months and a bit: enough for the Observatory and SSL Labs, not for preload.
    (
        "max-age=20000000",
        &[Observatory, Ssllabs],
        true,
        &[("ramp-up", I)],
    ),
    // max-age=0 disables HSTS.
    ("max-age=0", &[Rfc], true, &[("max-age-zero", W)]),
    (
        "max-age=0",
        &[Observatory, Ssllabs],
        true,
        &[("max-age-zero", E)],
    ),
    (
        "max-age=0",
        &[Preload, Strict],
        true,
        &[
            ("max-age-zero", E),
            ("missing-include-subdomains", E),
            ("missing-preload", E),
        ],
    ),
    // The guide's trailing ';': valid for browsers, a warning under preload.
    (
        "max-age=31536000; includeSubDomains; preload;",
        NOT_PRELOAD,
        true,
        &[("preload-ready", I)],
    ),
    (
        "max-age=31536000; includeSubDomains; preload;",
        &[Preload, Strict],
        true,
        &[("empty-directive", W), ("preload-ready", I)],
    ),
    (
        "max-age=300;",
        &[Preload],
        true,
        &[
            ("empty-directive", W),
            ("max-age-below-preload", E),
            ("missing-include-subdomains", E),
            ("missing-preload", E),
            ("ramp-up", I),
        ],
    ),
    // A preload directive with too little to back it.
    (
        "max-age=300; includeSubDomains; preload",
        &[Rfc],
        true,
        &[("max-age-below-preload", W), ("ramp-up", I)],
    ),
    (
        "max-age=31536000; preload",
        NOT_PRELOAD,
        true,
        &[("missing-include-subdomains", W)],
    ),
    (
        "max-age=31536000; preload",
        &[Preload],
        true,
        &[("missing-include-subdomains", E)],
    ),
    // hstspreload.org's parse warnings and refusals.
    (
        "max-age=400000000; includeSubDomains; preload",
        &[Preload, Strict],
        true,
        &[("max-age-over-ten-years", W), ("preload-ready", I)],
    ),
    (
        "max-age=400000000; includeSubDomains; preload",
        NOT_PRELOAD,
        true,
        &[("preload-ready", I)],
    ),
    (
        "max-age=031536000; includeSubDomains; preload",
        &[Preload],
        true,
        &[("max-age-leading-zero", W), ("preload-ready", I)],
    ),
    (
        "max-age=\"31536000\"; includeSubDomains; preload",
        &[Preload, Strict],
        true,
        &[("max-age-syntax", E)],
    ),
    (
        "max-age=\"31536000\"; includeSubDomains; preload",
        NOT_PRELOAD,
        true,
        &[],
    ),
    (
        "max-age = 31536000; includeSubDomains; preload",
        &[Preload],
        true,
        &[("max-age-syntax", E)],
    ),
    (
        "max-age=31536000; includeSubDomains; preload=yes",
        &[Preload],
        true,
        &[("preload-value", E)],
    ),
    (
        "max-age=31536000; includeSubDomains; preload=yes",
        &[Rfc],
        true,
        &[],
    ),
    (
        "max-age=31536000; includeSubDomains; preload; report-uri=\"/r\"",
        &[Preload],
        true,
        &[("preload-ready", I), ("unknown-directive", W)],
    ),
    (
        "max-age=31536000; includeSubDomains; preload; report-uri=\"/r\"",
        &[Rfc],
        true,
        &[("preload-ready", I), ("unknown-directive", I)],
    ),
    // A misspelt includeSubDomains: a warning everywhere.
    (
        "max-age=31536000; includeSubDomain",
        NOT_PRELOAD,
        true,
        &[("unknown-directive", W)],
    ),
    (
        "max-age=31536000; includeSubDomain",
        &[Preload],
        true,
        &[
            ("missing-include-subdomains", E),
            ("missing-preload", E),
            ("unknown-directive", W),
        ],
    ),
    // Invalid for every browser, whatever the profile.
    (
        "max-age=31536000, includeSubDomains",
        ALL,
        false,
        &[("comma-separator", E)],
    ),
    ("", ALL, false, &[("missing-max-age", E)]),
    ("includeSubDomains", ALL, false, &[("missing-max-age", E)]),
    ("max_age=300", ALL, false, &[("missing-max-age", E)]),
    (
        "max-age=1; max-age=2",
        ALL,
        false,
        &[("duplicate-directive", E)],
    ),
    ("max-age=1y", ALL, false, &[("invalid-max-age", E)]),
    ("max-age", ALL, false, &[("invalid-max-age", E)]),
    (
        "max-age=1; includeSubDomains=true",
        ALL,
        false,
        &[("include-subdomains-value", E)],
    ),
    ("\"max-age=31536000\"", ALL, false, &[("invalid-name", E)]),
    ("“max-age=31536000”", ALL, false, &[("invalid-name", E)]),
    ("max-age=", ALL, false, &[("invalid-value", E)]),
    (
        "max-age=1; foo=\"abc",
        ALL,
        false,
        &[("unterminated-quote", E)],
    ),
    (
        "max-age=1 includeSubDomains",
        ALL,
        false,
        &[("unexpected-data", E)],
    ),
    (
        "max-age=1;\nincludeSubDomains",
        ALL,
        false,
        &[("control-character", E)],
    ),
];

#[test]
fn every_case_under_its_profiles() {
    for &(value, profiles, valid, expected) in CASES {
        for &p in profiles {
            let r = lint(value, p);
            assert_eq!(r.valid(), valid, "{value:?} under {p}");
            assert_eq!(
                found(value, p),
                sorted(expected.to_vec()),
                "{value:?} under {p}: {:#?}",
                r.findings
            );
        }
    }
}

#[test]
fn every_code_is_covered_by_a_case_and_documented() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for code in Code::ALL {
        assert!(
            CASES
                .iter()
                .any(|c| c.3.iter().any(|(s, _)| *s == code.as_str())),
            "no case for {code}"
        );
        assert!(
            readme.contains(&format!("| `{code}` |")),
            "{code} is not in README's table"
        );
    }
}

#[test]
fn messages_say_what_browsers_do_and_how_to_fix() {
    let msg = |v: &str, p: Profile, c: Code| {
        lint(v, p)
            .findings
            .into_iter()
            .find(|f| f.code == c)
            .unwrap_or_else(|| panic!("{v:?}: no {c}"))
            .message
    };
    let m = msg("max-age=300", Rfc, Code::RampUp);
    assert!(
        m.contains("staged ramp-up") && m.contains("max-age=604800"),
        "{m}"
    );
    let m = msg("max-age=604800", Ssllabs, Code::MaxAgeTooShort);
    assert!(m.contains("too short") && m.contains("TOO SHORT"), "{m}");
    assert!(m.contains("max-age=15552000"), "{m}");
    let m = msg("max-age=0", Rfc, Code::MaxAgeZero);
    assert!(m.contains("disables HSTS"), "{m}");
    let m = msg(
        "max-age=31536000, includeSubDomains",
        Rfc,
        Code::CommaSeparator,
    );
    assert!(m.contains("every browser ignores the whole header"), "{m}");
    assert!(
        m.contains("Write: max-age=31536000; includeSubDomains"),
        "{m}"
    );
    let m = msg(
        "max-age=31536000; includeSubDomains; preload;",
        Preload,
        Code::EmptyDirective,
    );
    assert!(m.contains("browsers ignore it"), "{m}");
    let m = msg("max_age=300", Rfc, Code::MissingMaxAge);
    assert!(m.contains("`max_age` is not max-age"), "{m}");
    let m = msg("\"max-age=1\"", Rfc, Code::InvalidName);
    assert!(m.contains("wrapped in quotes"), "{m}");
    let m = msg(
        "max-age=31536000; includeSubDomain",
        Rfc,
        Code::UnknownDirective,
    );
    assert!(m.contains("subdomains are NOT covered"), "{m}");
    // Parse-error messages carry the byte offset.
    let m = msg("max-age=1; max-age=2", Rfc, Code::DuplicateDirective);
    assert!(m.contains("byte 11"), "{m}");
}

#[test]
fn unknown_directives_are_summarised() {
    let many: String = (0..100).map(|i| format!("; x{i}")).collect();
    let r = lint(&format!("max-age=1{many}"), Preload);
    let unknown: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == Code::UnknownDirective)
        .collect();
    assert_eq!(unknown.len(), 1);
    assert!(
        unknown[0].message.contains("and 95 more"),
        "{}",
        unknown[0].message
    );
}

#[test]
fn profiles_parse_by_name() {
    for p in Profile::ALL {
        assert_eq!(p.as_str().parse::<Profile>().unwrap(), p);
    }
    assert!("pshtt".parse::<Profile>().is_err());
}

/// Header-like values: directives from a small vocabulary with white
/// space, quotes, case and empty elements.
fn header_like() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("max-age"),
        Just("MAX-AGE"),
        Just("includeSubDomains"),
        Just("includesubdomains"),
        Just("preload"),
        Just("Preload"),
        Just("foo"),
        Just("report-uri"),
        Just(""),
    ];
    let value = prop_oneof![
        Just(None),
        "[0-9]{1,12}".prop_map(Some),
        "\"[0-9]{1,25}\"".prop_map(Some),
        "[a-z]{1,5}".prop_map(Some),
    ];
    let ws = prop_oneof![Just(""), Just(" "), Just("\t"), Just("  ")];
    let directive = (ws.clone(), name, ws.clone(), value, ws).prop_map(|(a, n, b, v, c)| match v {
        Some(v) if !n.is_empty() => format!("{a}{n}{b}={b}{v}{c}"),
        _ => format!("{a}{n}{c}"),
    });
    proptest::collection::vec(directive, 1..6).prop_map(|d| d.join(";"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Whatever our parser accepts lints without an error under rfc, and
    /// lint's validity is the parser's.
    #[test]
    fn accepted_headers_lint_without_error_under_rfc(v in prop_oneof![header_like(), any::<String>()]) {
        let parsed = StsHeader::parse(&v);
        let r = lint(&v, Rfc);
        if !v.trim_start().to_ascii_lowercase().starts_with("strict-transport-security") {
            prop_assert_eq!(r.valid(), parsed.is_ok());
            prop_assert_eq!(r.header(), parsed.as_ref().ok().copied());
        }
        if parsed.is_ok() {
            prop_assert!(!r.has_errors(), "{:?}: {:#?}", v, r.findings);
        }
        if !r.valid() {
            prop_assert_eq!(r.findings.iter().filter(|f| f.severity == E).count(), 1);
        }
    }

    /// strict reports every code another profile reports, at least as
    /// severe; every profile agrees on validity and preload-readiness.
    #[test]
    fn strict_is_the_union(v in header_like()) {
        let strict = lint(&v, Strict);
        for p in [Rfc, Preload, Observatory, Ssllabs] {
            let r = lint(&v, p);
            prop_assert_eq!(r.valid(), strict.valid());
            prop_assert_eq!(r.preload_ready(), strict.preload_ready());
            for f in &r.findings {
                prop_assert!(
                    strict.findings.iter().any(|s| s.code == f.code && s.severity >= f.severity),
                    "{:?}: {} under {} missing from strict", v, f.code, p
                );
            }
        }
    }
}

// The CLI.

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn cli_exit_status_follows_errors() {
    let ok = hsts(&["lint", "max-age=31536000;includeSubDomains;Preload"], b"");
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    assert!(
        stdout(&ok).contains("valid, preload-ready"),
        "{}",
        stdout(&ok)
    );
    let bad = hsts(
        &["lint", "max-age=300", "max-age=1, includeSubDomains"],
        b"",
    );
    assert_eq!(bad.status.code(), Some(1));
    let out = stdout(&bad);
    assert!(out.contains("info ramp-up:"), "{out}");
    assert!(out.contains("error comma-separator:"), "{out}");
    let short = hsts(&["lint", "--profile", "ssllabs", "max-age=604800"], b"");
    assert_eq!(short.status.code(), Some(1));
    assert!(stdout(&short).contains("too short"));
    let usage = hsts(&["lint", "--profile", "pshtt", "max-age=1"], b"");
    assert_eq!(usage.status.code(), Some(2));
    let none = hsts(&["lint"], b"");
    assert_eq!(none.status.code(), Some(2));
}

#[test]
fn cli_json_one_object_per_value() {
    let o = hsts(
        &[
            "lint",
            "--json",
            "--profile",
            "preload",
            "max-age=31536000; includeSubDomains; preload;",
            "max-age=31536000, includeSubDomains",
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0]["value"],
        "max-age=31536000; includeSubDomains; preload;"
    );
    assert_eq!(lines[0]["valid"], true);
    assert_eq!(lines[0]["preload_ready"], true);
    assert_eq!(lines[0]["profile"], "preload");
    assert_eq!(lines[0]["max_age"], 31_536_000);
    assert_eq!(lines[0]["findings"][0]["code"], "empty-directive");
    assert_eq!(lines[0]["findings"][0]["severity"], "warning");
    assert!(lines[0]["findings"][0]["message"].is_string());
    assert_eq!(lines[1]["valid"], false);
    assert_eq!(lines[1]["max_age"], serde_json::Value::Null);
    assert_eq!(lines[1]["findings"][0]["code"], "comma-separator");
    assert_eq!(lines[1]["findings"][0]["severity"], "error");
}

#[test]
fn cli_stdin_one_value_per_line_with_bounded_lines() {
    let o = hsts(&["lint", "--json", "-"], b"max-age=300\n\nmax-age=0\r\n");
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.contains("\"value\":\"max-age=0\""), "{out}");

    let mut input = b"max-age=1\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', (1 << 20) + 1));
    input.extend(b"\nmax-age=2\n");
    let o = hsts(&["lint", "--json", "-"], &input);
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[1]["valid"], false);
    assert!(lines[1]["error"]
        .as_str()
        .unwrap()
        .contains("longer than the 1048576-byte limit"));
    assert_eq!(lines[2]["value"], "max-age=2");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("stdin line 2"), "{stderr}");
}

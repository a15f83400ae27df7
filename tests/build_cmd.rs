//! `hsts build`: each server's snippet carries a header that parses back
//! to the value built; --preload refusals; durations; --plan.

mod cli_support;

use cli_support::hsts;
use hsts::lint::{lint, Profile};
use hsts::StsHeader;

fn out(args: &[&str]) -> (i32, String, String) {
    let o = hsts(args, b"");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

/// The text between `open` and the next `close` after it, on the line
/// containing `marker`.
fn between<'a>(snippet: &'a str, marker: &str, open: &str, close: &str) -> &'a str {
    let line = snippet
        .lines()
        .find(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("no {marker:?} in\n{snippet}"));
    let start = line.find(open).unwrap() + open.len();
    let end = line[start..].find(close).unwrap() + start;
    &line[start..end]
}

/// The header value a server would send with this snippet.
fn header_of(server: &str, snippet: &str) -> String {
    const STS: &str = "Strict-Transport-Security";
    match server {
        "apache" | "caddy" | "haproxy" => between(snippet, STS, &format!("{STS} \""), "\"").into(),
        "nginx" => between(
            snippet,
            "add_header Strict",
            &format!("{STS} \""),
            "\" always;",
        )
        .into(),
        "iis" => between(snippet, "<action", "value=\"", "\"").into(),
        "qlik" => snippet
            .trim_end()
            .strip_prefix(&format!("{STS}: "))
            .unwrap()
            .into(),
        "wordpress" => between(snippet, "header(", &format!("'{STS}: "), "'").into(),
        "domino" => {
            let get = |k: &str| {
                snippet
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{k}=")))
                    .map(str::to_owned)
            };
            if let Some(whole) = get("DOMINO_HSTS_HEADER") {
                return whole;
            }
            let mut h = format!("max-age={}", get("HTTP_HSTS_MAX_AGE").unwrap());
            if get("HTTP_HSTS_INCLUDE_SUBDOMAINS").as_deref() == Some("1") {
                h.push_str("; includeSubDomains");
            }
            h
        }
        other => panic!("no extractor for {other}"),
    }
}

const SERVERS: [&str; 8] = [
    "apache",
    "nginx",
    "iis",
    "caddy",
    "haproxy",
    "qlik",
    "domino",
    "wordpress",
];

#[test]
fn each_snippet_parses_back_to_the_value_built() {
    let variants: [&[&str]; 4] = [
        &["--max-age", "5m"],
        &["--max-age", "1w", "--include-subdomains"],
        &["--max-age", "1y", "--include-subdomains", "--preload"],
        &["--max-age", "2y", "--include-subdomains", "--preload"],
    ];
    for flags in variants {
        let (code, bare, _) = out(&[&["build"], flags].concat());
        assert_eq!(code, 0, "{flags:?}");
        let built = StsHeader::parse(bare.trim_end()).unwrap();
        for server in SERVERS {
            let (code, snippet, _) = out(&[&["build"], flags, &["--for", server]].concat());
            assert_eq!(code, 0, "{server} {flags:?}");
            let sent = header_of(server, &snippet);
            assert_eq!(
                StsHeader::parse(&sent),
                Ok(built),
                "{server} {flags:?}: {sent:?} in\n{snippet}"
            );
            assert!(!lint(&sent, Profile::Rfc).has_errors(), "{server}: {sent}");
        }
    }
}

#[test]
fn bare_values_and_durations() {
    for (d, secs) in [
        ("300", 300u64),
        ("5m", 300),
        ("1w", 604_800),
        ("1y", 31_536_000),
        ("2y", 63_072_000),
    ] {
        let (code, o, _) = out(&["build", "--max-age", d]);
        assert_eq!((code, o), (0, format!("max-age={secs}\n")), "{d}");
    }
    let (_, o, _) = out(&[
        "build",
        "--max-age",
        "2y",
        "--include-subdomains",
        "--preload",
    ]);
    assert_eq!(o, "max-age=63072000; includeSubDomains; preload\n");
    let r = lint(o.trim_end(), Profile::Preload);
    assert!(r.preload_ready() && r.findings.len() == 1, "{r:?}");
}

#[test]
fn bad_durations_are_usage_errors_with_the_reason() {
    for (d, why) in [
        ("", "empty duration"),
        ("1.5y", "is not a number of seconds"),
        ("-1", "is not a number of seconds"),
        ("1yr", "unknown unit \"yr\""),
        ("5M", "unknown unit \"M\""),
        ("18446744073709551616", "more seconds than fit in 64 bits"),
        ("600000000000y", "more seconds than fit in 64 bits"),
    ] {
        let (code, o, err) = out(&["build", &format!("--max-age={d}")]);
        assert_eq!(code, 2, "{d}: {o}");
        assert!(err.contains(why), "{d}: {err}");
    }
}

#[test]
fn preload_is_refused_below_a_year_or_without_include_subdomains() {
    let (code, o, err) = out(&[
        "build",
        "--max-age",
        "1w",
        "--include-subdomains",
        "--preload",
    ]);
    assert_eq!((code, o.as_str()), (2, ""));
    assert!(err.contains("refusing --preload"), "{err}");
    assert!(err.contains("below the one year (31536000)"), "{err}");
    assert!(!err.contains("includeSubDomains is missing"), "{err}");

    let (code, _, err) = out(&["build", "--max-age", "1y", "--preload"]);
    assert_eq!(code, 2);
    assert!(err.contains("includeSubDomains is missing"), "{err}");
    assert!(!err.contains("below the one year"), "{err}");

    let (code, _, err) = out(&["build", "--max-age", "300", "--preload", "--for", "nginx"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("below the one year") && err.contains("includeSubDomains is missing"),
        "{err}"
    );
    let (code, _, err) = out(&[
        "build",
        "--max-age",
        "31535999",
        "--include-subdomains",
        "--preload",
    ]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn plan_prints_the_staged_ramp_up() {
    let (code, o, _) = out(&["build", "--plan"]);
    assert_eq!(code, 0);
    let steps: Vec<&str> = o.lines().filter(|l| l.starts_with("step ")).collect();
    assert_eq!(
        steps,
        [
            "step 1: max-age=300; includeSubDomains (5 minutes)",
            "step 2: max-age=604800; includeSubDomains (7 days)",
            "step 3: max-age=2592000; includeSubDomains (30 days)",
            "step 4: max-age=31536000; includeSubDomains; preload (1 year)",
        ]
    );
    assert_eq!(o.matches("verify first:").count(), 4, "{o}");
    // The last step is what the preload list takes.
    let last = steps[3]
        .strip_prefix("step 4: ")
        .unwrap()
        .strip_suffix(" (1 year)")
        .unwrap();
    assert!(lint(last, Profile::Preload).preload_ready());

    let (code, _, err) = out(&["build", "--plan", "--max-age", "1y"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = out(&["build"]);
    assert_eq!(code, 2);
}

#[test]
fn iis_rule_applies_over_https_only() {
    let (_, o, _) = out(&["build", "--max-age", "1y", "--for", "iis"]);
    assert!(o.contains("<add input=\"{HTTPS}\" pattern=\"on\""), "{o}");
    assert!(o.contains("serverVariable=\"RESPONSE_Strict_Transport_Security\""));
}

//! What a newcomer hit (issue 13, section 2): each item through the CLI or
//! the library.

mod cli_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cli_support::{run, HSTS, NOW};

/// `hsts ARGS` (with the built-in list), fed `stdin`, with `envs` set.
fn hsts_env(args: &[&str], stdin: &[u8], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(HSTS);
    cmd.args(args).env_remove("HSTS_QUIET");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    run(cmd, stdin)
}

/// `hsts ARGS` with the built-in list.
fn hsts(args: &[&str], stdin: &[u8]) -> Output {
    hsts_env(args, stdin, &[])
}

/// `hsts --no-preload --now NOW --store STORE ARGS`.
fn on(store: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--no-preload", "--now", NOW, "--store", s(store)];
    all.extend_from_slice(args);
    hsts(&all, b"")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

#[track_caller]
fn ok(o: &Output) -> String {
    assert_eq!(code(o), 0, "stdout: {}\nstderr: {}", out(o), err(o));
    out(o)
}

/// Long after the built-in list's date (2026-06-01): it is stale.
const LATE: &str = "2027-06-01T00:00:00Z";

fn warnings(o: &Output) -> usize {
    err(o).matches("warning").count()
}

#[test]
fn the_stale_list_warning_is_printed_once_only_where_the_list_is_used_and_can_be_silenced() {
    // Used by check: one warning for two hosts, naming how to update.
    let o = hsts(&["--now", LATE, "check", "a.example", "b.example"], b"");
    ok(&o);
    assert_eq!(warnings(&o), 1, "{}", err(&o));
    assert!(err(&o).contains("hsts preload compile"), "{}", err(&o));
    // Over stdin as well: still once.
    let o = hsts(&["--now", LATE, "check", "-"], b"a.example\nb.example\n");
    assert_eq!(warnings(&o), 1, "{}", err(&o));
    // Commands that never consult the list: no warning.
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("t.bin");
    let sample = sample_path();
    for args in [
        &["--now", LATE, "parse", "max-age=1"][..],
        &["--now", LATE, "lint", "max-age=31536000"][..],
        &["--now", LATE, "build", "--max-age", "1y"][..],
        &[
            "--now",
            LATE,
            "preload",
            "compile",
            s(&sample),
            "-o",
            s(&table),
            "--date",
            "2026-06-01",
        ][..],
    ] {
        let o = hsts(args, b"");
        assert!(o.status.code().is_some(), "{args:?}");
        assert_eq!(warnings(&o), 0, "{args:?}: {}", err(&o));
    }
    // --quiet (global, after the command too) and HSTS_QUIET silence it.
    let o = hsts(&["--now", LATE, "check", "--quiet", "a.example"], b"");
    assert_eq!(ok(&o), "a.example\thttp\n");
    assert_eq!(err(&o), "");
    let o = hsts(&["-q", "--now", LATE, "rewrite", "http://a.example/"], b"");
    assert_eq!(err(&o), "");
    let o = hsts_env(
        &["--now", LATE, "check", "a.example"],
        b"",
        &[("HSTS_QUIET", "1")],
    );
    assert_eq!(err(&o), "");
    // HSTS_QUIET=0 does not silence.
    let o = hsts_env(
        &["--now", LATE, "check", "a.example"],
        b"",
        &[("HSTS_QUIET", "0")],
    );
    assert_eq!(warnings(&o), 1);
}

fn sample_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/chromium-published-sample.json")
}

#[test]
fn preload_compile_needs_a_date_that_is_not_in_the_future_and_reads_the_file_as_published() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("t.bin");
    let sample = sample_path();
    let compile = |extra: &[&str]| {
        let mut args = vec![
            "--now",
            "2026-07-01T00:00:00Z",
            "preload",
            "compile",
            s(&sample),
            "-o",
            s(&table),
        ];
        args.extend_from_slice(extra);
        hsts(&args, b"")
    };
    // No date: a usage error, nothing written.
    let o = compile(&[]);
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(err(&o).contains("--date"), "{}", err(&o));
    assert!(!table.exists());
    // A date after --now: refused.
    let o = compile(&["--date", "2026-07-02"]);
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(err(&o).contains("in the future"), "{}", err(&o));
    assert!(!table.exists());
    // The sample has Chromium's `//` comment lines: compiled as it is.
    let o = compile(&["--date", "2026-06-01"]);
    let text = ok(&o);
    assert!(
        text.starts_with("compiled 5 entries into ") && text.ends_with(" (0 skipped)\n"),
        "{text}"
    );
    let o = hsts(
        &[
            "--now",
            "2026-07-01T00:00:00Z",
            "--preload",
            s(&table),
            "preload",
            "info",
            "--json",
        ],
        b"",
    );
    let v: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(v["date"], "2026-06-01");
    assert_eq!(v["entries"], 5);
    let o = hsts(
        &[
            "--now",
            "2026-07-01T00:00:00Z",
            "--preload",
            s(&table),
            "check",
            "x.mail.google.com",
            "plain.example",
            "x.plain.example",
        ],
        b"",
    );
    assert_eq!(
        ok(&o),
        "x.mail.google.com\thttps\nplain.example\thttps\nx.plain.example\thttp\n"
    );
}

/// A store with two entries, one with includeSubDomains.
fn seeded(dir: &Path) -> PathBuf {
    let store = dir.join("s.bin");
    ok(&on(
        &store,
        &[
            "observe",
            "https://a.example/",
            "max-age=600; includeSubDomains",
        ],
    ));
    ok(&on(
        &store,
        &["observe", "https://b.example/", "max-age=900"],
    ));
    store
}

fn listed(store: &Path) -> String {
    ok(&on(store, &["list"]))
}

#[test]
fn export_then_import_round_trips_in_every_format_without_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(dir.path());
    let want = listed(&store);
    for (i, format) in [None, Some("json"), Some("curl"), Some("binary")]
        .into_iter()
        .enumerate()
    {
        let file = dir.path().join(format!("export-{i}"));
        let mut args = vec!["export", "-o", s(&file)];
        if let Some(f) = format {
            args.extend(["--format", f]);
        }
        ok(&on(&store, &args));
        let fresh = dir.path().join(format!("fresh-{i}.bin"));
        let o = on(&fresh, &["import", s(&file)]);
        assert!(
            ok(&o).starts_with("read 2, added 2,"),
            "{format:?}: {}",
            out(&o)
        );
        let got = listed(&fresh);
        if format == Some("curl") {
            // curl keeps no observation time: compare names and flags.
            let names = |t: &str| -> Vec<String> {
                t.lines()
                    .map(|l| l.split('\t').take(2).collect::<Vec<_>>().join("\t"))
                    .collect()
            };
            assert_eq!(names(&got), names(&want));
        } else {
            assert_eq!(got, want, "{format:?}");
        }
    }
    // `list --json` reads back with `import --format json`, and without.
    let lines = dir.path().join("list.jsonl");
    std::fs::write(&lines, ok(&on(&store, &["list", "--json"]))).unwrap();
    for args in [
        &["import", "--format", "json", s(&lines)][..],
        &["import", s(&lines)][..],
    ] {
        let fresh = dir.path().join("from-list.bin");
        let _ = std::fs::remove_file(&fresh);
        let o = on(&fresh, args);
        assert!(ok(&o).starts_with("read 2, added 2,"), "{}", err(&o));
        assert_eq!(listed(&fresh), want);
    }
    // A bare array of entries too.
    let array = dir.path().join("array.json");
    let objects: Vec<serde_json::Value> = ok(&on(&store, &["list", "--json"]))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    std::fs::write(&array, serde_json::to_string(&objects).unwrap()).unwrap();
    let fresh = dir.path().join("from-array.bin");
    ok(&on(&fresh, &["import", s(&array)]));
    assert_eq!(listed(&fresh), want);
}

#[test]
fn an_import_that_imports_nothing_fails() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.bin");
    let empty_doc = dir.path().join("empty.json");
    std::fs::write(
        &empty_doc,
        r#"{"format":"hsts-store","version":1,"entries":[]}"#,
    )
    .unwrap();
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let wrong = dir.path().join("wrong.txt");
    std::fs::write(&wrong, "not a cache line\n").unwrap();
    for file in [&empty_doc, &empty, &wrong] {
        let o = on(&store, &["import", s(file)]);
        assert_eq!(code(&o), 1, "{}: {}", file.display(), err(&o));
        assert!(err(&o).contains("nothing imported"), "{}", err(&o));
        assert!(!store.exists(), "a failed import leaves no store");
    }
}

#[test]
fn partitioned_entries_from_list_json_are_skipped_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("p.bin");
    let o = hsts(
        &[
            "--no-preload",
            "--now",
            NOW,
            "--partition",
            "--store",
            s(&store),
            "observe",
            "https://a.example/",
            "max-age=600",
        ],
        b"",
    );
    ok(&o);
    let listing = ok(&hsts(
        &[
            "--no-preload",
            "--now",
            NOW,
            "--partition",
            "--store",
            s(&store),
            "list",
            "--json",
        ],
        b"",
    ));
    assert!(listing.contains(r#""partition":"a.example""#), "{listing}");
    let file = dir.path().join("l.jsonl");
    std::fs::write(&file, &listing).unwrap();
    let fresh = dir.path().join("f.bin");
    let o = on(&fresh, &["import", "--format", "json", s(&file)]);
    assert_eq!(code(&o), 1, "{}", err(&o));
    assert!(err(&o).contains("partition"), "{}", err(&o));
    assert!(out(&o).contains("skipped 1"), "{}", out(&o));
}

#[test]
fn every_store_command_requires_store() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f.json");
    std::fs::write(&file, "{}").unwrap();
    for args in [
        &["list"][..],
        &["list", "--json"][..],
        &["export"][..],
        &["export", "--format", "curl"][..],
        &["import", s(&file)][..],
        &["forget", "--all"][..],
        &["forget", "a.example"][..],
        &["observe", "https://a.example/", "max-age=1"][..],
    ] {
        let mut all = vec!["--no-preload"];
        all.extend_from_slice(args);
        let o = hsts(&all, b"");
        assert_eq!(code(&o), 2, "{args:?}");
        assert!(err(&o).contains("--store"), "{args:?}: {}", err(&o));
        assert_eq!(out(&o), "", "{args:?}");
    }
}

#[test]
fn a_missing_store_is_said_an_empty_file_is_an_empty_store_and_exports_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo.bin");
    for args in [&["list"][..], &["export"][..], &["check", "a.example"][..]] {
        let o = on(&missing, args);
        assert_eq!(code(&o), 0, "{args:?}");
        assert!(err(&o).contains("does not exist"), "{args:?}: {}", err(&o));
        // --quiet silences that notice.
        let mut quiet = vec!["-q"];
        quiet.extend_from_slice(args);
        assert_eq!(err(&on(&missing, &quiet)), "");
    }
    // forget on a missing store says so and creates nothing.
    let o = on(&missing, &["forget", "--all"]);
    assert_eq!(ok(&o), "removed 0\n");
    assert!(err(&o).contains("does not exist"), "{}", err(&o));
    assert!(!missing.exists());

    // A 0-byte file is an empty store, for reading and writing.
    let empty = dir.path().join("empty.bin");
    std::fs::write(&empty, b"").unwrap();
    let o = on(&empty, &["list"]);
    assert_eq!((ok(&o).as_str(), err(&o).as_str()), ("", ""));
    assert_eq!(ok(&on(&empty, &["forget", "--all"])), "removed 0\n");
    ok(&on(
        &empty,
        &["observe", "https://a.example/", "max-age=600"],
    ));
    assert!(listed(&empty).starts_with("a.example\tfalse\t"));

    // A JSON export or a curl cache given as --store: the error names the import.
    let store = seeded(dir.path());
    for (format, name) in [("json", "j.json"), ("curl", "c.txt")] {
        let file = dir.path().join(name);
        ok(&on(&store, &["export", "--format", format, "-o", s(&file)]));
        for args in [&["list"][..], &["check", "a.example"][..]] {
            let o = on(&file, args);
            assert_eq!(code(&o), 1, "{format} {args:?}");
            let want = format!("import --format {format}");
            assert!(err(&o).contains(&want), "{format}: {}", err(&o));
        }
    }
}

#[test]
fn host_errors_say_what_was_wrong() {
    let cases = [
        ("https://example.com/", "this is a URL"),
        ("example.com/path", "this is a URL"),
        ("example.com:443", "has a port (:443)"),
        ("[::1]:443", "has a port (:443)"),
        (" example.com", "white space"),
        ("example.com\t", "white space"),
        ("xn--a.example", "not a valid A-label"),
        ("exa mple.com", "character ' '"),
        ("a..b", "empty label"),
    ];
    for (host, want) in cases {
        let o = hsts(&["--no-preload", "check", host], b"");
        assert_eq!(code(&o), 1, "{host:?}");
        assert!(err(&o).contains(want), "{host:?}: {}", err(&o));
        assert!(!err(&o).contains("IDNA refused"), "{host:?}: {}", err(&o));
        assert!(!err(&o).contains("IPv6"), "{host:?}: {}", err(&o));
    }
    let o = hsts(&["--no-preload", "check", "https://example.com/"], b"");
    assert!(err(&o).contains("hsts rewrite"), "{}", err(&o));
    let o = hsts(&["--no-preload", "check", "--json", "example.com:80"], b"");
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert!(v["error"].as_str().unwrap().contains("port"), "{v}");

    // The library: typed variants, and what is accepted has not changed.
    use hsts::host::canonicalize;
    use hsts::HostError;
    assert_eq!(canonicalize("http://a.example/"), Err(HostError::Url));
    assert_eq!(
        canonicalize("a.example:8080"),
        Err(HostError::Port {
            port: "8080".into()
        })
    );
    assert_eq!(canonicalize(" a.example"), Err(HostError::Whitespace));
    assert!(matches!(
        canonicalize("xn--zz.example"),
        Err(HostError::BadALabel { .. })
    ));
    assert_eq!(canonicalize("[::1"), Err(HostError::InvalidIpv6));
    assert_eq!(canonicalize("1.2.3.999"), Err(HostError::InvalidIpv4));
    for fine in [
        "Example.COM.",
        "bücher.example",
        "xn--bcher-kva.example",
        "::1",
        "[::1]",
    ] {
        assert!(canonicalize(fine).is_ok(), "{fine}");
    }
}

#[test]
fn one_output_line_per_input_line() {
    let input = b"a.example\n\nnot a host\n\nb.example\n";
    let o = hsts(&["--no-preload", "check", "-"], input);
    assert_eq!(code(&o), 1);
    assert_eq!(
        out(&o),
        "a.example\thttp\n\nnot a host\thttp\n\nb.example\thttp\n"
    );
    let o = hsts(&["--no-preload", "check", "--json", "-"], input);
    let lines: Vec<serde_json::Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[1]["blank"], true);
    assert_eq!(lines[1]["line"], 2);
    // --count counts; blank lines are not hosts.
    let o = hsts(&["--no-preload", "check", "--count", "-"], b"\n\n");
    assert_eq!((code(&o), out(&o).as_str()), (0, "0\n"));

    let o = hsts(
        &["--no-preload", "rewrite", "-"],
        b"http://a.example/\n\nhttp://b.example/\n",
    );
    assert_eq!(ok(&o), "http://a.example/\n\nhttp://b.example/\n");

    // parse - reads one value per line; an empty line is an empty value.
    let o = hsts(
        &["parse", "-"],
        b"max-age=600\n\nmax-age=1; includeSubDomains\nbogus\n",
    );
    assert_eq!(code(&o), 1);
    let got: Vec<&str> = std::str::from_utf8(&o.stdout).unwrap().lines().collect();
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(got[0].starts_with("valid: "));
    assert!(got[1].starts_with("invalid: "));
    assert!(got[2].starts_with("valid: "));
    assert!(got[3].starts_with("invalid: "));
    let o = hsts(&["parse", "--json", "-"], b"max-age=600\n");
    assert_eq!(code(&o), 0);
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["max_age"], 600);
}

#[test]
fn observe_json_gives_a_stable_code_beside_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.bin");
    let o = on(
        &store,
        &["observe", "--json", "http://a.example/", "max-age=600"],
    );
    let v: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(v["outcome"], "ignored");
    assert_eq!(v["code"], "insecure_transport");
    assert_eq!(v["reason"], "insecure transport");
    let o = on(&store, &["observe", "http://a.example/", "max-age=600"]);
    assert_eq!(ok(&o), "ignored: insecure transport\n");
}

#[test]
fn help_lists_command_options_first_globals_once_and_exit_codes() {
    let commands: &[&[&str]] = &[
        &["parse"],
        &["check"],
        &["rewrite"],
        &["observe"],
        &["import"],
        &["export"],
        &["forget"],
        &["list"],
        &["sync"],
        &["preload", "compile"],
        &["preload", "info"],
        &["preload", "list"],
        &["completions"],
        &["man"],
    ];
    for cmd in commands {
        let mut args = cmd.to_vec();
        args.push("--help");
        let text = ok(&hsts(&args, b""));
        assert!(text.contains("Exit"), "{cmd:?}: no exit codes\n{text}");
        let globals = text
            .find("Global options:")
            .expect("a Global options heading");
        let options = text.find("\nOptions:").expect("an Options heading");
        assert!(options < globals, "{cmd:?}: command options first");
        assert_eq!(text.matches("--store <FILE>").count(), 1, "{cmd:?}");
        assert_eq!(text.matches("--quiet").count(), 1, "{cmd:?}");
    }
    let top = ok(&hsts(&["--help"], b""));
    assert_eq!(top.matches("--now <TIME>").count(), 1);
    assert!(top.contains("--hsts-for-localhost"));
    assert!(!top.contains("--pin-localhost"), "the old name is hidden");
}

#[test]
fn version_completions_and_man() {
    let v = ok(&hsts(&["--version"], b""));
    assert!(v.contains("2026-06-01"), "{v}");
    let bash = ok(&hsts(&["completions", "bash"], b""));
    assert!(bash.contains("hsts") && bash.contains("--store"), "{bash}");
    let zsh = ok(&hsts(&["completions", "zsh"], b""));
    assert!(zsh.contains("#compdef hsts"));
    assert_eq!(code(&hsts(&["completions", "nosuchshell"], b"")), 2);
    let man = ok(&hsts(&["man"], b""));
    assert!(man.starts_with(".ie") || man.contains(".TH hsts"), "{man}");
    assert!(man.contains(".TH hsts"));
}

#[test]
fn hsts_for_localhost_and_its_old_name() {
    let dir = tempfile::tempdir().unwrap();
    for (i, flag) in ["--hsts-for-localhost", "--pin-localhost"]
        .iter()
        .enumerate()
    {
        let store = dir.path().join(format!("s{i}.bin"));
        let o = on(
            &store,
            &[flag, "observe", "https://localhost/", "max-age=600"],
        );
        assert_eq!(ok(&o), "noted\n", "{flag}");
    }
    let store = dir.path().join("plain.bin");
    let o = on(&store, &["observe", "https://localhost/", "max-age=600"]);
    assert_eq!(ok(&o), "ignored: localhost is exempt\n");
}

#[test]
fn export_to_stdout_and_dates_rfc3339_parsers_accept() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(dir.path());
    let plain = ok(&on(&store, &["export"]));
    assert_eq!(ok(&on(&store, &["export", "-o", "-"])), plain);
    assert_eq!(ok(&on(&store, &["export", "-o", "/dev/stdout"])), plain);
    assert!(
        !Path::new(env!("CARGO_MANIFEST_DIR")).join("-").exists(),
        "no file named -"
    );

    // curl's "unlimited", and a saturated max-age.
    let curl = dir.path().join("c.txt");
    std::fs::write(&curl, "u.example \"unlimited\"\n").unwrap();
    let store = dir.path().join("u.bin");
    ok(&on(&store, &["import", s(&curl)]));
    ok(&on(
        &store,
        &[
            "observe",
            "https://huge.example/",
            "max-age=99999999999999999999999",
        ],
    ));
    let check_dates = |v: &serde_json::Value| {
        for key in ["observed", "expires"] {
            if let Some(t) = v[key].as_str() {
                assert!(
                    chrono::DateTime::parse_from_rfc3339(t).is_ok(),
                    "{key}: {t}"
                );
            }
        }
    };
    for l in ok(&on(&store, &["list", "--json"])).lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["expires"], "9999-12-31T23:59:59Z", "{v}");
        check_dates(&v);
    }
    let doc: serde_json::Value = serde_json::from_str(&ok(&on(&store, &["export"]))).unwrap();
    for e in doc["entries"].as_array().unwrap() {
        check_dates(e);
    }
    let o = on(&store, &["check", "--json", "u.example"]);
    let v: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    check_dates(&v);
    // No number above 2^53 in JSON.
    let o = hsts(&["parse", "--json", "max-age=99999999999999999999999"], b"");
    let v: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(v["max_age"].as_u64(), Some((1 << 53) - 1));
    let o = hsts(&["lint", "--json", "max-age=99999999999999999999999"], b"");
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["max_age"].as_u64(), Some((1 << 53) - 1));
}

mod library {
    use std::path::PathBuf;

    use hsts::chrono::{TimeZone, Utc};
    use hsts::persist::{self, PersistError};
    use hsts::url::Url;
    use hsts::{
        HstsStore, IgnoreReason, Outcome, PreloadSource, SaveOptions, SharedHstsStore, StoreConfig,
        Transport,
    };

    fn config() -> StoreConfig {
        StoreConfig {
            preload: PreloadSource::Off,
            ..StoreConfig::default()
        }
    }

    #[test]
    fn the_url_is_given_once() {
        let mut store = HstsStore::with_config(config());
        store.note(
            &Url::parse("https://example.com/").unwrap(),
            ["max-age=600; includeSubDomains"],
            Transport::Secure,
        );
        let url = Url::parse("http://www.example.com/login").unwrap();
        assert_eq!(
            store.upgrade_url(&url).as_str(),
            "https://www.example.com/login"
        );
        let other = Url::parse("http://other.example/").unwrap();
        assert_eq!(store.upgrade_url(&other), other);
        // The old two-step API still works, and into_url is its twin.
        assert_eq!(store.upgrade(&url).url(&url), store.upgrade_url(&url));
        assert_eq!(store.upgrade(&url).into_url(&url), store.upgrade_url(&url));
        let shared = SharedHstsStore::new(store);
        assert_eq!(
            shared.upgrade_url(&url).as_str(),
            "https://www.example.com/login"
        );
    }

    #[test]
    fn paths_as_strings_and_the_store_s_own_load_and_save() {
        let dir = tempfile::tempdir().unwrap();
        let path: PathBuf = dir.path().join("hsts.bin");
        let as_str = path.to_str().unwrap().to_owned();
        let now = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let mut store = HstsStore::with_config(config());
        store.note_at(
            &Url::parse("https://example.com/").unwrap(),
            ["max-age=999999999"],
            Transport::Secure,
            now,
        );
        // &str, String, PathBuf and &Path are all paths.
        persist::save(&store, as_str.as_str(), now).unwrap();
        persist::save(&store, path.clone(), now).unwrap();
        let loaded = persist::load(as_str.clone(), config()).unwrap();
        assert!(loaded.is_known_at("example.com", now).unwrap());
        persist::update(&path, config(), now, |_| ()).unwrap();
        // Methods on the store.
        let mut again = HstsStore::load(&as_str, config()).unwrap();
        again.note(
            &Url::parse("https://b.example/").unwrap(),
            ["max-age=600"],
            Transport::Secure,
        );
        again.save(&path).unwrap();
        assert_eq!(HstsStore::load(&path, config()).unwrap().len(), 2);
        // A 0-byte file is an empty store.
        let empty = dir.path().join("empty.bin");
        std::fs::write(&empty, b"").unwrap();
        assert!(HstsStore::load(&empty, config()).unwrap().is_empty());
        let shared = SharedHstsStore::open(
            as_str.as_str(),
            config(),
            SaveOptions {
                every_changes: None,
                on_drop: false,
            },
        )
        .unwrap();
        assert_eq!(shared.path(), Some(path.as_path()));
    }

    #[test]
    fn outcome_displays_with_its_reason() {
        assert_eq!(Outcome::Noted.to_string(), "noted");
        assert_eq!(
            Outcome::Ignored(IgnoreReason::InsecureTransport).to_string(),
            "ignored: insecure transport"
        );
    }

    #[test]
    fn last_save_error_is_a_persist_error() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: every save fails.
        let path = dir.path().join("a-directory");
        std::fs::create_dir(&path).unwrap();
        let shared = SharedHstsStore::with_file(
            HstsStore::with_config(config()),
            &path,
            SaveOptions {
                every_changes: Some(1),
                on_drop: false,
            },
        );
        assert!(shared.last_save_error().is_none());
        shared.note(
            &Url::parse("https://example.com/").unwrap(),
            ["max-age=600"],
            Transport::Secure,
        );
        let e: Option<PersistError> = shared.last_save_error();
        assert!(
            matches!(e, Some(PersistError::NotARegularFile { .. })),
            "{e:?}"
        );
        // Handed over once.
        assert!(shared.last_save_error().is_none());
    }
}

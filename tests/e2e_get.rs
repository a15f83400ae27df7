//! `hsts get` against loopback servers (issue #12): every hop upgraded,
//! notes from valid certificates only, RFC 6797 §8.4 with `--insecure`,
//! HTTPS records from a DNS server on loopback, exit codes, `-o`, `-i`, `-I`.
//!
//! The test server speaks TLS and plain HTTP on one port (it looks at the
//! first byte), so `http://secure.test:PORT/` and its upgrade
//! `https://secure.test:PORT/` reach the same server, which counts each
//! kind of request.

mod cli_support;
mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::dns::DnsServer;
use support::TestServer;

/// One server for `names`, its CA file, and a store path, in a temp dir.
struct Setup {
    server: TestServer,
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(names: &[&str]) -> Setup {
        let server = TestServer::start(names);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), &server.cert_pem).unwrap();
        Setup { server, dir }
    }

    fn store(&self) -> std::path::PathBuf {
        self.dir.path().join("store")
    }

    fn url(&self, scheme: &str, host: &str, path: &str) -> String {
        format!("{scheme}://{host}:{}{path}", self.server.port)
    }

    fn resolve(&self, host: &str) -> String {
        format!("{host}:{}:127.0.0.1", self.server.port)
    }

    /// `hsts --no-preload --store STORE get --no-https-rr --cacert CA
    /// --resolve HOST... ARGS`.
    fn get(&self, hosts: &[&str], args: &[&str]) -> Output {
        self.get_with(&["--no-preload"], hosts, args)
    }

    fn get_with(&self, globals: &[&str], hosts: &[&str], args: &[&str]) -> Output {
        let mut cmd = Command::new(cli_support::HSTS);
        cmd.args(globals)
            .arg("--store")
            .arg(self.store())
            .args(["get", "--no-https-rr"]);
        if !args.contains(&"--insecure") {
            cmd.arg("--cacert").arg(self.dir.path().join("ca.pem"));
        }
        for h in hosts {
            cmd.args(["--resolve", &self.resolve(h)]);
        }
        cmd.args(args);
        cli_support::run(cmd, b"")
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn known(store: &Path, host: &str) -> bool {
    let o = cli_support::hsts(&["--store", &store.to_string_lossy(), "check", host], b"");
    stdout(&o).trim_end().ends_with("https")
}

#[test]
fn a_noted_host_is_fetched_over_https_from_then_on() {
    let s = Setup::new(&["secure.test"]);
    let first = s.get(
        &["secure.test"],
        &[&s.url("https", "secure.test", "/sts/31536000")],
    );
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(stdout(&first), "ok");
    assert!(
        stderr(&first).contains("noted secure.test (max-age=31536000)"),
        "{}",
        stderr(&first)
    );
    assert!(known(&s.store(), "secure.test"));
    let later = s.get(&["secure.test"], &[&s.url("http", "secure.test", "/page")]);
    assert_eq!(later.status.code(), Some(0), "{}", stderr(&later));
    assert!(
        stderr(&later).contains("-> https://secure.test:"),
        "{}",
        stderr(&later)
    );
    assert!(stderr(&later).contains("(HSTS, dynamic secure.test)"));
    assert_eq!(s.server.plain_requests(), 0);
    assert_eq!(s.server.tls_requests(), 2);
}

#[test]
fn every_hop_of_a_redirect_chain_is_upgraded_and_max_age_zero_turns_it_off() {
    let s = Setup::new(&["secure.test"]);
    s.get(
        &["secure.test"],
        &[&s.url("https", "secure.test", "/sts/600")],
    );
    // http -> (upgraded) https /to-http/ -> http /to-https/ -> ... all over TLS.
    let o = s.get(
        &["secure.test"],
        &[&s.url("http", "secure.test", "/to-http/to-https/done")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(s.server.plain_requests(), 0, "{:?}", s.server.log());
    assert_eq!(
        s.server.log(),
        [
            "https /sts/600",
            "https /to-http/to-https/done",
            "https /to-https/done",
            "https /done"
        ]
    );
    // max-age=0 over a valid certificate removes the entry...
    let o = s.get(
        &["secure.test"],
        &[&s.url("https", "secure.test", "/sts/0")],
    );
    assert!(stderr(&o).contains("removed secure.test"), "{}", stderr(&o));
    assert!(!known(&s.store(), "secure.test"));
    // ...and the next http request goes out in plain text.
    s.get(&["secure.test"], &[&s.url("http", "secure.test", "/plain")]);
    assert_eq!(s.server.plain_requests(), 1);
}

#[test]
fn insecure_connects_to_unknown_hosts_but_never_to_known_ones_and_notes_nothing() {
    let s = Setup::new(&["secure.test", "other.test"]);
    // Without --cacert the test certificate is invalid.
    let o = s.get(
        &["other.test"],
        &["--insecure", &s.url("https", "other.test", "/sts/600")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("not noted"), "{}", stderr(&o));
    assert!(!known(&s.store(), "other.test"));
    // A host known from a valid connection...
    s.get(
        &["secure.test"],
        &[&s.url("https", "secure.test", "/sts/600")],
    );
    assert!(known(&s.store(), "secure.test"));
    // ...fails with --insecure and the bad certificate: no user recourse.
    let before = s.server.tls_requests();
    let o = s.get(
        &["secure.test"],
        &["--insecure", &s.url("http", "secure.test", "/")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("RFC 6797 §8.4: no user recourse"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("secure.test"));
    assert_eq!(s.server.tls_requests(), before, "no request was sent");
    assert_eq!(s.server.plain_requests(), 0);
}

#[test]
fn a_preloaded_name_with_a_bad_certificate_fails_with_insecure() {
    let s = Setup::new(&["accounts.google.com"]);
    // With the built-in list: accounts.google.com is preloaded.
    let o = s.get_with(
        &[],
        &["accounts.google.com"],
        &["--insecure", &s.url("http", "accounts.google.com", "/")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("(HSTS, preload"), "{}", stderr(&o));
    assert!(stderr(&o).contains("§8.4"), "{}", stderr(&o));
    assert_eq!(s.server.plain_requests() + s.server.tls_requests(), 0);
}

#[test]
fn head_include_and_output_file() {
    let s = Setup::new(&["secure.test"]);
    let o = s.get(
        &["secure.test"],
        &["-I", &s.url("https", "secure.test", "/sts/60")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let head = stdout(&o);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("strict-transport-security: max-age=60\r\n"),
        "{head}"
    );
    assert!(!head.ends_with("ok"));
    assert_eq!(s.server.log().last().unwrap(), "https /sts/60");
    let o = s.get(
        &["secure.test"],
        &["-i", &s.url("https", "secure.test", "/x")],
    );
    assert!(stdout(&o).ends_with("\r\n\r\nok"), "{}", stdout(&o));
    let file = s.dir.path().join("body");
    let o = s.get(
        &["secure.test"],
        &[
            "-o",
            &file.to_string_lossy(),
            &s.url("https", "secure.test", "/x"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "ok");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn exit_codes_and_json_hops() {
    let s = Setup::new(&["secure.test"]);
    // Too many redirects: a network-side failure, exit 1.
    let o = s.get(
        &["secure.test"],
        &[
            "--max-redirs",
            "1",
            &s.url("https", "secure.test", "/to-https/to-https/x"),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("more than 1 redirects"));
    // Nothing listens: exit 1.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let o = s.get(
        &[],
        &[
            "--resolve",
            &format!("gone.test:{port}:127.0.0.1"),
            &format!("http://gone.test:{port}/"),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // A --resolve entry for another port is used, and said.
    let other = "secure.test:1:127.0.0.1";
    let o = s.get(
        &[],
        &["--resolve", other, &s.url("https", "secure.test", "/x")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "--resolve secure.test:1:127.0.0.1 used for port {}",
            s.server.port
        )),
        "{}",
        stderr(&o)
    );
    // Usage: exit 2.
    for bad in [
        &["ftp://x.test/"][..],
        &["--resolve", "nonsense", "http://x.test/"],
    ] {
        let o = s.get(&[], bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", stderr(&o));
    }
    // --json: one object per hop on stderr, the body on stdout.
    let o = s.get(
        &["secure.test"],
        &["--json", &s.url("https", "secure.test", "/to-https/sts/5")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Warnings (a store file not there yet) start with "hsts:".
    let hops: Vec<serde_json::Value> = stderr(&o)
        .lines()
        .filter(|l| !l.starts_with("hsts: warning"))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(hops.len(), 2, "{hops:?}");
    assert_eq!(hops[0]["status"], 302);
    assert_eq!(hops[1]["status"], 200);
    assert_eq!(hops[1]["noted"]["outcome"], "noted");
    assert_eq!(stdout(&o), "ok");
}

#[test]
fn https_records_upgrade_without_making_the_host_known() {
    let names = [
        "alias.test",
        "svc.test",
        "weird.test",
        "none.test",
        "nx.test",
        "slow.test",
    ];
    let s = Setup::new(&names);
    let dns = DnsServer::start();
    let dns_addr = dns.addr.to_string();
    let get = |host: &str| {
        let mut cmd = Command::new(cli_support::HSTS);
        cmd.args(["--no-preload", "--store"])
            .arg(s.store())
            .args(["get", "--dns", &dns_addr, "--cacert"])
            .arg(s.dir.path().join("ca.pem"))
            .args(["--resolve", &s.resolve(host), &s.url("http", host, "/page")]);
        cli_support::run(cmd, b"")
    };
    // AliasMode and a compatible ServiceMode record: sent as https.
    for host in ["alias.test", "svc.test"] {
        let before = s.server.tls_requests();
        let o = get(host);
        assert_eq!(o.status.code(), Some(0), "{host}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("(HTTPS record"),
            "{host}: {}",
            stderr(&o)
        );
        assert_eq!(s.server.tls_requests(), before + 1, "{host}");
        assert!(
            !known(&s.store(), host),
            "{host} must not become a known HSTS host"
        );
    }
    assert_eq!(s.server.plain_requests(), 0);
    // An unknown mandatory key, no record, NXDOMAIN and a timeout: plain.
    for (i, host) in ["weird.test", "none.test", "nx.test", "slow.test"]
        .iter()
        .enumerate()
    {
        let o = get(host);
        assert_eq!(o.status.code(), Some(0), "{host}: {}", stderr(&o));
        assert!(
            !stderr(&o).contains("(HTTPS record"),
            "{host}: {}",
            stderr(&o)
        );
        assert_eq!(s.server.plain_requests(), i + 1, "{host}");
    }
    let port = s.server.port;
    assert!(dns.count(&format!("_{port}._https.alias.test")) >= 1);
    // --no-https-rr asks nothing.
    let before = dns.total();
    let o = s.get(&["alias.test"], &[&s.url("http", "alias.test", "/")]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(dns.total(), before);
}

//! `hsts audit` against loopback servers (issue 14, part 3): each case of
//! hstspreload.org's rules gives the right verdict and codes.
//!
//! One server speaks TLS and plain HTTP on one port (it looks at the first
//! byte) with a certificate from a test CA for every name, and answers by
//! the Host header: each test domain misbehaves in its own way. A second
//! port speaks plain HTTP only, for a www that has no TLS. `--connect-to`
//! sends port 443 and port 80 of the names to those ports, as in curl.

mod cli_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

const GOOD: &str = "max-age=63072000; includeSubDomains; preload";

/// The test domains; each behaves as `reply` says.
const NAMES: &[&str] = &[
    "good.test",
    "none.test",
    "two.test",
    "short.test",
    "plain.test",
    "wwwfirst.test",
    "elsewhere.test",
    "other.test",
    "hops.test",
    "target.test",
    "nowww.test",
    "mgmt.test",
];

/// Status and header lines for a request.
fn reply(scheme: &str, host: &str, path: &str) -> (u16, Vec<String>) {
    let sts = |v: &str| format!("Strict-Transport-Security: {v}");
    let to = |url: &str| format!("Location: {url}");
    let base = host.strip_prefix("www.").unwrap_or(host);
    if scheme == "http" {
        return match base {
            "plain.test" => (200, vec![]),
            "wwwfirst.test" if host == base => (301, vec![to("https://www.wwwfirst.test/")]),
            "elsewhere.test" => (301, vec![to("https://other.test/")]),
            "hops.test" => (301, vec![to("https://hops.test/1")]),
            "target.test" => (301, vec![to("https://target.test/landing")]),
            _ => (301, vec![to(&format!("https://{host}/"))]),
        };
    }
    match (host, path) {
        ("none.test" | "mgmt.test", _) => (200, vec![]),
        ("two.test", _) => (200, vec![sts(GOOD), sts("max-age=31536000")]),
        ("short.test", _) => (200, vec![sts("max-age=300; includeSubDomains; preload")]),
        ("hops.test", "/1") => (301, vec![sts(GOOD), to("/2")]),
        ("hops.test", "/2") => (301, vec![sts(GOOD), to("/3")]),
        ("hops.test", "/3") => (301, vec![sts(GOOD), to("/4")]),
        ("target.test", "/landing") => (200, vec![]),
        _ => (200, vec![sts(GOOD)]),
    }
}

/// The servers, and the CA file in a temporary directory.
struct Site {
    port: u16,
    plain_port: u16,
    dir: tempfile::TempDir,
}

impl Site {
    fn start() -> Site {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "hsts audit test CA");
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let names: Vec<String> = NAMES
            .iter()
            .flat_map(|n| [n.to_string(), format!("www.{n}")])
            .collect();
        let leaf = rcgen::CertificateParams::new(names)
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
        let config = Arc::new(
            rustls::ServerConfig::builder()
                .with_no_client_auth()
                .with_single_cert(vec![leaf.der().clone(), ca_cert.der().clone()], key)
                .unwrap(),
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).unwrap();

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let config = config.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, Some(config));
                });
            }
        });
        let plain = TcpListener::bind("127.0.0.1:0").unwrap();
        let plain_port = plain.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in plain.incoming().flatten() {
                std::thread::spawn(move || {
                    let _ = serve(stream, None);
                });
            }
        });
        Site {
            port,
            plain_port,
            dir,
        }
    }

    /// `hsts -q audit --cacert CA ARGS`.
    fn audit(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(cli_support::HSTS);
        cmd.args(["-q", "audit", "--cacert"])
            .arg(self.dir.path().join("ca.pem"));
        if !args.contains(&"--timeout") {
            cmd.args(["--timeout", "5"]);
        }
        cmd.args(args);
        cli_support::run(cmd, b"")
    }

    /// Every name's ports 443 and 80 to the server (www.nowww.test's 443 to
    /// the plain-only port), then `--json TARGETS`.
    fn audit_json(&self, targets: &[&str]) -> (i32, Vec<Value>) {
        let nowww = format!("www.nowww.test:443:127.0.0.1:{}", self.plain_port);
        let all = format!("::127.0.0.1:{}", self.port);
        let mut args = vec!["--json", "--connect-to", &nowww, "--connect-to", &all];
        args.extend_from_slice(targets);
        let out = self.audit(&args);
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains('\x1b'),
            "no progress bar when piped: {stderr}"
        );
        let objects = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (out.status.code().unwrap(), objects)
    }
}

/// Serves one connection: TLS when it starts with a handshake (and
/// `config` is given), plain HTTP otherwise.
fn serve(stream: TcpStream, config: Option<Arc<rustls::ServerConfig>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut first = [0u8; 1];
    if stream.peek(&mut first)? == 0 {
        return Ok(());
    }
    match config {
        Some(config) if first[0] == 0x16 => {
            let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
            handle(&mut rustls::StreamOwned::new(conn, stream), "https")
        }
        _ => {
            let mut s = stream;
            handle(&mut s, "http")
        }
    }
}

fn handle<S: Read + Write>(s: &mut S, scheme: &str) -> std::io::Result<()> {
    let mut reader = BufReader::new(&mut *s);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut host = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("host:") {
            host = v.trim().to_owned();
        }
    }
    drop(reader);
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let name = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h);
    let (status, headers) = reply(scheme, name, path);
    let mut response = format!("HTTP/1.1 {status} X\r\n");
    for h in headers {
        response.push_str(&h);
        response.push_str("\r\n");
    }
    response.push_str("Content-Length: 2\r\nConnection: close\r\n\r\nok");
    s.write_all(response.as_bytes())?;
    s.flush()
}

fn codes(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

fn errors(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

/// One target: exit 1 and exactly these error codes.
fn fails_with(site: &Site, target: &str, expected: &[&str]) -> Value {
    let (code, v) = site.audit_json(&[target]);
    assert_eq!(v.len(), 1);
    let v = v.into_iter().next().unwrap();
    assert_eq!(errors(&v), expected, "{target}: {v:#}");
    assert_eq!(v["preload_eligible"], false, "{target}");
    assert_eq!(code, 1, "{target}");
    v
}

#[test]
fn compliant_domain() {
    let site = Site::start();
    // Ports 443 and 80 each named, as curl's --connect-to takes them.
    let p = site.port;
    let out = site.audit(&[
        "--json",
        "--connect-to",
        &format!("good.test:443:127.0.0.1:{p}"),
        "--connect-to",
        &format!("good.test:80:localhost:{p}"),
        "--connect-to",
        &format!("www.good.test:443:127.0.0.1:{p}"),
        "good.test",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["target"], "good.test");
    assert_eq!(v["header"], GOOD);
    assert_eq!(v["preloaded"], false);
    assert_eq!(v["preload_eligible"], true);
    assert_eq!(v["www"], "tls");
    assert!(errors(&v).is_empty(), "{v:#}");
    let c = codes(&v);
    assert!(c.contains(&"preload-ready".into()) && c.contains(&"eligible".into()));
    assert_eq!(v["http_chain"][0]["status"], 301);
    assert_eq!(v["http_chain"][1]["url"], "https://good.test/");
    for f in v["findings"].as_array().unwrap() {
        assert!(f["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[test]
fn header_cases() {
    let site = Site::start();
    let v = fails_with(&site, "none.test", &["no-header"]);
    assert_eq!(v["header"], Value::Null);
    let v = fails_with(&site, "two.test", &["multiple-headers"]);
    assert_eq!(v["headers"].as_array().unwrap().len(), 2);
    let v = fails_with(&site, "short.test", &["max-age-below-preload"]);
    assert_eq!(v["header"], "max-age=300; includeSubDomains; preload");
    // Under the rfc profile the same header is valid: exit 0.
    let all = format!("::127.0.0.1:{}", site.port);
    let out = site.audit(&["--profile", "rfc", "--connect-to", &all, "short.test"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("short.test [rfc]: preload-eligible\n"),
        "{text}"
    );
}

#[test]
fn redirect_cases() {
    let site = Site::start();
    fails_with(&site, "plain.test", &["http-no-redirect"]);
    fails_with(&site, "wwwfirst.test", &["http-redirect-to-www-first"]);
    fails_with(&site, "elsewhere.test", &["http-redirect-other-host"]);
    let v = fails_with(&site, "hops.test", &["too-many-redirects"]);
    assert_eq!(v["http_chain"].as_array().unwrap().len(), 4);
    fails_with(&site, "target.test", &["redirect-target-no-hsts"]);
}

#[test]
fn www_without_tls() {
    let site = Site::start();
    let v = fails_with(&site, "nowww.test", &["www-no-tls"]);
    assert_eq!(v["www"], "no-tls");
    assert!(v["www_error"].as_str().is_some());
}

#[test]
fn other_port_without_the_header() {
    let site = Site::start();
    // The scanner's case: port as given, reached with --resolve.
    let p = site.port;
    let url = format!("https://mgmt.test:{p}/");
    let out = site.audit(&[
        "--json",
        "--resolve",
        &format!("mgmt.test:{p}:127.0.0.1"),
        &url,
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["port"], p);
    assert_eq!(v["http_chain"], Value::Null);
    assert_eq!(errors(&v), ["no-header"]);
    assert!(codes(&v).contains(&"port-not-443".into()));
}

#[test]
fn many_targets_in_order_from_stdin() {
    let site = Site::start();
    let all = format!("::127.0.0.1:{}", site.port);
    let mut cmd = Command::new(cli_support::HSTS);
    cmd.args(["-q", "audit", "--json", "--concurrency", "3", "--cacert"])
        .arg(site.dir.path().join("ca.pem"))
        .args(["--connect-to", &all, "-"]);
    let out = cli_support::run(
        cmd,
        b"good.test\nnone.test\n\nshort.test\nhttps://two.test/\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let targets: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["target"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        targets,
        ["good.test", "none.test", "short.test", "https://two.test/"]
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains('\x1b'));
}

#[test]
fn timeouts_and_usage() {
    let site = Site::start();
    // A server that accepts and never answers: reported, not a hang.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let sp = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in silent.incoming().flatten() {
            held.push(s);
        }
    });
    let to = format!("::127.0.0.1:{sp}");
    let out = site.audit(&["--json", "--timeout", "1", "--connect-to", &to, "good.test"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(errors(&v)[0], "https-unreachable");
    assert_eq!(v["https_chain"][0]["timed_out"], true, "{v:#}");
    // Usage errors: exit 2.
    for args in [
        &["http://good.test/"][..],
        &["--connect-to", "a:1", "good.test"],
        &["--resolve", "nope", "good.test"],
        &["--concurrency", "0", "good.test"],
    ] {
        assert_eq!(site.audit(args).status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn stdin_targets_are_bounded_in_number_and_length() {
    let run = |stdin: &[u8]| {
        let mut cmd = Command::new(cli_support::HSTS);
        cmd.args(["--quiet", "audit", "--json", "--timeout", "1", "-"]);
        cli_support::run(cmd, stdin)
    };
    // A target over 2048 bytes is refused on its own line, its start shown.
    let long = format!("{}.test\n", "a".repeat(5000));
    let out = run(long.as_bytes());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("longer than the 2048-byte limit"), "{text}");
    assert!(text.len() < 1000, "the whole line is not echoed back");
    // More than 100,000 targets: a usage error before anything is fetched.
    let many = "x.invalid\n".repeat(100_001);
    let out = run(many.as_bytes());
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("more than 100000 targets"));
}

/// Prints the human and JSON output of two cases, for the README and the
/// issue's closing note: `cargo test --all-features --test audit -- --ignored --nocapture`.
#[test]
#[ignore]
fn show_outputs() {
    let site = Site::start();
    let nowww = format!("www.nowww.test:443:127.0.0.1:{}", site.plain_port);
    let all = format!("::127.0.0.1:{}", site.port);
    for target in ["good.test", "wwwfirst.test"] {
        for json in [false, true] {
            let mut args = vec!["--connect-to", &nowww, "--connect-to", &all, target];
            if json {
                args.insert(0, "--json");
            }
            let out = site.audit(&args);
            println!(
                "$ hsts audit {}{target}\n{}(exit {})\n",
                if json { "--json " } else { "" },
                String::from_utf8_lossy(&out.stdout),
                out.status.code().unwrap()
            );
        }
    }
}

//! `hsts get`: a small HTTP client that uses the whole engine on every hop.
//!
//! Before each request: HSTS (the store and the preload list), then HTTPS
//! DNS records (RFC 9460 §9.5). Over TLS: the §8.4 verifier, so a known
//! HSTS host never connects with a bad certificate, even with
//! `--insecure`. After each response: its `Strict-Transport-Security`
//! field is noted into `--store` when the certificate was valid. Redirects
//! are followed here, one hop at a time, so every hop is upgraded.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http::Method;
use serde_json::{json, Value};
use url::Url;

use hsts::adapters::next_hop;
use hsts::dns::{HttpsRecords, HttpsRrConfig, HttpsRrOutcome, NameServer, UpgradeDecision};
use hsts::tls::{AcceptAnyCertificate, HstsVerifier, KnownHostCertificateError};
use hsts::{Outcome, SharedHstsStore, Source};

use super::net::{error_chain, parse_resolve, roots, Resolve};
use super::{CliError, Ctx};

/// Bound on the whole of one request, from connecting to the last body byte.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Bound on connecting.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Options of `hsts get`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct GetArgs {
    /// Accept invalid certificates, except from known HSTS hosts (RFC 6797
    /// §8.4: no user recourse). Responses over an invalid certificate are
    /// never noted.
    #[arg(short = 'k', long)]
    insecure: bool,
    /// Trust the CA certificates in this PEM file instead of the built-in
    /// Mozilla roots.
    #[arg(long, value_name = "FILE")]
    cacert: Option<PathBuf>,
    /// Send requests for HOST to ADDR, as curl does (PORT is the port the
    /// entry is for; it is checked against the URL's when used).
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    resolve: Vec<String>,
    /// Send the HTTPS-record queries to this DNS server (default: the
    /// system's resolver).
    #[arg(long, value_name = "ADDR:PORT")]
    dns: Option<SocketAddr>,
    /// Do not look up HTTPS DNS records.
    #[arg(long)]
    no_https_rr: bool,
    /// Follow at most N redirects (default 10).
    #[arg(long, value_name = "N", default_value_t = 10)]
    max_redirs: u32,
    /// Send HEAD and print the response head only.
    #[arg(short = 'I', long)]
    head: bool,
    /// Print the response head before the body.
    #[arg(short = 'i', long)]
    include: bool,
    /// Write the body to FILE (created 0600, replaced atomically) instead
    /// of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// One JSON object per hop on stderr instead of the human log.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    fleet: super::sync_cmd::FleetArgs,
    /// The URL to fetch (http or https).
    url: String,
}

/// The §8.4 verifier for these options.
fn verifier(args: &GetArgs, store: &SharedHstsStore) -> Result<Arc<HstsVerifier>, CliError> {
    let roots = roots(args.cacert.as_deref())?.unwrap_or_else(|| rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    });
    let v = if args.insecure {
        HstsVerifier::with_roots(store.clone(), Arc::new(AcceptAnyCertificate::new()), roots)
    } else {
        HstsVerifier::strict(store.clone(), roots)
    };
    v.map(Arc::new)
        .map_err(|e| CliError::Failed(format!("cannot set up TLS: {e}")))
}

/// Where the log goes: human lines or JSON objects, on stderr.
struct Log {
    json: bool,
}

impl Log {
    fn say(&self, human: impl FnOnce() -> String) {
        if !self.json {
            eprintln!("hsts: {}", human());
        }
    }

    fn hop(&self, v: Value) {
        if self.json {
            eprintln!("{v}");
        }
    }
}

/// How a hop's URL was upgraded, for the log.
fn describe_upgrade(
    store: &SharedHstsStore,
    decision: &UpgradeDecision,
    url: &Url,
) -> (Value, Option<String>) {
    match decision {
        UpgradeDecision::Hsts(_) => {
            let m = url.host_str().and_then(|h| store.lookup(h).ok().flatten());
            let (source, matched) = match &m {
                Some(m) => (
                    match m.source {
                        Source::Preload => "preload",
                        _ => "dynamic",
                    },
                    m.host.clone(),
                ),
                None => ("dynamic", String::new()),
            };
            (
                json!({"by": "hsts", "source": source, "matched": matched}),
                Some(format!("HSTS, {source} {matched}")),
            )
        }
        UpgradeDecision::HttpsRecord { reason, .. } => (
            json!({"by": "https_rr", "reason": reason.to_string()}),
            Some(reason.to_string()),
        ),
        UpgradeDecision::Unchanged(_) => (Value::Null, None),
    }
}

/// `hsts get`: exit 0 on any HTTP response, 1 on a network, TLS, §8.4 or
/// redirect failure.
pub(crate) fn run(ctx: &Ctx, out: &mut dyn Write, args: &GetArgs) -> Result<u8, CliError> {
    let start = Url::parse(&args.url)
        .map_err(|e| CliError::Usage(format!("cannot parse URL {:?}: {e}", args.url)))?;
    if !matches!(start.scheme(), "http" | "https") {
        return Err(CliError::Usage(format!(
            "{}: only http and https URLs can be fetched",
            args.url
        )));
    }
    let resolves = args
        .resolve
        .iter()
        .map(|s| parse_resolve(s))
        .collect::<Result<Vec<_>, _>>()?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut local = ctx.load_store()?;
    args.fleet.pull(ctx, &mut local)?;
    let store = SharedHstsStore::new(local);
    let log = Log { json: args.json };
    let verifier = verifier(args, &store)?;
    let records = if args.no_https_rr {
        None
    } else {
        let config = HttpsRrConfig {
            name_server: args.dns.map_or(NameServer::System, NameServer::Addr),
            ..HttpsRrConfig::default()
        };
        match HttpsRecords::new(config) {
            Ok(r) => Some(r),
            Err(e) => {
                log.say(|| format!("no HTTPS-record look-ups: {e}"));
                None
            }
        }
    };
    let mut builder = reqwest::blocking::Client::builder()
        .tls_backend_preconfigured(verifier.client_config())
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("hsts/", env!("CARGO_PKG_VERSION")));
    for r in &resolves {
        builder = builder.resolve(&r.host, SocketAddr::new(r.addr, r.port));
    }
    let client = builder
        .build()
        .map_err(|e| CliError::Failed(format!("cannot set up the HTTP client: {e}")))?;
    let fetch = Fetch {
        ctx,
        args,
        store: &store,
        verifier: &verifier,
        records: records.as_ref(),
        client: &client,
        log: &log,
        resolves: &resolves,
    };
    let result = fetch.follow(start, out);
    save(ctx, &store)?;
    result
}

/// Saves what was noted, merging with the file.
fn save(ctx: &Ctx, store: &SharedHstsStore) -> Result<(), CliError> {
    let Some(path) = &ctx.store_path else {
        return Ok(());
    };
    if store.changes() == 0 {
        return Ok(());
    }
    store
        .read(|s| hsts::persist::save(s, path, ctx.now))
        .map_err(|e| CliError::Failed(format!("cannot save store {}: {e}", path.display())))
}

/// Everything one `get` uses.
struct Fetch<'a> {
    ctx: &'a Ctx,
    args: &'a GetArgs,
    store: &'a SharedHstsStore,
    verifier: &'a HstsVerifier,
    records: Option<&'a HttpsRecords>,
    client: &'a reqwest::blocking::Client,
    log: &'a Log,
    resolves: &'a [Resolve],
}

impl Fetch<'_> {
    /// The URL to send for `url`: HSTS first, then HTTPS records.
    fn upgrade(&self, url: &Url) -> UpgradeDecision {
        match self.records {
            Some(r) => r.upgrade_blocking_at(self.store, url, self.ctx.now),
            None => {
                let up = self.store.upgrade_at(url, self.ctx.now);
                if up.is_upgraded() {
                    UpgradeDecision::Hsts(up.url(url))
                } else {
                    UpgradeDecision::Unchanged(HttpsRrOutcome::NotApplicable(
                        hsts::dns::NotApplicable::Scheme,
                    ))
                }
            }
        }
    }

    /// A `--resolve` entry for a host whose port does not match the URL's
    /// is used anyway (the client maps names, not ports): say so.
    fn check_resolve_port(&self, url: &Url) {
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return;
        };
        for r in self.resolves.iter().filter(|r| r.host == host) {
            if r.port != port {
                self.log.say(|| {
                    format!(
                        "--resolve {}:{}:{} used for port {port}",
                        r.host, r.port, r.addr
                    )
                });
            }
        }
    }

    /// Follows the redirect chain from `url`, writing the last response.
    fn follow(&self, mut url: Url, out: &mut dyn Write) -> Result<u8, CliError> {
        let mut method = if self.args.head {
            Method::HEAD
        } else {
            Method::GET
        };
        let mut hops = 0u32;
        loop {
            let decision = self.upgrade(&url);
            let (upgrade, why) = describe_upgrade(self.store, &decision, &url);
            let rr = match &decision {
                UpgradeDecision::Unchanged(o) if url.scheme() == "http" => Some(o.to_string()),
                _ => None,
            };
            let sent = decision.url(&url);
            if let Some(why) = why {
                self.log.say(|| format!("{url} -> {sent} ({why})"));
            }
            self.check_resolve_port(&sent);
            let response = self.send(&method, &sent, hops, &upgrade)?;
            let status = response.status();
            let noted = self.note(&sent, &response);
            let location = response.headers().get(http::header::LOCATION).cloned();
            let next = next_hop(
                status,
                &method,
                &sent,
                location.as_ref().map(|v| v.as_bytes()),
            );
            self.log.hop(json!({
                "hop": hops,
                "url": url.as_str(),
                "sent": sent.as_str(),
                "upgrade": upgrade,
                "https_rr": rr,
                "status": status.as_u16(),
                "noted": noted,
                "location": location.as_ref().and_then(|l| l.to_str().ok()),
            }));
            let next = match next {
                Ok(Some(n)) => n,
                Ok(None) => return self.write(response, out),
                Err(e) => {
                    self.log
                        .say(|| format!("{sent}: {status}, not followed: {e}"));
                    return self.write(response, out);
                }
            };
            hops += 1;
            if hops > self.args.max_redirs {
                return Err(CliError::Failed(format!(
                    "{sent}: more than {} redirects",
                    self.args.max_redirs
                )));
            }
            self.log
                .say(|| format!("{sent}: {} -> {}", status.as_u16(), next.url));
            method = next.method;
            url = next.url;
        }
    }

    /// Sends one request; a failure says what went wrong, §8.4 first.
    fn send(
        &self,
        method: &Method,
        url: &Url,
        hop: u32,
        upgrade: &Value,
    ) -> Result<reqwest::blocking::Response, CliError> {
        let method = reqwest::Method::from_bytes(method.as_str().as_bytes())
            .map_err(|e| CliError::Failed(e.to_string()))?;
        self.client
            .request(method, url.clone())
            .send()
            .map_err(|e| {
                let why = match KnownHostCertificateError::find(&e) {
                    Some(k) => k.to_string(),
                    None => error_chain(&e),
                };
                self.log.hop(json!({
                    "hop": hop,
                    "sent": url.as_str(),
                    "upgrade": upgrade,
                    "error": why,
                }));
                CliError::Failed(format!("{url}: {why}"))
            })
    }

    /// Notes the response's STS fields into the store; what happened, for
    /// the log.
    fn note(&self, url: &Url, response: &reqwest::blocking::Response) -> Value {
        let fields: Vec<&[u8]> = response
            .headers()
            .get_all("strict-transport-security")
            .iter()
            .map(|v| v.as_bytes())
            .collect();
        let transport = self.verifier.transport(url);
        let outcome = self
            .store
            .note_at(url, fields.iter().copied(), transport, self.ctx.now);
        let host = url.host_str().unwrap_or_default();
        let first = fields
            .first()
            .map(|v| String::from_utf8_lossy(v).into_owned());
        match (&outcome, &first) {
            (Outcome::Ignored(hsts::IgnoreReason::NoStsField), _) => {}
            (Outcome::Ignored(hsts::IgnoreReason::InsecureTransport), None) => {}
            (Outcome::Ignored(hsts::IgnoreReason::InsecureTransport), Some(_)) => {
                self.log
                    .say(|| format!("{host}: Strict-Transport-Security over http ignored"));
            }
            (Outcome::Ignored(r), _) => self.log.say(|| format!("{host}: not noted: {r}")),
            (o, Some(v)) => self.log.say(|| format!("{} {host} ({v})", o.as_str())),
            (o, None) => self.log.say(|| format!("{} {host}", o.as_str())),
        }
        let code = match &outcome {
            Outcome::Ignored(r) => Some(r.code()),
            _ => None,
        };
        json!({"outcome": outcome.as_str(), "code": code, "value": first})
    }

    /// Writes the last response: its head with `-i`/`-I`, then its body
    /// (none with `-I`) to stdout or `-o`.
    fn write(
        &self,
        mut response: reqwest::blocking::Response,
        out: &mut dyn Write,
    ) -> Result<u8, CliError> {
        if self.args.include || self.args.head {
            let mut head = format!("{:?} {}\r\n", response.version(), response.status());
            for (name, value) in response.headers() {
                head.push_str(&format!(
                    "{name}: {}\r\n",
                    String::from_utf8_lossy(value.as_bytes())
                ));
            }
            head.push_str("\r\n");
            out.write_all(head.as_bytes())?;
        }
        if self.args.head {
            out.flush()?;
            return Ok(0);
        }
        match &self.args.output {
            None => {
                copy_body(&mut response, out)?;
                out.flush()?;
            }
            Some(path) => write_file(path, &mut response)?,
        }
        Ok(0)
    }
}

/// Copies a body, a network error mid-way being a failure.
fn copy_body(
    response: &mut reqwest::blocking::Response,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match response.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CliError::Failed(format!("reading the body: {e}"))),
        };
        out.write_all(&buf[..n])?;
    }
}

/// Writes the body to a new temporary file (0600, created exclusively)
/// beside `path`, then renames it over `path`: a link at `path` is
/// replaced, never followed.
fn write_file(path: &Path, response: &mut reqwest::blocking::Response) -> Result<(), CliError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let fail = |e: &dyn std::fmt::Display| CliError::Failed(format!("-o {}: {e}", path.display()));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| fail(&e))?;
    copy_body(response, tmp.as_file_mut())?;
    tmp.as_file().sync_all().map_err(|e| fail(&e))?;
    tmp.persist(path).map_err(|e| fail(&e.error))?;
    Ok(())
}

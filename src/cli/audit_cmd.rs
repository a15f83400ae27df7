//! `hsts audit TARGET...`: fetch a site the way hstspreload.org does and
//! give its verdict ([`hsts::audit`]).
//!
//! Per target: `https://HOST[:PORT]/` without following redirects, then its
//! redirect chain; on port 443 also `http://HOST/` and its chain, the https
//! target of the first http redirect on its own, and `www.HOST` (a TCP
//! connection to port 443, then https). Every request is bounded by
//! `--timeout`; nothing hangs.

use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use url::Url;

use hsts::audit::{assess, Audit, Chain, ChainEnd, Failure, Hop, Observation, Www, MAX_REDIRECTS};
use hsts::lint::Profile;

use super::input::{escape, for_each_item, shown, Item};
use super::lint_cmd::ProfileArg;
use super::net::{error_chain, parse_connect_to, parse_resolve, roots, Routes};
use super::{CliError, Ctx};

/// Options of `hsts audit`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct AuditArgs {
    /// One JSON object per target.
    #[arg(long)]
    json: bool,
    /// The header rules (the site rules are hstspreload.org's under every profile).
    #[arg(long, value_enum, default_value = "preload")]
    profile: ProfileArg,
    /// Audit up to N targets at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// Trust the CA certificates in this PEM file instead of the built-in
    /// Mozilla roots.
    #[arg(long, value_name = "FILE")]
    cacert: Option<PathBuf>,
    /// Connect to ADDR for HOST:PORT, as curl does.
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    resolve: Vec<String>,
    /// Connect to HOST2:PORT2 for requests to HOST:PORT, as curl does (an
    /// empty field matches anything, or keeps the host or port).
    #[arg(long, value_name = "HOST:PORT:HOST2:PORT2")]
    connect_to: Vec<String>,
    /// Give up on one request after SECS seconds (connecting: at most 10).
    #[arg(long, value_name = "SECS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=300))]
    timeout: u64,
    /// Domains (example.com) or https URLs (https://host:4242/); "-" reads
    /// one per line from stdin.
    #[arg(required = true, allow_hyphen_values = true)]
    targets: Vec<String>,
}

/// One target, parsed.
#[derive(Debug, Clone)]
struct Target {
    /// As given.
    given: String,
    host: String,
    port: u16,
}

/// The longest target taken: a domain is at most 253 bytes, and of a URL
/// only the host and port are used.
const MAX_TARGET_LEN: usize = 2048;

/// A domain, or an https URL (its host and port; the path is not used).
fn parse_target(s: &str) -> Result<Target, String> {
    if s.len() > MAX_TARGET_LEN {
        return Err(format!(
            "\"{}...\": {} bytes, longer than the {MAX_TARGET_LEN}-byte limit for a target",
            shown(s.as_bytes()),
            s.len()
        ));
    }
    let t = s.trim();
    let (host, port) = if t.contains("://") {
        let url = Url::parse(t).map_err(|e| format!("{s:?}: not a URL: {e}"))?;
        if url.scheme() != "https" {
            return Err(format!(
                "{s:?}: give the domain or an https:// URL (http:// is checked from the domain)"
            ));
        }
        let host = url
            .host_str()
            .ok_or_else(|| format!("{s:?}: no host"))?
            .to_owned();
        (host, url.port().unwrap_or(443))
    } else {
        (t.to_owned(), 443)
    };
    let host = match hsts::host::canonicalize(&host) {
        Ok(hsts::Host::Domain(d)) => d.into_string(),
        Ok(hsts::Host::Ip(ip)) => match ip {
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
            v4 => v4.to_string(),
        },
        Err(e) => return Err(format!("{s:?}: {e}")),
    };
    Ok(Target {
        given: s.to_owned(),
        host,
        port,
    })
}

/// The https URL of a target.
fn https_url(t: &Target) -> Url {
    let port = if t.port == 443 {
        String::new()
    } else {
        format!(":{}", t.port)
    };
    Url::parse(&format!("https://{}{port}/", t.host)).expect("a canonical host makes a URL")
}

/// The HTTP client of an audit: one reqwest client per route that the
/// command line sets, since reqwest maps names, not ports.
struct Fetcher {
    routes: Routes,
    tls: rustls::ClientConfig,
    timeout: Duration,
    clients: Mutex<HashMap<(String, Vec<SocketAddr>), reqwest::blocking::Client>>,
    default: reqwest::blocking::Client,
}

/// Bound on connecting (also for the www probe).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Fetcher {
    fn new(args: &AuditArgs) -> Result<Fetcher, CliError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let roots = roots(args.cacert.as_deref())?.unwrap_or_else(|| rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        });
        let tls = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let routes = Routes {
            resolves: args
                .resolve
                .iter()
                .map(|s| parse_resolve(s))
                .collect::<Result<_, _>>()?,
            connect_to: args
                .connect_to
                .iter()
                .map(|s| parse_connect_to(s))
                .collect::<Result<_, _>>()?,
        };
        let timeout = Duration::from_secs(args.timeout);
        let default = build(&tls, timeout, None)?;
        Ok(Fetcher {
            routes,
            tls,
            timeout,
            clients: Mutex::default(),
            default,
        })
    }

    /// The client for `host`, sent to `addrs`.
    fn client(
        &self,
        host: &str,
        addrs: Vec<SocketAddr>,
    ) -> Result<reqwest::blocking::Client, Failure> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let key = (host.to_owned(), addrs);
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let c = build(&self.tls, self.timeout, Some((host, &key.1))).map_err(|e| Failure {
            message: match e {
                CliError::Usage(m) | CliError::Failed(m) => m,
            },
            timed_out: false,
        })?;
        clients.insert(key, c.clone());
        Ok(c)
    }

    /// One GET, not followed.
    fn get(&self, url: &Url) -> Result<Hop, Failure> {
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or(443);
        let fail = |message: String| Failure {
            message,
            timed_out: false,
        };
        let route = self.routes.route(host, port).map_err(fail)?;
        let request = match route {
            None => self.default.get(url.clone()),
            Some(addrs) => {
                // reqwest connects to the route's port only when the URL
                // has none: drop it, and say it in Host.
                let client = self.client(host, addrs)?;
                let mut sent = url.clone();
                let _ = sent.set_port(None);
                let mut r = client.get(sent);
                if url.port().is_some() {
                    r = r.header(http::header::HOST, format!("{host}:{port}"));
                }
                r
            }
        };
        let response = request.send().map_err(|e| Failure {
            message: error_chain(&e),
            timed_out: e.is_timeout(),
        })?;
        let status = response.status().as_u16();
        let headers = response.headers();
        let sts = headers
            .get_all("strict-transport-security")
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        let location = headers
            .get(http::header::LOCATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let next = match (&location, status) {
            (Some(l), 301 | 302 | 303 | 307 | 308) => url
                .join(l)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some()),
            _ => None,
        };
        Ok(Hop {
            url: url.clone(),
            status,
            sts,
            location,
            next,
        })
    }

    /// The redirect chain from `start`, up to one redirect past the limit.
    fn chain(&self, start: Url) -> Chain {
        let mut hops: Vec<Hop> = Vec::new();
        let mut url = start;
        loop {
            let hop = match self.get(&url) {
                Ok(h) => h,
                Err(failure) => {
                    return Chain {
                        hops,
                        end: ChainEnd::Failed { url, failure },
                    }
                }
            };
            let bad = match (&hop.location, &hop.next) {
                (Some(l), None) if matches!(hop.status, 301 | 302 | 303 | 307 | 308) => {
                    Some(l.clone())
                }
                _ => None,
            };
            let next = hop.next.clone();
            hops.push(hop);
            if let Some(location) = bad {
                return Chain {
                    hops,
                    end: ChainEnd::BadLocation { url, location },
                };
            }
            let redirects = hops.iter().filter(|h| h.next.is_some()).count();
            match next {
                Some(n) if redirects <= MAX_REDIRECTS => url = n,
                _ => return Chain::done(hops),
            }
        }
    }

    /// `www.HOST`: absent unless port 443 accepts a connection; then https.
    fn www(&self, host: &str) -> Www {
        let www = format!("www.{host}");
        let addrs = match self.routes.route(&www, 443) {
            Ok(Some(a)) => a,
            Ok(None) => match super::net::lookup(&www, 443) {
                Ok(a) => a,
                Err(_) => return Www::Absent,
            },
            Err(_) => return Www::Absent,
        };
        let connect = CONNECT_TIMEOUT.min(self.timeout);
        if !addrs
            .iter()
            .any(|a| TcpStream::connect_timeout(a, connect).is_ok())
        {
            return Www::Absent;
        }
        let url = Url::parse(&format!("https://{www}/")).expect("a valid host");
        match self.get(&url) {
            Ok(_) => Www::Tls,
            Err(f) => Www::NoTls(f),
        }
    }

    /// Everything hstspreload.org looks at, for one target.
    fn observe(&self, t: &Target, suffixes: &hsts::SuffixList) -> Observation {
        let https = self.chain(https_url(t));
        let (mut http, mut first_redirect, mut www) = (None, None, Www::NotChecked);
        if t.port == 443 {
            let chain = self.chain(Url::parse(&format!("http://{}/", t.host)).expect("valid"));
            first_redirect = chain
                .hops
                .first()
                .and_then(|h| h.next.as_ref())
                .filter(|u| u.scheme() == "https" && u.host_str() == Some(t.host.as_str()))
                .map(|u| self.get(u));
            http = Some(chain);
            if suffixes.site(&t.host).as_deref() == Some(t.host.as_str()) {
                www = self.www(&t.host);
            }
        }
        Observation {
            host: t.host.clone(),
            port: t.port,
            https,
            http,
            first_redirect,
            www,
        }
    }
}

/// A blocking client over `tls` that follows no redirects, sent to `addrs`
/// for `host` when given.
fn build(
    tls: &rustls::ClientConfig,
    timeout: Duration,
    route: Option<(&str, &[SocketAddr])>,
) -> Result<reqwest::blocking::Client, CliError> {
    let mut b = reqwest::blocking::Client::builder()
        .tls_backend_preconfigured(tls.clone())
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .pool_max_idle_per_host(0)
        .user_agent(concat!("hsts-audit/", env!("CARGO_PKG_VERSION")));
    if let Some((host, addrs)) = route {
        b = b.resolve_to_addrs(host, addrs);
    }
    b.build()
        .map_err(|e| CliError::Failed(format!("cannot set up the HTTP client: {e}")))
}

/// One target's result.
enum Outcome {
    Audited(Box<(Target, Observation, Audit)>),
    /// A stdin line that is not a target.
    Bad {
        given: String,
        error: String,
    },
}

/// The most targets one `hsts audit` takes (each costs a few requests and
/// seconds; the list is held to print results in input order).
const MAX_TARGETS: usize = 100_000;

/// Runs `hsts audit`: exit 0 when every target is eligible, 1 otherwise.
pub(crate) fn run(ctx: &Ctx, out: &mut dyn Write, args: AuditArgs) -> Result<u8, CliError> {
    let profile = Profile::from(args.profile);
    // Targets on the command line must parse; stdin lines are reported.
    let mut items: Vec<Result<Target, (String, String)>> = Vec::new();
    for t in args.targets.iter().filter(|t| t.as_str() != "-") {
        parse_target(t).map_err(CliError::Usage)?;
    }
    for_each_item(&args.targets, |item| {
        // Every target is audited before any result is printed in input
        // order, so they are all held: a bounded number, each small (an
        // unusable line keeps only its start).
        if items.len() >= MAX_TARGETS {
            return Err(CliError::Usage(format!(
                "more than {MAX_TARGETS} targets: split the input"
            )));
        }
        match item {
            Item::Text(s) => items.push(parse_target(s).map_err(|e| (shown(s.as_bytes()), e))),
            Item::Bad(b) => items.push(Err((b.shown.clone(), b.to_string()))),
            Item::Blank(_) => {}
        }
        Ok(())
    })?;
    let fetcher = Fetcher::new(&args)?;
    let suffixes = ctx.config.suffix_list.list();
    let preload = ctx.preload_list()?;
    let bar = progress(items.len());
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, Outcome)>();
    let workers = usize::from(args.concurrency).min(items.len()).max(1);
    let mut status = 0u8;
    let items = Arc::new(items);
    std::thread::scope(|scope| -> Result<(), CliError> {
        for _ in 0..workers {
            let tx = tx.clone();
            let (items, next, fetcher) = (items.clone(), &next, &fetcher);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(i) else { break };
                let outcome = match item {
                    Ok(t) => {
                        let obs = fetcher.observe(t, suffixes);
                        let audit = assess(&obs, profile, suffixes, preload);
                        Outcome::Audited(Box::new((t.clone(), obs, audit)))
                    }
                    Err((given, error)) => Outcome::Bad {
                        given: given.clone(),
                        error: error.clone(),
                    },
                };
                if tx.send((i, outcome)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        // Print in input order, as results come in.
        let mut pending = BTreeMap::new();
        let mut printed = 0usize;
        for (i, outcome) in rx {
            bar.inc(1);
            pending.insert(i, outcome);
            while let Some(o) = pending.remove(&printed) {
                printed += 1;
                let text = match &o {
                    Outcome::Audited(b) => {
                        let (t, obs, audit) = &**b;
                        if !audit.eligible {
                            status = 1;
                        }
                        if args.json {
                            format!("{}\n", to_json(t, obs, audit))
                        } else {
                            to_text(t, obs, audit)
                        }
                    }
                    Outcome::Bad { given, error } => {
                        status = 1;
                        eprintln!("hsts: {error}");
                        if args.json {
                            format!(
                                "{}\n",
                                json!({"target": given, "error": error, "header": null,
                                       "preloaded": null, "preload_eligible": false, "findings": []})
                            )
                        } else {
                            format!("{}: {error}\n", escape(given))
                        }
                    }
                };
                bar.suspend(|| out.write_all(text.as_bytes()).and_then(|_| out.flush()))?;
            }
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    Ok(status)
}

/// A progress bar on stderr when it is a terminal and there are several
/// targets; a hidden one otherwise.
fn progress(n: usize) -> indicatif::ProgressBar {
    if n < 2 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(n as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("auditing {pos}/{len} [{bar:30}] {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// A chain as text: `URL STATUS -> URL STATUS ...`.
fn chain_text(c: &Chain) -> String {
    let mut s = String::new();
    for (i, h) in c.hops.iter().enumerate() {
        if i == 0 {
            s.push_str(&format!("{} {}", h.url, h.status));
        } else {
            s.push_str(&format!(" -> {} {}", h.url, h.status));
        }
    }
    match &c.end {
        ChainEnd::Done if c.too_many() => {
            if let Some(n) = c.hops.last().and_then(|h| h.next.as_ref()) {
                s.push_str(&format!(" -> {n} (not followed)"));
            }
        }
        ChainEnd::Done => {}
        ChainEnd::Failed { url, failure } => {
            if !c.hops.is_empty() {
                s.push_str(&format!(" -> {url}"));
            } else {
                s.push_str(url.as_str());
            }
            s.push_str(&format!(": {failure}"));
        }
        ChainEnd::BadLocation { location, .. } => {
            s.push_str(&format!(" -> {location:?} (not a usable URL)"));
        }
    }
    s
}

fn to_text(t: &Target, obs: &Observation, a: &Audit) -> String {
    let errors = a
        .findings
        .iter()
        .filter(|f| f.severity == hsts::lint::Severity::Error)
        .count();
    let verdict = if a.eligible {
        "preload-eligible".to_owned()
    } else {
        format!(
            "not preload-eligible ({errors} error{})",
            if errors == 1 { "" } else { "s" }
        )
    };
    let mut s = format!("{} [{}]: {verdict}\n", escape(&t.given), a.profile);
    let header = match obs.https.hops.first().map(|h| h.sts.as_slice()) {
        None => "no response".to_owned(),
        Some([]) => "no Strict-Transport-Security".to_owned(),
        Some(v) => v
            .iter()
            .map(|v| format!("Strict-Transport-Security: {}", escape(v)))
            .collect::<Vec<_>>()
            .join(" | "),
    };
    s.push_str(&format!("  header: {header}\n"));
    s.push_str(&format!("  https: {}\n", chain_text(&obs.https)));
    match &obs.http {
        Some(c) => s.push_str(&format!("  http: {}\n", chain_text(c))),
        None => s.push_str("  http: not checked (not port 443)\n"),
    }
    let www = match &obs.www {
        Www::NotChecked => "not checked".to_owned(),
        Www::Absent => "absent".to_owned(),
        Www::Tls => "accepts https".to_owned(),
        Www::NoTls(f) => format!("no https ({f})"),
    };
    s.push_str(&format!("  www.{}: {www}\n", t.host));
    let preloaded = match &a.preloaded {
        None => "no".to_owned(),
        Some(p) if p.name == t.host => "yes".to_owned(),
        Some(p) => format!("yes, through {} (includeSubDomains)", p.name),
    };
    s.push_str(&format!("  preloaded: {preloaded}\n"));
    for f in &a.findings {
        s.push_str(&format!(
            "  {} {}: {}\n",
            f.severity,
            f.code,
            escape(&f.message)
        ));
    }
    s
}

fn chain_json(c: &Chain) -> Value {
    let mut v: Vec<Value> = c
        .hops
        .iter()
        .map(|h| {
            json!({
                "url": h.url.as_str(),
                "status": h.status,
                "location": h.location,
                "sts": h.sts,
            })
        })
        .collect();
    if let ChainEnd::Failed { url, failure } = &c.end {
        v.push(
            json!({"url": url.as_str(), "error": failure.message, "timed_out": failure.timed_out}),
        );
    }
    Value::Array(v)
}

fn to_json(t: &Target, obs: &Observation, a: &Audit) -> Value {
    let first = obs.https.hops.first();
    let header = first.and_then(|h| h.sts.first());
    let (www, www_error) = match &obs.www {
        Www::NoTls(f) => ("no-tls", Some(f.to_string())),
        w => (w.as_str(), None),
    };
    json!({
        "target": t.given,
        "host": t.host,
        "port": t.port,
        "url": https_url(t).as_str(),
        "profile": a.profile.as_str(),
        "status": first.map(|h| h.status),
        "header": header,
        "headers": first.map(|h| h.sts.clone()).unwrap_or_default(),
        "valid": a.header.as_ref().map(|r| r.valid()),
        "registrable_domain": a.registrable,
        "preloaded": a.preloaded.is_some(),
        "preloaded_as": a.preloaded.as_ref().map(|p| p.name.as_str()),
        "preload_eligible": a.eligible,
        "https_chain": chain_json(&obs.https),
        "http_chain": obs.http.as_ref().map(chain_json),
        "www": www,
        "www_error": www_error,
        "findings": a.findings.iter().map(|f| json!({
            "code": f.code.as_str(),
            "severity": f.severity.as_str(),
            "message": f.message,
        })).collect::<Vec<_>>(),
    })
}

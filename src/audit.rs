//! The verdict of `hsts audit`: is a site ready for the HSTS preload list?
//!
//! This module holds no network code. The caller (the `hsts audit`
//! command) fetches `https://DOMAIN/` and `http://DOMAIN/` without
//! following redirects, follows each chain itself, fetches the https
//! target of the first http redirect, and probes `www.DOMAIN`; it records
//! what it saw in an [`Observation`]. [`assess`] turns that into findings
//! with stable [`Code`]s and a verdict, following hstspreload.org's rules
//! (chromium/hstspreload): exactly one header that passes the header rules
//! of the [`Profile`] (hstspreload.org's own with [`Profile::Preload`]);
//! `http://DOMAIN` redirects, first to `https://DOMAIN` (not to `www`
//! first); at most [`MAX_REDIRECTS`] redirects, all to https after the
//! first; the https target of the first redirect sends a valid header;
//! `www.DOMAIN` accepts TLS if it exists; only a registrable domain
//! (eTLD+1) can be submitted.
//!
//! ```
//! use hsts::audit::{assess, Chain, Code, Hop, Observation, Www};
//! use hsts::lint::Profile;
//! use hsts::url::Url;
//! use hsts::SuffixList;
//!
//! let ok = |url: &str, sts: &[&str]| Hop {
//!     url: Url::parse(url).unwrap(),
//!     status: 200,
//!     sts: sts.iter().map(|s| s.to_string()).collect(),
//!     location: None,
//!     next: None,
//! };
//! let header = "max-age=63072000; includeSubDomains; preload";
//! let mut redirect = ok("http://example.org/", &[]);
//! redirect.status = 301;
//! redirect.location = Some("https://example.org/".into());
//! redirect.next = Some(Url::parse("https://example.org/").unwrap());
//! let obs = Observation {
//!     host: "example.org".into(),
//!     port: 443,
//!     https: Chain::done(vec![ok("https://example.org/", &[header])]),
//!     http: Some(Chain::done(vec![redirect, ok("https://example.org/", &[header])])),
//!     first_redirect: Some(Ok(ok("https://example.org/", &[header]))),
//!     www: Www::Absent,
//! };
//! let audit = assess(&obs, Profile::Preload, SuffixList::builtin(), None);
//! assert!(audit.eligible);
//! assert!(audit.codes().any(|c| c == Code::Eligible));
//! ```

use std::fmt;

use url::Url;

use crate::lint::{self, Profile, Report, Severity};
use crate::preload::PreloadList;
use crate::SuffixList;

/// hstspreload.org follows at most this many redirects from `http://` or
/// `https://DOMAIN`.
pub const MAX_REDIRECTS: usize = 3;

/// A request that got no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong (connection refused, a TLS or certificate error...).
    pub message: String,
    /// The request ran into its time limit.
    pub timed_out: bool,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.timed_out {
            write!(f, "timed out: {}", self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

/// One response, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// The URL requested.
    pub url: Url,
    /// The status code.
    pub status: u16,
    /// Every `Strict-Transport-Security` field, in order (lossy UTF-8).
    pub sts: Vec<String>,
    /// The `Location` field, as received.
    pub location: Option<String>,
    /// The URL this response redirects to, when it is a redirect (301, 302,
    /// 303, 307 or 308 with a usable `Location`).
    pub next: Option<Url>,
}

/// How a redirect chain ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainEnd {
    /// With a response that is not a redirect, or after more than
    /// [`MAX_REDIRECTS`] redirects (the last target is not requested).
    Done,
    /// A request of the chain got no response.
    Failed {
        /// The URL requested.
        url: Url,
        /// Why.
        failure: Failure,
    },
    /// A redirect whose `Location` is not a usable URL.
    BadLocation {
        /// The URL that answered with it.
        url: Url,
        /// The `Location` as received.
        location: String,
    },
}

/// A redirect chain from a first URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    /// The responses, in order; the first is the first URL's.
    pub hops: Vec<Hop>,
    /// How it ended.
    pub end: ChainEnd,
}

impl Chain {
    /// A chain that ended with its last response.
    pub fn done(hops: Vec<Hop>) -> Chain {
        Chain {
            hops,
            end: ChainEnd::Done,
        }
    }

    /// The first URL could not be fetched.
    pub fn failed(url: Url, failure: Failure) -> Chain {
        Chain {
            hops: Vec::new(),
            end: ChainEnd::Failed { url, failure },
        }
    }

    /// The redirect targets, in order.
    pub fn redirects(&self) -> impl Iterator<Item = &Url> + '_ {
        self.hops.iter().filter_map(|h| h.next.as_ref())
    }

    /// Whether the chain went over [`MAX_REDIRECTS`].
    pub fn too_many(&self) -> bool {
        self.redirects().count() > MAX_REDIRECTS
    }
}

/// What was found at `www.DOMAIN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Www {
    /// Not checked: the target is not a registrable domain, or not on port 443.
    NotChecked,
    /// The name does not resolve, or nothing listens on port 443.
    Absent,
    /// It answered over https with a valid certificate.
    Tls,
    /// It accepts connections on port 443 but not https with a valid certificate.
    NoTls(Failure),
}

impl Www {
    /// `"not-checked"`, `"absent"`, `"tls"` or `"no-tls"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Www::NotChecked => "not-checked",
            Www::Absent => "absent",
            Www::Tls => "tls",
            Www::NoTls(_) => "no-tls",
        }
    }
}

/// Everything observed about one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// The canonical host name (or IP address literal).
    pub host: String,
    /// The https port audited (443 unless the target said otherwise).
    pub port: u16,
    /// The chain from `https://HOST[:PORT]/`; its first response carries
    /// the header that counts.
    pub https: Chain,
    /// The chain from `http://HOST/`; `None` when not checked (a port
    /// other than 443).
    pub http: Option<Chain>,
    /// The response of the https URL the first http redirect goes to, when
    /// that is `https://HOST...`, requested on its own.
    pub first_redirect: Option<Result<Hop, Failure>>,
    /// `www.HOST`.
    pub www: Www,
}

/// The stable code of an audit finding. Header findings carry the code of
/// [`crate::lint`]; the strings ([`Code::as_str`]) are part of the CLI's
/// JSON contract and documented in README.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Code {
    /// A finding of [`crate::lint::lint`] on the header received.
    Header(lint::Code),
    /// `https://HOST/` could not be fetched (TLS, certificate, connection,
    /// time-out).
    HttpsUnreachable,
    /// The https response has no `Strict-Transport-Security` field.
    NoHeader,
    /// The https response has more than one.
    MultipleHeaders,
    /// `http://HOST/` could not be fetched (a warning, as at hstspreload.org).
    HttpUnreachable,
    /// The http response carries the header, which browsers ignore there.
    HeaderOverHttp,
    /// `http://HOST/` answers without redirecting.
    HttpNoRedirect,
    /// The first http redirect goes to `www.HOST`.
    HttpRedirectToWwwFirst,
    /// The first http redirect goes to another host.
    HttpRedirectOtherHost,
    /// The first http redirect stays on plain http.
    HttpRedirectInsecure,
    /// The https target of the first http redirect sends no valid header.
    RedirectTargetNoHsts,
    /// The https target of the first http redirect could not be fetched.
    RedirectTargetUnreachable,
    /// More than [`MAX_REDIRECTS`] redirects.
    TooManyRedirects,
    /// A redirect (after the first, from http) to plain http.
    InsecureRedirect,
    /// A redirect could not be followed (no response, a bad Location).
    RedirectFailed,
    /// `www.HOST` exists but does not accept https.
    WwwNoTls,
    /// Not a registrable domain (eTLD+1): a subdomain, a public suffix or
    /// an IP address.
    NotRegistrable,
    /// Another port than 443: only the header was audited.
    PortNot443,
    /// In the preload list in use, directly or through an ancestor with
    /// includeSubDomains.
    Preloaded,
    /// Meets every hstspreload.org rule checked.
    Eligible,
}

impl Code {
    /// Every code of the audit itself (not the header's), in documentation order.
    pub const SITE: [Code; 19] = [
        Code::HttpsUnreachable,
        Code::NoHeader,
        Code::MultipleHeaders,
        Code::HttpUnreachable,
        Code::HeaderOverHttp,
        Code::HttpNoRedirect,
        Code::HttpRedirectToWwwFirst,
        Code::HttpRedirectOtherHost,
        Code::HttpRedirectInsecure,
        Code::RedirectTargetNoHsts,
        Code::RedirectTargetUnreachable,
        Code::TooManyRedirects,
        Code::InsecureRedirect,
        Code::RedirectFailed,
        Code::WwwNoTls,
        Code::NotRegistrable,
        Code::PortNot443,
        Code::Preloaded,
        Code::Eligible,
    ];

    /// The stable kebab-case code, e.g. `"http-redirect-to-www-first"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Header(c) => c.as_str(),
            Code::HttpsUnreachable => "https-unreachable",
            Code::NoHeader => "no-header",
            Code::MultipleHeaders => "multiple-headers",
            Code::HttpUnreachable => "http-unreachable",
            Code::HeaderOverHttp => "header-over-http",
            Code::HttpNoRedirect => "http-no-redirect",
            Code::HttpRedirectToWwwFirst => "http-redirect-to-www-first",
            Code::HttpRedirectOtherHost => "http-redirect-other-host",
            Code::HttpRedirectInsecure => "http-redirect-insecure",
            Code::RedirectTargetNoHsts => "redirect-target-no-hsts",
            Code::RedirectTargetUnreachable => "redirect-target-unreachable",
            Code::TooManyRedirects => "too-many-redirects",
            Code::InsecureRedirect => "insecure-redirect",
            Code::RedirectFailed => "redirect-failed",
            Code::WwwNoTls => "www-no-tls",
            Code::NotRegistrable => "not-registrable",
            Code::PortNot443 => "port-not-443",
            Code::Preloaded => "preloaded",
            Code::Eligible => "eligible",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing the audit has to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The stable code.
    pub code: Code,
    /// How much it matters: an error blocks preloading.
    pub severity: Severity,
    /// What is wrong, and how to fix it.
    pub message: String,
}

/// Where the host stands in the preload list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preloaded {
    /// The listed name: the host itself or an ancestor.
    pub name: String,
    /// Whether that entry has includeSubDomains.
    pub include_subdomains: bool,
}

/// The result of [`assess`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    /// The profile whose header rules were applied.
    pub profile: Profile,
    /// The lint report of the header, when exactly one was received.
    pub header: Option<Report>,
    /// The registrable domain (eTLD+1) of the host, if it has one.
    pub registrable: Option<String>,
    /// The preload list entry that covers the host, if any.
    pub preloaded: Option<Preloaded>,
    /// The findings: errors first, then warnings, then info.
    pub findings: Vec<Finding>,
    /// No finding is an error: eligible for hstspreload.org under the
    /// profile's header rules.
    pub eligible: bool,
}

impl Audit {
    /// The codes of the findings, in order.
    pub fn codes(&self) -> impl Iterator<Item = Code> + '_ {
        self.findings.iter().map(|f| f.code)
    }
}

struct Findings(Vec<Finding>);

impl Findings {
    fn error(&mut self, code: Code, message: String) {
        self.push(code, Severity::Error, message);
    }

    fn push(&mut self, code: Code, severity: Severity, message: String) {
        self.0.push(Finding {
            code,
            severity,
            message,
        });
    }
}

/// Applies hstspreload.org's rules, with the header rules of `profile`, to
/// what was observed. `suffixes` decides the registrable domain; `preload`
/// is the list to look the host up in (none: not looked up).
pub fn assess(
    obs: &Observation,
    profile: Profile,
    suffixes: &SuffixList,
    preload: Option<&PreloadList>,
) -> Audit {
    let mut f = Findings(Vec::new());
    let host = obs.host.as_str();
    let registrable = suffixes.site(host).filter(|_| !is_ip(host));
    let on_443 = obs.port == 443;
    if on_443 {
        domain_level(&mut f, host, registrable.as_deref());
    } else {
        f.push(
            Code::PortNot443,
            Severity::Info,
            format!(
                "port {} audited as given: only its header was checked. Preloading covers the \
                 domain on port 443 (and makes browsers use https on every port); audit \
                 https://{host}/ for the domain's verdict",
                obs.port
            ),
        );
    }
    let header = https_header(&mut f, obs, profile);
    if let Some(http) = &obs.http {
        let header_ok = header.as_ref().is_some_and(|r| !r.has_errors());
        http_chain(&mut f, obs, http, profile, header_ok);
    }
    https_chain(&mut f, &obs.https);
    if let Www::NoTls(failure) = &obs.www {
        f.error(
            Code::WwwNoTls,
            format!(
                "www.{host} exists (port 443 accepts connections) but https to it fails \
                 ({failure}). People type www. by habit, and a preloaded domain with \
                 includeSubDomains makes browsers refuse it: give www.{host} a valid certificate"
            ),
        );
    }
    let preloaded = preload.and_then(|list| {
        list.lookup(host).map(|m| Preloaded {
            name: m.name.to_owned(),
            include_subdomains: m.include_subdomains,
        })
    });
    if let Some(p) = &preloaded {
        let how = if p.name == host {
            format!("listed as {host}")
        } else {
            format!("covered by {} with includeSubDomains", p.name)
        };
        f.push(
            Code::Preloaded,
            Severity::Info,
            format!(
                "{host} is in the preload list in use ({how}): browsers use https for it \
                 before any visit. To leave the list, send the header without preload and \
                 ask at https://hstspreload.org/removal/"
            ),
        );
    }
    let eligible = !f.0.iter().any(|x| x.severity == Severity::Error);
    if eligible {
        let what = if on_443 {
            format!(
                "{host} meets every hstspreload.org rule checked (one header under the {profile} \
                 profile, http redirects first to https on the same host, at most \
                 {MAX_REDIRECTS} redirects, www over https): it can be submitted at \
                 https://hstspreload.org"
            )
        } else {
            format!(
                "the header on port {} meets the {profile} profile's rules",
                obs.port
            )
        };
        f.push(Code::Eligible, Severity::Info, what);
    }
    let mut findings = f.0;
    findings.sort_by_key(|x| std::cmp::Reverse(x.severity));
    Audit {
        profile,
        header,
        registrable,
        preloaded,
        findings,
        eligible,
    }
}

fn is_ip(host: &str) -> bool {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .is_ok()
}

/// Only a registrable domain (eTLD+1) can be submitted.
fn domain_level(f: &mut Findings, host: &str, registrable: Option<&str>) {
    match registrable {
        Some(site) if site == host => {}
        Some(site) => f.error(
            Code::NotRegistrable,
            format!(
                "{host} is a subdomain: hstspreload.org accepts only registrable domains \
                 (eTLD+1). Preload {site} with includeSubDomains instead, which covers {host}"
            ),
        ),
        None if is_ip(host) => f.error(
            Code::NotRegistrable,
            format!("{host} is an IP address: only domain names can be preloaded"),
        ),
        None => f.error(
            Code::NotRegistrable,
            format!(
                "{host} is a public suffix: hstspreload.org does not take it (operators of a \
                 TLD or public suffix see https://hstspreload.org/#tld)"
            ),
        ),
    }
}

/// The header of the first https response; its lint report when there is
/// exactly one.
fn https_header(f: &mut Findings, obs: &Observation, profile: Profile) -> Option<Report> {
    let Some(first) = obs.https.hops.first() else {
        if let ChainEnd::Failed { url, failure } = &obs.https.end {
            f.error(
                Code::HttpsUnreachable,
                format!(
                    "{url} could not be fetched ({failure}): the header can only be read over \
                     https with a valid certificate"
                ),
            );
        }
        return None;
    };
    match first.sts.as_slice() {
        [] => {
            f.error(
                Code::NoHeader,
                format!(
                    "{} answered {} without a Strict-Transport-Security field: browsers \
                     keep using http when a link or a typed name says so. Send it on every https \
                     response (`hsts build` writes the line for your server)",
                    first.url, first.status
                ),
            );
            None
        }
        [one] => {
            let report = lint::lint(one, profile);
            for x in &report.findings {
                f.push(Code::Header(x.code), x.severity, x.message.clone());
            }
            Some(report)
        }
        many => {
            f.error(
                Code::MultipleHeaders,
                format!(
                    "{} sent {} Strict-Transport-Security fields: hstspreload.org requires \
                     exactly one, and a browser that joins them with a comma ignores them all. \
                     Configure the header in one place only (a proxy and the application both \
                     adding it is the usual cause)",
                    first.url,
                    many.len()
                ),
            );
            None
        }
    }
}

/// The chain from `http://HOST/`.
fn http_chain(
    f: &mut Findings,
    obs: &Observation,
    chain: &Chain,
    profile: Profile,
    header_ok: bool,
) {
    let host = obs.host.as_str();
    let Some(first) = chain.hops.first() else {
        if let ChainEnd::Failed { url, failure } = &chain.end {
            f.push(
                Code::HttpUnreachable,
                Severity::Warning,
                format!(
                    "{url} could not be fetched ({failure}): users of browsers without the \
                     preload list who type the name or follow an http:// link cannot reach the \
                     site. hstspreload.org accepts this, but a redirect to https://{host}/ is better"
                ),
            );
        }
        return;
    };
    if !first.sts.is_empty() {
        f.push(
            Code::HeaderOverHttp,
            Severity::Warning,
            format!(
                "{} sends Strict-Transport-Security over plain http, where browsers ignore it \
                 (RFC 6797 §8.1): send it over https only",
                first.url
            ),
        );
    }
    let Some(target) = &first.next else {
        if let ChainEnd::BadLocation { url, location } = &chain.end {
            f.error(
                Code::RedirectFailed,
                format!("{url} redirects to {location:?}, which is not a usable URL"),
            );
        } else {
            f.error(
                Code::HttpNoRedirect,
                format!(
                    "{} answers {} without redirecting: it must redirect to https://{host}/ \
                     (a 301 or 308), so that the first visit moves to https and sees the header",
                    first.url, first.status
                ),
            );
        }
        return;
    };
    let target_host = target.host_str().unwrap_or_default();
    let www = format!("www.{host}");
    if target.scheme() == "https" && target_host == host {
        match &obs.first_redirect {
            Some(Ok(hop)) if header_ok => {
                let ok = match hop.sts.as_slice() {
                    [one] => !lint::lint(one, profile).has_errors(),
                    _ => false,
                };
                if !ok {
                    let got = match hop.sts.as_slice() {
                        [] => "no Strict-Transport-Security field".to_owned(),
                        [one] => format!("{one:?}, which fails the {profile} profile's rules"),
                        many => format!("{} Strict-Transport-Security fields", many.len()),
                    };
                    f.error(
                        Code::RedirectTargetNoHsts,
                        format!(
                            "{} redirects to {target}, which answers {} with {got}: every \
                             https response must send the header, the redirect's target first",
                            first.url, hop.status
                        ),
                    );
                }
            }
            Some(Err(failure)) => f.error(
                Code::RedirectTargetUnreachable,
                format!(
                    "{} redirects to {target}, which could not be fetched ({failure})",
                    first.url
                ),
            ),
            _ => {}
        }
    } else if target_host == www {
        f.error(
            Code::HttpRedirectToWwwFirst,
            format!(
                "{} redirects first to {target}: it must redirect to https://{host}/ first (then \
                 to www if you like), so that browsers see the header of {host} itself, \
                 includeSubDomains and all",
                first.url
            ),
        );
    } else if target.scheme() == "https" {
        f.error(
            Code::HttpRedirectOtherHost,
            format!(
                "{} redirects first to another host ({target}): the first redirect must go to \
                 https://{host}/ on the same host, which then sends the header",
                first.url
            ),
        );
    } else {
        f.error(
            Code::HttpRedirectInsecure,
            format!(
                "{} redirects to {target}, plain http again: the first redirect must go to \
                 https://{host}/",
                first.url
            ),
        );
    }
    for (i, u) in chain.redirects().enumerate().skip(1) {
        if u.scheme() != "https" {
            f.error(
                Code::InsecureRedirect,
                format!(
                    "redirect {} from {} goes to plain http ({u}): every redirect after the \
                     first must stay on https",
                    i + 1,
                    first.url
                ),
            );
            break;
        }
    }
    chain_end(f, chain, &first.url);
}

/// The chain from `https://HOST/`: every redirect on https, at most three.
fn https_chain(f: &mut Findings, chain: &Chain) {
    let Some(first) = chain.hops.first() else {
        return;
    };
    if let Some((i, u)) = chain
        .redirects()
        .enumerate()
        .find(|(_, u)| u.scheme() != "https")
    {
        f.error(
            Code::InsecureRedirect,
            format!(
                "redirect {} from {} goes to plain http ({u}): an https page must never \
                 redirect to http",
                i + 1,
                first.url
            ),
        );
    }
    chain_end(f, chain, &first.url);
}

/// Too many redirects, or a chain that broke off.
fn chain_end(f: &mut Findings, chain: &Chain, start: &Url) {
    if chain.too_many() {
        f.error(
            Code::TooManyRedirects,
            format!(
                "more than {MAX_REDIRECTS} redirects from {start}: hstspreload.org follows at \
                 most {MAX_REDIRECTS}. Redirect straight to the final https URL"
            ),
        );
        return;
    }
    match &chain.end {
        ChainEnd::Done => {}
        ChainEnd::Failed { url, failure } if chain.hops.len() > 1 || url != start => {
            f.error(
                Code::RedirectFailed,
                format!("the redirects from {start} lead to {url}, which could not be fetched ({failure})"),
            );
        }
        ChainEnd::Failed { .. } => {}
        ChainEnd::BadLocation { url, location } if chain.hops.len() > 1 => f.error(
            Code::RedirectFailed,
            format!("{url} (from {start}) redirects to {location:?}, which is not a usable URL"),
        ),
        ChainEnd::BadLocation { url, location } => {
            // From http, http_chain reported it.
            if url.scheme() == "https" {
                f.error(
                    Code::RedirectFailed,
                    format!("{url} redirects to {location:?}, which is not a usable URL"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "max-age=63072000; includeSubDomains; preload";

    fn hop(url: &str, status: u16, sts: &[&str], next: Option<&str>) -> Hop {
        Hop {
            url: Url::parse(url).unwrap(),
            status,
            sts: sts.iter().map(|s| s.to_string()).collect(),
            location: next.map(str::to_owned),
            next: next.map(|n| Url::parse(n).unwrap()),
        }
    }

    /// A compliant example.org, to be spoiled by each test.
    fn good() -> Observation {
        good_at("example.org")
    }

    /// A compliant `host`.
    fn good_at(host: &str) -> Observation {
        let https = format!("https://{host}/");
        let http = format!("http://{host}/");
        Observation {
            host: host.into(),
            port: 443,
            https: Chain::done(vec![hop(&https, 200, &[GOOD], None)]),
            http: Some(Chain::done(vec![
                hop(&http, 301, &[], Some(&https)),
                hop(&https, 200, &[GOOD], None),
            ])),
            first_redirect: Some(Ok(hop(&https, 200, &[GOOD], None))),
            www: Www::Tls,
        }
    }

    fn run(obs: &Observation) -> Audit {
        assess(obs, Profile::Preload, SuffixList::builtin(), None)
    }

    fn errors(a: &Audit) -> Vec<&'static str> {
        a.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.code.as_str())
            .collect()
    }

    #[test]
    fn compliant() {
        let a = run(&good());
        assert!(a.eligible, "{:?}", a.findings);
        assert!(errors(&a).is_empty());
        let codes: Vec<_> = a.codes().map(Code::as_str).collect();
        assert!(codes.contains(&"preload-ready") && codes.contains(&"eligible"));
        assert_eq!(a.registrable.as_deref(), Some("example.org"));
    }

    #[test]
    fn header_rules() {
        let mut o = good();
        o.https.hops[0].sts.clear();
        assert_eq!(errors(&run(&o)), ["no-header"]);
        o.https.hops[0].sts = vec![GOOD.into(), GOOD.into()];
        assert_eq!(errors(&run(&o)), ["multiple-headers"]);
        o.https.hops[0].sts = vec!["max-age=300; includeSubDomains; preload".into()];
        assert_eq!(errors(&run(&o)), ["max-age-below-preload"]);
        // The same header under rfc: valid, so eligible under that profile.
        let a = assess(&o, Profile::Rfc, SuffixList::builtin(), None);
        assert!(a.eligible);
        o.https = Chain::failed(
            Url::parse("https://example.org/").unwrap(),
            Failure {
                message: "connection refused".into(),
                timed_out: false,
            },
        );
        assert_eq!(errors(&run(&o)), ["https-unreachable"]);
    }

    #[test]
    fn redirect_target_checked_only_when_the_header_passes() {
        let mut o = good();
        o.first_redirect = Some(Ok(hop("https://example.org/", 200, &[], None)));
        assert_eq!(errors(&run(&o)), ["redirect-target-no-hsts"]);
        o.https.hops[0].sts.clear();
        assert_eq!(errors(&run(&o)), ["no-header"]);
        let mut o = good();
        o.first_redirect = Some(Err(Failure {
            message: "x".into(),
            timed_out: true,
        }));
        let a = run(&o);
        assert_eq!(errors(&a), ["redirect-target-unreachable"]);
        assert!(a.findings[0].message.contains("timed out"));
    }

    #[test]
    fn http_rules() {
        let mut o = good();
        o.http = Some(Chain::done(vec![hop(
            "http://example.org/",
            200,
            &[],
            None,
        )]));
        assert_eq!(errors(&run(&o)), ["http-no-redirect"]);
        o.http = Some(Chain::done(vec![
            hop(
                "http://example.org/",
                301,
                &[],
                Some("https://www.example.org/"),
            ),
            hop("https://www.example.org/", 200, &[GOOD], None),
        ]));
        assert_eq!(errors(&run(&o)), ["http-redirect-to-www-first"]);
        o.http.as_mut().unwrap().hops[0].next =
            Some(Url::parse("http://www.example.org/").unwrap());
        assert_eq!(errors(&run(&o)), ["http-redirect-to-www-first"]);
        o.http.as_mut().unwrap().hops[0].next = Some(Url::parse("https://example.net/").unwrap());
        assert_eq!(errors(&run(&o)), ["http-redirect-other-host"]);
        o.http.as_mut().unwrap().hops[0].next = Some(Url::parse("http://example.org/x").unwrap());
        assert_eq!(errors(&run(&o)), ["http-redirect-insecure"]);
        // Unreachable over http: a warning only.
        o.http = Some(Chain::failed(
            Url::parse("http://example.org/").unwrap(),
            Failure {
                message: "refused".into(),
                timed_out: false,
            },
        ));
        let a = run(&o);
        assert!(a.eligible);
        assert!(a.codes().any(|c| c == Code::HttpUnreachable));
        // A header over http: a warning.
        let mut o = good();
        o.http.as_mut().unwrap().hops[0].sts = vec![GOOD.into()];
        let a = run(&o);
        assert!(a.eligible && a.codes().any(|c| c == Code::HeaderOverHttp));
    }

    #[test]
    fn redirect_counts_and_schemes() {
        let mut o = good();
        let u = |p: &str| format!("https://example.org/{p}");
        o.http = Some(Chain::done(vec![
            hop("http://example.org/", 301, &[], Some(&u("a"))),
            hop(&u("a"), 301, &[GOOD], Some(&u("b"))),
            hop(&u("b"), 301, &[GOOD], Some(&u("c"))),
            hop(&u("c"), 301, &[GOOD], Some(&u("d"))),
        ]));
        o.first_redirect = Some(Ok(hop(&u("a"), 301, &[GOOD], Some(&u("b")))));
        assert_eq!(errors(&run(&o)), ["too-many-redirects"]);
        // Three are fine.
        o.http.as_mut().unwrap().hops[3].next = None;
        o.http.as_mut().unwrap().hops[3].status = 200;
        assert!(run(&o).eligible);
        // Back to http after the first.
        o.http.as_mut().unwrap().hops[1].next = Some(Url::parse("http://example.org/b").unwrap());
        assert_eq!(errors(&run(&o)), ["insecure-redirect"]);
        // From https to http.
        let mut o = good();
        o.https = Chain::done(vec![
            hop(
                "https://example.org/",
                301,
                &[GOOD],
                Some("http://example.org/x"),
            ),
            hop("http://example.org/x", 200, &[], None),
        ]);
        assert_eq!(errors(&run(&o)), ["insecure-redirect"]);
        // A chain that breaks off.
        let mut o = good();
        o.https = Chain {
            hops: vec![hop(
                "https://example.org/",
                301,
                &[GOOD],
                Some("https://example.org/x"),
            )],
            end: ChainEnd::Failed {
                url: Url::parse("https://example.org/x").unwrap(),
                failure: Failure {
                    message: "reset".into(),
                    timed_out: false,
                },
            },
        };
        assert_eq!(errors(&run(&o)), ["redirect-failed"]);
    }

    #[test]
    fn www_domain_and_port() {
        let mut o = good();
        o.www = Www::NoTls(Failure {
            message: "handshake".into(),
            timed_out: false,
        });
        assert_eq!(errors(&run(&o)), ["www-no-tls"]);
        for host in ["www.example.org", "co.uk", "192.0.2.1"] {
            let mut o = good_at(host);
            o.www = Www::NotChecked;
            assert_eq!(errors(&run(&o)), ["not-registrable"], "{host}");
        }
        // Another port: the header only; a subdomain is fine there.
        let mut o = good_at("qlik.example.org");
        o.port = 4242;
        o.http = None;
        o.first_redirect = None;
        o.www = Www::NotChecked;
        let a = run(&o);
        assert!(a.eligible);
        assert!(a.codes().any(|c| c == Code::PortNot443));
        o.https.hops[0].sts.clear();
        assert_eq!(errors(&run(&o)), ["no-header"]);
    }

    #[test]
    fn preloaded_through_an_ancestor() {
        let list = PreloadList::builtin();
        let (name, _) = list.iter().find(|(_, isd)| *isd).unwrap();
        let o = good_at(&format!("sub.{name}"));
        let a = assess(&o, Profile::Preload, SuffixList::builtin(), Some(list));
        let p = a.preloaded.as_ref().unwrap();
        assert_eq!(p.name, name);
        assert!(p.include_subdomains);
        assert!(a.codes().any(|c| c == Code::Preloaded));
        let a = run(&good());
        assert!(a.preloaded.is_none());
    }

    #[test]
    fn codes_are_unique_and_distinct_from_lint() {
        let mut all: Vec<&str> = Code::SITE.iter().map(|c| c.as_str()).collect();
        all.extend(lint::Code::ALL.iter().map(|c| c.as_str()));
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
    }
}

//! `hsts parse`, `hsts check`, `hsts rewrite` and `hsts observe`.

use std::ffi::OsString;
use std::io::Write;

use serde_json::{json, Value};
use url::Url;

use hsts::host::{self, Host};
use hsts::StsHeader;
use hsts::{Outcome, Transport};

use super::{expand_stdin, line, CliError, Ctx};

/// The raw bytes of an argument (arguments need not be UTF-8).
fn os_bytes(s: &OsString) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        s.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        s.to_string_lossy().into_owned().into_bytes()
    }
}

/// `hsts parse [--json] VALUE`: exit 0 if valid, 1 if not.
pub(crate) fn parse(out: &mut dyn Write, json: bool, value: &OsString) -> Result<u8, CliError> {
    let parsed = StsHeader::parse_bytes(&os_bytes(value));
    let text = match (&parsed, json) {
        (Ok(h), true) => json!({
            "valid": true,
            "max_age": h.max_age,
            "include_subdomains": h.include_subdomains,
            "preload": h.preload,
        })
        .to_string(),
        (Err(e), true) => json!({"valid": false, "error": e.to_string()}).to_string(),
        (Ok(h), false) => format!("valid: {h}"),
        (Err(e), false) => format!("invalid: {e}"),
    };
    line(out, &text)?;
    Ok(if parsed.is_ok() { 0 } else { 1 })
}

/// `hsts check [--json | --count] HOST...`.
pub(crate) fn check(
    ctx: &Ctx,
    out: &mut dyn Write,
    json: bool,
    count: bool,
    hosts: &[String],
) -> Result<u8, CliError> {
    let store = ctx.load_store()?;
    let hosts = expand_stdin(hosts)?;
    let mut status = 0;
    let mut known = 0u64;
    for given in &hosts {
        let result = host::canonicalize(given);
        let found = match &result {
            Ok(Host::Domain(d)) => store.lookup_canonical_at(d, ctx.now),
            Ok(Host::Ip(_)) => None,
            Err(e) => {
                status = 1;
                if json {
                    line(
                        out,
                        &json!({"host": given, "hsts": false, "error": e.to_string()}).to_string(),
                    )?;
                } else {
                    eprintln!("hsts: invalid host {given:?}: {e}");
                    if !count {
                        line(out, &format!("{given}\thttp"))?;
                    }
                }
                continue;
            }
        };
        if found.is_some() {
            known += 1;
        }
        if count {
            continue;
        }
        if json {
            let canonical = result.as_ref().map(|h| h.to_string()).unwrap_or_default();
            let v = match &found {
                Some(m) => json!({
                    "host": given,
                    "canonical": canonical,
                    "hsts": true,
                    "source": m.source.as_str(),
                    "matched": m.host,
                    "include_subdomains": m.include_subdomains,
                    "expires": m.expires.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                }),
                None => json!({
                    "host": given,
                    "canonical": canonical,
                    "hsts": false,
                    "source": Value::Null,
                    "matched": Value::Null,
                    "include_subdomains": Value::Null,
                    "expires": Value::Null,
                }),
            };
            line(out, &v.to_string())?;
        } else {
            let scheme = if found.is_some() { "https" } else { "http" };
            line(out, &format!("{given}\t{scheme}"))?;
        }
    }
    if count {
        line(out, &known.to_string())?;
    }
    Ok(status)
}

/// `hsts rewrite URL...`.
pub(crate) fn rewrite(ctx: &Ctx, out: &mut dyn Write, urls: &[String]) -> Result<u8, CliError> {
    let store = ctx.load_store()?;
    let mut status = 0;
    for given in expand_stdin(urls)? {
        match Url::parse(&given) {
            Ok(url) => line(out, store.upgrade_at(&url, ctx.now).url(&url).as_str())?,
            Err(e) => {
                eprintln!("hsts: cannot parse URL {given:?}: {e}");
                line(out, &given)?;
                status = 1;
            }
        }
    }
    Ok(status)
}

/// `hsts observe [--json] [--cert-errors] URL VALUE...`.
pub(crate) fn observe(
    ctx: &Ctx,
    out: &mut dyn Write,
    json: bool,
    cert_errors: bool,
    url: &str,
    values: &[OsString],
) -> Result<u8, CliError> {
    if ctx.store_path.is_none() {
        return Err(CliError::Usage("observe needs --store FILE".into()));
    }
    let url =
        Url::parse(url).map_err(|e| CliError::Failed(format!("cannot parse URL {url:?}: {e}")))?;
    let secure = matches!(url.scheme(), "https" | "wss");
    let transport = Transport::from_flags(secure, cert_errors);
    let fields: Vec<Vec<u8>> = values.iter().map(os_bytes).collect();
    let now = ctx.now;
    let outcome = ctx.update_store(|store| store.note_at(&url, &fields, transport, now))?;
    let host = url.host().map(|h| match host::from_url_host(h) {
        Ok(h) => h.to_string(),
        Err(_) => url.host_str().unwrap_or_default().to_owned(),
    });
    let reason = match &outcome {
        Outcome::Ignored(r) => Some(r.to_string()),
        _ => None,
    };
    if json {
        line(
            out,
            &json!({"outcome": outcome.as_str(), "host": host, "reason": reason}).to_string(),
        )?;
    } else {
        match reason {
            Some(r) => line(out, &format!("ignored: {r}"))?,
            None => line(out, outcome.as_str())?,
        }
    }
    Ok(0)
}

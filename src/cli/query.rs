//! `hsts parse`, `hsts check`, `hsts rewrite` and `hsts observe`.

use std::borrow::Cow;
use std::ffi::OsString;
use std::io::Write;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use url::Url;

use hsts::host::{self, Host};
use hsts::StsHeader;
use hsts::{CanonicalHost, CanonicalName, InContext, Outcome, RequestContext, Transport};

use super::input::{escape, for_each_line, BadLine, Item, Lines, MAX_LINE};
use super::sync_cmd::FleetArgs;
use super::{end_line, line, line_buffered, CliError, Ctx};

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

/// `hsts parse [--json] VALUE`: exit 0 if valid, 1 if not. A VALUE of
/// "-" reads one value per line of stdin and prints one line per line
/// (an empty line is an empty value: invalid); exit 1 if any is invalid.
pub(crate) fn parse(out: &mut dyn Write, json: bool, value: &OsString) -> Result<u8, CliError> {
    if value != "-" {
        return parse_one(out, json, &os_bytes(value));
    }
    let stdin = std::io::stdin();
    let mut lines = Lines::new(stdin.lock(), MAX_LINE);
    lines.keep_blank = true;
    let mut status = 0;
    lines.for_each(|item| {
        let code = match item {
            Item::Text(v) => parse_one(out, json, v.as_bytes())?,
            Item::Blank(_) => parse_one(out, json, b"")?,
            Item::Bad(bad) => {
                eprintln!("hsts: {bad}");
                let text = if json {
                    json!({"valid": false, "error": bad.to_string()}).to_string()
                } else {
                    format!("invalid: {bad}")
                };
                line(out, &text)?;
                1
            }
        };
        status = status.max(code);
        Ok::<(), CliError>(())
    })?;
    Ok(status)
}

/// Parses one value and prints its line.
fn parse_one(out: &mut dyn Write, json: bool, value: &[u8]) -> Result<u8, CliError> {
    let parsed = StsHeader::parse_bytes(value);
    let text = match (&parsed, json) {
        (Ok(h), true) => json!({
            "valid": true,
            "max_age": super::json_number(h.max_age),
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

/// How `check` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CheckOutput {
    /// "host<TAB>https|http".
    Plain,
    /// One JSON object per host.
    Json,
    /// Only the count at the end.
    Count,
}

/// `hsts check [--json | --count] HOST...`.
pub(crate) fn check<W: Write>(
    ctx: &Ctx,
    out: &mut W,
    mode: CheckOutput,
    (request, fleet): (&RequestContext, &FleetArgs),
    hosts: &[String],
) -> Result<u8, CliError> {
    let mut store = ctx.load_store()?;
    fleet.pull(ctx, &mut store)?;
    let store = store.in_context(request);
    let mut status = 0;
    let mut known = 0u64;
    // One scratch name for every host: nothing is allocated per host on
    // the plain and --count paths.
    let mut scratch =
        CanonicalHost::new("scratch.invalid").map_err(|e| CliError::Failed(e.to_string()))?;
    let flush = line_buffered();
    for_each_line(hosts, |item| {
        // The usual line, kept small: a host, answered without building
        // anything.
        if let (Item::Text(given), false) = (&item, mode == CheckOutput::Json) {
            // Canonical as given (nearly every line): looked up where it
            // lies. Otherwise canonicalised into the scratch name.
            let (yes, as_given) = match CanonicalName::new(given) {
                Some(name) => (store.is_known_canonical_at(name, ctx.now), true),
                None => match scratch.set(given) {
                    // An IP literal is never a known host (§8.3 step 3).
                    Ok(ip) => {
                        let yes = ip.is_none() && store.is_known_canonical_at(&scratch, ctx.now);
                        (yes, false)
                    }
                    Err(e) => {
                        status = 1;
                        return check_invalid(out, mode, given, &e);
                    }
                },
            };
            known += u64::from(yes);
            if mode == CheckOutput::Plain {
                // A name canonical as given is letters, digits, `-`, `_`
                // and dots: nothing in it to escape.
                let shown = if as_given {
                    Cow::Borrowed(*given)
                } else {
                    escape(given)
                };
                out.write_all(shown.as_bytes())?;
                out.write_all(if yes { b"\thttps\n" } else { b"\thttp\n" })?;
                if flush {
                    out.flush()?;
                }
            }
            return Ok(());
        }
        check_item(
            out,
            mode,
            (&store, ctx.now),
            item,
            (&mut status, &mut known),
        )
    })?;
    if mode == CheckOutput::Count {
        line(out, &known.to_string())?;
    }
    Ok(status)
}

/// `check` for the items its loop does not answer itself: a bad or blank
/// line, and any host with --json.
#[inline(never)]
fn check_item(
    out: &mut dyn Write,
    mode: CheckOutput,
    (store, now): (&InContext<'_>, DateTime<Utc>),
    item: Item<'_>,
    (status, known): (&mut u8, &mut u64),
) -> Result<(), CliError> {
    let given = match item {
        Item::Text(given) => given,
        Item::Bad(bad) => {
            *status = 1;
            return check_bad_line(out, mode, &bad);
        }
        // One output line per input line, so `paste` lines them up.
        Item::Blank(n) => {
            return match mode {
                CheckOutput::Count => Ok(()),
                CheckOutput::Plain => line(out, ""),
                CheckOutput::Json => line(
                    out,
                    &json!({"line": n, "host": "", "hsts": false, "blank": true}).to_string(),
                ),
            };
        }
    };
    let (canonical, found, partition) = match host::canonicalize(given) {
        Ok(Host::Domain(d)) => {
            // A canonical name canonicalises to itself: no error here.
            let found = store.lookup_at(d.as_str(), now).ok().flatten();
            let partition = if mode == CheckOutput::Json {
                store.partition(&d)
            } else {
                None
            };
            (d.into_string(), found, partition)
        }
        Ok(ip @ Host::Ip(_)) => (ip.to_string(), None, None),
        Err(e) => {
            *status = 1;
            return check_invalid(out, mode, given, &e);
        }
    };
    *known += u64::from(found.is_some());
    check_answer(out, mode, (given, &canonical), found, partition)
}

/// Reports a line of stdin that could not be used.
fn check_bad_line(out: &mut dyn Write, mode: CheckOutput, bad: &BadLine) -> Result<(), CliError> {
    match mode {
        CheckOutput::Json => line(
            out,
            &json!({"line": bad.line, "hsts": false, "error": bad.to_string()}).to_string(),
        ),
        CheckOutput::Plain => {
            eprintln!("hsts: {bad}");
            line(out, &format!("{}\thttp", bad.shown))
        }
        CheckOutput::Count => {
            eprintln!("hsts: {bad}");
            Ok(())
        }
    }
}

/// Reports a host that is not a valid name.
fn check_invalid(
    out: &mut dyn Write,
    mode: CheckOutput,
    given: &str,
    e: &hsts::HostError,
) -> Result<(), CliError> {
    let why = host_error_text(e);
    if mode == CheckOutput::Json {
        return line(
            out,
            &json!({"host": given, "hsts": false, "error": why}).to_string(),
        );
    }
    eprintln!("hsts: invalid host {given:?}: {why}");
    if mode == CheckOutput::Plain {
        line(out, &format!("{}\thttp", escape(given)))?;
    }
    Ok(())
}

/// What was wrong with a host given to `check`, in words: a URL is sent to
/// `hsts rewrite`.
fn host_error_text(e: &hsts::HostError) -> String {
    match e {
        hsts::HostError::Url => {
            "this is a URL: pass the host (example.com), or use `hsts rewrite` for URLs".into()
        }
        e => e.to_string(),
    }
}

/// Prints the answer for one valid host.
/// `partition` is the top-level site whose partition was looked in, in a
/// partitioned store.
fn check_answer(
    out: &mut dyn Write,
    mode: CheckOutput,
    (given, canonical): (&str, &str),
    found: Option<hsts::Match>,
    partition: Option<String>,
) -> Result<(), CliError> {
    match mode {
        CheckOutput::Count => Ok(()),
        CheckOutput::Plain => {
            let scheme = if found.is_some() { "https" } else { "http" };
            line(out, &format!("{}\t{scheme}", escape(given)))
        }
        CheckOutput::Json => {
            let v = match &found {
                Some(m) => json!({
                    "host": given,
                    "canonical": canonical,
                    "hsts": true,
                    "source": m.source.as_str(),
                    "matched": m.host,
                    "include_subdomains": m.include_subdomains,
                    "expires": m.expires.map(super::store_cmd::rfc3339),
                    "partition": partition,
                }),
                None => json!({
                    "host": given,
                    "canonical": canonical,
                    "hsts": false,
                    "source": Value::Null,
                    "matched": Value::Null,
                    "include_subdomains": Value::Null,
                    "expires": Value::Null,
                    "partition": partition,
                }),
            };
            line(out, &v.to_string())
        }
    }
}

/// `hsts rewrite URL...`.
pub(crate) fn rewrite<W: Write>(
    ctx: &Ctx,
    out: &mut W,
    (request, fleet): (&RequestContext, &FleetArgs),
    urls: &[String],
) -> Result<u8, CliError> {
    let mut store = ctx.load_store()?;
    fleet.pull(ctx, &mut store)?;
    let now = ctx.now;
    // Each URL's text is written as it is or with its scheme changed,
    // without a second `Url`, with lookups in the request's context.
    let store = store.in_context(request);
    rewrite_lines(out, urls, |out, url| {
        store.upgrade_text_at(url, now).write_to(out)
    })
}

/// The loop of `rewrite`: one output line per input line, the URL to send
/// written by `write_url` (without its newline).
fn rewrite_lines<W: Write>(
    out: &mut W,
    urls: &[String],
    mut write_url: impl FnMut(&mut W, &Url) -> std::io::Result<()>,
) -> Result<u8, CliError> {
    let mut status = 0;
    for_each_line(urls, |item| {
        let given = match item {
            Item::Text(given) => given,
            Item::Bad(bad) => {
                // An empty line keeps the output aligned with the input.
                eprintln!("hsts: {bad}");
                status = 1;
                return line(out, "");
            }
            Item::Blank(_) => return line(out, ""),
        };
        match Url::parse(given) {
            Ok(url) => {
                write_url(out, &url)?;
                end_line(out)
            }
            Err(e) => {
                eprintln!("hsts: cannot parse URL {given:?}: {e}");
                status = 1;
                line(out, given)
            }
        }
    })?;
    Ok(status)
}

/// One response for `observe`: where it came from, in which context, and
/// its STS field values.
pub(crate) struct Response<'a> {
    pub url: &'a str,
    pub values: &'a [OsString],
    pub cert_errors: bool,
    pub context: RequestContext,
}

/// `hsts observe [--json] [--cert-errors] [--top-level URL [--subresource]] URL VALUE...`.
pub(crate) fn observe(
    ctx: &Ctx,
    out: &mut dyn Write,
    json: bool,
    response: &Response<'_>,
) -> Result<u8, CliError> {
    if ctx.store_path.is_none() {
        return Err(CliError::Usage("observe needs --store FILE".into()));
    }
    let given = response.url;
    let url = Url::parse(given)
        .map_err(|e| CliError::Failed(format!("cannot parse URL {given:?}: {e}")))?;
    let secure = matches!(url.scheme(), "https" | "wss");
    let transport = Transport::from_flags(secure, response.cert_errors);
    let fields: Vec<Vec<u8>> = response.values.iter().map(os_bytes).collect();
    let now = ctx.now;
    let (outcome, evicted, partition) = ctx.update_store(|store| {
        let before = store.evictions();
        let mut view = store.in_context(&response.context);
        let outcome = view.note_at(&url, &fields, transport, now);
        let partition = match url.host().map(host::from_url_host) {
            Some(Ok(Host::Domain(d))) => view.partition(&d),
            _ => None,
        };
        (outcome, store.evictions().since(before), partition)
    })?;
    if evicted.total() > 0 {
        // Nothing is evicted in silence.
        eprintln!("hsts: {evicted}");
    }
    let host = url.host().map(|h| match host::from_url_host(h) {
        Ok(h) => h.to_string(),
        Err(_) => url.host_str().unwrap_or_default().to_owned(),
    });
    let (reason, code) = match &outcome {
        Outcome::Ignored(r) => (Some(r.to_string()), Some(r.code())),
        _ => (None, None),
    };
    if json {
        line(
            out,
            &json!({
                "outcome": outcome.as_str(),
                "host": host,
                "reason": reason,
                "code": code,
                "partition": partition,
                "evicted": {
                    "site_quota": evicted.site_quota,
                    "capacity": evicted.capacity,
                },
            })
            .to_string(),
        )?;
    } else {
        line(out, &outcome.to_string())?;
    }
    Ok(0)
}

//! `hsts import`, `hsts export`, `hsts forget` and `hsts list`.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;

use hsts::persist::{self, Format, PersistError};
use hsts::HstsStore;

use super::{line, CliError, Ctx};

/// An empty store with the command's settings, to check arguments before
/// the store file (or its lock file) is touched.
fn empty_store(ctx: &Ctx) -> HstsStore {
    HstsStore::with_config(ctx.config.clone())
}

/// The usage error of a command that changes the store, given no `--store`.
fn needs_store(ctx: &Ctx) -> Result<(), CliError> {
    match ctx.store_path {
        Some(_) => Ok(()),
        None => Err(CliError::Usage("this command needs --store FILE".into())),
    }
}

/// An instant as RFC 3339 in whole seconds. An expiry past year 9999 (a
/// saturated max-age, curl's "unlimited") prints as 9999-12-31T23:59:59Z:
/// RFC 3339 has four-digit years, and parsers refuse `+262142-...`.
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    use chrono::Datelike;
    if t.year() > 9999 {
        return "9999-12-31T23:59:59Z".to_owned();
    }
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Up to the first 4 KiB of the file at `path` (nothing if it cannot be
/// read, or is not a regular file: a FIFO is never opened, it would block).
pub(crate) fn file_head(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut head = Vec::new();
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return head;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        // Should a FIFO replace the file meanwhile, open does not block.
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    if let Ok(f) = opts.open(path) {
        let _ = f.take(4096).read_to_end(&mut head);
    }
    head
}

/// The format of a file from its first bytes: our binary store (its magic
/// label), JSON (an object or an array, after white space), else curl's.
pub(crate) fn sniff(head: &[u8]) -> Format {
    if head.starts_with(&persist::MAGIC) {
        return Format::Binary;
    }
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') => Format::Json,
        _ => Format::Curl,
    }
}

/// Whether text looks like a curl HSTS cache: UTF-8, and some line (not a
/// comment) has a name then a quoted date.
pub(crate) fn looks_like_curl(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|l| {
            l.split_once([' ', '\t'])
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('"'))
        })
}

/// `hsts import [--json] [--format curl|json|binary] FILE` (the format
/// detected when not given): prints what
/// the import did ("read N, added A, updated U, expired E, skipped S,
/// evicted V", or one JSON object with `--json`) and, on stderr, one line
/// per skipped entry with its reason. Exit status 1 when nothing was
/// imported.
pub(crate) fn import(
    ctx: &Ctx,
    out: &mut dyn Write,
    format: Option<Format>,
    json: bool,
    file: &Path,
) -> Result<u8, CliError> {
    // Bounded, and a FIFO or device is refused rather than waited on.
    let bytes = persist::read_file(file)
        .map_err(|e| CliError::Failed(format!("cannot read {}: {e}", file.display())))?;
    let format = format.unwrap_or_else(|| sniff(&bytes));
    let now = ctx.now;
    needs_store(ctx)?;
    let fail = |e: PersistError| CliError::Failed(format!("cannot import {}: {e}", file.display()));
    // A file that is not of the format, or holds nothing to import, fails
    // here, before the store's lock file is created or the store written.
    let report = match persist::import(&bytes, format, &mut empty_store(ctx), now) {
        Err(PersistError::NothingImported(report)) => *report,
        Err(e) => return Err(fail(e)),
        // An empty file: nothing to write either.
        Ok(report) if report.imported() == 0 => report,
        Ok(_) => match ctx.update_store(|store| persist::import(&bytes, format, store, now))? {
            Ok(report) => report,
            Err(PersistError::NothingImported(report)) => *report,
            Err(e) => return Err(fail(e)),
        },
    };
    for (line_no, why) in &report.skipped {
        eprintln!("hsts: {}:{line_no}: skipped: {why}", file.display());
    }
    if json {
        let skipped: Vec<_> = report
            .skipped
            .iter()
            .map(|(line, why)| json!({ "line": line, "reason": why.to_string() }))
            .collect();
        let v = json!({
            "read": report.read,
            "added": report.added,
            "updated": report.updated,
            "expired": report.expired,
            "skipped": report.skipped.len(),
            "evicted": report.evicted,
            "skipped_entries": skipped,
        });
        line(out, &v.to_string())?;
    } else {
        line(
            out,
            &format!(
                "read {}, added {}, updated {}, expired {}, skipped {}, evicted {}",
                report.read,
                report.added,
                report.updated,
                report.expired,
                report.skipped.len(),
                report.evicted
            ),
        )?;
    }
    if report.imported() == 0 {
        let name = match format {
            Format::Curl => "curl",
            Format::Json => "json",
            _ => "binary",
        };
        eprintln!(
            "hsts: {}: nothing imported (read as {name}{})",
            file.display(),
            if report.read == 0 {
                ": no entries found; is --format right?"
            } else {
                ""
            }
        );
        return Ok(1);
    }
    Ok(0)
}

/// `hsts export --format curl|json|binary [-o FILE]`.
pub(crate) fn export(
    ctx: &Ctx,
    out: &mut dyn Write,
    format: Format,
    to: Option<&Path>,
) -> Result<u8, CliError> {
    let store = ctx.load_store()?;
    let bytes = persist::export(&store, format, ctx.now)
        .map_err(|e| CliError::Failed(format!("cannot export: {e}")))?;
    match to {
        None => out.write_all(&bytes)?,
        // Through our buffered stdout: replacing the file behind
        // /dev/stdout would throw away what was written before.
        Some(path) if is_stdout(path) => out.write_all(&bytes)?,
        // A FIFO or a device (`-o >(gzip > f)`, /dev/null) is written
        // into, not replaced.
        Some(path) if is_stream(path) => std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut f| f.write_all(&bytes))
            .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", path.display())))?,
        Some(path) => super::preload_cmd::write_atomically(path, &bytes)?,
    }
    Ok(0)
}

/// Whether `path` names this process's standard output.
fn is_stdout(path: &Path) -> bool {
    ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"]
        .iter()
        .any(|p| path == Path::new(p))
}

/// Whether `path` leads to something that is not a regular file or a
/// directory: a FIFO, a character device or a socket.
fn is_stream(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// What `hsts forget` removes.
#[derive(Debug)]
pub(crate) enum Forget {
    Host(String),
    Site(String),
    Since(DateTime<Utc>),
    All,
}

/// `hsts forget HOST | --site DOMAIN | --since TIME | --all`.
pub(crate) fn forget(
    ctx: &Ctx,
    out: &mut dyn Write,
    what: Forget,
    json: bool,
) -> Result<u8, CliError> {
    let now = ctx.now;
    needs_store(ctx)?;
    // An invalid name fails here, before the store's lock file is created
    // or the store written: the same check on an empty store.
    match &what {
        Forget::Host(h) => {
            empty_store(ctx)
                .remove_at(h, now)
                .map_err(|e| CliError::Failed(format!("invalid host {h:?}: {e}")))?;
        }
        Forget::Site(d) => {
            empty_store(ctx)
                .clear_site_at(d, now)
                .map_err(|e| CliError::Failed(format!("invalid site {d:?}: {e}")))?;
        }
        Forget::Since(_) | Forget::All => {}
    }
    if let Some(path) = ctx
        .store_path
        .as_deref()
        .filter(|p| super::store_missing(p))
    {
        // Nothing to forget, and no reason to create a file: said on
        // stderr (a mistyped path?), "removed 0".
        super::warn(&format!(
            "store file {} does not exist: nothing to forget (no file was created)",
            path.display()
        ));
        return forget_report(out, 0, json);
    }
    let removed = ctx.update_store(|store| -> Result<usize, String> {
        match &what {
            Forget::Host(h) => store
                .remove_at(h, now)
                .map(|e| usize::from(e.is_some()))
                .map_err(|e| format!("invalid host {h:?}: {e}")),
            Forget::Site(d) => store
                .clear_site_at(d, now)
                .map_err(|e| format!("invalid site {d:?}: {e}")),
            Forget::Since(t) => {
                Ok(store.clear_observed_between_at(*t, DateTime::<Utc>::MAX_UTC, now))
            }
            Forget::All => Ok(store.clear_at(now)),
        }
    })?;
    let removed = removed.map_err(CliError::Failed)?;
    forget_report(out, removed, json)
}

/// Prints what `forget` removed.
fn forget_report(out: &mut dyn Write, removed: usize, json: bool) -> Result<u8, CliError> {
    if json {
        line(out, &json!({ "removed": removed }).to_string())?;
    } else {
        line(out, &format!("removed {removed}"))?;
    }
    Ok(0)
}

/// `hsts list [--json]`: the live dynamic entries, sorted by host (the
/// hashes of a store with hashed hosts). An entry in a partition shows its
/// top-level site as a fourth column, and as `partition` in JSON.
pub(crate) fn list(ctx: &Ctx, out: &mut dyn Write, json: bool) -> Result<u8, CliError> {
    let store = ctx.load_store()?;
    let mut entries: Vec<_> = store.iter().filter(|e| e.is_live_at(ctx.now)).collect();
    entries.sort_by(|a, b| (a.host, a.partition).cmp(&(b.host, b.partition)));
    for e in entries {
        if json {
            let v = json!({
                "host": e.host,
                "include_subdomains": e.include_subdomains,
                "observed": rfc3339(e.observed),
                "expires": rfc3339(e.expires),
                "partition": e.partition,
            });
            line(out, &v.to_string())?;
        } else {
            let mut text = format!(
                "{}\t{}\t{}",
                e.host,
                e.include_subdomains,
                rfc3339(e.expires)
            );
            if let Some(p) = e.partition {
                text.push('\t');
                text.push_str(p);
            }
            line(out, &text)?;
        }
    }
    Ok(0)
}

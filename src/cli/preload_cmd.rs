//! `hsts preload compile | info | list`.

use std::io::Write;
use std::path::Path;

use serde_json::json;

use hsts::preload::PreloadList;

use super::{line, CliError, Ctx};

/// `hsts preload compile IN.json[.gz] -o OUT.bin --date YYYY-MM-DD`. The
/// date is required (Chromium's file carries none, and dating an old list
/// today would hide its age) and may not be after `--now` (or today).
pub(crate) fn compile(
    ctx: &Ctx,
    out: &mut dyn Write,
    input: &Path,
    output: &Path,
    date: chrono::NaiveDate,
) -> Result<u8, CliError> {
    let today = ctx.now.date_naive();
    if date > today {
        return Err(CliError::Usage(format!(
            "--date {date} is in the future (today is {today}): give the date the list was published"
        )));
    }
    let bytes = std::fs::read(input)
        .map_err(|e| CliError::Failed(format!("cannot read {}: {e}", input.display())))?;
    let (table, report) = hsts::preload::compile_json(&bytes, date)
        .map_err(|e| CliError::Failed(format!("cannot compile {}: {e}", input.display())))?;
    for (name, why) in report.skipped_names() {
        eprintln!("hsts: skipped {name}: {why}");
    }
    write_atomically(output, &table)?;
    line(
        out,
        &format!(
            "compiled {} entries into {} bytes ({} skipped)",
            report.entries(),
            table.len(),
            report.skipped_names().count()
        ),
    )?;
    Ok(0)
}

/// Writes `bytes` to `path` atomically with [`hsts::persist::write_atomic`]:
/// a random, exclusively created temporary file (never through a planted
/// link), the existing file's permissions kept, a symlinked `path` written
/// through to its target.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    hsts::persist::write_atomic(path, bytes)
        .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", path.display())))
}

/// `hsts preload info [--json]`.
pub(crate) fn info(ctx: &Ctx, out: &mut dyn Write, json: bool) -> Result<u8, CliError> {
    let list = ctx
        .preload_list()?
        .ok_or_else(|| CliError::Usage("--no-preload: there is no list to describe".into()))?;
    let age_days = (ctx.now.date_naive() - list.date()).num_days();
    if json {
        let v = json!({
            "date": list.date().to_string(),
            "age_days": age_days,
            "entries": list.len(),
            "bytes": list.byte_size(),
            "checksum": list.checksum_hex(),
            "source_sha256": list.source_sha256_hex(),
        });
        line(out, &v.to_string())?;
    } else {
        line(out, &format!("date\t{} ({age_days} days old)", list.date()))?;
        line(out, &format!("entries\t{}", list.len()))?;
        line(out, &format!("bytes\t{}", list.byte_size()))?;
        line(out, &format!("checksum\t{}", list.checksum_hex()))?;
        line(out, &format!("source_sha256\t{}", list.source_sha256_hex()))?;
    }
    Ok(0)
}

/// `hsts preload list`: `name<TAB>include_subdomains` per entry.
pub(crate) fn list(ctx: &Ctx, out: &mut dyn Write) -> Result<u8, CliError> {
    let list = ctx
        .preload_list()?
        .ok_or_else(|| CliError::Usage("--no-preload: there is no list to print".into()))?;
    for (name, isd) in list.iter() {
        writeln!(out, "{name}\t{isd}")?;
    }
    Ok(0)
}

/// Loads a compiled list from a file, fully verified.
pub(crate) fn load_file(path: &Path) -> Result<PreloadList, CliError> {
    // from_file verifies the whole table.
    PreloadList::from_file(path)
        .map_err(|e| CliError::Failed(format!("cannot load preload list {}: {e}", path.display())))
}

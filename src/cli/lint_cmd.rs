//! `hsts lint [--profile P] [--json] VALUE...`.

use std::io::Write;

use serde_json::json;

use hsts::lint::{lint, Profile, Report};

use super::input::{escape, for_each_item, BadLine, Item};
use super::{line, CliError};

/// `--profile` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum ProfileArg {
    /// RFC 6797 validity only: an error only when browsers ignore the header.
    Rfc,
    /// hstspreload.org's header rules (one year, includeSubDomains, preload).
    Preload,
    /// The Mozilla Observatory (six months, 15552000).
    Observatory,
    /// SSL Labs and testssl.sh (180 days, 15552000).
    Ssllabs,
    /// Every rule of every profile.
    Strict,
}

impl From<ProfileArg> for Profile {
    fn from(p: ProfileArg) -> Self {
        match p {
            ProfileArg::Rfc => Profile::Rfc,
            ProfileArg::Preload => Profile::Preload,
            ProfileArg::Observatory => Profile::Observatory,
            ProfileArg::Ssllabs => Profile::Ssllabs,
            ProfileArg::Strict => Profile::Strict,
        }
    }
}

/// The `lint` subcommand's arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct LintArgs {
    /// The rules to lint against.
    #[arg(long, value_enum, default_value = "rfc")]
    profile: ProfileArg,
    /// One JSON object per value.
    #[arg(long)]
    json: bool,
    /// Strict-Transport-Security field values; "-" reads one per line from stdin.
    #[arg(required = true, allow_hyphen_values = true)]
    values: Vec<String>,
}

/// Runs `hsts lint`: exit 0 when no value has an error finding, 1 otherwise.
pub(crate) fn run(out: &mut dyn Write, args: LintArgs) -> Result<u8, CliError> {
    let profile = Profile::from(args.profile);
    let mut status = 0;
    for_each_item(&args.values, |item| match item {
        Item::Text(value) => {
            let report = lint(value, profile);
            if report.has_errors() {
                status = 1;
            }
            if args.json {
                line(out, &report_json(value, &report).to_string())
            } else {
                report_text(out, value, &report)
            }
        }
        Item::Bad(bad) => {
            status = 1;
            bad_line(out, args.json, profile, &bad)
        }
        // for_each_item skips blank lines.
        Item::Blank(_) => Ok(()),
    })?;
    Ok(status)
}

/// One value's JSON object.
fn report_json(value: &str, r: &Report) -> serde_json::Value {
    let h = r.header();
    json!({
        "value": value,
        "profile": r.profile.as_str(),
        "valid": r.valid(),
        "preload_ready": r.preload_ready(),
        "max_age": h.map(|h| super::json_number(h.max_age)),
        "include_subdomains": h.map(|h| h.include_subdomains),
        "preload": h.map(|h| h.preload),
        "findings": r.findings.iter().map(|f| json!({
            "code": f.code.as_str(),
            "severity": f.severity.as_str(),
            "message": f.message,
        })).collect::<Vec<_>>(),
    })
}

/// One value as text: a verdict line, then one indented line per finding.
fn report_text(out: &mut dyn Write, value: &str, r: &Report) -> Result<(), CliError> {
    let verdict = match (r.valid(), r.preload_ready()) {
        (false, _) => "invalid: browsers ignore it",
        (true, true) => "valid, preload-ready",
        (true, false) => "valid",
    };
    line(
        out,
        &format!("{} [{}]: {verdict}", escape(value), r.profile),
    )?;
    for f in &r.findings {
        line(
            out,
            &format!("  {} {}: {}", f.severity, f.code, escape(&f.message)),
        )?;
    }
    Ok(())
}

/// A line of stdin that could not be linted (too long, not UTF-8).
fn bad_line(
    out: &mut dyn Write,
    json: bool,
    profile: Profile,
    bad: &BadLine,
) -> Result<(), CliError> {
    eprintln!("hsts: {bad}");
    if json {
        line(
            out,
            &json!({
                "line": bad.line,
                "value": null,
                "profile": profile.as_str(),
                "valid": false,
                "error": bad.to_string(),
                "findings": [],
            })
            .to_string(),
        )
    } else {
        line(out, &format!("{} [{profile}]: {bad}", bad.shown))
    }
}

//! `hsts build --max-age DURATION [--include-subdomains] [--preload] [--for SERVER]`
//! and `hsts build --plan`.

use std::io::Write;

use hsts::lint::{describe_seconds, ONE_YEAR, RAMP_UP, TEN_YEARS};
use hsts::StsHeader;

use super::{line, CliError};

/// The `build` subcommand's arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct BuildArgs {
    /// How long browsers keep the policy: seconds (300) or a number with a
    /// unit: s, m, h, d, w, mo (30 days), y (365 days), e.g. 5m, 1w, 1y, 2y.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg,
          required_unless_present = "plan")]
    max_age: Option<u64>,
    /// Add includeSubDomains: the policy covers every subdomain.
    #[arg(long)]
    include_subdomains: bool,
    /// Add preload (needs a year or more and --include-subdomains). Here
    /// --preload is this flag, not the global --preload FILE.
    #[arg(long = "preload", id = "preload_directive")]
    preload: bool,
    /// Print a ready snippet for this server instead of the bare value.
    #[arg(long = "for", value_enum, value_name = "SERVER")]
    server: Option<Server>,
    /// Print the staged ramp-up to preloading, with what to verify before each step.
    #[arg(long, conflicts_with_all = ["max_age", "include_subdomains", "preload_directive", "server"])]
    plan: bool,
}

/// The servers `--for` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Server {
    /// Apache httpd (mod_headers).
    Apache,
    /// nginx.
    Nginx,
    /// IIS: a web.config URL Rewrite outbound rule, only over https.
    Iis,
    /// Caddy (Caddyfile).
    Caddy,
    /// HAProxy.
    Haproxy,
    /// Qlik Sense: the QMC virtual proxy's "Additional response headers".
    Qlik,
    /// HCL Domino: notes.ini lines.
    Domino,
    /// WordPress: functions.php.
    Wordpress,
}

/// Why a duration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DurationError {
    /// Nothing given.
    #[error("empty duration")]
    Empty,
    /// Not digits followed by an optional unit.
    #[error("{0:?} is not a number of seconds or a number with a unit (300, 5m, 1w, 1y)")]
    Malformed(String),
    /// A unit that is not one of s, m, h, d, w, mo, y.
    #[error("unknown unit {0:?} (use s, m, h, d, w, mo or y)")]
    UnknownUnit(String),
    /// More seconds than a 64-bit max-age holds.
    #[error("{0:?} is more seconds than fit in 64 bits")]
    Overflow(String),
}

/// Parses `300`, `5m`, `1w`, `1y`, `2y`: digits, then an optional unit
/// (s, m, h, d, w, mo = 30 days, y = 365 days).
pub(crate) fn parse_duration(s: &str) -> Result<u64, DurationError> {
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    if digits.is_empty() {
        return Err(DurationError::Malformed(s.to_owned()));
    }
    let per = match unit {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        "mo" => 2_592_000,
        "y" => ONE_YEAR,
        u if u.chars().all(|c| c.is_ascii_alphabetic()) => {
            return Err(DurationError::UnknownUnit(u.to_owned()))
        }
        _ => return Err(DurationError::Malformed(s.to_owned())),
    };
    let overflow = || DurationError::Overflow(s.to_owned());
    let n: u64 = digits.parse().map_err(|_| overflow())?;
    n.checked_mul(per).ok_or_else(overflow)
}

fn parse_duration_arg(s: &str) -> Result<u64, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

/// Runs `hsts build`.
pub(crate) fn run(out: &mut dyn Write, args: BuildArgs) -> Result<u8, CliError> {
    if args.plan {
        return plan(out);
    }
    let max_age = args
        .max_age
        .ok_or_else(|| CliError::Usage("build needs --max-age DURATION or --plan".into()))?;
    if args.preload {
        refuse_preload(max_age, args.include_subdomains)?;
        if max_age > TEN_YEARS {
            super::warn(&format!(
                "max-age={max_age} ({}) is over ten years: hstspreload.org warns; 63072000 (2 years) is the usual choice",
                describe_seconds(max_age)
            ));
        }
    }
    if max_age == 0 {
        eprintln!(
            "hsts: note: max-age=0 disables HSTS: browsers that have this host's policy forget it"
        );
    }
    let header = StsHeader {
        max_age,
        include_subdomains: args.include_subdomains,
        preload: args.preload,
    };
    let text = match args.server {
        None => header.to_string(),
        Some(server) => snippet(server, &header),
    };
    for l in text.lines() {
        line(out, l)?;
    }
    Ok(0)
}

/// Refuses `--preload` below a year or without includeSubDomains, with
/// every reason.
fn refuse_preload(max_age: u64, include_subdomains: bool) -> Result<(), CliError> {
    let mut reasons = Vec::new();
    if max_age < ONE_YEAR {
        reasons.push(format!(
            "max-age={max_age} ({}) is below the one year (31536000) hstspreload.org requires; ramp up first (`hsts build --plan`)",
            describe_seconds(max_age)
        ));
    }
    if !include_subdomains {
        reasons.push(
            "includeSubDomains is missing: the preload list covers every subdomain, and hstspreload.org requires it (add --include-subdomains)"
                .to_owned(),
        );
    }
    if reasons.is_empty() {
        return Ok(());
    }
    Err(CliError::Usage(format!(
        "refusing --preload: {}",
        reasons.join("; and ")
    )))
}

/// `hsts build --plan`.
fn plan(out: &mut dyn Write) -> Result<u8, CliError> {
    line(
        out,
        "Staged ramp-up to HSTS preloading (hstspreload.org's deployment recommendation).",
    )?;
    line(
        out,
        "Keep each step in place for at least its max-age before the next; if anything breaks, fix it (or go back a step) before moving on.",
    )?;
    for (i, step) in RAMP_UP.iter().enumerate() {
        line(out, "")?;
        line(
            out,
            &format!(
                "step {}: {} ({})",
                i + 1,
                step.header,
                describe_seconds(step.header.max_age)
            ),
        )?;
        line(out, &format!("  verify first: {}", step.verify))?;
    }
    line(out, "")?;
    line(
        out,
        "Later: hstspreload.org and Mozilla suggest max-age=63072000 (2 years). To back out, send max-age=0 (a preloaded domain must also ask for removal and drop preload).",
    )?;
    Ok(0)
}

/// The ready-to-paste snippet of `server` for `header`.
pub(crate) fn snippet(server: Server, header: &StsHeader) -> String {
    let v = header.to_string();
    match server {
        Server::Apache => format!(
            "# Apache httpd (mod_headers), in the <VirtualHost *:443> block.\n\
             # \"always\" also covers error responses.\n\
             Header always set Strict-Transport-Security \"{v}\"\n"
        ),
        Server::Nginx => format!(
            "# nginx, in the server block that listens on 443 ssl. \"always\" also covers error responses.\n\
             # An add_header in a location block replaces the server's: repeat this line there.\n\
             add_header Strict-Transport-Security \"{v}\" always;\n"
        ),
        Server::Iis => format!(
            "<!-- IIS web.config, inside <system.webServer>; needs the URL Rewrite module.\n\
             \x20    The condition sends the header over https only. -->\n\
             <rewrite>\n\
             \x20 <outboundRules>\n\
             \x20   <rule name=\"Add Strict-Transport-Security when HTTPS\" enabled=\"true\">\n\
             \x20     <match serverVariable=\"RESPONSE_Strict_Transport_Security\" pattern=\".*\" />\n\
             \x20     <conditions>\n\
             \x20       <add input=\"{{HTTPS}}\" pattern=\"on\" ignoreCase=\"true\" />\n\
             \x20     </conditions>\n\
             \x20     <action type=\"Rewrite\" value=\"{}\" />\n\
             \x20   </rule>\n\
             \x20 </outboundRules>\n\
             </rewrite>\n",
            xml_escape(&v)
        ),
        Server::Caddy => format!(
            "# Caddyfile, inside the site block (Caddy serves https and redirects http itself).\n\
             header Strict-Transport-Security \"{v}\"\n"
        ),
        Server::Haproxy => format!(
            "# HAProxy, in the frontend that terminates TLS; set on https responses only.\n\
             http-response set-header Strict-Transport-Security \"{v}\" if {{ ssl_fc }}\n"
        ),
        Server::Qlik => {
            eprintln!(
                "hsts: Qlik Sense: paste this line into QMC > Virtual proxies > (each virtual proxy) > Advanced > Additional response headers; \
                 it covers what the proxy serves, not the other service ports"
            );
            format!("Strict-Transport-Security: {v}\n")
        }
        Server::Domino => domino(header),
        Server::Wordpress => format!(
            "// WordPress: in the (child) theme's functions.php; sent on https responses only.\n\
             add_action('send_headers', function () {{\n\
             \x20   if (is_ssl()) {{\n\
             \x20       header('Strict-Transport-Security: {v}');\n\
             \x20   }}\n\
             }});\n"
        ),
    }
}

/// notes.ini lines. HTTP_HSTS_MAX_AGE and HTTP_HSTS_INCLUDE_SUBDOMAINS
/// (Domino 9.0.1 FP3 IF2 and later) cannot send preload; with preload the
/// whole value goes into DOMINO_HSTS_HEADER (Domino 12 and later).
fn domino(header: &StsHeader) -> String {
    eprintln!("hsts: Domino: add these lines to notes.ini on the server, then `restart task http`");
    let mut s = format!("HTTP_HSTS_MAX_AGE={}\n", header.max_age);
    if header.include_subdomains {
        s.push_str("HTTP_HSTS_INCLUDE_SUBDOMAINS=1\n");
    }
    if header.preload {
        eprintln!(
            "hsts: Domino: HTTP_HSTS_* cannot send preload; DOMINO_HSTS_HEADER (Domino 12 and later) sends the whole value and overrides them. \
             On older servers, use a Web Site Rule of type \"HTTP response headers\" instead"
        );
        s.push_str(&format!("DOMINO_HSTS_HEADER={header}\n"));
    }
    s
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("300"), Ok(300));
        assert_eq!(parse_duration("5m"), Ok(300));
        assert_eq!(parse_duration("1w"), Ok(604_800));
        assert_eq!(parse_duration("1mo"), Ok(2_592_000));
        assert_eq!(parse_duration("1y"), Ok(31_536_000));
        assert_eq!(parse_duration("2y"), Ok(63_072_000));
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(
            parse_duration("y"),
            Err(DurationError::Malformed("y".into()))
        );
        assert_eq!(
            parse_duration("1.5y"),
            Err(DurationError::Malformed("1.5y".into()))
        );
        assert_eq!(
            parse_duration("-1"),
            Err(DurationError::Malformed("-1".into()))
        );
        assert_eq!(
            parse_duration("1yr"),
            Err(DurationError::UnknownUnit("yr".into()))
        );
        assert_eq!(
            parse_duration("18446744073709551616"),
            Err(DurationError::Overflow("18446744073709551616".into()))
        );
        assert_eq!(
            parse_duration("600000000000y"),
            Err(DurationError::Overflow("600000000000y".into()))
        );
    }
}

//! Argument parsing, the shared context, and dispatch for the `hsts` binary.

use std::ffi::OsString;
use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, TimeZone, Utc};
use clap::{Parser, Subcommand};

use hsts::store::{HstsStore, StoreConfig};

mod query;

/// HTTP Strict Transport Security (RFC 6797) for people and scripts.
#[derive(Debug, Parser)]
#[command(name = "hsts", version, about, max_term_width = 100)]
pub struct Cli {
    /// The dynamic store file; created on first write. Without it the store
    /// is empty and in memory.
    #[arg(long, global = true, value_name = "FILE")]
    store: Option<PathBuf>,
    /// The clock: unix seconds or RFC 3339. Default: the system clock.
    #[arg(long, global = true, value_name = "TIME", value_parser = parse_time)]
    now: Option<DateTime<Utc>>,
    /// Ignore the preload list.
    #[arg(long, global = true)]
    no_preload: bool,
    /// Switch the localhost exemption off.
    #[arg(long, global = true)]
    pin_localhost: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse a Strict-Transport-Security value. Exit 0 if valid, 1 if invalid.
    Parse {
        /// One line of JSON instead of text.
        #[arg(long)]
        json: bool,
        /// The header field value.
        value: OsString,
    },
    /// Must these hosts use https? ("-" reads hosts from stdin.)
    Check {
        /// One JSON object per host.
        #[arg(long, conflicts_with = "count")]
        json: bool,
        /// Print only the number of hosts that must use https.
        #[arg(long)]
        count: bool,
        /// Host names; "-" reads one per line from stdin.
        #[arg(required = true)]
        hosts: Vec<String>,
    },
    /// Print the URL each request must use. ("-" reads URLs from stdin.)
    Rewrite {
        /// URLs; "-" reads one per line from stdin.
        #[arg(required = true)]
        urls: Vec<String>,
    },
    /// Note the STS field values of one response received from URL.
    Observe {
        /// One line of JSON instead of text.
        #[arg(long)]
        json: bool,
        /// The TLS connection had certificate errors.
        #[arg(long)]
        cert_errors: bool,
        /// The URL the response came from.
        url: String,
        /// The Strict-Transport-Security field values, in order.
        values: Vec<OsString>,
    },
}

/// Parses `--now`: unix seconds, or RFC 3339.
pub(crate) fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(secs) = s.parse::<i64>() {
        return Utc
            .timestamp_opt(secs, 0)
            .single()
            .ok_or_else(|| format!("{s} seconds is out of range"));
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("expected unix seconds or RFC 3339: {e}"))
}

/// An error that ends the command.
#[derive(Debug)]
pub(crate) enum CliError {
    /// Bad arguments: exit 2.
    Usage(String),
    /// The command could not do its work: exit 1.
    Failed(String),
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Failed(_) => 1,
        }
    }
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        CliError::Failed(format!("I/O error: {e}"))
    }
}

/// What every command needs: the clock, the settings, and where the store lives.
pub(crate) struct Ctx {
    pub now: DateTime<Utc>,
    pub config: StoreConfig,
    pub store_path: Option<PathBuf>,
}

impl Ctx {
    /// The store to query: the file's contents, or an empty store. A file
    /// that cannot be read is an error.
    pub fn load_store(&self) -> Result<HstsStore, CliError> {
        match &self.store_path {
            None => Ok(HstsStore::with_config(self.config.clone())),
            Some(path) => hsts::persist::load(path, self.config.clone()).map_err(|e| {
                CliError::Failed(format!("cannot load store {}: {e}", path.display()))
            }),
        }
    }

    /// Loads, changes and saves the store file under its lock. `--store` is
    /// required. A file that cannot be read is left as it is.
    pub fn update_store<R>(&self, f: impl FnOnce(&mut HstsStore) -> R) -> Result<R, CliError> {
        let Some(path) = &self.store_path else {
            return Err(CliError::Usage("this command needs --store FILE".into()));
        };
        hsts::persist::update(path, self.config.clone(), self.now, f)
            .map_err(|e| CliError::Failed(format!("cannot update store {}: {e}", path.display())))
    }
}

/// Reads the items of a command line, expanding "-" to the lines of stdin.
pub(crate) fn expand_stdin(items: &[String]) -> Result<Vec<String>, CliError> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if item == "-" {
            for line in io::stdin().lock().lines() {
                let line = line?;
                let line = line.trim_end_matches('\r');
                if !line.is_empty() {
                    out.push(line.to_owned());
                }
            }
        } else {
            out.push(item.clone());
        }
    }
    Ok(out)
}

/// Runs the tool and returns its exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = Ctx {
        now: cli.now.unwrap_or_else(Utc::now),
        config: StoreConfig {
            exempt_localhost: !cli.pin_localhost,
            ..StoreConfig::default()
        },
        store_path: cli.store.clone(),
    };
    let _ = cli.no_preload;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = match cli.command {
        Command::Parse { json, value } => query::parse(&mut out, json, &value),
        Command::Check { json, count, hosts } => query::check(&ctx, &mut out, json, count, &hosts),
        Command::Rewrite { urls } => query::rewrite(&ctx, &mut out, &urls),
        Command::Observe {
            json,
            cert_errors,
            url,
            values,
        } => query::observe(&ctx, &mut out, json, cert_errors, &url, &values),
    };
    let flushed = out.flush();
    match (result, flushed) {
        (Ok(code), Ok(())) => ExitCode::from(code),
        // A closed pipe (`hsts check - | head`) is not an error worth a message.
        (Ok(_), Err(e)) | (Err(CliError::Failed(_)), Err(e))
            if e.kind() == io::ErrorKind::BrokenPipe =>
        {
            ExitCode::from(1)
        }
        (Err(e), _) => {
            let (CliError::Usage(msg) | CliError::Failed(msg)) = &e;
            eprintln!("hsts: {msg}");
            ExitCode::from(e.exit_code())
        }
        (Ok(_), Err(e)) => {
            eprintln!("hsts: cannot write output: {e}");
            ExitCode::from(1)
        }
    }
}

/// Writes one line, turning I/O errors into [`CliError`].
pub(crate) fn line(out: &mut dyn Write, s: &str) -> Result<(), CliError> {
    writeln!(out, "{s}").map_err(CliError::from)
}

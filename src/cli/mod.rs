//! Argument parsing, the shared context, and dispatch for the `hsts` binary.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, TimeZone, Utc};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use std::sync::Arc;

use hsts::{AcceptFrom, HstsStore, PreloadSource, RequestContext, StoreConfig};
use hsts::{SuffixList, SuffixSource};

mod audit_cmd;
mod build_cmd;
mod get_cmd;
mod input;
mod lint_cmd;
mod net;
mod preload_cmd;
mod query;
mod store_cmd;
mod sync_cmd;
mod warn;

pub(crate) use warn::warn;

/// HTTP Strict Transport Security (RFC 6797) for people and scripts.
#[derive(Debug, Parser)]
#[command(
    name = "hsts",
    version,
    about,
    max_term_width = 100,
    next_help_heading = "Global options",
    after_help = "Exit status: 0 on success, 1 when the command failed or found a problem (each command's --help says which), 2 on a usage error.\nWarnings (an old preload list, a store file that does not exist) go to stderr; --quiet or HSTS_QUIET=1 silences them."
)]
pub struct Cli {
    /// The dynamic store file. Required by observe, import, export, forget,
    /// list and sync; check and rewrite without it use an empty store.
    #[arg(long, global = true, value_name = "FILE")]
    store: Option<PathBuf>,
    /// Print no warnings (also: HSTS_QUIET=1 in the environment). Errors
    /// are still printed.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// The clock: unix seconds or RFC 3339. Default: the system clock.
    #[arg(long, global = true, value_name = "TIME", value_parser = parse_time)]
    now: Option<DateTime<Utc>>,
    /// Ignore the preload list.
    #[arg(long, global = true)]
    no_preload: bool,
    /// Let localhost (and names under it) be noted and upgraded like any
    /// other host; by default they are exempt.
    #[arg(long, global = true, alias = "pin-localhost")]
    hsts_for_localhost: bool,
    /// Use this compiled preload list instead of the built-in one. Given
    /// before the command (not global: `hsts build --preload` is a flag).
    #[arg(long, value_name = "FILE", conflicts_with = "no_preload")]
    preload: Option<PathBuf>,
    /// Use this Public Suffix List (publicsuffix.org format) instead of the
    /// built-in one, to group hosts into sites for quotas and `forget --site`.
    #[arg(long, global = true, value_name = "FILE")]
    psl: Option<PathBuf>,
    /// The most dynamic entries the store holds (default 100000; at most
    /// 8000000). A store file remembers the limits it was written with.
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=8_000_000))]
    capacity: Option<u64>,
    /// The most dynamic entries one site (eTLD+1) may hold (default 64).
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=8_000_000))]
    site_quota: Option<u64>,
    /// Cap every noted max-age at SECS (Chromium caps at one year, 31536000).
    #[arg(long, global = true, value_name = "SECS")]
    max_age_cap: Option<u64>,
    /// Who may set HSTS through a subresource response (--subresource):
    /// any (RFC 6797), same-site (Firefox, Brave: the top-level site's own
    /// hosts) or top-level (WebKit: the top-level host or its site only).
    #[arg(long, global = true, value_enum, default_value = "any")]
    accept_from: AcceptArg,
    /// Dynamic entries upgrade top-level navigations only; preloaded hosts
    /// upgrade every request (Chromium's kHstsTopLevelNavigationsOnly).
    #[arg(long, global = true)]
    navigations_only: bool,
    /// Partition dynamic state by top-level site (Firefox, Brave): an entry
    /// noted on one site's pages is seen only from that site's pages.
    #[arg(long, global = true)]
    partition: bool,
    /// Keep hashes of host names instead of the names (a salted SHA-256
    /// per store). Applies when the store file is created; a hashed store
    /// stays hashed, and a plain one cannot become hashed.
    #[arg(long, global = true)]
    hash_hosts: bool,
    #[command(subcommand)]
    command: Command,
}

/// `--accept-from` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum AcceptArg {
    /// Any response over https (RFC 6797).
    Any,
    /// Subresource responses of the top-level site only (Firefox, Brave).
    SameSite,
    /// Subresource responses of the top-level host or its site, for that host only (WebKit).
    TopLevel,
}

impl From<AcceptArg> for AcceptFrom {
    fn from(a: AcceptArg) -> Self {
        match a {
            AcceptArg::Any => AcceptFrom::Any,
            AcceptArg::SameSite => AcceptFrom::SameSite,
            AcceptArg::TopLevel => AcceptFrom::TopLevel,
        }
    }
}

/// The browsing context of a request, on `observe`, `check` and `rewrite`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RequestArgs {
    /// The top-level page the request is made from. Without it the request
    /// is a top-level navigation to its own URL.
    #[arg(long, value_name = "URL")]
    top_level: Option<String>,
    /// The request is a subresource of the --top-level page, not a navigation.
    #[arg(long, requires = "top_level")]
    subresource: bool,
}

impl RequestArgs {
    /// The context these options describe. A top-level URL without a valid
    /// host is a usage error.
    pub(crate) fn context(&self) -> Result<RequestContext, CliError> {
        let Some(top) = &self.top_level else {
            return Ok(RequestContext::navigation());
        };
        let bad = |e: String| CliError::Usage(format!("--top-level {top:?}: {e}"));
        let url = url::Url::parse(top).map_err(|e| bad(e.to_string()))?;
        let ctx = if self.subresource {
            RequestContext::subresource_of(&url)
        } else {
            RequestContext::navigation_from(&url)
        };
        ctx.map_err(|e| bad(e.to_string()))
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse a Strict-Transport-Security value. Exit 0 if valid, 1 if invalid.
    #[command(
        after_help = "Output: \"valid: <canonical header>\" or \"invalid: <error>\"; with --json one line, {\"valid\":true,\"max_age\":N,\"include_subdomains\":B,\"preload\":B} or {\"valid\":false,\"error\":\"...\"} (a max_age over 2^53-1 prints as 9007199254740991).\nA VALUE of \"-\" reads one value per line of stdin: one output line per input line.\nExit: 0 valid, 1 invalid (any, with \"-\"), 2 usage."
    )]
    Parse {
        /// One line of JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Flush each output line at once (the default on a terminal;
        /// otherwise output is written in blocks).
        #[arg(long)]
        line_buffered: bool,
        /// The header field value; "-" reads one per line from stdin.
        value: OsString,
    },
    /// Must these hosts use https? ("-" reads hosts from stdin.)
    #[command(
        after_help = "Output: \"<host as given>\\thttps\" or \"\\thttp\", one line per host and per stdin line (an empty line for an empty one); --json one object per line; --count one number.\nAn invalid host (a URL, a port, white space, a bad character or A-label) prints \"\\thttp\" and the reason on stderr.\nExit: 0, 1 if any host or stdin line was invalid, 2 usage."
    )]
    Check {
        /// One JSON object per host.
        #[arg(long, conflicts_with = "count")]
        json: bool,
        /// Print only the number of hosts that must use https.
        #[arg(long)]
        count: bool,
        /// Flush each output line at once (the default on a terminal;
        /// otherwise output is written in blocks).
        #[arg(long)]
        line_buffered: bool,
        #[command(flatten)]
        request: RequestArgs,
        #[command(flatten)]
        fleet: sync_cmd::FleetArgs,
        /// Host names; "-" reads one per line from stdin.
        #[arg(required = true)]
        hosts: Vec<String>,
    },
    /// Print the URL each request must use. ("-" reads URLs from stdin.)
    #[command(
        after_help = "Output: one line per URL and per stdin line: the URL to request (upgraded, or as given); an empty line for an empty or unreadable stdin line.\nExit: 0, 1 if any URL could not be parsed, 2 usage."
    )]
    Rewrite {
        /// Flush each output line at once (the default on a terminal;
        /// otherwise output is written in blocks).
        #[arg(long)]
        line_buffered: bool,
        #[command(flatten)]
        request: RequestArgs,
        #[command(flatten)]
        fleet: sync_cmd::FleetArgs,
        /// URLs; "-" reads one per line from stdin.
        #[arg(required = true)]
        urls: Vec<String>,
    },
    /// Note the STS field values of one response received from URL.
    #[command(
        after_help = "Output: \"noted\", \"updated\", \"removed\", \"unchanged\" or \"ignored: <reason>\"; with --json one object with \"outcome\", \"host\", \"reason\", \"code\" (a stable snake_case code when ignored), \"partition\" and \"evicted\".\nWrites --store (required).\nExit: 0 (also when ignored), 1 if the store could not be read or written, 2 usage (no --store, a bad --top-level)."
    )]
    Observe {
        /// One line of JSON instead of text.
        #[arg(long)]
        json: bool,
        /// The TLS connection had certificate errors.
        #[arg(long)]
        cert_errors: bool,
        #[command(flatten)]
        request: RequestArgs,
        /// The URL the response came from.
        url: String,
        /// The Strict-Transport-Security field values, in order.
        values: Vec<OsString>,
    },
    /// Compile, describe or print a preload list.
    #[command(subcommand)]
    Preload(PreloadCommand),
    /// Import a store file (curl's HSTS cache, our JSON, or our binary form) into --store.
    #[command(
        after_help = "Without --format the format is detected: our binary store (its magic label), JSON (an object or array, or one object per line as `list --json` prints), else curl's.\nOutput: \"read N, added A, updated U, expired E, skipped S, evicted V\" (--json: one object); each skipped entry with its reason on stderr (a partitioned entry is skipped: it cannot be imported).\nExit: 0, 1 when nothing was imported (the store is then left untouched) or the file cannot be read, 2 usage (no --store)."
    )]
    Import {
        /// The file's format; detected when not given.
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
        /// The file to import.
        file: PathBuf,
    },
    /// Export the --store entries (to stdout unless -o is given).
    #[command(
        after_help = "Output: the live entries in the format (default JSON: {\"format\":\"hsts-store\",\"version\":1,\"entries\":[...]}, which `import` reads back without --format). An expiry past year 9999 (a saturated max-age, curl's \"unlimited\") prints as 9999-12-31T23:59:59Z in JSON.\nExit: 0, 1 if the store cannot be read or the output written (or it holds partitioned or hashed entries, for json and curl), 2 usage (no --store)."
    )]
    Export {
        /// The output format.
        #[arg(long, value_enum, default_value = "json")]
        format: FormatArg,
        /// Write to this file (atomically) instead of stdout; "-" is stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Forget a host, a whole site, recent entries, or everything in --store.
    #[command(
        after_help = "Output: \"removed N\" (--json: {\"removed\":N}); a store file that does not exist is not created (\"removed 0\", a warning).\nExit: 0, 1 if the store cannot be read or written, or the host is invalid, 2 usage (no --store)."
    )]
    #[command(group(clap::ArgGroup::new("what").required(true).args(["host", "site", "since", "all"])))]
    Forget {
        /// The host whose own entry is removed.
        host: Option<String>,
        /// Remove every entry of this registrable domain (eTLD+1).
        #[arg(long, value_name = "DOMAIN")]
        site: Option<String>,
        /// Remove entries observed at or after TIME (unix seconds or RFC 3339).
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        since: Option<DateTime<Utc>>,
        /// Remove every entry.
        #[arg(long)]
        all: bool,
        /// Report as one line of JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sync --store with a fleet's through Redis: push, pull, save.
    #[command(
        after_help = "Output: \"pushed N, pulled N, conflicts lost N, errors N\"; --json one object with pushed, pulled, conflicts_lost, pending, outbox_full, bootstrapped and errors (each names its Redis key, also on stderr).\nExit: 0, 1 if Redis failed, the store could not be read or written, or a record under the prefix was bad, 2 usage (no --store, a bad URL)."
    )]
    Sync(sync_cmd::SyncArgs),
    /// Print the live entries of --store.
    #[command(
        after_help = "Output: \"host\\tinclude_subdomains\\texpires\" per entry (a fourth column: the partition), sorted by host; --json one object per line with host, include_subdomains, observed, expires and partition: the entry shape `import --format json` reads. A missing store file is an empty store, said on stderr.\nExit: 0, 1 if the store cannot be read, 2 usage (no --store)."
    )]
    List {
        /// One JSON object per entry.
        #[arg(long)]
        json: bool,
    },
    /// Lint STS values for deployment. Exit 0 if no error, 1 if any. ("-" reads stdin.)
    Lint(lint_cmd::LintArgs),
    /// Build a header value or a server snippet, or print the staged ramp-up (--plan).
    Build(build_cmd::BuildArgs),
    /// Fetch a URL with HSTS on every hop: upgrade (HSTS, then HTTPS DNS
    /// records), RFC 6797 §8.4 on TLS errors, note into --store. Exit 0 on
    /// any HTTP response, 1 on a network, TLS or §8.4 failure, 2 on usage.
    Get(get_cmd::GetArgs),
    /// Audit sites against hstspreload.org's rules: the header, the http
    /// redirects, www, the preload list. ("-" reads targets from stdin.)
    #[command(
        after_help = "Output: per target a verdict line, then the header, the https and http chains, www, whether it is preloaded, and one \"<severity> <code>: <message>\" line per finding; --json one object per target (README, \"For the people who deploy HSTS\").\nExit: 0 when every target is preload-eligible under --profile, 1 otherwise, 2 usage."
    )]
    Audit(audit_cmd::AuditArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Example: hsts completions bash > ~/.local/share/bash-completion/completions/hsts\nExit: 0, 2 usage."
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) of hsts.
    #[command(after_help = "Example: hsts man > hsts.1 && man ./hsts.1\nExit: 0, 2 usage.")]
    Man,
}

impl Command {
    /// Whether `--line-buffered` was given.
    fn line_buffered(&self) -> bool {
        matches!(
            self,
            Command::Parse {
                line_buffered: true,
                ..
            } | Command::Check {
                line_buffered: true,
                ..
            } | Command::Rewrite {
                line_buffered: true,
                ..
            }
        )
    }

    /// Whether the command consults the preload list: only these warn when
    /// it is old.
    fn uses_preload_list(&self) -> bool {
        matches!(
            self,
            Command::Check { .. }
                | Command::Rewrite { .. }
                | Command::Observe { .. }
                | Command::Preload(PreloadCommand::List)
                | Command::Get(_)
                | Command::Audit(_)
        )
    }

    /// Whether the command reads or writes the store file: `--store` is
    /// required.
    fn needs_store(&self) -> bool {
        matches!(
            self,
            Command::Observe { .. }
                | Command::Import { .. }
                | Command::Export { .. }
                | Command::Forget { .. }
                | Command::List { .. }
                | Command::Sync(_)
        )
    }
}

#[derive(Debug, Subcommand)]
enum PreloadCommand {
    /// Compile Chromium's JSON list (plain or .gz) into our binary table.
    #[command(
        after_help = "Chromium's file is read as published, `//` comment lines and all. It carries no date: give the date of its commit (the age warning counts from it); a date after --now (or today) is refused.\nOutput: \"compiled N entries into B bytes (S skipped)\", each skipped name on stderr.\nExit: 0, 1 if the input cannot be read or compiled, 2 usage (no --date, a future date)."
    )]
    Compile {
        /// transport_security_state_static.json or .json.gz
        input: PathBuf,
        /// Where to write the table.
        #[arg(short, long, value_name = "OUT.bin")]
        output: PathBuf,
        /// The list's date (YYYY-MM-DD): when the input was published.
        #[arg(long, required = true)]
        date: chrono::NaiveDate,
    },
    /// Print the list's date, entry count, byte size and checksum.
    #[command(
        after_help = "Output: tab-separated lines date, entries, bytes, checksum, source_sha256; --json one object.\nExit: 0, 1 if --preload cannot be loaded, 2 usage (--no-preload)."
    )]
    Info {
        /// One line of JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print "name<TAB>include_subdomains" for every entry.
    #[command(after_help = "Exit: 0, 1 if --preload cannot be loaded, 2 usage (--no-preload).")]
    List,
}

/// Store file formats on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    /// curl's HSTS cache file (CURLOPT_HSTS).
    Curl,
    /// JSON, for people.
    Json,
    /// Our binary store format.
    Binary,
}

impl From<FormatArg> for hsts::persist::Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Curl => hsts::persist::Format::Curl,
            FormatArg::Json => hsts::persist::Format::Json,
            FormatArg::Binary => hsts::persist::Format::Binary,
        }
    }
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
    /// `--hash-hosts`: a new store keeps hashes of host names.
    pub hash_hosts: bool,
}

impl Ctx {
    /// The store to query: the file's contents, or an empty store. A file
    /// that cannot be read is an error.
    pub fn load_store(&self) -> Result<HstsStore, CliError> {
        match &self.store_path {
            None => self.new_store(),
            Some(path) if store_missing(path) => {
                warn::once(
                    warn::Once::MissingStore,
                    &format!(
                        "store file {} does not exist: reading an empty store (observe or import creates it)",
                        path.display()
                    ),
                );
                self.new_store()
            }
            // A 0-byte file is an empty store; with --hash-hosts, a hashed one.
            Some(path)
                if self.hash_hosts
                    && std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0) =>
            {
                self.new_store()
            }
            Some(path) => {
                let store = hsts::persist::load(path, self.config.clone())
                    .map_err(|e| store_error("cannot load store", path, &e))?;
                self.check_hashed(path, &store)?;
                warn_dropped_on_load(path, &store);
                Ok(store)
            }
        }
    }

    /// An empty store with the settings, hashed with `--hash-hosts`.
    fn new_store(&self) -> Result<HstsStore, CliError> {
        if self.hash_hosts {
            HstsStore::hashed(self.config.clone())
                .map_err(|e| CliError::Failed(format!("cannot make a salt: {e}")))
        } else {
            Ok(HstsStore::with_config(self.config.clone()))
        }
    }

    /// `--hash-hosts` on a store file that keeps names is refused: hashing
    /// applies when a store file is created.
    fn check_hashed(&self, path: &std::path::Path, store: &HstsStore) -> Result<(), CliError> {
        if self.hash_hosts && !store.is_hashed() {
            return Err(CliError::Failed(format!(
                "{} keeps host names, not hashes: --hash-hosts applies only when a store file is created",
                path.display()
            )));
        }
        Ok(())
    }

    /// With `--hash-hosts`, creates the store file (empty, hashed) if there
    /// is none yet, and refuses one that keeps names.
    fn prepare_hashed(&self, path: &std::path::Path) -> Result<(), CliError> {
        if !self.hash_hosts {
            return Ok(());
        }
        // A missing or 0-byte file is an empty store: made hashed here.
        let empty = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0);
        if !path.exists() || empty {
            let store = self.new_store()?;
            match hsts::persist::save(&store, path, self.now) {
                // Another process created it first: its keys are the file's.
                Ok(()) | Err(hsts::persist::PersistError::KeysMismatch { .. }) => {}
                Err(e) => {
                    return Err(CliError::Failed(format!(
                        "cannot create store {}: {e}",
                        path.display()
                    )))
                }
            }
        }
        let store = hsts::persist::load(path, self.config.clone())
            .map_err(|e| store_error("cannot load store", path, &e))?;
        self.check_hashed(path, &store)
    }

    /// Loads, changes and saves the store file under its lock. `--store` is
    /// required. A file that cannot be read is left as it is.
    pub fn update_store<R>(&self, f: impl FnOnce(&mut HstsStore) -> R) -> Result<R, CliError> {
        let Some(path) = &self.store_path else {
            return Err(CliError::Usage("this command needs --store FILE".into()));
        };
        self.prepare_hashed(path)?;
        hsts::persist::update(path, self.config.clone(), self.now, |store| {
            warn_dropped_on_load(path, store);
            f(store)
        })
        .map_err(|e| store_error("cannot update store", path, &e))
    }
}

/// Nothing (not even a dangling link) is at `path`.
pub(crate) fn store_missing(path: &std::path::Path) -> bool {
    matches!(std::fs::metadata(path), Err(e) if e.kind() == io::ErrorKind::NotFound)
}

/// A store file that cannot be read: the error, and when the file is a JSON
/// export or a curl cache rather than a store, the command that reads it.
fn store_error(what: &str, path: &std::path::Path, e: &hsts::persist::PersistError) -> CliError {
    let mut msg = format!("{what} {}: {e}", path.display());
    let head = store_cmd::file_head(path);
    let format = match store_cmd::sniff(&head) {
        hsts::persist::Format::Json => Some("json"),
        hsts::persist::Format::Curl if store_cmd::looks_like_curl(&head) => Some("curl"),
        _ => None,
    };
    if let Some(name) = format {
        msg.push_str(&format!(
            "\nhsts: {} is a {} file, not a store file: read it into a store with `hsts --store NEW.bin import --format {name} {}`",
            path.display(),
            if name == "json" { "JSON" } else { "curl HSTS cache" },
            path.display()
        ));
    }
    CliError::Failed(msg)
}

/// Nothing is dropped in silence: a store file that held more entries than
/// the capacity in force says how many were left out.
fn warn_dropped_on_load(path: &std::path::Path, store: &HstsStore) {
    let n = store.evictions().on_load;
    if n > 0 {
        warn(&format!(
            "{} held {n} entries beyond the capacity of {}; the least recently observed were left out",
            path.display(),
            store.config().capacity_in_force()
        ));
    }
}

/// The `--version` text: the crate's version and the built-in list's date.
fn version_text() -> &'static str {
    use hsts::preload::PreloadList;
    // Not `builtin()`, which panics on a table this build cannot read: with
    // `--no-preload`, `preload compile` must still run to rebuild it.
    let text = match PreloadList::from_static_unchecked(PreloadList::builtin_bytes()) {
        Ok(list) => format!(
            "{} (built-in preload list of {}, {} entries)",
            env!("CARGO_PKG_VERSION"),
            list.date(),
            list.len()
        ),
        Err(e) => format!(
            "{} (built-in preload list unreadable: {e})",
            env!("CARGO_PKG_VERSION")
        ),
    };
    Box::leak(text.into_boxed_str())
}

/// The command line's definition, with the version text filled in.
pub(crate) fn cli_command() -> clap::Command {
    Cli::command().version(version_text())
}

/// Runs the tool and returns its exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::from_arg_matches(&cli_command().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    warn::set_quiet(cli.quiet || warn::quiet_from_env());
    if cli.command.needs_store() && cli.store.is_none() {
        eprintln!("hsts: this command needs --store FILE (the store file to read or write)");
        return ExitCode::from(2);
    }
    let stdout = io::stdout();
    // Line by line on a terminal or when asked, so that answers stream as
    // input arrives; in blocks otherwise (a pipe, a file), for speed.
    {
        use std::io::IsTerminal;
        let flush = cli.command.line_buffered() || stdout.is_terminal();
        LINE_BUFFERED.store(flush, std::sync::atomic::Ordering::Relaxed);
    }
    let mut out = io::BufWriter::with_capacity(64 << 10, stdout.lock());
    let result = Ctx::new(&cli).and_then(|ctx| run(&ctx, cli.command, &mut out));
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

/// The built-in list is older than this: warn (Firefox's limit, 18 weeks).
const STALE_WARNING_DAYS: i64 = 18 * 7;

impl Ctx {
    fn new(cli: &Cli) -> Result<Ctx, CliError> {
        let now = cli.now.unwrap_or_else(Utc::now);
        let preload = match (&cli.preload, cli.no_preload) {
            (_, true) => PreloadSource::Off,
            (Some(path), false) => PreloadSource::List(Arc::new(preload_cmd::load_file(path)?)),
            (None, false) => PreloadSource::Builtin,
        };
        // Only the commands that consult the list warn about its age
        // (never parse, lint, build, preload compile or the store commands).
        if let Some(list) = preload.list().filter(|_| cli.command.uses_preload_list()) {
            let age = (now.date_naive() - list.date()).num_days();
            if age > STALE_WARNING_DAYS {
                warn::once(
                    warn::Once::StaleList,
                    &format!(
                        "the preload list is from {} ({age} days old, over 18 weeks): compile a newer one with `hsts preload compile` and pass it with --preload (README, \"Updating the preload list\"); --quiet silences this",
                        list.date()
                    ),
                );
            }
        }
        let suffix_list = match &cli.psl {
            None => SuffixSource::Builtin,
            Some(path) => SuffixSource::List(Arc::new(load_psl(path)?)),
        };
        let defaults = StoreConfig::default();
        Ok(Ctx {
            now,
            config: StoreConfig {
                exempt_localhost: !cli.hsts_for_localhost,
                preload,
                suffix_list,
                capacity: cli.capacity.map_or(defaults.capacity, |n| n as usize),
                per_site_quota: cli
                    .site_quota
                    .map_or(defaults.per_site_quota, |n| n as usize),
                max_age_cap: cli.max_age_cap,
                accept_from: cli.accept_from.into(),
                navigations_only: cli.navigations_only,
                partition: cli.partition,
                ..defaults
            },
            store_path: cli.store.clone(),
            hash_hosts: cli.hash_hosts,
        })
    }

    /// The preload list in use, if any.
    pub fn preload_list(&self) -> Result<Option<&hsts::preload::PreloadList>, CliError> {
        Ok(self.config.preload.list())
    }
}

/// The largest Public Suffix List file read (the real one is about 250 KB).
const MAX_PSL_LEN: u64 = 16 << 20;

/// Reads and parses a Public Suffix List file, within [`MAX_PSL_LEN`].
fn load_psl(path: &std::path::Path) -> Result<SuffixList, CliError> {
    use std::io::Read;
    let fail =
        |what: String| CliError::Failed(format!("public suffix list {}: {what}", path.display()));
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_PSL_LEN + 1).read_to_string(&mut text))
        .map_err(|e| fail(e.to_string()))?;
    if text.len() as u64 > MAX_PSL_LEN {
        return Err(fail(format!("larger than {MAX_PSL_LEN} bytes")));
    }
    SuffixList::parse(&text).map_err(|e| fail(e.to_string()))
}

/// Runs a command. Generic over the writer so that `check`, which writes a
/// line per input line, writes into the buffered stdout without a virtual
/// call per write; the other commands take it as `&mut dyn Write`.
fn run<W: Write>(ctx: &Ctx, command: Command, out: &mut W) -> Result<u8, CliError> {
    match command {
        Command::Parse { json, value, .. } => query::parse(out, json, &value),
        Command::Check {
            json,
            count,
            request,
            fleet,
            hosts,
            ..
        } => {
            let mode = match (json, count) {
                (true, _) => query::CheckOutput::Json,
                (_, true) => query::CheckOutput::Count,
                _ => query::CheckOutput::Plain,
            };
            query::check(ctx, out, mode, (&request.context()?, &fleet), &hosts)
        }
        Command::Rewrite {
            request,
            fleet,
            urls,
            ..
        } => query::rewrite(ctx, out, (&request.context()?, &fleet), &urls),
        Command::Observe {
            json,
            cert_errors,
            request,
            url,
            values,
        } => {
            let response = query::Response {
                url: &url,
                values: &values,
                cert_errors,
                context: request.context()?,
            };
            query::observe(ctx, out, json, &response)
        }
        Command::Preload(PreloadCommand::Compile {
            input,
            output,
            date,
        }) => preload_cmd::compile(ctx, out, &input, &output, date),
        Command::Preload(PreloadCommand::Info { json }) => preload_cmd::info(ctx, out, json),
        Command::Preload(PreloadCommand::List) => preload_cmd::list(ctx, out),
        Command::Import { format, json, file } => {
            store_cmd::import(ctx, out, format.map(Into::into), json, &file)
        }
        Command::Export { format, output } => {
            // `-o -` is stdout, as without -o.
            let to = output.filter(|p| p.as_os_str() != "-");
            store_cmd::export(ctx, out, format.into(), to.as_deref())
        }
        Command::Forget {
            host,
            site,
            since,
            all,
            json,
        } => {
            let what = match (host, site, since, all) {
                (Some(h), ..) => store_cmd::Forget::Host(h),
                (_, Some(d), ..) => store_cmd::Forget::Site(d),
                (_, _, Some(t), _) => store_cmd::Forget::Since(t),
                _ => store_cmd::Forget::All,
            };
            store_cmd::forget(ctx, out, what, json)
        }
        Command::List { json } => store_cmd::list(ctx, out, json),
        Command::Sync(args) => sync_cmd::run(ctx, out, &args),
        Command::Lint(args) => lint_cmd::run(out, args),
        Command::Build(args) => build_cmd::run(out, args),
        Command::Get(args) => get_cmd::run(ctx, out, &args),
        Command::Audit(args) => audit_cmd::run(ctx, out, args),
        Command::Completions { shell } => {
            let mut cmd = cli_command();
            clap_complete::generate(shell, &mut cmd, "hsts", out);
            Ok(0)
        }
        Command::Man => {
            clap_mangen::Man::new(cli_command()).render(out)?;
            Ok(0)
        }
    }
}

/// The largest integer every JSON reader keeps exactly (2^53 - 1).
const JSON_MAX_SAFE: u64 = (1 << 53) - 1;

/// A count or a max-age for JSON output: capped at 2^53 - 1, so that a
/// saturated max-age (u64::MAX) reads the same in JavaScript and in every
/// double-based parser. 2^53 seconds is 285 million years.
pub(crate) fn json_number(n: u64) -> u64 {
    n.min(JSON_MAX_SAFE)
}

/// Whether each output line is flushed as it is written.
static LINE_BUFFERED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Ends an output line: a newline, and a flush when line-buffered.
pub(crate) fn end_line<W: Write + ?Sized>(out: &mut W) -> Result<(), CliError> {
    out.write_all(b"\n")?;
    if line_buffered() {
        out.flush()?;
    }
    Ok(())
}

/// Whether each output line is to be flushed as it is written.
pub(crate) fn line_buffered() -> bool {
    LINE_BUFFERED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Writes one line, turning I/O errors into [`CliError`].
pub(crate) fn line(out: &mut dyn Write, s: &str) -> Result<(), CliError> {
    out.write_all(s.as_bytes())?;
    end_line(out)
}

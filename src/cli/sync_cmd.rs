//! `hsts sync --redis URL [--prefix P] [--json]`: one round of fleet sync
//! (see `hsts::redis_sync`): push this store's changes, pull the fleet's,
//! save.

use std::io::Write;

use serde_json::json;

use hsts::redis_sync::{RedisSync, SyncReport, DEFAULT_PREFIX};

use super::{line, warn, CliError, Ctx};

/// The arguments of `hsts sync`.
#[derive(Debug, clap::Args)]
pub(crate) struct SyncArgs {
    /// The fleet's Redis: redis://[:PASSWORD@]HOST[:PORT][/DB].
    #[arg(long, value_name = "URL")]
    redis: String,
    /// The prefix of the fleet's keys on Redis (hash tag `{P}`).
    #[arg(long, value_name = "P", default_value = DEFAULT_PREFIX)]
    prefix: String,
    /// One line of JSON.
    #[arg(long)]
    json: bool,
}

/// `--redis URL [--redis-prefix P]` on `check`, `rewrite` and `get`: pull
/// the fleet's state before answering.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct FleetArgs {
    /// Sync with the fleet's Redis before answering (one round, as `hsts
    /// sync` does, without saving --store). When Redis cannot be reached,
    /// the answer comes from --store alone, with a warning.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// The prefix of the fleet's keys on Redis.
    #[arg(long = "redis-prefix", value_name = "P", default_value = DEFAULT_PREFIX)]
    redis_prefix: String,
}

impl FleetArgs {
    /// With `--redis`, one sync round into `store`; a Redis failure is a
    /// warning (lookups never wait on the fleet beyond this round), a bad
    /// URL a usage error.
    pub(crate) fn pull(&self, ctx: &Ctx, store: &mut hsts::HstsStore) -> Result<(), CliError> {
        let Some(url) = &self.redis else {
            return Ok(());
        };
        let mut sync = RedisSync::new(url)
            .map_err(|e| CliError::Usage(format!("bad --redis URL: {e}")))?
            .with_prefix(&self.redis_prefix);
        match sync.sync_at(store, ctx.now) {
            Ok(report) => warn_about(&report),
            Err(e) => warn(&format!(
                "cannot sync with {url}: {e}; answering from the local store"
            )),
        }
        Ok(())
    }
}

pub(crate) fn run(ctx: &Ctx, out: &mut dyn Write, args: &SyncArgs) -> Result<u8, CliError> {
    let mut sync = RedisSync::new(&args.redis)
        .map_err(|e| CliError::Usage(format!("bad --redis URL: {e}")))?
        .with_prefix(&args.prefix);
    let now = ctx.now;
    let report = ctx
        .update_store(|store| sync.sync_at(store, now))?
        .map_err(|e| CliError::Failed(format!("sync with {} failed: {e}", args.redis)))?;
    warn_about(&report);
    print(out, &report, args.json)?;
    Ok(u8::from(report.has_errors()))
}

/// What a round left undone or could not read, on stderr: each listed
/// error, how many more there were, a full outbox, records left to pull.
fn warn_about(report: &SyncReport) {
    for e in &report.errors {
        warn(e);
    }
    if report.errors_not_listed > 0 {
        warn(&format!(
            "{} more errors not listed",
            report.errors_not_listed
        ));
    }
    if report.outbox_full {
        warn(&format!(
            "the outbox is full: {} changes left for the next sync",
            report.pending
        ));
    }
    if report.pull_pending {
        warn("more records wait on Redis than one round pulls: the next syncs pull them");
    }
}

fn print(out: &mut dyn Write, r: &SyncReport, json: bool) -> Result<(), CliError> {
    if json {
        let v = json!({
            "pushed": r.pushed,
            "pulled": r.pulled,
            "conflicts_lost": r.conflicts_lost,
            "pending": r.pending,
            "outbox_full": r.outbox_full,
            "bootstrapped": r.bootstrapped,
            "pull_pending": r.pull_pending,
            "errors": r.errors,
            "errors_not_listed": r.errors_not_listed,
        });
        line(out, &v.to_string())
    } else {
        line(
            out,
            &format!(
                "pushed {}, pulled {}, conflicts lost {}, errors {}",
                r.pushed,
                r.pulled,
                r.conflicts_lost,
                r.errors.len() + r.errors_not_listed
            ),
        )
    }
}

//! A fleet of workers shares one HSTS store through Redis (feature `redis`).
//!
//! Lookups stay local: each worker keeps its own [`HstsStore`] and answers
//! from it without waiting on the network. A [`RedisSync`] beside it
//! *pushes* the changes this worker made (notes and removals, with their
//! observation times) and *pulls* the changes others made, each
//! [`sync`](RedisSync::sync) round (see DESIGN.md, "Fleet sync through
//! Redis").
//!
//! - **One merge rule.** Per (partition, key) the freshest observation
//!   wins, and a removal at or after an observation wins: the rule of the
//!   file merge ([`persist`](crate::persist)), the same function. On the
//!   same second, the last writer wins (the pusher on Redis, then Redis on
//!   every worker that pulls it), so the fleet converges.
//! - **On Redis**, under a prefix `P` (default `hsts`), all keys carry the
//!   hash tag `{P}` so that they live on one Redis Cluster slot:
//!   `{P}:h:<partition>:<key>` holds one record (a string,
//!   `e1 <observed> <expires> <0|1>` or `r1 <removed>`, times in Unix
//!   seconds), expiring with its entry (removals after
//!   [`TOMBSTONE_TTL_DAYS`] days); `{P}:ver` is the version counter;
//!   `{P}:feed` a sorted set of `<partition>:<key>` by the version of its
//!   last write, trimmed to its newest members; `{P}:trimmed` the highest
//!   version trimmed; `{P}:epoch` a random id of this data set (a Redis
//!   that lost its data gets a new one); `{P}:keys` says whether keys are
//!   names or salted hashes (and which salt, by a digest of it).
//! - A write is a compare-and-set script: it writes only if the record is
//!   still the one the worker read and decided (with the merge rule) to
//!   beat, bumps the version and files the key in the feed, atomically.
//! - A worker pulls the feed past its cursor; one that joins late, falls
//!   behind the trim point or sees a new epoch bootstraps from a `SCAN` of
//!   the prefix (and, on a new epoch, pushes its whole store again).
//! - **Outbox.** What is still to push is the difference between the store
//!   and what was last pushed: it lives in the store itself (saved locally
//!   as usual), so it is bounded by the store's own bounds and nothing is
//!   dropped; at most [`RedisSync::with_max_outbox`] changes go out in one
//!   round, and a round that leaves more reports [`SyncReport::outbox_full`].
//! - Evictions are not removals: what a worker's capacity or site quota
//!   evicted is simply no longer pushed; it is not deleted fleet-wide.
//! - Bad or foreign data under the prefix is reported as
//!   [`RedisSyncError::BadData`] naming the key; it never panics.

use std::time::Duration as StdDuration;

use chrono::{DateTime, TimeZone, Utc};
use hashbrown::HashMap;
use redis::{Client, Connection};
use sha2::{Digest, Sha256};

use crate::keys::Keys;
use crate::persist::merge::{wins, Mark};
use crate::persist::TOMBSTONE_TTL_DAYS;
use crate::table::Usage;
use crate::HstsStore;

/// The default prefix of the keys on Redis.
pub const DEFAULT_PREFIX: &str = "hsts";
/// The default bound of one round's outbox.
pub const DEFAULT_MAX_OUTBOX: usize = 100_000;
/// The most records one round pulls by default (the rest come in the next
/// rounds), so that memory follows this bound and not what Redis holds.
pub const DEFAULT_MAX_PULL: usize = 200_000;
/// The most error messages one report lists; the rest are counted
/// ([`SyncReport::errors_not_listed`]).
pub const MAX_LISTED_ERRORS: usize = 100;
/// The default length of the change feed.
pub const DEFAULT_FEED_LEN: usize = 1_000_000;

/// Keys per pipelined batch.
const BATCH: usize = 1_000;

/// The compare-and-set, of a batch of records: KEYS = feed, version,
/// trimmed, then the records; ARGV = feed length, then for each record:
/// the expected record ("" for none), the new record, PXAT in ms (0: none),
/// the feed member. Writes each record only if it still is the expected
/// one, bumping the version and filing the member in the feed at it.
/// Returns, per record, 1 (written), 0 (changed since it was read) or -1
/// (not a string: foreign data).
const CAS: &str = r#"
local out = {}
for i = 4, #KEYS do
  local k = KEYS[i]
  local a = 2 + (i - 4) * 4
  local cur = redis.pcall('GET', k)
  if type(cur) == 'table' and cur.err then
    out[#out + 1] = -1
  else
    if cur == false then cur = '' end
    if cur ~= ARGV[a] then
      out[#out + 1] = 0
    else
      if ARGV[a + 2] == '0' then
        redis.call('SET', k, ARGV[a + 1])
      else
        redis.call('SET', k, ARGV[a + 1], 'PXAT', ARGV[a + 2])
      end
      local v = redis.call('INCR', KEYS[2])
      redis.call('ZADD', KEYS[1], v, ARGV[a + 3])
      out[#out + 1] = 1
    end
  end
end
local n = redis.call('ZCARD', KEYS[1])
local max = tonumber(ARGV[1])
if n > max then
  local old = redis.call('ZRANGE', KEYS[1], 0, n - max - 1, 'WITHSCORES')
  redis.call('SET', KEYS[3], old[#old])
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - max - 1)
end
return out
"#;

/// Why a sync round failed, or what it found wrong.
#[derive(Debug, thiserror::Error)]
pub enum RedisSyncError {
    /// Redis could not be reached or answered with an error.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// A key under the prefix holds something this build did not write.
    #[error("unexpected data under the key {key:?}: {reason}")]
    BadData {
        /// The Redis key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The fleet's keys are not this store's: names against hashed keys,
    /// or hashes with another salt.
    #[error("the store's hosts are {ours} but the fleet's under this prefix are {theirs}: refusing to mix them")]
    KeysMismatch {
        /// This store's kind of keys.
        ours: String,
        /// The fleet's.
        theirs: String,
    },
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Records this worker wrote to Redis.
    pub pushed: usize,
    /// Records from the fleet applied to this store.
    pub pulled: usize,
    /// Changes of this worker that a fresher record on Redis beat.
    pub conflicts_lost: usize,
    /// Changes still to push after this round (the outbox).
    pub pending: usize,
    /// Whether the outbox held more than one round may push.
    pub outbox_full: bool,
    /// Whether this round pulled from a full scan instead of the feed.
    pub bootstrapped: bool,
    /// Records under the prefix that could not be read (each names its key);
    /// the rest of the round went on. At most [`MAX_LISTED_ERRORS`].
    pub errors: Vec<String>,
    /// Errors beyond the ones listed in [`SyncReport::errors`].
    pub errors_not_listed: usize,
    /// Whether more records are waiting to be pulled than one round takes
    /// ([`RedisSync::with_max_pull`]): the next rounds pull them.
    pub pull_pending: bool,
}

impl SyncReport {
    /// Records an error: listed up to [`MAX_LISTED_ERRORS`], counted after.
    fn error(&mut self, e: RedisSyncError) {
        if self.errors.len() < MAX_LISTED_ERRORS {
            self.errors.push(e.to_string());
        } else {
            self.errors_not_listed += 1;
        }
    }

    /// Whether any error happened (listed or not).
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty() || self.errors_not_listed > 0
    }
}

/// One record, as on Redis: times in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rec {
    Seen {
        observed: i64,
        expires: i64,
        isd: bool,
    },
    Removed {
        at: i64,
    },
}

fn time(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(s, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl Rec {
    fn mark(self) -> Mark {
        match self {
            Rec::Seen { observed, .. } => Mark::Seen(time(observed)),
            Rec::Removed { at } => Mark::Removed(time(at)),
        }
    }

    fn encode(self) -> String {
        match self {
            Rec::Seen {
                observed,
                expires,
                isd,
            } => format!("e1 {observed} {expires} {}", u8::from(isd)),
            Rec::Removed { at } => format!("r1 {at}"),
        }
    }

    fn decode(s: &[u8]) -> Result<Rec, String> {
        let s = std::str::from_utf8(s).map_err(|_| "not UTF-8".to_owned())?;
        let f: Vec<&str> = s.split(' ').collect();
        let num = |x: &str| -> Result<i64, String> {
            let n: i64 = x.parse().map_err(|_| format!("bad time {x:?}"))?;
            // Representable as a chrono time.
            Utc.timestamp_opt(n, 0)
                .single()
                .map(|_| n)
                .ok_or_else(|| format!("time out of range {x:?}"))
        };
        match f.as_slice() {
            ["e1", o, x, i] => {
                let isd = match *i {
                    "0" => false,
                    "1" => true,
                    _ => return Err(format!("bad includeSubDomains flag {i:?}")),
                };
                let (observed, expires) = (num(o)?, num(x)?);
                if expires < observed {
                    return Err("expires before it was observed".into());
                }
                Ok(Rec::Seen {
                    observed,
                    expires,
                    isd,
                })
            }
            ["r1", t] => Ok(Rec::Removed { at: num(t)? }),
            _ => Err(format!("not a record of this build: {:?}", truncate(s))),
        }
    }

    /// When the record should leave Redis, in ms (0: never).
    fn pxat(self) -> i64 {
        let secs = match self {
            Rec::Seen { expires, .. } => expires,
            Rec::Removed { at } => at.saturating_add(TOMBSTONE_TTL_DAYS * 86_400),
        };
        // Past year 4000 (a saturated expiry): no expiry at all.
        if secs > 64_060_588_800 {
            0
        } else {
            secs.saturating_mul(1000).max(1)
        }
    }

    /// Whether it is over at `now`: an expired entry, an old removal.
    fn is_over(self, now: i64) -> bool {
        match self {
            Rec::Seen { expires, .. } => expires < now,
            Rec::Removed { at } => at + TOMBSTONE_TTL_DAYS * 86_400 < now,
        }
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// (partition, key).
type Id = (String, String);

/// A change of this worker, to push.
struct Change {
    id: Id,
    rec: Rec,
}

/// Syncs one worker's store with the fleet's through Redis (see the
/// [module docs](self)).
pub struct RedisSync {
    client: Client,
    con: Option<Connection>,
    prefix: String,
    max_outbox: usize,
    max_pull: usize,
    feed_len: usize,
    timeout: StdDuration,
    /// What Redis is known to hold of each key this worker has: pushed by
    /// it, or pulled.
    last: HashMap<Id, Rec>,
    /// The feed version this worker has pulled up to; `None`: bootstrap.
    cursor: Option<u64>,
    /// A bootstrap scan cut short by `max_pull`: the `SCAN` cursor to go
    /// on from, and the feed version when the scan began.
    scan: Option<(u64, u64)>,
    /// The data set's epoch last seen.
    epoch: Option<String>,
    script: redis::Script,
}

impl std::fmt::Debug for RedisSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSync")
            .field("prefix", &self.prefix)
            .field("cursor", &self.cursor)
            .finish_non_exhaustive()
    }
}

impl RedisSync {
    /// A sync with the Redis at `url` (`redis://host:port/db`), not yet
    /// connected: the first round connects.
    pub fn new(url: &str) -> Result<RedisSync, RedisSyncError> {
        Ok(RedisSync {
            client: Client::open(url)?,
            con: None,
            prefix: DEFAULT_PREFIX.to_owned(),
            max_outbox: DEFAULT_MAX_OUTBOX,
            max_pull: DEFAULT_MAX_PULL,
            feed_len: DEFAULT_FEED_LEN,
            timeout: StdDuration::from_secs(5),
            last: HashMap::new(),
            cursor: None,
            scan: None,
            epoch: None,
            script: redis::Script::new(CAS),
        })
    }

    /// Keys under `prefix` (default [`DEFAULT_PREFIX`]); the fleet must
    /// agree on it.
    pub fn with_prefix(mut self, prefix: &str) -> RedisSync {
        prefix.clone_into(&mut self.prefix);
        self
    }

    /// At most `n` changes pushed in one round (at least 1).
    pub fn with_max_outbox(mut self, n: usize) -> RedisSync {
        self.max_outbox = n.max(1);
        self
    }

    /// At most `n` records pulled in one round (at least 1; default
    /// [`DEFAULT_MAX_PULL`]); what is left waits for the next rounds
    /// ([`SyncReport::pull_pending`]). Memory for a round's pull follows
    /// this bound, whatever Redis holds.
    pub fn with_max_pull(mut self, n: usize) -> RedisSync {
        self.max_pull = n.max(1);
        self
    }

    /// The change feed keeps the newest `n` changes (at least 1); a worker
    /// further behind bootstraps from a scan.
    pub fn with_feed_len(mut self, n: usize) -> RedisSync {
        self.feed_len = n.max(1);
        self
    }

    /// The connect, read and write timeout (default 5 s).
    pub fn with_timeout(mut self, timeout: StdDuration) -> RedisSync {
        self.timeout = timeout;
        self
    }

    fn key(&self, what: &str) -> String {
        format!("{{{}}}:{what}", self.prefix)
    }

    fn record_key(&self, (p, h): &Id) -> String {
        format!("{{{}}}:h:{p}:{h}", self.prefix)
    }

    /// One round: push this store's changes, pull the fleet's, at the
    /// store's clock.
    pub fn sync(&mut self, store: &mut HstsStore) -> Result<SyncReport, RedisSyncError> {
        let now = store.now();
        self.sync_at(store, now)
    }

    /// [`RedisSync::sync`] at `now`.
    pub fn sync_at(
        &mut self,
        store: &mut HstsStore,
        now: DateTime<Utc>,
    ) -> Result<SyncReport, RedisSyncError> {
        let keys = store.keys();
        let (changes, pending) = self.outbox(store, now);
        let (mut report, pulled) = self.exchange(keys, changes, pending, now)?;
        self.apply(store, pulled, &mut report);
        Ok(report)
    }

    /// Runs `f` on the connection, connecting first if need be; any Redis
    /// error drops the connection so that the next round reconnects.
    fn con(&mut self) -> Result<&mut Connection, RedisSyncError> {
        if self.con.is_none() {
            let con = self.client.get_connection_with_timeout(self.timeout)?;
            con.set_read_timeout(Some(self.timeout))?;
            con.set_write_timeout(Some(self.timeout))?;
            self.con = Some(con);
        }
        Ok(self.con.as_mut().expect("just connected"))
    }

    /// The changes to push (at most the outbox bound) and how many there
    /// are in all.
    fn outbox(&mut self, store: &HstsStore, now: DateTime<Utc>) -> (Vec<Change>, usize) {
        let now = now.timestamp();
        let local = local_state(store);
        // Forget what the store no longer has (expired, evicted, old
        // removals): that is not pushed as a removal.
        self.last.retain(|id, _| local.contains_key(id));
        let mut changes = Vec::new();
        let mut pending = 0;
        for (id, rec) in local {
            if rec.is_over(now) || self.last.get(&id) == Some(&rec) {
                continue;
            }
            pending += 1;
            if changes.len() < self.max_outbox {
                changes.push(Change { id, rec });
            }
        }
        (changes, pending)
    }

    /// The network part of a round: checks the keys and the epoch, pushes
    /// `changes`, and returns the records pulled.
    fn exchange(
        &mut self,
        keys: Keys,
        changes: Vec<Change>,
        pending: usize,
        now: DateTime<Utc>,
    ) -> Result<(SyncReport, Vec<(Id, Rec)>), RedisSyncError> {
        let r = self.exchange_inner(keys, changes, pending, now);
        if matches!(r, Err(RedisSyncError::Redis(_))) {
            self.con = None;
        }
        r
    }

    fn exchange_inner(
        &mut self,
        keys: Keys,
        mut changes: Vec<Change>,
        pending: usize,
        now: DateTime<Utc>,
    ) -> Result<(SyncReport, Vec<(Id, Rec)>), RedisSyncError> {
        let mut report = SyncReport::default();
        self.check_keys(keys)?;
        if self.check_epoch()? {
            // A new data set (first round, or Redis lost its data): push
            // everything and pull everything.
            self.last.clear();
            self.cursor = None;
            self.scan = None;
        }
        let mut resolved = 0;
        let mut lost = Vec::new();
        let mut tries = 0;
        while !changes.is_empty() && tries < 3 {
            tries += 1;
            let before = changes.len();
            changes = self.push(changes, &mut report, &mut lost)?;
            resolved += before - changes.len();
        }
        // On a new epoch, `last` was cleared after the outbox was made:
        // the whole store goes again over the next rounds.
        report.pending = pending.saturating_sub(resolved);
        report.outbox_full = pending > self.max_outbox;
        let mut pulled = lost;
        pulled.extend(self.pull(keys, now, &mut report)?);
        Ok((report, pulled))
    }

    /// Refuses a fleet whose keys are not this store's.
    fn check_keys(&mut self, keys: Keys) -> Result<(), RedisSyncError> {
        let ours = match keys.salt() {
            None => "names".to_owned(),
            Some(salt) => {
                let mut h = Sha256::new();
                h.update(b"hsts redis salt digest\0");
                h.update(salt.0);
                let d = h.finalize();
                let hex: String = d[..8].iter().map(|b| format!("{b:02x}")).collect();
                format!("hashed {hex}")
            }
        };
        let key = self.key("keys");
        let con = self.con()?;
        let theirs: Option<Vec<u8>> = redis::cmd("SET")
            .arg(&key)
            .arg(&ours)
            .arg("NX")
            .arg("GET")
            .query(con)?;
        match theirs {
            None => Ok(()),
            Some(t) if t == ours.as_bytes() => Ok(()),
            Some(t) => Err(RedisSyncError::KeysMismatch {
                ours: describe(&ours),
                theirs: describe(&String::from_utf8_lossy(&t)),
            }),
        }
    }

    /// Reads (or starts) the data set's epoch: whether it is new to this
    /// worker.
    fn check_epoch(&mut self) -> Result<bool, RedisSyncError> {
        let mut b = [0u8; 16];
        // A fixed id is still correct (only a lost data set goes unseen).
        let _ = getrandom::fill(&mut b);
        let fresh: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let key = self.key("epoch");
        let con = self.con()?;
        let old: Option<Vec<u8>> = redis::cmd("SET")
            .arg(&key)
            .arg(&fresh)
            .arg("NX")
            .arg("GET")
            .query(con)?;
        let epoch = match old {
            Some(e) => String::from_utf8(e).map_err(|_| RedisSyncError::BadData {
                key: key.clone(),
                reason: "not UTF-8".into(),
            })?,
            None => fresh,
        };
        let new = self.epoch.as_deref() != Some(&epoch);
        self.epoch = Some(epoch);
        Ok(new)
    }

    /// Pushes one batch; returns the changes whose compare-and-set lost a
    /// race (to try again), and adds to `lost` the records that beat ours.
    fn push(
        &mut self,
        changes: Vec<Change>,
        report: &mut SyncReport,
        lost: &mut Vec<(Id, Rec)>,
    ) -> Result<Vec<Change>, RedisSyncError> {
        let mut retry = Vec::new();
        let (feed, ver, trimmed) = (self.key("feed"), self.key("ver"), self.key("trimmed"));
        let hash = self.script.get_hash().to_owned();
        let mut loaded = false;
        for chunk in changes.chunks(BATCH) {
            let rkeys: Vec<String> = chunk.iter().map(|c| self.record_key(&c.id)).collect();
            let con = self.con()?;
            if !loaded {
                redis::cmd("SCRIPT").arg("LOAD").arg(CAS).exec(con)?;
                loaded = true;
            }
            let current: Vec<Option<Vec<u8>>> = redis::cmd("MGET").arg(&rkeys).query(con)?;
            let mut sent = Vec::new();
            for ((c, rkey), cur) in chunk.iter().zip(&rkeys).zip(current) {
                let cur_rec = match &cur {
                    None => None,
                    Some(v) => match Rec::decode(v) {
                        Ok(r) => Some(r),
                        Err(reason) => {
                            report.error(RedisSyncError::BadData {
                                key: rkey.clone(),
                                reason,
                            });
                            continue;
                        }
                    },
                };
                if let Some(r) = cur_rec {
                    if r == c.rec {
                        self.last.insert(c.id.clone(), c.rec);
                        continue;
                    }
                    if !wins(c.rec.mark(), r.mark()) {
                        report.conflicts_lost += 1;
                        // The fresher record is applied here (it may be
                        // older than the cursor).
                        lost.push((c.id.clone(), r));
                        continue;
                    }
                }
                sent.push((c, rkey, cur.unwrap_or_default()));
            }
            if sent.is_empty() {
                continue;
            }
            let mut call = redis::cmd("EVALSHA");
            call.arg(&hash)
                .arg(3 + sent.len())
                .arg(&feed)
                .arg(&ver)
                .arg(&trimmed);
            for (_, rkey, _) in &sent {
                call.arg(*rkey);
            }
            call.arg(self.feed_len);
            for (c, _, expected) in &sent {
                call.arg(expected)
                    .arg(c.rec.encode())
                    .arg(c.rec.pxat())
                    .arg(format!("{}:{}", c.id.0, c.id.1));
            }
            let answers: Vec<i64> = call.query(self.con()?)?;
            if answers.len() != sent.len() {
                return Err(RedisSyncError::BadData {
                    key: feed.clone(),
                    reason: "the script answered for another number of records".into(),
                });
            }
            for ((c, rkey, _), a) in sent.into_iter().zip(answers) {
                match a {
                    1 => {
                        report.pushed += 1;
                        self.last.insert(c.id.clone(), c.rec);
                    }
                    0 => retry.push(Change {
                        id: c.id.clone(),
                        rec: c.rec,
                    }),
                    _ => report.error(RedisSyncError::BadData {
                        key: rkey.clone(),
                        reason: "not a string: not a record of this build".into(),
                    }),
                }
            }
        }
        Ok(retry)
    }

    /// The records changed since the cursor, or all of them.
    fn pull(
        &mut self,
        keys: Keys,
        now: DateTime<Utc>,
        report: &mut SyncReport,
    ) -> Result<Vec<(Id, Rec)>, RedisSyncError> {
        let (feed_key, ver_key, trimmed_key) =
            (self.key("feed"), self.key("ver"), self.key("trimmed"));
        let con = self.con()?;
        let (ver, trimmed): (Option<Vec<u8>>, Option<Vec<u8>>) = redis::cmd("MGET")
            .arg(&ver_key)
            .arg(&trimmed_key)
            .query(con)?;
        let ver = number(&ver_key, ver)?;
        let trimmed = number(&trimmed_key, trimmed)?;
        let mut ids: Vec<Id> = Vec::new();
        let mut bad =
            |key: String, reason: String| report.error(RedisSyncError::BadData { key, reason });
        let record_prefix = self.key("h:");
        let bootstrap = match self.cursor {
            None => true,
            Some(c) => c < trimmed || c > ver,
        };
        let cursor_after;
        let mut pending = false;
        if bootstrap {
            // Go on with a scan an earlier round cut short; changes made
            // meanwhile are in the feed after the version it began at.
            let (mut cur, began) = self.scan.take().unwrap_or((0, ver));
            let pattern = format!("{}*", glob_escape(&record_prefix));
            loop {
                let (next, found): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                    .arg(cur)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(BATCH.min(self.max_pull))
                    .query(self.con()?)?;
                for k in found {
                    let k = String::from_utf8_lossy(&k).into_owned();
                    match k.strip_prefix(&record_prefix).and_then(split_member) {
                        Some(id) => ids.push(id),
                        None => bad(k, "not a record key".into()),
                    }
                }
                cur = next;
                if cur == 0 {
                    break;
                }
                if ids.len() >= self.max_pull {
                    // The rest of the scan in the next rounds.
                    self.scan = Some((cur, began));
                    pending = true;
                    break;
                }
            }
            cursor_after = began;
        } else {
            let mut from = self.cursor.unwrap_or(0);
            let page = BATCH.min(self.max_pull);
            let mut top = from;
            loop {
                let got: Vec<(Vec<u8>, f64)> = redis::cmd("ZRANGEBYSCORE")
                    .arg(&feed_key)
                    .arg(format!("({from}"))
                    .arg("+inf")
                    .arg("WITHSCORES")
                    .arg("LIMIT")
                    .arg(0)
                    .arg(page)
                    .query(self.con()?)?;
                let n = got.len();
                for (m, score) in got {
                    top = top.max(score as u64);
                    let m = String::from_utf8_lossy(&m).into_owned();
                    match split_member(&m) {
                        Some(id) => ids.push(id),
                        None => bad(feed_key.clone(), format!("bad member {:?}", truncate(&m))),
                    }
                }
                if n < page {
                    break;
                }
                from = top;
                if ids.len() >= self.max_pull {
                    // The cursor stops at what was taken: the rest next round.
                    pending = true;
                    break;
                }
            }
            cursor_after = top;
        }
        report.bootstrapped = bootstrap;
        report.pull_pending = pending;
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH) {
            let rkeys: Vec<String> = chunk.iter().map(|id| self.record_key(id)).collect();
            let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET").arg(&rkeys).query(self.con()?)?;
            for ((id, rkey), v) in chunk.iter().zip(rkeys).zip(values) {
                let Some(v) = v else {
                    // Expired, or not a string: say which.
                    let t: String = redis::cmd("TYPE").arg(&rkey).query(self.con()?)?;
                    if t != "none" {
                        report.error(RedisSyncError::BadData {
                            key: rkey,
                            reason: format!("a {t}, not a record"),
                        });
                    }
                    continue;
                };
                if let Err(reason) = check_id(keys, id) {
                    report.error(RedisSyncError::BadData { key: rkey, reason });
                    continue;
                }
                match Rec::decode(&v) {
                    Ok(r) if r.is_over(now.timestamp()) => {}
                    Ok(r) => out.push((id.clone(), r)),
                    Err(reason) => report.error(RedisSyncError::BadData { key: rkey, reason }),
                }
            }
        }
        // A scan cut short leaves the cursor unset: the next round goes on
        // with the scan.
        self.cursor = if self.scan.is_some() {
            None
        } else {
            Some(cursor_after)
        };
        Ok(out)
    }

    /// Applies pulled records to the store, with the merge rule (the
    /// pulled record is the last writer's: it wins ties).
    fn apply(&mut self, store: &mut HstsStore, pulled: Vec<(Id, Rec)>, report: &mut SyncReport) {
        for (id, rec) in pulled {
            let (p, h) = (&id.0, &id.1);
            let local = local_rec(store, p, h);
            if local == Some(rec) {
                self.last.insert(id, rec);
                continue;
            }
            if let Some(l) = local {
                if !wins(rec.mark(), l.mark()) {
                    // Ours is fresher: it goes out with the next push.
                    continue;
                }
            }
            match rec {
                Rec::Seen {
                    observed,
                    expires,
                    isd,
                } => {
                    let (o, x) = (time(observed), time(expires));
                    let usage = store.usage_in(p, h).unwrap_or(Usage::first(o));
                    store.insert_trusted(p, h, isd, o, x, usage);
                }
                Rec::Removed { at } => {
                    store.remove_trusted(p, h, time(at));
                }
            }
            report.pulled += 1;
            self.last.insert(id, rec);
        }
    }
}

fn describe(k: &str) -> String {
    if k == "names" {
        "host names".into()
    } else if let Some(d) = k.strip_prefix("hashed ") {
        format!("hashed with the salt of digest {d}")
    } else {
        format!("unknown ({:?})", truncate(k))
    }
}

fn number(key: &str, v: Option<Vec<u8>>) -> Result<u64, RedisSyncError> {
    match v {
        None => Ok(0),
        Some(v) => std::str::from_utf8(&v)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| RedisSyncError::BadData {
                key: key.to_owned(),
                reason: "not a counter".into(),
            }),
    }
}

/// `<partition>:<key>`: the key has no colon (a partition may: an IPv6
/// address).
fn split_member(m: &str) -> Option<Id> {
    let (p, h) = m.rsplit_once(':')?;
    Some((p.to_owned(), h.to_owned()))
}

fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether a pulled (partition, key) is one this store may hold.
fn check_id(keys: Keys, (p, h): &Id) -> Result<(), String> {
    if keys.is_hashed() {
        if keys.is_host_key(h) && keys.is_partition_key(p) {
            return Ok(());
        }
        return Err("not a hashed key, in a fleet of hashed keys".into());
    }
    match crate::CanonicalHost::new(h) {
        Ok(c) if c.as_str() == h => {}
        _ => return Err(format!("not a canonical host name: {:?}", truncate(h))),
    }
    if p.is_empty() {
        return Ok(());
    }
    let ok = match crate::host::canonicalize(p) {
        Ok(crate::Host::Domain(d)) => d.as_str() == p,
        Ok(crate::Host::Ip(ip)) => ip.to_string() == *p,
        Err(_) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("not a partition: {:?}", truncate(p)))
    }
}

/// The record a store holds for (partition, key): its entry or its
/// removal, whichever wins.
fn local_rec(store: &HstsStore, p: &str, h: &str) -> Option<Rec> {
    let seen = store.get_key(p, h).map(|e| Rec::Seen {
        observed: e.observed.timestamp(),
        expires: e.expires.timestamp(),
        isd: e.include_subdomains,
    });
    let removed = store
        .tombstone_of(p, h)
        .map(|t| Rec::Removed { at: t.timestamp() });
    match (seen, removed) {
        (Some(s), Some(r)) => Some(if wins(r.mark(), s.mark()) { r } else { s }),
        (s, r) => s.or(r),
    }
}

/// Every record of a store.
fn local_state(store: &HstsStore) -> HashMap<Id, Rec> {
    let mut out: HashMap<Id, Rec> = HashMap::with_capacity(store.len());
    for (e, _) in store.iter_with_usage() {
        out.insert(
            (e.partition.unwrap_or("").to_owned(), e.host.to_owned()),
            Rec::Seen {
                observed: e.observed.timestamp(),
                expires: e.expires.timestamp(),
                isd: e.include_subdomains,
            },
        );
    }
    for (p, h, at) in store.tombstones() {
        let r = Rec::Removed { at: at.timestamp() };
        let id = (p.to_owned(), h.to_owned());
        match out.get(&id) {
            Some(cur) if !wins(r.mark(), cur.mark()) => {}
            _ => {
                out.insert(id, r);
            }
        }
    }
    out
}

/// The default interval of an attached sync.
pub const DEFAULT_INTERVAL: StdDuration = StdDuration::from_secs(1);

impl RedisSync {
    /// One round on a shared store: the outbox is read under the read lock,
    /// the network is used with no lock held, and the pulled records are
    /// applied under the write lock, so lookups never wait on Redis.
    pub fn sync_shared(
        &mut self,
        store: &crate::SharedHstsStore,
    ) -> Result<SyncReport, RedisSyncError> {
        let now = store.now();
        let (keys, (changes, pending)) = store.read(|s| (s.keys(), self.outbox(s, now)));
        let (mut report, pulled) = self.exchange(keys, changes, pending, now)?;
        store.write(|s| self.apply(s, pulled, &mut report));
        Ok(report)
    }
}

/// A sync running beside a [`SharedHstsStore`](crate::SharedHstsStore)
/// (see [`SharedHstsStore::attach_sync`](crate::SharedHstsStore::attach_sync)).
/// Dropping it stops the thread (as [`SyncHandle::stop`] does).
#[derive(Debug)]
pub struct SyncHandle {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    last: std::sync::Arc<std::sync::Mutex<Option<Result<SyncReport, String>>>>,
    rounds: std::sync::Arc<std::sync::atomic::AtomicU64>,
    thread: Option<std::thread::JoinHandle<RedisSync>>,
}

impl SyncHandle {
    /// Runs a round now instead of at the end of the interval.
    pub fn sync_now(&self) {
        if let Some(t) = &self.thread {
            t.thread().unpark();
        }
    }

    /// What the last round did, or why it failed (the next round tries
    /// again; the changes wait in the store).
    pub fn last_report(&self) -> Option<Result<SyncReport, String>> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Rounds run so far.
    pub fn rounds(&self) -> u64 {
        self.rounds.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Stops the thread after its current round and gives the sync back.
    pub fn stop(mut self) -> Option<RedisSync> {
        self.halt()
    }

    fn halt(&mut self) -> Option<RedisSync> {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        let t = self.thread.take()?;
        t.thread().unpark();
        t.join().ok()
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        self.halt();
    }
}

impl crate::SharedHstsStore {
    /// Syncs this store with the fleet's through `sync` on a background
    /// thread, a round every `interval` ([`DEFAULT_INTERVAL`]: 1 s) and on
    /// [`SyncHandle::sync_now`]. Lookups stay local (see
    /// [`RedisSync::sync_shared`]). The thread holds a clone of the store
    /// until the handle is stopped or dropped.
    pub fn attach_sync(&self, mut sync: RedisSync, interval: StdDuration) -> SyncHandle {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        use std::sync::{Arc, Mutex};
        let stop = Arc::new(AtomicBool::new(false));
        let last = Arc::new(Mutex::new(None));
        let rounds = Arc::new(AtomicU64::new(0));
        let store = self.clone();
        let (stop2, last2, rounds2) = (stop.clone(), last.clone(), rounds.clone());
        let thread = std::thread::Builder::new()
            .name("hsts-redis-sync".into())
            .spawn(move || {
                while !stop2.load(Ordering::Acquire) {
                    let r = sync.sync_shared(&store).map_err(|e| e.to_string());
                    *last2.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                    rounds2.fetch_add(1, Ordering::AcqRel);
                    let until = std::time::Instant::now() + interval;
                    // Parked until the interval is over, a sync_now or a stop.
                    let left = until.saturating_duration_since(std::time::Instant::now());
                    if !stop2.load(Ordering::Acquire) && !left.is_zero() {
                        std::thread::park_timeout(left);
                    }
                }
                sync
            })
            .expect("spawning the sync thread");
        SyncHandle {
            stop,
            last,
            rounds,
            thread: Some(thread),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_bad_ones_are_errors() {
        for r in [
            Rec::Seen {
                observed: 5,
                expires: 9,
                isd: true,
            },
            Rec::Removed { at: 7 },
        ] {
            assert_eq!(Rec::decode(r.encode().as_bytes()), Ok(r));
        }
        for bad in [
            &b""[..],
            b"hello",
            b"e1 1 2",
            b"e1 2 1 0",
            b"e1 1 2 7",
            b"r1 x",
            b"r1 99999999999999999999",
            b"e1 -99999999999999 1 0",
            b"\xff\xfe",
        ] {
            assert!(Rec::decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_rule_is_the_file_merge_s() {
        let t = |s: i64| Utc.timestamp_opt(1_800_000_000 + s, 0).unwrap();
        let ns = |s: i64, n: u32| Utc.timestamp_opt(1_800_000_000 + s, n).unwrap();
        // Same second: the writer's observation; a removal beats it.
        assert!(wins(Mark::Seen(ns(5, 1)), Mark::Seen(ns(5, 9))));
        assert!(wins(Mark::Removed(ns(5, 1)), Mark::Seen(ns(5, 9))));
        assert!(!wins(Mark::Seen(ns(5, 9)), Mark::Removed(ns(5, 1))));
        // An older write never brings an entry back; a newer one does.
        assert!(!wins(Mark::Seen(t(4)), Mark::Removed(t(5))));
        assert!(wins(Mark::Seen(t(6)), Mark::Removed(t(5))));
        assert!(!wins(Mark::Seen(t(4)), Mark::Seen(t(5))));
    }

    #[test]
    fn members_split_at_the_last_colon() {
        assert_eq!(
            split_member("::1:a.example"),
            Some(("::1".into(), "a.example".into()))
        );
        assert_eq!(
            split_member(":a.example"),
            Some(("".into(), "a.example".into()))
        );
        assert_eq!(split_member("nocolon"), None);
        assert_eq!(glob_escape("a*b[c]"), "a\\*b\\[c\\]");
    }
}

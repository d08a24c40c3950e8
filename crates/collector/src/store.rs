//! Append-only storage of records in one hash chain, on SQLite or PostgreSQL.
//!
//! One code path through `sqlx::Any` serves both; the dialects differ only in their
//! migrations, connection set-up and how an append takes the chain's lock.

use std::ops::{Bound, ControlFlow};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use assent_record::ConsentRecord;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::sync::{mpsc, Notify};

use crate::chain;

mod health;
mod setup_lock;
#[cfg(test)]
pub(crate) mod testing;
mod writer;

/// Where records are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file, created if missing.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl FromStr for Database {
    type Err = StoreError;
    /// `postgres://…`, `postgresql://…`, `sqlite:<path>`, or a bare file path for SQLite.
    fn from_str(value: &str) -> Result<Self, StoreError> {
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            return Ok(Self::Postgres(value.to_owned()));
        }
        let path = value
            .strip_prefix("sqlite://")
            .or_else(|| value.strip_prefix("sqlite:"))
            .unwrap_or(value);
        if path.is_empty()
            || path.contains("://")
            || path.contains('?')
            || path.contains('#')
            || path == ":memory:"
        {
            return Err(StoreError::Url);
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Not a database this collector supports.
    #[error("database must be postgres://…, sqlite:<file> or a file path (no in-memory SQLite: records must survive)")]
    Url,
    /// The SQLite file's directory could not be made.
    #[error("cannot create the database directory: {0}")]
    Directory(std::io::Error),
    /// The lock that lets one process at a time set up the SQLite file was not taken.
    #[error("cannot lock the database for setting up: {0}")]
    SetupLock(std::io::Error),
    /// The database refused or failed.
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The batch holding the record failed for a reason of the database's, not of any one
    /// record (see [`StoreError::Sql`] on the batch's first record for the original).
    #[error("the batch holding this record failed: {0}")]
    BatchFailed(String),
    /// This process's last appends failed for a reason of the database's, and no write has
    /// succeeded since (`GET /healthz`).
    #[error("appends are failing: {0}")]
    AppendsFailing(String),
    /// The process's writer is gone (the runtime is shutting down) before answering: the
    /// append is not acknowledged.
    #[error("the record writer has stopped")]
    WriterStopped,
    /// A bug panicked in the batch that held this append (the log says where), and its
    /// transaction was dropped: not acknowledged, and not to be tried again as if the
    /// database were busy, since the same record would meet the same bug.
    #[error("the append's batch failed on a bug in the writer")]
    WriterPanicked,
    /// The chain's last row has the largest `seq` there can be, which no append of this
    /// collector makes: a row inserted behind it (`verify` shows it). No record can follow.
    #[error("the chain's last row has seq {0}, after which no record can be stored: a row was inserted behind the collector (run verify)")]
    ChainEnd(i64),
    /// A stored body this collector can't read as a record: written by a later version
    /// sharing the database, or changed behind the triggers (`verify` says which). What
    /// is made of the records (a standing, the suppression list, the feed, a webhook) is
    /// not made without it: it may be the person's latest word.
    #[error("the stored record at seq {seq} can't be read by this collector (a later version's, or changed: run verify)")]
    Unreadable {
        /// Its place in the chain.
        seq: i64,
    },
    /// The PostgreSQL database is not in UTF-8: a record's text may be any Unicode, which
    /// such a database refuses (a 500 for each such record) or keeps as bytes it can't read.
    #[error("the PostgreSQL database's encoding is {0}; the collector needs UTF8 (CREATE DATABASE … ENCODING 'UTF8' TEMPLATE template0, with a UTF-8 LC_COLLATE and LC_CTYPE such as 'C.UTF-8')")]
    Encoding(String),
    /// A webhook delivery's outcome came after its claim's lease ran out and another claim
    /// took it over: the outcome is that claim's to write (and to count), not this one's.
    #[error("the webhook delivery at seq {seq} was claimed again once its lease ran out: its outcome is that claim's")]
    LeaseLost {
        /// The change the delivery carries.
        seq: i64,
    },
}

impl StoreError {
    /// Whether the database failed for a while rather than refused this request: a pool
    /// without a free connection, a lost connection, SQLite busy or out of disk, PostgreSQL
    /// shutting down or out of resources, a batch failed for all alike, the writer stopped.
    /// A client may try again later.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::BatchFailed(_) | Self::WriterStopped | Self::AppendsFailing(_) => true,
            Self::Sql(err) => match err {
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
                sqlx::Error::Database(db) => {
                    let postgres = db
                        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                        .is_some();
                    let dialect = if postgres {
                        Dialect::Postgres
                    } else {
                        Dialect::Sqlite
                    };
                    failed_for_a_while(dialect, &db.code().unwrap_or_default())
                }
                _ => false,
            },
            _ => false,
        }
    }
}

/// Whether a database error code is one of failing for a while, for every statement alike,
/// not of refusing one: SQLite BUSY, LOCKED, READONLY (a file or mount made read-only), IOERR,
/// FULL, CANTOPEN (the primary code is the extended one's low byte); PostgreSQL's SQLSTATE
/// classes 08 (connection), 53 (insufficient resources), 57 (operator intervention:
/// shutting down, a statement timeout), 58 (an I/O error) and 40 (a deadlock or
/// serialization failure: try again), 55P03 (a lock not had in time, under an operator's
/// `lock_timeout`), 25006 (a read-only transaction: the address now leads to a standby, as
/// after a failover) and 42501 (the role's rights to the tables taken away). Until the
/// operator has seen to those, a page keeps its record and tries again.
pub(crate) fn failed_for_a_while(dialect: Dialect, code: &str) -> bool {
    match dialect {
        Dialect::Sqlite => matches!(
            code.parse::<i32>().map(|code| code & 0xff),
            Ok(5 | 6 | 8 | 10 | 13 | 14)
        ),
        Dialect::Postgres => {
            ["55P03", "25006", "42501"].contains(&code)
                || ["08", "53", "57", "58", "40"]
                    .iter()
                    .any(|class| code.starts_with(class))
        }
    }
}

/// One stored row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Sequence number, from 1.
    pub seq: i64,
    /// The record id.
    pub record_id: String,
    /// The covered site.
    pub site: String,
    /// HMAC of the subject's address, for identified preferences.
    pub subject: Option<String>,
    /// The record without e-mail, canonical JSON.
    pub body: String,
    /// The digest of `body`.
    pub digest: String,
    /// The previous link.
    pub prev_hash: String,
    /// This row's link.
    pub chain_hash: String,
    /// Server receive time, RFC 3339 UTC.
    pub received_at: String,
    /// The signed receipt.
    pub receipt: String,
}

impl Stored {
    /// The row as the chain verifier sees it.
    pub fn chain_row(&self) -> chain::Row {
        chain::Row {
            seq: self.seq,
            record_id: self.record_id.clone(),
            site: self.site.clone(),
            body: self.body.clone(),
            digest: self.digest.clone(),
            subject: self.subject.clone(),
            prev_hash: self.prev_hash.clone(),
            chain_hash: self.chain_hash.clone(),
            received_at: self.received_at.clone(),
        }
    }
}

/// What an append did.
#[derive(Debug)]
pub enum Appended {
    /// Stored now.
    Created(Stored),
    /// The same record was already stored: here it is.
    Existing(Stored),
    /// The id is stored with different content.
    Conflict,
    /// The append's [`IfNewest`] did not hold: something was stored for the subject since
    /// the caller read it. Nothing was stored.
    Stale,
}

/// A condition on an append: the subject's newest stored row is still the one the caller
/// built the record from (its `seq`; `None`: the subject had no row). Checked under the
/// chain's lock, so no append of any process can come in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfNewest(pub Option<i64>);

/// What the signer gets to see of a new row.
#[derive(Debug)]
pub struct NewRow<'a> {
    /// The stored record (no e-mail).
    pub record: &'a ConsentRecord,
    /// Its sequence number.
    pub seq: i64,
    /// Its link.
    pub chain_hash: &'a str,
    /// Receive time.
    pub received_at: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// The record store.
#[derive(Debug)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    // This process's one appender (group commit), started by the first append: by then
    // `with_webhooks` has had its say.
    writer: OnceLock<mpsc::Sender<writer::Job>>,
    // Whether an append also queues a webhook delivery of its change.
    queue_webhooks: bool,
    // Wakes this process's webhook worker when an append queued a delivery.
    webhook_queued: Arc<Notify>,
    // Whether this process's appends are failing, as its writer found.
    health: Arc<health::WriteHealth>,
}

const COLUMNS: &str =
    "seq, record_id, site, subject, body, digest, prev_hash, chain_hash, received_at, receipt";

impl Store {
    /// Opens the database for serving: creates an SQLite file if missing, puts it in WAL
    /// mode, and applies migrations, one process at a time (`setup_lock`).
    pub async fn open(database: &Database) -> Result<Self, StoreError> {
        let _setup = match database {
            Database::Sqlite(path) => {
                create_parent(path).map_err(StoreError::Directory)?;
                Some(
                    setup_lock::SetupLock::acquire(path)
                        .await
                        .map_err(StoreError::SetupLock)?,
                )
            }
            Database::Postgres(_) => None,
        };
        let (pool, dialect) = connect(database, true).await?;
        match dialect {
            Dialect::Sqlite => {
                // WAL is a property of the file. Switching to it takes a lock that
                // busy_timeout does not wait for, so switch once, from one connection, and
                // only if needed.
                let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                    .fetch_one(&pool)
                    .await?;
                if !mode.eq_ignore_ascii_case("wal") {
                    let now: String = sqlx::query_scalar("PRAGMA journal_mode = WAL")
                        .fetch_one(&pool)
                        .await?;
                    // SQLite keeps the old mode where WAL can't be had (a file system
                    // without shared memory): still durable, but readers then wait for
                    // the writer, and the operator should know.
                    if !now.eq_ignore_ascii_case("wal") {
                        tracing::warn!(
                            journal_mode = now,
                            "the SQLite file could not be switched to WAL"
                        );
                    }
                }
                sqlx::migrate!("./migrations/sqlite").run(&pool).await?
            }
            Dialect::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        Ok(Self::new(pool, dialect))
    }

    /// Opens an existing database for reading (`export`, `verify`): changes nothing in it,
    /// and a wrong SQLite path is an error rather than a new empty file.
    pub async fn open_existing(database: &Database) -> Result<Self, StoreError> {
        let (pool, dialect) = connect(database, false).await?;
        Ok(Self::new(pool, dialect))
    }

    fn new(pool: AnyPool, dialect: Dialect) -> Self {
        Self {
            pool,
            dialect,
            writer: OnceLock::new(),
            queue_webhooks: false,
            webhook_queued: Arc::new(Notify::new()),
            health: Arc::default(),
        }
    }

    /// From now on every append of a record with a subject also queues its webhook
    /// delivery, in the record's own transaction (`crate::webhook`).
    pub fn with_webhooks(mut self) -> Self {
        self.queue_webhooks = true;
        self
    }

    /// Notified after an append in this process queued a webhook delivery.
    pub fn webhook_queued(&self) -> &Notify {
        &self.webhook_queued
    }

    /// Which database it is, for the few statements whose best form differs.
    pub(crate) fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The pool, for the modules that keep their own tables (the webhook queue).
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A transaction that reads and then writes. On SQLite it takes the write lock at
    /// once (`BEGIN IMMEDIATE`), waiting for another connection's as long as the busy
    /// timeout allows: begun deferred, it read from a snapshot that another connection's
    /// commit meanwhile made stale (a `serve` writes each second), and its first write then
    /// failed at once, whatever the timeout.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Dialect::Postgres => self.pool.begin().await?,
        })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Appends `record` (already stripped of e-mail) unless its id is stored, and only if
    /// `if_newest` holds when given; `sign` makes the receipt for a new row. Answers once
    /// the commit that holds the row is on disk.
    ///
    /// The append goes to this process's writer (`writer`), which commits the appends
    /// waiting at the time together: one transaction, one sync.
    pub async fn append(
        &self,
        record: &ConsentRecord,
        subject: Option<String>,
        if_newest: Option<IfNewest>,
        sign: impl Fn(NewRow<'_>) -> String + Send + Sync + 'static,
    ) -> Result<Appended, StoreError> {
        let (job, answer) = writer::Job::new(record.clone(), subject, if_newest, Box::new(sign));
        let jobs = self.writer.get_or_init(|| writer::spawn(self.chain()));
        jobs.send(job)
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| {
            // Dropped unanswered: the writer has stopped, or, while it goes on, a panic
            // took down this append's batch.
            if jobs.is_closed() {
                StoreError::WriterStopped
            } else {
                StoreError::WriterPanicked
            }
        })?
    }

    /// What the writer needs of this store.
    fn chain(&self) -> writer::Chain {
        writer::Chain {
            pool: self.pool.clone(),
            dialect: self.dialect,
            queue_webhooks: self.queue_webhooks,
            webhook_queued: self.webhook_queued.clone(),
            health: self.health.clone(),
        }
    }

    /// The stored row of a record id.
    pub async fn get(&self, record_id: &str) -> Result<Option<Stored>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM records WHERE record_id = $1"
        ))
        .bind(record_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Up to `limit` rows after `after_seq`, in order (rows sharing a seq, which only a
    /// tampered table has, by record id); `subject` narrows to one subject.
    pub async fn page(
        &self,
        after_seq: i64,
        limit: i64,
        subject: Option<&str>,
    ) -> Result<Vec<Stored>, StoreError> {
        self.page_from(Bound::Excluded(after_seq), limit, subject)
            .await
    }

    /// [`Store::page`] from `from`, which may include its seq.
    async fn page_from(
        &self,
        from: Bound<i64>,
        limit: i64,
        subject: Option<&str>,
    ) -> Result<Vec<Stored>, StoreError> {
        let (op, after_seq) = match from {
            Bound::Included(seq) => (">=", seq),
            Bound::Excluded(seq) => (">", seq),
            Bound::Unbounded => (">=", i64::MIN),
        };
        let sql = page_sql(op, subject.is_some());
        let rows = match subject {
            Some(subject) => {
                sqlx::query(&sql)
                    .bind(after_seq)
                    .bind(subject)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query(&sql)
                    .bind(after_seq)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(from_row).collect()
    }

    /// Up to `limit` rows that have a subject (the changes) after `after_seq`, in order.
    ///
    /// Reading these pages one after another skips and repeats nothing even while records
    /// arrive: an append holds the chain's write lock (`BEGIN IMMEDIATE` on SQLite, an
    /// advisory lock on PostgreSQL) from reading the last `seq` until its commit, so seq n+1 is only
    /// chosen after seq n is committed, and `seq` order is commit order. A reader that saw
    /// seq n therefore never later finds a new row below n.
    pub async fn changes(&self, after_seq: i64, limit: i64) -> Result<Vec<Stored>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM records WHERE seq > $1 AND subject IS NOT NULL ORDER BY seq LIMIT $2"
        ))
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Calls `visit` on every row in chain order (only one subject's with `subject`), a
    /// page at a time so memory stays bounded; stops at the first `Break` and returns it.
    pub async fn scan<B>(
        &self,
        subject: Option<&str>,
        visit: impl FnMut(Stored) -> ControlFlow<B>,
    ) -> Result<Option<B>, StoreError> {
        self.scan_in_pages(subject, 1000, visit).await
    }

    /// [`Store::scan`], `size` rows a page.
    async fn scan_in_pages<B>(
        &self,
        subject: Option<&str>,
        size: usize,
        mut visit: impl FnMut(Stored) -> ControlFlow<B>,
    ) -> Result<Option<B>, StoreError> {
        // From the lowest: a row slipped in at seq 0 (or below, down to i64::MIN), which the
        // schema refuses, is visited too, and the chain's walk finds it out of sequence.
        // Each page after the first starts at the last one's last seq again and passes over
        // the rows of it visited already: rows sharing a seq (a table whose keys were
        // dropped, then written to) are all visited, at a page's edge too, and the walk
        // finds them out of sequence (verify, export).
        let mut from = Bound::Unbounded;
        let mut after = i64::MIN;
        let mut seen_at_last = 0;
        loop {
            let limit = i64::try_from(size + seen_at_last).unwrap_or(i64::MAX);
            let page: Vec<Stored> = self
                .page_from(from, limit, subject)
                .await?
                .into_iter()
                .skip(seen_at_last)
                .collect();
            let Some(last) = page.last().map(|row| row.seq) else {
                return Ok(None);
            };
            let at_last = page.iter().rev().take_while(|row| row.seq == last).count();
            seen_at_last = if last == after && seen_at_last > 0 {
                seen_at_last + at_last
            } else {
                at_last
            };
            after = last;
            from = if seen_at_last == 0 {
                Bound::Excluded(after)
            } else {
                Bound::Included(after)
            };
            for stored in page {
                if let ControlFlow::Break(value) = visit(stored) {
                    return Ok(Some(value));
                }
            }
        }
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Checks that the database answers, and that this process's appends are not failing
    /// for a reason of the database's (`store::health`).
    pub async fn health(&self) -> Result<(), StoreError> {
        self.ping().await?;
        match self.health.failing() {
            Some(reason) => Err(StoreError::AppendsFailing(reason)),
            None => Ok(()),
        }
    }
}

/// Makes the directory a new file goes in, so `--database .demo/assent.db` just works.
pub(crate) fn create_parent(path: &std::path::Path) -> std::io::Result<()> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent),
        _ => Ok(()),
    }
}

/// The file named, as sqlx is to open it. sqlx reads `sqlite:<path>` as a URL, which would
/// take `//var/x.db` for the file `var/x.db` under a host, and `a/b/../x.db` for `a/x.db`
/// where `b` is a link elsewhere: the directory is resolved as the system resolves it,
/// into an absolute name without either. When it does not exist (a reading command given
/// a wrong path), the name only loses extra leading slashes, and the file is not found.
fn resolved(path: &Path) -> PathBuf {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    match (std::fs::canonicalize(dir), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        // `//x` is `/x` to the system.
        _ => match path.to_string_lossy().strip_prefix("//") {
            Some(rest) => PathBuf::from(format!("/{}", rest.trim_start_matches('/'))),
            None => path.to_owned(),
        },
    }
}

/// A pool on `database`; `create` lets SQLite make the file (`Store::open` has made its
/// directory).
async fn connect(database: &Database, create: bool) -> Result<(AnyPool, Dialect), StoreError> {
    sqlx::any::install_default_drivers();
    let (url, dialect, max) = match database {
        Database::Sqlite(path) => {
            let mode = if create { "rwc" } else { "rw" };
            // sqlx percent-decodes the file name and reads `?` and `#` as URL parts: the
            // three are encoded, so it opens the file the setup lock and the directory are
            // made for (a path read from the command line is UTF-8).
            let file = resolved(path)
                .to_string_lossy()
                .replace('%', "%25")
                .replace('?', "%3F")
                .replace('#', "%23");
            (format!("sqlite:{file}?mode={mode}"), Dialect::Sqlite, 4)
        }
        Database::Postgres(url) => (url.clone(), Dialect::Postgres, 8),
    };
    let pool = AnyPoolOptions::new()
        .max_connections(max)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                // Acknowledged means on disk: a WAL sync on every commit, whatever the
                // file or the server was tuned to.
                match dialect {
                    Dialect::Sqlite => {
                        // On macOS, fsync() leaves the drive's write cache unflushed:
                        // F_FULLFSYNC instead, for commits and checkpoints (elsewhere the
                        // two settings change nothing).
                        conn.execute(
                            "PRAGMA synchronous = FULL; PRAGMA fullfsync = ON; \
                             PRAGMA checkpoint_fullfsync = ON",
                        )
                        .await?;
                    }
                    Dialect::Postgres => {
                        // Only `off` answers before the flush; the stronger replication
                        // levels (`remote_write`, `remote_apply`) stay as configured.
                        let level: String = sqlx::query_scalar("SHOW synchronous_commit")
                            .fetch_one(&mut *conn)
                            .await?;
                        if level == "off" {
                            conn.execute("SET synchronous_commit = on").await?;
                        }
                        // Read committed, whatever the database's or role's default: an
                        // append reads the chain's last row after waiting for its lock,
                        // and a webhook claim skips rows others hold; under repeatable
                        // read the one would read an older row, the other fail to
                        // serialise.
                        conn.execute(
                            "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED",
                        )
                        .await?;
                    }
                }
                Ok(())
            })
        })
        .connect(&url)
        .await?;
    // Only for writing: what a LATIN1 database holds can still be read (export, verify)
    // on the way to moving it.
    if create && dialect == Dialect::Postgres {
        let encoding: String = sqlx::query_scalar("SHOW server_encoding")
            .fetch_one(&pool)
            .await?;
        if encoding != "UTF8" {
            pool.close().await;
            return Err(StoreError::Encoding(encoding));
        }
    }
    Ok((pool, dialect))
}

fn from_row(row: &AnyRow) -> Result<Stored, StoreError> {
    Ok(Stored {
        seq: row.try_get("seq")?,
        record_id: row.try_get("record_id")?,
        site: row.try_get("site")?,
        subject: row.try_get("subject")?,
        body: row.try_get("body")?,
        digest: row.try_get("digest")?,
        prev_hash: row.try_get("prev_hash")?,
        chain_hash: row.try_get("chain_hash")?,
        received_at: row.try_get("received_at")?,
        receipt: row.try_get("receipt")?,
    })
}

/// The receive time: UTC, RFC 3339, milliseconds.
fn now_rfc3339() -> String {
    let now = OffsetDateTime::now_utc();
    let now = now.replace_millisecond(now.millisecond()).unwrap_or(now);
    now.format(&Rfc3339)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}

/// [`Store::page_from`]'s query: rows whose seq is `op` `$1`, one subject's (`$2`) with
/// `of_subject`, in chain order (rows sharing a seq, which only a tampered table has, by
/// record id), at most the last parameter's many.
fn page_sql(op: &str, of_subject: bool) -> String {
    if of_subject {
        format!("SELECT {COLUMNS} FROM records WHERE seq {op} $1 AND subject = $2 ORDER BY seq, record_id LIMIT $3")
    } else {
        format!("SELECT {COLUMNS} FROM records WHERE seq {op} $1 ORDER BY seq, record_id LIMIT $2")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page of one person's rows is read by an index in chain order, not by fetching
    /// and sorting all of that person's rows for each page (PostgreSQL with the subject
    /// alone indexed: a person's whole history read again for every 1,000 rows of it).
    async fn a_persons_page_needs_no_sort(store: Store) {
        // PostgreSQL told to avoid reading the table whole, as on a table of many people.
        let (explain, column, avoided): (_, usize, &[&str]) = match store.dialect() {
            Dialect::Sqlite => ("EXPLAIN QUERY PLAN", 3, &[]),
            Dialect::Postgres => ("EXPLAIN", 0, &["enable_seqscan", "enable_bitmapscan"]),
        };
        let mut connection = store.pool.acquire().await.unwrap();
        for setting in avoided {
            let set = format!("SET {setting} = off");
            sqlx::query(&set).execute(&mut *connection).await.unwrap();
        }
        let rows = sqlx::query(&format!("{explain} {}", page_sql(">", true)))
            .bind(0_i64)
            .bind("hmac-sha256:0")
            .bind(1000_i64)
            .fetch_all(&mut *connection)
            .await
            .unwrap();
        for setting in avoided {
            let reset = format!("RESET {setting}");
            sqlx::query(&reset).execute(&mut *connection).await.unwrap();
        }
        let plan: Vec<String> = rows.iter().map(|row| row.get(column)).collect();
        // PostgreSQL's Sort and Incremental Sort nodes (and their Sort Key lines), SQLite's
        // temporary B-tree for an ORDER BY.
        let sorted = |line: &String| line.contains("Sort") || line.contains("TEMP B-TREE");
        assert!(!plan.iter().any(sorted), "{plan:#?}");
        assert!(
            plan.iter().any(|line| line.contains("records_subject")),
            "{plan:#?}"
        );
    }

    testing::on_both_databases!(a_persons_page_needs_no_sort);

    /// The file opened is the one named, whatever URL syntax its name holds.
    #[tokio::test]
    async fn a_sqlite_path_with_url_characters_opens_that_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a%20b?c#d/records.db");
        let store = Store::open(&Database::Sqlite(path.clone())).await.unwrap();
        store.ping().await.unwrap();
        store.close().await;
        assert!(path.is_file(), "{} was not created", path.display());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a%20b?c#d"], "no other directory or file");
    }

    /// sqlx reads the name as a URL; the file opened is still the one the system names.
    #[tokio::test]
    async fn a_sqlite_path_with_leading_slashes_or_a_link_then_dot_dot_opens_that_file() {
        let dir = tempfile::tempdir().unwrap();
        let dir = std::fs::canonicalize(dir.path()).unwrap();
        // `//tmp/…/slashes.db`, which a URL reads as the host `tmp`.
        let slashes = PathBuf::from(format!("/{}", dir.join("slashes.db").display()));
        let store = Store::open(&Database::Sqlite(slashes)).await.unwrap();
        store.ping().await.unwrap();
        store.close().await;
        assert!(dir.join("slashes.db").is_file());

        // `link/../dotted.db`, where `link` is `real/sub`: the system's `real/dotted.db`,
        // not the `dotted.db` next to `link` that folding the name would give.
        std::fs::create_dir_all(dir.join("real/sub")).unwrap();
        std::os::unix::fs::symlink(dir.join("real/sub"), dir.join("link")).unwrap();
        let dotted = dir.join("link/../dotted.db");
        let store = Store::open(&Database::Sqlite(dotted)).await.unwrap();
        store.close().await;
        assert!(dir.join("real/dotted.db").is_file());
        assert!(!dir.join("dotted.db").exists());

        // A reading command given a directory that does not exist finds no file.
        let missing = PathBuf::from(format!("/{}", dir.join("none/records.db").display()));
        assert!(Store::open_existing(&Database::Sqlite(missing))
            .await
            .is_err());
    }

    #[tokio::test]
    async fn a_scan_visits_rows_that_share_a_seq_at_a_pages_edge() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Database::Sqlite(dir.path().join("records.db")))
            .await
            .unwrap();
        for n in 1..=4 {
            let mut value: serde_json::Value =
                serde_json::from_str(include_str!("../tests/data/record.json")).unwrap();
            value["record_id"] = format!("00000000-0000-4000-8000-{n:012}").into();
            let record = serde_json::from_value(value).unwrap();
            store
                .append(&record, None, None, |_| String::new())
                .await
                .unwrap();
        }
        // The table as someone with the file could remake it, without its keys and
        // triggers, and a second row at seq 2: pages of two rows end between the two.
        // (On one connection: the pool's others would still know the table as it was.)
        let mut conn = store.pool().acquire().await.unwrap();
        for statement in [
            "CREATE TABLE loose AS SELECT * FROM records",
            "ALTER TABLE records RENAME TO keyed",
            "ALTER TABLE loose RENAME TO records",
            "INSERT INTO records SELECT * FROM keyed WHERE seq = 2",
            "UPDATE records SET record_id = 'slipped-in' WHERE rowid = (SELECT max(rowid) FROM records)",
        ] {
            sqlx::query(statement).execute(&mut *conn).await.unwrap();
        }
        drop(conn);
        let mut visited = Vec::new();
        let none = store
            .scan_in_pages(None, 2, |row| {
                visited.push((row.seq, row.record_id));
                ControlFlow::<()>::Continue(())
            })
            .await
            .unwrap();
        assert!(none.is_none());
        let seqs: Vec<i64> = visited.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(seqs, [1, 2, 2, 3, 4]);
        assert_eq!(visited[2].1, "slipped-in");
        // And so the chain's walk (verify) finds it, whatever the page size.
        let broken = crate::commands::walk(&store, None).await.unwrap();
        assert_eq!(broken.map_err(|at| at.seq), Err(2));
        // A row at the lowest seq there is, twice, is visited first, both times.
        let mut conn = store.pool().acquire().await.unwrap();
        for id in ["lowest", "lowest again"] {
            sqlx::query(&format!(
                "INSERT INTO records SELECT {min}, '{id}', site, subject, body, digest, prev_hash, \
                 chain_hash, received_at, receipt FROM keyed WHERE seq = 1",
                min = i64::MIN
            ))
            .execute(&mut *conn)
            .await
            .unwrap();
        }
        drop(conn);
        let mut visited = Vec::new();
        store
            .scan_in_pages(None, 1, |row| {
                visited.push(row.seq);
                ControlFlow::<()>::Continue(())
            })
            .await
            .unwrap();
        assert_eq!(visited, [i64::MIN, i64::MIN, 1, 2, 2, 3, 4]);
        let broken = crate::commands::walk(&store, None).await.unwrap();
        assert_eq!(broken.map_err(|at| at.seq), Err(i64::MIN));
    }

    #[test]
    fn database_codes_of_failing_for_a_while() {
        // Connection lost, admin shutdown, too many connections, statement timeout,
        // serialization failure, deadlock, lock not available (lock_timeout), I/O error, a
        // standby's read-only transaction, rights taken away.
        for code in [
            "08006", "57P01", "53300", "57014", "40001", "40P01", "55P03", "58030", "25006",
            "42501",
        ] {
            assert!(failed_for_a_while(Dialect::Postgres, code), "{code}");
        }
        // Unique violation, check violation, object in use: this statement refused.
        for code in ["23505", "23514", "55006"] {
            assert!(!failed_for_a_while(Dialect::Postgres, code), "{code}");
        }
        // BUSY, BUSY_SNAPSHOT (517), FULL, READONLY, READONLY_DBMOVED (1032).
        for code in ["5", "517", "13", "8", "1032"] {
            assert!(failed_for_a_while(Dialect::Sqlite, code), "{code}");
        }
        // CONSTRAINT_UNIQUE (2067), CONSTRAINT_CHECK (275).
        for code in ["2067", "275"] {
            assert!(!failed_for_a_while(Dialect::Sqlite, code), "{code}");
        }
    }

    /// The `synchronous_commit` of a store's session, after the role's default is `level`.
    async fn store_level_under(url: &str, level: &str) -> String {
        let admin = AnyPool::connect(url).await.unwrap();
        sqlx::query(&format!(
            "ALTER ROLE CURRENT_USER SET synchronous_commit = {level}"
        ))
        .execute(&admin)
        .await
        .unwrap();
        let plain: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(&AnyPool::connect(url).await.unwrap())
            .await
            .unwrap();
        assert_eq!(plain, level, "the role's default applies to new sessions");
        let store = Store::open(&Database::Postgres(url.to_owned()))
            .await
            .unwrap();
        let setting = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(store.pool())
            .await
            .unwrap();
        store.close().await;
        setting
    }

    #[tokio::test]
    async fn sqlite_commits_are_flushed_on_macos_too() {
        // (`synchronous` is FULL by SQLite's own default as built here, so only these two
        // would read otherwise without the store's settings.)
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("assent.db");
        let store = Store::open(&Database::Sqlite(path)).await.unwrap();
        for (pragma, on) in [("fullfsync", 1), ("checkpoint_fullfsync", 1)] {
            let value: i64 = sqlx::query_scalar(&format!("PRAGMA {pragma}"))
                .fetch_one(store.pool())
                .await
                .unwrap();
            assert_eq!(value, on, "{pragma}");
        }
        store.close().await;
    }

    #[tokio::test]
    async fn postgres_commits_are_on_disk_whatever_the_server_default() {
        let pg = assent_temp_postgres::TempPostgres::start();
        sqlx::any::install_default_drivers();
        // An operator's tuning that would acknowledge records before they are on disk.
        assert_eq!(store_level_under(&pg.url, "off").await, "on");
        // A stronger level, for replication, is kept.
        assert_eq!(
            store_level_under(&pg.url, "remote_apply").await,
            "remote_apply"
        );
    }
}

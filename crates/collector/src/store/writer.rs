//! Group commit: the one task in a process that appends to the chain.
//!
//! Every append of the process queues here. The writer takes whatever is waiting (up to
//! [`MAX_BATCH`]), appends it in arrival order in ONE transaction under the chain's lock,
//! commits once, and only then answers each waiter. A commit costs one sync of the disk
//! whether it holds one record or a hundred, so under load the syncs are shared instead
//! of queued one behind the other. Each row is still chained, numbered and signed in turn
//! exactly as a lone append would be, and an acknowledgement is still only sent once the
//! commit that holds its row is on disk.

use std::collections::HashMap;
use std::sync::Arc;

use assent_record::ConsentRecord;
use sqlx::{AnyPool, Row};
use tokio::sync::{mpsc, oneshot, Notify};

use super::health::{self, WriteHealth, PROBE_EVERY};
use super::{
    failed_for_a_while, from_row, now_rfc3339, Appended, Dialect, IfNewest, NewRow, StoreError,
    Stored, COLUMNS,
};
use crate::chain;

/// Most appends committed together: bounds a transaction's size (and its statements'
/// parameters: 10 a row, far below either database's limit).
pub(crate) const MAX_BATCH: usize = 128;

/// The PostgreSQL advisory lock key of the chain's writer, in every process on one
/// database: "assent:c" as a big-endian i64. (sqlx's migrator keys its own lock on the
/// database's name, through a CRC32: never this one.)
const CHAIN_LOCK: i64 = i64::from_be_bytes(*b"assent:c");

/// PostgreSQL: takes the chain's lock for the transaction; makes its commit wait for the
/// flush if the session's `synchronous_commit` is `off` (the replication levels, which wait
/// longer, stay); and, where the server or role sets no limit, has the server end the
/// transaction if it sits idle for a minute (its collector died or was cut off holding the
/// lock, every other process's appends waiting behind it, until the server noticed the
/// dead socket: two hours, with default keepalives). Both for this transaction only, which
/// a pooler in transaction mode keeps to it.
const LOCK_CHAIN: &str = "SELECT pg_advisory_xact_lock($1), \
     CASE WHEN current_setting('synchronous_commit') = 'off' \
     THEN set_config('synchronous_commit', 'on', true) END, \
     CASE WHEN current_setting('idle_in_transaction_session_timeout') = '0' \
     THEN set_config('idle_in_transaction_session_timeout', '1min', true) END";

/// Appends waiting for the writer beyond this make their callers wait to queue.
const QUEUE: usize = 4 * MAX_BATCH;

/// Makes a new row's receipt.
pub(crate) type Sign = Box<dyn Fn(NewRow<'_>) -> String + Send + Sync>;

/// One append waiting for its answer.
pub(crate) struct Job {
    record: ConsentRecord,
    record_id: String,
    body: String,
    digest: String,
    subject: Option<String>,
    if_newest: Option<IfNewest>,
    sign: Sign,
    reply: oneshot::Sender<Result<Appended, StoreError>>,
}

impl Job {
    /// An append of `record` (without e-mail) under `subject`, if `if_newest` holds; the
    /// answer comes on the returned receiver once its commit is on disk (or it failed).
    pub(crate) fn new(
        record: ConsentRecord,
        subject: Option<String>,
        if_newest: Option<IfNewest>,
        sign: Sign,
    ) -> (Self, oneshot::Receiver<Result<Appended, StoreError>>) {
        // Serialising and hashing happen here, in the caller's task, not in the writer.
        let record_id = record.record_id.hyphenated().to_string();
        let body = record.canonical_json();
        let digest = record.digest().to_string();
        let (reply, answer) = oneshot::channel();
        let job = Self {
            record,
            record_id,
            body,
            digest,
            subject,
            if_newest,
            sign,
            reply,
        };
        (job, answer)
    }
}

/// What the writer needs of the store.
#[derive(Debug, Clone)]
pub(crate) struct Chain {
    pub(crate) pool: AnyPool,
    pub(crate) dialect: Dialect,
    pub(crate) queue_webhooks: bool,
    pub(crate) webhook_queued: Arc<Notify>,
    pub(crate) health: Arc<WriteHealth>,
}

/// Starts the writer of `chain`; it ends when the returned sender is dropped.
pub(crate) fn spawn(chain: Chain) -> mpsc::Sender<Job> {
    let (jobs, mut queue) = mpsc::channel::<Job>(QUEUE);
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        loop {
            // While appends fail, a probe write each second without one (recv_many is
            // cancel safe: a timeout loses no job).
            let received = if chain.health.failing().is_some() {
                match tokio::time::timeout(PROBE_EVERY, queue.recv_many(&mut batch, MAX_BATCH))
                    .await
                {
                    Ok(received) => received,
                    Err(_) => {
                        match chain.probe().await {
                            Ok(()) => chain.health.committed(),
                            Err(err) => chain.health.failed(err.to_string()),
                        }
                        continue;
                    }
                }
            } else {
                queue.recv_many(&mut batch, MAX_BATCH).await
            };
            if received == 0 {
                break;
            }
            let (settling, jobs) = (chain.clone(), std::mem::take(&mut batch));
            // In a task of its own so that a bug panicking in one batch fails that batch's
            // appends (their answers are dropped: StoreError::WriterPanicked, a 500) and not
            // every later one.
            if let Err(err) = tokio::spawn(async move { settling.settle(jobs).await }).await {
                tracing::error!(%err, "a batch of appends failed");
            }
        }
    });
    jobs
}

impl Chain {
    /// Appends `batch` and answers each of its jobs.
    ///
    /// When the database refuses a statement of the batch's transaction, its jobs are
    /// appended again one at a time, so a record the database refuses fails alone; when it
    /// fails for all alike (no connection, busy, going away), they all fail at once rather
    /// than each after the same wait. A job is answered `Ok` only after a commit that holds
    /// its row (or the row it repeats) succeeded.
    pub(crate) async fn settle(&self, batch: Vec<Job>) {
        let outcomes = match self.append_all(&batch).await {
            Ok(outcomes) => outcomes,
            Err(err) if batch.len() == 1 || !refused_a_statement(self.dialect, &err) => {
                let reason = err.to_string();
                self.note_failure(&err);
                let mut outcomes = vec![Err(err)];
                outcomes.resize_with(batch.len(), || Err(StoreError::BatchFailed(reason.clone())));
                answer(batch, outcomes);
                return;
            }
            Err(err) => {
                tracing::warn!(%err, size = batch.len(), "a batch of appends failed; appending its records one by one");
                self.settle_one_by_one(batch).await;
                return;
            }
        };
        self.health.committed();
        answer(batch, outcomes.into_iter().map(Ok).collect());
    }

    /// Appends each job of a batch the database refused in a transaction of its own, and
    /// answers it as soon as that commit is done (a later job can't take its answer down
    /// with it). Once one fails for all alike, the rest fail at once, not each after the
    /// same wait.
    async fn settle_one_by_one(&self, batch: Vec<Job>) {
        let mut jobs = batch.into_iter();
        while let Some(job) = jobs.next() {
            let outcome = self
                .append_all(std::slice::from_ref(&job))
                .await
                .map(|mut one| one.remove(0));
            let for_all = match &outcome {
                Ok(_) => {
                    self.health.committed();
                    None
                }
                Err(err) if !refused_a_statement(self.dialect, err) => {
                    self.note_failure(err);
                    Some(err.to_string())
                }
                Err(_) => None,
            };
            let _ = job.reply.send(outcome);
            if let Some(reason) = for_all {
                for job in jobs.by_ref() {
                    let _ = job.reply.send(Err(StoreError::BatchFailed(reason.clone())));
                }
            }
        }
    }

    /// A batch failed with `err` for all alike: where the database is failing for a while
    /// (out of disk, read-only, busy, unreachable), which the probe can tell the end of,
    /// appends are failing (said before the answers go, so a health check after a refused
    /// append says so too); a bug's or a tampered chain's error is the log's.
    fn note_failure(&self, err: &StoreError) {
        if err.is_transient() {
            self.health.failed(err.to_string());
        }
    }

    /// A transaction of the chain's writer: other processes may append too, and one writer
    /// at a time keeps one chain. Readers (receipts, export, verify) are not blocked. The
    /// `seq` primary key refuses a fork even if this were bypassed.
    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Dialect::Postgres => {
                // Read committed whatever the database's or role's default (as every
                // connection is set, Store::open; said here too, as a pooler in transaction
                // mode keeps no session setting): under repeatable read the chain's last row
                // would be read from a snapshot taken before the lock's wait.
                let mut tx = self
                    .pool
                    .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
                    .await?;
                // An advisory lock, held to the commit: a lock on the table itself would
                // wait behind (auto)vacuum and ANALYZE, and an anti-wraparound vacuum,
                // which PostgreSQL never cancels, would hold every append for its run.
                // And `synchronous_commit` on for this transaction where the session has it
                // off: Store::open sets it as a session opens, but a configuration reload
                // turns an open session's off too, and a pooler in transaction mode hands
                // out other sessions; a commit would then answer before it is on disk.
                sqlx::query(LOCK_CHAIN)
                    .bind(CHAIN_LOCK)
                    .execute(&mut *tx)
                    .await?;
                tx
            }
        })
    }

    /// The probe of [`WriteHealth`]: a transaction as an append's (the chain's lock, a
    /// read of its last row, a commit synced like an append's) that writes one row of
    /// `health_probe` instead of records.
    async fn probe(&self) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("SELECT seq FROM records ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        health::probe(&mut tx, crate::webhook::queue::now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Appends `jobs` in order in one transaction under the chain's lock and commits:
    /// one outcome per job. A repeated id, stored before or earlier in `jobs`, is
    /// `Existing` with the same digest and subject and `Conflict` otherwise.
    async fn append_all(&self, jobs: &[Job]) -> Result<Vec<Appended>, StoreError> {
        let mut tx = self.begin().await?;
        let mut known = self.stored_among(&mut tx, jobs).await?;
        let last = sqlx::query("SELECT seq, chain_hash FROM records ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        let (mut seq, mut prev_hash) = match last {
            Some(row) => (row.try_get::<i64, _>(0)?, row.try_get::<String, _>(1)?),
            None => (0, chain::GENESIS.to_owned()),
        };

        let mut outcomes = Vec::with_capacity(jobs.len());
        let mut created: Vec<Stored> = Vec::new();
        for job in jobs {
            if let Some(stored) = known.get(&job.record_id) {
                outcomes.push(
                    if stored.digest == job.digest && stored.subject == job.subject {
                        Appended::Existing(stored.clone())
                    } else {
                        Appended::Conflict
                    },
                );
                continue;
            }
            if let (Some(IfNewest(expected)), Some(subject)) = (job.if_newest, &job.subject) {
                let newest = match created
                    .iter()
                    .rev()
                    .find(|s| s.subject.as_ref() == Some(subject))
                {
                    Some(earlier_in_batch) => Some(earlier_in_batch.seq),
                    None => {
                        sqlx::query_scalar("SELECT MAX(seq) FROM records WHERE subject = $1")
                            .bind(subject)
                            .fetch_one(&mut *tx)
                            .await?
                    }
                };
                if newest != expected {
                    outcomes.push(Appended::Stale);
                    continue;
                }
            }
            seq = seq.checked_add(1).ok_or(StoreError::ChainEnd(seq))?;
            let received_at = now_rfc3339();
            let chain_hash = chain::link(
                &prev_hash,
                seq,
                &received_at,
                job.subject.as_deref(),
                &job.digest,
            );
            let receipt = (job.sign)(NewRow {
                record: &job.record,
                seq,
                chain_hash: &chain_hash,
                received_at: &received_at,
            });
            let stored = Stored {
                seq,
                record_id: job.record_id.clone(),
                site: job.record.site.to_string(),
                subject: job.subject.clone(),
                body: job.body.clone(),
                digest: job.digest.clone(),
                prev_hash: std::mem::replace(&mut prev_hash, chain_hash.clone()),
                chain_hash,
                received_at,
                receipt,
            };
            known.insert(stored.record_id.clone(), stored.clone());
            created.push(stored.clone());
            outcomes.push(Appended::Created(stored));
        }

        insert(&mut tx, &created).await?;
        let mut queued = false;
        if self.queue_webhooks {
            for stored in created.iter().filter(|s| s.subject.is_some()) {
                crate::webhook::queue::insert(&mut tx, stored.seq).await?;
                queued = true;
            }
        }
        tx.commit().await?;
        if queued {
            self.webhook_queued.notify_one();
        }
        Ok(outcomes)
    }

    /// The stored rows of the jobs' record ids, by id.
    async fn stored_among(
        &self,
        conn: &mut sqlx::AnyConnection,
        jobs: &[Job],
    ) -> Result<HashMap<String, Stored>, StoreError> {
        let mut ids: Vec<&str> = jobs.iter().map(|job| job.record_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let sql = format!(
            "SELECT {COLUMNS} FROM records WHERE record_id IN ({})",
            placeholders(1, ids.len())
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all(conn).await?;
        rows.iter()
            .map(|row| from_row(row).map(|stored| (stored.record_id.clone(), stored)))
            .collect()
    }
}

/// Inserts `rows` with one statement.
async fn insert(conn: &mut sqlx::AnyConnection, rows: &[Stored]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = (0..rows.len())
        .map(|i| format!("({})", placeholders(i * 10 + 1, 10)))
        .collect();
    let sql = format!(
        "INSERT INTO records ({COLUMNS}) VALUES {}",
        values.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for stored in rows {
        query = query
            .bind(stored.seq)
            .bind(&stored.record_id)
            .bind(&stored.site)
            .bind(&stored.subject)
            .bind(&stored.body)
            .bind(&stored.digest)
            .bind(&stored.prev_hash)
            .bind(&stored.chain_hash)
            .bind(&stored.received_at)
            .bind(&stored.receipt);
    }
    query.execute(conn).await?;
    Ok(())
}

/// `$first, $first+1, …`, `count` of them.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the database refused a statement, which one record of a batch may have caused,
/// rather than failing for every record alike.
fn refused_a_statement(dialect: Dialect, err: &StoreError) -> bool {
    let StoreError::Sql(sqlx::Error::Database(db)) = err else {
        return false;
    };
    !failed_for_a_while(dialect, &db.code().unwrap_or_default())
}

/// Sends each job its outcome; a caller that went away has nothing to hear.
fn answer(batch: Vec<Job>, outcomes: Vec<Result<Appended, StoreError>>) {
    for (job, outcome) in batch.into_iter().zip(outcomes) {
        let _ = job.reply.send(outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::walk;
    use crate::receipt::{Claims, ReceiptKey};
    use crate::store::{Database, Store};
    use sqlx::Executor;

    const SEED: [u8; 32] = [3; 32];
    const A: &str = "0b4f7a4e-2f57-4a6c-9f0e-5d1e4c3b2a10";
    const B: &str = "1c5f8b5f-3f68-4b7d-8f1f-6e2f5d4c3b21";
    const C: &str = "2d6f9c6f-4f79-4c8e-9f2f-7f3f6e5d4c32";
    const D: &str = "3e7fad7f-5f8a-4d9f-8f3f-8f4f7f6e5d43";
    const E: &str = "4f8fbe8f-6f9b-4eaf-9f4f-9f5f8f7f6e54";
    const SUBJECT: &str =
        "hmac-sha256:680e000000000000000000000000000000000000000000000000000000000000";

    fn record(id: &str, site: &str, gpc: bool) -> ConsentRecord {
        let mut value: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/data/record.json"))
                .expect("the test record is JSON");
        value["record_id"] = id.into();
        value["site"] = site.into();
        value["gpc"] = gpc.into();
        serde_json::from_value(value).expect("the test record is valid")
    }

    fn key() -> Arc<ReceiptKey> {
        Arc::new(ReceiptKey::from_seed(SEED))
    }

    async fn open(dir: &tempfile::TempDir) -> Store {
        crate::store::testing::on_sqlite(dir).await.with_webhooks()
    }

    /// A store whose database refuses a record for `refused.example.com`, as it could refuse
    /// any statement of a batch.
    async fn refusing(dir: &tempfile::TempDir) -> Store {
        let store = open(dir).await;
        sqlx::query(
            "CREATE TRIGGER refuse_for_test BEFORE INSERT ON records
             WHEN NEW.site = 'refused.example.com'
             BEGIN SELECT RAISE(ABORT, 'refused for the test'); END",
        )
        .execute(store.pool())
        .await
        .expect("trigger");
        store
    }

    /// Settles `appends` as one batch, as the writer would, and returns each answer.
    async fn settle(
        store: &Store,
        appends: Vec<(ConsentRecord, Option<&str>)>,
    ) -> Vec<Result<Appended, StoreError>> {
        let unconditional = appends.into_iter().map(|(r, s)| (r, s, None)).collect();
        settle_if(store, unconditional).await
    }

    /// [`settle`], each append with its condition.
    async fn settle_if(
        store: &Store,
        appends: Vec<(ConsentRecord, Option<&str>, Option<IfNewest>)>,
    ) -> Vec<Result<Appended, StoreError>> {
        let mut batch = Vec::new();
        let mut answers = Vec::new();
        for (record, subject, if_newest) in appends {
            let key = key();
            let sign: Sign = Box::new(move |row| {
                key.sign(&Claims::new(
                    row.record,
                    row.seq,
                    row.chain_hash,
                    row.received_at,
                ))
            });
            let (job, answer) = Job::new(record, subject.map(str::to_owned), if_newest, sign);
            batch.push(job);
            answers.push(answer);
        }
        store.chain().settle(batch).await;
        let mut outcomes = Vec::new();
        for answer in answers {
            outcomes.push(answer.await.expect("every job is answered"));
        }
        outcomes
    }

    /// A row inserted behind the collector at the largest seq there is: appends fail,
    /// saying so, where adding one to it wrapped round to a seq the schema refuses (every
    /// record then "refused" alone) or, in a debug build, panicked.
    #[tokio::test]
    async fn a_row_at_the_largest_seq_ends_the_chain_plainly() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(&dir).await;
        let hash = format!("sha256:{}", "0".repeat(64));
        sqlx::query(
            "INSERT INTO records (seq, record_id, site, subject, body, digest, prev_hash, chain_hash, received_at, receipt)
             VALUES ($1, $2, 'pci.qualys.com', NULL, '{}', $3, $3, $3, '2026-12-07T00:00:00Z', 'x')",
        )
        .bind(i64::MAX)
        .bind(E)
        .bind(&hash)
        .execute(store.pool())
        .await
        .expect("inserted behind the collector");
        let outcomes = settle(&store, vec![(record(A, "pci.qualys.com", false), None)]).await;
        assert!(
            matches!(outcomes[0], Err(StoreError::ChainEnd(i64::MAX))),
            "{outcomes:?}"
        );
    }

    /// The record ids stored, in chain order.
    async fn stored_ids(store: &Store) -> Vec<String> {
        let rows = store.page(0, 10, None).await.expect("reads");
        rows.into_iter().map(|s| s.record_id).collect()
    }

    fn created(outcome: &Result<Appended, StoreError>) -> &Stored {
        match outcome {
            Ok(Appended::Created(stored)) => stored,
            other => panic!("expected Created, got {other:?}"),
        }
    }

    async fn chain_verifies(store: &Store) -> i64 {
        let verified = walk(
            store,
            Some(&crate::receipt::PublicKeys::one(key().verifying_key())),
        )
        .await
        .expect("reads")
        .expect("chain and receipts verify");
        verified.verified
    }

    #[tokio::test]
    async fn repeats_and_conflicts_within_one_batch_hold_as_across_batches() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(&dir).await;
        let site = "pci.qualys.com";
        let outcomes = settle(
            &store,
            vec![
                (record(A, site, false), None),
                (record(A, site, false), None),
                (record(B, site, false), Some(SUBJECT)),
                (record(A, site, true), None),
                (record(A, site, false), Some(SUBJECT)),
                (record(C, site, false), None),
                (record(B, site, false), Some(SUBJECT)),
            ],
        )
        .await;
        let first = created(&outcomes[0]);
        assert_eq!((first.seq, first.prev_hash.as_str()), (1, chain::GENESIS));
        match &outcomes[1] {
            Ok(Appended::Existing(again)) => assert_eq!(again, first),
            other => panic!("a repeat in the batch must be Existing, got {other:?}"),
        }
        let second = created(&outcomes[2]);
        assert_eq!(second.seq, 2);
        assert_eq!(second.prev_hash, first.chain_hash);
        assert!(matches!(outcomes[3], Ok(Appended::Conflict)), "other body");
        assert!(
            matches!(outcomes[4], Ok(Appended::Conflict)),
            "other subject"
        );
        let third = created(&outcomes[5]);
        assert_eq!((third.seq, &third.prev_hash), (3, &second.chain_hash));
        assert!(matches!(&outcomes[6], Ok(Appended::Existing(s)) if s == second));

        // The same against rows committed by an earlier batch.
        let later = settle(
            &store,
            vec![
                (record(C, site, false), None),
                (record(A, site, true), None),
            ],
        )
        .await;
        assert!(matches!(&later[0], Ok(Appended::Existing(s)) if s == third));
        assert!(matches!(later[1], Ok(Appended::Conflict)));

        assert_eq!(store.page(0, 10, None).await.expect("reads").len(), 3);
        assert_eq!(chain_verifies(&store).await, 3);
        // The one change got its webhook delivery, in the batch's transaction.
        let queued: Vec<i64> = sqlx::query_scalar("SELECT seq FROM webhook_deliveries")
            .fetch_all(store.pool())
            .await
            .expect("reads");
        assert_eq!(queued, vec![2]);
    }

    #[tokio::test]
    async fn a_failed_batch_fails_only_the_record_the_database_refuses() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = refusing(&dir).await;
        let site = "pci.qualys.com";
        let outcomes = settle(
            &store,
            vec![
                (record(A, site, false), Some(SUBJECT)),
                (record(B, "refused.example.com", false), None),
                (record(C, site, false), None),
                (record(A, site, false), Some(SUBJECT)),
            ],
        )
        .await;
        let first = created(&outcomes[0]);
        assert_eq!(first.seq, 1);
        match &outcomes[1] {
            Err(StoreError::Sql(err)) => assert!(err.to_string().contains("refused for the test")),
            other => panic!("the refused record must fail, got {other:?}"),
        }
        let next = created(&outcomes[2]);
        assert_eq!((next.seq, &next.prev_hash), (2, &first.chain_hash));
        assert!(matches!(&outcomes[3], Ok(Appended::Existing(s)) if s == first));

        assert_eq!(stored_ids(&store).await, vec![A, C]);
        assert_eq!(chain_verifies(&store).await, 2);
        let queued: Vec<i64> = sqlx::query_scalar("SELECT seq FROM webhook_deliveries")
            .fetch_all(store.pool())
            .await
            .expect("reads");
        assert_eq!(
            queued,
            vec![1],
            "one delivery, from the commit that kept its record"
        );
    }

    /// Appended one by one, a record is answered once its own commit is done: a later one
    /// of the batch failing (here a bug, panicking while signing) can't take its answer,
    /// for a record that is stored, down with it.
    #[tokio::test]
    async fn a_record_appended_alone_is_answered_though_a_later_one_fails() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = refusing(&dir).await;
        // A bug that shows only the second time a row is signed: in the batch's own try
        // its record is signed fine, and the refused record last in the batch fails it.
        let signing = |buggy: bool| -> Sign {
            let key = key();
            let calls = std::sync::atomic::AtomicUsize::new(0);
            Box::new(move |row| {
                let call = calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                assert!(!buggy || call == 0, "a bug while signing");
                key.sign(&Claims::new(
                    row.record,
                    row.seq,
                    row.chain_hash,
                    row.received_at,
                ))
            })
        };
        let job = |id, site, buggy| Job::new(record(id, site, false), None, None, signing(buggy));
        let (kept, kept_answer) = job(A, "pci.qualys.com", false);
        let (failing, _) = job(C, "pci.qualys.com", true);
        let (refused, _) = job(B, "refused.example.com", false);

        let chain = store.chain();
        let settled = tokio::spawn(async move { chain.settle(vec![kept, failing, refused]).await });
        assert!(settled.await.is_err(), "the bug panicked");
        assert!(
            matches!(kept_answer.await, Ok(Ok(Appended::Created(_)))),
            "the stored record was answered"
        );
        assert_eq!(stored_ids(&store).await, vec![A]);
    }

    /// A bug panicking in a batch fails its appends as our fault (500), not as a busy
    /// database (503, which the widget would retry for days with a record that meets the
    /// same bug each time), and the writer goes on with the next batch.
    #[tokio::test]
    async fn an_append_whose_batch_panicked_is_a_bug_not_a_busy_database() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(&dir).await;
        let failed = store
            .append(&record(A, "pci.qualys.com", false), None, None, |_| {
                panic!("a bug while signing")
            })
            .await
            .expect_err("not appended");
        assert!(matches!(failed, StoreError::WriterPanicked), "{failed:?}");
        assert!(!failed.is_transient());
        let answer = crate::error::AppError::from(failed);
        assert_eq!(
            answer.status(),
            axum::http::StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(answer.code(), "internal");

        let next = store
            .append(&record(B, "pci.qualys.com", false), None, None, |_| {
                String::new()
            })
            .await;
        assert!(matches!(next, Ok(Appended::Created(_))), "{next:?}");
        assert_eq!(stored_ids(&store).await, vec![B]);
    }

    #[tokio::test]
    async fn only_a_refused_statement_is_retried_record_by_record() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(&dir).await;
        let refused =
            |err: sqlx::Error| refused_a_statement(Dialect::Sqlite, &StoreError::Sql(err));

        // A statement the database refuses: one record of the batch may be the cause.
        let mut conn = store.pool().acquire().await.expect("connection");
        conn.execute("CREATE TEMP TABLE positive (x INTEGER CHECK (x > 0))")
            .await
            .expect("table");
        let check = conn
            .execute("INSERT INTO positive VALUES (0)")
            .await
            .expect_err("refused");
        assert!(refused(check));

        // The database busy: another connection holds the write lock.
        let mut holder = store.pool().acquire().await.expect("connection");
        holder.execute("BEGIN IMMEDIATE").await.expect("lock");
        conn.execute("PRAGMA busy_timeout = 0")
            .await
            .expect("pragma");
        let busy = conn.execute("BEGIN IMMEDIATE").await.expect_err("busy");
        assert!(busy.to_string().contains("locked"), "{busy}");
        assert!(!refused(busy));

        // A batch meeting that lock fails whole, once (after the pool's busy timeout), not
        // record by record, each after the same wait.
        let three = [A, B, C].map(|id| (record(id, "pci.qualys.com", false), None));
        failed_whole_for_a_while(&settle(&store, three.into()).await, "locked");
        let answer = crate::error::AppError::from(StoreError::BatchFailed("locked".into()));
        assert_eq!(answer.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.code(), "unavailable");
        holder.execute("ROLLBACK").await.expect("unlock");
        assert!(store.page(0, 10, None).await.expect("reads").is_empty());

        // No connection at all.
        assert!(!refused(sqlx::Error::PoolTimedOut));
        assert!(!refused(sqlx::Error::PoolClosed));
        assert!(StoreError::Sql(sqlx::Error::PoolTimedOut).is_transient());
        assert!(StoreError::WriterStopped.is_transient());
        // Not for a while: a bug of ours, or a database refusing this statement.
        assert!(!StoreError::Sql(sqlx::Error::RowNotFound).is_transient());
        let check = conn
            .execute("INSERT INTO positive VALUES (0)")
            .await
            .expect_err("refused");
        assert!(!StoreError::Sql(check).is_transient());
    }

    /// Appends three records to `store` once every session of its pool has run `read_only`:
    /// each fails for a while (503, the page keeps it), the batch whole, not one record's
    /// fault tried record by record.
    async fn a_read_only_database_fails_a_batch_whole(store: &Store, read_only: &str) {
        let first = settle(store, vec![(record(A, "pci.qualys.com", false), None)]).await;
        created(&first[0]);
        let mut sessions = Vec::new();
        for _ in 0..store.pool().options().get_max_connections() {
            let mut session = store.pool().acquire().await.expect("a session");
            session.execute(read_only).await.expect("read only");
            sessions.push(session);
        }
        drop(sessions);

        let three = [B, C, D].map(|id| (record(id, "pci.qualys.com", false), None));
        failed_whole_for_a_while(&settle(store, three.into()).await, "read");
    }

    /// The answers of a batch that failed whole, for the database's reason (`says`): the
    /// first record with the error, the others with `BatchFailed`, each a failure for a
    /// while (the client is told to come back: 503, Retry-After).
    fn failed_whole_for_a_while(outcomes: &[Result<Appended, StoreError>], says: &str) {
        assert!(
            matches!(&outcomes[0], Err(StoreError::Sql(err)) if err.to_string().contains(says)),
            "{:?}",
            outcomes[0]
        );
        for later in &outcomes[1..] {
            assert!(
                matches!(later, Err(StoreError::BatchFailed(reason)) if reason.contains(says)),
                "{later:?}"
            );
        }
        for outcome in outcomes {
            let err = outcome.as_ref().expect_err("failed");
            assert!(err.is_transient(), "{err}");
        }
    }

    /// SQLite refuses every write (SQLITE_READONLY) once its file or mount is made
    /// read-only under the collector; `query_only` does the same.
    #[tokio::test]
    async fn a_sqlite_file_made_read_only_fails_a_batch_whole_for_a_while() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(&dir).await;
        a_read_only_database_fails_a_batch_whole(&store, "PRAGMA query_only = ON").await;
    }

    /// PostgreSQL refuses every write (25006) once the address leads to a standby, as
    /// after a failover; a session's read-only default does the same.
    #[tokio::test]
    async fn a_postgres_standby_fails_a_batch_whole_for_a_while() {
        let (_pg, store) = crate::store::testing::on_postgres().await;
        let read_only = "SET default_transaction_read_only = on";
        a_read_only_database_fails_a_batch_whole(&store, read_only).await;
    }

    #[tokio::test]
    async fn a_conditional_append_is_stored_only_if_the_subjects_newest_row_is_unchanged() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(&dir).await;
        let site = "pci.qualys.com";
        let one = |id, if_newest| (record(id, site, false), Some(SUBJECT), Some(if_newest));

        let first = settle_if(&store, vec![one(A, IfNewest(None))]).await;
        assert_eq!(created(&first[0]).seq, 1);
        // Built before that row: stale, nothing stored.
        let stale = settle_if(&store, vec![one(B, IfNewest(None))]).await;
        assert!(matches!(stale[0], Ok(Appended::Stale)), "{:?}", stale[0]);
        // A row for the subject earlier in the same batch counts too.
        let batch = settle_if(
            &store,
            vec![
                (record(C, site, false), Some(SUBJECT), None),
                one(D, IfNewest(Some(1))),
            ],
        )
        .await;
        assert_eq!(created(&batch[0]).seq, 2);
        assert!(matches!(batch[1], Ok(Appended::Stale)), "{:?}", batch[1]);
        // Built from the newest row: stored; another subject's rows don't matter.
        let fresh = settle_if(&store, vec![one(D, IfNewest(Some(2)))]).await;
        assert_eq!(created(&fresh[0]).seq, 3);
        let other = settle_if(
            &store,
            vec![(
                record(E, site, false),
                Some(
                    "hmac-sha256:0111111111111111111111111111111111111111111111111111111111111111",
                ),
                Some(IfNewest(None)),
            )],
        )
        .await;
        assert_eq!(created(&other[0]).seq, 4);

        assert_eq!(stored_ids(&store).await, vec![A, C, D, E]);
        assert_eq!(chain_verifies(&store).await, 4);
    }

    /// What each insert into the chain ran under: `synchronous_commit` and the idle limit.
    async fn noted(store: &Store) -> Vec<(String, String)> {
        sqlx::query_as("SELECT level, idle FROM noted")
            .fetch_all(store.pool())
            .await
            .expect("noted")
    }

    /// PostgreSQL: an append's commit waits for the flush though the session it runs on has
    /// `synchronous_commit` off (a configuration reloaded under open sessions, or a pooler's
    /// session set by another client), not only the sessions Store::open found off; and the
    /// server ends its transaction should it sit idle a minute (a role's own limit kept).
    #[tokio::test]
    async fn on_postgres_an_append_is_on_disk_and_ended_if_left_whatever_its_session_says() {
        let (pg, store) = crate::store::testing::on_postgres().await;
        // What each insert into the chain runs under.
        for statement in [
            "CREATE TABLE noted (level text, idle text)",
            "CREATE FUNCTION note_level() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
               INSERT INTO noted VALUES (current_setting('synchronous_commit'),
                 current_setting('idle_in_transaction_session_timeout')); RETURN NEW; END $$",
            "CREATE TRIGGER note_level BEFORE INSERT ON records FOR EACH ROW EXECUTE FUNCTION note_level()",
        ] {
            sqlx::query(statement)
                .execute(store.pool())
                .await
                .expect("test trigger");
        }
        // Every session of the store's pool turned off after it opened.
        let mut sessions = Vec::new();
        for _ in 0..store.pool().options().get_max_connections() {
            let mut session = store.pool().acquire().await.expect("a session");
            session
                .execute("SET synchronous_commit = off")
                .await
                .expect("set");
            sessions.push(session);
        }
        drop(sessions);

        let outcomes = settle(&store, vec![(record(A, "a.example.com", false), None)]).await;
        created(&outcomes[0]);
        assert_eq!(noted(&store).await, [("on".to_owned(), "1min".to_owned())]);
        let after: (String, String) = sqlx::query_as(
            "SELECT current_setting('synchronous_commit'), \
             current_setting('idle_in_transaction_session_timeout')",
        )
        .fetch_one(store.pool())
        .await
        .expect("settings");
        assert_eq!(
            after,
            ("off".to_owned(), "0".to_owned()),
            "only the append's transaction is changed"
        );
        store.close().await;

        // An operator's own idle limit stays.
        let admin = sqlx::AnyPool::connect(&pg.url).await.expect("admin");
        sqlx::query("ALTER ROLE CURRENT_USER SET idle_in_transaction_session_timeout = '10s'")
            .execute(&admin)
            .await
            .expect("role");
        let store = Store::open(&Database::Postgres(pg.url.clone()))
            .await
            .expect("opens");
        let outcomes = settle(&store, vec![(record(B, "a.example.com", false), None)]).await;
        created(&outcomes[0]);
        assert_eq!(noted(&store).await[1], ("on".to_owned(), "10s".to_owned()));
        store.close().await;
    }
}

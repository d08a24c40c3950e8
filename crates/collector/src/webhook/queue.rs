//! The delivery queue in the database (`webhook_deliveries`, one row per change).
//!
//! A worker claims a due row with one conditional `UPDATE`: it sets a lease only where
//! none is running, so of several processes racing for a row one wins and the others
//! update nothing (on SQLite writes are serial; on PostgreSQL the losers re-check the
//! condition on the winner's new row version). On PostgreSQL the row is chosen with
//! `FOR UPDATE SKIP LOCKED`, so a claim passes over a row another claim is taking and gets
//! the next due one, rather than wait for that claim and come away with nothing. Results
//! are written only under the claim's own lease token, so a worker whose lease ran out
//! can't overwrite a newer claim.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::{AnyConnection, Row};

use crate::store::{Dialect, Store, StoreError};

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Queues the delivery of the change at `seq`, due now; called inside the append's
/// transaction.
pub(crate) async fn insert(conn: &mut AnyConnection, seq: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO webhook_deliveries (seq, next_attempt_at) VALUES ($1, $2)")
        .bind(seq)
        .bind(now_ms())
        .execute(conn)
        .await?;
    Ok(())
}

/// Claims the longest-due row without a running lease, unless the endpoint is gone: $1 the
/// lease's end, $2 its token, $3 now, $4 the endpoint ([`endpoint_key`]). The endpoint's
/// check is in the claim's own statement, so once a 410 is written no claim is made for it.
macro_rules! claim {
    ($lock:literal) => {
        concat!(
            "UPDATE webhook_deliveries
             SET lease_until = $1, lease_token = $2, attempts = attempts + 1,
                 first_attempt_at = COALESCE(first_attempt_at, $3)
             WHERE seq = (
                 SELECT seq FROM webhook_deliveries
                 WHERE status = 'pending' AND next_attempt_at <= $3
                   AND (lease_until IS NULL OR lease_until <= $3)
                   AND NOT EXISTS (SELECT 1 FROM webhook_endpoints_gone WHERE endpoint = $4)
                 ORDER BY next_attempt_at, seq LIMIT 1",
            $lock,
            ")
               AND status = 'pending' AND (lease_until IS NULL OR lease_until <= $3)
             RETURNING seq, attempts, first_attempt_at"
        )
    };
}
const CLAIM: &str = claim!("");
const CLAIM_SKIP_LOCKED: &str = claim!(" FOR UPDATE SKIP LOCKED");

/// An endpoint's name in the queue's tables: the SHA-256 of its URL, which may carry a token
/// of the receiver's that is not to be stored.
pub fn endpoint_key(url: &reqwest::Url) -> String {
    use sha2::{Digest, Sha256};
    format!("sha256:{:x}", Sha256::digest(url.as_str().as_bytes()))
}

/// What [`Queue::requeue_failed`] put back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requeued {
    /// Deliveries given up on, queued again.
    pub deliveries: u64,
    /// Endpoints marked gone, deliverable again.
    pub endpoints: u64,
}

/// Ends `claim` with this outcome through `executor` (the pool, or a transaction), if it is
/// still this claim's; [`StoreError::LeaseLost`] if another claim has taken it over.
async fn settle<'c>(
    executor: impl sqlx::Executor<'c, Database = sqlx::Any>,
    claim: &Claim,
    status: &str,
    next_attempt_at: Option<i64>,
    finished_at: Option<i64>,
    error: Option<&str>,
) -> Result<(), StoreError> {
    let written = sqlx::query(
        "UPDATE webhook_deliveries
         SET status = $1, next_attempt_at = COALESCE($2, next_attempt_at),
             finished_at = $3, last_error = $4, lease_until = NULL
         WHERE seq = $5 AND lease_token = $6",
    )
    .bind(status)
    .bind(next_attempt_at)
    .bind(finished_at)
    .bind(error)
    .bind(claim.seq)
    .bind(&claim.token)
    .execute(executor)
    .await?;
    still_its(&written, claim)
}

/// `Ok` if `written` (an UPDATE under `claim`'s lease token) touched its row.
fn still_its(written: &sqlx::any::AnyQueryResult, claim: &Claim) -> Result<(), StoreError> {
    match written.rows_affected() {
        0 => Err(StoreError::LeaseLost { seq: claim.seq }),
        _ => Ok(()),
    }
}

/// A delivery this worker holds the lease of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The change's `seq`.
    pub seq: i64,
    /// Attempts so far, this one included.
    pub attempts: i64,
    /// When the first attempt began, unix milliseconds.
    pub first_attempt_at: i64,
    token: String,
}

/// The queue.
#[derive(Debug)]
pub struct Queue<'a> {
    store: &'a Store,
}

impl<'a> Queue<'a> {
    /// The queue in `store`'s database.
    pub fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Claims the longest-due delivery to `endpoint` ([`endpoint_key`]), if any and if it
    /// is not gone, for `lease`; `token` must be unique to this claim.
    pub async fn claim(
        &self,
        endpoint: &str,
        now: i64,
        lease: Duration,
        token: &str,
    ) -> Result<Option<Claim>, StoreError> {
        let statement = match self.store.dialect() {
            Dialect::Sqlite => CLAIM,
            Dialect::Postgres => CLAIM_SKIP_LOCKED,
        };
        let row = sqlx::query(statement)
            .bind(now.saturating_add(millis(lease)))
            .bind(token)
            .bind(now)
            .bind(endpoint)
            .fetch_optional(self.store.pool())
            .await?;
        row.map(|row| {
            Ok(Claim {
                seq: row.try_get(0)?,
                attempts: row.try_get(1)?,
                first_attempt_at: row.try_get(2)?,
                token: token.to_owned(),
            })
        })
        .transpose()
        .map_err(StoreError::Sql)
    }

    /// The endpoint took it.
    pub async fn delivered(&self, claim: &Claim, now: i64) -> Result<(), StoreError> {
        settle(self.store.pool(), claim, "delivered", None, Some(now), None).await
    }

    /// Given up on.
    pub async fn failed(&self, claim: &Claim, now: i64, error: &str) -> Result<(), StoreError> {
        settle(
            self.store.pool(),
            claim,
            "failed",
            None,
            Some(now),
            Some(error),
        )
        .await
    }

    /// Failed this time: try again at `at` (unix milliseconds).
    pub async fn retry(&self, claim: &Claim, at: i64, error: &str) -> Result<(), StoreError> {
        settle(
            self.store.pool(),
            claim,
            "pending",
            Some(at),
            None,
            Some(error),
        )
        .await
    }

    /// Not attempted after all (the process stopping, the endpoint marked gone since the
    /// claim): put back, due at `at`, as if never claimed, so that the attempts and the retry
    /// window count only the posts made.
    pub async fn put_back(&self, claim: &Claim, at: i64, error: &str) -> Result<(), StoreError> {
        // The right-hand sides read the row as it was: one attempt, this claim's, means
        // none before it, and no window begun. The token goes too: put back twice, the
        // attempt would be taken off twice.
        let written = sqlx::query(
            "UPDATE webhook_deliveries
             SET status = 'pending', next_attempt_at = $1, last_error = $2, lease_until = NULL,
                 lease_token = NULL, attempts = attempts - 1,
                 first_attempt_at = CASE WHEN attempts = 1 THEN NULL ELSE first_attempt_at END
             WHERE seq = $3 AND lease_token = $4",
        )
        .bind(at)
        .bind(error)
        .bind(claim.seq)
        .bind(&claim.token)
        .execute(self.store.pool())
        .await?;
        still_its(&written, claim)
    }

    /// The endpoint ([`endpoint_key`]) answered the claimed delivery 410 Gone: it is marked
    /// gone (no more claims for it; an endpoint marked already keeps its first mark) and
    /// the delivery given up on, in one transaction, so that a `requeue` meanwhile finds
    /// both or neither.
    pub async fn gone(
        &self,
        claim: &Claim,
        endpoint: &str,
        now: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        let mut transaction = self.store.pool().begin().await?;
        sqlx::query(
            "INSERT INTO webhook_endpoints_gone (endpoint, gone_at, seq) VALUES ($1, $2, $3)
             ON CONFLICT (endpoint) DO NOTHING",
        )
        .bind(endpoint)
        .bind(now)
        .bind(claim.seq)
        .execute(&mut *transaction)
        .await?;
        settle(
            &mut *transaction,
            claim,
            "failed",
            None,
            Some(now),
            Some(error),
        )
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// When `endpoint` ([`endpoint_key`]) was marked gone, if it is.
    pub async fn gone_at(&self, endpoint: &str) -> Result<Option<i64>, StoreError> {
        let at =
            sqlx::query_scalar("SELECT gone_at FROM webhook_endpoints_gone WHERE endpoint = $1")
                .bind(endpoint)
                .fetch_optional(self.store.pool())
                .await?;
        Ok(at)
    }

    /// Every endpoint marked gone made deliverable again, and every delivery given up on
    /// put back in the queue, due at `now`, with a new retry window (its attempts and first
    /// attempt forgotten), in one transaction; returns how many of each. Where a mark is
    /// cleared, the deliveries that waited behind it (not leased) get a new window too: one
    /// tried before the 410, days ago, would otherwise be given up at its next failure.
    pub async fn requeue_failed(&self, now: i64) -> Result<Requeued, StoreError> {
        let mut transaction = self.store.begin_write().await?;
        // A database no `serve` of this version has opened yet has no marks.
        let endpoints = if self.has_gone_table(&mut transaction).await? {
            sqlx::query("DELETE FROM webhook_endpoints_gone")
                .execute(&mut *transaction)
                .await?
                .rows_affected()
        } else {
            0
        };
        let waited = if endpoints > 0 {
            "status = 'failed' OR (status = 'pending' AND (lease_until IS NULL OR lease_until <= $1))"
        } else {
            "status = 'failed'"
        };
        let done = sqlx::query(&format!(
            "UPDATE webhook_deliveries
             SET status = 'pending', attempts = 0, next_attempt_at = $1,
                 first_attempt_at = NULL, finished_at = NULL, last_error = NULL,
                 lease_until = NULL, lease_token = NULL
             WHERE {waited}"
        ))
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(Requeued {
            deliveries: done.rows_affected(),
            endpoints,
        })
    }

    /// Whether the database has the table of endpoints marked gone (its migration is
    /// applied by `serve`).
    async fn has_gone_table(&self, conn: &mut AnyConnection) -> Result<bool, StoreError> {
        let query = match self.store.dialect() {
            Dialect::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'webhook_endpoints_gone'"
            }
            Dialect::Postgres => {
                "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE tablename = 'webhook_endpoints_gone' AND schemaname = ANY (current_schemas(false))"
            }
        };
        let count: i64 = sqlx::query_scalar(query).fetch_one(conn).await?;
        Ok(count > 0)
    }

    /// Deliveries not yet delivered nor given up on.
    pub async fn depth(&self) -> Result<i64, StoreError> {
        let depth: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'")
                .fetch_one(self.store.pool())
                .await?;
        Ok(depth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing;
    use assent_record::ConsentRecord;

    /// `store` with webhooks on and `changes` changes stored: their deliveries are queued,
    /// due now, in `seq` order from 1.
    async fn with_deliveries(store: Store, changes: u8) -> Store {
        let store = store.with_webhooks();
        let record: ConsentRecord =
            serde_json::from_str(include_str!("../../tests/data/record.json")).unwrap();
        for change in 0..changes {
            let mut record = record.clone();
            record.record_id = format!("0b4f7a4e-2f57-4a6c-9f0e-5d1e4c3b2a{change:02x}")
                .parse()
                .unwrap();
            store
                .append(
                    &record,
                    Some(format!("hmac-sha256:{}", "ab".repeat(32))),
                    None,
                    |_| String::new(),
                )
                .await
                .unwrap();
        }
        store
    }

    /// `columns` of the queue's one row.
    async fn the_row<T>(store: &Store, columns: &str) -> T
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
    {
        sqlx::query_as(&format!("SELECT {columns} FROM webhook_deliveries"))
            .fetch_one(store.pool())
            .await
            .unwrap()
    }

    /// A worker whose lease ran out writes no outcome once another has claimed the
    /// delivery (and is told so): the row stays the other's to settle, pending and leased
    /// to it.
    async fn an_outcome_after_the_lease_is_not_written(store: Store) {
        let store = with_deliveries(store, 1).await;
        let queue = Queue::new(&store);
        let now = now_ms();
        let endpoint = "sha256:00";
        let first = queue
            .claim(endpoint, now, Duration::from_millis(1), "first")
            .await
            .unwrap()
            .expect("due");
        let second = queue
            .claim(endpoint, now + 10, Duration::from_secs(60), "second")
            .await
            .unwrap()
            .expect("the first lease ran out");
        assert_eq!((first.seq, second.attempts), (second.seq, 2));
        let row = || the_row::<(String, Option<String>)>(&store, "status, lease_token");
        // Refused, so that the worker counts it neither delivered nor failed: the second
        // claim's outcome is the one counted.
        let lost = |outcome: Result<(), StoreError>| matches!(outcome, Err(StoreError::LeaseLost { seq }) if seq == first.seq);
        assert!(lost(queue.delivered(&first, now + 20).await));
        assert!(lost(queue.failed(&first, now + 20, "late").await));
        assert!(lost(queue.retry(&first, now + 20, "late").await));
        assert!(lost(
            queue.gone(&first, "sha256:00", now + 20, "late").await
        ));
        assert_eq!(
            queue.gone_at("sha256:00").await.unwrap(),
            None,
            "rolled back"
        );
        assert_eq!(row().await, ("pending".into(), Some("second".into())));
        queue.delivered(&second, now + 30).await.unwrap();
        assert_eq!(row().await.0, "delivered");
    }

    /// The delivery answered 410 is given up on and its endpoint marked gone at once; no
    /// delivery is claimed for that endpoint then, however due, while another endpoint's
    /// claims go on; `requeue_failed` clears the mark, and puts back the delivery given up
    /// on and, with a new window, the one that waited (its attempt under the other
    /// endpoint forgotten).
    async fn a_gone_endpoint_is_claimed_nothing_until_requeued(store: Store) {
        let store = with_deliveries(store, 2).await;
        let queue = Queue::new(&store);
        let (gone, other) = ("sha256:01", "sha256:02");
        let now = now_ms();
        let lease = Duration::from_millis(1);
        let first = queue
            .claim(gone, now, lease, "a")
            .await
            .unwrap()
            .expect("due");
        assert_eq!(queue.gone_at(gone).await.unwrap(), None);
        queue
            .gone(&first, gone, now, "endpoint answered 410 Gone")
            .await
            .unwrap();
        assert_eq!(queue.gone_at(gone).await.unwrap(), Some(now));
        let status: String =
            sqlx::query_scalar("SELECT status FROM webhook_deliveries WHERE seq = $1")
                .bind(first.seq)
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(status, "failed");
        assert_eq!(queue.claim(gone, now + 10, lease, "b").await.unwrap(), None);
        let second = queue.claim(other, now + 10, lease, "c").await.unwrap();
        assert_eq!(
            second.map(|claim| claim.seq),
            Some(first.seq + 1),
            "another endpoint's claim"
        );
        let requeued = queue.requeue_failed(now + 20).await.unwrap();
        assert_eq!(
            requeued,
            Requeued {
                deliveries: 2,
                endpoints: 1
            }
        );
        assert_eq!(queue.gone_at(gone).await.unwrap(), None);
        for token in ["d", "e"] {
            let claimed = queue.claim(gone, now + 30, lease, token).await.unwrap();
            assert_eq!(claimed.map(|claim| claim.attempts), Some(1), "a new window");
        }
    }

    /// `requeue` on a database whose schema predates the marks (no `serve` of this version
    /// has opened it) puts back what was given up on, and clears no mark.
    async fn requeue_works_before_the_marks_table_is_made(store: Store) {
        let store = with_deliveries(store, 1).await;
        for sql in [
            "DROP TABLE webhook_endpoints_gone",
            "UPDATE webhook_deliveries SET status = 'failed'",
        ] {
            sqlx::query(sql).execute(store.pool()).await.unwrap();
        }
        let queue = Queue::new(&store);
        let requeued = queue.requeue_failed(now_ms()).await.unwrap();
        assert_eq!(
            requeued,
            Requeued {
                deliveries: 1,
                endpoints: 0
            }
        );
    }

    /// `requeue` beside a `serve` that writes meanwhile (its writer's probe each second, a
    /// worker's outcome): begun deferred, its transaction read, met the other's commit
    /// as a stale snapshot at its first write, and failed at once (SQLITE_BUSY).
    #[tokio::test]
    async fn requeue_waits_for_another_connections_write() {
        use sqlx::Executor;
        let dir = tempfile::tempdir().unwrap();
        let store = with_deliveries(testing::on_sqlite(&dir).await, 1).await;
        sqlx::query("UPDATE webhook_deliveries SET status = 'failed'")
            .execute(store.pool())
            .await
            .unwrap();
        let mut holder = store.pool().acquire().await.unwrap();
        holder.execute("BEGIN IMMEDIATE").await.unwrap();
        holder
            .execute("INSERT INTO health_probe (id, written_at) VALUES (1, 0)")
            .await
            .unwrap();
        let requeued = async {
            let requeued = Queue::new(&store).requeue_failed(now_ms()).await;
            requeued.map(|requeued| requeued.deliveries)
        };
        let commit = async {
            // Time for a read it might make before taking the write lock.
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            holder.execute("COMMIT").await.unwrap();
        };
        let (requeued, ()) = tokio::join!(requeued, commit);
        assert_eq!(requeued.unwrap(), 1);
    }

    /// A delivery put back unposted counts no attempt: its first claim's window is undone,
    /// a later claim's keeps the one an earlier post began.
    async fn a_delivery_put_back_counts_no_attempt(store: Store) {
        let store = with_deliveries(store, 1).await;
        let queue = Queue::new(&store);
        let now = now_ms();
        let endpoint = "sha256:00";
        let row = || the_row::<(i64, Option<i64>)>(&store, "attempts, first_attempt_at");
        let lease = Duration::from_secs(60);
        let queue = &queue;
        let due = |at, token| async move {
            queue
                .claim(endpoint, at, lease, token)
                .await
                .unwrap()
                .expect("due")
        };
        let first = due(now, "a").await;
        queue.put_back(&first, now, "held").await.unwrap();
        assert_eq!(row().await, (0, None));
        let posted = due(now, "b").await;
        queue.retry(&posted, now + 1, "500").await.unwrap();
        let held = due(now + 1, "c").await;
        queue.put_back(&held, now + 1, "held").await.unwrap();
        assert_eq!(row().await, (1, Some(now)));
        assert!(matches!(
            queue.put_back(&held, now + 1, "held").await,
            Err(StoreError::LeaseLost { .. })
        ));
    }

    testing::on_both_databases!(a_delivery_put_back_counts_no_attempt);
    testing::on_both_databases!(an_outcome_after_the_lease_is_not_written);
    testing::on_both_databases!(a_gone_endpoint_is_claimed_nothing_until_requeued);
    testing::on_both_databases!(requeue_works_before_the_marks_table_is_made);
}

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

/// Claims the longest-due row without a running lease: $1 the lease's end, $2 its token,
/// $3 now.
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

    /// Claims the longest-due delivery, if any, for `lease`; `token` must be unique to
    /// this claim.
    pub async fn claim(
        &self,
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
        self.settle(claim, "delivered", None, Some(now), None).await
    }

    /// Given up on.
    pub async fn failed(&self, claim: &Claim, now: i64, error: &str) -> Result<(), StoreError> {
        self.settle(claim, "failed", None, Some(now), Some(error))
            .await
    }

    /// Failed this time: try again at `at` (unix milliseconds).
    pub async fn retry(&self, claim: &Claim, at: i64, error: &str) -> Result<(), StoreError> {
        self.settle(claim, "pending", Some(at), None, Some(error))
            .await
    }

    /// Ends the claim with this outcome, if it is still this claim's.
    async fn settle(
        &self,
        claim: &Claim,
        status: &str,
        next_attempt_at: Option<i64>,
        finished_at: Option<i64>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
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
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// Puts every delivery given up on back in the queue, due at `now`, with a new retry
    /// window (its attempts and first attempt forgotten); returns how many.
    pub async fn requeue_failed(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries
             SET status = 'pending', attempts = 0, next_attempt_at = $1,
                 first_attempt_at = NULL, finished_at = NULL, last_error = NULL,
                 lease_until = NULL, lease_token = NULL
             WHERE status = 'failed'",
        )
        .bind(now)
        .execute(self.store.pool())
        .await?;
        Ok(done.rows_affected())
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
    use crate::store::Database;
    use assent_record::ConsentRecord;

    /// A worker whose lease ran out writes no outcome once another has claimed the
    /// delivery: the row stays the other's to settle, pending and leased to it.
    async fn an_outcome_after_the_lease_is_not_written(store: Store) {
        let store = store.with_webhooks();
        let record: ConsentRecord =
            serde_json::from_str(include_str!("../../tests/data/record.json")).unwrap();
        store
            .append(
                &record,
                Some(format!("hmac-sha256:{}", "ab".repeat(32))),
                None,
                |_| String::new(),
            )
            .await
            .unwrap();
        let queue = Queue::new(&store);
        let now = now_ms();
        let first = queue
            .claim(now, Duration::from_millis(1), "first")
            .await
            .unwrap()
            .expect("due");
        let second = queue
            .claim(now + 10, Duration::from_secs(60), "second")
            .await
            .unwrap()
            .expect("the first lease ran out");
        assert_eq!((first.seq, second.attempts), (second.seq, 2));
        let row = || async {
            sqlx::query_as::<_, (String, Option<String>)>(
                "SELECT status, lease_token FROM webhook_deliveries",
            )
            .fetch_one(store.pool())
            .await
            .unwrap()
        };
        queue.delivered(&first, now + 20).await.unwrap();
        queue.failed(&first, now + 20, "late").await.unwrap();
        assert_eq!(row().await, ("pending".into(), Some("second".into())));
        queue.delivered(&second, now + 30).await.unwrap();
        assert_eq!(row().await.0, "delivered");
    }

    #[tokio::test]
    async fn on_sqlite_an_outcome_after_the_lease_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let database = Database::Sqlite(dir.path().join("records.db"));
        an_outcome_after_the_lease_is_not_written(Store::open(&database).await.unwrap()).await;
    }

    #[tokio::test]
    async fn on_postgres_an_outcome_after_the_lease_is_not_written() {
        let pg = assent_temp_postgres::TempPostgres::start();
        sqlx::any::install_default_drivers();
        let database = Database::Postgres(pg.url.clone());
        an_outcome_after_the_lease_is_not_written(Store::open(&database).await.unwrap()).await;
    }
}

//! Whether this process's appends fail for a reason of the database's, for `GET /healthz`.
//!
//! A database can answer a read while it refuses every write (out of disk, a file or mount
//! made read-only, a standby behind the address, a lock held elsewhere): a health check
//! that only reads would keep a load balancer sending records to a process that can store
//! none. The writer says how each batch went; while the last one failed for all alike, the
//! writer also tries a write of its own each second (a transaction as an append's, under
//! the chain's lock, that writes one row of `health_probe`), so that a
//! process a load balancer took out of rotation, which gets no appends to try, comes back
//! by itself once the database takes writes again.

use std::sync::Mutex;
use std::time::Duration;

use sqlx::AnyConnection;

use super::StoreError;

/// How often the writer tries its probe write while appends fail.
pub(crate) const PROBE_EVERY: Duration = Duration::from_secs(1);

/// The last word on this process's appends.
#[derive(Debug, Default)]
pub(crate) struct WriteHealth {
    /// Why the last batch (or probe) failed, while no commit has succeeded since.
    failing: Mutex<Option<String>>,
}

impl WriteHealth {
    /// Why appends are failing, if they are.
    pub(crate) fn failing(&self) -> Option<String> {
        self.failing.lock().map_or(None, |failing| failing.clone())
    }

    /// A batch (or the probe) failed for all alike: logged once, as the failures begin.
    pub(crate) fn failed(&self, reason: String) {
        if let Ok(mut failing) = self.failing.lock() {
            if failing.is_none() {
                tracing::warn!(%reason, "appends are failing: /healthz answers 503 until a write succeeds");
            }
            *failing = Some(reason);
        }
    }

    /// A commit succeeded.
    pub(crate) fn committed(&self) {
        if let Ok(mut failing) = self.failing.lock() {
            if failing.take().is_some() {
                tracing::info!("appends succeed again");
            }
        }
    }
}

/// The probe's write, of one row that nothing reads, in the writer's transaction
/// (`writer::Chain::probe`).
pub(crate) async fn probe(conn: &mut AnyConnection, now_ms: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO health_probe (id, written_at) VALUES (1, $1)
         ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at",
    )
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{testing, Store};

    /// The probe writes its row, and writes it again, on either database.
    async fn the_probe_writes_and_writes_again(store: Store) {
        for now in [1, 2] {
            let mut conn = store.pool().acquire().await.unwrap();
            probe(&mut conn, now).await.unwrap();
            let written: i64 = sqlx::query_scalar("SELECT written_at FROM health_probe")
                .fetch_one(store.pool())
                .await
                .unwrap();
            assert_eq!(written, now);
        }
    }

    testing::on_both_databases!(the_probe_writes_and_writes_again);
}

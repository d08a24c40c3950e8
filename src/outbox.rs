//! Records wait here, in storage, from before their first send until the endpoint has
//! them. The outbox is bounded in count and age so a site whose endpoint is gone for good
//! can't fill the visitor's storage; anything dropped is said in the console.

use assent_record::ConsentRecord;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::browser::env;
use crate::store::Store;

/// Most records kept waiting.
pub const MAX_RECORDS: usize = 50;
/// Oldest record kept waiting.
pub const MAX_AGE: Duration = assent_record::LONGEST_WAIT;

/// The records still waiting, oldest first, after dropping those over the bounds.
pub fn pending(store: &Store, now: OffsetDateTime) -> Vec<ConsentRecord> {
    let records = store.outbox();
    let total = records.len();
    let kept = bounded(records, now);
    if kept.len() < total {
        store.set_outbox(&kept);
    }
    kept
}

/// Drops records older than [`MAX_AGE`], then the oldest beyond [`MAX_RECORDS`].
fn bounded(mut records: Vec<ConsentRecord>, now: OffsetDateTime) -> Vec<ConsentRecord> {
    let total = records.len();
    records.retain(|r| now - *r.client_time <= MAX_AGE);
    let excess = records.len().saturating_sub(MAX_RECORDS);
    records.drain(..excess);
    if records.len() < total {
        env::warn(&format!(
            "{} unsent record(s) were dropped from the outbox (too old or too many)",
            total - records.len()
        ));
    }
    records
}

/// Adds `record` to the outbox, unless it is there already.
pub fn enqueue(store: &Store, record: &ConsentRecord) {
    let mut records = store.outbox();
    if !records.iter().any(|r| r.record_id == record.record_id) {
        records.push(record.clone());
        store.set_outbox(&bounded(records, *record.client_time));
    }
}

/// Takes a record out of the outbox.
pub fn remove(store: &Store, record_id: Uuid) {
    let mut records = store.outbox();
    records.retain(|r| r.record_id != record_id);
    store.set_outbox(&records);
}

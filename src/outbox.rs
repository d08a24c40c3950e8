//! Records are written here before the first send and leave only when the endpoint has
//! them, so neither a network failure nor a closed tab loses a choice.

use std::rc::Rc;

use assent_record::ConsentRecord;
use uuid::Uuid;

use crate::browser::env;
use crate::store::Store;
use crate::transport::{self, Delivery};

/// Adds `record` to the outbox.
pub fn enqueue(store: &Store, record: &ConsentRecord) {
    let mut pending = store.outbox();
    if !pending.iter().any(|r| r.record_id == record.record_id) {
        pending.push(record.clone());
    }
    store.set_outbox(&pending);
}

fn remove(store: &Store, record_id: Uuid) {
    let mut pending = store.outbox();
    pending.retain(|r| r.record_id != record_id);
    store.set_outbox(&pending);
}

/// Tries to deliver every pending record once, oldest first; delivered ones leave the
/// outbox, the rest wait for the next page load.
pub async fn flush(store: Rc<Store>, endpoint: String) {
    for record in store.outbox() {
        match transport::deliver(&endpoint, &record).await {
            Delivery::Delivered => remove(&store, record.record_id),
            Delivery::NotYet(reason) => {
                env::info(&format!("a record is kept for a later try: {reason}"));
                // Same endpoint, same failure likely: leave the rest for the next load.
                break;
            }
        }
    }
}

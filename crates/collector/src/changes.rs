//! The change feed: records that have a subject, in chain order, as the mailer reads them
//! (`GET /v1/changes`, and one per webhook delivery).

use assent_record::{ConsentRecord, Purposes, Source};
use serde::Serialize;

use crate::store::{Store, StoreError, Stored};

/// Page size when none is asked for.
pub const DEFAULT_LIMIT: i64 = 100;
/// Largest page.
pub const MAX_LIMIT: i64 = 1000;

/// One change: a subject's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Its place in the chain; also the feed's cursor.
    pub seq: i64,
    /// The record's id.
    pub record_id: String,
    /// The keyed hash of the address the record is about.
    pub subject: String,
    /// The covered site.
    pub site: String,
    /// Every purpose with its basis, and the state of each optional one.
    pub purposes: Purposes,
    /// How the record came to be.
    pub source: Source,
    /// What made it: the widget's version, or the collector's for an unsubscribe
    /// (`collector-0.1.0`'s restated, as denied, purposes its link did not target: for
    /// those only a change of state counts, `Standing::apply`).
    pub widget_version: String,
    /// When the collector received it, RFC 3339 UTC.
    pub received_at: String,
    /// When it was made, as the page's clock said (the record's `client_time`): a grant
    /// made before the person's later word on its purpose does not undo it, whenever it
    /// arrives (`Standing::apply`).
    #[serde(with = "time::serde::rfc3339")]
    pub client_time: time::OffsetDateTime,
}

impl Change {
    /// The change of a stored row; none for a row without a subject (not a change). A
    /// body this collector can't read is an error, not a change left out: the feed's
    /// cursor would pass it, and a mailer never see it.
    pub fn of(stored: &Stored) -> Result<Option<Self>, StoreError> {
        let Some(subject) = stored.subject.clone() else {
            return Ok(None);
        };
        let record = serde_json::from_str::<ConsentRecord>(&stored.body)
            .map_err(|_| StoreError::Unreadable { seq: stored.seq })?;
        Ok(Some(Self {
            seq: stored.seq,
            record_id: stored.record_id.clone(),
            subject,
            site: stored.site.clone(),
            purposes: record.purposes,
            source: record.source,
            widget_version: record.widget_version.as_str().to_owned(),
            received_at: stored.received_at.clone(),
            client_time: *record.client_time,
        }))
    }
}

/// One page of the feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page {
    /// The changes after the cursor, in chain order.
    pub changes: Vec<Change>,
    /// The cursor for the next page: the last change's `seq`, or the one asked with when
    /// there was none.
    pub next: i64,
}

/// Up to `limit` changes after `after`.
pub async fn page(store: &Store, after: i64, limit: i64) -> Result<Page, StoreError> {
    let rows = store.changes(after, limit).await?;
    // The cursor moves past every row read, even one that is not shown.
    let next = rows.last().map_or(after, |row| row.seq);
    let changes = rows.iter().map(Change::of).filter_map(Result::transpose);
    Ok(Page {
        changes: changes.collect::<Result<_, _>>()?,
        next,
    })
}

//! The consent record: what the widget sends and the collector stores.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::canonical::ContentHash;
use crate::fields::{Email, Language, NoticeId, NoticeVersion, Site, WidgetVersion};
use crate::purpose::Purposes;

/// Which notice the visitor saw, down to its content hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeRef {
    /// The notice document's identifier.
    pub id: NoticeId,
    /// Its version label.
    pub version: NoticeVersion,
    /// The hash of its canonical form.
    pub hash: ContentHash,
}

/// One visitor's notification preferences on one site, as they saved them.
///
/// A change or withdrawal is a new record; records are never edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRecord {
    /// Made by the client; also the idempotency key of the POST.
    pub record_id: Uuid,
    /// The covered site the choice was made on.
    pub site: Site,
    /// The notice shown.
    pub notice: NoticeRef,
    /// The language the notice was shown in.
    pub language: Language,
    /// Every purpose of the notice with its basis, and the state of each optional one.
    pub purposes: Purposes,
    /// Whether the browser sent the Global Privacy Control signal.
    pub gpc: bool,
    /// The widget's version.
    pub widget_version: WidgetVersion,
    /// The client's clock when the visitor saved; the collector's receive time is the
    /// authoritative one.
    #[serde(with = "time::serde::rfc3339")]
    pub client_time: OffsetDateTime,
    /// For identified preferences only: the address whose notices these are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
}

impl ConsentRecord {
    /// The canonical form: compact JSON, fields in schema order, purposes sorted.
    pub fn canonical_json(&self) -> String {
        // Plain data with string keys only: serializing cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// SHA-256 of the canonical form.
    pub fn digest(&self) -> ContentHash {
        ContentHash::of(self)
    }
}

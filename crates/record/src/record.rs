//! The consent record: what the widget sends and the collector stores.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::canonical::ContentHash;
use crate::fields::{
    Email, Language, NoticeId, NoticeVersion, Rfc3339Time, Site, SubjectToken, WidgetVersion,
};
use crate::purpose::Purposes;

/// How a record came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The visitor saved a choice in the widget.
    #[default]
    Widget,
    /// The collector recorded an RFC 8058 one-click unsubscribe from an e-mail.
    Unsubscribe,
}

impl Source {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Widget => "widget",
            Self::Unsubscribe => "unsubscribe",
        }
    }

    /// Whether this is the default, `widget` (left out of the JSON, so records made before
    /// the field existed keep their canonical form and digest).
    pub fn is_widget(&self) -> bool {
        matches!(self, Self::Widget)
    }
}

/// The longest a widget keeps a record waiting to be sent, by its page's clock (its outbox
/// drops older ones, and so does a kept click): a record arrives at most this long after
/// its choice was made, whatever that clock says of the time.
pub const LONGEST_WAIT: time::Duration = time::Duration::days(30);

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
    #[serde(deserialize_with = "crate::fields::uuid")]
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
    pub client_time: Rfc3339Time,
    /// For identified preferences only: the address whose notices these are. Only the
    /// company's own servers may send it (the collector wants an admin key); a page
    /// sends `subject_token` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    /// For identified preferences: the signed token of the manage link the visitor came
    /// by. The collector verifies it, stores the record under its subject and keeps the
    /// token itself out of the stored body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_token: Option<SubjectToken>,
    /// How the record came to be; `widget` when absent.
    #[serde(default, skip_serializing_if = "Source::is_widget")]
    pub source: Source,
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

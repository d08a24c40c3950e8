//! The consent-record and notice-document schema shared by the Assent widget and the
//! collector: one definition, validated the same way on both sides.
//!
//! Every type here validates itself while it is deserialized, so a value of these types
//! is always valid: `serde_json::from_str::<ConsentRecord>(body)` is the whole check.
#![deny(missing_docs, missing_debug_implementations)]

mod canonical;
mod error;
mod fields;
mod notice;
mod purpose;
mod receipt_file;
mod record;

pub use canonical::{sha256_hex, ContentHash};
pub use error::FieldError;
pub use fields::{
    Email, Href, JwksUri, Jws, Language, NoticeId, NoticeVersion, PlainText, Rfc3339Time, Site,
    SubjectToken, WidgetVersion,
};
pub use notice::{Block, Contact, Inline, Link, Notice, NoticePurpose, Section};
pub use purpose::{ConsentState, LawfulBasis, PurposeChoice, PurposeId, Purposes};
pub use receipt_file::{
    CollectionMethod, Controller, FileVersion, KeysRef, ReceiptAnswer, ReceiptFile, ReceiptPurpose,
    SignedReceipt,
};
pub use record::{ConsentRecord, NoticeRef, Source, LONGEST_WAIT};

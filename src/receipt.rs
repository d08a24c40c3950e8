//! The visitor's proof: the receipt file the collector issues for each record it stores
//! (`assent_record::ReceiptFile`: the record as stored, the signed receipt, and where the
//! keys that check it are published, in the Kantara / ISO 27560 vocabulary). The widget
//! keeps the current choice's file with the choice, shows when it was recorded and its
//! number, and hands it to the visitor and the host page as it is: checking it is for
//! `verify.html` and `assent-collector verify --receipt-file`, anyone's to run.

use assent_record::ConsentRecord;

use crate::browser::{self, env};

/// The event the host page hears when the receipt of its current choice arrives.
pub const RECEIPT_EVENT: &str = "assent:receipt";

/// What the preferences show of a receipt file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptSummary {
    /// The receipt's id: the record's.
    pub receipt_id: String,
    /// When the collector stored the record, RFC 3339.
    pub recorded_at: String,
}

impl ReceiptSummary {
    /// Whether it is the receipt of `record`.
    pub fn is_for(&self, record: &ConsentRecord) -> bool {
        self.receipt_id == record.record_id.to_string()
    }
}

/// The summary of a receipt file (JSON text), if it reads as one.
pub fn summary(file_json: &str) -> Option<ReceiptSummary> {
    let file = browser::json(file_json);
    Some(ReceiptSummary {
        receipt_id: env::string_property(&file, "receipt_id")?,
        recorded_at: env::string_property(&file, "recorded_at")?,
    })
}

/// The name the downloaded file gets.
pub fn file_name(receipt_id: &str) -> String {
    format!("consent-receipt-{receipt_id}.json")
}

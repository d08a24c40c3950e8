//! One choice for every covered site under one parent domain (`data-cookie-domain`). Each
//! save is also written to a compact first-party cookie on that domain (the notice's hash,
//! the record's id and time, each optional purpose's state; nothing personal), and a
//! site that finds a current one counts it as the visitor's choice and sends no record
//! for it. The loader reads the cookie and the wasm writes it (`browser::shared_cookie`);
//! this module decides what a cookie's choice means for the notice shown.

use assent_record::{ConsentRecord, ContentHash, Notice, PurposeId};
use thiserror::Error;
use wasm_bindgen::JsValue;

use crate::browser::env;
use crate::preferences::Choices;

/// Why a shared cookie's choice is not used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SharedChoiceError {
    /// For the notice shown, but not stating exactly its optional purposes, in its order.
    #[error("the shared choice cookie does not state this notice's purposes; it is ignored")]
    Forged,
}

/// A choice made on another covered site, as the shared cookie states it.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedChoice {
    /// The record that made it.
    pub record_id: String,
    /// When it was made, by this browser's clock, in milliseconds since the epoch.
    pub client_time_ms: f64,
    /// The optional purposes it grants (the others of the notice it denies).
    pub granted: Vec<PurposeId>,
    /// The loader's summary, which `Assent.preferences()` gives as it is.
    pub summary: JsValue,
}

impl SharedChoice {
    /// Reads the loader's summary of the cookie: `Ok(None)` when it is for another notice
    /// (asked again, as any changed notice is), an error when it is for this notice but
    /// does not state exactly its optional purposes, in its order.
    pub fn read(
        summary: JsValue,
        notice: &Notice,
        hash: &ContentHash,
    ) -> Result<Option<Self>, SharedChoiceError> {
        let notice_hash = env::object_property(&summary, "notice")
            .and_then(|notice| env::string_property(&notice, "hash"));
        let (Some(record_id), Some(time)) = (
            env::string_property(&summary, "record_id"),
            env::string_property(&summary, "client_time"),
        ) else {
            return Ok(None);
        };
        if notice_hash.as_deref() != Some(hash.as_str()) {
            return Ok(None);
        }
        let mut optional = notice.optional_purposes();
        let mut granted = Vec::new();
        for entry in env::array_property(&summary, "purposes") {
            let purpose = optional.next().ok_or(SharedChoiceError::Forged)?.id;
            if env::string_property(&entry, "purpose").as_deref() != Some(purpose.as_str()) {
                return Err(SharedChoiceError::Forged);
            }
            if env::string_property(&entry, "state").as_deref() == Some("granted") {
                granted.push(purpose);
            }
        }
        if optional.next().is_some() {
            return Err(SharedChoiceError::Forged);
        }
        Ok(Some(Self {
            record_id,
            client_time_ms: js_sys::Date::parse(&time),
            granted,
            summary,
        }))
    }

    /// Whether it is a later choice than `record` (another record, made after it).
    pub fn is_later_than(&self, record: &ConsentRecord) -> bool {
        let record_ms = env::millis_of(*record.client_time) as f64;
        self.record_id != record.record_id.to_string() && self.client_time_ms > record_ms
    }

    /// The toggles it states.
    pub fn choices(&self, notice: &Notice) -> Choices {
        Choices::from_fn(notice, &|purpose| self.granted.contains(&purpose))
    }
}

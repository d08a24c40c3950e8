//! The receipt file the visitor keeps: their record, the collector's signed receipt for it,
//! and where the keys that check it are published. Field names follow the Kantara Consent
//! Receipt v1.1 / ISO/IEC TS 27560 vocabulary where one exists.

use std::num::NonZeroU64;

use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use crate::canonical::ContentHash;
use crate::error::FieldError;
use crate::fields::{JwksUri, Jws, PlainText, Rfc3339Time, Site};
use crate::notice::{Block, Contact, Notice};
use crate::purpose::{ConsentState, LawfulBasis, PurposeChoice, PurposeId, Purposes};
use crate::record::{ConsentRecord, NoticeRef, Source};

/// The format's version tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileVersion {
    /// `assent-receipt-file/1`.
    #[serde(rename = "assent-receipt-file/1")]
    V1,
}

/// How the consent was collected (Kantara `collectionMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CollectionMethod {
    /// Saved by the visitor in the widget.
    #[serde(rename = "web widget")]
    WebWidget,
    /// An RFC 8058 one-click unsubscribe from an e-mail.
    #[serde(rename = "one-click unsubscribe")]
    OneClickUnsubscribe,
}

impl From<Source> for CollectionMethod {
    fn from(source: Source) -> Self {
        match source {
            Source::Widget => Self::WebWidget,
            Source::Unsubscribe => Self::OneClickUnsubscribe,
        }
    }
}

/// Who the consent was given to (Kantara `piiControllers`, ISO 27560 `controller`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Controller {
    /// The organisation's name.
    pub name: PlainText,
    /// How to reach it, from the notice's contact block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
}

impl Controller {
    /// The controller a notice names: its organisation and its first contact block.
    pub fn from_notice(notice: &Notice) -> Self {
        let contact = notice
            .sections
            .iter()
            .flat_map(|section| &section.blocks)
            .find_map(|block| match block {
                Block::Contact(contact) => Some(contact.clone()),
                _ => None,
            });
        Self {
            name: notice.organisation.clone(),
            contact,
        }
    }
}

/// One purpose as the receipt states it (ISO 27560 `purpose`, `lawful_basis`, `state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PurposeWire", into = "PurposeWire")]
pub struct ReceiptPurpose(PurposeChoice);

#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PurposeWire {
    purpose: PurposeId,
    lawful_basis: LawfulBasis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    state: Option<ConsentState>,
}

impl TryFrom<PurposeWire> for ReceiptPurpose {
    type Error = FieldError;
    fn try_from(wire: PurposeWire) -> Result<Self, FieldError> {
        PurposeChoice::new(wire.purpose, wire.lawful_basis, wire.state).map(Self)
    }
}

impl From<ReceiptPurpose> for PurposeWire {
    fn from(value: ReceiptPurpose) -> Self {
        Self {
            purpose: value.0.purpose(),
            lawful_basis: value.0.basis(),
            state: value.0.state(),
        }
    }
}

impl ReceiptPurpose {
    /// The purpose with its basis and state.
    pub fn choice(&self) -> PurposeChoice {
        self.0
    }
}

/// The signed receipt, as the collector answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedReceipt {
    /// JWS compact serialization of the receipt claims.
    pub jws: Jws,
    /// The record's place in the collector's chain.
    pub seq: NonZeroU64,
    /// The chain hash of its row.
    pub chain_hash: ContentHash,
}

/// Where the public keys are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysRef {
    /// The JWK set that verifies the receipt (`/.well-known/jwks.json` of the collector).
    pub jwks_uri: JwksUri,
}

/// The collector's answer to a POST of a record (201 or 200), or to a receipt GET. Fields
/// it does not know are ignored: a later collector may answer with more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptAnswer {
    /// The record's id.
    #[serde(deserialize_with = "crate::fields::uuid")]
    pub record_id: Uuid,
    /// Its place in the chain.
    pub seq: NonZeroU64,
    /// When the collector stored it.
    pub received_at: Rfc3339Time,
    /// The chain hash of its row.
    pub chain_hash: ContentHash,
    /// The signed receipt.
    pub receipt: Jws,
}

/// The receipt file: what the visitor downloads and anyone can check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptFile {
    /// Always `assent-receipt-file/1`.
    pub version: FileVersion,
    /// The receipt's id: the record's id (Kantara `consentReceiptID`).
    #[serde(deserialize_with = "crate::fields::uuid")]
    pub receipt_id: Uuid,
    /// Who the consent was given to.
    pub controller: Controller,
    /// The notice shown (Kantara `policyUrl`; ISO 27560 `notice`), by content hash.
    pub notice: NoticeRef,
    /// How the consent was collected.
    pub collection_method: CollectionMethod,
    /// When the visitor chose, by their clock (Kantara `consentTimestamp`).
    pub consent_timestamp: Rfc3339Time,
    /// When the collector stored the record, by its clock.
    pub recorded_at: Rfc3339Time,
    /// The covered site.
    pub site: Site,
    /// Every purpose with its basis and state.
    #[serde(deserialize_with = "purposes")]
    pub purposes: Vec<ReceiptPurpose>,
    /// The record as sent, without `email` and `subject_token`.
    #[serde(deserialize_with = "anonymous_record")]
    pub record: ConsentRecord,
    /// The collector's signed receipt.
    pub receipt: SignedReceipt,
    /// Where its keys are.
    pub keys: KeysRef,
}

impl ReceiptFile {
    /// The file for a record as sent and the collector's answer for it. The record's
    /// `email` and `subject_token` are left out: a token is a bearer secret, and the stored
    /// record, whose digest the receipt signs, has neither.
    pub fn new(
        record: &ConsentRecord,
        answer: &ReceiptAnswer,
        controller: Controller,
        jwks_uri: JwksUri,
    ) -> Result<Self, FieldError> {
        if answer.record_id != record.record_id {
            return Err(FieldError::Form {
                field: "record_id",
                expected: "the id of the record the answer is for",
            });
        }
        let mut record = record.clone();
        record.email = None;
        record.subject_token = None;
        Ok(Self {
            version: FileVersion::V1,
            receipt_id: record.record_id,
            controller,
            notice: record.notice.clone(),
            collection_method: record.source.into(),
            consent_timestamp: record.client_time.clone(),
            recorded_at: answer.received_at.clone(),
            site: record.site.clone(),
            purposes: record
                .purposes
                .iter()
                .copied()
                .map(ReceiptPurpose)
                .collect(),
            receipt: SignedReceipt {
                jws: answer.receipt.clone(),
                seq: answer.seq,
                chain_hash: answer.chain_hash.clone(),
            },
            keys: KeysRef { jwks_uri },
            record,
        })
    }

    /// The first summary field that does not say what the record says, if any.
    pub fn summary_mismatch(&self) -> Option<&'static str> {
        let record = &self.record;
        let purposes = Purposes::try_from(
            self.purposes
                .iter()
                .map(ReceiptPurpose::choice)
                .collect::<Vec<_>>(),
        );
        [
            ("receipt_id", self.receipt_id == record.record_id),
            ("site", self.site == record.site),
            ("notice", self.notice == record.notice),
            ("purposes", purposes.as_ref() == Ok(&record.purposes)),
            (
                "consent_timestamp",
                self.consent_timestamp == record.client_time,
            ),
            (
                "collection_method",
                self.collection_method == record.source.into(),
            ),
        ]
        .into_iter()
        .find_map(|(field, same)| (!same).then_some(field))
    }
}

fn purposes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<ReceiptPurpose>, D::Error> {
    let list = Vec::<ReceiptPurpose>::deserialize(deserializer)?;
    // The same bounds and uniqueness as a record's purposes.
    Purposes::try_from(list.iter().map(ReceiptPurpose::choice).collect::<Vec<_>>())
        .map_err(serde::de::Error::custom)?;
    Ok(list)
}

fn anonymous_record<'de, D: Deserializer<'de>>(deserializer: D) -> Result<ConsentRecord, D::Error> {
    let record = ConsentRecord::deserialize(deserializer)?;
    if record.email.is_some() || record.subject_token.is_some() {
        return Err(serde::de::Error::custom(
            "record of a receipt file must hold neither email nor subject_token",
        ));
    }
    Ok(record)
}

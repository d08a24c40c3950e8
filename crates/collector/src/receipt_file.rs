//! Checking a receipt file (`assent_record::ReceiptFile`, as the widget downloads it): its
//! signature, by the key its header names, and that what is signed is what the file says.

use assent_record::ReceiptFile;

use crate::receipt::{Claims, PublicKeys, ReceiptError};

/// Why a receipt file is not genuine, or not what it says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileProblem {
    /// Not a receipt file at all.
    #[error("not a valid receipt file: {0}")]
    Form(String),
    /// The receipt's signature fails, or its key is not known.
    #[error(transparent)]
    Receipt(#[from] ReceiptError),
    /// The signed claims say something else than the file's record or receipt.
    #[error("the signed receipt does not match the file: its {0} differs")]
    Claim(&'static str),
    /// The file's summary says something else than its record.
    #[error("the file's {0} does not match its record")]
    Summary(&'static str),
}

/// Checks a receipt file's text against the keys; returns the signed claims. A byte order
/// mark before it (an editor's, saving it again) is no part of it, as the verify page,
/// which reads the file as text, also takes it.
pub fn check(text: &str, keys: &PublicKeys) -> Result<Claims, FileProblem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let file: ReceiptFile =
        serde_json::from_str(text).map_err(|err| FileProblem::Form(err.to_string()))?;
    let claims = keys.verify(file.receipt.jws.as_str())?;
    if let Some(field) = claim_mismatch(&file, &claims) {
        return Err(FileProblem::Claim(field));
    }
    if let Some(field) = file.summary_mismatch() {
        return Err(FileProblem::Summary(field));
    }
    Ok(claims)
}

/// The first claim that differs from the file, if any.
fn claim_mismatch(file: &ReceiptFile, claims: &Claims) -> Option<&'static str> {
    let record = &file.record;
    let received_at = time::OffsetDateTime::parse(
        &claims.received_at,
        &time::format_description::well_known::Rfc3339,
    )
    .ok();
    [
        (
            "record_id",
            claims.record_id == record.record_id.hyphenated().to_string(),
        ),
        ("site", claims.site == record.site.as_str()),
        ("notice", claims.notice == record.notice),
        ("purposes", claims.purposes == record.purposes),
        ("gpc", claims.gpc == record.gpc),
        ("digest", claims.digest == record.digest().as_str()),
        (
            "seq",
            u64::try_from(claims.seq).ok() == Some(file.receipt.seq.get()),
        ),
        (
            "chain_hash",
            claims.chain_hash == file.receipt.chain_hash.as_str(),
        ),
        ("received_at", received_at == Some(*file.recorded_at)),
        // Receipts signed before the controller was have none to compare.
        (
            "controller",
            claims
                .controller
                .as_ref()
                .is_none_or(|signed| *signed == file.controller),
        ),
    ]
    .into_iter()
    .find_map(|(field, same)| (!same).then_some(field))
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU64;

    use assent_record::{ConsentRecord, ContentHash, Controller, JwksUri, Jws, PlainText};
    use assent_record::{ReceiptAnswer, ReceiptFile};

    use super::*;
    use crate::receipt::ReceiptKeys;

    const RECEIVED_AT: &str = "2026-11-30T22:39:00Z";

    /// A file for the test record whose receipt signs `controller` (none: as receipts did
    /// before the controller was signed), and the file's own controller Qualys.
    fn file(controller: Option<&str>, keys: &ReceiptKeys) -> String {
        let record: ConsentRecord =
            serde_json::from_str(include_str!("../tests/data/record.json")).unwrap();
        let named = |name: &str| Controller {
            name: PlainText::try_from(name).unwrap(),
            contact: None,
        };
        let claims = Claims::new(&record, 1, crate::chain::GENESIS, RECEIVED_AT)
            .given_to(controller.map(named));
        let answer = ReceiptAnswer {
            record_id: record.record_id,
            seq: NonZeroU64::MIN,
            received_at: RECEIVED_AT.parse().unwrap(),
            chain_hash: ContentHash::try_from(crate::chain::GENESIS.to_owned()).unwrap(),
            receipt: Jws::try_from(keys.sign(&claims)).unwrap(),
        };
        let jwks = JwksUri::try_from("https://consent.example.com/.well-known/jwks.json").unwrap();
        let file = ReceiptFile::new(&record, &answer, named("Qualys, Inc."), jwks).unwrap();
        serde_json::to_string(&file).unwrap()
    }

    #[test]
    fn a_signed_controller_must_be_the_files_and_an_older_receipt_has_none_to_compare() {
        let keys = ReceiptKeys::from_seeds(&[[7; 32]]).unwrap();
        let public = keys.public();
        let signed = check(&file(Some("Qualys, Inc."), &keys), &public).unwrap();
        assert_eq!(signed.controller.unwrap().name.as_str(), "Qualys, Inc.");
        assert_eq!(
            check(&file(Some("Someone Else Ltd"), &keys), &public),
            Err(FileProblem::Claim("controller"))
        );
        let older = check(&file(None, &keys), &public).unwrap();
        assert_eq!(older.controller, None);
    }

    /// Saved again by an editor that writes a byte order mark first: still the file.
    #[test]
    fn a_byte_order_mark_before_the_file_is_no_part_of_it() {
        let keys = ReceiptKeys::from_seeds(&[[7; 32]]).unwrap();
        let text = format!("\u{feff}{}", file(Some("Qualys, Inc."), &keys));
        assert!(check(&text, &keys.public()).is_ok());
        assert!(
            check(&format!("\u{feff}{text}"), &keys.public()).is_err(),
            "one mark only"
        );
    }
}

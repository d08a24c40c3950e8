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

/// Checks a receipt file's text against the keys; returns the signed claims.
pub fn check(text: &str, keys: &PublicKeys) -> Result<Claims, FileProblem> {
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
        ("received_at", received_at == Some(file.recorded_at)),
    ]
    .into_iter()
    .find_map(|(field, same)| (!same).then_some(field))
}

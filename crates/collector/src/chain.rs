//! The hash chain over stored records.
//!
//! Each link is `sha256:` + SHA-256 of the previous link and of everything stored about the
//! record that a verifier must be able to trust: sequence number, receive time, subject
//! and the record's canonical digest, one per line. Changing, removing or reordering any
//! stored row breaks every later link, unless they are all linked anew (the links hold no
//! secret): rows rewritten so, and the newest rows, which no later link follows, are
//! vouched for by their signed receipts (README: the chain's end).

use assent_record::{sha256_hex, ConsentRecord};

/// The `prev_hash` of the first record.
pub const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// The chain hash of one record given the previous link.
pub fn link(
    prev: &str,
    seq: i64,
    received_at: &str,
    subject: Option<&str>,
    digest: &str,
) -> String {
    let input = format!(
        "{prev}\n{seq}\n{received_at}\n{}\n{digest}",
        subject.unwrap_or("")
    );
    format!("sha256:{}", sha256_hex(input.as_bytes()))
}

/// One stored row as the verifier sees it.
#[derive(Debug, Clone)]
pub struct Row {
    /// Sequence number, from 1 without gaps.
    pub seq: i64,
    /// The record id column.
    pub record_id: String,
    /// The site column (what per-site exports and lookups select on).
    pub site: String,
    /// The stored record (without e-mail), canonical JSON.
    pub body: String,
    /// The digest column.
    pub digest: String,
    /// HMAC of the subject's address, if any.
    pub subject: Option<String>,
    /// The previous link column.
    pub prev_hash: String,
    /// This row's link column.
    pub chain_hash: String,
    /// Server receive time, RFC 3339.
    pub received_at: String,
}

/// Why a row fails verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    /// A sequence number is missing or repeated.
    #[error("sequence gap: expected {expected}")]
    Gap {
        /// The number that should have come.
        expected: i64,
    },
    /// The body no longer parses as a record: why (tampering, or a later version's).
    #[error("stored body is not a valid record: {0}")]
    Body(String),
    /// The body does not match its id column.
    #[error("record_id column does not match the body")]
    RecordId,
    /// The body does not match its site column.
    #[error("site column does not match the body")]
    Site,
    /// The body's digest differs from the stored digest.
    #[error("digest does not match the stored body")]
    Digest,
    /// The body means its record still, but is not that record's canonical form, byte
    /// for byte (keys reordered, spaces added): its SHA-256 is no longer its digest, as an
    /// export's reader checks.
    #[error("stored body is not its record's canonical form (its SHA-256 is not the digest)")]
    NotCanonical,
    /// `prev_hash` is not the previous row's chain hash.
    #[error("prev_hash does not match the previous link")]
    Prev,
    /// `chain_hash` does not match the recomputed link.
    #[error("chain_hash does not match the recomputed link")]
    Link,
    /// The subject column is not a subject: the link writes no subject as an empty line,
    /// so an empty one (or any other text in its place) must not pass for none.
    #[error("subject column is not an hmac-sha256 subject")]
    Subject,
}

/// Walks rows in sequence order, carrying the expected next link.
#[derive(Debug)]
pub struct Walker {
    next_seq: i64,
    prev: String,
}

impl Default for Walker {
    fn default() -> Self {
        Self {
            next_seq: 1,
            prev: GENESIS.to_owned(),
        }
    }
}

/// serde's reason, at most 200 characters of it: it may quote the stored value, which can
/// be as long as a body.
fn shortened(err: &serde_json::Error) -> String {
    let reason = err.to_string();
    match reason.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", &reason[..end]),
        None => reason,
    }
}

impl Walker {
    /// Checks one row; rows must come in `seq` order.
    pub fn check(&mut self, row: &Row) -> Result<(), Broken> {
        if row.seq != self.next_seq {
            return Err(Broken::Gap {
                expected: self.next_seq,
            });
        }
        let record: ConsentRecord =
            serde_json::from_str(&row.body).map_err(|err| Broken::Body(shortened(&err)))?;
        if record.record_id.hyphenated().to_string() != row.record_id {
            return Err(Broken::RecordId);
        }
        if record.site.as_str() != row.site {
            return Err(Broken::Site);
        }
        if record.digest().as_str() != row.digest {
            return Err(Broken::Digest);
        }
        if record.canonical_json() != row.body {
            return Err(Broken::NotCanonical);
        }
        if row.prev_hash != self.prev {
            return Err(Broken::Prev);
        }
        if row
            .subject
            .as_deref()
            .is_some_and(|subject| !crate::subject::is_subject(subject))
        {
            return Err(Broken::Subject);
        }
        let expected = link(
            &self.prev,
            row.seq,
            &row.received_at,
            row.subject.as_deref(),
            &row.digest,
        );
        if expected != row.chain_hash {
            return Err(Broken::Link);
        }
        self.next_seq += 1;
        self.prev = expected;
        Ok(())
    }

    /// How many rows passed.
    pub fn verified(&self) -> i64 {
        self.next_seq - 1
    }

    /// The last good link (the chain head after a full walk).
    pub fn head(&self) -> &str {
        &self.prev
    }
}

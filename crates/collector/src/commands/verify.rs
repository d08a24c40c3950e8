//! `verify`: the chain, the stored receipts, or one receipt.

use std::ops::ControlFlow;
use std::process::ExitCode;

use ed25519_dalek::VerifyingKey;
use serde_json::json;

use super::CommandError;
use crate::chain;
use crate::config::VerifyArgs;
use crate::keys;
use crate::receipt::{self, ReceiptKey};
use crate::store::{Store, StoreError, Stored};

/// `verify`: checks one receipt, or walks the chain (and every stored receipt when a key
/// is given). Exit status 1 when something fails.
pub async fn verify(args: VerifyArgs) -> Result<ExitCode, CommandError> {
    let key =
        match (&args.receipt_key, &args.public_key) {
            (Some(path), _) => Some(ReceiptKey::from_seed(keys::read(path)?).verifying_key()),
            (None, Some(x)) => Some(receipt::verifying_key_from_b64(x).ok_or(
                CommandError::Usage("--public-key must be the JWK's x: 32 bytes in base64url"),
            )?),
            (None, None) => None,
        };
    if let Some(token) = &args.receipt {
        let key = key.ok_or(CommandError::Usage(
            "checking a receipt needs --receipt-key or --public-key",
        ))?;
        return Ok(match receipt::verify(token, &key) {
            Ok(claims) => report(json!({ "ok": true, "claims": claims })),
            Err(err) => report(json!({ "ok": false, "reason": err.to_string() })),
        });
    }

    let store = Store::open_existing(&args.database.url).await?;
    let outcome = walk(&store, key.as_ref()).await;
    store.close().await;
    Ok(match outcome? {
        Ok(chain) => report(json!({
            "ok": true,
            "verified": chain.verified,
            "head": chain.head,
            "receipts_checked": key.is_some(),
        })),
        Err(broken) => report(json!({
            "ok": false,
            "verified": broken.verified,
            "broken_seq": broken.seq,
            "record_id": broken.record_id,
            "reason": broken.reason,
        })),
    })
}

/// A chain that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Rows checked.
    pub verified: i64,
    /// The last link.
    pub head: String,
}

/// The first row that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenAt {
    /// Rows that passed before it.
    pub verified: i64,
    /// Its sequence number.
    pub seq: i64,
    /// Its record id column.
    pub record_id: String,
    /// What is wrong.
    pub reason: String,
}

/// Re-walks the whole chain in order; with a key, also checks every stored receipt
/// against its row.
pub async fn walk(
    store: &Store,
    key: Option<&VerifyingKey>,
) -> Result<Result<Verified, BrokenAt>, StoreError> {
    let mut walker = chain::Walker::default();
    let broken = store
        .scan(None, |stored| {
            let broken = walker
                .check(&stored.chain_row())
                .err()
                .map(|e| e.to_string())
                .or_else(|| receipt_problem(&stored, key?));
            match broken {
                Some(reason) => ControlFlow::Break(BrokenAt {
                    verified: walker.verified(),
                    seq: stored.seq,
                    record_id: stored.record_id,
                    reason,
                }),
                None => ControlFlow::Continue(()),
            }
        })
        .await?;
    Ok(match broken {
        Some(broken) => Err(broken),
        None => Ok(Verified {
            verified: walker.verified(),
            head: walker.head().to_owned(),
        }),
    })
}

/// What is wrong with a row's stored receipt, if anything.
fn receipt_problem(stored: &Stored, key: &VerifyingKey) -> Option<String> {
    match receipt::verify(&stored.receipt, key) {
        Ok(c)
            if c.seq == stored.seq
                && c.chain_hash == stored.chain_hash
                && c.digest == stored.digest =>
        {
            None
        }
        Ok(_) => Some("receipt does not match the row".to_owned()),
        Err(err) => Some(err.to_string()),
    }
}

fn report(value: serde_json::Value) -> ExitCode {
    println!("{value}");
    if value["ok"] == true {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

//! `verify`: the chain, the stored receipts, one receipt, or a receipt file.

use std::ops::ControlFlow;
use std::process::ExitCode;

use serde_json::json;

use super::CommandError;
use crate::chain;
use crate::config::VerifyArgs;
use crate::keys::{self, KeyError};
use crate::receipt::{self, PublicKeys, ReceiptKeys};
use crate::store::{Store, StoreError, Stored};

/// `verify`: checks one receipt or receipt file, or walks the chain (and every stored
/// receipt when keys are given). Exit status 1 when something fails.
pub async fn verify(args: VerifyArgs) -> Result<ExitCode, CommandError> {
    let keys = public_keys(&args)?;
    let needs_keys =
        CommandError::Usage("checking a receipt needs --receipt-key, --jwks or --public-key");
    if let Some(token) = &args.receipt {
        let keys = keys.ok_or(needs_keys)?;
        return Ok(match keys.verify(token) {
            Ok(claims) => report(json!({ "ok": true, "claims": claims })),
            Err(err) => report(json!({ "ok": false, "reason": err.to_string() })),
        });
    }
    if let Some(path) = &args.receipt_file {
        let keys = keys.ok_or(needs_keys)?;
        let outcome = std::fs::read_to_string(path)
            .map_err(|err| format!("cannot read {}: {err}", path.display()))
            .and_then(|text| {
                crate::receipt_file::check(&text, &keys).map_err(|err| err.to_string())
            });
        return Ok(match outcome {
            Ok(claims) => report(json!({ "ok": true, "claims": claims })),
            Err(reason) => report(json!({ "ok": false, "reason": reason })),
        });
    }

    let store = Store::open_existing(&args.database.database()?).await?;
    let outcome = walk(&store, keys.as_ref()).await;
    store.close().await;
    Ok(match outcome? {
        Ok(chain) => report(json!({
            "ok": true,
            "verified": chain.verified,
            "head": chain.head,
            "receipts_checked": keys.is_some(),
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

/// The public keys given: one key, a JWK set file, or a key ring file, in that order (the
/// first two are given for this check, the ring may come from the environment or the
/// config file).
fn public_keys(args: &VerifyArgs) -> Result<Option<PublicKeys>, CommandError> {
    if let Some(x) = &args.public_key {
        let key = receipt::verifying_key_from_b64(x).ok_or(CommandError::Usage(
            "--public-key must be the JWK's x: 32 bytes in base64url",
        ))?;
        return Ok(Some(PublicKeys::one(key)));
    }
    if let Some(path) = &args.jwks {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
            path: path.clone(),
            source,
        })?;
        return PublicKeys::from_jwks(&text)
            .map(Some)
            .map_err(|source| CommandError::Jwks {
                path: path.clone(),
                source,
            });
    }
    let config = &args.database.config;
    match config.or_file(args.receipt_key.clone(), |file| &file.receipt_key)? {
        Some(path) => {
            let ring =
                ReceiptKeys::from_seeds(&keys::read_ring(&path)?).ok_or(KeyError::Form(path))?;
            Ok(Some(ring.public()))
        }
        None => Ok(None),
    }
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

/// Re-walks the whole chain in order; with keys, also checks every stored receipt against
/// its row, each with the key its header names.
pub async fn walk(
    store: &Store,
    keys: Option<&PublicKeys>,
) -> Result<Result<Verified, BrokenAt>, StoreError> {
    let mut walker = chain::Walker::default();
    let broken = store
        .scan(None, |stored| {
            let broken = walker
                .check(&stored.chain_row())
                .err()
                .map(|e| e.to_string())
                .or_else(|| receipt_problem(&stored, keys?));
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
fn receipt_problem(stored: &Stored, keys: &PublicKeys) -> Option<String> {
    match keys.verify(&stored.receipt) {
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

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

/// `verify`: checks one receipt or receipt file (with `--in-chain`, against the chain too),
/// or walks the chain (and every stored receipt when keys are given). Exit status 1 when
/// something fails.
pub async fn verify(args: VerifyArgs) -> Result<ExitCode, CommandError> {
    let keys = public_keys(&args)?;
    let needs_keys =
        CommandError::Usage("checking a receipt needs --receipt-key, --jwks or --public-key");
    let held = if let Some(token) = &args.receipt {
        let keys = keys.as_ref().ok_or(needs_keys)?;
        Some(keys.verify(token).map_err(|err| err.to_string()))
    } else if let Some(path) = &args.receipt_file {
        let keys = keys.as_ref().ok_or(needs_keys)?;
        Some(
            std::fs::read_to_string(path)
                .map_err(|err| format!("cannot read {}: {err}", path.display()))
                .and_then(|text| {
                    crate::receipt_file::check(&text, keys).map_err(|err| err.to_string())
                }),
        )
    } else if args.in_chain {
        return Err(CommandError::Usage(
            "--in-chain checks a receipt: give --receipt or --receipt-file",
        ));
    } else {
        None
    };
    let claims = match held {
        Some(Err(reason)) => return report(json!({ "ok": false, "reason": reason })),
        Some(Ok(claims)) if !args.in_chain => {
            return report(json!({ "ok": true, "claims": claims }))
        }
        Some(Ok(claims)) => Some(claims),
        None => None,
    };

    let store = Store::open_existing(&args.database.database()?).await?;
    let outcome = walk(&store, keys.as_ref()).await;
    let row = match &claims {
        Some(claims) => store
            .page(claims.seq.saturating_sub(1), 1, None)
            .await
            .map(|rows| rows.into_iter().find(|row| row.seq == claims.seq)),
        None => Ok(None),
    };
    store.close().await;
    let (outcome, row) = (outcome?, row?);
    match (outcome, claims) {
        (Err(broken), claims) => {
            let mut failed = json!({
                "ok": false,
                "verified": broken.verified,
                "broken_seq": broken.seq,
                "record_id": broken.record_id,
                "reason": broken.reason,
            });
            if let Some(claims) = claims {
                failed["claims"] = json!(claims);
            }
            report(failed)
        }
        (Ok(chain), None) => {
            let mut verified = json!({
                "ok": true,
                "verified": chain.verified,
                "head": chain.head,
                "receipts_checked": keys.is_some(),
            });
            if keys.is_some() {
                verified["signed_by"] = json!(chain.signed_by);
            }
            report(verified)
        }
        (Ok(chain), Some(claims)) => {
            let missing = match row {
                None => Some(format!(
                    "the chain has no row {}, the receipt's (it verifies to row {}): its end \
                     was cut, or the receipt is another database's",
                    claims.seq, chain.verified
                )),
                Some(row) if row.chain_hash != claims.chain_hash || row.digest != claims.digest => {
                    Some(format!(
                        "row {} is not the row the receipt signed: the chain was rewritten \
                         from there, or the receipt is another database's",
                        claims.seq
                    ))
                }
                Some(_) => None,
            };
            match missing {
                Some(reason) => report(json!({
                    "ok": false,
                    "claims": claims,
                    "verified": chain.verified,
                    "reason": reason,
                })),
                None => report(json!({
                    "ok": true,
                    "claims": claims,
                    "verified": chain.verified,
                    "head": chain.head,
                })),
            }
        }
    }
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
    /// With keys: which key signed which rows' receipts, in chain order, a run of rows
    /// each (none without keys). A key the operator does not know, or one signing rows of
    /// a time before it was made, is what a ring file someone added a key to shows.
    pub signed_by: Vec<SignedRun>,
}

/// Consecutive rows whose receipts one key signed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignedRun {
    /// The key's id (`kid`).
    pub kid: String,
    /// The run's first row.
    pub first_seq: i64,
    /// Its last.
    pub last_seq: i64,
    /// How many rows.
    pub rows: i64,
}

/// Adds the row `seq`, signed by `kid`, to `runs`.
fn signed(runs: &mut Vec<SignedRun>, kid: String, seq: i64) {
    match runs.last_mut() {
        Some(run) if run.kid == kid => {
            run.last_seq = seq;
            run.rows += 1;
        }
        _ => runs.push(SignedRun {
            kid,
            first_seq: seq,
            last_seq: seq,
            rows: 1,
        }),
    }
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
    let mut signed_by = Vec::new();
    let broken = store
        .scan(None, |stored| {
            // Before this row's check, which counts it once its link holds.
            let verified = walker.verified();
            let broken = walker
                .check(&stored.chain_row())
                .err()
                .map(|e| e.to_string())
                .or_else(|| receipt_problem(&stored, keys?));
            match broken {
                Some(reason) => ControlFlow::Break(BrokenAt {
                    verified,
                    seq: stored.seq,
                    record_id: stored.record_id,
                    reason,
                }),
                None => {
                    // Verified by a key of `keys`, whose id its header names.
                    if let (Some(_), Some(kid)) = (keys, receipt::kid_of(&stored.receipt)) {
                        signed(&mut signed_by, kid, stored.seq);
                    }
                    ControlFlow::Continue(())
                }
            }
        })
        .await?;
    Ok(match broken {
        Some(broken) => Err(broken),
        None => Ok(Verified {
            verified: walker.verified(),
            head: walker.head().to_owned(),
            signed_by,
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

fn report(value: serde_json::Value) -> Result<ExitCode, CommandError> {
    super::print_line(&value)?;
    Ok(if value["ok"] == true {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_rows_are_told_in_runs_of_one_key() {
        let mut runs = Vec::new();
        for (kid, seq) in [("a", 1), ("a", 2), ("b", 3), ("a", 4)] {
            signed(&mut runs, kid.to_owned(), seq);
        }
        let told: Vec<(&str, i64, i64, i64)> = runs
            .iter()
            .map(|run| (run.kid.as_str(), run.first_seq, run.last_seq, run.rows))
            .collect();
        assert_eq!(told, [("a", 1, 2, 2), ("b", 3, 3, 1), ("a", 4, 4, 1)]);
    }
}

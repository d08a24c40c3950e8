//! `export`: NDJSON in chain order, or a purpose's suppression list.

use std::io::Write;
use std::ops::ControlFlow;
use std::process::ExitCode;

use serde::Serialize;
use serde_json::json;
use serde_json::value::RawValue;

use super::CommandError;
use crate::config::{ExportArgs, ExportFormat};
use crate::keys;
use crate::store::{Store, Stored};
use crate::subject::SubjectKey;
use crate::suppression;

/// `export`: NDJSON, one stored row per line, in chain order.
pub async fn export(args: ExportArgs) -> Result<ExitCode, CommandError> {
    if let Some(purpose) = &args.suppression {
        if args.subject.is_some() {
            return Err(CommandError::Usage(
                "--suppression lists every subject: leave out --subject",
            ));
        }
        return suppression_list(&args, purpose).await;
    }
    if args.format == ExportFormat::Csv {
        return Err(CommandError::Usage(
            "--format csv is for a suppression list: add --suppression PURPOSE",
        ));
    }
    let subject = match &args.subject {
        Some(email) => {
            // As `preferences` reads it: a typo must not pass for a person with no history.
            let email = assent_record::Email::try_from(email.trim())
                .map_err(|_| CommandError::Usage("--subject must be an e-mail address"))?;
            let path = args.database.config.needed(
                args.subject_key.clone(),
                |file| &file.subject_key,
                "--subject-key",
            )?;
            Some(SubjectKey::new(keys::read(&path)?).subject(&email))
        }
        None => None,
    };
    let store = Store::open_existing(&args.database.database()?).await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let failed = store
        .scan(subject.as_deref(), |stored| {
            let written = serde_json::to_writer(&mut out, &line(stored))
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"));
            match written {
                Ok(()) => ControlFlow::Continue(()),
                Err(err) => ControlFlow::Break(err),
            }
        })
        .await?;
    if let Some(err) = failed {
        return Err(err.into());
    }
    out.flush()?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// One NDJSON line: the stored record and everything stored with it.
#[derive(Serialize)]
struct Line {
    seq: i64,
    received_at: String,
    record: Box<RawValue>,
    subject: Option<String>,
    digest: String,
    prev_hash: String,
    chain_hash: String,
    receipt: String,
}

/// The line of `stored`. Its record is the stored body byte for byte (its keys in their
/// order), so hashing it gives its `digest` and an auditor can check the chain from an
/// export alone.
fn line(stored: Stored) -> Line {
    // The body was written by us from a valid record; should it not be JSON, it is a string.
    let record = RawValue::from_string(stored.body.clone())
        .or_else(|_| serde_json::value::to_raw_value(&stored.body))
        .unwrap_or_default();
    Line {
        seq: stored.seq,
        received_at: stored.received_at,
        record,
        subject: stored.subject,
        digest: stored.digest,
        prev_hash: stored.prev_hash,
        chain_hash: stored.chain_hash,
        receipt: stored.receipt,
    }
}

/// `export --suppression PURPOSE`: the subjects whose current state for it is denied.
async fn suppression_list(args: &ExportArgs, purpose: &str) -> Result<ExitCode, CommandError> {
    let purpose = suppression::optional_purpose(purpose)?;
    let store = Store::open_existing(&args.database.database()?).await?;
    let list = suppression::list(&store, purpose).await;
    store.close().await;
    let list = list?;
    let stdout = std::io::stdout();
    let out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        ExportFormat::Csv => {
            // The header row comes from the field names: subject,since,record_id,seq.
            let mut csv = csv::Writer::from_writer(out);
            for entry in &list {
                csv.serialize(entry)?;
            }
            if list.is_empty() {
                csv.write_record(["subject", "since", "record_id", "seq"])?;
            }
            csv.flush()?;
        }
        ExportFormat::Ndjson => {
            let mut out = out;
            for entry in &list {
                writeln!(out, "{}", json!(entry))?;
            }
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

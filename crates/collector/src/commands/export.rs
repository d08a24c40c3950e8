//! `export`: NDJSON in chain order.

use std::io::Write;
use std::ops::ControlFlow;
use std::process::ExitCode;

use serde_json::json;

use super::CommandError;
use crate::config::ExportArgs;
use crate::keys;
use crate::store::{Store, Stored};
use crate::subject::SubjectKey;

/// `export`: NDJSON, one stored row per line, in chain order.
pub async fn export(args: ExportArgs) -> Result<ExitCode, CommandError> {
    let subject = match (&args.subject, &args.subject_key) {
        (Some(email), Some(path)) => Some(SubjectKey::new(keys::read(path)?).subject_of(email)),
        (Some(_), None) => {
            return Err(CommandError::Usage(
                "--subject needs --subject-key (the server's)",
            ))
        }
        (None, _) => None,
    };
    let store = Store::open_existing(&args.database.url).await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let failed = store
        .scan(subject.as_deref(), |stored| {
            match writeln!(out, "{}", line(stored)) {
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
fn line(stored: Stored) -> serde_json::Value {
    // The body was written by us from a valid record; keep it verbatim if not.
    let record: serde_json::Value =
        serde_json::from_str(&stored.body).unwrap_or(serde_json::Value::String(stored.body));
    json!({
        "seq": stored.seq,
        "received_at": stored.received_at,
        "record": record,
        "subject": stored.subject,
        "digest": stored.digest,
        "prev_hash": stored.prev_hash,
        "chain_hash": stored.chain_hash,
        "receipt": stored.receipt,
    })
}

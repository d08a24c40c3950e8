//! The subcommands.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::VerifyingKey;
use serde_json::json;

use crate::config::{ConfigError, ExportArgs, KeygenArgs, Settings, VerifyArgs};
use crate::keys::{self, KeyError};
use crate::receipt::{self, ReceiptKey};
use crate::store::{Store, StoreError};
use crate::subject::SubjectKey;
use crate::{chain, limit, metrics, AppState};

/// Why a command could not run.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Bad settings.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A key file failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Socket or terminal I/O failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A needed option is missing.
    #[error("{0}")]
    Usage(&'static str),
}

/// `serve`: runs until SIGINT or SIGTERM.
pub async fn serve(settings: Settings) -> Result<ExitCode, CommandError> {
    let store = Arc::new(Store::open(&settings.database).await?);
    let receipt_seed = match &settings.receipt_key {
        Some(path) => keys::read_or_create(path)?,
        None => {
            tracing::warn!(
                "no --receipt-key: receipts are signed with a key that dies with this process"
            );
            keys::random()?
        }
    };
    let subject_secret = match &settings.subject_key {
        Some(path) => keys::read_or_create(path)?,
        None => {
            tracing::warn!("no --subject-key: subject hashes will not match after a restart");
            keys::random()?
        }
    };
    let limits = Arc::new(limit::Limits::per_minute(
        settings.rate_per_ip,
        settings.rate_per_site,
    ));
    let state = AppState {
        store: store.clone(),
        receipt_key: Arc::new(ReceiptKey::from_seed(receipt_seed)),
        subject_key: Arc::new(SubjectKey::new(subject_secret)),
        limits: limits.clone(),
        metrics: Arc::new(metrics::Metrics::default()),
        allowed_origins: Arc::new(settings.allowed_origins),
        static_dir: settings.static_dir,
        client_ip_header: settings.client_ip_header,
    };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            limits.shrink();
        }
    });

    let listener = tokio::net::TcpListener::bind(settings.listen).await?;
    let local = listener.local_addr()?;
    tracing::info!(%local, "listening");
    // Tests and scripts read the bound address (port 0 picks one) from this line.
    println!("listening on http://{local}");
    std::io::stdout().flush()?;
    axum::serve(
        listener,
        crate::app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}

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
    let mut after = 0;
    loop {
        let page = store.page(after, 1000, None).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for stored in &page {
            let broken = walker
                .check(&stored.chain_row())
                .err()
                .map(|e| e.to_string())
                .or_else(|| match receipt::verify(&stored.receipt, key?) {
                    Ok(c)
                        if c.seq == stored.seq
                            && c.chain_hash == stored.chain_hash
                            && c.digest == stored.digest =>
                    {
                        None
                    }
                    Ok(_) => Some("receipt does not match the row".to_owned()),
                    Err(err) => Some(err.to_string()),
                });
            if let Some(reason) = broken {
                return Ok(Err(BrokenAt {
                    verified: walker.verified(),
                    seq: stored.seq,
                    record_id: stored.record_id.clone(),
                    reason,
                }));
            }
        }
    }
    Ok(Ok(Verified {
        verified: walker.verified(),
        head: walker.head().to_owned(),
    }))
}

fn report(value: serde_json::Value) -> ExitCode {
    println!("{value}");
    if value["ok"] == true {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

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
    let mut after = 0;
    loop {
        let page = store.page(after, 1000, subject.as_deref()).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for stored in page {
            // The body was written by us from a valid record; keep it verbatim if not.
            let record: serde_json::Value = serde_json::from_str(&stored.body)
                .unwrap_or(serde_json::Value::String(stored.body.clone()));
            let line = json!({
                "seq": stored.seq,
                "received_at": stored.received_at,
                "record": record,
                "subject": stored.subject,
                "digest": stored.digest,
                "prev_hash": stored.prev_hash,
                "chain_hash": stored.chain_hash,
                "receipt": stored.receipt,
            });
            writeln!(out, "{line}")?;
        }
    }
    out.flush()?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// `keygen`: writes new key files and prints the public JWK set.
pub fn keygen(args: KeygenArgs) -> Result<ExitCode, CommandError> {
    let key = ReceiptKey::from_seed(keys::create(&args.receipt_key)?);
    if let Some(path) = &args.subject_key {
        keys::create(path)?;
    }
    println!("{}", key.jwks());
    Ok(ExitCode::SUCCESS)
}

//! `serve`.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use super::CommandError;
use crate::admin::AdminKeys;
use crate::config::Settings;
use crate::keys;
use crate::listener::Passed;
use crate::receipt::ReceiptKeys;
use crate::receipt_issuer::ReceiptIssuer;
use crate::store::Store;
use crate::subject::SubjectKey;
use crate::token::LinkKey;
use crate::webhook::{self, WebhookSecret};
use crate::{limit, metrics, AppState};

/// `serve`: runs until SIGINT or SIGTERM, on the `passed` socket if there is one.
pub async fn serve(settings: Settings, passed: Passed) -> Result<ExitCode, CommandError> {
    let mut store = Store::open(&settings.database).await?;
    let webhook_secret = match &settings.webhook {
        Some(webhook) => {
            store = store.with_webhooks();
            Some(WebhookSecret::read_or_create(&webhook.secret_file)?)
        }
        None => None,
    };
    let store = Arc::new(store);
    let receipt_seeds = match &settings.receipt_key {
        Some(path) => keys::read_or_create_ring(path)?,
        None => {
            tracing::warn!(
                "no --receipt-key: receipts are signed with a key that dies with this process"
            );
            vec![keys::random()?]
        }
    };
    let mut receipt_keys = ReceiptKeys::from_seeds(&receipt_seeds)
        .ok_or(CommandError::Usage("the receipt key file holds no key"))?;
    if let Some(path) = &settings.receipt_key {
        receipt_keys = receipt_keys.published_from(path.clone());
    }
    tracing::info!(
        kid = receipt_keys.current().kid(),
        keys = receipt_seeds.len(),
        "signing receipts"
    );
    let subject_secret = match &settings.subject_key {
        Some(path) => keys::read_or_create(path)?,
        None => {
            tracing::warn!("no --subject-key: subject hashes will not match after a restart");
            keys::random()?
        }
    };
    let admin_keys = match &settings.admin_keys {
        Some(path) => AdminKeys::read(path)?,
        None => AdminKeys::none(),
    };
    let link_key = match &settings.link_key {
        Some(path) => LinkKey::from_file(path)?,
        None => {
            tracing::warn!("no --link-key: manage and unsubscribe links stop working at a restart");
            LinkKey::new(keys::random()?)
        }
    };
    // Bound before the state is made: unsubscribe links default to the bound address.
    let listener = passed.listener(settings.listen).await?;
    let local = listener.local_addr()?;
    let public_url = match settings.public_url {
        Some(url) => url,
        None => {
            if local.ip().is_unspecified() {
                tracing::warn!(%local, "no --public-url: unsubscribe links would name an address no one can reach; set it");
            } else if local.ip().is_loopback() {
                // The usual bind behind a proxy, where mail would carry links to 127.0.0.1.
                tracing::warn!(%local, "no --public-url: unsubscribe links and receipt files name this loopback address, which only this machine reaches; behind a proxy, set it to the proxy's https address");
            }
            format!("http://{local}")
                .parse()
                .map_err(crate::config::ConfigError::from)?
        }
    };
    let limits = Arc::new(limit::Limits::per_minute(
        settings.rate_per_ip,
        settings.rate_per_site,
    ));
    let receipt_issuer = ReceiptIssuer::new(&read_notices(&settings.notices)?, &public_url);
    if !receipt_issuer.issues_files() {
        tracing::warn!(public_url = public_url.join(""), "--public-url is plain http to another machine: receipts are signed, but no receipt file is issued (its keys must be fetched over https)");
    }
    if !public_url.is_secure() {
        tracing::warn!(public_url = public_url.join(""), "--public-url is plain http to another machine: no manage or unsubscribe link is minted (mail providers take only https one-click unsubscribe URLs)");
    }
    let state = AppState {
        store: store.clone(),
        receipt_keys: Arc::new(receipt_keys),
        subject_key: Arc::new(SubjectKey::new(subject_secret)),
        limits: limits.clone(),
        metrics: Arc::new(metrics::Metrics::default()),
        allowed_origins: Arc::new(settings.allowed_origins),
        static_dir: settings.static_dir,
        client_ip_header: settings.client_ip_header,
        admin_keys: Arc::new(admin_keys),
        link_key: Arc::new(link_key),
        public_url: Arc::new(public_url),
        receipt_issuer: Arc::new(receipt_issuer),
        tasks: tokio_util::task::TaskTracker::new(),
    };
    let tasks = state.tasks.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            limits.shrink();
        }
    });

    let worker = match (&settings.webhook, webhook_secret) {
        (Some(webhook), Some(secret)) => {
            tracing::info!(url = %webhook.url.origin().ascii_serialization(), "delivering changes by webhook");
            Some(webhook::spawn(
                store.clone(),
                webhook,
                secret,
                state.metrics.clone(),
            )?)
        }
        _ => None,
    };

    // Before the process says it listens: a SIGTERM sent as soon as it has (a quick
    // restart, a test) stops it gracefully, where the default action would kill it.
    let shutdown = shutdown()?;
    let shutdown = async {
        shutdown.await;
        if let Some(worker) = &worker {
            worker.stop_claiming();
        }
    };
    crate::server::raise_open_files_limit();
    tracing::info!(%local, "listening");
    // Tests and scripts read the bound address (port 0 picks one) from this line.
    // Not println!, which panics where stdout can't be written (its reader gone, a full
    // disk): the start fails with the reason.
    super::print_line(format_args!("listening on http://{local}"))?;
    std::io::stdout().flush()?;
    crate::server::run(listener, crate::app(state), shutdown).await;
    // The requests' work whose clients went away before it was done (an unsubscribe, a
    // record): finished before the store closes under it.
    tasks.close();
    tasks.wait().await;
    // Deliveries in flight end with their outcome written (a killed process's are posted
    // again once their lease runs out).
    if let Some(worker) = worker {
        worker.stop().await;
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Resolves at SIGTERM or Ctrl-C (SIGINT); on unix the handlers are in place once this
/// returns (elsewhere, Ctrl-C's once it is first polled).
fn shutdown() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// The `--notice` documents, each checked as the widget checks a notice. Translations of
/// one notice share its id, and receipt files find their controller by it: two documents
/// of one id naming different controllers (the default notice's or each other's) are
/// refused, as every receipt file of that id would name whichever came last.
fn read_notices(paths: &[std::path::PathBuf]) -> Result<Vec<assent_record::Notice>, CommandError> {
    let notices = paths
        .iter()
        .map(|path| {
            let failed = |reason: String| CommandError::Notice {
                path: path.clone(),
                reason,
            };
            let text = std::fs::read_to_string(path).map_err(|err| failed(err.to_string()))?;
            let notice: assent_record::Notice =
                serde_json::from_str(&text).map_err(|err| failed(err.to_string()))?;
            // Every receipt under it states them: a receipt too long for a receipt file
            // would leave its visitors without one.
            let controller = assent_record::Controller::from_notice(&notice);
            if let Some(length) = crate::receipt::controller_too_long(&controller) {
                return Err(failed(format!(
                    "its organisation and contact block take {length} bytes of JSON; every receipt states them, and at most {} fit",
                    crate::receipt::CONTROLLER_MAX_BYTES
                )));
            }
            Ok(notice)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let default = crate::unsubscribe::default_notice().ok();
    let mut named: Vec<(&assent_record::Notice, Option<&std::path::PathBuf>)> =
        default.iter().map(|notice| (notice, None)).collect();
    for (notice, path) in notices.iter().zip(paths) {
        let controller = assent_record::Controller::from_notice(notice);
        if let Some((_, earlier)) = named.iter().find(|(other, _)| {
            other.id == notice.id && assent_record::Controller::from_notice(other) != controller
        }) {
            let earlier = earlier.map_or("the default notice".to_owned(), |earlier| {
                earlier.display().to_string()
            });
            return Err(CommandError::Notice {
                path: path.clone(),
                reason: format!(
                    "its id {} is that of {earlier}, which names another organisation or contact block: receipt files find their controller by the id",
                    notice.id
                ),
            });
        }
        named.push((notice, Some(path)));
    }
    Ok(notices)
}

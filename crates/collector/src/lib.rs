//! Assent collector: accepts consent records from the covered sites, stores them
//! append-only in one hash chain, and signs receipts.
#![deny(missing_docs, missing_debug_implementations)]

pub mod admin;
pub mod chain;
pub mod changes;
pub mod commands;
pub mod config;
pub mod error;
pub mod keys;
pub mod limit;
pub mod link;
pub mod listener;
pub mod metrics;
pub mod pages;
pub mod preferences;
pub mod receipt;
pub mod receipt_file;
pub mod receipt_issuer;
pub mod routes;
pub mod server;
pub mod standing;
pub mod store;
pub mod subject;
pub mod suppression;
pub mod token;
pub mod unsubscribe;
pub mod webhook;

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::{HeaderName, HeaderValue};

pub use routes::app;

/// Everything the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The record store.
    pub store: Arc<store::Store>,
    /// Signs receipts (the newest key) and publishes every key of the ring.
    pub receipt_keys: Arc<receipt::ReceiptKeys>,
    /// Hashes e-mail addresses.
    pub subject_key: Arc<subject::SubjectKey>,
    /// Rate limits.
    pub limits: Arc<limit::Limits>,
    /// Metrics.
    pub metrics: Arc<metrics::Metrics>,
    /// Origins allowed to POST.
    pub allowed_origins: Arc<Vec<HeaderValue>>,
    /// Static files to serve at `/`, if any.
    pub static_dir: Option<PathBuf>,
    /// Header a trusted proxy puts the client IP in; else the socket peer is the client.
    pub client_ip_header: Option<HeaderName>,
    /// Bearer keys of the admin routes (none: every admin request is refused).
    pub admin_keys: Arc<admin::AdminKeys>,
    /// Signs and checks link tokens.
    pub link_key: Arc<token::LinkKey>,
    /// The collector's public base address, for unsubscribe links.
    pub public_url: Arc<link::PublicUrl>,
    /// Issues the receipt files that answers carry.
    pub receipt_issuer: Arc<receipt_issuer::ReceiptIssuer>,
    /// The requests' work that runs to its end on its own (`routes::detached`): waited
    /// for at shutdown, before the store closes.
    pub tasks: tokio_util::task::TaskTracker,
}

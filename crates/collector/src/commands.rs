//! The subcommands.

mod export;
mod link;
mod preferences;
mod serve;
mod verify;

use std::process::ExitCode;

pub use export::export;
pub use link::link;
pub use preferences::preferences;
pub use serve::serve;
pub use verify::{verify, walk, BrokenAt, Verified};

use crate::config::{ConfigError, KeygenArgs};
use crate::keys::{self, KeyError};
use crate::receipt::ReceiptKey;
use crate::store::StoreError;

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
    /// The admin keys file failed.
    #[error(transparent)]
    AdminKeys(#[from] crate::admin::AdminKeysError),
    /// The listen address can't be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// Socket or terminal I/O failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A link can't be made from these options.
    #[error(transparent)]
    Link(#[from] crate::link::LinkError),
    /// A needed option is missing.
    #[error("{0}")]
    Usage(&'static str),
    /// The webhook secret file failed.
    #[error(transparent)]
    WebhookSecret(#[from] crate::webhook::SecretError),
    /// The webhook worker can't start.
    #[error(transparent)]
    WebhookWorker(#[from] crate::webhook::WorkerError),
    /// A purpose without a suppression list.
    #[error(transparent)]
    Purpose(#[from] crate::suppression::PurposeError),
    /// Writing CSV failed.
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
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

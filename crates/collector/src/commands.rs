//! The subcommands.

mod export;
mod link;
mod preferences;
mod requeue;
mod serve;
mod verify;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub use export::export;
pub use link::link;
pub use preferences::preferences;
pub use requeue::requeue;
pub use serve::serve;
pub use verify::{verify, walk, BrokenAt, Verified};

use crate::config::{ConfigError, KeygenArgs};
use crate::keys::{self, KeyError};
use crate::receipt::ReceiptKeys;
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
    /// A JWK set file can't be used.
    #[error("JWK set {path}: {source}")]
    Jwks {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        source: crate::receipt::JwksError,
    },
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
    /// The socket passed by the service manager (`LISTEN_FDS`) can't be listened on.
    #[error("the socket passed in LISTEN_FDS (fd 3) is not a TCP listener: {0}")]
    PassedSocket(std::io::Error),
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
    /// A `--notice` file can't be read or is not a valid notice.
    #[error("notice {path}: {reason}")]
    Notice {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// `keygen`: writes new key files (or, with `--rotate`, adds a key to the receipt or link
/// key ring) and prints the public JWK set of the receipt key ring, if one was written.
pub fn keygen(args: KeygenArgs) -> Result<ExitCode, CommandError> {
    // Refused before anything is written: a key made first would be left behind, and the
    // same command run again refused for it.
    crate::config::distinct_key_files(&[
        ("--receipt-key", args.receipt_key.as_deref()),
        ("--subject-key", args.subject_key.as_deref()),
        ("--link-key", args.link_key.as_deref()),
    ])?;
    let named: Vec<&PathBuf> = [&args.receipt_key, &args.subject_key, &args.link_key]
        .into_iter()
        .flatten()
        .collect();
    for path in &named {
        if !args.rotate && keys::present(path)? {
            return Err(keys::KeyError::Exists((*path).clone()).into());
        }
        // Each ring there and readable before either is rotated: a receipt key added and
        // then the link key's file found missing would leave the command half done.
        if args.rotate {
            if !keys::present(path)? {
                return Err(keys::KeyError::Missing((*path).clone()).into());
            }
            keys::read_ring(path)?;
        }
    }
    let seeds = if args.rotate {
        let seeds = args.receipt_key.as_deref().map(keys::rotate).transpose()?;
        if let Some(path) = &args.link_key {
            keys::rotate(path)?;
        }
        seeds
    } else {
        // `named` begins with the receipt key, if one is named.
        let paths: Vec<&Path> = named.iter().map(|path| path.as_path()).collect();
        let made = keys::create_all(&paths)?;
        args.receipt_key
            .as_ref()
            .and(made.first().map(|seed| vec![*seed]))
    };
    if let Some(seeds) = seeds {
        let ring = ReceiptKeys::from_seeds(&seeds).ok_or(CommandError::Usage("no receipt key"))?;
        print_line(ring.jwks())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `line` and a newline to standard output. A failed write (the pipe's reader gone,
/// as when `verify … | head` has read enough) is the command's error, told on standard
/// error with exit code 1, where `println!` would panic (Rust ignores SIGPIPE).
pub(crate) fn print_line(line: impl std::fmt::Display) -> Result<(), CommandError> {
    use std::io::Write;
    writeln!(std::io::stdout().lock(), "{line}")?;
    Ok(())
}

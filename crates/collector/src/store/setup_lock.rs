//! One process at a time sets up an SQLite file.
//!
//! Switching a file to WAL and applying migrations are not safe to run from several
//! processes at once: SQLite has no lock that waits for the WAL switch, and sqlx's SQLite
//! migrator takes none, so a second process re-runs a migration the first one committed
//! ("table records already exists"). PostgreSQL's migrator takes an advisory lock itself.
//!
//! The lock is an advisory lock (`flock`) on a file beside the database, `<file>-setup.lock`,
//! held only while opening. Not on the database file itself: closing any other descriptor
//! of that file would drop SQLite's own POSIX locks on it.

use std::fs::{File, OpenOptions};
use std::path::Path;

/// Held while this process sets up the database; released on drop.
#[derive(Debug)]
pub(super) struct SetupLock {
    // Closing it releases the lock.
    _file: File,
}

impl SetupLock {
    /// Waits until no other process sets up the SQLite file at `database`.
    pub(super) async fn acquire(database: &Path) -> std::io::Result<Self> {
        let mut name = database.as_os_str().to_owned();
        name.push("-setup.lock");
        tokio::task::spawn_blocking(move || {
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&name)?;
            file.lock()?;
            Ok(Self { _file: file })
        })
        .await
        .map_err(std::io::Error::other)?
    }
}

//! One process at a time sets up an SQLite file.
//!
//! Switching a file to WAL and applying migrations are not safe to run from several
//! processes at once: SQLite has no lock that waits for the WAL switch, and sqlx's SQLite
//! migrator takes none, so a second process re-runs a migration the first one committed
//! ("table records already exists"). PostgreSQL's migrator takes an advisory lock itself.
//!
//! The lock is an advisory lock (`flock`) on a file beside the database, `<file>-setup.lock`
//! (the file's real path, links resolved), held only while opening. Not on the database file itself: closing any other descriptor
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
        // Named after the file itself: a process given a symbolic link to it (or a path
        // through one) takes the same lock as one given its real path. A file not made yet
        // has no real path: the one given, as every process creating it is given.
        let real = std::fs::canonicalize(database).unwrap_or_else(|_| database.to_owned());
        let mut name = real.into_os_string();
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A process given a symbolic link to the database waits for one setting it up by its
    /// real path.
    #[cfg(unix)]
    #[tokio::test]
    async fn a_link_to_the_file_takes_the_same_lock() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("records.db");
        std::fs::write(&real, b"").unwrap();
        let link = dir.path().join("link.db");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let held = SetupLock::acquire(&real).await.unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(300), SetupLock::acquire(&link))
                .await
                .is_err(),
            "the link's lock waits while the file's is held"
        );
        drop(held);
        let _again = SetupLock::acquire(&link).await.unwrap();
    }
}

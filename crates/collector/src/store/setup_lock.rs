//! One process at a time sets up an SQLite file.
//!
//! Switching a file to WAL and applying migrations are not safe to run from several
//! processes at once: SQLite has no lock that waits for the WAL switch, and sqlx's SQLite
//! migrator takes none, so a second process re-runs a migration the first one committed
//! ("table records already exists"). PostgreSQL's migrator takes an advisory lock itself.
//!
//! The lock is an advisory lock (`flock`) on a file beside the database, `<file>-setup.lock`
//! (the file's real path, links resolved, of a file not made yet too), held only while
//! opening. Not on the database file itself: closing any other descriptor of that file
//! would drop SQLite's own POSIX locks on it.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// Held while this process sets up the database; released on drop.
#[derive(Debug)]
pub(super) struct SetupLock {
    // Closing it releases the lock.
    _file: File,
}

impl SetupLock {
    /// Waits until no other process sets up the SQLite file at `database`.
    pub(super) async fn acquire(database: &Path) -> std::io::Result<Self> {
        let mut name = real_path(database).into_os_string();
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

/// The file's real path, that of a file not made yet too: a process given a symbolic link
/// to it (or a path through one) takes the same lock as one given its real path, also
/// while the link's file is not there yet (SQLite makes it where the link points).
fn real_path(database: &Path) -> PathBuf {
    let mut path = database.to_owned();
    // As many links as Linux follows in one path.
    for _ in 0..40 {
        match std::fs::read_link(&path) {
            // A relative target is relative to the link's directory.
            Ok(target) => {
                path = match path.parent() {
                    Some(dir) => dir.join(target),
                    None => target,
                }
            }
            Err(_) => break,
        }
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    match (std::fs::canonicalize(dir), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path,
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
            waits(&link).await,
            "the link's lock waits while the file's is held"
        );
        drop(held);
        let _again = SetupLock::acquire(&link).await.unwrap();
    }

    /// The same with a link to a file not made yet (a data volume's, at a first start):
    /// the process that makes it through the link and one given its real path, which
    /// sees it made, take one lock.
    #[cfg(unix)]
    #[tokio::test]
    async fn a_link_to_a_file_not_made_yet_takes_the_same_lock() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("volume")).unwrap();
        let link = dir.path().join("records.db");
        std::os::unix::fs::symlink("volume/records.db", &link).unwrap();
        let held = SetupLock::acquire(&link).await.unwrap();
        let real = dir.path().join("volume/records.db");
        std::fs::write(&real, b"").unwrap();
        assert!(
            waits(&real).await,
            "the file's lock waits while the link's is held"
        );
        drop(held);
    }

    /// Whether the lock of `database` is still not taken after 300 ms: held by another.
    async fn waits(database: &Path) -> bool {
        tokio::time::timeout(Duration::from_millis(300), SetupLock::acquire(database))
            .await
            .is_err()
    }
}

//! Secret key files: 32 random bytes, base64url, one line, readable by the owner only.
//! A receipt key file is a ring: one such line per key, oldest first.
//!
//! Files appear whole or not at all: each is written to a temp file in the same
//! directory, synced, and then linked (new files) or renamed (rotation) into place, so
//! several processes starting at once on one new path all end up reading the same key.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Why a key file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read.
    #[error("cannot read key file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file could not be written.
    #[error("cannot write key file {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file exists and must not be overwritten.
    #[error("key file {0} already exists; it is never overwritten (to add a receipt or link key to its ring, use `assent-collector keygen --rotate`)")]
    Exists(PathBuf),
    /// A rotation was asked for a file that does not exist.
    #[error("key file {0} does not exist: there is nothing to rotate (make it with `assent-collector keygen --receipt-key FILE` or `--link-key FILE`)")]
    Missing(PathBuf),
    /// A key file only the server makes is not there.
    #[error("key file {0} does not exist: give the file `serve` uses (it creates its keys at its first start; `assent-collector keygen` makes them too)")]
    NotMade(PathBuf),
    /// The file does not hold 32 bytes in base64url.
    #[error("key file {0} does not hold 32 bytes in base64url (make one with `assent-collector keygen`)")]
    Form(PathBuf),
    /// A line of a key ring does not hold 32 bytes in base64url.
    #[error("key file {path}, line {line}: not 32 bytes in base64url")]
    RingLine {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
    },
    /// The system's random source failed.
    #[error("no randomness available: {0}")]
    Random(getrandom::Error),
}

/// 32 fresh random bytes.
pub fn random() -> Result<[u8; 32], KeyError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(KeyError::Random)?;
    Ok(bytes)
}

fn read_text(path: &Path) -> Result<String, KeyError> {
    std::fs::read_to_string(path).map_err(|source| KeyError::Read {
        path: path.into(),
        source,
    })
}

fn decode(line: &str) -> Option<[u8; 32]> {
    URL_SAFE_NO_PAD
        .decode(line.trim())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
}

/// Whether two paths name one file: the same file once symbolic links and `..` are
/// resolved where it exists, the same absolute path where it does not yet.
pub fn same_file(a: &Path, b: &Path) -> bool {
    let resolved = |path: &Path| {
        std::fs::canonicalize(path)
            .or_else(|_| std::path::absolute(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    a == b || resolved(a) == resolved(b)
}

/// Reads a one-key file.
pub fn read(path: &Path) -> Result<[u8; 32], KeyError> {
    decode(&read_text(path)?).ok_or_else(|| KeyError::Form(path.into()))
}

/// Whether the key file is there; an error, saying why, when that can't be told (a
/// directory on its path this process may not enter, or a file in a directory's place),
/// which `Path::exists` took for "not there": a key never made, or made anew. A symbolic
/// link to nothing is there: its name can't be given to a new key (a hard link onto it
/// fails), so taking it for missing left keygen's other keys made and this one not.
pub fn present(path: &Path) -> Result<bool, KeyError> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(KeyError::Read {
            path: path.into(),
            source,
        }),
    }
}

/// Reads a one-key file the server made: one that is not there is [`KeyError::NotMade`],
/// never created, since a key of this command's own would not be the server's.
pub fn read_made(path: &Path) -> Result<[u8; 32], KeyError> {
    if !present(path)? {
        return Err(KeyError::NotMade(path.into()));
    }
    read(path)
}

/// [`read_ring`] of a ring the server made: one that is not there is [`KeyError::NotMade`].
pub fn read_made_ring(path: &Path) -> Result<Vec<[u8; 32]>, KeyError> {
    if !present(path)? {
        return Err(KeyError::NotMade(path.into()));
    }
    read_ring(path)
}

/// Reads a key ring: every key, oldest first (at least one). A one-key file is a ring of one.
pub fn read_ring(path: &Path) -> Result<Vec<[u8; 32]>, KeyError> {
    let text = read_text(path)?;
    let seeds = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            decode(line).ok_or_else(|| KeyError::RingLine {
                path: path.into(),
                line: i + 1,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if seeds.is_empty() {
        return Err(KeyError::Form(path.into()));
    }
    Ok(seeds)
}

/// Writes a new key file at each of `paths`; never overwrites one (a lost key would
/// orphan every receipt). Every key is written beside its name before any is given its
/// name: a directory that refuses one (not writable, not a directory, full) leaves none
/// made, and the same command can be run again once it is seen to.
pub fn create_all(paths: &[&Path]) -> Result<Vec<[u8; 32]>, KeyError> {
    let mut written = Vec::with_capacity(paths.len());
    for path in paths {
        let made = random().and_then(|bytes| {
            let temp = write_temp(path, &format!("{}\n", URL_SAFE_NO_PAD.encode(bytes)), None)?;
            Ok((temp, bytes))
        });
        match made {
            Ok(made) => written.push(made),
            Err(err) => {
                for (temp, _) in &written {
                    let _ = std::fs::remove_file(temp);
                }
                return Err(err);
            }
        }
    }
    let mut keys = Vec::with_capacity(paths.len());
    let mut named = Ok(());
    for ((temp, bytes), path) in written.into_iter().zip(paths) {
        if named.is_ok() {
            named = link_new(&temp, path);
            keys.push(bytes);
        } else {
            let _ = std::fs::remove_file(&temp);
        }
    }
    named.map(|()| keys)
}

/// Writes `line` to a new secret file (owner-only, synced), making its directory; never
/// overwrites one ([`KeyError::Exists`]). The file appears with its whole content.
pub fn write_new(path: &Path, line: &str) -> Result<(), KeyError> {
    link_new(&write_temp(path, &format!("{line}\n"), None)?, path)
}

/// Gives the written file `temp` the name `path` (and removes `temp`), unless `path`
/// exists.
fn link_new(temp: &Path, path: &Path) -> Result<(), KeyError> {
    // A hard link fails if the name exists, unlike a rename: the atomic "create new".
    let linked = std::fs::hard_link(temp, path);
    let _ = std::fs::remove_file(temp);
    match linked {
        Ok(()) => sync_dir(path),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(KeyError::Exists(path.into()))
        }
        Err(source) => Err(KeyError::Write {
            path: path.into(),
            source,
        }),
    }
}

/// Makes the secret file with `make()`'s line if it does not exist yet; if another
/// process made it meanwhile, leaves that one. Either way its name is on disk when this
/// returns: a process starting beside the one making it may sign with the key before that
/// one has synced the directory, and a power cut then must not lose the key.
pub fn ensure(
    path: &Path,
    make: impl FnOnce() -> Result<String, KeyError>,
) -> Result<(), KeyError> {
    // Made by another process (best effort: a directory this process may only pass
    // through, not read, holds a key made long ago, and that one is on disk).
    let synced = |path: &Path| {
        let _ = sync_dir(path);
        Ok(())
    };
    if present(path)? {
        return synced(path);
    }
    match write_new(path, &make()?) {
        Ok(()) => Ok(()),
        Err(KeyError::Exists(_)) => synced(path),
        Err(err) => Err(err),
    }
}

/// Reads the key file, creating it first if it does not exist.
pub fn read_or_create(path: &Path) -> Result<[u8; 32], KeyError> {
    ensure(path, new_line)?;
    read(path)
}

/// Reads the key ring, creating it with one key first if it does not exist.
pub fn read_or_create_ring(path: &Path) -> Result<Vec<[u8; 32]>, KeyError> {
    ensure(path, new_line)?;
    read_ring(path)
}

/// Adds a new key at the end of an existing ring (the one that signs from now on) and
/// returns the whole ring. The file is replaced in one rename: a reader sees the old ring
/// or the new one, never a part.
pub fn rotate(path: &Path) -> Result<Vec<[u8; 32]>, KeyError> {
    if !present(path)? {
        return Err(KeyError::Missing(path.into()));
    }
    // The file a symbolic link names, replaced where it is: a rename onto the link would
    // put a file in the link's place and leave the new key out of the file it named.
    let path = &std::fs::canonicalize(path).map_err(|source| KeyError::Read {
        path: path.into(),
        source,
    })?;
    // Rotations take turns: two reading the same ring would each write it back with only
    // their own new key, and the first one's would be lost.
    let _turn = lock(path)?;
    let mut ring = read_ring(path)?;
    ring.push(random()?);
    let text: String = ring
        .iter()
        .map(|seed| format!("{}\n", URL_SAFE_NO_PAD.encode(seed)))
        .collect();
    let old = std::fs::metadata(path).map_err(|source| KeyError::Read {
        path: path.into(),
        source,
    })?;
    let temp = write_temp(path, &text, Some(&old))?;
    if let Err(source) = std::fs::rename(&temp, path) {
        let _ = std::fs::remove_file(&temp);
        return Err(KeyError::Write {
            path: path.into(),
            source,
        });
    }
    sync_dir(path)?;
    Ok(ring)
}

/// Gives the open file `made` the mode and, where allowed, the owner and group of `old`:
/// an operator rotating as root must not leave the ring unreadable to the service's user.
/// Through the handle of a file this process made, never by name: the service's user can
/// write the directory, and a name it swapped for a symbolic link to /etc/shadow would
/// have root give that file to it.
fn same_access(made: &std::fs::File, old: &std::fs::Metadata) -> std::io::Result<()> {
    made.set_permissions(old.permissions())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // Only root may give a file away; anyone else's rotation keeps the file theirs.
        match std::os::unix::fs::fchown(made, Some(old.uid()), Some(old.gid())) {
            Err(err) if err.kind() == std::io::ErrorKind::PermissionDenied => {}
            other => other?,
        }
    }
    Ok(())
}

/// An exclusive lock on `.<name>.lock` beside `path`, held until the file is dropped (or
/// the process ends). A file of its own: the rename that replaces `path` would leave a lock
/// on `path` itself behind on the old file.
fn lock(path: &Path) -> Result<std::fs::File, KeyError> {
    let lock_err = |source| KeyError::Write {
        path: path.into(),
        source,
    };
    let lock_path = beside(path, "lock");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = match options.open(&lock_path) {
        Ok(made) => {
            // The ring's owner and mode, as the ring itself keeps them: made by a rotation
            // run as root, a lock file of root's own would refuse the service's user its
            // next rotation. (Best effort: the lock is held whether or not the owner could
            // be given.)
            if let Ok(old) = std::fs::metadata(path) {
                let _ = same_access(&made, &old);
            }
            made
        }
        // One made before is not followed if a symbolic link (see same_access), and is
        // given the ring's owner only if it is a file of its own: a hard link to another
        // file (/etc/shadow) has more than one name.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            let mut options = std::fs::OpenOptions::new();
            options.write(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
            let file = options.open(&lock_path).map_err(lock_err)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                let own = file.metadata().is_ok_and(|m| m.is_file() && m.nlink() == 1);
                if let (true, Ok(old)) = (own, std::fs::metadata(path)) {
                    let _ = same_access(&file, &old);
                }
            }
            file
        }
        Err(err) => return Err(lock_err(err)),
    };
    file.lock().map_err(lock_err)?;
    Ok(file)
}

/// `.<name>.<tail>`, hidden beside `path`.
fn beside(path: &Path, tail: &str) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "key".into(), |name| name.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.{tail}"))
}

fn new_line() -> Result<String, KeyError> {
    Ok(URL_SAFE_NO_PAD.encode(random()?))
}

/// Writes `text` to a fresh owner-only temp file next to `path`, synced; with the mode and
/// owner of `like` if given (see same_access).
fn write_temp(
    path: &Path,
    text: &str,
    like: Option<&std::fs::Metadata>,
) -> Result<PathBuf, KeyError> {
    let write_err = |source| KeyError::Write {
        path: path.into(),
        source,
    };
    crate::store::create_parent(path).map_err(write_err)?;
    let suffix = &URL_SAFE_NO_PAD.encode(random()?)[..12];
    let temp = beside(path, &format!("{suffix}.tmp"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temp).and_then(|mut file| {
        if let Some(like) = like {
            same_access(&file, like)?;
        }
        file.write_all(text.as_bytes())?;
        file.sync_all()
    });
    match written {
        Ok(()) => Ok(temp),
        Err(source) => {
            let _ = std::fs::remove_file(&temp);
            Err(write_err(source))
        }
    }
}

/// Syncs the directory of `path`, so the new name survives a crash.
fn sync_dir(path: &Path) -> Result<(), KeyError> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        std::fs::File::open(dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|source| KeyError::Write {
                path: path.into(),
                source,
            })?;
    }
    Ok(())
}

/// What tells one version of a file from another without reading it: its modification
/// time and length and, on Unix, its inode and change time (a rotation renames a new file
/// into place, and an edit within the same second as the last read that leaves the length
/// as it was still moves the change time, which no one can set back).
pub(crate) type FileState = (std::time::SystemTime, u64, u64, i64, i64);

/// `path`'s [`FileState`], if it can be looked at.
pub(crate) fn file_state(path: &Path) -> Option<FileState> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let (inode, ctime, ctime_nsec) = {
        use std::os::unix::fs::MetadataExt;
        (meta.ino(), meta.ctime(), meta.ctime_nsec())
    };
    #[cfg(not(unix))]
    let (inode, ctime, ctime_nsec) = (0, 0, 0);
    Some((meta.modified().ok()?, meta.len(), inode, ctime, ctime_nsec))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One new key file.
    fn create(path: &Path) -> Result<[u8; 32], KeyError> {
        create_all(&[path]).map(|keys| keys[0])
    }

    /// A key file whose presence can't be told (here a file stands where its directory
    /// should; a directory the process may not enter is the same) is an error that says
    /// why, not a key "not made yet", nor one to make anew.
    #[test]
    fn a_key_file_that_cannot_be_looked_at_is_not_taken_for_missing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain");
        std::fs::write(&file, "not a directory").unwrap();
        let key = file.join("receipt.key");
        let unreadable = |error: Option<KeyError>| {
            matches!(error, Some(KeyError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotADirectory)
        };
        assert!(unreadable(read_made(&key).err()));
        assert!(unreadable(read_made_ring(&key).err()));
        assert!(unreadable(rotate(&key).err()));
        assert!(unreadable(read_or_create(&key).err()));
    }

    #[test]
    fn a_ring_grows_by_rotation_and_a_one_line_file_is_a_ring() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/receipt.key");
        assert!(matches!(rotate(&path), Err(KeyError::Missing(_))));
        let first = create(&path).unwrap();
        assert_eq!(read_ring(&path).unwrap(), [first]);
        assert!(matches!(create(&path), Err(KeyError::Exists(_))));
        let ring = rotate(&path).unwrap();
        assert_eq!(ring.len(), 2);
        assert_eq!(ring[0], first);
        assert_eq!(read_ring(&path).unwrap(), ring);
        assert_eq!(read_or_create_ring(&path).unwrap(), ring);
        // No temp files are left behind; the rotations' lock file stays.
        let mut names: Vec<_> = std::fs::read_dir(dir.path().join("keys"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, [".receipt.key.lock", "receipt.key"]);

        std::fs::write(
            &path,
            format!("{}\nnot-a-key\n", URL_SAFE_NO_PAD.encode(first)),
        )
        .unwrap();
        let err = read_ring(&path).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }

    /// A ring reached through a symbolic link (a secrets directory): the link stays a link,
    /// and the file it names is the one that gets the new key.
    #[cfg(unix)]
    #[test]
    fn a_ring_behind_a_symbolic_link_is_rotated_where_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secrets/receipt.key");
        let first = create(&file).unwrap();
        let link = dir.path().join("receipt.key");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let ring = rotate(&link).unwrap();
        assert_eq!((ring.len(), ring[0]), (2, first));
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(read_ring(&file).unwrap(), ring);
    }

    /// A ring in `dir` that the service reads through its group, 0640, and (when the tests
    /// run as root) owned by the service's user and group.
    #[cfg(unix)]
    fn service_ring(dir: &Path) -> PathBuf {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let path = dir.join("receipt.key");
        create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        if std::fs::metadata(&path).unwrap().uid() == 0 {
            std::os::unix::fs::chown(&path, Some(4321), Some(4322)).unwrap();
        }
        path
    }

    /// A ring the service reads through its group, rotated by root: still the service's.
    #[cfg(unix)]
    #[test]
    fn a_rotated_ring_keeps_its_mode_and_owner() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let path = service_ring(dir.path());
        let before = std::fs::metadata(&path).unwrap();
        rotate(&path).unwrap();
        let after = std::fs::metadata(&path).unwrap();
        assert_eq!(after.permissions().mode() & 0o777, 0o640);
        assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
        assert_eq!(read_ring(&path).unwrap().len(), 2);
        // The rotations' lock file is the ring's owner's too: root's, 0600, it would
        // refuse the service's user its own next rotation.
        let lock = std::fs::metadata(beside(&path, "lock")).unwrap();
        assert_eq!((lock.uid(), lock.gid()), (before.uid(), before.gid()));
        assert_eq!(lock.permissions().mode() & 0o777, 0o640);
        // A lock file left root's, 0600 (a rotation as root before the ring was given to
        // the service): the next rotation gives it the ring's owner and mode.
        let lock_path = beside(&path, "lock");
        std::fs::set_permissions(&lock_path, std::fs::Permissions::from_mode(0o600)).unwrap();
        rotate(&path).unwrap();
        let lock = std::fs::metadata(&lock_path).unwrap();
        assert_eq!((lock.uid(), lock.gid()), (before.uid(), before.gid()));
        assert_eq!(lock.permissions().mode() & 0o777, 0o640);
    }

    /// The service's user, which may write the ring's directory, puts a symbolic or a hard
    /// link to another file where the rotations' lock file goes; root rotates. That file is
    /// not given the ring's mode or owner (with /etc/shadow, the service's user would be
    /// root). The symbolic link is refused; the hard link is only locked.
    #[cfg(unix)]
    #[test]
    fn a_rotation_gives_away_no_file_a_planted_link_names() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let symbolic = |victim: &Path, lock: &Path| std::os::unix::fs::symlink(victim, lock);
        let hard = |victim: &Path, lock: &Path| std::fs::hard_link(victim, lock);
        for (plant, rotated) in [
            (&symbolic as &dyn Fn(&Path, &Path) -> std::io::Result<()>, 1),
            (&hard, 2),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let path = service_ring(dir.path());
            let victim = dir.path().join("shadow");
            std::fs::write(&victim, "root:x:0:0\n").unwrap();
            std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o604)).unwrap();
            let before = std::fs::metadata(&victim).unwrap();
            plant(&victim, &beside(&path, "lock")).unwrap();
            assert_eq!(rotate(&path).is_ok(), rotated == 2);
            let after = std::fs::metadata(&victim).unwrap();
            assert_eq!(after.permissions().mode() & 0o777, 0o604);
            assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
            assert_eq!(read_ring(&path).unwrap().len(), rotated);
        }
    }
}

//! Secret key files: 32 random bytes, base64url, one line, readable by the owner only.

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
    /// The file does not hold 32 bytes in base64url.
    #[error("key file {0} does not hold 32 bytes in base64url (make one with `assent-collector keygen`)")]
    Form(PathBuf),
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

/// Reads a key file.
pub fn read(path: &Path) -> Result<[u8; 32], KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
        path: path.into(),
        source,
    })?;
    URL_SAFE_NO_PAD
        .decode(text.trim())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| KeyError::Form(path.into()))
}

/// Writes a new key file; never overwrites one (a lost key would orphan every receipt).
pub fn create(path: &Path) -> Result<[u8; 32], KeyError> {
    let bytes = random()?;
    write_new(path, &URL_SAFE_NO_PAD.encode(bytes))?;
    Ok(bytes)
}

/// Writes `line` to a new secret file (owner-only, synced), making its directory; never
/// overwrites one.
pub fn write_new(path: &Path, line: &str) -> Result<(), KeyError> {
    let write_err = |source| KeyError::Write {
        path: path.into(),
        source,
    };
    crate::store::create_parent(path).map_err(write_err)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(write_err)?;
    writeln!(file, "{line}").map_err(write_err)?;
    file.sync_all().map_err(write_err)?;
    Ok(())
}

/// Reads the key file, creating it first if it does not exist.
pub fn read_or_create(path: &Path) -> Result<[u8; 32], KeyError> {
    if path.exists() {
        read(path)
    } else {
        create(path)
    }
}

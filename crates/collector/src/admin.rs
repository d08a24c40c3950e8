//! Admin keys: the bearer keys of the company's own servers (mailer, CRM) for the routes
//! that mint links and read preferences. Never logged; compared in constant time.

use std::path::{Path, PathBuf};

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::AppError;
use crate::AppState;

/// Shortest key accepted: anything shorter is guessable.
pub const MIN_KEY_LEN: usize = 32;

/// Why an admin key file can't be used.
#[derive(Debug, thiserror::Error)]
pub enum AdminKeysError {
    /// The file can't be read.
    #[error("cannot read admin keys file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A line is too short or holds other than visible ASCII (the key itself is not shown).
    #[error("admin keys file {path}, line {line}: a key must be at least {MIN_KEY_LEN} characters, each a visible ASCII character (no spaces)")]
    Weak {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
    },
    /// No key in the file.
    #[error("admin keys file {0} holds no key")]
    Empty(PathBuf),
}

/// The accepted admin keys, kept as SHA-256 digests so comparison takes the same time
/// whatever the length or content of the presented key.
#[derive(Clone, Default)]
pub struct AdminKeys(Vec<[u8; 32]>);

impl std::fmt::Debug for AdminKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AdminKeys({} keys)", self.0.len())
    }
}

impl AdminKeys {
    /// No keys: every admin request is refused.
    pub fn none() -> Self {
        Self::default()
    }

    /// Keys from their text.
    pub fn new<'a>(keys: impl IntoIterator<Item = &'a str>) -> Self {
        Self(keys.into_iter().map(digest).collect())
    }

    /// Reads a file of keys, one per line; blank lines and lines starting with `#` are
    /// skipped.
    pub fn read(path: &Path) -> Result<Self, AdminKeysError> {
        let text = std::fs::read_to_string(path).map_err(|source| AdminKeysError::Read {
            path: path.into(),
            source,
        })?;
        let mut keys = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let key = line.trim();
            if key.is_empty() || key.starts_with('#') {
                continue;
            }
            // Only visible ASCII: an `Authorization` header carries no other character, so a
            // key with one could never be presented.
            if key.len() < MIN_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(AdminKeysError::Weak {
                    path: path.into(),
                    line: index + 1,
                });
            }
            keys.push(digest(key));
        }
        if keys.is_empty() {
            return Err(AdminKeysError::Empty(path.into()));
        }
        Ok(Self(keys))
    }

    /// Whether `presented` is one of the keys. Every key is compared, so the time taken
    /// says nothing about which one matched or how much of it.
    pub fn accepts(&self, presented: &str) -> bool {
        let presented = digest(presented);
        self.0
            .iter()
            .fold(subtle::Choice::from(0), |found, key| {
                found | key.ct_eq(&presented)
            })
            .into()
    }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Proof that a request carried a valid admin key: take it as a handler argument.
/// Without `Authorization: Bearer …` the request gets 401; with a wrong key, 403.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl Admin {
    /// Whether `headers` carry a valid admin key: 401 without `Authorization: Bearer …`,
    /// 403 with a wrong key.
    pub fn check(headers: &HeaderMap, state: &AppState) -> Result<Self, AppError> {
        let presented = headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, key) = value.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
            })
            .filter(|key| !key.is_empty())
            .ok_or(AppError::Unauthorized)?;
        if state.admin_keys.accepts(presented) {
            Ok(Admin)
        } else {
            Err(AppError::Forbidden)
        }
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Self::check(&parts.headers, state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_exactly() {
        let keys = AdminKeys::new(["a".repeat(40).as_str(), "b".repeat(40).as_str()]);
        assert!(keys.accepts(&"a".repeat(40)));
        assert!(keys.accepts(&"b".repeat(40)));
        assert!(!keys.accepts(&"a".repeat(39)));
        assert!(!keys.accepts(""));
        assert!(!AdminKeys::none().accepts(&"a".repeat(40)));
    }

    #[test]
    fn a_key_file_skips_comments_and_refuses_weak_keys_without_showing_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("admin.keys");
        std::fs::write(&path, format!("# mailer\n{}\n\n", "k".repeat(40))).unwrap();
        assert!(AdminKeys::read(&path).unwrap().accepts(&"k".repeat(40)));

        std::fs::write(&path, "# mailer\nshort-secret\n").unwrap();
        let err = AdminKeys::read(&path).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(!err.contains("short-secret"), "{err}");

        // 33 bytes but 11 characters, none of which a header can carry.
        std::fs::write(&path, format!("{}\n", "€".repeat(11))).unwrap();
        let err = AdminKeys::read(&path).unwrap_err().to_string();
        assert!(
            err.contains("line 1") && err.contains("visible ASCII"),
            "{err}"
        );

        std::fs::write(&path, "# nothing\n").unwrap();
        assert!(matches!(
            AdminKeys::read(&path),
            Err(AdminKeysError::Empty(_))
        ));
    }
}

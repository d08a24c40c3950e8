//! The signing secret and the Standard Webhooks signature.
//!
//! The file holds `whsec_` and the base64 of at least 24 random bytes (32 when we make it),
//! the form webhook libraries take. The signature is `v1,` and the base64 of
//! HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}` under the decoded bytes.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::keys::{self, KeyError};

/// The prefix of the secret's text.
pub const PREFIX: &str = "whsec_";
/// Fewest secret bytes accepted (the spec's minimum).
pub const MIN_BYTES: usize = 24;

/// Why the secret file can't be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Reading or writing the file failed.
    #[error(transparent)]
    File(#[from] KeyError),
    /// The file does not hold a secret (its content is not shown).
    #[error("webhook secret file {0} must hold whsec_ followed by the base64 of at least {MIN_BYTES} bytes")]
    Form(PathBuf),
}

/// The webhook signing secret.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

impl WebhookSecret {
    /// The secret in `text` (`whsec_<base64>`), if it is one.
    pub fn from_text(text: &str) -> Option<Self> {
        let bytes = STANDARD.decode(text.trim().strip_prefix(PREFIX)?).ok()?;
        (bytes.len() >= MIN_BYTES).then_some(Self(bytes))
    }

    /// Reads the secret file, first writing a new random secret to it if it is missing.
    pub fn read_or_create(path: &Path) -> Result<Self, SecretError> {
        keys::ensure(path, || {
            Ok(format!("{PREFIX}{}", STANDARD.encode(keys::random()?)))
        })?;
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
            path: path.into(),
            source,
        })?;
        Self::from_text(&text).ok_or_else(|| SecretError::Form(path.into()))
    }

    /// The `webhook-signature` header value of a message.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        // HMAC takes a key of any length, so this can't fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_the_standard_webhooks_reference() {
        // The example of the spec's reference libraries (standard-webhooks, svix).
        let secret = WebhookSecret::from_text("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signature = secret.sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_missing_file_gets_a_new_secret_and_a_bad_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hooks").join("webhook.secret");
        let made = WebhookSecret::read_or_create(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("whsec_"), "{text}");
        assert_eq!(made.0.len(), 32);
        assert_eq!(WebhookSecret::read_or_create(&path).unwrap().0, made.0);

        std::fs::write(&path, "whsec_c2hvcnQ=\n").unwrap();
        let err = WebhookSecret::read_or_create(&path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("at least 24 bytes"), "{err}");
        assert!(WebhookSecret::from_text("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_none());
    }
}

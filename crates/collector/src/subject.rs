//! The subject of identified preferences: a keyed hash of the e-mail address, so a mailing
//! system holding the key can find an address's choices, and the database alone reveals
//! nothing (an unkeyed hash of an address is reversible by guessing).

use assent_record::Email;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The server secret for subject hashes.
#[derive(Clone)]
pub struct SubjectKey([u8; 32]);

impl std::fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectKey(..)")
    }
}

impl SubjectKey {
    /// A key from its 32 bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// `hmac-sha256:<hex>` of the normalised address (trimmed, lowercased).
    pub fn subject(&self, email: &Email) -> String {
        self.subject_of(email.as_str())
    }

    /// The same for an address given as text (the `export --subject` option).
    pub fn subject_of(&self, email: &str) -> String {
        let normalised = email.trim().to_lowercase();
        // HMAC zero-pads a short key to the hash's block size (RFC 2104), so the 64-byte
        // padded key is the same key, and this constructor can't fail.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&self.0);
        let mut mac = <Hmac<Sha256> as KeyInit>::new(&block.into());
        mac.update(normalised.as_bytes());
        let bytes = mac.finalize().into_bytes();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("hmac-sha256:{hex}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalised_addresses_share_a_subject_and_keys_matter() {
        let key = SubjectKey::new([7; 32]);
        assert_eq!(
            key.subject_of(" Ada@Example.com "),
            key.subject_of("ada@example.com")
        );
        assert_ne!(
            key.subject_of("ada@example.com"),
            SubjectKey::new([8; 32]).subject_of("ada@example.com")
        );
        assert!(!key.subject_of("ada@example.com").contains("ada"));

        // The same as HMAC-SHA256 with the 32-byte key as given.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&[7; 32]).unwrap();
        mac.update(b"ada@example.com");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            key.subject_of("ada@example.com"),
            format!("hmac-sha256:{hex}")
        );
    }
}

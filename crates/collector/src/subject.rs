//! The subject of identified preferences: a keyed hash of the e-mail address, so a mailing
//! system holding the key can find an address's choices, and the database alone reveals
//! nothing (an unkeyed hash of an address is reversible by guessing).

use assent_record::Email;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What a subject starts with; 64 lowercase hex digits follow.
const PREFIX: &str = "hmac-sha256:";

/// Whether `text` is of a subject's form, as [`SubjectKey::subject`] writes it.
pub fn is_subject(text: &str) -> bool {
    text.strip_prefix(PREFIX).is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

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

    /// `hmac-sha256:<hex>` of the normalised address: trimmed and lowercased, its domain in
    /// the Unicode form UTS 46 gives it.
    pub fn subject(&self, email: &Email) -> String {
        self.subject_of(email.as_str())
    }

    /// The same for an address given as text (the `export --subject` option).
    pub fn subject_of(&self, email: &str) -> String {
        let normalised = normalise(email);
        // HMAC zero-pads a short key to the hash's block size (RFC 2104), so the 64-byte
        // padded key is the same key, and this constructor can't fail.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&self.0);
        let mut mac = <Hmac<Sha256> as KeyInit>::new(&block.into());
        mac.update(normalised.as_bytes());
        let bytes = mac.finalize().into_bytes();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("{PREFIX}{hex}")
    }
}

/// One form for one mailbox. The domain as UTS 46 maps and decodes it, so that the mailer's
/// `ada@xn--bcher-kva.example` and the form's `ada@Bücher.example` are one person (an ASCII
/// domain without `xn--` labels is only lowercased: the subjects of such addresses are what
/// they were before collector 0.1.1; README); the
/// local part lowercased, as the address was before: almost every mail system treats it
/// so, and a subject split by case would lose a person's unsubscribe.
fn normalise(email: &str) -> String {
    let email = email.trim();
    let Some((local, domain)) = email.rsplit_once('@') else {
        return email.to_lowercase();
    };
    let domain = match idna::domain_to_unicode(domain) {
        (unicode, Ok(())) => unicode,
        // Not a domain name (Email refuses such an address): lowercased, as before.
        (_, Err(_)) => domain.to_lowercase(),
    };
    format!("{}@{domain}", local.to_lowercase())
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
        // One domain written as Unicode, in capitals, and as the punycode mailers use.
        for other in [
            "Ada@BÜCHER.example",
            "ada@xn--bcher-kva.example",
            "ADA@Xn--Bcher-Kva.Example",
        ] {
            assert_eq!(
                key.subject_of(other),
                key.subject_of("ada@bücher.example"),
                "{other}"
            );
        }
        assert_ne!(
            key.subject_of("ada@bücher.example"),
            key.subject_of("ada@bucher.example")
        );

        // The same as HMAC-SHA256 with the 32-byte key as given.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&[7; 32]).unwrap();
        mac.update(b"ada@example.com");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let subject = key.subject_of("ada@example.com");
        assert_eq!(subject, format!("hmac-sha256:{hex}"));
        assert!(is_subject(&subject), "its own form");
    }
}

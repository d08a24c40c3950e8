use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::FieldError;

/// Lowercase hex of the SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";
const PREFIX: &str = "sha256:";

/// A SHA-256 content hash, written `sha256:` and 64 lowercase hex digits.
///
/// The canonical form that is hashed is the compact JSON serialization of the validated
/// value: fields in schema order, no insignificant white space. Two documents that differ
/// only in key order or spacing have the same hash; any change of content changes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContentHash(String);

impl ContentHash {
    /// The hash of a value's canonical form.
    pub fn of<T: Serialize>(value: &T) -> Self {
        // Serializing plain data structs to a Vec cannot fail: no maps with non-string keys.
        let canonical = serde_json::to_vec(value).unwrap_or_default();
        Self(format!("{PREFIX}{}", sha256_hex(&canonical)))
    }

    /// The hash as written on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ContentHash {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        let hex = value.strip_prefix(PREFIX).ok_or(FieldError::Form {
            field: "hash",
            expected: "sha256: and 64 lowercase hex digits",
        })?;
        if hex.len() == 64 && hex.bytes().all(|b| HEX.contains(&b)) {
            Ok(Self(value))
        } else {
            Err(FieldError::Form {
                field: "hash",
                expected: "sha256: and 64 lowercase hex digits",
            })
        }
    }
}

impl From<ContentHash> for String {
    fn from(value: ContentHash) -> Self {
        value.0
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

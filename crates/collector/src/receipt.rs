//! Receipts: JWS compact serialization (RFC 7515), EdDSA (Ed25519, RFC 8037), of what was
//! stored. The visitor can keep one and anyone can check it against the published key.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use assent_record::{ConsentRecord, Controller, NoticeRef, Purposes};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::keys::{file_state, FileState};

/// The JWS `typ` of a receipt.
pub const TYP: &str = "assent-receipt+jws";

/// The most JSON a receipt's controller (a notice's organisation and contact block) may
/// take: with every other claim at its longest, a receipt then stays within
/// [`assent_record::Jws::MAX_CHARS`], the longest receipt a receipt file or a verifier
/// takes (tested below). A `--notice` naming a longer one is refused at start.
pub const CONTROLLER_MAX_BYTES: usize = 4096;

/// The JSON length of `controller` in a receipt, when it is over [`CONTROLLER_MAX_BYTES`].
pub fn controller_too_long(controller: &Controller) -> Option<usize> {
    let length = serde_json::to_vec(controller).map_or(usize::MAX, |json| json.len());
    (length > CONTROLLER_MAX_BYTES).then_some(length)
}

/// What a receipt states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The record's id.
    pub record_id: String,
    /// Its place in the chain.
    pub seq: i64,
    /// The covered site.
    pub site: String,
    /// The notice shown, with its content hash.
    pub notice: NoticeRef,
    /// Purposes with basis and state.
    pub purposes: Purposes,
    /// Whether Global Privacy Control was on.
    pub gpc: bool,
    /// The stored record's digest.
    pub digest: String,
    /// The chain hash of the record's row.
    pub chain_hash: String,
    /// Server receive time, RFC 3339 UTC.
    pub received_at: String,
    /// Who the choice was given to, as the record's notice names it, when the collector
    /// knows that notice (receipts from before it was signed have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<Controller>,
}

impl Claims {
    /// The claims for a stored record.
    pub fn new(record: &ConsentRecord, seq: i64, chain_hash: &str, received_at: &str) -> Self {
        Self {
            record_id: record.record_id.hyphenated().to_string(),
            seq,
            site: record.site.to_string(),
            notice: record.notice.clone(),
            purposes: record.purposes.clone(),
            gpc: record.gpc,
            digest: record.digest().to_string(),
            chain_hash: chain_hash.to_owned(),
            received_at: received_at.to_owned(),
            controller: None,
        }
    }

    /// The same claims, stating who the choice was given to.
    #[must_use]
    pub fn given_to(mut self, controller: Option<Controller>) -> Self {
        self.controller = controller;
        self
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    alg: String,
    typ: String,
    kid: String,
}

/// Why a receipt does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// Not three base64url parts with a JSON header and payload: which rule it breaks.
    #[error("not a JWS compact receipt: {0}")]
    Form(&'static str),
    /// Not signed with EdDSA.
    #[error("receipt algorithm is not EdDSA")]
    Algorithm,
    /// The signature does not match.
    #[error("receipt signature does not verify")]
    Signature,
    /// No key of the set has the header's `kid`.
    #[error("receipt is signed by key {0:?}, which is not one of the given keys")]
    UnknownKey(String),
}

/// The receipt signing key.
#[derive(Clone)]
pub struct ReceiptKey {
    signing: SigningKey,
    kid: String,
}

impl std::fmt::Debug for ReceiptKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiptKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl ReceiptKey {
    /// The key from its 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(&seed);
        let kid = key_id(&signing.verifying_key());
        Self { signing, kid }
    }

    /// The public half.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The key id put in every receipt header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs the claims.
    pub fn sign(&self, claims: &Claims) -> String {
        let header = Header {
            alg: "EdDSA".into(),
            typ: TYP.into(),
            kid: self.kid.clone(),
        };
        // Plain data with string keys: serializing cannot fail.
        let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap_or_default());
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let input = format!("{header}.{payload}");
        let signature = self.signing.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
}

/// The receipt key ring: every key ever used, oldest first; the newest signs.
#[derive(Debug, Clone)]
pub struct ReceiptKeys {
    keys: Vec<ReceiptKey>,
    /// The ring's file, read again for a JWK set once it changed (see
    /// [`ReceiptKeys::published_from`]), and the set made from it as it was then: a flood
    /// of requests for the public set reads no file and derives no key.
    file: Option<PathBuf>,
    published: Arc<Mutex<Option<(FileState, serde_json::Value)>>>,
}

impl ReceiptKeys {
    /// The ring from its seeds, oldest first; `None` if there are none.
    pub fn from_seeds(seeds: &[[u8; 32]]) -> Option<Self> {
        (!seeds.is_empty()).then(|| Self {
            keys: seeds.iter().copied().map(ReceiptKey::from_seed).collect(),
            file: None,
            published: Arc::default(),
        })
    }

    /// Publishes, besides its own keys, every key the ring's `file` holds when the JWK set
    /// is asked for. After `keygen --rotate`, each process restarted signs with the new
    /// key at once: the others, still signing with the old one until their own restart,
    /// publish the new one too, so no receipt is checked against a set without its key.
    #[must_use]
    pub fn published_from(mut self, file: PathBuf) -> Self {
        self.file = Some(file);
        self
    }

    /// The key that signs new receipts: the newest.
    pub fn current(&self) -> &ReceiptKey {
        // The constructor refuses an empty ring.
        &self.keys[self.keys.len() - 1]
    }

    /// Signs the claims with the newest key.
    pub fn sign(&self, claims: &Claims) -> String {
        self.current().sign(claims)
    }

    /// Every public half, for verifying.
    pub fn public(&self) -> PublicKeys {
        PublicKeys(self.keys.iter().map(ReceiptKey::verifying_key).collect())
    }

    /// The JWK set, newest first, for `/.well-known/jwks.json`: this ring's keys and those
    /// its file holds now (looks at the file, and reads it if it changed: call it off the
    /// async threads).
    pub fn jwks(&self) -> serde_json::Value {
        let Some(file) = self.file.as_deref() else {
            return self.public().jwks();
        };
        // Looked at before it is read: a change in between is found at the next request.
        let state = file_state(file);
        let mut published = self
            .published
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let (Some(state), Some((seen, set))) = (state, published.as_ref()) {
            if state == *seen {
                return set.clone();
            }
        }
        // A file that can't be read now leaves the keys read at start, which verify every
        // receipt this process signs; it is read again at the next request.
        let on_file = crate::keys::read_ring(file).ok();
        let set = self.with_keys(on_file.as_deref().unwrap_or_default());
        *published = state
            .filter(|_| on_file.is_some())
            .map(|state| (state, set.clone()));
        set
    }

    /// The JWK set of this ring's keys and those of `seeds`.
    fn with_keys(&self, seeds: &[[u8; 32]]) -> serde_json::Value {
        let mut public = self.public();
        for &seed in seeds {
            let key = ReceiptKey::from_seed(seed).verifying_key();
            if !public.0.contains(&key) {
                // Newer than every key read at start: newest last, as the ring is.
                public.0.push(key);
            }
        }
        public.jwks()
    }
}

/// Public receipt keys, as a JWK set publishes them; a receipt is checked against the one
/// its header's `kid` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeys(Vec<VerifyingKey>);

/// Why a JWK set can't be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    /// Not JSON of the form `{"keys": [...]}`.
    #[error("not a JWK set: {0}")]
    Form(String),
    /// No readable Ed25519 key named by its hash or by nothing.
    #[error("the JWK set holds no Ed25519 public key named (kid) by its hash, or named by none")]
    Empty,
}

#[derive(Deserialize)]
struct JwkSet {
    // Each key as it is: one missing a member, or with a member of another type, is passed
    // over (RFC 7517, section 5), as the verify page passes over it, not the whole set refused.
    keys: Vec<serde_json::Value>,
}

/// A JWK's member `name`, if it is text.
fn member<'a>(jwk: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    jwk.get(name).and_then(serde_json::Value::as_str)
}

impl PublicKeys {
    /// One key.
    pub fn one(key: VerifyingKey) -> Self {
        Self(vec![key])
    }

    /// The keys of a JWK set (as `/.well-known/jwks.json` serves it).
    pub fn from_jwks(text: &str) -> Result<Self, JwksError> {
        // A byte order mark (an editor's) is no part of the set, as for a receipt file.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let set: JwkSet =
            serde_json::from_str(text).map_err(|err| JwksError::Form(err.to_string()))?;
        // Keys of other kinds (a company's set may hold its RSA or EC keys too), Ed25519
        // keys named otherwise than by their hash (another signer's, whose `kid` no receipt
        // names), and ones whose `x` is no Ed25519 public key (no receipt key's hash names
        // it) sign no receipt: passed over, as the verify page, which looks a receipt's key
        // up by the hash its `kid` gives, passes over them. A receipt of a key the set does
        // not hold is then refused as of an unknown key.
        let keys: Vec<_> = set
            .keys
            .iter()
            .filter(|jwk| {
                member(jwk, "kty") == Some("OKP") && member(jwk, "crv") == Some("Ed25519")
            })
            .filter_map(|jwk| {
                let key = member(jwk, "x").and_then(key_from_x)?;
                let named = match jwk.get("kid") {
                    None | Some(serde_json::Value::Null) => true,
                    Some(kid) => kid.as_str() == Some(key_id(&key).as_str()),
                };
                named.then_some(key)
            })
            .collect();
        if keys.is_empty() {
            return Err(JwksError::Empty);
        }
        // A set lists the newest first; kept oldest first, as the ring is.
        Ok(Self(keys.into_iter().rev().collect()))
    }

    /// The key with this id.
    pub fn find(&self, kid: &str) -> Option<&VerifyingKey> {
        self.0.iter().find(|key| key_id(key) == kid)
    }

    /// The JWK set, newest (last) first.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<_> = self.0.iter().rev().map(jwk).collect();
        serde_json::json!({ "keys": keys })
    }

    /// Checks a receipt with the key its header names, and returns what it states.
    pub fn verify(&self, token: &str) -> Result<Claims, ReceiptError> {
        let (head, _) = split(token)?;
        let key = self
            .find(&head.kid)
            .ok_or_else(|| ReceiptError::UnknownKey(head.kid.clone()))?;
        verify(token, key)
    }
}

fn jwk(key: &VerifyingKey) -> serde_json::Value {
    serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "use": "sig",
        "alg": "EdDSA",
        "kid": key_id(key),
        "x": URL_SAFE_NO_PAD.encode(key.as_bytes()),
    })
}

/// The JWK set publishing one verifying key.
pub fn jwks(key: &VerifyingKey) -> serde_json::Value {
    serde_json::json!({ "keys": [jwk(key)] })
}

/// First 16 hex digits of the SHA-256 of the public key.
pub fn key_id(key: &VerifyingKey) -> String {
    let mut hex = assent_record::sha256_hex(key.as_bytes());
    hex.truncate(16);
    hex
}

/// A verifying key from its base64url form (a JWK's `x`), as typed or pasted: white
/// space around it is no part of it.
pub fn verifying_key_from_b64(x: &str) -> Option<VerifyingKey> {
    key_from_x(x.trim())
}

/// A verifying key from a JWK's `x`, exactly (the verify page reads it so).
fn key_from_x(x: &str) -> Option<VerifyingKey> {
    let bytes = URL_SAFE_NO_PAD.decode(x).ok()?;
    let bytes = <[u8; 32]>::try_from(bytes).ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

fn decode_part(part: &str) -> Result<Vec<u8>, ReceiptError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| ReceiptError::Form("a part is not unpadded base64url"))
}

/// The header and the three parts of a compact JWS.
/// The key id a receipt's header names, if it is a receipt's header.
pub fn kid_of(token: &str) -> Option<String> {
    split(token).ok().map(|(head, _)| head.kid)
}

fn split(token: &str) -> Result<(Header, [&str; 3]), ReceiptError> {
    let mut parts = token.trim().split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReceiptError::Form("not three parts separated by dots"));
    };
    let head: Header = serde_json::from_slice(&decode_part(header)?)
        .map_err(|_| ReceiptError::Form("its header is not a JWS header"))?;
    if head.alg != "EdDSA" {
        return Err(ReceiptError::Algorithm);
    }
    Ok((head, [header, payload, signature]))
}

/// What a receipt this collector signed and stored states, read without checking its
/// signature (for re-issuing its file, never for trusting one from outside).
pub fn stored_claims(token: &str) -> Option<Claims> {
    let (_, [_, payload, _]) = split(token).ok()?;
    serde_json::from_slice(&decode_part(payload).ok()?).ok()
}

/// Checks a receipt's signature against one key and returns what it states.
pub fn verify(token: &str, key: &VerifyingKey) -> Result<Claims, ReceiptError> {
    let (_, [header, payload, signature]) = split(token)?;
    let decode = decode_part;
    let signature = <[u8; 64]>::try_from(decode(signature)?)
        .map_err(|_| ReceiptError::Form("its signature is not 64 bytes"))?;
    let signed = &token.trim()[..header.len() + 1 + payload.len()];
    key.verify(signed.as_bytes(), &Signature::from_bytes(&signature))
        .map_err(|_| ReceiptError::Signature)?;
    serde_json::from_slice(&decode(payload)?)
        .map_err(|_| ReceiptError::Form("its payload is not a receipt's claims"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every claim at its longest, and a controller of the most JSON allowed: the receipt
    /// still fits a receipt file.
    #[test]
    fn the_longest_receipt_fits_a_receipt_file() {
        let mut record: serde_json::Value =
            serde_json::from_str(include_str!("../tests/data/record.json")).unwrap();
        let label = |c: &str, n: usize| c.repeat(n);
        record["site"] = [
            label("a", 63),
            label("b", 63),
            label("c", 63),
            label("d", 61),
        ]
        .join(".")
        .into();
        record["notice"]["id"] = "n".repeat(64).into();
        record["purposes"] = assent_record::PurposeId::ALL
            .iter()
            .map(|id| {
                let basis = if id.is_optional() {
                    "consent"
                } else {
                    "contract"
                };
                let mut purpose = serde_json::json!({"purpose": id.as_str(), "basis": basis});
                if id.is_optional() {
                    purpose["state"] = "granted".into();
                }
                purpose
            })
            .collect();
        // Four bytes each in JSON, the most a character takes.
        record["notice"]["version"] = "\u{1F600}".repeat(64).into();
        let record: ConsentRecord = serde_json::from_value(record).unwrap();
        assert_eq!(record.site.as_str().len(), 253);
        assert_eq!(record.purposes.iter().count(), 9);
        let contact = serde_json::json!({
            "address": "a",
            "telephone": {"text": "t", "href": "tel:1"},
            "fax": "f",
        });
        let with_name = |name: String| -> Controller {
            serde_json::from_value(serde_json::json!({"name": name, "contact": contact})).unwrap()
        };
        let room = CONTROLLER_MAX_BYTES - serde_json::to_vec(&with_name("x".into())).unwrap().len();
        let longest = with_name("\u{1F600}".repeat(room / 4) + &"x".repeat(room % 4 + 1));
        assert_eq!(
            serde_json::to_vec(&longest).unwrap().len(),
            CONTROLLER_MAX_BYTES
        );
        assert_eq!(controller_too_long(&longest), None);

        let chain_hash = format!("sha256:{}", "f".repeat(64));
        let claims = Claims::new(
            &record,
            i64::MAX,
            &chain_hash,
            "2026-12-31T23:59:59.999999999Z",
        )
        .given_to(Some(longest.clone()));
        let receipt = ReceiptKey::from_seed([7; 32]).sign(&claims);
        assert!(
            receipt.len() <= assent_record::Jws::MAX_CHARS,
            "{}",
            receipt.len()
        );
        assert!(assent_record::Jws::try_from(receipt).is_ok());

        let over = with_name(format!("{}x", longest.name.as_str()));
        assert_eq!(controller_too_long(&over), Some(CONTROLLER_MAX_BYTES + 1));
    }

    /// After `keygen --rotate` on the shared key file, a process not yet restarted (still
    /// signing with the old key) publishes the new key too.
    #[test]
    fn the_jwk_set_publishes_a_key_rotated_into_the_file_since_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("receipt.key");
        let seeds = crate::keys::read_or_create_ring(&path).unwrap();
        let ring = ReceiptKeys::from_seeds(&seeds)
            .unwrap()
            .published_from(path.clone());
        let kids = |set: serde_json::Value| -> Vec<String> {
            let keys = set["keys"].as_array().unwrap().iter();
            keys.map(|key| key["kid"].as_str().unwrap().to_owned())
                .collect()
        };
        let first = ring.current().kid().to_owned();
        assert_eq!(kids(ring.jwks()), std::slice::from_ref(&first));

        let rotated = ReceiptKeys::from_seeds(&crate::keys::rotate(&path).unwrap()).unwrap();
        let second = rotated.current().kid().to_owned();
        assert_ne!(first, second);
        assert_eq!(
            kids(ring.jwks()),
            [second.clone(), first.clone()],
            "newest first"
        );
        assert_eq!(ring.current().kid(), first, "it still signs with its key");

        // A file that can't be read: the keys read at start; read again once it can be.
        let saved = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(kids(ring.jwks()), std::slice::from_ref(&first));
        std::fs::write(&path, saved).unwrap();
        assert_eq!(kids(ring.jwks()), [second, first]);
    }

    fn claims() -> Claims {
        let record: ConsentRecord = serde_json::from_value(serde_json::json!({
            "record_id": "0b4f7a4e-2f57-4a6c-9f0e-5d1e4c3b2a10",
            "site": "pci.qualys.com",
            "notice": {"id": "qualys-privacy-highlights", "version": "2011-12-31",
                       "hash": format!("sha256:{}", "ab".repeat(32))},
            "language": "en",
            "purposes": [{"purpose": "updates", "basis": "consent", "state": "denied"}],
            "gpc": false,
            "widget_version": "0.1.0",
            "client_time": "2026-11-30T22:38:57.123Z",
        }))
        .unwrap();
        Claims::new(&record, 1, crate::chain::GENESIS, "2026-11-30T22:39:00Z")
    }

    #[test]
    fn a_receipt_verifies_and_a_tampered_one_fails() {
        let key = ReceiptKey::from_seed([3; 32]);
        let token = key.sign(&claims());
        assert_eq!(verify(&token, &key.verifying_key()), Ok(claims()));

        // Swap the payload for one that says "granted".
        let parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(
            String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap())
                .unwrap()
                .replace("denied", "granted"),
        );
        let tampered = format!("{}.{forged}.{}", parts[0], parts[2]);
        assert_eq!(
            verify(&tampered, &key.verifying_key()),
            Err(ReceiptError::Signature)
        );

        let other = ReceiptKey::from_seed([4; 32]);
        assert_eq!(
            verify(&token, &other.verifying_key()),
            Err(ReceiptError::Signature)
        );
        assert_eq!(
            verify("a.b", &key.verifying_key()),
            Err(ReceiptError::Form("not three parts separated by dots"))
        );
    }

    #[test]
    fn a_ring_signs_with_the_newest_and_verifies_by_kid() {
        let old = ReceiptKeys::from_seeds(&[[3; 32]]).unwrap();
        let ring = ReceiptKeys::from_seeds(&[[3; 32], [4; 32]]).unwrap();
        let before = old.sign(&claims());
        let after = ring.sign(&claims());
        let public = PublicKeys::from_jwks(&ring.jwks().to_string()).unwrap();
        assert_eq!(public, ring.public());
        assert_eq!(public.verify(&before), Ok(claims()));
        assert_eq!(public.verify(&after), Ok(claims()));
        assert_eq!(
            ring.jwks()["keys"][0]["kid"],
            ring.current().kid(),
            "newest first"
        );
        assert_eq!(
            old.public().verify(&after),
            Err(ReceiptError::UnknownKey(ring.current().kid().to_owned()))
        );
        assert!(ReceiptKeys::from_seeds(&[]).is_none());
        for bad in [
            "[]",
            r#"{"keys":[]}"#,
            r#"{"keys":[{"kty":"RSA","crv":"Ed25519","x":"AA"}]}"#,
        ] {
            assert!(PublicKeys::from_jwks(bad).is_err(), "{bad}");
        }
        let mut with_others = ring.jwks();
        let others = [
            serde_json::json!({"kty": "RSA", "kid": "rsa", "n": "AQAB", "e": "AQAB"}),
            serde_json::json!({"kty": "EC", "crv": "P-256", "kid": "ec", "x": "AA", "y": "AA"}),
        ];
        with_others["keys"]
            .as_array_mut()
            .unwrap()
            .splice(1..1, others);
        let public = PublicKeys::from_jwks(&with_others.to_string()).unwrap();
        assert_eq!(public, ring.public(), "other kinds of keys are passed over");
        // An Ed25519 key named otherwise (another signer's) is passed over too; a set of
        // such keys alone has none for receipts.
        let mut named_otherwise = ring.jwks();
        named_otherwise["keys"][0]["kid"] = "company-2024".into();
        let public = PublicKeys::from_jwks(&named_otherwise.to_string()).unwrap();
        assert_eq!(public.verify(&before), Ok(claims()));
        assert!(public.verify(&after).is_err());
        named_otherwise["keys"][1]["kid"] = "company-2023".into();
        assert_eq!(
            PublicKeys::from_jwks(&named_otherwise.to_string()),
            Err(JwksError::Empty)
        );
        // A key whose x is no Ed25519 key (too short, padded with white space), named by
        // a receipt key's id, by another signer's or not at all: passed over, as the
        // verify page passes over it; the set's other keys still check their receipts.
        for (kid, x) in [
            (Some(ring.current().kid().to_owned()), "AAAA".to_owned()),
            (Some("company-2024".to_owned()), "AAAA".to_owned()),
            (None, "AAAA".to_owned()),
            (
                None,
                format!("{} ", ring.jwks()["keys"][0]["x"].as_str().unwrap()),
            ),
        ] {
            let mut broken = ring.jwks();
            broken["keys"][0]["kid"] = kid.into();
            broken["keys"][0]["x"] = x.into();
            let public = PublicKeys::from_jwks(&broken.to_string()).unwrap();
            assert_eq!(public.verify(&before), Ok(claims()), "{broken}");
            assert_eq!(
                public.verify(&after),
                Err(ReceiptError::UnknownKey(ring.current().kid().to_owned())),
                "{broken}"
            );
        }
        let mut all_broken = ring.jwks();
        all_broken["keys"][0]["x"] = "AAAA".into();
        all_broken["keys"][1]["x"] = "AAAA".into();
        assert_eq!(
            PublicKeys::from_jwks(&all_broken.to_string()),
            Err(JwksError::Empty)
        );
        let marked = format!("\u{feff}{}", ring.jwks());
        assert_eq!(PublicKeys::from_jwks(&marked).unwrap(), ring.public());
        // Keys the set spoils (no kty, a member of another type, not an object at all):
        // passed over, as the verify page passes over them, not the whole set refused.
        let mut spoiled = ring.jwks();
        let x = ring.jwks()["keys"][0]["x"].clone();
        let others = [
            serde_json::json!({"crv": "Ed25519", "x": x}),
            serde_json::json!({"kty": "OKP", "crv": 25519, "x": x}),
            serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": 7}),
            serde_json::json!("a key"),
        ];
        spoiled["keys"].as_array_mut().unwrap().splice(0..0, others);
        assert_eq!(
            PublicKeys::from_jwks(&spoiled.to_string()).unwrap(),
            ring.public()
        );
    }
}

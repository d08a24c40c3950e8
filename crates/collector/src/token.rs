//! Link tokens: the signed, expiring proof that a manage or unsubscribe link was minted
//! for one subject and some covered sites. A JWT (HS256) under the link key, made and
//! checked only here; the widget carries it without reading it.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use assent_record::{PurposeId, Site};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::keys::{self, KeyError};

/// Why a token is refused. The messages never repeat the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Past its `exp`.
    #[error("this link has expired; ask for a new one")]
    Expired,
    /// Bad signature, another key, malformed, or another algorithm.
    #[error("this link is not valid: it may be cut short or changed")]
    Invalid,
    /// The site asking is not one the link covers.
    #[error("this link is not for this site")]
    WrongSite,
    /// An unsubscribe URL's token, used to read or change preferences.
    #[error("this link can only unsubscribe; the message's manage link opens the preferences")]
    UnsubscribeOnly,
    /// Signed, it says, with a link key this process does not hold, and the ring's file,
    /// which may hold it (rotated since the start), could not be read: not the link's
    /// fault, so not a refusal (`AppError` makes it a 503: tried again, not stored under no
    /// one).
    #[error("the link keys could not be read just now to check this link")]
    Unchecked,
}

impl TokenError {
    /// The machine-readable code of the 403.
    pub fn code(self) -> &'static str {
        match self {
            Self::Expired => "token_expired",
            // To the widget, a link that can't open the preferences is not a valid one.
            Self::Invalid | Self::UnsubscribeOnly => "token_invalid",
            Self::WrongSite => "token_wrong_site",
            Self::Unchecked => "unavailable",
        }
    }
}

/// What a token states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkClaims {
    /// The subject, `hmac-sha256:<hex>`; never the address.
    pub sub: String,
    /// The covered sites the token is valid on.
    pub aud: Vec<Site>,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issue time, seconds since the epoch.
    pub iat: i64,
    /// A unique id for this token.
    pub jti: String,
    /// The masked address, for display (`j•••@example.com`).
    pub hint: String,
    /// For a one-purpose unsubscribe link: that optional purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<PurposeId>,
    /// What the token may do; absent (a manage link's, and every token minted before
    /// scopes were): all a link can.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
}

/// What a token is limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The one-click unsubscribe alone: an unsubscribe URL's token, which mail providers,
    /// link scanners and proxies see (and may log) in its path, unlike the manage link's,
    /// which travels in the page address's fragment and never reaches a server.
    Unsubscribe,
}

impl LinkClaims {
    /// `Ok` when `site` is one of the covered sites.
    pub fn covers(&self, site: &Site) -> Result<(), TokenError> {
        if self.aud.contains(site) {
            Ok(())
        } else {
            Err(TokenError::WrongSite)
        }
    }

    /// The first covered site (a token always has one: `verify` refuses others).
    pub fn first_site(&self) -> Result<&Site, TokenError> {
        self.aud.first().ok_or(TokenError::Invalid)
    }

    /// `exp` as RFC 3339 UTC.
    pub fn expires_at(&self) -> String {
        OffsetDateTime::from_unix_timestamp(self.exp)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| self.exp.to_string())
    }
}

/// The link keys (HMAC-SHA256): a ring, oldest first, whose newest signs and each of which
/// verifies what it signed, so that a new key (`keygen --rotate --link-key`) leaves the
/// links in mail already sent working; removing a key's line revokes its links (in a running
/// server, from its restart).
pub struct LinkKey {
    keys: RwLock<Vec<[u8; 32]>>,
    /// The ring's file, read again for a token that names a key the ring lacks if it
    /// changed since it was read (`link` signs with a key added since this process
    /// started), with what it was when read.
    file: Option<(PathBuf, Mutex<Reread>)>,
}

/// What the ring's file was when last read, and, if that read failed for a cause outside
/// the file (too many open files, an I/O error), when it may be tried again though the
/// file has not changed.
#[derive(Debug)]
struct Reread {
    state: Option<crate::keys::FileState>,
    retry_at: Option<Instant>,
    /// When the last read failed (or the file could not even be looked at): the keys it
    /// holds now are not known.
    failed_at: Option<Instant>,
}

/// How long after a failed read of the ring's file a token naming a key the ring lacks is
/// unchecked (503: its page tries it again) rather than invalid: a file half copied, or
/// deleted and made again, is whole within it. A ring left broken longer is an operator's
/// to mend (warned of at the read); its tokens are then taken for what they seem, as
/// before (a record's stored under no one), and can't hold a browser's records waiting.
const UNREAD_GRACE: Duration = Duration::from_secs(60);

/// What the ring's file, read again if it changed, says of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    Held,
    Lacking,
    /// The file could not be read since it last changed: it may hold the key.
    Unknown,
}

/// How soon a read of the ring's file that failed for a cause outside it is tried again:
/// tokens naming unknown keys cost at most one read a second while it fails.
const REREAD_RETRY: Duration = Duration::from_secs(1);

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(..)")
    }
}

/// Signing failed (only a broken crypto provider can cause it).
#[derive(Debug, thiserror::Error)]
#[error("cannot sign the link token: {0}")]
pub struct SignError(String);

impl LinkKey {
    /// One key from its 32 bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self {
            keys: RwLock::new(vec![bytes]),
            file: None,
        }
    }

    /// A ring of keys, oldest first; none without a key.
    pub fn ring(keys: Vec<[u8; 32]>) -> Option<Self> {
        (!keys.is_empty()).then(|| Self {
            keys: RwLock::new(keys),
            file: None,
        })
    }

    /// The ring in `path` (made with one key if missing), read again when a token names a
    /// key it lacks.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        // The file's state before it is read: taken after, a rotation between the two
        // would pass for read; taken before, one is at worst read again. (A file made here
        // has its state from then.)
        let state = crate::keys::file_state(path);
        let keys = keys::read_or_create_ring(path)?;
        Ok(Self {
            keys: RwLock::new(keys),
            file: Some((
                path.to_owned(),
                Mutex::new(Reread {
                    state: state.or_else(|| crate::keys::file_state(path)),
                    retry_at: None,
                    failed_at: None,
                }),
            )),
        })
    }

    fn keys(&self) -> std::sync::RwLockReadGuard<'_, Vec<[u8; 32]>> {
        self.keys.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Signs the claims as a JWT with the newest key, named by its `kid`.
    pub fn mint(&self, claims: &LinkClaims) -> Result<String, SignError> {
        let [token] = self.mint_each([claims])?;
        Ok(token)
    }

    /// Signs each of the claims as [`mint`](Self::mint) does, all with the same key: a
    /// ring read again meanwhile (a rotation) can't sign a link's tokens with two keys.
    pub fn mint_each<const N: usize>(
        &self,
        claims: [&LinkClaims; N],
    ) -> Result<[String; N], SignError> {
        let keys = self.keys();
        let newest = keys.last().ok_or_else(|| SignError("no link key".into()))?;
        // Only an empty secret is refused, and this one has 32 bytes.
        let key = EncodingKey::from_secret(newest).map_err(|err| SignError(err.to_string()))?;
        let header = Header {
            kid: Some(key_id(newest)),
            ..Header::new(Algorithm::HS256)
        };
        let mut tokens = Vec::with_capacity(N);
        for claims in claims {
            let token = jsonwebtoken::encode(&header, claims, &key);
            tokens.push(token.map_err(|err| SignError(err.to_string()))?);
        }
        // N claims make N tokens.
        tokens
            .try_into()
            .map_err(|_| SignError("a token short".into()))
    }

    /// Checks signature and algorithm, then that the token may read and change preferences
    /// (an unsubscribe URL's token may not) on `site`, and its expiry last: a token refused
    /// for what it is, or for where, is refused so even once it has also expired.
    pub fn verify(&self, token: &str, site: &Site) -> Result<LinkClaims, TokenError> {
        let claims = self.signed_claims(token)?;
        if claims.scope == Some(Scope::Unsubscribe) {
            return Err(TokenError::UnsubscribeOnly);
        }
        claims.covers(site)?;
        unexpired(claims)
    }

    /// Checks signature, algorithm and expiry, and returns what the token states: any
    /// token may unsubscribe its subject, from any of its sites.
    pub fn verify_for_unsubscribe(&self, token: &str) -> Result<LinkClaims, TokenError> {
        unexpired(self.signed_claims(token)?)
    }

    /// The claims of a token signed with this key and algorithm, of the right form; its
    /// expiry is not checked yet.
    fn signed_claims(&self, token: &str) -> Result<LinkClaims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        // The covered sites are checked against the site asking.
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub", "aud"]);
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        let kid = header.kid.as_deref();
        // A token that fails under the key it names is refused as it is; only one naming a
        // key the ring lacks sends it to its file (a forged token naming a real key, whose
        // id is no secret, takes no lock).
        let named_known = kid.is_some_and(|kid| self.holds(kid));
        let claims = match self.claims_under(token, kid, &validation) {
            Some(claims) => claims,
            None if !named_known => match self.reread_for(kid) {
                Found::Held => self
                    .claims_under(token, kid, &validation)
                    .ok_or(TokenError::Invalid)?,
                Found::Lacking => return Err(TokenError::Invalid),
                Found::Unknown => return Err(TokenError::Unchecked),
            },
            None => return Err(TokenError::Invalid),
        };
        let purpose_ok = claims.purpose.is_none_or(PurposeId::is_optional);
        if claims.aud.is_empty() || !purpose_ok {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }
    /// The claims of `token` under the key `kid` names; a token minted before keys had ids,
    /// under any of them.
    fn claims_under(
        &self,
        token: &str,
        kid: Option<&str>,
        validation: &Validation,
    ) -> Option<LinkClaims> {
        self.keys()
            .iter()
            .rev()
            .filter(|key| kid.is_none_or(|kid| kid == key_id(key)))
            .find_map(|key| {
                let key = DecodingKey::from_secret(key).ok()?;
                jsonwebtoken::decode::<LinkClaims>(token, &key, validation).ok()
            })
            .map(|data| data.claims)
    }

    /// Whether the ring holds the key `kid` names once its file is read again, if it has
    /// changed since it was read (or its last read failed for a cause outside it, a while
    /// ago): a made-up `kid` costs a `stat`, not a read. Unknown while the file can't be
    /// read: a token of a key rotated in is then not taken for a forgery (a record of its
    /// page would be stored under no one, and answered as delivered).
    fn reread_for(&self, kid: Option<&str>) -> Found {
        self.reread_with(kid, Instant::now(), keys::read_ring)
    }

    /// [`Self::reread_for`] at `now`, reading the ring with `read_ring`.
    fn reread_with(
        &self,
        kid: Option<&str>,
        now: Instant,
        read_ring: impl FnOnce(&Path) -> Result<Vec<[u8; 32]>, KeyError>,
    ) -> Found {
        let (Some(kid), Some((path, read))) = (kid, &self.file) else {
            return Found::Lacking;
        };
        let mut read = read.lock().unwrap_or_else(PoisonError::into_inner);
        // Another request may have read it meanwhile.
        if self.holds(kid) {
            return Found::Held;
        }
        let state = crate::keys::file_state(path);
        let retry_due = read.retry_at.is_some_and(|at| now >= at);
        if state == read.state && !retry_due {
            let recently_failed = read
                .failed_at
                .is_some_and(|at| now.saturating_duration_since(at) < UNREAD_GRACE);
            return if recently_failed {
                Found::Unknown
            } else {
                Found::Lacking
            };
        }
        // Noted even when the file can't be read: a broken ring is not read (and warned
        // of) again for each token until it changes once more; the keys read before stay.
        // A read that failed for a cause outside the file is tried again a while later.
        read.state = state;
        read.retry_at = None;
        if state.is_none() {
            // Gone (deleted to be made again), or its directory refused: as a failed read.
            tracing::warn!(path = %path.display(), "link key ring: cannot look at it again");
            read.failed_at = Some(now);
            return Found::Unknown;
        }
        read.failed_at = None;
        match read_ring(path) {
            Ok(keys) => {
                *self.keys.write().unwrap_or_else(PoisonError::into_inner) = keys;
                if self.holds(kid) {
                    Found::Held
                } else {
                    Found::Lacking
                }
            }
            Err(err) => {
                let passing = match &err {
                    KeyError::Read { source, .. } => source.kind() != ErrorKind::InvalidData,
                    _ => false,
                };
                if passing {
                    read.retry_at = Some(now + REREAD_RETRY);
                }
                tracing::warn!(%err, "link key ring: cannot read it again");
                read.failed_at = Some(now);
                Found::Unknown
            }
        }
    }

    /// Whether the ring holds the key `kid` names.
    fn holds(&self, kid: &str) -> bool {
        self.keys().iter().any(|key| key_id(key) == kid)
    }
}

/// A link key's id: the first 16 hex digits of a hash of it, which tells nothing of the key.
fn key_id(key: &[u8; 32]) -> String {
    let mut hex = assent_record::sha256_hex(&[b"assent link key id\n".as_slice(), key].concat());
    hex.truncate(16);
    hex
}

/// `claims` before their `exp` (RFC 7519: not on or after it). We mint and check on the
/// same clock: no leeway.
fn unexpired(claims: LinkClaims) -> Result<LinkClaims, TokenError> {
    if claims.exp <= OffsetDateTime::now_utc().unix_timestamp() {
        Err(TokenError::Expired)
    } else {
        Ok(claims)
    }
}

/// How long a link stays valid: `30d`, `12h`, `90m`, or `600s` (a short-lived token for
/// `Assent.identify` on a signed-in page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttl(time::Duration);

/// The longest TTL accepted: a link in an old e-mail should not work for ever.
pub const MAX_TTL_DAYS: i64 = 366;

/// How long a link's unsubscribe URL works at least, whatever the manage link's TTL: mail
/// is read, and unsubscribed from, long after it is sent (the law asks for 30 days after
/// the send at the very least, CAN-SPAM), and a mail provider's one-click POST that fails
/// is not shown to the person, whose unsubscribe would be lost. Its token can do nothing
/// else.
pub const UNSUBSCRIBE_TTL_DAYS: i64 = MAX_TTL_DAYS;

impl Ttl {
    /// The duration.
    pub fn duration(self) -> time::Duration {
        self.0
    }
}

impl Default for Ttl {
    fn default() -> Self {
        Self(time::Duration::days(30))
    }
}

/// A TTL that is not a duration (`humantime`'s form: `30d`, `12h`, `90m`, `600s`,
/// `1h 30m`), or is under a second or too long.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "ttl must be a duration such as 30d, 12h, 90m or 600s, at least 1s and at most {MAX_TTL_DAYS}d"
)]
pub struct TtlError;

impl FromStr for Ttl {
    type Err = TtlError;
    fn from_str(value: &str) -> Result<Self, TtlError> {
        let duration = humantime::parse_duration(value.trim()).map_err(|_| TtlError)?;
        let duration = time::Duration::try_from(duration).map_err(|_| TtlError)?;
        if duration < time::Duration::SECOND || duration > time::Duration::days(MAX_TTL_DAYS) {
            return Err(TtlError);
        }
        Ok(Self(duration))
    }
}

/// The masked address: first character of the local part, `•••`, `@domain`
/// (`j•••@example.com`). Enough for a person to recognise their address, not to learn it.
pub fn hint(email: &str) -> String {
    let normalised = email.trim().to_lowercase();
    let (local, domain) = normalised
        .rsplit_once('@')
        .unwrap_or((normalised.as_str(), ""));
    let first: String = local.chars().take(1).collect();
    format!("{first}•••@{domain}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> LinkClaims {
        LinkClaims {
            sub: "hmac-sha256:00".into(),
            aud: vec![Site::try_from("pci.qualys.com").unwrap()],
            exp,
            iat: 0,
            jti: "j".into(),
            hint: hint("Jo@Example.com"),
            purpose: None,
            scope: None,
        }
    }

    /// A key added to the ring signs from then on; the older one still verifies what it
    /// signed, with its id or (minted before keys had ids) without; a key taken out of the
    /// ring no longer does.
    #[test]
    fn a_ring_signs_with_its_newest_key_and_verifies_with_each() {
        let site = Site::try_from("pci.qualys.com").unwrap();
        let claims = claims(now() + 3600);
        let (old, new) = ([1; 32], [2; 32]);
        let before = LinkKey::new(old).mint(&claims).unwrap();
        let without_id = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&old).unwrap(),
        )
        .unwrap();
        let ring = LinkKey::ring(vec![old, new]).unwrap();
        let after = ring.mint(&claims).unwrap();
        let kid = |token: &str| jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
        assert_eq!(kid(&after), key_id(&new));
        assert_ne!(kid(&before), kid(&after));
        for token in [&before, &without_id, &after] {
            assert_eq!(ring.verify(token, &site), Ok(claims.clone()));
        }
        let revoked = LinkKey::ring(vec![new]).unwrap();
        assert_eq!(revoked.verify(&before, &site), Err(TokenError::Invalid));
        assert_eq!(revoked.verify(&without_id, &site), Err(TokenError::Invalid));
        assert!(LinkKey::ring(Vec::new()).is_none());
    }

    /// A server's ring read from `path` at its start, and a token of the key
    /// `keygen --rotate` added to the file after it.
    struct Rotated {
        running: LinkKey,
        token: String,
        claims: LinkClaims,
        site: Site,
    }

    fn rotated_after_start(path: &Path) -> Rotated {
        let claims = claims(now() + 3600);
        let running = LinkKey::from_file(path).unwrap();
        let rotated = LinkKey::ring(keys::rotate(path).unwrap()).unwrap();
        Rotated {
            running,
            token: rotated.mint(&claims).unwrap(),
            claims,
            site: Site::try_from("pci.qualys.com").unwrap(),
        }
    }

    /// A running server whose ring's file gained a key (`keygen --rotate`, then `link`
    /// before the restart) checks a token of the new key by reading the file again; a
    /// token naming a key the file does not hold either is still refused.
    #[test]
    fn a_ring_read_from_its_file_reads_it_again_for_a_key_it_lacks() {
        let dir = tempfile::tempdir().unwrap();
        let r = rotated_after_start(&dir.path().join("link.key"));
        assert_eq!(r.running.verify(&r.token, &r.site), Ok(r.claims.clone()));
        assert_eq!(
            r.running.mint(&r.claims).unwrap(),
            r.token,
            "and signs with it from then on"
        );
        let stranger = LinkKey::new([9; 32]).mint(&r.claims).unwrap();
        assert_eq!(
            r.running.verify(&stranger, &r.site),
            Err(TokenError::Invalid)
        );
    }

    /// A read of the ring's file that failed for a cause outside it (here, too many open
    /// files) is tried again a while later though the file has not changed, and the token
    /// of the key added is then taken; one that failed for what the file holds is not tried
    /// again until the file changes. Meanwhile a key the ring lacks is unknown (its token
    /// unchecked: the file may hold its key), for [`UNREAD_GRACE`] at most.
    #[test]
    fn a_ring_read_that_failed_for_a_passing_cause_is_tried_again() {
        use std::cell::Cell;
        let dir = tempfile::tempdir().unwrap();
        let Rotated {
            running,
            token,
            claims,
            site,
        } = rotated_after_start(&dir.path().join("link.key"));
        let kid = jsonwebtoken::decode_header(&token).unwrap().kid;
        let kid = kid.as_deref();
        let reads = Cell::new(0);
        let failing = |cause: std::io::Error| {
            let reads = &reads;
            move |path: &Path| {
                reads.set(reads.get() + 1);
                Err(KeyError::Read {
                    path: path.into(),
                    source: cause,
                })
            }
        };
        let too_many_files = || std::io::Error::from_raw_os_error(24);
        let start = Instant::now();

        assert_eq!(
            running.reread_with(kid, start, failing(too_many_files())),
            Found::Unknown
        );
        assert_eq!(reads.get(), 1);
        let soon = start + REREAD_RETRY / 2;
        assert_eq!(
            running.reread_with(kid, soon, failing(too_many_files())),
            Found::Unknown
        );
        assert_eq!(reads.get(), 1, "not read again at once");
        assert_eq!(
            running.reread_with(kid, start + REREAD_RETRY, keys::read_ring),
            Found::Held
        );
        assert_eq!(running.verify(&token, &site), Ok(claims.clone()));

        // What the file holds: not its reader's passing trouble.
        let broken = dir.path().join("broken.key");
        let running = LinkKey::from_file(&broken).unwrap();
        std::fs::write(&broken, "not a key\n").unwrap();
        assert_eq!(
            running.reread_with(kid, start, keys::read_ring),
            Found::Unknown
        );
        let later = start + REREAD_RETRY * 10;
        assert_eq!(
            running.reread_with(kid, later, failing(too_many_files())),
            Found::Unknown
        );
        assert_eq!(
            reads.get(),
            1,
            "a broken ring is not read again until it changes"
        );
        // Nor one that is not text (read_to_string's InvalidData).
        std::fs::write(&broken, [0xff, 0xfe, b'\n']).unwrap();
        assert_eq!(
            running.reread_with(kid, start, keys::read_ring),
            Found::Unknown
        );
        assert_eq!(
            running.reread_with(kid, later, failing(too_many_files())),
            Found::Unknown
        );
        assert_eq!(
            reads.get(),
            1,
            "a ring that is not text is not read again until it changes"
        );
        // Left broken past the grace: the token is taken for what it seems again, and
        // can't hold its page's records waiting for good.
        assert_eq!(
            running.reread_with(kid, start + UNREAD_GRACE, failing(too_many_files())),
            Found::Lacking
        );
        assert_eq!(reads.get(), 1);
        // Mended, and without the key: the token is a stranger's.
        use base64::Engine as _;
        let other = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([3; 32]);
        std::fs::write(&broken, format!("{other}\n")).unwrap();
        assert_eq!(
            running.reread_with(kid, later, keys::read_ring),
            Found::Lacking
        );
        assert_eq!(running.verify(&token, &site), Err(TokenError::Invalid));

        // Deleted to be made again: unchecked while it is gone, for the grace.
        std::fs::remove_file(&broken).unwrap();
        assert_eq!(
            running.reread_with(kid, later, keys::read_ring),
            Found::Unknown
        );
        assert_eq!(
            running.reread_with(kid, later + UNREAD_GRACE / 2, keys::read_ring),
            Found::Unknown
        );
        assert_eq!(
            running.reread_with(kid, later + UNREAD_GRACE, keys::read_ring),
            Found::Lacking
        );
    }

    /// A token of a key rotated in, met by a ring file that can't be read (half written,
    /// deleted to be made again): unchecked, not invalid (each decided in the one call that
    /// finds the file changed and reads it).
    #[test]
    fn a_token_of_a_key_the_unread_ring_may_hold_is_unchecked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.key");
        let Rotated {
            running,
            token,
            claims,
            site,
        } = rotated_after_start(&path);
        let ring = std::fs::read(&path).unwrap();
        std::fs::write(&path, &ring[..ring.len() - 10]).unwrap();
        assert_eq!(running.verify(&token, &site), Err(TokenError::Unchecked));
        std::fs::remove_file(&path).unwrap();
        assert_eq!(running.verify(&token, &site), Err(TokenError::Unchecked));
        std::fs::write(&path, &ring).unwrap();
        assert_eq!(running.verify(&token, &site), Ok(claims));
    }

    /// A ring file replaced by another of the same length with the same modification time
    /// (one key taken out and another put in, within the second of the last read on a
    /// coarse clock) is still seen to have changed.
    #[test]
    fn a_ring_file_replaced_alike_is_read_again() {
        use base64::Engine as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.key");
        let line = |key: &[u8; 32]| {
            format!(
                "{}\n",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
            )
        };
        std::fs::write(&path, line(&[1; 32])).unwrap();
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        let running = LinkKey::from_file(&path).unwrap();
        let replacement = dir.path().join("link.key.new");
        std::fs::write(&replacement, line(&[2; 32])).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&replacement)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        std::fs::rename(&replacement, &path).unwrap();
        let site = Site::try_from("pci.qualys.com").unwrap();
        let claims = claims(now() + 3600);
        let token = LinkKey::new([2; 32]).mint(&claims).unwrap();
        assert_eq!(running.verify(&token, &site), Ok(claims));
    }

    #[test]
    fn an_unsubscribe_token_only_unsubscribes() {
        let key = LinkKey::new([1; 32]);
        let manage = claims(now() + 3600);
        let unsubscribe = LinkClaims {
            scope: Some(Scope::Unsubscribe),
            ..manage.clone()
        };
        let manage_token = key.mint(&manage).unwrap();
        let unsubscribe_token = key.mint(&unsubscribe).unwrap();
        let site = Site::try_from("pci.qualys.com").unwrap();
        assert_eq!(key.verify(&manage_token, &site), Ok(manage.clone()));
        assert_eq!(key.verify_for_unsubscribe(&manage_token), Ok(manage));
        assert_eq!(
            key.verify(&unsubscribe_token, &site),
            Err(TokenError::UnsubscribeOnly)
        );
        assert_eq!(TokenError::UnsubscribeOnly.code(), "token_invalid");
        // Refused for what it is, not for its age, once it has expired too.
        let old_unsubscribe = LinkClaims {
            exp: now() - 1,
            ..unsubscribe.clone()
        };
        assert_eq!(
            key.verify(&key.mint(&old_unsubscribe).unwrap(), &site),
            Err(TokenError::UnsubscribeOnly)
        );
        assert_eq!(
            key.verify_for_unsubscribe(&unsubscribe_token),
            Ok(unsubscribe)
        );
    }

    fn now() -> i64 {
        OffsetDateTime::now_utc().unix_timestamp()
    }

    #[test]
    fn a_token_verifies_under_its_key_only_on_its_sites_and_until_it_expires() {
        let key = LinkKey::new([1; 32]);
        let site = |s: &str| Site::try_from(s).unwrap();
        let (covered, other) = (site("pci.qualys.com"), site("www.qualys.com"));
        let fresh = claims(now() + 3600);
        let token = key.mint(&fresh).unwrap();
        assert_eq!(key.verify(&token, &covered), Ok(fresh.clone()));
        assert_eq!(key.verify(&token, &other), Err(TokenError::WrongSite));
        assert_eq!(
            LinkKey::new([2; 32]).verify(&token, &covered),
            Err(TokenError::Invalid)
        );
        let expired = key.mint(&claims(now())).unwrap();
        assert_eq!(key.verify(&expired, &covered), Err(TokenError::Expired));
        assert_eq!(
            key.verify_for_unsubscribe(&expired),
            Err(TokenError::Expired)
        );
        assert_eq!(
            key.verify(&expired, &other),
            Err(TokenError::WrongSite),
            "refused for where before when"
        );
        assert_eq!(
            LinkKey::new([2; 32]).verify(&expired, &covered),
            Err(TokenError::Invalid),
            "a forged token is invalid, whatever its exp"
        );
        assert_eq!(
            key.verify("not.a.token", &covered),
            Err(TokenError::Invalid)
        );
        assert_eq!(key.verify("", &covered), Err(TokenError::Invalid));
    }

    #[test]
    fn a_token_with_another_algorithm_is_invalid() {
        let key = LinkKey::new([1; 32]);
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims(now() + 3600),
            &EncodingKey::from_secret(&[1; 32]).unwrap(),
        )
        .unwrap();
        assert_eq!(
            key.verify(&hs512, &claims(0).aud[0]),
            Err(TokenError::Invalid)
        );
        // `alg: none` with no signature.
        let token = key.mint(&claims(now() + 3600)).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert_eq!(
            key.verify(&none, &claims(0).aud[0]),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn ttls_are_durations_from_a_second_to_366_days() {
        assert_eq!(Ttl::default().duration(), time::Duration::days(30));
        assert_eq!(
            "12h".parse::<Ttl>().unwrap().duration(),
            time::Duration::hours(12)
        );
        assert_eq!(
            "90m".parse::<Ttl>().unwrap().duration(),
            time::Duration::minutes(90)
        );
        assert_eq!(
            "1h 30m".parse::<Ttl>().unwrap().duration(),
            time::Duration::minutes(90)
        );
        assert_eq!(
            "600s".parse::<Ttl>().unwrap().duration(),
            time::Duration::seconds(600)
        );
        assert_eq!(
            "366d".parse::<Ttl>().unwrap().duration(),
            time::Duration::days(366)
        );
        for bad in [
            "",
            "d",
            "0d",
            "30",
            "0s",
            "500ms",
            "-1d",
            "53w",
            "367d",
            "99999999999999999999d",
            "soon",
        ] {
            assert!(bad.parse::<Ttl>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_hint_masks_the_local_part() {
        assert_eq!(hint(" Jane.Doe@Example.com "), "j•••@example.com");
        assert_eq!(hint("a@b.co"), "a•••@b.co");
    }
}

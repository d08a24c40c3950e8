//! Manage links: what `assent-collector link` and `POST /v1/links` make. One token,
//! carried in the page's fragment (`#assent=<token>`, never sent to a server) and in the
//! RFC 8058 unsubscribe address.

use std::str::FromStr;

use assent_record::{Email, PurposeId, Site, SubjectToken};
use axum::http::HeaderValue;
use serde::Serialize;
use time::OffsetDateTime;
use url::Url;

use crate::subject::SubjectKey;
use crate::token::{self, LinkClaims, LinkKey, Scope, SignError, Ttl, UNSUBSCRIBE_TTL_DAYS};

/// Most covered sites one link may name (the token must fit the record's 2048 characters).
pub const MAX_SITES: usize = 16;

/// Why a link can't be made. The messages never repeat the input.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// Not an e-mail address.
    #[error("email is not a valid e-mail address")]
    Email,
    /// No site, a site that is not a lowercase host name, or too many.
    #[error("site must be one to {MAX_SITES} covered sites, each a lowercase host name such as pci.qualys.com")]
    Site,
    /// The page is not an https URL (http only on localhost).
    #[error("page must be an https URL of a covered page (http only for localhost or 127.0.0.1), without user name or password")]
    Page,
    /// The page's origin is not one the collector takes records from: the link would be
    /// refused there, or carry its token to a page of another host.
    #[error("page must be on a covered site: its origin is not one of the allowed origins (--allowed-origins)")]
    NotCovered,
    /// The purpose is not an optional purpose.
    #[error("purpose must be the name of an optional purpose: new_products, announcements, upgrades or updates")]
    Purpose,
    /// The TTL does not parse.
    #[error(transparent)]
    Ttl(#[from] token::TtlError),
    /// A token came out longer than a record (or the unsubscribe URL's path) may carry.
    #[error(
        "the link names too many or too long sites: a token of it exceeds {} characters",
        SubjectToken::MAX_CHARS
    )]
    TooLong,
    /// The public URL is plain http to another machine: mail providers take only https
    /// one-click unsubscribe URLs (RFC 8058), and the URL's token would travel in clear.
    #[error("unsubscribe links need an https --public-url (RFC 8058; http only for localhost, 127.0.0.1 or [::1])")]
    PlainHttp,
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// No randomness for the token id.
    #[error(transparent)]
    Random(#[from] crate::keys::KeyError),
}

/// The collector's public base address, under which the unsubscribe route is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(Url);

/// A public URL that is not `http(s)://host[:port][/path]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("public URL must be http:// or https:// with a host, and no query, fragment or user name, e.g. https://consent.qualys.com")]
pub struct PublicUrlError;

impl FromStr for PublicUrl {
    type Err = PublicUrlError;
    fn from_str(value: &str) -> Result<Self, PublicUrlError> {
        let url = Url::parse(value.trim()).map_err(|_| PublicUrlError)?;
        let ok = matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some()
            && url.query().is_none()
            && url.fragment().is_none()
            && url.username().is_empty()
            && url.password().is_none();
        if ok {
            Ok(Self(url))
        } else {
            Err(PublicUrlError)
        }
    }
}

impl PublicUrl {
    /// `path` (starting with `/`) under the public address.
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0.as_str().trim_end_matches('/'))
    }

    /// The one-click unsubscribe address of a token.
    pub fn unsubscribe_url(&self, token: &str) -> String {
        self.join(&format!("/v1/unsubscribe/{token}"))
    }

    /// Whether it is https, or http to this machine (for development), as a one-click
    /// unsubscribe URL must be.
    pub fn is_secure(&self) -> bool {
        let local = matches!(self.0.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        self.0.scheme() == "https" || local
    }
}

/// A checked request for a link.
#[derive(Debug, Clone)]
pub struct LinkRequest {
    email: Email,
    sites: Vec<Site>,
    page: Url,
    purpose: Option<PurposeId>,
    ttl: Ttl,
}

impl LinkRequest {
    /// Checks each part; the page against `covered`, the origins records are taken from.
    pub fn new(
        email: &str,
        sites: &[String],
        page: &str,
        purpose: Option<&str>,
        ttl: Ttl,
        covered: &[HeaderValue],
    ) -> Result<Self, LinkError> {
        let email = Email::try_from(email.trim()).map_err(|_| LinkError::Email)?;
        if sites.is_empty() || sites.len() > MAX_SITES {
            return Err(LinkError::Site);
        }
        let mut checked: Vec<Site> = Vec::with_capacity(sites.len());
        for site in sites {
            let site = Site::try_from(site.trim()).map_err(|_| LinkError::Site)?;
            if !checked.contains(&site) {
                checked.push(site);
            }
        }
        let purpose = purpose.map(parse_purpose).transpose()?;
        Ok(Self {
            email,
            sites: checked,
            page: parse_page(page, covered)?,
            purpose,
            ttl,
        })
    }
}

/// An optional purpose by its wire name.
pub fn parse_purpose(name: &str) -> Result<PurposeId, LinkError> {
    PurposeId::ALL
        .into_iter()
        .find(|p| p.is_optional() && p.as_str() == name.trim())
        .ok_or(LinkError::Purpose)
}

/// A covered page: https, or http on this machine for development, of an origin in
/// `covered`.
fn parse_page(page: &str, covered: &[HeaderValue]) -> Result<Url, LinkError> {
    let url = Url::parse(page.trim()).map_err(|_| LinkError::Page)?;
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1"));
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && local);
    if !(scheme_ok
        && url.host_str().is_some()
        && url.username().is_empty()
        && url.password().is_none())
    {
        return Err(LinkError::Page);
    }
    let origin = url.origin().ascii_serialization();
    if !covered.iter().any(|allowed| allowed == origin.as_str()) {
        return Err(LinkError::NotCovered);
    }
    Ok(url)
}

/// The page's fragment with the token's part added: a fragment the page has already (a
/// single-page app's route) stays, before it, as the widget keeps the other `&`-separated
/// parts when it takes the token out; an `assent=` part of its own goes, or the widget
/// would take that one.
fn with_token(fragment: Option<&str>, token: &str) -> String {
    let mut parts: Vec<&str> = fragment
        .unwrap_or_default()
        .split('&')
        .filter(|part| !part.is_empty() && !part.starts_with("assent="))
        .collect();
    let token = format!("assent={token}");
    parts.push(&token);
    parts.join("&")
}

/// What a mint answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// The signed token.
    pub token: String,
    /// The page with `#assent=<token>`.
    pub manage_url: String,
    /// For `List-Unsubscribe` (with `List-Unsubscribe-Post: List-Unsubscribe=One-Click`).
    pub unsubscribe_url: String,
    /// When the token stops working, RFC 3339 UTC.
    pub expires_at: String,
    /// When the unsubscribe URL stops working: a year after the mint, or with the token
    /// if that is later.
    pub unsubscribe_expires_at: String,
    /// The masked address the widget shows.
    pub hint: String,
    /// The covered sites.
    pub sites: Vec<Site>,
}

/// `at` in unix seconds, rounded up: a token's `exp` is whole seconds (RFC 7519), and one
/// rounded down would end its TTL up to a second early (a `1s` one at once).
fn whole_seconds_up(at: OffsetDateTime) -> i64 {
    at.unix_timestamp() + i64::from(at.nanosecond() > 0)
}

/// Mints a link for `request`.
pub fn mint(
    link_key: &LinkKey,
    subject_key: &SubjectKey,
    public_url: &PublicUrl,
    request: LinkRequest,
) -> Result<Link, LinkError> {
    if !public_url.is_secure() {
        return Err(LinkError::PlainHttp);
    }
    let now = OffsetDateTime::now_utc();
    let random = crate::keys::random()?;
    let jti = |bytes: &[u8]| {
        let mut id = [0u8; 16];
        id.copy_from_slice(bytes);
        uuid::Builder::from_random_bytes(id).into_uuid().to_string()
    };
    let claims = LinkClaims {
        sub: subject_key.subject(&request.email),
        aud: request.sites,
        exp: whole_seconds_up(now + request.ttl.duration()),
        iat: now.unix_timestamp(),
        jti: jti(&random[..16]),
        hint: token::hint(request.email.as_str()),
        purpose: request.purpose,
        scope: None,
    };
    // A token of its own for the unsubscribe URL, good for nothing else: that URL is seen
    // by every mail provider and link scanner the message passes, and can end up in logs.
    let unsubscribe_claims = LinkClaims {
        jti: jti(&random[16..]),
        scope: Some(Scope::Unsubscribe),
        exp: claims.exp.max(whole_seconds_up(
            now + time::Duration::days(UNSUBSCRIBE_TTL_DAYS),
        )),
        ..claims.clone()
    };
    // Both with one key, even should the ring be read again meanwhile.
    let [token, unsubscribe_token] = link_key.mint_each([&claims, &unsubscribe_claims])?;
    // The unsubscribe token's scope makes it a little longer. Held to the same limit, as the
    // OpenAPI document says of the unsubscribe route's path (no site need come near it).
    if token.len() > SubjectToken::MAX_CHARS || unsubscribe_token.len() > SubjectToken::MAX_CHARS {
        return Err(LinkError::TooLong);
    }
    let mut manage = request.page;
    manage.set_fragment(Some(&with_token(manage.fragment(), &token)));
    Ok(Link {
        manage_url: manage.into(),
        unsubscribe_url: public_url.unsubscribe_url(&unsubscribe_token),
        expires_at: claims.expires_at(),
        unsubscribe_expires_at: unsubscribe_claims.expires_at(),
        hint: claims.hint,
        sites: claims.aud,
        token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::TokenError;

    /// Each of `inputs` refused by `attempt` with an error `expected` takes.
    fn refused<T>(
        inputs: &[&str],
        attempt: impl Fn(&str) -> Result<T, LinkError>,
        expected: impl Fn(&LinkError) -> bool,
    ) {
        for input in inputs {
            assert!(
                attempt(input).err().is_some_and(|err| expected(&err)),
                "{input:?}"
            );
        }
    }

    /// The origins the tests' pages are of.
    fn covered() -> Vec<HeaderValue> {
        [
            "https://pci.qualys.com",
            "http://127.0.0.1:8787",
            "http://localhost",
        ]
        .map(HeaderValue::from_static)
        .to_vec()
    }

    fn request(page: &str) -> Result<LinkRequest, LinkError> {
        LinkRequest::new(
            "Jo@Example.com",
            &["pci.qualys.com".into()],
            page,
            None,
            Ttl::default(),
            &covered(),
        )
    }

    #[test]
    fn pages_must_be_https_except_on_this_machine() {
        assert!(request("https://pci.qualys.com/account?x=1").is_ok());
        assert!(request("http://127.0.0.1:8787/sites/pci.html").is_ok());
        assert!(request("http://localhost/").is_ok());
        refused(
            &[
                "http://pci.qualys.com/",
                "javascript:alert(1)",
                "https://user:pw@pci.qualys.com/",
                "pci.qualys.com",
                "",
            ],
            request,
            |err| matches!(err, LinkError::Page),
        );
    }

    /// A typo in a mailer's page (another host, another port, plain http where the site is
    /// https) is refused, not minted into links that fail, or that carry their token to
    /// another host's page.
    #[test]
    fn pages_must_be_of_an_allowed_origin() {
        refused(
            &[
                "https://pci.qualys.co/account",
                "https://evil.example/",
                "https://pci.qualys.com:8443/",
                "http://127.0.0.1:8788/sites/pci.html",
                "https://www.qualys.com/",
            ],
            request,
            |err| matches!(err, LinkError::NotCovered),
        );
        assert!(
            request("https://PCI.qualys.com:443/account").is_ok(),
            "as its origin"
        );
    }

    /// A page's own fragment (a single-page app's route) stays before the token's part, as
    /// the widget keeps the others when it takes the token out; an `assent=` of its own goes.
    #[test]
    fn a_pages_fragment_stays_beside_the_token() {
        assert_eq!(with_token(None, "t"), "assent=t");
        assert_eq!(with_token(Some(""), "t"), "assent=t");
        assert_eq!(with_token(Some("/account"), "t"), "/account&assent=t");
        assert_eq!(with_token(Some("a=1&assent=old&b"), "t"), "a=1&b&assent=t");
    }

    /// A one-click unsubscribe URL must be https (RFC 8058), its token in clear otherwise:
    /// no link under a plain http public URL, but to this machine, for development.
    #[test]
    fn links_are_minted_only_under_an_https_or_local_public_url() {
        let key = LinkKey::new([1; 32]);
        let subjects = SubjectKey::new([2; 32]);
        let mint_under = |public: &str| {
            let public: PublicUrl = public.parse().unwrap();
            mint(
                &key,
                &subjects,
                &public,
                request("https://pci.qualys.com/").unwrap(),
            )
        };
        for ok in [
            "https://consent.example",
            "http://127.0.0.1:8787",
            "http://localhost",
            "http://[::1]:8787/",
        ] {
            assert!(mint_under(ok).is_ok(), "{ok}");
        }
        refused(
            &[
                "http://consent.example",
                "http://10.0.0.5:8787",
                "http://0.0.0.0:8787",
            ],
            mint_under,
            |err| matches!(err, LinkError::PlainHttp),
        );
    }

    #[test]
    fn a_link_carries_the_token_in_the_fragment_and_under_the_public_url() {
        let key = LinkKey::new([1; 32]);
        let subjects = SubjectKey::new([2; 32]);
        let public: PublicUrl = "https://consent.example/base/".parse().unwrap();
        let link = mint(
            &key,
            &subjects,
            &public,
            request("https://pci.qualys.com/p#old").unwrap(),
        )
        .unwrap();
        assert_eq!(
            link.manage_url,
            format!("https://pci.qualys.com/p#old&assent={}", link.token)
        );
        let unsubscribe_token = link
            .unsubscribe_url
            .strip_prefix("https://consent.example/base/v1/unsubscribe/")
            .unwrap();
        assert_ne!(unsubscribe_token, link.token, "a token of its own");
        assert_eq!(
            key.verify(
                unsubscribe_token,
                &Site::try_from("pci.qualys.com").unwrap()
            ),
            Err(TokenError::UnsubscribeOnly)
        );
        let unsubscribe = key.verify_for_unsubscribe(unsubscribe_token).unwrap();
        assert_eq!(link.hint, "j•••@example.com");
        let claims = key
            .verify(&link.token, &Site::try_from("pci.qualys.com").unwrap())
            .unwrap();
        // For the same person; a year long, where the manage link's default is 30 days (its
        // end rounded up to a whole second, its start down).
        assert_eq!(unsubscribe.sub, claims.sub);
        assert!((0..=1).contains(&(claims.exp - claims.iat - 30 * 86_400)));
        assert!(
            (0..=1).contains(&(unsubscribe.exp - unsubscribe.iat - UNSUBSCRIBE_TTL_DAYS * 86_400))
        );
        assert_eq!(link.unsubscribe_expires_at, unsubscribe.expires_at());
        assert_eq!(claims.sub, subjects.subject_of("jo@example.com"));
        assert!(!link.token.contains("example.com"));
        assert!(SubjectToken::try_from(link.token).is_ok());
    }

    /// A link lasts its whole TTL at least: its `exp`, in whole seconds, is rounded up
    /// (rounded down, a `1s` token minted at x.9 s expired 0.1 s later).
    #[test]
    fn a_link_lasts_its_whole_ttl() {
        let public: PublicUrl = "https://consent.example/".parse().unwrap();
        let mut asked = request("https://pci.qualys.com/p").unwrap();
        asked.ttl = "1s".parse().unwrap();
        let before = OffsetDateTime::now_utc();
        let link = mint(
            &LinkKey::new([1; 32]),
            &SubjectKey::new([2; 32]),
            &public,
            asked,
        )
        .unwrap();
        let claims = LinkKey::new([1; 32])
            .verify(&link.token, &Site::try_from("pci.qualys.com").unwrap())
            .unwrap();
        let end = before + time::Duration::SECOND;
        assert!(
            i128::from(claims.exp) * 1_000_000_000 >= end.unix_timestamp_nanos(),
            "exp {} before {end}",
            claims.exp
        );
    }

    #[test]
    fn bad_parts_are_refused() {
        let ttl = Ttl::default();
        let page = "https://pci.qualys.com/";
        let sites = ["pci.qualys.com".to_owned()];
        assert!(matches!(
            LinkRequest::new("nope", &sites, page, None, ttl, &covered()),
            Err(LinkError::Email)
        ));
        assert!(matches!(
            LinkRequest::new("a@b.co", &[], page, None, ttl, &covered()),
            Err(LinkError::Site)
        ));
        assert!(matches!(
            LinkRequest::new(
                "a@b.co",
                &["PCI.example".into()],
                page,
                None,
                ttl,
                &covered()
            ),
            Err(LinkError::Site)
        ));
        assert!(matches!(
            LinkRequest::new("a@b.co", &sites, page, Some("security"), ttl, &covered()),
            Err(LinkError::Purpose)
        ));
        assert!(LinkRequest::new("a@b.co", &sites, page, Some("updates"), ttl, &covered()).is_ok());
        for bad in [
            "ftp://x.example",
            "https://x.example/?q",
            "https://u@x.example",
        ] {
            assert!(bad.parse::<PublicUrl>().is_err(), "{bad}");
        }
    }
}

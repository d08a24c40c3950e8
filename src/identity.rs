//! Whom the preferences are for: the signed token of a manage link (`#assent=<token>` in
//! the page address, or `Assent.identify(token)`), checked by the collector at the
//! records endpoint's sibling `identity`. The token is opaque to the widget: it checks
//! only the token's form, and carries it. An identity lasts for this page: it lives in
//! memory, and in storage only inside pending records, so a record retried on a later
//! page is still attributed.

use assent_record::{Notice, PlainText, Site, SubjectToken};
use thiserror::Error;
use wasm_bindgen::JsValue;

use crate::browser::{self, address, env, http};
use crate::delivery;
use crate::preferences::Choices;

/// The fragment parameter of a manage link.
const PARAMETER: &str = "assent=";

/// The `code` of a failure that is not one of the collector's token refusals.
const UNAVAILABLE: &str = "identity_unavailable";

/// Splits a page address's fragment (without its `#`) into the manage link's token and
/// the fragment without it, other `&`-separated parts kept in order. `None` when the
/// fragment has no `assent=` part.
pub fn split_fragment(fragment: &str) -> Option<(String, String)> {
    let mut token = None;
    let mut rest = String::new();
    for part in fragment.split('&') {
        match (part.strip_prefix(PARAMETER), token.is_none()) {
            (Some(value), true) => token = Some(value.to_owned()),
            (Some(_), false) => {}
            (None, _) => {
                if !rest.is_empty() {
                    rest.push('&');
                }
                rest.push_str(part);
            }
        }
    }
    token.map(|token| (token, rest))
}

/// Takes a manage link's token out of the page address at once: it must not stay in the
/// address bar, the history entry, a bookmark or a shared copy of the address.
pub fn take_from_address() -> Option<String> {
    let href = address::href()?;
    let (page, fragment) = href.split_once('#')?;
    let (token, rest) = split_fragment(fragment)?;
    let mut url = page.to_owned();
    if !rest.is_empty() {
        url.push('#');
        url.push_str(&rest);
    }
    if let Err(reason) = address::replace(&url) {
        env::warn(&reason.to_string());
    }
    Some(token)
}

/// What the visitor is told when a link is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The link is past its expiry: ask for a new one.
    Expired,
    /// The link is forged, damaged or not a link at all.
    Invalid,
    /// The link is for another site.
    WrongSite,
    /// The link could not be checked (no endpoint, network, collector failure).
    Unchecked,
}

/// Why no identity is known.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdentityError {
    /// The token is not even of the token's form, so it is not sent anywhere.
    #[error("the link's token is malformed, so it was not sent")]
    Malformed,
    /// Nowhere to check the link.
    #[error("no valid data-endpoint is set, so the link cannot be checked")]
    NoEndpoint,
    /// `Assent.identify` before the widget runs.
    #[error("the widget is not running")]
    NotRunning,
    /// No answer.
    #[error("the link could not be checked: {0}")]
    Network(http::FetchError),
    /// The collector answered with an error.
    #[error("the collector refused the link: {message} (HTTP {status}, {code})")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The collector's error code, e.g. `token_expired`.
        code: String,
        /// The collector's message.
        message: String,
    },
    /// The answer is not an identity or an error the widget can read.
    #[error("the collector's answer to the link (HTTP {0}) could not be read")]
    Unreadable(u16),
    /// Another check started before this one's answer came; that one's counts.
    #[error("a later check replaced this one")]
    Superseded,
    /// The link the identity came from expired while the page was open.
    #[error("the link expired; records carry no token")]
    Lapsed,
}

impl IdentityError {
    /// What the visitor is told.
    pub fn refusal(&self) -> Refusal {
        match self.code() {
            "token_expired" => Refusal::Expired,
            "token_invalid" => Refusal::Invalid,
            "token_wrong_site" => Refusal::WrongSite,
            _ => Refusal::Unchecked,
        }
    }

    /// The HTTP status, 0 when there was no answer.
    pub fn status(&self) -> u16 {
        match self {
            Self::Refused { status, .. } | Self::Unreadable(status) => *status,
            _ => 0,
        }
    }

    /// The collector's error code, `token_invalid` for a token refused on sight, and
    /// `identity_unavailable` for everything else.
    pub fn code(&self) -> &str {
        match self {
            Self::Malformed => "token_invalid",
            Self::Lapsed => "token_expired",
            Self::Superseded => "identity_superseded",
            Self::Refused { code, .. } => code,
            _ => UNAVAILABLE,
        }
    }

    /// The `assent:error` detail, and what `Assent.identify` rejects with.
    pub fn detail(&self) -> JsValue {
        delivery::ErrorDetail {
            code: Some(self.code()),
            message: &self.to_string(),
            record_id: None,
            status: self.status(),
        }
        .to_js()
    }
}

/// A person the collector vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The token, carried by every record saved while it holds.
    pub token: SubjectToken,
    /// The masked address to show, e.g. `j•••@example.com`.
    pub hint: PlainText,
    /// The notice's toggles as the collector has them; a purpose it has no state for is
    /// off.
    pub choices: Choices,
    /// The collector's whole answer, for `Assent.identify`.
    pub answer: String,
    /// When the link expires, by this browser's clock (`Date.now()`), from the seconds it
    /// had left when the collector answered, so that the clock need not be right; none
    /// from a collector that does not say.
    pub expires_millis: Option<i64>,
}

impl Identity {
    /// Whether its link has expired.
    pub fn lapsed(&self) -> bool {
        self.expires_millis
            .is_some_and(|at| env::now_millis() >= at)
    }
}

/// Checks `token` for `site` with the collector next to `endpoint`: POST `{token, site}`
/// to `new URL("identity", endpoint)`, as a CORS-simple request without credentials.
pub async fn check(
    endpoint: Option<&str>,
    site: &Site,
    notice: &Notice,
    token: &str,
) -> Result<Identity, IdentityError> {
    let token = SubjectToken::try_from(token).map_err(|_| IdentityError::Malformed)?;
    let url = endpoint
        .and_then(|endpoint| env::join_url(endpoint, "identity"))
        .ok_or(IdentityError::NoEndpoint)?;
    // Neither a token (base64url and dots) nor a site (a host name) has anything to escape.
    let body = format!(r#"{{"token":"{token}","site":"{site}"}}"#);
    let http::Answer {
        status, body: text, ..
    } = http::post_json(&url, &body)
        .await
        .map_err(IdentityError::Network)?;
    let answer = browser::json(&text);
    let field = |name| env::string_property(&answer, name);
    if !(200..300).contains(&status) {
        let code = field("error").ok_or(IdentityError::Unreadable(status))?;
        return Err(IdentityError::Refused {
            status,
            code,
            message: field("message").unwrap_or_default(),
        });
    }
    let hint = field("hint").and_then(|hint| PlainText::try_from(hint).ok());
    match (hint, env::object_property(&answer, "preferences")) {
        (Some(hint), Some(preferences)) => Ok(Identity {
            token,
            hint,
            choices: Choices::from_fn(notice, &|purpose| {
                env::string_property(&preferences, purpose.as_str()).as_deref() == Some("granted")
            }),
            answer: text,
            expires_millis: env::number_property(&answer, "expires_in")
                .map(|seconds| env::now_millis().saturating_add((seconds * 1000.0) as i64)),
        }),
        _ => Err(IdentityError::Unreadable(status)),
    }
}

//! The site's settings, read from the script tag's `data-*` attributes by the loader.
//! Every setting has a safe fallback: a bad value is reported in the console, never fatal.

use assent_record::{Href, Site};
use thiserror::Error;
use wasm_bindgen::JsValue;

use crate::browser::env::{self, ParsedUrl};
use crate::browser::shared_cookie::SharedCookie;

/// The `data-*` attributes as the loader passes them, unchecked.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScriptAttributes {
    /// `data-endpoint`: where records are POSTed.
    pub endpoint: Option<String>,
    /// `data-site`: the covered site's host name.
    pub site: Option<String>,
    /// `data-notice`: URL of a notice document replacing the embedded one.
    pub notice: Option<String>,
    /// `data-policy-url`: the full statement, replacing the notice's link.
    pub policy_url: Option<String>,
    /// `data-theme`: `light`, `dark` or `auto`.
    pub theme: Option<String>,
    /// The shared-choice cookie of `data-cookie-domain`, when the loader found a valid one.
    pub shared_cookie: Option<SharedCookie>,
}

impl ScriptAttributes {
    /// The attributes from the loader's object of `dataset` strings (camelCase names);
    /// whatever is not a string stays unset. `sharedCookie` is the loader's `{read,
    /// domain}` for `data-cookie-domain`, which the loader checks.
    pub fn from_js(object: &JsValue) -> Self {
        let get = |name| env::string_property(object, name);
        Self {
            endpoint: get("endpoint"),
            site: get("site"),
            notice: get("notice"),
            policy_url: get("policyUrl"),
            theme: get("theme"),
            shared_cookie: env::object_property(object, "sharedCookie")
                .and_then(|shared| SharedCookie::from_js(&shared)),
        }
    }
}

/// Why records are not sent anywhere.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EndpointError {
    /// No `data-endpoint`.
    #[error("no data-endpoint is set, so choices are kept in this browser only")]
    Missing,
    /// Not an absolute URL.
    #[error("data-endpoint is not an absolute URL, so choices are kept in this browser only")]
    Invalid,
    /// With a user name or password, which `fetch` refuses to send to.
    #[error(
        "data-endpoint must not name a user or password, so choices are kept in this browser only"
    )]
    Credentials,
    /// Not `https:` (plain `http:` only to localhost).
    #[error("data-endpoint must use https: (http: only for localhost or 127.0.0.1), so choices are kept in this browser only")]
    Insecure,
}

/// Why a `data-notice` URL is not fetched.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NoticeUrlError {
    /// Not a URL.
    #[error("data-notice is not a valid URL")]
    Invalid,
    /// Neither `https:`, the page's own origin, nor localhost.
    #[error("data-notice must be https:, on the page's own origin, or on localhost")]
    Insecure,
}

/// Colour scheme of the widget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Theme {
    /// Follow the visitor's system setting.
    #[default]
    Auto,
    /// Light.
    Light,
    /// Dark.
    Dark,
}

impl Theme {
    /// The widget root's classes: `assent` and the one that selects the theme.
    pub fn root_class(self) -> &'static str {
        match self {
            Self::Auto => "assent theme-auto",
            Self::Light => "assent theme-light",
            Self::Dark => "assent theme-dark",
        }
    }
}

/// The checked settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The covered site; records and storage keys carry it.
    pub site: Site,
    /// Where records go, or why they don't.
    pub endpoint: Result<String, EndpointError>,
    /// A notice document to fetch instead of the embedded one.
    pub notice_url: Option<Result<String, NoticeUrlError>>,
    /// Replaces the notice's full-statement link.
    pub policy_url: Option<Href>,
    /// Colour scheme.
    pub theme: Theme,
    /// The choice shared with the other covered sites of `data-cookie-domain`.
    pub shared_cookie: Option<SharedCookie>,
}

fn is_loopback(url: &ParsedUrl) -> bool {
    matches!(url.hostname.as_str(), "localhost" | "127.0.0.1" | "[::1]")
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl Config {
    /// Checks the attributes, reporting every fallback in the console.
    pub fn from_attributes(attributes: &ScriptAttributes) -> Self {
        let config = Self {
            site: site(non_empty(&attributes.site)),
            endpoint: endpoint(non_empty(&attributes.endpoint)),
            notice_url: non_empty(&attributes.notice).map(notice_url),
            policy_url: non_empty(&attributes.policy_url).and_then(|url| {
                Href::try_from(url)
                    .map_err(|e| env::warn(&format!("data-policy-url ignored: {e}")))
                    .ok()
            }),
            theme: match non_empty(&attributes.theme) {
                None | Some("auto") => Theme::Auto,
                Some("light") => Theme::Light,
                Some("dark") => Theme::Dark,
                Some(_) => {
                    env::warn("data-theme must be light, dark or auto; using auto");
                    Theme::Auto
                }
            },
            shared_cookie: attributes.shared_cookie.clone(),
        };
        if let Err(reason) = &config.endpoint {
            env::warn(&reason.to_string());
        }
        if let Some(Err(reason)) = &config.notice_url {
            env::warn(&format!("{reason}; showing the embedded notice"));
        }
        config
    }

    /// Where records go, when they go anywhere.
    pub fn endpoint_url(&self) -> Option<&str> {
        self.endpoint.as_deref().ok()
    }
}

fn site(declared: Option<&str>) -> Site {
    if let Some(declared) = declared {
        match Site::try_from(declared) {
            Ok(site) => return site,
            Err(e) => env::warn(&format!(
                "data-site ignored: {e}; using the page's host name"
            )),
        }
    }
    env::page_hostname()
        .and_then(|host| Site::try_from(host).ok())
        .unwrap_or_else(Site::localhost)
}

fn endpoint(declared: Option<&str>) -> Result<String, EndpointError> {
    let url = env::parse_absolute_url(declared.ok_or(EndpointError::Missing)?)
        .ok_or(EndpointError::Invalid)?;
    match url.protocol.as_str() {
        "https:" => {}
        "http:" if is_loopback(&url) => {}
        _ => return Err(EndpointError::Insecure),
    }
    // An http(s) origin leaves out only a user and password (`https://u:p@host/`).
    if url.href.starts_with(&url.origin) {
        Ok(url.href)
    } else {
        Err(EndpointError::Credentials)
    }
}

fn notice_url(declared: &str) -> Result<String, NoticeUrlError> {
    let url = env::parse_url(declared).ok_or(NoticeUrlError::Invalid)?;
    let same_origin = env::page_origin().is_some_and(|origin| origin == url.origin);
    let allowed = url.protocol == "https:"
        || (url.protocol == "http:" && (same_origin || is_loopback(&url)))
        || (url.protocol == "blob:" && same_origin);
    if allowed {
        Ok(url.href)
    } else {
        Err(NoticeUrlError::Insecure)
    }
}

//! Which notice the widget shows: the site's own (`data-notice`), fetched and validated;
//! else its translation into the visitor's language, where there is one; else the one
//! embedded at build time, with its purposes' words in the visitor's language. On any
//! problem with the site's, the next of these, with the reason in the console.

use std::rc::Rc;

use assent_record::{ContentHash, Notice};
use thiserror::Error;

use wasm_bindgen::JsValue;

use crate::browser::{env, http, read};
use crate::config::Config;
use crate::locale::Locale;

/// The notice compiled into the widget: Qualys, Inc.'s privacy highlights
/// (`notices/qualys-privacy-highlights.en.json`, compacted by `build.rs`).
pub const EMBEDDED_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/notice.en.json"));

/// A notice as shown, with the hash records carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownNotice {
    /// The document, with the site's `data-policy-url` applied.
    pub notice: Rc<Notice>,
    /// Hash of exactly that document.
    pub hash: ContentHash,
    /// Its purposes' labels and reasons are in the visitor's language (a language file's),
    /// not the document's.
    pub purposes_translated: bool,
}

/// Why a site's notice document was not used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NoticeError {
    /// The URL was refused by the configuration checks.
    #[error(transparent)]
    Url(#[from] crate::config::NoticeUrlError),
    /// The fetch failed.
    #[error(transparent)]
    Fetch(#[from] http::FetchError),
    /// The server did not answer 200.
    #[error("the notice document answered HTTP {0}")]
    Status(u16),
    /// The document is not a valid notice.
    #[error("the notice document is invalid: {0}")]
    Invalid(String),
}

/// Parses and checks a notice document.
pub fn parse(json: &str) -> Result<Notice, NoticeError> {
    read::json(json).map_err(|e| NoticeError::Invalid(e.to_string()))
}

/// Checks a notice document already parsed (a language file's).
pub fn read(value: JsValue) -> Result<Notice, NoticeError> {
    read::value(value).map_err(|e| NoticeError::Invalid(e.to_string()))
}

/// The embedded notice. It is checked by the record crate's tests, so this can only fail
/// if the build embedded something else; then the widget says so and shows nothing.
pub fn embedded() -> Result<Notice, NoticeError> {
    parse(EMBEDDED_JSON)
}

async fn fetch(url: &str) -> Result<Notice, NoticeError> {
    let (status, body) = http::get_text(url).await?;
    if status != 200 {
        return Err(NoticeError::Status(status));
    }
    parse(&body)
}

/// The notice to show under `config`, to a visitor reading `locale` (none: English).
pub async fn load(config: &Config, locale: Option<Locale>) -> Result<ShownNotice, NoticeError> {
    if let Some(Ok(url)) = &config.notice_url {
        match fetch(url).await {
            Ok(notice) => return Ok(shown(notice, config, None)),
            Err(reason) => env::warn(&format!("{reason}; showing the embedded notice")),
        }
    }
    match locale {
        Some(Locale {
            notice: Some(translated),
            ..
        }) => Ok(shown(translated, config, None)),
        locale => Ok(shown(embedded()?, config, locale.as_ref())),
    }
}

/// Applies the site's settings to a notice and hashes the result. With `purposes_in`, the
/// purposes' labels and reasons are then shown in that language: the record's hash is of
/// the document that prevails, the language it names says which words the visitor read.
pub fn shown(mut notice: Notice, config: &Config, purposes_in: Option<&Locale>) -> ShownNotice {
    if let Some(href) = &config.policy_url {
        notice.full_statement.href = href.clone();
    }
    let hash = notice.hash();
    let purposes_translated = match purposes_in.map(|locale| locale.translate_purposes(&mut notice))
    {
        Some(Err(reason)) => {
            env::warn(&format!("{reason}; the purposes are shown in English"));
            false
        }
        translated => translated.is_some(),
    };
    ShownNotice {
        notice: Rc::new(notice),
        hash,
        purposes_translated,
    }
}

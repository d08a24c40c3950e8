//! Which notice the widget shows: the one embedded at build time, or the site's own
//! (`data-notice`), fetched and validated; on any problem the embedded one, with the
//! reason in the console.

use std::rc::Rc;

use assent_record::{ContentHash, Link, Notice};
use thiserror::Error;

use crate::browser::{env, http};
use crate::config::Config;

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
    serde_json::from_str(json).map_err(|e| NoticeError::Invalid(e.to_string()))
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

/// The notice to show under `config`.
pub async fn load(config: &Config) -> Result<ShownNotice, NoticeError> {
    let notice = match &config.notice_url {
        Some(Ok(url)) => match fetch(url).await {
            Ok(notice) => notice,
            Err(reason) => {
                env::warn(&format!("{reason}; showing the embedded notice"));
                embedded()?
            }
        },
        _ => embedded()?,
    };
    Ok(shown(notice, config))
}

/// Applies the site's settings to a notice and hashes the result.
pub fn shown(mut notice: Notice, config: &Config) -> ShownNotice {
    if let Some(href) = &config.policy_url {
        notice.full_statement = Link {
            text: notice.full_statement.text.clone(),
            href: href.clone(),
        };
    }
    let hash = notice.hash();
    ShownNotice {
        notice: Rc::new(notice),
        hash,
    }
}

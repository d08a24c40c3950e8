//! Webhooks: every change (a record with a subject) POSTed to the company's endpoint,
//! signed as the Standard Webhooks spec says (<https://www.standardwebhooks.com/>).
//!
//! Deliveries are queued in the database in the record's own transaction
//! (`Store::with_webhooks`), so a stored change always has its delivery; a worker in each
//! `serve` process claims due deliveries with a lease (several processes never post one
//! message at the same time), retries failures with capped exponential backoff and jitter
//! for three days, and a restart resumes where the database says. Delivery is at least
//! once: a process killed mid-delivery posts that message again after the lease runs out.

pub mod backoff;
pub mod queue;
pub mod secret;
mod worker;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use assent_record::PurposeId;
use serde::Serialize;

use crate::changes::Change;
use crate::standing::PurposeStanding;

pub use backoff::Backoff;
pub use secret::{SecretError, WebhookSecret};
pub use worker::{spawn, Deliveries, WorkerError};

/// The `type` of every delivery.
pub const EVENT_TYPE: &str = "preferences.changed";

/// Longest wait for the endpoint's answer by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and how to deliver.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// The endpoint.
    pub url: reqwest::Url,
    /// The file holding the signing secret (`whsec_…`), created if missing.
    pub secret_file: PathBuf,
    /// The retry schedule.
    pub backoff: Backoff,
    /// Longest wait for one answer.
    pub timeout: Duration,
}

/// A webhook URL that can't be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not a URL.
    #[error("webhook URL is not a URL")]
    Parse,
    /// Not https (http is allowed for a loopback host only: the payload and its signature
    /// must not cross a network in clear).
    #[error("webhook URL must be https:// (http:// only for localhost or 127.0.0.1)")]
    Scheme,
}

/// Checks a webhook URL: https, or http to a loopback host.
pub fn parse_url(text: &str) -> Result<reqwest::Url, UrlError> {
    let url = reqwest::Url::parse(text).map_err(|_| UrlError::Parse)?;
    if url.host().is_none() {
        return Err(UrlError::Parse);
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        _ => Err(UrlError::Scheme),
    }
}

/// Whether `url`'s host is this machine: `localhost` or a loopback address.
pub fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(host)) => host == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The `webhook-id` of a change: the same on every attempt, so the receiver can drop
/// repeats.
pub fn message_id(record_id: &str) -> String {
    format!("msg_{}", record_id.replace('-', ""))
}

/// A delivery's body: the change and its type.
#[derive(Debug, Serialize)]
pub struct Payload<'a> {
    /// Always [`EVENT_TYPE`].
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The change.
    #[serde(flatten)]
    pub change: &'a Change,
    /// The person's preferences as of this change (what the subject lookup answered right
    /// after it): deliveries can arrive in any order, so a receiver keeps, for each
    /// subject, the standing of the highest `seq` it got, and needs no fold of its own.
    pub standing: &'a BTreeMap<PurposeId, PurposeStanding>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_https_or_loopback_http() {
        assert!(parse_url("https://mailer.example.com/hooks/assent").is_ok());
        assert!(parse_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(parse_url("http://localhost/hook").is_ok());
        assert!(parse_url("http://[::1]:9000/").is_ok());
        assert_eq!(
            parse_url("http://mailer.example.com/"),
            Err(UrlError::Scheme)
        );
        assert_eq!(parse_url("ftp://127.0.0.1/"), Err(UrlError::Scheme));
        assert_eq!(parse_url("not a url"), Err(UrlError::Parse));
    }

    #[test]
    fn message_ids_are_stable_per_record() {
        assert_eq!(
            message_id("0b4f7a4e-2f57-4a6c-9f0e-5d1e4c3b2a10"),
            "msg_0b4f7a4e2f574a6c9f0e5d1e4c3b2a10"
        );
    }
}

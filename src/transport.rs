//! Sending records to the site's endpoint, and what each answer means for the outbox.

use std::time::Duration;

use assent_record::ConsentRecord;

use crate::browser::http;

/// What became of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx, or 409: the endpoint has the record. It leaves the outbox.
    Delivered,
    /// A network error, 408, 429 or 5xx: try again later, not before `after` if the
    /// server said so.
    Retry {
        /// Why, for the console.
        reason: String,
        /// The server's `Retry-After`.
        after: Option<Duration>,
    },
    /// Any other answer: the endpoint will never take this record. It is dropped and the
    /// host page is told.
    Rejected {
        /// The HTTP status.
        status: u16,
    },
}

/// What an HTTP status means for a record.
pub fn classify(status: u16, retry_after: Option<Duration>) -> Outcome {
    match status {
        200..=299 | 409 => Outcome::Delivered,
        408 | 429 | 500..=599 => Outcome::Retry {
            reason: format!("the endpoint answered HTTP {status}"),
            after: retry_after,
        },
        _ => Outcome::Rejected { status },
    }
}

/// `Retry-After` in seconds, or as an HTTP date relative to `now_ms`.
pub fn parse_retry_after(value: &str, now_ms: f64) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = js_sys::Date::parse(value);
    (at.is_finite() && at > now_ms).then(|| Duration::from_millis((at - now_ms) as u64))
}

/// POSTs `record` as JSON, without credentials.
pub async fn deliver(endpoint: &str, record: &ConsentRecord) -> Outcome {
    match http::post_json(endpoint, &record.canonical_json()).await {
        Ok(answer) => classify(
            answer.status,
            answer
                .retry_after
                .as_deref()
                .and_then(|v| parse_retry_after(v, js_sys::Date::now())),
        ),
        Err(reason) => Outcome::Retry {
            reason: reason.to_string(),
            after: None,
        },
    }
}

/// Browsers allow 64 KiB of keepalive bodies in flight per page; stay under it.
const KEEPALIVE_BUDGET: usize = 60 * 1024;

/// Sends `records` as the page goes away, as many as fit the keepalive budget. Returns
/// how many were sent; the rest wait in the outbox for the next page load.
pub fn deliver_on_exit(endpoint: &str, records: &[ConsentRecord]) -> usize {
    let mut spent = 0;
    let mut sent = 0;
    for record in records {
        let body = record.canonical_json();
        if spent + body.len() > KEEPALIVE_BUDGET || http::post_on_exit(endpoint, &body).is_err() {
            break;
        }
        spent += body.len();
        sent += 1;
    }
    sent
}

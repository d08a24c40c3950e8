//! Sending records to the site's endpoint, and what each answer means for the outbox.

use std::time::Duration;

use assent_record::ConsentRecord;
use uuid::Uuid;

use crate::browser::{self, env, http};

/// What became of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: the endpoint has the record. It leaves the outbox, and the receipt file the
    /// endpoint answered with (JSON text), if it keeps receipts, is the visitor's.
    Delivered(Option<String>),
    /// 409: the endpoint already has a record with this id; its receipt can be asked for,
    /// which tells whether it is this record.
    Known,
    /// A network error, 408, 429 or 5xx: try again later, not before `after` if the
    /// server said so.
    Retry {
        /// Why, for the console.
        reason: String,
        /// The server's `Retry-After`.
        after: Option<Duration>,
    },
    /// The record is at fault (400, 413, 415, 422): the endpoint will never take it. It is
    /// dropped and the host page is told.
    Rejected {
        /// The HTTP status.
        status: u16,
    },
    /// Any other answer refuses the site's setup, not the record: an origin not on the
    /// collector's list, a wrong endpoint path, a firewall. The record waits in the outbox
    /// (up to its age limit) for the setup to be fixed, and the host page is told. (The
    /// collector's 403 for a manage link's token of another site, which no page sends, is
    /// not told apart from its 403 for an origin: 215 B of the wasm, brotli.)
    Held {
        /// The HTTP status.
        status: u16,
    },
}

/// What an HTTP answer means for a record: its status, its `Retry-After`, and its body
/// (which holds the receipt file, when the endpoint keeps receipts).
pub fn classify(status: u16, retry_after: Option<Duration>, body: &str) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered(receipt_file(body)),
        409 => Outcome::Known,
        408 | 429 | 500..=599 => Outcome::Retry {
            reason: format!("the endpoint answered HTTP {status}"),
            after: retry_after,
        },
        400 | 413 | 415 | 422 => Outcome::Rejected { status },
        _ => Outcome::Held { status },
    }
}

/// The longest `Retry-After` waited for. A browser timer takes a wait past 2^31 ms as no
/// wait at all, and a page is rarely open an hour: the next page load tries again anyway.
pub const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// `Retry-After` in seconds, or as an HTTP date relative to `now_ms`, at most an hour.
pub fn parse_retry_after(value: &str, now_ms: f64) -> Option<Duration> {
    let value = value.trim();
    let after = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let at = js_sys::Date::parse(value);
            if !(at.is_finite() && at > now_ms) {
                return None;
            }
            Duration::from_millis((at - now_ms) as u64)
        }
    };
    Some(after.min(LONGEST_RETRY_AFTER))
}

/// The `receipt_file` of an endpoint's answer, as JSON text, if it has one. The widget
/// keeps and hands it out as it is: checking it is the verifier's job (`verify.html`).
pub fn receipt_file(body: &str) -> Option<String> {
    stringify(&env::object_property(&browser::json(body), "receipt_file")?)
}

fn stringify(value: &wasm_bindgen::JsValue) -> Option<String> {
    js_sys::JSON::stringify(value).ok()?.as_string()
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
            &answer.body,
        ),
        Err(reason) => Outcome::Retry {
            reason: reason.to_string(),
            after: None,
        },
    }
}

/// Where the endpoint keeps the receipt of `record_id`: `{endpoint}/{record_id}/receipt`
/// (the endpoint's query, if any, is not carried over).
pub fn receipt_url(endpoint: &str, record_id: Uuid) -> String {
    let base = endpoint.split(['?', '#']).next().unwrap_or(endpoint);
    format!("{}/{record_id}/receipt", base.trim_end_matches('/'))
}

/// After a 409, what the endpoint holds under the record's id is not the record sent:
/// another body, stored first (posted by whoever read the id, which the shared cookie
/// holds, or another tab's record of the same click, made in another language), or, for a
/// record of a manage link's person, this body under no one or someone else (the
/// collector answers 409 for that alone; the same person's is a 200).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnotherRecord;

/// Asks the endpoint for the receipt file of a record it already has (after a 409): the
/// file, if its record is `record` as the collector stores it (without e-mail or token);
/// none where it has no file or one that does not say its record; [`AnotherRecord`] if it
/// holds another.
pub async fn fetch_receipt_file(
    endpoint: &str,
    record: &ConsentRecord,
) -> Result<Option<String>, AnotherRecord> {
    if record.subject_token.is_some() {
        return Err(AnotherRecord);
    }
    let Ok((200, body)) = http::get_text(&receipt_url(endpoint, record.record_id)).await else {
        return Ok(None);
    };
    let Some(file) = env::object_property(&browser::json(&body), "receipt_file") else {
        return Ok(None);
    };
    let stored = ConsentRecord {
        email: None,
        ..record.clone()
    };
    match env::object_property(&file, "record").map(|held| stringify(&held)) {
        None => Ok(None),
        Some(held) if held == Some(stored.canonical_json()) => Ok(stringify(&file)),
        Some(_) => Err(AnotherRecord),
    }
}

/// Browsers allow 64 KiB of keepalive bodies in flight per page; stay under it.
const KEEPALIVE_BUDGET: usize = 60 * 1024;

/// Sends `records` as the page goes away, as many as fit the keepalive budget; the rest
/// wait in the outbox for the next page load.
pub fn deliver_on_exit(endpoint: &str, records: &[ConsentRecord]) {
    let mut spent = 0;
    for record in records {
        let body = record.canonical_json();
        spent += body.len();
        if spent > KEEPALIVE_BUDGET || http::post_on_exit(endpoint, &body).is_err() {
            break;
        }
    }
}

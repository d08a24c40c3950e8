//! Sending one record to the site's endpoint.

use assent_record::ConsentRecord;

use crate::browser::http;

/// What became of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The endpoint answered 2xx: it has the record.
    Delivered,
    /// Not delivered; the record stays in the outbox. Says why.
    NotYet(String),
}

/// POSTs `record` as JSON, without credentials.
pub async fn deliver(endpoint: &str, record: &ConsentRecord) -> Delivery {
    match http::post_json(endpoint, &record.canonical_json()).await {
        Ok(status) if (200..300).contains(&status) => Delivery::Delivered,
        Ok(status) => Delivery::NotYet(format!("the endpoint answered HTTP {status}")),
        Err(reason) => Delivery::NotYet(reason.to_string()),
    }
}

//! `POST /v1/subjects/lookup`: one person's preferences, for the company's mailer.

use assent_record::Email;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;

use crate::admin::Admin;
use crate::error::AppError;
use crate::preferences::Preferences;
use crate::AppState;

use super::records::acceptable_type;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Lookup {
    #[serde(deserialize_with = "trimmed_email")]
    email: Email,
}

/// The address with the spaces around it taken off, as `POST /v1/links`, `link` and
/// `preferences --email` take it: a mailer's copy of it with a stray space is the person.
fn trimmed_email<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Email, D::Error> {
    let text = String::deserialize(deserializer)?;
    Email::try_from(text.trim()).map_err(serde::de::Error::custom)
}

/// Answers the standing of the address's subject (`purposes` is empty when nothing is
/// stored for it). The address itself is neither stored nor logged nor answered.
pub async fn lookup(
    _admin: Admin,
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
) -> Result<Json<Preferences>, AppError> {
    // As the other admin POST (`/v1/links`): JSON, or text/plain.
    if !acceptable_type(&headers) {
        return Err(AppError::UnsupportedMediaType);
    }
    let body = crate::routes::read_body(request.into_body()).await?;
    let lookup: Lookup =
        serde_json::from_slice(&body).map_err(|err| AppError::from_request_parse(&err))?;
    let subject = state.subject_key.subject(&lookup.email);
    Ok(Json(Preferences::of(&state.store, subject).await?))
}

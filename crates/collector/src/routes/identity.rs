//! `POST /v1/identity`: whom a manage link is for, and their current preferences, so the
//! widget can say "Preferences for j•••@example.com" and start its toggles from them.

use std::collections::BTreeMap;

use assent_record::{ConsentState, PurposeId, Site};
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::records::{counted, read_page_post};
use crate::error::AppError;
use crate::standing::Standing;
use crate::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentityBody {
    token: String,
    site: Site,
}

/// What the widget learns about the link's subject.
#[derive(Debug, Serialize)]
pub struct Identity {
    hint: String,
    expires_at: String,
    /// Seconds left until `expires_at`: the widget forgets the identity then by its own
    /// clock, which need not agree with this one.
    expires_in: i64,
    sites: Vec<Site>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purpose: Option<PurposeId>,
    preferences: BTreeMap<PurposeId, ConsentState>,
}

/// `POST /v1/identity`: 200, or 403 with the token's code.
pub async fn identify(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
) -> Result<Json<Identity>, AppError> {
    counted(&state, identity(&state, &headers, request).await)
}

async fn identity(
    state: &AppState,
    headers: &HeaderMap,
    request: Request,
) -> Result<Json<Identity>, AppError> {
    let body = read_page_post(state, headers, request).await?;
    let body: IdentityBody =
        serde_json::from_slice(&body).map_err(|err| AppError::from_request_parse(&err))?;
    let claims = state.link_key.verify(&body.token, &body.site)?;
    let standing = Standing::of_subject(&state.store, &claims.sub).await?;
    let preferences = standing
        .purposes
        .iter()
        .filter(|(purpose, _)| purpose.is_optional())
        .filter_map(|(purpose, now)| Some((*purpose, now.state?)))
        .collect();
    Ok(Json(Identity {
        expires_at: claims.expires_at(),
        expires_in: claims
            .exp
            .saturating_sub(OffsetDateTime::now_utc().unix_timestamp()),
        hint: claims.hint,
        sites: claims.aud,
        purpose: claims.purpose,
        preferences,
    }))
}

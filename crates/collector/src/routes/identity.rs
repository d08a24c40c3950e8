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

/// The whole seconds from `now` to `exp` (unix seconds), rounded down: a widget that counts
/// them on its own clock stops using the link before it expires, not up to a second after.
fn seconds_left(exp: i64, now: OffsetDateTime) -> i64 {
    exp.saturating_sub(now.unix_timestamp() + i64::from(now.nanosecond() > 0))
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
        expires_in: seconds_left(claims.exp, OffsetDateTime::now_utc()),
        hint: claims.hint,
        sites: claims.aud,
        purpose: claims.purpose,
        preferences,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seconds_left_are_rounded_down() {
        let at = |seconds: i64, nanos: u32| {
            OffsetDateTime::from_unix_timestamp(seconds)
                .unwrap()
                .replace_nanosecond(nanos)
                .unwrap()
        };
        assert_eq!(seconds_left(110, at(100, 0)), 10);
        assert_eq!(seconds_left(110, at(100, 900_000_000)), 9);
        assert_eq!(seconds_left(110, at(109, 1)), 0);
        assert_eq!(seconds_left(i64::MIN, at(100, 0)), i64::MIN);
    }
}

//! `GET /v1/changes`: the change feed, for the company's mailer.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;

use crate::admin::Admin;
use crate::changes::{self, Page, DEFAULT_LIMIT, MAX_LIMIT};
use crate::error::AppError;
use crate::AppState;

const USAGE: &str = "after must be a seq (an integer from 0) and limit an integer from 1 to 1000";

/// The query string. Nothing else: a misspelt `after` (`?cursor=4100`) read as no cursor
/// would send the mailer every change again.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    after: Option<i64>,
    limit: Option<i64>,
}

/// Up to `limit` changes with a `seq` above `after`, in chain order, and the cursor to
/// ask with next.
pub async fn feed(
    _admin: Admin,
    State(state): State<AppState>,
    cursor: Result<Query<Cursor>, QueryRejection>,
) -> Result<Json<Page>, AppError> {
    let Query(cursor) = cursor.map_err(|_| AppError::InvalidQuery(USAGE))?;
    let after = cursor.after.unwrap_or(0);
    let limit = cursor.limit.unwrap_or(DEFAULT_LIMIT);
    if after < 0 || !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::InvalidQuery(USAGE));
    }
    Ok(Json(changes::page(&state.store, after, limit).await?))
}

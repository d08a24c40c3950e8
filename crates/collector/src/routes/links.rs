//! `POST /v1/links`: manage links for the company's own servers (admin key).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;

use super::records::{acceptable_type, counted};
use crate::admin::Admin;
use crate::error::AppError;
use crate::link::{self, Link, LinkError, LinkRequest};
use crate::routes::read_body;
use crate::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkBody {
    email: String,
    site: Sites,
    page: String,
    #[serde(default)]
    purpose: Option<String>,
    #[serde(default)]
    ttl: Option<String>,
}

/// One covered site, or several.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Sites {
    One(String),
    Many(Vec<String>),
}

/// `POST /v1/links`: 201 with the link.
pub async fn create(
    _admin: Admin,
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
) -> Result<(StatusCode, Json<Link>), AppError> {
    counted(&state, mint(&state, &headers, request).await)
}

async fn mint(
    state: &AppState,
    headers: &HeaderMap,
    request: Request,
) -> Result<(StatusCode, Json<Link>), AppError> {
    if !acceptable_type(headers) {
        return Err(AppError::UnsupportedMediaType);
    }
    let body = read_body(request.into_body()).await?;
    let body: LinkBody =
        serde_json::from_slice(&body).map_err(|err| AppError::from_request_parse(&err))?;
    let ttl = match body.ttl.as_deref() {
        Some(ttl) => ttl.parse().map_err(LinkError::from)?,
        None => Default::default(),
    };
    let sites = match body.site {
        Sites::One(site) => vec![site],
        Sites::Many(sites) => sites,
    };
    let request = LinkRequest::new(
        &body.email,
        &sites,
        &body.page,
        body.purpose.as_deref(),
        ttl,
        &state.allowed_origins,
    )?;
    let link = link::mint(
        &state.link_key,
        &state.subject_key,
        &state.public_url,
        request,
    )?;
    Ok((StatusCode::CREATED, Json(link)))
}

//! `GET` and `POST /v1/unsubscribe/{token}`: RFC 8058 one-click unsubscribe. A GET only
//! shows a page (mail scanners follow links); the POST with `List-Unsubscribe=One-Click`
//! records the denial. No Origin check: mail providers POST from their own servers.

use std::convert::Infallible;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;

use super::records::client_ip;
use crate::error::AppError;
use crate::pages;
use crate::routes::{detached, read_body};
use crate::token::LinkClaims;
use crate::unsubscribe::{self, default_notice};
use crate::AppState;

/// `GET /v1/unsubscribe/{token}`: the confirmation page; changes nothing.
pub async fn confirm(
    State(state): State<AppState>,
    token: Result<Path<String>, PathRejection>,
    request: Request,
) -> Response {
    // Limited by the client, whatever the token: a GET changes nothing, and anyone who
    // saw the URL (a scanner, a log) must not spend the budget of the person's POSTs.
    let outcome = state
        .limits
        .check_ip(client_ip(&state, &request))
        .map_err(AppError::from)
        .and_then(|()| verified(&state, token));
    match outcome {
        Ok(claims) => pages::confirm(&claims.hint, &what(&claims)),
        Err(err) => refused(&state, &err),
    }
}

/// `POST /v1/unsubscribe/{token}`: records the denial (or finds it made) and says so.
pub async fn unsubscribe(
    State(state): State<AppState>,
    headers: HeaderMap,
    token: Result<Path<String>, PathRejection>,
    request: Request,
) -> Response {
    let work = {
        let state = state.clone();
        async move {
            let ip = client_ip(&state, &request);
            let claims = match verified(&state, token) {
                Ok(claims) => claims,
                Err(refused) => {
                    state.limits.check_ip(ip)?;
                    return Err(refused);
                }
            };
            let one_click = match Form::of(&headers) {
                Some(form) => match read_body(request.into_body()).await {
                    Ok(body) => form.says_one_click(body).await,
                    Err(unread) => {
                        // Too large, too slow or broken: limited per client, as other bodies.
                        state.limits.check_ip(ip)?;
                        return Err(unread);
                    }
                },
                None => false,
            };
            // The link's budget (mail providers send many people's one-click POSTs from a
            // few addresses) is spent by one-click POSTs only: whoever saw the URL can't
            // spend it with other bodies, which are limited per client.
            if !one_click {
                state.limits.check_ip(ip)?;
                return Err(AppError::NotOneClick);
            }
            state.limits.check_link(&claims.jti)?;
            unsubscribe::unsubscribe(&state, &claims).await?;
            Ok(claims)
        }
    };
    // A provider that gives up on a slow answer must not leave the denial half made.
    match detached(&state.tasks, work)
        .await
        .and_then(|outcome| outcome)
    {
        Ok(claims) => pages::done(&claims.hint, &what(&claims)),
        Err(err) => refused(&state, &err),
    }
}

/// The token's claims, if it is an unexpired link token of this collector's.
fn verified(
    state: &AppState,
    token: Result<Path<String>, PathRejection>,
) -> Result<LinkClaims, AppError> {
    Ok(token
        .map_err(|_| crate::token::TokenError::Invalid)
        .and_then(|Path(token)| state.link_key.verify_for_unsubscribe(&token))?)
}

fn refused(state: &AppState, err: &AppError) -> Response {
    state.metrics.rejected(err.code());
    pages::refused(err)
}

/// The link's purpose by its label in the default notice, or all optional ones.
fn what(claims: &LinkClaims) -> String {
    let notice = default_notice().ok();
    let label = claims.purpose.map(|purpose| {
        notice
            .as_ref()
            .and_then(|n| n.purposes.iter().find(|p| p.id == purpose))
            .map_or(purpose.as_str(), |p| p.label.as_str())
            .to_owned()
    });
    pages::what(label.as_deref())
}

/// A POST body's form encoding: RFC 8058 has one-click POSTs sent as
/// `multipart/form-data`, or else `application/x-www-form-urlencoded`.
enum Form {
    /// With the boundary of its parts.
    Multipart(String),
    UrlEncoded,
}

impl Form {
    fn of(headers: &HeaderMap) -> Option<Self> {
        let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
        let essence = value.split(';').next()?.trim();
        if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            Some(Self::UrlEncoded)
        } else if essence.eq_ignore_ascii_case("multipart/form-data") {
            multer::parse_boundary(value).ok().map(Self::Multipart)
        } else {
            None
        }
    }

    /// Whether the body has the field `List-Unsubscribe` with the value `One-Click`.
    async fn says_one_click(self, body: Bytes) -> bool {
        const NAME: &str = "List-Unsubscribe";
        const VALUE: &str = "One-Click";
        match self {
            Self::UrlEncoded => {
                form_urlencoded::parse(&body).any(|(name, value)| name == NAME && value == VALUE)
            }
            Self::Multipart(boundary) => {
                // Read as RFC 7578 has it, and else as RFC 8058's own example (section 8.3,
                // as published: errata 5117 and 8927 correct it) writes it, which mail
                // software may have copied: each delimiter line the boundary parameter itself
                // ("---FormBoundary…"), without the two hyphens put before it. A body whose
                // lines end in a bare LF is read as with CRLF. A one-click POST refused is
                // mail the person goes on getting, unseen by them.
                let body = with_crlf(body);
                let loose = boundary.strip_prefix("--").map(str::to_owned);
                for boundary in std::iter::once(boundary).chain(loose) {
                    if multipart_says(body.clone(), boundary, NAME, VALUE).await {
                        return true;
                    }
                }
                false
            }
        }
    }
}

/// Whether a multipart body split at `boundary` has a part `name` whose text is `value`.
async fn multipart_says(body: Bytes, boundary: String, name: &str, value: &str) -> bool {
    let body = futures_util::stream::once(async move { Ok::<_, Infallible>(body) });
    let mut parts = multer::Multipart::new(body, boundary);
    while let Ok(Some(part)) = parts.next_field().await {
        if part.name() == Some(name) && part.text().await.is_ok_and(|v| v == value) {
            return true;
        }
    }
    false
}

/// `body` with every line ending CRLF, if none of them did (no CR in it at all).
fn with_crlf(body: Bytes) -> Bytes {
    if body.contains(&b'\r') {
        return body;
    }
    let mut crlf = Vec::with_capacity(body.len() + body.len() / 16);
    for &byte in body.iter() {
        if byte == b'\n' {
            crlf.push(b'\r');
        }
        crlf.push(byte);
    }
    Bytes::from(crlf)
}

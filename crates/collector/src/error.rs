//! Errors a request can end in. Each maps to a status and a JSON body
//! `{ "error": code, "message": ... }` whose message never repeats the request.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// A request's failure.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The body is not JSON.
    #[error("body is not valid JSON (line {line}, column {column})")]
    MalformedJson {
        /// Where parsing stopped.
        line: usize,
        /// Where parsing stopped.
        column: usize,
    },
    /// The body is JSON but not a valid consent record.
    #[error(
        "body is not a valid consent record (line {line}, column {column}); see the record schema"
    )]
    InvalidRecord {
        /// Where validation stopped.
        line: usize,
        /// Where validation stopped.
        column: usize,
    },
    /// A path id that is not a UUID.
    #[error("record id must be a UUID")]
    InvalidId,
    /// The body exceeds the limit.
    #[error("body exceeds {0} bytes")]
    BodyTooLarge(usize),
    /// The body could not be read: its chunked framing is broken, or the connection
    /// ended before the whole of it had come.
    #[error("the request body could not be read (broken framing, or cut short)")]
    BodyUnreadable,
    /// The body did not arrive in time.
    #[error("request body took too long to arrive")]
    Timeout,
    /// Neither `application/json` nor `text/plain`.
    #[error("content type must be application/json or text/plain")]
    UnsupportedMediaType,
    /// A POST from an origin not on the allow-list.
    #[error("origin is not allowed")]
    OriginNotAllowed,
    /// Too many requests from one client or for one site.
    #[error("too many requests; retry later")]
    RateLimited {
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// The record id is stored with a different body, or for another person.
    #[error("a different record with this record_id is already stored")]
    Conflict,
    /// An admin route without `Authorization: Bearer <admin key>`.
    #[error("this route needs an admin key: Authorization: Bearer <key>")]
    Unauthorized,
    /// A record naming its person by `email` without an admin key: only the company's own
    /// servers may say whose choice a record is; a page says it with a link's token.
    #[error("a record with email needs an admin key (Authorization: Bearer <key>); a page names its visitor by the subject_token of a manage link")]
    EmailNeedsAdminKey,
    /// An admin route with a key that is not one of the admin keys.
    #[error("the admin key is not valid")]
    Forbidden,
    /// A query string the route can't use; the message says what it takes.
    #[error("{0}")]
    InvalidQuery(&'static str),
    /// No such record or route.
    #[error("not found")]
    NotFound,
    /// A known route with another method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A record with both `email` and `subject_token`: one subject, not two.
    #[error("a record carries either email or subject_token, not both")]
    EmailAndToken,
    /// A record claiming a source other than the widget: only the collector makes those.
    #[error("only the collector makes records with a source other than widget")]
    SourceNotWidget,
    /// An unsubscribe POST without the RFC 8058 form body.
    #[error("an unsubscribe POST must have the form body List-Unsubscribe=One-Click (multipart/form-data or application/x-www-form-urlencoded)")]
    NotOneClick,
    /// A link token refused: expired, invalid, or for another site (one that could not
    /// be checked is [`AppError::Unavailable`], see the `From`).
    #[error(transparent)]
    Token(crate::token::TokenError),
    /// JSON, but not the fields this route expects.
    #[error("body does not have the fields this route expects (line {line}, column {column})")]
    InvalidRequest {
        /// Where parsing stopped.
        line: usize,
        /// Where parsing stopped.
        column: usize,
    },
    /// A link request with a bad part.
    #[error(transparent)]
    Link(crate::link::LinkError),
    /// The database is failing for a while (see `StoreError::is_transient`), or the link
    /// keys can't be read just now to check a token; the detail goes to the log only.
    #[error("the service is unavailable for a moment; retry later")]
    Unavailable(String),
    /// Anything on our side; the detail goes to the log only.
    #[error("internal error")]
    Internal(String),
}

/// The `Retry-After` of a 503, in seconds: the database is usually back (a connection
/// freed, a lock released, a restart done) within one.
pub(crate) const UNAVAILABLE_RETRY_AFTER: u64 = 1;

impl AppError {
    /// Every code [`AppError::code`] gives: what `openapi.json` lists as the `Error`
    /// schema's `error` values (`tests/handlers.rs`).
    pub const CODES: [&'static str; 22] = [
        "malformed_json",
        "invalid_record",
        "invalid_record_id",
        "body_too_large",
        "body_unreadable",
        "request_timeout",
        "unsupported_media_type",
        "origin_not_allowed",
        "rate_limited",
        "record_conflict",
        "not_found",
        "method_not_allowed",
        "internal",
        "unauthorized",
        "forbidden",
        "invalid_request",
        "token_expired",
        "token_invalid",
        "token_wrong_site",
        "not_one_click",
        "invalid_query",
        "unavailable",
    ];

    /// The machine-readable code, also the `reason` label of the rejection metric.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedJson { .. } => "malformed_json",
            Self::InvalidRecord { .. } => "invalid_record",
            Self::InvalidId => "invalid_record_id",
            Self::BodyTooLarge(_) => "body_too_large",
            Self::BodyUnreadable => "body_unreadable",
            Self::Timeout => "request_timeout",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::OriginNotAllowed => "origin_not_allowed",
            Self::RateLimited { .. } => "rate_limited",
            Self::Conflict => "record_conflict",
            Self::Unauthorized | Self::EmailNeedsAdminKey => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::InvalidQuery(_) => "invalid_query",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::EmailAndToken | Self::SourceNotWidget => "invalid_record",
            Self::NotOneClick => "not_one_click",
            Self::Token(err) => err.code(),
            Self::InvalidRequest { .. } | Self::Link(_) => "invalid_request",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MalformedJson { .. } | Self::InvalidId | Self::BodyUnreadable => {
                StatusCode::BAD_REQUEST
            }
            Self::InvalidRecord { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::OriginNotAllowed => StatusCode::FORBIDDEN,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Conflict => StatusCode::CONFLICT,
            Self::Unauthorized | Self::EmailNeedsAdminKey => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::InvalidQuery(_) => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::EmailAndToken | Self::SourceNotWidget => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotOneClick => StatusCode::BAD_REQUEST,
            Self::Token(_) => StatusCode::FORBIDDEN,
            Self::InvalidRequest { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Link(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Classifies a record parse failure by position only: serde's own messages quote the
    /// input (unknown field names, bad enum values), so they are not passed on.
    pub fn from_parse(err: &serde_json::Error) -> Self {
        let (line, column) = (err.line(), err.column());
        match err.classify() {
            serde_json::error::Category::Data => Self::InvalidRecord { line, column },
            _ => Self::MalformedJson { line, column },
        }
    }
}

impl AppError {
    /// Like [`AppError::from_parse`] for request bodies that are not records.
    pub fn from_request_parse(err: &serde_json::Error) -> Self {
        let (line, column) = (err.line(), err.column());
        match err.classify() {
            serde_json::error::Category::Data => Self::InvalidRequest { line, column },
            _ => Self::MalformedJson { line, column },
        }
    }
}

impl From<crate::link::LinkError> for AppError {
    fn from(err: crate::link::LinkError) -> Self {
        use crate::link::LinkError;
        match err {
            // The server's own configuration, not the request's.
            LinkError::PlainHttp | LinkError::Sign(_) | LinkError::Random(_) => {
                Self::Internal(err.to_string())
            }
            bad => Self::Link(bad),
        }
    }
}

impl From<crate::token::TokenError> for AppError {
    fn from(err: crate::token::TokenError) -> Self {
        match err {
            // Not the link's fault: the record or the click is tried again, not refused.
            crate::token::TokenError::Unchecked => Self::Unavailable(err.to_string()),
            refusal => Self::Token(refusal),
        }
    }
}

impl From<crate::limit::RetryAfter> for AppError {
    fn from(crate::limit::RetryAfter(retry_after): crate::limit::RetryAfter) -> Self {
        Self::RateLimited { retry_after }
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(err: crate::store::StoreError) -> Self {
        if err.is_transient() {
            Self::Unavailable(err.to_string())
        } else {
            Self::Internal(err.to_string())
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(detail) => tracing::error!(%detail, "request failed"),
            Self::Unavailable(detail) => tracing::warn!(%detail, "unavailable for now"),
            _ => {}
        }
        let body = serde_json::json!({ "error": self.code(), "message": self.to_string() });
        let mut response = (self.status(), Json(body)).into_response();
        match self {
            Self::RateLimited { retry_after } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            Self::Unavailable(_) => {
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(UNAVAILABLE_RETRY_AFTER),
                );
            }
            Self::Unauthorized | Self::EmailNeedsAdminKey => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            // Without a CORS header the refused page would see only a network error, and its
            // widget would retry forever instead of telling the host (`assent:error`). This
            // answer carries no data and no credentials are ever allowed; successful answers
            // still go only to the allow-list.
            Self::OriginNotAllowed => {
                response.headers_mut().insert(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    HeaderValue::from_static("*"),
                );
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::AppError;
    use crate::link::LinkError;
    use crate::token::TokenError;

    /// One of each kind of error; the match makes a new variant a compile error here
    /// until it is listed.
    fn one_of_each() -> Vec<AppError> {
        let all = vec![
            AppError::MalformedJson { line: 1, column: 1 },
            AppError::InvalidRecord { line: 1, column: 1 },
            AppError::InvalidId,
            AppError::BodyTooLarge(1),
            AppError::BodyUnreadable,
            AppError::Timeout,
            AppError::UnsupportedMediaType,
            AppError::OriginNotAllowed,
            AppError::RateLimited { retry_after: 1 },
            AppError::Conflict,
            AppError::Unauthorized,
            AppError::EmailNeedsAdminKey,
            AppError::Forbidden,
            AppError::InvalidQuery("q"),
            AppError::NotFound,
            AppError::MethodNotAllowed,
            AppError::EmailAndToken,
            AppError::SourceNotWidget,
            AppError::NotOneClick,
            AppError::Token(TokenError::Expired),
            AppError::Token(TokenError::Invalid),
            AppError::Token(TokenError::WrongSite),
            AppError::Token(TokenError::UnsubscribeOnly),
            AppError::from(TokenError::Unchecked),
            AppError::InvalidRequest { line: 1, column: 1 },
            AppError::Link(LinkError::TooLong),
            AppError::Unavailable(String::new()),
            AppError::Internal(String::new()),
        ];
        for err in &all {
            match err {
                AppError::MalformedJson { .. }
                | AppError::InvalidRecord { .. }
                | AppError::InvalidId
                | AppError::BodyTooLarge(_)
                | AppError::BodyUnreadable
                | AppError::Timeout
                | AppError::UnsupportedMediaType
                | AppError::OriginNotAllowed
                | AppError::RateLimited { .. }
                | AppError::Conflict
                | AppError::Unauthorized
                | AppError::EmailNeedsAdminKey
                | AppError::Forbidden
                | AppError::InvalidQuery(_)
                | AppError::NotFound
                | AppError::MethodNotAllowed
                | AppError::EmailAndToken
                | AppError::SourceNotWidget
                | AppError::NotOneClick
                | AppError::Token(
                    TokenError::Expired
                    | TokenError::Invalid
                    | TokenError::WrongSite
                    | TokenError::UnsubscribeOnly
                    // (Never made: `From` makes it `Unavailable`.)
                    | TokenError::Unchecked,
                )
                | AppError::InvalidRequest { .. }
                | AppError::Link(_)
                | AppError::Unavailable(_)
                | AppError::Internal(_) => {}
            }
        }
        all
    }

    #[test]
    fn codes_are_exactly_those_the_errors_give() {
        let given: BTreeSet<&str> = one_of_each().iter().map(AppError::code).collect();
        let listed: BTreeSet<&str> = AppError::CODES.into_iter().collect();
        assert_eq!(given, listed);
        assert_eq!(listed.len(), AppError::CODES.len(), "no code twice");
    }

    /// A link that could not be checked (its key ring unreadable) is answered 503, which
    /// the widget tries again, and is no refusal of the link: its record is not stored
    /// under no one, its unsubscribe page says to try again.
    #[test]
    fn an_unchecked_link_is_unavailable_not_refused() {
        let err = AppError::from(TokenError::Unchecked);
        assert!(matches!(err, AppError::Unavailable(_)), "{err:?}");
        assert_eq!(err.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            AppError::from(TokenError::Invalid).status(),
            axum::http::StatusCode::FORBIDDEN
        );
    }
}

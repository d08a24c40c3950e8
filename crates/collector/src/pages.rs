//! The small HTML pages of the one-click unsubscribe address: a confirmation with one
//! button, the outcome, and refusals in plain words. No script, no style, no cookie; the
//! markup comes from `maud`, which escapes everything it interpolates.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use crate::error::AppError;
use crate::token::TokenError;

/// Nothing may load or run; the form may post only back here.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

fn page(status: StatusCode, title: &str, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) }
            }
            body {
                main { (body) }
            }
        }
    };
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// What a link unsubscribes from, in words: "optional e-mails" or "“Updates” e-mails".
pub fn what(label: Option<&str>) -> String {
    match label {
        Some(label) => format!("“{label}” e-mails"),
        None => "optional e-mails".to_owned(),
    }
}

/// The GET page: asks, with one button that POSTs `List-Unsubscribe=One-Click` here.
pub fn confirm(hint: &str, what: &str) -> Response {
    page(
        StatusCode::OK,
        "Unsubscribe",
        html! {
            h1 { "Unsubscribe from " (what) "?" }
            p { "For " (hint) ". E-mails that come with the service, such as security notices, are not affected." }
            // No action: the form posts to this page's own address.
            form method="post" {
                input type="hidden" name="List-Unsubscribe" value="One-Click";
                button type="submit" { "Unsubscribe" }
            }
        },
    )
}

/// The answer to the POST, whether it stored a denial or found one.
pub fn done(hint: &str, what: &str) -> Response {
    page(
        StatusCode::OK,
        "Unsubscribed",
        html! {
            h1 { "You are unsubscribed" }
            p { (hint) " will no longer get " (what) ". You can change this at any time in the notification preferences on our sites." }
        },
    )
}

/// A refusal as a page with the error's status.
pub fn refused(err: &AppError) -> Response {
    let (title, heading, text) = match err {
        AppError::Token(TokenError::Expired) => (
            "Link expired",
            "This unsubscribe link has expired",
            "Nothing was changed. Use the link in a more recent e-mail, or change your notification preferences on our sites.",
        ),
        AppError::Token(_) => (
            "Link not valid",
            "This unsubscribe link is not valid",
            "Nothing was changed. The link may have been cut short or altered: use the link from the e-mail exactly as it is, or change your notification preferences on our sites.",
        ),
        AppError::RateLimited { .. } => (
            "Too many requests",
            "Too many requests",
            "Nothing was changed. Please wait a minute and try again.",
        ),
        AppError::Unavailable(_) => (
            "Try again",
            "We could not do this just now",
            "Nothing was changed. Please try again in a moment.",
        ),
        AppError::Internal(_) => (
            "Something went wrong",
            "Something went wrong on our side",
            "Nothing was changed. Please try again later.",
        ),
        // The button was pressed, but its request came too slowly or broken off.
        AppError::Timeout | AppError::BodyUnreadable => (
            "Try again",
            "We could not read your request",
            "Nothing was changed. Please press the button again.",
        ),
        _ => (
            "Not an unsubscribe request",
            "Use the button on the unsubscribe page",
            "Nothing was changed. Open the unsubscribe link from the e-mail and press its button.",
        ),
    };
    match err {
        AppError::Internal(detail) => tracing::error!(%detail, "unsubscribe failed"),
        AppError::Unavailable(detail) => {
            tracing::warn!(%detail, "unsubscribe: unavailable for now")
        }
        _ => {}
    }
    let mut response = page(
        err.status(),
        title,
        html! {
            h1 { (heading) }
            p { (text) }
        },
    );
    let retry_after = match err {
        AppError::RateLimited { retry_after } => Some(*retry_after),
        AppError::Unavailable(_) => Some(crate::error::UNAVAILABLE_RETRY_AFTER),
        _ => None,
    };
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database busy for a moment: a page saying to try again in a moment, with the
    /// `Retry-After` every 503 carries, not one saying the request was not an unsubscribe.
    #[tokio::test]
    async fn an_unavailable_database_asks_to_try_again_in_a_moment() {
        let response = refused(&AppError::Unavailable("database is locked".into()));
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.contains("try again in a moment"), "{text}");
        assert!(
            !text.contains("database is locked"),
            "no detail shown: {text}"
        );
    }

    async fn text(response: Response) -> (StatusCode, String) {
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    /// A press of the button whose request came too slowly, or broken off, is asked for
    /// again: it was the button.
    #[tokio::test]
    async fn a_request_cut_short_asks_for_the_button_again() {
        for err in [AppError::Timeout, AppError::BodyUnreadable] {
            let (status, page) = text(refused(&err)).await;
            assert_eq!(status, err.status());
            assert!(page.contains("We could not read your request"), "{page}");
            assert!(page.contains("press the button again"), "{page}");
        }
        let (_, page) = text(refused(&AppError::NotOneClick)).await;
        assert!(
            page.contains("Use the button on the unsubscribe page"),
            "{page}"
        );
    }
}

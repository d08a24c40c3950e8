//! The HTTP surface.

mod changes;
mod identity;
mod links;
mod meta;
mod records;
mod subjects;
mod unsubscribe;

pub(crate) use records::append_signed;

use axum::http::{header, HeaderValue, Method};
use axum::response::IntoResponse;
use axum::routing::{any, get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};

use crate::error::AppError;
use crate::AppState;

/// Every route and its methods, as the OpenAPI file must list them.
pub const ROUTES: [(&str, &str); 12] = [
    ("/v1/records", "post"),
    ("/v1/records/{id}/receipt", "get"),
    ("/healthz", "get"),
    ("/metrics", "get"),
    ("/.well-known/assent-receipt-key", "get"),
    ("/.well-known/jwks.json", "get"),
    ("/v1/links", "post"),
    ("/v1/identity", "post"),
    ("/v1/unsubscribe/{token}", "get"),
    ("/v1/unsubscribe/{token}", "post"),
    ("/v1/subjects/lookup", "post"),
    ("/v1/changes", "get"),
];

/// Largest accepted body: a record is well under 4 KiB.
pub const BODY_LIMIT: usize = 16 * 1024;

/// Longest wait for a request body.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads a request body whole, within [`BODY_LIMIT`] and [`BODY_TIMEOUT`].
pub(crate) async fn read_body(body: axum::body::Body) -> Result<axum::body::Bytes, AppError> {
    // A client trickling its body must not hold a connection for long.
    tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, BODY_LIMIT))
        .await
        .map_err(|_| AppError::Timeout)?
        .map_err(|err| {
            // Only the limit makes a 413: broken chunked framing, or a client gone before
            // its Content-Length had come, is not a body too large (nor, for the rejection
            // metric, an oversized one).
            if err.into_inner().is::<http_body_util::LengthLimitError>() {
                AppError::BodyTooLarge(BODY_LIMIT)
            } else {
                AppError::BodyUnreadable
            }
        })
}

/// Runs a handler's work in a task of its own, to its end: a client that goes away once
/// its request is read (a mail provider's short timeout, a page unloading) does not cut
/// a write short between its steps, nor its counting and logging after. Shutdown waits
/// for it (`tasks`).
pub(crate) async fn detached<T: Send + 'static>(
    tasks: &tokio_util::task::TaskTracker,
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> Result<T, AppError> {
    // In the request's span, so that what it logs names the request.
    tasks
        .spawn(tracing::Instrument::instrument(
            work,
            tracing::Span::current(),
        ))
        .await
        .map_err(|err| AppError::Internal(format!("request task failed: {err}")))
}

/// The collector's router.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/v1/records", post(records::create))
        .route("/v1/records/{id}/receipt", get(records::receipt))
        .route("/healthz", get(meta::healthz))
        .route("/metrics", get(meta::metrics))
        .route("/v1/links", post(links::create))
        .route("/v1/identity", post(identity::identify))
        .route(
            "/v1/unsubscribe/{token}",
            get(unsubscribe::confirm).post(unsubscribe::unsubscribe),
        )
        .route("/v1/subjects/lookup", post(subjects::lookup))
        .route("/v1/changes", get(changes::feed))
        // The API's own paths are never static files: an unknown one is the JSON 404, with
        // or without --static-dir. (/.well-known/ is shared: a site may serve its own files
        // there, security.txt or an ACME challenge.)
        .route("/v1/{*rest}", any(|| async { AppError::NotFound }))
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed });
    // Public data that any page may read (a verify page on another origin), always with
    // `Access-Control-Allow-Origin: *`: outside the CORS layer, which would put an allowed
    // origin's own name in its place (a cache that ignores Vary then kept that answer for
    // every page).
    let keys = Router::new()
        .route("/.well-known/assent-receipt-key", get(meta::jwks))
        .route("/.well-known/jwks.json", get(meta::jwks))
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed });
    let api = readable_by(api, &state.allowed_origins).merge(keys);
    let router = match &state.static_dir {
        Some(dir) => api.fallback_service(static_files(dir)),
        None => api.fallback(|| async { AppError::NotFound }),
    };
    router
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ))
        // A failed request is logged where it fails, at its level (AppError: a 503 a warning,
        // a 500 an error; a panic by its answer below): tower-http's own line for every
        // 5xx, at ERROR, would make each busy moment an error to alert on, and each 500 two.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(span_without_path)
                .on_failure(DefaultOnFailure::new().level(tracing::Level::DEBUG)),
        )
        // The static files' and the middleware's.
        .layer(panic_answer())
        .layer(axum::middleware::map_response(nosniff))
        .with_state(state)
}

/// The API as pages of the allowed origins may call and read it. A panic is caught inside
/// the CORS layer, so that its JSON 500 carries the CORS headers too: without them the
/// page sees only a failed fetch, not the error.
fn readable_by<S: Clone + Send + Sync + 'static>(
    api: Router<S>,
    origins: &[HeaderValue],
) -> Router<S> {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins.iter().cloned()))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        // The widget reads Retry-After of a 429 to schedule its retry.
        .expose_headers([header::RETRY_AFTER])
        .max_age(std::time::Duration::from_secs(600));
    api.layer(panic_answer()).layer(cors)
}

/// A bug must still answer with the JSON error, not a dropped connection.
fn panic_answer() -> CatchPanicLayer<fn(Box<dyn std::any::Any + Send>) -> axum::response::Response>
{
    CatchPanicLayer::custom(|_| AppError::Internal("handler panicked".into()).into_response())
}

/// The files of `--static-dir` (the widget and its demo pages), `x.br` for `x` to a client
/// that accepts brotli.
fn static_files(dir: &std::path::Path) -> Router {
    let files = ServeDir::new(dir)
        .precompressed_br()
        .append_index_html_on_directories(true);
    Router::new()
        .fallback_service(files)
        // The same path answers brotli or not by Accept-Encoding; a shared cache must know.
        .layer(SetResponseHeaderLayer::appending(
            header::VARY,
            HeaderValue::from_static("accept-encoding"),
        ))
        // Revalidated on every use: a page's script tag pins assent.js by its SRI hash, and
        // assent.js pins the glue's and the wasm's, so a copy kept from before a release
        // would fail its check and the widget would not run. An unchanged file costs a 304.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        // Readable from the covered sites' pages: a cross-origin tag with `integrity` is a
        // CORS request, and so are the loader's fetches of the glue, the wasm and the
        // languages. The files are public; the API keeps its list of origins.
        .layer(SetResponseHeaderLayer::overriding(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
}

/// The request's span names its route pattern, never its path: an unsubscribe path holds
/// a token that must not reach the log.
fn span_without_path(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |path| path.as_str());
    tracing::debug_span!("request", method = %request.method(), route)
}

/// Every answer is what its content type says; browsers must not guess otherwise.
async fn nosniff(mut response: axum::response::Response) -> axum::response::Response {
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll};

    use tokio_util::task::TaskTracker;

    use super::detached;

    /// A bug's 500 is the JSON error, and a page of an allowed origin can read it (without
    /// the CORS headers it sees a failed fetch).
    #[tokio::test]
    async fn a_panic_answers_json_500_readable_by_an_allowed_origin() {
        use axum::http::{header, HeaderValue, Request, StatusCode};
        use tower::ServiceExt;
        let api = axum::Router::new().route(
            "/v1/records",
            axum::routing::post(|| async {
                panic!("a bug");
                #[allow(unreachable_code)]
                ""
            }),
        );
        let origin = HeaderValue::from_static("https://www.qualys.com");
        let response = super::readable_by(api, std::slice::from_ref(&origin))
            .oneshot(
                Request::post("/v1/records")
                    .header(header::ORIGIN, &origin)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN),
            Some(&origin)
        );
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"], "internal");
    }

    /// A handler whose client went away (its future dropped) once its work had started:
    /// the work goes on, and shutdown, which waits for the tracker, waits for it.
    #[tokio::test]
    async fn work_outlives_its_handler_and_shutdown_waits_for_it() {
        let tasks = TaskTracker::new();
        let (go, wait) = tokio::sync::oneshot::channel::<()>();
        let (done_tx, done) = tokio::sync::oneshot::channel();
        {
            let mut handler = pin!(detached(&tasks, async move {
                let _ = wait.await;
                let _ = done_tx.send(());
            }));
            let waker = futures_util::task::noop_waker();
            let polled = handler.as_mut().poll(&mut Context::from_waker(&waker));
            assert!(matches!(polled, Poll::Pending), "the work waits for its go");
        }
        assert_eq!(tasks.len(), 1, "the work goes on without its handler");
        tasks.close();
        let shutdown = tokio::spawn({
            let tasks = tasks.clone();
            async move { tasks.wait().await }
        });
        tokio::task::yield_now().await;
        assert!(!shutdown.is_finished(), "shutdown waits for the work");
        go.send(()).unwrap();
        done.await.expect("the work ran to its end");
        shutdown.await.unwrap();
        assert!(tasks.is_empty());
    }
}

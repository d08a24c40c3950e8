//! Health, metrics and the receipt key.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;

use crate::error::AppError;
use crate::AppState;

/// `GET /healthz`: 200 when the database answers and this process's appends are not
/// failing (503 while they are, until a write succeeds).
pub async fn healthz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, AppError> {
    state.store.health().await?;
    Ok(Json(serde_json::json!({ "status": "ok" })))
}

/// `GET /metrics`: OpenMetrics text, which is what prometheus_client writes (counters
/// typed under their name without `_total`, a closing `# EOF`); Prometheus reads it by
/// this content type.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
}

/// `GET /.well-known/jwks.json` (and the older `/.well-known/assent-receipt-key`): every
/// key of the receipt ring, newest first. Public data, so any page may read it (a verify
/// page can live on another origin) and caches may keep it a few minutes.
pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    let keys = state.receipt_keys.clone();
    // It reads the ring's file: off the async threads.
    let set = tokio::task::spawn_blocking(move || keys.jwks())
        .await
        .unwrap_or_else(|_| state.receipt_keys.public().jwks());
    (
        [
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        Json(set),
    )
}

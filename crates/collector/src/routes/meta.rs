//! Health, metrics and the receipt key.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;

use crate::error::AppError;
use crate::AppState;

/// `GET /healthz`: 200 when the database answers.
pub async fn healthz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, AppError> {
    state.store.ping().await?;
    Ok(Json(serde_json::json!({ "status": "ok" })))
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.encode(),
    )
}

/// `GET /.well-known/assent-receipt-key`: the JWK set that verifies receipts.
pub async fn receipt_key(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.receipt_key.jwks())
}

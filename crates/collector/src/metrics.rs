//! Prometheus metrics: records stored, rejections by reason, request latency by route,
//! the webhook queue.

use std::sync::atomic::{AtomicI64, AtomicU64};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::AppState;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    method: &'static str,
    route: String,
    status: u16,
}

/// The collector's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    stored: Counter<u64, AtomicU64>,
    rejected: Family<Reason, Counter>,
    unattributed: Family<Reason, Counter>,
    latency: Family<Route, Histogram>,
    webhook_queue_depth: Gauge<i64, AtomicI64>,
    webhook_delivered: Counter<u64, AtomicU64>,
    webhook_failed: Counter<u64, AtomicU64>,
    webhook_endpoint_gone: Gauge<i64, AtomicI64>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("assent");
        let stored = Counter::<u64, AtomicU64>::default();
        let rejected = Family::<Reason, Counter>::default();
        let unattributed = Family::<Reason, Counter>::default();
        let latency = Family::<Route, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 14))
        });
        registry.register(
            "records_stored",
            "Records stored (a record id's first POST, and each one-click unsubscribe)",
            stored.clone(),
        );
        registry.register(
            "records_rejected",
            "Requests refused, by reason",
            rejected.clone(),
        );
        registry.register(
            "records_unattributed",
            "Records stored under no subject although they came with a token, by reason",
            unattributed.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Request latency by route",
            latency.clone(),
        );
        let webhook_queue_depth = Gauge::<i64, AtomicI64>::default();
        let webhook_delivered = Counter::<u64, AtomicU64>::default();
        let webhook_failed = Counter::<u64, AtomicU64>::default();
        let webhook_endpoint_gone = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "webhook_queue_depth",
            "Webhook deliveries neither delivered nor given up on, in the whole database",
            webhook_queue_depth.clone(),
        );
        registry.register(
            "webhook_delivered",
            "Webhook deliveries this process got a 2xx for",
            webhook_delivered.clone(),
        );
        registry.register(
            "webhook_failed",
            "Webhook deliveries this process gave up on after retrying, or at an endpoint's 410 Gone",
            webhook_failed.clone(),
        );
        registry.register(
            "webhook_endpoint_gone",
            "1 while the webhook endpoint is marked gone (it answered 410; no delivery is claimed for it until `requeue`), as last read",
            webhook_endpoint_gone.clone(),
        );
        Self {
            registry,
            stored,
            rejected,
            unattributed,
            latency,
            webhook_queue_depth,
            webhook_delivered,
            webhook_failed,
            webhook_endpoint_gone,
        }
    }
}

impl Metrics {
    /// One record stored.
    pub fn stored(&self) {
        self.stored.inc();
    }

    /// One request refused, by error code.
    pub fn rejected(&self, reason: &'static str) {
        self.rejected.get_or_create(&Reason { reason }).inc();
    }

    /// One record stored under no subject although it came with a token, by why.
    pub fn unattributed(&self, reason: &'static str) {
        self.unattributed.get_or_create(&Reason { reason }).inc();
    }

    /// The webhook queue's depth, as last counted.
    pub fn set_webhook_queue_depth(&self, depth: i64) {
        self.webhook_queue_depth.set(depth);
    }

    /// One webhook delivered.
    pub fn webhook_delivered(&self) {
        self.webhook_delivered.inc();
    }

    /// One webhook given up on.
    pub fn webhook_failed(&self) {
        self.webhook_failed.inc();
    }

    /// Whether the webhook endpoint is marked gone, as last read.
    pub fn set_webhook_endpoint_gone(&self, gone: bool) {
        self.webhook_endpoint_gone.set(i64::from(gone));
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// Middleware timing every request under its route pattern (never the raw path, which
/// would echo input into labels).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    // Only standard methods become labels: anything else would let clients mint series.
    let method = match *request.method() {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::OPTIONS => "OPTIONS",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        _ => "other",
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let labels = Route {
        method,
        route,
        status: response.status().as_u16(),
    };
    state
        .metrics
        .latency
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}

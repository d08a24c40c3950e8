//! Helpers shared by the collector's test binaries.
#![allow(dead_code)]

pub mod links;
pub mod mailer;
pub mod openapi;
pub mod postgres;
pub mod process;
pub mod suite;

use std::net::SocketAddr;
use std::sync::Arc;

use assent_collector::admin::AdminKeys;
use assent_collector::limit::{LimitClock, Limits};
use assent_collector::metrics::Metrics;
use assent_collector::receipt::ReceiptKeys;
use assent_collector::receipt_issuer::ReceiptIssuer;
use assent_collector::store::{Database, Store};
use assent_collector::subject::SubjectKey;
use assent_collector::token::LinkKey;
use assent_collector::{app, AppState};
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use governor::clock::FakeRelativeClock;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub const ORIGIN: &str = "https://pci.qualys.com";
pub const RECEIPT_SEED: [u8; 32] = [5; 32];
/// The link key of the test state.
pub const LINK_SEED: [u8; 32] = [7; 32];
/// The public address of the test state.
pub const PUBLIC_URL: &str = "http://127.0.0.1:8787";
/// The admin key the test state accepts.
pub const ADMIN_KEY: &str = "test-admin-key-0123456789abcdefghijklmnop";

/// A valid record with the given id.
pub fn record(id: &str) -> Value {
    let mut record: Value = serde_json::from_str(include_str!("../data/record.json")).unwrap();
    record["record_id"] = id.into();
    record
}

/// A fresh random record id.
pub fn new_id() -> String {
    let bytes: [u8; 16] = assent_collector::keys::random().unwrap()[..16]
        .try_into()
        .unwrap();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// A temp SQLite file that lives as long as the returned guard.
pub fn sqlite() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::Sqlite(dir.path().join("records.db"));
    (dir, db)
}

/// The sqlx URL of an SQLite database.
pub fn sqlite_url(database: &Database) -> String {
    match database {
        Database::Sqlite(path) => format!("sqlite:{}", path.display()),
        Database::Postgres(url) => url.clone(),
    }
}

/// Runs `sql` on the SQLite file behind the triggers that refuse changes to stored rows,
/// as someone with the file could.
pub async fn behind_the_triggers(db: &assent_collector::store::Database, sql: &str) {
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&sqlite_url(db)).await.unwrap();
    for trigger in [
        "records_no_update",
        "records_no_delete",
        "records_no_replace",
    ] {
        pool.execute(format!("DROP TRIGGER {trigger}").as_str())
            .await
            .unwrap();
    }
    pool.execute(sql).await.unwrap();
    pool.close().await;
}

/// App state over `database` with limits off unless given, on a clock that stands still:
/// a limit's budget comes back only when a test says time has passed, never because the
/// machine was slow.
pub async fn state(database: &Database, per_ip: u32, per_site: u32) -> AppState {
    state_on(database, per_ip, per_site, FakeRelativeClock::default()).await
}

/// As [`state`], its limits on `clock`, which the test advances.
pub async fn state_on(
    database: &Database,
    per_ip: u32,
    per_site: u32,
    clock: FakeRelativeClock,
) -> AppState {
    AppState {
        store: Arc::new(Store::open(database).await.unwrap()),
        receipt_keys: Arc::new(ReceiptKeys::from_seeds(&[RECEIPT_SEED]).unwrap()),
        subject_key: Arc::new(SubjectKey::new([9; 32])),
        limits: Arc::new(Limits::per_minute_on(
            per_ip,
            per_site,
            LimitClock::Manual(clock),
        )),
        metrics: Arc::new(Metrics::default()),
        allowed_origins: Arc::new(vec![
            ORIGIN.parse().unwrap(),
            "http://127.0.0.1:8787".parse().unwrap(),
        ]),
        static_dir: None,
        client_ip_header: None,
        admin_keys: Arc::new(AdminKeys::new([ADMIN_KEY])),
        link_key: Arc::new(LinkKey::new(LINK_SEED)),
        public_url: Arc::new(PUBLIC_URL.parse().unwrap()),
        receipt_issuer: Arc::new(ReceiptIssuer::new(&[], &PUBLIC_URL.parse().unwrap())),
        tasks: tokio_util::task::TaskTracker::new(),
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            panic!(
                "not JSON ({}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// Sends one request through the router without a socket.
/// Its answer is held to `openapi.json` ([`openapi::check`]).
pub async fn send(state: &AppState, request: Request<Body>) -> Reply {
    let (method, path) = (request.method().clone(), request.uri().to_string());
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    openapi::check(method.as_str(), &path, status.as_u16(), content_type, &body);
    Reply {
        status,
        headers,
        body,
    }
}

/// A POST of `body` from the allowed origin as `application/json`.
pub fn post(body: impl Into<Body>) -> Request<Body> {
    post_as("application/json", ORIGIN, body)
}

/// A POST of `body` from the company's own server: no `Origin`, with the admin key (what
/// a record naming its person by `email` needs).
pub fn post_as_admin(body: impl Into<Body>) -> Request<Body> {
    Request::post("/v1/records")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {ADMIN_KEY}"))
        .body(body.into())
        .unwrap()
}

/// A POST of a new valid record.
pub fn post_new() -> Request<Body> {
    post(record(&new_id()).to_string())
}

/// A POST of `body` with this content type and origin.
pub fn post_as(content_type: &str, origin: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post("/v1/records")
        .header("content-type", content_type)
        .header("origin", origin)
        .body(body.into())
        .unwrap()
}

/// Serves the app on a real socket on port 0.
pub async fn serve(state: AppState) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(assent_collector::server::run(
        listener,
        app(state),
        std::future::pending(),
    ));
    addr
}

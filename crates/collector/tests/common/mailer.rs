//! Helpers for the mailer's side: a webhook receiver on loopback, collectors with their
//! logs kept, POSTs of changes, and waits on conditions.

use std::collections::BTreeSet;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::Notify;

use super::process::{Server, BIN};
use super::{new_id, record, ADMIN_KEY, ORIGIN};

/// The bound on every wait: reaching it means the condition never came, not slowness.
pub const DEADLINE: Duration = Duration::from_secs(90);

/// Answers 204 to every delivery.
pub const UP: u8 = 0;
/// Answers 503.
pub const FAILING: u8 = 1;
/// Never answers.
pub const HANGING: u8 = 2;
/// Answers 204 once [`Receiver::release`] is called.
pub const HELD: u8 = 3;
/// Answers 410 Gone.
pub const GONE: u8 = 4;
/// Answers 429 with `Retry-After: 2` once, then 204 as [`UP`] (the receiver turns itself
/// up, so no test step can come too late for the retry).
pub const THROTTLING: u8 = 5;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Vec<u8>,
    /// The status answered, or 0 for a request left hanging.
    pub answered: u16,
    /// When it arrived.
    pub at: Instant,
}

impl Delivery {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Default)]
struct Inner {
    mode: AtomicU8,
    log: Mutex<Vec<Delivery>>,
    arrived: Notify,
    released: Notify,
}

/// A webhook endpoint on loopback.
pub struct Receiver {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
}

async fn hook(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mode = match inner
        .mode
        .compare_exchange(THROTTLING, UP, Ordering::SeqCst, Ordering::SeqCst)
    {
        Ok(throttling) => throttling,
        Err(mode) => mode,
    };
    let status = match mode {
        UP | HELD => StatusCode::NO_CONTENT,
        FAILING => StatusCode::SERVICE_UNAVAILABLE,
        GONE => StatusCode::GONE,
        THROTTLING => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::from_u16(599).unwrap(),
    };
    inner.log.lock().unwrap().push(Delivery {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: body.to_vec(),
        answered: if mode == HANGING { 0 } else { status.as_u16() },
        at: Instant::now(),
    });
    inner.arrived.notify_waiters();
    match mode {
        HANGING => std::future::pending::<()>().await,
        HELD => inner.released.notified().await,
        _ => {}
    }
    let mut response = status.into_response();
    if mode == THROTTLING {
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("2"),
        );
    }
    response
}

/// A receiver that is down: its loopback port is bound but not listening, so the collector's
/// connections to it are refused, and no other socket can take the port before the receiver
/// starts on it (a port only probed free could be).
pub struct DownReceiver {
    socket: tokio::net::TcpSocket,
    addr: SocketAddr,
}

impl DownReceiver {
    pub fn new() -> Self {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(([127, 0, 0, 1], 0).into()).unwrap();
        let addr = socket.local_addr().unwrap();
        Self { socket, addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Up, on the same port.
    pub fn start(self, mode: u8) -> Receiver {
        Receiver::serve(self.socket.listen(1024).unwrap(), mode)
    }
}

impl Receiver {
    /// Listens on a free port of 127.0.0.1.
    pub async fn start(mode: u8) -> Self {
        Self::serve(
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
            mode,
        )
    }

    fn serve(listener: tokio::net::TcpListener, mode: u8) -> Self {
        let addr = listener.local_addr().unwrap();
        let inner = Arc::new(Inner::default());
        inner.mode.store(mode, Ordering::SeqCst);
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { addr, inner }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Lets a request held by [`HELD`] (one arrived or the next) have its answer.
    pub fn release(&self) {
        self.inner.released.notify_one();
    }

    pub fn set_mode(&self, mode: u8) {
        self.inner.mode.store(mode, Ordering::SeqCst);
    }

    /// Every request so far.
    pub fn log(&self) -> Vec<Delivery> {
        self.inner.log.lock().unwrap().clone()
    }

    /// Waits until `done` holds for the requests so far.
    pub async fn wait_for(&self, what: &str, done: impl Fn(&[Delivery]) -> bool) {
        let started = Instant::now();
        loop {
            // Made before the check, so an arrival between the two still wakes us.
            let arrived = self.inner.arrived.notified();
            if done(&self.log()) {
                return;
            }
            let left = DEADLINE
                .checked_sub(started.elapsed())
                .unwrap_or_else(|| panic!("receiver: {what} did not happen"));
            let _ = tokio::time::timeout(left, arrived).await;
        }
    }
}

/// One integer that `sql` selects from `database` (a path for SQLite, or a postgres URL).
pub async fn db_value(database: &str, sql: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let url = if database.starts_with("postgres") {
        database.to_owned()
    } else {
        format!("sqlite:{database}")
    };
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let value: Option<i64> = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
    pool.close().await;
    value.unwrap_or(0)
}

/// The attempts the queue counts, over every delivery.
pub async fn total_attempts(database: &str) -> i64 {
    db_value(
        database,
        "SELECT CAST(SUM(attempts) AS BIGINT) FROM webhook_deliveries",
    )
    .await
}

/// Whether `delivery` carries a valid Standard Webhooks signature under `secret_text`
/// (`whsec_…`). Written from the spec, apart from the collector's code.
pub fn signature_valid(secret_text: &str, delivery: &Delivery) -> bool {
    let secret = STANDARD
        .decode(secret_text.trim().strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret).unwrap();
    mac.update(delivery.id.as_bytes());
    mac.update(b".");
    mac.update(delivery.timestamp.as_bytes());
    mac.update(b".");
    mac.update(&delivery.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    let fresh = delivery
        .timestamp
        .parse::<i64>()
        .is_ok_and(|t| (t - now_secs()).abs() < 300);
    fresh && delivery.signature.split(' ').any(|s| s == expected)
}

/// The clock as the queue reads it: unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A file with the test admin key.
pub fn admin_keys_file(dir: &Path) -> PathBuf {
    let path = dir.join("admin.keys");
    std::fs::write(&path, format!("{ADMIN_KEY}\n")).unwrap();
    path
}

/// Starts `serve` (limits off, the test admin key, `extra` flags) with `RUST_LOG=debug`
/// appended to `log`.
pub fn start_logged(database: &str, extra: &[&str], log: &Path) -> Server {
    start_logged_with(database, extra, log, &[])
}

/// [`start_logged`] with `env` set too.
pub fn start_logged_with(
    database: &str,
    extra: &[&str],
    log: &Path,
    env: &[(&str, &str)],
) -> Server {
    let admin_keys = admin_keys_file(log.parent().unwrap());
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--database", database, "--listen", "127.0.0.1:0"])
        .args(["--rate-per-ip", "0", "--rate-per-site", "0"])
        .args(["--allowed-origins", ORIGIN])
        .args(["--admin-keys", admin_keys.to_str().unwrap()])
        .args(extra)
        .env("RUST_LOG", "debug")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let line = super::process::first_line(&mut child);
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| {
            let _ = child.kill();
            panic!("server did not start: {line:?}")
        });
    Server { child, addr }
}

/// POSTs a new record (under `email` if given) and returns its receipt answer.
pub async fn post_record(client: &reqwest::Client, addr: SocketAddr, email: Option<&str>) -> Value {
    post_choice(client, addr, email, "granted").await
}

/// POSTs a new record whose `new_products` state is `new_products`.
pub async fn post_choice(
    client: &reqwest::Client,
    addr: SocketAddr,
    email: Option<&str>,
    new_products: &str,
) -> Value {
    post_choice_made_at(client, addr, email, new_products, None).await
}

/// [`post_choice`], made at `client_time` if given (else the record's own).
pub async fn post_choice_made_at(
    client: &reqwest::Client,
    addr: SocketAddr,
    email: Option<&str>,
    new_products: &str,
    client_time: Option<&str>,
) -> Value {
    let mut body = record(&new_id());
    body["purposes"][0]["state"] = new_products.into();
    if let Some(client_time) = client_time {
        body["client_time"] = client_time.into();
    }
    let mut request = client
        .post(format!("http://{addr}/v1/records"))
        .header("content-type", "application/json");
    if let Some(email) = email {
        body["email"] = email.into();
        // A record under an address comes from the company's own server.
        request = request.bearer_auth(ADMIN_KEY);
    }
    let request = request.body(body.to_string());
    // A 503 is how the collector answers a write lock held past its busy timeout (the other
    // process's commit on a slow disk): nothing is stored, and the widget sends the same
    // record again, as this does.
    let started = Instant::now();
    loop {
        let response = request.try_clone().unwrap().send().await.unwrap();
        match response.status().as_u16() {
            503 if started.elapsed() < DEADLINE => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            status => {
                assert_eq!(status, 201);
                return response.json().await.unwrap();
            }
        }
    }
}

/// An admin GET, as JSON.
pub async fn admin_get(client: &reqwest::Client, url: &str) -> Value {
    let response = client.get(url).bearer_auth(ADMIN_KEY).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{url}");
    response.json().await.unwrap()
}

/// Waits until `check` answers true, looking again every 50 ms.
pub async fn wait_until<F: Future<Output = bool>>(what: &str, check: impl Fn() -> F) {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < DEADLINE, "{what} did not happen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The value of a metric line (`name value`) in `/metrics`.
pub async fn metric(client: &reqwest::Client, addr: SocketAddr, name: &str) -> Option<i64> {
    let text = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// Reads the feed from `reader` while `writers` are POSTing (half of the records with a
/// subject), and checks it got every change once, in order: no seq skipped or repeated.
pub async fn feed_is_stable_under_concurrent_writes(
    database: &str,
    writers: &[SocketAddr],
    reader: SocketAddr,
) {
    let client = reqwest::Client::new();
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let client = client.clone();
            let addr = writers[task % writers.len()];
            tokio::spawn(async move {
                for n in 0..40 {
                    let email = format!("person{}@example.com", (task * 40 + n) % 23);
                    let email = (n % 2 == 0).then_some(email.as_str());
                    post_record(&client, addr, email).await;
                }
            })
        })
        .collect();

    let mut seen: Vec<i64> = Vec::new();
    let mut cursor = 0;
    let mut pages_during_writes = 0;
    loop {
        let writing = tasks.iter().any(|t| !t.is_finished());
        let page = admin_get(
            &client,
            &format!("http://{reader}/v1/changes?after={cursor}&limit=7"),
        )
        .await;
        let changes = page["changes"].as_array().unwrap();
        for change in changes {
            let seq = change["seq"].as_i64().unwrap();
            assert!(seq > cursor, "seq {seq} at or before the cursor {cursor}");
            assert!(
                seen.last().is_none_or(|last| seq > *last),
                "repeated or out of order: {seq}"
            );
            seen.push(seq);
        }
        let next = page["next"].as_i64().unwrap();
        assert!(next >= cursor);
        if changes.is_empty() {
            assert_eq!(next, cursor, "an empty page keeps the cursor");
            if !writing {
                break;
            }
        } else {
            pages_during_writes += usize::from(writing);
        }
        cursor = next;
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert!(
        pages_during_writes >= 2,
        "the feed was read while records arrived"
    );

    let stored: Vec<i64> = super::process::export(database)
        .iter()
        .filter(|line| line["subject"].is_string())
        .map(|line| line["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(stored.len(), 160);
    assert_eq!(seen, stored, "the feed skipped or repeated a change");
}

/// Asserts that `standing` (one purpose of a lookup) is a denial of a consent purpose,
/// set by the record whose receipt answer is `receipt`.
pub fn assert_denied_since(standing: &Value, receipt: &Value) {
    assert_eq!(standing["state"], "denied");
    assert_eq!(standing["basis"], "consent");
    let set_by = &standing["set_by"];
    for field in ["seq", "record_id", "received_at"] {
        assert_eq!(set_by[field], receipt[field], "{field}");
    }
    assert_eq!(set_by["site"], "pci.qualys.com");
    assert_eq!(set_by["source"], "widget");
}

pub fn admin_request(
    method: &str,
    uri: &str,
    key: Option<&str>,
    body: &str,
) -> axum::http::Request<axum::body::Body> {
    let mut request = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    request
        .body(axum::body::Body::from(body.to_owned()))
        .unwrap()
}

/// Through the router on `database`: the lookup answers each purpose's standing and the
/// record that set it, the feed pages through the changes only, bad input is a 4xx JSON
/// error, and neither shows an address.
pub async fn lookup_and_feed(database: &assent_collector::store::Database) {
    use super::{post, post_as_admin, send, state};
    let state = state(database, 0, 0).await;
    let mut stored = Vec::new();
    for (email, new_products) in [
        (Some("Ada@Example.com"), "granted"),
        (None, "denied"),
        (Some("bob@example.com"), "denied"),
        (Some("ADA@example.COM"), "denied"),
        (Some("ada@example.com"), "denied"),
    ] {
        let mut body = record(&new_id());
        body["purposes"][0]["state"] = new_products.into();
        let request = match email {
            Some(email) => {
                body["email"] = email.into();
                post_as_admin(body.to_string())
            }
            None => post(body.to_string()),
        };
        let reply = send(&state, request).await;
        assert_eq!(reply.status, StatusCode::CREATED);
        stored.push(reply.json());
    }
    let seq = |n: usize| stored[n]["seq"].as_i64().unwrap();

    let lookup = |email: &str| {
        admin_request(
            "POST",
            "/v1/subjects/lookup",
            Some(ADMIN_KEY),
            &serde_json::json!({ "email": email }).to_string(),
        )
    };
    let ada = send(&state, lookup("ADA@example.com")).await;
    assert_eq!(ada.status, StatusCode::OK);
    let ada = ada.json();
    let subject = state.subject_key.subject_of("ada@example.com");
    assert_eq!(ada["subject"], subject.as_str());
    // Denied since the first denial; the repeat did not move it.
    assert_denied_since(&ada["purposes"]["new_products"], &stored[3]);
    assert_eq!(ada["purposes"]["updates"]["state"], "denied");
    assert_eq!(ada["purposes"]["security"]["basis"], "contract");
    assert!(ada["purposes"]["security"].get("state").is_none());
    assert!(!ada.to_string().to_lowercase().contains("ada@"));

    let nobody = send(&state, lookup("nobody@example.com")).await.json();
    assert_eq!(nobody["purposes"], serde_json::json!({}));

    for (body, status, code) in [
        ("not json", StatusCode::BAD_REQUEST, "malformed_json"),
        (
            r#"{"mail": "ada@example.com"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            r#"{"email": "no address"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            r#"{"email": 7}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
    ] {
        let reply = send(
            &state,
            admin_request("POST", "/v1/subjects/lookup", Some(ADMIN_KEY), body),
        )
        .await;
        assert_eq!(
            (reply.status, reply.json()["error"].as_str()),
            (status, Some(code)),
            "{body}"
        );
        let text = String::from_utf8_lossy(&reply.body).into_owned();
        assert!(
            !text.contains("ada@") && !text.contains("no address"),
            "{text}"
        );
    }

    // The feed: the four records with a subject, two at a time.
    let feed =
        |query: &str| admin_request("GET", &format!("/v1/changes{query}"), Some(ADMIN_KEY), "");
    let first = send(&state, feed("?limit=2")).await.json();
    let seqs = |page: &Value| -> Vec<i64> {
        page["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["seq"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(seqs(&first), [seq(0), seq(2)]);
    assert_eq!(first["next"], seq(2));
    let change = &first["changes"][0];
    assert_eq!(change["record_id"], stored[0]["record_id"]);
    assert_eq!(change["subject"], subject.as_str());
    assert_eq!(change["site"], "pci.qualys.com");
    assert_eq!(change["source"], "widget");
    assert_eq!(change["received_at"], stored[0]["received_at"]);
    assert_eq!(change["client_time"], record(&new_id())["client_time"]);
    assert_eq!(
        change["widget_version"],
        record(&new_id())["widget_version"]
    );
    assert_eq!(
        change["purposes"][0],
        serde_json::json!({"purpose": "new_products", "basis": "consent", "state": "granted"})
    );
    let second = send(&state, feed(&format!("?after={}&limit=2", seq(2))))
        .await
        .json();
    assert_eq!(seqs(&second), [seq(3), seq(4)]);
    let last = seq(4);
    let empty = send(&state, feed(&format!("?after={last}"))).await.json();
    assert_eq!(seqs(&empty), Vec::<i64>::new());
    assert_eq!(empty["next"], last);
    let all = send(&state, feed("")).await.json();
    assert_eq!(seqs(&all), [seq(0), seq(2), seq(3), seq(4)]);
    assert!(!all.to_string().to_lowercase().contains("example.com"));

    for query in [
        "?after=-1",
        "?limit=0",
        "?limit=1001",
        "?limit=abc",
        "?after=1.5",
        // A misspelt cursor, which read as none would send every change again.
        &format!("?cursor={last}"),
        &format!("?after_seq={last}"),
    ] {
        let reply = send(&state, feed(query)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(reply.json()["error"], "invalid_query", "{query}");
    }

    // The lookup reads JSON (or text/plain), as `/v1/links`: a form is refused.
    let mut form = admin_request(
        "POST",
        "/v1/subjects/lookup",
        Some(super::ADMIN_KEY),
        "email=ada%40example.com",
    );
    form.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let reply = send(&state, form).await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(reply.json()["error"], "unsupported_media_type");

    // Without a key 401, with a wrong one 403; neither answer holds any data.
    for (method, uri, body) in [
        (
            "POST",
            "/v1/subjects/lookup",
            r#"{"email": "ada@example.com"}"#,
        ),
        ("GET", "/v1/changes", ""),
    ] {
        for (key, status, code) in [
            (None, StatusCode::UNAUTHORIZED, "unauthorized"),
            (
                Some("wrong-key-0123456789abcdefghijklmnopqrstu"),
                StatusCode::FORBIDDEN,
                "forbidden",
            ),
        ] {
            let reply = send(&state, admin_request(method, uri, key, body)).await;
            assert_eq!(reply.status, status, "{method} {uri}");
            let json = reply.json();
            assert_eq!(json["error"], code);
            assert_eq!(json.as_object().unwrap().len(), 2, "{json}");
            let text = json.to_string();
            assert!(
                !text.contains("hmac-sha256") && !text.contains("seq"),
                "{text}"
            );
        }
    }

    // One mailbox, one person: the mailer's punycode domain and the form's Unicode one.
    let mut body = record(&new_id());
    body["email"] = "zoe@xn--bcher-kva.example".into();
    let reply = send(&state, post_as_admin(body.to_string())).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let zoe = send(&state, lookup("Zoe@BÜCHER.example")).await.json();
    assert_eq!(
        zoe["subject"],
        state
            .subject_key
            .subject_of("zoe@xn--bcher-kva.example")
            .as_str()
    );
    assert_eq!(zoe["purposes"]["new_products"]["state"], "granted");
    // An address whose domain ends in a full-width comma is no address.
    body["record_id"] = new_id().into();
    body["email"] = "zoe@example.com\u{FF0C}".into();
    let reply = send(&state, post_as_admin(body.to_string())).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json()["error"], "invalid_record");
}

/// The message ids the receiver should get: one per change.
pub fn message_ids(record_ids: &[String]) -> BTreeSet<String> {
    record_ids
        .iter()
        .map(|id| format!("msg_{}", id.replace('-', "")))
        .collect()
}

/// The distinct ids of the deliveries answered with a success.
pub fn delivered_ids(log: &[Delivery]) -> BTreeSet<String> {
    log.iter()
        .filter(|d| d.answered == 204)
        .map(|d| d.id.clone())
        .collect()
}

/// Two `serve` processes on one database with webhooks on: every change arrives exactly
/// once (nothing crashes here, so at-least-once must not become twice).
pub async fn webhooks_deliver_once(database: &str, dir: &std::path::Path) {
    let receiver = Receiver::start(UP).await;
    let url = receiver.url();
    let secret = dir.join("webhook.secret");
    let args = [
        "--webhook-url",
        &url,
        "--webhook-secret-file",
        secret.to_str().unwrap(),
    ];
    let log = dir.join("collector.log");
    // One after the other: the first creates the secret file the second reads.
    let first = start_logged(database, &args, &log);
    let second = start_logged(database, &args, &log);
    let client = reqwest::Client::new();
    let mut changes = Vec::new();
    for n in 0..30 {
        let addr = if n % 2 == 0 { first.addr } else { second.addr };
        let reply = post_record(&client, addr, Some(&format!("p{n}@example.com"))).await;
        changes.push(reply["record_id"].as_str().unwrap().to_owned());
    }
    receiver
        .wait_for("all 30 changes", |log| {
            delivered_ids(log) == message_ids(&changes)
        })
        .await;
    let (a, b) = (first.addr, second.addr);
    wait_until("both queues empty", || async {
        metric(&client, a, "assent_webhook_queue_depth").await == Some(0)
            && metric(&client, b, "assent_webhook_queue_depth").await == Some(0)
    })
    .await;
    // Every row is delivered now, so no worker will post any of them again. Each claim
    // posts once, and no message was held by two workers at once: a repeat is legitimate
    // only after a failed attempt (here a 10 s timeout) and its backoff (at least 5 s),
    // while two workers holding one message post it at nearly the same moment.
    let requests = receiver.log();
    for (n, a) in requests.iter().enumerate() {
        for b in &requests[n + 1..] {
            assert!(
                a.id != b.id || b.at.duration_since(a.at) >= Duration::from_secs(5),
                "{} was posted twice at once",
                a.id
            );
        }
    }
    assert_eq!(
        receiver.log().len() as i64,
        total_attempts(database).await,
        "every claim posted its message once"
    );
    // Each delivery counted once: a worker counts one once its outcome is committed, a
    // moment after the queue (read from the database) shows it delivered, so the sum is
    // waited for (read at once, it failed once under load), and read again after.
    let delivered = || async {
        let of = |addr| metric(&client, addr, "assent_webhook_delivered_total");
        of(a).await.unwrap_or(0) + of(b).await.unwrap_or(0)
    };
    wait_until("30 deliveries counted", || async {
        delivered().await >= 30
    })
    .await;
    assert_eq!(delivered().await, 30, "no delivery counted twice");
}

/// Webhooks on `database` from the real binary: with the receiver down every change is
/// queued and retried; once it is up every change arrives signed; with the receiver
/// hanging the collector is killed with SIGKILL mid-delivery and restarted, and every
/// change still arrives (at least once: the distinct ids are exactly the changes). The
/// debug log holds no address.
pub async fn webhooks_survive_an_outage_and_a_kill_9(database: &str, dir: &Path) {
    let db = database;
    let secret = dir.join("hooks").join("webhook.secret");
    let subject_key = dir.join("subject.key");
    let log = dir.join("collector.log");
    let down = DownReceiver::new();
    let url = down.url();
    let args = [
        "--webhook-url",
        &url,
        "--webhook-secret-file",
        secret.to_str().unwrap(),
        "--subject-key",
        subject_key.to_str().unwrap(),
        "--webhook-retry-base",
        "100ms",
        "--webhook-retry-cap",
        "400ms",
        "--webhook-timeout",
        "2s",
    ];
    let mut server = start_logged(db, &args, &log);
    let client = reqwest::Client::new();
    let mut changes = Vec::new();
    let post = |n: usize, addr| {
        let client = client.clone();
        async move {
            let email = format!("subscriber{n}@example.com");
            let reply = post_record(&client, addr, Some(&email)).await;
            reply["record_id"].as_str().unwrap().to_owned()
        }
    };
    for n in 0..10 {
        changes.push(post(n, server.addr).await);
    }
    for _ in 0..3 {
        post_record(&client, server.addr, None).await;
    }
    let addr = server.addr;
    wait_until("ten deliveries queued", || async {
        metric(&client, addr, "assent_webhook_queue_depth").await == Some(10)
    })
    .await;
    wait_until(
        "every delivery retried while the receiver is down",
        || async { db_value(db, "SELECT MIN(attempts) FROM webhook_deliveries").await >= 2 },
    )
    .await;

    let receiver = down.start(UP);
    receiver
        .wait_for("the ten changes", |log| {
            delivered_ids(log) == message_ids(&changes)
        })
        .await;
    wait_until("the queue empty", || async {
        metric(&client, addr, "assent_webhook_queue_depth").await == Some(0)
            && metric(&client, addr, "assent_webhook_delivered_total").await == Some(10)
    })
    .await;

    // The receiver takes requests but never answers; the collector dies mid-delivery.
    receiver.set_mode(HANGING);
    for n in 10..15 {
        changes.push(post(n, server.addr).await);
    }
    receiver
        .wait_for("a delivery in flight", |log| {
            log.iter().any(|d| d.answered == 0)
        })
        .await;
    server.kill();
    receiver.set_mode(UP);
    let server = start_logged(db, &args, &log);
    for n in 15..17 {
        changes.push(post(n, server.addr).await);
    }
    receiver
        .wait_for("all 17 changes", |log| {
            delivered_ids(log) == message_ids(&changes)
        })
        .await;

    // The deliveries cut off by the kill came again, under the same id.
    let requests = receiver.log();
    let cut_off: BTreeSet<String> = requests
        .iter()
        .filter(|d| d.answered == 0)
        .map(|d| d.id.clone())
        .collect();
    assert!(!cut_off.is_empty() && cut_off.is_subset(&delivered_ids(&requests)));
    let secret_text = std::fs::read_to_string(&secret).unwrap();
    assert!(secret_text.starts_with("whsec_"));
    let export = super::process::export(db);
    for delivery in receiver.log() {
        assert!(signature_valid(&secret_text, &delivery), "{delivery:?}");
        let body = delivery.json();
        assert_eq!(body["type"], "preferences.changed");
        let record_id = body["record_id"].as_str().unwrap();
        assert_eq!(delivery.id, format!("msg_{}", record_id.replace('-', "")));
        let row = export
            .iter()
            .find(|line| line["record"]["record_id"] == record_id)
            .unwrap();
        assert_eq!(body["seq"], row["seq"]);
        assert_eq!(body["subject"], row["subject"]);
        assert_eq!(body["received_at"], row["received_at"]);
        assert_eq!(body["site"], "pci.qualys.com");
        assert_eq!(body["source"], "widget");
        assert_eq!(body["purposes"], row["record"]["purposes"]);
    }
    drop(server);
    let log = std::fs::read_to_string(&log).unwrap().to_lowercase();
    assert!(
        log.contains("webhook delivery failed"),
        "the outage is logged"
    );
    assert!(!log.contains("example.com"), "an address in the log");
}

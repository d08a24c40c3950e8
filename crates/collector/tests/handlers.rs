//! Handler tests through the router, without a socket.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{new_id, post, post_as, post_new, record, send, sqlite, state, ORIGIN};
use governor::clock::FakeRelativeClock;
use serde_json::{json, Value};

#[tokio::test]
async fn first_post_is_201_repeat_is_200_with_the_same_receipt_and_a_changed_body_is_409() {
    let (_dir, db) = sqlite();
    let state = state(&db, 0, 0).await;
    let id = new_id();
    let first = send(&state, post(record(&id).to_string())).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let receipt = first.json();
    assert_eq!(receipt["record_id"], id.as_str());
    assert_eq!(receipt["seq"], 1);

    // Same content, other key order and spacing: the same record.
    let pretty = serde_json::to_string_pretty(&record(&id)).unwrap();
    let again = send(&state, post(pretty)).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json(), receipt);

    let mut changed = record(&id);
    changed["purposes"][1]["state"] = "granted".into();
    let conflict = send(&state, post(changed.to_string())).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert_eq!(conflict.json()["error"], "record_conflict");

    let fetched = send(&state, get(&format!("/v1/records/{id}/receipt"))).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.json(), receipt);
}

#[tokio::test]
async fn sendbeacon_text_plain_is_accepted_and_other_types_are_not() {
    let (_dir, db) = sqlite();
    let state = state(&db, 0, 0).await;
    let beacon = post_as(
        "text/plain;charset=UTF-8",
        ORIGIN,
        record(&new_id()).to_string(),
    );
    assert_eq!(send(&state, beacon).await.status, StatusCode::CREATED);

    for content_type in [
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data"),
        None,
    ] {
        let mut request = Request::post("/v1/records").header("origin", ORIGIN);
        if let Some(t) = content_type {
            request = request.header("content-type", t);
        }
        let reply = send(
            &state,
            request
                .body(Body::from(record(&new_id()).to_string()))
                .unwrap(),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_eq!(reply.json()["error"], "unsupported_media_type");
    }
}

/// Bodies that must all be refused with a 4xx JSON error that does not repeat them.
fn bad_bodies() -> Vec<(&'static str, Vec<u8>)> {
    let id = "0b4f7a4e-2f57-4a6c-9f0e-5d1e4c3b2a10";
    let with = |path: &[&str], value: Value| {
        let mut doc = record(id);
        let mut at = &mut doc;
        for key in &path[..path.len() - 1] {
            at = &mut at[*key];
        }
        at[path[path.len() - 1]] = value;
        doc.to_string().into_bytes()
    };
    let marker = "XSS<script>MARK</script>";
    vec![
        ("empty", vec![]),
        ("not json", b"record please".to_vec()),
        (
            "truncated",
            record(id).to_string().as_bytes()[..40].to_vec(),
        ),
        ("json null", b"null".to_vec()),
        ("json array", b"[]".to_vec()),
        ("json string", format!("\"{marker}\"").into_bytes()),
        ("invalid utf-8", b"{\"record_id\": \"\xff\xfe\"}".to_vec()),
        ("nul bytes", vec![0; 64]),
        ("deep nesting", "[".repeat(10_000).into_bytes()),
        ("unknown field", with(&["ip"], json!("203.0.113.9"))),
        ("unknown field named like markup", with(&[marker], json!(1))),
        (
            "unknown purpose",
            with(
                &["purposes"],
                json!([{"purpose": marker, "basis": "consent", "state": "granted"}]),
            ),
        ),
        ("wrong type id", with(&["record_id"], json!(42))),
        ("id not a uuid", with(&["record_id"], json!(marker))),
        ("site with markup", with(&["site"], json!(marker))),
        ("site too long", with(&["site"], json!("a".repeat(300)))),
        ("gpc as string", with(&["gpc"], json!("true"))),
        (
            "purposes as object",
            with(&["purposes"], json!({"updates": "granted"})),
        ),
        ("empty purposes", with(&["purposes"], json!([]))),
        (
            "state not an enum",
            with(
                &["purposes"],
                json!([{"purpose": "updates", "basis": "consent", "state": marker}]),
            ),
        ),
        (
            "mandatory purpose with a state",
            with(
                &["purposes"],
                json!([{"purpose": "security", "basis": "contract", "state": "denied"}]),
            ),
        ),
        ("bad time", with(&["client_time"], json!(marker))),
        ("huge number", with(&["gpc"], json!(1e308))),
        ("email malformed", with(&["email"], json!(marker))),
        (
            "notice hash not sha256",
            with(&["notice", "hash"], json!(marker)),
        ),
        (
            "trailing garbage",
            format!("{} {marker}", record(id)).into_bytes(),
        ),
    ]
}

#[tokio::test]
async fn malformed_oversized_and_wrong_typed_bodies_get_4xx_json_without_echo() {
    let (_dir, db) = sqlite();
    let state = state(&db, 0, 0).await;
    for (name, body) in bad_bodies() {
        let reply = send(&state, post(body)).await;
        assert!(reply.status.is_client_error(), "{name}: {}", reply.status);
        let json = reply.json();
        let code = json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: {json}"));
        assert!(
            ["malformed_json", "invalid_record"].contains(&code),
            "{name}: {code}"
        );
        let text = String::from_utf8_lossy(&reply.body);
        for echo in ["MARK", "script", "203.0.113", "\"ip\""] {
            assert!(!text.contains(echo), "{name} echoes input: {text}");
        }
    }
    assert!(send(&state, post(vec![])).await.json()["message"].is_string());

    // Over 16 KiB: 413.
    let mut big = record(&new_id());
    big["widget_version"] = "x".repeat(17 * 1024).into();
    let reply = send(&state, post(big.to_string())).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.json()["error"], "body_too_large");

    // A body that breaks off (broken chunked framing, a client gone before its
    // Content-Length had come) is unreadable, not too large.
    let broken = Body::from_stream(futures_util::stream::iter([
        Ok(axum::body::Bytes::from_static(b"{\"record_id\"")),
        Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "cut short",
        )),
    ]));
    let reply = send(&state, post(broken)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"], "body_unreadable");

    let stored = state.store.page(0, 100, None).await.unwrap();
    assert!(stored.is_empty(), "nothing bad was stored");
}

#[tokio::test]
async fn disallowed_origin_gets_403_and_cors_answers_only_allowed_origins() {
    let (_dir, db) = sqlite();
    let state = state(&db, 0, 0).await;
    let evil = post_as(
        "application/json",
        "https://evil.example",
        record(&new_id()).to_string(),
    );
    let reply = send(&state, evil).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.json()["error"], "origin_not_allowed");
    // The refusal alone is readable by the refused page, so its widget can stop retrying
    // and tell the host; it carries nothing but the error code.
    assert_eq!(reply.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert!(reply
        .headers
        .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
        .is_none());

    let preflight = |origin: &str| {
        Request::options("/v1/records")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .body(Body::empty())
            .unwrap()
    };
    let ok = send(&state, preflight("http://127.0.0.1:8787")).await;
    assert!(ok.status.is_success());
    assert_eq!(
        ok.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://127.0.0.1:8787"
    );
    assert!(ok.headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .unwrap()
        .contains("content-type"));
    assert!(ok
        .headers
        .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
        .is_none());

    let denied = send(&state, preflight("https://evil.example")).await;
    assert!(
        denied
            .headers
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none(),
        "never mirrored"
    );

    let allowed = send(&state, post(record(&new_id()).to_string())).await;
    assert_eq!(allowed.status, StatusCode::CREATED);
    assert_eq!(allowed.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);
    assert!(
        allowed.headers.get(header::SET_COOKIE).is_none(),
        "no cookies, ever"
    );
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let (_dir, db) = sqlite();
    let status = |state, request| async move { send(&state, request).await.status };

    let clock = FakeRelativeClock::default();
    let by_ip = common::state_on(&db, 3, 0, clock.clone()).await;
    for _ in 0..3 {
        assert_eq!(status(by_ip.clone(), post_new()).await, StatusCode::CREATED);
    }
    let retry_after = |reply: &common::Reply| -> u64 {
        let value = reply.headers[header::RETRY_AFTER].to_str().unwrap();
        value.parse().unwrap()
    };
    let reply = send(&by_ip, post_new()).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.json()["error"], "rate_limited");
    // Three a minute: one more each 20 s, and Retry-After says when, to the second.
    assert_eq!(retry_after(&reply), 20);
    clock.advance(std::time::Duration::from_millis(19_500));
    let reply = send(&by_ip, post_new()).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after(&reply), 1, "half a second, rounded up");
    clock.advance(std::time::Duration::from_millis(500));
    assert_eq!(status(by_ip.clone(), post_new()).await, StatusCode::CREATED);
    let reply = send(&by_ip, post_new()).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    // A page on an allowed origin may read it.
    assert_eq!(reply.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);
    let exposed = reply.headers[header::ACCESS_CONTROL_EXPOSE_HEADERS]
        .to_str()
        .unwrap();
    assert!(exposed.eq_ignore_ascii_case("retry-after"), "{exposed}");

    // Behind a proxy, its header tells clients apart.
    let mut proxied = state(&db, 1, 0).await;
    proxied.client_ip_header = Some(header::HeaderName::from_static("x-forwarded-for"));
    let via = |ip: &str| {
        let mut request = post_new();
        let forwarded = format!("198.51.100.7, {ip}").parse().unwrap();
        request.headers_mut().insert("x-forwarded-for", forwarded);
        request
    };
    assert_eq!(
        status(proxied.clone(), via("203.0.113.1")).await,
        StatusCode::CREATED
    );
    assert_eq!(
        status(proxied.clone(), via("203.0.113.2")).await,
        StatusCode::CREATED
    );
    assert_eq!(
        status(proxied.clone(), via("203.0.113.1")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // A port after the address, as some proxies write it, names the same client.
    assert_eq!(
        status(proxied.clone(), via("203.0.113.2:5678")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // A proxy that adds a line of its own rather than appending to the client's: the last
    // line is the proxy's, whatever the client sent in its own.
    let spoofed = |claimed: &str| {
        let mut request = post_new();
        let headers = request.headers_mut();
        headers.append("x-forwarded-for", claimed.parse().unwrap());
        headers.append("x-forwarded-for", "203.0.113.3".parse().unwrap());
        request
    };
    assert_eq!(
        status(proxied.clone(), spoofed("198.51.100.98")).await,
        StatusCode::CREATED
    );
    assert_eq!(
        status(proxied.clone(), spoofed("198.51.100.99")).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the client's own line names no bucket"
    );
    // A proxy that appends to the client's line keeps the client's bytes, which need not
    // be text: the entry the proxy added still names the client.
    let unreadable = |ip: &str| {
        let mut request = post_new();
        let line = [b"\xff\xfe, ".as_slice(), ip.as_bytes()].concat();
        let value = header::HeaderValue::from_bytes(&line).unwrap();
        request.headers_mut().insert("x-forwarded-for", value);
        request
    };
    for ip in ["203.0.113.4", "203.0.113.5"] {
        assert_eq!(
            status(proxied.clone(), unreadable(ip)).await,
            StatusCode::CREATED,
            "{ip}: a bucket of its own, not the proxy's"
        );
    }
    assert_eq!(
        status(proxied, unreadable("203.0.113.4")).await,
        StatusCode::TOO_MANY_REQUESTS
    );

    let by_site = state(&db, 0, 2).await;
    // Refused records (an address without the admin key) spend nothing of it.
    for _ in 0..3 {
        let mut body = record(&new_id());
        body["email"] = "ada@example.com".into();
        let refused = send(&by_site, post(body.to_string())).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    }
    let first = record(&new_id());
    assert_eq!(
        send(&by_site, post(first.to_string())).await.status,
        StatusCode::CREATED
    );
    // The same record again (a browser's retry) and another body under its id (a
    // conflict), however often: answered, and nothing of the budget spent either.
    let mut other = first.clone();
    other["gpc"] = true.into();
    for _ in 0..3 {
        assert_eq!(
            send(&by_site, post(first.to_string())).await.status,
            StatusCode::OK
        );
        assert_eq!(
            send(&by_site, post(other.to_string())).await.status,
            StatusCode::CONFLICT
        );
    }
    assert_eq!(
        status(by_site.clone(), post_new()).await,
        StatusCode::CREATED
    );
    let reply = send(&by_site, post_new()).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(reply.headers.contains_key(header::RETRY_AFTER));
    // The budget is the page's origin's, not the site the record names, which anyone can
    // make up (each a new budget): another name from that page is over it too…
    let mut renamed = record(&new_id());
    renamed["site"] = "x1.example".into();
    assert_eq!(
        send(&by_site, post(renamed.to_string())).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // …while another covered page has its own, and every POST without an Origin (not
    // from a page) shares one, whatever site each names.
    let from = |origin: &str, site: &str| {
        let mut body = record(&new_id());
        body["site"] = site.into();
        post_as("application/json", origin, body.to_string())
    };
    assert_eq!(
        status(by_site.clone(), from("http://127.0.0.1:8787", "localhost")).await,
        StatusCode::CREATED
    );
    let no_origin = |site: &str| {
        let mut request = from(ORIGIN, site);
        request.headers_mut().remove(header::ORIGIN);
        request
    };
    for (site, expected) in [
        ("x1.example", StatusCode::CREATED),
        ("x2.example", StatusCode::CREATED),
        ("x3.example", StatusCode::TOO_MANY_REQUESTS),
    ] {
        assert_eq!(
            status(by_site.clone(), no_origin(site)).await,
            expected,
            "{site}"
        );
    }
    // The company's own server, with the admin key, spends none, with an address or not.
    let mut addressed = record(&new_id());
    addressed["email"] = "ada@example.com".into();
    for body in [addressed, record(&new_id())] {
        assert_eq!(
            status(by_site.clone(), common::post_as_admin(body.to_string())).await,
            StatusCode::CREATED
        );
    }
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

/// `/healthz` says 503 while appends fail for a reason of the database's, though it still
/// answers reads: here another connection holds SQLite's write lock, so an append waits out
/// the busy timeout and fails. Once the lock is let go it says 200 again with no append
/// made meanwhile (a load balancer that took the process out sends it none): the writer's
/// own probe write found the database taking writes.
#[tokio::test]
async fn health_fails_while_appends_fail_and_comes_back_by_itself() {
    use sqlx::{Connection, Executor};
    let (_dir, db) = sqlite();
    let state = state(&db, 0, 0).await;
    assert_eq!(send(&state, post_new()).await.status, StatusCode::CREATED);
    let mut holder = sqlx::SqliteConnection::connect(&common::sqlite_url(&db))
        .await
        .unwrap();
    holder.execute("BEGIN IMMEDIATE").await.unwrap();
    // The lock alone fails nothing yet: reads answer.
    assert_eq!(send(&state, get("/healthz")).await.status, StatusCode::OK);
    assert_eq!(
        send(&state, post_new()).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let failing = send(&state, get("/healthz")).await;
    assert_eq!(failing.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(failing.json()["error"], "unavailable");
    assert!(failing.headers.contains_key(header::RETRY_AFTER));
    // Still failing after a probe had time to run into the lock (the busy timeout, 5 s):
    // a probe that only read, or took its own failure for success, would have said 200.
    tokio::time::sleep(std::time::Duration::from_secs(7)).await;
    assert_eq!(
        send(&state, get("/healthz")).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    holder.execute("ROLLBACK").await.unwrap();
    let started = std::time::Instant::now();
    while send(&state, get("/healthz")).await.status != StatusCode::OK {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(90),
            "/healthz never said 200 again"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let probed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM health_probe")
        .fetch_one(&mut holder)
        .await
        .unwrap();
    assert_eq!(probed, 1, "the probe wrote");
    assert_eq!(send(&state, post_new()).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn receipts_health_metrics_and_errors_are_json() {
    let (_dir, db) = sqlite();
    let state = state(&db, 0, 0).await;
    assert_eq!(send(&state, get("/healthz")).await.json()["status"], "ok");

    let missing = send(&state, get(&format!("/v1/records/{}/receipt", new_id()))).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["error"], "not_found");
    let bad_id = send(&state, get("/v1/records/%3Cscript%3E/receipt")).await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    assert!(!String::from_utf8_lossy(&bad_id.body).contains("script"));
    assert_eq!(
        send(&state, get("/nowhere")).await.json()["error"],
        "not_found"
    );
    let wrong_method = send(
        &state,
        Request::delete("/v1/records").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.json()["error"], "method_not_allowed");

    send(&state, post(record(&new_id()).to_string())).await;
    send(&state, post("nope")).await;
    let metrics = send(&state, get("/metrics")).await;
    // Said as what it is, so that Prometheus parses it as OpenMetrics.
    assert_eq!(
        metrics.headers[header::CONTENT_TYPE],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = String::from_utf8(metrics.body).unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(text.contains("assent_records_stored_total 1"), "{text}");
    assert!(
        text.contains("assent_records_rejected_total{reason=\"malformed_json\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("assent_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("route=\"/v1/records\""), "{text}");

    let jwks = send(&state, get("/.well-known/assent-receipt-key"))
        .await
        .json();
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
}

/// A collector whose `--static-dir` holds `files` (name, content); the directory lives as
/// long as the first value.
async fn serving(files: &[(&str, &str)]) -> (tempfile::TempDir, assent_collector::AppState) {
    let (dir, db) = sqlite();
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    for (name, content) in files {
        std::fs::write(www.join(name), content).unwrap();
    }
    let mut state = state(&db, 0, 0).await;
    state.static_dir = Some(www);
    (dir, state)
}

#[tokio::test]
async fn static_files_are_served_with_brotli_when_accepted() {
    let (_dir, state) = serving(&[
        ("index.html", "<p>demo</p>"),
        ("app.js", "plain"),
        ("app.js.br", "brotli"),
    ])
    .await;

    let index = send(&state, get("/")).await;
    assert_eq!(index.status, StatusCode::OK);
    assert_eq!(index.body, b"<p>demo</p>");
    let br = send(
        &state,
        Request::get("/app.js")
            .header("accept-encoding", "br")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(br.headers[header::CONTENT_ENCODING], "br");
    assert_eq!(br.body, b"brotli");
    assert_eq!(send(&state, get("/app.js")).await.body, b"plain");
    assert_eq!(
        send(&state, get("/healthz")).await.status,
        StatusCode::OK,
        "API routes win over files"
    );
    assert_eq!(
        send(&state, get("/missing.html")).await.status,
        StatusCode::NOT_FOUND
    );
    // A site's own /.well-known/ files are served beside the collector's key set.
    let well_known = state.static_dir.as_ref().unwrap().join(".well-known");
    std::fs::create_dir(&well_known).unwrap();
    std::fs::write(
        well_known.join("security.txt"),
        "Contact: mailto:security@example.com",
    )
    .unwrap();
    let security = send(&state, get("/.well-known/security.txt")).await;
    assert_eq!(security.status, StatusCode::OK);
    assert_eq!(security.body, b"Contact: mailto:security@example.com");
    assert_eq!(
        send(&state, get("/.well-known/jwks.json")).await.status,
        StatusCode::OK
    );
    // The API's own paths are never files: an unknown one is the JSON 404.
    for (method, path) in [("POST", "/v1/recordz"), ("GET", "/v1/records/x/y/z")] {
        let request = Request::builder().method(method).uri(path);
        let reply = send(&state, request.body(Body::empty()).unwrap()).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(reply.json()["error"], "not_found", "{method} {path}");
    }
}

#[tokio::test]
async fn static_files_are_public_revalidated_and_vary_by_encoding() {
    let (_dir, state) = serving(&[("assent.js", "plain"), ("assent.js.br", "brotli")]).await;

    let first = send(&state, get("/assent.js")).await;
    assert_eq!(first.status, StatusCode::OK);
    // A kept copy is checked before each use: after a release, one from before it would
    // fail the SRI hash the page's tag pins.
    assert_eq!(first.headers[header::CACHE_CONTROL], "no-cache");
    assert_eq!(first.headers[header::VARY], "accept-encoding");
    // A covered site's tag (crossorigin, with integrity) reads it from another origin.
    assert_eq!(first.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let last_modified = first.headers[header::LAST_MODIFIED].clone();

    for encoding in ["br", "identity"] {
        let again = send(
            &state,
            Request::get("/assent.js")
                .header("accept-encoding", encoding)
                .header(header::IF_MODIFIED_SINCE, last_modified.clone())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{encoding}");
        assert!(again.body.is_empty(), "{encoding}");
    }
    assert_eq!(
        send(&state, get("/healthz"))
            .await
            .headers
            .get(header::CACHE_CONTROL),
        None,
        "the API's answers say their own"
    );
}

#[tokio::test]
async fn the_openapi_file_lists_exactly_the_routes() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (path.clone(), m.clone()))
        })
        .filter(|(_, m)| m != "parameters")
        .collect();
    documented.sort();
    let mut routes: Vec<(String, String)> = assent_collector::routes::ROUTES
        .iter()
        .map(|(p, m)| ((*p).to_owned(), (*m).to_owned()))
        .collect();
    routes.sort();
    assert_eq!(documented, routes);

    // And the router answers each of them with a success (ROUTES is not just a list).
    let (_dir, db) = sqlite();
    let state = state(&db, 0, 0).await;
    let stored = new_id();
    send(&state, post(record(&stored).to_string())).await;
    let token = common::links::mint(&state, "jo@example.com", &["pci.qualys.com"], None).token;
    for (path, method) in assent_collector::routes::ROUTES {
        // Each route gets the body it takes; admin routes the admin key.
        let (content_type, body) = match (path, method) {
            ("/v1/links", _) => (
                "application/json",
                json!({"email": "jo@example.com", "site": "pci.qualys.com",
                       "page": "https://pci.qualys.com/"})
                .to_string(),
            ),
            ("/v1/identity", _) => (
                "text/plain",
                json!({"token": token, "site": "pci.qualys.com"}).to_string(),
            ),
            ("/v1/unsubscribe/{token}", "post") => (
                "application/x-www-form-urlencoded",
                "List-Unsubscribe=One-Click".to_owned(),
            ),
            ("/v1/subjects/lookup", _) => (
                "application/json",
                json!({ "email": "ada@example.com" }).to_string(),
            ),
            _ => ("application/json", record(&new_id()).to_string()),
        };
        let request = Request::builder()
            .method(method.to_uppercase().as_str())
            .uri(path.replace("{id}", &stored).replace("{token}", &token))
            .header("content-type", content_type)
            .header("authorization", format!("Bearer {}", common::ADMIN_KEY))
            .body(Body::from(body))
            .unwrap();
        let status = send(&state, request).await.status;
        assert!(status.is_success(), "{method} {path}: {status}");
    }

    // The error codes documented are exactly those the code gives (AppError::CODES,
    // held to AppError::code by its unit test).
    let documented: std::collections::BTreeSet<&str> = doc["components"]["schemas"]["Error"]
        ["properties"]["error"]["enum"]
        .as_array()
        .expect("the Error schema lists its codes")
        .iter()
        .map(|code| code.as_str().unwrap())
        .collect();
    let given = assent_collector::error::AppError::CODES
        .into_iter()
        .collect();
    assert_eq!(documented, given);
}

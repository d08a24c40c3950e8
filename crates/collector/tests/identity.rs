//! Manage links (CLI and `POST /v1/links`), `POST /v1/identity`, records carrying a link
//! token, and RFC 8058 one-click unsubscribe, on a real SQLite file.

mod common;

use std::io::Read;

use assent_collector::token::{LinkKey, TokenError};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::links::{self, expired, expired_token, identity, mint, new_email, one_click, tampered};
use common::process::{self, Server};
use common::{new_id, post, record, send, sqlite, state, ADMIN_KEY, PUBLIC_URL};
use serde_json::{json, Value};

/// A collector on a new SQLite file (kept while the first value lives), and a new address.
async fn a_person() -> (tempfile::TempDir, assent_collector::AppState, String) {
    a_person_at(0).await
}

/// [`a_person`], with a limit of `per_ip` requests a minute per client (and the limits
/// that come with it: per link).
async fn a_person_at(per_ip: u32) -> (tempfile::TempDir, assent_collector::AppState, String) {
    let (dir, db) = sqlite();
    (dir, state(&db, per_ip, 0).await, new_email())
}

/// The Prometheus text of `GET /metrics`.
async fn metrics(state: &assent_collector::AppState) -> String {
    let reply = send(state, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    String::from_utf8(reply.body).unwrap()
}

fn links_post(key: Option<&str>, body: Value) -> Request<Body> {
    let mut request = Request::post("/v1/links").header("content-type", "application/json");
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    request.body(Body::from(body.to_string())).unwrap()
}

#[tokio::test]
async fn links_need_an_admin_key_and_answer_the_link() {
    let (_dir, db) = sqlite();
    let state = state(&db, 0, 0).await;
    let email = "Jane.Doe@Example.com";
    let body =
        json!({"email": email, "site": "pci.qualys.com", "page": "https://pci.qualys.com/account"});

    let without = send(&state, links_post(None, body.clone())).await;
    assert_eq!(without.status, StatusCode::UNAUTHORIZED);
    assert_eq!(without.json()["error"], "unauthorized");
    let wrong = send(&state, links_post(Some(&"w".repeat(40)), body.clone())).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(wrong.json()["error"], "forbidden");
    for refused in [&without, &wrong] {
        let text = String::from_utf8_lossy(&refused.body).to_lowercase();
        assert!(!text.contains("jane"), "{text}");
        assert!(!text.contains("token\""), "{text}");
        assert_eq!(refused.json().as_object().unwrap().len(), 2);
    }

    let created = send(&state, links_post(Some(ADMIN_KEY), body)).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let link = created.json();
    let token = link["token"].as_str().unwrap();
    assert_eq!(
        link["manage_url"],
        format!("https://pci.qualys.com/account#assent={token}")
    );
    let unsubscribe_token = link["unsubscribe_url"]
        .as_str()
        .unwrap()
        .strip_prefix(&format!("{PUBLIC_URL}/v1/unsubscribe/"))
        .unwrap();
    assert_ne!(unsubscribe_token, token, "a token of its own");
    assert_eq!(
        state
            .link_key
            .verify(unsubscribe_token, &"pci.qualys.com".try_into().unwrap()),
        Err(TokenError::UnsubscribeOnly)
    );
    assert_eq!(link["hint"], "j•••@example.com");
    assert_eq!(link["sites"], json!(["pci.qualys.com"]));
    let expires = time::OffsetDateTime::parse(
        link["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let days = (expires - time::OffsetDateTime::now_utc()).whole_hours();
    assert!((29 * 24..=30 * 24).contains(&days), "{days}");
    // The unsubscribe URL works for a year, the manage link's 30 days or not.
    let unsubscribe_expires = time::OffsetDateTime::parse(
        link["unsubscribe_expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let days = (unsubscribe_expires - time::OffsetDateTime::now_utc()).whole_days();
    assert!((365..=366).contains(&days), "{days}");
    let claims = state
        .link_key
        .verify(token, &"pci.qualys.com".try_into().unwrap())
        .unwrap();
    assert_eq!(claims.sub, state.subject_key.subject_of(email));
    assert!(!String::from_utf8_lossy(&created.body)
        .to_lowercase()
        .contains("jane.doe"));

    // Several sites, a purpose, a TTL.
    let several = send(
        &state,
        links_post(
            Some(ADMIN_KEY),
            json!({"email": email, "site": ["pci.qualys.com", "www.qualys.com"],
                   "page": "https://pci.qualys.com/app#/settings", "purpose": "updates", "ttl": "12h"}),
        ),
    )
    .await
    .json();
    assert_eq!(
        several["sites"],
        json!(["pci.qualys.com", "www.qualys.com"])
    );
    // The page's own fragment (its app's route) stays.
    assert_eq!(
        several["manage_url"],
        format!(
            "https://pci.qualys.com/app#/settings&assent={}",
            several["token"].as_str().unwrap()
        )
    );
    let claims = state
        .link_key
        .verify(
            several["token"].as_str().unwrap(),
            &"www.qualys.com".try_into().unwrap(),
        )
        .unwrap();
    // Its end rounded up to a whole second, its start down.
    assert!((0..=1).contains(&(claims.exp - claims.iat - 12 * 3600)));
    assert_eq!(claims.purpose.map(|p| p.as_str()), Some("updates"));
}

/// A link minted for a second (a signed-in page's, say) still unsubscribes once it is
/// past: the mail that carries its unsubscribe URL is read later.
#[tokio::test]
async fn an_unsubscribe_url_outlives_its_manage_link() {
    let (_dir, db) = sqlite();
    let state = state(&db, 0, 0).await;
    let email = new_email();
    let link = send(
        &state,
        links_post(
            Some(ADMIN_KEY),
            json!({"email": email, "site": "pci.qualys.com",
                   "page": "https://pci.qualys.com/", "ttl": "1s"}),
        ),
    )
    .await
    .json();
    // Past the manage link's expiry (whole seconds: exp <= now is expired).
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let token = link["token"].as_str().unwrap();
    assert_eq!(
        state
            .link_key
            .verify(token, &"pci.qualys.com".try_into().unwrap()),
        Err(TokenError::Expired)
    );
    let unsubscribe_token = link["unsubscribe_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let done = send(&state, one_click(&unsubscribe_token)).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(links::html(&done).contains("You are unsubscribed"));
    let subject = state.subject_key.subject_of(&email);
    assert_eq!(links::rows_of(&state, &subject).await.len(), 1);
}

#[tokio::test]
async fn bad_link_requests_get_422_without_echo() {
    let (_dir, db) = sqlite();
    let state = state(&db, 0, 0).await;
    let good = json!({"email": "jo@example.com", "site": "pci.qualys.com", "page": "https://pci.qualys.com/"});
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    let marker = "MARK<script>";
    for body in [
        with("email", json!(marker)),
        with("site", json!(marker)),
        with("site", json!([])),
        with("page", json!(format!("http://pci.qualys.com/{marker}"))),
        with("page", json!("javascript:alert(1)")),
        // Not a page the collector takes records from (a typo in the host).
        with("page", json!(format!("https://pci.qualys.co/{marker}"))),
        with("purpose", json!("security")),
        with("purpose", json!(marker)),
        with("ttl", json!("forever")),
        with("ttl", json!("400d")),
        with("extra", json!(marker)),
        with("email", json!(42)),
    ] {
        let reply = send(&state, links_post(Some(ADMIN_KEY), body.clone())).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.json()["error"], "invalid_request", "{body}");
        let text = String::from_utf8_lossy(&reply.body);
        assert!(!text.contains("MARK") && !text.contains("script"), "{text}");
    }
    let reply = send(&state, links_post(Some(ADMIN_KEY), json!("nope"))).await;
    assert_eq!(reply.json()["error"], "invalid_request");
    let not_json = Request::post("/v1/links")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {ADMIN_KEY}"))
        .body(Body::from("{"))
        .unwrap();
    assert_eq!(
        send(&state, not_json).await.json()["error"],
        "malformed_json"
    );
}

#[tokio::test]
async fn refused_tokens_get_403_with_their_code_and_attribute_nothing() {
    let (_dir, state, email) = a_person().await;
    let good = mint(&state, &email, &["pci.qualys.com"], None).token;
    let foreign = {
        let mut other = state.clone();
        other.link_key = std::sync::Arc::new(LinkKey::new([8; 32]));
        mint(&other, &email, &["pci.qualys.com"], None).token
    };
    let www_only = mint(&state, &email, &["www.qualys.com"], None).token;
    // An unsubscribe URL's token, which mail providers and link scanners see.
    let unsubscribe_only =
        links::unsubscribe_token(&mint(&state, &email, &["pci.qualys.com"], None)).to_owned();
    // Expired as well, they are refused for what they are or where they come from.
    let cases = [
        (
            expired(&state, &unsubscribe_only),
            TokenError::UnsubscribeOnly,
        ),
        (expired(&state, &www_only), TokenError::WrongSite),
        (unsubscribe_only, TokenError::UnsubscribeOnly),
        (expired_token(&state, &email), TokenError::Expired),
        (tampered(&good), TokenError::Invalid),
        (foreign, TokenError::Invalid),
        ("a.b.c".to_owned(), TokenError::Invalid),
        (www_only, TokenError::WrongSite),
    ];
    for (token, expected) in &cases {
        let code = expected.code();
        let reply = send(&state, identity(token, "pci.qualys.com")).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{code}");
        assert_eq!(reply.json()["error"], code);
        assert!(!String::from_utf8_lossy(&reply.body).contains(token.as_str()));

        // A record with one: an expired one's is stored under no subject (the next
        // test), and so is one that does not verify (forged, or of a link key since
        // replaced: the visitor's choice is kept); one for another site or an
        // unsubscribe URL's, which no page sends, is refused.
        if *expected == TokenError::Expired {
            continue;
        }
        let saved = links::token_record(token, "granted", "granted");
        let reply = send(&state, post(saved.to_string())).await;
        if *expected == TokenError::Invalid {
            assert_eq!(reply.status, StatusCode::CREATED, "{code}");
            assert_eq!(reply.json()["unattributed"]["error"], code);
            assert!(reply.json()["receipt"].is_string());
        } else {
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{code}");
            assert_eq!(reply.json()["error"], code);
        }
    }
    let rows = state.store.page(0, 10, None).await.unwrap();
    let invalid = cases
        .iter()
        .filter(|(_, e)| *e == TokenError::Invalid)
        .count();
    assert_eq!(
        rows.len(),
        invalid,
        "the records whose token did not verify"
    );
    assert!(
        rows.iter().all(|row| row.subject.is_none()),
        "attributed to no one"
    );
    assert!(rows.iter().all(|row| !row.body.contains("subject_token")));

    // The identity route answers the allowed origins only, as records do.
    let mut evil = identity(&good, "pci.qualys.com");
    evil.headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    let reply = send(&state, evil).await;
    assert_eq!(reply.json()["error"], "origin_not_allowed");
    let ok = send(&state, identity(&good, "pci.qualys.com")).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(
        ok.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        common::ORIGIN
    );
}

/// A record saved with a manage link that expired before the record reached the collector
/// (the visitor offline, or the collector down, till then) keeps the visitor's choice: it
/// is stored under no subject, and the answer and the metrics say why.
#[tokio::test]
async fn a_record_whose_token_expired_while_it_waited_is_stored_under_no_subject() {
    let (_dir, state, email) = a_person().await;
    let saved = links::token_record(&expired_token(&state, &email), "granted", "denied");

    let reply = send(&state, post(saved.to_string())).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let answer = reply.json();
    assert_eq!(answer["unattributed"]["error"], "token_expired");
    let message = answer["unattributed"]["message"].as_str().unwrap();
    assert!(
        message.contains("expired") && message.contains("no subject"),
        "{message}"
    );
    assert!(
        answer["receipt"].is_string(),
        "the visitor's proof: {answer}"
    );

    let rows = state.store.page(0, 10, None).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].subject, None, "attributed to no one");
    assert_eq!(rows[0].record_id, saved["record_id"].as_str().unwrap());
    assert!(
        !rows[0].body.contains("subject_token"),
        "the token is not stored"
    );
    let subject = state.subject_key.subject_of(&email);
    assert!(
        links::rows_of(&state, &subject).await.is_empty(),
        "nothing under the person"
    );

    // The browser's retry is the same record: answered as stored, nothing added.
    let again = send(&state, post(saved.to_string())).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["seq"], answer["seq"]);
    assert_eq!(state.store.page(0, 10, None).await.unwrap().len(), 1);

    let text = metrics(&state).await;
    assert!(
        text.contains("assent_records_unattributed_total{reason=\"token_expired\"} 1"),
        "{text}"
    );
    assert!(
        !text.contains("assent_records_rejected_total{reason=\"token_expired\"}"),
        "{text}"
    );
}

/// Stored under its person while the token held, its answer lost on the way: the retry,
/// after the token expired, is the same record (200, the same receipt), not a conflict.
#[tokio::test]
async fn a_retry_after_the_token_expired_of_a_record_stored_under_its_person_is_a_repeat() {
    let (_dir, state, email) = a_person().await;
    let valid = mint(&state, &email, &["pci.qualys.com"], None).token;
    let mut saved = links::token_record(&valid, "granted", "denied");
    let first = send(&state, post(saved.to_string())).await;
    assert_eq!(first.status, StatusCode::CREATED);

    saved["subject_token"] = expired_token(&state, &email).into();
    let retry = send(&state, post(saved.to_string())).await;
    assert_eq!(retry.status, StatusCode::OK, "{:?}", retry.json());
    assert_eq!(retry.json()["receipt"], first.json()["receipt"]);
    assert!(
        retry.json().get("unattributed").is_none(),
        "it is attributed"
    );
    let subject = state.subject_key.subject_of(&email);
    assert_eq!(links::rows_of(&state, &subject).await.len(), 1);

    // Another body under that id is still a conflict.
    saved["purposes"][0]["state"] = "denied".into();
    let other = send(&state, post(saved.to_string())).await;
    assert_eq!(other.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_record_with_email_and_token_or_another_source_is_refused() {
    let (_dir, db) = sqlite();
    let state = state(&db, 0, 0).await;
    let token = mint(&state, &new_email(), &["pci.qualys.com"], None).token;
    let mut both = links::token_record(&token, "granted", "denied");
    both["email"] = "ada@example.com".into();
    let mut unsubscribe = record(&new_id());
    unsubscribe["source"] = "unsubscribe".into();
    for body in [both, unsubscribe] {
        let reply = send(&state, post(body.to_string())).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reply.json()["error"], "invalid_record");
    }
    assert!(state.store.page(0, 10, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_record_under_an_address_is_taken_only_with_an_admin_key() {
    let (_dir, state, email) = a_person().await;
    let mut body = record(&new_id());
    body["email"] = email.as_str().into();

    // From a page, or from anyone without the key: refused, nothing stored.
    let from_page = send(&state, post(body.to_string())).await;
    assert_eq!(from_page.status, StatusCode::UNAUTHORIZED);
    assert_eq!(from_page.json()["error"], "unauthorized");
    assert!(from_page.json()["message"]
        .as_str()
        .unwrap()
        .contains("subject_token"));
    let mut wrong_key = post(body.to_string());
    wrong_key.headers_mut().insert(
        header::AUTHORIZATION,
        "Bearer not-the-admin-key-0123456789abcdefghij"
            .parse()
            .unwrap(),
    );
    assert_eq!(send(&state, wrong_key).await.status, StatusCode::FORBIDDEN);
    assert!(state.store.page(0, 10, None).await.unwrap().is_empty());

    // From the company's server: stored under the address's subject.
    let created = send(&state, common::post_as_admin(body.to_string())).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let stored = state.store.page(0, 10, None).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].subject.as_deref(),
        Some(state.subject_key.subject_of(&email).as_str())
    );
}

#[tokio::test]
async fn records_are_stored_under_the_token_subject_and_no_address_is_in_the_file() {
    let (dir, db) = sqlite();
    let (email, token) = links::records_under_the_token_subject(&db).await;
    // Nothing in the database file (or its write-ahead log) holds an address or a token.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let mut bytes = Vec::new();
        std::fs::File::open(entry.unwrap().path())
            .unwrap()
            .read_to_end(&mut bytes)
            .unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&token), "the token is in the file");
        let text = text.to_lowercase();
        assert!(
            !text.contains(&email.to_lowercase()),
            "the address is in the file"
        );
        assert!(!text.contains("@example.com"), "an address is in the file");
    }
}

/// A page's grant and the denial made a moment later, sent at once as the page was left
/// (each its own request), arrive the other way round: the person is still opted out, for
/// identity, the lookup and the suppression list alike.
#[tokio::test]
async fn a_grant_arriving_after_a_denial_made_later_leaves_the_person_opted_out() {
    let (_dir, state, email) = a_person().await;
    let token = mint(&state, &email, &["pci.qualys.com"], None).token;
    let mut granted = links::token_record(&token, "granted", "granted");
    granted["client_time"] = "2026-12-02T10:00:00.000Z".into();
    let mut denied = links::token_record(&token, "denied", "granted");
    denied["client_time"] = "2026-12-02T10:00:04.000Z".into();
    for body in [&denied, &granted] {
        let reply = send(&state, post(body.to_string())).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json());
    }

    assert_eq!(
        links::preferences(&state, &token).await,
        json!({"new_products": "denied", "updates": "granted"})
    );
    // With spaces around it, as a mailer's copy may have it: the same person.
    let body = json!({ "email": format!(" {email}\t") }).to_string();
    let lookup =
        common::mailer::admin_request("POST", "/v1/subjects/lookup", Some(ADMIN_KEY), &body);
    let standing = send(&state, lookup).await.json();
    assert_eq!(standing["purposes"]["new_products"]["state"], "denied");
    assert_eq!(
        standing["purposes"]["new_products"]["set_by"]["record_id"],
        denied["record_id"]
    );
    let subject = state.subject_key.subject_of(&email);
    let suppressed = assent_collector::suppression::list(
        &state.store,
        assent_collector::suppression::optional_purpose("new_products").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        suppressed
            .iter()
            .map(|row| (row.subject.as_str(), row.record_id.as_str()))
            .collect::<Vec<_>>(),
        [(subject.as_str(), denied["record_id"].as_str().unwrap())]
    );
}

#[tokio::test]
async fn one_click_unsubscribe_records_a_denial_once() {
    let (_dir, db) = sqlite();
    links::one_click_unsubscribe(&db).await;
}

/// One unsubscribe link records six denials at once at most (then one each ten minutes):
/// each one-click POST after a choice made on a page since is the person's word again and
/// recorded (a minute's repeat window aside), but whoever saw the URL could otherwise add a
/// record, a receipt and a webhook delivery to the person's every minute for the link's
/// year. Past the bound, a POST is answered as a repeat where the person is unsubscribed
/// already, else 429.
#[tokio::test]
async fn one_unsubscribe_link_records_six_denials_at_once_at_most() {
    let (_dir, db) = sqlite();
    let state = state(&db, 1000, 0).await;
    let email = new_email();
    let link = mint(&state, &email, &["pci.qualys.com"], None);
    let token = links::unsubscribe_token(&link);
    // A grant made now, after the unsubscribes before it: the person's latest word.
    let grant = || {
        let mut body = record(&new_id());
        body["email"] = email.clone().into();
        body["purposes"][0]["state"] = "granted".into();
        body["client_time"] = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
            .into();
        send(&state, common::post_as_admin(body.to_string()))
    };
    let unsubscribes = || async {
        let rows = state.store.page(0, 1000, None).await.unwrap();
        rows.iter()
            .filter(|row| row.body.contains("\"unsubscribe\""))
            .count()
    };
    for _ in 0..6 {
        assert_eq!(grant().await.status, StatusCode::CREATED);
        assert_eq!(send(&state, one_click(token)).await.status, StatusCode::OK);
    }
    assert_eq!(unsubscribes().await, 6);
    // Unsubscribed already: the answer is the same, nothing recorded.
    assert_eq!(send(&state, one_click(token)).await.status, StatusCode::OK);
    // A choice made since: refused for now.
    assert_eq!(grant().await.status, StatusCode::CREATED);
    let refused = send(&state, one_click(token)).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers.contains_key(header::RETRY_AFTER));
    assert_eq!(unsubscribes().await, 6);
    // Another link of the person's has budgets of its own.
    let other = mint(&state, &email, &["pci.qualys.com"], None);
    let reply = send(&state, one_click(links::unsubscribe_token(&other))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(unsubscribes().await, 7);
}

/// One manage link's token stores 30 new records at once at most (then one each ten
/// minutes): each is read again by every identity, lookup, unsubscribe and webhook
/// delivery of the person's, so whoever holds the link must not grow their history
/// without bound. Past it a 429 (the widget keeps the record and retries); a record
/// stored already is still its repeat, and another link of the person's has its own.
#[tokio::test]
async fn one_manage_link_stores_thirty_records_at_once_at_most() {
    let (_dir, state, email) = a_person_at(1000).await;
    let token = mint(&state, &email, &["pci.qualys.com"], None).token;
    let mut first = None;
    for _ in 0..assent_collector::limit::LINK_RECORDS_AT_ONCE {
        let body = links::token_record(&token, "granted", "denied");
        let reply = send(&state, post(body.to_string())).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json());
        first.get_or_insert(body);
    }
    let refused = send(
        &state,
        post(links::token_record(&token, "denied", "denied").to_string()),
    )
    .await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers.contains_key(header::RETRY_AFTER));
    let stored = state.store.page(0, 1000, None).await.unwrap();
    assert_eq!(stored.len(), 30);
    // A browser's retry of a record stored already: its receipt again.
    let again = send(&state, post(first.unwrap().to_string())).await;
    assert_eq!(again.status, StatusCode::OK);
    let other = mint(&state, &email, &["pci.qualys.com"], None).token;
    let reply = send(
        &state,
        post(links::token_record(&other, "denied", "denied").to_string()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(
        links::preferences(&state, &other).await,
        json!({"new_products": "denied", "updates": "denied"})
    );
}

/// RFC 8058 has the POST sent as multipart/form-data (which it recommends) or
/// application/x-www-form-urlencoded: both unsubscribe.
#[tokio::test]
async fn one_click_unsubscribe_takes_either_form_encoding() {
    let (_dir, state, email) = a_person().await;
    let link = mint(&state, &email, &["pci.qualys.com"], None);
    let body = "--AaB03x\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--AaB03x--\r\n";
    let token = links::unsubscribe_token(&link);
    let multipart = links::unsubscribe_as(token, "multipart/form-data; boundary=AaB03x", body);
    let reply = send(&state, multipart).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        links::html(&reply).contains("unsubscribed"),
        "{}",
        links::html(&reply)
    );
    let subject = state.subject_key.subject_of(&email);
    assert_eq!(
        links::rows_of(&state, &subject).await.len(),
        1,
        "one denial"
    );
    // The same click again, form-encoded: made already, nothing added.
    let reply = send(&state, one_click(token)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(links::rows_of(&state, &subject).await.len(), 1);
}

/// RFC 8058's own example (section 8.3, as published, before errata 5117 and 8927), byte
/// for byte, writes its delimiter lines as the boundary parameter without RFC 7578's two
/// hyphens before it; mail software that copied it, or ended its lines with a bare LF,
/// still unsubscribes the person.
#[tokio::test]
async fn one_click_unsubscribe_reads_the_rfcs_own_example() {
    let content_type = "multipart/form-data; boundary=---FormBoundaryjWmhtjORrn";
    let example = "---FormBoundaryjWmhtjORrn\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n---FormBoundaryjWmhtjORrn--\r\n";
    for body in [example.to_owned(), example.replace("\r\n", "\n")] {
        let (_dir, state, email) = a_person().await;
        let link = mint(&state, &email, &["pci.qualys.com"], None);
        let request = links::unsubscribe_as(links::unsubscribe_token(&link), content_type, &body);
        let reply = send(&state, request).await;
        assert_eq!(reply.status, StatusCode::OK, "{body}");
        assert!(links::html(&reply).contains("unsubscribed"));
        let subject = state.subject_key.subject_of(&email);
        assert_eq!(
            links::rows_of(&state, &subject).await.len(),
            1,
            "one denial"
        );
    }
}

#[tokio::test]
async fn a_one_purpose_link_denies_only_that_purpose() {
    let (_dir, db) = sqlite();
    links::one_purpose_unsubscribe(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_click_unsubscribes_at_once_store_one_denial_per_person() {
    let (_dir, db) = sqlite();
    let state = state(&db, 0, 0).await;
    let people: Vec<String> = (0..3).map(|_| new_email()).collect();
    let mut clicks = tokio::task::JoinSet::new();
    for email in &people {
        let link = mint(&state, email, &["pci.qualys.com"], None);
        // A double click, and the mail provider's POST besides.
        for _ in 0..3 {
            let (state, token) = (state.clone(), links::unsubscribe_token(&link).to_owned());
            clicks.spawn(async move { send(&state, one_click(&token)).await.status });
        }
    }
    while let Some(status) = clicks.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    for email in &people {
        let subject = state.subject_key.subject_of(email);
        assert_eq!(
            links::rows_of(&state, &subject).await.len(),
            1,
            "one denial"
        );
    }
}

#[tokio::test]
async fn unsubscribe_refuses_other_bodies_and_bad_tokens_with_a_page() {
    let (_dir, db) = sqlite();
    let state = state(&db, 0, 0).await;
    let email = new_email();
    let token = mint(&state, &email, &["pci.qualys.com"], None).token;
    let multipart = |value: &str| {
        format!(
            "--b0und\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n{value}\r\n--b0und--\r\n"
        )
    };
    let (yes, garbled) = (
        multipart("Yes"),
        multipart("One-Click").replace("--b0und--", ""),
    );
    for (content_type, body) in [
        ("application/json", r#"{"List-Unsubscribe":"One-Click"}"#),
        ("text/plain", "List-Unsubscribe=One-Click"),
        ("application/x-www-form-urlencoded", ""),
        ("application/x-www-form-urlencoded", "List-Unsubscribe=Yes"),
        ("multipart/form-data; boundary=b0und", yes.as_str()),
        ("multipart/form-data", "List-Unsubscribe=One-Click"),
        (
            "multipart/form-data; boundary=other",
            &multipart("One-Click"),
        ),
        ("multipart/form-data; boundary=b0und", garbled.as_str()),
        // A boundary of two hyphens, which the RFC example's reading leaves empty.
        (
            "multipart/form-data; boundary=--",
            "----\r\n\r\nOne-Click\r\n------\r\n",
        ),
    ] {
        let reply = send(&state, links::unsubscribe_as(&token, content_type, body)).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{content_type} {body}"
        );
        assert!(links::html(&reply).contains("Nothing was changed"));
    }
    for (bad, says) in [
        (expired_token(&state, &email), "has expired"),
        (tampered(&token), "is not valid"),
    ] {
        for request in [links::unsubscribe_page(&bad), one_click(&bad)] {
            let reply = send(&state, request).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN);
            let text = links::html(&reply);
            assert!(text.contains(says), "{text}");
            assert!(text.contains("Nothing was changed"), "{text}");
            assert!(!text.contains(&bad));
        }
    }
    assert!(state.store.page(0, 10, None).await.unwrap().is_empty());

    // The page, which changes nothing, is limited per client: anyone who saw the URL
    // spends their own budget on it, not the person's.
    let limited = common::state(&db, 1, 0).await;
    for _ in 0..2 {
        send(&limited, links::unsubscribe_page(&token)).await;
    }
    let page = send(&limited, links::unsubscribe_page(&token)).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    // So is a POST without the one-click body, or with one too large to read.
    let junk = links::unsubscribe_as(&token, "text/plain", "List-Unsubscribe=One-Click");
    assert_eq!(
        send(&limited, junk).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    let form = "application/x-www-form-urlencoded";
    let large = links::unsubscribe_as(&token, form, &"x".repeat(20_000));
    assert_eq!(
        send(&limited, large).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The one-click POST is limited per link, as a page.
    let reply = send(&limited, one_click(&token)).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "the pages and the other POST spent nothing of it"
    );
    let reply = send(&limited, one_click(&token)).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(reply.headers.contains_key(header::RETRY_AFTER));
    links::html(&reply);
    // Not per person: the same person's link of another mail goes through while this URL's
    // budget is spent (by whoever saw it, looping).
    let another_mail = mint(&limited, &email, &["pci.qualys.com"], Some("updates"));
    let reply = send(&limited, one_click(links::unsubscribe_token(&another_mail))).await;
    assert_eq!(reply.status, StatusCode::OK);
    // Other people's links from the same client (a mail provider's server) go through.
    for _ in 0..3 {
        let other = mint(&limited, &new_email(), &["pci.qualys.com"], None);
        let reply = send(&limited, one_click(links::unsubscribe_token(&other))).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    // Links that don't verify are limited per client, whose budget the pages spent.
    let reply = send(&limited, one_click(&tampered(&token))).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);

    // The metrics name the route pattern, never the token.
    let text = metrics(&state).await;
    assert!(text.contains("route=\"/v1/unsubscribe/{token}\""), "{text}");
    assert!(!text.contains(&token));
    assert!(
        text.contains("assent_records_rejected_total{reason=\"token_expired\"} 2"),
        "{text}"
    );
}

/// A new link key (`keygen --rotate --link-key`): the links minted before it, in mail
/// already sent, still open the preferences and unsubscribe once the server has restarted
/// with it; new links are signed with it, and a running server takes them once its file
/// is whole; taking the old key's line out of the file revokes the old links.
#[tokio::test]
async fn a_rotated_link_key_keeps_the_links_already_sent() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let (db, subject_key, link_key) = (path("records.db"), path("subject.key"), path("link.key"));
    let keys = ["--subject-key", &subject_key, "--link-key", &link_key];
    let mint = |email: &str| -> Value {
        let args = [
            "link",
            "--email",
            email,
            "--page",
            "https://pci.qualys.com/",
            "--site",
            "pci.qualys.com",
            "--public-url",
            "https://consent.qualys.com",
        ];
        let minted = process::run(&[&args[..], &keys[..]].concat());
        assert!(
            minted.status.success(),
            "{}",
            String::from_utf8_lossy(&minted.stderr)
        );
        serde_json::from_slice(&minted.stdout).unwrap()
    };
    let kid = |link: &Value| -> Value {
        let head = link["token"].as_str().unwrap().split('.').next().unwrap();
        let head = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, head);
        serde_json::from_slice::<Value>(&head.unwrap()).unwrap()["kid"].clone()
    };
    let client = reqwest::Client::new();
    let identify = |server: &Server, link: &Value| {
        let request = client
            .post(format!("http://{}/v1/identity", server.addr))
            .header("content-type", "text/plain")
            .body(json!({"token": link["token"], "site": "pci.qualys.com"}).to_string());
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let unsubscribe = |server: &Server, link: &Value| {
        let url = link["unsubscribe_url"].as_str().unwrap();
        let path = url.strip_prefix("https://consent.qualys.com").unwrap();
        let request = client
            .post(format!("http://{}{path}", server.addr))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click");
        async move { request.send().await.unwrap().status().as_u16() }
    };

    // The server makes the keys at its first start; a link is minted and sent.
    let log = path("serve.log");
    let server = Server::start_logging(&db, &keys, &log);
    let sent = mint("jo@example.com");
    // A rotation of two rings, one of them not there, changes neither (the receipt key's
    // is rotated first).
    let receipt_key = path("receipt.key");
    assert!(process::run(&["keygen", "--receipt-key", &receipt_key])
        .status
        .success());
    let missing = path("missing.key");
    let half = [
        "keygen",
        "--rotate",
        "--receipt-key",
        &receipt_key,
        "--link-key",
        &missing,
    ];
    assert!(!process::run(&half).status.success());
    let lines = |file: &str| std::fs::read_to_string(file).unwrap().lines().count();
    assert_eq!(lines(&receipt_key), 1, "the receipt ring left as it was");
    let rotated = process::run(&["keygen", "--rotate", "--link-key", &link_key]);
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    let ring = std::fs::read_to_string(&link_key).unwrap();
    assert_eq!(ring.lines().count(), 2, "the old key and the new");
    // Minted with the new key before the server restarts: it reads its ring again.
    let later = mint("ada@example.com");
    assert_ne!(
        kid(&later),
        kid(&sent),
        "new links are signed with the new key"
    );
    assert!(kid(&later).is_string());
    // The file half copied (as `cp` writes one in place) when the new key's first token
    // comes: the token can't be checked, which is not a refusal (a 503, tried again; as
    // invalid, its page's record was stored under no one), and it is taken once the file
    // is whole. Logged as a warning, not as an error to alert on.
    std::fs::write(&link_key, &ring[..ring.len() - 10]).unwrap();
    assert_eq!(
        identify(&server, &later).await,
        503,
        "unchecked, not invalid"
    );
    // (Cut elsewhere: read again, and found unreadable, by this request itself.)
    std::fs::write(&link_key, &ring[..ring.len() - 5]).unwrap();
    assert_eq!(unsubscribe(&server, &later).await, 503);
    std::fs::write(&link_key, &ring).unwrap();
    assert_eq!(identify(&server, &later).await, 200);
    drop(server);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("unavailable for now"), "{logged}");
    assert!(
        // (The level as written, coloured; nothing else in this log says ERROR.)
        !logged.contains("ERROR"),
        "{logged}"
    );

    let server = Server::start(&db, &keys);
    assert_eq!(
        identify(&server, &sent).await,
        200,
        "the link sent opens the preferences"
    );
    assert_eq!(unsubscribe(&server, &sent).await, 200, "and unsubscribes");
    assert_eq!(identify(&server, &later).await, 200);
    drop(server);

    // The old key's line taken out: its links are revoked, the new key's still work.
    std::fs::write(&link_key, format!("{}\n", ring.lines().nth(1).unwrap())).unwrap();
    let server = Server::start(&db, &keys);
    assert_eq!(identify(&server, &sent).await, 403, "revoked");
    assert_eq!(identify(&server, &later).await, 200);
}

/// The real binary: `link` prints the link; a server on the same keys honours it, and its
/// debug log and metrics never hold the token or the address.
#[tokio::test]
async fn cli_link_is_honoured_by_the_server_and_never_logged() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let (db, subject_key, link_key, log) = (
        path("records.db"),
        path("subject.key"),
        path("link.key"),
        path("serve.log"),
    );
    let keys = ["--subject-key", &subject_key, "--link-key", &link_key];
    let link = |extra: &[&str]| {
        let args = [
            &[
                "link",
                "--email",
                "Jo@Example.com",
                "--page",
                "https://pci.qualys.com/",
            ],
            extra,
            &keys[..],
        ]
        .concat();
        process::run(&args)
    };

    let missing_site = link(&["--public-url", "http://127.0.0.1:1"]);
    assert!(!missing_site.status.success());
    assert!(String::from_utf8_lossy(&missing_site.stderr).contains("--site"));
    let bad_page = process::run(
        &[
            &[
                "link",
                "--email",
                "jo@example.com",
                "--page",
                "http://pci.qualys.com/",
            ],
            &[
                "--site",
                "pci.qualys.com",
                "--public-url",
                "http://127.0.0.1:1",
            ][..],
            &keys[..],
        ]
        .concat(),
    );
    assert!(!bad_page.status.success());
    assert!(String::from_utf8_lossy(&bad_page.stderr).contains("page must be an https URL"));

    // Before the server has made its keys, `link` makes none of its own: a link signed or
    // naming its person under another key would fail, or be someone else's.
    let no_keys = link(&[
        "--site",
        "pci.qualys.com",
        "--public-url",
        "http://127.0.0.1:1",
    ]);
    assert!(!no_keys.status.success());
    let said = String::from_utf8_lossy(&no_keys.stderr);
    assert!(said.contains("does not exist"), "{said}");
    assert!(
        !std::path::Path::new(&subject_key).exists() && !std::path::Path::new(&link_key).exists(),
        "no key file made"
    );

    // The server first: it creates the keys the CLI then reuses.
    let server = Server::start_logging(
        &db,
        &[&keys[..], &["--public-url", "http://127.0.0.1:9"]].concat(),
        &log,
    );
    let public = format!("http://{}", server.addr);
    let minted = link(&[
        "--site",
        "www.qualys.com",
        "--site",
        "pci.qualys.com",
        "--ttl",
        "90m",
        "--public-url",
        &public,
        "--database",
        &db,
    ]);
    assert!(
        minted.status.success(),
        "{}",
        String::from_utf8_lossy(&minted.stderr)
    );
    let stdout = String::from_utf8(minted.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    assert!(stdout.starts_with("{\"token\":"), "{stdout}");
    let minted: Value = serde_json::from_str(&stdout).unwrap();
    let token = minted["token"].as_str().unwrap().to_owned();
    assert_eq!(
        minted["manage_url"],
        format!("https://pci.qualys.com/#assent={token}")
    );
    assert_eq!(minted["hint"], "j•••@example.com");
    assert_eq!(minted["sites"], json!(["www.qualys.com", "pci.qualys.com"]));
    assert!(minted["expires_at"].is_string());
    let unsubscribe_url = minted["unsubscribe_url"].as_str().unwrap();
    assert!(
        unsubscribe_url.starts_with(&format!("{public}/v1/unsubscribe/")),
        "{unsubscribe_url}"
    );

    // As curl -X POST -d List-Unsubscribe=One-Click <url> sends it.
    let client = reqwest::Client::new();
    let reply = client
        .post(unsubscribe_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    assert!(reply.text().await.unwrap().contains("You are unsubscribed"));
    let identity = client
        .post(format!("{public}/v1/identity"))
        .header("content-type", "text/plain")
        .body(json!({"token": token, "site": "pci.qualys.com"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(identity.status().as_u16(), 200);
    let identity: Value = identity.json().await.unwrap();
    assert_eq!(identity["preferences"]["updates"], "denied");
    // The seconds the 90-minute link has left, for a widget whose clock is off.
    let left = identity["expires_in"].as_i64().unwrap();
    assert!((90 * 60 - 60..=90 * 60).contains(&left), "{identity}");
    let metrics = client
        .get(format!("{public}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    drop(server);

    let exported = process::export(&db);
    assert_eq!(exported.len(), 1);
    assert_eq!(exported[0]["record"]["source"], "unsubscribe");
    assert_eq!(exported[0]["record"]["site"], "www.qualys.com");
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("/v1/unsubscribe/{token}"),
        "the debug log is on: {log}"
    );
    // The manage token went in a body, the unsubscribe token in the request's path.
    let unsubscribe_token = unsubscribe_url.rsplit('/').next().unwrap();
    assert!(unsubscribe_token.len() > 20, "{unsubscribe_url}");
    for text in [&log, &metrics] {
        assert!(!text.contains(&token), "the manage token leaked");
        assert!(
            !text.contains(unsubscribe_token),
            "the unsubscribe token leaked"
        );
        assert!(!text.to_lowercase().contains("jo@example.com"));
    }
}

#[test]
fn a_bad_public_url_stops_the_start_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    for bad in [
        "ftp://consent.example",
        "https://consent.example/?x=1",
        "consent.example",
    ] {
        let output = process::run(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            db.to_str().unwrap(),
            "--public-url",
            bad,
        ]);
        assert!(!output.status.success(), "{bad} started");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("public URL must be"), "{bad}: {stderr}");
    }
}

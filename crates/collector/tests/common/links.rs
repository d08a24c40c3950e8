//! Manage links, identity and one-click unsubscribe: helpers, and the scenarios that store
//! records, run the same against SQLite and PostgreSQL.

use assent_collector::link::{self, Link, LinkRequest};
use assent_collector::receipt::{self, ReceiptKey};
use assent_collector::standing::Standing;
use assent_collector::store::{Database, Stored};
use assent_collector::token::{LinkClaims, Ttl};
use assent_collector::AppState;
use assent_record::{ConsentState, PurposeId, Source};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};

use super::{new_id, post, record, send, state, Reply, ORIGIN, RECEIPT_SEED};

/// A fresh address, so scenarios sharing a database don't see each other's subjects.
pub fn new_email() -> String {
    format!("Jo.{}@Example.com", &new_id()[..8])
}

/// A link minted through the library with the state's keys.
pub fn mint(state: &AppState, email: &str, sites: &[&str], purpose: Option<&str>) -> Link {
    let sites: Vec<String> = sites.iter().map(|s| (*s).to_owned()).collect();
    let request = LinkRequest::new(
        email,
        &sites,
        "https://pci.qualys.com/account",
        purpose,
        Ttl::default(),
        &state.allowed_origins,
    )
    .unwrap();
    link::mint(
        &state.link_key,
        &state.subject_key,
        &state.public_url,
        request,
    )
    .unwrap()
}

/// A token for `email` that expired a minute ago, signed with the state's key.
pub fn expired_token(state: &AppState, email: &str) -> String {
    expired(state, &mint(state, email, &["pci.qualys.com"], None).token)
}

/// The same token (any scope, any sites) minted again, expired a minute ago.
pub fn expired(state: &AppState, token: &str) -> String {
    let mut claims: LinkClaims = state.link_key.verify_for_unsubscribe(token).unwrap();
    claims.exp = time::OffsetDateTime::now_utc().unix_timestamp() - 60;
    state.link_key.mint(&claims).unwrap()
}

/// The token with one character of its payload changed.
pub fn tampered(token: &str) -> String {
    let at = token.find('.').unwrap() + 6;
    let mut chars: Vec<char> = token.chars().collect();
    chars[at] = if chars[at] == 'x' { 'y' } else { 'x' };
    chars.into_iter().collect()
}

/// `POST /v1/identity` as the widget sends it.
pub fn identity(token: &str, site: &str) -> Request<Body> {
    Request::post("/v1/identity")
        .header("content-type", "text/plain;charset=UTF-8")
        .header("origin", ORIGIN)
        .body(Body::from(
            json!({ "token": token, "site": site }).to_string(),
        ))
        .unwrap()
}

/// The preferences identity reports for a token on pci.qualys.com.
pub async fn preferences(state: &AppState, token: &str) -> Value {
    let reply = send(state, identity(token, "pci.qualys.com")).await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.json()["preferences"].clone()
}

/// A record saved through a manage link: `states` for new_products and updates.
pub fn token_record(token: &str, new_products: &str, updates: &str) -> Value {
    let mut body = record(&new_id());
    body["purposes"][0]["state"] = new_products.into();
    body["purposes"][1]["state"] = updates.into();
    body["subject_token"] = token.into();
    body
}

/// `GET /v1/unsubscribe/{token}`.
pub fn unsubscribe_page(token: &str) -> Request<Body> {
    Request::get(format!("/v1/unsubscribe/{token}"))
        .body(Body::empty())
        .unwrap()
}

/// `POST /v1/unsubscribe/{token}` with this content type and body.
pub fn unsubscribe_as(token: &str, content_type: &str, body: &str) -> Request<Body> {
    Request::post(format!("/v1/unsubscribe/{token}"))
        .header("content-type", content_type)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

/// The token of a link's unsubscribe URL (good for unsubscribing only).
pub fn unsubscribe_token(link: &Link) -> &str {
    link.unsubscribe_url.rsplit('/').next().unwrap()
}

/// The RFC 8058 one-click POST, as a mail provider sends it.
pub fn one_click(token: &str) -> Request<Body> {
    unsubscribe_as(
        token,
        "application/x-www-form-urlencoded",
        "List-Unsubscribe=One-Click",
    )
}

/// The subject's stored rows.
pub async fn rows_of(state: &AppState, subject: &str) -> Vec<Stored> {
    state.store.page(0, 1000, Some(subject)).await.unwrap()
}

/// The page text of an HTML answer, checking the headers every page carries.
pub fn html(reply: &Reply) -> String {
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    let csp = reply.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("form-action 'self'"), "{csp}");
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(reply.headers[header::REFERRER_POLICY], "no-referrer");
    assert!(reply.headers.get(header::SET_COOKIE).is_none());
    let text = String::from_utf8(reply.body.clone()).unwrap();
    assert!(
        text.starts_with("<!DOCTYPE html><html lang=\"en\">"),
        "{text}"
    );
    assert!(!text.contains("<script"), "{text}");
    text
}

/// A record saved through a manage link is stored under the token's subject, without the
/// token; identity then reports the person's preferences. Returns the address and token.
pub async fn records_under_the_token_subject(database: &Database) -> (String, String) {
    let state = state(database, 0, 0).await;
    let email = new_email();
    let link = mint(&state, &email, &["pci.qualys.com", "www.qualys.com"], None);
    let subject = state.subject_key.subject_of(&email);

    let before = send(&state, identity(&link.token, "www.qualys.com")).await;
    assert_eq!(before.status, StatusCode::OK);
    let before = before.json();
    assert_eq!(before["preferences"], json!({}));
    assert_eq!(before["hint"], "j•••@example.com");
    assert_eq!(before["sites"], json!(["pci.qualys.com", "www.qualys.com"]));
    assert_eq!(before["expires_at"], link.expires_at.as_str());
    assert!(before.get("purpose").is_none());

    let body = token_record(&link.token, "granted", "denied");
    let created = send(&state, post(body.to_string())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json());
    // The same POST again is the same record under the same subject.
    assert_eq!(
        send(&state, post(body.to_string())).await.status,
        StatusCode::OK
    );

    let rows = rows_of(&state, &subject).await;
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].body.contains("subject_token"), "{}", rows[0].body);
    assert!(!rows[0].body.contains(&link.token));
    assert!(!rows[0].body.to_lowercase().contains(&email.to_lowercase()));

    assert_eq!(
        preferences(&state, &link.token).await,
        json!({"new_products": "granted", "updates": "denied"})
    );
    (email, link.token)
}

/// GET changes nothing; the POST records a denial with a receipt, and a replay adds
/// nothing more.
pub async fn one_click_unsubscribe(database: &Database) {
    let state = state(database, 0, 0).await;
    let email = new_email();
    let link = mint(&state, &email, &["www.qualys.com"], None);
    let token = unsubscribe_token(&link);
    let subject = state.subject_key.subject_of(&email);

    let page = send(&state, unsubscribe_page(token)).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = html(&page);
    assert!(text.contains("<title>Unsubscribe</title>"), "{text}");
    assert!(text.contains("<form method=\"post\">"), "{text}");
    assert!(
        text.contains("<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"),
        "{text}"
    );
    assert_eq!(text.matches("<button").count(), 1, "{text}");
    assert!(text.contains("j•••@example.com"), "{text}");
    assert!(!text.contains(token), "the token stays in the address");
    assert!(
        rows_of(&state, &subject).await.is_empty(),
        "a GET changed something"
    );

    let done = send(&state, one_click(token)).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(html(&done).contains("You are unsubscribed"));
    let rows = rows_of(&state, &subject).await;
    assert_eq!(rows.len(), 1);
    let record: Value = serde_json::from_str(&rows[0].body).unwrap();
    assert_eq!(record["source"], "unsubscribe");
    assert_eq!(record["site"], "www.qualys.com");
    assert_eq!(record["widget_version"], "collector-0.1.2");
    assert_eq!(record["notice"]["id"], "qualys-privacy-highlights");
    let claims = receipt::verify(
        &rows[0].receipt,
        &ReceiptKey::from_seed(RECEIPT_SEED).verifying_key(),
    )
    .unwrap();
    assert_eq!(
        (claims.seq, claims.digest.as_str()),
        (rows[0].seq, rows[0].digest.as_str())
    );

    let standing = Standing::of_subject(&state.store, &subject).await.unwrap();
    for purpose in PurposeId::ALL.into_iter().filter(|p| p.is_optional()) {
        assert_eq!(standing.state_of(purpose), Some(ConsentState::Denied));
        assert_eq!(
            standing.purposes[&purpose].set_by.source,
            Source::Unsubscribe
        );
    }

    let replay = send(&state, one_click(token)).await;
    assert_eq!(replay.status, StatusCode::OK);
    assert!(html(&replay).contains("You are unsubscribed"));
    assert_eq!(
        rows_of(&state, &subject).await.len(),
        1,
        "a replay added a record"
    );
}

/// A link minted for one purpose denies that purpose only, under the notice the person
/// last saw.
pub async fn one_purpose_unsubscribe(database: &Database) {
    let state = state(database, 0, 0).await;
    let email = new_email();
    let manage = mint(&state, &email, &["pci.qualys.com"], None);
    let subject = state.subject_key.subject_of(&email);
    let saved = token_record(&manage.token, "granted", "granted");
    assert_eq!(
        send(&state, post(saved.to_string())).await.status,
        StatusCode::CREATED
    );

    let updates_only = mint(&state, &email, &["pci.qualys.com"], Some("updates"));
    let page = html(&send(&state, unsubscribe_page(unsubscribe_token(&updates_only))).await);
    assert!(page.contains("“Updates” e-mails"), "{page}");
    assert_eq!(
        send(&state, one_click(unsubscribe_token(&updates_only)))
            .await
            .status,
        StatusCode::OK
    );
    let rows = rows_of(&state, &subject).await;
    assert_eq!(rows.len(), 2);
    let denial: Value = serde_json::from_str(&rows[1].body).unwrap();
    assert_eq!(denial["source"], "unsubscribe");
    assert_eq!(denial["notice"], saved["notice"]);
    assert_eq!(
        denial["purposes"],
        json!([
            {"purpose": "new_products", "basis": "consent", "state": "granted"},
            {"purpose": "updates", "basis": "consent", "state": "denied"},
            {"purpose": "security", "basis": "contract"}
        ])
    );
    assert_eq!(
        preferences(&state, &manage.token).await,
        json!({"new_products": "granted", "updates": "denied"})
    );
    // Its identity says which purpose it is for.
    let one = send(
        &state,
        self::identity(&updates_only.token, "pci.qualys.com"),
    )
    .await
    .json();
    assert_eq!(one["purpose"], "updates");
}

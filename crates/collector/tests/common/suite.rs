//! Storage tests that run the same against SQLite and PostgreSQL.

use std::collections::HashSet;

use assent_collector::commands::walk;
use assent_collector::receipt::{self, PublicKeys, ReceiptKey};
use assent_collector::store::Database;
use axum::http::{Request, StatusCode};
use sqlx::Executor;

use super::{new_id, post, record, send, serve, state, ORIGIN, RECEIPT_SEED};

/// 100 identical POSTs at once over real sockets: one row, one 201, one receipt; then the
/// same id with another body is a 409.
pub async fn idempotent_under_concurrent_posts(database: &Database) {
    let state = state(database, 0, 0).await;
    let addr = serve(state.clone()).await;
    let id = new_id();
    let body = record(&id).to_string();
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (client, body) = (client.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(format!("http://{addr}/v1/records"))
                .header("content-type", "application/json")
                .header("origin", ORIGIN)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let json: serde_json::Value = response.json().await.unwrap();
            (
                status,
                json["receipt"].as_str().unwrap_or_default().to_owned(),
            )
        }));
    }
    let mut created = 0;
    let mut receipts = HashSet::new();
    for task in tasks {
        let (status, receipt) = task.await.unwrap();
        assert!(status == 200 || status == 201, "status {status}");
        created += usize::from(status == 201);
        receipts.insert(receipt);
    }
    assert_eq!(created, 1);
    assert_eq!(receipts.len(), 1, "every answer carries the same receipt");

    let rows = state.store.page(0, 1000, None).await.unwrap();
    assert_eq!(rows.iter().filter(|r| r.record_id == id).count(), 1);

    let mut changed = record(&id);
    changed["gpc"] = true.into();
    let reply = send(&state, post(changed.to_string())).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.json()["error"], "record_conflict");
    assert!(walk(&state.store, None).await.unwrap().is_ok());
}

/// The table refuses UPDATE and DELETE; a row changed behind the triggers' back breaks the
/// chain at that row. `bypass` is the dialect's statement that disables the trigger.
pub async fn chain_detects_a_modified_row(database: &Database, url: &str, bypass: &str) {
    let state = state(database, 0, 0).await;
    // Earlier tests may have stored rows in this database already.
    let before = walk(&state.store, None).await.unwrap().unwrap().verified;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let id = new_id();
        assert_eq!(
            send(&state, post(record(&id).to_string())).await.status,
            StatusCode::CREATED
        );
        ids.push(id);
    }
    let key = PublicKeys::one(ReceiptKey::from_seed(RECEIPT_SEED).verifying_key());
    let good = walk(&state.store, Some(&key)).await.unwrap().unwrap();
    assert_eq!(good.verified, before + 3);

    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let flip = format!(
        "UPDATE records SET body = replace(body, 'denied', 'granted') WHERE record_id = '{}'",
        ids[1]
    );
    assert!(
        pool.execute(flip.as_str()).await.is_err(),
        "UPDATE must be refused"
    );
    assert!(
        pool.execute("DELETE FROM records").await.is_err(),
        "DELETE must be refused"
    );

    pool.execute(bypass).await.unwrap();
    pool.execute(flip.as_str()).await.unwrap();
    pool.close().await;
    let broken = walk(&state.store, Some(&key)).await.unwrap().unwrap_err();
    assert_eq!((broken.seq, broken.verified), (before + 2, before + 1));
    assert_eq!(broken.record_id, ids[1]);
    assert!(broken.reason.contains("digest"), "{}", broken.reason);
}

/// A stored record's receipt, fetched again, verifies with the published key and states
/// what was stored; a tampered copy does not verify.
pub async fn receipts_verify(database: &Database) {
    let state = state(database, 0, 0).await;
    let id = new_id();
    let mut body = record(&id);
    body["email"] = "Ada@Example.com".into();
    let created = send(&state, post(body.to_string())).await.json();
    let again = send(
        &state,
        Request::get(format!("/v1/records/{id}/receipt"))
            .body(Default::default())
            .unwrap(),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json(), created);

    let jwks = send(
        &state,
        Request::get("/.well-known/assent-receipt-key")
            .body(Default::default())
            .unwrap(),
    )
    .await;
    let key =
        receipt::verifying_key_from_b64(jwks.json()["keys"][0]["x"].as_str().unwrap()).unwrap();
    let token = created["receipt"].as_str().unwrap();
    let claims = receipt::verify(token, &key).unwrap();
    assert_eq!(claims.record_id, id);
    assert_eq!(claims.site, "pci.qualys.com");
    assert_eq!(
        claims.notice.hash.as_str(),
        format!("sha256:{}", "ab".repeat(32))
    );
    assert_eq!(claims.chain_hash, created["chain_hash"]);
    assert_eq!(claims.received_at, created["received_at"]);

    let mut tampered = token.to_owned();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert!(receipt::verify(&tampered, &key).is_err());

    // The address is not stored, only its keyed hash.
    let row = state.store.get(&id).await.unwrap().unwrap();
    assert!(!row.body.to_lowercase().contains("ada@example.com"));
    assert!(row.subject.unwrap().starts_with("hmac-sha256:"));
}

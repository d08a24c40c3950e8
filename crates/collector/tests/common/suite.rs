//! Storage tests that run the same against SQLite and PostgreSQL.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

use assent_collector::commands::walk;
use assent_collector::receipt::{self, PublicKeys, ReceiptKey};
use assent_collector::store::Database;
use axum::http::{Request, StatusCode};
use sqlx::Executor;

use super::{new_id, post, post_as_admin, record, send, serve, state, ORIGIN, RECEIPT_SEED};

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
            let (status, answer) = post_to(&client, addr, body).await;
            let json: serde_json::Value = serde_json::from_str(&answer).unwrap();
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

/// POSTs `body` as a record from the allowed origin to a served collector: the status
/// and the answer's text.
async fn post_to(client: &reqwest::Client, addr: SocketAddr, body: String) -> (u16, String) {
    let response = client
        .post(format!("http://{addr}/v1/records"))
        .header("content-type", "application/json")
        .header("origin", ORIGIN)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Many ids at once, each POSTed several times and once with another body, all
/// concurrently (so repeats and conflicts land in one commit batch as well as in
/// different ones): per id one 201, every repeat of its body a 200 with the same answer,
/// the other body a 409 (or the 201, with the repeats then 409s if it came first); the
/// chain holds one row per id and verifies.
pub async fn repeats_and_conflicts_under_concurrent_posts(database: &Database) {
    let state = state(database, 0, 0).await;
    let addr = serve(state.clone()).await;
    let client = reqwest::Client::new();
    let before = walk(&state.store, None).await.unwrap().unwrap().verified;
    let ids: Vec<String> = (0..24).map(|_| new_id()).collect();
    let mut tasks = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let same = record(id).to_string();
        let mut other = record(id);
        other["gpc"] = true.into();
        let mut bodies = vec![same.clone(), same.clone(), same, other.to_string()];
        bodies.rotate_left(n % 4);
        for body in bodies {
            let (client, id) = (client.clone(), id.clone());
            tasks.push(tokio::spawn(async move {
                let (status, answer) = post_to(&client, addr, body.clone()).await;
                (id, body, status, answer)
            }));
        }
    }
    let mut answers: HashMap<String, Vec<(String, u16, String)>> = HashMap::new();
    for task in tasks {
        let (id, body, status, answer) = task.await.unwrap();
        answers.entry(id).or_default().push((body, status, answer));
    }
    for (id, answers) in &answers {
        let created: Vec<_> = answers.iter().filter(|a| a.1 == 201).collect();
        assert_eq!(created.len(), 1, "{id}: one 201 in {answers:?}");
        let (stored_body, _, receipt) = created[0];
        for (body, status, answer) in answers {
            if body == stored_body {
                assert!(
                    *status == 201 || (*status == 200 && answer == receipt),
                    "{id}: {answers:?}"
                );
            } else {
                assert_eq!(*status, 409, "{id}: {answers:?}");
            }
        }
    }
    let chain = walk(&state.store, None).await.unwrap().unwrap();
    assert_eq!(chain.verified, before + ids.len() as i64);
}

/// The table refuses UPDATE and DELETE, and the dialect's `replaces` (statements that write
/// a row over another, `{id}` standing for a stored record's id); a row changed behind the
/// triggers' back breaks the chain at that row. `bypass` is the dialect's statement that
/// disables the trigger.
pub async fn chain_detects_a_modified_row(
    database: &Database,
    url: &str,
    replaces: &[&str],
    bypass: &str,
) {
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
    for replace in replaces {
        let replace = replace.replace("{id}", &ids[1]);
        assert!(
            pool.execute(replace.as_str()).await.is_err(),
            "must be refused: {replace}"
        );
    }
    let whole = walk(&state.store, Some(&key)).await.unwrap().unwrap();
    assert_eq!(whole.verified, before + 3, "every row as it was stored");

    pool.execute(bypass).await.unwrap();
    // The last row's body written out again with the same meaning (as a jsonb round trip
    // would): no longer the bytes its digest is the SHA-256 of.
    let respaced = format!(
        "UPDATE records SET body = replace(body, '\":', '\": ') WHERE record_id = '{}'",
        ids[2]
    );
    pool.execute(respaced.as_str()).await.unwrap();
    let broken = walk(&state.store, Some(&key)).await.unwrap().unwrap_err();
    assert_eq!((broken.seq, broken.verified), (before + 3, before + 2));
    assert!(broken.reason.contains("canonical"), "{}", broken.reason);

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
    let created = send(&state, post_as_admin(body.to_string())).await.json();
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

    // One character in the middle of the signature: still base64url (its last character
    // has padding bits, which a strict decoder refuses before any signature check).
    let at = token.rfind('.').unwrap() + 10;
    let flipped = if &token[at..=at] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &token[..at], &token[at + 1..]);
    assert_eq!(
        receipt::verify(&tampered, &key).unwrap_err(),
        receipt::ReceiptError::Signature
    );

    // The address is not stored, only its keyed hash.
    let row = state.store.get(&id).await.unwrap().unwrap();
    assert!(!row.body.to_lowercase().contains("ada@example.com"));
    assert!(row.subject.unwrap().starts_with("hmac-sha256:"));
}

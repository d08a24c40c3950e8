//! Storage behaviour on a real SQLite file, over real sockets.

mod common;

use common::{sqlite, suite};

#[tokio::test]
async fn idempotent_under_concurrent_posts() {
    let (_dir, db) = sqlite();
    suite::idempotent_under_concurrent_posts(&db).await;
}

#[tokio::test]
async fn repeats_and_conflicts_under_concurrent_posts() {
    let (_dir, db) = sqlite();
    suite::repeats_and_conflicts_under_concurrent_posts(&db).await;
}

#[tokio::test]
async fn chain_detects_a_modified_row() {
    let (_dir, db) = sqlite();
    let url = common::sqlite_url(&db);
    // REPLACE deletes the row it writes over without firing a delete trigger (unless
    // recursive_triggers is on): over its seq, or under a new seq with its record_id.
    let replaces = [
        "INSERT OR REPLACE INTO records SELECT seq, record_id, site, subject, \
         replace(body, 'denied', 'granted'), digest, prev_hash, chain_hash, received_at, \
         receipt FROM records WHERE record_id = '{id}'",
        "REPLACE INTO records SELECT (SELECT max(seq) FROM records) + 1, record_id, site, \
         subject, body, digest, prev_hash, chain_hash, received_at, receipt FROM records \
         WHERE record_id = '{id}'",
    ];
    suite::chain_detects_a_modified_row(&db, &url, &replaces, "DROP TRIGGER records_no_update")
        .await;
}

#[tokio::test]
async fn receipts_verify() {
    let (_dir, db) = sqlite();
    suite::receipts_verify(&db).await;
}

#[tokio::test]
async fn the_file_is_in_wal_mode_and_reopens() {
    let (_dir, db) = sqlite();
    let first = common::state(&db, 0, 0).await;
    first.store.close().await;
    let again = common::state(&db, 0, 0).await;
    assert!(again.store.ping().await.is_ok());
    let pool = sqlx::AnyPool::connect(&common::sqlite_url(&db))
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn chain_detects_a_row_moved_to_another_site() {
    use assent_collector::commands::walk;
    use axum::http::StatusCode;
    use common::{new_id, post, record, send, state};

    let (_dir, db) = sqlite();
    let state = state(&db, 0, 0).await;
    let ids: Vec<String> = (0..2).map(|_| new_id()).collect();
    for id in &ids {
        let reply = send(&state, post(record(id).to_string())).await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    // The site column is what a per-site export or suppression list selects on; it is not
    // in the link, so it must agree with the signed body.
    let moved = format!(
        "UPDATE records SET site = 'www.qualys.com' WHERE record_id = '{}'",
        ids[1]
    );
    common::behind_the_triggers(&db, &moved).await;
    let broken = walk(&state.store, None).await.unwrap().unwrap_err();
    assert_eq!((broken.seq, broken.verified), (2, 1));
    assert!(broken.reason.contains("site"), "{}", broken.reason);
}

/// A stored body this collector can't read (a later version's, sharing the database, or
/// one changed behind the triggers) is an error for everything made of the records, not a
/// record left out: the suppression list, a person's standing and the feed would each miss
/// what may be the person's latest word, and the feed's cursor would pass it for good.
#[tokio::test]
async fn an_unreadable_body_is_an_error_not_a_record_left_out() {
    use assent_collector::store::StoreError;
    use assent_collector::{changes, standing::Standing, suppression};

    let (_dir, db) = sqlite();
    let state = common::state(&db, 0, 0).await;
    // Two of Ada's records: a grant of updates, then one this collector will not read
    // (which may have denied them).
    for updates in ["granted", "denied"] {
        let mut body = common::record(&common::new_id());
        body["email"] = "ada@example.com".into();
        body["purposes"][1]["state"] = updates.into();
        let stored = common::send(&state, common::post_as_admin(body.to_string())).await;
        assert_eq!(stored.status, axum::http::StatusCode::CREATED);
    }
    let subject = state.subject_key.subject_of("ada@example.com");
    assert!(Standing::of_subject(&state.store, &subject).await.is_ok());

    common::behind_the_triggers(
        &db,
        "UPDATE records SET body = replace(body, '\"purposes\"', '\"later_purposes\"') WHERE seq = 2",
    )
    .await;
    let unreadable =
        |outcome: Result<_, StoreError>| matches!(outcome, Err(StoreError::Unreadable { seq: 2 }));
    let purpose = assent_record::PurposeId::NewProducts;
    assert!(unreadable(
        suppression::list(&state.store, purpose).await.map(drop)
    ));
    assert!(unreadable(
        Standing::of_subject(&state.store, &subject).await.map(drop)
    ));
    assert!(unreadable(
        changes::page(&state.store, 0, 10).await.map(drop)
    ));

    // Their manage link is refused rather than answered with preferences that may not be
    // theirs (the widget would start from them, and a save state them); their one-click
    // unsubscribe from new products is still recorded (a failed one is never shown to
    // them), restating nothing: not the readable grant of updates, which the unreadable
    // record may have undone.
    let link = common::links::mint(
        &state,
        "ada@example.com",
        &["pci.qualys.com"],
        Some("new_products"),
    );
    let request = common::links::identity(&link.token, "pci.qualys.com");
    let identity = common::send(&state, request).await;
    assert_eq!(
        identity.status,
        axum::http::StatusCode::INTERNAL_SERVER_ERROR
    );
    let unsubscribe = common::links::unsubscribe_token(&link);
    let done = common::send(&state, common::links::one_click(unsubscribe)).await;
    assert_eq!(done.status, axum::http::StatusCode::OK);
    let rows = state.store.page(0, 10, None).await.unwrap();
    assert_eq!(rows.len(), 3, "the denial is stored");
    let denial: assent_record::ConsentRecord = serde_json::from_str(&rows[2].body).unwrap();
    // (The mandatory purposes, not a choice, are stated without one.)
    let states: Vec<_> = denial
        .purposes
        .iter()
        .filter_map(|p| Some((p.purpose(), p.state()?)))
        .collect();
    assert_eq!(
        states,
        [(purpose, assent_record::ConsentState::Denied)],
        "new products denied, nothing else stated"
    );
}

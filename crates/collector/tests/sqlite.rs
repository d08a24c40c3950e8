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
    suite::chain_detects_a_modified_row(&db, &url, "DROP TRIGGER records_no_update").await;
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
    use sqlx::Executor;

    let (_dir, db) = sqlite();
    let state = state(&db, 0, 0).await;
    let ids: Vec<String> = (0..2).map(|_| new_id()).collect();
    for id in &ids {
        let reply = send(&state, post(record(id).to_string())).await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    // The site column is what a per-site export or suppression list selects on; it is not
    // in the link, so it must agree with the signed body.
    let pool = sqlx::AnyPool::connect(&common::sqlite_url(&db))
        .await
        .unwrap();
    pool.execute("DROP TRIGGER records_no_update")
        .await
        .unwrap();
    let moved = format!(
        "UPDATE records SET site = 'www.qualys.com' WHERE record_id = '{}'",
        ids[1]
    );
    pool.execute(moved.as_str()).await.unwrap();
    pool.close().await;
    let broken = walk(&state.store, None).await.unwrap().unwrap_err();
    assert_eq!((broken.seq, broken.verified), (2, 1));
    assert!(broken.reason.contains("site"), "{}", broken.reason);
}

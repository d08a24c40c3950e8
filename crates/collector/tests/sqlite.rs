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

//! Storage behaviour on a real SQLite file, over real sockets.

mod common;

use common::{sqlite, suite};

#[tokio::test]
async fn idempotent_under_concurrent_posts() {
    let (_dir, db) = sqlite();
    suite::idempotent_under_concurrent_posts(&db).await;
}

#[tokio::test]
async fn chain_detects_a_modified_row() {
    let (_dir, db) = sqlite();
    let assent_collector::store::Database::Sqlite(path) = &db else { unreachable!() };
    let url = format!("sqlite:{}", path.display());
    suite::chain_detects_a_modified_row(&db, &url, "DROP TRIGGER records_no_update").await;
}

#[tokio::test]
async fn receipts_verify() {
    let (_dir, db) = sqlite();
    suite::receipts_verify(&db).await;
}

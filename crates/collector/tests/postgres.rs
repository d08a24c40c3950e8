//! The same storage behaviour on a real PostgreSQL that the tests start themselves, and two
//! collector processes sharing it.

mod common;

use assent_collector::store::Database;
use common::postgres::TempPostgres;
use common::process::{self, Server};
use common::suite;

#[tokio::test]
async fn storage_behaves_as_on_sqlite() {
    let pg = TempPostgres::start();
    let db = Database::Postgres(pg.url.clone());
    suite::idempotent_under_concurrent_posts(&db).await;
    suite::repeats_and_conflicts_under_concurrent_posts(&db).await;
    suite::receipts_verify(&db).await;
    suite::chain_detects_a_modified_row(
        &db,
        &pg.url,
        &[
            "INSERT INTO records SELECT * FROM records WHERE record_id = '{id}' \
           ON CONFLICT (seq) DO UPDATE SET body = replace(EXCLUDED.body, 'denied', 'granted')",
        ],
        "ALTER TABLE records DISABLE TRIGGER records_no_update",
    )
    .await;
}

#[tokio::test]
async fn two_processes_keep_one_valid_chain() {
    let pg = TempPostgres::start();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("receipt.key");
    let key_arg = key.to_str().unwrap();
    // Both start at once on the empty database: the migrations must not trip each other.
    let first = Server::spawn(&pg.url, &["--receipt-key", key_arg]);
    let second = Server::spawn(&pg.url, &["--receipt-key", key_arg]);
    let (first, second) = (first.ready(), second.ready());
    let acked = process::burst(&[first.addr, second.addr], 8, 25).await;
    assert_eq!(acked.len(), 200);

    let lines = process::export(&pg.url);
    assert_eq!(lines.len(), 200);
    let seqs: Vec<i64> = lines.iter().map(|l| l["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
    let (ok, report) = process::verify(&pg.url, &["--receipt-key", key_arg]);
    assert!(ok, "{report}");
    assert_eq!(report["verified"], 200);
}

/// A database whose transactions default to repeatable read (a role's or database's
/// `default_transaction_isolation`, as some sites set it): two processes appending at
/// once still read the chain's last row after waiting for its lock, and every record is
/// stored.
#[tokio::test]
async fn two_processes_keep_one_chain_where_transactions_default_to_repeatable_read() {
    let pg = TempPostgres::start();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&pg.url).await.unwrap();
    sqlx::query("ALTER DATABASE assent SET default_transaction_isolation = 'repeatable read'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("receipt.key");
    let key_arg = key.to_str().unwrap();
    let first = Server::spawn(&pg.url, &["--receipt-key", key_arg]).ready();
    let second = Server::spawn(&pg.url, &["--receipt-key", key_arg]).ready();
    let acked = process::burst(&[first.addr, second.addr], 8, 25).await;
    assert_eq!(acked.len(), 200);
    let seqs: Vec<i64> = process::export(&pg.url)
        .iter()
        .map(|l| l["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
}

/// A database in another encoding than UTF-8 is refused at start, saying so: it would
/// refuse each record with a character it can't hold (a 500, retried for a month).
#[tokio::test]
async fn a_database_not_in_utf8_is_refused() {
    let pg = TempPostgres::start();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&pg.url).await.unwrap();
    sqlx::query(
        "CREATE DATABASE latin ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let latin = pg.url.replacen("/assent", "/latin", 1);
    let latin = Database::Postgres(latin);
    let refused = assent_collector::store::Store::open(&latin).await;
    let message = refused.map(|_| ()).unwrap_err().to_string();
    assert!(message.contains("encoding is LATIN1"), "{message}");
    assert!(message.contains("needs UTF8"), "{message}");
    // Read (export, verify) on the way to moving it, all the same.
    assert!(assent_collector::store::Store::open_existing(&latin)
        .await
        .is_ok());
}

#[tokio::test]
async fn manage_links_and_unsubscribe_behave_as_on_sqlite() {
    let pg = TempPostgres::start();
    let db = Database::Postgres(pg.url.clone());
    common::links::records_under_the_token_subject(&db).await;
    common::links::one_click_unsubscribe(&db).await;
    common::links::one_purpose_unsubscribe(&db).await;
}

/// Appends go on while a VACUUM or ANALYZE holds the table's lock (SHARE UPDATE
/// EXCLUSIVE, held here by a transaction of the test's own for as long as it needs): an
/// anti-wraparound vacuum, which PostgreSQL never cancels, would hold them for its run.
#[tokio::test]
async fn appends_do_not_wait_for_a_vacuum() {
    let pg = TempPostgres::start();
    let db = Database::Postgres(pg.url.clone());
    let state = common::state(&db, 0, 0).await;
    // The first append creates the table's first row: the store is set up.
    let first = common::send(
        &state,
        common::post(common::record(&common::new_id()).to_string()),
    )
    .await;
    assert_eq!(first.status, axum::http::StatusCode::CREATED);

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&pg.url).await.unwrap();
    let mut vacuum = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE records IN SHARE UPDATE EXCLUSIVE MODE")
        .execute(&mut *vacuum)
        .await
        .unwrap();
    let post = common::send(
        &state,
        common::post(common::record(&common::new_id()).to_string()),
    );
    // Against the lock held meanwhile: a wait for it never ends, so the deadline is long.
    let reply = tokio::time::timeout(std::time::Duration::from_secs(60), post)
        .await
        .expect("the append waited for the vacuum's lock");
    assert_eq!(reply.status, axum::http::StatusCode::CREATED);
    vacuum.rollback().await.unwrap();
}

//! What the mailer reads, on a real PostgreSQL that the test starts: the lookup and feed,
//! the feed while two collector processes write, webhooks through an outage and a kill -9,
//! and webhooks from two processes.

mod common;

use assent_collector::store::Database;
use common::mailer;
use common::postgres::TempPostgres;
use common::process::Server;

#[tokio::test]
async fn lookup_and_feed_answer_and_admin_routes_refuse() {
    let pg = TempPostgres::start();
    mailer::lookup_and_feed(&Database::Postgres(pg.url.clone())).await;
}

#[tokio::test]
async fn the_feed_is_stable_while_two_processes_write() {
    let pg = TempPostgres::start();
    let dir = tempfile::tempdir().unwrap();
    let keys = mailer::admin_keys_file(dir.path());
    let args = ["--admin-keys", keys.to_str().unwrap()];
    let first = Server::start(&pg.url, &args);
    let second = Server::start(&pg.url, &args);
    mailer::feed_is_stable_under_concurrent_writes(&pg.url, &[first.addr, second.addr], first.addr)
        .await;
}

#[tokio::test]
async fn two_processes_deliver_each_change_once() {
    let pg = TempPostgres::start();
    let dir = tempfile::tempdir().unwrap();
    mailer::webhooks_deliver_once(&pg.url, dir.path()).await;
}

#[tokio::test]
async fn webhooks_survive_a_receiver_outage_and_a_kill_9() {
    let pg = TempPostgres::start();
    let dir = tempfile::tempdir().unwrap();
    mailer::webhooks_survive_an_outage_and_a_kill_9(&pg.url, dir.path()).await;
    let stored = mailer::db_value(
        &pg.url,
        "SELECT COUNT(*) FROM records WHERE lower(body) LIKE '%example.com%'",
    )
    .await;
    assert_eq!(stored, 0, "an address in the database");
}

/// A claim passes over a row another process's claim is taking and gets the next due one,
/// rather than wait for that claim and come away with nothing (its worker would then idle
/// until its next look at the queue).
#[tokio::test]
async fn a_claim_passes_over_a_row_another_claim_is_taking() {
    use assent_collector::store::Store;
    use assent_collector::webhook::queue::{now_ms, Queue};
    use sqlx::Connection;

    let pg = TempPostgres::start();
    let store = Store::open(&Database::Postgres(pg.url.clone()))
        .await
        .unwrap()
        .with_webhooks();
    let mut queued = Vec::new();
    for n in 0..2 {
        let record = serde_json::from_value(common::record(&common::new_id())).unwrap();
        let subject = Some(format!("hmac-sha256:{}", n.to_string().repeat(64)));
        match store
            .append(&record, subject, None, |_| String::new())
            .await
        {
            Ok(assent_collector::store::Appended::Created(stored)) => queued.push(stored.seq),
            other => panic!("not stored: {other:?}"),
        }
    }

    // Another process's claim of the first row, not committed yet.
    let mut other = sqlx::PgConnection::connect(&pg.url).await.unwrap();
    let mut taking = other.begin().await.unwrap();
    sqlx::query(
        "UPDATE webhook_deliveries SET lease_until = $1, lease_token = 'other' WHERE seq = $2",
    )
    .bind(i64::MAX)
    .bind(queued[0])
    .execute(&mut *taking)
    .await
    .unwrap();

    let queue = Queue::new(&store);
    let endpoint = "sha256:00";
    let claim = queue.claim(
        endpoint,
        now_ms(),
        std::time::Duration::from_secs(15),
        "mine",
    );
    let claim = tokio::time::timeout(std::time::Duration::from_secs(10), claim)
        .await
        .expect("not held up by the other claim")
        .unwrap()
        .expect("the other due row");
    assert_eq!(claim.seq, queued[1]);
    taking.commit().await.unwrap();
}

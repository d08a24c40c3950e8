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

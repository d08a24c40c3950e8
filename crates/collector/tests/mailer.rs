//! What the company's mailer reads: the lookup, the change feed, webhooks and the
//! suppression list, on a real SQLite file (PostgreSQL: `tests/mailer_postgres.rs`).

mod common;

use std::collections::HashSet;

use common::mailer::{
    self, delivered_ids, message_ids, metric, post_choice, post_record, signature_valid,
    start_logged, wait_until, Receiver, FAILING, HANGING, UP,
};
use common::process;

#[tokio::test]
async fn lookup_and_feed_answer_and_admin_routes_refuse() {
    let (_dir, db) = common::sqlite();
    mailer::lookup_and_feed(&db).await;
}

#[tokio::test]
async fn the_feed_is_stable_while_two_processes_write() {
    let (dir, db) = temp_db();
    let db = db.as_str();
    let keys = mailer::admin_keys_file(dir.path());
    let args = ["--admin-keys", keys.to_str().unwrap()];
    let first = process::Server::start(db, &args);
    let second = process::Server::start(db, &args);
    mailer::feed_is_stable_under_concurrent_writes(db, &[first.addr, second.addr], first.addr)
        .await;
}

/// A temp directory and the path of an SQLite file in it.
fn temp_db() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db").to_str().unwrap().to_owned();
    (dir, db)
}

async fn sqlite_value(db: &str, sql: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&format!("sqlite:{db}"))
        .await
        .unwrap();
    let value: Option<i64> = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
    pool.close().await;
    value.unwrap_or(0)
}

/// No address in clear in the database file, its WAL, or the log.
fn assert_no_address(files: &[std::path::PathBuf]) {
    for file in files {
        if let Ok(bytes) = std::fs::read(file) {
            let text = String::from_utf8_lossy(&bytes).to_lowercase();
            assert!(
                !text.contains("example.com"),
                "an address in {}",
                file.display()
            );
        }
    }
}

#[tokio::test]
async fn webhooks_survive_a_receiver_outage_and_a_kill_9() {
    let (dir, db) = temp_db();
    let db = db.as_str();
    let secret = dir.path().join("hooks").join("webhook.secret");
    let subject_key = dir.path().join("subject.key");
    let log = dir.path().join("collector.log");
    // Nothing listens there yet: the receiver is down.
    let port = mailer::free_port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let args = [
        "--webhook-url",
        &url,
        "--webhook-secret-file",
        secret.to_str().unwrap(),
        "--subject-key",
        subject_key.to_str().unwrap(),
        "--webhook-retry-base",
        "100ms",
        "--webhook-retry-cap",
        "400ms",
        "--webhook-timeout",
        "2s",
    ];
    let mut server = start_logged(db, &args, &log);
    let client = reqwest::Client::new();
    let mut changes = Vec::new();
    let post = |n: usize, addr| {
        let client = client.clone();
        async move {
            let email = format!("subscriber{n}@example.com");
            let reply = post_record(&client, addr, Some(&email)).await;
            reply["record_id"].as_str().unwrap().to_owned()
        }
    };
    for n in 0..10 {
        changes.push(post(n, server.addr).await);
    }
    for _ in 0..3 {
        post_record(&client, server.addr, None).await;
    }
    let addr = server.addr;
    wait_until("ten deliveries queued", || async {
        metric(&client, addr, "assent_webhook_queue_depth").await == Some(10)
    })
    .await;
    wait_until(
        "every delivery retried while the receiver is down",
        || async { sqlite_value(db, "SELECT MIN(attempts) FROM webhook_deliveries").await >= 2 },
    )
    .await;

    let receiver = Receiver::start(port, UP).await;
    receiver
        .wait_for("the ten changes", |log| {
            delivered_ids(log) == message_ids(&changes)
        })
        .await;
    wait_until("the queue empty", || async {
        metric(&client, addr, "assent_webhook_queue_depth").await == Some(0)
            && metric(&client, addr, "assent_webhook_delivered_total").await == Some(10)
    })
    .await;

    // The receiver takes requests but never answers; the collector dies mid-delivery.
    receiver.set_mode(HANGING);
    for n in 10..15 {
        changes.push(post(n, server.addr).await);
    }
    receiver
        .wait_for("a delivery in flight", |log| {
            log.iter().any(|d| d.answered == 0)
        })
        .await;
    server.kill();
    receiver.set_mode(UP);
    let server = start_logged(db, &args, &log);
    for n in 15..17 {
        changes.push(post(n, server.addr).await);
    }
    receiver
        .wait_for("all 17 changes", |log| {
            delivered_ids(log) == message_ids(&changes)
        })
        .await;

    let secret_text = std::fs::read_to_string(&secret).unwrap();
    assert!(secret_text.starts_with("whsec_"));
    let export = process::export(db);
    for delivery in receiver.log() {
        assert!(signature_valid(&secret_text, &delivery), "{delivery:?}");
        let body = delivery.json();
        assert_eq!(body["type"], "preferences.changed");
        let record_id = body["record_id"].as_str().unwrap();
        assert_eq!(delivery.id, format!("msg_{}", record_id.replace('-', "")));
        let row = export
            .iter()
            .find(|line| line["record"]["record_id"] == record_id)
            .unwrap();
        assert_eq!(body["seq"], row["seq"]);
        assert_eq!(body["subject"], row["subject"]);
        assert_eq!(body["received_at"], row["received_at"]);
        assert_eq!(body["site"], "pci.qualys.com");
        assert_eq!(body["source"], "widget");
        assert_eq!(body["purposes"], row["record"]["purposes"]);
    }
    drop(server);
    let wal = dir.path().join("records.db-wal");
    assert_no_address(&[dir.path().join("records.db"), wal, log]);
}

#[tokio::test]
async fn a_delivery_is_given_up_after_its_retry_window() {
    let (dir, db) = temp_db();
    let db = db.as_str();
    let secret = dir.path().join("webhook.secret");
    let receiver = Receiver::start(0, FAILING).await;
    let url = receiver.url();
    let server = start_logged(
        db,
        &[
            "--webhook-url",
            &url,
            "--webhook-secret-file",
            secret.to_str().unwrap(),
            "--webhook-retry-base",
            "100ms",
            "--webhook-give-up-after",
            "1s",
        ],
        &dir.path().join("collector.log"),
    );
    let client = reqwest::Client::new();
    post_record(&client, server.addr, Some("ada@example.com")).await;
    let addr = server.addr;
    wait_until("the delivery given up", || async {
        metric(&client, addr, "assent_webhook_failed_total").await == Some(1)
            && metric(&client, addr, "assent_webhook_queue_depth").await == Some(0)
    })
    .await;
    let log = receiver.log();
    assert!(log.len() >= 2, "retried before giving up: {}", log.len());
    let ids: HashSet<_> = log.iter().map(|d| d.id.clone()).collect();
    assert_eq!(ids.len(), 1, "every attempt carries the same webhook-id");
    let secret_text = std::fs::read_to_string(&secret).unwrap();
    assert!(log.iter().all(|d| signature_valid(&secret_text, d)));
    assert_eq!(
        sqlite_value(db, "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'failed' AND last_error LIKE '%503%'").await,
        1
    );
    assert_eq!(
        metric(&client, addr, "assent_webhook_delivered_total").await,
        Some(0)
    );
}

#[tokio::test]
async fn two_processes_deliver_each_change_once() {
    let (dir, db) = temp_db();
    let db = db.as_str();
    mailer::webhooks_deliver_once(db, dir.path()).await;
}

#[tokio::test]
async fn preferences_and_the_suppression_list_from_the_cli() {
    let (dir, db) = temp_db();
    let db = db.as_str();
    let subject_key = dir.path().join("subject.key");
    let key = subject_key.to_str().unwrap();
    let server = process::Server::start(db, &["--subject-key", key]);
    let client = reqwest::Client::new();
    let mut seqs = Vec::new();
    for (email, new_products) in [
        (Some("ada@example.com"), "denied"),
        (Some("bob@example.com"), "granted"),
        (Some("carol@example.com"), "denied"),
        (Some("carol@example.com"), "granted"),
        (None, "denied"),
        (Some("Ada@example.com"), "denied"),
        (Some("dave@example.com"), "granted"),
        (Some("dave@example.com"), "denied"),
    ] {
        let reply = post_choice(&client, server.addr, email, new_products).await;
        seqs.push(reply);
    }
    drop(server);
    let run = |args: &[&str]| process::run(&[args, &["--database", db]].concat());

    let ada = run(&[
        "preferences",
        "--email",
        " ADA@example.com",
        "--subject-key",
        key,
    ]);
    assert!(
        ada.status.success(),
        "{}",
        String::from_utf8_lossy(&ada.stderr)
    );
    let ada: serde_json::Value = serde_json::from_slice(&ada.stdout).unwrap();
    assert!(ada["subject"].as_str().unwrap().starts_with("hmac-sha256:"));
    mailer::assert_denied_since(&ada["purposes"]["new_products"], &seqs[0]);
    let bad = run(&[
        "preferences",
        "--email",
        "not an address",
        "--subject-key",
        key,
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--email must be an e-mail address"));

    let subject = |email: &str| {
        let out = run(&["preferences", "--email", email, "--subject-key", key]);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["subject"].as_str().unwrap().to_owned()
    };
    let csv = |purpose: &str| {
        let out = run(&["export", "--suppression", purpose, "--format", "csv"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let row = |email: &str, n: usize| {
        format!(
            "{},{},{},{}",
            subject(email),
            seqs[n]["received_at"].as_str().unwrap(),
            seqs[n]["record_id"].as_str().unwrap(),
            seqs[n]["seq"]
        )
    };
    // Denied now: ada since her first denial, dave since his change of mind; carol
    // granted again, bob never denied.
    assert_eq!(
        csv("new_products"),
        format!(
            "subject,since,record_id,seq\n{}\n{}\n",
            row("ada@example.com", 0),
            row("dave@example.com", 7)
        )
    );
    // Every record denies `updates`: everyone, since their first record.
    assert_eq!(
        csv("updates"),
        format!(
            "subject,since,record_id,seq\n{}\n{}\n{}\n{}\n",
            row("ada@example.com", 0),
            row("bob@example.com", 1),
            row("carol@example.com", 2),
            row("dave@example.com", 6)
        )
    );
    assert_eq!(csv("announcements"), "subject,since,record_id,seq\n");
    let refused = run(&["export", "--suppression", "security", "--format", "csv"]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("security is not optional"), "{message}");
    assert!(refused.stdout.is_empty());
}

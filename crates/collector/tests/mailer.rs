//! What the company's mailer reads: the lookup, the change feed, webhooks and the
//! suppression list, on a real SQLite file (PostgreSQL: `tests/mailer_postgres.rs`).

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::mailer::{
    self, metric, post_choice, post_choice_made_at, post_record, signature_valid, start_logged,
    wait_until, DownReceiver, Receiver, FAILING, GONE, HELD, THROTTLING, UP,
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

/// A temp database, where its webhook secret goes, and a receiver that answers 503.
async fn failing_webhook() -> (tempfile::TempDir, String, std::path::PathBuf, Receiver) {
    let (dir, db) = temp_db();
    let secret = dir.path().join("webhook.secret");
    (dir, db, secret, Receiver::start(FAILING).await)
}

/// No address in clear in the database file or its WAL.
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
    mailer::webhooks_survive_an_outage_and_a_kill_9(&db, dir.path()).await;
    let wal = dir.path().join("records.db-wal");
    assert_no_address(&[dir.path().join("records.db"), wal]);
}

#[tokio::test]
async fn a_delivery_is_given_up_after_its_retry_window() {
    let (dir, db, secret, receiver) = failing_webhook().await;
    let db = db.as_str();
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
    // Each attempt was a request, all of one message.
    assert_eq!(log.len() as i64, mailer::total_attempts(db).await);
    let ids: HashSet<_> = log.iter().map(|d| d.id.clone()).collect();
    assert_eq!(ids.len(), 1, "every attempt carries the same webhook-id");
    let secret_text = std::fs::read_to_string(&secret).unwrap();
    assert!(log.iter().all(|d| signature_valid(&secret_text, d)));
    assert_eq!(
        mailer::db_value(db, "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'failed' AND last_error LIKE '%503%'").await,
        1
    );
    assert_eq!(
        metric(&client, addr, "assent_webhook_delivered_total").await,
        Some(0)
    );

    // The endpoint back, `requeue` puts the delivery back in the queue, with a new window.
    receiver.set_mode(UP);
    let output = process::run(&["requeue", "--database", db]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "{\"endpoints_resumed\":0,\"requeued\":1}\n"
    );
    receiver
        .wait_for("the delivery, posted again", |log| {
            log.iter().any(|d| d.answered == 204)
        })
        .await;
    wait_until("the delivery delivered", || async {
        metric(&client, addr, "assent_webhook_delivered_total").await == Some(1)
    })
    .await;
    let output = process::run(&["requeue", "--database", db]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "{\"endpoints_resumed\":0,\"requeued\":0}\n"
    );
}

/// `serve` on `db` with webhooks to `url` (retries 100 ms apart at first), its secret and
/// log in `dir`, with `env` set too.
fn serving_webhooks(
    db: &str,
    dir: &std::path::Path,
    url: &str,
    env: &[(&str, &str)],
) -> process::Server {
    let secret = dir.join("webhook.secret");
    mailer::start_logged_with(
        db,
        &[
            "--webhook-url",
            url,
            "--webhook-secret-file",
            secret.to_str().unwrap(),
            "--webhook-retry-base",
            "100ms",
        ],
        &dir.join("collector.log"),
        env,
    )
}

/// A collector with a webhook to a receiver in `mode` (retries 100 ms apart at first), on a
/// temp database, with `env` set too, and one record posted to it.
async fn one_record_to_a_webhook(
    mode: u8,
    env: &[(&str, &str)],
) -> (tempfile::TempDir, String, Receiver, process::Server) {
    let (dir, db) = temp_db();
    let receiver = Receiver::start(mode).await;
    let server = serving_webhooks(&db, dir.path(), &receiver.url(), env);
    post_record(
        &reqwest::Client::new(),
        server.addr,
        Some("ada@example.com"),
    )
    .await;
    (dir, db, receiver, server)
}

/// Each delivery carries its person's standing as of its change, so a receiver that gets
/// them in any order keeps the right one by `seq`: a grant, a denial, then a grant made
/// before that denial (sent late from an outbox), which leaves it denied.
#[tokio::test]
async fn each_delivery_carries_the_standing_as_of_its_change() {
    let (dir, db) = temp_db();
    // Down until all four are stored, so that each is delivered after the later ones.
    let down = DownReceiver::new();
    let server = serving_webhooks(&db, dir.path(), &down.url(), &[]);
    let client = reqwest::Client::new();
    let ada = Some("ada@example.com");
    let hours_ago = |hours| {
        (time::OffsetDateTime::now_utc() - time::Duration::hours(hours))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    for (email, state, made) in [
        (ada, "granted", 3),
        (Some("bob@example.com"), "denied", 3),
        (ada, "denied", 1),
        (ada, "granted", 2),
    ] {
        post_choice_made_at(&client, server.addr, email, state, Some(&hours_ago(made))).await;
    }
    let receiver = down.start(UP);
    receiver
        .wait_for("four deliveries", |log| log.len() >= 4)
        .await;
    let mut bodies: Vec<_> = receiver.log().iter().map(|d| d.json()).collect();
    bodies.sort_by_key(|body| body["seq"].as_i64());
    for body in &bodies {
        common::openapi::assert_schema("WebhookPayload", body);
    }
    let seen: Vec<_> = bodies
        .iter()
        .map(|body| {
            let new_products = &body["standing"]["new_products"];
            (
                body["seq"].as_i64().unwrap(),
                new_products["state"].as_str().unwrap().to_owned(),
                new_products["set_by"]["seq"].as_i64().unwrap(),
            )
        })
        .collect();
    let states = |list: &[(i64, &str, i64)]| {
        list.iter()
            .map(|&(seq, state, set_by)| (seq, state.to_owned(), set_by))
            .collect::<Vec<_>>()
    };
    // Seq 2 is another person's.
    assert_eq!(
        seen,
        states(&[
            (1, "granted", 1),
            (2, "denied", 2),
            (3, "denied", 3),
            (4, "denied", 3)
        ])
    );
    assert_eq!(bodies[3]["standing"]["security"]["basis"], "contract");
}

/// A proxy named in the environment (as company containers often set one) is not used for
/// a loopback webhook URL: the signed body would go to it in clear, and its own loopback
/// is not this machine's receiver (here it is a closed port: every attempt failed).
#[tokio::test]
async fn a_loopback_webhook_is_posted_to_directly_whatever_the_proxy() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let proxies = [
        ("HTTP_PROXY", proxy.as_str()),
        ("http_proxy", &proxy),
        ("ALL_PROXY", &proxy),
        ("NO_PROXY", ""),
    ];
    let (_dir, _db, receiver, _server) = one_record_to_a_webhook(UP, &proxies).await;
    receiver
        .wait_for("the delivery", |log| !log.is_empty())
        .await;
}

/// An endpoint that answers 410 Gone is gone (Standard Webhooks: the sender disables it
/// and stops sending it messages): the delivery is given up at its first attempt, and a
/// later change is not posted at all, but waits in the queue until `requeue` (the endpoint
/// back, or its 410 a mistake), which puts both through.
#[tokio::test]
async fn an_endpoint_that_answers_410_gone_is_posted_nothing_more_until_requeue() {
    let (_dir, db, receiver, server) = one_record_to_a_webhook(GONE, &[]).await;
    let client = reqwest::Client::new();
    let addr = server.addr;
    wait_until(
        "the delivery given up and the endpoint marked gone",
        || async {
            metric(&client, addr, "assent_webhook_failed_total").await == Some(1)
                && metric(&client, addr, "assent_webhook_endpoint_gone").await == Some(1)
        },
    )
    .await;
    assert_eq!(
        mailer::db_value(&db, "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'failed' AND last_error LIKE '%410%'").await,
        1
    );
    let first = receiver.log();
    assert_eq!(first.len(), 1, "posted once");

    // A later change is queued and counted, not posted: were it posted, it would be
    // answered 410 and given up on too (two deliveries failed, none queued).
    post_record(&client, addr, Some("bob@example.com")).await;
    wait_until("the second change queued", || async {
        metric(&client, addr, "assent_webhook_queue_depth").await == Some(1)
    })
    .await;
    receiver.set_mode(UP);
    let output = process::run(&["requeue", "--database", &db]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "{\"endpoints_resumed\":1,\"requeued\":2}\n",
        "the delivery given up on, and the one that waited, each with a new window"
    );
    wait_until("both delivered, the endpoint no longer gone", || async {
        metric(&client, addr, "assent_webhook_delivered_total").await == Some(2)
            && metric(&client, addr, "assent_webhook_endpoint_gone").await == Some(0)
    })
    .await;
    let log = receiver.log();
    assert_eq!(
        log.len(),
        3,
        "the first change twice, the second once: {log:?}"
    );
    assert_eq!(mailer::delivered_ids(&log).len(), 2);
    assert!(log[1..].iter().all(|d| d.answered == 204));
    assert_eq!(
        metric(&client, addr, "assent_webhook_failed_total").await,
        Some(1)
    );
}

/// An endpoint that answers 429 with Retry-After is not posted to again before the wait it
/// asked for, however short the backoff's (the assertion is a lower bound: a busy machine
/// only makes the wait longer).
#[tokio::test]
async fn a_delivery_answered_429_waits_for_its_retry_after() {
    let (_dir, _db, receiver, server) = one_record_to_a_webhook(THROTTLING, &[]).await;
    let client = reqwest::Client::new();
    let addr = server.addr;
    wait_until("the delivery delivered", || async {
        metric(&client, addr, "assent_webhook_delivered_total").await == Some(1)
    })
    .await;
    let log = receiver.log();
    assert_eq!(log.len(), 2);
    let waited = log[1].at - log[0].at;
    assert!(
        waited >= Duration::from_secs(2),
        "posted again after {waited:?}"
    );
}

/// Sends `server` a SIGTERM and returns once its stop has begun: its listener closed, which
/// happens as its claims stop (one future does both, commands/serve.rs).
async fn stop_begun(server: &process::Server) {
    let pid = nix::unistd::Pid::from_raw(server.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let addr = server.addr;
    wait_until("the listener closed", || async move {
        tokio::net::TcpStream::connect(addr).await.is_err()
    })
    .await;
}

/// A SIGTERM while a delivery is being posted: the process waits for the endpoint's answer
/// and marks the delivery delivered before it exits, so no process posts it again.
#[tokio::test]
async fn a_delivery_in_flight_at_a_sigterm_is_finished_before_the_exit() {
    // An endpoint's answer awaited far longer than the test's steps can take: the answer,
    // released once the stop has begun, is what ends the attempt, not the timeout.
    let config = tempfile::tempdir().unwrap();
    let file = config.path().join("collector.toml");
    std::fs::write(&file, "webhook_timeout = \"1h\"\n").unwrap();
    let (_dir, db, receiver, mut server) =
        one_record_to_a_webhook(HELD, &[("ASSENT_CONFIG", file.to_str().unwrap())]).await;
    receiver
        .wait_for("the delivery", |log| log.len() == 1)
        .await;
    // From then on the answer comes in a stopping process.
    stop_begun(&server).await;
    receiver.release();
    let status = tokio::task::spawn_blocking(move || server.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "serve exited {status} on SIGTERM");
    assert_eq!(
        mailer::db_value(&db, "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered' AND lease_until IS NULL").await,
        1,
        "the delivery the endpoint took is marked delivered"
    );
    assert_eq!(receiver.log().len(), 1);
}

/// A SIGTERM while a response holds the drain (a client that stopped reading a large file)
/// and the receiver fails: the process claims no retry from the signal on, though its
/// requests drain for seconds, so its exit waits for no new attempt (each of which could
/// hold it as long again, and be posted again by another process if the exit is cut short).
#[tokio::test]
async fn no_delivery_is_claimed_after_a_sigterm_while_requests_drain() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let www = tempfile::tempdir().unwrap();
    // Far more than the loopback socket's buffers hold.
    std::fs::write(www.path().join("big.bin"), vec![7u8; 64 << 20]).unwrap();
    let static_dir = [("ASSENT_STATIC_DIR", www.path().to_str().unwrap())];
    let (_dir, _db, receiver, mut server) = one_record_to_a_webhook(FAILING, &static_dir).await;
    receiver
        .wait_for("the first attempt", |log| !log.is_empty())
        .await;
    let mut stalled = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stalled
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    // The answer under way (its first bytes read), then stuck: the drain waits for it.
    let mut first = [0u8; 12];
    stalled.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    // Counted from then on, however late a busy machine handles the signal.
    stop_begun(&server).await;
    let stopped = receiver.log().len();
    let status = tokio::task::spawn_blocking(move || server.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "serve exited {status} on SIGTERM");
    // Retries are 100 ms apart at first, doubling: several in the drain's 10 s without the
    // stop. At most one was on its way as the stop began.
    let attempts = receiver.log().len();
    assert!(
        attempts <= stopped + 1,
        "{stopped} attempts as the stop began, {attempts} at the exit"
    );
}

/// A change this collector can't read (a later version's, sharing the database during a
/// rolling upgrade) is not given up once its retry window has passed: it is tried again,
/// until a process that can read it delivers it.
#[tokio::test]
async fn an_unreadable_change_is_tried_again_past_the_retry_window() {
    let (dir, db, secret, receiver) = failing_webhook().await;
    let db = db.as_str();
    let url = receiver.url();
    let log = dir.path().join("collector.log");
    let webhook = [
        "--webhook-url",
        &url,
        "--webhook-secret-file",
        secret.to_str().unwrap(),
    ];
    let mut first = start_logged(db, &webhook, &log);
    let client = reqwest::Client::new();
    post_record(&client, first.addr, Some("ada@example.com")).await;
    receiver
        .wait_for("a first attempt", |log| !log.is_empty())
        .await;
    first.kill();
    common::behind_the_triggers(
        &assent_collector::store::Database::Sqlite(db.into()),
        "UPDATE records SET body = replace(body, '\"purposes\"', '\"later_purposes\"')",
    )
    .await;

    let window = [
        "--webhook-retry-base",
        "100ms",
        "--webhook-give-up-after",
        "1s",
    ];
    let second = start_logged(db, &[&webhook[..], &window[..]].concat(), &log);
    let first_attempt_at =
        mailer::db_value(db, "SELECT first_attempt_at FROM webhook_deliveries").await;
    wait_until("the retry window passed", || async {
        mailer::now_ms() > first_attempt_at + 1000
    })
    .await;
    let attempts = mailer::total_attempts(db).await;
    wait_until("two attempts more", || async {
        mailer::total_attempts(db).await >= attempts + 2
    })
    .await;
    assert_eq!(
        mailer::db_value(
            db,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'"
        )
        .await,
        1
    );
    assert_eq!(
        metric(&client, second.addr, "assent_webhook_failed_total").await,
        Some(0)
    );
    assert_eq!(
        receiver.log().len(),
        1,
        "nothing sent of a change it can't read"
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
    let admin_keys = mailer::admin_keys_file(dir.path());
    let server = process::Server::start(
        db,
        &[
            "--subject-key",
            key,
            "--admin-keys",
            admin_keys.to_str().unwrap(),
        ],
    );
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

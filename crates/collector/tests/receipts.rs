//! Receipt keys and receipt files: the JWK set route, key rotation with the real binary,
//! `verify --receipt-file`, and key files made by several processes at once.

mod common;

use std::path::Path;

use assent_collector::receipt::{PublicKeys, ReceiptKeys};
use assent_record::{ConsentRecord, Controller, JwksUri, Notice, ReceiptAnswer, ReceiptFile};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::process::{self, Server};
use common::{new_id, record, send, sqlite, state};
use serde_json::Value;

const NOTICE: &str = include_str!("../../../notices/qualys-privacy-highlights.en.json");

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The `kid` in a receipt's JWS header.
fn kid_of(jws: &str) -> String {
    let header = jws.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

/// POSTs `body` to a running server; returns its answer, which must be a 201.
async fn post(server: &Server, body: &Value) -> Value {
    post_expecting(server, body, 201).await
}

/// POSTs `body` to a running server; returns its answer, which must have `status`.
async fn post_expecting(server: &Server, body: &Value, status: u16) -> Value {
    let mut request = reqwest::Client::new()
        .post(format!("http://{}/v1/records", server.addr))
        .header("content-type", "application/json");
    if body.get("email").is_some() {
        // A record under an address comes from the company's own server.
        request = request.bearer_auth(common::ADMIN_KEY);
    }
    let reply = request.body(body.to_string()).send().await.unwrap();
    assert_eq!(reply.status(), status);
    reply.json().await.unwrap()
}

/// POSTs a new record; returns the record as sent and the answer.
async fn post_record(server: &Server) -> (Value, Value) {
    let body = record(&new_id());
    let answer = post(server, &body).await;
    (body, answer)
}

/// A temp directory and the path of an SQLite file in it.
fn temp_db() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = path_str(&dir.path().join("records.db")).to_owned();
    (dir, db)
}

/// A temp directory, an SQLite file in it, its receipt key's path there, and a server on
/// both (which makes the key).
fn serving_with_a_key() -> (tempfile::TempDir, String, std::path::PathBuf, Server) {
    let (dir, db) = temp_db();
    let key = dir.path().join("receipt.key");
    let server = Server::start(&db, &["--receipt-key", path_str(&key)]);
    (dir, db, key, server)
}

async fn fetch_jwks(server: &Server) -> String {
    reqwest::get(format!("http://{}/.well-known/jwks.json", server.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The receipt file a visitor would download for this record and answer.
fn receipt_file(sent: &Value, answer: &Value, server: &Server) -> Value {
    let record: ConsentRecord = serde_json::from_value(sent.clone()).unwrap();
    let answer: ReceiptAnswer = serde_json::from_value(answer.clone()).unwrap();
    let notice: Notice = serde_json::from_str(NOTICE).unwrap();
    let jwks_uri =
        JwksUri::try_from(format!("http://{}/.well-known/jwks.json", server.addr)).unwrap();
    let file =
        ReceiptFile::new(&record, &answer, Controller::from_notice(&notice), jwks_uri).unwrap();
    serde_json::to_value(file).unwrap()
}

#[tokio::test]
async fn the_jwks_route_publishes_every_key_newest_first_to_any_origin() {
    let (_dir, db) = sqlite();
    let mut state = state(&db, 0, 0).await;
    let ring = ReceiptKeys::from_seeds(&[common::RECEIPT_SEED, [6; 32]]).unwrap();
    state.receipt_keys = std::sync::Arc::new(ring.clone());
    let get = |uri: &str, origin: &str| {
        Request::get(uri)
            .header("origin", origin)
            .body(Body::empty())
            .unwrap()
    };
    // Any page may read it: a verify page on another origin too.
    for origin in ["https://verify.example.org", common::ORIGIN] {
        for uri in ["/.well-known/jwks.json", "/.well-known/assent-receipt-key"] {
            let reply = send(&state, get(uri, origin)).await;
            assert_eq!(reply.status, StatusCode::OK);
            assert_eq!(reply.headers["cache-control"], "public, max-age=300");
            // The same answer for every page: a cache may keep one for all.
            assert_eq!(
                reply.headers["access-control-allow-origin"], "*",
                "{origin}"
            );
            assert!(!reply.headers.contains_key("vary"), "{origin}");
            let jwks = reply.json();
            let kids: Vec<&str> = jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kid"].as_str().unwrap())
                .collect();
            assert_eq!(kids.len(), 2);
            assert_eq!(kids[0], ring.current().kid(), "newest first");
            assert_eq!(jwks, ring.jwks());
        }
    }
    // A receipt the server signs names the newest key.
    let created = send(&state, common::post_new()).await.json();
    assert_eq!(
        kid_of(created["receipt"].as_str().unwrap()),
        ring.current().kid()
    );
}

/// Rotations at the same moment take turns: each adds its key, none is lost (a lost key
/// would leave the receipts it signed unverifiable).
#[test]
fn eight_rotations_at_once_all_add_their_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("receipt.key");
    let key_s = path_str(&key);
    assert!(process::run(&["keygen", "--receipt-key", key_s])
        .status
        .success());
    let rotations: Vec<_> = (0..8)
        .map(|_| {
            std::process::Command::new(process::BIN)
                .args(["keygen", "--rotate", "--receipt-key", key_s])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let added: Vec<String> = rotations
        .into_iter()
        .map(|rotation| {
            let output = rotation.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let jwks: Value = serde_json::from_slice(&output.stdout).unwrap();
            jwks["keys"][0]["kid"].as_str().unwrap().to_owned()
        })
        .collect();
    let ring = std::fs::read_to_string(&key).unwrap();
    assert_eq!(ring.lines().count(), 9, "one key and eight added: {ring}");
    // The ring's keys, as the server would publish them.
    let published =
        ReceiptKeys::from_seeds(&assent_collector::keys::read_ring(&key).unwrap()).unwrap();
    let kids: Vec<String> = published.jwks()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|jwk| jwk["kid"].as_str().unwrap().to_owned())
        .collect();
    for kid in &added {
        assert!(
            kids.contains(kid),
            "{kid}, added, is not in the ring: {kids:?}"
        );
    }
}

#[tokio::test]
async fn a_receipt_signed_before_a_rotation_still_verifies_after_it() {
    let (dir, db) = temp_db();
    let key = dir.path().join("receipt.key");
    let key_s = path_str(&key);

    let missing = process::run(&["keygen", "--rotate", "--receipt-key", key_s]);
    assert!(!missing.status.success());
    let message = String::from_utf8_lossy(&missing.stderr);
    assert!(message.contains("does not exist"), "{message}");
    assert!(!key.exists(), "a refused rotation makes no file");

    let made = process::run(&["keygen", "--receipt-key", key_s]);
    assert!(made.status.success());
    let first: Value = serde_json::from_slice(&made.stdout).unwrap();
    let old_kid = first["keys"][0]["kid"].as_str().unwrap().to_owned();

    let server = Server::start(&db, &["--receipt-key", key_s]);
    let (sent_before, before) = post_record(&server).await;
    let file_before = receipt_file(&sent_before, &before, &server);
    drop(server);
    let jws_before = before["receipt"].as_str().unwrap();
    assert_eq!(kid_of(jws_before), old_kid);

    let rotated = process::run(&["keygen", "--rotate", "--receipt-key", key_s]);
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    let jwks: Value = serde_json::from_slice(&rotated.stdout).unwrap();
    let new_kid = jwks["keys"][0]["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    assert_eq!(jwks["keys"][1]["kid"], old_kid.as_str(), "newest first");
    assert_eq!(std::fs::read_to_string(&key).unwrap().lines().count(), 2);
    assert!(
        !process::run(&["keygen", "--receipt-key", key_s])
            .status
            .success(),
        "keygen without --rotate never overwrites"
    );
    assert_eq!(std::fs::read_to_string(&key).unwrap().lines().count(), 2);

    let server = Server::start(&db, &["--receipt-key", key_s]);
    let (sent_after, after) = post_record(&server).await;
    let jws_after = after["receipt"].as_str().unwrap();
    assert_eq!(kid_of(jws_after), new_kid, "new receipts carry the new kid");

    // Via the JWK set the server publishes ...
    let published = fetch_jwks(&server).await;
    assert_eq!(serde_json::from_str::<Value>(&published).unwrap(), jwks);
    let keys = PublicKeys::from_jwks(&published).unwrap();
    assert_eq!(
        keys.verify(jws_before).unwrap().record_id,
        sent_before["record_id"]
    );
    assert_eq!(
        keys.verify(jws_after).unwrap().record_id,
        sent_after["record_id"]
    );
    let jwks_file = dir.path().join("jwks.json");
    std::fs::write(&jwks_file, &published).unwrap();
    let receipt_file_path = dir.path().join("before.json");
    std::fs::write(&receipt_file_path, file_before.to_string()).unwrap();
    drop(server);

    // ... and from the CLI, by key file or JWK set file.
    for keys in [["--receipt-key", key_s], ["--jwks", path_str(&jwks_file)]] {
        for receipt in [jws_before, jws_after] {
            let (ok, report) = process::verify(&db, &[&["--receipt", receipt], &keys[..]].concat());
            assert!(ok, "{report}");
        }
        let (ok, report) = process::verify(
            &db,
            &[&["--receipt-file", path_str(&receipt_file_path)], &keys[..]].concat(),
        );
        assert!(ok, "{report}");
        let (ok, report) = process::verify(&db, &keys);
        assert!(ok, "the chain walk checks receipts of both keys: {report}");
        assert_eq!(report["verified"], 2);
        assert_eq!(report["receipts_checked"], true);
        // Which key signed which rows: a key the operator does not know shows here.
        assert_eq!(
            report["signed_by"],
            serde_json::json!([
                {"kid": old_kid, "first_seq": 1, "last_seq": 1, "rows": 1},
                {"kid": new_kid, "first_seq": 2, "last_seq": 2, "rows": 1},
            ]),
            "{report}"
        );
    }
    // The old key alone does not know the new receipts.
    let old_only = dir.path().join("old.json");
    let mut old_set = jwks.clone();
    old_set["keys"].as_array_mut().unwrap().remove(0);
    std::fs::write(&old_only, old_set.to_string()).unwrap();
    let (ok, report) = process::verify(
        &db,
        &["--receipt", jws_after, "--jwks", path_str(&old_only)],
    );
    assert!(!ok);
    assert!(
        report["reason"].as_str().unwrap().contains(&new_kid),
        "{report}"
    );
    // The ring in the environment (set for every command) does not stop a check against a
    // set given: that set is the one used.
    let output = std::process::Command::new(process::BIN)
        .args([
            "verify",
            "--database",
            &db,
            "--receipt",
            jws_after,
            "--jwks",
            path_str(&old_only),
        ])
        .env("ASSENT_RECEIPT_KEY", key_s)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(!output.status.success());
    assert!(
        report["reason"].as_str().unwrap().contains(&new_kid),
        "{report}"
    );
}

/// The chain alone can't show that its end was cut: a receipt a visitor kept can, with
/// `verify --in-chain`. Rows written again in its place don't pass for it either.
#[tokio::test]
async fn a_kept_receipt_shows_a_chain_whose_end_was_cut() {
    let (dir, db, key, server) = serving_with_a_key();
    let key_s = path_str(&key);
    let (_, first) = post_record(&server).await;
    let (_, last) = post_record(&server).await;
    drop(server);
    let kept = |name: &str, answer: &Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, answer["receipt_file"].to_string()).unwrap();
        path
    };
    let (first_file, last_file) = (kept("first.json", &first), kept("last.json", &last));
    let in_chain = |file: &Path| {
        process::verify(
            &db,
            &[
                "--in-chain",
                "--receipt-file",
                path_str(file),
                "--receipt-key",
                key_s,
            ],
        )
    };
    let (ok, report) = in_chain(&last_file);
    assert!(ok, "{report}");
    assert_eq!(
        (
            report["verified"].as_i64(),
            report["claims"]["seq"].as_i64()
        ),
        (Some(2), Some(2))
    );

    // The newest row deleted behind the triggers: the shorter chain verifies…
    let database = assent_collector::store::Database::Sqlite(db.clone().into());
    common::behind_the_triggers(&database, "DELETE FROM records WHERE seq = 2").await;
    let (ok, report) = process::verify(&db, &["--receipt-key", key_s]);
    assert!(ok, "{report}");
    assert_eq!(report["verified"], 1);
    // …but not with the receipt kept of the row that is gone.
    let (ok, report) = in_chain(&last_file);
    assert!(!ok, "{report}");
    assert!(reason(&report).contains("no row 2"), "{report}");
    let (ok, report) = in_chain(&first_file);
    assert!(ok, "the first row is still as signed: {report}");

    // Another record stored as row 2: a chain that verifies, but not the row signed.
    let server = Server::start(&db, &["--receipt-key", key_s]);
    let (_, other) = post_record(&server).await;
    drop(server);
    assert_eq!(other["seq"], 2);
    let (ok, report) = in_chain(&last_file);
    assert!(!ok, "{report}");
    assert!(
        reason(&report).contains("not the row the receipt signed"),
        "{report}"
    );

    // Without a receipt to check, --in-chain is a usage error.
    let output = process::run(&["verify", "--database", &db, "--in-chain"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--in-chain"));
}

/// What the walk can't vouch for is where the chain breaks, with only the rows before it
/// counted: a stored receipt replaced (its row's link intact), a subject column emptied
/// (the link writes no subject as an empty line), a row slipped in at seq 0 (which the
/// schema refuses), the record given to another person (a subject of the right form) or
/// another time of receipt (only the recomputed link holds either), a row pointed at
/// itself, and two rows swapped. Each on a database of three records, behind its triggers
/// and checks.
#[tokio::test]
async fn verify_breaks_at_the_first_row_it_cannot_vouch_for() {
    // Each breaks the chain at row 2, with row 1 verified…
    let at_row_2 = [
        ("SET receipt = (SELECT receipt FROM records WHERE seq = 1) WHERE seq = 2", "receipt does not match the row"),
        ("SET subject = '' WHERE seq = 2", "subject"),
        ("SET body = replace(body, '\"site\"', '\"sight\"') WHERE seq = 2", "stored body is not a valid record: unknown field `sight`"),
        ("SET subject = 'hmac-sha256:' || printf('%064d', 7) WHERE seq = 2", "chain_hash does not match"),
        ("SET received_at = '2026-01-01T00:00:00Z' WHERE seq = 2", "chain_hash does not match"),
        ("SET prev_hash = chain_hash WHERE seq = 2", "prev_hash does not match"),
        ("SET seq = 9 WHERE seq = 2; UPDATE records SET seq = 2 WHERE seq = 3; UPDATE records SET seq = 3 WHERE seq = 9", "prev_hash does not match"),
    ]
    .map(|(update, why)| (format!("UPDATE records {update}"), (Some(1), Some(2)), why));
    // …and a row before the first breaks it at once.
    let slipped_in = (
        "INSERT INTO records SELECT 0, '00000000-0000-4000-8000-000000000000', site, subject, \
         body, digest, prev_hash, chain_hash, received_at, receipt FROM records WHERE seq = 1"
            .to_owned(),
        (Some(0), Some(0)),
        "sequence gap",
    );
    let cases = at_row_2.into_iter().chain([slipped_in]);
    for (tampering, (verified, broken_seq), why) in cases {
        let (_dir, db, key, server) = serving_with_a_key();
        for _ in 0..3 {
            post_record(&server).await;
        }
        drop(server);
        let (ok, report) = process::verify(&db, &["--receipt-key", path_str(&key)]);
        assert!(ok, "{report}");
        let database = assent_collector::store::Database::Sqlite(db.clone().into());
        common::behind_the_triggers(
            &database,
            &format!("PRAGMA ignore_check_constraints = ON; {tampering}"),
        )
        .await;
        let (ok, report) = process::verify(&db, &["--receipt-key", path_str(&key)]);
        assert!(!ok, "{tampering}: {report}");
        assert_eq!(
            (report["verified"].as_i64(), report["broken_seq"].as_i64()),
            (verified, broken_seq),
            "{tampering}: {report}"
        );
        assert!(reason(&report).contains(why), "{tampering}: {report}");
    }
}

/// Writes `file` and runs `verify --receipt-file` on it with `keys`.
fn verify_file(dir: &Path, name: &str, file: &str, keys: &[&str]) -> (bool, Value) {
    let path = dir.join(name);
    std::fs::write(&path, file).unwrap();
    process::verify(
        "unused.db",
        &[&["--receipt-file", path_str(&path)], keys].concat(),
    )
}

fn reason(report: &Value) -> &str {
    report["reason"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn verify_receipt_file_accepts_a_genuine_file_and_refuses_tampered_ones() {
    let (dir, _db, key, server) = serving_with_a_key();
    let key_s = path_str(&key);
    let (sent, answer) = post_record(&server).await;
    let file = answer["receipt_file"].clone();
    assert_eq!(
        file,
        receipt_file(&sent, &answer, &server),
        "the collector issues the file ReceiptFile::new makes of the record and the answer"
    );
    drop(server);
    let keys = ["--receipt-key", key_s];
    let d = dir.path();

    assert_eq!(file["version"], "assent-receipt-file/1");
    assert_eq!(file["receipt_id"], sent["record_id"]);
    assert_eq!(file["controller"]["name"], "Qualys, Inc.");
    assert!(file["controller"]["contact"]["address"].is_string());
    assert_eq!(file["collection_method"], "web widget");
    assert_eq!(file["recorded_at"], answer["received_at"]);
    assert_eq!(file["purposes"][1]["lawful_basis"], "consent");
    let (ok, report) = verify_file(d, "genuine.json", &file.to_string(), &keys);
    assert!(ok, "{report}");
    assert_eq!(report["claims"]["record_id"], sent["record_id"]);
    assert_eq!(report["claims"]["purposes"], sent["purposes"]);
    assert_eq!(
        report["claims"]["controller"], file["controller"],
        "the receipt signs whom the choice was given to"
    );

    // A state flipped in the record and its summary: the signed purposes and digest differ.
    let mut flipped = file.clone();
    assert_eq!(flipped["record"]["purposes"][1]["state"], "denied");
    flipped["record"]["purposes"][1]["state"] = "granted".into();
    flipped["purposes"][1]["state"] = "granted".into();
    let (ok, report) = verify_file(d, "flipped.json", &flipped.to_string(), &keys);
    assert!(!ok);
    assert!(reason(&report).contains("purposes differs"), "{report}");

    // Only the summary changed: the record still matches the receipt, the summary does not.
    let mut summary = file.clone();
    summary["site"] = "www.qualys.com".into();
    let (ok, report) = verify_file(d, "summary.json", &summary.to_string(), &keys);
    assert!(!ok);
    assert!(
        reason(&report).contains("site does not match its record"),
        "{report}"
    );
    let mut when = file.clone();
    when["consent_timestamp"] = "2026-12-01T00:00:00Z".into();
    let (ok, report) = verify_file(d, "when.json", &when.to_string(), &keys);
    assert!(!ok);
    assert!(reason(&report).contains("consent_timestamp"), "{report}");

    // Given to someone else: the signed controller differs.
    let mut given = file.clone();
    given["controller"]["name"] = "Someone Else Ltd".into();
    let (ok, report) = verify_file(d, "given.json", &given.to_string(), &keys);
    assert!(!ok);
    assert!(reason(&report).contains("controller differs"), "{report}");

    // A claim changed in the signed payload: the signature fails.
    let jws = file["receipt"]["jws"].as_str().unwrap();
    let parts: Vec<&str> = jws.split('.').collect();
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let forged = URL_SAFE_NO_PAD.encode(payload.replace("\"denied\"", "\"granted\""));
    let mut claim = flipped.clone();
    claim["receipt"]["jws"] = format!("{}.{forged}.{}", parts[0], parts[2]).into();
    let (ok, report) = verify_file(d, "claim.json", &claim.to_string(), &keys);
    assert!(!ok);
    assert!(
        reason(&report).contains("signature does not verify"),
        "{report}"
    );

    // The signature cut short: not a JWS, and the reason says which part.
    let mut cut = file.clone();
    cut["receipt"]["jws"] = format!("{}.{}.{}", parts[0], parts[1], &parts[2][..16]).into();
    let (ok, report) = verify_file(d, "cut.json", &cut.to_string(), &keys);
    assert!(!ok);
    assert!(
        reason(&report).contains("its signature is not 64 bytes"),
        "{report}"
    );

    // A receipt signed by another key: its kid is not in the set.
    let other = ReceiptKeys::from_seeds(&[[42; 32]]).unwrap();
    let other_jwks = d.join("other.json");
    std::fs::write(&other_jwks, other.jwks().to_string()).unwrap();
    let (ok, report) = verify_file(
        d,
        "genuine.json",
        &file.to_string(),
        &["--jwks", path_str(&other_jwks)],
    );
    assert!(!ok);
    assert!(
        reason(&report).contains("not one of the given keys"),
        "{report}"
    );
    let ring = ReceiptKeys::from_seeds(&assent_collector::keys::read_ring(&key).unwrap()).unwrap();
    let claims = ring.public().verify(jws).unwrap();
    let mut resigned = file.clone();
    resigned["receipt"]["jws"] = other.sign(&claims).into();
    let (ok, report) = verify_file(d, "resigned.json", &resigned.to_string(), &keys);
    assert!(!ok);
    assert!(
        reason(&report).contains("not one of the given keys"),
        "{report}"
    );

    // Garbled, truncated, with an e-mail, with an unknown field, or not there at all:
    // a reason, never a panic.
    let text = file.to_string();
    let mut with_email = file.clone();
    with_email["record"]["email"] = "ada@example.com".into();
    let mut unknown = file.clone();
    unknown["extra"] = true.into();
    let mut http_keys = file.clone();
    http_keys["keys"]["jwks_uri"] = "http://consent.qualys.com/.well-known/jwks.json".into();
    for (name, bad) in [
        ("garbled.json", "{not json".to_owned()),
        ("truncated.json", text[..text.len() / 2].to_owned()),
        ("email.json", with_email.to_string()),
        ("unknown.json", unknown.to_string()),
        ("http.json", http_keys.to_string()),
        (
            "binary.json",
            String::from_utf8_lossy(&[0xff, 0, 7]).into_owned(),
        ),
    ] {
        let (ok, report) = verify_file(d, name, &bad, &keys);
        assert!(!ok, "{name}");
        assert!(
            reason(&report).starts_with("not a valid receipt file"),
            "{name}: {report}"
        );
    }
    let (ok, report) = process::verify(
        "unused.db",
        &[
            &["--receipt-file", path_str(&d.join("missing.json"))],
            &keys[..],
        ]
        .concat(),
    );
    assert!(!ok);
    assert!(reason(&report).contains("cannot read"), "{report}");
}

/// GETs a record's receipt from a running server.
async fn get_receipt(server: &Server, id: &Value) -> Value {
    let reply = reqwest::get(format!(
        "http://{}/v1/records/{}/receipt",
        server.addr,
        id.as_str().unwrap()
    ))
    .await
    .unwrap();
    assert_eq!(reply.status(), 200);
    reply.json().await.unwrap()
}

#[tokio::test]
async fn answers_carry_the_receipt_file_of_a_known_notice_only() {
    let (dir, db) = temp_db();
    // A second company's notice, named by --notice: its organisation is the controller.
    let mut other: Value = serde_json::from_str(NOTICE).unwrap();
    other["id"] = "acme-privacy-highlights".into();
    other["organisation"] = "Acme Ltd".into();
    let other_path = dir.path().join("acme.json");
    std::fs::write(&other_path, other.to_string()).unwrap();
    let server = Server::start(&db, &["--notice", path_str(&other_path)]);

    // The default notice is known without a flag; a repeat answers the same file.
    let (sent, answer) = post_record(&server).await;
    assert_eq!(
        answer["receipt_file"],
        receipt_file(&sent, &answer, &server)
    );
    let repeat = post_expecting(&server, &sent, 200).await;
    assert_eq!(
        repeat["receipt_file"], answer["receipt_file"],
        "a repeat: the same file"
    );
    let fetched = get_receipt(&server, &sent["record_id"]).await;
    assert_eq!(
        fetched, answer,
        "the receipt GET answers the same, file included"
    );

    // A --notice notice: its organisation is the controller.
    let mut acme = record(&new_id());
    acme["notice"]["id"] = "acme-privacy-highlights".into();
    let answer = post(&server, &acme).await;
    assert_eq!(answer["receipt_file"]["controller"]["name"], "Acme Ltd");
    assert_eq!(answer["receipt_file"]["receipt_id"], acme["record_id"]);

    // An unknown notice: stored and signed, but no file (its controller is unknown).
    let mut unknown = record(&new_id());
    unknown["notice"]["id"] = "someone-else".into();
    let answer = post(&server, &unknown).await;
    assert!(answer["receipt"].is_string());
    assert!(answer.get("receipt_file").is_none(), "{answer}");

    // The notice's organisation renamed since, the collector restarted: the file issued
    // again for the stored receipt names whom that receipt signed.
    drop(server);
    other["organisation"] = "Acme Holdings".into();
    std::fs::write(&other_path, other.to_string()).unwrap();
    let server = Server::start(&db, &["--notice", path_str(&other_path)]);
    let fetched = get_receipt(&server, &acme["record_id"]).await;
    assert_eq!(fetched["receipt_file"]["controller"]["name"], "Acme Ltd");
    let later = post(&server, &{
        let mut body = record(&new_id());
        body["notice"]["id"] = "acme-privacy-highlights".into();
        body
    })
    .await;
    assert_eq!(later["receipt_file"]["controller"]["name"], "Acme Holdings");
}

#[tokio::test]
async fn serve_processes_started_at_once_on_a_new_database_and_new_key_paths_all_start_alike() {
    let (dir, db) = temp_db();
    let keys = dir.path().join("keys");
    let (receipt, subject, link) = (
        keys.join("receipt.key"),
        keys.join("subject.key"),
        keys.join("link.key"),
    );
    let admin_keys = common::mailer::admin_keys_file(dir.path());
    let args = [
        "--receipt-key",
        path_str(&receipt),
        "--subject-key",
        path_str(&subject),
        "--link-key",
        path_str(&link),
        "--admin-keys",
        path_str(&admin_keys),
    ];
    // Nothing exists yet: the processes race to create the database, migrate it, and make
    // the keys.
    let starting: Vec<_> = (0..6).map(|_| Server::spawn(&db, &args)).collect();
    let servers: Vec<Server> = starting.into_iter().map(|s| s.ready()).collect();

    let mut kids = Vec::new();
    let mut jwks = Vec::new();
    for server in &servers {
        let mut body = record(&new_id());
        body["email"] = "ada@example.com".into();
        let answer = post(server, &body).await;
        kids.push(kid_of(answer["receipt"].as_str().unwrap()));
        jwks.push(fetch_jwks(server).await);
    }
    drop(servers);
    assert!(kids.iter().all(|kid| *kid == kids[0]), "{kids:?}");
    assert!(jwks.iter().all(|set| *set == jwks[0]));
    for file in [&receipt, &subject, &link] {
        assert_eq!(std::fs::read_to_string(file).unwrap().lines().count(), 1);
    }
    assert_eq!(
        std::fs::read_dir(&keys).unwrap().count(),
        3,
        "no temp files left"
    );
    // One subject key: the same address has one subject across the six processes.
    let subjects: std::collections::BTreeSet<String> = process::export(&db)
        .iter()
        .map(|line| line["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(subjects.len(), 1, "{subjects:?}");
    let (ok, report) = process::verify(&db, &["--receipt-key", path_str(&receipt)]);
    assert!(ok, "{report}");
}

/// A `--notice` whose organisation and contact block would make its receipts too long for
/// a receipt file stops the start, saying so, rather than leave its visitors without one.
#[test]
fn a_notice_too_long_for_its_receipts_stops_the_start() {
    let (dir, db) = temp_db();
    let mut long: Value = serde_json::from_str(NOTICE).unwrap();
    long["id"] = "acme-privacy-highlights".into();
    // 4,000 characters, as much as a text may hold, 3 bytes each in JSON.
    long["organisation"] = "\u{20AC}".repeat(4000).into();
    let path = dir.path().join("acme.json");
    std::fs::write(&path, long.to_string()).unwrap();
    let output = process::run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        &db,
        "--notice",
        path_str(&path),
    ]);
    assert!(!output.status.success(), "it started");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("acme.json"), "{stderr}");
    assert!(
        stderr.contains("organisation and contact block take 12")
            && stderr.contains("at most 4096 fit"),
        "{stderr}"
    );
}

/// A notice under the id of another that names another controller (the default notice's
/// here, a copy edited without a new id) stops the start, naming both: receipt files find
/// their controller by the id, and would all name the last one read. The translations of
/// one notice, one controller, are taken.
#[test]
fn a_notice_of_another_controller_under_a_known_id_stops_the_start() {
    let (dir, db) = temp_db();
    let mut other: Value = serde_json::from_str(NOTICE).unwrap();
    other["organisation"] = "Acme, Inc.".into();
    let path = dir.path().join("acme.json");
    std::fs::write(&path, other.to_string()).unwrap();
    let output = process::refused_start(
        std::process::Command::new(process::BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--database", &db])
            .args(["--notice", path_str(&path)]),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("acme.json") && stderr.contains("the default notice"),
        "{stderr}"
    );
    let notices = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../notices");
    let translations: Vec<String> = ["de", "fr"]
        .map(|tag| {
            notices
                .join(format!("qualys-privacy-highlights.{tag}.json"))
                .to_string_lossy()
                .into_owned()
        })
        .to_vec();
    // Starts (or panics saying it did not).
    let _server = Server::start(
        &db,
        &["--notice", &translations[0], "--notice", &translations[1]],
    );
}

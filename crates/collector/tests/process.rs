//! The real binary: kill -9 during a burst, a restart on a socket passed as systemd does,
//! and the CLI's export and verify.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::process::{self, Server};
use sha2::{Digest, Sha256};

#[tokio::test]
async fn kill_9_during_a_burst_loses_no_acknowledged_record() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let db = db.to_str().unwrap().to_owned();
    let mut server = Server::start(&db, &[]);
    let addr = server.addr;
    // Eight clients posting until the kill, which comes once 200 are acknowledged: it
    // finds requests in flight however fast or busy the machine is.
    let counted = Arc::new(AtomicUsize::new(0));
    let burst = tokio::spawn({
        let counted = counted.clone();
        async move { process::burst_counted(&[addr], 8, usize::MAX, &counted).await }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while counted.load(Ordering::Relaxed) < 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "200 records not acknowledged in 2 minutes"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill();
    let acked = burst.await.unwrap();
    eprintln!("acknowledged before the kill: {}", acked.len());
    assert!(acked.len() >= 200);

    let stored: HashSet<String> = process::export(&db)
        .iter()
        .map(|l| l["record"]["record_id"].as_str().unwrap().to_owned())
        .collect();
    let lost: Vec<_> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(lost.is_empty(), "{} acknowledged records lost", lost.len());
    let (ok, report) = process::verify(&db, &[]);
    assert!(ok, "{report}");

    // It starts again on the same file and carries on the chain.
    let server = Server::start(&db, &[]);
    assert_eq!(process::burst(&[server.addr], 1, 3).await.len(), 3);
    let (ok, report) = process::verify(&db, &[]);
    assert!(ok, "{report}");
    assert_eq!(
        report["verified"].as_i64().unwrap() as usize,
        stored.len() + 3
    );
}

/// Runs the collector with `args`, its standard output's reader gone before it starts (its
/// first write meets EPIPE), and checks that it failed plainly: exit code 1 and the reason,
/// where `println!` panicked (exit code 101).
fn fails_plainly_with_its_reader_gone(args: &[&std::ffi::OsStr]) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = std::process::Command::new(process::BIN)
        .args(args)
        .stdout(writer)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("Broken pipe"), "{stderr}");
}

/// A command whose output's reader has gone (`verify … | head`, the reader done).
#[test]
fn a_command_whose_reader_is_gone_fails_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("receipt.key");
    fails_plainly_with_its_reader_gone(&[
        "keygen".as_ref(),
        "--receipt-key".as_ref(),
        key.as_ref(),
    ]);
    assert!(
        key.exists(),
        "the key is made before its JWK set is printed"
    );
}

/// `serve` whose output's reader is gone before its "listening" line.
#[test]
fn serve_whose_reader_is_gone_fails_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let args = ["serve", "--listen", "127.0.0.1:0", "--database"];
    let mut args: Vec<&std::ffi::OsStr> = args.iter().map(|arg| arg.as_ref()).collect();
    args.push(db.as_ref());
    fails_plainly_with_its_reader_gone(&args);
}

/// `keygen` refuses two keys named to one file, as `serve` does, before making either.
#[test]
fn keygen_refuses_one_file_for_two_keys() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k");
    let (one, again) = (key.to_str().unwrap(), dir.path().join(".").join("k"));
    let output = process::run(&[
        "keygen",
        "--receipt-key",
        one,
        "--link-key",
        again.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("--receipt-key and --link-key name one file"),
        "{stderr}"
    );
    assert!(!key.exists(), "nothing made");
}

/// An `ASSENT_*` variable no setting reads (a misspelt one) is warned of, by name; one a
/// setting reads is not.
#[test]
fn an_unread_assent_variable_is_warned_of() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(process::BIN)
        .args(["keygen", "--subject-key"])
        .arg(dir.path().join("subject.key"))
        .env("ASSENT_NOTICE", "acme.json")
        .env("ASSENT_DATABASE", dir.path().join("records.db"))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("ASSENT_NOTICE"), "{stderr}");
    assert!(!stderr.contains("ASSENT_DATABASE"), "{stderr}");
}

#[tokio::test]
async fn cli_keygen_export_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let db = db.to_str().unwrap().to_owned();
    let key = dir.path().join("receipt.key");
    let subject_key = dir.path().join("subject.key");
    let (key_s, subject_s) = (key.to_str().unwrap(), subject_key.to_str().unwrap());

    let keygen = process::run(&["keygen", "--receipt-key", key_s, "--subject-key", subject_s]);
    assert!(keygen.status.success());
    let jwks: serde_json::Value = serde_json::from_slice(&keygen.stdout).unwrap();
    let x = jwks["keys"][0]["x"].as_str().unwrap().to_owned();
    assert!(
        !process::run(&["keygen", "--receipt-key", key_s])
            .status
            .success(),
        "never overwrites a key"
    );
    // A subject key that exists already: refused before the new receipt key is written.
    let other = dir.path().join("other-receipt.key");
    let refused = process::run(&[
        "keygen",
        "--receipt-key",
        other.to_str().unwrap(),
        "--subject-key",
        subject_s,
    ]);
    assert!(!refused.status.success());
    assert!(!other.exists(), "no receipt key left behind");
    // A subject key's name that is a symbolic link to a file not there (a secrets mount
    // not filled yet): refused as there before anything is written, as a file would be.
    let dangling = dir.path().join("dangling-subject.key");
    std::os::unix::fs::symlink(dir.path().join("mount/subject.key"), &dangling).unwrap();
    let refused = process::run(&[
        "keygen",
        "--receipt-key",
        other.to_str().unwrap(),
        "--subject-key",
        dangling.to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    assert!(!other.exists(), "no receipt key left behind");
    // A link key alone (the key `link` signs with, which it never makes itself).
    let link_key = dir.path().join("link.key");
    let link_s = link_key.to_str().unwrap();
    assert!(process::run(&["keygen", "--link-key", link_s])
        .status
        .success());
    assert!(link_key.exists());
    let other_s = other.to_str().unwrap();
    let again = process::run(&["keygen", "--link-key", link_s, "--receipt-key", other_s]);
    assert!(!again.status.success(), "never overwrites a link key");
    assert!(!other.exists(), "refused before writing anything");
    // A key whose directory refuses it once written to (not found before: Linux's /proc,
    // where none can be made, as a directory this user may not write to, or a full disk):
    // none is made, no written file is left beside its name, and the command can be run
    // again.
    let blocked = std::path::Path::new("/proc/assent-test-subject.key");
    let args = ["keygen", "--receipt-key", other_s, "--subject-key"];
    let half = process::run(&[&args[..], &[blocked.to_str().unwrap()]].concat());
    assert!(!half.status.success());
    assert!(!other.exists(), "no receipt key left behind");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .filter(|name| name.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let free = dir.path().join("free/subject.key");
    let again = process::run(&[&args[..], &[free.to_str().unwrap()]].concat());
    assert!(again.status.success());
    assert!(other.exists() && free.exists());
    std::fs::remove_file(&other).unwrap();
    let same = dir.path().join("same.key");
    let same_s = same.to_str().unwrap();
    let twice = process::run(&["keygen", "--subject-key", same_s, "--link-key", same_s]);
    assert!(!twice.status.success(), "one file for two keys");
    assert!(!same.exists(), "refused before writing anything");

    let admin_keys = common::mailer::admin_keys_file(dir.path());
    let server = Server::start(
        &db,
        &[
            "--receipt-key",
            key_s,
            "--subject-key",
            subject_s,
            "--admin-keys",
            admin_keys.to_str().unwrap(),
        ],
    );
    let client = reqwest::Client::new();
    let id = common::new_id();
    let mut body = common::record(&id);
    body["email"] = "ada@example.com".into();
    let reply: serde_json::Value = client
        .post(format!("http://{}/v1/records", server.addr))
        .bearer_auth(common::ADMIN_KEY)
        .header("content-type", "text/plain;charset=UTF-8")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    process::burst(&[server.addr], 1, 2).await;
    drop(server);

    let lines = process::export(&db);
    assert_eq!(lines.len(), 3);
    // Each record exactly as stored: its hash is its digest, so the chain can be checked
    // from the export alone.
    let raw = process::run(&["export", "--database", &db]);
    for text in String::from_utf8(raw.stdout).unwrap().lines() {
        #[derive(serde::Deserialize)]
        struct Line {
            record: Box<serde_json::value::RawValue>,
            digest: String,
        }
        let line: Line = serde_json::from_str(text).unwrap();
        let hash = Sha256::digest(line.record.get().as_bytes());
        assert_eq!(format!("sha256:{hash:x}"), line.digest, "{text}");
    }
    let first = &lines[0];
    assert_eq!(first["seq"], 1);
    assert_eq!(first["record"]["record_id"], id.as_str());
    assert_eq!(first["chain_hash"], reply["chain_hash"]);
    assert_eq!(first["receipt"], reply["receipt"]);
    assert!(first["received_at"].is_string());
    assert!(first["record"].get("email").is_none());

    let export_of = |subject: &str| {
        let args = [
            "--database",
            &db,
            "--subject",
            subject,
            "--subject-key",
            subject_s,
        ];
        process::run(&[&["export"], &args[..]].concat())
    };
    let mine = export_of(" ADA@example.com");
    assert_eq!(String::from_utf8(mine.stdout).unwrap().lines().count(), 1);
    // A typo is not a person with no history.
    let typo = export_of("ada.example.com");
    assert!(!typo.status.success());
    assert!(String::from_utf8_lossy(&typo.stderr).contains("--subject must be an e-mail address"));

    let (ok, report) = process::verify(&db, &["--receipt-key", key_s]);
    assert!(ok, "{report}");
    assert_eq!(report["verified"], 3);

    let receipt = reply["receipt"].as_str().unwrap();
    let (ok, report) = process::verify(&db, &["--receipt", receipt, "--public-key", &x]);
    assert!(ok, "{report}");
    assert_eq!(report["claims"]["record_id"], id.as_str());
    let tampered = receipt.replacen('.', ".e30", 1);
    let (ok, _) = process::verify(&db, &["--receipt", &tampered, "--public-key", &x]);
    assert!(!ok, "a tampered receipt must fail");
}

/// `serve --config FILE`, and then every other command given the same file alone: each
/// finds the database, the key files and the public address there, relative to the file.
#[tokio::test]
async fn one_config_file_serves_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("collector.toml");
    std::fs::write(
        &config,
        "database = \"records.db\"\nreceipt_key = \"receipt.key\"\nsubject_key = \"subject.key\"\n\
         link_key = \"link.key\"\npublic_url = \"https://consent.example.com\"\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let db = dir.path().join("records.db");
    let admin_keys = common::mailer::admin_keys_file(dir.path());
    // No --database: serve too finds it in the file.
    let server = Server::start(
        "",
        &[
            "--config",
            config,
            "--admin-keys",
            admin_keys.to_str().unwrap(),
        ],
    );
    let id = common::new_id();
    let mut body = common::record(&id);
    body["email"] = "ada@example.com".into();
    let stored = reqwest::Client::new()
        .post(format!("http://{}/v1/records", server.addr))
        .bearer_auth(common::ADMIN_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 201);
    drop(server);

    let run = |args: &[&str]| {
        let output = process::run(&[args, &["--config", config]].concat());
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{args:?}: {stderr}");
        String::from_utf8(output.stdout).unwrap()
    };
    let mine = run(&["export", "--subject", "ada@example.com"]);
    assert_eq!(
        mine.lines().count(),
        1,
        "the file's database and subject key"
    );
    assert!(mine.contains(&id));
    let preferences: serde_json::Value =
        serde_json::from_str(&run(&["preferences", "--email", "ada@example.com"])).unwrap();
    assert_eq!(
        preferences["purposes"]["new_products"]["set_by"]["record_id"],
        id.as_str()
    );
    let verified: serde_json::Value = serde_json::from_str(&run(&["verify"])).unwrap();
    assert_eq!(verified["verified"], 1);
    assert_eq!(
        verified["receipts_checked"], true,
        "the file's receipt key: {verified}"
    );
    let link: serde_json::Value = serde_json::from_str(&run(&[
        "link",
        "--email",
        "ada@example.com",
        "--site",
        "pci.qualys.com",
        "--page",
        "https://pci.qualys.com/",
    ]))
    .unwrap();
    let unsubscribe = link["unsubscribe_url"].as_str().unwrap();
    assert!(
        unsubscribe.starts_with("https://consent.example.com/v1/unsubscribe/"),
        "the file's public address: {unsubscribe}"
    );
    assert!(dir.path().join("link.key").exists(), "the file's link key");

    // Without the file, what it gave is missing, and the message says where it can come from.
    let db_s = db.to_str().unwrap();
    let output = process::run(&[
        "preferences",
        "--email",
        "ada@example.com",
        "--database",
        db_s,
    ]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--subject-key is needed"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The file is read only for what the flags leave out: one that can't be read stops
    // only a command that needs it.
    let missing = dir.path().join("missing.toml");
    let missing = missing.to_str().unwrap();
    let flags_only = process::run(&["export", "--config", missing, "--database", db_s]);
    assert!(
        flags_only.status.success(),
        "{}",
        String::from_utf8_lossy(&flags_only.stderr)
    );
    let needs_it = process::run(&["export", "--config", missing]);
    assert!(!needs_it.status.success());
    assert!(String::from_utf8_lossy(&needs_it.stderr).contains("cannot read config file"));

    // A flag still wins over the file.
    let elsewhere = dir.path().join("elsewhere.db");
    let elsewhere_s = elsewhere.to_str().unwrap();
    let output = process::run(&["export", "--config", config, "--database", elsewhere_s]);
    assert!(
        !output.status.success(),
        "the flag's database (missing), not the file's"
    );
    assert!(!elsewhere.exists());
}

#[test]
fn a_bad_config_stops_the_start_with_a_clear_message() {
    let cases: [(&[&str], &str); 4] = [
        (&["--allowed-origins", "*"], "allowed origin"),
        (
            &["--allowed-origins", "https://pci.qualys.com/path"],
            "allowed origin",
        ),
        (&["--database", "mysql://x"], "database"),
        (&["--static-dir", "/nonexistent/dist"], "static dir"),
    ];
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let busy = [
        "--listen",
        taken.as_str(),
        "--database",
        db.to_str().unwrap(),
    ];
    let output = process::run(&[&["serve"], &busy[..]].concat());
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains(&format!("cannot listen on {taken}")));

    for (args, expected) in cases {
        let output = process::run(&[&["serve", "--listen", "127.0.0.1:0"], args].concat());
        assert!(!output.status.success(), "{args:?} started");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

/// Socket activation, as systemd does it: the socket outlives each process, so a record
/// posted after one process has stopped and before the next has started waits in the
/// socket's backlog and is stored by the next one, instead of being refused.
#[tokio::test]
async fn a_record_posted_between_two_processes_on_a_passed_socket_is_stored() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let db = db.to_str().unwrap().to_owned();
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let mut first = Server::start_on(&socket, &db, &[]);
    assert_eq!(
        first.addr, addr,
        "it listens on the passed socket, not on --listen"
    );
    assert_eq!(process::burst(&[addr], 1, 2).await.len(), 2);
    first.stop();

    // No process serves now: the connection is made, and the request sent, all the same.
    let id = common::new_id();
    let body = common::record(&id).to_string();
    let mut stream =
        std::net::TcpStream::connect(addr).expect("the held socket takes the connection");
    write!(
        stream,
        "POST /v1/records HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let _second = Server::start_on(&socket, &db, &[]);
    // A bound on a failure's wait, not a timing: the answer comes once the second process runs.
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");

    let stored: Vec<String> = process::export(&db)
        .iter()
        .map(|line| line["record"]["record_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(stored.len(), 3);
    assert!(
        stored.contains(&id),
        "the record posted in between is stored"
    );
    let (ok, report) = process::verify(&db, &[]);
    assert!(ok, "{report}");
}

/// `LISTEN_FDS` with something other than a listening TCP socket at fd 3 (a file, a socket
/// bound but not listening): a clear refusal.
#[test]
fn a_passed_descriptor_that_is_not_a_listening_socket_stops_the_start() {
    use std::os::fd::OwnedFd;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let file = std::fs::File::create(dir.path().join("plain")).unwrap();
    let bound = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let loopback: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    bound.bind(&loopback.into()).unwrap();
    let cases: [(OwnedFd, &str); 2] = [
        (file.into(), "fd 3 is not a socket"),
        (bound.into(), "fd 3 is bound but not listening"),
    ];
    for (passed, reason) in cases {
        let mut command = std::process::Command::new(process::BIN);
        command.args(["serve", "--database", db.to_str().unwrap()]);
        let output = process::refused_start(process::pass_socket(&mut command, passed));
        assert!(
            !output.status.success(),
            "{reason}: it exited {}",
            output.status
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        let expected =
            format!("the socket passed in LISTEN_FDS (fd 3) is not a TCP listener: {reason}");
        assert!(stderr.contains(&expected), "{stderr}");
    }
}

/// Sends `head` on a fresh connection to a fresh server, then nothing more, and returns
/// what comes back within 20 s (`None` if the connection is still open then), with the wait.
async fn send_and_stall(head: &[u8]) -> (Option<String>, Duration, Server, tempfile::TempDir) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path().join("records.db").to_str().unwrap(), &[]);
    let mut socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    socket.write_all(head).await.unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), socket.read_to_end(&mut answer)).await;
    let answer = read
        .ok()
        .map(|_| String::from_utf8_lossy(&answer).into_owned());
    (answer, started.elapsed(), server, dir)
}

#[tokio::test]
async fn a_trickled_body_times_out_with_408() {
    let head = "POST /v1/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{";
    let (answer, _, _server, _dir) = send_and_stall(head.as_bytes()).await;
    let answer = answer.expect("no answer in 20 s");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"request_timeout\""), "{answer}");
}

#[test]
fn export_and_verify_do_not_create_a_missing_database() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo.db");
    for command in ["export", "verify"] {
        let output = process::run(&[command, "--database", missing.to_str().unwrap()]);
        assert!(
            !output.status.success(),
            "{command} succeeded on a missing file"
        );
        assert!(String::from_utf8_lossy(&output.stderr).contains("database"));
        assert!(!missing.exists(), "{command} created the file");
    }
}

#[tokio::test]
async fn trickled_headers_lose_the_connection() {
    let (answer, waited, server, _dir) =
        send_and_stall(b"POST /v1/records HTTP/1.1\r\nHost: x\r\n").await;
    assert!(answer.is_some(), "still open after 20 s");
    assert!(waited >= Duration::from_secs(5), "closed too early");
    // The server still serves others.
    assert_eq!(process::burst(&[server.addr], 1, 1).await.len(), 1);
}

/// A shell's soft limit on open files is raised to the hard one: each connection is one.
#[test]
fn serve_raises_its_limit_on_open_files() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite:{}", dir.path().join("assent.db").display());
    let (_, hard) = rlimit::Resource::NOFILE.get().unwrap();
    let soft = 256.min(hard);
    let server = Server::start_with_open_files(&database, soft);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.child.id())).unwrap();
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .unwrap_or_else(|| panic!("no open files line: {limits}"));
    let values: Vec<&str> = line.split_whitespace().skip(3).take(2).collect();
    let hard_shown = match hard {
        rlimit::INFINITY => "unlimited".to_owned(),
        limit => limit.to_string(),
    };
    assert_eq!(values, [hard_shown.as_str(); 2], "{line}");
    assert!(
        hard > soft,
        "the hard limit ({hard}) is the test's soft one: nothing shown"
    );
}

/// A client that stops reading a response (a large static file) holds neither the process
/// nor its restart once it is told to stop: open responses get `DRAIN_TIMEOUT` (10 s).
#[test]
fn a_client_that_stops_reading_does_not_hold_a_stop() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    // Far more than the loopback socket's buffers hold.
    std::fs::write(www.join("big.bin"), vec![7u8; 64 << 20]).unwrap();
    let db = dir.path().join("records.db");
    let mut server = Server::start(
        db.to_str().unwrap(),
        &["--static-dir", www.to_str().unwrap()],
    );
    let mut stalled = std::net::TcpStream::connect(server.addr).unwrap();
    stalled
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    // The answer under way (its first bytes read), then stuck: the client reads no more.
    let mut first = [0u8; 12];
    stalled.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let signalled = std::time::Instant::now();
    let pid = nix::unistd::Pid::from_raw(server.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(30),
            "still running 30 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "serve exited {status} on SIGTERM");
    assert!(
        signalled.elapsed() >= Duration::from_secs(9),
        "the response had its time"
    );
    drop(stalled);
}

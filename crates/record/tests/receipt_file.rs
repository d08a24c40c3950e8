//! The receipt file: built from a record and the collector's answer, validated on the way in.

use assent_record::{
    CollectionMethod, ConsentRecord, Controller, JwksUri, Notice, ReceiptAnswer, ReceiptFile,
};
use serde_json::{json, Value};

const NOTICE: &str = include_str!("../../../notices/qualys-privacy-highlights.en.json");
const ID: &str = "0b4f7a4e-2f57-4a6c-9f0e-5d1e4c3b2a10";

fn record() -> Value {
    json!({
        "record_id": ID,
        "site": "pci.qualys.com",
        "notice": {"id": "qualys-privacy-highlights", "version": "2011-12-31",
                   "hash": format!("sha256:{}", "ab".repeat(32))},
        "language": "en",
        "purposes": [
            {"purpose": "updates", "basis": "consent", "state": "denied"},
            {"purpose": "security", "basis": "contract"},
        ],
        "gpc": true,
        "widget_version": "0.1.0",
        "client_time": "2026-11-30T22:38:57.123Z",
        "subject_token": "eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
    })
}

fn answer() -> ReceiptAnswer {
    serde_json::from_value(json!({
        "record_id": ID,
        "seq": 41,
        "received_at": "2026-11-30T22:39:00.5Z",
        "chain_hash": format!("sha256:{}", "cd".repeat(32)),
        "receipt": "eyJhbGciOiJFZERTQSJ9.eyJ9.c2ln",
        "a_later_field": "is ignored",
    }))
    .unwrap()
}

fn file() -> ReceiptFile {
    let record: ConsentRecord = serde_json::from_value(record()).unwrap();
    let notice: Notice = serde_json::from_str(NOTICE).unwrap();
    let uri = JwksUri::try_from("https://consent.qualys.com/.well-known/jwks.json").unwrap();
    ReceiptFile::new(&record, &answer(), Controller::from_notice(&notice), uri).unwrap()
}

fn parse(value: Value) -> Result<ReceiptFile, serde_json::Error> {
    serde_json::from_value(value)
}

#[test]
fn a_file_states_the_record_in_the_receipt_vocabulary_without_the_token() {
    let value = serde_json::to_value(file()).unwrap();
    assert_eq!(value["version"], "assent-receipt-file/1");
    assert_eq!(value["receipt_id"], ID);
    assert_eq!(value["controller"]["name"], "Qualys, Inc.");
    assert_eq!(
        value["controller"]["contact"]["telephone"]["href"],
        "tel:+16508016100"
    );
    assert_eq!(value["notice"], record()["notice"]);
    assert_eq!(value["collection_method"], "web widget");
    assert_eq!(value["consent_timestamp"], "2026-11-30T22:38:57.123Z");
    assert_eq!(value["recorded_at"], "2026-11-30T22:39:00.5Z");
    assert_eq!(value["site"], "pci.qualys.com");
    assert_eq!(
        value["purposes"],
        json!([
            {"purpose": "updates", "lawful_basis": "consent", "state": "denied"},
            {"purpose": "security", "lawful_basis": "contract"},
        ])
    );
    assert!(value["record"].get("subject_token").is_none());
    assert_eq!(value["record"]["gpc"], true);
    assert_eq!(value["receipt"]["seq"], 41);
    assert_eq!(
        value["keys"]["jwks_uri"],
        "https://consent.qualys.com/.well-known/jwks.json"
    );
    let back = parse(value).unwrap();
    assert_eq!(back, file());
    assert_eq!(back.summary_mismatch(), None);
    assert_eq!(back.collection_method, CollectionMethod::WebWidget);
}

#[test]
fn the_answer_must_be_for_the_record() {
    let mut other: ConsentRecord = serde_json::from_value(record()).unwrap();
    other.record_id = uuid::Uuid::nil();
    let notice: Notice = serde_json::from_str(NOTICE).unwrap();
    let uri = JwksUri::try_from("https://consent.qualys.com/.well-known/jwks.json").unwrap();
    assert!(ReceiptFile::new(&other, &answer(), Controller::from_notice(&notice), uri).is_err());
}

#[test]
fn a_summary_that_disagrees_with_the_record_is_named() {
    let good = serde_json::to_value(file()).unwrap();
    for (path, new, field) in [
        (&["site"][..], json!("www.qualys.com"), "site"),
        (&["receipt_id"], json!(uuid::Uuid::nil()), "receipt_id"),
        (&["purposes", "0", "state"], json!("granted"), "purposes"),
        (
            &["consent_timestamp"],
            json!("2026-12-01T00:00:00Z"),
            "consent_timestamp",
        ),
        (
            &["collection_method"],
            json!("one-click unsubscribe"),
            "collection_method",
        ),
        (&["notice", "version"], json!("2012"), "notice"),
    ] {
        let mut value = good.clone();
        let mut at = &mut value;
        for key in &path[..path.len() - 1] {
            at = match key.parse::<usize>() {
                Ok(i) => &mut at[i],
                Err(_) => &mut at[*key],
            };
        }
        at[path[path.len() - 1]] = new;
        assert_eq!(
            parse(value).unwrap().summary_mismatch(),
            Some(field),
            "{path:?}"
        );
    }
}

/// A change made to a valid file.
type Edit = Box<dyn Fn(&mut Value)>;

#[test]
fn bad_files_are_refused_on_the_way_in() {
    let good = serde_json::to_value(file()).unwrap();
    let edits: Vec<(&str, Edit)> = vec![
        ("unknown field", Box::new(|v| v["extra"] = json!(1))),
        (
            "version",
            Box::new(|v| v["version"] = json!("assent-receipt-file/2")),
        ),
        (
            "email",
            Box::new(|v| v["record"]["email"] = json!("ada@example.com")),
        ),
        (
            "token",
            Box::new(|v| v["record"]["subject_token"] = json!("a.b.c")),
        ),
        (
            "http keys",
            Box::new(|v| v["keys"]["jwks_uri"] = json!("http://evil.example/k")),
        ),
        (
            "js keys",
            Box::new(|v| v["keys"]["jwks_uri"] = json!("javascript:alert(1)")),
        ),
        ("jws", Box::new(|v| v["receipt"]["jws"] = json!("<script>"))),
        ("seq 0", Box::new(|v| v["receipt"]["seq"] = json!(0))),
        (
            "chain hash",
            Box::new(|v| v["receipt"]["chain_hash"] = json!("md5:00")),
        ),
        (
            "basis",
            Box::new(|v| v["purposes"][0]["lawful_basis"] = json!("contract")),
        ),
        (
            "twice",
            Box::new(|v| v["purposes"][1] = v["purposes"][0].clone()),
        ),
        ("no purposes", Box::new(|v| v["purposes"] = json!([]))),
        (
            "method",
            Box::new(|v| v["collection_method"] = json!("telepathy")),
        ),
        (
            "controller",
            Box::new(|v| v["controller"]["name"] = json!("")),
        ),
        ("time", Box::new(|v| v["recorded_at"] = json!("yesterday"))),
    ];
    for (what, edit) in edits {
        let mut value = good.clone();
        edit(&mut value);
        assert!(parse(value).is_err(), "{what}");
    }
}

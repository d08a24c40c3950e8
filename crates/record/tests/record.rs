//! The consent record on the wire: what parses, what is refused, and what is hashed.

use assent_record::{ConsentRecord, ConsentState, LawfulBasis, PurposeId, Source};
use serde_json::{json, Value};

fn valid() -> Value {
    json!({
        "record_id": "0b4f7a4e-2f57-4a6c-9f0e-5d1e4c3b2a10",
        "site": "pci.qualys.com",
        "notice": {
            "id": "qualys-privacy-highlights",
            "version": "2011-12-31",
            "hash": format!("sha256:{}", "ab".repeat(32)),
        },
        "language": "en",
        "purposes": [
            {"purpose": "updates", "basis": "consent", "state": "denied"},
            {"purpose": "new_products", "basis": "consent", "state": "granted"},
            {"purpose": "security", "basis": "contract"},
        ],
        "gpc": false,
        "widget_version": "0.1.0",
        "client_time": "2026-11-30T22:38:57.123Z",
    })
}

fn parse(value: &Value) -> Result<ConsentRecord, serde_json::Error> {
    serde_json::from_value(value.clone())
}

fn with(path: &[&str], new: Value) -> Value {
    let mut doc = valid();
    let mut at = &mut doc;
    for key in &path[..path.len() - 1] {
        at = &mut at[*key];
    }
    at[path[path.len() - 1]] = new;
    doc
}

#[test]
fn a_valid_record_round_trips_with_purposes_in_canonical_order() {
    let record = parse(&valid()).expect("valid record");
    assert_eq!(record.site.as_str(), "pci.qualys.com");
    let order: Vec<_> = record.purposes.iter().map(|p| p.purpose()).collect();
    assert_eq!(
        order,
        [
            PurposeId::NewProducts,
            PurposeId::Updates,
            PurposeId::Security
        ]
    );
    assert_eq!(
        record.purposes.state_of(PurposeId::NewProducts),
        Some(ConsentState::Granted)
    );
    assert_eq!(
        record.purposes.state_of(PurposeId::Updates),
        Some(ConsentState::Denied)
    );
    assert_eq!(
        record.purposes.iter().last().map(|p| p.basis()),
        Some(LawfulBasis::Contract)
    );

    let again: ConsentRecord =
        serde_json::from_str(&record.canonical_json()).expect("canonical form parses");
    assert_eq!(again, record);
    let wire: Value = serde_json::from_str(&record.canonical_json()).expect("json");
    assert_eq!(
        wire["purposes"][2],
        json!({"purpose": "security", "basis": "contract"})
    );
    assert_eq!(wire["client_time"], "2026-11-30T22:38:57.123Z");
    assert!(wire.get("email").is_none(), "absent e-mail is not written");
}

#[test]
fn the_digest_is_stable_and_independent_of_key_order_and_spacing() {
    let record = parse(&valid()).expect("valid");
    // Pinned: if this changes, every stored chain hash would change with it.
    assert_eq!(
        record.digest().as_str(),
        "sha256:6677db47f5bb1c93d55244459f265b2c5a382dc915a8ecbbb0530b564faa5ffe"
    );
    let reordered = r#"{ "gpc": false, "language": "en", "site": "pci.qualys.com",
        "client_time": "2026-11-30T22:38:57.123Z", "widget_version": "0.1.0",
        "purposes": [{"basis": "contract", "purpose": "security"},
                     {"state": "granted", "basis": "consent", "purpose": "new_products"},
                     {"purpose": "updates", "state": "denied", "basis": "consent"}],
        "notice": {"hash": "sha256:abababababababababababababababababababababababababababababababab",
                   "version": "2011-12-31", "id": "qualys-privacy-highlights"},
        "record_id": "0B4F7A4E-2F57-4A6C-9F0E-5D1E4C3B2A10" }"#;
    let same: ConsentRecord = serde_json::from_str(reordered).expect("valid");
    assert_eq!(same.digest(), record.digest());

    let changed = parse(&with(&["gpc"], json!(true))).expect("valid");
    assert_ne!(changed.digest(), record.digest());
}

#[test]
fn malformed_records_are_refused() {
    let cases: Vec<(&str, Value)> = vec![
        ("unknown field", with(&["ip"], json!("203.0.113.9"))),
        ("unknown nested field", with(&["notice", "extra"], json!(1))),
        ("record id not a uuid", with(&["record_id"], json!("42"))),
        ("site with markup", with(&["site"], json!("<script>"))),
        (
            "site too long",
            with(&["site"], json!(format!("{}.com", "a".repeat(260)))),
        ),
        (
            "hash not sha256",
            with(&["notice", "hash"], json!("md5:abc")),
        ),
        (
            "language malformed",
            with(&["language"], json!("english language")),
        ),
        ("no purposes", with(&["purposes"], json!([]))),
        (
            "unknown purpose",
            with(
                &["purposes"],
                json!([{"purpose": "marketing", "basis": "consent", "state": "granted"}]),
            ),
        ),
        (
            "optional purpose without state",
            with(
                &["purposes"],
                json!([{"purpose": "updates", "basis": "consent"}]),
            ),
        ),
        (
            "optional purpose under contract",
            with(
                &["purposes"],
                json!([{"purpose": "updates", "basis": "contract", "state": "granted"}]),
            ),
        ),
        (
            "mandatory purpose with a state",
            with(
                &["purposes"],
                json!([{"purpose": "security", "basis": "contract", "state": "denied"}]),
            ),
        ),
        (
            "mandatory purpose under consent",
            with(
                &["purposes"],
                json!([{"purpose": "security", "basis": "consent", "state": "denied"}]),
            ),
        ),
        (
            "state not an enum",
            with(
                &["purposes"],
                json!([{"purpose": "updates", "basis": "consent", "state": "maybe"}]),
            ),
        ),
        (
            "duplicate purpose",
            with(
                &["purposes"],
                json!([
            {"purpose": "updates", "basis": "consent", "state": "denied"},
            {"purpose": "updates", "basis": "consent", "state": "granted"}]),
            ),
        ),
        ("gpc not a bool", with(&["gpc"], json!("yes"))),
        (
            "client time not RFC 3339",
            with(&["client_time"], json!("yesterday")),
        ),
        ("email malformed", with(&["email"], json!("not an address"))),
        (
            "token with markup",
            with(&["subject_token"], json!("v1.abc<script>")),
        ),
        ("token empty", with(&["subject_token"], json!(""))),
        ("unknown source", with(&["source"], json!("import"))),
        ("missing field", {
            let mut doc = valid();
            doc.as_object_mut().map(|o| o.remove("site"));
            doc
        }),
    ];
    for (name, doc) in cases {
        assert!(parse(&doc).is_err(), "accepted: {name}");
    }
}

#[test]
fn refusals_name_the_rule_not_the_input() {
    let err = parse(&with(&["site"], json!("evil<script>alert(1)</script>"))).expect_err("refused");
    let message = err.to_string();
    assert!(message.contains("site"), "{message}");
    assert!(!message.contains("script"), "echoes input: {message}");
}

#[test]
fn an_identified_record_carries_the_address() {
    let record = parse(&with(&["email"], json!("ada@example.com"))).expect("valid");
    assert_eq!(
        record.email.as_ref().map(|e| e.as_str()),
        Some("ada@example.com")
    );
}

#[test]
fn a_record_from_a_manage_link_carries_its_token_and_source_defaults_to_widget() {
    let record = parse(&with(
        &["subject_token"],
        json!("v1.eyJzdWIiOiJ4In0.c2ln-_"),
    ))
    .expect("valid");
    assert_eq!(
        record.subject_token.as_ref().map(|t| t.as_str()),
        Some("v1.eyJzdWIiOiJ4In0.c2ln-_")
    );
    assert_eq!(record.source, Source::Widget);
    // The default source is not written, so a record made before the field existed keeps
    // its canonical form (and the pinned digest above).
    let plain = parse(&valid()).expect("valid");
    assert!(!plain.canonical_json().contains("source"));

    let unsubscribe = parse(&with(&["source"], json!("unsubscribe"))).expect("valid");
    assert_eq!(unsubscribe.source, Source::Unsubscribe);
    let wire: Value = serde_json::from_str(&unsubscribe.canonical_json()).expect("json");
    assert_eq!(wire["source"], "unsubscribe");
    assert_ne!(unsubscribe.digest(), plain.digest());
}

#[test]
fn a_record_id_is_read_in_the_forms_uuid_takes_and_refused_naming_the_rule() {
    let id = "0b4f7a4e-2f57-4a6c-9f0e-5d1e4c3b2a10";
    for form in [
        id.to_owned(),
        id.to_uppercase(),
        id.replace('-', ""),
        format!("urn:uuid:{id}"),
    ] {
        let record = parse(&with(&["record_id"], json!(form))).expect("a UUID");
        assert_eq!(record.record_id.to_string(), id, "{form}");
    }
    let refused = parse(&with(&["record_id"], json!("evil<script>")))
        .expect_err("not a UUID")
        .to_string();
    assert!(refused.starts_with("not a UUID"), "{refused}");
    assert!(!refused.contains("script"), "echoes input: {refused}");
}

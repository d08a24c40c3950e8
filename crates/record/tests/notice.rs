//! The default notice document and the rules every notice must follow.

use assent_record::{Block, Inline, Notice, PurposeId};
use serde_json::{json, Value};

const DEFAULT: &str = include_str!("../../../notices/qualys-privacy-highlights.en.json");

fn default_value() -> Value {
    serde_json::from_str(DEFAULT).expect("notice file is JSON")
}

#[test]
fn the_default_notice_holds_the_seed_highlights() {
    let notice: Notice = serde_json::from_str(DEFAULT).expect("default notice is valid");
    let headings: Vec<_> = notice.sections.iter().map(|s| s.heading.as_str()).collect();
    assert_eq!(
        headings,
        [
            "Overview",
            "Web Sites Covered",
            "Statistical Information About Your Visit",
            "Qualys Supported Blogs and Forums",
            "Your Ability to Opt-Out of Further Notifications",
            "Our Security Procedures",
            "EU Safe Harbor",
            "How to Contact Qualys",
        ]
    );
    let covered: Vec<_> = notice.sections[1]
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Links(links) => Some(links.iter().map(|l| l.href.as_str())),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(
        covered,
        [
            "https://www.qualys.com/",
            "https://qualysguard.qualys.com/",
            "https://pci.qualys.com/",
            "https://freescan.qualys.com/",
            "https://sans20.qualys.com/",
            "https://freemap.qualys.com/",
        ]
    );
    let contact = notice.sections[7].blocks.iter().find_map(|b| match b {
        Block::Contact(c) => Some(c),
        _ => None,
    });
    let contact = contact.expect("contact block");
    assert!(contact
        .address
        .as_str()
        .contains("1600 Bridge Parkway, Suite 201"));
    assert_eq!(
        contact.telephone.as_ref().map(|t| t.text.as_str()),
        Some("650.801.6100")
    );
    assert_eq!(
        contact.fax.as_ref().map(|f| f.as_str()),
        Some("650.801.6101")
    );
    assert!(notice.full_statement.href.as_str().starts_with("https://"));
    assert!(notice
        .introduction
        .iter()
        .any(|i| matches!(i, Inline::Link(_))));

    let optional: Vec<_> = notice.optional_purposes().map(|p| p.id).collect();
    assert_eq!(
        optional,
        [
            PurposeId::NewProducts,
            PurposeId::Announcements,
            PurposeId::Upgrades,
            PurposeId::Updates
        ]
    );
    let mandatory: Vec<_> = notice.mandatory_purposes().map(|p| p.id).collect();
    assert_eq!(
        mandatory,
        [
            PurposeId::Security,
            PurposeId::InitialUse,
            PurposeId::Expiration,
            PurposeId::ProductEnhancement,
            PurposeId::Migration
        ]
    );
}

#[test]
fn the_hash_follows_content_not_formatting() {
    let notice: Notice = serde_json::from_str(DEFAULT).expect("valid");
    let compact: Notice = serde_json::from_str(&default_value().to_string()).expect("valid");
    assert_eq!(notice.hash(), compact.hash());

    let mut edited = default_value();
    edited["sections"][0]["heading"] = json!("Overview.");
    let edited: Notice = serde_json::from_value(edited).expect("valid");
    assert_ne!(edited.hash(), notice.hash());

    // A tiny notice with a pinned hash: the canonical form must never drift silently.
    let tiny: Notice = serde_json::from_value(json!({
        "id": "t", "version": "1", "language": "en", "organisation": "O", "title": "T", "summary": "S",
        "full_statement": {"text": "F", "href": "https://example.com/"},
        "introduction": [{"text": "I"}],
        "sections": [{"id": "s", "heading": "H", "blocks": [{"paragraph": [{"text": "P"}]}]}],
        "purposes": [{"id": "updates", "label": "U", "description": "D"}]
    }))
    .expect("valid");
    assert_eq!(
        tiny.hash().as_str(),
        "sha256:a20655f7f3b9b68bfb2a854fc42ee94a8286956d64c9d0a8a186258dc16e72a3"
    );
}

#[test]
fn unsafe_or_malformed_notices_are_refused() {
    type Mutation = Box<dyn Fn(&mut Value)>;
    let mutations: Vec<(&str, Mutation)> = vec![
        (
            "javascript: link",
            Box::new(|n| n["full_statement"]["href"] = json!("javascript:alert(1)")),
        ),
        (
            "http: link",
            Box::new(|n| {
                n["sections"][1]["blocks"][1]["links"][0]["href"] = json!("http://www.qualys.com")
            }),
        ),
        (
            "data: link",
            Box::new(|n| n["introduction"][1]["link"]["href"] = json!("data:text/html,x")),
        ),
        (
            "html block",
            Box::new(|n| n["sections"][0]["blocks"] = json!([{"html": "<b>x</b>"}])),
        ),
        (
            "unknown field",
            Box::new(|n| n["script"] = json!("alert(1)")),
        ),
        ("no sections", Box::new(|n| n["sections"] = json!([]))),
        (
            "duplicate purpose",
            Box::new(|n| n["purposes"][1]["id"] = json!("new_products")),
        ),
        (
            "unknown purpose",
            Box::new(|n| n["purposes"][0]["id"] = json!("tracking")),
        ),
        (
            "control character",
            Box::new(|n| n["title"] = json!("a\u{0}b")),
        ),
    ];
    for (name, mutate) in mutations {
        let mut doc = default_value();
        mutate(&mut doc);
        assert!(
            serde_json::from_value::<Notice>(doc).is_err(),
            "accepted: {name}"
        );
    }
}

#[test]
fn markup_in_text_stays_text() {
    let mut doc = default_value();
    doc["title"] = json!("<script>alert(1)</script><img src=x onerror=alert(1)>");
    let notice: Notice = serde_json::from_value(doc).expect("markup is just characters");
    assert_eq!(
        notice.title.as_str(),
        "<script>alert(1)</script><img src=x onerror=alert(1)>"
    );
}

/// The German and French highlights: valid notices of their own language (their own hash),
/// marked as convenience translations, with the English notice's id, version, sections and
/// purposes, so a record under either names the same choices.
#[test]
fn the_translated_notices_are_valid_convenience_translations_of_the_default() {
    let english: Notice = serde_json::from_str(DEFAULT).unwrap();
    for (language, text, convenience) in [
        (
            "de",
            include_str!("../../../notices/qualys-privacy-highlights.de.json"),
            "maßgeblich ist die englische Fassung",
        ),
        (
            "fr",
            include_str!("../../../notices/qualys-privacy-highlights.fr.json"),
            "seule la version anglaise",
        ),
    ] {
        let notice: Notice = serde_json::from_str(text).unwrap();
        assert_eq!(notice.language.as_str(), language);
        assert_eq!(notice.id, english.id);
        assert_eq!(notice.version, english.version);
        assert_ne!(
            notice.hash(),
            english.hash(),
            "{language}: a hash of its own"
        );
        let ids = |n: &Notice| n.purposes.iter().map(|p| p.id).collect::<Vec<_>>();
        assert_eq!(ids(&notice), ids(&english), "{language}: the same purposes");
        let sections = |n: &Notice| n.sections.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
        assert_eq!(
            sections(&notice),
            sections(&english),
            "{language}: the same sections"
        );
        let opening = serde_json::to_string(&notice.introduction).unwrap();
        assert!(
            opening.contains(convenience),
            "{language}: says the English prevails"
        );
    }
}

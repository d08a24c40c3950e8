//! Language files for the browser tests, as the release serves them.

use serde_json::{json, Value};

const LOCALES: [(&str, &str); 5] = [
    ("de", include_str!("../../locales/de.json")),
    ("es", include_str!("../../locales/es.json")),
    ("ar", include_str!("../../locales/ar.json")),
    ("fr", include_str!("../../locales/fr.json")),
    ("ga", include_str!("../../locales/ga.json")),
];

/// `locales/<tag>.json` as written, for one of the test languages.
pub fn source(tag: &str) -> Value {
    let (_, text) = LOCALES
        .iter()
        .find(|(t, _)| *t == tag)
        .expect("a test language");
    serde_json::from_str(text).expect("locale JSON")
}

/// `locales/<tag>.json` in the form the release serves: the messages as a list in the
/// order the catalogue takes them, `rtl`, the purposes, and the notice's translation if given.
pub fn served(tag: &str, notice: Option<&str>) -> Value {
    let locale = source(tag);
    let messages = &locale["messages"];
    let mut file = json!({
        "language": locale["language"],
        "rtl": locale["dir"] == "rtl",
        "messages": assent::messages::KEYS.map(|key| messages[key].clone()),
        "purposes": locale["purposes"],
    });
    if let Some(notice) = notice {
        file["notice"] = serde_json::from_str(notice).expect("notice JSON");
    }
    file
}

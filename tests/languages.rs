//! The widget in another language: a language file as the loader hands it over
//! (`scripts/build-locales.mjs`'s form), what it changes on screen and in the record, and
//! the files it refuses. Which language is chosen, and the SRI check, are the loader's:
//! `e2e/tests/languages.test.js`.
#![cfg(target_arch = "wasm32")]

mod common;

use assent::config::ScriptAttributes;
use assent::locale::{self, Locale, LocaleError};
use assent::notice;
use assent::widget::{self, Started};
use common::locales::{served, source};
use common::*;
use serde_json::{json, Value};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const GERMAN_NOTICE: &str = include_str!("../notices/qualys-privacy-highlights.de.json");

/// The language an element is read in: its own `lang`, or its nearest ancestor's.
fn language_of(host: &Started, selector: &str) -> Option<String> {
    find(host, selector)
        .and_then(|element| element.closest("[lang]").ok().flatten())
        .and_then(|element| element.get_attribute("lang"))
}

fn js(value: &Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).expect("JSON")
}

fn read(value: &Value) -> Result<Locale, LocaleError> {
    locale::read(&js(value))
}

#[wasm_bindgen_test]
fn a_language_file_gives_every_word_in_that_language() {
    let german = read(&served("de", Some(GERMAN_NOTICE))).expect("a valid file");
    let words = source("de");
    let m = german.messages;
    assert_eq!(m.language, "de");
    assert!(!m.rtl);
    assert_eq!(m.decline_all, words["messages"]["decline_all"]);
    assert_eq!(m.always_on, words["messages"]["always_on"]);
    assert_eq!(m.download_receipt, words["messages"]["download_receipt"]);
    let notice = german.notice.expect("the German notice");
    assert_eq!(notice.language.as_str(), "de");

    let arabic = read(&served("ar", None)).expect("a valid file");
    assert!(arabic.messages.rtl, "Arabic is written right to left");
    assert!(
        arabic.notice.is_none(),
        "no Arabic notice: the English one is shown"
    );
}

#[wasm_bindgen_test]
fn a_file_missing_a_word_or_with_a_broken_notice_is_refused() {
    let mut short = served("de", None);
    short["messages"].as_array_mut().expect("list").pop();
    assert!(matches!(read(&short), Err(LocaleError::Messages)));

    let mut not_text = served("de", None);
    not_text["messages"][0] = json!(7);
    assert!(matches!(read(&not_text), Err(LocaleError::Messages)));

    let mut bad_tag = served("de", None);
    bad_tag["language"] = json!("deutsch language");
    assert!(matches!(read(&bad_tag), Err(LocaleError::Language)));

    let mut notice: Value = serde_json::from_str(GERMAN_NOTICE).expect("notice JSON");
    notice["full_statement"]["href"] = json!("javascript:alert(1)");
    let mut bad_notice = served("de", None);
    bad_notice["notice"] = notice;
    assert!(matches!(read(&bad_notice), Err(LocaleError::Notice(_))));

    assert!(
        locale::from_loader(&js(&short)).is_none(),
        "the loader's file is refused: English"
    );
    assert!(locale::from_loader(&JsValue::NULL).is_none(), "English");
}

#[wasm_bindgen_test]
fn purposes_are_translated_all_or_none() {
    let spanish = read(&served("es", None)).expect("a valid file");
    let english = notice::embedded().expect("embedded notice");
    let mut translated = english.clone();
    spanish
        .translate_purposes(&mut translated)
        .expect("every purpose");
    let words = source("es");
    for purpose in &translated.purposes {
        let id = purpose.id.as_str();
        assert_eq!(purpose.label.as_str(), words["purposes"][id]["label"]);
        assert_eq!(
            purpose.description.as_str(),
            words["purposes"][id]["description"]
        );
    }

    let mut missing = served("es", None);
    missing["purposes"]
        .as_object_mut()
        .expect("purposes")
        .remove("migration");
    let partial = read(&missing).expect("the words are fine");
    let mut notice = english.clone();
    assert!(matches!(
        partial.translate_purposes(&mut notice),
        Err(LocaleError::Purpose("migration"))
    ));
    assert_eq!(notice, english, "none translated");
}

#[wasm_bindgen_test]
async fn a_spanish_visitor_reads_spanish_and_the_record_says_so_with_the_english_hash() {
    stub_fetch();
    route(ENDPOINT, 201, "{}");
    let spanish = read(&served("es", None)).expect("a valid file");
    let started = widget::start(
        &attributes("es.test"),
        false,
        Some(spanish),
        common::place(),
    )
    .await
    .expect("starts");
    settle().await;
    let words = source("es");
    let root = find(&started, ".assent").expect("the widget's root");
    assert_eq!(root.get_attribute("lang").as_deref(), Some("es"));
    assert_eq!(root.get_attribute("dir").as_deref(), Some("ltr"));
    assert_eq!(
        text(&started, ".banner [data-action=decline-all]").trim(),
        words["messages"]["decline_all"]
    );
    let summary = find(&started, ".banner .summary").expect("summary");
    assert_eq!(
        summary.get_attribute("lang").as_deref(),
        Some("en"),
        "the English notice is marked as English"
    );

    open(&started).await;
    assert_eq!(
        text(&started, "li[data-purpose=security] .description").trim(),
        words["purposes"]["security"]["description"],
        "a locked purpose's reason in Spanish"
    );
    assert_eq!(
        language_of(&started, "li[data-purpose=updates] label").as_deref(),
        Some("es"),
        "translated purposes: Spanish, as the widget"
    );
    // The widget's own words inside the English notice are marked Spanish.
    let telephone = words["messages"]["telephone"].as_str().expect("telephone");
    assert!(text(&started, ".contact .line[lang]").starts_with(telephone));
    assert_eq!(
        language_of(&started, ".contact .line[lang]").as_deref(),
        Some("es"),
        "and read as Spanish"
    );
    click(&started, "[data-action=decline-all]").await;
    let records = posted_records_once(1).await;
    let english_hash = notice::embedded()
        .expect("embedded notice")
        .hash()
        .to_string();
    assert_eq!(records[0]["language"], "es");
    assert_eq!(
        records[0]["notice"]["hash"], english_hash,
        "the hash of the notice that prevails, not of the translated labels"
    );
    restore_fetch();
    remove(&started);
}

/// The contact block's labels end as each language writes a label before a number: French
/// with a no-break space before the colon (the catalogue's words, separator included).
#[wasm_bindgen_test]
async fn the_contact_lines_are_written_as_each_language_writes_them() {
    for (tag, telephone, fax) in [
        ("en", "Telephone: 650.801.6100", "Fax: 650.801.6101"),
        (
            "fr",
            "T\u{e9}l\u{e9}phone\u{a0}: 650.801.6100",
            "Fax\u{a0}: 650.801.6101",
        ),
    ] {
        let locale = (tag != "en").then(|| read(&served(tag, None)).expect("a valid file"));
        let site = format!("{tag}.contact.test");
        let started = widget::start(&attributes(&site), true, locale, common::place())
            .await
            .expect("starts");
        settle().await;
        let lines: Vec<String> = find_all(&started, ".contact .line[lang]")
            .iter()
            .filter_map(|line| line.text_content())
            .collect();
        assert_eq!(lines, [telephone, fax], "{tag}");
        remove(&started);
    }
}

/// A site's own notice is not translated: its purposes, in its language, are marked as the
/// summary is, for a screen reader to read them in that language.
#[wasm_bindgen_test]
async fn the_purposes_of_a_sites_own_notice_are_marked_in_its_language() {
    stub_fetch();
    route("https://notices.test/", 200, notice::EMBEDDED_JSON);
    let started = widget::start(
        &ScriptAttributes {
            notice: Some("https://notices.test/own.json".into()),
            ..attributes("own.es.test")
        },
        false,
        Some(read(&served("es", None)).expect("a valid file")),
        common::place(),
    )
    .await
    .expect("starts");
    settle().await;
    open(&started).await;
    for part in ["label", ".description"] {
        let selector = format!("li[data-purpose=updates] {part}");
        assert_eq!(
            language_of(&started, &selector).as_deref(),
            Some("en"),
            "{part}"
        );
        let direction = find(&started, &selector)
            .and_then(|element| element.closest("[dir]").ok().flatten())
            .and_then(|element| element.get_attribute("dir"));
        assert_eq!(direction.as_deref(), Some("auto"), "{part}");
    }
    assert_eq!(
        language_of(&started, "li[data-purpose=security] .badge").as_deref(),
        Some("es"),
        "the widget's own words stay Spanish"
    );
    let english = notice::embedded().expect("embedded notice");
    assert_eq!(
        text(&started, "li[data-purpose=updates] label").trim(),
        english
            .purposes
            .iter()
            .find(|p| p.id.as_str() == "updates")
            .expect("updates")
            .label
            .as_str(),
        "the notice's own words"
    );
    route(ENDPOINT, 201, "{}");
    click(&started, "[data-action=decline-all]").await;
    assert_eq!(
        posted_records_once(1).await[0]["language"],
        "en",
        "the record names the language the notice was read in"
    );
    restore_fetch();
    remove(&started);
}

/// In a right-to-left language the receipt number keeps its own order: one whose first
/// group is all digits and whose second starts with a letter (about one in 110) showed that
/// group at its end.
#[wasm_bindgen_test]
async fn in_arabic_the_receipt_number_is_laid_out_in_its_own_order() {
    stub_fetch();
    route_receipt(ENDPOINT, 201);
    fix_random_bytes("12345678abcdef0189ab0123456789ab");
    let site = "ar-receipt.test";
    let arabic = read(&served("ar", None)).expect("a valid file");
    let started = widget::start(&attributes(site), false, Some(arabic), common::place())
        .await
        .expect("starts");
    settle().await;
    click(&started, ".banner [data-action=decline-all]").await;
    let records = posted_records_once(1).await;
    restore_random_bytes();
    assert_eq!(
        records[0]["record_id"], "12345678-abcd-4f01-89ab-0123456789ab",
        "the id made of the bytes given"
    );
    assert!(
        wait_until(3000, || get_item(&format!("assent:v1:{site}:receipt"))
            .is_some())
        .await,
        "the receipt is kept"
    );
    assert!(
        shows_on_reopening(&started, ".receipt-id").await,
        "the receipt appears in the preferences"
    );
    settle().await;
    let number = find(&started, ".receipt-id").expect("the receipt number");
    assert_eq!(
        number
            .closest("[dir]")
            .ok()
            .flatten()
            .and_then(|e| e.get_attribute("dir"))
            .as_deref(),
        Some("rtl")
    );
    let id = "12345678-abcd-4f01-89ab-0123456789ab";
    assert_eq!(number.text_content().as_deref().map(str::trim), Some(id));
    assert!(laid_out_in_order(&number, id));
    restore_fetch();
    remove(&started);
}

/// The receipt's date is read in the language it is written in: German in a German widget;
/// in an Irish one, where the browser has no Irish date format (Chromium has none), its
/// default language's, which the date is marked with (it was English inside lang="ga").
#[wasm_bindgen_test]
async fn the_receipt_date_is_marked_with_the_language_it_is_written_in() {
    for tag in ["de", "ga"] {
        stub_fetch();
        route_receipt(ENDPOINT, 201);
        let site = format!("{tag}-receipt-date.test");
        let words = read(&served(tag, None)).expect("a valid file");
        let started = widget::start(&attributes(&site), false, Some(words), common::place())
            .await
            .expect("starts");
        settle().await;
        click(&started, ".banner [data-action=decline-all]").await;
        posted_records_once(1).await;
        assert!(
            shows_on_reopening(&started, ".receipt time").await,
            "the receipt appears in the preferences"
        );
        // The language the browser writes this tag's dates in.
        let options = js_sys::Object::new();
        let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::of1(&tag.into()), &options);
        let written_in = js_sys::Reflect::get(&format.resolved_options(), &"locale".into())
            .ok()
            .and_then(|locale| locale.as_string())
            .expect("a resolved locale");
        if tag == "de" {
            assert_eq!(written_in, "de", "German dates, written in German");
        }
        assert_eq!(
            language_of(&started, ".receipt time"),
            Some(written_in),
            "{tag}"
        );
        restore_fetch();
        remove(&started);
    }
}

#[wasm_bindgen_test]
async fn the_loader_entry_point_takes_the_language_file() {
    stub_fetch();
    let host = boot_in(
        r#"{"site": "de.test"}"#,
        js(&served("de", Some(GERMAN_NOTICE))),
    )
    .await;
    let title = host
        .shadow_root()
        .expect("open shadow root")
        .query_selector(".banner .summary")
        .expect("selector")
        .and_then(|summary| summary.text_content())
        .unwrap_or_default();
    let german: Value = serde_json::from_str(GERMAN_NOTICE).expect("notice JSON");
    assert_eq!(
        title.trim(),
        german["summary"],
        "the German notice's summary"
    );
    restore_fetch();
    host.remove();
}

//! What a visitor sees and what each way of choosing records.
#![cfg(target_arch = "wasm32")]

mod common;

use assent::notice;
use common::*;
use serde_json::{json, Value};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn embedded_hash() -> String {
    notice::embedded()
        .expect("embedded notice")
        .hash()
        .to_string()
}

const OPTIONAL: [&str; 4] = ["new_products", "announcements", "upgrades", "updates"];
const MANDATORY: [&str; 5] = [
    "security",
    "initial_use",
    "expiration",
    "product_enhancement",
    "migration",
];

/// The purposes a record must list, in canonical order, with these optional states.
fn expected_purposes(granted: [bool; 4]) -> Value {
    let optional = OPTIONAL.iter().zip(granted).map(|(id, on)| {
        json!({"purpose": id, "basis": "consent", "state": if on { "granted" } else { "denied" }})
    });
    let mandatory = MANDATORY
        .iter()
        .map(|id| json!({"purpose": id, "basis": "contract"}));
    Value::Array(optional.chain(mandatory).collect())
}

/// Checks every field of a record made on `site` just now.
fn assert_record(record: &Value, site: &str, granted: [bool; 4]) {
    let keys: Vec<&str> = record
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "client_time",
            "gpc",
            "language",
            "notice",
            "purposes",
            "record_id",
            "site",
            "widget_version"
        ],
        "exactly these fields, and no e-mail for an anonymous visitor"
    );
    let id = record["record_id"].as_str().expect("record id");
    let id = uuid::Uuid::parse_str(id).expect("record id is a UUID");
    assert_eq!(id.get_version_num(), 4);
    assert_eq!(record["site"], site);
    assert_eq!(
        record["notice"],
        json!({"id": "qualys-privacy-highlights", "version": "2011-12-31", "hash": embedded_hash()})
    );
    assert_eq!(record["language"], "en");
    assert_eq!(record["purposes"], expected_purposes(granted));
    assert_eq!(record["gpc"], false);
    assert_eq!(record["widget_version"], env!("CARGO_PKG_VERSION"));
    let client_time = record["client_time"].as_str().expect("client time");
    let parsed = js_sys::Date::parse(client_time);
    assert!(
        (js_sys::Date::now() - parsed).abs() < 60_000.0,
        "client time is now: {client_time}"
    );
}

#[wasm_bindgen_test]
async fn first_visit_shows_a_banner_with_equal_choices() {
    let w = start(attributes("banner.test")).await;
    assert!(banner_shown(&w));
    assert!(
        text(&w, ".banner .summary").contains("new products, announcements, upgrades and updates")
    );
    let accept = find(&w, ".banner [data-action=accept-all]").expect("accept");
    let decline = find(&w, ".banner [data-action=decline-all]").expect("decline");
    assert_eq!(
        accept.class_name(),
        decline.class_name(),
        "neither choice is styled to nudge"
    );
    assert_eq!(accept.text_content().as_deref(), Some("Accept all"));
    assert_eq!(decline.text_content().as_deref(), Some("Decline all"));
    assert_eq!(
        find(&w, ".banner")
            .and_then(|b| b.get_attribute("aria-label"))
            .as_deref(),
        Some("Privacy notice")
    );
    assert!(
        find(&w, "[role=dialog]").is_none(),
        "the highlights wait to be asked for"
    );
    remove(&w);
}

#[wasm_bindgen_test]
async fn the_highlights_show_every_section_and_the_full_statement() {
    let w = start(attributes("sections.test")).await;
    click(&w, ".banner [data-action=open]").await;

    let dialog = find(&w, "[role=dialog]").expect("dialog");
    let title_id = dialog.get_attribute("aria-labelledby").expect("labelled");
    assert_eq!(text(&w, &format!("#{title_id}")), "Privacy highlights");

    let headings: Vec<String> = find_all(&w, ".notice-section h3")
        .iter()
        .filter_map(|h| h.text_content())
        .collect();
    // The notice's own content is pinned by the record crate's tests; here: every
    // section of it is on screen, in order.
    let expected: Vec<String> = notice::embedded()
        .expect("embedded notice")
        .sections
        .iter()
        .map(|s| s.heading.to_string())
        .collect();
    assert_eq!(headings.len(), 8);
    assert_eq!(headings, expected);
    let covered: Vec<String> = find_all(&w, "[data-section=web-sites-covered] ul.links a")
        .iter()
        .filter_map(|a| a.get_attribute("href"))
        .collect();
    assert_eq!(covered.len(), 6);
    assert!(covered
        .iter()
        .all(|href| href.starts_with("https://") && href.contains("qualys.com")));
    let contact = text(&w, "[data-section=contact] address");
    for part in [
        "1600 Bridge Parkway, Suite 201",
        "Redwood Shores, CA 94065",
        "650.801.6100",
        "650.801.6101",
    ] {
        assert!(
            contact.contains(part),
            "contact block lacks {part}: {contact}"
        );
    }
    let statement = find(&w, ".full-statement a").expect("full statement link");
    assert_eq!(
        statement.get_attribute("href").as_deref(),
        Some("https://www.qualys.com/company/privacy/statement/")
    );
    assert_eq!(
        statement.get_attribute("rel").as_deref(),
        Some("noopener noreferrer")
    );
    assert!(text(&w, ".introduction").contains("high-level summary"));
    remove(&w);
}

#[wasm_bindgen_test]
async fn mandatory_purposes_are_shown_locked_with_a_reason() {
    stub_fetch();
    route(ENDPOINT, 201, "{}");
    let w = start(attributes("locked.test")).await;
    click(&w, ".banner [data-action=open]").await;
    assert_eq!(text(&w, ".purposes:has(.locked) legend"), "Not optional");
    assert_eq!(
        text(&w, ".purposes:not(:has(.locked)) legend"),
        "Your choice"
    );
    for id in MANDATORY {
        let input = checkbox(&w, id);
        assert!(input.checked() && input.disabled(), "{id} is on and locked");
        assert!(
            find(&w, &format!("li.purpose.locked[data-purpose={id}]")).is_some(),
            "{id} is drawn locked"
        );
        assert!(text(&w, &format!("li[data-purpose={id}] .badge")).contains("Always on"));
        // What the statement says of them, nothing it does not ("you may not opt out of
        // receiving information regarding the security, … of our products or services").
        let description = text(&w, &format!("li[data-purpose={id}] .description"));
        assert!(
            description.starts_with("Information about ")
                && description.ends_with(" of Qualys products or services."),
            "{id}: {description}"
        );
        // A click on a disabled control does nothing, so the lock is tried as a host
        // script could: enabled first.
        input.set_disabled(false);
        input.click();
    }
    for id in OPTIONAL {
        let input = checkbox(&w, id);
        assert!(
            !input.checked() && !input.disabled(),
            "{id} is the visitor's choice, off until chosen"
        );
        assert!(
            find(&w, &format!("li.purpose:not(.locked)[data-purpose={id}]")).is_some(),
            "{id} is not drawn locked"
        );
    }
    settle().await;
    for id in MANDATORY {
        assert!(
            checkbox(&w, id).checked(),
            "{id} stays on after a click, even enabled"
        );
    }
    click(&w, "[data-action=save]").await;
    assert_record(
        &stored_choice("locked.test").expect("stored"),
        "locked.test",
        [false; 4],
    );
    restore_fetch();
    remove(&w);
}

#[wasm_bindgen_test]
async fn accept_all_records_every_optional_notice_granted() {
    stub_fetch();
    route(ENDPOINT, 201, "{}");
    listen_changes();
    let w = start(attributes("accept.test")).await;
    click(&w, ".banner [data-action=accept-all]").await;

    assert!(!banner_shown(&w), "the banner goes away");
    let stored = stored_choice("accept.test").expect("choice persisted");
    assert_record(&stored, "accept.test", [true; 4]);
    assert_eq!(
        posted_records_once(1).await,
        std::slice::from_ref(&stored),
        "the same record is posted once"
    );
    assert_eq!(
        change_events(),
        [stored],
        "assent:change carries the record"
    );
    let call = &requests()[0];
    assert_eq!(call["url"], ENDPOINT);
    assert_eq!(call["credentials"], "omit");
    assert_eq!(
        call["contentType"], "text/plain",
        "JSON in a CORS-simple request: no preflight"
    );
    assert!(
        stored_outbox("accept.test").is_empty(),
        "a 2xx empties the outbox"
    );
    restore_fetch();
    remove(&w);
}

#[wasm_bindgen_test]
async fn decline_all_records_every_optional_notice_denied() {
    stub_fetch();
    route(ENDPOINT, 201, "{}");
    let w = start(attributes("decline.test")).await;
    click(&w, ".banner [data-action=decline-all]").await;
    let stored = stored_choice("decline.test").expect("choice persisted");
    assert_record(&stored, "decline.test", [false; 4]);
    assert_eq!(posted_records_once(1).await, [stored]);
    restore_fetch();
    remove(&w);
}

#[wasm_bindgen_test]
async fn a_custom_choice_records_each_toggle() {
    stub_fetch();
    route(ENDPOINT, 201, "{}");
    let w = start(attributes("custom.test")).await;
    click(&w, ".banner [data-action=open]").await;
    click(&w, "li[data-purpose=announcements] input").await;
    click(&w, "li[data-purpose=updates] input").await;
    click(&w, "li[data-purpose=updates] input").await;
    click(&w, "li[data-purpose=upgrades] input").await;
    click(&w, "[data-action=save]").await;

    assert!(
        find(&w, "[role=dialog]").is_none(),
        "saving closes the highlights"
    );
    let stored = stored_choice("custom.test").expect("choice persisted");
    assert_record(&stored, "custom.test", [false, true, true, false]);
    assert_eq!(posted_records_once(1).await, [stored]);
    assert_eq!(text(&w, "[role=alert]"), "Your choices are saved.");
    restore_fetch();
    remove(&w);
}

/// Each save is announced: the status line says the same words each time, so it empties
/// when the highlights open, and the next save's words are a change screen readers announce.
#[wasm_bindgen_test]
async fn a_second_save_on_the_same_page_is_announced_again() {
    stub_fetch();
    route(ENDPOINT, 201, "{}");
    let w = start(attributes("again.test")).await;
    click(&w, ".banner [data-action=decline-all]").await;
    assert_eq!(text(&w, "[role=alert]"), "Your choices are saved.");
    open(&w).await;
    second_save_announced(&w, &["li[data-purpose=updates] input"]).await;
    restore_fetch();
    remove(&w);
}

/// Toggles left unsaved are not the choice: closing the highlights puts back the saved ones,
/// which opening them again shows, and the page's API still states.
#[wasm_bindgen_test]
async fn toggles_closed_unsaved_are_back_as_saved_when_the_highlights_open_again() {
    let w = start(attributes("unsaved.test")).await;
    click(&w, ".banner [data-action=decline-all]").await;
    open(&w).await;
    click(&w, "li[data-purpose=new_products] input").await;
    assert!(checkbox(&w, "new_products").checked());
    click(&w, "[data-action=close]").await;
    assert!(find(&w, "[role=dialog]").is_none());

    open(&w).await;
    assert!(
        !checkbox(&w, "new_products").checked(),
        "the declined choice, not the unsaved toggle"
    );
    let stored = stored_choice("unsaved.test").expect("choice persisted");
    assert_record(&stored, "unsaved.test", [false; 4]);
    remove(&w);
}

#[wasm_bindgen_test]
async fn escape_closes_the_highlights_back_to_the_banner() {
    let w = start(attributes("escape.test")).await;
    click(&w, ".banner [data-action=open]").await;
    let dialog = find(&w, "[role=dialog]").expect("dialog");
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("Escape");
    init.set_bubbles(true);
    let event =
        web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("event");
    dialog.dispatch_event(&event).expect("dispatched");
    settle().await;
    assert!(find(&w, "[role=dialog]").is_none());
    assert!(banner_shown(&w), "no choice yet, so the banner is back");
    assert!(
        stored_choice("escape.test").is_none(),
        "closing is not choosing"
    );
    remove(&w);
}

#[wasm_bindgen_test]
async fn the_banner_stays_drawn_until_the_dialog_over_it_is_open() {
    let w = start(attributes("under.test")).await;
    let banner = find(&w, "section.banner").expect("banner");
    click(&w, ".banner [data-action=open]").await;
    assert!(
        find(&w, "dialog[open]").is_some(),
        "the highlights are open"
    );
    assert!(!banner_shown(&w), "the banner is not displayed under them");
    assert!(
        banner.is_connected(),
        "but still drawn: had it gone with the render that drew the dialog, a frame between \
         that render and the effect that opens the dialog would show neither"
    );
    click(&w, "[data-action=close]").await;
    assert!(
        banner_shown(&w),
        "closed without a choice: the banner is back"
    );
    assert!(
        find(&w, "section.banner").is_some_and(|again| again == banner),
        "the same banner, never taken down"
    );
    click(&w, ".banner [data-action=open]").await;
    click(&w, "[data-action=save]").await;
    assert!(
        find(&w, "section.banner").is_none(),
        "a choice saved from the highlights takes the banner down with them"
    );
    remove(&w);
}

#[wasm_bindgen_test]
async fn closing_the_highlights_gives_focus_back_to_the_banner_button_that_opened_them() {
    use wasm_bindgen::JsCast;
    let w = start(attributes("focus-banner.test")).await;
    let more: web_sys::HtmlElement = find(&w, ".banner [data-action=open]")
        .expect("the banner's button")
        .unchecked_into();
    // As a keyboard user gets there: focus on the button, then Enter (a click). Focus
    // comes back through the modal dialog's own focus restoring (the document only sees
    // the shadow host as focused).
    more.focus().expect("focus");
    click(&w, ".banner [data-action=open]").await;
    assert_eq!(
        shadow(&w).active_element().map(|e| e.id()).as_deref(),
        Some("assent-title")
    );
    click(&w, "[data-action=close]").await;
    assert!(banner_shown(&w), "no choice made: the banner is back");
    let back = shadow(&w).active_element();
    assert!(
        back.as_ref() == Some(more.unchecked_ref::<web_sys::Element>()),
        "focus returned to the banner's button, not to the page: {:?}",
        back.map(|e| e.outer_html())
    );
    remove(&w);
}

#[wasm_bindgen_test]
async fn the_highlights_take_focus_and_give_it_back() {
    use wasm_bindgen::JsCast;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("document");
    let link: web_sys::HtmlElement = document
        .create_element("button")
        .expect("button")
        .unchecked_into();
    link.set_text_content(Some("Privacy choices"));
    document
        .body()
        .expect("body")
        .append_child(&link)
        .expect("appended");
    link.focus().expect("focus");

    let w = start(attributes("focus.test")).await;
    open(&w).await;
    let focused = shadow(&w)
        .active_element()
        .expect("focus is inside the widget");
    assert_eq!(focused.id(), "assent-title", "the dialog's title has focus");
    click(&w, "[data-action=close]").await;
    let back = document.active_element().expect("focus");
    assert!(
        back == *link.unchecked_ref::<web_sys::Element>(),
        "focus returned to the host's control"
    );
    link.remove();
    remove(&w);
}

#[wasm_bindgen_test]
async fn hostile_notice_text_is_shown_as_text() {
    let payload = r#"<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">"#;
    let mut doc: Value = serde_json::from_str(notice::EMBEDDED_JSON).expect("json");
    doc["title"] = json!(payload);
    doc["summary"] = json!(payload);
    doc["sections"][0]["heading"] = json!(payload);
    doc["sections"][0]["blocks"] = json!([{"paragraph": [{"text": payload}, {"link": {"text": payload, "href": "https://example.com/"}}]}]);
    doc["purposes"][0]["label"] = json!(payload);
    stub_fetch();
    route("https://notices.test/", 200, &doc.to_string());
    let w = start(assent::config::ScriptAttributes {
        notice: Some("https://notices.test/hostile.json".into()),
        ..attributes("hostile.test")
    })
    .await;
    assert_eq!(text(&w, ".banner .summary"), payload);
    click(&w, ".banner [data-action=open]").await;
    assert_eq!(text(&w, "#assent-title"), payload);
    assert_eq!(text(&w, "[data-section=overview] h3"), payload);
    assert_eq!(text(&w, "[data-section=overview] p a"), payload);
    assert_eq!(text(&w, "li[data-purpose=new_products] label"), payload);
    assert!(
        find_all(&w, "script, img").is_empty(),
        "no element was made from notice text"
    );
    settle().await;
    let pwned =
        js_sys::Reflect::get(&web_sys::window().expect("window"), &"__pwned".into()).expect("get");
    assert!(pwned.is_undefined(), "no script ran");
    restore_fetch();
    remove(&w);
}

//! The choice outlives the page, survives broken storage, follows the notice, and reaches
//! the endpoint even when the network fails first.
#![cfg(target_arch = "wasm32")]

mod common;

use assent::config::ScriptAttributes;
use assent::notice;
use assent::widget::Started;
use common::*;
use serde_json::{json, Value};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn a_returning_visitor_sees_no_banner_and_can_reopen() {
    stub_fetch();
    route(ENDPOINT, 201, "{}");
    let first = start(attributes("return.test")).await;
    click(&first, ".banner [data-action=accept-all]").await;
    remove(&first);

    let again = start(attributes("return.test")).await;
    assert!(!banner_shown(&again), "no banner after a choice");
    assert!(find(&again, "[role=dialog]").is_none());
    assert_eq!(
        Some(json_of(&again.widget.preferences())),
        stored_choice("return.test"),
        "the stored choice is the current one"
    );
    open(&again).await;
    assert!(
        find(&again, "[role=dialog]").is_some(),
        "reopened from the API"
    );
    assert!(
        checkbox(&again, "updates").checked(),
        "shows the stored choice"
    );
    let records = toggle_and_save(&again, "updates", 2).await;
    assert_eq!(records.len(), 2, "a change is a second record");
    assert_ne!(records[0]["record_id"], records[1]["record_id"]);
    assert_eq!(
        records[1]["purposes"][3],
        json!({"purpose": "updates", "basis": "consent", "state": "denied"})
    );
    assert_eq!(stored_choice("return.test"), Some(records[1].clone()));
    restore_fetch();
    remove(&again);
}

#[wasm_bindgen_test]
async fn a_changed_notice_asks_again() {
    stub_fetch();
    route(ENDPOINT, 201, "{}");
    let w = start(attributes("changed.test")).await;
    click(&w, ".banner [data-action=decline-all]").await;
    remove(&w);

    let mut doc: Value = serde_json::from_str(notice::EMBEDDED_JSON).expect("json");
    doc["version"] = json!("2012-01-01");
    doc["sections"][0]["heading"] = json!("Overview (revised)");
    route("https://notices.test/", 200, &doc.to_string());
    let revised = start(ScriptAttributes {
        notice: Some("https://notices.test/revised.json".into()),
        ..attributes("changed.test")
    })
    .await;
    assert!(banner_shown(&revised), "a new notice version asks again");
    click(&revised, ".banner [data-action=accept-all]").await;
    let stored = stored_choice("changed.test").expect("stored");
    assert_eq!(stored["notice"]["version"], "2012-01-01");
    assert_ne!(
        stored["notice"]["hash"],
        notice::embedded().expect("embedded").hash().to_string()
    );
    restore_fetch();
    remove(&revised);
}

#[wasm_bindgen_test]
async fn corrupt_or_foreign_storage_is_survived() {
    stub_fetch();
    route(ENDPOINT, 201, "{}");
    set_item("assent:v1:corrupt.test:choice", "{not json");
    set_item("assent:v1:corrupt.test:outbox", "[1, {\"record_id\": 2}]");
    let w = start(attributes("corrupt.test")).await;
    assert!(banner_shown(&w), "an unreadable choice means asking again");
    click(&w, ".banner [data-action=accept-all]").await;
    assert!(
        stored_choice("corrupt.test").is_some(),
        "the new choice replaced the corrupt one"
    );
    // The send starts after the click's render; wait for it, then for anything after it.
    posted_records_once(1).await;
    settle().await;
    assert_eq!(posted_records().len(), 1, "only the valid record was sent");
    remove(&w);

    // A valid record of another site under this site's key is not this visitor's choice here.
    let foreign = stored_choice("corrupt.test").expect("stored");
    set_item("assent:v1:foreign.test:choice", &foreign.to_string());
    let w = start(attributes("foreign.test")).await;
    assert!(banner_shown(&w));
    restore_fetch();
    remove(&w);
}

/// Unreadable outbox entries are dropped from storage too, the valid ones kept: the loader
/// fetches the wasm on every page while the outbox is not empty.
#[wasm_bindgen_test]
async fn unreadable_outbox_entries_leave_storage() {
    stub_fetch();
    route(ENDPOINT, 201, "{}");
    remove(&answered("dropped.test", "accept-all").await);
    let valid = stored_choice("dropped.test").expect("stored");
    let key = "assent:v1:dropped.test:outbox";
    let read = |key: &str| get_item(key).and_then(|text| serde_json::from_str::<Value>(&text).ok());
    for (outbox, left) in [
        ("{not json".to_owned(), json!([])),
        ("[1, \"x\"]".to_owned(), json!([])),
        (format!("[1, {valid}]"), json!([valid])),
    ] {
        // Delivery fails, so that a valid record stays in the outbox.
        stub_fetch();
        route(ENDPOINT, 503, "{}");
        set_item(key, &outbox);
        let w = start(attributes("dropped.test")).await;
        assert!(!banner_shown(&w), "the stored choice stands");
        assert!(
            wait_until(2000, || read(key).as_ref() == Some(&left)).await,
            "{outbox}: left {:?}, not {left}",
            get_item(key)
        );
        remove(&w);
    }
    restore_fetch();
}

/// The wasm stack is 32 KiB (`.cargo/config.toml`). Storage is parsed by the browser's
/// JSON.parse and read into types that do not nest: an outbox and a choice nested 126
/// levels deep, and far deeper, are refused without running out of stack.
#[wasm_bindgen_test]
async fn deeply_nested_storage_fits_in_the_stack() {
    for depth in [126, 100_000] {
        stub_fetch();
        route(ENDPOINT, 201, "{}");
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        set_item("assent:v1:deep.test:outbox", &format!("[{nested}]"));
        set_item(
            "assent:v1:deep.test:choice",
            &format!("{{\"record_id\":{nested}}}"),
        );
        let w = start(attributes("deep.test")).await;
        assert!(
            banner_shown(&w),
            "depth {depth}: an unreadable choice means asking again"
        );
        click(&w, ".banner [data-action=accept-all]").await;
        posted_records_once(1).await;
        settle().await;
        assert_eq!(
            posted_records().len(),
            1,
            "depth {depth}: only the new record was sent"
        );
        restore_fetch();
        remove(&w);
    }
}

/// Storage is read with the record crate's rules, as the collector reads a POST: a record
/// with a field the schema does not have (at its top or in its notice), or with a bad site,
/// is not a record.
#[wasm_bindgen_test]
async fn stored_records_are_checked_like_posted_ones() {
    stub_fetch();
    route(ENDPOINT, 201, "{}");
    let w = start(attributes("strict.test")).await;
    click(&w, ".banner [data-action=decline-all]").await;
    remove(&w);
    let valid = stored_choice("strict.test").expect("stored");
    let with = |field: &str, value: Value| {
        let mut record = valid.clone();
        record[field] = value;
        record
    };
    let unknown_field = with("ip", json!("203.0.113.9"));
    set_item("assent:v1:strict.test:choice", &unknown_field.to_string());
    let mut unknown_in_notice = valid.clone();
    unknown_in_notice["notice"]["language"] = json!("en");
    // A string is iterable in JavaScript, and is read as a map of its characters: refused.
    let outbox = json!([
        unknown_field,
        with("site", json!("Strict.test")),
        unknown_in_notice,
        "not a record",
        valid
    ]);
    set_item("assent:v1:strict.test:outbox", &outbox.to_string());

    stub_fetch();
    route(ENDPOINT, 201, "{}");
    let w = start(attributes("strict.test")).await;
    assert!(
        banner_shown(&w),
        "a stored choice with an unknown field is not the visitor's choice"
    );
    assert!(wait_until(2000, || !posted_records().is_empty()).await);
    settle().await;
    assert_eq!(
        posted_records(),
        vec![valid],
        "only the valid outbox record was sent"
    );
    restore_fetch();
    remove(&w);
}

#[wasm_bindgen_test]
async fn throwing_local_storage_falls_back_to_memory() {
    stub_fetch();
    route(ENDPOINT, 201, "{}");
    break_local_storage();
    let w = start(attributes("throwing.test")).await;
    assert!(banner_shown(&w), "the widget works without storage");
    assert!(!w.widget.store.is_persistent());
    click(&w, ".banner [data-action=decline-all]").await;
    assert!(!banner_shown(&w));
    assert_eq!(
        posted_records_once(1).await.len(),
        1,
        "the record is still sent"
    );
    assert!(
        w.widget.current_choice().is_some(),
        "kept in memory for this page"
    );
    restore_local_storage();
    restore_fetch();
    remove(&w);
}

/// The host page has filled the origin's storage before the widget starts: what is stored
/// still counts. The choice stands (no banner), and the record left waiting is sent.
#[wasm_bindgen_test]
async fn storage_full_from_the_start_still_reads_the_choice_and_sends_what_waits() {
    let site = "full-at-start.test";
    let waiting = accepted_on_an_earlier_page(site, 503).await;
    assert_eq!(stored_outbox(site).len(), 1, "a record waits");

    fill_storage_for("");
    route(ENDPOINT, 201, "{}");
    let before = posted_records().len();
    let again = start(attributes(site)).await;
    assert!(!banner_shown(&again), "the stored choice stands");
    assert_eq!(
        json_of(&again.widget.preferences())["record_id"],
        waiting["record_id"]
    );
    assert!(
        wait_until(3000, || posted_records().len() > before).await,
        "the waiting record is sent"
    );
    assert_eq!(posted_records()[before], waiting);
    unfill_storage();
    restore_fetch();
    remove(&again);
}

/// With fetch stubbed and the endpoint answering `status`, a page on `site` whose visitor
/// accepted, then went: the choice it stored.
async fn accepted_on_an_earlier_page(site: &str, status: u16) -> Value {
    stub_fetch();
    route(ENDPOINT, status, "{}");
    let first = start(attributes(site)).await;
    click(&first, ".banner [data-action=accept-all]").await;
    posted_records_once(1).await;
    remove(&first);
    stored_choice(site).expect("the choice is stored")
}

#[wasm_bindgen_test]
async fn storage_that_fills_up_never_leaves_an_older_choice_for_the_next_page() {
    let site = "full.test";
    let accepted = accepted_on_an_earlier_page(site, 201).await;

    // The outbox no longer fits: the widget goes on in memory for this page.
    fill_storage_for(":outbox");
    let again = start(attributes(site)).await;
    open(&again).await;
    click(&again, "[data-action=decline-all]").await;
    unfill_storage();
    assert_eq!(posted_records_once(2).await.len(), 2, "the change is sent");
    let declined = json_of(&again.widget.preferences());
    assert_ne!(declined["record_id"], accepted["record_id"]);
    // What the next page's loader reads: never the older, accepting choice.
    assert!(
        stored_choice(site).is_none_or(|kept| kept["record_id"] == declined["record_id"]),
        "localStorage still holds the older choice: {:?}",
        stored_choice(site)
    );
    restore_fetch();
    remove(&again);
}

#[wasm_bindgen_test]
async fn an_invalid_notice_document_falls_back_to_the_embedded_one() {
    stub_fetch();
    route("https://notices.test/broken.json", 200, "{\"id\": \"x\"}");
    route("https://notices.test/missing.json", 404, "not found");
    route("https://notices.test/script.json", 200, &{
        let mut doc: Value = serde_json::from_str(notice::EMBEDDED_JSON).expect("json");
        doc["full_statement"]["href"] = json!("javascript:alert(1)");
        doc.to_string()
    });
    route(
        "https://notices.test/page.json",
        200,
        "<!doctype html><p>Not found</p>",
    );
    // A field the schema lacks, deep inside: in the contact block of the last section (the
    // heading changed too, so that this document, were it taken, would not hash as the
    // embedded one).
    route("https://notices.test/unknown-field.json", 200, &{
        let mut doc: Value = serde_json::from_str(notice::EMBEDDED_JSON).expect("json");
        doc["sections"][0]["heading"] = json!("Overview (revised)");
        let sections = doc["sections"].as_array_mut().expect("sections");
        let blocks = sections.last_mut().expect("a section")["blocks"]
            .as_array_mut()
            .expect("blocks");
        let contact = blocks
            .iter_mut()
            .find_map(|block| block.get_mut("contact"))
            .expect("a contact block");
        contact["email"] = json!("privacy@example.com");
        doc.to_string()
    });
    for url in [
        "https://notices.test/broken.json",
        "https://notices.test/missing.json",
        "https://notices.test/script.json",
        "https://notices.test/page.json",
        "https://notices.test/unknown-field.json",
        "https://unreachable.test/notice.json",
        "http://insecure.example/notice.json",
    ] {
        let w = start(ScriptAttributes {
            notice: Some(url.into()),
            ..attributes("fallback.test")
        })
        .await;
        assert_eq!(
            w.widget.shown.hash,
            notice::embedded().expect("embedded").hash(),
            "{url}"
        );
        click(&w, ".banner [data-action=open]").await;
        assert_eq!(
            find_all(&w, ".notice-section").len(),
            8,
            "{url}: the embedded highlights"
        );
        remove(&w);
    }
    assert!(
        !requests().iter().any(|c| c["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("http://insecure"))),
        "an insecure notice URL is never fetched"
    );
    restore_fetch();
}

#[wasm_bindgen_test]
async fn a_failing_endpoint_keeps_the_record_until_a_later_load_sends_it() {
    stub_fetch();
    route(ENDPOINT, 503, "busy");
    let w = start(attributes("outbox.test")).await;
    click(&w, ".banner [data-action=accept-all]").await;
    let pending = stored_outbox("outbox.test");
    assert_eq!(pending.len(), 1, "the record waits in the outbox");
    assert_eq!(Some(pending[0].clone()), stored_choice("outbox.test"));
    // Each widget's try is made before it goes: a round still waiting for the outbox's
    // lock would otherwise send under the next route.
    assert!(
        wait_until(3000, || !posted_records().is_empty()).await,
        "the 503 try"
    );
    remove(&w);

    route(ENDPOINT, 0, "");
    let before = posted_records().len();
    let offline = start(attributes("outbox.test")).await;
    assert!(
        wait_until(3000, || posted_records().len() > before).await,
        "the failed try"
    );
    assert_eq!(
        stored_outbox("outbox.test").len(),
        1,
        "a network error keeps it too"
    );
    remove(&offline);

    let (later, posted) = delivered_by_the_next_page("outbox.test").await;
    assert!(posted.len() >= 3, "503, network error, then 201");
    assert!(
        posted.iter().all(|r| *r == pending[0]),
        "the very same record each time"
    );
    restore_fetch();
    remove(&later);
}

#[wasm_bindgen_test]
async fn without_a_valid_endpoint_the_choice_is_kept_locally() {
    stub_fetch();
    // A site of its own for each, so that each finds no choice and shows its banner.
    for (site, endpoint) in [
        ("local-none.test", None),
        (
            "local-http.test",
            Some("http://collector.example/v1/records"),
        ),
        ("local-garbled.test", Some("not a url at all")),
        // fetch refuses a URL with a user or password: taken, it would be retried for ever.
        (
            "local-credentials.test",
            Some("https://user:secret@collector.test/v1/records"),
        ),
    ] {
        let w = start(ScriptAttributes {
            endpoint: endpoint.map(String::from),
            ..attributes(site)
        })
        .await;
        assert!(banner_shown(&w), "{endpoint:?}: nothing chosen yet");
        click(&w, ".banner [data-action=accept-all]").await;
        assert!(stored_choice(site).is_some(), "{endpoint:?}: stored");
        assert!(
            stored_outbox(site).is_empty(),
            "{endpoint:?}: nothing queued for nowhere"
        );
        assert_eq!(
            text(&w, "[role=alert]"),
            "Your choices are saved in this browser."
        );
        remove(&w);
    }
    assert!(requests().is_empty(), "nothing was sent");
    restore_fetch();
    let credentials = assent::config::Config::from_attributes(&ScriptAttributes {
        endpoint: Some("https://user@collector.test/v1/records".into()),
        ..attributes("local-credentials.test")
    });
    assert_eq!(
        credentials.endpoint,
        Err(assent::config::EndpointError::Credentials)
    );
}

#[wasm_bindgen_test]
async fn the_js_api_boots_opens_and_reports_preferences() {
    stub_fetch();
    route(ENDPOINT, 201, "{}");
    let host = boot(&format!(
        r#"{{"site": "api.test", "endpoint": "{ENDPOINT}", "policyUrl": "https://policy.test/statement", "theme": "dark"}}"#
    ))
    .await;
    let root = host.shadow_root().expect("open shadow root");
    let find = |selector: &str| root.query_selector(selector).expect("selector");
    assert!(assent::api::preferences().is_null(), "no choice yet");
    assert!(find(".assent.theme-dark").is_some(), "data-theme applies");

    assent::api::open();
    settle().await;
    let statement = find(".full-statement a").expect("full statement link");
    assert_eq!(
        statement.get_attribute("href").as_deref(),
        Some("https://policy.test/statement"),
        "data-policy-url applies"
    );
    find("[data-action=accept-all]")
        .expect("accept")
        .unchecked_into::<web_sys::HtmlElement>()
        .click();
    settle().await;
    assert_eq!(
        Some(json_of(&assent::api::preferences())),
        stored_choice("api.test")
    );
    restore_fetch();
    host.remove();
}

/// The first of two tabs of `site`, its records answered 201 by the endpoint.
async fn first_tab(site: &str) -> Started {
    stub_fetch();
    route(ENDPOINT, 201, "{}");
    start(attributes(site)).await
}

/// Two tabs of one site: a change saved in one is what the other's preferences show when
/// opened, so that a save there does not undo it unseen.
#[wasm_bindgen_test]
async fn preferences_opened_in_a_second_tab_show_what_the_first_saved() {
    let site = "two-tabs.test";
    let first = first_tab(site).await;
    click(&first, ".banner [data-action=decline-all]").await;
    let second = start(attributes(site)).await;
    assert!(
        !banner_shown(&second),
        "the decline is current in the second tab"
    );

    open(&first).await;
    assert_eq!(toggle_and_save(&first, "updates", 2).await.len(), 2);

    open(&second).await;
    assert!(
        checkbox(&second, "updates").checked(),
        "the grant saved in the first tab"
    );
    let records = toggle_and_save(&second, "new_products", 3).await;
    let states: Vec<&Value> = records[2]["purposes"]
        .as_array()
        .expect("purposes")
        .iter()
        .filter_map(|p| p.get("state"))
        .collect();
    assert_eq!(
        states,
        [
            &json!("granted"),
            &json!("denied"),
            &json!("denied"),
            &json!("granted")
        ],
        "new_products granted here, updates still granted from the first tab"
    );
    restore_fetch();
    remove(&first);
    remove(&second);
}

/// The banner's own open button reads what this browser holds too: a tab still showing the
/// banner when another tab of the site saved a choice opens on that choice, and once closed
/// asks no more.
#[wasm_bindgen_test]
async fn a_banner_opened_after_another_tab_saved_shows_that_choice() {
    let site = "two-tabs-banner.test";
    let first = first_tab(site).await;
    let second = start(attributes(site)).await;
    assert!(banner_shown(&second), "no choice yet in the second tab");

    click(&first, ".banner [data-action=open]").await;
    assert_eq!(toggle_and_save(&first, "updates", 1).await.len(), 1);

    click(&second, ".banner [data-action=open]").await;
    assert!(
        checkbox(&second, "updates").checked(),
        "the grant saved in the first tab"
    );
    assert!(!checkbox(&second, "new_products").checked());
    click(&second, "[data-action=close]").await;
    assert!(
        !banner_shown(&second),
        "a choice is stored: the banner asks no more"
    );
    restore_fetch();
    remove(&first);
    remove(&second);
}

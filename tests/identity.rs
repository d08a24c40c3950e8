//! A manage link (`#assent=<token>`) or `Assent.identify(token)`: the token leaves the
//! address at once, the collector is asked whom it is for, the preferences open for that
//! person with their current toggles, and what is saved then carries the token. A refused
//! or unchecked link is told in plain words and attributes nothing.
#![cfg(target_arch = "wasm32")]

mod common;

use assent::config::ScriptAttributes;
use assent::identity::split_fragment;
use assent::widget::Started;
use common::*;
use serde_json::{json, Value};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJobWFjLXNoYTI1NiJ9.c2lnbmF0dXJlX2hlcmU";
const HINT: &str = "j•••@example.com";
const NOT_LINKED: &str = "Choices you save now are not linked to your e-mail address.";

/// The collector's answer for a person who granted announcements and denied updates.
fn known(site: &str) -> String {
    json!({
        "hint": HINT,
        "expires_at": "2026-12-31T00:00:00Z",
        "sites": [site],
        "preferences": {"announcements": "granted", "updates": "denied"}
    })
    .to_string()
}

/// A widget on `site` whose collector knows the person ([`known`]) and answers records
/// with `status` and `body`.
async fn with_known_person(site: &str, status: u16, body: &str) -> Started {
    stub_fetch();
    route(IDENTITY, 200, &known(site));
    route(ENDPOINT, status, body);
    start(attributes(site)).await
}

/// Opens the page at `url` (path, query, fragment) with a host history state, and
/// returns the address to go back to.
fn visit(url: &str) -> String {
    let before = address();
    replace_address(url, r#"{"host": "state"}"#);
    before
}

async fn dialog_opens(w: &Started) -> bool {
    wait_until(3000, || find(w, "[role=dialog]").is_some()).await
}

/// `Assent.identify(token)` as the loader makes it: a Promise settled by the wasm.
async fn identify(token: &str) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue> {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        assent::api::identify(token.to_owned(), resolve, reject)
    });
    wasm_bindgen_futures::JsFuture::from(promise).await
}

fn checked(w: &Started) -> Vec<bool> {
    ["new_products", "announcements", "upgrades", "updates"]
        .iter()
        .map(|purpose| checkbox(w, purpose).checked())
        .collect()
}

#[wasm_bindgen_test]
fn the_token_is_split_from_the_rest_of_the_fragment() {
    assert_eq!(
        split_fragment("assent=abc.def"),
        Some(("abc.def".into(), String::new()))
    );
    assert_eq!(
        split_fragment("top&assent=abc&tab=2"),
        Some(("abc".into(), "top&tab=2".into()))
    );
    assert_eq!(
        split_fragment("assent="),
        Some((String::new(), String::new()))
    );
    assert_eq!(split_fragment("top"), None);
    assert_eq!(split_fragment("notassent=abc"), None);
}

#[wasm_bindgen_test]
async fn a_manage_link_opens_the_preferences_of_its_person() {
    stub_fetch();
    route(IDENTITY, 200, &known("link.test"));
    route(ENDPOINT, 201, "{}");
    listen_changes();
    let history = history_length();
    let before = visit(&format!("/account?tab=mail#top&assent={TOKEN}&more"));
    let w = start(attributes("link.test")).await;

    assert_eq!(
        address(),
        "/account?tab=mail#top&more",
        "the token left the address; path, query and the rest of the fragment stayed"
    );
    assert_eq!(
        history_state(),
        r#"{"host":"state"}"#,
        "the host's state kept"
    );
    assert_eq!(history_length(), history, "no new history entry");

    assert!(dialog_opens(&w).await, "the preferences open");
    let identity = &requests()[0];
    assert_eq!(identity["url"], IDENTITY, "the records endpoint's sibling");
    assert_eq!(identity["credentials"], "omit");
    assert_eq!(identity["contentType"], "text/plain");
    assert_eq!(
        posted_to(IDENTITY),
        [json!({"token": TOKEN, "site": "link.test"})]
    );

    assert_eq!(
        text(&w, "#assent-person"),
        format!("Preferences for {HINT}")
    );
    let labelled_by = find(&w, "[role=dialog]")
        .and_then(|d| d.get_attribute("aria-labelledby"))
        .unwrap_or_default();
    assert_eq!(
        labelled_by, "assent-title assent-person",
        "the person is part of the dialog's name"
    );
    assert_eq!(
        checked(&w),
        [false, true, false, false],
        "the collector's toggles; a purpose it has no state for is off"
    );

    click(&w, "li[data-purpose=upgrades] input").await;
    click(&w, "[data-action=save]").await;
    assert!(wait_until(3000, || stored_outbox("link.test").is_empty()).await);
    let records = posted_records();
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0]["subject_token"], TOKEN,
        "the record is attributed"
    );
    assert_eq!(
        records[0]["purposes"][2],
        json!({"purpose": "upgrades", "basis": "consent", "state": "granted"})
    );
    let stored = stored_choice("link.test").expect("stored");
    assert!(
        stored.get("subject_token").is_none(),
        "the kept choice has no token"
    );
    let mut anonymous = records[0].clone();
    anonymous
        .as_object_mut()
        .expect("object")
        .remove("subject_token");
    assert_eq!(stored, anonymous, "otherwise the record as sent");
    assert_eq!(change_events(), [anonymous], "assent:change has no token");
    assert!(
        !storage_dump().contains(TOKEN),
        "nothing in storage holds the token once it is delivered"
    );
    replace_address(&before, "null");
    restore_fetch();
    remove(&w);
}

/// A 409 for a record of the person's: the collector holds its id for another body, or
/// this body under no one or someone else (the person's own is answered 200), so no
/// receipt is asked for or shown as theirs, and the host page is told.
#[wasm_bindgen_test]
async fn a_409_for_the_persons_record_is_told_not_taken_for_theirs() {
    let site = "token-409.test";
    let w = with_known_person(site, 409, r#"{"error":"conflict"}"#).await;
    listen_errors();
    listen_receipts();
    w.widget.identify(TOKEN).await.expect("known");
    settle().await;
    click(&w, "[data-action=decline-all]").await;
    assert!(
        wait_until(3000, || !error_events().is_empty()).await,
        "the host page is told"
    );
    let told = &error_events()[0];
    assert_eq!(told["status"], 409);
    assert_eq!(told["record_id"], posted_records()[0]["record_id"]);
    assert_eq!(posted_records()[0]["subject_token"], TOKEN);
    assert!(stored_outbox(site).is_empty(), "not sent again");
    assert!(
        !requests().iter().any(|call| call["method"] == "GET"
            && call["url"]
                .as_str()
                .unwrap_or_default()
                .ends_with("/receipt")),
        "no receipt asked for"
    );
    assert!(receipt_events().is_empty(), "no assent:receipt");
    restore_fetch();
    remove(&w);
}

#[wasm_bindgen_test]
async fn a_retried_record_keeps_its_token() {
    let w = with_known_person("retry-token.test", 503, "busy").await;
    let identity = w.widget.identify(TOKEN).await.expect("known");
    assert_eq!(identity.hint.as_str(), HINT);
    settle().await;
    click(&w, "[data-action=decline-all]").await;
    let pending = stored_outbox("retry-token.test");
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0]["subject_token"], TOKEN,
        "the waiting record keeps the token"
    );
    remove(&w);

    route(ENDPOINT, 201, "{}");
    let later = start(attributes("retry-token.test")).await;
    assert!(wait_until(3000, || stored_outbox("retry-token.test").is_empty()).await);
    let posted = posted_records();
    assert_eq!(
        posted.last(),
        Some(&pending[0]),
        "sent on a later page, still attributed"
    );
    open(&later).await;
    assert!(dialog_opens(&later).await, "the preferences open");
    assert!(
        find(&later, "#assent-person").is_none(),
        "the identity lasted for its page only"
    );
    restore_fetch();
    remove(&later);
}

#[wasm_bindgen_test]
async fn each_refused_link_is_told_in_plain_words_and_attributes_nothing() {
    for (code, sentence) in [
        (
            "token_expired",
            "This link has expired. Please ask for a new one.",
        ),
        (
            "token_invalid",
            "This link is not valid. Please use the link exactly as you received it, or ask for a new one.",
        ),
        (
            "token_wrong_site",
            "This link is for another site. Please open it on the site it was sent for.",
        ),
    ] {
        stub_fetch();
        listen_errors();
        route(
            IDENTITY,
            403,
            &json!({"error": code, "message": "the link is refused"}).to_string(),
        );
        route(ENDPOINT, 201, "{}");
        let before = visit(&format!("/#assent={TOKEN}"));
        let w = start(attributes("refused-link.test")).await;
        assert_eq!(address(), "/", "{code}: the token left the address");
        assert!(dialog_opens(&w).await, "{code}: the preferences open");
        assert!(
            wait_until(3000, || find(&w, ".refusal[role=alert]").is_some()).await,
            "{code}"
        );
        assert_eq!(
            text(&w, ".refusal[role=alert]"),
            format!("{sentence} {NOT_LINKED}"),
            "{code}"
        );
        assert!(find(&w, "#assent-person").is_none(), "{code}: no one named");
        let errors = error_events();
        assert_eq!(errors.len(), 1, "{code}");
        assert_eq!(errors[0]["status"], 403, "{code}");
        assert_eq!(errors[0]["code"], code);
        let message = errors[0]["message"].as_str().expect("message");
        assert!(message.contains("the link is refused"), "{message}");
        assert!(!message.contains(TOKEN), "the token is never echoed");

        click(&w, "[data-action=save]").await;
        let records = posted_records_once(1).await;
        assert_eq!(records.len(), 1, "{code}");
        assert!(
            records[0].get("subject_token").is_none(),
            "{code}: the record is anonymous"
        );
        assert!(
            find(&w, ".refusal[role=alert]").is_none(),
            "{code}: the message goes with the dialog"
        );
        replace_address(&before, "null");
        restore_fetch();
        remove(&w);
    }
}

/// A save, then the host page names the person (`Assent.identify`, a sign-in on a
/// single-page site), then another save: announced again, as after any opening of the
/// preferences (the same words would be no change to a screen reader).
#[wasm_bindgen_test]
async fn a_save_after_the_page_names_the_person_is_announced_again() {
    let w = with_known_person("announce.test", 201, "{}").await;
    click(&w, ".banner [data-action=decline-all]").await;
    assert_eq!(text(&w, "[role=alert]"), "Your choices are saved.");
    w.widget.identify(TOKEN).await.expect("the person is known");
    settle().await;
    assert!(dialog_opens(&w).await, "the preferences open");
    second_save_announced(&w, &[]).await;
    restore_fetch();
    remove(&w);
}

/// In a right-to-left language the masked address keeps its own order: one that starts with
/// a digit was laid out as `example.com@•••4`.
#[wasm_bindgen_test]
async fn in_arabic_the_persons_address_is_laid_out_in_its_own_order() {
    stub_fetch();
    let (site, hint) = ("ar-link.test", "4•••@example.com");
    let answer = json!({"hint": hint, "expires_at": "2026-12-31T00:00:00Z", "sites": [site], "preferences": {}});
    route(IDENTITY, 200, &answer.to_string());
    let before = visit(&format!("/#assent={TOKEN}"));
    let served = js_sys::JSON::parse(&common::locales::served("ar", None).to_string());
    let arabic = assent::locale::read(&served.expect("JSON")).expect("a valid file");
    let w = assent::widget::start(&attributes(site), false, Some(arabic), common::place())
        .await
        .expect("starts");
    settle().await;
    assert!(dialog_opens(&w).await, "the preferences open");
    assert!(
        wait_until(3000, || find(&w, "#assent-person").is_some()).await,
        "the person is named"
    );
    let person = find(&w, "#assent-person").expect("the person's line");
    assert!(person.text_content().unwrap_or_default().ends_with(hint));
    assert!(laid_out_in_order(&person, hint));
    replace_address(&before, "null");
    restore_fetch();
    remove(&w);
}

#[wasm_bindgen_test]
async fn a_link_that_cannot_be_checked_says_so() {
    let cases: [(&str, u16, &str, Option<&str>); 8] = [
        ("network failure", 0, "", Some(ENDPOINT)),
        ("server error", 500, "oops", Some(ENDPOINT)),
        ("not an identity", 200, r#"{"sites": []}"#, Some(ENDPOINT)),
        ("not JSON", 200, "<html>", Some(ENDPOINT)),
        (
            "preferences not an object",
            200,
            r#"{"hint": "j@x.test", "preferences": ["announcements"]}"#,
            Some(ENDPOINT),
        ),
        (
            "hint not text",
            200,
            r#"{"hint": 5, "preferences": {}}"#,
            Some(ENDPOINT),
        ),
        (
            "refusal without a code",
            403,
            r#"{"message": "no"}"#,
            Some(ENDPOINT),
        ),
        ("no endpoint", 0, "", None),
    ];
    for (case, status, body, endpoint) in cases {
        stub_fetch();
        listen_errors();
        route(IDENTITY, status, body);
        route(ENDPOINT, 201, "{}");
        let w = start(ScriptAttributes {
            endpoint: endpoint.map(String::from),
            ..attributes("unchecked-link.test")
        })
        .await;
        let refused = w.widget.identify(TOKEN).await;
        assert!(refused.is_err(), "{case}");
        settle().await;
        assert_eq!(
            text(&w, ".refusal[role=alert]"),
            format!(
                "This link could not be checked right now. Please try again later. {NOT_LINKED}"
            ),
            "{case}"
        );
        let errors = error_events();
        assert_eq!(errors.len(), 1, "{case}");
        assert_eq!(errors[0]["code"], "identity_unavailable", "{case}");
        assert_eq!(errors[0]["status"], status, "{case}");
        assert!(
            errors[0]["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{case}"
        );
        let asked = posted_to(IDENTITY).len();
        assert_eq!(asked, usize::from(endpoint.is_some()), "{case}");
        click(&w, "[data-action=save]").await;
        let choice = stored_choice("unchecked-link.test").expect("the choice kept");
        assert!(
            choice.get("subject_token").is_none(),
            "{case}: kept with no token"
        );
        if endpoint.is_some() {
            let records = posted_records_once(1).await;
            assert_eq!(records.len(), 1, "{case}");
            assert_eq!(records[0]["record_id"], choice["record_id"], "{case}");
            assert!(
                records[0].get("subject_token").is_none(),
                "{case}: nothing attributed"
            );
        }
        restore_fetch();
        remove(&w);
    }
}

#[wasm_bindgen_test]
async fn a_malformed_token_is_refused_without_asking() {
    stub_fetch();
    listen_errors();
    route(IDENTITY, 200, &known("malformed-link.test"));
    let before = visit("/#assent=%3Cscript%3E");
    let w = start(attributes("malformed-link.test")).await;
    assert_eq!(address(), "/");
    assert!(dialog_opens(&w).await);
    assert!(text(&w, ".refusal[role=alert]").starts_with("This link is not valid."));
    assert!(posted_to(IDENTITY).is_empty(), "not sent anywhere");
    let errors = error_events();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0]["status"].clone(), errors[0]["code"].clone()),
        (json!(0), json!("token_invalid"))
    );
    replace_address(&before, "null");
    restore_fetch();
    remove(&w);
}

#[wasm_bindgen_test]
async fn the_js_api_identifies_and_a_refusal_undoes_it() {
    stub_fetch();
    listen_errors();
    route(IDENTITY, 200, &known("identify-api.test"));
    route(ENDPOINT, 201, "{}");
    let host = boot(&format!(
        r#"{{"site": "identify-api.test", "endpoint": "{ENDPOINT}"}}"#
    ))
    .await;
    let root = host.shadow_root().expect("open shadow root");
    let find = |selector: &str| root.query_selector(selector).expect("selector");
    let text = |selector: &str| find(selector).and_then(|e| e.text_content());

    let answer = json_of(&identify(TOKEN).await.expect("resolves"));
    let expected: Value = serde_json::from_str(&known("identify-api.test")).expect("json");
    assert_eq!(answer, expected, "resolves with the collector's answer");
    settle().await;
    assert_eq!(
        text("#assent-person").as_deref(),
        Some("Preferences for j•••@example.com")
    );

    route(
        IDENTITY,
        403,
        r#"{"error": "token_expired", "message": "the link has expired"}"#,
    );
    let refused = json_of(&identify(TOKEN).await.expect_err("rejects"));
    settle().await;
    let errors = error_events();
    assert_eq!(errors.len(), 1);
    assert_eq!(refused, errors[0], "rejects with the assent:error detail");
    assert_eq!(
        (refused["status"].clone(), refused["code"].clone()),
        (json!(403), json!("token_expired"))
    );
    assert!(find("#assent-person").is_none(), "no one is named any more");
    assert!(text(".refusal")
        .unwrap_or_default()
        .starts_with("This link has expired."));
    find("[data-action=save]")
        .map(wasm_bindgen::JsCast::unchecked_into::<web_sys::HtmlElement>)
        .expect("save")
        .click();
    settle().await;
    let records = posted_records_once(1).await;
    assert_eq!(records.len(), 1);
    assert!(
        records[0].get("subject_token").is_none(),
        "after a refusal nothing is attributed"
    );
    restore_fetch();
    host.remove();
}

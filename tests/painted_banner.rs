//! The banner the loader paints before the wasm arrives (`loader/banner.js`), taken over
//! by the widget: it goes, and what the visitor did on it (a click, the focus) carries over
//! to the widget's own. That the two look and read the same is the e2e test's
//! (`e2e/tests/painted-banner.test.js`), with the real loader.
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use assent::browser::env;
use assent::kept_click::{self, Kept, KeptClick};
use assent::notice;
use assent::widget::{self, Started};
use assent_record::Rfc3339Time;
use common::*;
use uuid::Uuid;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

async fn start_with(site: &str, notes: &[(&str, &str)]) -> (Started, Element) {
    start_focused(site, notes, None).await
}

async fn start_focused(
    site: &str,
    notes: &[(&str, &str)],
    focused: Option<&str>,
) -> (Started, Element) {
    let (place, painted) = painted_place(notes, focused);
    let started = widget::start(&attributes(site), false, None, place)
        .await
        .expect("widget starts");
    settle().await;
    (started, painted)
}

fn states(started: &Started) -> Vec<String> {
    let choice = common::json_of(&started.widget.preferences());
    choice["purposes"]
        .as_array()
        .expect("purposes")
        .iter()
        .filter(|p| p["basis"] == "consent")
        .map(|p| p["state"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn focused_action(started: &Started) -> Option<String> {
    shadow(started)
        .active_element()
        .and_then(|e| e.get_attribute("data-action"))
}

#[wasm_bindgen_test]
async fn untouched_it_is_replaced_by_the_widgets_banner() {
    let (started, painted) = start_with("painted-untouched.test", &[]).await;
    assert!(!painted.is_connected(), "the painted banner is gone");
    assert!(banner_shown(&started), "the widget's banner shows");
    assert!(started.widget.preferences().is_null(), "nothing chosen");
    assert_eq!(
        shadow(&started)
            .query_selector_all(".painted")
            .expect("query")
            .length(),
        0
    );
    remove(&started);
}

/// Starts with `action` clicked on the painted banner: it is saved with every optional
/// purpose in `state`, the banner does not come back, and the record is on its way.
async fn chosen_before_the_wasm(site: &str, action: &str, state: &str) {
    let (started, painted) = start_with(site, &[("data-chosen", action)]).await;
    assert!(!painted.is_connected());
    assert!(!banner_shown(&started), "the choice is made: no banner");
    assert_eq!(states(&started), [state; 4]);
    let stored = stored_choice(site).expect("the choice is stored");
    assert_eq!(stored["site"], site);
    assert_eq!(stored_outbox(site).len(), 1, "the record is on its way");
    // Put in the page with its words (the first render, then the save, in one task): only
    // an alert's words are announced then.
    assert_eq!(
        text(&started, "[role=alert]"),
        "Your choices are saved.",
        "the screen reader is told"
    );
    remove(&started);
}

#[wasm_bindgen_test]
async fn an_accept_clicked_before_the_wasm_is_saved() {
    chosen_before_the_wasm("painted-accept.test", "accept-all", "granted").await;
}

#[wasm_bindgen_test]
async fn a_decline_clicked_before_the_wasm_is_saved() {
    chosen_before_the_wasm("painted-decline.test", "decline-all", "denied").await;
}

/// Two tabs handed one click: the visitor accepted on the first tab's painted banner, and
/// a second tab opened before the first tab's wasm had recorded it, so its loader handed the
/// kept click over too. Whichever tab's wasm comes second finds it recorded, and records
/// nothing. A click kept after that choice (a newer one) is recorded.
#[wasm_bindgen_test]
async fn a_click_two_tabs_were_handed_is_recorded_once() {
    let site = "painted-two-tabs.test";
    let painted = format!("assent:v1:{site}:painted");
    // The loader keeps the click (loader.js keepClick) before either tab's wasm runs.
    set_item(&painted, &kept_click("accept-all", ""));
    let (first, _) = start_with(site, &[("data-chosen", "accept-all")]).await;
    let recorded = stored_choice(site).expect("the first tab records the click");
    assert_eq!(get_item(&painted), None, "and forgets it");
    remove(&first);

    let (second, _) = start_with(site, &[("data-chosen", "accept-all")]).await;
    assert_eq!(
        stored_choice(site).expect("stored")["record_id"],
        recorded["record_id"],
        "the second tab finds the click recorded and records nothing"
    );
    assert_eq!(
        stored_outbox(site).len(),
        1,
        "one record on its way, not two"
    );
    assert!(!banner_shown(&second), "and asks nothing");
    assert_eq!(states(&second), ["granted"; 4]);
    remove(&second);

    set_item(&painted, &kept_click("decline-all", ""));
    let (third, _) = start_with(site, &[("data-chosen", "decline-all")]).await;
    let newer = stored_choice(site).expect("stored");
    assert_ne!(
        newer["record_id"], recorded["record_id"],
        "a click kept since is recorded"
    );
    assert_eq!(states(&third), ["denied"; 4]);
    assert_eq!(stored_outbox(site).len(), 2);
    remove(&third);
}

/// A click an earlier page kept under another notice (its German one, say, whose file this
/// page could not load, so that it shows the English one) is not recorded under the notice
/// shown: the banner asks again, and nothing is stored or sent.
#[wasm_bindgen_test]
async fn a_click_kept_under_another_notice_is_asked_again() {
    let site = "painted-other-notice.test";
    let kept = format!("sha256:76ba6d3322 accept-all {KEPT_AT} {KEPT_ID}");
    let started = handed(site, &kept).await;
    assert!(banner_shown(&started), "the banner asks");
    assert_eq!(stored_choice(site), None, "nothing recorded");
    assert!(stored_outbox(site).is_empty(), "nothing sent");
    remove(&started);
}

/// Storage that fills up while the kept click is recorded (the outbox no longer fits):
/// the widget goes on in memory, and the next page neither finds an older choice nor
/// replays the click over the visitor's later decline; nor does a second tab that was
/// handed the same click, which asks again rather than record it under another id.
#[wasm_bindgen_test]
async fn a_kept_click_is_not_replayed_once_storage_is_full() {
    let site = "painted-full.test";
    fill_storage_for(":outbox");
    let started = handed(
        site,
        &kept_click("accept-all", &format!("{} {KEPT_ID}", recent())),
    )
    .await;
    assert_eq!(states(&started), ["granted"; 4], "the click is recorded");
    open(&started).await;
    click(&started, "[data-action=decline-all]").await;
    unfill_storage();
    assert_eq!(states(&started), ["denied"; 4]);
    assert_eq!(
        get_item(&format!("assent:v1:{site}:painted")).as_deref(),
        Some("retired"),
        "the click is retired"
    );
    assert!(
        stored_choice(site).is_none_or(|kept| kept["purposes"][0]["state"] == "denied"),
        "the next page reads no accept: {:?}",
        stored_choice(site)
    );
    let second = start_with(site, &[("data-chosen", "accept-all")]).await.0;
    assert!(banner_shown(&second), "the second tab asks");
    assert!(
        stored_outbox(site).is_empty(),
        "nothing recorded: {:?}",
        stored_outbox(site)
    );
    remove(&second);
    remove(&started);
}

/// A page on `site` handed an accept clicked on the painted banner, kept as `kept`.
async fn handed(site: &str, kept: &str) -> Started {
    set_item(&format!("assent:v1:{site}:painted"), kept);
    start_with(site, &[("data-chosen", "accept-all")]).await.0
}

/// The record id and time `keepClick` (loader/loader.js) keeps with a click.
const KEPT_ID: &str = "0b6f4f6e-3c1d-4c8e-9f3a-2d5e6f7a8b9c";
/// 2026-12-05T02:00:00Z, in milliseconds: for kept clicks read at a moment of the test's.
const KEPT_AT: i64 = 1_796_436_000_000;

/// A whole second an hour ago, in milliseconds: for kept clicks a widget reads now.
fn recent() -> i64 {
    (env::now_millis() / 1000 - 3600) * 1000
}

/// `n` days in milliseconds.
fn days(n: i64) -> i64 {
    n * 86_400_000
}

/// The visitor accepted on the painted banner of a page in one language, then, before its
/// wasm arrived, declined in a tab that shows the notice in another language, whose save
/// forgets the kept click. The first tab's widget, finding no click kept and a choice
/// stored, records nothing over that later word (made now, the accept would outrank it):
/// the banner asks again.
#[wasm_bindgen_test]
async fn a_click_overtaken_by_a_choice_under_another_notice_is_not_recorded() {
    let site = "painted-overtaken.test";
    let painted = format!("assent:v1:{site}:painted");
    let kept = kept_click("accept-all", &format!("{} {KEPT_ID}", recent()));
    set_item(&painted, &kept);
    save_under_another_notice(site, env::now().as_str());
    assert_eq!(get_item(&painted), None, "the save forgets the click");

    let (started, _) = start_with(site, &[("data-chosen", "accept-all")]).await;
    assert!(banner_shown(&started), "the banner asks again");
    assert_eq!(
        stored_choice(site).expect("the later choice")["record_id"],
        "00000000-0000-4000-8000-000000000001",
        "the later decline stands"
    );
    assert!(stored_outbox(site).is_empty(), "nothing recorded");
    remove(&started);
}

/// Storage that refused to keep the click (the host page filled it), with a choice stored
/// under another notice before this page started (the notice has changed since): the click
/// is this page's own, and is recorded, as of now.
#[wasm_bindgen_test]
async fn a_click_storage_refused_to_keep_is_recorded_over_an_older_choice() {
    let site = "painted-unkept.test";
    save_under_another_notice(site, "2026-01-05T10:00:00Z");
    let (started, _) = start_with(site, &[("data-chosen", "accept-all")]).await;
    assert!(!banner_shown(&started), "answered");
    assert_eq!(states(&started), ["granted"; 4], "the click is recorded");
    assert_eq!(stored_outbox(site).len(), 1, "and on its way");
    remove(&started);
}

/// Stores a decline on `site` under a notice other than the embedded one, made at `at`
/// (RFC 3339), as a tab showing that notice saves it.
fn save_under_another_notice(site: &str, at: &str) {
    let record: assent_record::ConsentRecord = serde_json::from_value(serde_json::json!({
        "record_id": "00000000-0000-4000-8000-000000000001",
        "site": site,
        "notice": {"id": "n", "version": "1", "hash": format!("sha256:{}", "0".repeat(64))},
        "language": "de",
        "purposes": [{"purpose": "updates", "basis": "consent", "state": "denied"}],
        "gpc": false, "widget_version": "0.1.0", "client_time": at,
    }))
    .expect("a record");
    let site = assent_record::Site::try_from(site).expect("a site");
    assent::store::Store::open(&site).save_choice(&record);
}

/// A click kept longer than the outbox keeps a record (the visitor left the page before
/// the wasm recorded it, and came back weeks later): made now, its record would outrank
/// every choice made since. The banner asks again, and the click is retired. A second
/// tab, whose loader handed the same click over before that, asks again too: it does not
/// take the click's going for its being recorded, and record it as of now.
#[wasm_bindgen_test]
async fn a_click_kept_too_long_ago_is_asked_again_in_every_tab() {
    let site = "painted-too-old.test";
    let painted = format!("assent:v1:{site}:painted");
    let started = handed_too_old(site, KEPT_ID).await;
    assert_eq!(get_item(&painted).as_deref(), Some("retired"));
    remove(&started);

    let (second, _) = start_with(site, &[("data-chosen", "accept-all")]).await;
    assert!(banner_shown(&second), "the second tab asks too");
    assert_eq!(stored_choice(site), None, "and records nothing");
    assert!(stored_outbox(site).is_empty());
    remove(&second);
}

/// A click kept at a moment still to come (the clock ran fast at the click and has been
/// set right since): when it was made is unknown, and recorded at that moment it would
/// outrank the choices made until then, as of now the ones made since. The banner asks
/// again, and the click is retired.
#[wasm_bindgen_test]
async fn a_click_kept_at_a_moment_to_come_is_asked_again() {
    let site = "painted-ahead.test";
    let ahead = env::now_millis() + days(1);
    remove(&handed_asked_again(site, ahead, KEPT_ID).await);
    let painted = format!("assent:v1:{site}:painted");
    assert_eq!(get_item(&painted).as_deref(), Some("retired"));
}

/// Where the page could not make the click's id (crypto.randomUUID is for secure contexts
/// only, so the loader kept "undefined"), the click still states its moment: too old, it
/// is asked again; recent, it is recorded at that moment, under an id made now.
#[wasm_bindgen_test]
async fn a_click_kept_without_an_id_is_checked_and_recorded_at_its_moment() {
    let site = "painted-no-id.test";
    remove(&handed_too_old(site, "undefined").await);

    let at = recent();
    let started = handed(site, &kept_click("accept-all", &format!("{at} undefined"))).await;
    let recorded = stored_choice(site).expect("a recent click is recorded");
    let recorded_at = js_sys::Date::parse(recorded["client_time"].as_str().expect("a time"));
    assert_eq!(recorded_at, at as f64, "at the click's moment");
    assert!(recorded["record_id"]
        .as_str()
        .is_some_and(|id| Uuid::try_parse(id).is_ok()));
    assert_eq!(states(&started), ["granted"; 4]);
    remove(&started);
}

/// The visitor accepted on one tab's painted banner, then declined on another's before
/// either tab's wasm had run: the decline is kept in the accept's place. The first tab's
/// widget, handed the accept, records nothing; the second records the decline, the
/// visitor's later word.
#[wasm_bindgen_test]
async fn a_later_click_in_another_tab_is_the_one_recorded() {
    let site = "painted-later-tab.test";
    let painted = format!("assent:v1:{site}:painted");
    let later = kept_click("decline-all", &format!("{} {KEPT_ID}", recent()));
    let first = handed(site, &later).await;
    assert_eq!(
        stored_choice(site),
        None,
        "the earlier accept is not recorded"
    );
    assert!(
        !banner_shown(&first),
        "nor asked again: the visitor has answered"
    );
    assert!(stored_outbox(site).is_empty());
    assert_eq!(get_item(&painted), Some(later), "the decline is still kept");
    remove(&first);

    let (second, _) = start_with(site, &[("data-chosen", "decline-all")]).await;
    assert_eq!(states(&second), ["denied"; 4], "the decline is recorded");
    assert_eq!(
        stored_choice(site).expect("stored")["record_id"],
        KEPT_ID,
        "under its own id"
    );
    remove(&second);
}

/// A page on `site` handed an accept kept 31 days ago under the id `id`: the banner asks
/// again, and nothing is recorded or sent.
async fn handed_too_old(site: &str, id: &str) -> Started {
    handed_asked_again(site, env::now_millis() - days(31), id).await
}

/// A page on `site` handed an accept kept at `at` (ms) under the id `id`: the banner asks
/// again, and nothing is recorded or sent.
async fn handed_asked_again(site: &str, at: i64, id: &str) -> Started {
    let started = handed(site, &kept_click("accept-all", &format!("{at} {id}"))).await;
    assert!(banner_shown(&started), "the banner asks");
    assert_eq!(stored_choice(site), None, "nothing recorded");
    assert!(stored_outbox(site).is_empty(), "nothing sent");
    started
}

fn millis(millis: i64) -> Rfc3339Time {
    env::at_millis(millis).expect("a time")
}

/// A click as the loader keeps it, under the embedded notice's hash (cut, as it keeps it).
fn kept_click(action: &str, rest: &str) -> String {
    let hash = notice::embedded().expect("the embedded notice").hash();
    format!("{} {action} {rest}", &hash.as_str()[..15])
}

/// Two tabs whose handovers of one kept click run at the same moment: each reads storage
/// before the other's save reaches it (nothing orders the tabs' tasks), so both record the
/// click. Both records are the click's, with the id and the time the loader kept: one
/// record, which the outbox and the endpoint take once.
#[wasm_bindgen_test]
async fn a_click_two_tabs_record_at_the_same_moment_is_one_record() {
    let site = "painted-at-once.test";
    let painted = format!("assent:v1:{site}:painted");
    let at = recent();
    let kept = kept_click("accept-all", &format!("{at} {KEPT_ID}"));
    set_item(&painted, &kept);
    let (first, _) = start_with(site, &[("data-chosen", "accept-all")]).await;
    let recorded = stored_choice(site).expect("the first tab records the click");
    assert_eq!(
        recorded["record_id"], KEPT_ID,
        "under the id kept at the click"
    );
    let recorded_at = js_sys::Date::parse(recorded["client_time"].as_str().expect("a time"));
    assert_eq!(recorded_at, at as f64, "at the click's moment");
    remove(&first);

    // The second tab read the kept click before the first tab's save forgot it.
    set_item(&painted, &kept);
    let (second, _) = start_with(site, &[("data-chosen", "accept-all")]).await;
    assert_eq!(
        stored_choice(site),
        Some(recorded),
        "the second tab records the same record"
    );
    assert_eq!(stored_outbox(site).len(), 1, "one record on its way");
    remove(&second);
}

/// A kept click read for the record it makes: under the notice shown, by its hash's start;
/// its time, and its id if the loader made one, when it is that action's and of the
/// loader's form; superseded when another action is kept in its place; else unstated, and
/// the record is made anew. Older than the outbox keeps a record, it is too old (the
/// banner asks again).
#[wasm_bindgen_test]
fn a_kept_click_gives_its_id_and_time_only_when_it_is_that_clicks() {
    let shown = notice::embedded().expect("the embedded notice").hash();
    let stamp = format!("{KEPT_AT} {KEPT_ID}");
    let click = KeptClick {
        record_id: Some(Uuid::try_parse(KEPT_ID).expect("an id")),
        client_time: millis(KEPT_AT),
    };
    assert_eq!(
        kept_click::read(&kept_click("accept-all", &stamp), "accept-all"),
        Kept::Click(click.clone())
    );
    assert_eq!(
        kept_click::read(
            &kept_click("accept-all", &format!("{KEPT_AT} undefined")),
            "accept-all"
        ),
        Kept::Click(KeptClick {
            record_id: None,
            ..click.clone()
        }),
        "made where crypto.randomUUID is missing"
    );
    assert_eq!(
        kept_click::read(&kept_click("decline-all", &stamp), "accept-all"),
        Kept::Superseded
    );
    // Kept by the builds that kept 40 or 48 bits of the hash, not 32, or all of it: the
    // notice's.
    for cut in [17, 19] {
        assert!(kept_click::under(
            &format!("{} accept-all {stamp}", &shown.as_str()[..cut]),
            &shown
        ));
    }
    assert!(kept_click::under(
        &format!("{} accept-all", shown.as_str()),
        &shown
    ));
    for other in [
        format!("sha256:0000000000000000 accept-all {stamp}"),
        format!("sha256: accept-all {stamp}"),
        "retired".to_owned(),
    ] {
        assert!(!kept_click::under(&other, &shown), "{other}");
    }
    let unstated = [
        // Kept by an earlier build.
        kept_click("accept-all", "").trim_end().to_owned(),
        kept_click("accept-all", &format!("soon {KEPT_ID}")),
        kept_click("accept-all", &format!("{} {KEPT_ID}", i64::MAX)),
        kept_click("accept-all", &format!("{stamp} more")),
    ];
    for text in unstated {
        assert_eq!(
            kept_click::read(&text, "accept-all"),
            Kept::Unstated,
            "{text}"
        );
    }
    assert!(!click.too_old(KEPT_AT + days(30)));
    assert!(
        click.too_old(KEPT_AT + days(31)),
        "older than the outbox keeps a record"
    );
}

#[wasm_bindgen_test]
async fn an_open_clicked_before_the_wasm_opens_the_highlights() {
    let (started, _) = start_with("painted-open.test", &[("data-chosen", "open")]).await;
    assert!(
        find(&started, "dialog[open]").is_some(),
        "the highlights are open"
    );
    assert!(started.widget.preferences().is_null(), "nothing chosen yet");
    remove(&started);
}

#[wasm_bindgen_test]
async fn the_focused_button_keeps_the_focus() {
    let (started, _) = start_focused("painted-focus.test", &[], Some("decline-all")).await;
    assert!(banner_shown(&started));
    assert_eq!(focused_action(&started).as_deref(), Some("decline-all"));
    remove(&started);
}

#[wasm_bindgen_test]
async fn notes_it_does_not_know_change_nothing() {
    let (started, painted) = start_focused(
        "painted-garbled.test",
        &[("data-chosen", "accept-all\"], *")],
        Some("[x]"),
    )
    .await;
    assert!(!painted.is_connected());
    assert!(banner_shown(&started), "the banner still asks");
    assert!(started.widget.preferences().is_null(), "nothing chosen");
    assert_eq!(focused_action(&started), None);
    let focused: Option<Element> = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .and_then(|e| e.dyn_into().ok());
    assert!(focused.is_none_or(|e| e.local_name() != "assent-host"));
    remove(&started);
}

/// The loader has the widget drawn in a task after the one that read the notice: until
/// then the painted banner stays, and a click on it in between is carried out.
#[wasm_bindgen_test]
async fn a_click_while_the_notice_is_read_is_carried_out() {
    let site = "painted-between.test";
    let (mut place, painted) = painted_place(&[], None);
    let mut settle_next_task = None;
    place.next_task = Some(js_sys::Promise::new(&mut |resolve, _| {
        settle_next_task = Some(resolve)
    }));
    let shadow_root = place.shadow.clone();
    let started = Rc::new(RefCell::new(None));
    let into = Rc::clone(&started);
    wasm_bindgen_futures::spawn_local(async move {
        let result = widget::start(&attributes(site), false, None, place).await;
        *into.borrow_mut() = Some(result.expect("widget starts"));
    });
    settle().await;
    assert!(
        started.borrow().is_none(),
        "not started before the next task"
    );
    assert!(painted.is_connected(), "the painted banner stays");
    assert!(
        shadow_root
            .query_selector(".assent")
            .expect("query")
            .is_none(),
        "the widget is not drawn yet"
    );
    painted
        .set_attribute("data-chosen", "accept-all")
        .expect("clicked");
    settle_next_task
        .expect("the promise's resolve")
        .call0(&JsValue::UNDEFINED)
        .expect("resolved");
    settle().await;
    let started = started.borrow_mut().take().expect("started");
    assert!(!painted.is_connected());
    assert!(!banner_shown(&started), "the choice is made: no banner");
    assert_eq!(states(&started), ["granted"; 4]);
    assert_eq!(stored_outbox(site).len(), 1, "the record is on its way");
    remove(&started);
}

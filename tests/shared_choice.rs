//! One choice across the covered sites of a parent domain: what the wasm makes of the
//! shared cookie's choice the loader reads and hands it (`sharedCookie: {read, domain}`),
//! and the cookie the wasm writes on each save. The loader's own reading of the real
//! cookie is tested end to end (e2e/tests/shared-choice.test.js).
#![cfg(target_arch = "wasm32")]

mod common;

use assent::browser::env;
use assent::browser::shared_cookie::SharedCookie;
use assent::config::ScriptAttributes;
use common::*;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export function fake_shared_cookie(summary, domain) {
  const value = summary === 'null' ? null : JSON.parse(summary);
  // Without a summary, the record id of the page's real cookie, as the loader reads it.
  const real = () => {
    const id = /&r=([^&]*)/.exec(shared_cookie())?.[1];
    return id ? { record_id: id } : null;
  };
  return { read: () => value ?? real(), domain };
}
export function shared_cookie() {
  return /(?:^|;) *assent_v1=([^;]*)/.exec(document.cookie)?.[1] ?? '';
}
export function forget_shared_cookie() {
  for (const domain of ['', '; Domain=' + location.hostname]) {
    document.cookie = 'assent_v1=; Path=/; Max-Age=0' + domain;
  }
}
export function listen_warnings() {
  const warnings = window.__assentWarnings = [];
  const warn = console.warn;
  console.warn = (...parts) => { warnings.push(parts.join(' ')); warn.apply(console, parts); };
}
export function warnings() { return window.__assentWarnings.join('\n'); }
export function millis(time) { return Date.parse(time); }
"#)]
extern "C" {
    /// A stand-in for the loader's `{read, domain}`: `read` gives `summary` (JSON), or with
    /// `null` the record id of the page's real cookie, if there is one.
    fn fake_shared_cookie(summary: &str, domain: &str) -> JsValue;
    /// The page's `assent_v1` cookie, or "".
    fn shared_cookie() -> String;
    fn forget_shared_cookie();
    /// Keeps what `console.warn` is told from now on.
    fn listen_warnings();
    fn warnings() -> String;
    fn millis(time: &str) -> f64;
}

fn embedded_hash() -> String {
    assent::notice::shown(
        assent::notice::embedded().expect("embedded notice"),
        &assent::config::Config::from_attributes(&ScriptAttributes::default()),
        None,
    )
    .hash
    .as_str()
    .to_owned()
}

/// The loader's summary of a cookie: `states` are the four optional purposes' states.
fn summary(hash: &str, record_id: &str, client_time: &str, states: [&str; 4]) -> Value {
    let names = ["new_products", "announcements", "upgrades", "updates"];
    json!({
        "record_id": record_id,
        "client_time": client_time,
        "notice": {"hash": hash},
        "purposes": names.iter().zip(states).map(|(purpose, state)| {
            json!({"purpose": purpose, "basis": "consent", "state": state})
        }).collect::<Vec<_>>(),
        "cookie_domain": "qualys.test",
    })
}

fn sharing(site: &str, cookie: Option<&Value>) -> ScriptAttributes {
    sharing_on(site, cookie, &env::page_hostname().expect("a host name"))
}

/// As `sharing`, with the cookie on `domain`.
fn sharing_on(site: &str, cookie: Option<&Value>, domain: &str) -> ScriptAttributes {
    let text = cookie.map_or_else(|| "null".to_owned(), Value::to_string);
    ScriptAttributes {
        shared_cookie: SharedCookie::from_js(&fake_shared_cookie(&text, domain)),
        ..attributes(site)
    }
}

const OTHER_SITE_RECORD: &str = "0f8e3c1a-5b2d-4e6f-8a9b-1c2d3e4f5a6b";

#[wasm_bindgen_test]
async fn a_current_shared_choice_is_the_visitors_choice_and_sends_nothing() {
    stub_fetch();
    let cookie = summary(
        &embedded_hash(),
        OTHER_SITE_RECORD,
        "2026-11-30T10:00:00.000Z",
        ["denied", "granted", "denied", "granted"],
    );
    let w = start(sharing("second.test", Some(&cookie))).await;
    assert!(
        !banner_shown(&w),
        "a choice made on another covered site: no banner"
    );
    assert_eq!(
        json_of(&w.widget.preferences()),
        cookie,
        "Assent.preferences() gives it"
    );
    w.widget.open();
    settle().await;
    assert!(!checkbox(&w, "new_products").checked());
    assert!(
        checkbox(&w, "announcements").checked(),
        "the dialog shows it"
    );
    assert!(!checkbox(&w, "upgrades").checked());
    assert!(checkbox(&w, "updates").checked());
    settle().await;
    assert!(
        requests().is_empty(),
        "no second record for the same choice"
    );
    restore_fetch();
    remove(&w);
}

/// A click kept on this site's painted banner (the visitor left before the wasm recorded
/// it), then a later choice on another covered site: the later word stands. The click is
/// not recorded (nor, stamped with its own time, sent back through the cookie), and is
/// retired.
#[wasm_bindgen_test]
async fn a_later_shared_choice_supersedes_a_click_kept_on_the_painted_banner() {
    stub_fetch();
    let site = "kept-then-shared.test";
    let now = env::now_millis();
    let kept_at = now - 3_600_000;
    let kept = format!(
        "{} accept-all {kept_at} 0b6f4f6e-3c1d-4c8e-9f3a-2d5e6f7a8b9c",
        &embedded_hash()[..15]
    );
    set_item(&format!("assent:v1:{site}:painted"), &kept);
    let later = js_sys::Date::new(&(now as f64 - 60_000.0).into());
    let cookie = summary(
        &embedded_hash(),
        OTHER_SITE_RECORD,
        &String::from(later.to_iso_string()),
        ["denied"; 4],
    );
    let (place, _) = painted_place(&[("data-chosen", "accept-all")], None);
    let w = assent::widget::start(&sharing(site, Some(&cookie)), false, None, place)
        .await
        .expect("widget starts");
    settle().await;
    assert!(!banner_shown(&w), "the visitor has chosen");
    assert_eq!(json_of(&w.widget.preferences()), cookie, "the later choice");
    assert_eq!(stored_choice(site), None, "the click is not recorded");
    assert!(requests().is_empty(), "nothing sent");
    assert_eq!(
        get_item(&format!("assent:v1:{site}:painted")).as_deref(),
        Some("retired")
    );
    restore_fetch();
    remove(&w);
}

/// A site's own notice may list its optional purposes in any order: the cookie states them
/// in the notice's, and is read so.
#[wasm_bindgen_test]
async fn a_shared_choice_counts_under_a_notice_listing_its_purposes_in_another_order() {
    let mut doc: Value = serde_json::from_str(assent::notice::EMBEDDED_JSON).expect("json");
    doc["purposes"].as_array_mut().expect("purposes").reverse();
    let url = "https://notices.test/reordered.json";
    let with_notice = |attributes: ScriptAttributes| ScriptAttributes {
        notice: Some(url.into()),
        ..attributes
    };
    stub_fetch();
    route("https://notices.test/", 200, &doc.to_string());
    route(ENDPOINT, 201, "{}");
    forget_shared_cookie();
    let w = start(with_notice(sharing("reordered.test", None))).await;
    click(&w, ".banner [data-action=accept-all]").await;
    let posted = posted_records_once(1).await;
    let (hash, id) = (&posted[0]["notice"]["hash"], &posted[0]["record_id"]);
    let hash = hash.as_str().expect("hash");
    assert!(
        shared_cookie().ends_with("&p=updates:g.upgrades:g.announcements:g.new_products:g"),
        "in the notice's order: {}",
        shared_cookie()
    );
    remove(&w);

    // What the loader makes of that cookie, on another covered site.
    let mut cookie = summary(
        hash,
        id.as_str().expect("id"),
        "2026-11-30T10:00:00.000Z",
        ["granted"; 4],
    );
    cookie["purposes"]
        .as_array_mut()
        .expect("purposes")
        .reverse();
    listen_warnings();
    let w = start(with_notice(sharing("other.test", Some(&cookie)))).await;
    assert!(!banner_shown(&w), "the choice made on the first site");
    assert!(!warnings().contains("ignored"), "{}", warnings());
    restore_fetch();
    remove(&w);
}

#[wasm_bindgen_test]
async fn a_save_writes_the_cookie_the_loader_reads() {
    stub_fetch();
    route(ENDPOINT, 201, "{}");
    forget_shared_cookie();
    listen_warnings();
    let w = start(sharing("first.test", None)).await;
    assert!(banner_shown(&w), "no shared choice yet: the banner asks");
    click(&w, ".banner [data-action=decline-all]").await;
    let posted = posted_records_once(1).await;
    let record = &posted[0];
    assert_eq!(record["site"], "first.test");
    let hash = record["notice"]["hash"].as_str().expect("hash");
    let time = millis(record["client_time"].as_str().expect("time"));
    assert_eq!(
        shared_cookie(),
        format!(
            "h={}&r={}&t={time}&p=new_products:d.announcements:d.upgrades:d.updates:d",
            hash.trim_start_matches("sha256:"),
            record["record_id"].as_str().expect("id"),
        ),
        "the record's notice, id, time and optional purposes' states, in the loader's form"
    );
    assert!(!warnings().contains("not kept"), "kept: {}", warnings());
    remove(&w);

    // A domain the browser refuses for this page: said, and the choice is kept apart.
    forget_shared_cookie();
    assert_eq!(shared_cookie(), "", "forgotten");
    listen_warnings();
    let w = start(sharing_on("refused.test", None, "not-a-parent.example")).await;
    click(&w, ".banner [data-action=accept-all]").await;
    posted_records_once(2).await;
    assert_eq!(shared_cookie(), "", "no cookie for another domain");
    assert!(
        warnings().contains("the shared choice cookie was not kept"),
        "said in the console: {}",
        warnings()
    );
    assert!(
        stored_choice("refused.test").is_some(),
        "the choice is kept"
    );
    restore_fetch();
    remove(&w);
}

#[wasm_bindgen_test]
async fn a_shared_choice_for_another_notice_or_of_other_purposes_asks_again() {
    stub_fetch();
    let old_notice = summary(
        &format!("sha256:{}", "0".repeat(64)),
        OTHER_SITE_RECORD,
        "2026-11-30T10:00:00.000Z",
        ["granted"; 4],
    );
    let w = start(sharing("changed.test", Some(&old_notice))).await;
    assert!(
        banner_shown(&w),
        "a choice under another notice is asked again"
    );
    assert!(w.widget.preferences().is_null());
    remove(&w);

    let mut forged = summary(
        &embedded_hash(),
        OTHER_SITE_RECORD,
        "2026-11-30T10:00:00.000Z",
        ["granted"; 4],
    );
    forged["purposes"][3]["purpose"] = json!("security");
    let w = start(sharing("forged.test", Some(&forged))).await;
    assert!(
        banner_shown(&w),
        "a cookie not stating this notice's purposes is ignored"
    );
    remove(&w);

    let mut short = summary(
        &embedded_hash(),
        OTHER_SITE_RECORD,
        "2026-11-30T10:00:00.000Z",
        ["granted"; 4],
    );
    short["purposes"].as_array_mut().expect("array").pop();
    let w = start(sharing("short.test", Some(&short))).await;
    assert!(banner_shown(&w), "a cookie missing a purpose is ignored");
    assert!(requests().is_empty());
    restore_fetch();
    remove(&w);
}

#[wasm_bindgen_test]
async fn the_later_of_this_sites_record_and_the_shared_choice_counts() {
    stub_fetch();
    route(ENDPOINT, 201, "{}");
    let first = start(attributes("both.test")).await;
    click(&first, ".banner [data-action=accept-all]").await;
    let local = stored_choice("both.test").expect("stored");
    remove(&first);

    // Made elsewhere, earlier: this site's own later record counts.
    let earlier = summary(
        &embedded_hash(),
        OTHER_SITE_RECORD,
        "2020-01-01T00:00:00.000Z",
        ["denied"; 4],
    );
    let w = start(sharing("both.test", Some(&earlier))).await;
    assert_eq!(
        json_of(&w.widget.preferences()),
        local,
        "the later record, this site's"
    );
    remove(&w);

    // Made elsewhere, later: it counts here too.
    let later = summary(
        &embedded_hash(),
        OTHER_SITE_RECORD,
        "2999-01-01T00:00:00.000Z",
        ["denied"; 4],
    );
    let w = start(sharing("both.test", Some(&later))).await;
    assert!(!banner_shown(&w));
    assert_eq!(
        json_of(&w.widget.preferences()),
        later,
        "the later choice, another site's"
    );
    w.widget.open();
    settle().await;
    assert!(
        !checkbox(&w, "updates").checked(),
        "the dialog shows the later choice"
    );
    remove(&w);

    // The cookie of this site's own record: the full record counts.
    let own = summary(
        &embedded_hash(),
        local["record_id"].as_str().expect("id"),
        local["client_time"].as_str().expect("time"),
        ["granted"; 4],
    );
    let w = start(sharing("both.test", Some(&own))).await;
    assert_eq!(json_of(&w.widget.preferences()), local);
    restore_fetch();
    remove(&w);
}

//! Getting records to the endpoint: what each answer means, retries with backoff and
//! Retry-After, the `online` event, sending as the page goes away, and the outbox's bounds.
#![cfg(target_arch = "wasm32")]

mod common;

use std::time::Duration;

use assent::delivery::backoff;
use assent::store::Store;
use assent::transport::{classify, parse_retry_after, Outcome};
use assent::widget::Started;
use assent_record::{ConsentRecord, Site};
use common::*;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
const timeout = AbortSignal.timeout;
export function shorten_timeouts(ms) {
  window.__assentTimeouts = [];
  AbortSignal.timeout = (asked) => { window.__assentTimeouts.push(asked); return timeout.call(AbortSignal, ms); };
}
export function restore_timeouts() { AbortSignal.timeout = timeout; }
export function timeouts_asked() { return window.__assentTimeouts.join(','); }
export function hold_lock(name) {
  return new Promise((held) => {
    navigator.locks.request(name, () => new Promise((release) => { held(); window.__assentRelease = release; }));
  });
}
const request = LockManager.prototype.request;
export function refuse_locks() {
  LockManager.prototype.request = () => Promise.reject(new DOMException('The request was denied.', 'SecurityError'));
}
export function restore_locks() { LockManager.prototype.request = request; }
export function release_lock(name) {
  window.__assentRelease();
  // Granted in turn: once this one is, any request made while the lock was held has had it.
  return navigator.locks.request(name, () => {});
}
"#)]
extern "C" {
    /// Has `AbortSignal.timeout` time out after `ms`, whatever it is asked for.
    fn shorten_timeouts(ms: u32);
    /// The timeouts `AbortSignal.timeout` was asked for, comma-separated.
    fn timeouts_asked() -> String;
    fn restore_timeouts();
    /// Takes the Web Lock `name` and keeps it until [`release_lock`].
    async fn hold_lock(name: &str);
    /// Lets the lock go, and settles once every request made while it was held has had it.
    async fn release_lock(name: &str);
    /// Has every Web Lock request refused, as Chromium does for a site that may not keep
    /// data.
    fn refuse_locks();
    fn restore_locks();
}

#[wasm_bindgen_test]
fn answers_decide_what_happens_to_a_record() {
    for status in [200, 201, 204] {
        assert_eq!(
            classify(status, None, ""),
            Outcome::Delivered(None),
            "{status}"
        );
    }
    assert_eq!(
        classify(
            201,
            None,
            r#"{"record_id":"x","receipt_file":{"receipt_id":"x"}}"#
        ),
        Outcome::Delivered(Some(r#"{"receipt_id":"x"}"#.to_owned())),
        "the answer's receipt file is kept as it is"
    );
    assert_eq!(
        classify(200, None, r#"{"receipt_file":"not an object"}"#),
        Outcome::Delivered(None),
        "an answer without a receipt file is still a delivery"
    );
    assert_eq!(
        classify(409, None, ""),
        Outcome::Known,
        "409: stored already"
    );
    for status in [408, 429, 500, 502, 503] {
        assert!(
            matches!(classify(status, None, ""), Outcome::Retry { .. }),
            "{status}"
        );
    }
    // The record at fault: never taken.
    for status in [400, 413, 415, 422] {
        assert_eq!(
            classify(status, None, "{\"error\":\"invalid_record\"}"),
            Outcome::Rejected { status },
            "{status}"
        );
    }
    // The site's setup at fault (an origin not allowed, a wrong path, a firewall): the
    // record waits for it to be fixed.
    for status in [401, 403, 404, 405, 410, 451] {
        assert_eq!(
            classify(status, None, "{\"error\":\"origin_not_allowed\"}"),
            Outcome::Held { status },
            "{status}"
        );
    }
    assert_eq!(parse_retry_after("7", 0.0), Some(Duration::from_secs(7)));
    let now = js_sys::Date::parse("Mon, 30 Nov 2026 12:00:00 GMT");
    assert_eq!(
        parse_retry_after("Mon, 30 Nov 2026 12:00:03 GMT", now),
        Some(Duration::from_secs(3))
    );
    assert_eq!(parse_retry_after("soon", now), None);
    assert_eq!(
        parse_retry_after("2592000", 0.0),
        Some(Duration::from_secs(3600)),
        "at most an hour: the record is tried again on the next page anyway"
    );
    assert_eq!(
        parse_retry_after("Mon, 30 Nov 2099 12:00:00 GMT", now),
        Some(Duration::from_secs(3600))
    );
}

#[wasm_bindgen_test]
fn backoff_doubles_with_jitter_up_to_a_cap() {
    assert_eq!(backoff(0, 0.0), Duration::from_millis(250));
    assert_eq!(backoff(0, 1.0), Duration::from_millis(500));
    assert_eq!(backoff(3, 1.0), Duration::from_millis(4000));
    assert_eq!(backoff(30, 1.0), Duration::from_secs(60), "capped");
    assert!(
        backoff(30, 0.0) >= Duration::from_secs(30),
        "jitter never drops below half"
    );
}

#[wasm_bindgen_test]
async fn a_conflict_means_the_endpoint_already_has_it() {
    stub_fetch();
    listen_errors();
    route(ENDPOINT, 409, "{\"error\":\"conflict\"}");
    let w = start(attributes("conflict.test")).await;
    click(&w, ".banner [data-action=accept-all]").await;
    let stored = stored_choice("conflict.test").expect("the choice is kept");
    let receipt = format!(
        "{ENDPOINT}/{}/receipt",
        stored["record_id"].as_str().unwrap_or_default()
    );
    // Delivered, not refused: the widget asks for the receipt of the record it has.
    assert!(
        wait_until(3000, || requests().iter().any(|call| call["method"]
            == "GET"
            && call["url"] == receipt.as_str()))
        .await,
        "its receipt asked for: {:?}",
        requests()
    );
    assert!(
        stored_outbox("conflict.test").is_empty(),
        "out of the outbox"
    );
    assert_eq!(posted_records().len(), 1, "sent once");
    assert!(error_events().is_empty(), "no assent:error");
    remove(&w);
    restore_fetch();
}

/// A widget on `site` whose accept the endpoint answers with `status` and `body`, once it
/// has fired its one `assent:error`, which names the record: the widget, the choice it
/// kept, and the error's detail.
async fn refused_accept(site: &str, status: u16, body: &str) -> (Started, Value, Value) {
    stub_fetch();
    listen_errors();
    route(ENDPOINT, status, body);
    let w = start(attributes(site)).await;
    click(&w, ".banner [data-action=accept-all]").await;
    assert!(
        wait_until(3000, || !error_events().is_empty()).await,
        "assent:error fired"
    );
    let stored = stored_choice(site).expect("the choice is still kept locally");
    let events = error_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["record_id"], stored["record_id"]);
    assert_eq!(events[0]["status"], status);
    let error = events[0].clone();
    (w, stored, error)
}

#[wasm_bindgen_test]
async fn a_refused_record_is_dropped_and_the_host_told() {
    let (w, _, _) = refused_accept("refused.test", 400, "{\"error\":\"invalid_record\"}").await;
    assert!(
        stored_outbox("refused.test").is_empty(),
        "dropped from the outbox"
    );
    gloo_timers::future::TimeoutFuture::new(1200).await;
    assert_eq!(posted_records().len(), 1, "never tried again");
    remove(&w);
    restore_fetch();
}

/// An answer that refuses the site's setup, not the record (here the collector's, for an
/// origin not on its list): the host is told, and the record waits in the outbox, not
/// tried again on this page, until a page finds the endpoint taking it.
#[wasm_bindgen_test]
async fn a_record_refused_for_the_sites_setup_waits_until_it_is_fixed() {
    let (w, stored, error) =
        refused_accept("setup.test", 403, "{\"error\":\"origin_not_allowed\"}").await;
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("waits in the outbox")),
        "{error:?}"
    );
    let waiting = stored_outbox("setup.test");
    assert_eq!(waiting.len(), 1, "kept in the outbox");
    assert_eq!(waiting[0]["record_id"], stored["record_id"]);
    gloo_timers::future::TimeoutFuture::new(1200).await;
    assert_eq!(posted_records().len(), 1, "not tried again on this page");
    remove(&w);

    // The collector's list fixed: the next page sends it, and it leaves the outbox.
    let (w, posted) = delivered_by_the_next_page("setup.test").await;
    assert_eq!(posted.len(), 2);
    assert_eq!(
        posted[1]["record_id"], stored["record_id"],
        "the same record"
    );
    remove(&w);
    restore_fetch();
}

/// An endpoint that never answers: each request is given up after 30 s (here made 50 ms)
/// and tried again like a network failure, so the round ends and the lock goes with it.
#[wasm_bindgen_test]
async fn a_request_never_answered_is_given_up_and_tried_again() {
    stub_fetch();
    shorten_timeouts(50);
    route_hang(ENDPOINT);
    let w = answered("silent.test", "accept-all").await;
    assert!(
        wait_until(5000, || posted_records().len() >= 2).await,
        "tried again after the first went unanswered"
    );
    assert!(
        timeouts_asked().starts_with("30000"),
        "asked: {}",
        timeouts_asked()
    );
    route(ENDPOINT, 201, "{}");
    assert!(
        wait_until(5000, || stored_outbox("silent.test").is_empty()).await,
        "delivered once the endpoint answers"
    );
    remove(&w);
    restore_timeouts();
    restore_fetch();
}

/// A widget taken down while its round waits for the outbox's lock (another tab's round
/// holds it) sends nothing once the lock comes.
#[wasm_bindgen_test]
async fn a_widget_taken_down_while_waiting_for_the_lock_sends_nothing() {
    stub_fetch();
    route(ENDPOINT, 503, "{}");
    remove(&answered("held.test", "decline-all").await);
    assert_eq!(stored_outbox("held.test").len(), 1, "a record waits");

    stub_fetch();
    route(ENDPOINT, 201, "{}");
    hold_lock("assent:held.test:outbox").await;
    let w = start(attributes("held.test")).await;
    settle().await;
    remove(&w);
    release_lock("assent:held.test:outbox").await;
    settle().await;
    assert!(requests().is_empty(), "nothing sent after the widget went");
    assert_eq!(
        stored_outbox("held.test").len(),
        1,
        "the record still waits"
    );
    restore_fetch();
}

/// Where the browser refuses the outbox's lock, records are sent without it, at once,
/// not only as the page goes (by keepalive, which nobody hears fail).
#[wasm_bindgen_test]
async fn a_refused_lock_still_sends_the_record() {
    stub_fetch();
    route(ENDPOINT, 201, "{}");
    refuse_locks();
    let w = answered("no-locks.test", "decline-all").await;
    let sent = wait_until(3000, || stored_outbox("no-locks.test").is_empty()).await;
    restore_locks();
    assert!(sent, "delivered: {:?}", requests());
    assert_eq!(posted_records().len(), 1, "sent once");
    remove(&w);
    restore_fetch();
}

#[wasm_bindgen_test]
async fn server_errors_are_retried_with_backoff_in_the_same_page() {
    stub_fetch();
    route(ENDPOINT, 500, "oops");
    let w = start(attributes("retry.test")).await;
    click(&w, ".banner [data-action=decline-all]").await;
    assert!(
        wait_until(3000, || posted_records().len() >= 2).await,
        "retried without a reload"
    );
    route(ENDPOINT, 201, "{}");
    assert!(
        wait_until(5000, || stored_outbox("retry.test").is_empty()).await,
        "delivered once the server recovers"
    );
    let posted = posted_records();
    assert!(
        posted.len() >= 3 && posted.windows(2).all(|p| p[0] == p[1]),
        "the same record each time"
    );
    let at: Vec<f64> = requests().iter().filter_map(|c| c["at"].as_f64()).collect();
    // Lower bounds only: timers never fire early, but a busy machine may fire them late.
    assert!(
        at[1] - at[0] >= 250.0,
        "first retry waits backoff(0) >= 250 ms: {at:?}"
    );
    assert!(
        at[2] - at[1] >= 500.0,
        "second retry waits backoff(1) >= 500 ms: {at:?}"
    );
    remove(&w);
    restore_fetch();
}

/// Tabs share one outbox in storage, and a save writes to it without the lock the rounds
/// take. Another tab's round, writing back the outbox as it read it just before this page's
/// save, leaves it without the saved record: this page's next round puts it back.
#[wasm_bindgen_test]
async fn a_saved_record_another_tab_wrote_over_is_still_delivered() {
    stub_fetch();
    route(ENDPOINT, 503, "busy");
    let w = start(attributes("overwritten.test")).await;
    click(&w, ".banner [data-action=accept-all]").await;
    let first = posted_records_once(1).await.remove(0);
    // What that other tab leaves: the outbox as it was before the save.
    set_item("assent:v1:overwritten.test:outbox", "[]");
    route(ENDPOINT, 201, "{}");
    let before = posted_records().len();
    assert!(
        wait_until(5000, || posted_records().len() > before).await,
        "sent again on the retry"
    );
    assert_eq!(posted_records()[before], first, "the same record");
    remove(&w);
    restore_fetch();
}

/// A widget on `site` whose first send was answered `status` with `Retry-After:
/// retry_after`, `wait_ms` after that answer.
async fn answered_retry_after(site: &str, status: u16, retry_after: &str, wait_ms: u32) -> Started {
    stub_fetch();
    route_retry_after(ENDPOINT, status, retry_after, false);
    let w = start(attributes(site)).await;
    click(&w, ".banner [data-action=accept-all]").await;
    // From the first attempt, which starts after the click's render.
    posted_records_once(1).await;
    gloo_timers::future::TimeoutFuture::new(wait_ms).await;
    w
}

#[wasm_bindgen_test]
async fn retry_after_is_honoured() {
    let w = answered_retry_after("retry-after.test", 429, "2", 0).await;
    route(ENDPOINT, 201, "{}");
    assert!(
        wait_until(5000, || stored_outbox("retry-after.test").is_empty()).await,
        "retried after it"
    );
    let at: Vec<f64> = requests().iter().filter_map(|c| c["at"].as_f64()).collect();
    // On the page's clock, from the first try (whose answer came after it): backoff alone
    // would have retried after 250 ms. A lower bound only, as timers may fire late.
    assert_eq!(at.len(), 2, "one retry: {at:?}");
    assert!(
        at[1] - at[0] >= 2000.0,
        "no retry before Retry-After: {at:?}"
    );
    remove(&w);
    restore_fetch();
}

#[wasm_bindgen_test]
async fn a_retry_after_beyond_what_a_timer_can_wait_is_not_a_retry_at_once() {
    // 30 days: past the 2^31 ms a browser timer can wait, which it takes as "now".
    let w = answered_retry_after("retry-after-long.test", 503, "2592000", 1000).await;
    assert_eq!(posted_records().len(), 1, "no retry loop");
    assert_eq!(
        stored_outbox("retry-after-long.test").len(),
        1,
        "kept for later"
    );
    remove(&w);
    restore_fetch();
}

/// A save made while a round is under way (here waiting for another tab's lock) that the
/// endpoint then answers with an hour's wait (503, Retry-After: 3600) is sent on the
/// backoff, as a save between rounds is sent at once: not after the hour.
#[wasm_bindgen_test]
async fn a_save_during_a_round_held_off_by_the_endpoint_is_sent_soon() {
    let site = "save-during-round.test";
    stub_fetch();
    route(ENDPOINT, 201, "{}");
    route_retry_after(ENDPOINT, 503, "3600", true);
    let lock = format!("assent:{site}:outbox");
    hold_lock(&lock).await;
    let w = start(attributes(site)).await;
    // The page's first round waits for the lock; the visitor's save comes meanwhile.
    click(&w, ".banner [data-action=accept-all]").await;
    release_lock(&lock).await;
    // Any bound far under the hour tells the two apart; a busy machine only makes it later.
    assert!(
        wait_until(60_000, || stored_outbox(site).is_empty()).await,
        "sent on the backoff, not after the hour"
    );
    assert_eq!(posted_records().len(), 2, "held off once, then taken");
    remove(&w);
    restore_fetch();
}

#[wasm_bindgen_test]
async fn coming_back_online_sends_at_once() {
    // The first answer has the next try wait an hour: only `online` can send it sooner.
    stub_fetch();
    route_retry_after(ENDPOINT, 503, "3600", false);
    let w = answered("online.test", "accept-all").await;
    assert_eq!(stored_outbox("online.test").len(), 1);
    route(ENDPOINT, 201, "{}");
    fire("window", "online");
    assert!(
        wait_until(3000, || stored_outbox("online.test").is_empty()).await,
        "sent on `online`, not an hour later"
    );
    remove(&w);
    restore_fetch();
}

/// A widget on `site` whose accept got no answer, and then (after `meanwhile`) the page
/// left: the widget, the request it made on `pagehide`, and that request's record.
async fn accepted_then_left(
    site: &str,
    meanwhile: impl FnOnce(),
) -> (Started, serde_json::Value, serde_json::Value) {
    stub_fetch();
    route(ENDPOINT, 0, "");
    let w = start(attributes(site)).await;
    click(&w, ".banner [data-action=accept-all]").await;
    meanwhile();
    let before = requests().len();
    fire("window", "pagehide");
    settle().await;
    let exit = requests()
        .get(before)
        .cloned()
        .expect("a request on pagehide");
    assert_eq!(exit["keepalive"], true);
    let body = serde_json::from_str(exit["body"].as_str().expect("body")).expect("json");
    (w, exit, body)
}

#[wasm_bindgen_test]
async fn leaving_the_page_sends_pending_records_with_keepalive() {
    let (w, exit, body) = accepted_then_left("leave.test", || ()).await;
    assert_eq!(
        exit["contentType"], "text/plain",
        "a simple request: no preflight"
    );
    assert_eq!(exit["credentials"], "omit");
    assert_eq!(Some(body), stored_choice("leave.test"));
    assert_eq!(
        stored_outbox("leave.test").len(),
        1,
        "kept until an answer is seen"
    );
    remove(&w);
    restore_fetch();
}

#[wasm_bindgen_test]
async fn leaving_the_page_puts_back_a_saved_record_another_tab_wrote_over() {
    // What another tab's stale write leaves: the outbox as it was before the accept.
    let (w, _, body) = accepted_then_left("leave-overwritten.test", || {
        set_item("assent:v1:leave-overwritten.test:outbox", "[]")
    })
    .await;
    assert_eq!(
        Some(&body),
        stored_choice("leave-overwritten.test").as_ref()
    );
    assert_eq!(
        stored_outbox("leave-overwritten.test"),
        vec![body],
        "back in the outbox for the next page"
    );
    remove(&w);
    restore_fetch();
}

fn record_at(site: &Site, iso_time: &str, n: u32) -> ConsentRecord {
    let mut record: serde_json::Value = serde_json::json!({
        "record_id": format!("00000000-0000-4000-8000-{n:012}"),
        "site": site.as_str(),
        "notice": {"id": "n", "version": "1", "hash": format!("sha256:{}", "0".repeat(64))},
        "language": "en",
        "purposes": [{"purpose": "updates", "basis": "consent", "state": "granted"}],
        "gpc": false, "widget_version": "0.1.0", "client_time": iso_time,
    });
    record["client_time"] = serde_json::Value::from(iso_time);
    serde_json::from_value(record).expect("valid record")
}

#[wasm_bindgen_test]
fn the_outbox_is_bounded_in_count_and_age() {
    let now = assent::browser::env::now();
    let fresh = now.as_str();

    // By age: a record from 2020, queued after two of today's, is dropped on the next look,
    // and from storage too.
    let site = Site::try_from("aged.test").expect("site");
    let store = Store::open(&site);
    for n in 1..=2 {
        assent::outbox::enqueue(&store, &record_at(&site, fresh, n));
    }
    assent::outbox::enqueue(&store, &record_at(&site, "2020-01-01T00:00:00Z", 0));
    assert_eq!(
        store.outbox().len(),
        3,
        "queued: the bounds are applied as of its own time"
    );
    let ids = |records: &[ConsentRecord]| -> Vec<String> {
        records.iter().map(|r| r.record_id.to_string()).collect()
    };
    let today = [
        "00000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-000000000002",
    ];
    assert_eq!(
        ids(&assent::outbox::pending(&store, *now)),
        today,
        "too old dropped"
    );
    assert_eq!(ids(&store.outbox()), today, "and no longer stored");

    // By count: of 55, the 5 oldest.
    let site = Site::try_from("bounded.test").expect("site");
    let store = Store::open(&site);
    for n in 1..=55 {
        assent::outbox::enqueue(&store, &record_at(&site, fresh, n));
    }
    let pending = assent::outbox::pending(&store, *now);
    assert_eq!(pending.len(), assent::outbox::MAX_RECORDS);
    assert_eq!(
        pending[0].record_id.to_string(),
        "00000000-0000-4000-8000-000000000006",
        "oldest dropped first"
    );
}

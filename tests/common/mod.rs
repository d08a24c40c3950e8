//! Helpers for the browser tests: start a widget as the loader would, look inside its
//! shadow root, click, wait for Yew, and stand in for the network with a scripted `fetch`.
#![allow(dead_code)]

pub mod locales;

use assent::browser::dom::Painted;
use assent::config::ScriptAttributes;
use assent::widget::{self, Place, Started};
use gloo_timers::future::TimeoutFuture;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement, ShadowRoot, ShadowRootInit, ShadowRootMode};

#[wasm_bindgen(inline_js = r#"
const original = { fetch: window.fetch };
export function stub_fetch() {
  const state = { calls: [], routes: [] };
  window.__assentFetch = state;
  window.fetch = async (input, init) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const body = request.method === 'POST' ? await request.text() : null;
    state.calls.push({ url: request.url, method: request.method, body, at: performance.now(),
      credentials: request.credentials, keepalive: request.keepalive,
      contentType: request.headers.get('content-type') });
    for (const route of state.routes) {
      if (request.url.startsWith(route.prefix)) {
        if (route.status === 0) throw new TypeError('Failed to fetch');
        if (route.hang) {
          // No answer, ever: like fetch, it ends only when the request's signal aborts.
          const signal = request.signal;
          return new Promise((_, reject) => {
            if (signal.aborted) reject(signal.reason);
            signal.addEventListener('abort', () => reject(signal.reason));
          });
        }
        if (route.receipt) {
          // A collector's answer: the record's id (from the body, or the receipt URL's
          // path) and a receipt file for it, with the record as stored (the one posted
          // last under that id, without its token), or another body under its id.
          const id = body ? JSON.parse(body).record_id : request.url.split('/').slice(-2)[0];
          const posted = state.calls.filter((call) => call.body && JSON.parse(call.body).record_id === id).at(-1);
          const record = JSON.parse(posted.body);
          delete record.subject_token;
          if (route.another) record.gpc = !record.gpc;
          const file = { version: 'assent-receipt-file/1', receipt_id: id,
            recorded_at: '2026-12-01T10:00:00Z', record, receipt: { jws: 'h.p.s', seq: 7 } };
          const answer = { record_id: id, seq: 7, received_at: file.recorded_at,
            chain_hash: 'sha256:' + 'a'.repeat(64), receipt: 'h.p.s', receipt_file: file };
          return new Response(JSON.stringify(answer), { status: route.status });
        }
        // A route for one answer only: the next request finds the one below it.
        if (route.once) state.routes.splice(state.routes.indexOf(route), 1);
        const headers = route.retryAfter ? { 'Retry-After': route.retryAfter } : {};
        return new Response(route.body, { status: route.status, headers });
      }
    }
    throw new TypeError('Failed to fetch');
  };
}
export function route(prefix, status, body) {
  window.__assentFetch.routes.unshift({ prefix, status, body });
}
export function route_hang(prefix) {
  window.__assentFetch.routes.unshift({ prefix, hang: true });
}
export function route_receipt(prefix, status) {
  window.__assentFetch.routes.unshift({ prefix, status, receipt: true });
}
export function route_receipt_of_another_record(prefix) {
  window.__assentFetch.routes.unshift({ prefix, status: 200, receipt: true, another: true });
}
export function listen_receipts() {
  window.__assentReceipts = [];
  if (!window.__assentReceiptListening) {
    window.__assentReceiptListening = true;
    document.addEventListener('assent:receipt', (e) => window.__assentReceipts.push(e.detail));
  }
}
export function receipts() { return JSON.stringify(window.__assentReceipts || []); }
export function route_retry_after(prefix, status, retryAfter, once) {
  window.__assentFetch.routes.unshift({ prefix, status, body: '', retryAfter, once });
}
export function fire(target, name) {
  (target === 'window' ? window : document).dispatchEvent(new Event(name));
}
export function errors() { return JSON.stringify(window.__assentErrors || []); }
export function listen_errors() {
  window.__assentErrors = [];
  if (!window.__assentErrorListening) {
    window.__assentErrorListening = true;
    document.addEventListener('assent:error', (e) => window.__assentErrors.push(e.detail));
  }
}
export function fetch_calls() { return JSON.stringify(window.__assentFetch.calls); }
export function restore_fetch() { window.fetch = original.fetch; }
let storageDescriptor = null;
export function break_local_storage() {
  storageDescriptor = Object.getOwnPropertyDescriptor(window, 'localStorage');
  Object.defineProperty(window, 'localStorage', {
    configurable: true, get() { throw new DOMException('denied', 'SecurityError'); } });
}
export function restore_local_storage() { Object.defineProperty(window, 'localStorage', storageDescriptor); }
let originalSetItem = null;
export function fill_storage_for(suffix) {
  originalSetItem = originalSetItem || Storage.prototype.setItem;
  const setItem = originalSetItem;
  Storage.prototype.setItem = function (key, value) {
    if (String(key).endsWith(suffix)) throw new DOMException('full', 'QuotaExceededError');
    return setItem.call(this, key, value);
  };
}
export function unfill_storage() { if (originalSetItem) Storage.prototype.setItem = originalSetItem; }
export function set_item(key, value) { window.localStorage.setItem(key, value); }
export function get_item(key) { return window.localStorage.getItem(key); }
export function listen_changes() {
  window.__assentChanges = [];
  if (!window.__assentListening) {
    window.__assentListening = true;
    document.addEventListener('assent:change', (e) => window.__assentChanges.push(e.detail));
  }
}
export function changes() { return JSON.stringify(window.__assentChanges || []); }
export function replace_address(url, state) { history.replaceState(JSON.parse(state), '', url); }
export function address() { return location.pathname + location.search + location.hash; }
export function history_state() { return JSON.stringify(history.state); }
export function history_length() { return history.length; }
export function storage_dump() { return JSON.stringify(Object.entries(window.localStorage)); }
export function fix_random_bytes(hex) {
  const bytes = hex.match(/../g).map((pair) => parseInt(pair, 16));
  crypto.getRandomValues = (array) => {
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(bytes.slice(0, array.byteLength));
    return array;
  };
}
export function restore_random_bytes() { delete crypto.getRandomValues; }
export function laid_out_in_order(element, text) {
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  let node = walker.nextNode();
  while (node && node.data !== text) node = walker.nextNode();
  if (!node || node.length < 2) return false;
  const lefts = [...node.data].map((_, i) => {
    const range = document.createRange();
    range.setStart(node, i);
    range.setEnd(node, i + 1);
    return range.getBoundingClientRect().left;
  });
  return lefts.every((left, i) => i === 0 || left > lefts[i - 1]);
}
"#)]
extern "C" {
    pub fn stub_fetch();
    /// Answers requests whose URL starts with `prefix`; status 0 means a network error.
    pub fn route(prefix: &str, status: u16, body: &str);
    /// Never answers requests whose URL starts with `prefix`, until their signal aborts.
    pub fn route_hang(prefix: &str);
    /// Answers like a collector: the record's id and a receipt file for it.
    pub fn route_receipt(prefix: &str, status: u16);
    /// Answers 200 with a receipt file whose record is another body under the id.
    pub fn route_receipt_of_another_record(prefix: &str);
    pub fn listen_receipts();
    fn receipts() -> String;
    /// Answers `status` with `Retry-After: retry_after`; with `once`, to one request only.
    pub fn route_retry_after(prefix: &str, status: u16, retry_after: &str, once: bool);
    /// Dispatches a plain event named `name` on `window` or `document`.
    pub fn fire(target: &str, name: &str);
    pub fn listen_errors();
    fn errors() -> String;
    fn fetch_calls() -> String;
    pub fn restore_fetch();
    pub fn break_local_storage();
    pub fn restore_local_storage();
    /// From now on `localStorage` is full for keys ending in `suffix` (QuotaExceededError).
    pub fn fill_storage_for(suffix: &str);
    pub fn unfill_storage();
    pub fn set_item(key: &str, value: &str);
    pub fn get_item(key: &str) -> Option<String>;
    pub fn listen_changes();
    fn changes() -> String;
    /// Rewrites the page address in place, with `state` (JSON) as the history state.
    pub fn replace_address(url: &str, state: &str);
    /// Path, query and fragment of the page address.
    pub fn address() -> String;
    /// The history state, as JSON.
    pub fn history_state() -> String;
    pub fn history_length() -> u32;
    /// Every `localStorage` entry as `[[key, value], …]` JSON.
    pub fn storage_dump() -> String;
    /// From now on `crypto.getRandomValues` gives these bytes (hex), for a known record id.
    pub fn fix_random_bytes(hex: &str);
    pub fn restore_random_bytes();
    /// Whether the text node under `element` whose text is `text` is laid out left to
    /// right in the order written (false when there is none).
    pub fn laid_out_in_order(element: &Element, text: &str) -> bool;
}

pub const ENDPOINT: &str = "https://collector.test/v1/records";
/// The identity check next to [`ENDPOINT`].
pub const IDENTITY: &str = "https://collector.test/v1/identity";

/// The attributes of a script tag for `site` that posts to [`ENDPOINT`].
pub fn attributes(site: &str) -> ScriptAttributes {
    ScriptAttributes {
        site: Some(site.to_owned()),
        endpoint: Some(ENDPOINT.to_owned()),
        ..ScriptAttributes::default()
    }
}

/// Boots the widget through the loader's entry point with `attributes` (the loader's
/// object, as JSON) and returns its host element.
pub async fn boot(attributes: &str) -> Element {
    boot_in(attributes, JsValue::NULL).await
}

/// [`boot`] with the language file the loader fetched (`null`: English).
pub async fn boot_in(attributes: &str, locale: JsValue) -> Element {
    let attributes = js_sys::JSON::parse(attributes).expect("json");
    assent::api::boot(
        attributes,
        false,
        locale,
        host_shadow(),
        None,
        js_sys::Promise::resolve(&JsValue::UNDEFINED),
    )
    .await
    .expect("boots");
    settle().await;
    let hosts = web_sys::window()
        .and_then(|w| w.document())
        .expect("document")
        .query_selector_all("assent-host")
        .expect("query");
    hosts
        .item(hosts.length() - 1)
        .expect("host")
        .dyn_into()
        .expect("element")
}

/// A JavaScript value as JSON.
pub fn json_of(value: &JsValue) -> Value {
    let text = js_sys::JSON::stringify(value).expect("stringify");
    serde_json::from_str(&text.as_string().expect("string")).expect("json")
}

/// Lets pending futures and timers run, then Yew finish rendering: a render that takes
/// over 16 ms yields to the browser and goes on in a later task, which a busy machine can
/// put after any fixed wait.
pub async fn settle() {
    TimeoutFuture::new(30).await;
    yew::scheduler::flush().await;
}

/// A host element appended to the page with an open shadow root, as the loader makes
/// one (without its stylesheet: these tests look at behaviour, e2e at looks).
pub fn host_shadow() -> ShadowRoot {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("document");
    let host = document.create_element("assent-host").expect("host");
    let shadow = host
        .attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))
        .expect("shadow root");
    document
        .body()
        .expect("body")
        .append_child(&host)
        .expect("appended");
    shadow
}

/// Where the loader would place a widget that it painted no banner for.
pub fn place() -> Place {
    Place {
        shadow: host_shadow(),
        painted: None,
        next_task: None,
    }
}

/// A shadow root holding a stand-in for the painted banner, with the loader's notes on it
/// and, with `focused`, a button of that `data-action` in it that has the keyboard focus.
pub fn painted_place(notes: &[(&str, &str)], focused: Option<&str>) -> (Place, Element) {
    let shadow = host_shadow();
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("document");
    let painted = document.create_element("div").expect("div");
    painted.set_attribute("class", "painted").expect("class");
    for (name, value) in notes {
        painted.set_attribute(name, value).expect("note");
    }
    shadow.append_child(&painted).expect("appended");
    if let Some(action) = focused {
        let button: HtmlElement = document
            .create_element("button")
            .expect("button")
            .dyn_into()
            .expect("an HTML element");
        button.set_attribute("data-action", action).expect("action");
        painted.append_child(&button).expect("appended");
        button.focus().expect("focused");
    }
    (
        Place {
            shadow,
            painted: Some(Painted(painted.clone())),
            next_task: None,
        },
        painted,
    )
}

/// A widget started as the loader starts it, rendered.
pub async fn start(attributes: ScriptAttributes) -> Started {
    let started = widget::start(&attributes, false, None, place())
        .await
        .expect("widget starts");
    settle().await;
    started
}

pub fn shadow(started: &Started) -> ShadowRoot {
    started.host.shadow_root().expect("open shadow root")
}

pub fn find(started: &Started, selector: &str) -> Option<Element> {
    shadow(started)
        .query_selector(selector)
        .expect("valid selector")
}

pub fn find_all(started: &Started, selector: &str) -> Vec<Element> {
    let list = shadow(started)
        .query_selector_all(selector)
        .expect("valid selector");
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into().ok())
        .collect()
}

pub fn text(started: &Started, selector: &str) -> String {
    find(started, selector)
        .and_then(|e| e.text_content())
        .unwrap_or_default()
}

pub async fn click(started: &Started, selector: &str) {
    let element = find(started, selector).unwrap_or_else(|| panic!("no element {selector}"));
    element.unchecked_into::<HtmlElement>().click();
    settle().await;
}

/// A widget for `site` whose banner was answered with `action` (`accept-all` or
/// `decline-all`), once that answer's record has been POSTed (to the routes set).
pub async fn answered(site: &str, action: &str) -> Started {
    let started = start(attributes(site)).await;
    click(&started, &format!(".banner [data-action={action}]")).await;
    posted_records_once(1).await;
    started
}

/// Opens the highlights through the widget's API, as `Assent.open()` does, and lets Yew render.
pub async fn open(started: &Started) {
    started.widget.open();
    settle().await;
}

pub fn checkbox(started: &Started, purpose: &str) -> HtmlInputElement {
    find(started, &format!("li[data-purpose={purpose}] input"))
        .unwrap_or_else(|| panic!("no toggle for {purpose}"))
        .unchecked_into()
}

/// Whether the banner is drawn: in the widget, and not hidden by its stylesheet.
pub fn banner_shown(started: &Started) -> bool {
    find(started, "section.banner")
        .is_some_and(|banner| banner.unchecked_into::<HtmlElement>().offset_height() > 0)
}

/// Every request the widget made since [`stub_fetch`].
pub fn requests() -> Vec<Value> {
    serde_json::from_str(&fetch_calls()).expect("calls are JSON")
}

/// The bodies POSTed to URLs starting with `prefix`, parsed.
pub fn posted_to(prefix: &str) -> Vec<Value> {
    requests()
        .into_iter()
        .filter(|call| {
            call["method"] == "POST" && call["url"].as_str().is_some_and(|u| u.starts_with(prefix))
        })
        .map(|call| {
            serde_json::from_str(call["body"].as_str().expect("body")).expect("body is JSON")
        })
        .collect()
}

/// The record bodies POSTed to [`ENDPOINT`], parsed.
pub fn posted_records() -> Vec<Value> {
    posted_to(ENDPOINT)
}

/// The records POSTed so far, once there are at least `count`: a save only starts the
/// send (the outbox's lock and the body are asynchronous), so the test waits for it
/// rather than for a fixed time.
pub async fn posted_records_once(count: usize) -> Vec<Value> {
    wait_until(3000, || posted_records().len() >= count).await;
    posted_records()
}

/// `assent:change` details heard since [`listen_changes`].
pub fn change_events() -> Vec<Value> {
    serde_json::from_str(&changes()).expect("events are JSON")
}

pub fn stored_choice(site: &str) -> Option<Value> {
    get_item(&format!("assent:v1:{site}:choice"))
        .map(|raw| serde_json::from_str(&raw).expect("stored JSON"))
}

pub fn stored_outbox(site: &str) -> Vec<Value> {
    get_item(&format!("assent:v1:{site}:outbox"))
        .map(|raw| serde_json::from_str(&raw).expect("stored JSON"))
        .unwrap_or_default()
}

/// Removes the widget from the page and stops its deliveries, as leaving the page would.
pub fn remove(started: &Started) {
    started.widget.stop();
    started.host.remove();
}

/// A second save on the page (after `clicks`): the status line, emptied while the visitor
/// chooses again, says the words of the first once more, a change a screen reader announces;
/// the second record is posted.
pub async fn second_save_announced(started: &Started, clicks: &[&str]) {
    assert_eq!(
        text(started, "[role=alert]"),
        "",
        "emptied while the visitor chooses"
    );
    for selector in clicks {
        click(started, selector).await;
    }
    click(started, "[data-action=save]").await;
    assert_eq!(text(started, "[role=alert]"), "Your choices are saved.");
    posted_records_once(2).await;
}

/// Whether `selector` shows in the preferences within 3 s, opening them again until it
/// does: what comes after a save (its receipt) shows in the preferences opened after it.
pub async fn shows_on_reopening(started: &Started, selector: &str) -> bool {
    wait_until(3000, || {
        find(started, selector).is_some() || {
            started.widget.open();
            false
        }
    })
    .await
}

/// Flips `purpose`'s toggle in the open preferences, saves, and returns the records posted
/// once there are `count`.
pub async fn toggle_and_save(started: &Started, purpose: &str, count: usize) -> Vec<Value> {
    click(started, &format!("li[data-purpose={purpose}] input")).await;
    click(started, "[data-action=save]").await;
    posted_records_once(count).await
}

/// `assent:error` details heard since [`listen_errors`].
pub fn error_events() -> Vec<Value> {
    serde_json::from_str(&errors()).expect("events are JSON")
}

/// The next page load of `site`, its endpoint answering 201: once what earlier pages left
/// in the outbox is delivered, the widget and every record POSTed so far.
pub async fn delivered_by_the_next_page(site: &str) -> (Started, Vec<Value>) {
    route(ENDPOINT, 201, "{}");
    let w = start(attributes(site)).await;
    assert!(
        wait_until(3000, || stored_outbox(site).is_empty()).await,
        "delivered by the next page"
    );
    (w, posted_records())
}

/// Waits until `done` holds, up to `limit_ms`; returns whether it did.
pub async fn wait_until(limit_ms: u32, done: impl Fn() -> bool) -> bool {
    let mut waited = 0;
    while !done() {
        if waited >= limit_ms {
            return false;
        }
        TimeoutFuture::new(25).await;
        waited += 25;
    }
    true
}

/// `assent:receipt` details heard since [`listen_receipts`].
pub fn receipt_events() -> Vec<Value> {
    serde_json::from_str(&receipts()).expect("events are JSON")
}

//! The visitor's proof: the receipt file the collector answers with is kept with the
//! choice, shown in the preferences (when recorded, its number, a download) and told to the
//! host page; on a 409 it is fetched; an endpoint without receipts is fine.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use serde_json::Value;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn stored_receipt(site: &str) -> Option<Value> {
    get_item(&format!("assent:v1:{site}:receipt"))
        .map(|raw| serde_json::from_str(&raw).expect("stored JSON"))
}

/// Starts a widget for `site` and declines in its banner; returns it once the record is
/// posted.
async fn decline(site: &str) -> assent::widget::Started {
    let w = start(attributes(site)).await;
    click(&w, ".banner [data-action=decline-all]").await;
    posted_records_once(1).await;
    w
}

/// The id of the first record posted.
fn posted_id() -> String {
    posted_records()[0]["record_id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// Declines on `site` and waits until the receipt is kept; returns the widget and the
/// posted record's id.
async fn decline_until_receipt(site: &str) -> (assent::widget::Started, String) {
    let w = decline(site).await;
    let id = posted_id();
    assert!(
        wait_until(3000, || stored_receipt(site).is_some()).await,
        "the receipt is kept"
    );
    (w, id)
}

async fn shows_receipt_for(w: &assent::widget::Started, record_id: &str) {
    assert!(
        wait_until(3000, || find(w, ".receipt").is_some() || {
            w.widget.open();
            false
        })
        .await,
        "the receipt appears in the preferences"
    );
    assert_eq!(
        text(w, ".receipt-id"),
        record_id,
        "its number is the record's id"
    );
    let time = find(w, ".receipt time").expect("a <time>");
    assert_eq!(
        time.get_attribute("datetime").as_deref(),
        Some("2026-12-01T10:00:00Z")
    );
    assert!(
        text(w, ".receipt time").contains("2026"),
        "the time is written out: {}",
        text(w, ".receipt time")
    );
    assert!(find(w, ".receipt [data-action=download-receipt]").is_some());
}

#[wasm_bindgen_test]
async fn a_201_with_a_receipt_file_is_kept_shown_and_told() {
    stub_fetch();
    listen_receipts();
    route_receipt(ENDPOINT, 201);
    let (w, id) = decline_until_receipt("receipt-201.test").await;
    let record = posted_records()[0].clone();
    let stored = stored_receipt("receipt-201.test").expect("kept");
    assert_eq!(
        stored["receipt_id"], record["record_id"],
        "kept with the choice"
    );
    assert_eq!(
        receipt_events(),
        vec![stored.clone()],
        "assent:receipt carries the file"
    );
    shows_receipt_for(&w, &id).await;
    restore_fetch();
    remove(&w);

    // A later page shows it too, from storage.
    stub_fetch();
    let again = start(attributes("receipt-201.test")).await;
    open(&again).await;
    assert_eq!(text(&again, ".receipt-id"), id);
    restore_fetch();
    remove(&again);
}

/// A storage too full for the receipt file (the largest entry) keeps the choice: the next
/// page does not ask again, only the receipt is not kept.
#[wasm_bindgen_test]
async fn a_receipt_too_big_for_storage_leaves_the_choice_stored() {
    let site = "receipt-full.test";
    stub_fetch();
    listen_receipts();
    route_receipt(ENDPOINT, 201);
    fill_storage_for(":receipt");
    let w = decline(site).await;
    assert!(
        wait_until(3000, || !receipt_events().is_empty()).await,
        "the receipt arrives"
    );
    unfill_storage();
    assert_eq!(stored_receipt(site), None, "not kept");
    assert_eq!(
        stored_choice(site).expect("the choice stays stored")["record_id"],
        posted_records()[0]["record_id"]
    );
    restore_fetch();
    remove(&w);
}

#[wasm_bindgen_test]
async fn a_200_repeat_answer_counts_the_same() {
    stub_fetch();
    route_receipt(ENDPOINT, 200);
    let (w, id) = decline_until_receipt("receipt-200.test").await;
    shows_receipt_for(&w, &id).await;
    restore_fetch();
    remove(&w);
}

#[wasm_bindgen_test]
async fn a_409_fetches_the_stored_receipt() {
    stub_fetch();
    route(
        ENDPOINT,
        409,
        r#"{"error":"conflict","message":"stored with another body"}"#,
    );
    route_receipt(&format!("{ENDPOINT}/"), 200);
    let (w, id) = decline_until_receipt("receipt-409.test").await;
    let asked: Vec<Value> = requests()
        .into_iter()
        .filter(|call| call["method"] == "GET")
        .collect();
    assert_eq!(asked.len(), 1, "one receipt request");
    assert_eq!(asked[0]["url"], format!("{ENDPOINT}/{id}/receipt"));
    assert_eq!(asked[0]["credentials"], "omit");
    shows_receipt_for(&w, &id).await;
    assert!(
        stored_outbox("receipt-409.test").is_empty(),
        "409: the record left the outbox"
    );
    restore_fetch();
    remove(&w);
}

/// A 409 whose stored record is another body under the record's id (posted first by
/// whoever read the id, which the shared cookie holds): its receipt would prove a choice
/// the visitor did not make, so it is neither kept nor shown, and the host page is told.
#[wasm_bindgen_test]
async fn a_409_for_another_records_body_keeps_no_receipt() {
    let site = "receipt-409-other.test";
    stub_fetch();
    listen_receipts();
    listen_errors();
    route(
        ENDPOINT,
        409,
        r#"{"error":"conflict","message":"stored with another body"}"#,
    );
    route_receipt_of_another_record(&format!("{ENDPOINT}/"));
    let w = decline(site).await;
    let id = posted_id();
    assert!(
        wait_until(3000, || !error_events().is_empty()).await,
        "the host page is told"
    );
    let told = &error_events()[0];
    assert_eq!(told["status"], 409);
    assert_eq!(told["record_id"], id.as_str());
    assert!(stored_outbox(site).is_empty(), "not sent again");
    assert!(stored_receipt(site).is_none(), "not kept");
    assert!(receipt_events().is_empty(), "no assent:receipt");
    open(&w).await;
    assert!(find(&w, ".receipt").is_none(), "not shown");
    restore_fetch();
    remove(&w);
}

#[wasm_bindgen_test]
async fn an_endpoint_without_receipts_is_fine() {
    stub_fetch();
    listen_receipts();
    route(ENDPOINT, 201, "{}");
    let w = decline("receipt-none.test").await;
    assert!(wait_until(3000, || stored_outbox("receipt-none.test").is_empty()).await);
    assert_eq!(text(&w, "[role=alert]"), "Your choices are saved.");
    open(&w).await;
    assert!(find(&w, ".receipt").is_none(), "no receipt shown");
    assert!(stored_receipt("receipt-none.test").is_none());
    assert!(receipt_events().is_empty(), "no assent:receipt");
    restore_fetch();
    remove(&w);
}

#[wasm_bindgen_test]
async fn a_receipt_for_another_record_is_not_kept() {
    stub_fetch();
    route(
        ENDPOINT,
        201,
        r#"{"receipt_file":{"receipt_id":"0f8e3c1a-5b2d-4e6f-8a9b-1c2d3e4f5a6b","recorded_at":"2026-12-01T10:00:00Z"}}"#,
    );
    let w = decline("receipt-other.test").await;
    assert!(wait_until(3000, || stored_outbox("receipt-other.test").is_empty()).await);
    settle().await;
    assert!(
        stored_receipt("receipt-other.test").is_none(),
        "not this choice's proof"
    );
    open(&w).await;
    assert!(find(&w, ".receipt").is_none());
    restore_fetch();
    remove(&w);
}

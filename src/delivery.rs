//! The courier: gets every record in the outbox to the endpoint. It tries on every page
//! load, right after each save, when the browser comes back online, and after failures
//! with capped exponential backoff and jitter (never sooner than the server's
//! `Retry-After`). When the page is hidden or left, what is pending goes out with
//! keepalive. Tabs of one site take turns (Web Locks), re-reading the shared outbox each
//! time, so no tab sends a record another has just delivered, and putting back what this
//! page saved, should another tab's write have lost it.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::time::Duration;

use assent_record::{ConsentRecord, Site};
use gloo::events::EventListener;
use gloo::timers::callback::Timeout;
use uuid::Uuid;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::spawn_local;

use crate::browser::{self, dom, env, lifecycle, locks};
use crate::outbox;
use crate::store::Store;
use crate::transport::{self, AnotherRecord, Outcome};

/// The event the host page hears when the endpoint refuses a record for good.
pub const ERROR_EVENT: &str = "assent:error";

/// An [`ERROR_EVENT`] detail: the HTTP `status` (0 without an answer), a `message` for
/// developers, and what failed: a manage link's `code`, or the `record_id`.
#[derive(Debug, Clone, Copy)]
pub struct ErrorDetail<'a> {
    /// A manage link's error code.
    pub code: Option<&'a str>,
    /// What went wrong, for developers.
    pub message: &'a str,
    /// The record the endpoint refused.
    pub record_id: Option<&'a str>,
    /// The HTTP status, 0 without an answer.
    pub status: u16,
}

impl ErrorDetail<'_> {
    /// The detail as a JavaScript object. Its properties are set in alphabetical order and
    /// absent ones left out, so its JSON is the same as it has always been.
    pub fn to_js(&self) -> JsValue {
        let text = |value: Option<&str>| value.map(JsValue::from_str);
        browser::object(&[
            ("code", text(self.code)),
            ("message", text(Some(self.message))),
            ("record_id", text(self.record_id)),
            ("status", Some(JsValue::from(self.status))),
        ])
    }
}

const FIRST_DELAY_MS: f64 = 500.0;
const MAX_DELAY_MS: f64 = 60_000.0;

/// The delay before retry number `attempt` (0-based): doubling from 500 ms, capped at a
/// minute, with jitter in its upper half so tabs and visitors don't retry in step.
pub fn backoff(attempt: u32, random: f64) -> Duration {
    let ceiling = (FIRST_DELAY_MS * 2f64.powi(attempt.min(16) as i32)).min(MAX_DELAY_MS);
    Duration::from_millis((ceiling * (0.5 + random.clamp(0.0, 1.0) / 2.0)) as u64)
}

/// How a round over the outbox ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Round {
    /// Nothing left to send.
    Done,
    /// A record must be tried again, not before the server's delay if it gave one.
    Retry(Option<Duration>),
}

/// Hears each receipt file (JSON text) the endpoint gives for a delivered record.
pub type ReceiptSink = Box<dyn Fn(String)>;

/// Delivers one site's outbox to one endpoint.
pub struct Courier {
    store: Rc<Store>,
    endpoint: String,
    lock_name: String,
    /// Failed rounds in a row; reset by a success, a save or the network returning.
    attempt: Cell<u32>,
    running: Cell<bool>,
    stopped: Cell<bool>,
    /// A trigger came while a round ran: run another right after.
    again: Cell<bool>,
    timer: RefCell<Option<Timeout>>,
    listeners: RefCell<Vec<EventListener>>,
    receipts: RefCell<Option<ReceiptSink>>,
    /// The records this page saved that no round has settled yet. A save adds to the
    /// shared outbox without the lock (the page may be left before it is granted), so
    /// another tab's round, writing back the outbox as it read it just before, can lose
    /// one: each round puts them back first, under the lock.
    saved: RefCell<Vec<ConsentRecord>>,
}

impl std::fmt::Debug for Courier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Courier")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Courier {
    /// A courier for `site`'s outbox; [`Courier::start`] sets it going.
    pub fn new(store: Rc<Store>, endpoint: String, site: &Site) -> Rc<Self> {
        Rc::new(Self {
            store,
            endpoint,
            lock_name: format!("assent:{site}:outbox"),
            attempt: Cell::new(0),
            running: Cell::new(false),
            stopped: Cell::new(false),
            again: Cell::new(false),
            timer: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
            receipts: RefCell::new(None),
            saved: RefCell::new(Vec::new()),
        })
    }

    /// Puts a record this page just saved in the outbox; [`Courier::send_now`] sends it.
    pub fn enqueue(&self, record: &ConsentRecord) {
        outbox::enqueue(&self.store, record);
        self.saved.borrow_mut().push(record.clone());
    }

    /// Puts back in the outbox what this page saved and no round has settled, should
    /// another tab's write have lost it. One that another tab delivered meanwhile is sent
    /// once more, and answered as known.
    fn put_back_saved(&self) {
        for record in self.saved.borrow().iter() {
            outbox::enqueue(&self.store, record);
        }
    }

    /// `record_id` is settled (delivered, known or refused): out of the outbox for good.
    fn settled(&self, record_id: Uuid) {
        outbox::remove(&self.store, record_id);
        self.saved.borrow_mut().retain(|r| r.record_id != record_id);
    }

    /// Where receipt files go from now on.
    pub fn on_receipt(&self, sink: ReceiptSink) {
        *self.receipts.borrow_mut() = Some(sink);
    }

    fn receipt(&self, file: Option<String>) {
        if let (Some(file), Some(sink)) = (file, &*self.receipts.borrow()) {
            sink(file);
        }
    }

    /// Listens for the network and the page's life, and sends what an earlier page left.
    pub fn start(self: &Rc<Self>) {
        let online = Rc::downgrade(self);
        let leaving = Rc::downgrade(self);
        *self.listeners.borrow_mut() = lifecycle::watch(
            move || Self::upgrade(&online, |courier| courier.send_now()),
            move || Self::upgrade(&leaving, |courier| courier.send_on_exit()),
        );
        self.send_now();
    }

    fn upgrade(weak: &Weak<Self>, act: impl FnOnce(&Rc<Self>)) {
        if let Some(courier) = weak.upgrade() {
            act(&courier);
        }
    }

    /// Tries at once, forgetting any backoff: something changed (a save, the network).
    pub fn send_now(self: &Rc<Self>) {
        self.attempt.set(0);
        self.run();
    }

    fn run(self: &Rc<Self>) {
        self.timer.borrow_mut().take();
        if self.stopped.get() {
            return;
        }
        if self.running.replace(true) {
            self.again.set(true);
            return;
        }
        let courier = Rc::clone(self);
        spawn_local(async move {
            let last = loop {
                courier.again.set(false);
                let round = courier.locked_round().await;
                // A trigger during a round that failed waits for the backoff like the rest:
                // the failing endpoint is not hit twice in a row.
                if round != Round::Done || !courier.again.get() {
                    break round;
                }
            };
            courier.running.set(false);
            if let (Round::Retry(server_delay), false) = (last, courier.stopped.get()) {
                // A save (or the network back) during that round: on the backoff it reset,
                // as between rounds it is sent at once, not after the endpoint's wait.
                courier.retry_later(server_delay.filter(|_| !courier.again.get()));
            }
        });
    }

    async fn locked_round(self: &Rc<Self>) -> Round {
        let result = Rc::new(Cell::new(None));
        let (courier, out) = (Rc::clone(self), Rc::clone(&result));
        locks::with_lock(&self.lock_name, move || async move {
            // Stopped (the widget taken down) while waiting for the lock: nothing more.
            if !courier.stopped.get() {
                out.set(Some(courier.round().await))
            }
        })
        .await;
        match result.get() {
            Some(round) => round,
            // The lock refused: the round without it (another tab's round may send the
            // same record at the same time, which the endpoint stores once). Else the
            // record would leave only with the page, by keepalive, and only if that worked.
            None if !self.stopped.get() => self.round().await,
            None => Round::Done,
        }
    }

    /// One pass over the outbox, oldest first, stopping at the first record that must wait.
    async fn round(&self) -> Round {
        self.put_back_saved();
        for record in outbox::pending(&self.store, *env::now()) {
            match transport::deliver(&self.endpoint, &record).await {
                Outcome::Delivered(file) => {
                    self.settled(record.record_id);
                    self.receipt(file);
                }
                Outcome::Known => {
                    match transport::fetch_receipt_file(&self.endpoint, &record).await {
                        Ok(file) => {
                            self.settled(record.record_id);
                            self.receipt(file);
                        }
                        // Its receipt would prove a choice the visitor did not make.
                        Err(AnotherRecord) => self.reject(
                            &record,
                            409,
                            "it holds another record under its id, or this one for no one or someone else; this one will not be sent again",
                        ),
                    }
                }
                Outcome::Rejected { status } => {
                    self.reject(&record, status, "it will not be sent again")
                }
                Outcome::Held { status } => {
                    tell(&record, status, "it waits in the outbox for a later page");
                    return Round::Retry(Some(transport::LONGEST_RETRY_AFTER));
                }
                Outcome::Retry { reason, after } => {
                    env::info(&format!(
                        "a record waits in the outbox for a later try: {reason}"
                    ));
                    return Round::Retry(after);
                }
            }
        }
        self.attempt.set(0);
        Round::Done
    }

    fn reject(&self, record: &ConsentRecord, status: u16, then: &str) {
        self.settled(record.record_id);
        tell(record, status, then);
    }

    fn retry_later(self: &Rc<Self>, server_delay: Option<Duration>) {
        let attempt = self.attempt.get();
        self.attempt.set(attempt.saturating_add(1));
        let delay = backoff(attempt, env::random()).max(server_delay.unwrap_or_default());
        let weak = Rc::downgrade(self);
        let millis = u32::try_from(delay.as_millis()).unwrap_or(u32::MAX);
        *self.timer.borrow_mut() = Some(lifecycle::after(millis, move || {
            // A timer retry keeps counting; only real changes reset the backoff.
            Self::upgrade(&weak, |courier| courier.run())
        }));
    }

    /// Stops for good: no more timers, no more listeners.
    pub fn stop(&self) {
        self.stopped.set(true);
        self.timer.borrow_mut().take();
        self.listeners.borrow_mut().clear();
    }

    /// The page is going away: hand what is pending to keepalive requests. The records
    /// stay in the outbox; the endpoint is idempotent, so the next load's send of one the
    /// keepalive already delivered is answered 200 (or 409) and clears it.
    pub fn send_on_exit(&self) {
        self.put_back_saved();
        let pending = outbox::pending(&self.store, *env::now());
        if !pending.is_empty() {
            transport::deliver_on_exit(&self.endpoint, &pending);
        }
    }
}

/// Warns, and tells the host page, that the endpoint refused `record`, and what becomes of
/// it.
fn tell(record: &ConsentRecord, status: u16, then: &str) {
    let message = format!("the endpoint refused the record with HTTP {status}; {then}");
    env::warn(&message);
    let record_id = record.record_id.to_string();
    let detail = ErrorDetail {
        code: None,
        message: &message,
        record_id: Some(&record_id),
        status,
    };
    dom::dispatch_or_warn(ERROR_EVENT, &detail.to_js());
}

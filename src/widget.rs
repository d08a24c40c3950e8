//! One running widget: its settings, the notice it shows, its storage, whom it speaks for,
//! and the save flow (record → outbox → stored choice → `assent:change` → send).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use assent_record::ConsentRecord;
use js_sys::Promise;
use thiserror::Error;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{Element, ShadowRoot};
use yew::{AttrValue, Callback, Renderer};

use crate::browser::dom::{self, Painted};
use crate::browser::{self, env};
use crate::config::{Config, ScriptAttributes};
use crate::delivery::{Courier, ERROR_EVENT};
use crate::identity::{self, Identity, IdentityError};
use crate::kept_click::{self, HandedClick, Kept, KeptClick};
use crate::locale::Locale;
use crate::messages::{self, Messages};
use crate::notice::{self, NoticeError, ShownNotice};
use crate::preferences::{self, Choices, RecordContext, RecordError};
use crate::receipt::{self, ReceiptSummary, RECEIPT_EVENT};
use crate::shared_choice::SharedChoice;
use crate::store::Store;
use crate::ui::{Action, App, AppProps, Held, ReceiptShown};

/// The event the host page hears after every save; its `detail` is the record.
pub const CHANGE_EVENT: &str = "assent:change";

/// The visitor's choice under the notice shown now.
#[derive(Debug, Clone, PartialEq)]
pub enum CurrentChoice {
    /// The record this site stored.
    Record(ConsentRecord),
    /// A later one made on another covered site of the same parent domain, as the shared
    /// cookie states it.
    Shared(SharedChoice),
}

impl CurrentChoice {
    /// Whether it was made after `millis` (on the client's clock).
    fn made_after(&self, millis: i64) -> bool {
        match self {
            Self::Record(record) => env::millis_of(*record.client_time) > millis,
            Self::Shared(shared) => shared.client_time_ms > millis as f64,
        }
    }
}

/// Why the widget could not start.
#[derive(Debug, Error)]
pub enum StartError {
    /// No notice could be shown at all.
    #[error(transparent)]
    Notice(#[from] NoticeError),
    /// The page refused the host element.
    #[error(transparent)]
    Dom(#[from] dom::DomError),
}

/// A running widget.
#[derive(Debug)]
pub struct Widget {
    /// The site's settings.
    pub config: Config,
    /// The notice shown and its hash.
    pub shown: ShownNotice,
    /// Choice and outbox.
    pub store: Rc<Store>,
    /// Global Privacy Control, read once at start.
    pub gpc: bool,
    /// The widget's words.
    pub messages: &'static Messages,
    /// Delivers the outbox; none without a valid endpoint.
    courier: Option<Rc<Courier>>,
    /// The person the collector vouched for, for this page only.
    identity: RefCell<Option<Identity>>,
    /// How many identity checks have started: only the latest one's answer counts.
    identity_checks: Cell<u32>,
    /// Where the widget tells the UI what happened.
    ui: RefCell<UiLink>,
    /// A forged shared cookie was already reported in the console.
    cookie_reported: Cell<bool>,
}

/// Hears how a background [`Widget::identify`] went.
pub type IdentifyDone = Box<dyn FnOnce(Result<Identity, IdentityError>)>;

/// The UI's ear: actions wait here until the UI has mounted.
#[derive(Debug)]
enum UiLink {
    Waiting(Vec<Action>),
    Ready(Callback<Action>),
}

/// Two handles are equal when they are the same widget.
impl PartialEq for Widget {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Widget {
    /// A widget for `config` showing `shown` in the words of `messages`, storing in
    /// `store`.
    pub fn new(
        config: Config,
        shown: ShownNotice,
        store: Store,
        messages: &'static Messages,
    ) -> Self {
        let store = Rc::new(store);
        let courier = config
            .endpoint_url()
            .map(|endpoint| Courier::new(Rc::clone(&store), endpoint.to_owned(), &config.site));
        Self {
            config,
            shown,
            store,
            gpc: env::global_privacy_control(),
            messages,
            courier,
            identity: RefCell::new(None),
            identity_checks: Cell::new(0),
            ui: RefCell::new(UiLink::Waiting(Vec::new())),
            cookie_reported: Cell::new(false),
        }
    }

    /// The visitor's choice under the notice shown now, if there is one: this site's
    /// stored record, or the shared cookie's choice when that is a later one, made on
    /// another covered site. A choice under another notice version means the visitor must
    /// be asked again. The loader decides the same way for returning visitors.
    pub fn current_choice(&self) -> Option<CurrentChoice> {
        let stored = self
            .store
            .choice()
            .filter(|record| record.notice.hash == self.shown.hash);
        match (stored, self.shared_choice()) {
            (Some(record), Some(shared)) if !shared.is_later_than(&record) => {
                Some(CurrentChoice::Record(record))
            }
            (_, Some(shared)) => Some(CurrentChoice::Shared(shared)),
            (stored, None) => stored.map(CurrentChoice::Record),
        }
    }

    /// What the accept or decline clicked on the painted banner that this widget was
    /// handed (`action`) still asks for. Nothing, when a choice is stored and the click is
    /// no longer kept: it was recorded since, or superseded (the loader of a second tab,
    /// opened before this one's wasm recorded the click, hands it over too), and the
    /// banner asks again when that choice is under another notice (saved in a tab showing
    /// it in another language, since this page started). Nothing
    /// either when another action is kept in its place: the visitor clicked again since, in
    /// another tab, and that later click is the one to record. Nothing, and the banner asks
    /// again, when it was kept under another notice than the one shown (an earlier page's,
    /// in a language whose file this page could not load: a choice counts only under the
    /// notice it was made on), or retired by another tab's widget. Nothing, and it is
    /// retired, when a choice made after it is current (on another covered site, through
    /// the shared cookie: the visitor's later word stands), when it is older than the
    /// outbox keeps a record (its record would never be sent), or when it is dated after
    /// now (a clock set back since the click); then the banner asks again
    /// if no choice is current. Else its record, at the moment kept with it and under the
    /// id kept with it, if one was.
    pub fn handed_click(&self, action: &str) -> HandedClick {
        let current = self.current_choice();
        let Some(painted) = self.store.painted_click() else {
            return HandedClick::Record(None);
        };
        let Some(kept) = painted else {
            return if current.is_some() {
                HandedClick::Nothing
            } else if self.store.choice().is_some_and(|record| {
                env::millis_of(*record.client_time) > env::page_start_millis()
            }) {
                // A choice saved since this page started, under another notice (in a tab
                // showing it in another language), whose save forgot the click: the
                // visitor's later word, which this click's record, made now, would outrank.
                // (A choice saved before is older than the click, which storage refused.)
                self.asked_again()
            } else {
                // Not kept: storage refused it.
                HandedClick::Record(None)
            };
        };
        // Retired by another tab's widget, too: it is not under any notice.
        if !kept_click::under(&kept, &self.shown.hash) {
            return self.asked_again();
        }
        let click = match kept_click::read(&kept, action) {
            Kept::Click(click) => click,
            Kept::Superseded => return HandedClick::Nothing,
            Kept::Unstated => return HandedClick::Record(None),
        };
        let made = env::millis_of(*click.client_time);
        let now = env::now_millis();
        // A moment after now: the clock was set back since the click (it ran fast then),
        // so the click's moment is unknown, and as of now it could outrank a later choice.
        if made > now
            || click.too_old(now)
            || current
                .as_ref()
                .is_some_and(|choice| choice.made_after(made))
        {
            self.store.retire_painted_click();
            return if current.is_some() {
                HandedClick::Nothing
            } else {
                self.asked_again()
            };
        }
        HandedClick::Record(Some(click))
    }

    /// A handed click that asks nothing, with the banner shown again: closing the (hidden)
    /// highlights of a visitor with no choice shows it.
    fn asked_again(&self) -> HandedClick {
        self.tell_ui(Action::Close);
        HandedClick::Nothing
    }

    fn shared_choice(&self) -> Option<SharedChoice> {
        let summary = self.config.shared_cookie.as_ref()?.read()?;
        SharedChoice::read(summary, &self.shown.notice, &self.shown.hash).unwrap_or_else(|reason| {
            if !self.cookie_reported.replace(true) {
                env::warn(&reason.to_string());
            }
            None
        })
    }

    /// The current choice as `Assent.preferences()` gives it (the record, or the shared
    /// cookie's summary), or `null`.
    pub fn preferences(&self) -> JsValue {
        match self.current_choice() {
            Some(CurrentChoice::Record(record)) => browser::json(&record.canonical_json()),
            Some(CurrentChoice::Shared(shared)) => shared.summary,
            None => JsValue::NULL,
        }
    }

    /// The stored receipt file and its summary, if it is the current choice's.
    fn current_receipt(&self) -> Option<(ReceiptSummary, String)> {
        let file = self.store.receipt()?;
        let summary = receipt::summary(&file)?;
        match self.current_choice()? {
            CurrentChoice::Record(record) if summary.is_for(&record) => Some((summary, file)),
            _ => None,
        }
    }

    /// What the preferences show of the current choice's receipt, once it has arrived.
    pub fn receipt_shown(&self) -> Option<ReceiptShown> {
        self.current_receipt()
            .and_then(|(summary, file)| self.shown_receipt(&summary, &file))
    }

    fn shown_receipt(&self, summary: &ReceiptSummary, file: &str) -> Option<ReceiptShown> {
        let (written, written_in) =
            env::local_date_time(&summary.recorded_at, self.messages.language)?;
        Some(ReceiptShown {
            file_name: AttrValue::from(receipt::file_name(&summary.receipt_id)),
            file_href: AttrValue::from(env::json_data_url(file)),
            receipt_id: AttrValue::from(summary.receipt_id.clone()),
            recorded_at: AttrValue::from(summary.recorded_at.clone()),
            recorded_at_text: AttrValue::from(written),
            recorded_at_language: AttrValue::from(written_in),
        })
    }

    /// The endpoint's receipt file for a delivered record: kept with the choice, told to
    /// the host page (`assent:receipt`) and shown, when it is the current choice's. A
    /// receipt for an earlier record, since replaced, proves nothing current.
    fn receipt_arrived(&self, file: String) {
        let Some(summary) = receipt::summary(&file) else {
            return;
        };
        match self.current_choice() {
            Some(CurrentChoice::Record(record)) if summary.is_for(&record) => {}
            _ => return,
        }
        // Kept before the host page hears of it, so `Assent.receipt()` in its listener
        // already gives it.
        self.store.save_receipt(file.clone());
        dom::dispatch_json(RECEIPT_EVENT, &file);
        if let Some(shown) = self.shown_receipt(&summary, &file) {
            self.tell_ui(Action::Receipt(shown));
        }
    }

    /// The toggles as this browser has them: the current choice, or all off.
    pub fn browser_choices(&self) -> Choices {
        let notice = &self.shown.notice;
        match self.current_choice() {
            Some(CurrentChoice::Record(record)) => Choices::from_record(notice, &record),
            Some(CurrentChoice::Shared(shared)) => shared.choices(notice),
            None => Choices::all(notice, false),
        }
    }

    /// Records `choices`: into the outbox (with the identity's token, if there is one),
    /// into storage as the visitor's choice and out to the host page as `assent:change`
    /// (both without the token: it is a credential, and outlives the page nowhere else),
    /// then to the endpoint. Returns the record as sent. With `kept`, the record is the
    /// painted banner's click, with the id and time kept at the click; else a new one.
    pub fn save(
        &self,
        choices: &Choices,
        kept: Option<KeptClick>,
    ) -> Result<ConsentRecord, RecordError> {
        // The language the notice was read in: the widget's, or the notice's own where no
        // language file translated its purposes either (a site's own notice).
        let notice = &self.shown.notice;
        let language = if self.shown.purposes_translated {
            self.messages.language
        } else {
            notice.language.as_str()
        };
        let context = RecordContext {
            site: &self.config.site,
            shown: &self.shown,
            language,
            gpc: self.gpc,
        };
        let (record_id, client_time) = match kept {
            Some(click) => (click.record_id.or_else(env::random_uuid), click.client_time),
            None => (env::random_uuid(), env::now()),
        };
        let mut record = preferences::record(&context, choices, record_id, client_time)?;
        // A choice made for the person whose link has expired since is not stored as this
        // browser's alone unseen (the collector would store it under nobody): the visitor
        // is told, with the toggles as they set them, and a save then is this browser's.
        if self
            .identity
            .borrow()
            .as_ref()
            .is_some_and(Identity::lapsed)
        {
            self.identity.borrow_mut().take();
            self.refuse(&IdentityError::Lapsed, choices.clone());
            return Err(RecordError::LinkExpired);
        }
        let token = self.identity.borrow().as_ref().map(|i| i.token.clone());
        if let Some(courier) = &self.courier {
            record.subject_token = token;
            courier.enqueue(&record);
        }
        let token = record.subject_token.take();
        self.store.save_choice(&record);
        let detail = browser::json(&record.canonical_json());
        if let Some(shared) = &self.config.shared_cookie {
            shared.write(&record, &self.shown.notice);
        }
        dom::dispatch_or_warn(CHANGE_EVENT, &detail);
        if let Some(courier) = &self.courier {
            courier.send_now();
        }
        record.subject_token = token;
        Ok(record)
    }

    /// Checks a manage link's token with the collector. Known: the preferences open for
    /// that person, with the collector's toggles, and later records carry the token.
    /// Refused: the visitor is told why, the host page gets `assent:error`, and records
    /// carry no token. Until the answer, records carry none either.
    pub async fn identify(&self, token: &str) -> Result<Identity, IdentityError> {
        self.identity.borrow_mut().take();
        let check = self.identity_checks.get().wrapping_add(1);
        self.identity_checks.set(check);
        let config = &self.config;
        let checked = identity::check(
            config.endpoint_url(),
            &config.site,
            &self.shown.notice,
            token,
        )
        .await;
        // A later check started meanwhile (Assent.identify beside a manage link): its answer
        // is the one that counts, whichever comes first, or a choice saved after it would
        // be attributed to this one's person.
        if self.identity_checks.get() != check {
            return Err(IdentityError::Superseded);
        }
        match &checked {
            Ok(identity) => {
                *self.identity.borrow_mut() = Some(identity.clone());
                self.tell_ui(Action::Identity {
                    person: Some(AttrValue::from(identity.hint.to_string())),
                    refusal: None,
                    choices: identity.choices.clone(),
                });
            }
            Err(reason) => {
                env::warn(&reason.to_string());
                self.refuse(reason, self.browser_choices());
            }
        }
        checked
    }

    /// Tells the host page (`assent:error`) and the visitor why no person is known, the
    /// preferences showing `choices`.
    fn refuse(&self, reason: &IdentityError, choices: Choices) {
        dom::dispatch_or_warn(ERROR_EVENT, &reason.detail());
        self.tell_ui(Action::Identity {
            person: None,
            refusal: Some(reason.refusal()),
            choices,
        });
    }

    /// [`Widget::identify`] in the background; `done` hears how it went.
    pub fn identify_soon(self: &Rc<Self>, token: String, done: IdentifyDone) {
        let widget = Rc::clone(self);
        spawn_local(async move { done(widget.identify(&token).await) });
    }

    /// Opens the highlights and preferences: with the choice this browser holds now
    /// (another tab of the site may have saved one since this page read it, which a save
    /// here would otherwise undo unseen), or the person's a manage link vouched for.
    pub fn open(&self) {
        let person_known = self.identity.borrow().is_some();
        self.tell_ui(Action::Open((!person_known).then(|| self.held())));
    }

    /// What this browser holds under the notice shown: the toggles, whether there is a
    /// current choice, and its receipt.
    pub fn held(&self) -> Held {
        Held {
            choices: self.browser_choices(),
            has_choice: self.current_choice().is_some(),
            receipt: self.receipt_shown(),
        }
    }

    fn tell_ui(&self, action: Action) {
        let ready = match &mut *self.ui.borrow_mut() {
            UiLink::Ready(callback) => callback.clone(),
            UiLink::Waiting(actions) => {
                actions.push(action);
                return;
            }
        };
        ready.emit(action);
    }

    /// Stops delivering (the records stay in the outbox for the next page).
    pub fn stop(&self) {
        if let Some(courier) = &self.courier {
            courier.stop();
        }
    }

    /// Called by the UI once it can take actions; those that came before are replayed.
    pub fn set_ui(&self, ui: Callback<Action>) {
        let before = std::mem::replace(&mut *self.ui.borrow_mut(), UiLink::Ready(ui.clone()));
        if let UiLink::Waiting(actions) = before {
            actions.into_iter().for_each(|action| ui.emit(action));
        }
    }
}

/// A started widget and the element it lives in.
#[derive(Debug, Clone)]
pub struct Started {
    /// The widget.
    pub widget: Rc<Widget>,
    /// Its host element in the page (its shadow root holds the UI).
    pub host: Element,
}

/// `src/ui/highlights.css`, minified by `build.rs` (the banner's is in the loader, which
/// paints the banner before the wasm arrives).
const CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/highlights.css"));

/// Where the loader placed the widget: its shadow root (the banner's stylesheet adopted)
/// and the banner it painted there, if it painted one.
#[derive(Debug, Clone)]
pub struct Place {
    /// The shadow root of the widget's host element.
    pub shadow: ShadowRoot,
    /// The loader's banner, which the widget's own replaces.
    pub painted: Option<Painted>,
    /// Settles in a task after the one that starts the widget: the widget is drawn then,
    /// so that on a slow phone loading the notice and drawing the widget are two short
    /// tasks, not one long one.
    pub next_task: Option<Promise>,
}

/// Takes a manage link's token out of the page address, reads the settings, loads the
/// notice, waits for `place.next_task` (if any), mounts the UI in the language of `locale`
/// (none: English), sends anything left in the outbox by an earlier page, and checks the
/// token.
pub async fn start(
    attributes: &ScriptAttributes,
    open_now: bool,
    locale: Option<Locale>,
    place: Place,
) -> Result<Started, StartError> {
    let token = identity::take_from_address();
    let config = Config::from_attributes(attributes);
    let messages = locale
        .as_ref()
        .map_or(&messages::EN, |locale| locale.messages);
    let shown = notice::load(&config, locale).await?;
    let store = Store::open(&config.site);
    let widget = Rc::new(Widget::new(config, shown, store, messages));
    if let Some(next_task) = place.next_task {
        // It settles after this task either way, which is all that matters here.
        let _ = JsFuture::from(next_task).await;
    }
    let mount = dom::mount(&place.shadow, CSS)?;
    Renderer::<App>::with_root_and_props(
        mount.root,
        AppProps {
            widget: Rc::clone(&widget),
            open_now,
            painted: place.painted,
        },
    )
    .render();
    if let Some(courier) = &widget.courier {
        let receiver = Rc::downgrade(&widget);
        courier.on_receipt(Box::new(move |file| {
            if let Some(widget) = receiver.upgrade() {
                widget.receipt_arrived(file);
            }
        }));
        courier.start();
    }
    if let Some(token) = token {
        // The outcome reaches the visitor, the host page and the console in `identify`.
        widget.identify_soon(token, Box::new(drop));
    }
    Ok(Started {
        widget,
        host: mount.host,
    })
}

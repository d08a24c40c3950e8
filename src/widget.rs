//! One running widget: its settings, the notice it shows, its storage, and the save flow
//! (record → outbox → stored choice → `assent:change` → send).

use std::cell::RefCell;
use std::rc::Rc;

use assent_record::ConsentRecord;
use thiserror::Error;
use web_sys::Element;
use yew::{Callback, Renderer};

use crate::browser::{dom, env};
use crate::config::{Config, ScriptAttributes};
use crate::delivery::Courier;
use crate::messages::{self, Messages};
use crate::notice::{self, NoticeError, ShownNotice};
use crate::outbox;
use crate::preferences::{self, Choices, RecordContext, RecordError};
use crate::store::Store;
use crate::ui::{App, AppProps};

/// The event the host page hears after every save; its `detail` is the record.
pub const CHANGE_EVENT: &str = "assent:change";

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
    /// Set by the UI: opens the highlights view.
    opener: RefCell<Option<Callback<()>>>,
}

/// Two handles are equal when they are the same widget.
impl PartialEq for Widget {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Widget {
    /// A widget for `config` showing `shown`, storing in `store`.
    pub fn new(config: Config, shown: ShownNotice, store: Store) -> Self {
        let messages = messages::for_language(
            config
                .lang
                .as_ref()
                .map_or(shown.notice.language.as_str(), |lang| lang.as_str()),
        );
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
            opener: RefCell::new(None),
        }
    }

    /// The visitor's stored record, if it was made under the notice shown now. A record
    /// under another notice version means the visitor must be asked again.
    pub fn current_choice(&self) -> Option<ConsentRecord> {
        self.store
            .choice()
            .filter(|record| record.notice.hash == self.shown.hash)
    }

    /// Records `choices`: into the outbox, into storage as the visitor's choice, out to
    /// the host page as `assent:change`, then to the endpoint.
    pub fn save(&self, choices: &Choices) -> Result<ConsentRecord, RecordError> {
        let context = RecordContext {
            site: &self.config.site,
            shown: &self.shown,
            gpc: self.gpc,
        };
        let record = preferences::record(&context, choices, env::random_uuid(), env::now())?;
        if self.courier.is_some() {
            outbox::enqueue(&self.store, &record);
        }
        self.store.save_choice(&record);
        let detail =
            js_sys::JSON::parse(&record.canonical_json()).unwrap_or(wasm_bindgen::JsValue::NULL);
        if let Err(reason) = dom::dispatch(CHANGE_EVENT, &detail) {
            env::warn(&format!("{CHANGE_EVENT} could not be sent: {reason}"));
        }
        if let Some(courier) = &self.courier {
            courier.send_now();
        }
        Ok(record)
    }

    /// Opens the highlights and preferences.
    pub fn open(&self) {
        if let Some(open) = self.opener.borrow().as_ref() {
            open.emit(());
        }
    }

    /// Stops delivering (the records stay in the outbox for the next page).
    pub fn stop(&self) {
        if let Some(courier) = &self.courier {
            courier.stop();
        }
    }

    /// Called by the UI once it can open itself.
    pub fn set_opener(&self, open: Callback<()>) {
        *self.opener.borrow_mut() = Some(open);
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

const CSS: &str = include_str!("ui/widget.css");

/// Reads the settings, loads the notice, mounts the UI and sends anything left in the
/// outbox by an earlier page.
pub async fn start(attributes: &ScriptAttributes, open_now: bool) -> Result<Started, StartError> {
    let config = Config::from_attributes(attributes);
    let shown = notice::load(&config).await?;
    let store = Store::open(&config.site);
    let widget = Rc::new(Widget::new(config, shown, store));
    let mount = dom::mount(CSS)?;
    Renderer::<App>::with_root_and_props(
        mount.root,
        AppProps {
            widget: Rc::clone(&widget),
            open_now,
        },
    )
    .render();
    if let Some(courier) = &widget.courier {
        courier.start();
    }
    Ok(Started {
        widget,
        host: mount.host,
    })
}

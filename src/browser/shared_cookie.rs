//! The shared-choice cookie of `data-cookie-domain`. The loader reads it, because it must
//! without the wasm too (a returning visitor's second covered site downloads none), and
//! hands over its `read` and the domain it checked; the wasm writes it on each save, so
//! that the writing is not in `assent.js`, which every visitor downloads.

use assent_record::{ConsentRecord, Notice};
use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::env;

const NAME: &str = "assent_v1";

/// The loader's reader of the shared cookie, and the cookie's domain.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedCookie {
    read: Function,
    domain: String,
}

// Function handles compare by identity, which is an equivalence.
impl Eq for SharedCookie {}

impl SharedCookie {
    /// From the loader's `{read, domain}` object, if it passed one.
    pub fn from_js(object: &JsValue) -> Option<Self> {
        Some(Self {
            read: Reflect::get(object, &JsValue::from_str("read"))
                .ok()?
                .dyn_into()
                .ok()?,
            domain: env::string_property(object, "domain")?,
        })
    }

    /// The cookie's choice as the loader reads it (already of the cookie's form), if there
    /// is one: `{record_id, client_time, notice: {hash}, purposes: [{purpose, basis,
    /// state}], cookie_domain}`.
    pub fn read(&self) -> Option<JsValue> {
        self.read
            .call0(&JsValue::NULL)
            .ok()
            .filter(|value| value.is_object())
    }

    /// Writes `record`'s choice under `notice` into the cookie for a year. A cookie the
    /// browser refuses is said in the console; the choice itself is stored apart, so nothing
    /// is lost.
    pub fn write(&self, record: &ConsentRecord, notice: &Notice) {
        let Some(value) = value(record, notice) else {
            return;
        };
        let secure = env::page_origin().is_some_and(|o| o.starts_with("https:"));
        let cookie = format!(
            "{NAME}={value}; Domain={}; Path=/; Max-Age=31536000; SameSite=Lax{}",
            self.domain,
            if secure { "; Secure" } else { "" }
        );
        let document = web_sys::window().and_then(|w| w.document());
        // Kept when the loader reads this record back from the page's cookies.
        let kept = document.is_some_and(|document| {
            Reflect::set(&document, &JsValue::from_str("cookie"), &cookie.into()).is_ok()
                && self
                    .read()
                    .and_then(|summary| env::string_property(&summary, "record_id"))
                    == Some(record.record_id.to_string())
        });
        if !kept {
            env::warn("the shared choice cookie was not kept; other covered sites will ask again");
        }
    }
}

/// The form the loader reads (`COOKIE_FORM` in loader/loader.js):
/// `h=<notice hash, hex>&r=<record id>&t=<client time, ms>&p=<purpose>:<g|d>.…`, each
/// optional purpose in the notice's order, which the wasm reads it in (src/shared_choice.rs).
/// None for a record it can't state: one with no optional purpose, or made before 1970.
fn value(record: &ConsentRecord, notice: &Notice) -> Option<String> {
    let millis = env::millis_of(*record.client_time);
    let mut states = String::new();
    for purpose in notice.optional_purposes() {
        if let Some(state) = record.purposes.state_of(purpose.id) {
            let mark = if state.is_granted() { 'g' } else { 'd' };
            let separator = if states.is_empty() { "" } else { "." };
            states += &format!("{separator}{}:{mark}", purpose.id.as_str());
        }
    }
    let hash = record.notice.hash.as_str().strip_prefix("sha256:")?;
    (millis >= 0 && !states.is_empty())
        .then(|| format!("h={hash}&r={}&t={millis}&p={states}", record.record_id))
}

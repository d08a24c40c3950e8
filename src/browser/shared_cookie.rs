//! The shared-choice cookie of `data-cookie-domain`, as the loader hands it over: two
//! functions, `read` and `write`. The loader owns the cookie because it must read it
//! without the wasm too: a returning visitor's second covered site downloads none.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::env;

/// The loader's functions for the shared cookie.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedCookie {
    read: Function,
    write: Function,
}

// Function handles compare by identity, which is an equivalence.
impl Eq for SharedCookie {}

impl SharedCookie {
    /// The functions from the loader's `{read, write}` object, if it passed one.
    pub fn from_js(object: &JsValue) -> Option<Self> {
        let function = |name: &str| {
            Reflect::get(object, &JsValue::from_str(name))
                .ok()?
                .dyn_into::<Function>()
                .ok()
        };
        Some(Self {
            read: function("read")?,
            write: function("write")?,
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

    /// Has the loader write `record` (a record as a JavaScript object) into the cookie. A
    /// cookie the browser refuses (or a write that throws) is said in the console; the
    /// choice itself is stored apart, so nothing is lost.
    pub fn write(&self, record: &JsValue) {
        let kept = self.write.call1(&JsValue::NULL, record);
        if kept.is_err() || kept.is_ok_and(|kept| kept.as_bool() == Some(false)) {
            env::warn("the shared choice cookie was not kept; other covered sites will ask again");
        }
    }
}

//! The shared-choice cookie of `data-cookie-domain`, as the loader hands it over: two
//! functions, `read` and `write`. The loader owns the cookie because it must read it
//! without the wasm too: a returning visitor's second covered site downloads none.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

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
    /// cookie the browser refuses is said in the console by the loader.
    pub fn write(&self, record: &JsValue) {
        // The loader's function catches its own failures; nothing is lost if it throws.
        let _ = self.write.call1(&JsValue::NULL, record);
    }
}

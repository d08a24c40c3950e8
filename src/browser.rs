//! Every call into Web APIs lives under this module, so the rest of the widget is plain
//! Rust that works on values. Each submodule wraps one API thinly and returns `Result`s.

pub mod address;
pub mod dom;
pub mod env;
pub mod http;
pub mod lifecycle;
pub mod locks;
pub mod read;
pub mod shared_cookie;
pub mod storage;

use wasm_bindgen::JsValue;

/// A short, safe description of a JavaScript exception for the console.
pub fn describe(error: &JsValue) -> String {
    js_sys::Error::from(error.clone())
        .message()
        .as_string()
        .unwrap_or_else(|| String::from("unknown error"))
}

/// A plain JavaScript object with the `entries` that have a value, set in their order.
pub fn object(entries: &[(&str, Option<JsValue>)]) -> JsValue {
    let object = js_sys::Object::new();
    for (name, value) in entries {
        if let Some(value) = value {
            // Setting a property of a fresh plain object cannot throw.
            let _ = js_sys::Reflect::set(&object, &JsValue::from_str(name), value);
        }
    }
    object.into()
}

/// JSON text as a JavaScript value (`JSON.parse`), `null` if it does not parse.
pub fn json(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap_or(JsValue::NULL)
}

//! What the loader (`assent.js`) calls. The loader owns `window.Assent`; these are the
//! wasm ends of `Assent.open()` and `Assent.preferences()`.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use crate::config::ScriptAttributes;
use crate::widget::{self, Widget};

thread_local! {
    static CURRENT: RefCell<Option<Rc<Widget>>> = const { RefCell::new(None) };
}

/// Starts the widget with the script tag's `data-*` attributes; `open` shows the
/// highlights at once (the visitor asked for them before the wasm had loaded).
#[wasm_bindgen]
pub async fn boot(attributes: JsValue, open: bool) -> Result<(), JsError> {
    let started = widget::start(&ScriptAttributes::from_js(&attributes), open).await?;
    CURRENT.with(|current| *current.borrow_mut() = Some(started.widget));
    Ok(())
}

/// Opens the highlights and preferences.
#[wasm_bindgen]
pub fn open() {
    CURRENT.with(|current| {
        if let Some(widget) = current.borrow().as_ref() {
            widget.open();
        }
    });
}

/// The visitor's stored record under the current notice, or `null`.
#[wasm_bindgen]
pub fn preferences() -> JsValue {
    CURRENT.with(|current| {
        current
            .borrow()
            .as_ref()
            .and_then(|widget| widget.current_choice())
            .and_then(|record| js_sys::JSON::parse(&record.canonical_json()).ok())
            .unwrap_or(JsValue::NULL)
    })
}

//! What the loader (`assent.js`) calls. The loader owns `window.Assent`; these are the
//! wasm ends of `Assent.open()`, `Assent.preferences()` and `Assent.identify(token)`.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use web_sys::{Element, ShadowRoot};

use crate::browser;
use crate::browser::dom::Painted;
use crate::config::ScriptAttributes;
use crate::identity::{Identity, IdentityError};
use crate::locale;
use crate::widget::{self, Place, Widget};

thread_local! {
    static CURRENT: RefCell<Option<Rc<Widget>>> = const { RefCell::new(None) };
}

/// Starts the widget with the script tag's `data-*` attributes; `open` shows the
/// highlights at once (the visitor asked for them before the wasm had loaded); `locale` is
/// the language file the loader fetched, `null` for English; `shadow` is the shadow root
/// the loader attached, and `painted` the banner it painted there, if any; the widget is
/// drawn once `next_task` settles (the loader's settles in a later task, see
/// [`Place::next_task`]).
#[wasm_bindgen]
pub async fn boot(
    attributes: JsValue,
    open: bool,
    locale: JsValue,
    shadow: ShadowRoot,
    painted: Option<Element>,
    next_task: Promise,
) -> Result<(), JsError> {
    let locale = locale::from_loader(&locale);
    let place = Place {
        shadow,
        painted: painted.map(Painted),
        next_task: Some(next_task),
    };
    let started =
        widget::start(&ScriptAttributes::from_js(&attributes), open, locale, place).await?;
    CURRENT.with(|current| *current.borrow_mut() = Some(started.widget));
    Ok(())
}

// `Assent.identify(token)`: the loader's Promise is settled through `resolve`, with the
// collector's answer once the preferences show whom they are for, or through `reject`,
// with the `assent:error` detail. (A `//` comment: doc comments are copied into assent.js.)
#[wasm_bindgen]
pub fn identify(token: String, resolve: Function, reject: Function) {
    let settle = move |checked: Result<Identity, IdentityError>| {
        // A Promise's resolving functions do not throw.
        let _ = match checked {
            Ok(identity) => resolve.call1(&JsValue::NULL, &browser::json(&identity.answer)),
            Err(reason) => reject.call1(&JsValue::NULL, &reason.detail()),
        };
    };
    match CURRENT.with(|current| current.borrow().clone()) {
        Some(widget) => widget.identify_soon(token, Box::new(settle)),
        None => settle(Err(IdentityError::NotRunning)),
    }
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

/// The visitor's choice under the current notice (the stored record, or the shared
/// cookie's summary of a later one made on another covered site), or `null`.
#[wasm_bindgen]
pub fn preferences() -> JsValue {
    CURRENT.with(|current| {
        current
            .borrow()
            .as_ref()
            .map_or(JsValue::NULL, |widget| widget.preferences())
    })
}

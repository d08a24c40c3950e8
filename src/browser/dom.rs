//! The widget's place in the host page: one host element with an open shadow root, so
//! host CSS can't reach the widget and the widget's CSS can't reach the host.

use js_sys::Array;
use thiserror::Error;
use wasm_bindgen::JsValue;
use web_sys::{
    CssStyleSheet, CustomEvent, CustomEventInit, Document, Element, ShadowRootInit, ShadowRootMode,
};

/// Why the widget could not be placed in the page.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomError {
    /// No `document` (not a page).
    #[error("there is no document")]
    NoDocument,
    /// A DOM call threw.
    #[error("the page refused a DOM operation ({0})")]
    Refused(String),
}

fn refused(error: JsValue) -> DomError {
    DomError::Refused(super::describe(&error))
}

fn document() -> Result<Document, DomError> {
    web_sys::window()
        .and_then(|w| w.document())
        .ok_or(DomError::NoDocument)
}

/// Where the widget lives: the host element in the page, and the element inside its
/// shadow root that Yew renders into.
#[derive(Debug, Clone)]
pub struct Mount {
    /// The element appended to the host page.
    pub host: Element,
    /// The root Yew renders into, inside the shadow root.
    pub root: Element,
}

/// Appends a host element to the page, attaches an open shadow root styled with `css`
/// (a constructed stylesheet: no `<style>` element and no `style=`, so a strict
/// `style-src 'self'` CSP allows it), and returns both ends.
pub fn mount(css: &str) -> Result<Mount, DomError> {
    let document = document()?;
    let host = document.create_element("div").map_err(refused)?;
    host.set_attribute("data-assent-host", "")
        .map_err(refused)?;
    let shadow = host
        .attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))
        .map_err(refused)?;
    let sheet = CssStyleSheet::new().map_err(refused)?;
    sheet.replace_sync(css).map_err(refused)?;
    shadow.set_adopted_style_sheets(&Array::of1(&sheet));
    let root = document.create_element("div").map_err(refused)?;
    shadow.append_child(&root).map_err(refused)?;
    let parent: Element = match document.body() {
        Some(body) => body.into(),
        None => document.document_element().ok_or(DomError::NoDocument)?,
    };
    parent.append_child(&host).map_err(refused)?;
    Ok(Mount { host, root })
}

/// Dispatches `name` on `document` with `detail`, for the host page to hear.
pub fn dispatch(name: &str, detail: &JsValue) -> Result<(), DomError> {
    let init = CustomEventInit::new();
    init.set_detail(detail);
    let event = CustomEvent::new_with_event_init_dict(name, &init).map_err(refused)?;
    document()?.dispatch_event(&event).map_err(refused)?;
    Ok(())
}

/// Dispatches `name` on `document` with the JSON text `json` as its `detail`. A failure
/// is said in the console: a host page missing an event is no reason to stop.
pub fn dispatch_json(name: &str, json: &str) {
    dispatch_or_warn(name, &super::json(json));
}

/// Dispatches `name` on `document` with `detail`; a failure is said in the console.
pub fn dispatch_or_warn(name: &str, detail: &JsValue) {
    if let Err(reason) = dispatch(name, detail) {
        super::env::warn(&format!("{name} could not be sent: {reason}"));
    }
}

/// Opens `dialog` as a modal dialog: in the top layer, the page behind inert, Escape
/// cancelling it. A refusal (a detached element) is said in the console.
pub fn show_modal(dialog: Option<web_sys::HtmlDialogElement>) {
    if let Some(Err(error)) = dialog.map(|dialog| dialog.show_modal()) {
        super::env::warn(&format!(
            "the preferences could not open as a dialog ({})",
            super::describe(&error)
        ));
    }
}

/// Closes `dialog` if it is open, so the page behind is no longer inert.
pub fn close_dialog(dialog: Option<web_sys::HtmlDialogElement>) {
    if let Some(dialog) = dialog.filter(|dialog| dialog.open()) {
        dialog.close();
    }
}

/// Moves keyboard focus to `element`, if it is there.
pub fn focus(element: Option<web_sys::HtmlElement>) {
    if let Some(element) = element {
        // Focus can only fail on a detached element; then there is nothing to focus.
        let _ = element.focus();
    }
}

/// The element that has keyboard focus in the page, if any.
pub fn active_element() -> Option<web_sys::HtmlElement> {
    use wasm_bindgen::JsCast;
    document().ok()?.active_element()?.dyn_into().ok()
}

/// Moves focus back to `element` if it is still in the page.
pub fn restore_focus(element: Option<web_sys::HtmlElement>) {
    focus(element.filter(|e| e.is_connected()));
}

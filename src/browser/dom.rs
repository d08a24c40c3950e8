//! The widget's place in the host page: one host element with an open shadow root, so
//! host CSS can't reach the widget and the widget's CSS can't reach the host.

use std::cell::{Cell, RefCell};

use gloo::events::EventListener;
use thiserror::Error;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use web_sys::{CssStyleSheet, CustomEvent, CustomEventInit, Document, Element, ShadowRoot};

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
    /// The element the loader appended to the host page.
    pub host: Element,
    /// The root Yew renders into, inside the shadow root.
    pub root: Element,
}

/// Adds the highlights' stylesheet `css` to the shadow root the loader attached (with
/// the banner's stylesheet already adopted) and a root for Yew next to anything the loader
/// painted there. Constructed stylesheets: no `<style>` element and no `style=`, so a
/// strict `style-src` CSP allows them.
pub fn mount(shadow: &ShadowRoot, css: &str) -> Result<Mount, DomError> {
    let document = document()?;
    let sheet = CssStyleSheet::new().map_err(refused)?;
    sheet.replace_sync(css).map_err(refused)?;
    let sheets = shadow.adopted_style_sheets();
    sheets.push(&sheet);
    shadow.set_adopted_style_sheets(&sheets);
    let root = document.create_element("div").map_err(refused)?;
    shadow.append_child(&root).map_err(refused)?;
    track_focus_origin(&root);
    Ok(Mount {
        host: shadow.host(),
        root,
    })
}

/// The banner the loader painted before the wasm arrived (`loader/banner.js`): the same
/// words and buttons as the widget's own, which replaces it in the same frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Painted(pub Element);

/// What the visitor did on the painted banner: the button they clicked (the loader notes
/// it as `data-chosen`), and the one that has the keyboard focus. Both are a button's
/// `data-action`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Handover {
    /// The button clicked, if any.
    pub chosen: Option<String>,
    /// The button focused, if any.
    pub focused: Option<String>,
    /// The page's element the focus came from into the painted banner (the loader notes it
    /// as the element's `from`), if any.
    pub came_from: Option<web_sys::HtmlElement>,
}

impl Painted {
    /// The button the visitor clicked on it (its `data-action`), if any.
    pub fn chosen(&self) -> Option<String> {
        self.0.get_attribute("data-chosen")
    }

    /// Takes the painted banner out of the page and says what the visitor did on it.
    pub fn remove(&self) -> Handover {
        let focused = self
            .0
            .get_root_node()
            .dyn_into::<ShadowRoot>()
            .ok()
            .and_then(|shadow| shadow.active_element())
            .filter(|active| self.0.contains(Some(active)))
            .and_then(|active| active.get_attribute("data-action"));
        let came_from = js_sys::Reflect::get(&self.0, &JsValue::from_str("from"))
            .ok()
            .and_then(|from| from.dyn_into::<web_sys::HtmlElement>().ok())
            .filter(|from| !self.0.contains(Some(from)));
        let handover = Handover {
            chosen: self.chosen(),
            focused,
            came_from,
        };
        self.0.remove();
        handover
    }
}

/// Moves keyboard focus to the first element under `root` that matches `selector`.
pub fn focus_first(root: Option<Element>, selector: &str) {
    let element = root
        .and_then(|root| root.query_selector(selector).ok())
        .flatten()
        .and_then(|element| element.dyn_into().ok());
    focus(element);
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

/// The element that has keyboard focus, if any: inside the widget's shadow root (or any
/// other open one) the element itself, not its host, which can't take the focus back.
pub fn active_element() -> Option<web_sys::HtmlElement> {
    // Read through Reflect.get, which the glue has: imports of their own were 7 B more of it.
    let inner = |host: &JsValue| {
        js_sys::Reflect::get(host, &JsValue::from_str("shadowRoot"))
            .ok()
            .filter(JsValue::is_object)
            .and_then(|root| js_sys::Reflect::get(&root, &JsValue::from_str("activeElement")).ok())
            .filter(JsValue::is_object)
    };
    let mut active = JsValue::from(document().ok()?.active_element()?);
    while let Some(element) = inner(&active) {
        active = element;
    }
    active.dyn_into().ok()
}

thread_local! {
    /// The page's element the keyboard focus last came from into the widget; none when it
    /// came from nowhere (a click, a screen reader's cursor).
    static FOCUS_ORIGIN: RefCell<Option<web_sys::HtmlElement>> = const { RefCell::new(None) };
    /// A choice was made in the preferences open now ([`focus_back_on_close`]).
    static CHOSEN: Cell<bool> = const { Cell::new(false) };
}

/// Notes, for as long as the page lives, where the keyboard focus comes from each time it
/// enters `root`'s elements from the page.
fn track_focus_origin(root: &Element) {
    let inside = root.clone();
    EventListener::new(root, "focusin", move |event| {
        let from = js_sys::Reflect::get(event, &JsValue::from_str("relatedTarget"))
            .ok()
            .and_then(|from| from.dyn_into::<web_sys::HtmlElement>().ok());
        // A move between the widget's own elements keeps where the focus came from.
        if !from
            .as_ref()
            .is_some_and(|from| inside.contains(Some(from)))
        {
            FOCUS_ORIGIN.set(from);
        }
    })
    .forget();
}

/// Notes `from`, if any, as where the keyboard focus came from into the widget: the page's
/// element it came from into the painted banner, which the widget's own has replaced.
pub fn came_from(from: Option<web_sys::HtmlElement>) {
    if from.is_some() {
        FOCUS_ORIGIN.set(from);
    }
}

/// Moves focus back to `element` if it is still in the page, else where it came from into
/// the widget (the widget's element that had it went with a choice), so that it is not
/// left to the page's start; there at once after [`focus_back_on_close`].
pub fn restore_focus(element: Option<web_sys::HtmlElement>) {
    let chosen = CHOSEN.take();
    focus(
        element
            .filter(|e| !chosen && e.is_connected())
            .or_else(|| FOCUS_ORIGIN.with_borrow(Clone::clone)),
    );
}

/// A choice made in the preferences: as they close, the focus goes back where it came from
/// into the widget, not to their opener, which may be the banner's button going with the
/// choice (still in the page while they close).
pub fn focus_back_on_close() {
    CHOSEN.set(true);
}

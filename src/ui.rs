//! The widget's components. They render plain data and emit callbacks; the save flow and
//! every Web API call live outside (`crate::widget`, `crate::browser`).

mod app;
mod banner;
mod blocks;
mod highlights;
mod purposes;
mod receipt;
mod state;

pub use app::{App, AppProps};
pub use state::{Action, Held, ReceiptShown};

use std::ops::Deref;
use std::rc::Rc;

use assent_record::Notice;
use web_sys::Event;
use yew::{Callback, MouseEvent};

/// The notice shown, as components take it: one for the widget's whole life, so properties
/// compare it by pointer, not section by section on every render (and the wasm carries no
/// deep comparison of notices).
#[derive(Debug, Clone)]
pub(crate) struct ShownNoticeRef(pub Rc<Notice>);

impl PartialEq for ShownNoticeRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Deref for ShownNoticeRef {
    type Target = Notice;

    fn deref(&self) -> &Notice {
        &self.0
    }
}

/// Whether an event came from the visitor rather than from a script on the host page
/// (`element.click()` makes untrusted events). Only the visitor may make a choice.
pub(crate) fn is_trusted(event: &Event) -> bool {
    cfg!(feature = "synthetic-clicks") || event.is_trusted()
}

/// A click handler that emits only for the visitor's own clicks.
pub(crate) fn on_click(callback: &Callback<()>) -> Callback<MouseEvent> {
    let callback = callback.clone();
    Callback::from(move |event: MouseEvent| {
        if is_trusted(&event) {
            callback.emit(());
        }
    })
}

/// `dir="auto"` for text marked with a language of its own (`lang`): its direction is its
/// own text's, not the widget's (an English notice in an Arabic widget reads left to right).
pub(crate) fn auto_dir(lang: &Option<yew::AttrValue>) -> Option<&'static str> {
    lang.as_ref().map(|_| "auto")
}

//! Page life: the network coming back, the page being hidden or left, and timers.

use gloo::events::EventListener;
use gloo::timers::callback::Timeout;
use wasm_bindgen::JsCast;
use web_sys::Document;

/// Calls `on_online` when the browser goes online and `on_leave` when the page is hidden
/// or unloaded. The listeners live as long as the returned values.
pub fn watch(
    on_online: impl Fn() + 'static,
    on_leave: impl Fn() + Clone + 'static,
) -> Vec<EventListener> {
    let Some(window) = web_sys::window() else {
        return Vec::new();
    };
    let mut listeners = vec![EventListener::new(&window, "online", move |_| on_online())];
    let leave = on_leave.clone();
    listeners.push(EventListener::new(&window, "pagehide", move |_| leave()));
    if let Some(document) = window.document() {
        listeners.push(EventListener::new(
            &document,
            "visibilitychange",
            move |event| {
                let hidden = event
                    .target()
                    .and_then(|target| target.dyn_into::<Document>().ok())
                    .is_some_and(|document| {
                        document.visibility_state() == web_sys::VisibilityState::Hidden
                    });
                if hidden {
                    on_leave();
                }
            },
        ));
    }
    listeners
}

/// Runs `then` once after `millis`, unless the returned timer is dropped first.
pub fn after(millis: u32, then: impl FnOnce() + 'static) -> Timeout {
    Timeout::new(millis, then)
}

//! The Web Locks API, so tabs of one site take turns with the shared outbox.

use std::future::Future;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

/// Runs `task` while holding the lock `name` across every tab of this origin; where the
/// browser has no Web Locks, runs it at once.
pub async fn with_lock<F, Fut>(name: &str, task: F)
where
    F: FnOnce() -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let request = web_sys::window()
        .and_then(|w| Reflect::get(&w.navigator(), &JsValue::from_str("locks")).ok())
        .filter(|locks| !locks.is_undefined() && !locks.is_null())
        .and_then(|locks| {
            let request = Reflect::get(&locks, &JsValue::from_str("request"))
                .ok()?
                .dyn_into::<Function>()
                .ok()?;
            Some((locks, request))
        });
    let Some((locks, request)) = request else {
        task().await;
        return;
    };
    // The lock is held until the promise the callback returns settles.
    let callback = Closure::once(move |_lock: JsValue| -> Promise {
        future_to_promise(async move {
            task().await;
            Ok(JsValue::UNDEFINED)
        })
    });
    let granted = request.call2(
        &locks,
        &JsValue::from_str(name),
        callback.as_ref().unchecked_ref(),
    );
    if let Ok(promise) = granted.and_then(|p| p.dyn_into::<Promise>()) {
        // A rejected lock request (Chromium refuses one, with a SecurityError, to a site
        // that may not keep data) means the task did not run: the caller can tell.
        let _ = JsFuture::from(promise).await;
    }
    drop(callback);
}

//! `fetch`, always without credentials (consent records carry no cookies), and given up
//! after a while.

use js_sys::{Function, Reflect};
use thiserror::Error;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestCredentials, RequestInit, RequestMode, Response};

/// Why a request produced no HTTP response.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FetchError {
    /// The request could not be built (a URL the browser refuses).
    #[error("the request could not be made ({0})")]
    Request(String),
    /// Network failure, CORS refusal, CSP block, or no answer in time: the browser gives no
    /// detail.
    #[error("the network request failed ({0})")]
    Network(String),
    /// The response body could not be read.
    #[error("the response body could not be read ({0})")]
    Body(String),
}

/// How long a request may go unanswered before it is given up, and retried as a network
/// failure is: a round waiting for an endpoint that never answers would keep the outbox's
/// lock, and every tab's deliveries with it, until the page went.
const TIMEOUT_MS: u32 = 30_000;

fn init(method: &str) -> RequestInit {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    if let Some(signal) = timeout_signal() {
        let _ = Reflect::set(&init, &"signal".into(), &signal);
    }
    init
}

/// `AbortSignal.timeout(TIMEOUT_MS)` where the browser has it (Chrome 103, Firefox 100,
/// Safari 16), reached through `Reflect`: web-sys's binding would add its own glue.
fn timeout_signal() -> Option<JsValue> {
    let window: JsValue = web_sys::window()?.into();
    let class = Reflect::get(&window, &"AbortSignal".into()).ok()?;
    let timeout = Reflect::get(&class, &"timeout".into()).ok()?;
    if !timeout.is_function() {
        return None;
    }
    timeout
        .unchecked_ref::<Function>()
        .call1(&class, &TIMEOUT_MS.into())
        .ok()
}

async fn send(request: Request) -> Result<Response, FetchError> {
    let window = web_sys::window().ok_or_else(|| FetchError::Request("no window".into()))?;
    let response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|e| FetchError::Network(super::describe(&e)))?;
    response
        .dyn_into::<Response>()
        .map_err(|_| FetchError::Network("not a Response".into()))
}

/// What the widget reads of a response to a POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The `Retry-After` header, when the server sent one and CORS exposes it.
    pub retry_after: Option<String>,
    /// The body text; empty when it could not be read (the status still counts).
    pub body: String,
}

fn post(url: &str, body: &str, content_type: &str, keepalive: bool) -> Result<Request, FetchError> {
    let init = init("POST");
    init.set_body(&body.into());
    // Not followed: a 301, 302 or 303 would turn the POST into a GET, whose answer would
    // be taken for the endpoint's to the record, and the record dropped unstored. Refused,
    // it fails as an unreachable endpoint does, and the record waits.
    let _ = Reflect::set(&init, &"redirect".into(), &"error".into());
    if keepalive {
        // web-sys has no setter for `keepalive` yet; it is a plain dictionary member.
        Reflect::set(&init, &"keepalive".into(), &true.into())
            .map_err(|e| FetchError::Request(super::describe(&e)))?;
    }
    let request = Request::new_with_str_and_init(url, &init)
        .map_err(|e| FetchError::Request(super::describe(&e)))?;
    request
        .headers()
        .set("Content-Type", content_type)
        .map_err(|e| FetchError::Request(super::describe(&e)))?;
    Ok(request)
}

/// POSTs a JSON body as `text/plain`: a CORS "simple" request, so there is no preflight
/// (one round trip, and the same request works with keepalive), and a refusal such as a
/// 403 for an origin the collector does not serve reaches the endpoint and can be read.
pub async fn post_json(url: &str, body: &str) -> Result<Answer, FetchError> {
    let response = send(post(url, body, "text/plain", false)?).await?;
    let retry_after = response.headers().get("Retry-After").ok().flatten();
    Ok(Answer {
        status: response.status(),
        retry_after,
        body: text(&response).await.unwrap_or_default(),
    })
}

/// POSTs a JSON body like [`post_json`] with `keepalive`, so the request outlives the
/// page. Nobody waits for the answer: the page is going away.
pub fn post_on_exit(url: &str, body: &str) -> Result<(), FetchError> {
    let window = web_sys::window().ok_or_else(|| FetchError::Request("no window".into()))?;
    // The promise is dropped on purpose; the browser finishes the request on its own.
    let _pending = window.fetch_with_request(&post(url, body, "text/plain", true)?);
    Ok(())
}

/// GETs a URL; returns the status and the body text.
pub async fn get_text(url: &str) -> Result<(u16, String), FetchError> {
    let request = Request::new_with_str_and_init(url, &init("GET"))
        .map_err(|e| FetchError::Request(super::describe(&e)))?;
    let response = send(request).await?;
    Ok((response.status(), text(&response).await?))
}

async fn text(response: &Response) -> Result<String, FetchError> {
    let text = response
        .text()
        .map_err(|e| FetchError::Body(super::describe(&e)))?;
    let text = JsFuture::from(text)
        .await
        .map_err(|e| FetchError::Body(super::describe(&e)))?;
    Ok(text.as_string().unwrap_or_default())
}

//! Facts about the page and the browser: time, randomness, privacy signals, URLs, console.

use assent_record::Rfc3339Time;
use js_sys::Reflect;
use time::OffsetDateTime;
use uuid::Uuid;
use wasm_bindgen::{JsCast, JsValue};

/// Writes a warning to the console, prefixed so a site's developers know who spoke.
pub fn warn(message: &str) {
    gloo::console::warn!(format!("Assent: {message}"));
}

/// Writes an informational line to the console.
pub fn info(message: &str) {
    gloo::console::info!(format!("Assent: {message}"));
}

/// The client's clock, to the millisecond; 1970's start where it is set beyond the years a
/// record can state.
pub fn now() -> Rfc3339Time {
    at_millis(now_millis()).unwrap_or_else(Rfc3339Time::unix_epoch)
}

/// A random number in [0, 1), for jitter (not for anything secret).
pub fn random() -> f64 {
    js_sys::Math::random()
}

/// The client's clock as JavaScript gives it (`Date.now()`): milliseconds since 1970.
pub fn now_millis() -> i64 {
    js_sys::Date::now() as i64
}

/// When this page started (`performance.timeOrigin`), in milliseconds since 1970 as
/// [`now_millis`] counts them; now where the browser can't say.
pub fn page_start_millis() -> i64 {
    // Read as a property, through the Reflect.get the glue has already (no import of its own).
    web_sys::window()
        .and_then(|w| w.performance())
        .and_then(|performance| js_sys::Reflect::get(&performance, &"timeOrigin".into()).ok())
        .and_then(|origin| origin.as_f64())
        .map_or_else(now_millis, |origin| origin as i64)
}

/// A moment in milliseconds since 1970, as [`now_millis`] gives it; `None` beyond the
/// years a record can state.
pub fn at_millis(millis: i64) -> Option<Rfc3339Time> {
    // Seconds and milliseconds, not nanoseconds: an i128 would bring 128-bit division in.
    let millisecond = u16::try_from(millis.rem_euclid(1000)).ok()?;
    let time = OffsetDateTime::from_unix_timestamp(millis.div_euclid(1000))
        .ok()?
        .replace_millisecond(millisecond)
        .ok()?;
    Rfc3339Time::try_from(time).ok()
}

/// A moment in milliseconds since 1970, as JavaScript counts them: [`at_millis`]'s
/// inverse, for a time to the millisecond.
pub fn millis_of(time: OffsetDateTime) -> i64 {
    time.unix_timestamp() * 1000 + i64::from(time.millisecond())
}

/// A random (version 4) UUID from the browser's CSPRNG. `getRandomValues` works on plain
/// http pages too, where `crypto.randomUUID` does not exist.
pub fn random_uuid() -> Option<Uuid> {
    let crypto = web_sys::window()?.crypto().ok()?;
    let mut bytes = [0u8; 16];
    crypto.get_random_values_with_u8_array(&mut bytes).ok()?;
    Some(uuid::Builder::from_random_bytes(bytes).into_uuid())
}

/// An RFC 3339 moment as a catalogue's language writes a date and time
/// (`Intl.DateTimeFormat` with `dateStyle: long, timeStyle: short`), in the visitor's time
/// zone, and the language that text is in: the catalogue's, or where the browser has no
/// data for that language (Chromium has none for Irish or Maltese), its default one's,
/// which the page must then mark. `None` if it is not a date, or the browser
/// refuses the tag (`catalogue_language` is one of the widget's own, never input).
pub fn local_date_time(rfc3339: &str, catalogue_language: &str) -> Option<(String, String)> {
    let date = js_sys::Date::new(&JsValue::from_str(rfc3339));
    if date.get_time().is_nan() {
        return None;
    }
    let options = js_sys::Object::new();
    let _ = Reflect::set(&options, &"dateStyle".into(), &"long".into());
    let _ = Reflect::set(&options, &"timeStyle".into(), &"short".into());
    // Through Reflect and calls the glue already has (Intl.DateTimeFormat may be called
    // without `new`), not js_sys's typed Intl bindings, each of which is one more import in
    // the glue every start downloads.
    let get = |target: &JsValue, key: &str| Reflect::get(target, &JsValue::from_str(key)).ok();
    let function = |value: Option<JsValue>| {
        value
            .filter(JsValue::is_function)
            .map(JsCast::unchecked_into::<js_sys::Function>)
    };
    let intl = get(&js_sys::global(), "Intl")?;
    let format = function(get(&intl, "DateTimeFormat"))?
        .call2(&intl, &catalogue_language.into(), &options)
        .ok()?;
    let text = function(get(&format, "format"))?
        .call1(&format, &date)
        .ok()?
        .as_string()?;
    let resolved = function(get(&format, "resolvedOptions"))?
        .call0(&format)
        .ok()?;
    Some((text, get(&resolved, "locale")?.as_string()?))
}

/// `text` as a `data:` URL of JSON, which an `<a download>` saves as a file.
pub fn json_data_url(text: &str) -> String {
    let encoded = String::from(js_sys::encode_uri_component(text));
    format!("data:application/json;charset=utf-8,{encoded}")
}

/// Adds a `performance` mark named `name` (for anyone measuring the widget on their site).
pub fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        // A mark can only fail for a reserved name; the widget's are not.
        let _ = performance.mark(name);
    }
}

/// Whether the browser sends the Global Privacy Control signal.
pub fn global_privacy_control() -> bool {
    web_sys::window()
        .and_then(|w| Reflect::get(&w.navigator(), &JsValue::from_str("globalPrivacyControl")).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// The property `name` of a JavaScript object, if it is a string.
pub fn string_property(object: &JsValue, name: &str) -> Option<String> {
    Reflect::get(object, &JsValue::from_str(name))
        .ok()?
        .as_string()
}

/// The property `name` of a JavaScript object, if it is a number.
pub fn number_property(object: &JsValue, name: &str) -> Option<f64> {
    Reflect::get(object, &JsValue::from_str(name))
        .ok()?
        .as_f64()
}

/// The property `name` of a JavaScript object, if it is a boolean.
pub fn bool_property(object: &JsValue, name: &str) -> Option<bool> {
    Reflect::get(object, &JsValue::from_str(name))
        .ok()?
        .as_bool()
}

/// The elements of the property `name` of a JavaScript object, if it is an array.
pub fn array_property(object: &JsValue, name: &str) -> Vec<JsValue> {
    Reflect::get(object, &JsValue::from_str(name))
        .ok()
        .filter(js_sys::Array::is_array)
        .map(|array| js_sys::Array::from(&array).iter().collect())
        .unwrap_or_default()
}

/// The property `name` of a JavaScript object, if it is itself a plain object (not an
/// array, not `null`).
pub fn object_property(object: &JsValue, name: &str) -> Option<JsValue> {
    Reflect::get(object, &JsValue::from_str(name))
        .ok()
        .filter(|value| value.is_object() && !js_sys::Array::is_array(value))
}

/// The parts of a URL the widget decides on, as the browser's own parser reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedUrl {
    /// The whole URL, normalised.
    pub href: String,
    /// Scheme with its colon, e.g. `https:`.
    pub protocol: String,
    /// Host without port.
    pub hostname: String,
    /// Scheme, host and port.
    pub origin: String,
}

/// Parses an absolute URL; relative input is refused.
pub fn parse_absolute_url(input: &str) -> Option<ParsedUrl> {
    web_sys::Url::new(input).ok().map(|url| parsed(&url))
}

fn parsed(url: &web_sys::Url) -> ParsedUrl {
    ParsedUrl {
        href: url.href(),
        protocol: url.protocol(),
        hostname: url.hostname(),
        origin: url.origin(),
    }
}

/// `relative` resolved against the absolute URL `base`, as `new URL(relative, base)`.
pub fn join_url(base: &str, relative: &str) -> Option<String> {
    web_sys::Url::new_with_base(relative, base)
        .ok()
        .map(|url| url.href())
}

/// Parses `input` relative to the page, as a link on the page would be.
pub fn parse_url(input: &str) -> Option<ParsedUrl> {
    let base = web_sys::window()?.document()?.base_uri().ok().flatten();
    let url = match base {
        Some(base) => web_sys::Url::new_with_base(input, &base),
        None => web_sys::Url::new(input),
    }
    .ok()?;
    Some(parsed(&url))
}

/// The page's origin, e.g. `https://pci.qualys.com`.
pub fn page_origin() -> Option<String> {
    web_sys::window()?.location().origin().ok()
}

/// The page's host name.
pub fn page_hostname() -> Option<String> {
    web_sys::window()?.location().hostname().ok()
}

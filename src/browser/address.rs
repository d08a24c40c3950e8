//! The page's address, and rewriting it in place: no reload, no new history entry, the
//! host's history state kept.

use thiserror::Error;

/// Why the address could not be rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AddressError {
    /// No window, or `history` threw (a sandboxed or opaque page).
    #[error("the manage link could not be removed from the page address ({0})")]
    Refused(String),
}

/// The page's address, as `location.href` has it.
pub fn href() -> Option<String> {
    web_sys::window()?.location().href().ok()
}

/// Replaces the current history entry's address with `url` (same origin).
pub fn replace(url: &str) -> Result<(), AddressError> {
    let refused = |error| AddressError::Refused(super::describe(&error));
    let history = web_sys::window()
        .ok_or_else(|| AddressError::Refused("no window".into()))?
        .history()
        .map_err(refused)?;
    let state = history.state().map_err(refused)?;
    history
        .replace_state_with_url(&state, "", Some(url))
        .map_err(refused)
}

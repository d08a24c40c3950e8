//! `localStorage`, which may be missing, disabled, full or throwing on any access.

use thiserror::Error;

/// Why `localStorage` could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StorageError {
    /// Access threw or there is no storage (disabled, sandboxed, private mode).
    #[error("localStorage is unavailable ({0})")]
    Unavailable(String),
    /// A read threw.
    #[error("localStorage could not be read ({0})")]
    Read(String),
    /// A write threw (quota exceeded or storage disabled).
    #[error("localStorage refused a write ({0})")]
    Write(String),
}

/// A handle on the page's `localStorage`.
#[derive(Debug, Clone)]
pub struct LocalStorage(web_sys::Storage);

impl LocalStorage {
    /// Opens `localStorage`. Whether it takes writes is not tried here: storage the host
    /// page has filled to its quota still reads, and what it holds (the choice, records
    /// waiting) counts until a write fails (`Store` then keeps to memory).
    pub fn open() -> Result<Self, StorageError> {
        let window =
            web_sys::window().ok_or_else(|| StorageError::Unavailable("no window".into()))?;
        let storage = window
            .local_storage()
            .map_err(|e| StorageError::Unavailable(super::describe(&e)))?
            .ok_or_else(|| StorageError::Unavailable("no storage object".into()))?;
        Ok(Self(storage))
    }

    /// The value under `key`, if any.
    pub fn get(&self, key: &str) -> Result<Option<String>, StorageError> {
        self.0
            .get_item(key)
            .map_err(|e| StorageError::Read(super::describe(&e)))
    }

    /// Stores `value` under `key`.
    pub fn set(&self, key: &str, value: &str) -> Result<(), StorageError> {
        self.0
            .set_item(key, value)
            .map_err(|e| StorageError::Write(super::describe(&e)))
    }

    /// Removes `key`.
    pub fn remove(&self, key: &str) -> Result<(), StorageError> {
        self.0
            .remove_item(key)
            .map_err(|e| StorageError::Write(super::describe(&e)))
    }
}

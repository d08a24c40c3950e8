//! What the widget keeps in the browser: the visitor's last record (their choice) and the
//! outbox of records not yet delivered. `localStorage` when it works; otherwise memory for
//! this page's life, said once in the console. Nothing read from storage is trusted: a
//! corrupt or foreign entry is reported and ignored, never fatal.

use std::cell::RefCell;

use assent_record::{ConsentRecord, Site};

use crate::browser::storage::{LocalStorage, StorageError};
use crate::browser::{env, read};

/// Bumped when the stored format changes; old entries are then ignored, not misread.
const FORMAT: &str = "v1";

#[derive(Debug)]
enum Backend {
    Local(LocalStorage),
    Memory(Memory),
}

/// This page's storage when `localStorage` fails: the store's three keys at most, so a
/// list of pairs.
#[derive(Debug, Default)]
struct Memory(Vec<(String, String)>);

impl Memory {
    fn get(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    fn insert(&mut self, key: &str, value: String) {
        self.0.retain(|(k, _)| k != key);
        self.0.push((key.to_owned(), value));
    }
}

/// The widget's storage for one site.
#[derive(Debug)]
pub struct Store {
    backend: RefCell<Backend>,
    choice_key: String,
    outbox_key: String,
    receipt_key: String,
    site: Site,
}

/// Says once, in the console, why choices now last only as long as the page.
fn kept_in_memory(reason: &StorageError) {
    env::warn(&format!("{reason}; your choice is kept for this page only"));
}

/// The storage key of one of a site's entries: `choice` (the loader reads it too),
/// `outbox`, `receipt` (the loader reads it for `Assent.receipt()`), `painted` (an accept or
/// decline clicked on the loader's painted banner before the wasm arrived, loader/loader.js
/// `keepClick`, kept until a choice is saved).
fn key(site: &Site, entry: &str) -> String {
    format!("assent:{FORMAT}:{site}:{entry}")
}

impl Store {
    /// Storage for `site`, in `localStorage` if it takes a write.
    pub fn open(site: &Site) -> Self {
        let backend = match LocalStorage::open() {
            Ok(local) => Backend::Local(local),
            Err(reason) => {
                kept_in_memory(&reason);
                Backend::Memory(Memory::default())
            }
        };
        Self {
            backend: RefCell::new(backend),
            choice_key: key(site, "choice"),
            outbox_key: key(site, "outbox"),
            receipt_key: key(site, "receipt"),
            site: site.clone(),
        }
    }

    /// Whether choices outlive the page.
    pub fn is_persistent(&self) -> bool {
        matches!(*self.backend.borrow(), Backend::Local(_))
    }

    fn get(&self, key: &str) -> Option<String> {
        let result = match &*self.backend.borrow() {
            Backend::Local(local) => local.get(key),
            Backend::Memory(memory) => Ok(memory.get(key)),
        };
        result.unwrap_or_else(|reason| {
            env::warn(&reason.to_string());
            None
        })
    }

    fn set(&self, key: &str, value: String) {
        let failed: Option<StorageError> = match &mut *self.backend.borrow_mut() {
            Backend::Local(local) => local.set(key, &value).err(),
            Backend::Memory(memory) => {
                memory.insert(key, value.clone());
                None
            }
        };
        if let Some(reason) = failed {
            // The receipt, the largest entry and one the visitor can do without, is not
            // kept then: falling back would take the current choice out of storage, and the
            // next page would ask again.
            if key == self.receipt_key {
                return env::warn(&format!("{reason}; the receipt is not kept"));
            }
            kept_in_memory(&reason);
            self.fall_back_to_memory();
            if let Backend::Memory(memory) = &mut *self.backend.borrow_mut() {
                memory.insert(key, value);
            }
        }
    }

    /// After a failed write, carry what `localStorage` still reads into memory, and take
    /// the choice out of it: choices made from now on are not written there, and the next
    /// page must ask again rather than read an older one as the visitor's, or replay a
    /// click kept on the painted banner (which `save_choice` can no longer forget there).
    /// The click is retired, not removed (the choice's room is free by then): a second tab
    /// handed it too would read an empty place as a click storage refused, and record it
    /// again, under another id and time.
    fn fall_back_to_memory(&self) {
        let carried = [&self.choice_key, &self.outbox_key, &self.receipt_key]
            .into_iter()
            .filter_map(|key| self.get(key).map(|value| (key.clone(), value)))
            .collect();
        if let Backend::Local(local) = &*self.backend.borrow() {
            // Should this fail too, nothing more can be done about it from here.
            let _ = local.remove(&self.choice_key);
            let painted = key(&self.site, "painted");
            if local.set(&painted, "retired").is_err() {
                let _ = local.remove(&painted);
            }
        }
        *self.backend.borrow_mut() = Backend::Memory(Memory(carried));
    }

    /// The visitor's last record on this site, if a valid one is stored.
    pub fn choice(&self) -> Option<ConsentRecord> {
        let raw = self.get(&self.choice_key)?;
        match read::json::<ConsentRecord>(&raw) {
            Ok(record) if record.site == self.site => Some(record),
            Ok(_) => {
                env::warn("the stored choice belongs to another site; asking again");
                None
            }
            Err(_) => {
                env::warn("the stored choice is unreadable; asking again");
                None
            }
        }
    }

    /// Keeps `record` as the visitor's choice, and forgets a click kept on the painted
    /// banner: it is recorded now (or superseded). Here rather than in the loader once the
    /// wasm has started, because the click is recorded in a Yew effect, which may run a task
    /// after the start: a tab closed in between would lose it.
    pub fn save_choice(&self, record: &ConsentRecord) {
        self.set(&self.choice_key, record.canonical_json());
        if let Backend::Local(local) = &*self.backend.borrow() {
            // Should this fail, the next page hands the click over again: its record is
            // this one again (the same id and time), which the endpoint stores once.
            let _ = local.remove(&key(&self.site, "painted"));
        }
    }

    /// Retires a click kept on the painted banner that is not to be recorded. Its place
    /// says so, rather than going empty, which would tell a second tab whose loader handed
    /// the click over too that it is recorded (`Widget::handed_click`): that tab asks again
    /// as well. The loader reads it as no click.
    pub fn retire_painted_click(&self) {
        if let Backend::Local(local) = &*self.backend.borrow() {
            // Should this fail, the next page asks about the click again, as this one did.
            let _ = local.set(&key(&self.site, "painted"), "retired");
        }
    }

    /// The click kept on the painted banner, as the loader stored it (`kept_click` reads
    /// it): `Some(None)` once `save_choice` has forgotten it, `None` for a store in memory,
    /// which can't tell.
    pub fn painted_click(&self) -> Option<Option<String>> {
        match &*self.backend.borrow() {
            Backend::Local(local) => local.get(&key(&self.site, "painted")).ok(),
            Backend::Memory(_) => None,
        }
    }

    /// The receipt file of the stored choice, as stored (JSON text). Whose it is, is for
    /// the reader to check against the choice.
    pub fn receipt(&self) -> Option<String> {
        self.get(&self.receipt_key)
    }

    /// Keeps the receipt file (JSON text) of the stored choice.
    pub fn save_receipt(&self, file_json: String) {
        self.set(&self.receipt_key, file_json);
    }

    /// Records waiting to be delivered, oldest first. Unreadable entries are dropped
    /// with a warning, and from storage too, the valid ones kept: else the loader, which
    /// fetches the wasm while the outbox is not empty, would fetch it on every page. (Like
    /// a save's, this write takes no lock: a record another tab saved meanwhile is put
    /// back by that tab's next round, `Courier::put_back_saved`.)
    pub fn outbox(&self) -> Vec<ConsentRecord> {
        let Some(raw) = self.get(&self.outbox_key) else {
            return Vec::new();
        };
        let Ok(entries) = read::json_entries::<ConsentRecord>(&raw) else {
            env::warn("the outbox is unreadable; it is emptied");
            self.set_outbox(&[]);
            return Vec::new();
        };
        let total = entries.len();
        let records: Vec<ConsentRecord> = entries.into_iter().filter_map(Result::ok).collect();
        if records.len() < total {
            env::warn("unreadable records in the outbox were dropped");
            self.set_outbox(&records);
        }
        records
    }

    /// Replaces the outbox.
    pub fn set_outbox(&self, records: &[ConsentRecord]) {
        // Records are derived structs with string keys: writing them as JSON can't fail.
        // Should it, the reason is not printed: serde_json's messages, for its parser's
        // errors too, would all be in the wasm for it.
        match serde_json::to_string(records) {
            Ok(json) => self.set(&self.outbox_key, json),
            Err(_) => env::warn("the outbox could not be written"),
        }
    }
}

//! An accept or decline clicked on the loader's painted banner before the wasm arrived, as
//! `keepClick` in loader/loader.js keeps it in storage: "<notice hash> <action> <time, ms>
//! <record id>". Its record states the moment of the click and the id made then, so every
//! tab handed the click makes the same record, which the endpoint stores once (the record id
//! is the POST's idempotency key): two tabs whose handovers run at the same moment, which
//! no check between tabs can order, still record the click once.

use assent_record::ContentHash;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::browser::env;
use crate::outbox;

/// What a click handed over from the painted banner asks for (`Widget::handed_click`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandedClick {
    /// Nothing: it is recorded already, or it was kept under another notice than the one
    /// shown (`Widget::handed_click` has the banner ask again).
    Nothing,
    /// Its record, with the id and time kept at the click, or new ones.
    Record(Option<KeptClick>),
}

/// Whether the click kept in `kept` was made under the notice `shown`. The loader keeps
/// "sha256:" and the hash's first 10 hex digits, 17 characters (earlier builds, its first
/// 12, or the whole hash): those are compared.
pub fn under(kept: &str, shown: &ContentHash) -> bool {
    kept.get(..17)
        .is_some_and(|start| shown.as_str().starts_with(start))
}

/// The id and time a record of the kept click takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptClick {
    /// Made by the loader at the click.
    pub record_id: Uuid,
    /// The click's moment, on the client's clock.
    pub client_time: OffsetDateTime,
}

impl KeptClick {
    /// Whether it is older than the outbox keeps a record: its record would never be
    /// sent, and made as of now instead it would outrank the choices made since.
    pub fn too_old(&self, now_millis: i64) -> bool {
        now_millis - env::millis_of(self.client_time) > outbox::MAX_AGE.whole_milliseconds() as i64
    }
}

/// The click kept in `kept` (the stored text), if it is `action`'s under the notice `shown`
/// and holds an id and a time. `None` otherwise, and the record is then made anew, as for a
/// click on the widget's own banner: for a click kept by an earlier build (which kept
/// neither), one from a page without `crypto.randomUUID` (not a secure context), and one
/// kept by another tab for another action or notice (its id is that click's).
pub fn read(kept: &str, action: &str, shown: &ContentHash) -> Option<KeptClick> {
    let mut parts = kept.split(' ');
    let (_hash, kept_action) = (parts.next()?, parts.next()?);
    if kept_action != action || !under(kept, shown) {
        return None;
    }
    // u64, as transport.rs reads Retry-After: one number parser in the wasm.
    let millis: u64 = parts.next()?.parse().ok()?;
    let record_id = Uuid::try_parse(parts.next()?).ok()?;
    if parts.next().is_some() {
        return None;
    }
    Some(KeptClick {
        record_id,
        client_time: env::at_millis(i64::try_from(millis).ok()?)?,
    })
}

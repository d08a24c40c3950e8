//! An accept or decline clicked on the loader's painted banner before the wasm arrived, as
//! `keepClick` in loader/loader.js keeps it in storage: "<notice hash> <action> <time, ms>
//! <record id>". Its record states the moment of the click and the id made then, so every
//! tab handed the click makes the same record, which the endpoint stores once (the record id
//! is the POST's idempotency key): two tabs whose handovers run at the same moment, which
//! no check between tabs can order, still record the click once.

use assent_record::{ContentHash, Rfc3339Time};
use uuid::Uuid;

use crate::browser::env;
use crate::outbox;

/// What a click handed over from the painted banner asks for (`Widget::handed_click`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandedClick {
    /// Nothing: it is recorded already, superseded (a later click in another tab, or a
    /// later choice), too old, retired by another tab's widget, or kept under another
    /// notice than the one shown (`Widget::handed_click` says when the banner asks again).
    Nothing,
    /// Its record, with the id and time kept at the click, or new ones.
    Record(Option<KeptClick>),
}

/// Whether the click kept in `kept` was made under the notice `shown`. The loader keeps
/// "sha256:" and the hash's first 8 hex digits, 15 characters (earlier builds, its first
/// 10 or 12, or the whole hash): those are compared.
pub fn under(kept: &str, shown: &ContentHash) -> bool {
    kept.get(..15)
        .is_some_and(|start| shown.as_str().starts_with(start))
}

/// The id and time a record of the kept click takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptClick {
    /// Made by the loader at the click; `None` where it could not make one
    /// (`crypto.randomUUID` is for secure contexts only): the record's is then made anew.
    pub record_id: Option<Uuid>,
    /// The click's moment, on the client's clock.
    pub client_time: Rfc3339Time,
}

/// What the kept text (under the notice shown: [`under`]) says of a handed click.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// This click, as the loader kept it.
    Click(KeptClick),
    /// Another action's: a later click, in another tab (each click overwrites the one kept
    /// before it), which that tab records, or the next page.
    Superseded,
    /// No moment: kept by an earlier build, which kept none, or garbled. Its record is
    /// made anew, as for a click on the widget's own banner.
    Unstated,
}

impl KeptClick {
    /// Whether it is older than the outbox keeps a record: its record would never be
    /// sent, and made as of now instead it would outrank the choices made since.
    pub fn too_old(&self, now_millis: i64) -> bool {
        now_millis - env::millis_of(*self.client_time) > outbox::MAX_AGE.whole_milliseconds() as i64
    }
}

/// What the kept text says of a click on `action`.
pub fn read(kept: &str, action: &str) -> Kept {
    let mut parts = kept.split(' ').skip(1);
    if parts.next() != Some(action) {
        return Kept::Superseded;
    }
    stated(parts).map_or(Kept::Unstated, Kept::Click)
}

/// The moment and the id after the action.
fn stated<'a>(mut parts: impl Iterator<Item = &'a str>) -> Option<KeptClick> {
    // u64, as transport.rs reads Retry-After: one number parser in the wasm.
    let millis: u64 = parts.next()?.parse().ok()?;
    let record_id = Uuid::try_parse(parts.next()?).ok();
    let client_time = env::at_millis(i64::try_from(millis).ok()?)?;
    parts.next().is_none().then_some(KeptClick {
        record_id,
        client_time,
    })
}

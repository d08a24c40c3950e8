//! Assent: a company's privacy highlights and a visitor's notification preferences, from
//! one script tag. The choice is kept in the browser and posted to the site's endpoint
//! through an outbox that loses nothing.
#![deny(missing_debug_implementations)]

// Talc instead of Rust's default dlmalloc: smaller in the wasm every visitor downloads, and
// faster. Single-threaded wasm only (no atomics), as the widget is.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::cell::TalcSyncCell<heap::StartingMemoryThenGrow, talc::wasm::WasmBinning> =
    talc::cell::TalcSyncCell::new_wasm(heap::StartingMemoryThenGrow::new());

#[cfg(target_arch = "wasm32")]
mod heap;

pub mod api;
pub mod browser;
pub mod config;
pub mod delivery;
pub mod identity;
pub mod kept_click;
pub mod locale;
pub mod messages;
pub mod notice;
pub mod outbox;
pub mod preferences;
pub mod receipt;
pub mod shared_choice;
pub mod store;
pub mod transport;
pub mod ui;
pub mod widget;

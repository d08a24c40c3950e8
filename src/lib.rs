//! Assent: a company's privacy highlights and a visitor's notification preferences, from
//! one script tag. The choice is kept in the browser and posted to the site's endpoint
//! through an outbox that loses nothing.
#![deny(missing_debug_implementations)]

pub mod api;
pub mod browser;
pub mod config;
pub mod delivery;
pub mod identity;
pub mod messages;
pub mod notice;
pub mod outbox;
pub mod preferences;
pub mod store;
pub mod transport;
pub mod ui;
pub mod widget;

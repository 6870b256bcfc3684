//! Saanjh's domain, pure: no I/O, no async, no clock of its own (callers
//! pass `now`). Everything that decides lives here and is testable without
//! a database.
//!
//! - [`arrangement`] — the rules-in-use file, its checks and its plain words.
//! - [`facts`] — what rule conditions can read, evaluated with CEL.
//! - [`engine`] — deciding acts and the passing of time.
//! - [`event`] — the events and their hash chains.
//! - [`model`] — organisations, people, schemes, meetings, households.
//! - [`ledger`] — money.
//! - [`diagnosis`] — indicators of the conditions of co-production, coding.
//! - [`duration`] — the periods rules allow.
//! - [`reports`] — citizen reports (Open311), routed by the scope rules.
//! - [`scorecard`] — community scorecard rounds and their arithmetic.
//! - [`budgeting`] — participatory budgeting rounds (proposals, review, votes).

pub mod arrangement;
pub mod budgeting;
pub mod diagnosis;
pub mod duration;
pub mod engine;
pub mod event;
pub mod facts;
pub mod ledger;
pub mod model;
pub mod reports;
pub mod scorecard;

/// The arrangements that ship with Saanjh, as `(file name, text)`.
pub const BUILT_IN_ARRANGEMENTS: &[(&str, &str)] = &[
    (
        "component-sharing.toml",
        include_str!("../../../arrangements/component-sharing.toml"),
    ),
    (
        "cost-sharing.toml",
        include_str!("../../../arrangements/cost-sharing.toml"),
    ),
    (
        "community-managed-water.toml",
        include_str!("../../../arrangements/community-managed-water.toml"),
    ),
];

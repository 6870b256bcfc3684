//! Diagnosis (issue 8): what makes co-production work in an initiative,
//! measured from what its partners actually did.
//!
//! The study behind Saanjh (Farooqi 2016) found that co-production works
//! with formal structures, political and bureaucratic commitment, community
//! willingness, trust and resources. This module turns an initiative's event
//! log into **indicators** for each of those conditions (domain.md §7), each
//! with a definition a person can read, the events it was computed from and
//! its value month by month, and then into **conditions**: set memberships in
//! [0, 1] by the direct method.
//!
//! - [`indicators`] — the incremental fold: a [`Tracker`] takes one event at
//!   a time (so an update after one event costs that event, not a replay) and
//!   summarises into [`Indicator`]s on demand.
//! - [`digest`] — what a diagnosis needs of a tracker, kept small, so many
//!   initiatives can be diagnosed without reading every tracker back.
//! - [`conditions`] — which indicator feeds which condition, the default
//!   anchors (full exclusion, crossover, full inclusion), overrides, and the
//!   aggregation of calibrated indicators into a condition.
//! - [`words`] — the figures behind each value as message data, and the
//!   message ids of indicator names, so pages can say them in Urdu.
//! - [`coding`] — qualitative evidence: codebooks, coded passages, Cohen's
//!   kappa between two coders, search.
//!
//! Calibration itself is `saanjh-qca`'s (the direct method of the reference
//! implementation). Core may not depend on a project crate, so the functions
//! that calibrate take the calibrating function from the caller; the web
//! layer passes `saanjh_qca::Calibration`.
//!
//! Pure: no I/O and no clock; the caller passes `now`.

pub mod coding;
pub mod conditions;
pub mod digest;
pub mod indicators;
pub mod words;

pub use conditions::{Anchors, CONDITIONS, Condition, ConditionScore, OUTCOME};
pub use indicators::{Context, DiagEvent, Indicator, SNAPSHOT_FORMAT, Tracker};

mod report;
pub use digest::Digest;
pub use report::{Diagnosis, NextStep, diagnose, diagnose_digest};

#[cfg(test)]
mod tests;

//! Saanjh's set-theoretic analysis: crisp-, fuzzy- and multi-value
//! Qualitative Comparative Analysis (Ragin; Schneider & Wagemann 2012),
//! giving the answers of the reference implementation (R package QCA,
//! Dusa) with an exact engine that stays fast as conditions and cases grow.
//!
//! Pure: no files, no clock, no async. The caller hands in CSV text or a
//! reader; everything else is computation.
//!
//! Flow: [`Dataset`] → optional [`Calibration`] → [`Setup`] (conditions and
//! outcome) → [`truth_table`] → [`minimize`]; [`necessity`] for the
//! analysis of necessary conditions.

pub mod calibrate;
pub mod chart;
pub mod data;
pub mod error;
pub mod fit;
pub mod implicants;
pub mod minimize;
pub mod necessity;
pub mod sets;
pub mod truth_table;

pub use calibrate::Calibration;
pub use data::Dataset;
pub use error::{QcaError, Result};
pub use minimize::{Minimization, MinimizeOptions, Solution, minimize};
pub use necessity::necessity;
pub use sets::{Setup, Term};
pub use truth_table::{Out, TruthTable, TruthTableOptions, truth_table};

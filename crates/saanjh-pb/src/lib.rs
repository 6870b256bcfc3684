//! `saanjh-pb`: participatory budgeting for Saanjh, as a pure library.
//!
//! It reads and writes the pabulib `.pb` format ([`format`]) and counts an election
//! ([`count()`]) with greedy, greedy by votes per cost, the Method of Equal Shares (cost or
//! approval utility; completions none, Add1, Add1 then greedy), sequential Phragmén, or
//! the utilitarian welfare maximum. Arithmetic is exact (integers and big rationals), and
//! ties are broken by a published order fixed before counting: lowest cost, then most votes,
//! then an order drawn from a seed. The [`Outcome`] says, for every project, why it was or
//! was not funded, so a platform's results page and audit trail can be built on it.
//!
//! This crate knows nothing of files, HTTP or databases: callers hand it text or an
//! [`Instance`] they built themselves (a platform round: proposals with estimates as
//! projects, ballots entered online or from paper as voters).

pub mod count;
pub mod format;
mod mes;
pub mod model;
pub mod outcome;
mod phragmen;
mod welfare;

pub use count::{CountError, CountOptions, count, drawn_order};
pub use format::{ParseError, parse, parse_with_warnings, write};
pub use model::{BuildError, Exact, Instance, Money, NewBallot, Project, VoteType, Voter};
pub use outcome::{
    Add1Stop, ComparisonRecord, Completion, CompletionRecord, DecidedBy, Outcome, ProjectResult,
    Reason, Rule, Satisfaction, Tie, TieBreakRecord, Utility, VoterSatisfaction,
};

//! MXC compiled decision table: the artefact as plain data, its `.mxcb` format and the
//! checks every table passes before an engine decides from it.
//!
//! **Invariants:** this crate depends on neither the compiler (`mxc-lang`) nor the
//! engine (`mxc-eval`); reading and validating never panic nor allocate more than the
//! input justifies, so a hostile table is a clean [`LoadError`].
//!
//! Modules:
//! - [`table`]: the decision table as plain data (what the compiler fills in): automata,
//!   rows, rules, agent settings and identity, plan.
//! - [`rights`]: rights as typed sets, one type per section.
//! - [`encoding`]: the byte strings the net and app automata read (named tags).
//! - [`hosts`]: the net host jump table (literal names and suffixes, states after them).
//! - [`plan`]: the platform-neutral plan a backend enforces with the kernel.
//! - `dfa`: packing a dense automaton into the comb layout ([`Dfa::from_dense`]) and
//!   the plain reference step function ([`Dfa::step`]).
//! - `format`: the `.mxcb` binary format ([`Table::to_bytes`], [`Table::from_bytes`]).
//! - `validate`: the checks every table passes ([`validate()`]).
//! - `listing`: a human-readable listing of a table ([`Table::listing`], `mxcc inspect`).

// Reading and validation must not be able to panic: no indexing, no unchecked
// arithmetic, no unwrap.
#![deny(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used
)]

pub mod comp;
mod dfa;
pub mod encoding;
mod format;
pub mod hosts;
mod listing;
pub mod plan;
pub mod rights;
pub mod table;
mod validate;
pub mod words;

pub use format::{LoadError, FORMAT_VERSION, MAGIC};
pub use plan::{Grant, Plan, PortRange};
pub use rights::{AppRights, FsRights, NetRights, Rights, Section};
pub use table::*;
pub use validate::{validate, MAX_ENTRIES};

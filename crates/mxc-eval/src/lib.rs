//! MXC decision engine: loads a compiled decision table (`.mxcb`) and answers each
//! access without allocating, naming the deciding rule.
//!
//! **Invariants:** this crate does not depend on the compiler (`mxc-lang`); nothing on
//! the decision path ([`Engine::fs`], [`Engine::fs_row`], [`Engine::net`],
//! [`Engine::launch`]) allocates or panics; a table is fully validated by
//! [`Engine::from_bytes`] (or [`Engine::from_table`]) before any decision is made from
//! it, so a hostile table is a clean [`LoadError`], never a panic.
//!
//! Modules:
//! - [`table`]: the decision table as plain data (what the compiler fills in).
//! - `dfa`: packing a dense automaton into the comb layout ([`Dfa::from_dense`]) and
//!   the plain reference step function ([`Dfa::step`]).
//! - `format`: the `.mxcb` binary format ([`Table::to_bytes`], [`Table::from_bytes`]).
//! - `validate`: the checks every table passes before an [`Engine`] is built from it.
//! - `engine`: the [`Engine`] and its decision methods (the hot path).
//! - `path`: [`normalize_path`], the lexical normalisation of request paths.

// The decision path must not be able to panic: no indexing, no unchecked arithmetic, no
// unwrap. These apply to the whole crate so that nothing can sneak onto that path.
#![deny(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used
)]

mod ancestor;
pub mod comp;
mod dfa;
mod engine;
mod format;
mod path;
pub mod table;
mod validate;

pub use engine::Engine;
pub use format::{LoadError, FORMAT_VERSION, MAGIC};
pub use path::normalize_path;
pub use table::*;

/// `docs/embedding.md`, compiled as a doc test so its example stays true.
#[doc = include_str!("../../../docs/embedding.md")]
pub mod embedding {}

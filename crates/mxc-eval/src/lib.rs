//! MXC decision engine: loads a compiled decision table (`.mxcb`) and answers each
//! access without allocating, naming the deciding rule. The table itself (plain data,
//! the `.mxcb` format, validation) is the `mxc-table` crate, re-exported here.
//!
//! **Invariants:** this crate does not depend on the compiler (`mxc-lang`); nothing on
//! the decision path ([`Engine::fs`], [`Engine::fs_row`], [`Engine::net`],
//! [`Engine::launch`]) allocates or panics; a table is fully validated by
//! [`Engine::from_bytes`] (or [`Engine::from_table`]) before any decision is made from
//! it, so a hostile table is a clean [`LoadError`], never a panic.
//!
//! Modules:
//! - `engine`: the [`Engine`] and its decision methods (the hot path), and [`combine`].
//! - `host_jump`: the net host jump (literal names and suffixes looked up, not walked).
//! - `ancestor`: analyses off the decision path (ancestors, symbolic links).
//! - `path`: [`normalize_path`], the lexical normalisation of request paths.
//! - re-exported from `mxc-table`: [`table`] (the table as plain data), [`rights`],
//!   [`encoding`], [`plan`], the format ([`Table::to_bytes`], [`Table::from_bytes`],
//!   [`LoadError`]) and [`validate()`].

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
mod comp_walk;
mod engine;
mod host_jump;
mod path;
mod word;

pub use engine::{combine, Engine};
pub use mxc_table::*;
pub use path::normalize_path;

/// `docs/embedding.md`, compiled as a doc test so its example stays true.
#[doc = include_str!("../../../docs/embedding.md")]
pub mod embedding {}

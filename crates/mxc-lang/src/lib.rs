//! The MXC policy language: sources in, a checked model and diagnostics out, and the
//! compiler from that model to an [`mxc_eval`] decision table.
//!
//! **Invariant:** only this crate knows source text. Parsing returns a tree plus
//! diagnostics and never fails.

pub mod ast;
pub mod diag;
pub mod lexer;
pub mod parser;
pub mod source;

pub use diag::{Code, Diagnostic, Diagnostics, Severity};
pub use source::{FileId, SourceMap, Span};

//! The syntax of the MXC policy language: source files and spans, the lexer, the
//! parser and its recovery, the tree, diagnostics and their renderers (people, JSON,
//! SARIF), and file loading (imports and the embedded standard library).
//!
//! **Invariant:** only this crate reads or writes `.mxc` text. Parsing returns a tree
//! plus diagnostics and never fails. This crate depends on no other MXC crate, so the
//! formatter and the language server stand on syntax without the compiler.

pub mod ast;
pub mod diag;
pub mod gen;
pub mod lexer;
pub mod load;
pub mod parser;
pub mod print;
pub mod render;
pub mod source;

pub use diag::{Code, Diagnostic, Diagnostics, Severity};
pub use source::{FileId, SourceMap, Span};

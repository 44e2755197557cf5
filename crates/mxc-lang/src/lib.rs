//! The MXC policy language: sources in, a checked model and diagnostics out, and the
//! compiler from that model to an [`mxc_eval`] decision table.
//!
//! The syntax (source, lexer, parser, tree, diagnostics, loading) lives in
//! [`mxc_syntax`] and is re-exported here under its old module names, so that users of
//! `mxc_lang::ast` and the like keep compiling; new code imports `mxc_syntax` directly.
//!
//! **Invariant:** only `mxc-syntax` reads or writes `.mxc` text; this crate works on
//! its tree.

pub use mxc_syntax::{ast, diag, lexer, load, parser, render, source};

pub use diag::{Code, Diagnostic, Diagnostics, Severity};
pub use source::{FileId, SourceMap, Span};
pub mod check;
pub mod model;
pub mod pattern;
pub mod plan;

/// A loaded and checked set of files.
#[derive(Debug)]
pub struct Program {
    pub sources: SourceMap,
    pub model: model::Model,
    pub diags: Diagnostics,
    /// Errors found but not in `diags`: each file reports at most
    /// [`diag::MAX_ERRORS_PER_FILE`] errors, then one that counts the rest.
    pub errors_not_shown: usize,
}

/// Reads, parses and checks files (and their imports). An I/O error on one of the
/// given files is returned as an error; everything else is a diagnostic.
pub fn check_paths(paths: &[std::path::PathBuf]) -> Result<Program, load::IoError> {
    let parsed = load::load_paths(paths)?;
    Ok(check_parsed(parsed, true))
}

/// [`check_paths`] without the lints (W0001, W0005, W0006, which compile every agent):
/// for commands that only need the model, such as running an agent.
pub fn check_paths_without_lints(paths: &[std::path::PathBuf]) -> Result<Program, load::IoError> {
    let parsed = load::load_paths(paths)?;
    Ok(check_parsed(parsed, false))
}

/// [`check_source`] without the lints (W0001, W0005, W0006).
pub fn check_source_without_lints(name: &str, text: &str) -> Program {
    let mut read = load::read_source;
    let parsed = load::load_with(vec![(name.into(), text.as_bytes().to_vec())], &mut read);
    check_parsed(parsed, false)
}

/// Checks one in-memory source (imports are read from disk relative to `name`).
pub fn check_source(name: &str, text: &str) -> Program {
    let mut read = load::read_source;
    let parsed = load::load_with(vec![(name.into(), text.as_bytes().to_vec())], &mut read);
    check_parsed(parsed, true)
}

fn check_parsed(parsed: load::Parsed, lints: bool) -> Program {
    let (model, diags) = check::check(&parsed);
    let dropped = parsed.dropped;
    let mut all = parsed.diags;
    all.extend(diags);
    let mut program = Program {
        sources: parsed.sources,
        model,
        diags: all,
        errors_not_shown: 0,
    };
    if lints && !program.diags.has_errors() {
        let lints = lints::lint(&program);
        program.diags.extend(lints);
    }
    program.diags.sort();
    program.errors_not_shown = program
        .diags
        .limit_errors_per_file(diag::MAX_ERRORS_PER_FILE, dropped);
    program
}
mod automaton;
pub mod bind;
pub mod compile;
mod compile_fs;
pub mod interp;
pub mod lints;
pub mod mixes;
pub mod query;
pub mod request;

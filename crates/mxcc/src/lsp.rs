//! `mxcc lsp`: the language server, on stdio.
//!
//! Not available in this build yet: [`run`] reports so and exits 2.
//!
//! **Invariant:** only this module speaks LSP; UTF-16 positions are converted from
//! byte offsets here and nowhere else.

use crate::util;
use std::process::ExitCode;

pub fn run() -> ExitCode {
    util::not_yet("lsp")
}

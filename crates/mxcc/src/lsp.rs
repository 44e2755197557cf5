//! `mxcc lsp`: the language server, on stdio. The server is `mxc-lsp` (the only crate
//! that speaks LSP); this command only starts it.

use crate::util;
use std::process::ExitCode;

pub fn run() -> ExitCode {
    match mxc_lsp::serve_stdio() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            util::error_line(
                &format!("cannot start the language server: {e}"),
                util::color_stderr(),
            );
            ExitCode::from(util::USAGE)
        }
    }
}

//! `mxcc inspect`: print what a compiled table (`.mxcb`) holds: the agent's settings
//! and identity, the plan, the automata's sizes and the rules.
//!
//! **Invariant:** the table is loaded as a runtime loads it (checksum, version,
//! validation); a table a runtime would refuse is refused here with the same reason.

use crate::util;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[command(
    about = "Print what a compiled table (.mxcb) holds",
    after_help = "\
Exit status: 0 when the table loads, 1 when it is refused (corrupt, another format
version, or invalid), 2 when the file cannot be read.

Example:
  mxcc inspect copilot.mxcb"
)]
pub struct Args {
    /// The compiled table.
    #[arg(value_name = "TABLE")]
    pub table: PathBuf,
}

pub fn run(args: &Args) -> ExitCode {
    let color = util::color_stderr();
    let bytes = match std::fs::read(&args.table) {
        Ok(b) => b,
        Err(e) => {
            util::error_line(
                &format!(
                    "cannot read `{}`: {}",
                    args.table.display(),
                    util::io_reason(&e)
                ),
                color,
            );
            return ExitCode::from(util::USAGE);
        }
    };
    match mxc_eval::Engine::from_vec(bytes) {
        Ok(engine) => {
            util::out(&engine.table().listing());
            ExitCode::from(util::SUCCESS)
        }
        Err(e) => {
            util::error_line(
                &format!("cannot load `{}`: {e}", args.table.display()),
                color,
            );
            ExitCode::from(util::FAILURE)
        }
    }
}

//! `mxcc fmt`: format policy files in place, or check that they are formatted.
//!
//! Not available in this build yet: [`run`] reports so and exits 2.
//!
//! **Invariant:** formatting never changes meaning, and a file with syntax errors is
//! never rewritten.

use crate::util;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[command(
    about = "Format policy files in place (not available in this build yet: exits 2)",
    after_help = "\
Not available in this build yet: prints so and exits 2.
Planned exit status with --check: 0 when every file is formatted, 1 when one would change.

Examples:
  mxcc fmt policy.mxc
  mxcc fmt --check policies/*.mxc"
)]
pub struct Args {
    /// Change nothing; exit 1 if a file is not formatted.
    #[arg(long)]
    pub check: bool,
    /// The files to format.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

pub fn run(_args: &Args) -> ExitCode {
    util::not_yet("fmt")
}

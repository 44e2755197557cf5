//! `mxcc audit`: work with audit logs (`mxcc audit verify PATH`).
//!
//! Not available in this build yet: [`run`] reports so and exits 2.
//!
//! **Invariant:** verification only reads the log; it never repairs or rewrites it.

use crate::util;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[command(about = "Work with audit logs")]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Check an audit log's hash chain.
    #[command(after_help = "\
Exit status: 0 when the chain is intact; 1 when it is not, naming the first bad record.

Example:
  mxcc audit verify /var/log/mxc/copilot-cli.log")]
    Verify {
        /// The audit log.
        #[arg(value_name = "PATH")]
        path: PathBuf,
    },
}

pub fn run(args: &Args) -> ExitCode {
    match &args.command {
        Command::Verify { .. } => util::not_yet("audit verify"),
    }
}

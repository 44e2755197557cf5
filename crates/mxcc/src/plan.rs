//! `mxcc plan`: print, as JSON, what enforcement would set up on a platform.
//!
//! Not available in this build yet: [`run`] reports so and exits 2.
//!
//! **Invariant:** planning only describes; it never touches the kernel.

use crate::util;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[command(
    about = "Print what enforcement would set up, as JSON",
    after_help = "\
Example:
  mxcc plan --target windows policy.mxc --agent copilot-cli --param home=C:/Users/alice"
)]
pub struct Args {
    /// The platform to plan for.
    #[arg(long, value_enum, required = true, value_name = "TARGET")]
    pub target: util::Target,
    #[command(flatten)]
    pub agent: util::AgentArgs,
    /// The policy files (imports are followed).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

pub fn run(_args: &Args) -> ExitCode {
    util::not_yet("plan")
}

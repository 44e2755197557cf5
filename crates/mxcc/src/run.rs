//! `mxcc run`: run a command as an agent, enforced (SPEC §10).
//!
//! Enforcement is not in this build yet (see issue 4): [`run`] checks the policy, then
//! refuses to start the command and exits 125 — it never runs it unconfined.
//!
//! **Invariant:** when the sandbox cannot be set up at the requested isolation tier,
//! the command is not started (exit 125); the tier is never silently weakened.

use crate::util;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[command(
    about = "Run a command as an agent, in its sandbox",
    after_help = "\
Exit status: the command's own; 125 when the sandbox could not be set up.

Example:
  mxcc run policy.mxc --agent copilot-cli --param home=$HOME -- copilot --help"
)]
pub struct Args {
    #[command(flatten)]
    pub agent: util::AgentArgs,
    /// What an `ask` decision becomes when no one can be asked.
    #[arg(long, value_enum, default_value_t = Ask::Deny, value_name = "EFFECT")]
    pub ask: Ask,
    /// Append audit records to this file.
    #[arg(long, value_name = "PATH")]
    pub audit_log: Option<PathBuf>,
    /// Record what the command did and write a policy that would allow it.
    #[arg(long, value_name = "OUT")]
    pub learn: Option<PathBuf>,
    /// The policy files (imports are followed).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The command to run and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Ask {
    Deny,
    Allow,
}

/// Exit status when the sandbox could not be set up (SPEC §10).
pub const SANDBOX_FAILED: u8 = 125;

pub fn run(args: &Args) -> ExitCode {
    let color = util::color_stderr();
    // Check the policy first, so its errors are reported as for any other command.
    let params = match crate::decide::params(&args.agent) {
        Ok(p) => p,
        Err(stop) => return crate::decide::finish(Err(stop)),
    };
    let program = match crate::decide::load(&args.files, color) {
        Ok(p) => p,
        Err(stop) => return crate::decide::finish(Err(stop)),
    };
    if let Err(stop) = crate::decide::compile(
        &program,
        &args.agent.agent,
        &params,
        mxc_eval::Target::Linux,
        color,
    ) {
        return crate::decide::finish(Err(stop));
    }
    util::error_line(
        &format!(
            "cannot set up the sandbox for agent `{}`: enforcement is not available in this build; \
             refusing to run `{}` unconfined",
            args.agent.agent,
            args.command.first().map(String::as_str).unwrap_or("")
        ),
        color,
    );
    ExitCode::from(SANDBOX_FAILED)
}

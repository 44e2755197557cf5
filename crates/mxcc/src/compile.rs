//! `mxcc compile`: write an agent's compiled decision table (SPEC §10, §11).
//!
//! **Invariant:** never writes a table for files with errors, and never leaves a
//! partly written output file behind.

use crate::decide::{self, Stop};
use crate::util;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[command(
    about = "Write an agent's compiled decision table",
    after_help = "\
Example:
  mxcc compile policy.mxc --agent copilot-cli --param home=/home/alice -o copilot.mxcb"
)]
pub struct Args {
    #[command(flatten)]
    pub agent: util::AgentArgs,
    /// The platform the table is for (default: this machine's).
    #[arg(long, value_enum, value_name = "TARGET")]
    pub target: Option<util::Target>,
    /// Where to write the table.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub output: PathBuf,
    /// The policy files (imports are followed).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

pub fn run(args: &Args) -> ExitCode {
    decide::finish(compile(args))
}

fn compile(args: &Args) -> Result<(), Stop> {
    let color = util::color_stderr();
    let params = decide::params(&args.agent)?;
    let target = match args.target {
        Some(util::Target::Windows) => mxc_eval::Target::Windows,
        _ => mxc_eval::Target::Linux,
    };
    let program = decide::load(&args.files, color)?;
    let agent = &args.agent.agent;
    let (engine, _) = decide::compile(&program, agent, &params, target, color)?;
    let bytes = engine.table().to_bytes();
    let out = &args.output;
    // Write beside the output, then rename: never a torn table.
    let mut tmp = out.clone().into_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, &bytes)
        .and_then(|_| std::fs::rename(&tmp, out))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Stop::Usage(format!(
                "cannot write `{}`: {}",
                out.display(),
                util::io_reason(&e)
            ))
        })?;
    util::err(&format!(
        "wrote `{}` ({} bytes, {} rules, agent `{agent}`)\n",
        out.display(),
        bytes.len(),
        engine.table().rules.len()
    ));
    Ok(())
}

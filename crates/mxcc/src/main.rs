//! `mxcc`, the MXC command line (SPEC §10): parses the arguments and hands each
//! command to its own module.
//!
//! **Invariant:** this file only dispatches. No input makes `mxcc` panic or print a
//! backtrace; usage errors exit 2 (clap's own status), and every command returns its
//! [`ExitCode`] instead of calling `std::process::exit`.

mod audit;
mod check;
mod compile;
mod decide;
#[cfg(target_os = "linux")]
mod explain;
mod fmt;
mod inspect;
mod learn;
mod lsp;
mod plan;
mod policy_text;
mod query;
#[cfg(target_os = "linux")]
mod review;
mod run;
mod test;
mod util;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "mxcc",
    version,
    about = "Check, test, compile and run MXC policies for sandboxing AI agents",
    long_about = "Check, test, compile and run MXC policies for sandboxing AI agents.\n\n\
                  A `.mxc` file declares policies (what may be read, written, connected to \
                  and launched) and the agents that use them. `mxcc` checks such files, \
                  answers questions about their decisions, runs their tests, compiles \
                  them into decision tables, and runs commands under them.",
    after_help = "\
Examples:
  mxcc check policy.mxc
  mxcc query policy.mxc --agent copilot-cli --param home=/home/alice \"read /home/alice/.ssh/id_ed25519\"
  mxcc test policy.mxc
  mxcc run policy.mxc --agent copilot-cli --param home=$HOME -- copilot

Exit status 2 always means a usage error or a file that could not be read.
Run `mxcc help COMMAND` for a command's options."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    Check(check::Args),
    Query(query::Args),
    Test(test::Args),
    Compile(compile::Args),
    Inspect(inspect::Args),
    Fmt(fmt::Args),
    Run(run::Args),
    Plan(plan::Args),
    Audit(audit::Args),
    #[cfg(target_os = "linux")]
    Learn(review::Args),
    /// Language server on stdio (diagnostics, hover, navigation, completion, rename)
    Lsp,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // `--help` and `--version` print to stdout and exit 0; errors exit 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(util::USAGE));
        }
    };
    match &cli.command {
        Command::Check(a) => check::run(a),
        Command::Query(a) => query::run(a),
        Command::Test(a) => test::run(a),
        Command::Compile(a) => compile::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::Fmt(a) => fmt::run(a),
        Command::Run(a) => run::run(a),
        Command::Plan(a) => plan::run(a),
        Command::Audit(a) => audit::run(a),
        #[cfg(target_os = "linux")]
        Command::Learn(a) => review::run(a),
        Command::Lsp => lsp::run(),
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}

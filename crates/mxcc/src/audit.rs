//! `mxcc audit`: work with audit logs (`mxcc audit verify PATH`).
//!
//! `verify` checks the hash chain written by `mxcc run --audit-log` (see
//! `mxc_enforce_linux::chain`): exit 0 when intact, 1 naming the first bad record, 2
//! when the file cannot be read.
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
    let color = util::color_stderr();
    match &args.command {
        Command::Verify { path } => {
            let file = match std::fs::File::open(path) {
                Ok(f) => f,
                Err(e) => {
                    util::error_line(
                        &format!("cannot read `{}`: {}", path.display(), util::io_reason(&e)),
                        color,
                    );
                    return ExitCode::from(util::USAGE);
                }
            };
            match mxc_enforce_linux::chain::verify(std::io::BufReader::new(file)) {
                Ok(n) => {
                    util::out(&format!(
                        "{}: intact ({})\n",
                        path.display(),
                        util::count(n, "record")
                    ));
                    ExitCode::from(util::SUCCESS)
                }
                Err(b) => {
                    util::error_line(
                        &format!(
                            "{}:{}: the audit log was tampered with: {}",
                            path.display(),
                            b.line,
                            b.reason
                        ),
                        color,
                    );
                    ExitCode::from(util::FAILURE)
                }
            }
        }
    }
}

//! `mxcc audit`: work with audit logs (`mxcc audit verify [--expect HASH] PATH`).
//!
//! `verify` checks the hash chain written by `mxcc run --audit-log` (see
//! `mxc_enforce_linux::chain`), then that the chain ends where it should: at `--expect
//! HASH` (the hash `mxcc run` printed at exit), or else at what the head file beside
//! the log (`PATH.head`, written by `mxcc run`) says. Exit 0 when intact; 1 naming the
//! first bad record, or when the log was truncated, emptied or rewritten; 2 when the
//! file cannot be read.
//!
//! **Invariant:** verification only reads the log; it never repairs or rewrites it.

use crate::util;
use mxc_enforce_linux::chain::{self, Head};
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
    /// Check an audit log's hash chain, and that it ends at the expected record.
    #[command(after_help = "\
The chain must end at the record whose hash is HASH (`--expect`, as `mxcc run` prints it
at exit: `mxcc: audit log PATH: N records, last hash HASH`). Without `--expect`, the head
file beside the log (PATH.head, which `mxcc run` keeps up to date) says where it ends;
with neither, only the chain itself is checked. A head file that counts records which
could not be written (a full disk) makes the log incomplete, with `--expect` too.

Exit status: 0 when the chain is intact and ends where expected; 1 when a record was
changed, removed, inserted or reordered (naming the first bad record), or when the log
was truncated, emptied or rewritten; 2 when the log cannot be read.

Examples:
  mxcc audit verify /var/log/mxc/copilot-cli.log
  mxcc audit verify --expect 3f5c…e1 /var/log/mxc/copilot-cli.log")]
    Verify {
        /// The hash the chain must end at (64 hexadecimal digits).
        #[arg(long, value_name = "HASH")]
        expect: Option<String>,
        /// The audit log.
        #[arg(value_name = "PATH")]
        path: PathBuf,
    },
}

pub fn run(args: &Args) -> ExitCode {
    let color = util::color_stderr();
    match &args.command {
        Command::Verify { expect, path } => verify(path, expect.as_deref(), color),
    }
}

/// Where the chain should end, and who said so.
struct Expected {
    records: Option<u64>,
    hash: Option<String>,
    source: String,
}

/// Checks an audit log's hash chain, and that it ends where its head file (or
/// `expect`) says: the success line to print, or the failure and its exit status. The
/// one check behind `mxcc audit verify` and `mxcc learn --from-audit`.
pub(crate) fn check_log(
    path: &std::path::Path,
    expect: Option<&str>,
) -> Result<String, (String, u8)> {
    let fail = |msg: String| Err((msg, util::FAILURE));
    let shown = path.display();
    if let Some(h) = expect {
        if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err((
                format!("`--expect {h}` is not a record hash (64 hexadecimal digits)"),
                util::USAGE,
            ));
        }
    }
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            return Err((
                format!("cannot read `{shown}`: {}", util::io_reason(&e)),
                util::USAGE,
            ));
        }
    };
    let head_path = chain::head_path(path);
    if expect.is_some() {
        // `--expect` anchors the chain, but records lost at the end of a run are marked
        // only in the head file: a log it calls incomplete is never "intact".
        if let Some(n) = std::fs::read_to_string(&head_path)
            .ok()
            .and_then(|t| Head::lost_in(&t))
        {
            return fail(format!(
                "{shown}: its head file {} says {n} records could not be written: the log \
                 is incomplete",
                head_path.display()
            ));
        }
    }
    let expected = match expect {
        Some(h) => Some(Expected {
            records: None,
            hash: Some(h.to_ascii_lowercase()),
            source: "--expect".into(),
        }),
        None => match std::fs::read_to_string(&head_path) {
            Ok(text) => match Head::parse(&text) {
                Ok(h) => Some(Expected {
                    records: Some(h.records),
                    hash: h.last_hash,
                    source: format!("its head file {}", head_path.display()),
                }),
                Err(why) => {
                    return fail(format!(
                        "{shown}: its head file {} is damaged ({why}): the log cannot be \
                         trusted",
                        head_path.display()
                    ))
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return fail(format!(
                    "{shown}: cannot read its head file {}: {}",
                    head_path.display(),
                    util::io_reason(&e)
                ))
            }
        },
    };
    let look_for = expected.as_ref().and_then(|e| e.hash.clone());
    let v = match chain::verify_against(std::io::BufReader::new(file), look_for.as_deref()) {
        Ok(v) => v,
        Err(b) => {
            return fail(format!(
                "{shown}:{}: the audit log was tampered with: {}",
                b.line, b.reason
            ))
        }
    };
    let n = util::count(v.records, "record");
    let Some(e) = expected else {
        return Ok(if v.records == 0 {
            format!(
                "{shown}: empty (0 records; no head file {} and no --expect to say \
                 whether records were lost)\n",
                head_path.display()
            )
        } else {
            format!(
                "{shown}: intact ({n}; no head file and no --expect: a log that lost its \
                 last records cannot be told from a complete one)\n"
            )
        });
    };
    match (&e.hash, &v.last_hash) {
        (None, None) => Ok(format!(
            "{shown}: empty (0 records, as {} says)\n",
            e.source
        )),
        (Some(want), None) => fail(format!(
            "{shown}: the audit log is empty, but {} says it ends at a record with hash \
             {want}{}: it was emptied or replaced",
            e.source,
            e.records
                .map(|r| format!(" ({})", util::count(r as usize, "record")))
                .unwrap_or_default()
        )),
        (None, Some(last)) => fail(format!(
            "{shown}: {} says the log has no record, but it holds {n} (last hash {last}): \
             it was rewritten",
            e.source
        )),
        (Some(want), Some(last)) if want.eq_ignore_ascii_case(last) => {
            if let Some(r) = e.records.filter(|&r| r != v.records as u64) {
                return fail(format!(
                    "{shown}: the chain ends at the hash {} names, but holds {n} where it \
                     says {r}: it was rewritten",
                    e.source
                ));
            }
            Ok(format!("{shown}: intact ({n}, last hash {last})\n"))
        }
        (Some(want), Some(last)) => match v.found_at {
            Some(line) => fail(format!(
                "{shown}: the chain goes on after the record {} names (line {line}, hash \
                 {want}): {} more were added after it (last hash {last})",
                e.source,
                util::count(v.records - line, "record")
            )),
            None => fail(format!(
                "{shown}: no record has the hash {} names ({want}): the log was truncated \
                 or rewritten (it holds {n}, last hash {last})",
                e.source
            )),
        },
    }
}

fn verify(path: &std::path::Path, expect: Option<&str>, color: bool) -> ExitCode {
    match check_log(path, expect) {
        Ok(line) => {
            util::out(&line);
            ExitCode::from(util::SUCCESS)
        }
        Err((msg, code)) => {
            util::error_line(&msg, color);
            ExitCode::from(code)
        }
    }
}

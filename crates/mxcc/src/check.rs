//! `mxcc check`: parse, resolve, type-check and lint (SPEC §10).
//!
//! Diagnostics for people go to stderr with source snippets and a closing count;
//! `--format json` and `--format sarif` go to stdout. Exit status: 0 clean or warnings
//! only, 1 errors (or warnings with `--deny-warnings`), 2 usage or I/O error.
//!
//! **Invariant:** this module only chooses the renderer and the exit status. It never
//! judges the input (that is `mxc-lang`'s job) and never renders a diagnostic itself
//! (that is `mxc_lang::render`'s).

use crate::util;
use clap::ValueEnum;
use mxc_lang::render;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[command(
    about = "Parse, resolve, type-check and lint policy files",
    long_about = "Parse, resolve, type-check and lint policy files and everything they \
                  import, and report every problem found.\n\n\
                  Diagnostics for people go to stderr, with source snippets (coloured on \
                  a terminal, never when NO_COLOR is set). `--format json` and \
                  `--format sarif` print one document on stdout instead.",
    after_help = "\
Exit status:
  0  no errors (warnings only, unless --deny-warnings)
  1  errors, or warnings with --deny-warnings
  2  usage error, or a file that cannot be read

Examples:
  mxcc check policy.mxc
  mxcc check --deny-warnings agents/*.mxc
  mxcc check --format json policy.mxc | jq '.diagnostics[].code'
  mxcc check --format sarif policy.mxc > mxc.sarif"
)]
pub struct Args {
    /// How to report diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human, value_name = "FORMAT")]
    pub format: Format,
    /// Treat warnings as errors: exit 1 when there is any warning.
    #[arg(long)]
    pub deny_warnings: bool,
    /// The policy files to check (imports are followed).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Source snippets on stderr, for people.
    Human,
    /// `{"diagnostics": [...]}` on stdout.
    Json,
    /// A SARIF 2.1.0 log on stdout, for code-scanning tools.
    Sarif,
}

pub fn run(args: &Args) -> ExitCode {
    let program = match util::load(&args.files) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let diags = &program.diags.0;
    let shown = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - shown;
    let errors = shown + program.errors_not_shown;
    match args.format {
        Format::Human => {
            let color = util::color_stderr();
            util::err(&render::human(&program.sources, diags, color));
            if let Some(line) = summary(errors, warnings, args.deny_warnings, color) {
                util::err(&line);
            }
        }
        Format::Json => util::out(&pretty(&render::json(&program.sources, diags))),
        Format::Sarif => util::out(&pretty(&render::sarif(&program.sources, diags))),
    }
    let failed = errors > 0 || (args.deny_warnings && warnings > 0);
    ExitCode::from(if failed { util::FAILURE } else { util::SUCCESS })
}

fn pretty(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    s.push('\n');
    s
}

/// The closing line: `error: 2 errors, 1 warning`, `warning: 1 warning`, or nothing
/// when there is nothing to report.
fn summary(errors: usize, warnings: usize, deny: bool, color: bool) -> Option<String> {
    let w = util::count(warnings, "warning");
    let (prefix, sgr, text) = match (errors, warnings) {
        (0, 0) => return None,
        (0, _) if deny => (
            "error",
            "1;31",
            format!("{w} (denied by `--deny-warnings`)"),
        ),
        (0, _) => ("warning", "1;33", w),
        (e, 0) => ("error", "1;31", util::count(e, "error")),
        (e, _) => ("error", "1;31", format!("{}, {w}", util::count(e, "error"))),
    };
    Some(format!("{}: {text}\n", util::paint(prefix, sgr, color)))
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn summary_lines() {
        assert_eq!(summary(0, 0, true, false), None);
        assert_eq!(
            summary(2, 1, false, false).as_deref(),
            Some("error: 2 errors, 1 warning\n")
        );
        assert_eq!(
            summary(1, 0, false, false).as_deref(),
            Some("error: 1 error\n")
        );
        assert_eq!(
            summary(0, 3, false, false).as_deref(),
            Some("warning: 3 warnings\n")
        );
        assert_eq!(
            summary(0, 1, true, false).as_deref(),
            Some("error: 1 warning (denied by `--deny-warnings`)\n")
        );
    }
}

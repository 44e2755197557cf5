//! `mxcc fmt`: format policy files in place, or check that they are formatted.
//!
//! The layout is `mxc_syntax::print`'s; this module reads the files, writes those that
//! change (or, with `--check`, names them) and chooses the exit status: 0 when every
//! file is (now) formatted, 1 when `--check` finds one that is not or a file has syntax
//! errors, 2 when a file cannot be read or written.
//!
//! **Invariant:** formatting never changes meaning, and a file with syntax errors is
//! never rewritten (its diagnostics are printed instead). A file is replaced whole
//! (written beside it, then renamed over it), never left half written.

use crate::util;
use mxc_syntax::print::{self, FormatError};
use mxc_syntax::{render, Code, Diagnostic, SourceMap, Span};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[command(
    about = "Format policy files in place",
    long_about = "Format policy files in place, in the one canonical layout (two-space \
                  indentation, one rule per line, lists filled to 100 columns), keeping \
                  every comment where it was. Only the space between tokens and the \
                  trailing commas of lists change; a file with syntax errors is never \
                  rewritten (its errors are printed instead).",
    after_help = "\
Exit status:
  0  every file is formatted (with --check: none would change)
  1  with --check, a file would change (its name is printed); or a file has syntax errors
  2  usage error, or a file that cannot be read or written

Examples:
  mxcc fmt policy.mxc
  mxcc fmt --check policies/*.mxc"
)]
pub struct Args {
    /// Change nothing; print the files that would change and exit 1 if there are any.
    #[arg(long)]
    pub check: bool,
    /// The files to format (imports are not followed).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// What became of one file.
enum Outcome {
    Unchanged,
    /// Rewritten, or (with `--check`) would be.
    Changed,
    /// Syntax errors (printed); left alone.
    Invalid,
    /// Could not be read or written (printed); left alone.
    Unusable,
}

pub fn run(args: &Args) -> ExitCode {
    let color = util::color_stderr();
    let mut status = util::SUCCESS;
    let mut changed = 0;
    for path in &args.files {
        match one(path, args.check, color) {
            Outcome::Unchanged => {}
            Outcome::Changed => {
                changed += 1;
                if args.check {
                    util::out(&format!("{}\n", path.display()));
                    status = status.max(util::FAILURE);
                }
            }
            Outcome::Invalid => status = status.max(util::FAILURE),
            Outcome::Unusable => status = util::USAGE,
        }
    }
    if args.check && changed > 0 {
        util::err(&format!(
            "{} not formatted (run `mxcc fmt` on {})\n",
            util::count(changed, "file"),
            if changed == 1 { "it" } else { "them" }
        ));
    }
    ExitCode::from(status)
}

fn one(path: &Path, check: bool, color: bool) -> Outcome {
    let bytes = match mxc_syntax::load::read_source(path) {
        Ok(b) => b,
        Err(e) => {
            util::error_line(
                &format!(
                    "cannot read `{}`: {}",
                    path.display(),
                    mxc_syntax::load::describe(&e)
                ),
                color,
            );
            return Outcome::Unusable;
        }
    };
    let mut sources = SourceMap::new();
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let id = sources.add(path, String::from_utf8_lossy(e.as_bytes()).into_owned());
            let d = Diagnostic::new(
                Code::E0001,
                Span::new(id, at, at + 1),
                "file is not valid UTF-8",
            )
            .with_label("invalid UTF-8 starts here");
            util::err(&render::human(&sources, &[d], color));
            return Outcome::Invalid;
        }
    };
    let id = sources.add(path, text);
    let text = &sources.file(id).text;
    let formatted = match print::format(id, text) {
        Ok(f) => f,
        Err(FormatError::Syntax(diags, more)) => {
            util::err(&render::human(&sources, &diags, color));
            let errors = diags.iter().filter(|d| d.is_error()).count() + more;
            util::error_line(
                &format!(
                    "`{}` not formatted: {}",
                    path.display(),
                    util::count(errors, "syntax error")
                ),
                color,
            );
            return Outcome::Invalid;
        }
        Err(FormatError::Internal(why)) => {
            util::error_line(
                &format!(
                    "`{}` not formatted: the formatter failed ({why}); please report this",
                    path.display()
                ),
                color,
            );
            return Outcome::Unusable;
        }
    };
    if formatted == *text {
        return Outcome::Unchanged;
    }
    if check {
        return Outcome::Changed;
    }
    match replace(path, &formatted) {
        Ok(()) => Outcome::Changed,
        Err(e) => {
            util::error_line(
                &format!("cannot write `{}`: {}", path.display(), util::io_reason(&e)),
                color,
            );
            Outcome::Unusable
        }
    }
}

/// Replaces the file at `path` by `text`: written to a new file beside it (with the
/// same permissions), then renamed over it, so a failure leaves the old file whole.
/// A symbolic link is followed: the file it names is replaced, the link stays.
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let target = std::fs::canonicalize(path)?;
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let perms = std::fs::metadata(&target)?.permissions();
    let mut n = 0u32;
    let (tmp, mut file) = loop {
        let tmp = dir.join(format!(".{name}.mxcc-fmt.{}.{n}", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(e),
        }
    };
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::set_permissions(&tmp, perms))
        .and_then(|()| std::fs::rename(&tmp, &target));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

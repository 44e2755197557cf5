//! What every command shares: exit statuses, loading and checking files, choosing
//! colour, writing to stdout and stderr, and parsing `--param K=V`.
//!
//! **Invariant:** nothing here panics or exits the process. Write errors (a closed
//! pipe) are ignored, I/O errors become an `error:` line and [`USAGE`]; the command
//! decides its own exit status.

use mxc_lang::Program;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status 0: success (for `check`: clean, or warnings only).
pub const SUCCESS: u8 = 0;
/// Exit status 1: the input has errors (or denied warnings), a test failed.
pub const FAILURE: u8 = 1;
/// Exit status 2: bad usage, or a file that could not be read.
pub const USAGE: u8 = 2;

/// Writes to stdout, ignoring errors (a reader that went away is not our failure).
pub fn out(text: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes());
    let _ = o.flush();
}

/// Writes to stderr, ignoring errors.
pub fn err(text: &str) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(text.as_bytes());
    let _ = e.flush();
}

/// Whether output for people on stderr is coloured: only on a terminal, and never
/// when `NO_COLOR` is set (to anything, even the empty string).
pub fn color_stderr() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// `error: MESSAGE` on stderr, the prefix in bold red when `color`.
pub fn error_line(message: &str, color: bool) {
    err(&format!("{}: {message}\n", paint("error", "1;31", color)));
}

/// Wraps `text` in an SGR colour sequence when `color`.
pub fn paint(text: &str, sgr: &str, color: bool) -> String {
    if color {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// Reads, parses and checks `files` and their imports. A file that cannot be read is
/// reported as `error: cannot read `FILE`: REASON` and gives `Err(USAGE)`.
pub fn load(files: &[PathBuf]) -> Result<Program, ExitCode> {
    match mxc_lang::check_paths(files) {
        Ok(p) => Ok(p),
        Err(e) => {
            error_line(
                &format!(
                    "cannot read `{}`: {}",
                    e.path.display(),
                    io_reason(&e.error)
                ),
                color_stderr(),
            );
            Err(ExitCode::from(USAGE))
        }
    }
}

/// An I/O error's reason without the `(os error N)` suffix.
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Parses a `--param K=V` value. The key is a parameter name; the value may be empty
/// and may itself contain `=`.
pub fn parse_param(s: &str) -> Result<(String, String), String> {
    let Some((k, v)) = s.split_once('=') else {
        return Err(format!(
            "expected `NAME=VALUE`, as in `--param workspace=/home/a/src`, not `{s}`"
        ));
    };
    let mut chars = k.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        return Err(format!("`{k}` is not a parameter name"));
    }
    Ok((k.to_string(), v.to_string()))
}

/// The answer of a command that this build does not implement yet.
pub fn not_yet(command: &str) -> ExitCode {
    error_line(
        &format!("`mxcc {command}` is not available in this build yet"),
        color_stderr(),
    );
    ExitCode::from(USAGE)
}

/// `1 error`, `2 errors`.
pub fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// `--agent NAME [--param K=V]...`: whose decisions, with which parameter values.
#[derive(clap::Args, Debug, Clone)]
pub struct AgentArgs {
    /// The agent whose decisions are wanted.
    #[arg(long, value_name = "NAME")]
    pub agent: String,
    /// A parameter value, as `NAME=VALUE` (repeatable); the environment is never read.
    #[arg(long = "param", value_name = "K=V", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
}

/// A platform to compile or plan for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    Linux,
    Windows,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params() {
        assert_eq!(
            parse_param("workspace=/a=b"),
            Ok(("workspace".into(), "/a=b".into()))
        );
        assert_eq!(parse_param("home="), Ok(("home".into(), String::new())));
        assert!(parse_param("home").is_err());
        assert!(parse_param("=x").is_err());
        assert!(parse_param("a b=x").is_err());
    }

    #[test]
    fn reasons() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(io_reason(&e), "No such file or directory");
        assert_eq!(count(1, "error"), "1 error");
        assert_eq!(count(0, "warning"), "0 warnings");
    }
}

//! `mxcc query`: decide requests for an agent and say which rule decided (SPEC §10).
//!
//! **Invariant:** a request is decided by the engine, never by this module; paths in
//! requests are normalised lexically and never looked up on disk.

use crate::decide::{self, Stop};
use crate::util;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[command(
    about = "Decide requests for an agent",
    after_help = "\
A REQUEST is one argument, \"RIGHT TARGET\"; for `launch`, the words after the program are
its arguments.

Examples:
  mxcc query policy.mxc --agent copilot-cli --param home=/home/alice \"read /etc/passwd\"
  mxcc query policy.mxc --agent copilot-cli \"connect api.github.com:443 from /usr/bin/git\"
  mxcc query policy.mxc --agent copilot-cli --format json \"launch /usr/bin/git status --short\""
)]
pub struct Args {
    #[command(flatten)]
    pub agent: util::AgentArgs,
    /// Print a human line per request, or one JSON array.
    #[arg(long, value_enum, default_value_t = Format::Human, value_name = "FORMAT")]
    pub format: Format,
    /// The policy files, then the requests (each one argument: "RIGHT TARGET").
    #[arg(required = true, value_name = "FILE... REQUEST")]
    pub inputs: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// Whether a positional argument is a request (`"RIGHT TARGET"`) rather than a file.
fn is_request(s: &str) -> bool {
    let mut w = s.split_whitespace();
    let first = w.next().unwrap_or("");
    w.next().is_some()
        && matches!(
            first,
            "read" | "write" | "create" | "delete" | "connect" | "bind" | "launch"
        )
}

pub fn run(args: &Args) -> ExitCode {
    decide::finish(query(args))
}

fn query(args: &Args) -> Result<(), Stop> {
    let color = util::color_stderr();
    let (reqs, files): (Vec<&String>, Vec<&String>) =
        args.inputs.iter().partition(|s| is_request(s));
    if files.is_empty() {
        return Err(Stop::Usage("no policy file given".into()));
    }
    if reqs.is_empty() {
        return Err(Stop::Usage(
            "no request given (a request is one argument such as \"read /etc/passwd\")".into(),
        ));
    }
    let files: Vec<PathBuf> = files.into_iter().map(PathBuf::from).collect();
    let params = decide::params(&args.agent)?;
    let target = mxc_eval::Target::Linux;
    let mut parsed = Vec::new();
    for r in &reqs {
        match mxc_lang::request::parse_request(r, false) {
            Ok(q) => parsed.push((*r, q)),
            Err(e) => return Err(Stop::Usage(format!("invalid request `{r}`: {e}"))),
        }
    }
    let program = decide::load(&files, color)?;
    let (engine, _) = decide::compile(&program, &args.agent.agent, &params, target, color)?;
    let json = args.format == Format::Json;
    let mut out = Vec::new();
    let mut lines = String::new();
    for (raw, q) in &parsed {
        let d = mxc_lang::query::decide_engine(&engine, q);
        if json {
            out.push(serde_json::json!({
                "request": raw,
                "effect": d.effect.as_str(),
                "rule": decide::rule_json(&engine, &d),
            }));
        } else {
            lines.push_str(&format!(
                "{} {} {}\n",
                d.effect.as_str(),
                q,
                decide::attribution(&engine, &d)
            ));
        }
    }
    if json {
        let text = serde_json::to_string_pretty(&serde_json::Value::Array(out)).unwrap_or_default();
        util::out(&format!("{text}\n"));
    } else {
        util::out(&lines);
    }
    Ok(())
}

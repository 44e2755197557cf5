//! `mxcc plan`: print, as JSON, what enforcement would set up on a platform.
//!
//! `--target linux`: the Landlock grants, the seccomp filter (what is refused, what the
//! supervisor decides), the proxy and the process settings `mxcc run` would use, plus
//! the agent's tier, identity, env, limits and audit level. `--target windows` is not
//! in this build (exit 2).
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
    /// The policy files (imports are followed), or one compiled table (`.mxcb`, from
    /// `mxcc compile`: no source needed).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

pub fn run(args: &Args) -> ExitCode {
    if args.target == util::Target::Windows {
        return util::not_yet("plan --target windows");
    }
    let color = util::color_stderr();
    let engine = match crate::run::load(&args.files, &args.agent, color) {
        Ok(l) => l.engine,
        Err(stop) => return crate::decide::finish(Err(stop)),
    };
    let a = engine.agent();
    let mut out = serde_json::json!({
        "target": "linux",
        "agent": a.name,
        "identity": a.identity.to_string(),
        "isolation": format!("{:?}", a.isolation).to_lowercase(),
        "default": a.default.as_str(),
        "audit": format!("{:?}", a.audit).to_lowercase(),
        "env": {"pass": a.env_pass, "deny": a.env_deny},
        "limits": {
            "memory_bytes": a.memory_bytes,
            "processes": a.processes,
            "cpus": a.cpus,
            "timeout_ms": a.timeout_ms,
        },
    });
    #[cfg(target_os = "linux")]
    {
        let supported = a.isolation != mxc_eval::Isolation::Microvm;
        out["supported"] = serde_json::Value::from(supported);
        if supported {
            use mxc_enforce::Backend;
            let tier = if a.isolation == mxc_eval::Isolation::Container {
                mxc_enforce::Tier::Container
            } else {
                mxc_enforce::Tier::Process
            };
            // Typed data; a path that is not UTF-8 cannot be written as JSON.
            match serde_json::to_value(mxc_enforce_linux::Linux.describe(&engine, tier).detail) {
                Ok(v) => out["enforcement"] = v,
                Err(e) => {
                    util::error_line(&format!("cannot write the plan as JSON: {e}"), color);
                    return ExitCode::from(util::FAILURE);
                }
            }
        } else {
            out["refusal"] = serde_json::Value::from(format!(
                "`isolation {}` is not available in this build; `mxcc run` refuses (exit 125)",
                format!("{:?}", a.isolation).to_lowercase()
            ));
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = &engine;
        out["supported"] = serde_json::Value::from(false);
    }
    util::out(&format!(
        "{}\n",
        serde_json::to_string_pretty(&out).unwrap_or_default()
    ));
    ExitCode::from(util::SUCCESS)
}

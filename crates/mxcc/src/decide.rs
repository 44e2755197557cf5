//! Shared by `query`, `test` and `compile`: loading files, parsing `--param K=V`,
//! compiling an agent, and formatting a decision for people.

use mxc_eval as ev;
use mxc_lang::Program;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Why a command stopped early: I/O or usage (exit 2) or errors in the files (exit 1).
pub enum Stop {
    Usage(String),
    Files,
}

/// The `--param` values of an `--agent` argument group.
pub fn params(a: &crate::util::AgentArgs) -> Result<BTreeMap<String, String>, Stop> {
    let mut out = BTreeMap::new();
    for (k, v) in &a.params {
        if out.insert(k.clone(), v.clone()).is_some() {
            return Err(Stop::Usage(format!("parameter `{k}` is given twice")));
        }
    }
    Ok(out)
}

/// Turns a command's outcome into its exit status (printing usage errors).
pub fn finish(r: Result<(), Stop>) -> std::process::ExitCode {
    match r {
        Ok(()) => std::process::ExitCode::from(crate::util::SUCCESS),
        Err(Stop::Files) => std::process::ExitCode::from(crate::util::FAILURE),
        Err(Stop::Usage(m)) => {
            crate::util::error_line(&m, crate::util::color_stderr());
            std::process::ExitCode::from(crate::util::USAGE)
        }
    }
}

/// Loads and checks files, without the lints: `query`, `test`, `compile`, `run` and
/// `plan` print no warnings, so they do not run W0001/W0005/W0006 (which search every
/// agent's automata); only `check` does. Errors are rendered to stderr.
pub fn load(files: &[PathBuf], color: bool) -> Result<Program, Stop> {
    let program = mxc_lang::check_paths_without_lints(files).map_err(|e| {
        Stop::Usage(format!(
            "cannot read `{}`: {}",
            e.path.display(),
            crate::util::io_reason(&e.error)
        ))
    })?;
    if program.diags.has_errors() {
        let errs: Vec<_> = program
            .diags
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect();
        eprint!(
            "{}",
            mxc_lang::render::human(&program.sources, &errs, color)
        );
        return Err(Stop::Files);
    }
    Ok(program)
}

/// Compiles an agent, rendering diagnostics to stderr.
pub fn compile(
    program: &Program,
    agent: &str,
    params: &BTreeMap<String, String>,
    target: ev::Target,
    color: bool,
) -> Result<(ev::Engine, mxc_lang::bind::Bound), Stop> {
    if program.model.agent(agent).is_none() {
        let names: Vec<&str> = program
            .model
            .agents
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        return Err(Stop::Usage(format!(
            "unknown agent `{agent}` (the files define: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        )));
    }
    match mxc_lang::compile::compile_agent(program, agent, params, target) {
        Ok((table, bound)) => match ev::Engine::from_table(table) {
            Ok(e) => Ok((e, bound)),
            Err(e) => Err(Stop::Usage(format!(
                "internal error: compiled table rejected: {e}"
            ))),
        },
        Err(diags) => {
            let v: Vec<_> = diags.into_iter().collect();
            eprint!("{}", mxc_lang::render::human(&program.sources, &v, color));
            Err(Stop::Files)
        }
    }
}

/// `(policy NAME, FILE:LINE:COL) "reason"` or `(default)`.
pub fn attribution(e: &ev::Engine, d: &ev::Decision) -> String {
    match d.rule.and_then(|r| e.rule(r)) {
        Some(info) => {
            let mut s = format!(
                "(policy {}, {}:{}:{})",
                info.policy, info.file, info.line, info.column
            );
            if let Some(r) = &info.reason {
                s.push_str(&format!(" {r:?}"));
            }
            s
        }
        None => "(default)".to_string(),
    }
}

pub fn rule_json(e: &ev::Engine, d: &ev::Decision) -> serde_json::Value {
    match d.rule.and_then(|r| e.rule(r)) {
        Some(info) => serde_json::json!({
            "policy": info.policy,
            "file": info.file,
            "line": info.line,
            "column": info.column,
            "reason": info.reason,
        }),
        None => serde_json::Value::Null,
    }
}

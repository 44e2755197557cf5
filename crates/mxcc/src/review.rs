//! `mxcc learn --from-audit LOG`: rules for what a normal run was denied, proposed one
//! by one for review (as AppArmor's `aa-logprof` does), written as a policy.
//!
//! Read from the audit log of a real run (`mxcc run --audit-log`, any `audit` level):
//! every denial the agent's default decided (no rule), and what a program lacked to
//! start (`could not start` records). Denials an explicit `deny` rule decided, `ask`s
//! answered no, and MXC's own refusals are never proposed (they are listed in the
//! output's comments). On a terminal each proposal is asked: accept, deny explicitly,
//! skip, accept the rest, or quit; `--accept-all` accepts every one (unattended).
//!
//! **Invariant:** a log whose hash chain is broken is refused (a changed log must not
//! write policy); nothing is proposed that the log does not show denied.

use crate::learn::{self, Observed};
use crate::policy_text::Params;
use crate::util;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[command(
    about = "Propose rules for what a run was denied, from its audit log",
    after_help = "\
Reads the audit log of a normal run (`mxcc run --audit-log LOG`) and proposes an `allow`
for each access the agent's default denied (and for what a program lacked to start),
one by one on a terminal: [a]ccept, [d]eny explicitly, [s]kip, accept [A]ll the rest,
[q]uit (writing what was accepted). Without a terminal, --accept-all is required.
Paths are written with `~` (home) and ${NAME} for each --param given. OUT gets a policy
`learned-AGENT` (and an agent `AGENT-learned` using it); add `use learned-AGENT` to the
agent to adopt the rules.

Exit status: 0 written; 1 when the log's hash chain is broken or holds no records of
the agent; 2 usage or I/O errors.

Examples:
  mxcc learn --from-audit run.log -o more.mxc --param home=$HOME
  mxcc learn --from-audit run.log -o more.mxc --accept-all"
)]
pub struct Args {
    /// The audit log of the run.
    #[arg(long, value_name = "LOG", required = true)]
    pub from_audit: PathBuf,
    /// Where to write the policy.
    #[arg(short = 'o', long = "output", value_name = "OUT", required = true)]
    pub out: PathBuf,
    /// Only records of this agent (default: the log's first agent).
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,
    /// A path parameter to write paths with, `NAME=VALUE` (repeatable); `home` is the
    /// running user's home directory unless given.
    #[arg(long = "param", value_name = "K=V", value_parser = util::parse_param)]
    pub params: Vec<(String, String)>,
    /// Accept every proposal without asking.
    #[arg(long)]
    pub accept_all: bool,
    /// The agent's policy files (optional): the rules are then written to go with
    /// them (their parameters are not declared again; the agent `AGENT-reviewed` uses
    /// the agent's policies and the learned one), and checked together with them.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// One proposed rule: a right on a target, denied `count` times.
#[derive(Clone, Debug)]
struct Proposal {
    right: String,
    target: String,
    count: u64,
    programs: Vec<String>,
    /// `could not start`: what the file was to the program.
    why: Option<String>,
    /// A launch: the program's whole path (the record's `process.file.path`; the
    /// target also holds the arguments, and a path may contain spaces).
    launched: Option<String>,
}

pub fn run(args: &Args) -> ExitCode {
    let color = util::color_stderr();
    let fail = |m: String, code: u8| {
        util::error_line(&m, color);
        ExitCode::from(code)
    };
    let text = match std::fs::read_to_string(&args.from_audit) {
        Ok(t) => t,
        Err(e) => {
            return fail(
                format!(
                    "cannot read `{}`: {}",
                    args.from_audit.display(),
                    util::io_reason(&e)
                ),
                util::USAGE,
            )
        }
    };
    // The same check as `mxcc audit verify`: the chain, and where its head file says it
    // ends (a log cut short or rewritten with a recomputed chain is refused too).
    if let Err((why, _)) = crate::audit::check_log(&args.from_audit, None) {
        return fail(
            format!("{why}; not learning from a log that was changed"),
            util::FAILURE,
        );
    }
    let records: Vec<serde_json::Map<String, Value>> = text
        .lines()
        .filter_map(|l| match serde_json::from_str(l) {
            Ok(Value::Object(m)) => Some(m),
            _ => None,
        })
        .collect();
    let mxc =
        |r: &serde_json::Map<String, Value>| r.get("unmapped").and_then(|u| u.get("mxc")).cloned();
    let agent = match &args.agent {
        Some(a) => a.clone(),
        None => match records
            .iter()
            .find_map(|r| mxc(r)?.get("agent")?.as_str().map(str::to_string))
        {
            Some(a) => a,
            None => return fail("the log holds no record of an agent".into(), util::FAILURE),
        },
    };
    let mut command: Vec<String> = Vec::new();
    let mut proposals: BTreeMap<(String, String), Proposal> = BTreeMap::new();
    let mut kept: Vec<String> = Vec::new();
    let mut seen_agent = false;
    for r in &records {
        let Some(m) = mxc(r) else { continue };
        if m.get("agent").and_then(Value::as_str) != Some(agent.as_str()) {
            continue;
        }
        seen_agent = true;
        let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        let program = r
            .get("actor")
            .and_then(|a| a.get("process"))
            .and_then(|p| p.get("file"))
            .and_then(|f| f.get("path"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        match r.get("activity_name").and_then(Value::as_str) {
            Some("run started") => {
                if let Some(c) = m
                    .get("detail")
                    .and_then(|d| d.get("command"))
                    .and_then(Value::as_array)
                {
                    command = c
                        .iter()
                        .filter_map(|w| w.as_str().map(str::to_string))
                        .collect();
                }
                continue;
            }
            Some("could not start") => {
                let missing = m
                    .get("detail")
                    .and_then(|d| d.get("missing"))
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let prog = m
                    .get("detail")
                    .and_then(|d| d.get("program"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                for x in missing {
                    let (Some(right), Some(target)) = (
                        x.get("right").and_then(Value::as_str),
                        x.get("target").and_then(Value::as_str),
                    ) else {
                        continue;
                    };
                    if right == "execute" || !x.get("rule").is_none_or(Value::is_null) {
                        kept.push(format!("{right} {target} (needed by {prog} to start)"));
                        continue;
                    }
                    let p = proposals
                        .entry((right.to_string(), target.to_string()))
                        .or_insert_with(|| Proposal {
                            right: right.to_string(),
                            target: target.to_string(),
                            count: 0,
                            programs: vec![],
                            why: x.get("what").and_then(Value::as_str).map(str::to_string),
                            launched: (right == "launch").then(|| target.to_string()),
                        });
                    p.count += 1;
                    if !p.programs.contains(&prog) {
                        p.programs.push(prog.clone());
                    }
                }
                continue;
            }
            _ => {}
        }
        let (Some(right), Some(target)) = (s("right"), s("target")) else {
            continue;
        };
        if s("effect").as_deref() != Some("deny") {
            continue;
        }
        let by_rule = m.get("rule").is_some_and(|v| !v.is_null());
        let refused = m.get("enforcement").is_some_and(|v| !v.is_null())
            || target.starts_with('(')
            || target.ends_with("before the kernel reads them)");
        if by_rule || refused || m.get("asked").is_some_and(|v| !v.is_null()) {
            let why = if refused {
                "refused by MXC whatever the policy says".to_string()
            } else if let Some(at) = m
                .get("rule")
                .and_then(|r| r.get("at"))
                .and_then(Value::as_str)
            {
                format!("decided by the rule at {at}")
            } else {
                "an `ask` answered no".to_string()
            };
            kept.push(format!("{right} {target}: {why}"));
            continue;
        }
        let launched = (right == "launch")
            .then(|| {
                r.get("process")
                    .and_then(|p| p.pointer("/file/path"))
                    .and_then(Value::as_str)
            })
            .flatten()
            .map(str::to_string);
        let key = (right.clone(), target.clone());
        let p = proposals.entry(key).or_insert_with(|| Proposal {
            right,
            target,
            count: 0,
            programs: vec![],
            why: None,
            launched,
        });
        p.count += 1;
        if !program.is_empty() && !p.programs.contains(&program) && p.programs.len() < 5 {
            p.programs.push(program);
        }
    }
    if !seen_agent {
        return fail(
            format!("the log holds no record of agent `{agent}`"),
            util::FAILURE,
        );
    }
    let mut values: Vec<(String, String)> = args.params.clone();
    if !values.iter().any(|(k, _)| k == "home") {
        if let Some(h) = crate::run::own_home() {
            values.push(("home".into(), h));
        }
    }
    let params = Params::new(values.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let interactive = !args.accept_all;
    if interactive && !std::io::stdin().is_terminal() {
        return fail(
            "proposals are asked on a terminal; give --accept-all to accept every one".into(),
            util::USAGE,
        );
    }
    let mut observed = Observed::default();
    let total = proposals.len();
    let mut accept_rest = args.accept_all;
    let mut stdin = std::io::stdin().lock();
    for (i, p) in proposals.values().enumerate() {
        let rule = match &p.launched {
            Some(program) => crate::explain::suggest_for(
                mxc_enforce::Right::Launch,
                &mxc_enforce::Target::Program {
                    path: program.as_bytes().to_vec(),
                    args: Vec::new(),
                    changing: false,
                },
                &params,
            ),
            None => crate::explain::suggest(&p.right, &p.target, &params),
        };
        let Some(rule) = rule else {
            kept.push(format!("{} {}: no rule can name it", p.right, p.target));
            continue;
        };
        let answer = if accept_rest {
            'a'
        } else {
            let mut e = std::io::stderr().lock();
            let _ = write!(
                e,
                "[{}/{total}] denied {} {}{} ({}; by {})\n  proposed: {rule}\n  [a]ccept  [d]eny explicitly  [s]kip  accept [A]ll  [q]uit? ",
                i + 1,
                p.right,
                mxc_enforce_linux::terminal::visible(&p.target),
                p.why.as_ref().map(|w| format!(": {w}")).unwrap_or_default(),
                if p.count == 1 { "once".to_string() } else { format!("{} times", p.count) },
                mxc_enforce_linux::terminal::visible(&p.programs.join(", ")),
            );
            let _ = e.flush();
            let mut line = String::new();
            if stdin.read_line(&mut line).unwrap_or(0) == 0 {
                'q'
            } else {
                line.trim().chars().next().unwrap_or('s')
            }
        };
        match answer {
            'A' => {
                accept_rest = true;
                add(&mut observed, p, false);
            }
            'a' | 'y' => add(&mut observed, p, false),
            'd' => add(&mut observed, p, true),
            'q' => break,
            _ => {}
        }
    }
    let mut isolation = "process";
    let beside = if args.files.is_empty() {
        None
    } else {
        let program = match crate::decide::load(&args.files, color) {
            Ok(p) => p,
            Err(stop) => return crate::decide::finish(Err(stop)),
        };
        let Some(a) = program.model.agent(&agent) else {
            return fail(
                format!("the files define no agent `{agent}` (the log's)"),
                util::USAGE,
            );
        };
        isolation = match a.isolation {
            mxc_lang::model::IsolationDef::Process => "process",
            mxc_lang::model::IsolationDef::Container => "container",
            mxc_lang::model::IsolationDef::Microvm => "microvm",
        };
        Some(learn::Beside {
            declared: program.model.params.keys().cloned().collect(),
            uses: a.uses.iter().map(|(u, _)| u.clone()).collect(),
        })
    };
    let cx = learn::Context {
        agent: &agent,
        isolation,
        source: format!(
            "`mxcc learn --from-audit {}` (the denials of a normal run)",
            args.from_audit.display()
        ),
        params,
        workspace: None,
        command,
        beside,
    };
    let mut text = learn::render(&observed, &cx);
    if !kept.is_empty() {
        let mut notes = String::from("Denied in the run and not proposed:");
        kept.sort();
        kept.dedup();
        for k in &kept {
            notes.push_str("\n  ");
            notes.push_str(&k.replace('\n', " "));
        }
        learn::add_to_header(&mut text, &mxc_syntax::gen::comment(&notes));
    }
    match learn::write_checked(&args.out, &text, &args.files) {
        Ok(w) => {
            eprintln!(
                "mxcc: {} of {total} proposals taken; policy `learned-{agent}` written to {}{}",
                observed.fs.len()
                    + observed.net.len()
                    + observed.launch.len()
                    + observed.deny.len(),
                args.out.display(),
                if w > 0 {
                    format!("; {w} check warning(s), explained at its top")
                } else {
                    String::new()
                }
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(
            format!(
                "cannot write `{}`: {}",
                args.out.display(),
                util::io_reason(&e)
            ),
            util::USAGE,
        ),
    }
}

/// Adds an accepted (or, with `deny`, refused) proposal.
fn add(o: &mut Observed, p: &Proposal, deny: bool) {
    if deny {
        o.deny.insert((p.right.clone(), p.target.clone()));
        return;
    }
    match p.right.as_str() {
        "read" | "write" | "create" | "delete" => {
            o.fs.entry(p.target.clone())
                .or_default()
                .insert(p.right.clone());
        }
        "connect" | "bind" => {
            o.net.insert((p.right.clone(), p.target.clone()));
        }
        "launch" => {
            let program = p
                .launched
                .as_deref()
                .unwrap_or_else(|| p.target.split(' ').next().unwrap_or(&p.target));
            o.launch.insert(program.to_string());
        }
        _ => {}
    }
}

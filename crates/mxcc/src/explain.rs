//! `mxcc run`'s account of its denials: what was refused, which right, and which rule
//! decided (its place and text, or the agent's default), as `mxcc query` says it;
//! live, at exit, or not at all; and with `--explain`, the rule to add.
//!
//! **Invariant:** everything the sandbox chose (paths, program names, arguments) is
//! shown through [`visible`]: a file name cannot write control sequences to the
//! user's terminal. Memory is bounded: at most [`MAX_DISTINCT`] distinct denials are
//! kept, the rest only counted.

use crate::policy_text::{self, Params};
use mxc_enforce::{Denial, DenialSink, Right, Target};
use mxc_enforce_linux::terminal::visible;
use mxc_eval::{Effect, Engine};
use mxc_syntax::ast::{Effect as RuleEffect, SectionKind};
use mxc_syntax::gen;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Distinct denials kept for the list at exit.
const MAX_DISTINCT: usize = 1000;
/// Distinct denials listed at exit without `--explain`.
const LISTED: usize = 20;

pub struct Explainer {
    engine: Arc<Engine>,
    /// Rule source lines, by file name (as rules name their file).
    sources: HashMap<String, Vec<String>>,
    params: Params,
    agent: String,
    live: bool,
    /// Lines end with `\r\n` (a terminal that may be in raw mode while `ask` relays).
    crlf: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Distinct denials in the order first seen, with how often each happened.
    seen: Vec<(Denial, u64)>,
    index: HashMap<(Right, Target, Option<u32>), usize>,
    /// Distinct denials not kept (over [`MAX_DISTINCT`]).
    dropped: u64,
}

impl Explainer {
    pub fn new(
        engine: Arc<Engine>,
        program: Option<&mxc_lang::Program>,
        params: Params,
        agent: &str,
        live: bool,
        crlf: bool,
    ) -> Explainer {
        // A compiled table carries no source: rules are then named by place only.
        let sources = program
            .into_iter()
            .flat_map(|p| p.sources.files())
            .map(|(_, f)| (f.name.clone(), f.text.lines().map(str::to_string).collect()))
            .collect();
        Explainer {
            engine,
            sources,
            params,
            agent: agent.to_string(),
            live,
            crlf,
            state: Mutex::new(State::default()),
        }
    }

    /// The sink the supervisor tells each denial.
    pub fn sink(self: &Arc<Self>) -> DenialSink {
        let me = self.clone();
        Arc::new(move |d: &Denial| me.told(d))
    }

    fn told(&self, d: &Denial) {
        let Ok(mut s) = self.state.lock() else { return };
        let key = (d.right, d.target.clone(), d.decision.rule.map(|r| r.0));
        if let Some(&i) = s.index.get(&key) {
            s.seen[i].1 += 1;
            return;
        }
        if s.seen.len() >= MAX_DISTINCT {
            s.dropped += 1;
            return;
        }
        let i = s.seen.len();
        s.seen.push((d.clone(), 1));
        s.index.insert(key, i);
        drop(s);
        if self.live {
            self.write(&self.describe(d, false));
        }
    }

    fn write(&self, text: &str) {
        let text = if self.crlf {
            text.replace('\n', "\r\n")
        } else {
            text.to_string()
        };
        let mut e = std::io::stderr().lock();
        let _ = e.write_all(text.as_bytes());
        let _ = e.flush();
    }

    /// `FILE:LINE `TEXT` (policy NAME) "reason"`, or the default.
    pub fn rule(&self, d: &mxc_eval::Decision) -> String {
        match d.rule.and_then(|r| self.engine.rule(r)) {
            Some(i) => {
                let text = self
                    .sources
                    .get(&i.file)
                    .and_then(|l| l.get((i.line as usize).wrapping_sub(1)))
                    .map(|l| {
                        let t: String = l.trim().chars().take(160).collect();
                        format!(" `{}`", visible(&t))
                    })
                    .unwrap_or_default();
                let reason = i
                    .reason
                    .as_ref()
                    .map(|r| format!(" \"{}\"", visible(r)))
                    .unwrap_or_default();
                format!(
                    "{}:{}{text} (policy {}){reason}",
                    visible(&i.file),
                    i.line,
                    i.policy
                )
            }
            None => format!(
                "the agent's default (`default {}` of agent `{}`: no rule allows it)",
                self.engine.agent().default.as_str(),
                self.agent
            ),
        }
    }

    /// Two lines: what was denied, and what decided.
    fn describe(&self, d: &Denial, with_fix: bool) -> String {
        // The command's own launch is made by a copy of `mxcc` about to become it.
        let by = match std::env::current_exe() {
            Ok(me) if me.to_str() == Some(d.program.as_str()) => {
                "mxcc starting the command".to_string()
            }
            _ => format!("program {}", visible(&d.program)),
        };
        let mut s = format!(
            "mxcc: denied {} {} ({by}, pid {})\n",
            d.right,
            visible(&d.target.to_string()),
            d.pid
        );
        let why = match d.enforcement {
            Some(why) => format!("refused by MXC whatever the policy says: {why}"),
            None if d.asked.is_some() => format!(
                "asked and answered no; the rule asking: {}",
                self.rule(&d.decision)
            ),
            None => format!("decided by {}", self.rule(&d.decision)),
        };
        s.push_str(&format!("      {why}\n"));
        if with_fix {
            if let Some(fix) = self.fix(d) {
                s.push_str(&format!("      {fix}\n"));
            }
        }
        s
    }

    /// What to change so that this would be allowed.
    fn fix(&self, d: &Denial) -> Option<String> {
        if d.enforcement.is_some() {
            return Some("no rule can allow this".into());
        }
        if d.asked.is_some() {
            return Some(
                "to allow it: answer y (or a) at the terminal, run with `--ask allow`, or make \
                 that rule `allow`"
                    .into(),
            );
        }
        if d.decision.rule.is_some() && d.decision.effect == Effect::Deny {
            return Some(
                "to allow it: narrow or remove that rule (a `deny` wins over every `allow`)".into(),
            );
        }
        Some(format!(
            "to allow it, add to a policy agent `{}` uses:  {}",
            self.agent,
            suggest_for(d.right, &d.target, &self.params)?
        ))
    }

    /// The list at exit: every distinct denial (with `explain`, each with the rule to
    /// add; else the first [`LISTED`], when they were not told live).
    pub fn finish(&self, explain: bool) {
        let Ok(s) = self.state.lock() else { return };
        if s.seen.is_empty() || (self.live && !explain) {
            return;
        }
        let total = s.seen.len() as u64 + s.dropped;
        let mut out = format!(
            "mxcc: {total} distinct {} denied{}:\n",
            if total == 1 { "access" } else { "accesses" },
            if explain { " (--explain)" } else { "" }
        );
        let shown = if explain { s.seen.len() } else { LISTED };
        for (d, n) in s.seen.iter().take(shown) {
            let mut t = self.describe(d, explain);
            if *n > 1 {
                t = t.replacen(")\n", &format!("; {n} times)\n"), 1);
            }
            out.push_str(&t);
        }
        let left = total - (shown.min(s.seen.len()) as u64);
        if left > 0 {
            out.push_str(&format!(
                "mxcc: {left} more not listed ({})\n",
                if explain {
                    "over the limit kept; see the audit log"
                } else {
                    "run with --explain to list every one"
                }
            ));
        }
        drop(s);
        self.write(&out);
    }
}

/// The rule that would allow `right` on the typed `target`, in its section (a
/// program is named by its whole path, spaces and all).
pub fn suggest_for(right: Right, target: &Target, params: &Params) -> Option<String> {
    match target {
        Target::Program { path, .. } => {
            let p = policy_text::pattern(std::str::from_utf8(path).ok()?, params, "")?;
            Some(one(SectionKind::App, "launch", &p))
        }
        t => suggest(right.as_str(), &t.to_string(), params),
    }
}

/// `KIND { allow RIGHT "TARGET" }`, printed by mxc-syntax.
fn one(kind: SectionKind, right: &str, target: &str) -> String {
    gen::one_rule(
        kind,
        gen::rule(RuleEffect::Allow, &[right], &[target], None),
    )
}

/// The rule that would allow `right` on `target`, in its section.
pub fn suggest(right: &str, target: &str, params: &Params) -> Option<String> {
    match right {
        "read" | "write" | "create" | "delete" => Some(one(
            SectionKind::Fs,
            right,
            &policy_text::pattern(target, params, "")?,
        )),
        "connect" | "bind" => {
            // A target the policy language cannot name (a unix socket's path) has none.
            if target.starts_with('(') || target.contains(char::is_whitespace) {
                return None;
            }
            Some(one(SectionKind::Net, right, &target.replace('"', "")))
        }
        "launch" => {
            let program = target.split(' ').next().unwrap_or(target);
            Some(one(
                SectionKind::App,
                "launch",
                &policy_text::pattern(program, params, "")?,
            ))
        }
        _ => None,
    }
}

/// The start-up failure as lines: what the program lacked, each with its deciding rule
/// and the rule to add.
pub fn start_failure(ex: &Explainer, program: &str, missing: &[mxc_enforce::Missing]) -> String {
    let mut s = format!(
        "{} could not start: it needs what this agent does not allow:\n",
        visible(program)
    );
    for m in missing {
        let path = m.path.display().to_string();
        s.push_str(&format!("  {} {}: {}\n", m.right, visible(&path), m.what));
        match m.decision {
            Some(d) => {
                s.push_str(&format!("      decided by {}\n", ex.rule(&d)));
                let fix = if d.rule.is_some() && d.effect == Effect::Deny {
                    Some("to allow it: narrow or remove that rule".to_string())
                } else {
                    suggest(m.right, &path, &ex.params).map(|r| format!("to allow it, add:  {r}"))
                };
                if let Some(f) = fix {
                    s.push_str(&format!("      {f}\n"));
                }
            }
            None => s.push_str(
                "      the kernel may execute only the usual loaders and what `app` rules allow; \
                 this interpreter is neither\n",
            ),
        }
    }
    s.trim_end().to_string()
}

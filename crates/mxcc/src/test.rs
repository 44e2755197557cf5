//! `mxcc test`: run the `test` blocks of the given files (SPEC §8, §10). Each failed
//! expectation is shown with the rule that decided instead, as a source snippet.
//!
//! **Invariant:** expectations are judged by the engine's decisions, the same ones
//! `query` and enforcement use; never by a second implementation.

use crate::decide::{self, Stop};
use crate::util;
use mxc_eval as ev;
use mxc_lang::ast::SectionKind;
use mxc_lang::diag::{Code, Diagnostic};
use mxc_lang::model::ExpectDef;
use mxc_lang::request::Request;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[command(
    about = "Run the tests written in policy files",
    after_help = "\
Exit status: 0 when every expectation holds; 1 on a failed expectation or an error.

Example:
  mxcc test policy.mxc tests/*.mxc"
)]
pub struct Args {
    /// The files whose tests are run (imports are followed).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

pub fn run(args: &Args) -> ExitCode {
    match tests(&args.files) {
        Ok(true) => ExitCode::from(util::SUCCESS),
        Ok(false) => ExitCode::from(util::FAILURE),
        Err(stop) => decide::finish(Err(stop)),
    }
}

type Compiled = Option<(ev::Engine, mxc_lang::bind::Bound)>;

/// Runs every test; returns whether every expectation held.
fn tests(files: &[PathBuf]) -> Result<bool, Stop> {
    let color = util::color_stderr();
    let program = decide::load(files, color)?;
    let mut passed = 0usize;
    let mut failed = 0usize;
    let mut cache: HashMap<(String, BTreeMap<String, String>), Compiled> = HashMap::new();
    let mut report = String::new();
    for t in &program.model.tests {
        let Some((agent, _)) = &t.agent else { continue };
        let params: BTreeMap<String, String> = t
            .with
            .iter()
            .map(|(k, v, _)| (k.clone(), v.clone()))
            .collect();
        let entry = cache
            .entry((agent.clone(), params.clone()))
            .or_insert_with(|| {
                decide::compile(&program, agent, &params, ev::Target::Linux, color).ok()
            });
        let Some((engine, bound)) = entry else {
            report.push_str(&format!(
                "test {:?} ... FAILED (agent `{agent}` could not be compiled)\n",
                t.name
            ));
            failed += 1;
            continue;
        };
        let mut failures = Vec::new();
        for x in &t.expects {
            for (right, req) in requests(x) {
                let req = match req {
                    Ok(r) => r,
                    Err(e) => {
                        failures.push(
                            Diagnostic::new(
                                Code::E0010,
                                x.span,
                                format!("invalid request in expectation: {e}"),
                            )
                            .with_label("cannot be decided"),
                        );
                        continue;
                    }
                };
                let d = mxc_lang::query::decide_engine(engine, &req);
                if d.effect.as_str() == x.effect.as_str() {
                    continue;
                }
                let mut diag = Diagnostic::new(
                    Code::E0001,
                    x.span,
                    format!(
                        "expected {} {req}, but it is {}",
                        x.effect.as_str(),
                        d.effect.as_str()
                    ),
                )
                .with_label(format!("expects `{}` for `{right}`", x.effect.as_str()));
                match d.rule.and_then(|r| bound.rules.get(r.0 as usize)) {
                    Some(rule) => {
                        diag = diag.label(
                            rule.span,
                            format!(
                                "`{}` decided here (policy `{}`)",
                                d.effect.as_str(),
                                rule.policy
                            ),
                        );
                    }
                    None => {
                        diag = diag.note(format!(
                            "no rule matched: the agent's default `{}` decided",
                            d.effect.as_str()
                        ));
                    }
                }
                failures.push(diag);
            }
        }
        if failures.is_empty() {
            report.push_str(&format!("test {:?} ... ok\n", t.name));
            passed += 1;
        } else {
            report.push_str(&format!("test {:?} ... FAILED\n", t.name));
            failed += 1;
            let text = mxc_lang::render::human(&program.sources, &failures, color);
            // A failed expectation is not a diagnostic of SPEC §9: show it without a code.
            report.push_str(&text.replace("error[E0001]: expected", "failed: expected"));
        }
    }
    report.push_str(&format!("\n{passed} passed, {failed} failed\n"));
    util::out(&report);
    Ok(failed == 0)
}

/// One request per right of an expectation.
fn requests(x: &ExpectDef) -> Vec<(String, Result<Request, String>)> {
    x.right_names
        .iter()
        .map(|name| {
            let text = match x.section {
                SectionKind::Fs => format!("{name} {}", x.target),
                SectionKind::Net => match &x.from {
                    Some(f) => format!("{name} {} from {f}", x.target),
                    None => format!("{name} {}", x.target),
                },
                SectionKind::App => match &x.args {
                    Some(a) => format!("launch {} {a}", x.target),
                    None => format!("launch {}", x.target),
                },
            };
            (name.clone(), mxc_lang::request::parse_request(&text, false))
        })
        .collect()
}

//! `mxcc run`: run a command as an agent, enforced (SPEC §10).
//!
//! Linux, `isolation process`: the command runs under Landlock, seccomp and the MXC
//! supervisor (`mxc-enforce-linux`). Other tiers and platforms refuse with exit 125.
//!
//! **Invariant:** when the sandbox cannot be set up at the requested isolation tier,
//! the command is not started (exit 125); the tier is never silently weakened.

use crate::util;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[command(
    about = "Run a command as an agent, in its sandbox",
    after_help = "\
Exit status: the command's own; 125 when the sandbox could not be set up.

Denials: each is told on stderr with its right, target, program and the rule that
decided (FILE:LINE and the rule's text, or the agent's default). By default they are
told as they happen when stderr is a terminal, and listed once the command has exited
otherwise (so they never interleave with the command's own stderr in a file or pipe).

Example:
  mxcc run policy.mxc --agent copilot-cli --param home=$HOME -- copilot --help
  mxcc run policy.mxc --agent a --explain -- python3 -m pytest"
)]
pub struct Args {
    #[command(flatten)]
    pub agent: util::AgentArgs,
    /// Answer every `ask` with this instead of asking on the terminal (for unattended
    /// runs). Without it, `ask` is put to the person at the terminal, and denied when
    /// there is none.
    #[arg(long, value_enum, value_name = "EFFECT")]
    pub ask: Option<Ask>,
    /// Append hash-chained audit records to this file (opened before the command
    /// starts and out of its reach). At exit, the number of records and the last
    /// record's hash are printed (for `mxcc audit verify --expect`) and kept beside the
    /// log in PATH.head.
    #[arg(long, value_name = "PATH")]
    pub audit_log: Option<PathBuf>,
    /// Run the command permissively in a throwaway container (nothing it writes is
    /// kept), record what it did, and write a policy that would allow it to OUT.
    #[arg(long, value_name = "OUT")]
    pub learn: Option<PathBuf>,
    /// When denials are told on stderr: `auto` (live on a terminal, else listed at
    /// exit), `live`, `exit` (listed once the command has exited) or `quiet`.
    #[arg(long, value_enum, default_value_t = When::Auto, value_name = "WHEN")]
    pub denials: When,
    /// At exit, list every distinct denial with the rule that decided it and the rule
    /// to add. Also holds every file call for the supervisor, so that file denials the
    /// kernel alone would refuse are seen too (slower file access).
    #[arg(long)]
    pub explain: bool,
    /// The policy files (imports are followed), or one compiled table (`.mxcb`, from
    /// `mxcc compile`: no source needed).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The command to run and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// When denials are told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum When {
    /// Live when stderr is a terminal, else listed when the command has exited.
    Auto,
    /// As they happen, on stderr (interleaved with the command's own output).
    Live,
    /// Listed once the command has exited.
    Exit,
    /// Not told (the count at exit and the audit log remain).
    Quiet,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Ask {
    Deny,
    Allow,
}

/// Exit status when the sandbox could not be set up (SPEC §10).
pub const SANDBOX_FAILED: u8 = 125;

/// What `run` and `plan` start from: the agent's compiled table, from policy source
/// (compiled here) or from a `.mxcb` written by `mxcc compile`; and the source when
/// there is one (only to quote rule text in explanations).
pub struct Loaded {
    pub engine: mxc_eval::Engine,
    pub source: Option<mxc_lang::Program>,
}

/// Loads `files` for `agent`: one compiled table (recognised by its magic bytes,
/// whatever its name), or policy source compiled for Linux.
pub fn load(
    files: &[PathBuf],
    agent: &util::AgentArgs,
    color: bool,
) -> Result<Loaded, crate::decide::Stop> {
    use crate::decide::Stop;
    if let [file] = files {
        let mut head = [0u8; 8];
        let is_table = std::fs::File::open(file)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
            .is_ok_and(|()| head == mxc_eval::MAGIC);
        if is_table {
            let bytes = std::fs::read(file).map_err(|e| {
                Stop::Usage(format!(
                    "cannot read `{}`: {}",
                    file.display(),
                    util::io_reason(&e)
                ))
            })?;
            let engine = mxc_eval::Engine::from_vec(bytes).map_err(|e| {
                Stop::Usage(format!("`{}` is not a usable table: {e}", file.display()))
            })?;
            let t = engine.table();
            if t.agent.name != agent.agent {
                return Err(Stop::Usage(format!(
                    "`{}` is the table of agent `{}`, not `{}`",
                    file.display(),
                    t.agent.name,
                    agent.agent
                )));
            }
            if !agent.params.is_empty() {
                return Err(Stop::Usage(format!(
                    "`{}` is a compiled table: its parameters were fixed by `mxcc compile`; \
                     give --param there",
                    file.display()
                )));
            }
            if t.target != mxc_eval::Target::Linux {
                return Err(Stop::Usage(format!(
                    "`{}` was compiled for {:?}, not for this machine (Linux)",
                    file.display(),
                    t.target
                )));
            }
            return Ok(Loaded {
                engine,
                source: None,
            });
        }
    }
    let params = crate::decide::params(agent)?;
    let program = crate::decide::load(files, color)?;
    let (engine, _bound) = crate::decide::compile(
        &program,
        &agent.agent,
        &params,
        mxc_eval::Target::Linux,
        color,
    )?;
    Ok(Loaded {
        engine,
        source: Some(program),
    })
}

pub fn run(args: &Args) -> ExitCode {
    let color = util::color_stderr();
    // Check the policy first, so its errors are reported as for any other command.
    let loaded = match load(&args.files, &args.agent, color) {
        Ok(x) => x,
        Err(stop) => return crate::decide::finish(Err(stop)),
    };
    let refuse = |why: &str| {
        util::error_line(
            &format!(
                "cannot set up the sandbox for agent `{}`: {why}; refusing to run `{}`",
                args.agent.agent,
                args.command.first().map(String::as_str).unwrap_or("")
            ),
            color,
        );
        ExitCode::from(SANDBOX_FAILED)
    };
    match sandbox(args, loaded) {
        Ok(outcome) => finish(args, outcome, color),
        Err(why) => refuse(&why),
    }
}

/// How a run ended, and what `mxcc` knows to explain it.
#[cfg(target_os = "linux")]
pub struct Ran {
    outcome: Outcome,
    explainer: Option<std::sync::Arc<crate::explain::Explainer>>,
    /// File denials were the kernel's alone (not seen by the supervisor).
    files_unseen: bool,
}

#[cfg(target_os = "linux")]
fn sandbox(args: &Args, loaded: Loaded) -> Result<Ran, String> {
    use mxc_enforce::{Backend, Options, RunSpec, SpecError};
    let Loaded { engine, source } = loaded;
    let agent = engine.agent().clone();
    let engine = std::sync::Arc::new(engine);
    let stderr_tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let live = match args.denials {
        When::Auto => stderr_tty,
        When::Live => true,
        When::Exit | When::Quiet => false,
    };
    // The parameter values come from the table, as they would from a `.mxcb`.
    let params =
        crate::policy_text::Params::new(agent.params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let explainer = (args.denials != When::Quiet || args.explain).then(|| {
        std::sync::Arc::new(crate::explain::Explainer::new(
            engine.clone(),
            source.as_ref(),
            params,
            &agent.name,
            live,
            // The user's terminal is in raw mode while the command has one of its own
            // (`ask` on the terminal): lines need their carriage return.
            stderr_tty && args.ask.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdin()),
        ))
    });
    let opts = Options {
        command: args.command.iter().map(Into::into).collect(),
        learn: args.learn.is_some(),
        ask: ask_mode(args.ask),
        audit_log: args.audit_log.clone(),
        on_denial: explainer.as_ref().map(|e| e.sink()),
        watch_files: args.explain,
        cwd: None,
    };
    // The specification comes from the table alone (engine, plan, settings, identity).
    let spec = match RunSpec::new(engine, opts, mxc_enforce::Host::this()) {
        Ok(spec) => spec,
        Err(SpecError::Refused(why)) => return Err(why),
        Err(SpecError::NotFound(why)) => {
            return Ok(Ran {
                explainer: None,
                files_unseen: false,
                outcome: Outcome::not_found(why),
            })
        }
    };
    let isolation = format!("{:?}", agent.isolation).to_lowercase();
    let mut outcome = mxc_enforce_linux::Linux.run(spec).map_err(|e| e.0)?;
    if let (Some(out), Some(learned)) = (&args.learn, &outcome.learned) {
        let observed = crate::learn::Observed::from_learned(learned);
        let mut values: Vec<(String, String)> = agent.params.clone();
        if !values.iter().any(|(k, _)| k == "home") {
            if let Some(h) = own_home() {
                values.push(("home".into(), h));
            }
        }
        let cx = crate::learn::Context {
            agent: &agent.name,
            isolation: &isolation,
            source: "`mxcc run --learn` from a permissive run".into(),
            params: crate::policy_text::Params::new(
                values.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            ),
            workspace: std::env::current_dir()
                .ok()
                .and_then(|d| d.to_str().map(str::to_string)),
            command: args.command.clone(),
            beside: None,
        };
        let text = crate::learn::render(&observed, &cx);
        match crate::learn::write_checked(out, &text, &[]) {
            Ok(warnings) => eprintln!(
                "mxcc: learned {} paths, {} network targets and {} programs; policy \
                 `learned-{name}` and agent `{name}-learned` written to {} (nothing the run \
                 wrote was kept){}",
                observed.fs.len(),
                observed.net.len(),
                observed.launch.len(),
                out.display(),
                if warnings > 0 {
                    format!("; {warnings} check warning(s), explained at its top")
                } else {
                    String::new()
                },
                name = agent.name,
            ),
            Err(e) => {
                eprintln!(
                    "error: cannot write the learned policy to {}: {e}",
                    out.display()
                );
                outcome.code = 1;
            }
        }
    }
    let files_unseen = !outcome.files_watched;
    Ok(Ran {
        outcome,
        explainer,
        files_unseen,
    })
}

#[cfg(not(target_os = "linux"))]
fn sandbox(_args: &Args, _loaded: Loaded) -> Result<Ran, String> {
    Err("enforcement on this operating system is not available in this build".into())
}

#[cfg(not(target_os = "linux"))]
pub struct Ran {
    code: i32,
}

#[cfg(target_os = "linux")]
use mxc_enforce::Outcome;

fn finish(args: &Args, ran: Ran, color: bool) -> ExitCode {
    #[cfg(not(target_os = "linux"))]
    let o = ran;
    #[cfg(target_os = "linux")]
    let o = ran.outcome;
    #[cfg(target_os = "linux")]
    {
        if let Some(e) = &ran.explainer {
            e.finish(args.explain);
        }
        if let Some(a) = &o.audit {
            eprintln!(
                "mxcc: audit log {}: {}, last hash {}",
                a.path.display(),
                util::count(a.records as usize, "record"),
                a.last_hash.as_deref().unwrap_or("none")
            );
            if a.lost > 0 {
                eprintln!(
                    "mxcc: audit log {}: INCOMPLETE: {} could not be written (its file \
                     system was full?); the calls they recorded were refused",
                    a.path.display(),
                    util::count(a.lost as usize, "record"),
                );
            }
        }
        match (&ran.explainer, o.start_missing.is_empty()) {
            (Some(e), false) => {
                let program = args.command.first().map(String::as_str).unwrap_or("");
                util::error_line(
                    &crate::explain::start_failure(e, program, &o.start_missing),
                    color,
                );
            }
            _ => {
                if let Some(why) = &o.not_started {
                    util::error_line(why, color);
                }
            }
        }
        if let Some(why) = &o.supervisor_error {
            util::error_line(
                &format!("the sandbox's supervisor failed: {why}; the command was killed"),
                color,
            );
            return ExitCode::from(SANDBOX_FAILED);
        }
        if o.timed_out {
            util::error_line(
                "the agent's `timeout` expired; the command was killed",
                color,
            );
        }
        if o.denials > 0 {
            let _ = color;
            eprintln!(
                "mxcc: {} {} denied (of {} decided)",
                o.denials,
                if o.denials == 1 { "access" } else { "accesses" },
                o.decisions
            );
        }
        if o.code != 0 && ran.files_unseen && o.start_missing.is_empty() {
            eprintln!(
                "mxcc: note: the kernel alone enforces this agent's file rules, so the \
                 files it refused are not listed; run with --explain to see each"
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = args;
    ExitCode::from(u8::try_from(o.code.clamp(0, 255)).unwrap_or(1))
}

/// The home directory of the user running `mxcc` (from `/etc/passwd`), for `~` in a
/// learned policy when no `home` was given.
#[cfg(target_os = "linux")]
pub fn own_home() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    mxc_enforce::identity::home(uid, &std::fs::read_to_string("/etc/passwd").ok()?)
}

/// `--ask deny|allow` answers every `ask`; without it, a person is asked on the terminal
/// `mxcc` runs in (the command then gets a terminal of its own), or, with no terminal,
/// `ask` is denied.
#[cfg(target_os = "linux")]
fn ask_mode(fixed: Option<Ask>) -> Option<mxc_enforce::AskMode> {
    use mxc_enforce::{AskAnswer, AskMode};
    match fixed {
        Some(Ask::Allow) => Some(AskMode::fixed(AskAnswer::AllowOnce)),
        Some(Ask::Deny) => Some(AskMode::fixed(AskAnswer::Deny)),
        None => None,
    }
}

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
    /// The policy files (imports are followed).
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

pub fn run(args: &Args) -> ExitCode {
    let color = util::color_stderr();
    // Check the policy first, so its errors are reported as for any other command.
    let compiled = crate::decide::params(&args.agent).and_then(|params| {
        let program = crate::decide::load(&args.files, color)?;
        let (engine, bound) = crate::decide::compile(
            &program,
            &args.agent.agent,
            &params,
            mxc_eval::Target::Linux,
            color,
        )?;
        Ok((program, engine, bound))
    });
    let (program, engine, bound) = match compiled {
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
    match sandbox(args, engine, &bound, &program) {
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
fn sandbox(
    args: &Args,
    engine: mxc_eval::Engine,
    bound: &mxc_lang::bind::Bound,
    source: &mxc_lang::Program,
) -> Result<Ran, String> {
    use mxc_enforce_linux as lx;
    let agent = engine.agent().clone();
    let container = match agent.isolation {
        mxc_eval::Isolation::Process => false,
        mxc_eval::Isolation::Container => true,
        // Learning runs in its own throwaway container, whatever the tier.
        mxc_eval::Isolation::Microvm if args.learn.is_some() => true,
        mxc_eval::Isolation::Microvm => {
            return Err(
                "`isolation microvm` is not available in this build, and the agent \
                        may not run at a weaker tier"
                    .into(),
            )
        }
    };
    // The identity and the plan come from the table, as they would from a `.mxcb`.
    let ids = identity(&agent.identity)?;
    let env = lx::env::scrub(std::env::vars_os(), &agent.env_pass, &agent.env_deny);
    let path_var = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let cmd = args.command.first().ok_or("no command given")?;
    let Some(program) = resolve_program(cmd, &path_var) else {
        return Ok(Ran {
            explainer: None,
            files_unseen: false,
            outcome: lx::Outcome {
                code: 127,
                decisions: 0,
                denials: 0,
                timed_out: false,
                not_started: Some(format!(
                    "`{cmd}`: command not found (PATH in the sandbox: {})",
                    path_var.to_string_lossy()
                )),
                supervisor_error: None,
                learned: None,
                audit: None,
                start_missing: Vec::new(),
                files_watched: false,
            },
        });
    };
    let plan = engine.table().plan.clone();
    let ask = ask_mode(args.ask);
    let engine = std::sync::Arc::new(engine);
    let stderr_tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let live = match args.denials {
        When::Auto => stderr_tty,
        When::Live => true,
        When::Exit | When::Quiet => false,
    };
    let params =
        crate::policy_text::Params::new(bound.params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let explainer = (args.denials != When::Quiet || args.explain).then(|| {
        std::sync::Arc::new(crate::explain::Explainer::new(
            engine.clone(),
            source,
            params,
            &agent.name,
            live,
            // The user's terminal is in raw mode while the command has one of its own
            // (`ask` on the terminal): lines need their carriage return.
            stderr_tty && args.ask.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdin()),
        ))
    });
    let bounds = bounds(&plan);
    let cfg = lx::Config {
        engine: engine.clone(),
        container,
        learn: args.learn.is_some(),
        bounds,
        program,
        argv: args.command.iter().map(Into::into).collect(),
        env,
        cwd: None,
        ids,
        ask,
        audit_log: args.audit_log.clone(),
        timeout: agent.timeout_ms.map(std::time::Duration::from_millis),
        memory_bytes: agent.memory_bytes,
        processes: agent.processes,
        cpus: agent.cpus,
        on_denial: explainer.as_ref().map(|e| e.sink()),
        watch_files: args.explain,
    };
    let isolation = format!("{:?}", agent.isolation).to_lowercase();
    let mut outcome = lx::run(cfg).map_err(|e| e.0)?;
    if let (Some(out), Some(learned)) = (&args.learn, &outcome.learned) {
        let observed = crate::learn::Observed::from_learned(learned);
        let mut values: Vec<(String, String)> = bound
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !bound.params.contains_key("home") {
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
fn sandbox(
    _args: &Args,
    _engine: mxc_eval::Engine,
    _bound: &mxc_lang::bind::Bound,
    _source: &mxc_lang::Program,
) -> Result<Ran, String> {
    Err("enforcement on this operating system is not available in this build".into())
}

#[cfg(not(target_os = "linux"))]
pub struct Ran {
    code: i32,
}

#[cfg(target_os = "linux")]
use mxc_enforce_linux::Outcome;

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

/// `identity local(...)` → the uid and gid to run as.
#[cfg(target_os = "linux")]
fn identity(id: &mxc_eval::Identity) -> Result<Option<(u32, u32)>, String> {
    use mxc_eval::Identity as I;
    let passwd = || std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let find = |pred: &dyn Fn(&[&str]) -> bool| -> Option<(u32, u32)> {
        passwd().lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 4 && pred(&f)).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
        })
    };
    match id {
        I::LocalUser(name) => find(&|f| f[0] == name).map(Some).ok_or_else(|| {
            format!("the agent's identity is the local user `{name}`, who does not exist here")
        }),
        I::LocalUid(uid) => Ok(Some(
            find(&|f| f[2] == uid.to_string()).unwrap_or((*uid, *uid)),
        )),
        _ => Ok(None),
    }
}

/// The home directory of the user running `mxcc` (from `/etc/passwd`), for `~` in a
/// learned policy when no `home` was given.
#[cfg(target_os = "linux")]
pub fn own_home() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 6 && f[2] == uid && f[5].starts_with('/') && f[5] != "/")
            .then(|| f[5].to_string())
    })
}

/// `CMD` as `execvp` would find it, with the sandbox's `PATH`.
fn resolve_program(cmd: &str, path: &std::ffi::OsStr) -> Option<std::path::PathBuf> {
    if cmd.contains('/') {
        return std::path::absolute(cmd).ok();
    }
    std::env::split_paths(path).map(|d| d.join(cmd)).find(|p| {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

#[cfg(target_os = "linux")]
pub fn bounds(plan: &mxc_eval::Plan) -> mxc_enforce_linux::Bounds {
    use mxc_enforce_linux::{FsRights, Grant};
    use mxc_eval::FsRights as R;
    let mut fs: Vec<Grant> = plan
        .fs
        .iter()
        .map(|g| Grant {
            path: g.path.clone().into(),
            rights: FsRights {
                read: g.rights.contains(R::READ),
                write: g.rights.contains(R::WRITE),
                create: g.rights.contains(R::CREATE),
                delete: g.rights.contains(R::DELETE),
                execute: false,
            },
            subtree: g.subtree,
        })
        .collect();
    for g in &plan.exec {
        fs.push(Grant {
            path: g.path.clone().into(),
            rights: FsRights {
                execute: true,
                ..FsRights::default()
            },
            subtree: g.subtree,
        });
    }
    // The kernel opens a program's ELF interpreter with execute access too.
    for loader in [
        "/lib64/ld-linux-x86-64.so.2",
        "/lib/ld-linux-x86-64.so.2",
        "/lib/ld-musl-x86_64.so.1",
    ] {
        // Granted by the name programs carry (PT_INTERP): the container tier then
        // recreates the symbolic links on the way, as the kernel follows them.
        if std::path::Path::new(loader).exists() {
            fs.push(Grant {
                path: loader.into(),
                rights: FsRights {
                    execute: true,
                    ..FsRights::default()
                },
                subtree: false,
            });
        }
    }
    mxc_enforce_linux::Bounds {
        fs,
        fs_exact: plan.fs_exact,
        tcp_connect: plan.tcp_connect.clone(),
        tcp_bind: plan.tcp_bind.clone(),
    }
}

/// `--ask deny|allow` answers every `ask`; without it, a person is asked on the terminal
/// `mxcc` runs in (the command then gets a terminal of its own), or, with no terminal,
/// `ask` is denied.
#[cfg(target_os = "linux")]
fn ask_mode(fixed: Option<Ask>) -> mxc_enforce_linux::AskMode {
    use mxc_enforce_linux::{AskAnswer, AskMode, AskRequest};
    match fixed {
        Some(Ask::Allow) => {
            AskMode::Answer(std::sync::Arc::new(|_: &AskRequest| AskAnswer::AllowOnce))
        }
        Some(Ask::Deny) => AskMode::Answer(std::sync::Arc::new(|_: &AskRequest| AskAnswer::Deny)),
        None => AskMode::Terminal,
    }
}

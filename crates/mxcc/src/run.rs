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

Example:
  mxcc run policy.mxc --agent copilot-cli --param home=$HOME -- copilot --help"
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
    /// The policy files (imports are followed).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The command to run and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
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
    let (engine, bound) =
        match crate::decide::agent_for_enforcement(&args.files, &args.agent, color) {
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
    match sandbox(args, engine, &bound) {
        Ok(outcome) => finish(outcome, color),
        Err(why) => refuse(&why),
    }
}

#[cfg(target_os = "linux")]
fn sandbox(
    args: &Args,
    engine: mxc_eval::Engine,
    bound: &mxc_lang::bind::Bound,
) -> Result<mxc_enforce_linux::Outcome, String> {
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
    let _ = bound;
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
        return Ok(lx::Outcome {
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
        });
    };
    let plan = engine.table().plan.clone();
    let ask = ask_mode(args.ask);
    let cfg = lx::Config {
        engine: std::sync::Arc::new(engine),
        container,
        learn: args.learn.is_some(),
        bounds: bounds(&plan),
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
    };
    let isolation = format!("{:?}", agent.isolation).to_lowercase();
    let mut outcome = lx::run(cfg).map_err(|e| e.0)?;
    if let (Some(out), Some(learned)) = (&args.learn, &outcome.learned) {
        let text = lx::learn::render(learned, &agent.name, &isolation, &args.command.join(" "));
        match std::fs::write(out, text) {
            Ok(()) => eprintln!(
                "mxcc: learned {} paths, {} network targets and {} programs; policy \
                 `learned-{name}` and agent `{name}-learned` written to {} (nothing the run \
                 wrote was kept)",
                learned.fs.len(),
                learned.net.len(),
                learned.launch.len(),
                out.display(),
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
    Ok(outcome)
}

#[cfg(not(target_os = "linux"))]
fn sandbox(
    _args: &Args,
    _engine: mxc_eval::Engine,
    _bound: &mxc_lang::bind::Bound,
) -> Result<Outcome, String> {
    Err("enforcement on this operating system is not available in this build".into())
}

#[cfg(not(target_os = "linux"))]
pub struct Outcome {
    pub code: i32,
}

#[cfg(target_os = "linux")]
use mxc_enforce_linux::Outcome;

fn finish(o: Outcome, color: bool) -> ExitCode {
    #[cfg(target_os = "linux")]
    {
        if let Some(a) = &o.audit {
            eprintln!(
                "mxcc: audit log {}: {}, last hash {}",
                a.path.display(),
                util::count(a.records as usize, "record"),
                a.last_hash.as_deref().unwrap_or("none")
            );
        }
        if let Some(why) = &o.not_started {
            util::error_line(why, color);
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
    }
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

//! The run specification: everything a backend needs to run a command as an agent,
//! built from a loaded table alone (its engine, its plan, the agent's settings and
//! identity) and the caller's choices. No policy source and no compiler are involved:
//! a `.mxcb` written by `mxcc compile` is enough.

use crate::ask::AskMode;
use crate::record::Denial;
use mxc_eval::{Engine, Isolation};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

/// Told of each denial as it is enforced (on a backend's deciding thread, never while
/// a question is on the terminal): it must not block for long.
pub type DenialSink = Arc<dyn Fn(&Denial) + Send + Sync>;

/// The isolation a run gets (never weaker than the agent's `isolation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    Process,
    Container,
}

impl Tier {
    /// The tier for an agent's `isolation`. Learning runs in its own throwaway
    /// container whatever the tier; `microvm` is not available in this build, and the
    /// agent may not run at a weaker tier.
    pub fn for_agent(isolation: Isolation, learn: bool) -> Result<Tier, String> {
        match isolation {
            Isolation::Process => Ok(Tier::Process),
            Isolation::Container => Ok(Tier::Container),
            Isolation::Microvm if learn => Ok(Tier::Container),
            Isolation::Microvm => Err("`isolation microvm` is not available in this build, \
                                       and the agent may not run at a weaker tier"
                .into()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Process => "process",
            Tier::Container => "container",
        }
    }
}

/// What the caller chooses for a run (the rest comes from the table).
#[derive(Clone, Default)]
pub struct Options {
    /// The command and its arguments (`argv[0]` first).
    pub command: Vec<OsString>,
    /// `--learn`: run in a throwaway container, allow everything, report what was done
    /// ([`crate::Outcome::learned`]). The engine then only names what the policy would
    /// say.
    pub learn: bool,
    /// Who answers `ask` (`None`: the person at the terminal).
    pub ask: Option<AskMode>,
    /// Append hash-chained audit records here.
    pub audit_log: Option<PathBuf>,
    /// Told of every denial as it is enforced.
    pub on_denial: Option<DenialSink>,
    /// Have every file call decided by the backend (so every file denial is seen),
    /// even where the kernel could enforce the policy alone.
    pub watch_files: bool,
    pub cwd: Option<PathBuf>,
}

/// The host facts a specification is built against.
pub struct Host {
    /// The caller's environment (scrubbed by the agent's `env` rules).
    pub env: Vec<(OsString, OsString)>,
    /// The text of the password database (for `identity local(...)`).
    pub passwd: String,
}

impl Host {
    /// This process's environment and `/etc/passwd`.
    pub fn this() -> Host {
        Host {
            env: std::env::vars_os().collect(),
            passwd: std::fs::read_to_string("/etc/passwd").unwrap_or_default(),
        }
    }
}

/// Everything a [`crate::Backend`] needs to run a command.
pub struct RunSpec {
    pub engine: Arc<Engine>,
    pub tier: Tier,
    pub learn: bool,
    /// The program (absolute, resolved with the sandbox's `PATH`) and its arguments
    /// (`argv[0]` first).
    pub program: PathBuf,
    pub argv: Vec<OsString>,
    /// The complete environment of the command (already scrubbed).
    pub env: Vec<(OsString, OsString)>,
    pub cwd: Option<PathBuf>,
    /// Run as this uid and gid (`identity local(...)`).
    pub ids: Option<(u32, u32)>,
    pub ask: AskMode,
    pub audit_log: Option<PathBuf>,
    /// Kill the whole tree after this long.
    pub timeout: Option<std::time::Duration>,
    pub memory_bytes: Option<u64>,
    pub processes: Option<u64>,
    pub cpus: Option<u64>,
    pub on_denial: Option<DenialSink>,
    pub watch_files: bool,
}

/// Why no specification could be built.
#[derive(Debug, PartialEq, Eq)]
pub enum SpecError {
    /// The agent cannot run here as it must (its tier, its identity): exit 125.
    Refused(String),
    /// The command was not found with the sandbox's `PATH`: exit 127.
    NotFound(String),
}

impl RunSpec {
    /// The specification of running `opts.command` as the agent of `engine`.
    pub fn new(engine: Arc<Engine>, opts: Options, host: Host) -> Result<RunSpec, SpecError> {
        let agent = engine.agent().clone();
        let tier = Tier::for_agent(agent.isolation, opts.learn).map_err(SpecError::Refused)?;
        let ids =
            crate::identity::ids(&agent.identity, &host.passwd).map_err(SpecError::Refused)?;
        let env = crate::env::scrub(host.env, &agent.env_pass, &agent.env_deny);
        let path_var = env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let cmd = opts
            .command
            .first()
            .ok_or_else(|| SpecError::Refused("no command given".into()))?;
        let program = resolve_program(cmd, &path_var).ok_or_else(|| {
            SpecError::NotFound(format!(
                "`{}`: command not found (PATH in the sandbox: {})",
                cmd.to_string_lossy(),
                path_var.to_string_lossy()
            ))
        })?;
        Ok(RunSpec {
            engine,
            tier,
            learn: opts.learn,
            program,
            argv: opts.command,
            env,
            cwd: opts.cwd,
            ids,
            ask: opts.ask.unwrap_or(AskMode::Terminal),
            audit_log: opts.audit_log,
            timeout: agent.timeout_ms.map(std::time::Duration::from_millis),
            memory_bytes: agent.memory_bytes,
            processes: agent.processes,
            cpus: agent.cpus,
            on_denial: opts.on_denial,
            watch_files: opts.watch_files,
        })
    }
}

/// `cmd` as `execvp` would find it, with the sandbox's `PATH`.
pub fn resolve_program(cmd: &std::ffi::OsStr, path: &std::ffi::OsStr) -> Option<PathBuf> {
    if cmd.as_encoded_bytes().contains(&b'/') {
        return std::path::absolute(cmd).ok();
    }
    std::env::split_paths(path)
        .map(|d| d.join(cmd))
        .find(|p| p.metadata().is_ok_and(|m| m.is_file() && executable(&m)))
}

#[cfg(unix)]
fn executable(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn executable(_: &std::fs::Metadata) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(env: &[(&str, &str)]) -> Host {
        Host {
            env: env.iter().map(|(k, v)| (k.into(), v.into())).collect(),
            passwd: "alice:x:1000:1001::/home/alice:/bin/sh\n".into(),
        }
    }

    fn opts(cmd: &str) -> Options {
        Options {
            command: vec![cmd.into()],
            ..Options::default()
        }
    }

    #[test]
    fn a_spec_comes_from_the_table_alone() {
        let e = Arc::new(crate::tests::engine(
            "policy p { fs { allow read \"/usr/**\" } }\nagent a {\n  use p\n  isolation container\n  identity local(user: \"alice\")\n  \
             env { pass \"PATH\", \"LANG\", \"*_TOKEN\"  deny \"*_TOKEN\" }\n  limits { timeout 5s }\n}",
        ));
        let s = RunSpec::new(
            e.clone(),
            opts("sh"),
            host(&[("PATH", "/bin:/usr/bin"), ("GH_TOKEN", "s"), ("HOME", "/h")]),
        )
        .unwrap_or_else(|_| panic!("spec"));
        assert_eq!(s.tier, Tier::Container);
        assert_eq!(s.ids, Some((1000, 1001)));
        let names: Vec<_> = s.env.iter().map(|(k, _)| k.to_str().unwrap()).collect();
        assert_eq!(names, ["PATH"]);
        assert!(s.program.is_absolute() && s.program.ends_with("sh"));
        assert_eq!(s.timeout, Some(std::time::Duration::from_secs(5)));
        // Not found with the sandbox's PATH (the caller's is not used).
        let r = RunSpec::new(e, opts("sh"), host(&[("PATH", "/nonexistent")]));
        assert!(matches!(r, Err(SpecError::NotFound(m)) if m.contains("/nonexistent")));
    }

    #[test]
    fn a_tier_or_identity_that_cannot_be_had_refuses() {
        let e = Arc::new(crate::tests::engine(
            "policy p { fs { allow read \"/usr/**\" } }\nagent a { use p\n isolation microvm }",
        ));
        let r = RunSpec::new(e.clone(), opts("/bin/sh"), host(&[]));
        assert!(matches!(r, Err(SpecError::Refused(m)) if m.contains("microvm")));
        // Learning runs in its own container whatever the tier.
        let learn = Options {
            learn: true,
            ..opts("/bin/sh")
        };
        assert_eq!(
            RunSpec::new(e, learn, host(&[])).map(|s| s.tier).ok(),
            Some(Tier::Container)
        );
        let e = Arc::new(crate::tests::engine(
            "policy p { fs { allow read \"/usr/**\" } }\nagent a { use p\n identity local(user: \"bob\") }",
        ));
        let r = RunSpec::new(e, opts("/bin/sh"), host(&[]));
        assert!(matches!(r, Err(SpecError::Refused(m)) if m.contains("`bob`")));
    }
}

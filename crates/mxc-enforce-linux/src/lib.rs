//! Linux enforcement for MXC: runs a command as an agent, with the kernel enforcing the
//! agent's decisions on every filesystem, network and program access of the command
//! and all its descendants.
//!
//! The process tier stacks three mechanisms:
//! - **Landlock** is the kernel-enforced outer bound ([`Bounds`]): every right a rule
//!   may allow, at the rule's literal prefix; everything else is refused by the kernel
//!   even if every other part failed. The needed Landlock ABI is a hard requirement.
//! - **seccomp** refuses what no policy may allow (io_uring, ptrace, new namespaces,
//!   raw and packet sockets, TIOCSTI, the 32-bit system call table) and holds the
//!   calls MXC decides (`open*`, `mkdir*`, `unlink*`, `rename*`, `link*`, `symlink*`,
//!   `mknod*`, `truncate`, `execve*`, `connect`, `bind`, `send*`) for the supervisor.
//! - The **supervisor** (a thread of the calling process, outside the sandbox) decides
//!   each held call with [`mxc_eval::Engine`] on the object actually accessed and, for
//!   files and sockets, performs the call itself and hands back the result, so there is
//!   no window between the check and the use.
//!
//! See `ARCHITECTURE.md` ("Linux enforcement") for why seccomp user notification was
//! chosen over fanotify and BPF LSM, and `docs/enforcement.md` for what is and is not
//! guaranteed.

#[cfg(target_os = "linux")]
mod audit;
#[cfg(target_os = "linux")]
pub mod bpf;
#[cfg(target_os = "linux")]
mod cgroup;
#[cfg(target_os = "linux")]
mod container;
pub mod env;
#[cfg(target_os = "linux")]
mod filter;
#[cfg(target_os = "linux")]
mod landlock_bound;
pub mod learn;
#[cfg(target_os = "linux")]
mod proxy;
#[cfg(target_os = "linux")]
mod race;
#[cfg(target_os = "linux")]
mod resolve;
#[cfg(target_os = "linux")]
mod run;
#[cfg(target_os = "linux")]
pub mod startup;
#[cfg(target_os = "linux")]
mod supervisor;
#[cfg(target_os = "linux")]
mod sys;
#[cfg(target_os = "linux")]
pub mod terminal;

pub mod chain;

#[cfg(target_os = "linux")]
pub use run::{describe, probe, run, AuditSummary, Outcome};

use std::path::PathBuf;
use std::sync::Arc;

/// A right on a file, as Landlock grants it at a path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FsRights {
    pub read: bool,
    pub write: bool,
    pub create: bool,
    pub delete: bool,
    pub execute: bool,
}

/// One Landlock grant: `rights` at `path` (and beneath it when `subtree`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub path: PathBuf,
    pub rights: FsRights,
    pub subtree: bool,
}

/// The kernel-enforced outer bound of an agent (from `mxc_lang::plan`).
#[derive(Clone, Debug, Default)]
pub struct Bounds {
    pub fs: Vec<Grant>,
    /// The fs grants are exactly the policy: fs calls need not be supervised.
    pub fs_exact: bool,
    /// TCP ports for `connect` / `bind` (inclusive ranges), `None` = any port.
    pub tcp_connect: Option<Vec<(u16, u16)>>,
    pub tcp_bind: Option<Vec<(u16, u16)>>,
}

/// An access held for a person (or a broker) to decide: the engine said `ask`.
#[derive(Clone, Debug)]
pub struct AskRequest {
    /// `read`, `write`, `create`, `delete`, `connect`, `bind`, `launch`.
    pub right: String,
    /// The path, `host:port`, or program and arguments.
    pub target: String,
    /// The program asking.
    pub program: String,
    pub pid: u32,
    /// `FILE:LINE` of the `ask` rule and its reason.
    pub rule: Option<String>,
}

/// The answer to an [`AskRequest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AskAnswer {
    AllowOnce,
    Deny,
    /// Allow this exact access for the rest of the run.
    AllowForRun,
}

/// Decides held `ask` accesses. Called on the supervisor thread; the access waits.
pub type Asker = Arc<dyn Fn(&AskRequest) -> AskAnswer + Send + Sync>;

/// A denial the supervisor enforced, as it happened (see [`Config::on_denial`]).
#[derive(Clone, Debug)]
pub struct Denial {
    /// `read`, `write`, `create`, `delete`, `connect`, `bind`, `launch`.
    pub right: String,
    /// The path, `host:port`, or program and arguments (as the audit log has it).
    pub target: String,
    /// The program of the process refused, and its pid.
    pub program: String,
    pub pid: u32,
    /// What the engine said: its rule, or none (the agent's default).
    pub decision: mxc_eval::Decision,
    /// The engine said `ask` and the answer was no.
    pub asked: bool,
    /// Refused by MXC's enforcement itself, whatever the policy says, and why (a
    /// call whose arguments could change under the check, a descriptor not held, a
    /// host daemon's socket while learning).
    pub enforcement: Option<&'static str>,
}

/// Told of each denial as it is enforced (on the supervisor's or the proxy's thread,
/// never while a question is on the terminal): it must not block for long.
pub type DenialSink = Arc<dyn Fn(&Denial) + Send + Sync>;

/// Who answers `ask`.
#[derive(Clone)]
pub enum AskMode {
    /// This callback (a broker, or a fixed answer).
    Answer(Asker),
    /// The person at the terminal `mxcc` was started from: the command then gets a
    /// terminal of its own (see [`terminal`]), so it never sees the question or the
    /// answer. With no terminal, `ask` is denied.
    Terminal,
}

/// Everything [`run`] needs.
pub struct Config {
    pub engine: Arc<mxc_eval::Engine>,
    /// `isolation container`: private namespaces and a root built from [`Bounds`]
    /// (else the process tier).
    pub container: bool,
    /// `--learn`: run in a throwaway container (the host's directories behind
    /// overlays dropped at the end), allow everything, and report what was done
    /// ([`Outcome::learned`]). `engine` then only names what the policy would say.
    pub learn: bool,
    pub bounds: Bounds,
    /// The program (absolute, resolved by the caller) and its arguments (`argv[0]`
    /// first).
    pub program: PathBuf,
    pub argv: Vec<std::ffi::OsString>,
    /// The complete environment of the command (already scrubbed, see [`env`]).
    pub env: Vec<(std::ffi::OsString, std::ffi::OsString)>,
    pub cwd: Option<PathBuf>,
    /// Run as this uid and gid (`identity local(...)`).
    pub ids: Option<(u32, u32)>,
    pub ask: AskMode,
    /// Append hash-chained audit records here.
    pub audit_log: Option<PathBuf>,
    /// Kill the whole tree after this long.
    pub timeout: Option<std::time::Duration>,
    /// cgroup v2 limits.
    pub memory_bytes: Option<u64>,
    pub processes: Option<u64>,
    pub cpus: Option<u64>,
    /// Told of every denial as it is enforced.
    pub on_denial: Option<DenialSink>,
    /// Hold every file call for the supervisor even when Landlock expresses the policy
    /// exactly, so that every file denial is seen (and told to `on_denial`), not only
    /// refused by the kernel. Costs a round trip per file call.
    pub watch_files: bool,
}

/// Why the sandbox could not be set up (exit 125): the command was not started.
#[derive(Debug)]
pub struct SetupError(pub String);

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SetupError {}

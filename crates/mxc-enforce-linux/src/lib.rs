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
//! The code is split by job: `run/` (set-up, the typed start handshake, teardown,
//! describe), `supervisor/` (dispatch, the caller's memory, pure deciders apart from
//! the handlers that perform), `sys/` (the system calls no safe wrapper covers:
//! the only module allowed to leave Rust's safety checks).
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
pub use mxc_enforce::env;
#[cfg(target_os = "linux")]
mod filter;
#[cfg(target_os = "linux")]
mod landlock_bound;
#[cfg(target_os = "linux")]
mod local;
pub use mxc_enforce::learn;
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

pub use mxc_enforce::chain;
pub use mxc_enforce::{
    AskAnswer, AskMode, AskRequest, Asker, AuditSummary, Denial, DenialSink, Outcome, SetupError,
};

#[cfg(target_os = "linux")]
pub use run::{describe, probe, run, Linux};

use std::path::PathBuf;

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

/// The kernel-enforced outer bound of an agent (from the table's plan, see
/// `landlock_bound::from_plan`).
#[derive(Clone, Debug, Default)]
pub struct Bounds {
    pub fs: Vec<Grant>,
    /// The fs grants are exactly the policy: fs calls need not be supervised.
    pub fs_exact: bool,
    /// TCP ports for `connect` / `bind` (inclusive ranges), `None` = any port.
    pub tcp_connect: Option<Vec<(u16, u16)>>,
    pub tcp_bind: Option<Vec<(u16, u16)>>,
}

/// Everything [`run`] needs: the platform-neutral run specification (the kernel's
/// bound is worked out inside the backend from its table's plan).
pub use mxc_enforce::RunSpec as Config;

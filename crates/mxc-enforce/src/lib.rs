//! The platform-neutral MXC runtime, shared by every enforcement backend (the pattern
//! of MXC's `wxc_common`): plain data and pure functions, tested on every platform,
//! with only a thin apply layer per operating system.
//!
//! - [`spec`]: the run specification, built from a loaded table alone (engine, plan,
//!   agent settings, identity) and the caller's choices;
//! - [`record`]: typed decision records (right, target as path / socket / program with
//!   arguments, effect, deciding rule), which [`ask`], [`learn`], the denial sink and
//!   [`audit`] take as they are;
//! - [`audit`] (OCSF events) and [`chain`] (their hash chain), [`env`] (environment
//!   scrubbing), [`identity`] (who the agent runs as);
//! - [`Backend`]: what every backend implements: probe what the host can enforce,
//!   describe the set-up as data (`mxcc plan`), run.
//!
//! **Invariant:** this crate depends on the table and the engine (`mxc-table`,
//! `mxc-eval`), never on the compiler (`mxc-lang`); a backend starts from a compiled
//! table (checked by `crates/mxcc/tests/edges.rs`).

pub mod ask;
pub mod audit;
pub mod chain;
pub mod env;
pub mod identity;
pub mod learn;
pub mod record;
pub mod spec;

pub use ask::{AskMode, AskRequest, Asker};
pub use record::{AskAnswer, Class, Denial, Record, Right, Target};
pub use spec::{DenialSink, Host, Options, RunSpec, SpecError, Tier};

use mxc_eval::{Decision, Engine};
use std::path::PathBuf;

/// Why the sandbox could not be set up (exit 125): the command was not started.
#[derive(Debug)]
pub struct SetupError(pub String);

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SetupError {}

/// What a command lacked to start (its launch, its libraries' `read`, its ELF
/// interpreter's execute).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing {
    /// `launch`, `read` or `execute` (the kernel's right on an ELF interpreter, which
    /// no rule decides).
    pub right: &'static str,
    pub path: PathBuf,
    /// What the file is to the program: "the program", "the ELF interpreter", "shared
    /// library libc.so.6 (needed by /usr/bin/cat)", "the script (its interpreter
    /// reads it)", "the script's interpreter".
    pub what: String,
    /// What the engine said (`None` for `execute`, which the kernel's bound decides).
    pub decision: Option<Decision>,
}

/// The state of the audit log at the end of a run.
#[derive(Debug, Clone)]
pub struct AuditSummary {
    pub path: PathBuf,
    pub records: u64,
    pub last_hash: Option<String>,
    /// Records that could not be written (a full disk); the calls they recorded were
    /// refused.
    pub lost: u64,
}

/// How a run ended.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The command's exit status as a shell reports it (128 + signal when killed).
    pub code: i32,
    /// Decisions made and denials enforced by the backend.
    pub decisions: u64,
    pub denials: u64,
    pub timed_out: bool,
    /// The command could not be started because its own launch was denied (126) or it
    /// was not found (127).
    pub not_started: Option<String>,
    /// The backend's decider failed during the run (the tree was killed).
    pub supervisor_error: Option<String>,
    /// `--learn`: what the run did.
    pub learned: Option<learn::Learned>,
    /// The audit log: where, how many records it holds, and the last one's hash.
    pub audit: Option<AuditSummary>,
    /// The command could not start and this is what it lacked.
    pub start_missing: Vec<Missing>,
    /// Every file call was decided by the backend, so every file denial was seen.
    pub files_watched: bool,
}

impl Outcome {
    /// A command that was not found (exit 127), never started.
    pub fn not_found(why: String) -> Outcome {
        Outcome {
            code: 127,
            not_started: Some(why),
            ..Outcome::default()
        }
    }
}

/// What a backend would set up for an agent (`mxcc plan`): the tier, and the
/// backend's own account of its mechanisms (`D`: typed data of the backend's own,
/// serialisable; `mxcc plan` prints it as JSON).
#[derive(Clone, Debug)]
pub struct Setup<D> {
    pub backend: &'static str,
    pub tier: Tier,
    /// The mechanisms, as the backend describes them.
    pub detail: D,
}

/// An enforcement backend (Linux today; Windows and a micro-VM tier next).
pub trait Backend {
    /// The backend's account of what it sets up (typed; serialised for `mxcc plan`).
    type Description: serde::Serialize + std::fmt::Debug;
    /// The backend's name (`linux`).
    fn name(&self) -> &'static str;
    /// Whether this host can enforce `tier` (kernel features present): why not.
    fn probe(&self, tier: Tier) -> Result<(), SetupError>;
    /// What a run of `engine`'s agent at `tier` would set up. Only describes: touches
    /// no kernel state.
    fn describe(&self, engine: &Engine, tier: Tier) -> Setup<Self::Description>;
    /// Runs the command confined; returns when it and everything it started are gone.
    /// When the sandbox cannot be set up, the command is not started.
    fn run(&self, spec: RunSpec) -> Result<Outcome, SetupError>;
}

#[cfg(test)]
pub(crate) mod tests {
    /// The engine of agent `a` of `src` (a real compiled table).
    pub fn engine(src: &str) -> mxc_eval::Engine {
        mxc_lang::compile::engine_of_source(src, "a", &Default::default()).unwrap()
    }
}

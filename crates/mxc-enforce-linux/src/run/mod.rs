//! The `Linux` backend: starting a command confined (process or container tier),
//! waiting for it and ending the run. `setup` (everything up to the spawn, and the
//! wait), `handshake` (the child's messages and the parent's answers, typed),
//! `teardown` (ending the run, the outcome), `describe` (`mxcc plan`).

use crate::audit::Audit;
use crate::filter::{self, Supervise};
use crate::supervisor::{descendants, Stats, Supervisor};
use crate::sys::{self, ChildSetup};
use crate::{bpf, landlock_bound, AuditSummary, Config, Outcome, SetupError};
use mxc_enforce::{Backend, Setup, Tier};
use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
pub mod describe;
pub(crate) mod handshake;
mod setup;
mod teardown;

pub use describe::describe;
use handshake::*;
use setup::*;
pub use teardown::kill_tree;
use teardown::*;

/// Checks that this kernel can enforce the process tier: Landlock ABI 6 (scopes) and
/// seccomp user notification with descriptor injection.
pub fn probe() -> Result<(), SetupError> {
    landlock_bound::probe()?;
    seccomp_probe()
}

fn seccomp_probe() -> Result<(), SetupError> {
    let actions = std::fs::read_to_string("/proc/sys/kernel/seccomp/actions_avail")
        .map_err(|e| SetupError(format!("seccomp is not available on this kernel: {e}")))?;
    if !actions.split_whitespace().any(|a| a == "user_notif") {
        return Err(SetupError(
            "seccomp user notification is not available on this kernel (Linux 5.14+ needed)".into(),
        ));
    }
    Ok(())
}

/// The Linux backend: Landlock, seccomp and the supervisor (see the crate's docs).
#[derive(Clone, Copy, Debug, Default)]
pub struct Linux;

impl Backend for Linux {
    type Description = describe::Description;

    fn name(&self) -> &'static str {
        "linux"
    }

    fn probe(&self, _tier: Tier) -> Result<(), SetupError> {
        probe()
    }

    fn describe(&self, engine: &mxc_eval::Engine, tier: Tier) -> Setup<describe::Description> {
        Setup {
            backend: "linux",
            tier,
            detail: describe(
                &landlock_bound::from_plan(&engine.table().plan),
                tier == Tier::Container,
            ),
        }
    }

    fn run(&self, spec: Config) -> Result<Outcome, SetupError> {
        run(spec)
    }
}

/// A run specification as this backend carries it out: the tier as a flag, and the
/// kernel's outer bound worked out from the table's plan.
struct Cfg {
    spec: Config,
    container: bool,
    bounds: crate::Bounds,
}

impl std::ops::Deref for Cfg {
    type Target = Config;
    fn deref(&self) -> &Config {
        &self.spec
    }
}

/// Runs the command confined. Returns when it and every process it started are gone.
pub fn run(spec: Config) -> Result<Outcome, SetupError> {
    let cfg = Cfg {
        container: spec.tier == Tier::Container,
        bounds: landlock_bound::from_plan(&spec.engine.table().plan),
        spec,
    };
    run_cfg(cfg)
}

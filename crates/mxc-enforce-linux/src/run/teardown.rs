//! Ending a run: killing what is left of the sandbox, reaping, the counts and the
//! audit summary, and why a command could not start.

use super::*;

/// The audit log's summary, wherever the log is now (with the supervisor, or still
/// waiting for it when the command never started).
pub(super) fn audit_summary(
    path: &Option<std::path::PathBuf>,
    sup: &Arc<Mutex<Option<Arc<Supervisor>>>>,
    waiting: &Arc<Mutex<Option<Mutex<Audit>>>>,
) -> Option<AuditSummary> {
    let path = path.clone()?;
    let of = |a: &Mutex<Audit>| a.lock().ok().map(|a| (a.summary(), a.lost()));
    let from_sup = sup
        .lock()
        .ok()
        .and_then(|s| s.clone())
        .and_then(|s| s.audit.as_ref().and_then(of));
    let ((records, last_hash), lost) =
        from_sup.or_else(|| waiting.lock().ok().and_then(|w| w.as_ref().and_then(of)))?;
    Some(AuditSummary {
        path,
        records,
        last_hash,
        lost,
    })
}

/// What the command lacked to start (see [`crate::startup`]), recorded in the audit
/// log (with the supervisor, or still waiting when the command never started) as a
/// `could not start` record naming each right, file and deciding rule.
pub(super) fn start_failure(
    cfg: &Cfg,
    sup: &Arc<Mutex<Option<Arc<Supervisor>>>>,
    waiting: &Arc<Mutex<Option<Mutex<Audit>>>>,
) -> Vec<crate::startup::Missing> {
    let args: Vec<Vec<u8>> = cfg
        .argv
        .iter()
        .skip(1)
        .map(|a| std::os::unix::ffi::OsStrExt::as_bytes(a.as_os_str()).to_vec())
        .collect();
    // With the agent's credentials: the program and what it names may be the agent's.
    let missing =
        crate::startup::diagnose_as(cfg.ids, &cfg.engine, &cfg.bounds, &cfg.program, &args);
    if missing.is_empty() {
        return missing;
    }
    let detail = serde_json::json!({
        "program": cfg.program.display().to_string(),
        "missing": missing.iter().map(|m| {
            let rule = m.decision.and_then(|d| d.rule).and_then(|r| cfg.engine.rule(r));
            serde_json::json!({
                "right": m.right,
                "target": m.path.display().to_string(),
                "what": m.what,
                "decided": m.decision.map(|d| d.effect.as_str()),
                "rule": rule.map(|i| serde_json::json!({
                    "policy": i.policy, "file": i.file, "line": i.line, "column": i.column,
                    "at": format!("{}:{}", i.file, i.line),
                })),
            })
        }).collect::<Vec<_>>(),
    });
    let write = |a: &Mutex<Audit>| {
        if let Ok(mut a) = a.lock() {
            a.note(&cfg.engine, "could not start", detail.clone());
        }
    };
    match sup.lock().ok().and_then(|s| s.clone()) {
        Some(s) => {
            if let Some(a) = &s.audit {
                write(a);
            }
        }
        None => {
            if let Some(a) = waiting.lock().ok().as_ref().and_then(|w| w.as_ref()) {
                write(a);
            }
        }
    }
    missing
}

/// Whether no process of the sandbox can move itself out of the run's cgroup: no
/// grant lets it write, create or delete in the cgroup filesystem.
pub(super) fn cgroup_sealed(b: &crate::Bounds) -> bool {
    let cgroupfs = std::path::Path::new("/sys/fs/cgroup");
    !b.fs.iter().any(|g| {
        let r = g.rights;
        (r.write || r.create || r.delete)
            && (g.path.starts_with(cgroupfs) || cgroupfs.starts_with(&g.path))
    })
}

pub(super) fn stats_of(slot: &Arc<Mutex<Option<Arc<Supervisor>>>>) -> (u64, u64) {
    slot.lock()
        .ok()
        .and_then(|s| s.clone())
        .map(|s| {
            (
                s.stats.decisions.load(Ordering::Relaxed),
                s.stats.denials.load(Ordering::Relaxed),
            )
        })
        .unwrap_or((0, 0))
}

/// Kills every process beneath us (the sandbox), repeatedly until none is left alive.
/// Does not reap: the main thread waits for its child itself.
pub fn kill_tree(our_pid: u32, spare: Option<u32>) {
    for _ in 0..200 {
        let mut pids = descendants(our_pid);
        pids.retain(|p| Some(*p) != spare);
        if pids.is_empty() {
            return;
        }
        for pid in pids {
            if let Some(p) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Reaps exited children (orphans reparented to us).
pub(super) fn reap_all() {
    while let Ok(Some(_)) = rustix::process::wait(rustix::process::WaitOptions::NOHANG) {}
}

/// A run whose command has been started: what is needed to end it.
pub(super) struct Running {
    pub(super) cfg: Cfg,
    pub(super) our_pid: u32,
    pub(super) watchdog: Option<u32>,
    pub(super) cgroup: Option<crate::cgroup::Cgroup>,
    pub(super) supervisor: std::thread::JoinHandle<Result<(), String>>,
    pub(super) sup_slot: Arc<Mutex<Option<Arc<Supervisor>>>>,
    pub(super) audit_slot: Arc<Mutex<Option<Mutex<Audit>>>>,
    pub(super) terminal: Option<crate::terminal::Terminal>,
    pub(super) output_relay: Option<std::thread::JoinHandle<()>>,
    pub(super) alarm_write: OwnedFd,
    pub(super) learned: Option<Arc<Mutex<crate::learn::Learned>>>,
    pub(super) timed_out: Arc<AtomicBool>,
    pub(super) files_watched: bool,
    pub(super) made: crate::landlock_bound::MadeTrees,
}

impl Running {
    /// Ends the run once its command exited with `status`: stops what the sandbox
    /// left running, reaps, lets the supervisor finish, flushes the sandbox's
    /// terminal, and makes the outcome.
    pub(super) fn finish(self, status: std::process::ExitStatus) -> Result<Outcome, SetupError> {
        let Running {
            cfg,
            our_pid,
            watchdog,
            cgroup,
            supervisor,
            sup_slot,
            audit_slot,
            terminal,
            mut output_relay,
            alarm_write,
            learned,
            timed_out,
            files_watched,
            mut made,
        } = self;
        // The sandbox ends with its command: what it left running is stopped. When nothing
        // of the sandbox can have left the run's cgroup (the policy grants no write to
        // cgroupfs), an empty cgroup means nothing is left, and the scan of every process
        // of the machine is skipped.
        let left = match &cgroup {
            Some(cg) if cgroup_sealed(&cfg.bounds) => cg.procs_reader().is_none_or(|mut f| {
                let mut s = String::new();
                f.read_to_string(&mut s).is_err() || !s.trim().is_empty()
            }),
            _ => true,
        };
        if left {
            kill_tree(our_pid, watchdog);
        }
        reap_all();
        made.unmake();
        let sup_result = supervisor.join();
        // The sandbox's terminal: once its last user is gone, flush what it wrote.
        if let Some(sup) = sup_slot.lock().ok().and_then(|s| s.clone()) {
            if let Ok(mut t) = sup.tty.lock() {
                t.take();
            }
        }
        if let Some(mut t) = terminal {
            t.slave = None;
            if let Some(r) = output_relay.take() {
                let _ = r.join();
            }
            t.restore();
        }
        // The watchdog finds nothing left to kill, removes the cgroup and exits on its own.
        drop(alarm_write);
        drop(cgroup);
        let supervisor_error = match sup_result {
            Ok(Ok(())) => None,
            Ok(Err(m)) => Some(m),
            Err(_) => Some("the supervisor thread panicked".into()),
        };
        let stats = stats_of(&sup_slot);
        // 126 and 127 are also the shell's (and the loader's) "could not run": say why when
        // the command itself lacked what it needs to start.
        let start_missing = if matches!(status.code(), Some(126 | 127)) && !cfg.learn {
            start_failure(&cfg, &sup_slot, &audit_slot)
        } else {
            Vec::new()
        };
        if let Some(sup) = sup_slot.lock().ok().and_then(|s| s.clone()) {
            if let Some(a) = &sup.audit {
                if let Ok(mut a) = a.lock() {
                    a.note(
                        &sup.engine,
                        "run ended",
                        serde_json::json!({
                            "status": status.code(),
                            "decisions": stats.0,
                            "denials": stats.1,
                        }),
                    );
                }
            }
        }
        use std::os::unix::process::ExitStatusExt;
        let code = status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
        Ok(Outcome {
            code,
            decisions: stats.0,
            denials: stats.1,
            timed_out: timed_out.load(Ordering::SeqCst),
            not_started: None,
            supervisor_error,
            learned: learned.and_then(|l| l.lock().ok().map(|l| l.clone())),
            audit: audit_summary(&cfg.audit_log, &sup_slot, &audit_slot),
            start_missing,
            files_watched,
        })
    }
}

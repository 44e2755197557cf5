//! Starting a command in the process tier and waiting for it.

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

/// The audit log's summary, wherever the log is now (with the supervisor, or still
/// waiting for it when the command never started).
fn audit_summary(
    path: &Option<std::path::PathBuf>,
    sup: &Arc<Mutex<Option<Arc<Supervisor>>>>,
    waiting: &Arc<Mutex<Option<Mutex<Audit>>>>,
) -> Option<AuditSummary> {
    let path = path.clone()?;
    let of = |a: &Mutex<Audit>| a.lock().ok().map(|a| a.summary());
    let from_sup = sup
        .lock()
        .ok()
        .and_then(|s| s.clone())
        .and_then(|s| s.audit.as_ref().and_then(of));
    let (records, last_hash) =
        from_sup.or_else(|| waiting.lock().ok().and_then(|w| w.as_ref().and_then(of)))?;
    Some(AuditSummary {
        path,
        records,
        last_hash,
    })
}

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
    fn name(&self) -> &'static str {
        "linux"
    }

    fn probe(&self, _tier: Tier) -> Result<(), SetupError> {
        probe()
    }

    fn describe(&self, engine: &mxc_eval::Engine, tier: Tier) -> Setup {
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

fn run_cfg(cfg: Cfg) -> Result<Outcome, SetupError> {
    // Landlock is probed by building the real ruleset below (same requirements).
    seccomp_probe()?;
    let limits = crate::cgroup::Limits {
        memory_bytes: cfg.memory_bytes,
        processes: cfg.processes,
        cpus: cfg.cpus,
    };
    // The run's cgroup: the limits, and a way to find every process of the run even
    // after `mxcc` is gone. Required when the policy sets limits; otherwise best kept.
    let cgroup = if limits.any() {
        Some(crate::cgroup::create(limits)?)
    } else {
        crate::cgroup::create(limits).ok()
    };
    // The watchdog kills the run's cgroup when this process ends, however it ends.
    let (alarm_read, alarm_write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| SetupError(format!("cannot create the watchdog's pipe: {e}")))?;
    let mut cgroup = cgroup;
    let watchdog = match &mut cgroup {
        Some(cg) => {
            let procs = cg.procs_reader();
            let pid = sys::spawn_watchdog(
                alarm_read.as_raw_fd(),
                cg.kill.as_ref().map_or(-1, |f| f.as_raw_fd()),
                procs.as_ref().map_or(-1, |f| f.as_raw_fd()),
                &cg.dirs(),
            )
            .map_err(|e| SetupError(format!("cannot start the watchdog: {e}")))?;
            cg.handed_off = true;
            Some(pid)
        }
        None => None,
    };
    drop(alarm_read);
    let mut cgroup_procs = [-1; 3];
    for (slot, f) in cgroup_procs
        .iter_mut()
        .zip(cgroup.iter().flat_map(|c| c.procs.iter()))
    {
        *slot = f.as_raw_fd();
    }
    let me = rustix::process::getuid().as_raw();
    if let Some((uid, _)) = cfg.ids {
        if me != 0 && uid != me {
            return Err(SetupError(format!(
                "the agent's identity runs as uid {uid}; switching to it needs root"
            )));
        }
    }
    // The proxy: the sandbox's only way to reach a host by name. In the container
    // tier its socket is opened inside the sandbox's network namespace (by the child);
    // in the process tier, on the host's loopback.
    let (proxy, proxy_port) = if cfg.container {
        (None, CONTAINER_PROXY_PORT)
    } else {
        let l = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| SetupError(format!("cannot start the network proxy: {e}")))?;
        let port = l
            .local_addr()
            .map_err(|e| SetupError(format!("cannot start the network proxy: {e}")))?
            .port();
        (Some(l), port)
    };
    let cwd = match &cfg.cwd {
        Some(d) => d.clone(),
        None => std::env::current_dir()
            .map_err(|e| SetupError(format!("cannot read the working directory: {e}")))?,
    };
    let mut cfg = cfg;
    if cfg.learn {
        // Permissive, in a throwaway view: Landlock grants everything (the kernel
        // bound is the overlay), and every file call is held so it can be recorded.
        cfg.container = true;
        cfg.bounds = crate::Bounds {
            fs: vec![crate::Grant {
                path: "/".into(),
                rights: crate::FsRights {
                    read: true,
                    write: true,
                    create: true,
                    delete: true,
                    execute: true,
                },
                subtree: true,
            }],
            fs_exact: false,
            tcp_connect: None,
            tcp_bind: None,
        };
    }
    let mounts = match (cfg.container, cfg.learn) {
        (true, true) => Some(crate::container::plan_learn(&cwd)),
        (true, false) => Some(crate::container::plan(&cfg.bounds, &cwd)),
        _ => None,
    };
    // Execute granted per program file (the container's root is still planned from
    // the directories above: the files keep their inodes through its binds).
    let exec = (!cfg.learn).then(|| landlock_bound::exec_per_file(&cfg.bounds, &cfg.engine));
    let exec_exact = exec.as_ref().is_none_or(|e| e.exact);
    let ll_bounds = exec.as_ref().map_or(&cfg.bounds, |e| &e.bounds);
    let ruleset = if cfg.learn {
        landlock_bound::scopes_only()?
    } else if cfg.container {
        // The empty network namespace bounds the network; what leaves it is decided
        // by the supervisor, so Landlock does not narrow TCP ports there (loopback
        // inside the sandbox needs no rule).
        let b = crate::Bounds {
            tcp_connect: None,
            tcp_bind: None,
            ..ll_bounds.clone()
        };
        landlock_bound::ruleset(&b, &[])?
    } else {
        landlock_bound::ruleset(ll_bounds, &[proxy_port])?
    };
    let audit = match &cfg.audit_log {
        Some(p) => Some(Mutex::new(
            Audit::open(p, cfg.engine.agent().audit).map_err(|e| {
                SetupError(format!("cannot open the audit log {}: {e}", p.display()))
            })?,
        )),
        None => None,
    };
    // The audit log is never reachable by the sandbox: when the kernel's bound would
    // let it reach the log (or its head file), file calls are supervised, and the
    // supervisor refuses every access whose object is one of them.
    let audit_exposed = audit
        .as_ref()
        .and_then(|a| a.lock().ok().map(|a| a.exposed(&cfg.bounds)))
        .unwrap_or(false);
    let protected = audit
        .as_ref()
        .and_then(|a| {
            a.lock().ok().map(|a| crate::supervisor::Protected {
                files: a.files().to_vec(),
                dirs: a.dirs().to_vec(),
            })
        })
        .unwrap_or_default();
    // The process tier shares the host's IPC namespace unless MXC may make one (a
    // root-started mxcc): then SysV IPC and POSIX message queues are refused.
    let private_ipc = !cfg.container && sys::has_sys_admin();
    let files_watched =
        cfg.learn || landlock_bound::supervise_fs(&cfg.bounds) || audit_exposed || cfg.watch_files;
    let prog = bpf::assemble(&filter::rules(Supervise {
        fs: files_watched,
        host_ipc: !cfg.container && !private_ipc,
    }))
    .map_err(SetupError)?;
    let filter: Vec<libc::sock_filter> = prog
        .iter()
        .map(|i| libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect();
    let (ours, theirs) =
        UnixStream::pair().map_err(|e| SetupError(format!("cannot create a socket pair: {e}")))?;
    // Orphans of the sandbox become our children, so the whole tree stays beneath us.
    rustix::process::set_child_subreaper(Some(rustix::process::getpid()))
        .map_err(|e| SetupError(format!("cannot become a child subreaper: {e}")))?;
    // The supervisor creates files for the sandbox with the sandbox's umask.
    let umask = rustix::process::umask(rustix::fs::Mode::empty()).bits();

    let our_pid = std::process::id();
    let engine = cfg.engine.clone();
    let terminal = match &cfg.ask {
        crate::AskMode::Terminal => crate::terminal::Terminal::open()
            .map_err(|e| SetupError(format!("cannot give the sandbox a terminal: {e}")))?,
        crate::AskMode::Answer(_) => None,
    };
    let asker: crate::Asker = match (&cfg.ask, &terminal) {
        (crate::AskMode::Answer(a), _) => a.clone(),
        (crate::AskMode::Terminal, Some(t)) => t.asker(),
        (crate::AskMode::Terminal, None) => {
            std::sync::Arc::new(|_: &crate::AskRequest| crate::AskAnswer::Deny)
        }
    };
    let tty_for_sup = match &terminal {
        Some(t) => Some(
            t.slave_copy()
                .map_err(|e| SetupError(format!("cannot give the sandbox a terminal: {e}")))?,
        ),
        None => None,
    };
    let ids = cfg
        .ids
        .filter(|&(uid, gid)| uid != me || gid != rustix::process::getgid().as_raw());
    let container_mode = cfg.container;
    // The id maps of the container's user namespace: the agent's ids as themselves.
    let map_ids = cfg.ids.unwrap_or((me, rustix::process::getgid().as_raw()));
    let mount_names: (Vec<String>, Vec<String>) = (
        mounts
            .iter()
            .flat_map(|m| m.binds.iter())
            .map(|b| b.path.display().to_string())
            .collect(),
        mounts
            .iter()
            .flat_map(|m| m.overlays.iter())
            .map(|o| o.display().to_string())
            .collect(),
    );
    let learned = cfg
        .learn
        .then(|| Arc::new(Mutex::new(crate::learn::Learned::default())));
    let learned_for_sup = learned.clone();
    let on_denial = cfg.on_denial.clone();
    let sup_slot: Arc<Mutex<Option<Arc<Supervisor>>>> = Arc::new(Mutex::new(None));
    let sup_slot2 = sup_slot.clone();
    let audit_slot = Arc::new(Mutex::new(audit));
    let audit_slot2 = audit_slot.clone();
    let supervisor = std::thread::Builder::new()
        .name("mxc-supervisor".into())
        .spawn(move || -> Result<(), String> {
            let mut s = ours;
            let (listener, proxy, container) = if container_mode {
                match container_handshake(&mut s, map_ids, &mount_names)? {
                    Some(got) => got,
                    None => return Ok(()), // the child failed; spawn reports it
                }
            } else {
                let mut msg = [0u8; 8];
                if s.read_exact(&mut msg).is_err() {
                    return Ok(()); // the child failed before its filter; spawn reports it
                }
                let pid = u32::from_ne_bytes([msg[0], msg[1], msg[2], msg[3]]);
                let fd = u32::from_ne_bytes([msg[4], msg[5], msg[6], msg[7]]);
                let listener = take_fd(pid, fd)
                    .map_err(|e| format!("cannot take the seccomp listener: {e}"))?;
                (listener, proxy, None)
            };
            let Some(proxy) = proxy else {
                return Err("the network proxy has no socket".into());
            };
            sys::notif_sync_wakeup(listener.as_fd());
            let audit = audit_slot2.lock().ok().and_then(|mut a| a.take());
            // The sandbox's root: the host's, or its mount namespace's (chroot and
            // new mount namespaces are refused inside, so it stays the same).
            let root_path = match &container {
                Some(c) => format!("/proc/{}/root", c.init),
                None => "/".to_string(),
            };
            let root = rustix::fs::open(
                root_path.as_str(),
                rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .map_err(|e| format!("cannot open the sandbox's root {root_path}: {e}"))?;
            // From here on (and in the proxy thread started below), this thread acts
            // on the sandbox's behalf with its credentials: its ids, no capability.
            // What needed more (the listener, the container's root) is open already.
            sys::act_as(ids).map_err(|e| format!("cannot take the agent's identity: {e}"))?;
            let audit_level = audit.as_ref().map(|_| engine.agent().audit);
            let sup = Arc::new(Supervisor {
                listener,
                audit_level,
                engine,
                asker,
                audit,
                stats: Stats::default(),
                remembered: Mutex::new(Default::default()),
                our_pid,
                asking: Mutex::new(()),
                tty: Mutex::new(tty_for_sup),
                proxy_port: Some(proxy_port),
                container,
                outside: Mutex::new(Default::default()),
                proxy_clients: Mutex::new(Default::default()),
                run_sockets: Mutex::new(Default::default()),
                learned: learned_for_sup,
                exec_exact,
                root,
                protected,
                on_denial,
            });
            {
                let sup = sup.clone();
                std::thread::Builder::new()
                    .name("mxc-proxy".into())
                    .spawn(move || crate::proxy::serve(proxy, sup))
                    .map_err(|e| format!("cannot start the network proxy: {e}"))?;
            }
            if let Ok(mut slot) = sup_slot2.lock() {
                *slot = Some(sup.clone());
            }
            s.write_all(&[1])
                .map_err(|e| format!("cannot release the child: {e}"))?;
            drop(s);
            let r = sup.serve().map_err(|e| format!("supervisor stopped: {e}"));
            if r.is_err() {
                kill_tree(our_pid, watchdog);
            }
            r
        })
        .map_err(|e| SetupError(format!("cannot start the supervisor: {e}")))?;

    let mut cmd = std::process::Command::new(&cfg.program);
    if let Some(a0) = cfg.argv.first() {
        std::os::unix::process::CommandExt::arg0(&mut cmd, a0);
    }
    cmd.args(cfg.argv.iter().skip(1));
    cmd.env_clear();
    cmd.envs(
        cfg.env
            .iter()
            .filter(|(k, _)| !is_proxy_var(k))
            .map(|(k, v)| (k, v)),
    );
    let http = format!("http://127.0.0.1:{proxy_port}");
    let socks = format!("socks5h://127.0.0.1:{proxy_port}");
    for (k, v) in [
        ("HTTP_PROXY", &http),
        ("HTTPS_PROXY", &http),
        ("http_proxy", &http),
        ("https_proxy", &http),
        ("ALL_PROXY", &socks),
        ("all_proxy", &socks),
    ] {
        cmd.env(k, v);
    }
    if !cfg.container {
        if let Some(d) = &cfg.cwd {
            cmd.current_dir(d);
        }
    }
    let container = match &mounts {
        Some(m) => Some(container_setup(m)?),
        None => None,
    };
    let cap_last = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|t| t.trim().parse::<u32>().ok())
        .filter(|&n| n < 64)
        .ok_or_else(|| {
            SetupError(
                "cannot read /proc/sys/kernel/cap_last_cap (needed to drop every capability)"
                    .into(),
            )
        })?;
    let setup = ChildSetup {
        container,
        cgroup_procs,
        ids: if cfg.container { ids } else { cfg.ids },
        landlock: ruleset.as_raw_fd(),
        filter,
        report: theirs.as_raw_fd(),
        keep_below: 3,
        umask,
        ctty: terminal.is_some(),
        cap_last,
        new_ipc: private_ipc,
    };
    let mut output_relay = None;
    if let Some(t) = &terminal {
        let io = |e: std::io::Error| SetupError(format!("cannot give the sandbox a terminal: {e}"));
        cmd.stdin(t.slave_copy().map_err(io)?);
        cmd.stdout(t.slave_copy().map_err(io)?);
        cmd.stderr(t.slave_copy().map_err(io)?);
        output_relay = Some(t.relay().map_err(io)?);
    }
    let spawned = sys::spawn_confined(&mut cmd, setup);
    // The command's copies of the sandbox's terminal must not outlive the sandbox.
    drop(cmd);
    drop(theirs);
    drop(ruleset);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            // The command never ran. Let the supervisor finish (it sees the filter's
            // last user gone), then report why.
            kill_tree(our_pid, watchdog);
            let sup_result = supervisor.join();
            let stats = stats_of(&sup_slot);
            if let Ok(Err(m)) = &sup_result {
                // The set-up failed (the supervisor heard why from the child).
                return Err(SetupError(format!(
                    "cannot start {}: {m}",
                    cfg.program.display()
                )));
            }
            let why = match e.raw_os_error() {
                Some(libc::EACCES) => (126, format!("{} could not start", cfg.program.display())),
                Some(libc::ENOENT) => (127, format!("{}: not found", cfg.program.display())),
                _ => {
                    return Err(SetupError(format!(
                        "cannot start {}: {e}",
                        cfg.program.display()
                    )));
                }
            };
            let start_missing = if why.0 == 126 {
                start_failure(&cfg, &sup_slot, &audit_slot)
            } else {
                Vec::new()
            };
            return Ok(Outcome {
                code: why.0,
                decisions: stats.0,
                denials: stats.1,
                timed_out: false,
                not_started: Some(why.1),
                supervisor_error: None,
                learned: None,
                audit: audit_summary(&cfg.audit_log, &sup_slot, &audit_slot),
                start_missing,
                files_watched,
            });
        }
    };
    // Set up: this process keeps no capability the agent lacks (a peer of a
    // connection the supervisor made for the sandbox looks this pid up). Refuses to go
    // on rather than run with them.
    if let Err(e) = sys::drop_capabilities_after_setup(cap_last) {
        kill_tree(our_pid, watchdog);
        let _ = child.wait();
        return Err(SetupError(format!(
            "cannot drop this process's capabilities after set-up: {e}"
        )));
    }
    if let Some(sup) = sup_slot.lock().ok().and_then(|s| s.clone()) {
        if let Some(a) = &sup.audit {
            if let Ok(mut a) = a.lock() {
                a.note(&sup.engine, "run started", serde_json::json!({
                    "pid": child.id(),
                    "command": cfg.argv.iter().map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>(),
                }));
            }
        }
    }
    let timed_out = Arc::new(AtomicBool::new(false));
    if let Some(t) = cfg.timeout {
        let flag = timed_out.clone();
        let pid = child.id();
        std::thread::spawn(move || {
            std::thread::sleep(t);
            if descendants(our_pid).contains(&pid) {
                flag.store(true, Ordering::SeqCst);
                kill_tree(our_pid, watchdog);
            }
        });
    }
    let status = child
        .wait()
        .map_err(|e| SetupError(format!("cannot wait for the command: {e}")))?;
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

/// What the command lacked to start (see [`crate::startup`]), recorded in the audit
/// log (with the supervisor, or still waiting when the command never started) as a
/// `could not start` record naming each right, file and deciding rule.
fn start_failure(
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
    let missing = crate::startup::diagnose(&cfg.engine, &cfg.bounds, &cfg.program, &args);
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

/// The proxy's port on the container's own loopback (its network namespace is empty,
/// so any port is free).
const CONTAINER_PROXY_PORT: u16 = 3128;

/// The container's set-up in the form the child needs (C strings, staging paths).
fn container_setup(m: &crate::container::MountPlan) -> Result<sys::ContainerSetup, SetupError> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let stage = std::path::Path::new(STAGE);
    if !stage.is_dir() {
        return Err(SetupError(format!(
            "the container's root is assembled on {STAGE}, which is not a directory here"
        )));
    }
    let c = |p: &std::path::Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| SetupError(format!("a path holds a NUL byte: {}", p.display())))
    };
    let staged = |p: &std::path::Path| {
        let rel = p.strip_prefix("/").unwrap_or(p);
        c(&stage.join(rel))
    };
    Ok(sys::ContainerSetup {
        stage: c(stage)?,
        binds: m
            .binds
            .iter()
            .map(|b| {
                Ok(sys::Bind {
                    source: c(&b.path)?,
                    target: staged(&b.path)?,
                    readonly: b.readonly,
                })
            })
            .collect::<Result<_, SetupError>>()?,
        dirs: m.dirs.iter().map(|d| staged(d)).collect::<Result<_, _>>()?,
        files: m
            .files
            .iter()
            .map(|d| staged(d))
            .collect::<Result<_, _>>()?,
        links: m
            .links
            .iter()
            .map(|(at, t)| Ok((staged(at)?, c(t)?)))
            .collect::<Result<_, SetupError>>()?,
        proc_dir: staged(std::path::Path::new("/proc"))?,
        devpts_dir: if m.devpts {
            Some(staged(std::path::Path::new("/dev/pts"))?)
        } else {
            None
        },
        cwd: c(&m.cwd)?,
        proxy_port: CONTAINER_PROXY_PORT,
        tree_fds: vec![-1; m.binds.len()],
        overlays: m
            .overlays
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let scratch = |what: &str| {
                    CString::new(format!("/proc/self/fd/{}/{i}-{what}", sys::SCRATCH_FD))
                        .map_err(|_| SetupError("a path holds a NUL byte".into()))
                };
                Ok(sys::Overlay {
                    lower: c(o)?,
                    upper: scratch("up")?,
                    work: scratch("work")?,
                    target: staged(o)?,
                })
            })
            .collect::<Result<_, SetupError>>()?,
        overlay_fds: vec![-1; m.overlays.len()],
    })
}

/// Where the container's root is assembled (in its own mount namespace: the host's
/// directory is untouched).
const STAGE: &str = "/tmp";

/// The parent's side of the container's start: write the child's id maps, then take
/// the seccomp listener and the proxy socket from the namespace's init. `Ok(None)`:
/// the child went away without saying why (spawn reports its error).
#[allow(clippy::type_complexity)]
fn container_handshake(
    s: &mut UnixStream,
    (uid, gid): (u32, u32),
    (mounts, overlays): &(Vec<String>, Vec<String>),
) -> Result<
    Option<(
        OwnedFd,
        Option<std::net::TcpListener>,
        Option<crate::supervisor::ContainerView>,
    )>,
    String,
> {
    let read = |s: &mut UnixStream| -> Result<Option<[u32; 4]>, String> {
        let mut b = [0u8; 16];
        if s.read_exact(&mut b).is_err() {
            return Ok(None);
        }
        let w = |i: usize| u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let m = [w(0), w(4), w(8), w(12)];
        if m[0] == sys::MSG_FAIL {
            let step = sys::STEPS.get(m[1] as usize).copied().unwrap_or("set-up");
            let what = match m[1] {
                4 | 5 | 10 => mounts
                    .get(m[3] as usize)
                    .map(|p| format!(" for {p}"))
                    .unwrap_or_default(),
                19 | 20 => overlays
                    .get(m[3] as usize)
                    .map(|p| format!(" for {p}"))
                    .unwrap_or_default(),
                _ => String::new(),
            };
            return Err(format!(
                "the container could not be set up: {step}{what} failed: {}",
                std::io::Error::from_raw_os_error(m[2] as i32)
            ));
        }
        Ok(Some(m))
    };
    let Some(m) = read(s)? else { return Ok(None) };
    if m[0] != sys::MSG_MAP {
        return Err("the container's child sent an unexpected message".into());
    }
    let pid = m[1];
    let write = |file: &str, text: &str| {
        std::fs::write(format!("/proc/{pid}/{file}"), text)
            .map_err(|e| format!("cannot write the container's {file}: {e}"))
    };
    // Only the agent's own ids, as themselves (whoever started `mxcc`): no capability
    // in the namespace could reach a file of another host owner, which shows as
    // `nobody` inside. The child already runs with these ids.
    write("setgroups", "deny")?;
    write("uid_map", &format!("{uid} {uid} 1\n"))?;
    write("gid_map", &format!("{gid} {gid} 1\n"))?;
    s.write_all(&[1])
        .map_err(|e| format!("cannot release the container's child: {e}"))?;
    let Some(m) = read(s)? else { return Ok(None) };
    if m[0] != sys::MSG_FDS {
        return Err("the container's init sent an unexpected message".into());
    }
    // The namespace's init is the only child of the process we forked.
    let kids = descendants(pid);
    let [init] = kids[..] else {
        return Err(format!(
            "cannot find the container's init (children of {pid}: {kids:?})"
        ));
    };
    let listener =
        take_fd(init, m[1]).map_err(|e| format!("cannot take the seccomp listener: {e}"))?;
    let proxy = take_fd(init, m[2]).map_err(|e| format!("cannot take the proxy socket: {e}"))?;
    let proc_dev = rustix::fs::stat(format!("/proc/{init}/root/proc"))
        .map_err(|e| format!("cannot find the container's /proc: {e}"))?
        .st_dev;
    Ok(Some((
        listener,
        Some(std::net::TcpListener::from(proxy)),
        Some(crate::supervisor::ContainerView { init, proc_dev }),
    )))
}

/// Whether no process of the sandbox can move itself out of the run's cgroup: no
/// grant lets it write, create or delete in the cgroup filesystem.
fn cgroup_sealed(b: &crate::Bounds) -> bool {
    let cgroupfs = std::path::Path::new("/sys/fs/cgroup");
    !b.fs.iter().any(|g| {
        let r = g.rights;
        (r.write || r.create || r.delete)
            && (g.path.starts_with(cgroupfs) || cgroupfs.starts_with(&g.path))
    })
}

/// Proxy settings of the caller's environment are replaced by MXC's own.
fn is_proxy_var(k: &std::ffi::OsStr) -> bool {
    let k = k.to_string_lossy().to_ascii_lowercase();
    matches!(
        k.as_str(),
        "http_proxy" | "https_proxy" | "all_proxy" | "no_proxy" | "ftp_proxy"
    )
}

fn stats_of(slot: &Arc<Mutex<Option<Arc<Supervisor>>>>) -> (u64, u64) {
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

/// Takes descriptor `fd` of process `pid` (the seccomp listener the child made).
fn take_fd(pid: u32, fd: u32) -> std::io::Result<OwnedFd> {
    let p = rustix::process::Pid::from_raw(pid as i32)
        .ok_or_else(|| std::io::Error::from_raw_os_error(libc::ESRCH))?;
    let pidfd = rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty())?;
    let l = rustix::process::pidfd_getfd(
        pidfd.as_fd(),
        fd as i32,
        rustix::process::PidfdGetfdFlags::empty(),
    )?;
    Ok(l)
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
fn reap_all() {
    while let Ok(Some(_)) = rustix::process::wait(rustix::process::WaitOptions::NOHANG) {}
}

/// What a run would set up for `bounds`, as JSON (`mxcc plan --target linux`), in the
/// container tier when `container` (the root is planned for the current directory).
pub fn describe(bounds: &crate::Bounds, container: bool) -> serde_json::Value {
    use serde_json::json;
    let grants: Vec<_> = bounds
        .fs
        .iter()
        .map(|g| {
            let r = g.rights;
            let names: Vec<&str> = [
                (r.read, "read"),
                (r.write, "write"),
                (r.create, "create"),
                (r.delete, "delete"),
                (r.execute, "execute"),
            ]
            .into_iter()
            .filter_map(|(on, n)| on.then_some(n))
            .collect();
            json!({"path": g.path, "rights": names, "beneath": g.subtree})
        })
        .collect();
    let rule_json = |r: &bpf::Rule| {
        let action = match r.action {
            bpf::Action::Errno(e) => json!({"errno": e}),
            bpf::Action::Notify => json!("supervisor"),
            bpf::Action::Kill => json!("kill"),
            bpf::Action::Allow => json!("allow"),
        };
        json!({"syscall": r.name, "when": if r.tests.is_empty() { "always" } else { "on some arguments" }, "action": action})
    };
    let supervise = Supervise {
        fs: landlock_bound::supervise_fs(bounds),
        host_ipc: !container && !sys::has_sys_admin(),
    };
    let mut out = json!({
        "tier": if container { "container" } else { "process" },
        "landlock": {
            "abi_required": 6,
            "fs_rights_handled": "every file-system right of ABI 3",
            "grants": grants,
            "tcp_connect_ports": bounds.tcp_connect,
            "tcp_bind_ports": bounds.tcp_bind,
            "scopes": ["abstract_unix_socket", "signal"],
        },
        "seccomp": {
            "refused": filter::refused().iter().chain(if supervise.host_ipc { filter::refused_ipc() } else { vec![] }.iter()).map(rule_json).collect::<Vec<_>>(),
            "held_for_the_supervisor": filter::supervised(supervise).iter().map(|r| r.name).collect::<Vec<_>>(),
            "allowed": filter::allowed().iter().map(|r| r.name).collect::<Vec<_>>(),
            "otherwise": {"errno": libc::ENOSYS},
        },
        "capabilities": {"sandbox": "none (bounding, ambient, inheritable, permitted, effective; securebits locked)", "supervisor": "the agent's ids, no capability"},
        "fs_supervised": supervise.fs,
        "ipc": if container || !supervise.host_ipc { "a namespace of its own" } else { "the host's: SysV IPC and POSIX message queues refused" },
        "proxy": {"listen": "127.0.0.1 (port chosen at start)", "protocols": ["http-connect", "http", "socks5"], "env": ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"]},
        "process": {"no_new_privs": true, "new_session": true, "inherited_descriptors": "closed", "parent_death_signal": "SIGKILL"},
    });
    if container {
        let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
        let m = crate::container::plan(bounds, &cwd);
        out["namespaces"] = json!(["user", "mount", "pid", "net", "ipc", "uts"]);
        out["root"] = json!({
            "base": "tmpfs, read-only",
            "binds": m.binds.iter().map(|b| json!({"path": b.path, "readonly": b.readonly})).collect::<Vec<_>>(),
            "links": m.links.iter().map(|(at, t)| json!({"path": at, "target": t})).collect::<Vec<_>>(),
            "proc": "private",
            "cwd": m.cwd,
        });
        out["network"] = json!({
            "namespace": "empty (loopback only)",
            "leaving": "connect/sendto decided by the supervisor and made from a host socket put in place of the sandbox's",
            "loopback_inside": "no rule needed between the sandbox's own processes",
        });
        out["proxy"] = json!({"listen": format!("127.0.0.1:{CONTAINER_PROXY_PORT} inside the sandbox's network namespace"), "protocols": ["http-connect", "http", "socks5"], "env": ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"]});
        out["landlock"]["tcp_connect_ports"] = json!(null);
        out["landlock"]["tcp_bind_ports"] = json!(null);
    }
    out
}

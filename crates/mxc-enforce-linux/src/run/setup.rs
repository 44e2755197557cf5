//! Setting a run up: the cgroup and its watchdog, the proxy, the Landlock ruleset and
//! seccomp filter, the supervisor thread, the child's set-up; then waiting.

use super::*;

pub(super) fn run_cfg(cfg: Cfg) -> Result<Outcome, SetupError> {
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
                let Some(listener) = process_handshake(&mut s)? else {
                    return Ok(()); // the child failed before its filter; spawn reports it
                };
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
                asking: crate::supervisor::Asking::default(),
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
            s.write_all(&[handshake::GO])
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
    Running {
        cfg,
        our_pid,
        watchdog,
        cgroup,
        supervisor,
        sup_slot,
        audit_slot,
        terminal,
        output_relay,
        alarm_write,
        learned,
        timed_out,
        files_watched,
    }
    .finish(status)
}

/// The proxy's port on the container's own loopback (its network namespace is empty,
/// so any port is free).
pub(super) const CONTAINER_PROXY_PORT: u16 = 3128;

/// The container's set-up in the form the child needs (C strings, staging paths).
pub(super) fn container_setup(
    m: &crate::container::MountPlan,
) -> Result<sys::ContainerSetup, SetupError> {
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
pub(super) const STAGE: &str = "/tmp";

/// Proxy settings of the caller's environment are replaced by MXC's own.
pub(super) fn is_proxy_var(k: &std::ffi::OsStr) -> bool {
    let k = k.to_string_lossy().to_ascii_lowercase();
    matches!(
        k.as_str(),
        "http_proxy" | "https_proxy" | "all_proxy" | "no_proxy" | "ftp_proxy"
    )
}

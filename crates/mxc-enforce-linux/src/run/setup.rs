//! Setting a run up: the cgroup and its watchdog, the proxy, the Landlock ruleset and
//! seccomp filter, the supervisor thread, the child's set-up; then waiting.

use super::*;

pub(super) fn run_cfg(cfg: Cfg) -> Result<Outcome, SetupError> {
    // Landlock is probed by building the real ruleset below (same requirements).
    seccomp_probe()?;
    let cg = RunCgroup::start(&cfg)?;
    let me = check_identity(&cfg)?;
    let (proxy, proxy_port) = start_proxy(cfg.container)?;
    let cwd = working_dir(&cfg)?;
    let mut cfg = cfg;
    if cfg.learn {
        learn_view(&mut cfg);
    }
    let kernel = KernelBound::build(&cfg, &cwd, proxy_port)?;
    let guard = AuditGuard::open(&cfg)?;
    let (ours, theirs) =
        UnixStream::pair().map_err(|e| SetupError(format!("cannot create a socket pair: {e}")))?;
    // Open in this process until the child has its answer (the supervisor holds it).
    let ours_fd = ours.as_raw_fd();
    // Orphans of the sandbox become our children, so the whole tree stays beneath us.
    rustix::process::set_child_subreaper(Some(rustix::process::getpid()))
        .map_err(|e| SetupError(format!("cannot become a child subreaper: {e}")))?;
    // The supervisor creates files for the sandbox with the sandbox's umask.
    let umask = rustix::process::umask(rustix::fs::Mode::empty()).bits();
    let our_pid = std::process::id();
    let asking = Asking::open(&cfg)?;
    // After `Asking`: whether the sandbox gets a terminal (and a session) of its own
    // decides what the filter lets `setpgid` do.
    let seccomp = SeccompPlan::build(&cfg, guard.exposed, asking.terminal.is_some())?;
    let ids = cfg
        .ids
        .filter(|&(uid, gid)| uid != me || gid != rustix::process::getgid().as_raw());
    let learned = cfg
        .learn
        .then(|| Arc::new(Mutex::new(crate::learn::Learned::default())));
    let sup_slot: Arc<Mutex<Option<Arc<Supervisor>>>> = Arc::new(Mutex::new(None));
    let audit_slot = Arc::new(Mutex::new(guard.audit));
    let supervisor = SupervisorStart {
        stream: ours,
        container: cfg.container,
        // The id maps of the container's user namespace: the agent's ids as themselves.
        map_ids: cfg.ids.unwrap_or((me, rustix::process::getgid().as_raw())),
        mount_names: mount_names(kernel.mounts.as_ref()),
        proxy,
        proxy_port,
        engine: cfg.engine.clone(),
        asker: asking.asker,
        tty: asking.tty_for_sup,
        ids,
        our_pid,
        watchdog: cg.watchdog,
        learned: learned.clone(),
        exec_exact: kernel.exec_exact,
        protected: guard.protected,
        on_denial: cfg.on_denial.clone(),
        audit_slot: audit_slot.clone(),
        sup_slot: sup_slot.clone(),
    }
    .spawn()?;

    let mut cmd = command(&cfg, proxy_port);
    let container = match &kernel.mounts {
        Some(m) => Some(container_setup(m)?),
        None => None,
    };
    let cap_last = cap_last()?;
    let setup = ChildSetup {
        container,
        cgroup_procs: cg.procs,
        ids: if cfg.container { ids } else { cfg.ids },
        landlock: kernel.ruleset.as_raw_fd(),
        filter: seccomp.filter,
        report: theirs.as_raw_fd(),
        keep_below: 3,
        umask,
        ctty: asking.terminal.is_some(),
        cap_last,
        new_ipc: seccomp.private_ipc,
        close_first: [ours_fd, cg.alarm_write.as_raw_fd()],
    };
    let mut output_relay = None;
    if let Some(t) = &asking.terminal {
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
    drop(kernel.ruleset);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            return not_started(
                &cfg,
                e,
                NotStarted {
                    our_pid,
                    watchdog: cg.watchdog,
                    supervisor,
                    sup_slot: &sup_slot,
                    audit_slot: &audit_slot,
                    files_watched: seccomp.files_watched,
                },
            )
        }
    };
    // Set up: this process keeps no capability the agent lacks (a peer of a
    // connection the supervisor made for the sandbox looks this pid up). Refuses to go
    // on rather than run with them.
    if let Err(e) = sys::drop_capabilities_after_setup(cap_last) {
        kill_tree(our_pid, cg.watchdog);
        let _ = child.wait();
        return Err(SetupError(format!(
            "cannot drop this process's capabilities after set-up: {e}"
        )));
    }
    note_start(&cfg, &sup_slot, child.id());
    let timed_out = Arc::new(AtomicBool::new(false));
    if let Some(t) = cfg.timeout {
        watch_timeout(t, child.id(), our_pid, cg.watchdog, timed_out.clone());
    }
    let status = child
        .wait()
        .map_err(|e| SetupError(format!("cannot wait for the command: {e}")))?;
    Running {
        cfg,
        our_pid,
        watchdog: cg.watchdog,
        cgroup: cg.cgroup,
        supervisor,
        sup_slot,
        audit_slot,
        terminal: asking.terminal,
        output_relay,
        alarm_write: cg.alarm_write,
        learned,
        timed_out,
        files_watched: seccomp.files_watched,
        made: kernel.made,
    }
    .finish(status)
}

/// The run's cgroup (the limits, and a way to find every process of the run even
/// after `mxcc` is gone) and the watchdog that kills it when this process ends.
struct RunCgroup {
    cgroup: Option<crate::cgroup::Cgroup>,
    watchdog: Option<u32>,
    /// Closed when this process ends, however it ends: the watchdog's alarm.
    alarm_write: OwnedFd,
    /// `cgroup.procs` of each hierarchy, for the child to write itself into (-1: none).
    procs: [i32; 3],
}

impl RunCgroup {
    fn start(cfg: &Cfg) -> Result<RunCgroup, SetupError> {
        let limits = crate::cgroup::Limits {
            memory_bytes: cfg.memory_bytes,
            processes: cfg.processes,
            cpus: cfg.cpus,
        };
        // Required when the policy sets limits; otherwise best kept.
        let mut cgroup = if limits.any() {
            Some(crate::cgroup::create(limits)?)
        } else {
            crate::cgroup::create(limits).ok()
        };
        let (alarm_read, alarm_write) =
            rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
                .map_err(|e| SetupError(format!("cannot create the watchdog's pipe: {e}")))?;
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
        let mut procs = [-1; 3];
        for (slot, f) in procs
            .iter_mut()
            .zip(cgroup.iter().flat_map(|c| c.procs.iter()))
        {
            *slot = f.as_raw_fd();
        }
        Ok(RunCgroup {
            cgroup,
            watchdog,
            alarm_write,
            procs,
        })
    }
}

/// This process's uid, when it may take the agent's identity (switching to another
/// uid needs root).
fn check_identity(cfg: &Cfg) -> Result<u32, SetupError> {
    let me = rustix::process::getuid().as_raw();
    if let Some((uid, _)) = cfg.ids {
        if me != 0 && uid != me {
            return Err(SetupError(format!(
                "the agent's identity runs as uid {uid}; switching to it needs root"
            )));
        }
    }
    Ok(me)
}

/// The proxy: the sandbox's only way to reach a host by name. In the container tier
/// its socket is opened inside the sandbox's network namespace (by the child); in the
/// process tier, on the host's loopback. Its listener (process tier) and port.
fn start_proxy(container: bool) -> Result<(Option<std::net::TcpListener>, u16), SetupError> {
    if container {
        return Ok((None, CONTAINER_PROXY_PORT));
    }
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| SetupError(format!("cannot start the network proxy: {e}")))?;
    let port = l
        .local_addr()
        .map_err(|e| SetupError(format!("cannot start the network proxy: {e}")))?
        .port();
    Ok((Some(l), port))
}

fn working_dir(cfg: &Cfg) -> Result<std::path::PathBuf, SetupError> {
    match &cfg.cwd {
        Some(d) => Ok(d.clone()),
        None => std::env::current_dir()
            .map_err(|e| SetupError(format!("cannot read the working directory: {e}"))),
    }
}

/// `--learn`: permissive, in a throwaway view: Landlock grants everything (the kernel
/// bound is the overlay), and every file call is held so it can be recorded.
fn learn_view(cfg: &mut Cfg) {
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

/// What the kernel bounds: the container's mounts, and the Landlock ruleset.
struct KernelBound {
    mounts: Option<crate::container::MountPlan>,
    /// Landlock lets the kernel execute exactly the files the policy allows launching.
    exec_exact: bool,
    ruleset: OwnedFd,
    /// The launch trees made for the run: removed (when still empty) at its end, or
    /// when dropped on a start that fails.
    made: landlock_bound::MadeTrees,
}

impl KernelBound {
    fn build(cfg: &Cfg, cwd: &std::path::Path, proxy_port: u16) -> Result<KernelBound, SetupError> {
        let mounts = match (cfg.container, cfg.learn) {
            (true, true) => Some(crate::container::plan_learn(cwd)),
            (true, false) => Some(crate::container::plan(&cfg.bounds, cwd)),
            _ => None,
        };
        // Execute granted per program file (the container's root is still planned from
        // the directories above: the files keep their inodes through its binds).
        let mut exec =
            (!cfg.learn).then(|| landlock_bound::exec_per_file(&cfg.bounds, &cfg.engine));
        let made = exec
            .as_mut()
            .map(|e| std::mem::take(&mut e.made))
            .unwrap_or_default();
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
        Ok(KernelBound {
            mounts,
            exec_exact,
            ruleset,
            made,
        })
    }
}

/// The audit log, and what of it the sandbox must never reach.
struct AuditGuard {
    audit: Option<Mutex<Audit>>,
    /// The kernel's bound would let the sandbox reach the log (or its head file).
    exposed: bool,
    protected: crate::supervisor::Protected,
}

impl AuditGuard {
    fn open(cfg: &Cfg) -> Result<AuditGuard, SetupError> {
        let audit = match &cfg.audit_log {
            Some(p) => Some(Mutex::new(
                Audit::open(p, cfg.engine.agent().audit).map_err(|e| {
                    SetupError(format!("cannot open the audit log {}: {e}", p.display()))
                })?,
            )),
            None => None,
        };
        // The audit log is never reachable by the sandbox: when the kernel's bound
        // would let it reach the log (or its head file), file calls are supervised, and
        // the supervisor refuses every access whose object is one of them.
        let exposed = audit
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
        Ok(AuditGuard {
            audit,
            exposed,
            protected,
        })
    }
}

/// The seccomp filter and what shaped it.
struct SeccompPlan {
    /// The process tier with an IPC namespace of its own (a root-started mxcc).
    private_ipc: bool,
    /// File calls are held for the supervisor.
    files_watched: bool,
    filter: Vec<libc::sock_filter>,
}

impl SeccompPlan {
    fn build(
        cfg: &Cfg,
        audit_exposed: bool,
        own_terminal: bool,
    ) -> Result<SeccompPlan, SetupError> {
        // The process tier shares the host's IPC namespace unless MXC may make one (a
        // root-started mxcc): then SysV IPC and POSIX message queues are refused.
        let private_ipc = !cfg.container && sys::has_sys_admin();
        let files_watched = cfg.learn
            || landlock_bound::supervise_fs(&cfg.bounds)
            || audit_exposed
            || cfg.watch_files;
        let prog = bpf::assemble(&filter::rules(Supervise {
            fs: files_watched,
            host_ipc: !cfg.container && !private_ipc,
            // The process tier without a terminal of its own stays in the user's
            // session (sys/child.rs): it may make process groups, never join one.
            host_session: !cfg.container && !own_terminal,
        }))
        .map_err(SetupError)?;
        let filter = prog
            .iter()
            .map(|i| libc::sock_filter {
                code: i.code,
                jt: i.jt,
                jf: i.jf,
                k: i.k,
            })
            .collect();
        Ok(SeccompPlan {
            private_ipc,
            files_watched,
            filter,
        })
    }
}

/// How the sandbox's questions reach a person: its terminal (when MXC makes one),
/// the asker, and the supervisor's copy of the terminal (what `/dev/tty` opens).
struct Asking {
    terminal: Option<crate::terminal::Terminal>,
    asker: crate::Asker,
    tty_for_sup: Option<OwnedFd>,
}

impl Asking {
    fn open(cfg: &Cfg) -> Result<Asking, SetupError> {
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
        Ok(Asking {
            terminal,
            asker,
            tty_for_sup,
        })
    }
}

/// The names of the container's binds and overlays (for the child's error messages).
fn mount_names(mounts: Option<&crate::container::MountPlan>) -> (Vec<String>, Vec<String>) {
    (
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
    )
}

/// Everything the supervisor thread starts from.
struct SupervisorStart {
    /// Our end of the socket pair to the child.
    stream: UnixStream,
    container: bool,
    map_ids: (u32, u32),
    mount_names: (Vec<String>, Vec<String>),
    proxy: Option<std::net::TcpListener>,
    proxy_port: u16,
    engine: Arc<mxc_eval::Engine>,
    asker: crate::Asker,
    tty: Option<OwnedFd>,
    /// The ids the supervisor acts with, when they are not this process's.
    ids: Option<(u32, u32)>,
    our_pid: u32,
    watchdog: Option<u32>,
    learned: Option<Arc<Mutex<crate::learn::Learned>>>,
    exec_exact: bool,
    protected: crate::supervisor::Protected,
    on_denial: Option<crate::DenialSink>,
    /// The audit log, taken by the supervisor once the child's filter is in place.
    audit_slot: Arc<Mutex<Option<Mutex<Audit>>>>,
    /// Where the supervisor is put once it serves.
    sup_slot: Arc<Mutex<Option<Arc<Supervisor>>>>,
}

impl SupervisorStart {
    fn spawn(self) -> Result<std::thread::JoinHandle<Result<(), String>>, SetupError> {
        std::thread::Builder::new()
            .name("mxc-supervisor".into())
            .spawn(move || self.serve())
            .map_err(|e| SetupError(format!("cannot start the supervisor: {e}")))
    }

    /// The supervisor thread: the handshake with the child, the supervisor's state,
    /// the proxy thread, the child's release, then every held call until the last
    /// sandboxed process is gone.
    fn serve(self) -> Result<(), String> {
        let mut s = self.stream;
        let (listener, proxy, container) = if self.container {
            match container_handshake(&mut s, self.map_ids, &self.mount_names)? {
                Some(got) => got,
                None => return Ok(()), // the child failed; spawn reports it
            }
        } else {
            let Some(listener) = process_handshake(&mut s)? else {
                return Ok(()); // the child failed before its filter; spawn reports it
            };
            (listener, self.proxy, None)
        };
        let Some(proxy) = proxy else {
            return Err("the network proxy has no socket".into());
        };
        sys::notif_sync_wakeup(listener.as_fd());
        let audit = self.audit_slot.lock().ok().and_then(|mut a| a.take());
        // The sandbox's root: the host's, or its mount namespace's (chroot and new
        // mount namespaces are refused inside, so it stays the same).
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
        // From here on (and in the proxy thread started below), this thread acts on
        // the sandbox's behalf with its credentials: its ids, no capability. What
        // needed more (the listener, the container's root) is open already.
        sys::act_as(self.ids).map_err(|e| format!("cannot take the agent's identity: {e}"))?;
        let audit_level = audit.as_ref().map(|_| self.engine.agent().audit);
        let sup = Arc::new(Supervisor {
            listener,
            audit_level,
            engine: self.engine,
            asker: self.asker,
            audit,
            stats: Stats::default(),
            remembered: Mutex::new(Default::default()),
            our_pid: self.our_pid,
            asking: crate::supervisor::Asking::default(),
            tty: Mutex::new(self.tty),
            proxy_port: Some(self.proxy_port),
            container,
            outside: Mutex::new(Default::default()),
            proxy_clients: Mutex::new(Default::default()),
            run_sockets: Mutex::new(Default::default()),
            learned: self.learned,
            exec_exact: self.exec_exact,
            root,
            protected: self.protected,
            on_denial: self.on_denial,
            workers: Default::default(),
        });
        {
            let sup = sup.clone();
            std::thread::Builder::new()
                .name("mxc-proxy".into())
                .spawn(move || crate::proxy::serve(proxy, sup))
                .map_err(|e| format!("cannot start the network proxy: {e}"))?;
        }
        if let Ok(mut slot) = self.sup_slot.lock() {
            *slot = Some(sup.clone());
        }
        s.write_all(&[handshake::GO])
            .map_err(|e| format!("cannot release the child: {e}"))?;
        drop(s);
        let r = sup.serve().map_err(|e| format!("supervisor stopped: {e}"));
        if r.is_err() {
            kill_tree(self.our_pid, self.watchdog);
        }
        r
    }
}

/// The command as the child executes it: program, arguments, the scrubbed
/// environment with MXC's proxy settings, and (process tier) the working directory.
fn command(cfg: &Cfg, proxy_port: u16) -> std::process::Command {
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
    cmd
}

/// The highest capability number of this kernel (every one is dropped in the child).
fn cap_last() -> Result<u32, SetupError> {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|t| t.trim().parse::<u32>().ok())
        .filter(|&n| n < 64)
        .ok_or_else(|| {
            SetupError(
                "cannot read /proc/sys/kernel/cap_last_cap (needed to drop every capability)"
                    .into(),
            )
        })
}

/// What ending a run whose command never started needs.
struct NotStarted<'a> {
    our_pid: u32,
    watchdog: Option<u32>,
    supervisor: std::thread::JoinHandle<Result<(), String>>,
    sup_slot: &'a Arc<Mutex<Option<Arc<Supervisor>>>>,
    audit_slot: &'a Arc<Mutex<Option<Mutex<Audit>>>>,
    files_watched: bool,
}

/// The command never ran (`e`: why the spawn failed). Lets the supervisor finish (it
/// sees the filter's last user gone), then reports why: a set-up failure the child
/// told the supervisor of, or exit 126/127 for a program that could not start.
fn not_started(cfg: &Cfg, e: std::io::Error, n: NotStarted<'_>) -> Result<Outcome, SetupError> {
    kill_tree(n.our_pid, n.watchdog);
    let sup_result = n.supervisor.join();
    let stats = stats_of(n.sup_slot);
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
        start_failure(cfg, n.sup_slot, n.audit_slot)
    } else {
        Vec::new()
    };
    Ok(Outcome {
        code: why.0,
        decisions: stats.0,
        denials: stats.1,
        timed_out: false,
        not_started: Some(why.1),
        supervisor_error: None,
        learned: None,
        audit: audit_summary(&cfg.audit_log, n.sup_slot, n.audit_slot),
        start_missing,
        files_watched: n.files_watched,
    })
}

/// The audit log's `run started` record (the command's pid and arguments).
fn note_start(cfg: &Cfg, sup_slot: &Arc<Mutex<Option<Arc<Supervisor>>>>, pid: u32) {
    let Some(sup) = sup_slot.lock().ok().and_then(|s| s.clone()) else {
        return;
    };
    if let Some(a) = &sup.audit {
        if let Ok(mut a) = a.lock() {
            a.note(&sup.engine, "run started", serde_json::json!({
                "pid": pid,
                "command": cfg.argv.iter().map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>(),
            }));
        }
    }
}

/// `timeout`: after `t`, if the command `pid` is still running, the run is ended and
/// marked as timed out.
fn watch_timeout(
    t: Duration,
    pid: u32,
    our_pid: u32,
    watchdog: Option<u32>,
    flag: Arc<AtomicBool>,
) {
    std::thread::spawn(move || {
        std::thread::sleep(t);
        if descendants(our_pid).contains(&pid) {
            flag.store(true, Ordering::SeqCst);
            kill_tree(our_pid, watchdog);
        }
    });
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

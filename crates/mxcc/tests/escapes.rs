//! The escape suite (crates/mxc-enforce-linux/tests/escapes/): each program tries to
//! break out of `mxcc run` and must fail, after a control action that must work.
//! Linux only; needs Landlock ABI 6 and seccomp user notification (CI runs it as root,
//! then again with `MXC_ESCAPES_AS=mxc-ci`: `mxcc` started by an unprivileged user).
#![cfg(target_os = "linux")]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

fn suite() -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mxc-enforce-linux/tests/escapes");
    match staged() {
        Some(dir) => dir.join("escapes"),
        None => src,
    }
}

/// With `MXC_ESCAPES_AS`, when the user cannot reach the checkout (one in `/root`), the
/// suite and `mxcc` copied where it can (left in the temporary directory).
fn staged() -> Option<&'static Path> {
    static DIR: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let (uid, gid) = run_as()?;
        use std::os::unix::fs::PermissionsExt;
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mxc-enforce-linux/tests/escapes");
        let reachable = Command::new("setpriv")
            .args([
                format!("--reuid={uid}"),
                format!("--regid={gid}"),
                "--clear-groups".into(),
            ])
            .args([
                "--",
                "/usr/bin/test",
                "-x",
                env!("CARGO_BIN_EXE_mxcc"),
                "-a",
                "-r",
            ])
            .arg(src.join("_lib.py"))
            .status()
            .is_ok_and(|s| s.success());
        if reachable {
            return None;
        }
        let dir = std::env::temp_dir().join(format!("mxc-escapes-as-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("escapes")).unwrap();
        for e in std::fs::read_dir(&src).unwrap().flatten() {
            if e.path().is_file() {
                std::fs::copy(e.path(), dir.join("escapes").join(e.file_name())).unwrap();
            }
        }
        std::fs::copy(env!("CARGO_BIN_EXE_mxcc"), dir.join("mxcc")).unwrap();
        for p in [&dir, &dir.join("escapes")] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Some(dir)
    })
    .as_deref()
}

/// Services outside the sandbox that the escapes try to reach.
struct Host {
    unix: PathBuf,
    abstract_name: String,
    tcp_port: u16,
    /// A UDP port on 127.0.0.1, and how many datagrams reached it (must stay 0).
    udp_port: u16,
    udp_got: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// A SysV shared memory segment and a POSIX message queue, each holding the
    /// secret (removed at the end of the test).
    shm_id: i32,
    mq_name: String,
    /// A TCP and a UDP service on 0.0.0.0 (datagrams counted in `udp_got`), and the
    /// machine's own addresses, where they answer too.
    any_tcp_port: u16,
    any_udp_port: u16,
    addrs: String,
}

/// A SysV segment and a POSIX message queue holding "secret-service", made the way any
/// host process makes them (IPC objects are reached by id and name, not by path):
/// (segment id, queue name).
fn ipc_objects(tag: &str) -> (i32, String) {
    let out = Command::new("/usr/bin/python3")
        .arg(suite().join("_host_ipc.py"))
        .args(["make", tag])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    (id, format!("/{tag}"))
}

fn serve(name: &str) -> Host {
    use std::os::linux::net::SocketAddrExt;
    let tag = format!("mxc-escape-{}-{name}", std::process::id());
    let unix = std::env::temp_dir().join(format!("{tag}.sock"));
    let _ = std::fs::remove_file(&unix);
    let l = std::os::unix::net::UnixListener::bind(&unix).unwrap();
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(tag.as_bytes()).unwrap();
    let a = std::os::unix::net::UnixListener::bind_addr(&addr).unwrap();
    let t = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp_port = t.local_addr().unwrap().port();
    let (shm_id, mq_name) = ipc_objects(&tag);
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let _ = (&s).write_all(b"secret-service");
        }
    });
    std::thread::spawn(move || {
        for s in a.incoming().flatten() {
            let _ = (&s).write_all(b"secret-service");
        }
    });
    std::thread::spawn(move || {
        for s in t.incoming().flatten() {
            let _ = (&s).write_all(b"secret-service");
        }
    });
    let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp_port = u.local_addr().unwrap().port();
    let udp_got = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let got = udp_got.clone();
    std::thread::spawn(move || {
        let mut b = [0u8; 2048];
        while let Ok((_, from)) = u.recv_from(&mut b) {
            got.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = u.send_to(b"secret-service", from);
        }
    });
    let any_t = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let any_tcp_port = any_t.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in any_t.incoming().flatten() {
            let _ = (&s).write_all(b"secret-service");
        }
    });
    let any_u = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    let any_udp_port = any_u.local_addr().unwrap().port();
    let got = udp_got.clone();
    std::thread::spawn(move || {
        let mut b = [0u8; 2048];
        while any_u.recv_from(&mut b).is_ok() {
            got.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let addrs = Command::new("hostname")
        .arg("-I")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    Host {
        any_tcp_port,
        any_udp_port,
        addrs,
        unix,
        abstract_name: tag,
        tcp_port,
        udp_port,
        udp_got,
        shm_id,
        mq_name,
    }
}

/// The unprivileged user the suite runs `mxcc` as, when `MXC_ESCAPES_AS` names one
/// (CI runs the suite a second time so): its uid and gid.
fn run_as() -> Option<(u32, u32)> {
    let user = std::env::var("MXC_ESCAPES_AS")
        .ok()
        .filter(|u| !u.is_empty())?;
    let id = |flag: &str| -> u32 {
        let o = Command::new("id").args([flag, &user]).output().unwrap();
        assert!(o.status.success(), "MXC_ESCAPES_AS={user}: no such user");
        String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
    };
    Some((id("-u"), id("-g")))
}

/// Gives the test's directory (and what is in it) to the user `mxcc` runs as.
fn hand_over(dir: &Path) {
    let Some((uid, gid)) = run_as() else { return };
    let mut todo = vec![dir.to_path_buf()];
    while let Some(p) = todo.pop() {
        std::os::unix::fs::lchown(&p, Some(uid), Some(gid)).unwrap();
        if p.is_dir() && !p.is_symlink() {
            todo.extend(std::fs::read_dir(&p).unwrap().flatten().map(|e| e.path()));
        }
    }
}

/// `mxcc run` of the suite's policy with its parameters (the command comes after),
/// as the user of `MXC_ESCAPES_AS` when set (through `setpriv`: no capability, no
/// supplementary group).
fn mxcc_run(work: &Path, suite: &Path, log: &Path, agent: &str) -> Command {
    let mut c = match run_as() {
        Some((uid, gid)) => {
            let mut c = Command::new("setpriv");
            c.args([
                format!("--reuid={uid}"),
                format!("--regid={gid}"),
                "--clear-groups".into(),
                "--inh-caps=-all".into(),
                "--".into(),
            ])
            .arg(staged().map_or(env!("CARGO_BIN_EXE_mxcc").into(), |d| d.join("mxcc")));
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_mxcc")),
    };
    c.arg("run")
        .arg(suite.join("escapes.mxc"))
        .args(["--agent", agent, "--ask", "deny"])
        .arg("--param")
        .arg(format!("work={}", work.display()))
        .arg("--param")
        .arg(format!("suite={}", suite.display()))
        .arg("--audit-log")
        .arg(log);
    c
}

/// Runs escape `name` under `agent` (`escape`: process tier; `escape-container`).
fn escape(name: &str, agent: &str) {
    escape_with(name, agent, &[]);
}

/// [`escape`] with more options to `mxcc run` (`--explain`).
fn escape_with(name: &str, agent: &str, options: &[&str]) {
    let tag = options.concat().replace('-', "");
    let root = std::env::temp_dir().join(format!(
        "mxc-escape-{}-{name}-{agent}{tag}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&root);
    let work = root.join("work");
    std::fs::create_dir_all(work.join("secret")).unwrap();
    std::fs::write(work.join("ok"), "fine").unwrap();
    std::fs::write(work.join("secret/key"), "TOP-SECRET").unwrap();
    set_secret_xattr(&work.join("secret/key"));
    let host = serve(&format!("{name}-{agent}{tag}"));
    let suite = suite().canonicalize().unwrap();
    // `audit_log` keeps the log inside the workspace, where the policy lets the agent
    // do anything, with a hard link to it made before the run (by an earlier run, say);
    // the others keep it outside.
    let log = if name == "audit_log" {
        work.join("logs/audit.log")
    } else {
        root.join("audit.log")
    };
    let early = work.join("early-link");
    if name == "audit_log" {
        std::fs::create_dir_all(work.join("logs")).unwrap();
    }
    if name == "exec_link" {
        // Left by an earlier run: the launched file is a link to a denied program.
        std::fs::create_dir_all(work.join("bin")).unwrap();
        std::os::unix::fs::symlink("/usr/bin/curl", work.join("bin/tool")).unwrap();
    }
    hand_over(&root);
    if name == "audit_log" {
        let first = mxcc_run(&work, &suite, &log, agent)
            .args(["--", "/bin/true"])
            .output()
            .unwrap();
        assert_eq!(first.status.code(), Some(0), "{first:?}");
        std::fs::hard_link(&log, &early).unwrap();
    }
    // stdin: a host file outside the policy, passed read-only (as `< FILE` would).
    let host_stdin = root.join("host-stdin");
    std::fs::write(&host_stdin, "HOST-STDIN").unwrap();
    let out = mxcc_run(&work, &suite, &log, agent)
        .args(options)
        .stdin(std::fs::File::open(&host_stdin).unwrap())
        .args(["--", "/usr/bin/python3", "-B"])
        .arg(suite.join(format!("{name}.py")))
        .env("WORK", &work)
        .env("SUITE", &suite)
        .env("HOST_UNIX", &host.unix)
        .env("HOST_ABSTRACT", &host.abstract_name)
        .env("HOST_TCP_PORT", host.tcp_port.to_string())
        .env("HOST_UDP_PORT", host.udp_port.to_string())
        .env("HOST_ANY_TCP_PORT", host.any_tcp_port.to_string())
        .env("HOST_ANY_UDP_PORT", host.any_udp_port.to_string())
        .env("HOST_ADDRS", &host.addrs)
        .env("HOST_SHM_ID", host.shm_id.to_string())
        .env("HOST_MQ", &host.mq_name)
        .env("HOST_PID", std::process::id().to_string())
        .env(
            "HOST_IPC_NS",
            std::fs::read_link("/proc/self/ns/ipc").unwrap(),
        )
        .env("HOST_AUDIT_LOG", &log)
        .env("HOST_AUDIT_LINK", &early)
        // In mxcc's environment only (the policy does not pass it): must not leak.
        .env("MXC_ESCAPE_SECRET_ENV", "TOP-SECRET-ENV")
        .output()
        .unwrap();
    let _ = Command::new("/usr/bin/python3")
        .arg(suite.join("_host_ipc.py"))
        .arg("remove")
        .arg(host.shm_id.to_string())
        .arg(&host.mq_name[1..])
        .status();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "escape `{name}` ({agent}): exit {:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    assert!(stdout.contains("held:"), "{stdout}");
    assert!(!stdout.contains("TOP-SECRET") && !stdout.contains("secret-service"));
    assert!(!stdout.contains("TOP-SECRET-ENV"));
    assert_eq!(std::fs::read_to_string(&host_stdin).unwrap(), "HOST-STDIN");
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(
        host.udp_got.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "escape `{name}` ({agent}): a datagram reached the host's UDP service\n{stdout}"
    );
    // The secret is untouched and the log is intact.
    let mut key = String::new();
    std::fs::File::open(work.join("secret/key"))
        .unwrap()
        .read_to_string(&mut key)
        .unwrap();
    assert_eq!(key, "TOP-SECRET");
    // The log ends where mxcc said it does (the hash it printed at exit), and where
    // its head file says.
    let hash = last_hash(&stderr, &log);
    for expect in [Some(hash.as_str()), None] {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mxcc"));
        c.args(["audit", "verify"]);
        if let Some(h) = expect {
            c.args(["--expect", h]);
        }
        let v = c.arg(&log).output().unwrap();
        assert_eq!(
            v.status.code(),
            Some(0),
            "{}{}",
            String::from_utf8_lossy(&v.stdout),
            String::from_utf8_lossy(&v.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::remove_file(&host.unix);
}

/// Gives the secret an extended attribute holding a secret too (`user.mxc_secret`:
/// "TOP-SECRET-XATTR"), which no escape may print.
fn set_secret_xattr(key: &Path) {
    let st = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg("import os, sys; os.setxattr(sys.argv[1], 'user.mxc_secret', b'TOP-SECRET-XATTR')")
        .arg(key)
        .status()
        .unwrap();
    assert!(st.success(), "setting the secret's extended attribute");
}

/// The last record's hash, from `mxcc run`'s line `mxcc: audit log PATH: N records,
/// last hash HEX`.
fn last_hash(stderr: &str, log: &Path) -> String {
    let prefix = format!("mxcc: audit log {}: ", log.display());
    let line = stderr
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no audit summary line in:\n{stderr}"));
    let hash = line.rsplit(' ').next().unwrap().to_string();
    assert_eq!(hash.len(), 64, "{line}");
    hash
}

macro_rules! escapes {
    ($($name:ident),* $(,)?) => {
        /// The process tier.
        mod process {
            $(#[test] fn $name() { super::escape(stringify!($name), "escape"); })*
        }
        /// The container tier.
        mod container {
            $(#[test] fn $name() { super::escape(stringify!($name), "escape-container"); })*
        }
    };
}

escapes!(
    symlink,
    hardlink,
    rename,
    dotdot,
    proc_root,
    proc_fd,
    dirfd,
    io_uring,
    ptrace,
    sockets,
    unix_host,
    net,
    exec,
    tty_signals,
    stat,
    git_hooks,
    privileges,
    proc_relative,
    audit_log,
    caps,
    mounts,
    seccomp_listener,
    metadata,
    rename_tree,
    deep,
    seccomp_args,
    sysv_ipc,
    outside_procs,
    new_syscalls,
    int80,
    inherited,
    core_dump,
    proxy_from,
    proxy_from_exec,
    peercred,
    tty_ldisc,
    fcred,
    seams,
);

/// Races where the kernel reads arguments again, and addresses that are loopback in
/// disguise (issue 9, classes 4 and 6), under `escape-race`: the suite's policy plus an
/// app rule decided by arguments and every host allowed but `localhost`.
mod race {
    macro_rules! race_escapes {
        ($($name:ident),* $(,)?) => {
            mod process {
                $(#[test] fn $name() { super::super::escape(stringify!($name), "escape-race"); })*
            }
            mod container {
                $(#[test] fn $name() {
                    super::super::escape(stringify!($name), "escape-race-container");
                })*
            }
        };
    }
    race_escapes!(exec_race, connect_race, send_race, addresses, local_addrs);

    /// Process tier only: the attack reuses a host thread id, which the container's pid
    /// namespace does not show.
    #[test]
    fn stale_memory() {
        super::escape("stale_memory", "escape-race");
    }
}

/// A policy Landlock expresses exactly (`escape-exact`), where file calls are not held:
/// what Landlock has no right for (extended attribute reads, inotify watches) must
/// still be decided.
mod exact {
    #[test]
    fn xattr_watch_process() {
        super::escape("xattr_watch", "escape-exact");
    }

    #[test]
    fn xattr_watch_container() {
        super::escape("xattr_watch", "escape-exact-container");
    }
}

/// `--explain` holds every file call for the supervisor (to tell each denial), where
/// Landlock alone decided them: it must not let through what Landlock refused. The
/// file escapes again with it, under a policy Landlock expresses exactly and under the
/// suite's own.
mod explain {
    macro_rules! explained {
        ($($name:ident: $script:literal, $agent:literal;)*) => {
            $(#[test] fn $name() {
                super::escape_with($script, $agent, &["--explain"]);
            })*
        };
    }
    explained!(
        xattr_watch_exact: "xattr_watch", "escape-exact";
        xattr_watch_exact_container: "xattr_watch", "escape-exact-container";
        symlink: "symlink", "escape";
        hardlink: "hardlink", "escape";
        rename: "rename", "escape";
        dotdot: "dotdot", "escape";
        dirfd: "dirfd", "escape";
        proc_fd: "proc_fd", "escape";
        symlink_container: "symlink", "escape-container";
        rename_container: "rename", "escape-container";
    );
}

/// A policy that lets the agent write procfs (`escape-procw`): the kernel's settings
/// and processes' memory stay out of reach (`procfs_write.py`).
mod procw {
    #[test]
    fn procfs_write_process() {
        super::escape("procfs_write", "escape-procw");
    }

    #[test]
    fn procfs_write_container() {
        super::escape("procfs_write", "escape-procw-container");
    }
}

/// A policy that lets the agent write sysfs (`escape-sysw`): the kernel's attributes
/// stay out of reach (`sysfs_write.py`).
mod sysw {
    #[test]
    fn sysfs_write_process() {
        super::escape("sysfs_write", "escape-sysw");
    }

    #[test]
    fn sysfs_write_container() {
        super::escape("sysfs_write", "escape-sysw-container");
    }
}

/// A writable tree named through a link of the host's, and a link the agent leaves in
/// it, which a later run under the same policy must not follow (`alias.py`). The link
/// is trusted only when the test runs as root (as mxc-ci every file of the test is the
/// agent's, and the grants are supervised): held either way.
fn alias(agent: &str) {
    let root =
        std::env::temp_dir().join(format!("mxc-escape-{}-alias-{agent}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let work = root.join("work");
    std::fs::create_dir_all(work.join("secret")).unwrap();
    std::fs::write(work.join("secret/key"), "TOP-SECRET").unwrap();
    std::fs::create_dir_all(work.join("real/w/sub")).unwrap();
    std::os::unix::fs::symlink("real", work.join("lnk")).unwrap();
    hand_over(&root);
    let suite = suite().canonicalize().unwrap();
    let mut said = String::new();
    for step in ["plant", "read"] {
        let out = mxcc_run(&work, &suite, &root.join("audit.log"), agent)
            .args(["--", "/usr/bin/python3", "-B"])
            .arg(suite.join("alias.py"))
            .arg(step)
            .env("WORK", &work)
            .env("SUITE", &suite)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        said += &format!(
            "--- {step}: {:?}\n{stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(0), "alias ({agent}):\n{said}");
        assert!(stdout.contains("held:"), "alias ({agent}):\n{said}");
        assert!(!stdout.contains("TOP-SECRET"), "alias ({agent}):\n{said}");
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn alias_process() {
    alias("escape-alias");
}

#[test]
fn alias_container() {
    alias("escape-alias-container");
}

/// The audit log on a small file system the sandbox fills and frees again
/// (`audit_partial.py`; a tmpfs of 512 KiB mounted by the test, which needs root): every
/// read the sandbox made while the disk was full is in the log or was refused, and the
/// log stays one chain once the run is over: `mxcc audit verify` passes, or says only
/// that records could not be written (`lost_before`), never that a record is broken (a
/// half record glued to the next one ruined the log).
#[test]
fn audit_partial_record() {
    for agent in ["escape", "escape-container"] {
        let root = std::env::temp_dir().join(format!(
            "mxc-escape-{}-audit-full-{agent}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=512k,mode=0755", "mxc-escape"])
            .arg(&root)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            mounted,
            "audit_full_disk mounts a small tmpfs: it needs root"
        );
        let work = root.join("work");
        std::fs::create_dir_all(work.join("logs")).unwrap();
        hand_over(&root);
        let log = work.join("logs/audit.log");
        let suite = suite().canonicalize().unwrap();
        let out = mxcc_run(&work, &suite, &log, agent)
            .args(["--", "/usr/bin/python3", "-B"])
            .arg(suite.join("audit_partial.py"))
            .env("WORK", &work)
            .env("SUITE", &suite)
            .output()
            .unwrap();
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let verify = Command::new(env!("CARGO_BIN_EXE_mxcc"))
            .args(["audit", "verify"])
            .arg(&log)
            .output()
            .unwrap();
        let _ = Command::new("umount").arg(&root).status();
        let _ = std::fs::remove_dir_all(&root);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let said = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{agent}: {said}");
        let verified = format!(
            "{}{}",
            String::from_utf8_lossy(&verify.stdout),
            String::from_utf8_lossy(&verify.stderr)
        );
        assert!(
            verify.status.code() == Some(0)
                || (verify.status.code() == Some(1) && verified.contains("could not be written")),
            "{agent}: the sandbox ruined the audit log: {verified}\n{said}"
        );
        let ok: usize = stdout
            .split("READS-WHILE-FULL=")
            .nth(1)
            .and_then(|r| r.trim().parse().ok())
            .unwrap_or_else(|| panic!("{agent}: {said}"));
        let during = format!("\"path\":\"{}\"", work.join("during").display());
        let recorded = text
            .lines()
            .filter(|l| l.contains("\"activity_name\":\"read\"") && l.contains(&during))
            .count();
        assert!(
            recorded >= ok,
            "{agent}: {ok} reads allowed while the disk was full, {recorded} recorded\n{said}"
        );
    }
}

/// `mxcc` killed while its child is between `fork` and `exec` (held there by `strace`,
/// which delays each `prctl` by 1.5 s, so the kill lands before the child sets its
/// parent-death signal): nothing of the run may stay. The child kept a copy of the
/// supervisor's end of the report socket and of the watchdog's alarm, so it waited for
/// an answer forever and the watchdog never fired. Needs `strace`.
#[test]
fn interrupted_start_leaves_nothing() {
    let kids = |pid: u32| -> Vec<u32> {
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| {
                let p: u32 = e.file_name().to_str()?.parse().ok()?;
                let st = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
                let ppid: u32 = st
                    .rsplit(')')
                    .next()?
                    .split_whitespace()
                    .nth(1)?
                    .parse()
                    .ok()?;
                let comm = std::fs::read_to_string(format!("/proc/{p}/comm")).ok()?;
                (ppid == pid && comm.trim() == "mxcc").then_some(p)
            })
            .collect()
    };
    let root = std::env::temp_dir().join(format!("mxc-escape-{}-interrupted", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    hand_over(&root);
    let suite = suite().canonicalize().unwrap();
    let run = mxcc_run(&work, &suite, &root.join("audit.log"), "escape");
    let mut tracer = Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "-e", "trace=prctl"])
        .args(["-e", "inject=prctl:delay_enter=1500000"])
        .arg(run.get_program())
        .args(run.get_args())
        .args(["--", "/usr/bin/true"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("interrupted_start_leaves_nothing needs strace");
    // mxcc (strace's child, or setpriv's exec of it) and its child.
    let start = std::time::Instant::now();
    let (mxcc, child) = loop {
        let found = kids(tracer.id())
            .into_iter()
            .find_map(|m| kids(m).first().map(|&c| (m, c)));
        if let Some(f) = found {
            break f;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "mxcc never forked its child"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let killed = Command::new("kill")
        .args(["-KILL", &mxcc.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // The child goes (with the fix, at its next wait for mxcc); allow it the delays.
    let start = std::time::Instant::now();
    let mut left = true;
    while start.elapsed() < std::time::Duration::from_secs(30) {
        if !std::path::Path::new(&format!("/proc/{child}")).exists()
            || std::fs::read_to_string(format!("/proc/{child}/stat")).is_ok_and(|s| {
                s.rsplit(')')
                    .next()
                    .is_some_and(|r| r.trim_start().starts_with('Z'))
            })
        {
            left = false;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if left {
        let _ = Command::new("kill")
            .args(["-KILL", &child.to_string()])
            .status();
    }
    let _ = tracer.kill();
    let _ = tracer.wait();
    let _ = std::fs::remove_dir_all(&root);
    assert!(!left, "the child of a killed mxcc stayed (pid {child})");
}

/// Launch trees missing at start in a place the agent writes (`escape-tree`: the suite's
/// policy plus `allow launch "${work}/tools/**"`, `${work}/tools` made by the agent).
mod tree {
    #[test]
    fn launch_tree_process() {
        super::escape("launch_tree", "escape-tree");
    }

    #[test]
    fn launch_tree_container() {
        super::escape("launch_tree", "escape-tree-container");
    }

    /// The tree mxcc made for the run is removed at its end when the run left it empty
    /// (no empty `~/.pyenv/versions` left behind on a machine without pyenv), and was
    /// there during the run.
    #[test]
    fn made_tree_removed_when_empty() {
        let root = std::env::temp_dir().join(format!("mxc-escape-{}-made", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let work = root.join("work");
        std::fs::create_dir_all(&work).unwrap();
        super::hand_over(&root);
        let suite = super::suite().canonicalize().unwrap();
        let out = super::mxcc_run(&work, &suite, &root.join("audit.log"), "escape-tree")
            .args(["--", "/usr/bin/test", "-d"])
            .arg(work.join("tools"))
            .output()
            .unwrap();
        let left = work.join("tools").exists();
        let _ = std::fs::remove_dir_all(&root);
        assert_eq!(out.status.code(), Some(0), "not made: {out:?}");
        assert!(!left, "the empty tree was left behind");
    }

    /// A start that fails after the tree was made (here: the audit log cannot be
    /// opened) leaves no tree behind either: nothing ran that could have wanted it.
    #[test]
    fn made_tree_removed_on_failed_start() {
        for agent in ["escape-tree", "escape-tree-container"] {
            let root = std::env::temp_dir().join(format!(
                "mxc-escape-{}-made-failed-{agent}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&root);
            let work = root.join("work");
            std::fs::create_dir_all(&work).unwrap();
            super::hand_over(&root);
            let suite = super::suite().canonicalize().unwrap();
            let out = super::mxcc_run(&work, &suite, &root.join("no-such-dir/audit.log"), agent)
                .args(["--", "/usr/bin/true"])
                .output()
                .unwrap();
            let left = work.join("tools").exists();
            let _ = std::fs::remove_dir_all(&root);
            assert_eq!(out.status.code(), Some(125), "{agent}: {out:?}");
            assert!(
                String::from_utf8_lossy(&out.stderr).contains("cannot open the audit log"),
                "{agent}: {out:?}"
            );
            assert!(
                !left,
                "{agent}: a run that never started left its tree behind"
            );
        }
    }

    #[test]
    fn exec_link_process() {
        super::escape("exec_link", "escape-tree");
    }

    #[test]
    fn exec_link_container() {
        super::escape("exec_link", "escape-tree-container");
    }
}

/// `from` as a deny (`escape-from`: the host's services allowed, but not to python).
mod from {
    #[test]
    fn from_leader_process() {
        super::escape("from_leader", "escape-from");
    }

    #[test]
    fn from_leader_container() {
        super::escape("from_leader", "escape-from-container");
    }
}

/// The agent fills the file system of the audit log (the workspace and the log share a
/// 4 MiB tmpfs, mounted in a mount namespace of the test's own: root only), then
/// launches programs the policy allows (`audit all`): each that ran is recorded, and the
/// records that could not be written leave no silent gap (`mxcc audit verify`, with the
/// head file and with the hash `mxcc` printed, says the log is incomplete).
#[test]
fn audit_full_disk() {
    let uid = Command::new("id").arg("-u").output().unwrap();
    if run_as().is_some() || String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        eprintln!("audit_full_disk: needs root (mounts a tmpfs); skipped");
        return;
    }
    let root = std::env::temp_dir().join(format!("mxc-escape-{}-full", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let fs = root.join("fs");
    std::fs::create_dir_all(&fs).unwrap();
    let suite = suite().canonicalize().unwrap();
    let work = fs.join("work");
    let log = fs.join("audit.log");
    let inner = mxcc_run(&work, &suite, &log, "escape");
    // The run and the copy of its log in one mount namespace: the tmpfs goes with it.
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "--", "/bin/sh", "-c"])
        .arg(format!(
            "mount -t tmpfs -o size=4m tmpfs '{fs}' && mkdir '{fs}/work' && \
             {{ \"$@\" > '{root}/out' 2> '{root}/err'; \
             cp '{log}' '{log}.head' '{root}/'; }}",
            fs = fs.display(),
            root = root.display(),
            log = log.display()
        ))
        .arg("sh")
        .arg(inner.get_program())
        .args(inner.get_args())
        .args(["--", "/usr/bin/python3", "-B"])
        .arg(suite.join("audit_full.py"))
        .env("WORK", &work)
        .env("SUITE", &suite)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = std::fs::read_to_string(root.join("out")).unwrap();
    let stderr = std::fs::read_to_string(root.join("err")).unwrap();
    assert!(stdout.contains("held:"), "{stdout}\n{stderr}");
    let ran: usize = stdout
        .lines()
        .find_map(|l| l.strip_prefix("ran "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{stdout}\n{stderr}"));
    let saved = root.join("audit.log");
    let text = std::fs::read_to_string(&saved).unwrap();
    let recorded = text
        .lines()
        .filter(|l| {
            l.contains("\"cmd_line\":\"/usr/bin/true mxc-unseen-") && l.contains("\"Allowed\"")
        })
        .count();
    assert!(
        recorded >= ran,
        "{ran} launches ran, {recorded} recorded:\n{stdout}\n{stderr}"
    );
    assert!(stderr.contains("INCOMPLETE"), "{stderr}");
    let hash = last_hash(&stderr, &log);
    for expect in [Some(hash.as_str()), None] {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mxcc"));
        c.args(["audit", "verify"]);
        if let Some(h) = expect {
            c.args(["--expect", h]);
        }
        let v = c.arg(&saved).output().unwrap();
        assert_eq!(
            v.status.code(),
            Some(1),
            "a log with lost records passed verify (--expect {expect:?}): {}{}",
            String::from_utf8_lossy(&v.stdout),
            String::from_utf8_lossy(&v.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// Every denial is in the audit log, under the agent's identity, with the deciding rule.
#[test]
fn denials_are_audited() {
    let root = std::env::temp_dir().join(format!("mxc-escape-{}-audit", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let work = root.join("work");
    std::fs::create_dir_all(work.join("secret")).unwrap();
    std::fs::write(work.join("secret/key"), "TOP-SECRET").unwrap();
    hand_over(&root);
    let log = root.join("audit.log");
    let suite = suite().canonicalize().unwrap();
    let out = mxcc_run(&work, &suite, &log, "escape")
        .args(["--", "/bin/cat"])
        .arg(work.join("secret/key"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(&log).unwrap();
    let denial = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["disposition"] == "Blocked")
        .expect("a denial record");
    assert_eq!(denial["class_uid"], 1001);
    assert_eq!(
        denial["file"]["path"],
        work.join("secret/key").to_str().unwrap()
    );
    let mxc = &denial["unmapped"]["mxc"];
    assert_eq!(mxc["right"], "read");
    assert_eq!(mxc["reason"], "the escape suite's secret");
    assert!(mxc["rule"]["file"]
        .as_str()
        .unwrap()
        .ends_with("escapes.mxc"));
    assert!(denial["actor"]["user"]["name"]
        .as_str()
        .unwrap()
        .starts_with("local("));
    let _ = std::fs::remove_dir_all(&root);
}

/// The `ask` question on the user's terminal, attacked from the sandbox (driven from a
/// pseudo-terminal by `_ask_terminal.py`: what it attacks is described there).
fn ask_terminal(agent: &str) {
    let root = std::env::temp_dir().join(format!("mxc-escape-{}-ask-{agent}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let work = root.join("work");
    std::fs::create_dir_all(work.join("asked")).unwrap();
    let suite = suite().canonicalize().unwrap();
    let out = Command::new("/usr/bin/python3")
        .arg("-B")
        .arg(suite.join("_ask_terminal.py"))
        .arg(env!("CARGO_BIN_EXE_mxcc"))
        .arg(suite.join("escapes.mxc"))
        .arg(agent)
        .arg(&work)
        .arg(&suite)
        .arg(root.join("audit.log"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "ask terminal ({agent}):\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn ask_terminal_process() {
    ask_terminal("escape");
}

#[test]
fn ask_terminal_container() {
    ask_terminal("escape-container");
}

/// Inbound connections: with no `bind` rule at all, the agent listens (an explicit
/// `bind` to port 0, and `listen` on an unbound socket, which the kernel binds itself)
/// and serves whoever connects. Here the agent tells the port on its stdout and this
/// test (standing in for any host on the network) connects to it: what the agent sends
/// then leaves the sandbox without any `connect` or `sendto` being decided.
fn inbound(agent: &str) {
    use std::io::BufRead;
    let root =
        std::env::temp_dir().join(format!("mxc-escape-{}-inbound-{agent}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let suite = suite().canonicalize().unwrap();
    let code = r#"
import socket
ports = []
for explicit in (True, False):
    s = socket.socket()
    try:
        if explicit:
            s.bind(("0.0.0.0", 0))
        s.listen(4)
        ports.append(s)
    except OSError as e:
        print("refused:", e, flush=True)
print("PORTS", *[s.getsockname()[1] for s in ports], flush=True)
for s in ports:
    s.settimeout(10)
    try:
        c, _ = s.accept()
        c.sendall(b"served-inbound")
        c.close()
    except OSError as e:
        print("no connection:", e, flush=True)
"#;
    let mut child = mxcc_run(&work, &suite, &root.join("audit.log"), agent)
        .args(["--", "/usr/bin/python3", "-B", "-c", code])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut served = Vec::new();
    let mut said = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        said.push(line.clone());
        if let Some(ports) = line.strip_prefix("PORTS") {
            for p in ports.split_whitespace() {
                let port: u16 = p.parse().unwrap();
                let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
                let Ok(mut s) =
                    std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(3))
                else {
                    continue;
                };
                s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                    .unwrap();
                let mut got = String::new();
                let _ = s.read_to_string(&mut got);
                // Only the agent's own answer counts: the container tier's ports are
                // its own network namespace's, and one may equal the port of a
                // service of this host (another escape's `secret-service`, seen once
                // in CI), which then answers instead.
                if got.contains("served-inbound") {
                    served.push(format!("port {port}: {got}"));
                }
            }
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&root);
    assert!(
        served.is_empty(),
        "inbound ({agent}): the agent served connections from outside: {served:?}; it said {said:?}"
    );
}

#[test]
fn inbound_process() {
    inbound("escape");
}

#[test]
fn inbound_container() {
    inbound("escape-container");
}

/// A symlink planted by one run at a path another rule grants (`${work}/cache`, inside
/// the tree the agent may change), pointing outside. When the rules are all plain
/// `allow`s Landlock expresses exactly, file calls are not held: if the next run's
/// Landlock grant follows the symlink, it lands on the target, and the agent reads
/// what no rule allows (`outside/key`, beside the workspace).
fn planted(agent: &str) {
    let root =
        std::env::temp_dir().join(format!("mxc-escape-{}-planted-{agent}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let work = root.join("work");
    let outside = root.join("outside");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("key"), "TOP-SECRET").unwrap();
    let policy = suite().canonicalize().unwrap().join("planted.mxc");
    let run = |code: &str| {
        Command::new(env!("CARGO_BIN_EXE_mxcc"))
            .arg("run")
            .arg(&policy)
            .args(["--agent", agent, "--ask", "deny", "--param"])
            .arg(format!("work={}", work.display()))
            .args(["--", "/usr/bin/python3", "-B", "-c", code])
            .arg(&work)
            .arg(&outside)
            .output()
            .unwrap()
    };
    let read = r#"
import sys
work, outside = sys.argv[1:3]
for p in (outside + "/key", work + "/cache/key"):
    try:
        print("ESCAPED:", p, open(p).read())
    except OSError as e:
        print("held:", p, e)
"#;
    // The control: before any symlink, the key outside is out of reach.
    let first = run(read);
    let first = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(first.contains("held:"), "{first}");
    // Run 1 plants the symlink (it may create anything in the workspace).
    let plant = run("import os, sys\nos.symlink(sys.argv[2], sys.argv[1] + '/cache')");
    assert!(plant.status.success(), "{plant:?}");
    assert!(work.join("cache").is_symlink());
    // Run 2 reads through it.
    let second = run(read);
    let stdout = String::from_utf8_lossy(&second.stdout).into_owned();
    let _ = std::fs::remove_dir_all(&root);
    assert!(
        !first.contains("TOP-SECRET") && !stdout.contains("TOP-SECRET"),
        "planted ({agent}): a symlink planted by an earlier run widened the grant:\n{stdout}"
    );
}

#[test]
fn planted_process() {
    planted("planted");
}

#[test]
fn planted_container() {
    planted("planted-container");
}

/// A directory granted `write`, moved by the agent (itself, or an ancestor of it) to a
/// place where the policy grants only `read`, `create` and `delete`: Landlock's rights
/// stay on the directory's inode, so unless the move (or what follows it) is decided,
/// the files beneath it stay writable at their new paths. Under `moved.mxc`, whose
/// plain `allow`s Landlock expresses exactly.
fn moved(agent: &str) {
    let root =
        std::env::temp_dir().join(format!("mxc-escape-{}-moved-{agent}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let work = root.join("work");
    for d in ["rw", "a/rw", "x/rw"] {
        std::fs::create_dir_all(work.join(d)).unwrap();
        std::fs::write(work.join(d).join("f"), "original").unwrap();
    }
    std::fs::create_dir_all(work.join("empty")).unwrap();
    let policy = suite().canonicalize().unwrap().join("moved.mxc");
    let code = r#"
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
w = sys.argv[1]
def write(p):
    with open(p, "w") as f:
        f.write("ESCAPED")
try:
    write(w + "/rw/f")
    print("control ok")
except OSError as e:
    print("control failed:", e)
def attack(what, move, path):
    try:
        move()
    except OSError as e:
        print("held:", what, e)
        return
    try:
        write(path)
        print("ESCAPED:", what, path)
    except OSError as e:
        print("held:", what, e)
attack("move the granted directory", lambda: os.rename(w + "/rw", w + "/ro"), w + "/ro/f")
attack("move an ancestor of the granted directory",
       lambda: os.rename(w + "/a", w + "/b"), w + "/b/rw/f")
def exchange():
    if libc.syscall(316, -100, (w + "/x/rw").encode(), -100, (w + "/empty").encode(), 2) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
attack("exchange the granted directory with another", exchange, w + "/empty/f")
"#;
    let out = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(&policy)
        .args(["--agent", agent, "--ask", "deny", "--param"])
        .arg(format!("work={}", work.display()))
        .args(["--", "/usr/bin/python3", "-B", "-c", code])
        .arg(&work)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let _ = std::fs::remove_dir_all(&root);
    assert!(stdout.contains("control ok"), "moved ({agent}): {out:?}");
    assert!(
        !stdout.contains("ESCAPED"),
        "moved ({agent}): a moved grant stayed writable:\n{stdout}"
    );
}

#[test]
fn moved_process() {
    moved("moved");
}

#[test]
fn moved_container() {
    moved("moved-container");
}

/// `--learn` is a throwaway run, but a host daemon's unix socket in a top-level
/// directory with mounts beneath it (the shape of `/run`) stays reachable: see
/// `_learn_daemon.py`. Needs root for its private mount namespace (`unshare -m`); as
/// an unprivileged user it is not run.
#[test]
fn learn_daemon() {
    if !std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
    {
        eprintln!("learn_daemon: needs root (a private mount namespace); not run");
        return;
    }
    let root = std::env::temp_dir().join(format!("mxc-escape-{}-learn", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let suite = suite().canonicalize().unwrap();
    let out = Command::new("/usr/bin/unshare")
        .args(["-m", "--propagation", "private", "/usr/bin/python3", "-B"])
        .arg(suite.join("_learn_daemon.py"))
        .arg(env!("CARGO_BIN_EXE_mxcc"))
        .arg(suite.join("planted.mxc"))
        .arg(&work)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&root);
    assert_eq!(
        out.status.code(),
        Some(0),
        "learn_daemon:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A procfs mounted somewhere other than `/proc` (here beside the workspace, where the
/// policy grants nothing, by the host in a private mount namespace: the agent itself
/// cannot mount). A link through it means something else to each process that follows
/// it, as through `/proc`: `.git/hooks -> ROOT/altproc/self/cwd/tpl` is the
/// repository's writable `tpl` to git, while the text names a place with no right at
/// all (so comparing the text's rights does not refuse it). Recognised
/// by the file system's type, not by `/proc`'s device (each procfs mount is its own).
/// Needs root (the mount); as an unprivileged user it is not run.
#[test]
fn alt_procfs() {
    if !std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
    {
        eprintln!("alt_procfs: needs root (a procfs mount); not run");
        return;
    }
    let root = std::env::temp_dir().join(format!("mxc-escape-{}-altproc", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let work = root.join("work");
    std::fs::create_dir_all(root.join("altproc")).unwrap();
    std::fs::create_dir_all(work.join("repo/.git")).unwrap();
    std::fs::create_dir_all(work.join("repo/tpl")).unwrap();
    let suite = suite().canonicalize().unwrap();
    let code = r#"
import os, sys
w, r = sys.argv[1:3]
try:
    os.symlink(w + "/repo/tpl", w + "/plain")
    print("control ok")
except OSError as e:
    print("control failed:", e)
for text in ("/altproc/self/cwd/tpl", "/altproc/thread-self/cwd/tpl"):
    try:
        os.symlink(r + text, w + "/repo/.git/hooks")
        print("ESCAPED:", text)
        os.unlink(w + "/repo/.git/hooks")
    except OSError as e:
        print("held:", text, e)
"#;
    let script = r#"mount -t proc proc "$1/altproc" && shift && exec "$@""#;
    let out = Command::new("/usr/bin/unshare")
        .args([
            "-m",
            "--propagation",
            "private",
            "/bin/sh",
            "-c",
            script,
            "sh",
        ])
        .arg(&root)
        .arg(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(suite.join("escapes.mxc"))
        .args(["--agent", "escape", "--ask", "deny", "--param"])
        .arg(format!("work={}", work.display()))
        .arg("--param")
        .arg(format!("suite={}", suite.display()))
        .args(["--", "/usr/bin/python3", "-B", "-c", code])
        .arg(&work)
        .arg(&root)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&root);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("control ok"), "alt_procfs: {out:?}");
    assert!(
        !stdout.contains("ESCAPED") && stdout.contains("held:"),
        "alt_procfs: a link through a procfs mounted elsewhere was made:\n{stdout}"
    );
}

/// procfs when file calls are not held (planted.mxc: rules Landlock expresses exactly,
/// `/proc/**` readable): the supervisor's "outside the sandbox" check never runs, so
/// only the kernel stands between the agent and the environment and command line of
/// mxcc (its parent in the process tier; in the container tier the parent is MXC's
/// init, a copy of mxcc) and of the host's init.
fn exact_procfs(agent: &str) {
    let root = std::env::temp_dir().join(format!(
        "mxc-escape-{}-exact-procfs-{agent}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&root);
    let work = root.join("work");
    // Every grant lands on an existing path: file calls are not held.
    std::fs::create_dir_all(work.join("cache")).unwrap();
    let code = r#"
import os
for pid in sorted({os.getppid(), 1}):
    for f in ("environ", "cmdline"):
        try:
            data = open(f"/proc/{pid}/{f}", "rb").read()
            # Only whether it was read and holds the harness's marker (spelt in two parts:
            # this code is in mxcc's command line), not what it says.
            print("read", pid, f, len(data), "bytes", (b"TOP-SECRET" + b"-ENV") in data and "TOP-SECRET" + "-ENV")
        except OSError as e:
            print("held:", pid, f, e)
"#;
    let out = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(suite().canonicalize().unwrap().join("planted.mxc"))
        .args(["--agent", agent, "--ask", "deny", "--param"])
        .arg(format!("work={}", work.display()))
        .args(["--", "/usr/bin/python3", "-B", "-c", code])
        // In mxcc's environment only (the policy passes PATH and LANG): must not leak.
        .env("MXC_ESCAPE_SECRET_ENV", "TOP-SECRET-ENV")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let _ = std::fs::remove_dir_all(&root);
    assert!(stdout.contains("environ"), "{stdout}");
    assert!(
        !stdout.contains("TOP-SECRET-ENV"),
        "exact_procfs ({agent}): mxcc's environment reached the agent:\n{stdout}"
    );
    // Nor anything else of a process outside the sandbox (docs/enforcement.md: "/proc/PID/...
    // of a process outside the sandbox is refused").
    assert!(
        !stdout.contains("read "),
        "exact_procfs ({agent}): procfs of a process outside the sandbox:\n{stdout}"
    );
}

#[test]
fn exact_procfs_process() {
    exact_procfs("planted");
}

#[test]
fn exact_procfs_container() {
    exact_procfs("planted-container");
}

/// An escape program run under planted.mxc (file calls not held: see `planted`), with
/// `${work}/cache` made so every grant lands exactly.
fn exact(name: &str, agent: &str) {
    let root =
        std::env::temp_dir().join(format!("mxc-escape-{}-{name}-{agent}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let work = root.join("work");
    std::fs::create_dir_all(work.join("cache")).unwrap();
    let suite = suite().canonicalize().unwrap();
    // planted.mxc grants no suite directory: the program runs from a copy in the
    // workspace.
    let prog = work.join("prog");
    std::fs::create_dir_all(&prog).unwrap();
    for f in ["_lib.py".to_string(), format!("{name}.py")] {
        std::fs::copy(suite.join(&f), prog.join(&f)).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(suite.join("planted.mxc"))
        .args(["--agent", agent, "--ask", "deny", "--param"])
        .arg(format!("work={}", work.display()))
        .args(["--", "/usr/bin/python3", "-B"])
        .arg(work.join(format!("prog/{name}.py")))
        .env("WORK", &work)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&root);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "escape `{name}` ({agent}, planted.mxc):\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("held:"), "{stdout}");
}

#[test]
fn exact_mknod_process() {
    exact("exact_mknod", "planted");
}

#[test]
fn exact_mknod_container() {
    exact("exact_mknod", "planted-container");
}

/// `--learn` and the host's terminals: see `_learn_pts.py`.
#[test]
fn learn_pts() {
    let root = std::env::temp_dir().join(format!("mxc-escape-{}-learn-pts", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let suite = suite().canonicalize().unwrap();
    let out = Command::new("/usr/bin/python3")
        .arg("-B")
        .arg(suite.join("_learn_pts.py"))
        .arg(env!("CARGO_BIN_EXE_mxcc"))
        .arg(suite.join("planted.mxc"))
        .arg(&work)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&root);
    assert_eq!(
        out.status.code(),
        Some(0),
        "learn_pts:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The pid a connection made by the supervisor carries (SO_PEERCRED) is mxcc's own
/// process: a service that looks it up must find no capability the agent lacks. While
/// the sandbox runs, mxcc's process (its main thread, what `/proc/PID/status` shows)
/// holds at most CAP_KILL, in every set, the bounding set included.
fn mxcc_holds_no_capabilities(agent: &str) {
    let root = std::env::temp_dir().join(format!("mxc-escape-{}-caps-{agent}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    hand_over(&root);
    let suite = suite().canonicalize().unwrap();
    let mut child = mxcc_run(&work, &suite, &root.join("audit.log"), agent)
        .args(["--", "/usr/bin/sleep", "5"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    // Set-up done: the command started (the audit log's "run started").
    let log = root.join("audit.log");
    let mut seen = String::new();
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        if std::fs::read_to_string(&log).is_ok_and(|l| l.contains("run started")) {
            seen = std::fs::read_to_string(&status).unwrap_or_default();
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&root);
    assert!(!seen.is_empty(), "the sandboxed command never started");
    for set in ["CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"] {
        if set == "CapBnd:" && run_as().is_some() {
            // An unprivileged mxcc cannot empty its bounding set (that needs
            // CAP_SETPCAP), nor can its sandbox in the process tier: it holds nothing in
            // its permitted or effective sets, which are checked.
            continue;
        }
        let v = seen
            .lines()
            .find_map(|l| l.strip_prefix(set))
            .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
            .unwrap();
        assert_eq!(
            v & !(1 << 5),
            0,
            "mxcc ({agent}) holds capabilities while the sandbox runs: {set} {v:x}"
        );
    }
}

/// Blocking calls the supervisor answers from worker threads, left behind by callers
/// the sandbox killed (`workers.py`): `mxcc` keeps at most its bound of workers
/// (`MAX_WORKERS`, 128) however many the sandbox starts (300 here), so it keeps no
/// thread nor descriptor per call without limit. Counted from outside while the
/// sandbox waits.
fn workers(agent: &str) {
    threads_held("workers", agent, 128 + 32, 3 * 128 + 64);
}

/// Silent connections to the proxy held open (`proxy_threads.py`, 400 of them): the
/// proxy serves at most `MAX_CLIENTS` (256) at once, a thread each.
fn proxy_threads(agent: &str) {
    let said = threads_held("proxy_threads", agent, 256 + 32, 3 * 256 + 64);
    let held: usize = said
        .split("held: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        held >= 300,
        "only {held} connections held: proves nothing\n{said}"
    );
}

/// Runs escape `name`, which prints "waiting" once it holds what it holds, and counts
/// `mxcc`'s threads and descriptors then: at most `max_threads` and `max_fds`. What
/// the escape said.
fn threads_held(name: &str, agent: &str, max_threads: usize, max_fds: usize) -> String {
    use std::io::BufRead;
    let root =
        std::env::temp_dir().join(format!("mxc-escape-{}-{name}-{agent}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    hand_over(&root);
    let suite = suite().canonicalize().unwrap();
    let mut child = mxcc_run(&work, &suite, &root.join("audit.log"), agent)
        .args(["--", "/usr/bin/python3", "-B"])
        .arg(suite.join(format!("{name}.py")))
        .env("WORK", &work)
        .env("SUITE", &suite)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut said = String::new();
    let mut threads = None;
    let mut fds = 0;
    for line in std::io::BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
    {
        said += &line;
        said.push('\n');
        if line == "waiting" {
            let status = std::fs::read_to_string(format!("/proc/{}/status", child.id()));
            threads = status.ok().and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Threads:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
            });
            fds = std::fs::read_dir(format!("/proc/{}/fd", child.id()))
                .map(|d| d.count())
                .unwrap_or(0);
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&root);
    assert!(said.contains("held:"), "{name} ({agent}):\n{said}");
    let threads = threads.unwrap_or_else(|| panic!("{name} ({agent}): no count\n{said}"));
    assert!(
        threads <= max_threads && fds <= max_fds,
        "{name} ({agent}): mxcc holds {threads} threads and {fds} descriptors\n{said}"
    );
    said
}

#[test]
fn workers_process() {
    workers("escape");
}

#[test]
fn workers_container() {
    workers("escape-container");
}

#[test]
fn proxy_threads_process() {
    proxy_threads("escape");
}

#[test]
fn proxy_threads_container() {
    proxy_threads("escape-container");
}

#[test]
fn mxcc_holds_no_capabilities_process() {
    mxcc_holds_no_capabilities("escape");
}

#[test]
fn mxcc_holds_no_capabilities_container() {
    mxcc_holds_no_capabilities("escape-container");
}

/// The user's session and terminal, from a sandbox run with `--ask deny` on the user's
/// terminal (its stdio that terminal), `mxcc` the foreground job of a shell, beside a
/// process of the session the user stopped: see `_session_terminal.py` (the shell and
/// the judge) and `session.py` (the attacks).
fn session_terminal(agent: &str) {
    let root =
        std::env::temp_dir().join(format!("mxc-escape-{}-session-{agent}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    hand_over(&root);
    let suite = suite().canonicalize().unwrap();
    let run = mxcc_run(&work, &suite, &root.join("audit.log"), agent);
    let out = Command::new("/usr/bin/python3")
        .arg("-B")
        .arg(suite.join("_session_terminal.py"))
        .arg("--")
        .arg(run.get_program())
        .args(run.get_args())
        .env("WORK", &work)
        .env("SUITE", &suite)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&root);
    assert_eq!(
        out.status.code(),
        Some(0),
        "session terminal ({agent}):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn session_terminal_process() {
    session_terminal("escape");
}

#[test]
fn session_terminal_container() {
    session_terminal("escape-container");
}

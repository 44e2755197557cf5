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
        let mut b = [0u8; 64];
        while u.recv(&mut b).is_ok() {
            got.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    Host {
        unix,
        abstract_name: tag,
        tcp_port,
        udp_port,
        udp_got,
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
    let root =
        std::env::temp_dir().join(format!("mxc-escape-{}-{name}-{agent}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let work = root.join("work");
    std::fs::create_dir_all(work.join("secret")).unwrap();
    std::fs::write(work.join("ok"), "fine").unwrap();
    std::fs::write(work.join("secret/key"), "TOP-SECRET").unwrap();
    let host = serve(&format!("{name}-{agent}"));
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
        .stdin(std::fs::File::open(&host_stdin).unwrap())
        .args(["--", "/usr/bin/python3", "-B"])
        .arg(suite.join(format!("{name}.py")))
        .env("WORK", &work)
        .env("SUITE", &suite)
        .env("HOST_UNIX", &host.unix)
        .env("HOST_ABSTRACT", &host.abstract_name)
        .env("HOST_TCP_PORT", host.tcp_port.to_string())
        .env("HOST_UDP_PORT", host.udp_port.to_string())
        .env("HOST_PID", std::process::id().to_string())
        .env("HOST_AUDIT_LOG", &log)
        .env("HOST_AUDIT_LINK", &early)
        // In mxcc's environment only (the policy does not pass it): must not leak.
        .env("MXC_ESCAPE_SECRET_ENV", "TOP-SECRET-ENV")
        .output()
        .unwrap();
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
    race_escapes!(exec_race, connect_race, send_race, addresses);
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

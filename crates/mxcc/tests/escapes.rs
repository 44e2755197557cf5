//! The escape suite (crates/mxc-enforce-linux/tests/escapes/): each program tries to
//! break out of `mxcc run` and must fail, after a control action that must work.
//! Linux only; needs Landlock ABI 6 and seccomp user notification (CI runs it as root).
#![cfg(target_os = "linux")]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../mxc-enforce-linux/tests/escapes")
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

/// `mxcc run` of the suite's policy with its parameters (the command comes after).
fn mxcc_run(work: &Path, suite: &Path, log: &Path, agent: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mxcc"));
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
    let log = root.join("audit.log");
    let suite = suite().canonicalize().unwrap();
    let out = mxcc_run(&work, &suite, &log, agent)
        .args(["--", "/usr/bin/python3", "-B"])
        .arg(suite.join(format!("{name}.py")))
        .env("WORK", &work)
        .env("SUITE", &suite)
        .env("HOST_UNIX", &host.unix)
        .env("HOST_ABSTRACT", &host.abstract_name)
        .env("HOST_TCP_PORT", host.tcp_port.to_string())
        .env("HOST_UDP_PORT", host.udp_port.to_string())
        .env("HOST_PID", std::process::id().to_string())
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
    let v = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .args(["audit", "verify"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&v.stderr)
    );
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::remove_file(&host.unix);
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

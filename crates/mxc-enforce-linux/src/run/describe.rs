//! What a run would set up, as JSON (`mxcc plan --target linux`).

use super::*;

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

//! What a run would set up (`mxcc plan --target linux`), as typed data; serialised
//! to JSON by the caller.

use super::*;
use serde::Serialize;
use std::path::PathBuf;

/// What a run of the Linux backend sets up.
#[derive(Clone, Debug, Serialize)]
pub struct Description {
    /// `process` or `container`.
    pub tier: &'static str,
    pub landlock: LandlockSetup,
    pub seccomp: SeccompSetup,
    pub capabilities: Capabilities,
    /// File calls are held for the supervisor.
    pub fs_supervised: bool,
    pub ipc: &'static str,
    pub proxy: ProxySetup,
    pub process: ProcessSetup,
    /// The container tier: the namespaces made for the sandbox.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<Vec<&'static str>>,
    /// The container tier: the sandbox's root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<RootSetup>,
    /// The container tier: its network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkSetup>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LandlockSetup {
    pub abi_required: u32,
    pub fs_rights_handled: &'static str,
    pub grants: Vec<GrantSetup>,
    /// Port ranges (`null` in the container tier: its network namespace bounds it).
    pub tcp_connect_ports: Option<Vec<(u16, u16)>>,
    pub tcp_bind_ports: Option<Vec<(u16, u16)>>,
    pub scopes: Vec<&'static str>,
}

/// One Landlock grant: rights on a path (and beneath it, for a directory).
#[derive(Clone, Debug, Serialize)]
pub struct GrantSetup {
    pub path: PathBuf,
    pub rights: Vec<&'static str>,
    pub beneath: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct SeccompSetup {
    pub refused: Vec<RuleSetup>,
    pub held_for_the_supervisor: Vec<&'static str>,
    pub allowed: Vec<&'static str>,
    /// What every other system call gets.
    pub otherwise: ActionSetup,
}

/// One filter rule of a refused call.
#[derive(Clone, Debug, Serialize)]
pub struct RuleSetup {
    pub syscall: &'static str,
    /// `always` or `on some arguments`.
    pub when: &'static str,
    pub action: ActionSetup,
}

/// What the filter does with a call: `{"errno": N}`, `"supervisor"`, `"kill"` or
/// `"allow"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionSetup {
    Errno(i32),
    Supervisor,
    Kill,
    Allow,
}

impl From<bpf::Action> for ActionSetup {
    fn from(a: bpf::Action) -> ActionSetup {
        match a {
            bpf::Action::Errno(e) => ActionSetup::Errno(i32::from(e)),
            bpf::Action::Notify => ActionSetup::Supervisor,
            bpf::Action::Kill => ActionSetup::Kill,
            bpf::Action::Allow => ActionSetup::Allow,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Capabilities {
    pub sandbox: &'static str,
    pub supervisor: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProxySetup {
    pub listen: String,
    pub protocols: Vec<&'static str>,
    pub env: Vec<&'static str>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProcessSetup {
    pub no_new_privs: bool,
    /// What the sandbox's controlling terminal is.
    pub controlling_terminal: &'static str,
    pub process_group: &'static str,
    pub inherited_descriptors: &'static str,
    pub parent_death_signal: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct RootSetup {
    pub base: &'static str,
    pub binds: Vec<BindSetup>,
    pub links: Vec<LinkSetup>,
    pub proc: &'static str,
    pub cwd: PathBuf,
}

#[derive(Clone, Debug, Serialize)]
pub struct BindSetup {
    pub path: PathBuf,
    pub readonly: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct LinkSetup {
    pub path: PathBuf,
    pub target: PathBuf,
}

#[derive(Clone, Debug, Serialize)]
pub struct NetworkSetup {
    pub namespace: &'static str,
    pub leaving: &'static str,
    pub loopback_inside: &'static str,
}

const PROTOCOLS: [&str; 3] = ["http-connect", "http", "socks5"];
const PROXY_ENV: [&str; 3] = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"];

fn grant(g: &crate::Grant) -> GrantSetup {
    let r = g.rights;
    GrantSetup {
        path: g.path.clone(),
        rights: [
            (r.read, "read"),
            (r.write, "write"),
            (r.create, "create"),
            (r.delete, "delete"),
            (r.execute, "execute"),
        ]
        .into_iter()
        .filter_map(|(on, n)| on.then_some(n))
        .collect(),
        beneath: g.subtree,
    }
}

fn rule(r: &bpf::Rule) -> RuleSetup {
    RuleSetup {
        syscall: r.name,
        when: if r.tests.is_empty() {
            "always"
        } else {
            "on some arguments"
        },
        action: r.action.into(),
    }
}

/// What a run would set up for `bounds` (`mxcc plan --target linux`), in the container
/// tier when `container` (the root is planned for the current directory).
pub fn describe(bounds: &crate::Bounds, container: bool) -> Description {
    let supervise = Supervise {
        fs: landlock_bound::supervise_fs(bounds),
        host_ipc: !container && !sys::has_sys_admin(),
        // As planned for a run without a terminal of its own (the sandbox stays in the
        // user's session in the process tier).
        host_session: !container,
    };
    let refused_ipc = if supervise.host_ipc {
        filter::refused_ipc()
    } else {
        vec![]
    };
    let mut d = Description {
        tier: if container { "container" } else { "process" },
        landlock: LandlockSetup {
            abi_required: 6,
            fs_rights_handled: "every file-system right of ABI 3",
            grants: bounds.fs.iter().map(grant).collect(),
            tcp_connect_ports: bounds.tcp_connect.clone(),
            tcp_bind_ports: bounds.tcp_bind.clone(),
            scopes: vec!["abstract_unix_socket", "signal"],
        },
        seccomp: SeccompSetup {
            refused: filter::refused()
                .iter()
                .chain(refused_ipc.iter())
                .map(rule)
                .collect(),
            held_for_the_supervisor: filter::supervised(supervise)
                .iter()
                .map(|r| r.name)
                .collect(),
            allowed: filter::allowed().iter().map(|r| r.name).collect(),
            otherwise: ActionSetup::Errno(libc::ENOSYS),
        },
        capabilities: Capabilities {
            sandbox:
                "none (bounding, ambient, inheritable, permitted, effective; securebits locked)",
            supervisor: "the agent's ids, no capability",
        },
        fs_supervised: supervise.fs,
        ipc: if container || !supervise.host_ipc {
            "a namespace of its own"
        } else {
            "the host's: SysV IPC and POSIX message queues refused"
        },
        proxy: ProxySetup {
            listen: "127.0.0.1 (port chosen at start)".into(),
            protocols: PROTOCOLS.to_vec(),
            env: PROXY_ENV.to_vec(),
        },
        process: ProcessSetup {
            no_new_privs: true,
            controlling_terminal: "none; or a pseudo-terminal of its own, in a session of its own",
            process_group: "its own",
            inherited_descriptors: "closed",
            parent_death_signal: "SIGKILL",
        },
        namespaces: None,
        root: None,
        network: None,
    };
    if container {
        let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
        let m = crate::container::plan(bounds, &cwd);
        d.namespaces = Some(vec!["user", "mount", "pid", "net", "ipc", "uts"]);
        d.root = Some(RootSetup {
            base: "tmpfs, read-only",
            binds: m
                .binds
                .iter()
                .map(|b| BindSetup {
                    path: b.path.clone(),
                    readonly: b.readonly,
                })
                .collect(),
            links: m
                .links
                .iter()
                .map(|(at, t)| LinkSetup {
                    path: at.clone(),
                    target: t.clone(),
                })
                .collect(),
            proc: "private",
            cwd: m.cwd,
        });
        d.network = Some(NetworkSetup {
            namespace: "empty (loopback only)",
            leaving: "connect/sendto decided by the supervisor and made from a host socket put in place of the sandbox's",
            loopback_inside: "no rule needed between the sandbox's own processes",
        });
        d.proxy.listen =
            format!("127.0.0.1:{CONTAINER_PROXY_PORT} inside the sandbox's network namespace");
        d.landlock.tcp_connect_ports = None;
        d.landlock.tcp_bind_ports = None;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The action's JSON is what `mxcc plan` has always printed.
    #[test]
    fn actions_serialise_as_before() {
        let j = |a: ActionSetup| serde_json::to_string(&a).unwrap();
        assert_eq!(j(ActionSetup::Errno(38)), r#"{"errno":38}"#);
        assert_eq!(j(ActionSetup::Supervisor), r#""supervisor""#);
        assert_eq!(j(ActionSetup::Kill), r#""kill""#);
        assert_eq!(j(ActionSetup::Allow), r#""allow""#);
    }

    /// The container tier has no Landlock port ranges and a root; the process tier
    /// neither namespaces nor a root in its JSON.
    #[test]
    fn tiers_differ_where_they_should() {
        let b = crate::Bounds {
            fs: vec![],
            fs_exact: true,
            tcp_connect: Some(vec![(443, 443)]),
            tcp_bind: None,
        };
        let p = serde_json::to_value(describe(&b, false)).unwrap();
        assert_eq!(
            p["landlock"]["tcp_connect_ports"],
            serde_json::json!([[443, 443]])
        );
        assert!(p.get("namespaces").is_none() && p.get("root").is_none());
        let c = serde_json::to_value(describe(&b, true)).unwrap();
        assert!(c["landlock"]["tcp_connect_ports"].is_null());
        assert_eq!(c["tier"], "container");
        assert!(c["root"]["binds"].is_array());
    }
}

//! The parent's side of the child's start, and the one definition of what the child
//! (or the container's init) and the parent say over the report socket.
//!
//! Every message is 16 bytes, four native-endian `u32`: a tag and three words
//! ([`Msg::encode`], [`Msg::decode`]). The child encodes without allocating (it runs
//! between `fork` and `exec`); the parent decodes, and an unknown tag or step is an
//! error: the parent stops the start (fail closed), it never guesses. The parent's
//! answer is one byte, [`GO`]; the child stops on anything else.

use super::*;

/// The parent's go-ahead: the id maps are written (container), or the supervisor
/// holds the listener.
pub const GO: u8 = 1;

/// The size of every message.
pub const MSG_LEN: usize = 16;

/// What the child tells the parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msg {
    /// The container's first message: write this process's id maps, then answer [`GO`].
    Map { pid: u32 },
    /// The container's last message: descriptor numbers in the namespace's init, for
    /// the parent to take with `pidfd_getfd`.
    Fds { listener: u32, proxy: u32 },
    /// A container set-up step failed, with the error and the bind's or overlay's
    /// index (see [`Step::indexes`]).
    Fail { step: Step, errno: u32, index: u32 },
    /// The process tier's only message: the child's pid and its listener's number.
    Listener { pid: u32, fd: u32 },
}

const TAG_MAP: u32 = 1;
const TAG_FDS: u32 = 2;
const TAG_FAIL: u32 = 3;
const TAG_LISTENER: u32 = 4;

impl Msg {
    /// The bytes sent (no allocation: the child calls this between `fork` and `exec`).
    pub const fn encode(self) -> [u32; 4] {
        match self {
            Msg::Map { pid } => [TAG_MAP, pid, 0, 0],
            Msg::Fds { listener, proxy } => [TAG_FDS, listener, proxy, 0],
            Msg::Fail { step, errno, index } => [TAG_FAIL, step.code(), errno, index],
            Msg::Listener { pid, fd } => [TAG_LISTENER, pid, fd, 0],
        }
    }

    /// The message these bytes encode; an unknown tag or step is refused.
    pub fn decode(b: &[u8; MSG_LEN]) -> Result<Msg, String> {
        let w = |i: usize| u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let (tag, a, b, c) = (w(0), w(4), w(8), w(12));
        match tag {
            TAG_MAP => Ok(Msg::Map { pid: a }),
            TAG_FDS => Ok(Msg::Fds {
                listener: a,
                proxy: b,
            }),
            TAG_FAIL => match Step::from_code(a) {
                Some(step) => Ok(Msg::Fail {
                    step,
                    errno: b,
                    index: c,
                }),
                None => Err(format!(
                    "the sandbox's child reported a failure of an unknown set-up step ({a})"
                )),
            },
            TAG_LISTENER => Ok(Msg::Listener { pid: a, fd: b }),
            _ => Err(format!(
                "the sandbox's child sent an unknown message (tag {tag})"
            )),
        }
    }

    /// The bytes of [`Msg::encode`], as written.
    #[cfg(test)]
    pub fn to_bytes(self) -> [u8; MSG_LEN] {
        let mut out = [0u8; MSG_LEN];
        for (i, w) in self.encode().iter().enumerate() {
            out[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
        }
        out
    }
}

/// What a failure's index counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Indexes {
    Binds,
    Overlays,
    Nothing,
}

/// The container set-up steps, in the order the child runs them. A failing step is
/// reported by its [`Step::code`]; the parent names it with [`Step::describe`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Making the namespaces (unshare).
    Unshare,
    /// Waiting for the id maps.
    IdMaps,
    /// Forking the namespace's init.
    ForkInit,
    /// Making the mount tree private.
    PrivateMounts,
    /// Cloning a bind's source (open_tree).
    CloneBind,
    /// Making a bind read-only (mount_setattr).
    BindReadonly,
    /// Mounting the root tmpfs.
    RootTmpfs,
    /// Making a directory in the root.
    MakeDir,
    /// Making a file in the root.
    MakeFile,
    /// Making a symbolic link in the root.
    MakeLink,
    /// Mounting a bind (move_mount).
    MountBind,
    /// Mounting the private /proc.
    MountProc,
    /// Entering the new root (pivot_root).
    PivotRoot,
    /// Making the root read-only.
    RootReadonly,
    /// Entering the working directory.
    EnterCwd,
    /// Setting the host name.
    HostName,
    /// Bringing up loopback.
    Loopback,
    /// Opening the proxy socket in the namespace.
    ProxySocket,
    /// Making the throwaway layer (tmpfs).
    ScratchTmpfs,
    /// Making an overlay.
    MakeOverlay,
    /// Mounting an overlay (move_mount).
    MountOverlay,
    /// Entering the agent's user namespace.
    AgentUserNs,
    /// Mounting the private devpts.
    MountDevpts,
}

impl Step {
    /// Every step, in order: a step's code is its index here.
    pub const ALL: [Step; 23] = [
        Step::Unshare,
        Step::IdMaps,
        Step::ForkInit,
        Step::PrivateMounts,
        Step::CloneBind,
        Step::BindReadonly,
        Step::RootTmpfs,
        Step::MakeDir,
        Step::MakeFile,
        Step::MakeLink,
        Step::MountBind,
        Step::MountProc,
        Step::PivotRoot,
        Step::RootReadonly,
        Step::EnterCwd,
        Step::HostName,
        Step::Loopback,
        Step::ProxySocket,
        Step::ScratchTmpfs,
        Step::MakeOverlay,
        Step::MountOverlay,
        Step::AgentUserNs,
        Step::MountDevpts,
    ];

    /// The number sent over the report socket.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The step numbered `code`, if there is one.
    pub fn from_code(code: u32) -> Option<Step> {
        Step::ALL.get(code as usize).copied()
    }

    /// What the step does, as the error message names it.
    pub fn describe(self) -> &'static str {
        match self {
            Step::Unshare => "making the namespaces (unshare)",
            Step::IdMaps => "waiting for the id maps",
            Step::ForkInit => "forking the namespace's init",
            Step::PrivateMounts => "making the mount tree private",
            Step::CloneBind => "cloning a bind's source (open_tree)",
            Step::BindReadonly => "making a bind read-only (mount_setattr)",
            Step::RootTmpfs => "mounting the root tmpfs",
            Step::MakeDir => "making a directory in the root",
            Step::MakeFile => "making a file in the root",
            Step::MakeLink => "making a symbolic link in the root",
            Step::MountBind => "mounting a bind (move_mount)",
            Step::MountProc => "mounting the private /proc",
            Step::PivotRoot => "entering the new root (pivot_root)",
            Step::RootReadonly => "making the root read-only",
            Step::EnterCwd => "entering the working directory",
            Step::HostName => "setting the host name",
            Step::Loopback => "bringing up loopback",
            Step::ProxySocket => "opening the proxy socket in the namespace",
            Step::ScratchTmpfs => "making the throwaway layer (tmpfs)",
            Step::MakeOverlay => "making an overlay",
            Step::MountOverlay => "mounting an overlay (move_mount)",
            Step::AgentUserNs => "entering the agent's user namespace",
            Step::MountDevpts => "mounting the private devpts",
        }
    }

    /// What a failure's index counts in this step: binds, overlays, or nothing
    /// (directories, files and links are named by their staging path, not reported).
    pub fn indexes(self) -> Indexes {
        match self {
            Step::CloneBind | Step::BindReadonly | Step::MountBind => Indexes::Binds,
            Step::MakeOverlay | Step::MountOverlay => Indexes::Overlays,
            _ => Indexes::Nothing,
        }
    }
}

/// Reads one message. `Ok(None)`: the child went away without saying why (spawn
/// reports its error). A [`Msg::Fail`] becomes the error naming the step (and the
/// bind or overlay, from `mounts` and `overlays`); an undecodable message is an error.
fn read_msg(
    s: &mut UnixStream,
    (mounts, overlays): &(Vec<String>, Vec<String>),
) -> Result<Option<Msg>, String> {
    let mut b = [0u8; MSG_LEN];
    if s.read_exact(&mut b).is_err() {
        return Ok(None);
    }
    let m = Msg::decode(&b)?;
    if let Msg::Fail { step, errno, index } = m {
        let names = match step.indexes() {
            Indexes::Binds => Some(mounts),
            Indexes::Overlays => Some(overlays),
            Indexes::Nothing => None,
        };
        let what = names
            .and_then(|n| n.get(index as usize))
            .map(|p| format!(" for {p}"))
            .unwrap_or_default();
        return Err(format!(
            "the container could not be set up: {}{what} failed: {}",
            step.describe(),
            std::io::Error::from_raw_os_error(errno as i32)
        ));
    }
    Ok(Some(m))
}

/// The parent's side of the process tier's start: take the seccomp listener the child
/// reports. `Ok(None)`: the child failed before its filter (spawn reports it).
pub(super) fn process_handshake(s: &mut UnixStream) -> Result<Option<OwnedFd>, String> {
    let none = (Vec::new(), Vec::new());
    let Some(m) = read_msg(s, &none)? else {
        return Ok(None);
    };
    let Msg::Listener { pid, fd } = m else {
        return Err("the sandbox's child sent an unexpected message".into());
    };
    let listener =
        take_fd(pid, fd).map_err(|e| format!("cannot take the seccomp listener: {e}"))?;
    Ok(Some(listener))
}

/// The parent's side of the container's start: write the child's id maps, then take
/// the seccomp listener and the proxy socket from the namespace's init. `Ok(None)`:
/// the child went away without saying why (spawn reports its error).
#[allow(clippy::type_complexity)]
pub(super) fn container_handshake(
    s: &mut UnixStream,
    (uid, gid): (u32, u32),
    names: &(Vec<String>, Vec<String>),
) -> Result<
    Option<(
        OwnedFd,
        Option<std::net::TcpListener>,
        Option<crate::supervisor::ContainerView>,
    )>,
    String,
> {
    let Some(m) = read_msg(s, names)? else {
        return Ok(None);
    };
    let Msg::Map { pid } = m else {
        return Err("the container's child sent an unexpected message".into());
    };
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
    s.write_all(&[GO])
        .map_err(|e| format!("cannot release the container's child: {e}"))?;
    let Some(m) = read_msg(s, names)? else {
        return Ok(None);
    };
    let Msg::Fds {
        listener: listener_fd,
        proxy: proxy_fd,
    } = m
    else {
        return Err("the container's init sent an unexpected message".into());
    };
    // The namespace's init is the only child of the process we forked.
    let kids = descendants(pid);
    let [init] = kids[..] else {
        return Err(format!(
            "cannot find the container's init (children of {pid}: {kids:?})"
        ));
    };
    let listener =
        take_fd(init, listener_fd).map_err(|e| format!("cannot take the seccomp listener: {e}"))?;
    let proxy =
        take_fd(init, proxy_fd).map_err(|e| format!("cannot take the proxy socket: {e}"))?;
    let proc_dev = rustix::fs::stat(format!("/proc/{init}/root/proc"))
        .map_err(|e| format!("cannot find the container's /proc: {e}"))?
        .st_dev;
    Ok(Some((
        listener,
        Some(std::net::TcpListener::from(proxy)),
        Some(crate::supervisor::ContainerView { init, proc_dev }),
    )))
}

/// Takes descriptor `fd` of process `pid` (the seccomp listener the child made).
pub(super) fn take_fd(pid: u32, fd: u32) -> std::io::Result<OwnedFd> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn every_message() -> Vec<Msg> {
        let mut all = vec![
            Msg::Map { pid: 7 },
            Msg::Fds {
                listener: 3,
                proxy: u32::MAX,
            },
            Msg::Listener { pid: 42, fd: 5 },
        ];
        for (i, &step) in Step::ALL.iter().enumerate() {
            all.push(Msg::Fail {
                step,
                errno: libc::EPERM as u32,
                index: i as u32,
            });
        }
        all
    }

    #[test]
    fn every_message_reads_back_as_written() {
        for m in every_message() {
            assert_eq!(Msg::decode(&m.to_bytes()), Ok(m));
        }
        for (i, &step) in Step::ALL.iter().enumerate() {
            assert_eq!(step.code(), i as u32);
            assert_eq!(Step::from_code(step.code()), Some(step));
        }
        // Every step is described, each differently.
        let mut seen: Vec<&str> = Step::ALL.iter().map(|s| s.describe()).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), Step::ALL.len());
    }

    #[test]
    fn an_unknown_tag_or_step_is_refused() {
        let with = |tag: u32, a: u32| {
            let mut b = Msg::Map { pid: 0 }.to_bytes();
            b[..4].copy_from_slice(&tag.to_ne_bytes());
            b[4..8].copy_from_slice(&a.to_ne_bytes());
            Msg::decode(&b)
        };
        for tag in [0, 5, 255, u32::MAX] {
            assert!(
                with(tag, 0).unwrap_err().contains("unknown message"),
                "{tag}"
            );
        }
        let past = Step::ALL.len() as u32;
        for step in [past, past + 1, u32::MAX] {
            assert!(with(TAG_FAIL, step)
                .unwrap_err()
                .contains("unknown set-up step"));
        }
    }

    /// The parent stops (an error, not a guess, not "the child went away") when the
    /// child's message cannot be decoded, or is not the one expected at that point.
    #[test]
    fn the_parent_refuses_to_go_on_after_a_message_it_cannot_read() {
        let names = (vec!["/bound".to_string()], Vec::new());
        let garbage = [0xA5u8; MSG_LEN];
        let (mut ours, mut theirs) = UnixStream::pair().unwrap();
        theirs.write_all(&garbage).unwrap();
        assert!(container_handshake(&mut ours, (0, 0), &names).is_err());
        let (mut ours, mut theirs) = UnixStream::pair().unwrap();
        theirs.write_all(&garbage).unwrap();
        assert!(process_handshake(&mut ours).is_err());
        // A message of the other tier.
        let (mut ours, mut theirs) = UnixStream::pair().unwrap();
        theirs.write_all(&Msg::Map { pid: 1 }.to_bytes()).unwrap();
        assert!(process_handshake(&mut ours).is_err());
        let (mut ours, mut theirs) = UnixStream::pair().unwrap();
        theirs
            .write_all(&Msg::Listener { pid: 1, fd: 1 }.to_bytes())
            .unwrap();
        assert!(container_handshake(&mut ours, (0, 0), &names).is_err());
        // The child gone without a word: spawn reports why.
        let (mut ours, theirs) = UnixStream::pair().unwrap();
        drop(theirs);
        assert!(matches!(process_handshake(&mut ours), Ok(None)));
    }

    #[test]
    fn a_failed_step_is_named_with_its_bind() {
        let names = (vec!["/a".to_string(), "/srv/data".to_string()], Vec::new());
        let (mut ours, mut theirs) = UnixStream::pair().unwrap();
        let fail = Msg::Fail {
            step: Step::MountBind,
            errno: libc::ENOENT as u32,
            index: 1,
        };
        theirs.write_all(&fail.to_bytes()).unwrap();
        let e = container_handshake(&mut ours, (0, 0), &names).unwrap_err();
        assert!(
            e.starts_with("the container could not be set up: mounting a bind (move_mount) for /srv/data failed:"),
            "{e}"
        );
    }
}

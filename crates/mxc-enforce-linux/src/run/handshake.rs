//! The parent's side of the child's start: the messages the child (or the
//! container's init) sends over the report socket, and the parent's answers.

use super::*;

/// The parent's side of the container's start: write the child's id maps, then take
/// the seccomp listener and the proxy socket from the namespace's init. `Ok(None)`:
/// the child went away without saying why (spawn reports its error).
#[allow(clippy::type_complexity)]
pub(super) fn container_handshake(
    s: &mut UnixStream,
    (uid, gid): (u32, u32),
    (mounts, overlays): &(Vec<String>, Vec<String>),
) -> Result<
    Option<(
        OwnedFd,
        Option<std::net::TcpListener>,
        Option<crate::supervisor::ContainerView>,
    )>,
    String,
> {
    let read = |s: &mut UnixStream| -> Result<Option<[u32; 4]>, String> {
        let mut b = [0u8; 16];
        if s.read_exact(&mut b).is_err() {
            return Ok(None);
        }
        let w = |i: usize| u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let m = [w(0), w(4), w(8), w(12)];
        if m[0] == sys::MSG_FAIL {
            let step = sys::STEPS.get(m[1] as usize).copied().unwrap_or("set-up");
            let what = match m[1] {
                4 | 5 | 10 => mounts
                    .get(m[3] as usize)
                    .map(|p| format!(" for {p}"))
                    .unwrap_or_default(),
                19 | 20 => overlays
                    .get(m[3] as usize)
                    .map(|p| format!(" for {p}"))
                    .unwrap_or_default(),
                _ => String::new(),
            };
            return Err(format!(
                "the container could not be set up: {step}{what} failed: {}",
                std::io::Error::from_raw_os_error(m[2] as i32)
            ));
        }
        Ok(Some(m))
    };
    let Some(m) = read(s)? else { return Ok(None) };
    if m[0] != sys::MSG_MAP {
        return Err("the container's child sent an unexpected message".into());
    }
    let pid = m[1];
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
    s.write_all(&[1])
        .map_err(|e| format!("cannot release the container's child: {e}"))?;
    let Some(m) = read(s)? else { return Ok(None) };
    if m[0] != sys::MSG_FDS {
        return Err("the container's init sent an unexpected message".into());
    }
    // The namespace's init is the only child of the process we forked.
    let kids = descendants(pid);
    let [init] = kids[..] else {
        return Err(format!(
            "cannot find the container's init (children of {pid}: {kids:?})"
        ));
    };
    let listener =
        take_fd(init, m[1]).map_err(|e| format!("cannot take the seccomp listener: {e}"))?;
    let proxy = take_fd(init, m[2]).map_err(|e| format!("cannot take the proxy socket: {e}"))?;
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

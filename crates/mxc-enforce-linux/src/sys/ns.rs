//! The container tier's namespaces and root (binds, overlays, the private `/proc`,
//! `pivot_root`, loopback) and the capabilities every sandboxed process drops.

use super::*;
use crate::run::handshake::{Msg, Step};

/// One bind mount of the container's root: `source` (a host path) at `target` (a path
/// under the staging directory).
pub struct Bind {
    pub source: std::ffi::CString,
    pub target: std::ffi::CString,
    pub readonly: bool,
}

/// The container tier's set-up, prepared (allocated) by the parent.
///
/// The child (P) makes new user, mount, pid, net, ipc and uts namespaces, waits for
/// the parent to write its uid/gid maps, and forks the namespace's init (I, pid 1).
/// I builds the root (a read-only tmpfs holding the binds and a private `/proc`),
/// pivots into it, brings up loopback, opens the proxy's listening socket inside the
/// namespace, confines itself (ids, Landlock, seccomp), hands the seccomp listener and
/// the proxy socket to the parent, and forks the command (pid 2). I reaps orphans and
/// exits with the command's status; P exits with I's. When I exits, the kernel kills
/// every process left in the namespace.
pub struct ContainerSetup {
    /// The directory the new root is assembled on (a tmpfs is mounted over it, in the
    /// private mount namespace only).
    pub stage: std::ffi::CString,
    /// Binds, parents before children.
    pub binds: Vec<Bind>,
    /// Directories to make (staging paths, parents first).
    pub dirs: Vec<std::ffi::CString>,
    /// Empty files to make (mount points of file binds).
    pub files: Vec<std::ffi::CString>,
    /// Symbolic links to make: (staging path, target).
    pub links: Vec<(std::ffi::CString, std::ffi::CString)>,
    /// `STAGE/proc`, where the private procfs goes.
    pub proc_dir: std::ffi::CString,
    /// `STAGE/dev/pts`, where a devpts of the sandbox's own goes (`--learn`).
    pub devpts_dir: Option<std::ffi::CString>,
    /// The working directory, in the new root.
    pub cwd: std::ffi::CString,
    /// The port the proxy listens on, on the namespace's loopback.
    pub proxy_port: u16,
    /// Scratch space for the binds' detached trees (one slot per bind).
    pub tree_fds: Vec<RawFd>,
    /// Overlays (`--learn`): host directories whose writes go to a tmpfs.
    pub overlays: Vec<Overlay>,
    /// Scratch space for the overlays' detached mounts (one slot per overlay).
    pub overlay_fds: Vec<RawFd>,
}

/// One overlay of the container's root: the host's `lower` at `target` (a staging
/// path), its changes kept in `upper`/`work`, directories of the throwaway tmpfs named
/// through [`SCRATCH_FD`] (`/proc/self/fd/SCRATCH_FD/…`).
pub struct Overlay {
    pub lower: std::ffi::CString,
    pub upper: std::ffi::CString,
    pub work: std::ffi::CString,
    pub target: std::ffi::CString,
}

/// The descriptor number the throwaway tmpfs of the overlays is kept at while they are
/// made, so that the parent can name its directories in advance.
pub const SCRATCH_FD: RawFd = 1000;

/// `struct __user_cap_header_struct`.
#[repr(C)]
pub(super) struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

/// `struct __user_cap_data_struct` (two of them in version 3: bits 0-31, 32-63).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

pub(super) const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
pub(super) const CAP_SETPCAP: u32 = 8;

/// The calling thread's capability sets.
pub(super) fn capget() -> io::Result<[CapData; 2]> {
    let mut h = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut d = [CapData::default(); 2];
    // SAFETY: capget writes two `CapData` for version 3; both live across the call.
    check(unsafe { libc::syscall(libc::SYS_capget, &mut h as *mut CapHeader, d.as_mut_ptr()) })?;
    Ok(d)
}

/// The securebits that keep a uid-0 process from regaining capabilities: no
/// capabilities for root at `exec` (NOROOT), none kept or lost at id changes by the
/// kernel's own fix-up (NO_SETUID_FIXUP, KEEP_CAPS off), no ambient capability raised;
/// each with its lock.
pub(super) const SECUREBITS: libc::c_ulong = (1 << 0) // SECBIT_NOROOT
    | (1 << 1) // SECBIT_NOROOT_LOCKED
    | (1 << 2) // SECBIT_NO_SETUID_FIXUP
    | (1 << 3) // SECBIT_NO_SETUID_FIXUP_LOCKED
    | (1 << 5) // SECBIT_KEEP_CAPS_LOCKED (KEEP_CAPS itself off)
    | (1 << 6) // SECBIT_NO_CAP_AMBIENT_RAISE
    | (1 << 7); // SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED

/// Locks the securebits and empties the bounding set, so that no `exec` (a setuid
/// program, a file with capabilities, uid 0 itself) can grant a capability again.
/// Needs CAP_SETPCAP: a process without it (an unprivileged caller in the process
/// tier) has no capability to lose, and `no_new_privs` keeps `exec` from granting
/// any; this is then a no-op.
///
/// # Safety
/// Only in a forked child, between `fork` and `exec`.
pub(super) unsafe fn bound_capabilities(cap_last: u32) -> io::Result<()> {
    let caps = capget()?;
    if caps[0].effective & (1 << CAP_SETPCAP) == 0 {
        return Ok(());
    }
    // SAFETY: prctl calls with integer arguments.
    unsafe {
        check(libc::prctl(libc::PR_SET_SECUREBITS, SECUREBITS, 0, 0, 0) as libc::c_long)?;
        for cap in 0..=cap_last {
            check(
                libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) as libc::c_long,
            )?;
        }
    }
    Ok(())
}

/// Empties the ambient, inheritable, permitted and effective sets of the calling
/// thread, and checks that nothing is left.
pub(super) fn clear_capabilities() -> io::Result<()> {
    set_capabilities([CapData::default(); 2])?;
    let left = capget()?;
    if left
        .iter()
        .any(|c| c.effective | c.permitted | c.inheritable != 0)
    {
        return Err(io::Error::from_raw_os_error(libc::EPERM));
    }
    Ok(())
}

/// Clears the calling thread's ambient capabilities, then sets its effective,
/// permitted and inheritable sets to `d` (capset, version 3: two words each).
fn set_capabilities(d: [CapData; 2]) -> io::Result<()> {
    let mut h = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    // SAFETY: prctl on integers; capset on a header and data that live across the call.
    unsafe {
        check(libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        ) as libc::c_long)?;
        check(libc::syscall(
            libc::SYS_capset,
            &mut h as *mut CapHeader,
            d.as_ptr(),
        ))?;
    }
    Ok(())
}

/// CAP_KILL: what MXC's own process keeps once the sandbox runs (to stop it).
pub(super) const CAP_KILL: u32 = 5;

/// Drops every capability of the calling thread but CAP_KILL, and (with CAP_SETPCAP)
/// every one but CAP_KILL from its bounding set, after the sandbox is set up. The
/// supervisor performs `connect` for the sandbox, so a peer that looks its pid up
/// (SO_PEERCRED) finds this process: it must hold no more than the agent could
/// (CAP_KILL reaches nothing the agent's own uid cannot, as the agent runs with this
/// process's uid). Checks that nothing else is left.
pub fn drop_capabilities_after_setup(cap_last: u32) -> io::Result<()> {
    let caps = capget()?;
    let has_setpcap = caps[0].effective & (1 << CAP_SETPCAP) != 0;
    // SAFETY: prctl on integers.
    unsafe {
        if has_setpcap {
            for cap in (0..=cap_last).filter(|&c| c != CAP_KILL) {
                check(
                    libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0)
                        as libc::c_long,
                )?;
            }
        }
    }
    let kill = caps[0].permitted & (1 << CAP_KILL);
    set_capabilities([
        CapData {
            effective: kill,
            permitted: kill,
            inheritable: 0,
        },
        CapData::default(),
    ])?;
    let left = capget()?;
    if left[0].effective & !(1 << CAP_KILL) != 0
        || left[0].permitted & !(1 << CAP_KILL) != 0
        || left[0].inheritable != 0
        || left[1].effective | left[1].permitted | left[1].inheritable != 0
    {
        return Err(io::Error::from_raw_os_error(libc::EPERM));
    }
    Ok(())
}

/// Writes `"ID ID 1\n"` to `path` (an id map of this process's new user namespace).
///
/// # Safety
/// Async-signal-safe; no allocation.
pub(super) unsafe fn write_id_map(path: &std::ffi::CStr, id: u32) -> io::Result<()> {
    let mut buf = [0u8; 32];
    let mut n = 0;
    let mut digits = [0u8; 10];
    let mut d = 0;
    let mut v = id;
    loop {
        digits[d] = b'0' + (v % 10) as u8;
        d += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for _ in 0..2 {
        for i in (0..d).rev() {
            buf[n] = digits[i];
            n += 1;
        }
        buf[n] = b' ';
        n += 1;
    }
    buf[n] = b'1';
    buf[n + 1] = b'\n';
    n += 2;
    write_file(path, &buf[..n])
}

/// Writes `data` to the existing file `path`.
///
/// # Safety
/// Async-signal-safe; no allocation.
pub(super) unsafe fn write_file(path: &std::ffi::CStr, data: &[u8]) -> io::Result<()> {
    // SAFETY: raw system calls on a C string and a slice that outlive them.
    unsafe {
        let fd = check(libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) as libc::c_long)?
            as RawFd;
        let w = libc::write(fd, data.as_ptr().cast(), data.len());
        let e = io::Error::last_os_error();
        libc::close(fd);
        if w != data.len() as isize {
            return Err(e);
        }
    }
    Ok(())
}

/// `struct mount_attr` (linux/mount.h), version 0.
#[repr(C)]
pub(super) struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

pub(super) const OPEN_TREE_CLONE: libc::c_uint = 1;
pub(super) const AT_RECURSIVE: libc::c_uint = 0x8000;
pub(super) const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 4;
pub(super) const MOUNT_ATTR_RDONLY: u64 = 1;
pub(super) const FSOPEN_CLOEXEC: libc::c_uint = 1;
pub(super) const FSMOUNT_CLOEXEC: libc::c_uint = 1;
pub(super) const FSCONFIG_SET_STRING: libc::c_uint = 1;
pub(super) const FSCONFIG_CMD_CREATE: libc::c_uint = 6;

/// Makes a detached mount of filesystem `fstype` with string options `opts`.
///
/// # Safety
/// Async-signal-safe; C strings owned by the caller.
pub(super) unsafe fn detached_mount(
    fstype: &std::ffi::CStr,
    opts: &[(&std::ffi::CStr, &std::ffi::CStr)],
) -> io::Result<RawFd> {
    // SAFETY: raw system calls on C strings that outlive them.
    unsafe {
        let ctx = check(libc::syscall(
            libc::SYS_fsopen,
            fstype.as_ptr(),
            FSOPEN_CLOEXEC,
        ))? as RawFd;
        let r = (|| {
            for (k, v) in opts {
                check(libc::syscall(
                    libc::SYS_fsconfig,
                    ctx,
                    FSCONFIG_SET_STRING,
                    k.as_ptr(),
                    v.as_ptr(),
                    0,
                ))?;
            }
            check(libc::syscall(
                libc::SYS_fsconfig,
                ctx,
                FSCONFIG_CMD_CREATE,
                std::ptr::null::<libc::c_char>(),
                std::ptr::null::<libc::c_char>(),
                0,
            ))?;
            check(libc::syscall(libc::SYS_fsmount, ctx, FSMOUNT_CLOEXEC, 0))
        })();
        libc::close(ctx);
        r.map(|fd| fd as RawFd)
    }
}

/// `--learn`'s throwaway layer: a detached tmpfs (kept at [`SCRATCH_FD`]) and one
/// detached overlay per host directory, its writes going to that tmpfs.
///
/// # Safety
/// Only in a forked child, between `fork` and `exec`.
pub(super) unsafe fn make_overlays(c: &mut ContainerSetup) -> Result<(), (Step, u32, io::Error)> {
    // SAFETY: raw system calls on integers and C strings owned by `c`.
    unsafe {
        let t = detached_mount(c"tmpfs", &[(c"mode", c"0700")])
            .map_err(|e| (Step::ScratchTmpfs, 0, e))?;
        check(libc::dup3(t, SCRATCH_FD, libc::O_CLOEXEC) as libc::c_long)
            .map_err(|e| (Step::ScratchTmpfs, 0, e))?;
        libc::close(t);
        for (i, o) in c.overlays.iter().enumerate() {
            for d in [&o.upper, &o.work] {
                if libc::mkdir(d.as_ptr(), 0o755) < 0 {
                    return Err((Step::MakeOverlay, i as u32, io::Error::last_os_error()));
                }
            }
            let fd = detached_mount(
                c"overlay",
                &[
                    (c"lowerdir", o.lower.as_c_str()),
                    (c"upperdir", o.upper.as_c_str()),
                    (c"workdir", o.work.as_c_str()),
                ],
            )
            .map_err(|e| (Step::MakeOverlay, i as u32, e))?;
            c.overlay_fds[i] = fd;
        }
    }
    Ok(())
}

/// The container's set-up in the child: returns in the pid namespace's init with the
/// root built, or the failing step, bind index and error.
///
/// # Safety
/// Only in a forked child, between `fork` and `exec`.
pub(super) unsafe fn enter_container(
    c: &mut ContainerSetup,
    report_fd: RawFd,
) -> Result<RawFd, (Step, u32, io::Error)> {
    let at = |step: Step| move |e: io::Error| (step, 0u32, e);
    // SAFETY (whole function): raw system calls on integers and on C strings owned by
    // `c`, which the parent prepared and keeps alive; nothing allocates.
    unsafe {
        // This process and the namespace's init stay behind as copies of `mxcc`.
        wipe_inherited();
        check(libc::unshare(
            libc::CLONE_NEWUSER
                | libc::CLONE_NEWNS
                | libc::CLONE_NEWPID
                | libc::CLONE_NEWNET
                | libc::CLONE_NEWIPC
                | libc::CLONE_NEWUTS,
        ) as libc::c_long)
        .map_err(at(Step::Unshare))?;
        report(
            report_fd,
            Msg::Map {
                pid: libc::getpid() as u32,
            },
        )
        .map_err(at(Step::IdMaps))?;
        await_ack(report_fd).map_err(at(Step::IdMaps))?;
        for s in TERMINAL_SIGNALS {
            libc::signal(s, libc::SIG_IGN);
        }
        // This process dies with `mxcc` (and the init with it, and the namespace with
        // the init), cgroup or not.
        check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) as libc::c_long)
            .map_err(at(Step::ForkInit))?;
        let pid = libc::fork();
        if pid < 0 {
            return Err((Step::ForkInit, 0, io::Error::last_os_error()));
        }
        if pid > 0 {
            exit_like(pid);
        }
        // The namespace's init (pid 1). Killed when the process outside dies.
        check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) as libc::c_long)
            .map_err(at(Step::ForkInit))?;
        check(libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) as libc::c_long)
        .map_err(at(Step::PrivateMounts))?;
        if !c.overlays.is_empty() {
            make_overlays(c)?;
        }
        // Take every bind's source before the staging tmpfs can hide any of them.
        for (i, b) in c.binds.iter().enumerate() {
            // The source is reached without following any symbolic link (the plan
            // holds none): one swapped in since the plan was made fails the run
            // instead of binding where it points.
            #[repr(C)]
            struct OpenHow {
                flags: u64,
                mode: u64,
                resolve: u64,
            }
            let how = OpenHow {
                flags: (libc::O_PATH | libc::O_CLOEXEC) as u64,
                mode: 0,
                resolve: libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS,
            };
            let src = check(libc::syscall(
                libc::SYS_openat2,
                libc::AT_FDCWD,
                b.source.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            ))
            .map_err(|e| (Step::CloneBind, i as u32, e))?;
            let fd = check(libc::syscall(
                libc::SYS_open_tree,
                src as libc::c_int,
                c"".as_ptr(),
                OPEN_TREE_CLONE
                    | libc::O_CLOEXEC as libc::c_uint
                    | AT_RECURSIVE
                    | libc::AT_EMPTY_PATH as libc::c_uint,
            ));
            libc::close(src as libc::c_int);
            let fd = fd.map_err(|e| (Step::CloneBind, i as u32, e))?;
            c.tree_fds[i] = fd as RawFd;
            if b.readonly {
                let attr = MountAttr {
                    attr_set: MOUNT_ATTR_RDONLY,
                    attr_clr: 0,
                    propagation: 0,
                    userns_fd: 0,
                };
                check(libc::syscall(
                    libc::SYS_mount_setattr,
                    fd,
                    c"".as_ptr(),
                    libc::AT_EMPTY_PATH as libc::c_uint | AT_RECURSIVE,
                    &attr as *const MountAttr,
                    std::mem::size_of::<MountAttr>(),
                ))
                .map_err(|e| (Step::BindReadonly, i as u32, e))?;
            }
        }
        check(libc::mount(
            c"tmpfs".as_ptr(),
            c.stage.as_ptr(),
            c"tmpfs".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            c"mode=0755".as_ptr().cast(),
        ) as libc::c_long)
        .map_err(at(Step::RootTmpfs))?;
        for (i, d) in c.dirs.iter().enumerate() {
            if libc::mkdir(d.as_ptr(), 0o755) < 0 && *libc::__errno_location() != libc::EEXIST {
                return Err((Step::MakeDir, i as u32, io::Error::last_os_error()));
            }
        }
        for (i, f) in c.files.iter().enumerate() {
            let fd = libc::open(
                f.as_ptr(),
                libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                0o644,
            );
            if fd < 0 {
                return Err((Step::MakeFile, i as u32, io::Error::last_os_error()));
            }
            libc::close(fd);
        }
        for (i, (l, t)) in c.links.iter().enumerate() {
            if libc::symlink(t.as_ptr(), l.as_ptr()) < 0 {
                return Err((Step::MakeLink, i as u32, io::Error::last_os_error()));
            }
        }
        for (i, b) in c.binds.iter().enumerate() {
            check(libc::syscall(
                libc::SYS_move_mount,
                c.tree_fds[i],
                c"".as_ptr(),
                libc::AT_FDCWD,
                b.target.as_ptr(),
                MOVE_MOUNT_F_EMPTY_PATH,
            ))
            .map_err(|e| (Step::MountBind, i as u32, e))?;
            libc::close(c.tree_fds[i]);
        }
        for (i, o) in c.overlays.iter().enumerate() {
            check(libc::syscall(
                libc::SYS_move_mount,
                c.overlay_fds[i],
                c"".as_ptr(),
                libc::AT_FDCWD,
                o.target.as_ptr(),
                MOVE_MOUNT_F_EMPTY_PATH,
            ))
            .map_err(|e| (Step::MountOverlay, i as u32, e))?;
            libc::close(c.overlay_fds[i]);
        }
        if !c.overlays.is_empty() {
            libc::close(SCRATCH_FD);
        }
        check(libc::mount(
            c"proc".as_ptr(),
            c.proc_dir.as_ptr(),
            c"proc".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            std::ptr::null(),
        ) as libc::c_long)
        .map_err(at(Step::MountProc))?;
        if let Some(pts) = &c.devpts_dir {
            // A new instance: none of the host's terminals are in it.
            check(libc::mount(
                c"devpts".as_ptr(),
                pts.as_ptr(),
                c"devpts".as_ptr(),
                libc::MS_NOSUID | libc::MS_NOEXEC,
                c"newinstance,ptmxmode=0666,mode=0620".as_ptr().cast(),
            ) as libc::c_long)
            .map_err(at(Step::MountDevpts))?;
        }
        check(libc::chdir(c.stage.as_ptr()) as libc::c_long).map_err(at(Step::PivotRoot))?;
        check(libc::syscall(
            libc::SYS_pivot_root,
            c".".as_ptr(),
            c".".as_ptr(),
        ))
        .map_err(at(Step::PivotRoot))?;
        check(libc::umount2(c".".as_ptr(), libc::MNT_DETACH) as libc::c_long)
            .map_err(at(Step::PivotRoot))?;
        check(libc::chdir(c"/".as_ptr()) as libc::c_long).map_err(at(Step::PivotRoot))?;
        check(libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV,
            std::ptr::null(),
        ) as libc::c_long)
        .map_err(at(Step::RootReadonly))?;
        check(libc::chdir(c.cwd.as_ptr()) as libc::c_long).map_err(at(Step::EnterCwd))?;
        let name = b"mxc";
        check(libc::sethostname(name.as_ptr().cast(), name.len()) as libc::c_long)
            .map_err(at(Step::HostName))?;
        // Loopback up: processes of the sandbox talk to each other (and to the proxy).
        let s = check(
            libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) as libc::c_long,
        )
        .map_err(at(Step::Loopback))? as RawFd;
        let mut ifr: libc::ifreq = std::mem::zeroed();
        ifr.ifr_name[0] = b'l' as libc::c_char;
        ifr.ifr_name[1] = b'o' as libc::c_char;
        check(libc::ioctl(s, libc::SIOCGIFFLAGS, &mut ifr) as libc::c_long)
            .map_err(at(Step::Loopback))?;
        ifr.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        check(libc::ioctl(s, libc::SIOCSIFFLAGS, &mut ifr) as libc::c_long)
            .map_err(at(Step::Loopback))?;
        libc::close(s);
        // The proxy's socket, on the namespace's loopback (the parent serves it).
        let p = check(
            libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) as libc::c_long,
        )
        .map_err(at(Step::ProxySocket))? as RawFd;
        let one: libc::c_int = 1;
        libc::setsockopt(
            p,
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
        let mut sa: libc::sockaddr_in = std::mem::zeroed();
        sa.sin_family = libc::AF_INET as libc::sa_family_t;
        sa.sin_port = c.proxy_port.to_be();
        sa.sin_addr.s_addr = u32::from_be_bytes([127, 0, 0, 1]).to_be();
        check(libc::bind(
            p,
            (&sa as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        ) as libc::c_long)
        .map_err(at(Step::ProxySocket))?;
        check(libc::listen(p, 128) as libc::c_long).map_err(at(Step::ProxySocket))?;
        // The agent's own user namespace, a child of the one that made the mounts,
        // with a copy of the mount tree: the kernel locks every mount it copied
        // (MNT_LOCKED, and MNT_LOCK_READONLY and the other flags of the read-only
        // binds), so that even a capability in this namespace could not remount a
        // bind writable, clear its flags, or unmount it to show what is below.
        let (uid, gid) = (libc::geteuid(), libc::getegid());
        check(libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) as libc::c_long)
            .map_err(at(Step::AgentUserNs))?;
        write_file(c"/proc/self/setgroups", b"deny").map_err(at(Step::AgentUserNs))?;
        write_id_map(c"/proc/self/uid_map", uid).map_err(at(Step::AgentUserNs))?;
        write_id_map(c"/proc/self/gid_map", gid).map_err(at(Step::AgentUserNs))?;
        Ok(p)
    }
}

//! The only module with `unsafe`: seccomp user-notification ioctls, loading a seccomp
//! filter, and the few calls the child makes between `fork` and `exec`.
//!
//! Everything else in the crate uses `rustix`'s safe wrappers. Each `unsafe` block says
//! why it is sound.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

/// One seccomp user notification: a system call held until the supervisor answers.
#[derive(Clone, Copy, Debug)]
pub struct Notif {
    pub id: u64,
    /// The calling thread's id (a tid, in the supervisor's pid namespace).
    pub pid: u32,
    pub nr: i32,
    pub arch: u32,
    pub args: [u64; 6],
}

/// `ioctl(listener, request, arg)` for the seccomp notification requests whose argument
/// is a pointer to a `T`: the call's result, or the error.
///
/// # Safety
/// `T` must be the structure `request` reads or writes (its size and layout).
unsafe fn notif_ioctl<T>(
    listener: BorrowedFd<'_>,
    request: libc::c_ulong,
    arg: &mut T,
) -> io::Result<i32> {
    // SAFETY: `arg` is a live, exclusive `T`, which the caller vouches is what
    // `request` expects; the kernel reads and writes at most `size_of::<T>()` bytes.
    let r = unsafe { libc::ioctl(listener.as_raw_fd(), request, arg as *mut T) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Waits for the next notification. `Ok(None)` when the filter's last user is gone.
pub fn notif_recv(listener: BorrowedFd<'_>) -> io::Result<Option<Notif>> {
    // SAFETY: `seccomp_notif` is plain data; the kernel requires it zeroed on input.
    let mut req: libc::seccomp_notif = unsafe { std::mem::zeroed() };
    // Block in RECV itself (so the kernel can hand the CPU straight over, see
    // `notif_sync_wakeup`); when it fails with ENOENT, either one caller died while
    // queued or no task uses the filter any more, which `poll` tells apart (POLLHUP).
    loop {
        // SAFETY: RECV writes a `seccomp_notif`.
        let e = match unsafe { notif_ioctl(listener, libc::SECCOMP_IOCTL_NOTIF_RECV, &mut req) } {
            Ok(_) => {
                return Ok(Some(Notif {
                    id: req.id,
                    pid: req.pid,
                    nr: req.data.nr,
                    arch: req.data.arch,
                    args: req.data.args,
                }))
            }
            Err(e) => e,
        };
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::ENOENT) => {
                let mut pfd = libc::pollfd {
                    fd: listener.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid `pollfd`, count 1, no waiting.
                let r = unsafe { libc::poll(&mut pfd, 1, 0) };
                if r > 0 && pfd.revents & libc::POLLIN == 0 && pfd.revents & libc::POLLHUP != 0 {
                    return Ok(None);
                }
                if r == 0 {
                    // Nothing pending and no hang-up yet: wait for either.
                    let mut pfd = libc::pollfd {
                        fd: listener.as_raw_fd(),
                        events: libc::POLLIN,
                        revents: 0,
                    };
                    // SAFETY: as above, waiting.
                    let r = unsafe { libc::poll(&mut pfd, 1, -1) };
                    if r > 0 && pfd.revents & libc::POLLIN == 0 && pfd.revents & libc::POLLHUP != 0
                    {
                        return Ok(None);
                    }
                }
                continue;
            }
            // No task uses the filter any more (every sandboxed process has exited).
            Some(libc::ENOTCONN) => return Ok(None),
            _ => return Err(e),
        }
    }
}

/// How the supervisor answers a held system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// The call returns this value (the supervisor did the work).
    Value(i64),
    /// The call fails with this errno.
    Error(i32),
    /// The kernel runs the call as the process asked (subject to Landlock).
    Continue,
}

/// Answers notification `id`. An error means the target went away (the call was
/// interrupted); the caller may ignore it.
pub fn notif_send(listener: BorrowedFd<'_>, id: u64, reply: Reply) -> io::Result<()> {
    let (val, error, flags) = match reply {
        Reply::Value(v) => (v, 0, 0),
        Reply::Error(e) => (0, -e.abs(), 0),
        Reply::Continue => (0, 0, libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32),
    };
    let mut resp = libc::seccomp_notif_resp {
        id,
        val,
        error,
        flags,
    };
    // SAFETY: SEND reads a `seccomp_notif_resp`.
    unsafe { notif_ioctl(listener, libc::SECCOMP_IOCTL_NOTIF_SEND, &mut resp) }.map(|_| ())
}

/// Copies `buf.len()` bytes at `addr` of task `tid`'s memory into `buf`
/// (`process_vm_readv`): the bytes read, fewer when the range runs into memory the task
/// has not mapped. The task is looked up by id at the call and its address space as it
/// is *now* is read: nothing is kept that could outlive the task or its `execve` (a
/// handle on `/proc/TID/mem` keeps reading the address space it was opened on, which a
/// `CLONE_VM` sibling keeps alive after the task execs, or the task's id is reused).
/// The id names the caller only while its notification is pending: check
/// [`notif_id_valid`] after reading, before acting on what was read.
pub fn read_task_memory(tid: u32, addr: u64, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0usize;
    while done < buf.len() {
        let rest = &mut buf[done..];
        let local = libc::iovec {
            iov_base: rest.as_mut_ptr().cast(),
            iov_len: rest.len(),
        };
        let remote = libc::iovec {
            iov_base: addr.wrapping_add(done as u64) as usize as *mut libc::c_void,
            iov_len: rest.len(),
        };
        // SAFETY: `local` describes `rest`, a live exclusive buffer of `iov_len` bytes
        // the kernel writes at most that many bytes into; `remote` is an address in
        // another process, which the kernel checks (never dereferenced here).
        let n = unsafe { libc::process_vm_readv(tid as libc::pid_t, &local, 1, &remote, 1, 0) };
        match n {
            n if n > 0 => done += n as usize,
            0 => break,
            _ => {
                let e = io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                if done > 0 {
                    break;
                }
                return Err(e);
            }
        }
    }
    Ok(done)
}

/// Whether notification `id` is still pending (its task alive and still in the call).
/// Checked after reading the task's memory, so a recycled pid is never trusted.
pub fn notif_id_valid(listener: BorrowedFd<'_>, id: u64) -> bool {
    let mut id = id;
    // SAFETY: ID_VALID reads one u64.
    unsafe { notif_ioctl(listener, libc::SECCOMP_IOCTL_NOTIF_ID_VALID, &mut id) }.is_ok()
}

/// Installs `fd` into the target of notification `id` and completes the call with the
/// new descriptor number as its return value (`SECCOMP_ADDFD_FLAG_SEND`, atomic).
pub fn notif_addfd_send(
    listener: BorrowedFd<'_>,
    id: u64,
    fd: BorrowedFd<'_>,
    cloexec: bool,
) -> io::Result<i32> {
    notif_addfd(
        listener,
        id,
        fd,
        libc::SECCOMP_ADDFD_FLAG_SEND as u32,
        0,
        cloexec,
    )
}

/// Installs `fd` into the target of notification `id` as its descriptor `target`
/// (replacing what was there, like `dup2`), leaving the call pending.
pub fn notif_addfd_setfd(
    listener: BorrowedFd<'_>,
    id: u64,
    fd: BorrowedFd<'_>,
    target: i32,
    cloexec: bool,
) -> io::Result<i32> {
    notif_addfd(
        listener,
        id,
        fd,
        libc::SECCOMP_ADDFD_FLAG_SETFD as u32,
        target as u32,
        cloexec,
    )
}

fn notif_addfd(
    listener: BorrowedFd<'_>,
    id: u64,
    fd: BorrowedFd<'_>,
    flags: u32,
    newfd: u32,
    cloexec: bool,
) -> io::Result<i32> {
    let mut addfd = libc::seccomp_notif_addfd {
        id,
        flags,
        srcfd: fd.as_raw_fd() as u32,
        newfd,
        newfd_flags: if cloexec { libc::O_CLOEXEC as u32 } else { 0 },
    };
    // SAFETY: ADDFD reads a `seccomp_notif_addfd`.
    unsafe { notif_ioctl(listener, libc::SECCOMP_IOCTL_NOTIF_ADDFD, &mut addfd) }
}

/// What the child does between `fork` and `exec`, prepared (allocated) by the parent:
/// the closure run there must not allocate.
pub struct ChildSetup {
    /// `cgroup.procs` of the run's cgroups (-1: none), opened by the parent.
    pub cgroup_procs: [RawFd; 3],
    /// Switch to these ids (gid first, then groups, then uid).
    pub ids: Option<(u32, u32)>,
    /// The Landlock ruleset to enforce.
    pub landlock: RawFd,
    /// The seccomp filter (classic BPF).
    pub filter: Vec<libc::sock_filter>,
    /// Write `[pid, listener fd]` here, for the parent to take the listener with
    /// `pidfd_getfd`.
    pub report: RawFd,
    /// Descriptors at or above this are closed at `exec`.
    pub keep_below: u32,
    /// The umask the command starts with (the supervisor runs with 0).
    pub umask: u32,
    /// Make stdin (a terminal of the sandbox's own) the controlling terminal.
    pub ctty: bool,
    /// The container tier: new namespaces and a root built from the policy.
    pub container: Option<ContainerSetup>,
    /// The highest capability number of this kernel (`/proc/sys/kernel/cap_last_cap`).
    pub cap_last: u32,
    /// The process tier started with CAP_SYS_ADMIN: a private IPC namespace (made
    /// before the capabilities go; the start fails if it cannot be made).
    pub new_ipc: bool,
}

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

/// The container's first message, `[MSG_MAP, pid, 0, 0]`: write this process's id
/// maps, then answer one byte.
pub const MSG_MAP: u32 = 1;

/// The container's last message, `[MSG_FDS, listener, proxy socket, 0]`: descriptor
/// numbers in the namespace's init, for the parent to take with `pidfd_getfd`.
pub const MSG_FDS: u32 = 2;
/// A container set-up step failed: `[MSG_FAIL, step, errno, bind index]`.
pub const MSG_FAIL: u32 = 3;

/// The container set-up steps, as [`MSG_FAIL`] names them.
pub const STEPS: &[&str] = &[
    "making the namespaces (unshare)",
    "waiting for the id maps",
    "forking the namespace's init",
    "making the mount tree private",
    "cloning a bind's source (open_tree)",
    "making a bind read-only (mount_setattr)",
    "mounting the root tmpfs",
    "making a directory in the root",
    "making a file in the root",
    "making a symbolic link in the root",
    "mounting a bind (move_mount)",
    "mounting the private /proc",
    "entering the new root (pivot_root)",
    "making the root read-only",
    "entering the working directory",
    "setting the host name",
    "bringing up loopback",
    "opening the proxy socket in the namespace",
    "making the throwaway layer (tmpfs)",
    "making an overlay",
    "mounting an overlay (move_mount)",
    "entering the agent's user namespace",
    "mounting the private devpts",
];

fn check(r: libc::c_long) -> io::Result<libc::c_long> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Writes one container message (four u32) to the parent.
///
/// # Safety
/// Async-signal-safe; `fd` is the report socket.
unsafe fn report(fd: RawFd, msg: [u32; 4]) -> io::Result<()> {
    // SAFETY: `msg` is 16 bytes of plain data that live across the call.
    let n = unsafe { libc::write(fd, msg.as_ptr().cast(), std::mem::size_of_val(&msg)) };
    if n != std::mem::size_of_val(&msg) as isize {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Reads the parent's one-byte go-ahead.
///
/// # Safety
/// Async-signal-safe; `fd` is the report socket.
unsafe fn await_ack(fd: RawFd) -> io::Result<()> {
    let mut ack = [0u8; 1];
    // SAFETY: reads at most one byte into `ack`.
    let r = unsafe { libc::read(fd, ack.as_mut_ptr().cast(), 1) };
    if r != 1 {
        return Err(io::Error::from_raw_os_error(libc::EPIPE));
    }
    Ok(())
}

/// Runs in the forked child. Async-signal-safe: raw system calls only, no allocation.
///
/// # Safety
/// Must only be called in a child between `fork` and `exec` (as `Command::pre_exec`
/// does), with every descriptor in `setup` open in the child.
pub unsafe fn child_setup(setup: &mut ChildSetup) -> io::Result<()> {
    // SAFETY (whole function): each call is a plain system call on integers or on
    // memory owned by `setup`, which the parent keeps alive across `fork`.
    unsafe {
        libc::umask(setup.umask as libc::mode_t);
        // No core files: the kernel writes one where the crashing process stands (a
        // directory Landlock lets it write but the policy may deny), past every held
        // call. Both limits 0; raising the hard limit needs CAP_SYS_RESOURCE, which
        // the agent never holds.
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        check(libc::setrlimit(libc::RLIMIT_CORE, &no_core) as libc::c_long)?;
        // A new session: no controlling terminal, so no TIOCSTI into the user's shell.
        check(libc::setsid() as libc::c_long)?;
        if setup.ctty {
            check(libc::ioctl(0, libc::TIOCSCTTY, 0) as libc::c_long)?;
        }
        for &fd in &setup.cgroup_procs {
            if fd >= 0 {
                let b = b"0";
                check(libc::write(fd, b.as_ptr().cast(), 1) as libc::c_long)?;
            }
        }
        let mut proxy_fd = -1;
        if let Some(c) = setup.container.as_mut() {
            // The agent's ids before the namespaces: the user namespace is then owned
            // by the agent's uid, the only one it maps (so the supervisor, acting with
            // that uid and no capability, may still read the agent's memory).
            if let Some((uid, gid)) = setup.ids {
                switch_ids(uid, gid)?;
            }
            // Returns in the namespace's init (pid 1), its root built, in the agent's
            // own user and mount namespaces.
            proxy_fd = match enter_container(c, setup.report) {
                Ok(fd) => fd,
                Err((step, index, e)) => {
                    let errno = e.raw_os_error().unwrap_or(libc::EIO) as u32;
                    let _ = report(setup.report, [MSG_FAIL, step, errno, index]);
                    return Err(e);
                }
            };
            bound_capabilities(setup.cap_last)?;
        } else {
            // SysV IPC and POSIX queues of its own, not the host's (found by number
            // or name, guarded by a uid the agent may share).
            if setup.new_ipc {
                check(libc::unshare(libc::CLONE_NEWIPC) as libc::c_long)?;
            }
            // Bounding set and securebits first (they need CAP_SETPCAP, which a root
            // caller still holds before the id change).
            bound_capabilities(setup.cap_last)?;
            if let Some((uid, gid)) = setup.ids {
                switch_ids(uid, gid)?;
            }
        }
        clear_capabilities()?;
        // Killed with the supervisor (set after the id change, which clears it).
        check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) as libc::c_long)?;
        check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) as libc::c_long)?;
        check(libc::syscall(
            libc::SYS_landlock_restrict_self,
            setup.landlock,
            0u32,
        ))?;
        // Every inherited descriptor but stdio is closed at `exec` (marked close-on-exec
        // now, so the standard library's own exec-error pipe keeps working until then).
        check(libc::syscall(
            libc::SYS_close_range,
            setup.keep_below,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        ))?;
        libc::close(setup.landlock);
        for &fd in &setup.cgroup_procs {
            if fd >= 0 {
                libc::close(fd);
            }
        }
        let prog = libc::sock_fprog {
            len: setup.filter.len() as libc::c_ushort,
            filter: setup.filter.as_ptr() as *mut libc::sock_filter,
        };
        let listener = check(libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
            &prog as *const libc::sock_fprog,
        ))?;
        if setup.container.is_some() {
            report(setup.report, [MSG_FDS, listener as u32, proxy_fd as u32, 0])?;
        } else {
            let msg: [u32; 2] = [libc::getpid() as u32, listener as u32];
            let n = libc::write(
                setup.report,
                msg.as_ptr().cast(),
                std::mem::size_of_val(&msg),
            );
            if n != std::mem::size_of_val(&msg) as isize {
                return Err(io::Error::last_os_error());
            }
        }
        // Wait until the supervisor holds the listener (it writes one byte) before
        // going on to `exec`.
        await_ack(setup.report)?;
        libc::close(setup.report);
        libc::close(listener as libc::c_int);
        if setup.container.is_some() {
            libc::close(proxy_fd);
            // The namespace's init forks the command and stays behind to reap.
            init_fork_command()?;
        }
    }
    Ok(())
}

/// Switches to the agent's ids: no supplementary group, then gid, then uid.
///
/// # Safety
/// Only in a forked child, between `fork` and `exec`.
unsafe fn switch_ids(uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: raw system calls on integers.
    unsafe {
        check(libc::syscall(
            libc::SYS_setgroups,
            0,
            std::ptr::null::<libc::gid_t>(),
        ))?;
        check(libc::syscall(libc::SYS_setresgid, gid, gid, gid))?;
        check(libc::syscall(libc::SYS_setresuid, uid, uid, uid))?;
        // The id change made us non-dumpable, which would make our /proc entries
        // root's; the supervisor acts with our ids and must read them (exec makes a
        // normal program dumpable again anyway).
        check(libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0) as libc::c_long)?;
    }
    Ok(())
}

/// `struct __user_cap_header_struct`.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

/// `struct __user_cap_data_struct` (two of them in version 3: bits 0-31, 32-63).
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
const CAP_SETPCAP: u32 = 8;

/// The calling thread's capability sets.
fn capget() -> io::Result<[CapData; 2]> {
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
const SECUREBITS: libc::c_ulong = (1 << 0) // SECBIT_NOROOT
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
unsafe fn bound_capabilities(cap_last: u32) -> io::Result<()> {
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
fn clear_capabilities() -> io::Result<()> {
    // SAFETY: prctl and capset on integers and on a header and data that live across
    // the call.
    unsafe {
        check(libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        ) as libc::c_long)?;
        let mut h = CapHeader {
            version: LINUX_CAPABILITY_VERSION_3,
            pid: 0,
        };
        let d = [CapData::default(); 2];
        check(libc::syscall(
            libc::SYS_capset,
            &mut h as *mut CapHeader,
            d.as_ptr(),
        ))?;
    }
    let left = capget()?;
    if left
        .iter()
        .any(|c| c.effective | c.permitted | c.inheritable != 0)
    {
        return Err(io::Error::from_raw_os_error(libc::EPERM));
    }
    Ok(())
}

/// CAP_KILL: what MXC's own process keeps once the sandbox runs (to stop it).
const CAP_KILL: u32 = 5;

/// Drops every capability of the calling thread but CAP_KILL, and (with CAP_SETPCAP)
/// every one but CAP_KILL from its bounding set, after the sandbox is set up. The
/// supervisor performs `connect` for the sandbox, so a peer that looks its pid up
/// (SO_PEERCRED) finds this process: it must hold no more than the agent could
/// (CAP_KILL reaches nothing the agent's own uid cannot, as the agent runs with this
/// process's uid). Checks that nothing else is left.
pub fn drop_capabilities_after_setup(cap_last: u32) -> io::Result<()> {
    let caps = capget()?;
    let has_setpcap = caps[0].effective & (1 << CAP_SETPCAP) != 0;
    // SAFETY: prctl and capset on integers and on a header and data that live across
    // the calls.
    unsafe {
        if has_setpcap {
            for cap in (0..=cap_last).filter(|&c| c != CAP_KILL) {
                check(
                    libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0)
                        as libc::c_long,
                )?;
            }
        }
        check(libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        ) as libc::c_long)?;
        let mut h = CapHeader {
            version: LINUX_CAPABILITY_VERSION_3,
            pid: 0,
        };
        let kill = caps[0].permitted & (1 << CAP_KILL);
        let d = [
            CapData {
                effective: kill,
                permitted: kill,
                inheritable: 0,
            },
            CapData::default(),
        ];
        check(libc::syscall(
            libc::SYS_capset,
            &mut h as *mut CapHeader,
            d.as_ptr(),
        ))?;
    }
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
unsafe fn write_id_map(path: &std::ffi::CStr, id: u32) -> io::Result<()> {
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
unsafe fn write_file(path: &std::ffi::CStr, data: &[u8]) -> io::Result<()> {
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

/// The signals a terminal sends to its foreground group: the command gets them; the
/// two processes that wait for it (outside and as init of the pid namespace) ignore
/// them, so a Ctrl-C reaches the command and not its keepers.
const TERMINAL_SIGNALS: [libc::c_int; 6] = [
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTSTP,
    libc::SIGTTIN,
    libc::SIGTTOU,
    libc::SIGHUP,
];

/// Waits for `pid` and exits as it did (`128 + signal` when it was killed).
///
/// # Safety
/// Only in a forked child: closes every descriptor and never returns.
unsafe fn exit_like(pid: libc::pid_t) -> ! {
    // SAFETY: raw system calls on integers and on `status`, a local.
    unsafe {
        libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32);
        let mut status: libc::c_int = 0;
        loop {
            let r = libc::waitpid(-1, &mut status, libc::__WALL);
            if r == pid {
                break;
            }
            if r < 0 && *libc::__errno_location() != libc::EINTR {
                libc::_exit(125);
            }
        }
        if libc::WIFEXITED(status) {
            libc::_exit(libc::WEXITSTATUS(status));
        }
        libc::_exit(128 + libc::WTERMSIG(status));
    }
}

/// In the namespace's init: fork the command (which returns, to `exec`), then reap
/// every orphan of the namespace until the command exits.
///
/// # Safety
/// Only in a forked child.
unsafe fn init_fork_command() -> io::Result<()> {
    // SAFETY: raw system calls on integers.
    unsafe {
        let pid = libc::fork();
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            for s in TERMINAL_SIGNALS {
                libc::signal(s, libc::SIG_DFL);
            }
            check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) as libc::c_long)?;
            return Ok(());
        }
        // The init is a copy of `mxcc` (its memory, its environment): nothing in the
        // sandbox may read it through /proc.
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        exit_like(pid)
    }
}

/// `struct mount_attr` (linux/mount.h), version 0.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

const OPEN_TREE_CLONE: libc::c_uint = 1;
const AT_RECURSIVE: libc::c_uint = 0x8000;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 4;
const MOUNT_ATTR_RDONLY: u64 = 1;

const FSOPEN_CLOEXEC: libc::c_uint = 1;
const FSMOUNT_CLOEXEC: libc::c_uint = 1;
const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;

/// Makes a detached mount of filesystem `fstype` with string options `opts`.
///
/// # Safety
/// Async-signal-safe; C strings owned by the caller.
unsafe fn detached_mount(
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
unsafe fn make_overlays(c: &mut ContainerSetup) -> Result<(), (u32, u32, io::Error)> {
    // SAFETY: raw system calls on integers and C strings owned by `c`.
    unsafe {
        let t = detached_mount(c"tmpfs", &[(c"mode", c"0700")]).map_err(|e| (18, 0, e))?;
        check(libc::dup3(t, SCRATCH_FD, libc::O_CLOEXEC) as libc::c_long)
            .map_err(|e| (18, 0, e))?;
        libc::close(t);
        for (i, o) in c.overlays.iter().enumerate() {
            for d in [&o.upper, &o.work] {
                if libc::mkdir(d.as_ptr(), 0o755) < 0 {
                    return Err((19, i as u32, io::Error::last_os_error()));
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
            .map_err(|e| (19, i as u32, e))?;
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
unsafe fn enter_container(
    c: &mut ContainerSetup,
    report_fd: RawFd,
) -> Result<RawFd, (u32, u32, io::Error)> {
    let at = |step: u32| move |e: io::Error| (step, 0u32, e);
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
        .map_err(at(0))?;
        report(report_fd, [MSG_MAP, libc::getpid() as u32, 0, 0]).map_err(at(1))?;
        await_ack(report_fd).map_err(at(1))?;
        for s in TERMINAL_SIGNALS {
            libc::signal(s, libc::SIG_IGN);
        }
        // This process dies with `mxcc` (and the init with it, and the namespace with
        // the init), cgroup or not.
        check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) as libc::c_long)
            .map_err(at(2))?;
        let pid = libc::fork();
        if pid < 0 {
            return Err((2, 0, io::Error::last_os_error()));
        }
        if pid > 0 {
            exit_like(pid);
        }
        // The namespace's init (pid 1). Killed when the process outside dies.
        check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) as libc::c_long)
            .map_err(at(2))?;
        check(libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) as libc::c_long)
        .map_err(at(3))?;
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
            .map_err(|e| (4, i as u32, e))?;
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
            let fd = fd.map_err(|e| (4, i as u32, e))?;
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
                .map_err(|e| (5, i as u32, e))?;
            }
        }
        check(libc::mount(
            c"tmpfs".as_ptr(),
            c.stage.as_ptr(),
            c"tmpfs".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            c"mode=0755".as_ptr().cast(),
        ) as libc::c_long)
        .map_err(at(6))?;
        for (i, d) in c.dirs.iter().enumerate() {
            if libc::mkdir(d.as_ptr(), 0o755) < 0 && *libc::__errno_location() != libc::EEXIST {
                return Err((7, i as u32, io::Error::last_os_error()));
            }
        }
        for (i, f) in c.files.iter().enumerate() {
            let fd = libc::open(
                f.as_ptr(),
                libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                0o644,
            );
            if fd < 0 {
                return Err((8, i as u32, io::Error::last_os_error()));
            }
            libc::close(fd);
        }
        for (i, (l, t)) in c.links.iter().enumerate() {
            if libc::symlink(t.as_ptr(), l.as_ptr()) < 0 {
                return Err((9, i as u32, io::Error::last_os_error()));
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
            .map_err(|e| (10, i as u32, e))?;
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
            .map_err(|e| (20, i as u32, e))?;
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
        .map_err(at(11))?;
        if let Some(pts) = &c.devpts_dir {
            // A new instance: none of the host's terminals are in it.
            check(libc::mount(
                c"devpts".as_ptr(),
                pts.as_ptr(),
                c"devpts".as_ptr(),
                libc::MS_NOSUID | libc::MS_NOEXEC,
                c"newinstance,ptmxmode=0666,mode=0620".as_ptr().cast(),
            ) as libc::c_long)
            .map_err(at(22))?;
        }
        check(libc::chdir(c.stage.as_ptr()) as libc::c_long).map_err(at(12))?;
        check(libc::syscall(
            libc::SYS_pivot_root,
            c".".as_ptr(),
            c".".as_ptr(),
        ))
        .map_err(at(12))?;
        check(libc::umount2(c".".as_ptr(), libc::MNT_DETACH) as libc::c_long).map_err(at(12))?;
        check(libc::chdir(c"/".as_ptr()) as libc::c_long).map_err(at(12))?;
        check(libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV,
            std::ptr::null(),
        ) as libc::c_long)
        .map_err(at(13))?;
        check(libc::chdir(c.cwd.as_ptr()) as libc::c_long).map_err(at(14))?;
        let name = b"mxc";
        check(libc::sethostname(name.as_ptr().cast(), name.len()) as libc::c_long)
            .map_err(at(15))?;
        // Loopback up: processes of the sandbox talk to each other (and to the proxy).
        let s = check(
            libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) as libc::c_long,
        )
        .map_err(at(16))? as RawFd;
        let mut ifr: libc::ifreq = std::mem::zeroed();
        ifr.ifr_name[0] = b'l' as libc::c_char;
        ifr.ifr_name[1] = b'o' as libc::c_char;
        check(libc::ioctl(s, libc::SIOCGIFFLAGS, &mut ifr) as libc::c_long).map_err(at(16))?;
        ifr.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        check(libc::ioctl(s, libc::SIOCSIFFLAGS, &mut ifr) as libc::c_long).map_err(at(16))?;
        libc::close(s);
        // The proxy's socket, on the namespace's loopback (the parent serves it).
        let p = check(
            libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) as libc::c_long,
        )
        .map_err(at(17))? as RawFd;
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
        .map_err(at(17))?;
        check(libc::listen(p, 128) as libc::c_long).map_err(at(17))?;
        // The agent's own user namespace, a child of the one that made the mounts,
        // with a copy of the mount tree: the kernel locks every mount it copied
        // (MNT_LOCKED, and MNT_LOCK_READONLY and the other flags of the read-only
        // binds), so that even a capability in this namespace could not remount a
        // bind writable, clear its flags, or unmount it to show what is below.
        let (uid, gid) = (libc::geteuid(), libc::getegid());
        check(libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) as libc::c_long)
            .map_err(at(21))?;
        write_file(c"/proc/self/setgroups", b"deny").map_err(at(21))?;
        write_id_map(c"/proc/self/uid_map", uid).map_err(at(21))?;
        write_id_map(c"/proc/self/gid_map", gid).map_err(at(21))?;
        Ok(p)
    }
}

/// Spawns `cmd` with [`child_setup`] run between `fork` and `exec`.
pub fn spawn_confined(
    cmd: &mut std::process::Command,
    setup: ChildSetup,
) -> io::Result<std::process::Child> {
    use std::os::unix::process::CommandExt;
    // SAFETY: `child_setup` only makes raw system calls on data owned by `setup`, which
    // the closure owns (and fork copies into the child); it does not allocate or lock.
    unsafe {
        let mut setup = setup;
        cmd.pre_exec(move || child_setup(&mut setup));
    }
    cmd.spawn()
}

/// Gives the calling thread (the supervisor's) the agent's credentials, for every
/// call it makes on the agent's behalf: its ids when it runs as another user (real,
/// effective, saved and file-system ids, no supplementary group), and no capability
/// at all. Raw system calls: they change this thread only (libc's wrappers would
/// change every thread of `mxcc`). With the same ids and no capability on either
/// side, the kernel still lets this thread read the agent's memory and take its
/// descriptors (ptrace access: same uid, the agent's capabilities a subset of ours;
/// in the container tier this uid owns the agent's user namespace's parent).
pub fn act_as(ids: Option<(u32, u32)>) -> io::Result<()> {
    // SAFETY: raw system calls on integers.
    unsafe {
        if let Some((uid, gid)) = ids {
            check(libc::syscall(
                libc::SYS_setgroups,
                0,
                std::ptr::null::<libc::gid_t>(),
            ))?;
            check(libc::syscall(libc::SYS_setresgid, gid, gid, gid))?;
            check(libc::syscall(libc::SYS_setresuid, uid, uid, uid))?;
        }
    }
    clear_capabilities()
}

/// Starts the watchdog: a process that waits until `alarm` (a pipe's read end)
/// reports end-of-file — the supervisor's process is gone, whether it finished or was
/// killed — then kills every process of the run's cgroup (`cgroup.kill` when the
/// kernel has it, else each pid of `cgroup.procs`, until none is left) and exits.
/// Returns the watchdog's pid.
///
/// The watchdog is MXC's, never part of the sandbox, by construction: it is forked
/// through an intermediate process that exits at once, while this process is not a
/// child subreaper, so the kernel hands it to an ancestor of `mxcc` (it does not
/// descend from the supervisor, which is how the sandbox's processes are known). It
/// is not dumpable (its `/proc` entries are root's and no one without
/// `CAP_SYS_PTRACE` reads its memory), and the argument and environment strings it
/// inherited from `mxcc` are wiped (see [`wipe_inherited`]).
pub fn spawn_watchdog(
    alarm: RawFd,
    kill_file: RawFd,
    procs_file: RawFd,
    remove: &[std::ffi::CString],
) -> io::Result<u32> {
    let mut buf = vec![0u8; 1 << 16];
    // The watchdog's pid, from the intermediate process.
    let (pid_read, pid_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    let pid_write = pid_w.as_raw_fd();
    // Reparenting goes to the nearest subreaper: not us, while the watchdog is made.
    let was_subreaper = rustix::process::child_subreaper()?.is_some();
    if was_subreaper {
        rustix::process::set_child_subreaper(None)?;
    }
    // SAFETY: after `fork` the children only make raw system calls on the descriptors
    // above and on `buf`, allocated before the fork; they never return (`_exit`).
    let forked = unsafe { libc::fork() };
    if forked == 0 {
        // SAFETY: see above.
        unsafe { watchdog_child(alarm, kill_file, procs_file, pid_write, &mut buf, remove) }
    }
    drop(pid_w);
    let restore = |r: io::Result<u32>| -> io::Result<u32> {
        if was_subreaper {
            rustix::process::set_child_subreaper(Some(rustix::process::getpid()))?;
        }
        r
    };
    if forked < 0 {
        return restore(Err(io::Error::last_os_error()));
    }
    // Reap the intermediate: once it is gone, the watchdog is no longer ours.
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: waits for our own child, writing its status into a local.
        let r = unsafe { libc::waitpid(forked, &mut status, 0) };
        if r == forked {
            break;
        }
        if r < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return restore(Err(io::Error::last_os_error()));
        }
    }
    let mut b = [0u8; 4];
    let n = rustix::io::read(&pid_read, &mut b).map_err(io::Error::from)?;
    if n != 4 || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return restore(Err(io::Error::other("the watchdog could not be started")));
    }
    restore(Ok(u32::from_ne_bytes(b)))
}

/// The intermediate process (forks the watchdog, reports its pid, exits) and the
/// watchdog itself.
///
/// # Safety
/// Only in a forked child; never returns.
unsafe fn watchdog_child(
    alarm: RawFd,
    kill_file: RawFd,
    procs_file: RawFd,
    pid_write: RawFd,
    buf: &mut [u8],
    remove: &[std::ffi::CString],
) -> ! {
    // SAFETY: raw system calls on integers, `buf` and C strings owned by the caller.
    unsafe {
        let pid = libc::fork();
        if pid != 0 {
            let code = if pid > 0 {
                let b = (pid as u32).to_ne_bytes();
                i32::from(libc::write(pid_write, b.as_ptr().cast(), 4) != 4)
            } else {
                1
            };
            libc::_exit(code);
        }
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        libc::prctl(libc::PR_SET_NAME, c"mxc-watchdog".as_ptr(), 0, 0, 0);
        wipe_inherited();
        // Keep only what we need: close every gap between the kept descriptors.
        let mut keep = [alarm, kill_file, procs_file];
        keep.sort_unstable();
        let mut from: libc::c_int = 0;
        for k in keep {
            if k >= from {
                if k > from {
                    libc::syscall(libc::SYS_close_range, from as u32, (k - 1) as u32, 0u32);
                }
                from = k + 1;
            }
        }
        libc::syscall(libc::SYS_close_range, from as u32, u32::MAX, 0u32);
        let mut one = [0u8; 1];
        loop {
            let n = libc::read(alarm, one.as_mut_ptr().cast(), 1);
            if n == 0 || (n < 0 && *libc::__errno_location() != libc::EINTR) {
                break;
            }
        }
        for _ in 0..2000 {
            if kill_file >= 0 {
                libc::pwrite(kill_file, b"1".as_ptr().cast(), 1, 0);
            }
            let mut any = false;
            if procs_file >= 0 {
                let n = libc::pread(procs_file, buf.as_mut_ptr().cast(), buf.len(), 0);
                let mut pid: i32 = 0;
                let mut digits = false;
                for &c in buf.iter().take(n.max(0) as usize) {
                    if c.is_ascii_digit() {
                        pid = pid.wrapping_mul(10).wrapping_add(i32::from(c - b'0'));
                        digits = true;
                    } else {
                        if digits && pid > 1 {
                            libc::kill(pid, libc::SIGKILL);
                            any = true;
                        }
                        pid = 0;
                        digits = false;
                    }
                }
            }
            if !any {
                break;
            }
            let ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 1_000_000,
            };
            libc::nanosleep(&ts, std::ptr::null_mut());
        }
        // Remove the run's cgroups once the kernel has let go of the last process.
        for dir in remove {
            for _ in 0..2000 {
                if libc::rmdir(dir.as_ptr()) == 0 || *libc::__errno_location() == libc::ENOENT {
                    break;
                }
                let ts = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 1_000_000,
                };
                libc::nanosleep(&ts, std::ptr::null_mut());
            }
        }
        libc::_exit(0);
    }
}

/// Whether this process holds CAP_SYS_ADMIN in its effective set (from
/// `/proc/self/status`).
pub fn has_sys_admin() -> bool {
    const CAP_SYS_ADMIN: u32 = 21;
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .is_some_and(|c| c & (1 << CAP_SYS_ADMIN) != 0)
}

/// Wipes the argument and environment strings this process inherited from `mxcc`
/// (what `/proc/PID/cmdline` and `/proc/PID/environ` show), so that a copy of `mxcc`
/// kept running by MXC (the watchdog, the container's outer process and init) holds
/// no secret of the caller's environment there. The strings' place is read from
/// `/proc/self/stat` (`arg_start` … `env_end`).
///
/// # Safety
/// Only in a forked child that never reads its arguments or environment again (it
/// `exec`s with arrays prepared beforehand, or never `exec`s); allocates nothing.
pub unsafe fn wipe_inherited() {
    // SAFETY: raw system calls into a local buffer; the ranges written are the ones
    // the kernel reports as this process's argument and environment strings (mapped,
    // writable stack memory that nothing of ours refers to any more).
    unsafe {
        let fd = libc::open(
            c"/proc/self/stat".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        );
        if fd < 0 {
            return;
        }
        let mut buf = [0u8; 1024];
        let n = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
        libc::close(fd);
        if n <= 0 {
            return;
        }
        let text = &buf[..n as usize];
        let Some(close) = text.iter().rposition(|&b| b == b')') else {
            return;
        };
        // Fields after the command name (field 2) are separated by single spaces;
        // arg_start is field 48, arg_end 49, env_start 50, env_end 51.
        let mut vals = [0usize; 4];
        let mut field = 2usize;
        let mut cur: usize = 0;
        let mut in_token = false;
        for &c in text[close + 1..].iter().chain(b" ".iter()) {
            if c == b' ' || c == b'\n' {
                if in_token && (48..=51).contains(&field) {
                    vals[field - 48] = cur;
                }
                in_token = false;
                cur = 0;
            } else {
                if !in_token {
                    in_token = true;
                    field += 1;
                }
                if c.is_ascii_digit() {
                    cur = cur.wrapping_mul(10).wrapping_add(usize::from(c - b'0'));
                }
            }
        }
        let [arg_start, arg_end, env_start, env_end] = vals;
        for (a, b) in [(arg_start, arg_end), (env_start, env_end)] {
            if a != 0 && b > a && b - a < (1 << 24) {
                std::ptr::write_bytes(a as *mut u8, 0, b - a);
            }
        }
    }
}

/// Asks the kernel to hand the CPU straight from the notifying task to the supervisor
/// and back (`SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`, Linux 6.6), which cuts the round
/// trip of every held call. Older kernels refuse it; that only costs speed.
pub fn notif_sync_wakeup(listener: BorrowedFd<'_>) -> bool {
    const SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: u64 = 1;
    // SAFETY: the ioctl takes its flags as an integer argument.
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS,
            SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP,
        )
    };
    r == 0
}

// ---- races: calls performed with the exact bytes decided, and kcmp ----------------

/// What two tasks may share (`kcmp` types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shares {
    /// The address space (`KCMP_VM`).
    Memory = 1,
    /// The descriptor table (`KCMP_FILES`).
    Files = 2,
    /// The root and working directories (`KCMP_FS`).
    Dirs = 3,
}

/// `Ok(true)` when tasks `a` and `b` share `what`; `Err` when either is gone (`ESRCH`)
/// or cannot be compared.
pub fn kcmp(a: u32, b: u32, what: Shares) -> io::Result<bool> {
    // SAFETY: kcmp takes integers only.
    let r = unsafe {
        libc::syscall(
            libc::SYS_kcmp,
            a as libc::pid_t,
            b as libc::pid_t,
            what as libc::c_int,
            0usize,
            0usize,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r == 0)
}

/// `connect` (or `bind`) on `s` with exactly the socket address bytes `addr` (which the
/// supervisor decided): the kernel checks their family and length as it would have for
/// the caller.
pub fn sockaddr_call(s: BorrowedFd<'_>, addr: &[u8], bind: bool) -> io::Result<()> {
    let len = libc::socklen_t::try_from(addr.len())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let p = if addr.is_empty() {
        std::ptr::null()
    } else {
        addr.as_ptr().cast::<libc::sockaddr>()
    };
    // SAFETY: `p` points to `len` readable bytes (or is NULL with length 0); the kernel
    // copies them in before returning.
    let r = unsafe {
        if bind {
            libc::bind(s.as_raw_fd(), p, len)
        } else {
            libc::connect(s.as_raw_fd(), p, len)
        }
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The local address of socket `s`, as the kernel's raw bytes (`getsockname`).
pub fn sockname(s: BorrowedFd<'_>) -> io::Result<Vec<u8>> {
    // SAFETY: an all-zero sockaddr_storage is valid.
    let mut st: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `st` is writable for `len` bytes; the kernel writes at most that much and
    // sets `len` to the address's true length.
    let r = unsafe {
        libc::getsockname(
            s.as_raw_fd(),
            (&mut st as *mut libc::sockaddr_storage).cast::<libc::sockaddr>(),
            &mut len,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `st` is a plain struct of `size_of::<sockaddr_storage>()` bytes.
    let bytes = unsafe {
        std::slice::from_raw_parts(
            (&st as *const libc::sockaddr_storage).cast::<u8>(),
            std::mem::size_of::<libc::sockaddr_storage>(),
        )
    };
    Ok(bytes[..(len as usize).min(bytes.len())].to_vec())
}

/// `sendto` on `s` with the exact address bytes decided (`None`: the connected peer).
pub fn sendto_raw(
    s: BorrowedFd<'_>,
    data: &[u8],
    flags: i32,
    addr: Option<&[u8]>,
) -> io::Result<usize> {
    let (p, len) = match addr {
        Some(a) if !a.is_empty() => (
            a.as_ptr().cast::<libc::sockaddr>(),
            libc::socklen_t::try_from(a.len())
                .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?,
        ),
        _ => (std::ptr::null(), 0),
    };
    // SAFETY: `data` and `p` point to readable buffers of the lengths given.
    let r = unsafe {
        libc::sendto(
            s.as_raw_fd(),
            data.as_ptr().cast(),
            data.len(),
            flags,
            p,
            len,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r as usize)
}

/// Whether `fd` becomes writable within `ms` milliseconds (`poll` for `POLLOUT`).
pub fn writable_within(fd: BorrowedFd<'_>, ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd, for the duration of the call.
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    n > 0 && p.revents & libc::POLLOUT != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read stops where the task's mapped memory does: the bytes before an unmapped
    /// page are counted, nothing after it is invented, and a read that starts unmapped
    /// is an error.
    #[test]
    fn task_memory_reads_stop_at_unmapped_pages() {
        let tid = rustix::thread::gettid().as_raw_nonzero().get() as u32;
        let page = 4096usize;
        // Two pages; the second is unmapped again.
        let (base, _) = two_pages_second_unmapped();
        let text = b"held-path\0";
        let at = base + page - text.len();
        // SAFETY: `at..at + len` lies inside the first page, mapped read-write above.
        unsafe { std::ptr::copy_nonoverlapping(text.as_ptr(), at as *mut u8, text.len()) };
        let mut buf = [0u8; 64];
        let n = read_task_memory(tid, at as u64, &mut buf).unwrap();
        assert_eq!(n, text.len());
        assert_eq!(&buf[..n], text);
        assert!(read_task_memory(tid, (base + page) as u64, &mut buf).is_err());
        assert!(read_task_memory(tid, 0, &mut buf).is_err());
        // SAFETY: unmapping the first page, mapped above and no longer used.
        unsafe { libc::munmap(base as *mut libc::c_void, page) };
    }

    /// Maps two anonymous pages and unmaps the second: (address, length mapped).
    fn two_pages_second_unmapped() -> (usize, usize) {
        // SAFETY: a fresh private anonymous mapping, then unmapping its second half.
        unsafe {
            let p = libc::mmap(
                std::ptr::null_mut(),
                8192,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(p, libc::MAP_FAILED);
            libc::munmap(p.cast::<u8>().add(4096).cast(), 4096);
            (p as usize, 4096)
        }
    }
}

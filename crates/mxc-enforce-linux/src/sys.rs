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

/// Waits for the next notification. `Ok(None)` when the filter's last user is gone.
pub fn notif_recv(listener: BorrowedFd<'_>) -> io::Result<Option<Notif>> {
    // SAFETY: `seccomp_notif` is plain data; the kernel requires it zeroed on input.
    let mut req: libc::seccomp_notif = unsafe { std::mem::zeroed() };
    // Block in RECV itself (so the kernel can hand the CPU straight over, see
    // `notif_sync_wakeup`); when it fails with ENOENT, either one caller died while
    // queued or no task uses the filter any more, which `poll` tells apart (POLLHUP).
    loop {
        // SAFETY: the ioctl writes at most `size_of::<seccomp_notif>()` bytes into `req`,
        // which is exactly that size and lives across the call.
        let r = unsafe {
            libc::ioctl(
                listener.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_RECV,
                &mut req as *mut libc::seccomp_notif,
            )
        };
        if r == 0 {
            return Ok(Some(Notif {
                id: req.id,
                pid: req.pid,
                nr: req.data.nr,
                arch: req.data.arch,
                args: req.data.args,
            }));
        }
        let e = io::Error::last_os_error();
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
    // SAFETY: the kernel reads a `seccomp_notif_resp`, which `resp` is.
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SEND,
            &mut resp as *mut libc::seccomp_notif_resp,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether notification `id` is still pending (its task alive and still in the call).
/// Checked after reading the task's memory, so a recycled pid is never trusted.
pub fn notif_id_valid(listener: BorrowedFd<'_>, id: u64) -> bool {
    let mut id = id;
    // SAFETY: the kernel reads one u64.
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_ID_VALID,
            &mut id as *mut u64,
        )
    };
    r == 0
}

/// Installs `fd` into the target of notification `id` and completes the call with the
/// new descriptor number as its return value (`SECCOMP_ADDFD_FLAG_SEND`, atomic).
pub fn notif_addfd_send(
    listener: BorrowedFd<'_>,
    id: u64,
    fd: BorrowedFd<'_>,
    cloexec: bool,
) -> io::Result<i32> {
    let mut addfd = libc::seccomp_notif_addfd {
        id,
        flags: libc::SECCOMP_ADDFD_FLAG_SEND as u32,
        srcfd: fd.as_raw_fd() as u32,
        newfd: 0,
        newfd_flags: if cloexec { libc::O_CLOEXEC as u32 } else { 0 },
    };
    // SAFETY: the kernel reads a `seccomp_notif_addfd`, which `addfd` is.
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_ADDFD,
            &mut addfd as *mut libc::seccomp_notif_addfd,
        )
    };
    if r >= 0 {
        Ok(r)
    } else {
        Err(io::Error::last_os_error())
    }
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
}

/// Runs in the forked child. Async-signal-safe: raw system calls only, no allocation.
///
/// # Safety
/// Must only be called in a child between `fork` and `exec` (as `Command::pre_exec`
/// does), with every descriptor in `setup` open in the child.
pub unsafe fn child_setup(setup: &ChildSetup) -> io::Result<()> {
    fn check(r: libc::c_long) -> io::Result<libc::c_long> {
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(r)
        }
    }
    // SAFETY (whole function): each call is a plain system call on integers or on
    // memory owned by `setup`, which the parent keeps alive across `fork`.
    unsafe {
        libc::umask(setup.umask as libc::mode_t);
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
        if let Some((uid, gid)) = setup.ids {
            check(libc::syscall(
                libc::SYS_setgroups,
                0,
                std::ptr::null::<libc::gid_t>(),
            ))?;
            check(libc::syscall(libc::SYS_setresgid, gid, gid, gid))?;
            check(libc::syscall(libc::SYS_setresuid, uid, uid, uid))?;
            // The id change made us non-dumpable, which would make our /proc entries
            // root's; the supervisor acts with our ids and must read them (exec makes
            // a normal program dumpable again anyway).
            check(libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0) as libc::c_long)?;
        }
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
        let msg: [u32; 2] = [libc::getpid() as u32, listener as u32];
        let n = libc::write(
            setup.report,
            msg.as_ptr().cast(),
            std::mem::size_of_val(&msg),
        );
        if n != std::mem::size_of_val(&msg) as isize {
            return Err(io::Error::last_os_error());
        }
        // Wait until the supervisor holds the listener (it closes its end of the pipe
        // pair's reply side by writing one byte) before going on to `exec`.
        let mut ack = [0u8; 1];
        let r = libc::read(setup.report, ack.as_mut_ptr().cast(), 1);
        if r != 1 {
            return Err(io::Error::from_raw_os_error(libc::EPIPE));
        }
        libc::close(setup.report);
        libc::close(listener as libc::c_int);
    }
    Ok(())
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
        cmd.pre_exec(move || child_setup(&setup));
    }
    cmd.spawn()
}

/// Makes this thread's file system accesses (DAC checks, owners of files it creates)
/// those of `uid`/`gid` with no supplementary groups, keeping its other credentials
/// (the supervisor still reads the sandbox's `/proc` entries).
pub fn act_as(uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: `setgroups` with an empty list and `setfsgid`/`setfsuid` take integers.
    // The raw system calls change only the calling thread (unlike libc's wrappers for
    // setgroups, which change every thread).
    unsafe {
        if libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()) < 0 {
            return Err(io::Error::last_os_error());
        }
        libc::setfsgid(gid);
        libc::setfsuid(uid);
        // setfs*id report the previous id; read back to check the change held.
        if libc::setfsuid(u32::MAX) as u32 != uid || libc::setfsgid(u32::MAX) as u32 != gid {
            return Err(io::Error::from_raw_os_error(libc::EPERM));
        }
    }
    Ok(())
}

/// Starts the watchdog: a forked process that waits until `alarm` (a pipe's read end)
/// reports end-of-file — the supervisor's process is gone, whether it finished or was
/// killed — then kills every process of the run's cgroup (`cgroup.kill` when the
/// kernel has it, else each pid of `cgroup.procs`, until none is left) and exits.
/// Returns the watchdog's pid.
pub fn spawn_watchdog(
    alarm: RawFd,
    kill_file: RawFd,
    procs_file: RawFd,
    remove: &[std::ffi::CString],
) -> io::Result<u32> {
    let mut buf = vec![0u8; 1 << 16];
    // SAFETY: after `fork` the child only makes raw system calls on the descriptors
    // above and on `buf`, allocated before the fork; it never returns (`_exit`).
    unsafe {
        let pid = libc::fork();
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid > 0 {
            return Ok(pid as u32);
        }
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

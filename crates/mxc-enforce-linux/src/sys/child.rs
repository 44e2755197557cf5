//! The child between `fork` and `exec`: raw system calls only, no allocation (the
//! parent prepared everything); its messages to the parent; taking the agent's ids.

use super::*;
use crate::run::handshake::{Msg, GO};

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
    /// `mxcc`'s own descriptors this process inherited by `fork` and closes first
    /// (-1: none): the supervisor's end of the report socket, and the watchdog's
    /// alarm. Holding them, a child whose `mxcc` was killed before it set its
    /// parent-death signal waited for the supervisor's answer forever (its own copy
    /// kept the socket open) and kept the watchdog from killing the run.
    pub close_first: [RawFd; 2],
}

/// Writes one message to the parent (its fixed-size encoding: nothing allocates).
///
/// # Safety
/// Async-signal-safe; `fd` is the report socket.
pub(super) unsafe fn report(fd: RawFd, msg: Msg) -> io::Result<()> {
    let msg = msg.encode();
    // SAFETY: `msg` is 16 bytes of plain data that live across the call.
    let n = unsafe { libc::write(fd, msg.as_ptr().cast(), std::mem::size_of_val(&msg)) };
    if n != std::mem::size_of_val(&msg) as isize {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Reads the parent's one-byte go-ahead ([`GO`]; anything else stops the start).
///
/// # Safety
/// Async-signal-safe; `fd` is the report socket.
pub(super) unsafe fn await_ack(fd: RawFd) -> io::Result<()> {
    let mut ack = [0u8; 1];
    // SAFETY: reads at most one byte into `ack`.
    let r = unsafe { libc::read(fd, ack.as_mut_ptr().cast(), 1) };
    if r != 1 || ack[0] != GO {
        return Err(io::Error::from_raw_os_error(libc::EPIPE));
    }
    Ok(())
}

/// Lets go of the controlling terminal, if any, and moves to a process group of its
/// own, staying in the session: `true` when done. `false` (the caller then starts a
/// session instead) when the terminal cannot be opened for a reason other than there
/// being none, or a call fails.
///
/// # Safety
/// Async-signal-safe: raw system calls only; runs in the child before `exec`.
unsafe fn leave_terminal() -> bool {
    // SAFETY: plain system calls on a static C string and integers.
    unsafe {
        let t = libc::open(
            c"/dev/tty".as_ptr(),
            libc::O_RDWR | libc::O_CLOEXEC | libc::O_NOCTTY,
        );
        if t >= 0 {
            let r = libc::ioctl(t, libc::TIOCNOTTY, 0);
            libc::close(t);
            if r != 0 {
                return false;
            }
        } else if *libc::__errno_location() != libc::ENXIO {
            return false;
        }
        libc::setpgid(0, 0) == 0
    }
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
        for &fd in &setup.close_first {
            if fd >= 0 {
                libc::close(fd);
            }
        }
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
        // No controlling terminal, so no TIOCSTI into the user's shell and no job
        // control on it; a process group of its own. A terminal of the sandbox's own
        // becomes its controlling terminal, which needs a session of its own.
        //
        // Without one, the user's terminal is let go (TIOCNOTTY) and the session
        // kept, in both tiers: a new session is a new scheduling group where the
        // kernel groups sessions (autogroup), and every held call then costs about
        // 3 us more of CPU and, on two CPUs, most of the wall time (docs/performance.md).
        // Anything unexpected: a new session.
        //
        // In the user's session, a sandbox could join any process group of it
        // (`setpgid`), and one that it alone linked to the session, left with a member
        // stopped (an orphaned process group), makes the kernel send SIGHUP and SIGCONT
        // to every process of that group, unchecked (no credential, no Landlock
        // scope): a process the user stopped, of any user, killed from the sandbox
        // (escape `session_terminal_process`). So the process tier's filter refuses
        // `setpgid` into an existing group (`filter::Supervise::host_session`: only a
        // `pgid` of 0, a new group, is let through); the container tier cannot name a
        // group outside its pid namespace.
        if setup.ctty || !leave_terminal() {
            check(libc::setsid() as libc::c_long)?;
        }
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
                    let _ = report(setup.report, Msg::Fail { step, errno, index });
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
            report(
                setup.report,
                Msg::Fds {
                    listener: listener as u32,
                    proxy: proxy_fd as u32,
                },
            )?;
        } else {
            report(
                setup.report,
                Msg::Listener {
                    pid: libc::getpid() as u32,
                    fd: listener as u32,
                },
            )?;
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
/// No supplementary groups, then `gid` and `uid` (real, effective, saved) for the
/// calling thread only (raw system calls: libc's wrappers change every thread of the
/// process). No allocation, so fit for a forked child before `exec`.
fn set_thread_ids(uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: raw system calls on integers and a null pointer with a zero count.
    unsafe {
        check(libc::syscall(
            libc::SYS_setgroups,
            0,
            std::ptr::null::<libc::gid_t>(),
        ))?;
        check(libc::syscall(libc::SYS_setresgid, gid, gid, gid))?;
        check(libc::syscall(libc::SYS_setresuid, uid, uid, uid))?;
    }
    Ok(())
}

/// # Safety
/// Only in a forked child, between `fork` and `exec`.
pub(super) unsafe fn switch_ids(uid: u32, gid: u32) -> io::Result<()> {
    set_thread_ids(uid, gid)?;
    // SAFETY: a raw system call on integers.
    unsafe {
        // The id change made us non-dumpable, which would make our /proc entries
        // root's; the supervisor acts with our ids and must read them (exec makes a
        // normal program dumpable again anyway).
        check(libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0) as libc::c_long)?;
    }
    Ok(())
}

/// The signals a terminal sends to its foreground group: the command gets them; the
/// two processes that wait for it (outside and as init of the pid namespace) ignore
/// them, so a Ctrl-C reaches the command and not its keepers.
pub(super) const TERMINAL_SIGNALS: [libc::c_int; 6] = [
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
pub(super) unsafe fn exit_like(pid: libc::pid_t) -> ! {
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
pub(super) unsafe fn init_fork_command() -> io::Result<()> {
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
    if let Some((uid, gid)) = ids {
        set_thread_ids(uid, gid)?;
    }
    clear_capabilities()
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

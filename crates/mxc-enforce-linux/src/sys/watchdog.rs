//! The watchdog: a process outside the sandbox's tree that kills the run's cgroup
//! when `mxcc` ends, however it ends.

use super::*;

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
pub(super) unsafe fn watchdog_child(
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

//! Seccomp user notifications: receiving a held call, answering it (a value, an
//! error, `continue`, a descriptor put in the caller's table), checking that it is
//! still pending, and reading the caller's memory as it is now.

use super::*;

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
pub(super) unsafe fn notif_ioctl<T>(
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

/// Installs `fd` into the target of notification `id` at its lowest free descriptor,
/// leaving the call pending; returns that descriptor's number, which the caller then
/// sends as the call's value with [`notif_send`].
///
/// Not `SECCOMP_ADDFD_FLAG_SEND` (install and answer in one ioctl): the kernel wakes
/// the target of an ADDFD with a plain wake-up, while `NOTIF_SEND` wakes it on the
/// supervisor's CPU when [`notif_sync_wakeup`] is set. On the 2-vCPU guest this was
/// measured on, the two ioctls cost 16 us less per held open than the one
/// (`benches/unotify_floor.c`, docs/performance.md). What the one ioctl would add is
/// atomicity: if the target is interrupted between the two (a signal, or killed), it
/// keeps a descriptor it does not know the number of, of an object it was allowed to
/// open with these flags (the decision was made before); nothing more.
pub fn notif_addfd_pending(
    listener: BorrowedFd<'_>,
    id: u64,
    fd: BorrowedFd<'_>,
    cloexec: bool,
) -> io::Result<i32> {
    notif_addfd(listener, id, fd, 0, 0, cloexec)
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

pub(super) fn notif_addfd(
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

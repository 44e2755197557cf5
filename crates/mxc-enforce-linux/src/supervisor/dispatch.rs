//! Dispatch: a held call's number and registers to the handler that decides and
//! performs it (every number the filter holds has one; the rest answer `ENOSYS`).

use super::*;

impl Supervisor {
    /// Decides one call. `None`: already answered (a descriptor was sent, or a worker
    /// thread answers).
    pub(super) fn handle(self: &Arc<Self>, n: Notif) -> Option<Reply> {
        if n.arch != crate::bpf::AUDIT_ARCH_X86_64 {
            return Some(Reply::Error(libc::ENOSYS));
        }
        let mut c = Call {
            sup: self,
            n,
            tgid: None,
        };
        let a = n.args;
        let nr = i64::from(n.nr);
        let r = match nr {
            libc::SYS_openat => c.open(Base::Fd(a[0] as i32), a[1], a[2] as i32, a[3] as u32, 0),
            libc::SYS_open => c.open(Base::Cwd, a[0], a[1] as i32, a[2] as u32, 0),
            libc::SYS_creat => c.open(
                Base::Cwd,
                a[0],
                libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC,
                a[1] as u32,
                0,
            ),
            libc::SYS_openat2 => c.openat2(a[0] as i32, a[1], a[2], a[3]),
            libc::SYS_mkdir => c.mknod(Base::Cwd, a[0], libc::S_IFDIR | (a[1] as u32 & 0o7777), 0),
            libc::SYS_mkdirat => c.mknod(
                Base::Fd(a[0] as i32),
                a[1],
                libc::S_IFDIR | (a[2] as u32 & 0o7777),
                0,
            ),
            libc::SYS_mknod => c.mknod(Base::Cwd, a[0], a[1] as u32, a[2]),
            libc::SYS_mknodat => c.mknod(Base::Fd(a[0] as i32), a[1], a[2] as u32, a[3]),
            libc::SYS_unlink => c.unlink(Base::Cwd, a[0], 0),
            libc::SYS_rmdir => c.unlink(Base::Cwd, a[0], libc::AT_REMOVEDIR),
            libc::SYS_unlinkat => c.unlink(Base::Fd(a[0] as i32), a[1], a[2] as i32),
            libc::SYS_rename => c.rename(Base::Cwd, a[0], Base::Cwd, a[1], 0),
            libc::SYS_renameat => {
                c.rename(Base::Fd(a[0] as i32), a[1], Base::Fd(a[2] as i32), a[3], 0)
            }
            libc::SYS_renameat2 => c.rename(
                Base::Fd(a[0] as i32),
                a[1],
                Base::Fd(a[2] as i32),
                a[3],
                a[4] as u32,
            ),
            libc::SYS_link => c.link(Base::Cwd, a[0], Base::Cwd, a[1], 0),
            libc::SYS_linkat => c.link(
                Base::Fd(a[0] as i32),
                a[1],
                Base::Fd(a[2] as i32),
                a[3],
                a[4] as i32,
            ),
            libc::SYS_symlink => c.symlink(a[0], Base::Cwd, a[1]),
            libc::SYS_symlinkat => c.symlink(a[0], Base::Fd(a[1] as i32), a[2]),
            libc::SYS_truncate => c.truncate(a[0], a[1]),
            libc::SYS_stat | libc::SYS_access => c.stat(Base::Cwd, a[0], 0, true),
            libc::SYS_lstat | libc::SYS_readlink => c.stat(Base::Cwd, a[0], 0, false),
            libc::SYS_newfstatat => c.stat(Base::Fd(a[0] as i32), a[1], a[3] as i32, true),
            libc::SYS_statx => c.stat(Base::Fd(a[0] as i32), a[1], a[2] as i32, true),
            libc::SYS_faccessat | libc::SYS_faccessat2 => {
                c.stat(Base::Fd(a[0] as i32), a[1], a[3] as i32, true)
            }
            libc::SYS_readlinkat => c.stat(Base::Fd(a[0] as i32), a[1], 0, false),
            // Metadata changes are `write`, metadata reads `read` (see meta.rs).
            libc::SYS_chmod => c.chmod(Obj::Path(Base::Cwd, a[0], 0, true), a[1] as u32),
            libc::SYS_fchmod => c.chmod(Obj::Fd(a[0] as i32), a[1] as u32),
            libc::SYS_fchmodat => c.chmod(Obj::at(a[0], a[1], 0), a[2] as u32),
            libc::SYS_fchmodat2 => c.chmod(Obj::at(a[0], a[1], a[3] as i32), a[2] as u32),
            libc::SYS_chown => c.chown(
                Obj::Path(Base::Cwd, a[0], 0, true),
                a[1] as u32,
                a[2] as u32,
            ),
            libc::SYS_lchown => c.chown(
                Obj::Path(Base::Cwd, a[0], 0, false),
                a[1] as u32,
                a[2] as u32,
            ),
            libc::SYS_fchown => c.chown(Obj::Fd(a[0] as i32), a[1] as u32, a[2] as u32),
            libc::SYS_fchownat => {
                c.chown(Obj::at(a[0], a[1], a[4] as i32), a[2] as u32, a[3] as u32)
            }
            libc::SYS_utime => c
                .read_times(a[1], Times::Utimbuf)
                .and_then(|t| c.utimes(Obj::Path(Base::Cwd, a[0], 0, true), t)),
            libc::SYS_utimes => c
                .read_times(a[1], Times::Timeval)
                .and_then(|t| c.utimes(Obj::Path(Base::Cwd, a[0], 0, true), t)),
            libc::SYS_futimesat | libc::SYS_utimensat => {
                let (kind, flags) = if nr == libc::SYS_utimensat {
                    (Times::Timespec, a[3] as i32)
                } else {
                    (Times::Timeval, 0)
                };
                let o = if a[1] == 0 && a[0] as i32 != libc::AT_FDCWD {
                    // A NULL path: the descriptor itself.
                    Ok(Obj::Fd(a[0] as i32))
                } else if a[1] == 0 {
                    Err(Errno::FAULT)
                } else {
                    Ok(Obj::at(a[0], a[1], flags))
                };
                o.and_then(|o| c.read_times(a[2], kind).and_then(|t| c.utimes(o, t)))
            }
            libc::SYS_setxattr | libc::SYS_lsetxattr => c.setxattr(
                Obj::Path(Base::Cwd, a[0], 0, nr == libc::SYS_setxattr),
                a[1],
                a[2],
                a[3],
                a[4] as u32,
            ),
            libc::SYS_fsetxattr => c.setxattr(Obj::Fd(a[0] as i32), a[1], a[2], a[3], a[4] as u32),
            meta::SYS_SETXATTRAT => c.setxattrat(a),
            libc::SYS_removexattr | libc::SYS_lremovexattr => c.removexattr(
                Obj::Path(Base::Cwd, a[0], 0, nr == libc::SYS_removexattr),
                a[1],
            ),
            libc::SYS_fremovexattr => c.removexattr(Obj::Fd(a[0] as i32), a[1]),
            meta::SYS_REMOVEXATTRAT => c.removexattr(Obj::at(a[0], a[1], a[2] as i32), a[3]),
            libc::SYS_getxattr | libc::SYS_lgetxattr => c.getxattr(
                Obj::Path(Base::Cwd, a[0], 0, nr == libc::SYS_getxattr),
                a[1],
                a[2],
                a[3],
            ),
            meta::SYS_GETXATTRAT => c.getxattrat(a),
            libc::SYS_listxattr | libc::SYS_llistxattr => c.listxattr(
                Obj::Path(Base::Cwd, a[0], 0, nr == libc::SYS_listxattr),
                a[1],
                a[2],
            ),
            meta::SYS_LISTXATTRAT => c.listxattr(Obj::at(a[0], a[1], a[2] as i32), a[3], a[4]),
            libc::SYS_statfs => c.statfs(a[0]),
            libc::SYS_chdir => c.chdir(a[0]),
            libc::SYS_inotify_add_watch => c.inotify_add_watch(a[0] as i32, a[1], a[2] as u32),
            // Newer than the supervisor: callers fall back (ioctl on a descriptor).
            meta::SYS_FILE_GETATTR | meta::SYS_FILE_SETATTR => Err(Errno::NOSYS),
            libc::SYS_execve => c.exec(Base::Cwd, a[0], a[1], 0),
            libc::SYS_execveat => c.exec(Base::Fd(a[0] as i32), a[1], a[2], a[4] as i32),
            libc::SYS_connect => return c.connect(NetRight::Connect, a[0] as i32, a[1], a[2]),
            libc::SYS_bind => return c.connect(NetRight::Bind, a[0] as i32, a[1], a[2]),
            libc::SYS_listen => c.listen(a[0] as i32, a[1] as i32),
            libc::SYS_sendto => c.sendto(a[0] as i32, a[1], a[2], a[3] as i32, a[4], a[5]),
            libc::SYS_sendmsg => c.sendmsg(a[0] as i32, a[1], a[2] as i32),
            libc::SYS_sendmmsg => c.sendmmsg(a[0] as i32, a[1], a[2] as u32, a[3] as i32),
            // Another process by id: `pid_t` and `int` arguments (the low half).
            libc::SYS_prlimit64
            | libc::SYS_sched_setaffinity
            | libc::SYS_sched_setscheduler
            | libc::SYS_sched_setparam
            | libc::SYS_sched_setattr => c.other_task(a[0] as i32),
            libc::SYS_setpriority if a[0] as i32 == libc::PRIO_PROCESS as i32 => {
                c.other_task(a[1] as i32)
            }
            // IOPRIO_WHO_PROCESS
            libc::SYS_ioprio_set if a[0] as i32 == 1 => c.other_task(a[1] as i32),
            // A process group or a user by id: refused.
            libc::SYS_setpriority | libc::SYS_ioprio_set => Err(Errno::PERM),
            libc::SYS_process_madvise => c.process_madvise(a[0] as i32),
            _ => Err(Errno::NOSYS),
        };
        match r {
            Ok(Done::Reply(r)) => Some(r),
            Ok(Done::Sent) => None,
            Err(e) => Some(errno(e)),
        }
    }
}

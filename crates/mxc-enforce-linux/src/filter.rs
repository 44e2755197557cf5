//! Which system calls the seccomp filter refuses, and which it holds for the supervisor.

use crate::bpf::{Action, ArgTest, Op, Rule};
use libc::*;

const EPERM_: u16 = EPERM as u16;
const ENOSYS_: u16 = ENOSYS as u16;

fn plain(nr: c_long, action: Action) -> Rule {
    Rule {
        nr,
        tests: vec![],
        action,
    }
}

fn arg(arg: u8, mask: u32, op: Op) -> ArgTest {
    ArgTest { arg, mask, op }
}

/// What the filter holds for the supervisor.
#[derive(Clone, Copy, Debug)]
pub struct Supervise {
    /// File system calls (open, create, remove, rename, link, truncate).
    pub fs: bool,
}

/// The system calls no policy can allow, each failing with an errno a program
/// understands (so tools fall back instead of crashing).
pub fn refused() -> Vec<Rule> {
    let mut v = Vec::new();
    // io_uring performs file and network operations the supervisor would not see.
    for nr in [
        SYS_io_uring_setup,
        SYS_io_uring_enter,
        SYS_io_uring_register,
    ] {
        v.push(plain(nr, Action::Errno(ENOSYS_)));
    }
    // Reaching into other processes (a sibling outside the rules, or the supervisor).
    for nr in [
        SYS_ptrace,
        SYS_process_vm_readv,
        SYS_process_vm_writev,
        SYS_pidfd_getfd,
        SYS_kcmp,
    ] {
        v.push(plain(nr, Action::Errno(EPERM_)));
    }
    // New namespaces, mounts, kernel objects and knobs.
    for nr in [
        SYS_unshare,
        SYS_setns,
        SYS_mount,
        SYS_umount2,
        SYS_pivot_root,
        SYS_chroot,
        SYS_mount_setattr,
        SYS_fsopen,
        SYS_fsconfig,
        SYS_fsmount,
        SYS_fspick,
        SYS_move_mount,
        SYS_open_tree,
        SYS_bpf,
        SYS_perf_event_open,
        SYS_userfaultfd,
        SYS_keyctl,
        SYS_add_key,
        SYS_request_key,
        SYS_kexec_load,
        SYS_kexec_file_load,
        SYS_init_module,
        SYS_finit_module,
        SYS_delete_module,
        SYS_swapon,
        SYS_swapoff,
        SYS_reboot,
        SYS_acct,
        SYS_quotactl,
        SYS_open_by_handle_at,
        SYS_name_to_handle_at,
        SYS_fanotify_init,
        SYS_syslog,
        SYS_vhangup,
        SYS_iopl,
        SYS_ioperm,
        SYS_settimeofday,
        SYS_clock_settime,
        SYS_clock_adjtime,
        SYS_adjtimex,
        SYS_uselib,
        SYS_personality,
    ] {
        v.push(plain(nr, Action::Errno(EPERM_)));
    }
    // clone with any namespace flag; clone3 keeps its flags in memory, which a filter
    // cannot read, so it is refused with ENOSYS and libc falls back to clone.
    let ns_flags = (CLONE_NEWUSER
        | CLONE_NEWNS
        | CLONE_NEWNET
        | CLONE_NEWPID
        | CLONE_NEWIPC
        | CLONE_NEWUTS
        | CLONE_NEWCGROUP
        | CLONE_NEWTIME) as u32;
    v.push(Rule {
        nr: SYS_clone,
        tests: vec![arg(0, ns_flags, Op::Any)],
        action: Action::Errno(EPERM_),
    });
    v.push(plain(SYS_clone3, Action::Errno(ENOSYS_)));
    // Sockets: only unix, IPv4 and IPv6 (no netlink, packet, vsock, …), and no raw or
    // packet types.
    v.push(Rule {
        nr: SYS_socket,
        tests: vec![arg(
            0,
            u32::MAX,
            Op::NotIn(&[AF_UNIX as u32, AF_INET as u32, AF_INET6 as u32]),
        )],
        action: Action::Errno(EAFNOSUPPORT as u16),
    });
    v.push(Rule {
        nr: SYS_socket,
        tests: vec![arg(
            1,
            0xf,
            Op::NotIn(&[SOCK_STREAM as u32, SOCK_DGRAM as u32, SOCK_SEQPACKET as u32]),
        )],
        action: Action::Errno(EPERM_),
    });
    v.push(Rule {
        nr: SYS_socketpair,
        tests: vec![arg(0, u32::MAX, Op::Ne(AF_UNIX as u32))],
        action: Action::Errno(EAFNOSUPPORT as u16),
    });
    // Faking terminal input (TIOCSTI) and the console's ioctls.
    for cmd in [TIOCSTI as u32, TIOCLINUX as u32] {
        v.push(Rule {
            nr: SYS_ioctl,
            tests: vec![arg(1, u32::MAX, Op::Eq(cmd))],
            action: Action::Errno(EPERM_),
        });
    }
    // TCP Fast Open connects inside `sendto`/`sendmsg`, past the `connect` check.
    for (nr, flags_arg) in [(SYS_sendto, 3), (SYS_sendmsg, 2), (SYS_sendmmsg, 3)] {
        v.push(Rule {
            nr,
            tests: vec![arg(flags_arg, MSG_FASTOPEN as u32, Op::Any)],
            action: Action::Errno(EOPNOTSUPP as u16),
        });
    }
    v
}

/// The held calls.
pub fn supervised(s: Supervise) -> Vec<Rule> {
    let mut v = vec![
        plain(SYS_execve, Action::Notify),
        plain(SYS_execveat, Action::Notify),
        plain(SYS_connect, Action::Notify),
        plain(SYS_bind, Action::Notify),
        plain(SYS_sendmsg, Action::Notify),
        plain(SYS_sendmmsg, Action::Notify),
        // `sendto` without an address uses the connected peer, already decided.
        Rule {
            nr: SYS_sendto,
            tests: vec![arg(4, u32::MAX, Op::Ne(0))],
            action: Action::Notify,
        },
    ];
    if s.fs {
        for nr in [
            SYS_open,
            SYS_openat,
            SYS_openat2,
            SYS_creat,
            SYS_mkdir,
            SYS_mkdirat,
            SYS_mknod,
            SYS_mknodat,
            SYS_unlink,
            SYS_unlinkat,
            SYS_rmdir,
            SYS_rename,
            SYS_renameat,
            SYS_renameat2,
            SYS_link,
            SYS_linkat,
            SYS_symlink,
            SYS_symlinkat,
            SYS_truncate,
            SYS_stat,
            SYS_lstat,
            SYS_newfstatat,
            SYS_statx,
            SYS_access,
            SYS_faccessat,
            SYS_faccessat2,
            SYS_readlink,
            SYS_readlinkat,
        ] {
            v.push(plain(nr, Action::Notify));
        }
    }
    v
}

/// The whole filter: refusals first, then the held calls.
pub fn rules(s: Supervise) -> Vec<Rule> {
    let mut v = refused();
    v.extend(supervised(s));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::{self, assemble, simulate};

    #[test]
    fn filter_decisions() {
        let p = assemble(&rules(Supervise { fs: true })).unwrap();
        let a = bpf::AUDIT_ARCH_X86_64;
        let run = |nr: c_long, args: [u64; 6]| simulate(&p, a, nr as u32, args);
        assert_eq!(run(SYS_io_uring_setup, [0; 6]), bpf::SECCOMP_RET_ERRNO | 38);
        assert_eq!(
            run(SYS_socket, [AF_PACKET as u64, 3, 0, 0, 0, 0]),
            bpf::SECCOMP_RET_ERRNO | EAFNOSUPPORT as u32
        );
        assert_eq!(
            run(SYS_socket, [AF_VSOCK as u64, 1, 0, 0, 0, 0]),
            bpf::SECCOMP_RET_ERRNO | EAFNOSUPPORT as u32
        );
        assert_eq!(
            run(SYS_socket, [AF_INET as u64, SOCK_RAW as u64, 0, 0, 0, 0]),
            bpf::SECCOMP_RET_ERRNO | 1
        );
        assert_eq!(
            run(
                SYS_socket,
                [
                    AF_INET as u64,
                    (SOCK_STREAM | SOCK_CLOEXEC) as u64,
                    0,
                    0,
                    0,
                    0
                ]
            ),
            bpf::SECCOMP_RET_ALLOW
        );
        assert_eq!(
            run(SYS_clone, [(CLONE_NEWUSER | SIGCHLD) as u64, 0, 0, 0, 0, 0]),
            bpf::SECCOMP_RET_ERRNO | 1
        );
        assert_eq!(
            run(SYS_clone, [(CLONE_VM | CLONE_THREAD) as u64, 0, 0, 0, 0, 0]),
            bpf::SECCOMP_RET_ALLOW
        );
        assert_eq!(run(SYS_openat, [0; 6]), bpf::SECCOMP_RET_USER_NOTIF);
        assert_eq!(run(SYS_execve, [0; 6]), bpf::SECCOMP_RET_USER_NOTIF);
        assert_eq!(run(SYS_sendto, [3, 0, 0, 0, 0, 0]), bpf::SECCOMP_RET_ALLOW);
        assert_eq!(
            run(SYS_sendto, [3, 0, 0, 0, 8, 16]),
            bpf::SECCOMP_RET_USER_NOTIF
        );
        assert_eq!(
            run(SYS_ioctl, [0, TIOCSTI, 0, 0, 0, 0]),
            bpf::SECCOMP_RET_ERRNO | 1
        );
        assert_eq!(run(SYS_read, [0; 6]), bpf::SECCOMP_RET_ALLOW);
        let p2 = assemble(&rules(Supervise { fs: false })).unwrap();
        assert_eq!(
            simulate(&p2, a, SYS_openat as u32, [0; 6]),
            bpf::SECCOMP_RET_ALLOW
        );
    }
}

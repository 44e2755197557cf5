//! Which system calls the seccomp filter refuses, and which it holds for the supervisor.

use crate::bpf::{Action, ArgTest, Op, Rule};
use libc::*;

const EPERM_: u16 = EPERM as u16;
const ENOSYS_: u16 = ENOSYS as u16;

/// `(number, name)` of a system call constant.
macro_rules! sc {
    ($n:ident) => {
        ($n, &stringify!($n)[4..])
    };
}

fn plain((nr, name): (c_long, &'static str), action: Action) -> Rule {
    Rule {
        name,
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
        sc!(SYS_io_uring_setup),
        sc!(SYS_io_uring_enter),
        sc!(SYS_io_uring_register),
    ] {
        v.push(plain(nr, Action::Errno(ENOSYS_)));
    }
    // Reaching into other processes (a sibling outside the rules, or the supervisor).
    for nr in [
        sc!(SYS_ptrace),
        sc!(SYS_process_vm_readv),
        sc!(SYS_process_vm_writev),
        sc!(SYS_pidfd_getfd),
        sc!(SYS_kcmp),
    ] {
        v.push(plain(nr, Action::Errno(EPERM_)));
    }
    // New namespaces, mounts, kernel objects and knobs.
    for nr in [
        sc!(SYS_unshare),
        sc!(SYS_setns),
        sc!(SYS_mount),
        sc!(SYS_umount2),
        sc!(SYS_pivot_root),
        sc!(SYS_chroot),
        sc!(SYS_mount_setattr),
        sc!(SYS_fsopen),
        sc!(SYS_fsconfig),
        sc!(SYS_fsmount),
        sc!(SYS_fspick),
        sc!(SYS_move_mount),
        sc!(SYS_open_tree),
        sc!(SYS_bpf),
        sc!(SYS_perf_event_open),
        sc!(SYS_userfaultfd),
        sc!(SYS_keyctl),
        sc!(SYS_add_key),
        sc!(SYS_request_key),
        sc!(SYS_kexec_load),
        sc!(SYS_kexec_file_load),
        sc!(SYS_init_module),
        sc!(SYS_finit_module),
        sc!(SYS_delete_module),
        sc!(SYS_swapon),
        sc!(SYS_swapoff),
        sc!(SYS_reboot),
        sc!(SYS_acct),
        sc!(SYS_quotactl),
        sc!(SYS_open_by_handle_at),
        sc!(SYS_name_to_handle_at),
        sc!(SYS_fanotify_init),
        sc!(SYS_syslog),
        sc!(SYS_vhangup),
        sc!(SYS_iopl),
        sc!(SYS_ioperm),
        sc!(SYS_settimeofday),
        sc!(SYS_clock_settime),
        sc!(SYS_clock_adjtime),
        sc!(SYS_adjtimex),
        sc!(SYS_uselib),
        sc!(SYS_personality),
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
        name: &stringify!(SYS_clone)[4..],
        nr: SYS_clone,
        tests: vec![arg(0, ns_flags, Op::Any)],
        action: Action::Errno(EPERM_),
    });
    v.push(plain(sc!(SYS_clone3), Action::Errno(ENOSYS_)));
    // Sockets: only unix, IPv4 and IPv6 (no netlink, packet, vsock, …), and no raw or
    // packet types.
    v.push(Rule {
        name: &stringify!(SYS_socket)[4..],
        nr: SYS_socket,
        tests: vec![arg(
            0,
            u32::MAX,
            Op::NotIn(&[AF_UNIX as u32, AF_INET as u32, AF_INET6 as u32]),
        )],
        action: Action::Errno(EAFNOSUPPORT as u16),
    });
    v.push(Rule {
        name: &stringify!(SYS_socket)[4..],
        nr: SYS_socket,
        tests: vec![arg(
            1,
            0xf,
            Op::NotIn(&[SOCK_STREAM as u32, SOCK_DGRAM as u32, SOCK_SEQPACKET as u32]),
        )],
        action: Action::Errno(EPERM_),
    });
    v.push(Rule {
        name: &stringify!(SYS_socketpair)[4..],
        nr: SYS_socketpair,
        tests: vec![arg(0, u32::MAX, Op::Ne(AF_UNIX as u32))],
        action: Action::Errno(EAFNOSUPPORT as u16),
    });
    // Faking terminal input (TIOCSTI) and the console's ioctls.
    for cmd in [TIOCSTI as u32, TIOCLINUX as u32] {
        v.push(Rule {
            name: &stringify!(SYS_ioctl)[4..],
            nr: SYS_ioctl,
            tests: vec![arg(1, u32::MAX, Op::Eq(cmd))],
            action: Action::Errno(EPERM_),
        });
    }
    // TCP Fast Open connects inside `sendto`/`sendmsg`, past the `connect` check.
    for ((nr, name), flags_arg) in [
        (sc!(SYS_sendto), 3),
        (sc!(SYS_sendmsg), 2),
        (sc!(SYS_sendmmsg), 3),
    ] {
        v.push(Rule {
            name,
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
        plain(sc!(SYS_execve), Action::Notify),
        plain(sc!(SYS_execveat), Action::Notify),
        plain(sc!(SYS_connect), Action::Notify),
        plain(sc!(SYS_bind), Action::Notify),
        plain(sc!(SYS_sendmsg), Action::Notify),
        plain(sc!(SYS_sendmmsg), Action::Notify),
        // `sendto` without an address uses the connected peer, already decided.
        Rule {
            name: &stringify!(SYS_sendto)[4..],
            nr: SYS_sendto,
            tests: vec![arg(4, u32::MAX, Op::Ne(0))],
            action: Action::Notify,
        },
    ];
    // Metadata changes are `write` (SPEC §1), which Landlock does not cover: held even
    // when Landlock bounds every other file call. x86_64 numbers newer than the libc
    // crate: setxattrat 463, removexattrat 466, file_setattr 469.
    for nr in [
        sc!(SYS_chmod),
        sc!(SYS_fchmod),
        sc!(SYS_fchmodat),
        sc!(SYS_fchmodat2),
        sc!(SYS_chown),
        sc!(SYS_fchown),
        sc!(SYS_lchown),
        sc!(SYS_fchownat),
        sc!(SYS_utime),
        sc!(SYS_utimes),
        sc!(SYS_futimesat),
        sc!(SYS_utimensat),
        sc!(SYS_setxattr),
        sc!(SYS_lsetxattr),
        sc!(SYS_fsetxattr),
        sc!(SYS_removexattr),
        sc!(SYS_lremovexattr),
        sc!(SYS_fremovexattr),
        (463, "setxattrat"),
        (466, "removexattrat"),
        (469, "file_setattr"),
    ] {
        v.push(plain(nr, Action::Notify));
    }
    if s.fs {
        // Metadata reads by path are `read` (descriptor forms act on what the process
        // already holds): getxattrat 464, listxattrat 465, file_getattr 468.
        for nr in [
            sc!(SYS_getxattr),
            sc!(SYS_lgetxattr),
            sc!(SYS_listxattr),
            sc!(SYS_llistxattr),
            (464, "getxattrat"),
            (465, "listxattrat"),
            (468, "file_getattr"),
            sc!(SYS_statfs),
            sc!(SYS_chdir),
            sc!(SYS_inotify_add_watch),
        ] {
            v.push(plain(nr, Action::Notify));
        }
        for nr in [
            sc!(SYS_open),
            sc!(SYS_openat),
            sc!(SYS_openat2),
            sc!(SYS_creat),
            sc!(SYS_mkdir),
            sc!(SYS_mkdirat),
            sc!(SYS_mknod),
            sc!(SYS_mknodat),
            sc!(SYS_unlink),
            sc!(SYS_unlinkat),
            sc!(SYS_rmdir),
            sc!(SYS_rename),
            sc!(SYS_renameat),
            sc!(SYS_renameat2),
            sc!(SYS_link),
            sc!(SYS_linkat),
            sc!(SYS_symlink),
            sc!(SYS_symlinkat),
            sc!(SYS_truncate),
            sc!(SYS_stat),
            sc!(SYS_lstat),
            sc!(SYS_newfstatat),
            sc!(SYS_statx),
            sc!(SYS_access),
            sc!(SYS_faccessat),
            sc!(SYS_faccessat2),
            sc!(SYS_readlink),
            sc!(SYS_readlinkat),
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
        // Metadata changes are held whatever Landlock covers; reads only with files.
        for nr in [
            SYS_chmod,
            SYS_fchownat,
            SYS_utimensat,
            SYS_fsetxattr,
            463,
            466,
            469,
        ] {
            assert_eq!(
                simulate(&p2, a, nr as u32, [0; 6]),
                bpf::SECCOMP_RET_USER_NOTIF
            );
            assert_eq!(run(nr, [0; 6]), bpf::SECCOMP_RET_USER_NOTIF);
        }
        for nr in [
            SYS_getxattr,
            SYS_statfs,
            SYS_chdir,
            SYS_inotify_add_watch,
            464,
            465,
        ] {
            assert_eq!(run(nr, [0; 6]), bpf::SECCOMP_RET_USER_NOTIF);
            assert_eq!(simulate(&p2, a, nr as u32, [0; 6]), bpf::SECCOMP_RET_ALLOW);
        }
    }
}

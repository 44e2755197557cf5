//! Which system calls the seccomp filter allows, which it refuses on their arguments,
//! and which it holds for the supervisor. Anything not listed fails with `ENOSYS` (an
//! allow-list: a system call added to a later kernel is refused until it is listed).

use crate::bpf::{Action, ArgTest, Op, Rule, Width};
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

/// A test on an argument the kernel reads as a 32-bit `int` (`pid_t`, `umode_t`,
/// `unsigned int` flags, a descriptor, a socket family …): only its low half counts.
fn int(arg: u8, mask: u32, op: Op) -> ArgTest {
    ArgTest {
        arg,
        width: Width::Int,
        mask: u64::from(mask),
        op,
    }
}

/// A test on a pointer or a `long`/`unsigned long`/`size_t` argument: both halves.
fn long(arg: u8, mask: u64, op: Op) -> ArgTest {
    ArgTest {
        arg,
        width: Width::Long,
        mask,
        op,
    }
}

/// What the filter holds for the supervisor.
#[derive(Clone, Copy, Debug)]
pub struct Supervise {
    /// File system calls (open, create, remove, rename, link, truncate).
    pub fs: bool,
    /// The sandbox shares the host's IPC namespace (the process tier): SysV IPC and
    /// POSIX message queues are refused.
    pub host_ipc: bool,
    /// The sandbox stays in the user's session (the process tier without a terminal of
    /// its own, `sys/child.rs`): `setpgid` may make a process group (a `pgid` of 0)
    /// but not join one, since every process group of the user's session would be
    /// within reach (and one the sandbox alone linked to the session, left with a
    /// member stopped, makes the kernel send SIGHUP and SIGCONT to all of it, with no
    /// credential or Landlock check: escape `session_terminal_process`).
    pub host_session: bool,
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
    // clone's flags are an `unsigned long`, but the kernel keeps only their low 32 bits
    // (`lower_32_bits(clone_flags)`): the low word is the one to test.
    v.push(Rule {
        name: &stringify!(SYS_clone)[4..],
        nr: SYS_clone,
        tests: vec![int(0, ns_flags, Op::Any)],
        action: Action::Errno(EPERM_),
    });
    v.push(plain(sc!(SYS_clone3), Action::Errno(ENOSYS_)));
    // Sockets: only unix, IPv4 and IPv6 (no netlink, packet, vsock, …), and no raw or
    // packet types.
    v.push(Rule {
        name: &stringify!(SYS_socket)[4..],
        nr: SYS_socket,
        tests: vec![int(
            0,
            u32::MAX,
            Op::NotIn(&[AF_UNIX as u64, AF_INET as u64, AF_INET6 as u64]),
        )],
        action: Action::Errno(EAFNOSUPPORT as u16),
    });
    v.push(Rule {
        name: &stringify!(SYS_socket)[4..],
        nr: SYS_socket,
        tests: vec![int(
            1,
            0xf,
            Op::NotIn(&[SOCK_STREAM as u64, SOCK_DGRAM as u64, SOCK_SEQPACKET as u64]),
        )],
        action: Action::Errno(EPERM_),
    });
    v.push(Rule {
        name: &stringify!(SYS_socketpair)[4..],
        nr: SYS_socketpair,
        tests: vec![int(0, u32::MAX, Op::Ne(AF_UNIX as u64))],
        action: Action::Errno(EAFNOSUPPORT as u16),
    });
    // Faking terminal input (TIOCSTI), the console's ioctls, and changing a terminal's
    // line discipline (TIOCSETD: the kernel asks for no controlling terminal, so a
    // sandbox given the user's terminal as stdin could leave it set to N_NULL, a dead
    // terminal, after the run).
    for cmd in [TIOCSTI as u32, TIOCLINUX as u32, TIOCSETD as u32] {
        v.push(Rule {
            name: &stringify!(SYS_ioctl)[4..],
            nr: SYS_ioctl,
            tests: vec![int(1, u32::MAX, Op::Eq(u64::from(cmd)))],
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
            tests: vec![int(flags_arg, MSG_FASTOPEN as u32, Op::Any)],
            action: Action::Errno(EOPNOTSUPP as u16),
        });
    }
    // No setuid or setgid file: a root-started agent keeps uid 0 (without
    // capabilities), and a setuid-root file it made would run as root for any host
    // user later. chmod/fchmod/fchmodat/fchmodat2 with those bits, and creations with
    // them (open/openat/creat with O_CREAT or O_TMPFILE, mknod), fail with EPERM.
    // openat2 keeps its mode in memory: held by the supervisor (which refuses such a
    // mode) or, when file calls are not held, not allowed at all (ENOSYS).
    let suid: u32 = S_ISUID | S_ISGID;
    for ((nr, name), mode_arg) in [
        (sc!(SYS_chmod), 1),
        (sc!(SYS_fchmod), 1),
        (sc!(SYS_fchmodat), 2),
        (sc!(SYS_fchmodat2), 2),
        (sc!(SYS_creat), 1),
        (sc!(SYS_mknod), 1),
        (sc!(SYS_mknodat), 2),
    ] {
        v.push(Rule {
            name,
            nr,
            tests: vec![int(mode_arg, suid, Op::Any)],
            action: Action::Errno(EPERM_),
        });
    }
    const O_TMPFILE_BIT: u32 = 0o20_000_000;
    for ((nr, name), flags_arg) in [(sc!(SYS_open), 1), (sc!(SYS_openat), 2)] {
        for creating in [O_CREAT as u32, O_TMPFILE_BIT] {
            v.push(Rule {
                name,
                nr,
                tests: vec![
                    int(flags_arg, creating, Op::Any),
                    int(flags_arg + 1, suid, Op::Any),
                ],
                action: Action::Errno(EPERM_),
            });
        }
    }
    // A seccomp listener of the agent's own would answer the calls MXC holds (the most
    // recently installed filter's notification wins): a filter of its own is fine (it
    // can only narrow), a listener is not.
    const SECCOMP_FILTER_FLAG_NEW_LISTENER: u32 = 1 << 3;
    v.push(Rule {
        name: &stringify!(SYS_seccomp)[4..],
        nr: SYS_seccomp,
        tests: vec![int(1, SECCOMP_FILTER_FLAG_NEW_LISTENER, Op::Any)],
        action: Action::Errno(EPERM_),
    });
    // Priorities of a whole user: with the same uid (a root-started agent is uid 0)
    // that reaches processes outside the sandbox. IOPRIO_WHO_USER is 3.
    v.push(Rule {
        name: &stringify!(SYS_setpriority)[4..],
        nr: SYS_setpriority,
        tests: vec![int(0, u32::MAX, Op::Eq(PRIO_USER as u64))],
        action: Action::Errno(EPERM_),
    });
    v.push(Rule {
        name: &stringify!(SYS_ioprio_set)[4..],
        nr: SYS_ioprio_set,
        tests: vec![int(0, u32::MAX, Op::Eq(3))],
        action: Action::Errno(EPERM_),
    });
    v
}

/// The system calls allowed (after the refusals and the held calls of the same
/// number), for x86-64. Based on what glibc, musl, Python, Node, git, GCC/make and
/// Rust programs use, checked against the default profiles of Docker and Podman;
/// left out: everything that needs a capability the agent never has, mounts and
/// namespaces, kernel keys, BPF, perf, io_uring, handles, other processes' memory,
/// and every call newer than the list (ENOSYS, so libc falls back).
pub fn allowed() -> Vec<Rule> {
    let mut v = Vec::new();
    for nr in [
        // Files and descriptors.
        sc!(SYS_read),
        sc!(SYS_write),
        sc!(SYS_open),
        sc!(SYS_close),
        sc!(SYS_stat),
        sc!(SYS_fstat),
        sc!(SYS_lstat),
        sc!(SYS_poll),
        sc!(SYS_lseek),
        sc!(SYS_ioctl),
        sc!(SYS_pread64),
        sc!(SYS_pwrite64),
        sc!(SYS_readv),
        sc!(SYS_writev),
        sc!(SYS_access),
        sc!(SYS_pipe),
        sc!(SYS_select),
        sc!(SYS_dup),
        sc!(SYS_dup2),
        sc!(SYS_sendfile),
        sc!(SYS_fcntl),
        sc!(SYS_flock),
        sc!(SYS_fsync),
        sc!(SYS_fdatasync),
        sc!(SYS_truncate),
        sc!(SYS_ftruncate),
        sc!(SYS_getdents),
        sc!(SYS_getcwd),
        sc!(SYS_chdir),
        sc!(SYS_fchdir),
        sc!(SYS_rename),
        sc!(SYS_mkdir),
        sc!(SYS_rmdir),
        sc!(SYS_creat),
        sc!(SYS_link),
        sc!(SYS_unlink),
        sc!(SYS_symlink),
        sc!(SYS_readlink),
        sc!(SYS_chmod),
        sc!(SYS_fchmod),
        sc!(SYS_chown),
        sc!(SYS_fchown),
        sc!(SYS_lchown),
        sc!(SYS_umask),
        sc!(SYS_mknod),
        sc!(SYS_statfs),
        sc!(SYS_fstatfs),
        sc!(SYS_utime),
        sc!(SYS_utimes),
        sc!(SYS_futimesat),
        sc!(SYS_utimensat),
        sc!(SYS_sync),
        sc!(SYS_syncfs),
        sc!(SYS_readahead),
        sc!(SYS_setxattr),
        sc!(SYS_lsetxattr),
        sc!(SYS_fsetxattr),
        sc!(SYS_getxattr),
        sc!(SYS_lgetxattr),
        sc!(SYS_fgetxattr),
        sc!(SYS_listxattr),
        sc!(SYS_llistxattr),
        sc!(SYS_flistxattr),
        sc!(SYS_removexattr),
        sc!(SYS_lremovexattr),
        sc!(SYS_fremovexattr),
        sc!(SYS_getdents64),
        sc!(SYS_fadvise64),
        sc!(SYS_openat),
        sc!(SYS_mkdirat),
        sc!(SYS_mknodat),
        sc!(SYS_fchownat),
        sc!(SYS_newfstatat),
        sc!(SYS_unlinkat),
        sc!(SYS_renameat),
        sc!(SYS_linkat),
        sc!(SYS_symlinkat),
        sc!(SYS_readlinkat),
        sc!(SYS_fchmodat),
        sc!(SYS_faccessat),
        sc!(SYS_pselect6),
        sc!(SYS_ppoll),
        sc!(SYS_splice),
        sc!(SYS_tee),
        sc!(SYS_sync_file_range),
        sc!(SYS_vmsplice),
        sc!(SYS_fallocate),
        sc!(SYS_dup3),
        sc!(SYS_pipe2),
        sc!(SYS_preadv),
        sc!(SYS_pwritev),
        sc!(SYS_renameat2),
        sc!(SYS_copy_file_range),
        sc!(SYS_preadv2),
        sc!(SYS_pwritev2),
        sc!(SYS_statx),
        sc!(SYS_close_range),
        sc!(SYS_faccessat2),
        sc!(SYS_fchmodat2),
        sc!(SYS_memfd_create),
        sc!(SYS_inotify_init),
        sc!(SYS_inotify_init1),
        sc!(SYS_inotify_add_watch),
        sc!(SYS_inotify_rm_watch),
        sc!(SYS_epoll_create),
        sc!(SYS_epoll_create1),
        sc!(SYS_epoll_ctl),
        sc!(SYS_epoll_wait),
        sc!(SYS_epoll_pwait),
        sc!(SYS_epoll_pwait2),
        sc!(SYS_eventfd),
        sc!(SYS_eventfd2),
        sc!(SYS_signalfd),
        sc!(SYS_signalfd4),
        sc!(SYS_timerfd_create),
        sc!(SYS_timerfd_settime),
        sc!(SYS_timerfd_gettime),
        sc!(SYS_io_setup),
        sc!(SYS_io_destroy),
        sc!(SYS_io_getevents),
        sc!(SYS_io_submit),
        sc!(SYS_io_cancel),
        // Memory.
        sc!(SYS_mmap),
        sc!(SYS_mprotect),
        sc!(SYS_munmap),
        sc!(SYS_brk),
        sc!(SYS_mremap),
        sc!(SYS_msync),
        sc!(SYS_mincore),
        sc!(SYS_madvise),
        sc!(SYS_mlock),
        sc!(SYS_munlock),
        sc!(SYS_mlockall),
        sc!(SYS_munlockall),
        sc!(SYS_mlock2),
        sc!(SYS_remap_file_pages),
        sc!(SYS_mbind),
        sc!(SYS_set_mempolicy),
        sc!(SYS_get_mempolicy),
        sc!(SYS_set_mempolicy_home_node),
        sc!(SYS_membarrier),
        sc!(SYS_pkey_mprotect),
        sc!(SYS_pkey_alloc),
        sc!(SYS_pkey_free),
        // Sockets (families and types are checked above).
        sc!(SYS_socket),
        sc!(SYS_connect),
        sc!(SYS_accept),
        sc!(SYS_accept4),
        sc!(SYS_sendto),
        sc!(SYS_recvfrom),
        sc!(SYS_sendmsg),
        sc!(SYS_recvmsg),
        sc!(SYS_sendmmsg),
        sc!(SYS_recvmmsg),
        sc!(SYS_shutdown),
        sc!(SYS_bind),
        sc!(SYS_listen),
        sc!(SYS_getsockname),
        sc!(SYS_getpeername),
        sc!(SYS_socketpair),
        sc!(SYS_setsockopt),
        sc!(SYS_getsockopt),
        // Processes, threads, signals.
        sc!(SYS_clone),
        sc!(SYS_fork),
        sc!(SYS_vfork),
        sc!(SYS_execve),
        sc!(SYS_execveat),
        sc!(SYS_exit),
        sc!(SYS_exit_group),
        sc!(SYS_wait4),
        sc!(SYS_waitid),
        sc!(SYS_kill),
        sc!(SYS_tkill),
        sc!(SYS_tgkill),
        sc!(SYS_rt_sigaction),
        sc!(SYS_rt_sigprocmask),
        sc!(SYS_rt_sigreturn),
        sc!(SYS_rt_sigpending),
        sc!(SYS_rt_sigtimedwait),
        sc!(SYS_rt_sigqueueinfo),
        sc!(SYS_rt_tgsigqueueinfo),
        sc!(SYS_rt_sigsuspend),
        sc!(SYS_sigaltstack),
        sc!(SYS_pause),
        sc!(SYS_pidfd_open),
        sc!(SYS_pidfd_send_signal),
        sc!(SYS_set_tid_address),
        sc!(SYS_set_robust_list),
        sc!(SYS_get_robust_list),
        sc!(SYS_futex),
        sc!(SYS_futex_waitv),
        sc!(SYS_rseq),
        sc!(SYS_arch_prctl),
        sc!(SYS_prctl),
        sc!(SYS_restart_syscall),
        sc!(SYS_seccomp),
        sc!(SYS_landlock_create_ruleset),
        sc!(SYS_landlock_add_rule),
        sc!(SYS_landlock_restrict_self),
        sc!(SYS_set_thread_area),
        sc!(SYS_get_thread_area),
        sc!(SYS_sched_yield),
        sc!(SYS_sched_setparam),
        sc!(SYS_sched_getparam),
        sc!(SYS_sched_setscheduler),
        sc!(SYS_sched_getscheduler),
        sc!(SYS_sched_get_priority_max),
        sc!(SYS_sched_get_priority_min),
        sc!(SYS_sched_rr_get_interval),
        sc!(SYS_sched_setaffinity),
        sc!(SYS_sched_getaffinity),
        sc!(SYS_sched_setattr),
        sc!(SYS_sched_getattr),
        sc!(SYS_getpriority),
        sc!(SYS_setpriority),
        sc!(SYS_ioprio_get),
        sc!(SYS_ioprio_set),
        sc!(SYS_getrlimit),
        sc!(SYS_setrlimit),
        sc!(SYS_prlimit64),
        sc!(SYS_getrusage),
        sc!(SYS_getcpu),
        // Identity (changing it needs capabilities the agent does not have).
        sc!(SYS_getpid),
        sc!(SYS_getppid),
        sc!(SYS_gettid),
        sc!(SYS_getuid),
        sc!(SYS_geteuid),
        sc!(SYS_getgid),
        sc!(SYS_getegid),
        sc!(SYS_getresuid),
        sc!(SYS_getresgid),
        sc!(SYS_getgroups),
        sc!(SYS_getpgid),
        sc!(SYS_getpgrp),
        sc!(SYS_getsid),
        sc!(SYS_setpgid),
        sc!(SYS_setsid),
        sc!(SYS_setuid),
        sc!(SYS_setgid),
        sc!(SYS_setreuid),
        sc!(SYS_setregid),
        sc!(SYS_setresuid),
        sc!(SYS_setresgid),
        sc!(SYS_setfsuid),
        sc!(SYS_setfsgid),
        sc!(SYS_setgroups),
        sc!(SYS_capget),
        sc!(SYS_capset),
        // Time and the system (read only).
        sc!(SYS_nanosleep),
        sc!(SYS_clock_nanosleep),
        sc!(SYS_clock_gettime),
        sc!(SYS_clock_getres),
        sc!(SYS_gettimeofday),
        sc!(SYS_time),
        sc!(SYS_times),
        sc!(SYS_getitimer),
        sc!(SYS_setitimer),
        sc!(SYS_alarm),
        sc!(SYS_timer_create),
        sc!(SYS_timer_settime),
        sc!(SYS_timer_gettime),
        sc!(SYS_timer_getoverrun),
        sc!(SYS_timer_delete),
        sc!(SYS_uname),
        sc!(SYS_sysinfo),
        sc!(SYS_getrandom),
    ] {
        v.push(plain(nr, Action::Allow));
    }
    // System V and POSIX IPC (refused first where the sandbox shares the host's).
    for nr in ipc_calls() {
        v.push(plain(nr, Action::Allow));
    }
    // Newer than this libc's table.
    for (nr, name) in [
        (333, "io_pgetevents"),
        (451, "cachestat"),
        (453, "map_shadow_stack"),
        (454, "futex_wake"),
        (455, "futex_wait"),
        (456, "futex_requeue"),
        // Metadata reads (held first when file calls are held).
        (464, "getxattrat"),
        (465, "listxattrat"),
        (468, "file_getattr"),
    ] {
        v.push(plain((nr, name), Action::Allow));
    }
    v
}

/// System V and POSIX IPC: allowed (below), or refused by [`refused_ipc`].
fn ipc_calls() -> [(c_long, &'static str); 18] {
    [
        sc!(SYS_shmget),
        sc!(SYS_shmat),
        sc!(SYS_shmctl),
        sc!(SYS_shmdt),
        sc!(SYS_semget),
        sc!(SYS_semop),
        sc!(SYS_semctl),
        sc!(SYS_semtimedop),
        sc!(SYS_msgget),
        sc!(SYS_msgsnd),
        sc!(SYS_msgrcv),
        sc!(SYS_msgctl),
        sc!(SYS_mq_open),
        sc!(SYS_mq_unlink),
        sc!(SYS_mq_timedsend),
        sc!(SYS_mq_timedreceive),
        sc!(SYS_mq_notify),
        sc!(SYS_mq_getsetattr),
    ]
}

/// System V IPC and POSIX message queues, refused in the process tier: it shares the
/// host's IPC namespace, where objects are found by a number or a name (not a path
/// Landlock sees) and guarded only by their owner's uid, which a root-started agent
/// (uid 0) or an agent of the user's own uid passes. The container tier has an IPC
/// namespace of its own and keeps them.
pub fn refused_ipc() -> Vec<Rule> {
    ipc_calls()
        .into_iter()
        .map(|nr| plain(nr, Action::Errno(EPERM_)))
        .collect()
}

/// The held calls.
pub fn supervised(s: Supervise) -> Vec<Rule> {
    let mut v = vec![
        plain(sc!(SYS_execve), Action::Notify),
        plain(sc!(SYS_execveat), Action::Notify),
        plain(sc!(SYS_connect), Action::Notify),
        plain(sc!(SYS_bind), Action::Notify),
        // Serving: decided as `bind` of the address actually listened on.
        plain(sc!(SYS_listen), Action::Notify),
        plain(sc!(SYS_sendmsg), Action::Notify),
        plain(sc!(SYS_sendmmsg), Action::Notify),
        // `sendto` without an address uses the connected peer, already decided.
        Rule {
            name: &stringify!(SYS_sendto)[4..],
            nr: SYS_sendto,
            tests: vec![long(4, u64::MAX, Op::Ne(0))],
            action: Action::Notify,
        },
    ];
    // Calls that change another process by id (`pid_t`, an `int`: 0 is the caller),
    // which the kernel allows on any process of the same uid: held when the id is not
    // 0, and let through only for a task of the sandbox. process_madvise names its
    // process by a pidfd: always held.
    for ((nr, name), id_arg) in [
        (sc!(SYS_prlimit64), 0),
        (sc!(SYS_setpriority), 1),
        (sc!(SYS_ioprio_set), 1),
        (sc!(SYS_sched_setaffinity), 0),
        (sc!(SYS_sched_setscheduler), 0),
        (sc!(SYS_sched_setparam), 0),
        (sc!(SYS_sched_setattr), 0),
    ] {
        v.push(Rule {
            name,
            nr,
            tests: vec![int(id_arg, u32::MAX, Op::Ne(0))],
            action: Action::Notify,
        });
    }
    v.push(plain(sc!(SYS_process_madvise), Action::Notify));
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
        // Extended attribute reads by path are `read` of the file, and its attributes
        // hold data (`user.*`: whatever a program stored there), which Landlock does
        // not guard: held whatever Landlock covers (escape `xattr_watch`). Descriptor
        // forms act on what the process already holds. getxattrat 464, listxattrat 465.
        sc!(SYS_getxattr),
        sc!(SYS_lgetxattr),
        sc!(SYS_listxattr),
        sc!(SYS_llistxattr),
        (464, "getxattrat"),
        (465, "listxattrat"),
        // Watching a place shows the names made, opened and removed in it: `read`,
        // which Landlock does not guard either.
        sc!(SYS_inotify_add_watch),
    ] {
        v.push(plain(nr, Action::Notify));
    }
    if s.fs {
        // Other metadata reads by path (`read`; file_getattr 468: the supervisor
        // answers ENOSYS, callers fall back to an ioctl on a descriptor).
        for nr in [(468, "file_getattr"), sc!(SYS_statfs), sc!(SYS_chdir)] {
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

/// The whole filter: refusals first, then the held calls, then what is allowed;
/// anything else fails with ENOSYS.
pub fn rules(s: Supervise) -> Vec<Rule> {
    let mut v = refused();
    if s.host_ipc {
        v.extend(refused_ipc());
    }
    if s.host_session {
        // `setpgid(pid, pgid)`: `pgid` a `pid_t`; 0 makes `pid` lead a group of its
        // own, anything else names a group to join.
        v.push(Rule {
            name: &stringify!(SYS_setpgid)[4..],
            nr: SYS_setpgid,
            tests: vec![int(1, u32::MAX, Op::Ne(0))],
            action: Action::Errno(EPERM_),
        });
    }
    v.extend(supervised(s));
    v.extend(allowed());
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::{self, assemble, simulate};

    #[test]
    fn filter_decisions() {
        let p = assemble(&rules(Supervise {
            fs: true,
            host_ipc: true,
            host_session: true,
        }))
        .unwrap();
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
        let p2 = assemble(&rules(Supervise {
            fs: false,
            host_ipc: false,
            host_session: false,
        }))
        .unwrap();
        assert_eq!(
            simulate(&p2, a, SYS_openat as u32, [0; 6]),
            bpf::SECCOMP_RET_ALLOW
        );
        // In the user's session a process group may be made (pgid 0), not joined (the
        // pgid's high half is ignored by the kernel: a pid_t); in a session of its own
        // (p2), either.
        assert_eq!(run(SYS_setpgid, [0; 6]), bpf::SECCOMP_RET_ALLOW);
        assert_eq!(
            run(SYS_setpgid, [77, 0, 0, 0, 0, 0]),
            bpf::SECCOMP_RET_ALLOW
        );
        assert_eq!(
            run(SYS_setpgid, [1 << 32, 1 << 32, 0, 0, 0, 0]),
            bpf::SECCOMP_RET_ALLOW
        );
        for pgid in [1u64, 4242, 77, u64::from(u32::MAX)] {
            assert_eq!(
                run(SYS_setpgid, [0, pgid, 0, 0, 0, 0]),
                bpf::SECCOMP_RET_ERRNO | 1
            );
        }
        assert_eq!(
            simulate(&p2, a, SYS_setpgid as u32, [0, 4242, 0, 0, 0, 0]),
            bpf::SECCOMP_RET_ALLOW
        );
        // Metadata changes, extended attribute reads by path and inotify watches are
        // held whatever Landlock covers; other metadata reads only with files.
        for nr in [
            SYS_chmod,
            SYS_fchownat,
            SYS_utimensat,
            SYS_fsetxattr,
            463,
            466,
            469,
            SYS_getxattr,
            SYS_lgetxattr,
            SYS_listxattr,
            SYS_llistxattr,
            SYS_inotify_add_watch,
            464,
            465,
        ] {
            assert_eq!(
                simulate(&p2, a, nr as u32, [0; 6]),
                bpf::SECCOMP_RET_USER_NOTIF
            );
            assert_eq!(run(nr, [0; 6]), bpf::SECCOMP_RET_USER_NOTIF);
        }
        for nr in [SYS_statfs, SYS_chdir, 468] {
            assert_eq!(run(nr, [0; 6]), bpf::SECCOMP_RET_USER_NOTIF);
            assert_eq!(simulate(&p2, a, nr as u32, [0; 6]), bpf::SECCOMP_RET_ALLOW);
        }
        // Descriptor forms act on what the process holds.
        for nr in [SYS_fgetxattr, SYS_flistxattr] {
            assert_eq!(simulate(&p2, a, nr as u32, [0; 6]), bpf::SECCOMP_RET_ALLOW);
        }
        // An allow-list: unknown numbers and calls newer than the list are refused.
        let enosys = bpf::SECCOMP_RET_ERRNO | ENOSYS as u32;
        let eperm = bpf::SECCOMP_RET_ERRNO | EPERM as u32;
        for p in [&p, &p2] {
            let run = |nr: c_long, args: [u64; 6]| simulate(p, a, nr as u32, args);
            for nr in [600, 467, 457, 458, 462, 335, 1000, 0x3fff_ffff] {
                assert_eq!(run(nr, [0; 6]), enosys, "call {nr}");
            }
            for nr in [SYS_open_tree, SYS_mount_setattr, SYS_mount, SYS_ptrace] {
                assert_eq!(run(nr, [0; 6]), eperm, "call {nr}");
            }
            // No setuid or setgid file, whichever way.
            let suid = (S_ISUID | 0o755) as u64;
            let sgid = (S_ISGID | 0o755) as u64;
            assert_eq!(run(SYS_chmod, [0, suid, 0, 0, 0, 0]), eperm);
            assert_eq!(run(SYS_fchmod, [3, sgid, 0, 0, 0, 0]), eperm);
            assert_eq!(run(SYS_fchmodat, [3, 0, suid, 0, 0, 0]), eperm);
            assert_eq!(run(SYS_fchmodat2, [3, 0, sgid, 0, 0, 0]), eperm);
            // A plain mode change is held (metadata changes are `write`).
            assert_eq!(
                run(SYS_fchmodat, [3, 0, 0o755, 0, 0, 0]),
                bpf::SECCOMP_RET_USER_NOTIF
            );
            assert_eq!(run(SYS_creat, [0, suid, 0, 0, 0, 0]), eperm);
            assert_eq!(
                run(SYS_mknodat, [3, 0, S_IFREG as u64 | suid, 0, 0, 0]),
                eperm
            );
            let creat = (O_CREAT | O_WRONLY) as u64;
            assert_eq!(run(SYS_openat, [3, 0, creat, suid, 0, 0]), eperm);
            assert_eq!(run(SYS_open, [0, creat, sgid, 0, 0, 0]), eperm);
            assert_eq!(
                run(SYS_openat, [3, 0, (O_TMPFILE | O_RDWR) as u64, suid, 0, 0]),
                eperm
            );
            // Without O_CREAT the mode is not used.
            assert_ne!(run(SYS_openat, [3, 0, O_RDONLY as u64, suid, 0, 0]), eperm);
            // No seccomp listener of the agent's own; its own filters are fine.
            assert_eq!(run(SYS_seccomp, [1, 8, 0, 0, 0, 0]), eperm);
            assert_eq!(run(SYS_seccomp, [1, 0, 0, 0, 0, 0]), bpf::SECCOMP_RET_ALLOW);
            // Limits and priorities of the caller only.
            assert_eq!(
                run(SYS_prlimit64, [0, 7, 0, 0, 0, 0]),
                bpf::SECCOMP_RET_ALLOW
            );
            let held = bpf::SECCOMP_RET_USER_NOTIF;
            let allow = bpf::SECCOMP_RET_ALLOW;
            assert_eq!(run(SYS_prlimit64, [1234, 7, 0, 0, 0, 0]), held);
            // pid_t is an int: the kernel reads 0 (the caller) from 1 << 32.
            assert_eq!(run(SYS_prlimit64, [1 << 32, 7, 0, 0, 0, 0]), allow);
            assert_eq!(run(SYS_setpriority, [0, 0, 10, 0, 0, 0]), allow);
            assert_eq!(run(SYS_setpriority, [0, 1234, 10, 0, 0, 0]), held);
            for nr in [
                SYS_sched_setaffinity,
                SYS_sched_setscheduler,
                SYS_sched_setparam,
                SYS_sched_setattr,
            ] {
                assert_eq!(run(nr, [0, 8, 0, 0, 0, 0]), allow, "call {nr}");
                assert_eq!(run(nr, [1234, 8, 0, 0, 0, 0]), held, "call {nr}");
                assert_eq!(run(nr, [u32::MAX as u64, 8, 0, 0, 0, 0]), held);
            }
            assert_eq!(run(SYS_ioprio_set, [1, 0, 4, 0, 0, 0]), allow);
            assert_eq!(run(SYS_ioprio_set, [1, 1234, 4, 0, 0, 0]), held);
            assert_eq!(run(SYS_ioprio_set, [3, 0, 4, 0, 0, 0]), eperm);
            assert_eq!(run(SYS_process_madvise, [3, 0, 1, 20, 0, 0]), held);
            // Not on the list at all: another process's pages.
            assert_eq!(run(SYS_migrate_pages, [0; 6]), enosys);
            assert_eq!(run(SYS_move_pages, [0; 6]), enosys);
            // sendto's address is a pointer: held whichever half is not 0.
            assert_eq!(run(SYS_sendto, [3, 0, 1, 0, 1 << 32, 16]), held);
            assert_eq!(run(SYS_sendto, [3, 0, 1, 0, 0x7f00_0000_0000, 16]), held);
            assert_eq!(run(SYS_sendto, [3, 0, 1, 0, 0, 16]), allow);
            // TCP Fast Open's flag: flags are an unsigned int (the low half).
            assert_eq!(
                run(SYS_sendto, [3, 0, 1, 0x2000_0000 | (1 << 32), 0, 0]),
                bpf::SECCOMP_RET_ERRNO | EOPNOTSUPP as u32
            );
            assert_eq!(run(SYS_sendto, [3, 0, 1, 1 << 61, 0, 0]), allow);
            // TIOCSTI with its high half set is still TIOCSTI to the kernel.
            assert_eq!(run(SYS_ioctl, [0, TIOCSTI | (1 << 40), 0, 0, 0, 0]), eperm);
            assert_eq!(run(SYS_ioctl, [0, TIOCSETD, 0, 0, 0, 0]), eperm);
            assert_eq!(run(SYS_ioctl, [0, TIOCGETD, 0, 0, 0, 0]), allow);
            assert_eq!(
                run(SYS_setpriority, [PRIO_USER as u64, 0, 10, 0, 0, 0]),
                eperm
            );
        }
        // SysV IPC and POSIX queues: refused where the host's IPC namespace is shared.
        for nr in [SYS_shmget, SYS_shmat, SYS_semget, SYS_msgget, SYS_mq_open] {
            assert_eq!(run(nr, [0; 6]), eperm, "call {nr}");
            assert_eq!(
                simulate(&p2, a, nr as u32, [0; 6]),
                bpf::SECCOMP_RET_ALLOW,
                "call {nr}"
            );
        }
        // openat2's mode is in memory: held, or refused when file calls are not held.
        assert_eq!(run(SYS_openat2, [0; 6]), bpf::SECCOMP_RET_USER_NOTIF);
        assert_eq!(simulate(&p2, a, SYS_openat2 as u32, [0; 6]), enosys);
        // Every call of the list is reachable through the search tree.
        let ipc: Vec<c_long> = refused_ipc().iter().map(|r| r.nr).collect();
        for r in allowed() {
            let got = run(r.nr, [0; 6]);
            if ipc.contains(&r.nr) {
                continue;
            }
            assert!(
                got == bpf::SECCOMP_RET_ALLOW
                    || got == bpf::SECCOMP_RET_USER_NOTIF
                    || (r.nr == SYS_socket && got == bpf::SECCOMP_RET_ERRNO | EAFNOSUPPORT as u32)
                    || (r.nr == SYS_socketpair
                        && got == bpf::SECCOMP_RET_ERRNO | EAFNOSUPPORT as u32),
                "{} got {got:#x}",
                r.name
            );
        }
    }

    /// The filter stays small and shallow: a call runs at most a few dozen
    /// instructions (the search tree's depth plus its own rules).
    #[test]
    fn filter_size_and_depth() {
        let p = assemble(&rules(Supervise {
            fs: true,
            host_ipc: true,
            host_session: true,
        }))
        .unwrap();
        assert!(p.len() < 2000, "{} instructions", p.len());
        let a = bpf::AUDIT_ARCH_X86_64;
        let steps = |nr: u32| {
            // Count the instructions a call runs through, as the kernel would.
            let (mut pc, mut n, mut acc) = (0usize, 0, 0u32);
            while let Some(i) = p.get(pc) {
                n += 1;
                pc += 1;
                match i.code {
                    0x20 => acc = [nr, a][usize::from(i.k == 4)] * u32::from(i.k < 8),
                    0x54 => acc &= i.k,
                    0x06 => break,
                    0x05 => pc += i.k as usize,
                    _ => {
                        let t = match i.code {
                            0x15 => acc == i.k,
                            0x35 => acc >= i.k,
                            _ => acc & i.k != 0,
                        };
                        pc += usize::from(if t { i.jt } else { i.jf });
                    }
                }
            }
            n
        };
        for nr in [
            SYS_read,
            SYS_write,
            SYS_futex,
            SYS_openat,
            SYS_getrandom,
            600,
        ] {
            let n = steps(nr as u32);
            eprintln!("call {nr}: {n} instructions run (filter: {})", p.len());
            assert!(n <= 40, "call {nr}: {n} instructions");
        }
    }
}

//! The supervisor: receives each held system call, decides it with the engine on the
//! object actually reached, and — for files and sockets — performs it itself and hands
//! the result back (`SECCOMP_IOCTL_NOTIF_ADDFD` for descriptors), so nothing the
//! process changes after the check can change what is accessed.
//!
//! **Invariant:** every held call gets exactly one answer, and any failure of the
//! supervisor's own (unreadable memory, an unexpected errno, a vanished process) is a
//! denial, never `Continue`.

use crate::audit::Audit;
use crate::resolve::{self, Asker as Who, Base, Resolved};
use crate::sys::{self, Notif, Reply};
use crate::{AskAnswer, AskRequest, Asker, Denial};
use mxc_enforce::{Class, Record, Right, Target};
use mxc_eval::{Decision, Effect, Engine, FsRight, Host, NetRequest, NetRight, Proto};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::fs::{self, AtFlags, Mode, OFlags};
use rustix::io::Errno;
use std::collections::HashSet;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

mod meta;
use meta::{Obj, Times};

const PATH_MAX: usize = 4096;
const MAX_ARGS: usize = 16384;
const MAX_ARG_BYTES: usize = 2 << 20;
const MAX_DGRAM: usize = 65536;
/// At most this many bytes of a stream send the supervisor performs (a short send).
const MAX_STREAM_SEND: usize = 1 << 20;
const MAX_RENAME_WALK: usize = 10_000;
/// Why `--learn` refuses a host daemon's socket.
const LEARN_REFUSAL: &str = "a learning run reaches no host daemon's unix socket";

/// Counters a run reports at the end.
#[derive(Debug, Default)]
pub struct Stats {
    pub decisions: AtomicU64,
    pub denials: AtomicU64,
}

pub struct Supervisor {
    pub listener: OwnedFd,
    pub engine: Arc<Engine>,
    pub asker: Asker,
    pub audit: Option<Mutex<Audit>>,
    /// The agent's `audit` level when there is a log (fixed for the run: asked on
    /// every held call without taking the log's lock).
    pub audit_level: Option<mxc_eval::AuditLevel>,
    pub stats: Stats,
    /// `allow for this run` answers.
    pub remembered: Mutex<mxc_enforce::ask::Remembered>,
    /// The supervisor's process id (every sandboxed process descends from it).
    pub our_pid: u32,
    /// Held while a person is asked (one question at a time).
    pub asking: Mutex<()>,
    /// The sandbox's own terminal, when it has one: what `/dev/tty` opens.
    pub tty: Mutex<Option<OwnedFd>>,
    /// The MXC proxy's port on 127.0.0.1: connecting to it needs no rule (the proxy
    /// decides each connection it makes).
    pub proxy_port: Option<u16>,
    /// The container tier: the sandbox's namespaces.
    pub container: Option<ContainerView>,
    /// Sockets (by inode) the supervisor put in place of the sandbox's own to reach
    /// beyond the container's network namespace.
    pub outside: Mutex<HashSet<u64>>,
    /// Connections to the MXC proxy the supervisor made for the sandbox, by local
    /// port: who made them (the proxy's `from` is the program that connected).
    pub proxy_clients: Mutex<std::collections::HashMap<u16, ProxyClient>>,
    /// Unix socket files the sandbox bound (through the supervisor): `--learn`
    /// connects only to these, never to a host daemon's socket its view shows.
    pub run_sockets: Mutex<HashSet<Id>>,
    /// The sandbox's root, opened once (see [`resolve::View::root`]).
    pub root: OwnedFd,
    /// Landlock lets the kernel execute exactly files the policy allows launching
    /// whatever their arguments (per-file grants, see `landlock_bound::exec_grants`):
    /// then an `execve` whose decision does not depend on its arguments needs no proof
    /// that they cannot change.
    pub exec_exact: bool,
    /// `--learn`: every access is allowed and recorded here.
    pub learned: Option<Arc<Mutex<crate::learn::Learned>>>,
    /// What no call of the sandbox may reach (the audit log).
    pub protected: Protected,
    /// Told of every denial (see [`crate::Config::on_denial`]).
    pub on_denial: Option<crate::DenialSink>,
}

/// A connection to the MXC proxy, as the supervisor made it for a sandboxed process.
#[derive(Clone, Debug)]
pub struct ProxyClient {
    /// The socket's inode (the record holds only for that very socket).
    pub inode: u64,
    pub pid: u32,
    pub program: String,
}

/// (device, inode) of an object.
pub type Id = (u64, u64);

/// Objects out of the sandbox's reach whatever the policy says.
#[derive(Clone, Debug, Default)]
pub struct Protected {
    /// Files no call may reach: the audit log and its head file.
    pub files: Vec<Id>,
    /// Directories no call may rename or remove: those above the audit log.
    pub dirs: Vec<Id>,
}

/// What the supervisor knows of a container-tier sandbox.
#[derive(Clone, Copy, Debug)]
pub struct ContainerView {
    /// The host pid of the namespace's init (its root, procfs and network).
    pub init: u32,
    /// The device of the container's procfs.
    pub proc_dev: u64,
}

/// A held call's context.
struct Call<'a> {
    sup: &'a Supervisor,
    n: Notif,
    tgid: Option<u32>,
}

fn errno(e: Errno) -> Reply {
    Reply::Error(e.raw_os_error())
}

impl Supervisor {
    /// The process whose (strict) descendants are the sandbox's processes: the
    /// supervisor in the process tier; in the container tier the namespace's init
    /// (MXC's, not dumpable, never a sandbox task; it forked the command without
    /// sharing memory or descriptors, and the process outside is its parent).
    pub fn sandbox_top(&self) -> u32 {
        self.container.map_or(self.our_pid, |c| c.init)
    }

    /// Whether `s` is a host socket the supervisor put in the sandbox.
    fn is_outside(&self, s: &OwnedFd) -> bool {
        let Ok(st) = fs::fstat(s) else { return false };
        self.outside
            .lock()
            .map(|o| o.contains(&st.st_ino))
            .unwrap_or(false)
    }

    fn mark_outside(&self, s: &OwnedFd) {
        if let (Ok(st), Ok(mut o)) = (fs::fstat(s), self.outside.lock()) {
            o.insert(st.st_ino);
        }
    }

    /// Serves held calls until every sandboxed process is gone.
    pub fn serve(self: &Arc<Self>) -> std::io::Result<()> {
        while let Some(n) = sys::notif_recv(self.listener.as_fd())? {
            let reply = self.handle(n);
            if let Some(reply) = reply {
                // An error here means the caller is gone (killed meanwhile).
                let _ = sys::notif_send(self.listener.as_fd(), n.id, reply);
            }
        }
        Ok(())
    }

    /// Decides one call. `None`: already answered (a descriptor was sent, or a worker
    /// thread answers).
    fn handle(self: &Arc<Self>, n: Notif) -> Option<Reply> {
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

impl Supervisor {
    /// Turns a decision into allowed (`true`) or denied, asking for `ask` (an answer
    /// "for this run" is remembered for this exact right and target), and records it.
    /// `enforcement`: refused by MXC itself whatever the policy says, and why.
    pub fn conclude(
        &self,
        right: Right,
        target: &Target,
        d: Decision,
        who: &dyn Fn() -> (u32, String),
        enforcement: Option<&'static str>,
    ) -> bool {
        self.stats.decisions.fetch_add(1, Ordering::Relaxed);
        let mut effect = d.effect;
        let mut asked = None;
        if let Some(l) = &self.learned {
            if enforcement.is_some() {
                // Refused by MXC itself even while learning: recorded as refused (in
                // the learned policy's comments and the audit log), never learned.
                if let Ok(mut l) = l.lock() {
                    l.refused(right, target);
                }
            } else {
                // Learning: allowed, and remembered for the policy written at the end
                // (files and programs are recorded where their rights are known).
                if right.class() == Class::Network {
                    if let Ok(mut l) = l.lock() {
                        l.net(right, target);
                    }
                }
                effect = Effect::Allow;
            }
        }
        if effect == Effect::Ask {
            let remembered = self
                .remembered
                .lock()
                .map(|s| s.contains(right, target))
                .unwrap_or(false);
            let answer = if remembered {
                AskAnswer::AllowOnce
            } else {
                // One question at a time on the terminal.
                let a = {
                    let _one = self.asking.lock();
                    let (pid, program) = who();
                    (self.asker)(&AskRequest::new(
                        &self.engine,
                        right,
                        target,
                        &d,
                        pid,
                        program,
                    ))
                };
                if let Ok(mut s) = self.remembered.lock() {
                    s.keep(right, target, a);
                }
                a
            };
            asked = Some(answer);
            effect = mxc_enforce::ask::effect_of(answer);
        }
        let wanted = self
            .audit_level
            .is_some_and(|l| mxc_enforce::audit::wants(l, effect, asked));
        let denied = effect == Effect::Deny;
        if denied {
            self.stats.denials.fetch_add(1, Ordering::Relaxed);
        }
        if wanted || (denied && self.on_denial.is_some()) {
            let (pid, program) = who();
            let rec = Record {
                right,
                target: target.clone(),
                decision: d,
                effect,
                asked,
                pid,
                program,
                enforcement,
            };
            if denied {
                self.tell(&rec);
            }
            if wanted {
                if let Some(Ok(mut a)) = self.audit.as_ref().map(|a| a.lock()) {
                    a.record(&self.engine, &rec);
                }
            }
        }
        effect == Effect::Allow
    }
}

impl Supervisor {
    /// `--learn`: whether connecting to `targets` (already recorded as attempted)
    /// succeeded; a target never reached is not learned (a refused connection).
    pub fn connected(&self, targets: &[Target], ok: bool) {
        if let Some(l) = &self.learned {
            if let Ok(mut l) = l.lock() {
                for t in targets {
                    l.connected(Right::Connect, t, ok);
                }
            }
        }
    }

    /// Tells the run's denial sink, never while a question is on the terminal.
    pub fn tell(&self, d: &Denial) {
        if let Some(sink) = &self.on_denial {
            let _one = self.asking.lock();
            sink(d);
        }
    }
}

/// How a handler finished.
enum Done {
    Reply(Reply),
    /// The answer was already given (a descriptor sent with ADDFD).
    Sent,
}

type R = Result<Done, Errno>;

fn ok(v: i64) -> R {
    Ok(Done::Reply(Reply::Value(v)))
}

impl Call<'_> {
    // ---- reading the caller's memory -------------------------------------------------

    /// Reads exactly `buf.len()` bytes at `addr` of the caller's memory, as its address
    /// space is now (never through a handle kept from an earlier call: see
    /// [`sys::read_task_memory`]). Callers check [`Call::still_valid`] afterwards.
    fn read_into(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        if buf.is_empty() {
            return Ok(());
        }
        match sys::read_task_memory(self.n.pid, addr, buf) {
            Ok(n) if n == buf.len() => Ok(()),
            _ => Err(Errno::FAULT),
        }
    }

    fn read(&mut self, addr: u64, len: usize) -> Result<Vec<u8>, Errno> {
        if addr == 0 && len > 0 {
            return Err(Errno::FAULT);
        }
        let mut buf = vec![0u8; len];
        self.read_into(addr, &mut buf)?;
        Ok(buf)
    }

    /// Writes `data` at `addr` of the caller's memory. `/proc/TID/mem` is opened for it
    /// and the call checked to be still pending *after* the open: the handle writes into
    /// the address space the id named when it was opened, which is then the caller's
    /// (a task whose id was reused after the caller died would be another's).
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(format!("/proc/{}/mem", self.n.pid))
            .map_err(|_| Errno::FAULT)?;
        self.still_valid()?;
        f.write_all_at(data, addr).map_err(|_| Errno::FAULT)
    }

    fn read_u64(&mut self, addr: u64) -> Result<u64, Errno> {
        let b = self.read(addr, 8)?;
        Ok(u64::from_ne_bytes(b.try_into().map_err(|_| Errno::FAULT)?))
    }

    /// A NUL-terminated string of at most `max` bytes.
    fn read_cstr(&mut self, addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
        if addr == 0 {
            return Err(Errno::FAULT);
        }
        let mut out = Vec::new();
        let mut chunk = [0u8; 256];
        loop {
            // Stay inside one page per read so a string ending near an unmapped page
            // still reads.
            let at = addr + out.len() as u64;
            let room = (4096 - (at % 4096)) as usize;
            let want = room.min(chunk.len());
            self.read_into(at, &mut chunk[..want])?;
            if let Some(z) = chunk[..want].iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..z]);
                return Ok(out);
            }
            out.extend_from_slice(&chunk[..want]);
            if out.len() > max {
                return Err(Errno::NAMETOOLONG);
            }
        }
    }

    fn path_arg(&mut self, addr: u64) -> Result<Vec<u8>, Errno> {
        let p = self.read_cstr(addr, PATH_MAX)?;
        self.still_valid()?;
        Ok(p)
    }

    /// The call is still pending: the pid we read from is still the caller.
    fn still_valid(&self) -> Result<(), Errno> {
        if sys::notif_id_valid(self.sup.listener.as_fd(), self.n.id) {
            Ok(())
        } else {
            Err(Errno::SRCH)
        }
    }

    // ---- who is asking --------------------------------------------------------------

    fn status_field(&self, field: &str) -> Option<String> {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.n.pid)).ok()?;
        s.lines()
            .find_map(|l| l.strip_prefix(field).map(|v| v.trim().to_string()))
    }

    fn tgid(&mut self) -> u32 {
        if let Some(t) = self.tgid {
            return t;
        }
        let t = self
            .status_field("Tgid:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(self.n.pid);
        self.tgid = Some(t);
        t
    }

    fn who(&mut self) -> Who {
        Who {
            tid: self.n.pid,
            tgid: self.tgid,
        }
    }

    /// The caller's RLIMIT_FSIZE (soft), when it has one.
    fn fsize_limit(&self) -> Option<u64> {
        let text = std::fs::read_to_string(format!("/proc/{}/limits", self.n.pid)).ok()?;
        let line = text.lines().find(|l| l.starts_with("Max file size"))?;
        line.split_whitespace().nth(3)?.parse().ok()
    }

    fn umask(&self) -> u32 {
        self.status_field("Umask:")
            .and_then(|v| u32::from_str_radix(&v, 8).ok())
            .unwrap_or(0o022)
    }

    fn program(&mut self) -> Vec<u8> {
        program_of(self.tgid())
    }

    fn resolve(&mut self, base: Base, path: &[u8], follow: bool) -> Result<Resolved, Errno> {
        self.resolve_with(base, path, follow, true)
    }

    /// `check_traverse: false` only for programs (`execve`): the directories on the way
    /// to a program the policy lets run need not be readable (app rules are not fs
    /// rules); the launch decision comes before `ENOENT` instead.
    fn resolve_with(
        &mut self,
        base: Base,
        path: &[u8],
        follow: bool,
        check_traverse: bool,
    ) -> Result<Resolved, Errno> {
        let who = self.who();
        let our = self.sup.our_pid;
        let sup = self.sup;
        let tid = self.n.pid;
        // Entering a directory to look a name up in it: allowed where it may be read or
        // lies on the way to a reachable place; else a `read` denial (or question).
        let traverse = move |dir: &[u8]| -> bool {
            if !check_traverse || sup.engine.fs_ancestor(dir) {
                return true;
            }
            let d = sup.engine.fs(dir, FsRight::Read);
            if d.effect == Effect::Allow {
                return true;
            }
            let get = || {
                let pid = resolve::Asker { tid, tgid: None }.tgid();
                (pid, String::from_utf8_lossy(&program_of(pid)).into_owned())
            };
            sup.conclude(Right::Read, &Target::Path(dir.to_vec()), d, &get, None)
        };
        let view = resolve::View {
            traverse: &traverse,
            root: self.sup.root.as_fd(),
            container: self.sup.container.is_some(),
            proc_dev: self
                .sup
                .container
                .map_or_else(resolve::proc_dev, |c| c.proc_dev),
            in_sandbox: &move |p| descends_from(p, our),
            host_pid: &move |n| host_pid_of(n, our),
        };
        let r = resolve::resolve(who, base, path, follow, &view)?;
        if !self.sup.protected.files.is_empty() && self.reaches(&r, &self.sup.protected.files) {
            // The audit log, by whatever name or route: out of the sandbox's reach,
            // whatever the policy says.
            self.sup.stats.denials.fetch_add(1, Ordering::Relaxed);
            return Err(Errno::ACCESS);
        }
        Ok(r)
    }

    /// Whether the object `r` reached is one of `ids` (device, inode).
    fn reaches(&self, r: &Resolved, ids: &[Id]) -> bool {
        let st = match (&r.stat, &r.object) {
            (Some(st), _) => *st,
            (None, Some(obj)) => match fs::fstat(obj) {
                Ok(st) => st,
                // Cannot tell: refused.
                Err(_) => return true,
            },
            (None, None) => return false,
        };
        ids.contains(&(st.st_dev, st.st_ino))
    }

    /// Renaming or removing a directory above the audit log would move the log away
    /// from its path (and let another file take it): refused.
    fn keep_log_path(&self, r: &Resolved) -> Result<(), Errno> {
        if !self.sup.protected.dirs.is_empty() && self.reaches(r, &self.sup.protected.dirs) {
            self.sup.stats.denials.fetch_add(1, Ordering::Relaxed);
            return Err(Errno::ACCESS);
        }
        Ok(())
    }

    // ---- deciding -----------------------------------------------------------------

    /// Decides `rights` on `path`: allowed only if each is (after asking, for `ask`).
    fn decide_fs(&mut self, path: &[u8], rights: &[FsRight]) -> Result<(), Errno> {
        if let Some(l) = &self.sup.learned {
            if let Ok(mut l) = l.lock() {
                for &r in rights {
                    l.fs(path, r.into());
                }
            }
        }
        let mut worst: Option<(FsRight, Decision)> = None;
        for &r in rights {
            let d = self.sup.engine.fs(path, r);
            let rank = |e: Effect| match e {
                Effect::Allow => 0,
                Effect::Ask => 1,
                Effect::Deny => 2,
            };
            if worst.is_none_or(|(_, w)| rank(d.effect) > rank(w.effect)) {
                worst = Some((r, d));
            }
        }
        let Some((right, d)) = worst else {
            return Ok(());
        };
        self.conclude(right.into(), &Target::Path(path.to_vec()), d)
    }

    /// Turns a decision into allowed / EACCES, asking for `ask`, and audits it.
    fn conclude(&mut self, right: Right, target: &Target, d: Decision) -> Result<(), Errno> {
        self.conclude_why(right, target, d, None)
    }

    /// Refuses (and audits) what MXC's enforcement refuses whatever the policy says.
    fn refuse(&mut self, right: Right, target: &Target, why: &'static str) {
        let d = Decision {
            effect: Effect::Deny,
            rule: None,
        };
        let _ = self.conclude_why(right, target, d, Some(why));
    }

    fn conclude_why(
        &mut self,
        right: Right,
        target: &Target,
        d: Decision,
        enforcement: Option<&'static str>,
    ) -> Result<(), Errno> {
        // Who asked is looked up only when a record or a question needs it.
        let tid = self.n.pid;
        let known = self.tgid;
        let who = std::cell::OnceCell::new();
        let get = || {
            who.get_or_init(|| {
                let pid = known.unwrap_or_else(|| resolve::Asker { tid, tgid: None }.tgid());
                (pid, String::from_utf8_lossy(&program_of(pid)).into_owned())
            })
            .clone()
        };
        if self.sup.conclude(right, target, d, &get, enforcement) {
            Ok(())
        } else {
            Err(Errno::ACCESS)
        }
    }

    /// Whether process `pid` holds, as its descriptor `fd`, the object `obj` open with
    /// at least the access `rights` need. Read from the descriptor itself (a duplicate
    /// taken with `pidfd_getfd`), so another thread swapping descriptor `fd` meanwhile
    /// cannot lend the check another file's access.
    fn holds(&self, (pid, fd): (u32, u32), obj: BorrowedFd<'_>, rights: &[FsRight]) -> bool {
        let tgid = resolve::Asker {
            tid: pid,
            tgid: None,
        }
        .tgid();
        let Some(p) = rustix::process::Pid::from_raw(tgid as i32) else {
            return false;
        };
        let Ok(pidfd) = rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()) else {
            return false;
        };
        let Ok(held) = rustix::process::pidfd_getfd(
            &pidfd,
            fd as i32,
            rustix::process::PidfdGetfdFlags::empty(),
        ) else {
            return false;
        };
        let same = match (fs::fstat(&held), fs::fstat(obj)) {
            (Ok(a), Ok(b)) => (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino),
            _ => false,
        };
        same && fs::fcntl_getfl(&held).is_ok_and(|f| flags_allow(f, rights))
    }

    /// Whether `obj` is the terminal MXC made for the sandbox.
    fn own_terminal(&self, obj: BorrowedFd<'_>) -> bool {
        let Ok(tty) = self.sup.tty.lock() else {
            return false;
        };
        let Some(t) = tty.as_ref() else {
            return false;
        };
        match (fs::fstat(t), fs::fstat(obj)) {
            (Ok(a), Ok(b)) => (a.st_dev, a.st_ino, a.st_rdev) == (b.st_dev, b.st_ino, b.st_rdev),
            _ => false,
        }
    }

    fn respond_fd(&self, fd: OwnedFd, cloexec: bool) -> R {
        match sys::notif_addfd_send(self.sup.listener.as_fd(), self.n.id, fd.as_fd(), cloexec) {
            Ok(_) => Ok(Done::Sent),
            Err(e) => Err(Errno::from_raw_os_error(
                e.raw_os_error().unwrap_or(libc::EBADF),
            )),
        }
    }

    // ---- files ------------------------------------------------------------------------

    fn openat2(&mut self, dirfd: i32, path: u64, how: u64, size: u64) -> R {
        if size < 24 {
            return Err(Errno::INVAL);
        }
        let h = self.read(how, 24)?;
        let word = |i: usize| u64::from_ne_bytes(h[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
        let (flags, mode, resolve_flags) = (word(0), word(1), word(2));
        if size > 24 {
            // Unknown extensions must be zero (as the kernel requires).
            let rest = self.read(how + 24, (size as usize - 24).min(4096))?;
            if rest.iter().any(|&b| b != 0) {
                return Err(Errno::TOOBIG);
            }
        }
        self.open(
            Base::Fd(dirfd),
            path,
            flags as i32,
            mode as u32,
            resolve_flags,
        )
    }

    fn open(&mut self, base: Base, path: u64, flags: i32, mode: u32, resolve_flags: u64) -> R {
        let p = self.path_arg(path)?;
        let oflags = OFlags::from_bits_retain(flags as u32);
        if resolve_flags != 0 {
            // RESOLVE_* narrow a lookup in ways the supervisor's resolver does not
            // reproduce; callers fall back to `openat` on ENOSYS.
            return Err(Errno::NOSYS);
        }
        let create = oflags.contains(OFlags::CREATE);
        let tmpfile = oflags.contains(OFlags::TMPFILE);
        if (create || tmpfile) && mode & (libc::S_ISUID | libc::S_ISGID) != 0 {
            // Never a setuid or setgid file (the filter refuses the same for the
            // calls whose mode it can see; openat2's is in memory).
            return Err(Errno::PERM);
        }
        let nofollow =
            oflags.contains(OFlags::NOFOLLOW) || (create && oflags.contains(OFlags::EXCL));
        let r = self.resolve(base, &p, !nofollow)?;
        let acc = flags & libc::O_ACCMODE;
        let path_only = oflags.contains(OFlags::PATH);
        let mut rights: Vec<FsRight> = Vec::new();
        // The object's type, once known (the reopen below needs it too).
        let mut object_type = None;
        match &r.object {
            None if create && !tmpfile && !r.parent_missing => rights.push(FsRight::Create),
            None => {
                // A denied path is denied whether or not it exists (no existence probe).
                let want = if create {
                    FsRight::Create
                } else if acc == libc::O_WRONLY {
                    FsRight::Write
                } else {
                    FsRight::Read
                };
                self.decide_fs(&r.path, &[want])?;
                return Err(Errno::NOENT);
            }
            Some(obj) => {
                if create && oflags.contains(OFlags::EXCL) && !tmpfile {
                    self.decide_fs(&r.path, &[FsRight::Create])?;
                    return Err(Errno::EXIST);
                }
                let st = match r.stat {
                    Some(st) => st,
                    None => fs::fstat(obj)?,
                };
                let ft = fs::FileType::from_raw_mode(st.st_mode);
                object_type = Some(ft);
                if ft == fs::FileType::Symlink && !path_only {
                    return Err(Errno::LOOP);
                }
                if oflags.contains(OFlags::DIRECTORY) && ft != fs::FileType::Directory {
                    return Err(Errno::NOTDIR);
                }
                if tmpfile {
                    rights.push(FsRight::Create);
                } else if path_only {
                    rights.push(FsRight::Read);
                } else {
                    if acc == libc::O_RDONLY || acc == libc::O_RDWR {
                        rights.push(FsRight::Read);
                    }
                    if acc == libc::O_WRONLY
                        || acc == libc::O_RDWR
                        || oflags.contains(OFlags::TRUNC)
                    {
                        rights.push(FsRight::Write);
                    }
                }
                if ft == fs::FileType::CharacterDevice
                    && rustix::fs::major(st.st_rdev) == 5
                    && rustix::fs::minor(st.st_rdev) == 0
                {
                    // /dev/tty: opening it here would give the supervisor's terminal.
                    // The sandbox's own terminal, if it has one; else it has none.
                    let own = self
                        .sup
                        .tty
                        .lock()
                        .ok()
                        .and_then(|t| t.as_ref().and_then(|fd| fd.try_clone().ok()));
                    let Some(own) = own else {
                        return Err(Errno::NXIO);
                    };
                    let fd = reopen(
                        own.as_fd(),
                        oflags
                            & !(OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC | OFlags::NOFOLLOW),
                        None,
                    )?;
                    return self.respond_fd(fd, oflags.contains(OFlags::CLOEXEC));
                }
            }
        }
        // Reopening a descriptor through `/proc/PID/fd/N` (`/dev/stdin`) makes a new open
        // file description with flags of its own. An object with a path (a file, a
        // directory, a terminal) is decided by the rules on that path like any open:
        // holding a descriptor of it (the caller's terminal, a file it redirected) grants
        // nothing more. An object without one (a pipe, a socket, an anonymous inode, a
        // deleted file or memfd) is the very object the process holds: it reopens with
        // no more access than that descriptor has, and never otherwise. The sandbox's own
        // terminal (the one MXC made for it) is its own, as `/dev/tty` is.
        match &r.object {
            Some(obj)
                if object_type == Some(fs::FileType::CharacterDevice)
                    && self.own_terminal(obj.as_fd()) => {}
            Some(obj) if pathless(obj.as_fd(), &r.path, r.stat.as_ref()) => {
                let held = r
                    .via_fd
                    .is_some_and(|via| self.holds(via, obj.as_fd(), &rights));
                if !held {
                    let right = rights.first().copied().unwrap_or(FsRight::Read);
                    self.refuse(
                        right.into(),
                        &Target::Path(r.path.clone()),
                        "an object without a path is reopened only through a descriptor \
                         that already has the access",
                    );
                    return Err(Errno::ACCESS);
                }
            }
            _ => self.decide_fs(&r.path, &rights)?,
        }
        let cloexec = oflags.contains(OFlags::CLOEXEC);
        let keep = oflags
            & !(OFlags::CREATE
                | OFlags::EXCL
                | OFlags::NOFOLLOW
                | OFlags::CLOEXEC
                | OFlags::NOCTTY);
        let fd = match &r.object {
            None => {
                let m = Mode::from_bits_truncate(mode & 0o7777 & !self.umask());
                fs::openat(
                    r.dir()?,
                    &r.name[..],
                    keep | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::NOCTTY,
                    m,
                )?
            }
            Some(obj) if path_only => obj.try_clone().map_err(|_| Errno::NOMEM)?,
            Some(obj) if tmpfile => {
                let m = Mode::from_bits_truncate(mode & 0o7777 & !self.umask());
                fs::openat(obj, ".", keep | OFlags::NOCTTY, m)?
            }
            Some(obj) => reopen(obj.as_fd(), keep | OFlags::NOCTTY, object_type)?,
        };
        self.respond_fd(fd, cloexec)
    }

    fn mknod(&mut self, base: Base, path: u64, mode: u32, dev: u64) -> R {
        let kind = mode & libc::S_IFMT;
        if kind == libc::S_IFCHR || kind == libc::S_IFBLK {
            // Never a device node, whatever the policy grants (a device is a way
            // around every path rule).
            return Err(Errno::PERM);
        }
        if kind != libc::S_IFDIR && mode & (libc::S_ISUID | libc::S_ISGID) != 0 {
            return Err(Errno::PERM);
        }
        let p = self.path_arg(path)?;
        let r = self.resolve(base, &p, false)?;
        self.decide_fs(&r.path, &[FsRight::Create])?;
        if r.object.is_some() {
            return Err(Errno::EXIST);
        }
        if r.parent_missing {
            return Err(Errno::NOENT);
        }
        let perm = mode & 0o7777 & !self.umask();
        if mode & libc::S_IFMT == libc::S_IFDIR {
            fs::mkdirat(r.dir()?, &r.name[..], Mode::from_bits_truncate(perm))?;
        } else {
            let kind = match mode & libc::S_IFMT {
                0 | libc::S_IFREG => fs::FileType::RegularFile,
                libc::S_IFIFO => fs::FileType::Fifo,
                libc::S_IFSOCK => fs::FileType::Socket,
                libc::S_IFCHR => fs::FileType::CharacterDevice,
                libc::S_IFBLK => fs::FileType::BlockDevice,
                _ => return Err(Errno::INVAL),
            };
            fs::mknodat(
                r.dir()?,
                &r.name[..],
                kind,
                Mode::from_bits_truncate(perm),
                dev,
            )?;
        }
        ok(0)
    }

    fn unlink(&mut self, base: Base, path: u64, flags: i32) -> R {
        let p = self.path_arg(path)?;
        let r = self.resolve(base, &p, false)?;
        self.decide_fs(&r.path, &[FsRight::Delete])?;
        if r.object.is_none() {
            return Err(Errno::NOENT);
        }
        self.keep_log_path(&r)?;
        if r.name.is_empty() {
            return Err(Errno::BUSY);
        }
        let f = if flags & libc::AT_REMOVEDIR != 0 {
            AtFlags::REMOVEDIR
        } else {
            AtFlags::empty()
        };
        fs::unlinkat(r.dir()?, &r.name[..], f)?;
        ok(0)
    }

    /// What each fs right decides at `path` (allow = true), for the laundering check.
    fn allowed_set(&self, path: &[u8]) -> [bool; 2] {
        [FsRight::Read, FsRight::Write].map(|r| self.sup.engine.fs(path, r).effect == Effect::Allow)
    }

    /// Moving or linking `from` to `to` may not give it a name with more rights, and
    /// each name a moved directory brings is decided where it lands (`create`) and
    /// where it leaves (`delete`): `mv tpl .git` makes `.git/hooks/pre-commit` too.
    fn no_laundering(&mut self, from: &Resolved, to_path: &[u8]) -> Result<(), Errno> {
        let check = |s: &Self, a: &[u8], b: &[u8]| -> bool {
            let (x, y) = (s.allowed_set(a), s.allowed_set(b));
            x.iter().zip(y.iter()).all(|(had, gets)| *had || !*gets)
        };
        if !check(self, &from.path, to_path) {
            let d = self.sup.engine.fs(&from.path, FsRight::Read);
            let d = Decision {
                effect: Effect::Deny,
                rule: d.rule,
            };
            let _ = self.conclude(Right::Read, &Target::Path(to_path.to_vec()), d);
            return Err(Errno::ACCESS);
        }
        // A directory: every name beneath it moves too. Each is a name made at the new
        // place (`create` there) and taken from the old one (`delete` there), and may
        // not gain rights by the move. Walked through descriptors from the object decided
        // on (any failure refuses the move); the supervisor answers file calls one at a
        // time, so no held creation can slip into the tree between the walk and the move.
        let Some(obj) = &from.object else {
            return Ok(());
        };
        let ft = fs::FileType::from_raw_mode(fs::fstat(obj)?.st_mode);
        if ft == fs::FileType::Symlink {
            // A relative link means something else at its new place.
            let t = fs::readlinkat(obj, "", Vec::new())?.into_bytes();
            return self.symlink_ok(to_path, &t);
        }
        if ft != fs::FileType::Directory {
            return Ok(());
        }
        let top = fs::openat(
            obj,
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let mut seen = 0usize;
        let mut stack: Vec<(OwnedFd, Vec<u8>)> = vec![(top, Vec::new())];
        while let Some((dir, rel)) = stack.pop() {
            let mut entries = Vec::new();
            let mut d = fs::Dir::read_from(&dir)?;
            while let Some(e) = d.read() {
                let e = e?;
                let name = e.file_name().to_bytes();
                if name == b"." || name == b".." {
                    continue;
                }
                entries.push((name.to_vec(), e.file_type()));
            }
            for (name, ft) in entries {
                seen += 1;
                if seen > MAX_RENAME_WALK {
                    // Too large to check here: `mv` copies instead.
                    return Err(Errno::XDEV);
                }
                let r2 = [&rel[..], b"/", &name[..]].concat();
                let a = [&from.path[..], &r2[..]].concat();
                let b = [to_path, &r2[..]].concat();
                if !check(self, &a, &b) {
                    return Err(Errno::ACCESS);
                }
                self.decide_fs(&b, &[FsRight::Create])?;
                self.decide_fs(&a, &[FsRight::Delete])?;
                let ft = if ft == fs::FileType::Unknown {
                    fs::FileType::from_raw_mode(
                        fs::statat(&dir, &name[..], AtFlags::SYMLINK_NOFOLLOW)?.st_mode,
                    )
                } else {
                    ft
                };
                if ft == fs::FileType::Symlink {
                    let t = fs::readlinkat(&dir, &name[..], Vec::new())?.into_bytes();
                    self.symlink_ok(&b, &t)?;
                }
                if ft == fs::FileType::Directory {
                    let sub = fs::openat(
                        &dir,
                        &name[..],
                        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                        Mode::empty(),
                    )?;
                    stack.push((sub, r2));
                }
            }
        }
        Ok(())
    }

    fn rename(&mut self, ob: Base, op: u64, nb: Base, np: u64, flags: u32) -> R {
        let o = self.path_arg(op)?;
        let n = self.path_arg(np)?;
        let from = self.resolve(ob, &o, false)?;
        let to = self.resolve(nb, &n, false)?;
        if from.object.is_none() {
            return Err(Errno::NOENT);
        }
        self.keep_log_path(&from)?;
        self.keep_log_path(&to)?;
        if from.name.is_empty() || to.name.is_empty() {
            return Err(Errno::BUSY);
        }
        let exchange = flags & libc::RENAME_EXCHANGE != 0;
        self.decide_fs(&from.path, &[FsRight::Delete])?;
        let mut at_to = vec![FsRight::Create];
        if to.object.is_some() {
            at_to.push(FsRight::Delete);
        }
        self.decide_fs(&to.path, &at_to)?;
        if to.parent_missing {
            return Err(Errno::NOENT);
        }
        if exchange {
            if to.object.is_none() {
                return Err(Errno::NOENT);
            }
            self.decide_fs(&from.path, &[FsRight::Create])?;
            self.no_laundering(&to, &from.path)?;
        }
        self.no_laundering(&from, &to.path)?;
        fs::renameat_with(
            from.dir()?,
            &from.name[..],
            to.dir()?,
            &to.name[..],
            fs::RenameFlags::from_bits_retain(flags),
        )?;
        ok(0)
    }

    fn link(&mut self, ob: Base, op: u64, nb: Base, np: u64, flags: i32) -> R {
        let o = self.path_arg(op)?;
        let n = self.path_arg(np)?;
        let from = if o.is_empty() && flags & libc::AT_EMPTY_PATH != 0 {
            return Err(Errno::PERM);
        } else {
            self.resolve(ob, &o, flags & libc::AT_SYMLINK_FOLLOW != 0)?
        };
        let to = self.resolve(nb, &n, false)?;
        let Some(obj) = &from.object else {
            return Err(Errno::NOENT);
        };
        self.decide_fs(&to.path, &[FsRight::Create])?;
        if to.object.is_some() {
            return Err(Errno::EXIST);
        }
        if to.parent_missing {
            return Err(Errno::NOENT);
        }
        self.no_laundering(&from, &to.path)?;
        let src = format!("/proc/self/fd/{}", obj.as_raw_fd());
        fs::linkat(
            fs::CWD,
            src,
            to.dir()?,
            &to.name[..],
            AtFlags::SYMLINK_FOLLOW,
        )?;
        ok(0)
    }

    fn symlink(&mut self, target: u64, nb: Base, np: u64) -> R {
        let t = self.path_arg(target)?;
        let n = self.path_arg(np)?;
        let to = self.resolve(nb, &n, false)?;
        self.decide_fs(&to.path, &[FsRight::Create])?;
        if to.object.is_some() {
            return Err(Errno::EXIST);
        }
        if to.parent_missing {
            return Err(Errno::NOENT);
        }
        self.symlink_ok(&to.path, &t)?;
        fs::symlinkat(&t[..], to.dir()?, &to.name[..])?;
        ok(0)
    }

    /// A symbolic link at `link` pointing to `target` (its text) makes every name below
    /// the target appear below `link`, now and whenever one is made there later, to
    /// whoever follows it outside the sandbox (git runs `.git/hooks/pre-commit` whatever
    /// it is a link to). Allowed only where no place below `link` is more protected than
    /// the same place below the target (for `create` and `write`).
    fn symlink_ok(&mut self, link: &[u8], target: &[u8]) -> Result<(), Errno> {
        let dir = &link[..link.iter().rposition(|&b| b == b'/').unwrap_or(0)];
        let joined = if target.first() == Some(&b'/') {
            target.to_vec()
        } else {
            let d: &[u8] = if dir.is_empty() { b"/" } else { dir };
            [d, b"/", target].concat()
        };
        // Where the target leads now (following what exists), else the text itself.
        let lexical = std::str::from_utf8(&joined)
            .ok()
            .and_then(mxc_eval::normalize_path)
            .map(String::into_bytes);
        let lexical = lexical.ok_or(Errno::ACCESS)?;
        let real = match self.resolve(Base::Cwd, &lexical, true) {
            Ok(r) => r.path,
            Err(_) => lexical,
        };
        let ok =
            self.sup
                .engine
                .fs_not_stricter_below(link, &real, &[FsRight::Create, FsRight::Write])
                == Some(true);
        if !ok {
            let d = Decision {
                effect: Effect::Deny,
                rule: self
                    .sup
                    .engine
                    .fs(&[link, b"/"].concat(), FsRight::Create)
                    .rule,
            };
            let _ = self.conclude(Right::Create, &Target::Path(link.to_vec()), d);
            return Err(Errno::ACCESS);
        }
        Ok(())
    }

    fn truncate(&mut self, path: u64, len: u64) -> R {
        let p = self.path_arg(path)?;
        let r = self.resolve(Base::Cwd, &p, true)?;
        let Some(obj) = &r.object else {
            return Err(Errno::NOENT);
        };
        self.decide_fs(&r.path, &[FsRight::Write])?;
        // The agent's own file size limit, not the supervisor's.
        if self.fsize_limit().is_some_and(|max| len > max) {
            return Err(Errno::FBIG);
        }
        let f = reopen(obj.as_fd(), OFlags::WRONLY, None)?;
        fs::ftruncate(&f, len)?;
        ok(0)
    }

    /// `stat`, `lstat`, `newfstatat`, `statx`, `access`, `faccessat(2)`, `readlink(at)`:
    /// looking at a file's metadata (or a link's target) is `read` (SPEC §1). Decided on
    /// the resolved path, then the kernel runs the call. (It only reveals metadata; a
    /// path swapped after the decision can reveal another file's metadata, never its
    /// contents: see docs/enforcement.md.)
    fn stat(&mut self, base: Base, path: u64, flags: i32, follow_default: bool) -> R {
        let p = self.path_arg(path)?;
        if p.is_empty() && flags & libc::AT_EMPTY_PATH != 0 {
            // The descriptor itself: already open in the process.
            return Ok(Done::Reply(Reply::Continue));
        }
        let follow = follow_default && flags & libc::AT_SYMLINK_NOFOLLOW == 0;
        let r = self.resolve(base, &p, follow)?;
        if r.via_fd.is_some() || self.is_ancestor_dir(&r) {
            return Ok(Done::Reply(Reply::Continue));
        }
        self.decide_fs(&r.path, &[FsRight::Read])?;
        Ok(Done::Reply(Reply::Continue))
    }

    /// Whether `r` is a directory on the way to a place the policy can reach: its
    /// metadata may be looked at without `read` (SPEC §1).
    fn is_ancestor_dir(&self, r: &Resolved) -> bool {
        let Some(obj) = &r.object else { return false };
        let st = match r.stat {
            Some(st) => st,
            None => match fs::fstat(obj) {
                Ok(st) => st,
                Err(_) => return false,
            },
        };
        fs::FileType::from_raw_mode(st.st_mode) == fs::FileType::Directory
            && self.sup.engine.fs_ancestor(&r.path)
    }

    // ---- programs -----------------------------------------------------------------------

    fn exec(&mut self, base: Base, path: u64, argv: u64, flags: i32) -> R {
        let p = self.read_cstr(path, PATH_MAX)?;
        let r = if p.is_empty() && flags & libc::AT_EMPTY_PATH != 0 {
            let Base::Fd(fd) = base else {
                return Err(Errno::NOENT);
            };
            let obj = fs::open(
                format!("/proc/{}/fd/{fd}", self.n.pid),
                OFlags::PATH | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|_| Errno::BADF)?;
            let path = resolve::fd_path(obj.as_fd())?;
            Resolved {
                parent: None,
                name: Vec::new(),
                object: Some(obj),
                path,
                via_fd: None,
                parent_missing: false,
                stat: None,
            }
        } else {
            self.resolve_with(base, &p, flags & libc::AT_SYMLINK_NOFOLLOW == 0, false)?
        };
        if r.object.is_none() {
            // A denied program answers as denied, whether or not it exists.
            let d = self.sup.engine.launch(&r.path, &[] as &[&[u8]]);
            if d.effect == Effect::Deny {
                let target = Target::Program {
                    path: r.path.clone(),
                    args: Vec::new(),
                    changing: false,
                };
                self.conclude(Right::Launch, &target, d)?;
            }
            return Err(Errno::NOENT);
        }
        // argv: pointers until NULL; and where each byte the kernel reads again lies.
        let mut args: Vec<Vec<u8>> = Vec::new();
        let mut total = 0usize;
        let mut ranges = vec![(path, p.len() as u64 + 1)];
        if argv != 0 {
            for i in 0..MAX_ARGS {
                let ptr = self.read_u64(argv + 8 * i as u64)?;
                ranges.push((argv + 8 * i as u64, 8));
                if ptr == 0 {
                    break;
                }
                let a = self.read_cstr(ptr, MAX_ARG_BYTES)?;
                total += a.len() + 1;
                if total > MAX_ARG_BYTES {
                    return Err(Errno::TOOBIG);
                }
                ranges.push((ptr, a.len() as u64 + 1));
                args.push(a);
            }
        }
        self.still_valid()?;
        if let Some(l) = &self.sup.learned {
            // A script's interpreter is run by the kernel, not by a second execve: it
            // must be launchable too (Landlock's execute right bounds it).
            let interp = r.object.as_ref().and_then(|o| interpreter_of(o.as_fd()));
            if let Ok(mut l) = l.lock() {
                l.launch(&r.path);
                if let Some(i) = interp {
                    l.launch(&i);
                }
            }
        }
        let rest: &[Vec<u8>] = args.get(1..).unwrap_or(&[]);
        let d = self.sup.engine.launch(&r.path, rest);
        let target = Target::Program {
            path: r.path.clone(),
            args: rest.to_vec(),
            changing: false,
        };
        self.conclude(Right::Launch, &target, d)?;
        // The kernel reads the path, the arguments (and the directory or descriptor
        // they start from) again. Where Landlock's execute bound holds only programs
        // allowed whatever their arguments (`exec_exact`: per-file grants, or granted
        // directories beneath which everything may run), and this decision does not
        // depend on the arguments either, whatever it reads runs only what the policy
        // allows. Otherwise nothing else may be able to change them.
        if self.sup.learned.is_none()
            && (!self.sup.exec_exact || self.sup.engine.launch_depends_on_args(&r.path))
        {
            let tid = self.n.pid;
            let our = self.sup.sandbox_top();
            let relative = !p.starts_with(b"/");
            let held = crate::race::exclusive(tid, our, sys::Shares::Memory)
                && (!relative
                    || match base {
                        Base::Fd(_) => crate::race::exclusive(tid, our, sys::Shares::Files),
                        _ => crate::race::exclusive(tid, our, sys::Shares::Dirs),
                    })
                && crate::race::private_anonymous(tid, &ranges)
                && self.still_valid().is_ok();
            if !held {
                let t = Target::Program {
                    path: r.path.clone(),
                    args: rest.to_vec(),
                    changing: true,
                };
                self.refuse(
                    Right::Launch,
                    &t,
                    "its path or arguments could change between the check and the kernel's use",
                );
                return Err(Errno::PERM);
            }
        }
        Ok(Done::Reply(Reply::Continue))
    }

    // ---- network --------------------------------------------------------------------

    fn pidfd(&mut self) -> Result<OwnedFd, Errno> {
        let t = self.tgid();
        let pid = rustix::process::Pid::from_raw(t as i32).ok_or(Errno::SRCH)?;
        rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())
    }

    /// The caller's socket `fd`, duplicated into the supervisor (same open file).
    fn socket(&mut self, fd: i32) -> Result<OwnedFd, Errno> {
        let pidfd = self.pidfd()?;
        let s = rustix::process::pidfd_getfd(&pidfd, fd, rustix::process::PidfdGetfdFlags::empty())
            .map_err(|_| Errno::BADF)?;
        self.still_valid()?;
        Ok(s)
    }

    /// Decides an address for `op` on socket `s`. `Ok(addr)`: allowed, perform it with
    /// `addr` (never "let the kernel read it again": see [`Addr`]).
    fn decide_addr(&mut self, op: Op, s: &OwnedFd, raw: &[u8]) -> Result<Addr, Errno> {
        let right = if op == Op::Bind {
            NetRight::Bind
        } else {
            NetRight::Connect
        };
        let family = raw
            .get(..2)
            .map(|b| u16::from_ne_bytes([b[0], b[1]]))
            .ok_or(Errno::INVAL)?;
        match i32::from(family) {
            // `connect(AF_UNSPEC)` dissolves an association: performed on the socket
            // as decided. In `bind` and `sendto` the kernel reads an IPv4 address from
            // an AF_UNSPEC one (`0.0.0.0:port`, `sendto` to `sin_addr`): refused.
            libc::AF_UNSPEC if op == Op::Connect => Ok(Addr::Raw(raw.to_vec())),
            libc::AF_UNSPEC => Err(Errno::AFNOSUPPORT),
            libc::AF_UNIX => {
                let path = &raw[2..];
                let path = &path[..path.iter().position(|&b| b == 0).unwrap_or(path.len())];
                if raw.len() <= 2 {
                    // Unnamed: `bind` auto-binds an abstract name; `connect` fails.
                    return Ok(Addr::Raw(raw.to_vec()));
                }
                if raw.get(2) == Some(&0) {
                    // Abstract: Landlock's scope keeps them inside the sandbox, for the
                    // task that connects or sends (so the supervisor must not do it for
                    // the caller). `bind` has no scope: performed.
                    return Ok(if op == Op::Bind {
                        Addr::Raw(raw.to_vec())
                    } else {
                        Addr::Abstract
                    });
                }
                let want = if right == NetRight::Bind {
                    FsRight::Create
                } else {
                    FsRight::Write
                };
                let r = self.resolve(Base::Cwd, path, right != NetRight::Bind)?;
                if right != NetRight::Bind && r.object.is_none() {
                    return Err(Errno::NOENT);
                }
                if right != NetRight::Bind && self.sup.learned.is_some() {
                    // Learning is a throwaway run: it reaches no host daemon (the
                    // docker or D-Bus socket its view shows). Only sockets the run
                    // bound itself; the rest refused, and recorded as refused.
                    let id = r
                        .object
                        .as_ref()
                        .and_then(|o| rustix::fs::fstat(o).ok())
                        .map(|st| (st.st_dev, st.st_ino));
                    let own = id.is_some_and(|id| {
                        self.sup
                            .run_sockets
                            .lock()
                            .map(|s| s.contains(&id))
                            .unwrap_or(false)
                    });
                    if !own {
                        self.refuse(Right::Connect, &Target::Unix(r.path.clone()), LEARN_REFUSAL);
                        return Err(Errno::ACCESS);
                    }
                }
                self.decide_fs(&r.path, &[want])?;
                Ok(Addr::Unix(r))
            }
            libc::AF_INET | libc::AF_INET6 => {
                let (ip, port) = inet(raw).ok_or(Errno::INVAL)?;
                // Unspecified reaches the local machine: decided as loopback (SPEC §4.2).
                let ip = match ip {
                    std::net::IpAddr::V4(a) if right == NetRight::Connect && a.is_unspecified() => {
                        std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
                    }
                    std::net::IpAddr::V6(a) if right == NetRight::Connect && a.is_unspecified() => {
                        std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
                    }
                    ip => ip,
                };
                let contained = self.sup.container.is_some();
                let proto = match rustix::net::sockopt::socket_type(s) {
                    Ok(rustix::net::SocketType::DGRAM) => Proto::Udp,
                    _ => Proto::Tcp,
                };
                if contained
                    && right == NetRight::Connect
                    && ip.is_loopback()
                    && !self.sup.is_outside(s)
                    && self.listening_inside(proto, port)
                {
                    // Between processes of the sandbox, on its own loopback (the proxy
                    // too): no rule needed.
                    return Ok(Addr::Inet(raw.to_vec()));
                }
                if !contained
                    && right == NetRight::Connect
                    && Some(port) == self.sup.proxy_port
                    && ip == std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
                {
                    return Ok(Addr::Inet(raw.to_vec()));
                }
                if right == NetRight::Bind && port == 0 {
                    // An ephemeral port: nothing anyone can connect to by name.
                    return Ok(Addr::Inet(raw.to_vec()));
                }
                let program = self.program();
                let host = match ip {
                    std::net::IpAddr::V4(a) => Host::V4(a.octets()),
                    std::net::IpAddr::V6(a) => Host::V6(a.octets()),
                };
                let d = self.sup.engine.net(&NetRequest {
                    right,
                    proto,
                    host,
                    port,
                    program: Some(&program),
                });
                let target = Target::Socket {
                    proto,
                    host: ip.to_string(),
                    port,
                };
                self.conclude(right.into(), &target, d)?;
                if contained && right == NetRight::Connect {
                    // Beyond the container's empty network namespace: from the host's.
                    return Ok(Addr::Outside(raw.to_vec()));
                }
                Ok(Addr::Inet(raw.to_vec()))
            }
            _ => Err(Errno::AFNOSUPPORT),
        }
    }

    /// Refuses a call the supervisor can neither perform itself nor prove safe to let
    /// the kernel run (`EPERM`), and records it.
    fn refuse_race(&mut self, right: Right, what: &str) -> Errno {
        self.refuse(
            right,
            &Target::Unnamed(what.to_string()),
            "the call could change between the check and the kernel's use",
        );
        Errno::PERM
    }

    /// Whether no other task can change the caller's memory (or, with `files`, its
    /// descriptors) until this call ends, and `ranges` lie in its private anonymous
    /// memory: then the kernel reads again exactly what was decided.
    fn unchanging(&self, ranges: &[(u64, u64)], files: bool) -> bool {
        let tid = self.n.pid;
        let our = self.sup.sandbox_top();
        crate::race::exclusive(tid, our, sys::Shares::Memory)
            && (!files || crate::race::exclusive(tid, our, sys::Shares::Files))
            && crate::race::private_anonymous(tid, ranges)
            && self.still_valid().is_ok()
    }

    fn connect(&mut self, right: NetRight, fd: i32, addr: u64, len: u64) -> Option<Reply> {
        let op = if right == NetRight::Bind {
            Op::Bind
        } else {
            Op::Connect
        };
        let decided = (|| {
            if len > 128 {
                return Err(Errno::INVAL);
            }
            let raw = self.read(addr, len as usize)?;
            self.still_valid()?;
            let s = self.socket(fd)?;
            let a = self.decide_addr(op, &s, &raw)?;
            if matches!(a, Addr::Abstract) {
                // Only the caller can connect it (Landlock's scope is the caller's):
                // the kernel reads the address again, so it must not be able to change.
                return if self.unchanging(&[(addr, len)], true) {
                    Ok(None)
                } else {
                    Err(self.refuse_race(
                        Right::Connect,
                        "abstract socket address in memory other tasks share",
                    ))
                };
            }
            let proxied = match (&a, self.sup.proxy_port) {
                (Addr::Inet(raw), Some(pp)) if right == NetRight::Connect => {
                    matches!(inet(raw), Some((ip, port)) if port == pp
                        && (ip.is_loopback() || ip.is_unspecified()))
                        && Self::sock_type(&s) == rustix::net::SocketType::STREAM
                        && !self.sup.is_outside(&s)
                }
                _ => false,
            };
            let client = if proxied {
                Some(self.register_proxy_client(&s)?)
            } else {
                None
            };
            Ok(Some((s, a, client)))
        })();
        match decided {
            Err(e) => Some(errno(e)),
            Ok(None) => Some(Reply::Continue),
            Ok(Some((s, a, _))) if right == NetRight::Bind && matches!(a, Addr::Unix(_)) => {
                // A unix socket file: bound here (it does not block), and, when
                // learning, remembered as the sandbox's own (see `run_sockets`).
                let Addr::Unix(r) = &a else { unreachable!() };
                let res = a.sockaddr().and_then(|sa| sa.call(s.as_fd(), true));
                if res.is_ok() && self.sup.learned.is_some() {
                    let st = r.dir().ok().and_then(|d| {
                        rustix::fs::statat(d, &r.name[..], rustix::fs::AtFlags::SYMLINK_NOFOLLOW)
                            .ok()
                    });
                    if let (Some(st), Ok(mut set)) = (st, self.sup.run_sockets.lock()) {
                        set.insert((st.st_dev, st.st_ino));
                    }
                }
                Some(match res {
                    Ok(()) => Reply::Value(0),
                    Err(e) => errno(e),
                })
            }
            Ok(Some((s, a, _))) => {
                // Leaving the container: a socket of the host's network namespace, put
                // in place of the sandbox's once connected.
                let mut swap = None;
                if matches!(a, Addr::Outside(_)) && !self.sup.is_outside(&s) {
                    match self.outside_socket(&s, fd) {
                        Ok(x) => swap = Some(x),
                        Err(e) => return Some(errno(e)),
                    }
                }
                // A blocking connect may take long: answer from a worker thread so the
                // supervisor keeps serving others.
                let listener = self.sup.listener.try_clone().ok()?;
                let id = self.n.id;
                // Learning: a TCP connection is learned only if it is made.
                let learning = match (&a, &self.sup.learned) {
                    (Addr::Inet(raw) | Addr::Outside(raw), Some(l))
                        if right == NetRight::Connect
                            && Self::sock_type(&s) == rustix::net::SocketType::STREAM =>
                    {
                        inet(raw).map(|(ip, port)| {
                            let target = Target::Socket {
                                proto: Proto::Tcp,
                                host: ip.to_string(),
                                port,
                            };
                            (l.clone(), target)
                        })
                    }
                    _ => None,
                };
                std::thread::spawn(move || {
                    let r = match a.sockaddr() {
                        Ok(sa) => {
                            let on = swap.as_ref().map_or(s.as_fd(), |(n, _)| n.as_fd());
                            let res = sa.call(on, right == NetRight::Bind);
                            if let Some((l, target)) = &learning {
                                let made = match res {
                                    Ok(()) => true,
                                    Err(Errno::INPROGRESS) => connects_later(on),
                                    Err(_) => false,
                                };
                                if let Ok(mut l) = l.lock() {
                                    l.connected(Right::Connect, target, made);
                                }
                            }
                            let reply = match res {
                                Ok(()) => Reply::Value(0),
                                Err(e) => errno(e),
                            };
                            match (&swap, res) {
                                (Some((n, cloexec)), Ok(()) | Err(Errno::INPROGRESS)) => {
                                    match sys::notif_addfd_setfd(
                                        listener.as_fd(),
                                        id,
                                        n.as_fd(),
                                        fd,
                                        *cloexec,
                                    ) {
                                        Ok(_) => reply,
                                        Err(e) => {
                                            Reply::Error(e.raw_os_error().unwrap_or(libc::EIO))
                                        }
                                    }
                                }
                                _ => reply,
                            }
                        }
                        Err(e) => errno(e),
                    };
                    let _ = sys::notif_send(listener.as_fd(), id, r);
                });
                None
            }
        }
    }

    /// Binds `s` (unbound, or bound to port 0) as the kernel's auto-bind would: the
    /// unspecified address, an ephemeral port. A concurrent `bind` by another thread
    /// (itself decided) may win: then its address stands. Returns the local address.
    fn autobind(s: &OwnedFd) -> Result<Vec<u8>, Errno> {
        let local = sys::sockname(s.as_fd()).map_err(io_errno)?;
        let Some((_, 0)) = inet_raw(&local) else {
            return Ok(local);
        };
        let family = u16::from_ne_bytes([local[0], local[1]]);
        let len = if i32::from(family) == libc::AF_INET {
            std::mem::size_of::<libc::sockaddr_in>()
        } else {
            std::mem::size_of::<libc::sockaddr_in6>()
        };
        let mut any = vec![0u8; len];
        any[..2].copy_from_slice(&family.to_ne_bytes());
        let _ = sys::sockaddr_call(s.as_fd(), &any, true);
        sys::sockname(s.as_fd()).map_err(io_errno)
    }

    /// Before connecting `s` to the MXC proxy for the caller: binds it (as `connect`
    /// would) and records which process and program make the connection under its
    /// local port, for the proxy to attribute it by (a process holding the socket
    /// later, or sharing it, is not who connected).
    fn register_proxy_client(&mut self, s: &OwnedFd) -> Result<u16, Errno> {
        let local = Self::autobind(s)?;
        let port = match inet_raw(&local) {
            Some((_, p)) if p != 0 => p,
            _ => return Err(Errno::ADDRINUSE),
        };
        let inode = fs::fstat(s)?.st_ino;
        let pid = self.tgid();
        let program = String::from_utf8_lossy(&self.program()).into_owned();
        if let Ok(mut m) = self.sup.proxy_clients.lock() {
            // Records the proxy never took up (failed connections) are bounded:
            // forgetting them only makes a connection decided with no program.
            if m.len() >= 4096 {
                m.clear();
            }
            m.insert(
                port,
                ProxyClient {
                    inode,
                    pid,
                    program,
                },
            );
        }
        Ok(port)
    }

    /// `listen`: serving is decided as `bind` of the socket's actual local address
    /// (what others can connect to), read from a duplicate of the caller's socket
    /// (`pidfd_getfd`: the same open file); the listen is then performed on that
    /// duplicate, never "continued" (another thread could put a different socket at
    /// `fd` meanwhile). An unbound socket is first bound as the kernel's own
    /// auto-bind would (the unspecified address, an ephemeral port), so the port
    /// decided is the port served. Unix sockets: a pathname one was decided by `create`
    /// when bound, an abstract one is scoped by Landlock. In the container tier a
    /// socket of the sandbox's own (empty) network namespace is reachable from nothing
    /// outside it: listening there needs no rule.
    fn listen(&mut self, fd: i32, backlog: i32) -> R {
        use rustix::net::AddressFamily;
        let s = self.socket(fd)?;
        let family = rustix::net::sockopt::socket_domain(&s)?;
        if family == AddressFamily::UNIX {
            rustix::net::listen(&s, backlog)?;
            return Ok(Done::Reply(Reply::Value(0)));
        }
        if family != AddressFamily::INET && family != AddressFamily::INET6 {
            return Err(Errno::OPNOTSUPP);
        }
        // Only a stream socket can listen: the kernel refuses the rest (no decision,
        // no binding on its behalf).
        if (self.sup.container.is_some() && !self.sup.is_outside(&s))
            || Self::sock_type(&s) != rustix::net::SocketType::STREAM
        {
            rustix::net::listen(&s, backlog)?;
            return Ok(Done::Reply(Reply::Value(0)));
        }
        // Unbound (or bound to port 0 not yet chosen): bound as auto-bind does.
        let local = Self::autobind(&s)?;
        if inet_raw(&local).map(|(_, p)| p) == Some(0) {
            return Err(Errno::ADDRINUSE);
        }
        self.decide_addr(Op::Bind, &s, &local)?;
        rustix::net::listen(&s, backlog)?;
        // The port can only change under us if another thread dissolved the binding
        // (a decided `connect`, then `connect(AF_UNSPEC)`) in between: decide what is
        // served now, and stop serving it if denied.
        let now = sys::sockname(s.as_fd()).map_err(io_errno)?;
        if now != local && self.decide_addr(Op::Bind, &s, &now).is_err() {
            let unspec = (libc::AF_UNSPEC as u16).to_ne_bytes();
            let _ = sys::sockaddr_call(s.as_fd(), &unspec, false);
            return Err(Errno::PERM);
        }
        Ok(Done::Reply(Reply::Value(0)))
    }

    /// A socket of the host's network namespace like the caller's `s` (family, type,
    /// protocol, blocking mode, `TCP_NODELAY`, `SO_KEEPALIVE`), to stand in for its
    /// descriptor `fd`; and whether that descriptor is close-on-exec.
    fn outside_socket(&mut self, s: &OwnedFd, fd: i32) -> Result<(OwnedFd, bool), Errno> {
        use rustix::net::sockopt;
        let domain = sockopt::socket_domain(s)?;
        let ty = sockopt::socket_type(s)?;
        let proto = sockopt::socket_protocol(s)?;
        let mut flags = rustix::net::SocketFlags::CLOEXEC;
        if fs::fcntl_getfl(s)?.contains(OFlags::NONBLOCK) {
            flags |= rustix::net::SocketFlags::NONBLOCK;
        }
        let n = rustix::net::socket_with(domain, ty, flags, proto)?;
        if ty == rustix::net::SocketType::STREAM && sockopt::tcp_nodelay(s).unwrap_or(false) {
            let _ = sockopt::set_tcp_nodelay(&n, true);
        }
        if sockopt::socket_keepalive(s).unwrap_or(false) {
            let _ = sockopt::set_socket_keepalive(&n, true);
        }
        let cloexec = std::fs::read_to_string(format!("/proc/{}/fdinfo/{fd}", self.tgid()))
            .ok()
            .and_then(|i| {
                i.lines()
                    .find_map(|l| l.strip_prefix("flags:"))
                    .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
            })
            .is_some_and(|f| f & libc::O_CLOEXEC as u32 != 0);
        self.sup.mark_outside(&n);
        Ok((n, cloexec))
    }

    /// Whether something of the sandbox listens on (TCP) or is bound to (UDP) `port`
    /// in its network namespace.
    fn listening_inside(&self, proto: Proto, port: u16) -> bool {
        let tables: &[&str] = match proto {
            Proto::Udp => &["udp", "udp6"],
            _ => &["tcp", "tcp6"],
        };
        tables.iter().any(|t| {
            let Ok(text) = std::fs::read_to_string(format!("/proc/{}/net/{t}", self.n.pid)) else {
                return false;
            };
            text.lines().skip(1).any(|line| {
                let f: Vec<&str> = line.split_whitespace().collect();
                let local_port = f
                    .get(1)
                    .and_then(|a| a.rsplit(':').next())
                    .and_then(|p| u16::from_str_radix(p, 16).ok());
                local_port == Some(port) && (proto == Proto::Udp || f.get(3) == Some(&"0A"))
            })
        })
    }

    fn sock_type(s: &OwnedFd) -> rustix::net::SocketType {
        rustix::net::sockopt::socket_type(s).unwrap_or(rustix::net::SocketType::DGRAM)
    }

    /// A call on the task `id` (in the caller's pid namespace; held because it is not
    /// 0): continued only when that task is one of the sandbox's. The id is a register
    /// value, decided once: no other task can change it. What remains is a pid reused
    /// between this check and the kernel's lookup (the sandbox's task exits and an
    /// outside process gets its number in that instant).
    fn other_task(&mut self, id: i32) -> R {
        if id <= 0 {
            return Err(Errno::SRCH);
        }
        let ours = match self.sup.container {
            // The caller names tasks of its own pid namespace, where only the sandbox's
            // processes and MXC's init (1) live (no agent can make another one:
            // unshare and namespace flags are refused).
            Some(_) => id != 1,
            None => self.sandbox_task(id as u32),
        };
        if !ours {
            return Err(Errno::PERM);
        }
        self.still_valid()?;
        Ok(Done::Reply(Reply::Continue))
    }

    /// Whether host task `tid` (a thread or a process) belongs to a sandboxed process:
    /// beneath the supervisor in the process tier, beneath the namespace's init (never
    /// the init itself) in the container tier; MXC's watchdog is beneath neither.
    fn sandbox_task(&self, tid: u32) -> bool {
        let Some(tgid) = std::fs::read_to_string(format!("/proc/{tid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Tgid:"))
                    .and_then(|v| v.trim().parse::<u32>().ok())
            })
        else {
            return false;
        };
        descends_from(tgid, self.sup.sandbox_top())
    }

    /// process_madvise names its process by a pidfd: decided on the process that
    /// descriptor refers to (`Pid:` of its fdinfo, a host pid as the supervisor's
    /// procfs shows it), when no other task can swap the descriptor meanwhile.
    fn process_madvise(&mut self, fd: i32) -> R {
        if fd < 0 {
            return Err(Errno::BADF);
        }
        if !self.files_exclusive() {
            return Err(Errno::PERM);
        }
        let info = std::fs::read_to_string(format!("/proc/{}/fdinfo/{fd}", self.n.pid))
            .map_err(|_| Errno::BADF)?;
        let pid = info
            .lines()
            .find_map(|l| l.strip_prefix("Pid:"))
            .and_then(|v| v.trim().parse::<i64>().ok())
            .ok_or(Errno::BADF)?;
        if pid <= 0 || !self.sandbox_task(pid as u32) {
            return Err(Errno::PERM);
        }
        self.still_valid()?;
        Ok(Done::Reply(Reply::Continue))
    }

    /// Whether no other task shares the caller's descriptor table: then a descriptor
    /// number the supervisor looked at names the same object when the kernel reads it
    /// again.
    fn files_exclusive(&self) -> bool {
        crate::race::exclusive(self.n.pid, self.sup.sandbox_top(), sys::Shares::Files)
            && self.still_valid().is_ok()
    }

    /// Answers from a worker thread (a send or connect may block): the supervisor
    /// keeps serving others.
    fn in_worker(&self, f: impl FnOnce() -> Reply + Send + 'static) -> R {
        let listener = self.sup.listener.try_clone().map_err(|_| Errno::NOMEM)?;
        let id = self.n.id;
        std::thread::spawn(move || {
            let r = f();
            let _ = sys::notif_send(listener.as_fd(), id, r);
        });
        Ok(Done::Sent)
    }

    /// `sendto` with an address, `sendmsg` or `sendmmsg` on a stream or sequenced
    /// socket `s` (the caller's `fd`): the address is not used, but the kernel would
    /// read `fd` again, and another thread can put a different socket there
    /// meanwhile. Let through only when no other task shares the descriptor table;
    /// else performed here, on `s` itself: the data (at most [`MAX_STREAM_SEND`] bytes
    /// per call, a short send as the kernel may make) and passed descriptors
    /// (`SCM_RIGHTS`, fetched from the caller); other ancillary data is refused.
    fn stream_send(
        &mut self,
        s: OwnedFd,
        data: Vec<u8>,
        control: Option<Vec<u8>>,
        flags: i32,
    ) -> R {
        let mut fds = Vec::new();
        if let Some(c) = &control {
            for fd in scm_rights(c).ok_or_else(|| {
                self.refuse_race(
                    Right::Connect,
                    "ancillary data other than SCM_RIGHTS on a shared descriptor table",
                )
            })? {
                let pidfd = self.pidfd()?;
                fds.push(
                    rustix::process::pidfd_getfd(
                        &pidfd,
                        fd,
                        rustix::process::PidfdGetfdFlags::empty(),
                    )
                    .map_err(|_| Errno::BADF)?,
                );
            }
        }
        self.still_valid()?;
        self.in_worker(move || {
            let borrowed: Vec<BorrowedFd<'_>> = fds.iter().map(|f| f.as_fd()).collect();
            let mut space = vec![
                std::mem::MaybeUninit::uninit();
                rustix::cmsg_space!(ScmRights(borrowed.len()))
            ];
            let mut ctl = rustix::net::SendAncillaryBuffer::new(&mut space);
            if !borrowed.is_empty()
                && !ctl.push(rustix::net::SendAncillaryMessage::ScmRights(&borrowed))
            {
                return Reply::Error(libc::EINVAL);
            }
            match rustix::net::sendmsg(
                &s,
                &[std::io::IoSlice::new(&data)],
                &mut ctl,
                rustix::net::SendFlags::from_bits_retain(flags as u32),
            ) {
                Ok(n) => Reply::Value(n as i64),
                Err(e) => errno(e),
            }
        })
    }

    /// An abstract unix address in `sendto`/`sendmsg`: only the caller may send to it
    /// (Landlock's scope), so the kernel must read the same socket and address again.
    fn abstract_send(&mut self, addr: (u64, u64)) -> R {
        if self.unchanging(&[addr], true) {
            Ok(Done::Reply(Reply::Continue))
        } else {
            Err(self.refuse_race(
                Right::Connect,
                "abstract socket address in memory or descriptors other tasks share",
            ))
        }
    }

    fn sendto(&mut self, fd: i32, buf: u64, len: u64, flags: i32, addr: u64, alen: u64) -> R {
        let s = self.socket(fd)?;
        if Self::sock_type(&s) != rustix::net::SocketType::DGRAM {
            // Streams ignore the address (TCP Fast Open is refused by the filter).
            if self.files_exclusive() {
                return Ok(Done::Reply(Reply::Continue));
            }
            let data = self.read(buf, (len as usize).min(MAX_STREAM_SEND))?;
            return self.stream_send(s, data, None, flags);
        }
        if alen > 128 {
            return Err(Errno::INVAL);
        }
        let raw = self.read(addr, alen as usize)?;
        if len as usize > MAX_DGRAM {
            return Err(Errno::MSGSIZE);
        }
        let data = self.read(buf, len as usize)?;
        self.still_valid()?;
        let a = self.decide_addr(Op::Send, &s, &raw)?;
        if matches!(a, Addr::Abstract) {
            return self.abstract_send((addr, alen));
        }
        let s = self.dgram_socket(s, fd, Some(&a))?;
        let n = send_dgram(&s, &data, flags, Some(&a))?;
        ok(n as i64)
    }

    /// The socket a datagram to `a` goes out on: the caller's own, or (leaving the
    /// container for the first time) a host socket put in its place.
    fn dgram_socket(&mut self, s: OwnedFd, fd: i32, a: Option<&Addr>) -> Result<OwnedFd, Errno> {
        if !matches!(a, Some(Addr::Outside(_))) || self.sup.is_outside(&s) {
            return Ok(s);
        }
        let (n, cloexec) = self.outside_socket(&s, fd)?;
        sys::notif_addfd_setfd(self.sup.listener.as_fd(), self.n.id, n.as_fd(), fd, cloexec)
            .map_err(|e| Errno::from_raw_os_error(e.raw_os_error().unwrap_or(libc::EIO)))?;
        Ok(n)
    }

    /// Reads a `msghdr`: the name (its bytes and where they are), the data (at most
    /// `max` bytes), and the ancillary data.
    fn msghdr(&mut self, at: u64, max: usize) -> Result<Msg, Errno> {
        let h = self.read(at, 56)?;
        let w = |i: usize| u64::from_ne_bytes(h[i..i + 8].try_into().unwrap_or([0; 8]));
        let (name, namelen) = (w(0), w(8) & 0xffff_ffff);
        let (iov, iovlen) = (w(16), w(24));
        let (control, controllen) = (w(32), w(40));
        if iovlen > 1024 {
            return Err(Errno::MSGSIZE);
        }
        let mut data = Vec::new();
        for i in 0..iovlen {
            let base = self.read_u64(iov + 16 * i)?;
            let l = self.read_u64(iov + 16 * i + 8)? as usize;
            let l = l.min(max.saturating_sub(data.len()));
            data.extend(self.read(base, l)?);
        }
        let control = if control != 0 && controllen != 0 {
            if controllen > 64 * 1024 {
                return Err(Errno::NOBUFS);
            }
            Some(self.read(control, controllen as usize)?)
        } else {
            None
        };
        let name = if name != 0 && namelen != 0 {
            if namelen > 128 {
                return Err(Errno::INVAL);
            }
            Some((self.read(name, namelen as usize)?, (name, namelen)))
        } else {
            None
        };
        Ok(Msg {
            name,
            data,
            control,
        })
    }

    fn sendmsg(&mut self, fd: i32, msg: u64, flags: i32) -> R {
        let s = self.socket(fd)?;
        if Self::sock_type(&s) != rustix::net::SocketType::DGRAM {
            if self.files_exclusive() {
                return Ok(Done::Reply(Reply::Continue));
            }
            let m = self.msghdr(msg, MAX_STREAM_SEND)?;
            return self.stream_send(s, m.data, m.control, flags);
        }
        let m = self.msghdr(msg, MAX_DGRAM + 1)?;
        if m.data.len() > MAX_DGRAM {
            return Err(Errno::MSGSIZE);
        }
        if m.control.is_some() {
            // Ancillary data (descriptors, credentials) on datagram sockets is not
            // supported under supervision: refusing is the safe answer.
            return Err(Errno::OPNOTSUPP);
        }
        self.still_valid()?;
        let a = match &m.name {
            Some((raw, _)) => Some(self.decide_addr(Op::Send, &s, raw)?),
            None => None,
        };
        if let (Some(Addr::Abstract), Some((_, at))) = (&a, &m.name) {
            return self.abstract_send(*at);
        }
        let s = self.dgram_socket(s, fd, a.as_ref())?;
        let n = send_dgram(&s, &m.data, flags, a.as_ref())?;
        ok(n as i64)
    }

    fn sendmmsg(&mut self, fd: i32, vec: u64, vlen: u32, flags: i32) -> R {
        let mut s = self.socket(fd)?;
        if Self::sock_type(&s) != rustix::net::SocketType::DGRAM {
            if self.files_exclusive() {
                return Ok(Done::Reply(Reply::Continue));
            }
            return Err(self.refuse_race(
                Right::Connect,
                "sendmmsg on a stream while other tasks share the descriptor table",
            ));
        }
        let mut sent = 0i64;
        for i in 0..u64::from(vlen.min(1024)) {
            let at = vec + 64 * i;
            let step = (|| -> Result<usize, Errno> {
                let m = self.msghdr(at, MAX_DGRAM + 1)?;
                if m.data.len() > MAX_DGRAM {
                    return Err(Errno::MSGSIZE);
                }
                if m.control.is_some() {
                    return Err(Errno::OPNOTSUPP);
                }
                self.still_valid()?;
                let a = match &m.name {
                    Some((raw, _)) => Some(self.decide_addr(Op::Send, &s, raw)?),
                    None => None,
                };
                if matches!(a, Some(Addr::Abstract)) {
                    // Several messages: the kernel cannot be left to read them again.
                    return Err(Errno::PERM);
                }
                if matches!(a, Some(Addr::Outside(_))) && !self.sup.is_outside(&s) {
                    let own = self.socket(fd)?;
                    s = self.dgram_socket(own, fd, a.as_ref())?;
                }
                send_dgram(&s, &m.data, flags, a.as_ref())
            })();
            match step {
                Ok(n) => {
                    self.write(at + 56, &(n as u32).to_ne_bytes())?;
                    sent += 1;
                }
                Err(e) if sent == 0 => return Err(e),
                Err(_) => break,
            }
        }
        ok(sent)
    }
}

/// A message as `sendmsg` names it.
struct Msg {
    /// The address bytes, and where they are in the caller's memory.
    name: Option<(Vec<u8>, (u64, u64))>,
    data: Vec<u8>,
    control: Option<Vec<u8>>,
}

/// The descriptor numbers of ancillary data made of `SCM_RIGHTS` messages only, or
/// `None` (other messages, or malformed).
fn scm_rights(c: &[u8]) -> Option<Vec<i32>> {
    let mut out = Vec::new();
    let mut off = 0usize;
    while off + 16 <= c.len() {
        let len = u64::from_ne_bytes(c.get(off..off + 8)?.try_into().ok()?) as usize;
        let level = i32::from_ne_bytes(c.get(off + 8..off + 12)?.try_into().ok()?);
        let ty = i32::from_ne_bytes(c.get(off + 12..off + 16)?.try_into().ok()?);
        if len < 16 || off + len > c.len() || level != libc::SOL_SOCKET || ty != libc::SCM_RIGHTS {
            return None;
        }
        for fd in c.get(off + 16..off + len)?.chunks_exact(4) {
            out.push(i32::from_ne_bytes(fd.try_into().ok()?));
        }
        off += (len + 7) & !7;
    }
    Some(out)
}

/// What an address is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Connect,
    Bind,
    Send,
}

/// An allowed destination, performed by the supervisor exactly as decided.
enum Addr {
    /// Reached from the caller's own socket (its network namespace): these bytes.
    Inet(Vec<u8>),
    /// Beyond the container's network namespace: reached from a host socket.
    Outside(Vec<u8>),
    Unix(Resolved),
    /// Performed with exactly these bytes (`connect(AF_UNSPEC)`, an unnamed or
    /// abstract unix `bind`).
    Raw(Vec<u8>),
    /// An abstract unix address to connect or send to: only the caller can.
    Abstract,
}

/// A socket address ready for `connect`/`bind`/`sendto`.
enum SockAddr {
    Raw(Vec<u8>),
    Unix(rustix::net::SocketAddrUnix),
}

impl Addr {
    fn sockaddr(&self) -> Result<SockAddr, Errno> {
        match self {
            Addr::Inet(raw) | Addr::Outside(raw) | Addr::Raw(raw) => Ok(SockAddr::Raw(raw.clone())),
            Addr::Abstract => Err(Errno::PERM),
            Addr::Unix(r) => {
                // Reach the very inode (or directory) we decided on through our own
                // descriptor of it.
                let p = match &r.object {
                    Some(o) => format!("/proc/self/fd/{}", o.as_raw_fd()).into_bytes(),
                    None => [
                        format!("/proc/self/fd/{}/", r.dir()?.as_raw_fd()).as_bytes(),
                        &r.name,
                    ]
                    .concat(),
                };
                Ok(SockAddr::Unix(
                    rustix::net::SocketAddrUnix::new(&p[..]).map_err(|_| Errno::NAMETOOLONG)?,
                ))
            }
        }
    }
}

/// Whether a non-blocking connect in progress on `s` completes (within 30 seconds):
/// the socket becomes writable and has a peer. Neither reads nor clears its pending
/// error (the sandbox's `SO_ERROR` stays its own).
fn connects_later(s: BorrowedFd<'_>) -> bool {
    sys::writable_within(s, 30_000) && rustix::net::getpeername(s).is_ok()
}

fn io_errno(e: std::io::Error) -> Errno {
    Errno::from_raw_os_error(e.raw_os_error().unwrap_or(libc::EIO))
}

impl SockAddr {
    fn call(&self, s: BorrowedFd<'_>, bind: bool) -> Result<(), Errno> {
        match self {
            SockAddr::Raw(raw) => sys::sockaddr_call(s, raw, bind).map_err(io_errno),
            SockAddr::Unix(a) if bind => rustix::net::bind(s, a),
            SockAddr::Unix(a) => rustix::net::connect(s, a),
        }
    }
}

fn send_dgram(s: &OwnedFd, data: &[u8], flags: i32, a: Option<&Addr>) -> Result<usize, Errno> {
    match a {
        None => sys::sendto_raw(s.as_fd(), data, flags, None).map_err(io_errno),
        Some(a) => match a.sockaddr()? {
            SockAddr::Raw(raw) => {
                sys::sendto_raw(s.as_fd(), data, flags, Some(&raw)).map_err(io_errno)
            }
            SockAddr::Unix(sa) => rustix::net::sendto(
                s,
                data,
                rustix::net::SendFlags::from_bits_retain(flags as u32),
                &sa,
            ),
        },
    }
}

/// IP and port of a `sockaddr_in`/`sockaddr_in6`; IPv4-mapped IPv6 is read as IPv4,
/// so `::ffff:10.0.0.1` is decided by the IPv4 rules.
fn inet(raw: &[u8]) -> Option<(std::net::IpAddr, u16)> {
    let (ip, port) = inet_raw(raw)?;
    let ip = match ip {
        std::net::IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => std::net::IpAddr::V4(v4),
            None => std::net::IpAddr::V6(a),
        },
        v4 => v4,
    };
    Some((ip, port))
}

fn inet_raw(raw: &[u8]) -> Option<(std::net::IpAddr, u16)> {
    let family = i32::from(u16::from_ne_bytes([*raw.first()?, *raw.get(1)?]));
    let port = u16::from_be_bytes([*raw.get(2)?, *raw.get(3)?]);
    match family {
        libc::AF_INET => {
            let a: [u8; 4] = raw.get(4..8)?.try_into().ok()?;
            Some((std::net::IpAddr::from(a), port))
        }
        libc::AF_INET6 => {
            let a: [u8; 16] = raw.get(8..24)?.try_into().ok()?;
            Some((std::net::IpAddr::from(a), port))
        }
        _ => None,
    }
}

/// Reopens an `O_PATH` descriptor with real access, through `/proc/self/fd`. FIFOs are
/// opened non-blocking (an open that waits for a peer would stall the supervisor),
/// then switched back.
/// `ft`: the object's type, when the caller has it (else one `fstat` here).
fn reopen(obj: BorrowedFd<'_>, flags: OFlags, ft: Option<fs::FileType>) -> Result<OwnedFd, Errno> {
    let ft = match ft {
        Some(t) => t,
        None => fs::FileType::from_raw_mode(fs::fstat(obj)?.st_mode),
    };
    let fifo = ft == fs::FileType::Fifo;
    let link = format!("/proc/self/fd/{}", obj.as_raw_fd());
    let f = if fifo && !flags.contains(OFlags::NONBLOCK) {
        let f = fs::open(
            &link,
            flags | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let fl = rustix::fs::fcntl_getfl(&f)?;
        rustix::fs::fcntl_setfl(&f, fl & !OFlags::NONBLOCK)?;
        f
    } else {
        fs::open(&link, flags | OFlags::CLOEXEC, Mode::empty())?
    };
    Ok(f)
}

/// Whether an object reached through a magic link has no path of its own that the
/// rules could decide: a pipe, a socket or an anonymous inode (`pipe:[…]`), or a file
/// that is no longer linked anywhere (a deleted file, a memfd, an `O_TMPFILE`).
/// `st`: the object's `fstat`, when the caller has it (else one here).
fn pathless(obj: BorrowedFd<'_>, path: &[u8], st: Option<&fs::Stat>) -> bool {
    if path.first() != Some(&b'/') {
        return true;
    }
    match st {
        Some(st) => st.st_nlink == 0,
        None => fs::fstat(obj).is_ok_and(|s| s.st_nlink == 0),
    }
}

/// Whether open file flags `flags` give at least the access `rights` need.
fn flags_allow(flags: OFlags, rights: &[FsRight]) -> bool {
    let acc = flags.bits() as i32 & libc::O_ACCMODE;
    let (r, w) = (
        acc == libc::O_RDONLY || acc == libc::O_RDWR,
        acc == libc::O_WRONLY || acc == libc::O_RDWR,
    );
    rights.iter().all(|x| match x {
        FsRight::Read => r && !flags.contains(OFlags::PATH),
        FsRight::Write => w,
        _ => false,
    })
}

/// The interpreter a `#!` script names (its first word), if `obj` is one.
fn interpreter_of(obj: BorrowedFd<'_>) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(format!(
        "/proc/self/fd/{}",
        rustix::fd::AsRawFd::as_raw_fd(&obj)
    ))
    .ok()?;
    let mut head = [0u8; 256];
    let n = f.read(&mut head).ok()?;
    let line = head[..n].strip_prefix(b"#!")?;
    let line = &line[..line.iter().position(|&b| b == b'\n').unwrap_or(line.len())];
    let word = line
        .split(|b| *b == b' ' || *b == b'\t')
        .find(|w| !w.is_empty())?;
    Some(word.to_vec())
}

/// The host pid of the sandboxed process numbered `nspid` in its own pid namespace.
fn host_pid_of(nspid: u32, ancestor: u32) -> Option<u32> {
    descendants(ancestor).into_iter().find(|p| {
        std::fs::read_to_string(format!("/proc/{p}/status")).is_ok_and(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("NSpid:"))
                .map(|v| v.split_whitespace().collect::<Vec<_>>())
                .is_some_and(|v| v.len() > 1 && v.last() == Some(&nspid.to_string().as_str()))
        })
    })
}

/// The executable of process `pid`.
pub(crate) fn program_of(pid: u32) -> Vec<u8> {
    fs::readlink(format!("/proc/{pid}/exe"), Vec::new())
        .map(|c| c.into_bytes())
        .unwrap_or_default()
}

/// The parent of `pid` and whether it is already dead (zombie), from `/proc/PID/stat`.
fn parent_of(pid: u32) -> Option<(u32, bool)> {
    // One open and one read (this runs for every process of the machine when the
    // sandbox's tree is listed): the state and parent follow the command name, which
    // is at most 64 bytes.
    let fd = fs::open(
        format!("/proc/{pid}/stat"),
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let mut buf = [0u8; 512];
    let n = rustix::io::read(&fd, &mut buf).ok()?;
    parse_stat(&buf[..n])
}

/// (parent, dead) from the text of `/proc/PID/stat`: `pid (comm) state ppid …`. The
/// command name is whatever the process set (`PR_SET_NAME`): spaces, parentheses, bytes
/// that are not UTF-8. Only what follows its last `)` is read.
fn parse_stat(stat: &[u8]) -> Option<(u32, bool)> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(stat.get(close + 1..)?).ok()?;
    let mut f = rest.split_whitespace();
    let state = f.next()?;
    let ppid = f.next()?.parse().ok()?;
    Some((ppid, state.starts_with('Z') || state.starts_with('X')))
}

/// Whether `pid` descends from `ancestor` (the supervisor: a child subreaper, so every
/// sandboxed process, orphaned or not, is beneath it).
pub fn descends_from(pid: u32, ancestor: u32) -> bool {
    let mut p = pid;
    for _ in 0..4096 {
        if p == ancestor {
            return pid != ancestor;
        }
        if p <= 1 {
            return false;
        }
        match parent_of(p) {
            Some((pp, _)) => p = pp,
            None => return false,
        }
    }
    false
}

/// Every live process beneath `ancestor`, from one pass over `/proc`.
pub fn descendants(ancestor: u32) -> Vec<u32> {
    let mut parent = std::collections::HashMap::new();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if let Some(p) = parent_of(pid) {
                parent.insert(pid, p);
            }
        }
    }
    let mut out = Vec::new();
    for (&pid, &(_, dead)) in &parent {
        if dead {
            continue;
        }
        let mut p = pid;
        for _ in 0..4096 {
            match parent.get(&p) {
                Some(&(pp, _)) if pp == ancestor => {
                    out.push(pid);
                    break;
                }
                Some(&(pp, _)) if pp > 1 => p = pp,
                _ => break,
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parse_stat;

    #[test]
    fn a_process_name_cannot_hide_its_parent() {
        assert_eq!(parse_stat(b"12 (sh) S 7 12 12 0"), Some((7, false)));
        // Spaces, parentheses and bytes that are not UTF-8 in the name.
        assert_eq!(parse_stat(b"12 (a) S 1 (b) Z 9 1 1"), Some((9, true)));
        assert_eq!(parse_stat(b"12 (\xff\xfe) x) R 42 1"), Some((42, false)));
        assert_eq!(parse_stat(b"garbage"), None);
    }
}

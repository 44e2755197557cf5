//! The supervisor: receives each held system call, decides it with the engine on the
//! object actually reached, and — for files and sockets — performs it itself and hands
//! the result back (`SECCOMP_IOCTL_NOTIF_ADDFD` for descriptors), so nothing the
//! process changes after the check can change what is accessed.
//!
//! **Invariant:** every held call gets exactly one answer, and any failure of the
//! supervisor's own (unreadable memory, an unexpected errno, a vanished process) is a
//! denial, never `Continue`.
//!
//! Split by job: `dispatch` (number to handler), `memory` (the caller's memory, read
//! once), `caller` (who is asking), `decide` (the deciding halves: pure functions of
//! the request and the engine, tested without a kernel), `conclude` (ask, learn,
//! count, record), and the performing halves `files`, `meta`, `exec`, `net`, `tasks`:
//! read, resolve, call the decider, perform. A performing half never decides on its
//! own, and a decider never touches the kernel.

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
mod caller;
mod conclude;
pub use conclude::Asking;
mod decide;
mod dispatch;
mod exec;
mod files;
mod memory;
mod meta;
mod net;
mod tasks;
pub(crate) use caller::program_of;
use caller::*;
pub use caller::{descendants, descends_from};
use meta::{Obj, Times};
use net::*;
const PATH_MAX: usize = 4096;
const MAX_ARGS: usize = 16384;
const MAX_ARG_BYTES: usize = 2 << 20;
const MAX_DGRAM: usize = 65536;

/// At most this many bytes of a stream send the supervisor performs (a short send).
const MAX_STREAM_SEND: usize = 1 << 20;
const MAX_RENAME_WALK: usize = 10_000;

/// Why `--learn` refuses a host daemon's socket.
const LEARN_REFUSAL: &str = "a learning run reaches no host daemon's unix socket";

/// At most this many held calls are answered from worker threads at once (a `connect`
/// or a send that may block). Such a call blocks as long as its peer wants (a unix
/// listener whose backlog is full and that never accepts: forever) and goes on
/// blocking after its caller is gone: a sandbox that started such calls and killed the
/// callers made `mxcc` keep a thread and descriptors for each, without bound and
/// outside the run's `limits` (escape `workers_*`). Beyond this many, the call fails
/// with `EAGAIN` (nothing was done).
pub const MAX_WORKERS: usize = 128;

/// Threads running on the sandbox's behalf, at most a bound of them ([`MAX_WORKERS`]
/// by default).
#[derive(Debug)]
pub struct Workers {
    running: Arc<std::sync::atomic::AtomicUsize>,
    max: usize,
}

impl Default for Workers {
    fn default() -> Self {
        Workers::at_most(MAX_WORKERS)
    }
}

/// One worker's place, given back when dropped (when its thread ends).
#[derive(Debug)]
pub struct WorkerSlot(Arc<std::sync::atomic::AtomicUsize>);

impl Workers {
    /// At most `max` at once.
    pub fn at_most(max: usize) -> Workers {
        Workers {
            running: Arc::default(),
            max,
        }
    }

    /// A place for one more, if fewer than the bound run.
    pub fn take(&self) -> Option<WorkerSlot> {
        self.running
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| WorkerSlot(self.running.clone()))
    }
}

impl Drop for WorkerSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

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
    /// One question at a time, and the denial sink never during one.
    pub asking: Asking,
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
    /// The calls answered from worker threads now (see [`MAX_WORKERS`]).
    pub workers: Workers,
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

impl SockAddr {
    fn call(&self, s: BorrowedFd<'_>, bind: bool) -> Result<(), Errno> {
        match self {
            SockAddr::Raw(raw) => sys::sockaddr_call(s, raw, bind).map_err(io_errno),
            SockAddr::Unix(a) if bind => rustix::net::bind(s, a),
            SockAddr::Unix(a) => rustix::net::connect(s, a),
        }
    }
}

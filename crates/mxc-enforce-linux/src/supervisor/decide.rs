//! The deciding halves of the handlers: pure functions of the request (already read
//! out of the caller's memory once, already resolved: paths as bytes, flags, typed
//! addresses) and the engine. No system call, no descriptor, no process: they are
//! unit-tested without a kernel (below). The performing halves (`files.rs`,
//! `exec.rs`, `net.rs`) read the caller's memory, resolve, call these, settle what
//! they return with [`Call::conclude`](super::Call) (asking, `--learn`, the audit
//! record), and perform the call.
//!
//! Must never: read memory, open or stat anything, or decide on text the caller could
//! change after it was read.

use super::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What a handler asks to have settled: a right on a target as the engine decided it
/// (`conclude` asks for `ask`, counts, and writes the `mxc_enforce::Record`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Check {
    pub right: Right,
    pub target: Target,
    pub decision: Decision,
}

fn rank(e: Effect) -> u8 {
    match e {
        Effect::Allow => 0,
        Effect::Ask => 1,
        Effect::Deny => 2,
    }
}

/// `rights` on `path`: the strongest of their decisions (deny over ask over allow; the
/// first right among equals), or `None` when no right is asked for.
pub(super) fn fs_check(engine: &Engine, path: &[u8], rights: &[FsRight]) -> Option<Check> {
    let mut worst: Option<(FsRight, Decision)> = None;
    for &r in rights {
        let d = engine.fs(path, r);
        if worst.is_none_or(|(_, w)| rank(d.effect) > rank(w.effect)) {
            worst = Some((r, d));
        }
    }
    worst.map(|(right, decision)| Check {
        right: right.into(),
        target: Target::Path(path.to_vec()),
        decision,
    })
}

/// Why MXC refuses `rights` on procfs path `path` (resolved: `/proc/self` is already
/// the process's number) whatever the policy says, if it does: writing (or making or
/// removing) anything of procfs outside a process's own directory — the kernel's
/// settings (`/proc/sys`, `/proc/sysrq-trigger`), most of which uid 0 may write without
/// any capability (`core_pattern` runs a program of the sandbox's as the host's root)
/// — or a process's memory (`/proc/PID/mem`, `/proc/PID/task/TID/mem`: a parent may
/// write its child's, changing what the supervisor proved unchangeable). Escape
/// `procw::procfs_write_*`.
pub(super) fn procfs_refusal(path: &[u8], rights: &[FsRight]) -> Option<&'static str> {
    if !rights
        .iter()
        .any(|r| matches!(r, FsRight::Write | FsRight::Create | FsRight::Delete))
    {
        return None;
    }
    let rest = match path.strip_prefix(b"/proc") {
        Some([]) => return Some(PROCFS_SETTINGS),
        Some([b'/', rest @ ..]) => rest,
        _ => return None,
    };
    let first = rest.split(|&b| b == b'/').next().unwrap_or_default();
    let process = (!first.is_empty() && first.iter().all(u8::is_ascii_digit))
        || first == b"self"
        || first == b"thread-self";
    if !process {
        return Some(PROCFS_SETTINGS);
    }
    (rest.rsplit(|&b| b == b'/').next() == Some(b"mem")).then_some(
        "a process's memory is never written through procfs (it would change what the \
         supervisor proved unchangeable)",
    )
}

/// Why a change to sysfs is refused whatever the policy says: uid 0 needs no
/// capability to write many of the kernel's attributes (`/sys/power/state` suspends the
/// machine; `/sys/kernel/uevent_helper`, where built, runs a program as the host's root
/// at the next device event), and nothing under `/sys` is an agent's to change. Decided
/// by path, as procfs is (a policy that writes `/sys` is supervised: `writes_sysfs`).
pub(super) fn sysfs_refusal(path: &[u8], rights: &[FsRight]) -> Option<&'static str> {
    let changes = rights
        .iter()
        .any(|r| matches!(r, FsRight::Write | FsRight::Create | FsRight::Delete));
    let sysfs = matches!(path.strip_prefix(b"/sys"), Some([] | [b'/', ..]));
    (changes && sysfs).then_some(
        "the kernel's attributes (sysfs, /sys) are never changed by the sandbox (uid 0 \
         needs no capability for many of them)",
    )
}

const PROCFS_SETTINGS: &str = "the kernel's settings (procfs outside a process's directory: \
     /proc/sys, /proc/sysrq-trigger) are never changed by the sandbox (uid 0 needs no \
     capability for most of them)";

// ---- open, openat, openat2, creat ----------------------------------------------------

/// The open family's arguments (`openat2`'s `how` already read out of memory).
#[derive(Clone, Copy, Debug)]
pub(super) struct OpenRequest {
    pub flags: i32,
    pub mode: u32,
    pub resolve: u64,
}

impl OpenRequest {
    fn oflags(&self) -> OFlags {
        OFlags::from_bits_retain(self.flags as u32)
    }
}

/// Before the path is resolved: refused outright, or whether its last component is
/// followed when it is a symbolic link.
pub(super) fn open_lookup(req: &OpenRequest) -> Result<bool, Errno> {
    let oflags = req.oflags();
    if req.resolve != 0 {
        // RESOLVE_* narrow a lookup in ways the supervisor's resolver does not
        // reproduce; callers fall back to `openat` on ENOSYS.
        return Err(Errno::NOSYS);
    }
    let create = oflags.contains(OFlags::CREATE);
    let tmpfile = oflags.contains(OFlags::TMPFILE);
    if (create || tmpfile) && req.mode & (libc::S_ISUID | libc::S_ISGID) != 0 {
        // Never a setuid or setgid file (the filter refuses the same for the calls
        // whose mode it can see; openat2's is in memory).
        return Err(Errno::PERM);
    }
    Ok(!(oflags.contains(OFlags::NOFOLLOW) || (create && oflags.contains(OFlags::EXCL))))
}

/// What the resolved path reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Found {
    /// Nothing; `parent_missing`: nor the directory it would be in.
    Missing { parent_missing: bool },
    /// An object of this type; `dev_tty`: the character device 5:0 (`/dev/tty`).
    Object { kind: fs::FileType, dev_tty: bool },
}

/// How an allowed open is performed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum How {
    /// A new file, made exclusively in the resolved directory (never following a link).
    Create,
    /// The `O_PATH` descriptor the resolver holds, duplicated.
    Path,
    /// An unnamed file in the resolved directory.
    Tmpfile,
    /// The resolved object reopened through its descriptor.
    Reopen,
}

/// What to do with an open, given what the path reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum OpenPlan {
    /// Decide `right` on the path, then fail with `errno` whatever the answer: a
    /// denied path answers as denied whether or not it exists (no existence probe).
    DecideThenFail {
        right: FsRight,
        errno: Errno,
    },
    Fail(Errno),
    /// `/dev/tty`: the sandbox's own terminal (opening it in the supervisor would give
    /// the supervisor's), reopened with `flags`, or none.
    OwnTerminal {
        flags: OFlags,
        cloexec: bool,
    },
    /// Decide `rights` on the path (or, for an object without one, on the descriptor
    /// it is reopened through), then perform `how` with `flags` and put the result in
    /// the caller's table.
    Open {
        rights: Vec<FsRight>,
        how: How,
        flags: OFlags,
        cloexec: bool,
    },
}

/// The open's plan: the rights its flags need on what the path reached.
pub(super) fn open_plan(req: &OpenRequest, found: Found) -> OpenPlan {
    let oflags = req.oflags();
    let create = oflags.contains(OFlags::CREATE);
    let tmpfile = oflags.contains(OFlags::TMPFILE);
    let acc = req.flags & libc::O_ACCMODE;
    let path_only = oflags.contains(OFlags::PATH);
    let cloexec = oflags.contains(OFlags::CLOEXEC);
    let flags = oflags
        & !(OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY);
    let (rights, how) = match found {
        Found::Missing { parent_missing } if create && !tmpfile && !parent_missing => {
            (vec![FsRight::Create], How::Create)
        }
        Found::Missing { .. } => {
            let right = if create {
                FsRight::Create
            } else if acc == libc::O_WRONLY {
                FsRight::Write
            } else {
                FsRight::Read
            };
            return OpenPlan::DecideThenFail {
                right,
                errno: Errno::NOENT,
            };
        }
        Found::Object { kind, dev_tty } => {
            if create && oflags.contains(OFlags::EXCL) && !tmpfile {
                return OpenPlan::DecideThenFail {
                    right: FsRight::Create,
                    errno: Errno::EXIST,
                };
            }
            if kind == fs::FileType::Symlink && !path_only {
                return OpenPlan::Fail(Errno::LOOP);
            }
            if oflags.contains(OFlags::DIRECTORY) && kind != fs::FileType::Directory {
                return OpenPlan::Fail(Errno::NOTDIR);
            }
            let mut rights = Vec::new();
            if tmpfile {
                rights.push(FsRight::Create);
            } else if path_only {
                rights.push(FsRight::Read);
            } else {
                // Access mode 3 (`O_ACCMODE`): the kernel checks read and write
                // permission and gives a descriptor for ioctl, flock and fstat; decided
                // as read and write (never an open that asks for no right).
                if acc != libc::O_WRONLY {
                    rights.push(FsRight::Read);
                }
                if acc != libc::O_RDONLY || oflags.contains(OFlags::TRUNC) {
                    rights.push(FsRight::Write);
                }
            }
            if kind == fs::FileType::CharacterDevice && dev_tty {
                return OpenPlan::OwnTerminal {
                    flags: oflags
                        & !(OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC | OFlags::NOFOLLOW),
                    cloexec,
                };
            }
            let how = if path_only {
                How::Path
            } else if tmpfile {
                How::Tmpfile
            } else {
                How::Reopen
            };
            (rights, how)
        }
    };
    OpenPlan::Open {
        rights,
        how,
        flags,
        cloexec,
    }
}

/// Whether open file flags `flags` give at least the access `rights` need.
pub(super) fn flags_allow(flags: OFlags, rights: &[FsRight]) -> bool {
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

// ---- mkdir, mknod ---------------------------------------------------------------------

/// What `mknod`/`mkdir` makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Node {
    Dir,
    Other(fs::FileType),
}

/// Refused whatever the policy grants: a device node (a way around every path rule)
/// and a setuid or setgid file.
pub(super) fn mknod_refused(mode: u32) -> Result<(), Errno> {
    let kind = mode & libc::S_IFMT;
    if kind == libc::S_IFCHR || kind == libc::S_IFBLK {
        return Err(Errno::PERM);
    }
    if kind != libc::S_IFDIR && mode & (libc::S_ISUID | libc::S_ISGID) != 0 {
        return Err(Errno::PERM);
    }
    Ok(())
}

/// The node `mode` makes (after [`mknod_refused`]); an unknown type is `EINVAL`.
pub(super) fn mknod_node(mode: u32) -> Result<Node, Errno> {
    Ok(match mode & libc::S_IFMT {
        libc::S_IFDIR => Node::Dir,
        0 | libc::S_IFREG => Node::Other(fs::FileType::RegularFile),
        libc::S_IFIFO => Node::Other(fs::FileType::Fifo),
        libc::S_IFSOCK => Node::Other(fs::FileType::Socket),
        libc::S_IFCHR => Node::Other(fs::FileType::CharacterDevice),
        libc::S_IFBLK => Node::Other(fs::FileType::BlockDevice),
        _ => return Err(Errno::INVAL),
    })
}

// ---- rename, link, symlink ------------------------------------------------------------

/// The rights a rename needs at its new name: `create`, and `delete` when it replaces
/// an object there (the old name needs `delete`; an exchange also `create` there).
pub(super) fn rename_to_rights(replaces: bool) -> Vec<FsRight> {
    if replaces {
        vec![FsRight::Create, FsRight::Delete]
    } else {
        vec![FsRight::Create]
    }
}

/// A name to remove or move: a path that names no entry of a directory (`/`, or one
/// that resolved to its start: `.`, an empty path with a descriptor) has none, and the
/// kernel answers `EBUSY` for it. Checked after the decision on the path (a denied path
/// is denied whatever it names).
pub(super) fn entry_name(name: &[u8]) -> Result<(), Errno> {
    if name.is_empty() {
        Err(Errno::BUSY)
    } else {
        Ok(())
    }
}

/// One step of a rename after both names were resolved, named and kept from the audit
/// log: `From` is the old name, `To` the new.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum RenameStep {
    /// Settle these rights on this side's path (deny or an unanswered ask stops here).
    Decide(Side, Vec<FsRight>),
    /// Fail with this error.
    Fail(Errno),
    /// The object now at the first side may not gain rights under the second side's
    /// name (laundering, each name beneath a directory too).
    NoLaundering(Side, Side),
}

/// Which name of a rename.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Side {
    From,
    To,
}

/// The order of a rename's checks once both names are resolved and the old one exists:
/// every decision on a path comes before an error that tells whether something is there
/// (a missing parent, an exchange with nothing), so a denied rename is denied the same
/// way whatever exists; an exchange also creates at the old name and moves the new
/// name's object there. The rename is performed only when every step passed.
pub(super) fn rename_steps(
    to_exists: bool,
    to_parent_missing: bool,
    exchange: bool,
) -> Vec<RenameStep> {
    use RenameStep::*;
    let mut steps = vec![
        Decide(Side::From, vec![FsRight::Delete]),
        Decide(Side::To, rename_to_rights(to_exists)),
    ];
    if to_parent_missing {
        steps.push(Fail(Errno::NOENT));
        return steps;
    }
    if exchange {
        if !to_exists {
            steps.push(Fail(Errno::NOENT));
            return steps;
        }
        steps.push(Decide(Side::From, vec![FsRight::Create]));
        steps.push(NoLaundering(Side::To, Side::From));
    }
    steps.push(NoLaundering(Side::From, Side::To));
    steps
}

/// `link(at)`'s source: an empty path with `AT_EMPTY_PATH` links the descriptor itself
/// (an `O_TMPFILE` file, a deleted file, whatever the process holds), which would give
/// a name to an object no path was decided for: refused (`EPERM`, as the kernel answers
/// without `CAP_DAC_READ_SEARCH`). Otherwise whether the path's last link is followed
/// (`AT_SYMLINK_FOLLOW`).
pub(super) fn link_source(path: &[u8], flags: i32) -> Result<bool, Errno> {
    if path.is_empty() && flags & libc::AT_EMPTY_PATH != 0 {
        return Err(Errno::PERM);
    }
    Ok(flags & libc::AT_SYMLINK_FOLLOW != 0)
}

/// `truncate` to `len` under the agent's own file size limit (`RLIMIT_FSIZE`, `None`:
/// unlimited), not the supervisor's: beyond it, `EFBIG` (the kernel would also send
/// `SIGXFSZ` to the caller; the supervisor only answers). Checked after the decision.
pub(super) fn truncate_fits(len: u64, limit: Option<u64>) -> Result<(), Errno> {
    if limit.is_some_and(|max| len > max) {
        Err(Errno::FBIG)
    } else {
        Ok(())
    }
}

/// Whether giving the object at `from` the name `to` gives it a right (read, write) it
/// did not have: then the move or link is refused (laundering).
pub(super) fn gains_rights(engine: &Engine, from: &[u8], to: &[u8]) -> bool {
    let allowed =
        |p: &[u8]| [FsRight::Read, FsRight::Write].map(|r| engine.fs(p, r).effect == Effect::Allow);
    let (had, gets) = (allowed(from), allowed(to));
    had.iter()
        .zip(gets.iter())
        .any(|(had, gets)| !*had && *gets)
}

/// The denial recorded when moving `from` to `to` would launder rights: `read` on the
/// new name, denied by the rule that keeps the old one from being read.
pub(super) fn laundering_denial(engine: &Engine, from: &[u8], to: &[u8]) -> Check {
    Check {
        right: Right::Read,
        target: Target::Path(to.to_vec()),
        decision: Decision {
            effect: Effect::Deny,
            rule: engine.fs(from, FsRight::Read).rule,
        },
    }
}

/// Whether a link text climbs out of a name it walked into (`x/..`): the kernel follows
/// `x` first, so where that leads is not what the text says lexically, now (`x` a link
/// to a deeper directory) or later (`x` replaced by one), and no decision made on the
/// lexical reading holds. Leading `..` climb from the link's own directory, which
/// moves only by a rename that decides its links again.
pub(super) fn symlink_climbs(target: &[u8]) -> bool {
    let mut named = false;
    for c in target.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." if named => return true,
            b".." => {}
            _ => named = true,
        }
    }
    false
}

/// Where a symbolic link at `link` with text `target` points, lexically (before
/// following what exists): `None` when it cannot be normalised, or climbs out of a
/// name it walked into ([`symlink_climbs`]): refused.
pub(super) fn symlink_lexical(link: &[u8], target: &[u8]) -> Option<Vec<u8>> {
    if symlink_climbs(target) {
        return None;
    }
    let dir = &link[..link.iter().rposition(|&b| b == b'/').unwrap_or(0)];
    let joined = if target.first() == Some(&b'/') {
        target.to_vec()
    } else {
        let d: &[u8] = if dir.is_empty() { b"/" } else { dir };
        [d, b"/", target].concat()
    };
    std::str::from_utf8(&joined)
        .ok()
        .and_then(mxc_eval::normalize_path)
        .map(String::into_bytes)
}

/// A link at `link` leading to `real` makes every name below `real` appear below
/// `link`: allowed only where nothing below `link` is more protected than the same
/// place below `real` (for `create` and `write`). `Some`: the denial to record.
pub(super) fn symlink_denial(engine: &Engine, link: &[u8], real: &[u8]) -> Option<Check> {
    let ok =
        engine.fs_not_stricter_below(link, real, &[FsRight::Create, FsRight::Write]) == Some(true);
    (!ok).then(|| Check {
        right: Right::Create,
        target: Target::Path(link.to_vec()),
        decision: Decision {
            effect: Effect::Deny,
            rule: engine.fs(&[link, b"/"].concat(), FsRight::Create).rule,
        },
    })
}

// ---- stat-like calls ------------------------------------------------------------------

/// `stat`, `access`, `readlink` and the like on a resolved path: `read`, except on a
/// descriptor the process already holds (`via_fd`) and on a directory on the way to a
/// place the policy can reach (SPEC §1). `None`: continue without a decision.
pub(super) fn stat_check(
    engine: &Engine,
    path: &[u8],
    via_fd: bool,
    is_dir: bool,
) -> Option<Check> {
    if via_fd || (is_dir && engine.fs_ancestor(path)) {
        return None;
    }
    fs_check(engine, path, &[FsRight::Read])
}

/// A metadata call's `right` on its resolved object (see `meta.rs`): a directory on
/// the way to a place the policy can reach may be looked at without `read`.
pub(super) fn meta_check(
    engine: &Engine,
    path: &[u8],
    right: FsRight,
    is_dir: bool,
) -> Option<Check> {
    if right == FsRight::Read && is_dir && engine.fs_ancestor(path) {
        return None;
    }
    fs_check(engine, path, &[right])
}

// ---- execve, execveat -----------------------------------------------------------------

/// A program that does not exist: a denied one answers as denied (no existence
/// probe). `Some`: the denial to record before `ENOENT`.
pub(super) fn exec_missing(engine: &Engine, path: &[u8]) -> Option<Check> {
    let d = engine.launch(path, &[] as &[&[u8]]);
    (d.effect == Effect::Deny).then(|| Check {
        right: Right::Launch,
        target: Target::Program {
            path: path.to_vec(),
            args: Vec::new(),
            changing: false,
        },
        decision: d,
    })
}

/// Launching `path` with `argv` (its first element is the program's name, not
/// decided).
pub(super) fn exec_check(engine: &Engine, path: &[u8], argv: &[Vec<u8>]) -> Check {
    let rest: &[Vec<u8>] = argv.get(1..).unwrap_or(&[]);
    Check {
        right: Right::Launch,
        target: Target::Program {
            path: path.to_vec(),
            args: rest.to_vec(),
            changing: false,
        },
        decision: engine.launch(path, rest),
    }
}

/// Whether an allowed `execve` of `path` needs proof that nothing can change what the
/// kernel reads again: unless learning, always when Landlock's execute bound is not
/// exact or the decision depends on the arguments.
pub(super) fn exec_needs_proof(
    engine: &Engine,
    path: &[u8],
    learning: bool,
    exec_exact: bool,
) -> bool {
    !learning && (!exec_exact || engine.launch_depends_on_args(path))
}

/// The interpreter a `#!` script names (its first word), from the file's first bytes.
pub(super) fn shebang_interpreter(head: &[u8]) -> Option<Vec<u8>> {
    let line = head.strip_prefix(b"#!")?;
    let line = &line[..line.iter().position(|&b| b == b'\n').unwrap_or(line.len())];
    let word = line
        .split(|b| *b == b' ' || *b == b'\t')
        .find(|w| !w.is_empty())?;
    Some(word.to_vec())
}

// ---- connect, bind, sendto, sendmsg ---------------------------------------------------

/// What a socket address is, for `op`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum AddrPlan {
    /// Performed with exactly these bytes, no rule (`connect(AF_UNSPEC)`, an unnamed
    /// or abstract unix `bind`).
    Raw,
    /// An abstract unix address to connect or send to: only the caller can (Landlock's
    /// scope decides it for the task that connects).
    Abstract,
    /// A unix socket file: resolved (following its last link unless binding), then
    /// `right` decided on it.
    Unix {
        path: Vec<u8>,
        right: FsRight,
        follow: bool,
    },
    /// An IP address (IPv4-mapped IPv6 as IPv4).
    Inet { ip: IpAddr, port: u16 },
}

/// The address `raw` (a `sockaddr` read once) for `op`.
pub(super) fn addr_plan(op: Op, raw: &[u8]) -> Result<AddrPlan, Errno> {
    let family = raw
        .get(..2)
        .map(|b| u16::from_ne_bytes([b[0], b[1]]))
        .ok_or(Errno::INVAL)?;
    match i32::from(family) {
        // `connect(AF_UNSPEC)` dissolves an association: performed on the socket as
        // decided. In `bind` and `sendto` the kernel reads an IPv4 address from an
        // AF_UNSPEC one (`0.0.0.0:port`, `sendto` to `sin_addr`): refused.
        libc::AF_UNSPEC if op == Op::Connect => Ok(AddrPlan::Raw),
        libc::AF_UNSPEC => Err(Errno::AFNOSUPPORT),
        libc::AF_UNIX => {
            if raw.len() <= 2 {
                // Unnamed: `bind` auto-binds an abstract name; `connect` fails.
                return Ok(AddrPlan::Raw);
            }
            if raw.get(2) == Some(&0) {
                // Abstract: Landlock's scope keeps them inside the sandbox, for the task
                // that connects or sends. `bind` has no scope: performed.
                return Ok(if op == Op::Bind {
                    AddrPlan::Raw
                } else {
                    AddrPlan::Abstract
                });
            }
            let path = &raw[2..];
            let path = &path[..path.iter().position(|&b| b == 0).unwrap_or(path.len())];
            let bind = op == Op::Bind;
            Ok(AddrPlan::Unix {
                path: path.to_vec(),
                right: if bind {
                    FsRight::Create
                } else {
                    FsRight::Write
                },
                follow: !bind,
            })
        }
        libc::AF_INET | libc::AF_INET6 => {
            let (ip, port) = inet(raw).ok_or(Errno::INVAL)?;
            Ok(AddrPlan::Inet { ip, port })
        }
        _ => Err(Errno::AFNOSUPPORT),
    }
}

/// Where the supervisor stands for an IP destination.
#[derive(Clone, Copy, Debug)]
pub(super) struct NetContext {
    /// The container tier (its own network namespace).
    pub contained: bool,
    /// MXC's proxy on the host's loopback (process tier).
    pub proxy_port: Option<u16>,
}

/// How an IP destination is settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum InetPlan {
    /// No rule: performed from the caller's socket.
    Free,
    /// Loopback inside the container: free when the socket is the sandbox's own (not
    /// a host socket the supervisor put in its place) and one of the sandbox's
    /// processes listens on `(proto, port)` there; else decided by the rules on the
    /// address ([`InetPlan::Rule`]).
    FreeIfInside(Proto, u16, IpAddr),
    /// Decided by the rules on this address (the unspecified address as loopback).
    Rule(IpAddr),
}

/// The first half of an IP destination's decision (before the program is looked up).
pub(super) fn inet_plan(
    right: NetRight,
    proto: Proto,
    ip: IpAddr,
    port: u16,
    ctx: NetContext,
) -> InetPlan {
    // Unspecified reaches the local machine: decided as loopback (SPEC §4.2).
    let ip = match ip {
        IpAddr::V4(a) if right == NetRight::Connect && a.is_unspecified() => {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        }
        IpAddr::V6(a) if right == NetRight::Connect && a.is_unspecified() => {
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        }
        ip => ip,
    };
    if ctx.contained && right == NetRight::Connect && ip.is_loopback() {
        return InetPlan::FreeIfInside(proto, port, ip);
    }
    if !ctx.contained
        && right == NetRight::Connect
        && Some(port) == ctx.proxy_port
        && ip == IpAddr::V4(Ipv4Addr::LOCALHOST)
    {
        return InetPlan::Free;
    }
    if right == NetRight::Bind && port == 0 {
        // An ephemeral port: nothing anyone can connect to by name.
        return InetPlan::Free;
    }
    InetPlan::Rule(ip)
}

/// `right` to `ip:port` over `proto` by `program`, as the rules decide it.
pub(super) fn inet_check(
    engine: &Engine,
    right: NetRight,
    proto: Proto,
    ip: IpAddr,
    port: u16,
    program: &[u8],
) -> Check {
    let host = match ip {
        IpAddr::V4(a) => Host::V4(a.octets()),
        IpAddr::V6(a) => Host::V6(a.octets()),
    };
    let d = engine.net(&NetRequest {
        right,
        proto,
        host,
        port,
        program: Some(program),
    });
    Check {
        right: right.into(),
        target: Target::Socket {
            proto,
            host: ip.to_string(),
            port,
        },
        decision: d,
    }
}

/// Whether an allowed connection to `dest` is one to MXC's proxy on the host's
/// loopback (process tier): then the supervisor records who made it (for a stream
/// socket of the sandbox's own), and the proxy decides each connection it makes.
pub(super) fn to_proxy(right: NetRight, dest: Option<(IpAddr, u16)>, proxy: Option<u16>) -> bool {
    match (dest, proxy) {
        (Some((ip, port)), Some(pp)) => {
            right == NetRight::Connect && port == pp && (ip.is_loopback() || ip.is_unspecified())
        }
        _ => false,
    }
}

// ---- calls naming another task ---------------------------------------------------------

/// Whose task an id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TaskPlan {
    /// Known from the id alone: one of the sandbox's tasks or not.
    Ours(bool),
    /// A host task id (process tier): the sandbox's if it descends from the supervisor.
    HostTask(u32),
}

/// A call on task `id` (scheduling, limits): `0` never reaches the supervisor (the
/// caller itself); a negative id is no task. In the container tier the caller names
/// tasks of its own pid namespace, where only the sandbox's processes and MXC's init
/// (1) live (no agent can make another one: unshare and namespace flags are refused).
pub(super) fn task_plan(id: i32, container: bool) -> Result<TaskPlan, Errno> {
    if id <= 0 {
        return Err(Errno::SRCH);
    }
    Ok(if container {
        TaskPlan::Ours(id != 1)
    } else {
        TaskPlan::HostTask(id as u32)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"
        policy p {
          fs {
            allow read "/data/**"
            allow all "/work/**"
            deny all "/work/secret/**"
            deny create, write "**/.git/hooks/*"
            ask read "/work/asked/**"
            allow write "/run/app.sock"
            allow create "/tmp/mine.sock"
          }
          net {
            allow connect "10.0.0.1:443"
            allow connect "127.0.0.1:8080"
            allow bind "0.0.0.0:9000"
          }
          app {
            allow launch "/usr/bin/*"
            deny launch "/usr/bin/curl"
            deny launch "/usr/bin/git" args "*push*"
          }
        }
        agent a { use p }
    "#;

    fn engine() -> Engine {
        mxc_lang::compile::engine_of_source(POLICY, "a", &Default::default()).unwrap()
    }

    fn effect(c: &Option<Check>) -> Option<Effect> {
        c.as_ref().map(|c| c.decision.effect)
    }

    fn open(flags: i32, found: Found) -> OpenPlan {
        open_plan(
            &OpenRequest {
                flags,
                mode: 0o644,
                resolve: 0,
            },
            found,
        )
    }

    const FILE: Found = Found::Object {
        kind: fs::FileType::RegularFile,
        dev_tty: false,
    };

    fn rights_of(p: &OpenPlan) -> Vec<FsRight> {
        match p {
            OpenPlan::Open { rights, .. } => rights.clone(),
            other => panic!("not an open: {other:?}"),
        }
    }

    #[test]
    fn the_strongest_decision_of_the_rights_asked_is_the_one_settled() {
        let e = engine();
        let c = fs_check(&e, b"/data/x", &[FsRight::Read, FsRight::Write]).unwrap();
        assert_eq!((c.right, c.decision.effect), (Right::Write, Effect::Deny));
        assert_eq!(c.target, Target::Path(b"/data/x".to_vec()));
        let c = fs_check(&e, b"/work/asked/f", &[FsRight::Read]).unwrap();
        assert_eq!(c.decision.effect, Effect::Ask);
        assert_eq!(
            effect(&fs_check(&e, b"/work/f", &[FsRight::Read, FsRight::Write])),
            Some(Effect::Allow)
        );
        // A carve-out: everything under /work but its secret.
        assert_eq!(
            effect(&fs_check(&e, b"/work/secret/k", &[FsRight::Read])),
            Some(Effect::Deny)
        );
        assert!(fs_check(&e, b"/work/f", &[]).is_none());
        // procfs: the kernel's settings and processes' memory are never written.
        let w = [FsRight::Write];
        for p in [
            &b"/proc/sys/kernel/core_pattern"[..],
            b"/proc/sysrq-trigger",
            b"/proc",
            b"/proc/42/mem",
            b"/proc/42/task/43/mem",
            b"/proc/self/mem",
        ] {
            assert!(
                procfs_refusal(p, &w).is_some(),
                "{}",
                String::from_utf8_lossy(p)
            );
            assert!(procfs_refusal(p, &[FsRight::Read]).is_none());
        }
        for p in [
            &b"/proc/42/task/43/comm"[..],
            b"/proc/42/oom_score_adj",
            b"/procfs/x",
            b"/work/proc/sys",
        ] {
            assert!(
                procfs_refusal(p, &w).is_none(),
                "{}",
                String::from_utf8_lossy(p)
            );
        }
    }

    /// sysfs: never changed, whatever the rights; read stays the policy's.
    #[test]
    fn sysfs_is_never_changed() {
        for p in [
            &b"/sys"[..],
            b"/sys/power/state",
            b"/sys/kernel/mm/ksm/run",
            b"/sys/fs/cgroup/x/cgroup.procs",
        ] {
            for r in [FsRight::Write, FsRight::Create, FsRight::Delete] {
                assert!(
                    sysfs_refusal(p, &[FsRight::Read, r]).is_some(),
                    "{}",
                    String::from_utf8_lossy(p)
                );
            }
            assert!(sysfs_refusal(p, &[FsRight::Read]).is_none());
        }
        for p in [&b"/system/x"[..], b"/sysfs", b"/work/sys/power/state"] {
            assert!(
                sysfs_refusal(p, &[FsRight::Write]).is_none(),
                "{}",
                String::from_utf8_lossy(p)
            );
        }
    }

    /// A write flag on a read-only grant asks for `write` (and is denied); O_TRUNC on a
    /// read-only open is a write; O_CREAT of a missing file is `create`.
    #[test]
    fn open_flags_become_the_rights_they_use() {
        let e = engine();
        for (flags, want) in [
            (libc::O_RDONLY, vec![FsRight::Read]),
            (libc::O_WRONLY, vec![FsRight::Write]),
            (libc::O_RDWR, vec![FsRight::Read, FsRight::Write]),
            (
                libc::O_RDONLY | libc::O_TRUNC,
                vec![FsRight::Read, FsRight::Write],
            ),
            (libc::O_PATH, vec![FsRight::Read]),
            (libc::O_WRONLY | libc::O_APPEND, vec![FsRight::Write]),
            // Access mode 3: checked by the kernel as read and write.
            (libc::O_ACCMODE, vec![FsRight::Read, FsRight::Write]),
            (
                libc::O_ACCMODE | libc::O_TRUNC,
                vec![FsRight::Read, FsRight::Write],
            ),
        ] {
            assert_eq!(rights_of(&open(flags, FILE)), want, "flags {flags:#o}");
        }
        assert_eq!(
            effect(&fs_check(
                &e,
                b"/work/secret/key",
                &rights_of(&open(libc::O_ACCMODE, FILE))
            )),
            Some(Effect::Deny),
            "access mode 3 on a path with no right"
        );
        let rw = rights_of(&open(libc::O_RDWR, FILE));
        assert_eq!(
            effect(&fs_check(&e, b"/data/x", &rw)),
            Some(Effect::Deny),
            "read-write on a read-only grant"
        );
        let trunc = rights_of(&open(libc::O_RDONLY | libc::O_TRUNC, FILE));
        assert_eq!(
            effect(&fs_check(&e, b"/data/x", &trunc)),
            Some(Effect::Deny)
        );
        assert_eq!(
            effect(&fs_check(
                &e,
                b"/data/x",
                &rights_of(&open(libc::O_RDONLY, FILE))
            )),
            Some(Effect::Allow)
        );
        // Creating a missing file: `create`, performed as an exclusive creation.
        let missing = Found::Missing {
            parent_missing: false,
        };
        let p = open(libc::O_WRONLY | libc::O_CREAT, missing);
        let OpenPlan::Open {
            rights, how, flags, ..
        } = &p
        else {
            panic!("{p:?}")
        };
        assert_eq!((rights.clone(), *how), (vec![FsRight::Create], How::Create));
        assert!(
            !flags.contains(OFlags::CREATE),
            "the performer adds CREATE|EXCL itself"
        );
        assert_eq!(
            effect(&fs_check(&e, b"/data/new", rights)),
            Some(Effect::Deny)
        );
        assert_eq!(
            effect(&fs_check(&e, b"/work/.git/hooks/pre-commit", rights)),
            Some(Effect::Deny),
            "a git hook is never created"
        );
    }

    /// A missing or existing object answers as the policy decides before the error
    /// that would tell it apart (no existence probe).
    #[test]
    fn a_denied_path_is_denied_whether_or_not_it_exists() {
        let missing = Found::Missing {
            parent_missing: false,
        };
        assert_eq!(
            open(libc::O_RDONLY, missing),
            OpenPlan::DecideThenFail {
                right: FsRight::Read,
                errno: Errno::NOENT
            }
        );
        assert_eq!(
            open(
                libc::O_WRONLY,
                Found::Missing {
                    parent_missing: true
                }
            ),
            OpenPlan::DecideThenFail {
                right: FsRight::Write,
                errno: Errno::NOENT
            }
        );
        assert_eq!(
            open(libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, FILE),
            OpenPlan::DecideThenFail {
                right: FsRight::Create,
                errno: Errno::EXIST
            }
        );
    }

    #[test]
    fn open_refusals_come_before_any_lookup() {
        let req = |flags, mode, resolve| OpenRequest {
            flags,
            mode,
            resolve,
        };
        assert_eq!(open_lookup(&req(0, 0, 1)), Err(Errno::NOSYS));
        assert_eq!(
            open_lookup(&req(libc::O_CREAT | libc::O_WRONLY, 0o4755, 0)),
            Err(Errno::PERM),
            "setuid file"
        );
        assert_eq!(
            open_lookup(&req(libc::O_TMPFILE | libc::O_RDWR, 0o2755, 0)),
            Err(Errno::PERM),
            "setgid tmpfile"
        );
        assert_eq!(open_lookup(&req(libc::O_RDONLY, 0, 0)), Ok(true));
        assert_eq!(open_lookup(&req(libc::O_NOFOLLOW, 0, 0)), Ok(false));
        // O_CREAT|O_EXCL never follows a link planted at the name.
        assert_eq!(
            open_lookup(&req(
                libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY,
                0o600,
                0
            )),
            Ok(false)
        );
        // A link reached without O_PATH, and O_DIRECTORY on a file.
        let link = Found::Object {
            kind: fs::FileType::Symlink,
            dev_tty: false,
        };
        assert_eq!(open(libc::O_RDONLY, link), OpenPlan::Fail(Errno::LOOP));
        assert_eq!(
            open(libc::O_RDONLY | libc::O_DIRECTORY, FILE),
            OpenPlan::Fail(Errno::NOTDIR)
        );
        // /dev/tty is the sandbox's own terminal, never the supervisor's.
        let tty = Found::Object {
            kind: fs::FileType::CharacterDevice,
            dev_tty: true,
        };
        assert!(matches!(
            open(libc::O_RDWR | libc::O_CLOEXEC, tty),
            OpenPlan::OwnTerminal { cloexec: true, .. }
        ));
    }

    #[test]
    fn a_reopened_descriptor_lends_no_more_access_than_it_has() {
        let ro = OFlags::from_bits_retain(libc::O_RDONLY as u32);
        let wo = OFlags::from_bits_retain(libc::O_WRONLY as u32);
        let path = OFlags::PATH;
        assert!(flags_allow(ro, &[FsRight::Read]));
        assert!(!flags_allow(ro, &[FsRight::Read, FsRight::Write]));
        assert!(flags_allow(wo, &[FsRight::Write]));
        assert!(!flags_allow(path, &[FsRight::Read]), "O_PATH reads nothing");
        assert!(!flags_allow(OFlags::RDWR, &[FsRight::Create]));
    }

    #[test]
    fn device_nodes_and_setuid_files_are_never_made() {
        assert_eq!(mknod_refused(libc::S_IFCHR | 0o666), Err(Errno::PERM));
        assert_eq!(mknod_refused(libc::S_IFBLK | 0o666), Err(Errno::PERM));
        assert_eq!(mknod_refused(libc::S_IFREG | 0o4755), Err(Errno::PERM));
        assert_eq!(
            mknod_refused(libc::S_IFDIR | 0o2755),
            Ok(()),
            "setgid directory"
        );
        assert_eq!(mknod_refused(libc::S_IFIFO | 0o600), Ok(()));
        assert_eq!(mknod_node(libc::S_IFDIR | 0o755), Ok(Node::Dir));
        assert_eq!(
            mknod_node(0o600),
            Ok(Node::Other(fs::FileType::RegularFile))
        );
        assert_eq!(mknod_node(0o170000), Err(Errno::INVAL));
    }

    /// Removing or moving needs a name; linking a bare descriptor is refused, a path
    /// is followed only with `AT_SYMLINK_FOLLOW`; truncating past the agent's own size
    /// limit fails.
    #[test]
    fn names_links_and_sizes() {
        assert_eq!(entry_name(b""), Err(Errno::BUSY));
        assert_eq!(entry_name(b"x"), Ok(()));
        assert_eq!(link_source(b"", libc::AT_EMPTY_PATH), Err(Errno::PERM));
        assert_eq!(
            link_source(b"", libc::AT_EMPTY_PATH | libc::AT_SYMLINK_FOLLOW),
            Err(Errno::PERM)
        );
        assert_eq!(link_source(b"a", libc::AT_EMPTY_PATH), Ok(false));
        assert_eq!(link_source(b"a", libc::AT_SYMLINK_FOLLOW), Ok(true));
        assert_eq!(
            link_source(b"", 0),
            Ok(false),
            "the resolver answers ENOENT"
        );
        assert_eq!(truncate_fits(10, None), Ok(()));
        assert_eq!(truncate_fits(10, Some(10)), Ok(()));
        assert_eq!(truncate_fits(11, Some(10)), Err(Errno::FBIG));
        assert_eq!(truncate_fits(0, Some(0)), Ok(()));
    }

    /// A rename decides both names before any error that tells what exists, and
    /// checks laundering last (an exchange in both directions).
    #[test]
    fn a_rename_decides_before_it_tells_what_exists() {
        use RenameStep::*;
        let plain = rename_steps(false, false, false);
        assert_eq!(
            plain,
            vec![
                Decide(Side::From, vec![FsRight::Delete]),
                Decide(Side::To, vec![FsRight::Create]),
                NoLaundering(Side::From, Side::To),
            ]
        );
        let replacing = rename_steps(true, false, false);
        assert_eq!(
            replacing[1],
            Decide(Side::To, vec![FsRight::Create, FsRight::Delete])
        );
        for (to_exists, parent_missing, exchange) in [
            (false, true, false),
            (false, false, true),
            (true, true, true),
        ] {
            let steps = rename_steps(to_exists, parent_missing, exchange);
            let fail = steps
                .iter()
                .position(|s| matches!(s, Fail(_)))
                .expect("fails");
            assert_eq!(fail, steps.len() - 1, "nothing after the failure");
            assert!(
                steps[..fail]
                    .iter()
                    .filter(|s| matches!(s, Decide(..)))
                    .count()
                    >= 2,
                "both names decided first: {steps:?}"
            );
            assert_eq!(steps[fail], Fail(Errno::NOENT));
        }
        let exchange = rename_steps(true, false, true);
        assert_eq!(
            &exchange[2..],
            &[
                Decide(Side::From, vec![FsRight::Create]),
                NoLaundering(Side::To, Side::From),
                NoLaundering(Side::From, Side::To),
            ]
        );
    }

    /// Moving a file from a place it could not be read to one where it can be is
    /// laundering; moving it to an equal or stricter place is not.
    #[test]
    fn a_move_may_not_give_a_file_rights() {
        let e = engine();
        assert!(gains_rights(&e, b"/work/secret/key", b"/work/key"));
        assert!(gains_rights(&e, b"/data/x", b"/work/x"), "write gained");
        assert!(!gains_rights(&e, b"/work/x", b"/work/secret/x"));
        assert!(!gains_rights(&e, b"/work/a", b"/work/b"));
        let d = laundering_denial(&e, b"/work/secret/key", b"/work/key");
        assert_eq!(d.decision.effect, Effect::Deny);
        assert!(
            d.decision.rule.is_some(),
            "named by the rule that protects the source"
        );
        assert_eq!(d.target, Target::Path(b"/work/key".to_vec()));
    }

    /// A link into a more protected place is refused (git's hooks), a link between
    /// equals is not; the target is joined to the link's directory and normalised.
    #[test]
    fn a_symlink_may_not_expose_a_stricter_place() {
        let e = engine();
        assert_eq!(
            symlink_lexical(b"/work/a/l", b"../b/./c").as_deref(),
            Some(&b"/work/b/c"[..])
        );
        assert_eq!(
            symlink_lexical(b"/work/l", b"/etc/passwd").as_deref(),
            Some(&b"/etc/passwd"[..])
        );
        assert_eq!(symlink_lexical(b"/l", b"x").as_deref(), Some(&b"/x"[..]));
        // `..` after a name: the kernel climbs from where the name leads (a link to a
        // deeper directory), not from the name: no lexical reading is trusted.
        for climbs in [
            &b"x/../../tpl"[..],
            b"./x/..",
            b"../a/../b",
            b"/work/x/../tpl",
            b"x//./../y",
        ] {
            assert!(
                symlink_climbs(climbs),
                "{}",
                String::from_utf8_lossy(climbs)
            );
            assert_eq!(symlink_lexical(b"/work/.git/hooks", climbs), None);
        }
        for plain in [&b"../../lib/x"[..], b"./../x", b"/usr/lib", b"a/b/c", b".."] {
            assert!(!symlink_climbs(plain), "{}", String::from_utf8_lossy(plain));
        }
        // `.git/hooks` made a link to a writable directory: every hook below it
        // would be writable through the link's target.
        let d = symlink_denial(&e, b"/work/.git/hooks", b"/work/tpl").expect("refused");
        assert_eq!((d.right, d.decision.effect), (Right::Create, Effect::Deny));
        assert!(symlink_denial(&e, b"/work/l", b"/work/other").is_none());
    }

    #[test]
    fn metadata_reads_are_read_except_on_the_way_to_a_reachable_place() {
        let e = engine();
        assert_eq!(
            effect(&stat_check(&e, b"/work/secret/k", false, false)),
            Some(Effect::Deny)
        );
        assert!(
            stat_check(&e, b"/work/secret/k", true, false).is_none(),
            "held fd"
        );
        // `/` is on the way to /work: a directory there may be looked at.
        assert!(stat_check(&e, b"/", false, true).is_none());
        assert_eq!(
            effect(&stat_check(&e, b"/", false, false)),
            Some(Effect::Deny)
        );
        assert_eq!(
            effect(&stat_check(&e, b"/etc/shadow", false, false)),
            Some(Effect::Deny)
        );
        assert!(meta_check(&e, b"/", FsRight::Read, true).is_none());
        assert_eq!(
            effect(&meta_check(&e, b"/", FsRight::Write, true)),
            Some(Effect::Deny),
            "a change is never free"
        );
        assert_eq!(
            effect(&meta_check(&e, b"/data/x", FsRight::Write, false)),
            Some(Effect::Deny)
        );
    }

    #[test]
    fn programs_are_decided_with_their_arguments() {
        let e = engine();
        let argv = |a: &[&str]| a.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();
        let c = exec_check(&e, b"/usr/bin/ls", &argv(&["ls", "-l"]));
        assert_eq!(c.decision.effect, Effect::Allow);
        assert_eq!(
            c.target,
            Target::Program {
                path: b"/usr/bin/ls".to_vec(),
                args: vec![b"-l".to_vec()],
                changing: false
            },
            "argv[0] is not decided"
        );
        assert_eq!(
            exec_check(&e, b"/usr/bin/curl", &argv(&["curl"]))
                .decision
                .effect,
            Effect::Deny
        );
        assert_eq!(
            exec_check(&e, b"/usr/bin/git", &argv(&["git", "push"]))
                .decision
                .effect,
            Effect::Deny
        );
        assert_eq!(
            exec_check(&e, b"/usr/bin/git", &argv(&["git", "status"]))
                .decision
                .effect,
            Effect::Allow
        );
        // argv[0] cannot smuggle a denied word past the decision.
        assert_eq!(
            exec_check(&e, b"/usr/bin/git", &argv(&["push", "status"]))
                .decision
                .effect,
            Effect::Allow
        );
        assert_eq!(
            exec_check(&e, b"/opt/x", &argv(&["x"])).decision.effect,
            Effect::Deny
        );
        // Missing programs: a denied one is recorded as denied.
        assert!(exec_missing(&e, b"/usr/bin/nothere").is_none());
        assert_eq!(
            effect(&exec_missing(&e, b"/opt/nothere")),
            Some(Effect::Deny)
        );
        // A race proof is needed when the decision depends on the arguments.
        assert!(exec_needs_proof(&e, b"/usr/bin/git", false, true));
        assert!(!exec_needs_proof(&e, b"/usr/bin/ls", false, true));
        assert!(exec_needs_proof(&e, b"/usr/bin/ls", false, false));
        assert!(
            !exec_needs_proof(&e, b"/usr/bin/git", true, false),
            "learning"
        );
    }

    /// A script runs its interpreter without a second execve: the interpreter is
    /// what the `#!` line names (and, denied, launches nothing: Landlock's execute
    /// bound holds only allowed programs; `--learn` records it).
    #[test]
    fn a_scripts_interpreter_is_its_first_word() {
        let e = engine();
        let i = shebang_interpreter(b"#! /usr/bin/curl -s\nrest").unwrap();
        assert_eq!(i, b"/usr/bin/curl");
        assert_eq!(
            exec_check(&e, &i, std::slice::from_ref(&i)).decision.effect,
            Effect::Deny
        );
        assert_eq!(
            shebang_interpreter(b"#!/bin/sh").as_deref(),
            Some(&b"/bin/sh"[..])
        );
        assert_eq!(shebang_interpreter(b"#!\t\n"), None);
        assert_eq!(shebang_interpreter(b"\x7fELF"), None);
    }

    fn sockaddr_in(ip: [u8; 4], port: u16) -> Vec<u8> {
        let mut b = (libc::AF_INET as u16).to_ne_bytes().to_vec();
        b.extend_from_slice(&port.to_be_bytes());
        b.extend_from_slice(&ip);
        b.extend_from_slice(&[0; 8]);
        b
    }

    fn sockaddr_in6(ip: std::net::Ipv6Addr, port: u16) -> Vec<u8> {
        let mut b = (libc::AF_INET6 as u16).to_ne_bytes().to_vec();
        b.extend_from_slice(&port.to_be_bytes());
        b.extend_from_slice(&[0; 4]);
        b.extend_from_slice(&ip.octets());
        b.extend_from_slice(&[0; 4]);
        b
    }

    fn sockaddr_un(path: &[u8]) -> Vec<u8> {
        let mut b = (libc::AF_UNIX as u16).to_ne_bytes().to_vec();
        b.extend_from_slice(path);
        b.push(0);
        b
    }

    #[test]
    fn addresses_are_typed_before_they_are_decided() {
        assert_eq!(
            addr_plan(Op::Connect, &sockaddr_in([10, 0, 0, 1], 443)),
            Ok(AddrPlan::Inet {
                ip: "10.0.0.1".parse().unwrap(),
                port: 443
            })
        );
        // IPv4-mapped IPv6 is decided by the IPv4 rules.
        let mapped = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(
            addr_plan(Op::Connect, &sockaddr_in6(mapped, 443)),
            Ok(AddrPlan::Inet {
                ip: "10.0.0.1".parse().unwrap(),
                port: 443
            })
        );
        let unspec = (libc::AF_UNSPEC as u16).to_ne_bytes().to_vec();
        assert_eq!(addr_plan(Op::Connect, &unspec), Ok(AddrPlan::Raw));
        assert_eq!(addr_plan(Op::Bind, &unspec), Err(Errno::AFNOSUPPORT));
        assert_eq!(addr_plan(Op::Send, &unspec), Err(Errno::AFNOSUPPORT));
        assert_eq!(addr_plan(Op::Connect, &[1]), Err(Errno::INVAL));
        let netlink = (libc::AF_NETLINK as u16).to_ne_bytes().to_vec();
        assert_eq!(addr_plan(Op::Connect, &netlink), Err(Errno::AFNOSUPPORT));
        assert_eq!(
            addr_plan(Op::Connect, &sockaddr_in([10, 0, 0, 1], 443)[..6]),
            Err(Errno::INVAL),
            "truncated"
        );
        // Unix: a file is `write` to connect (following links), `create` to bind (not).
        assert_eq!(
            addr_plan(Op::Connect, &sockaddr_un(b"/run/docker.sock")),
            Ok(AddrPlan::Unix {
                path: b"/run/docker.sock".to_vec(),
                right: FsRight::Write,
                follow: true
            })
        );
        assert_eq!(
            addr_plan(Op::Bind, &sockaddr_un(b"/tmp/mine.sock")),
            Ok(AddrPlan::Unix {
                path: b"/tmp/mine.sock".to_vec(),
                right: FsRight::Create,
                follow: false
            })
        );
        assert_eq!(
            addr_plan(Op::Send, &sockaddr_un(b"\0abstract")),
            Ok(AddrPlan::Abstract)
        );
        assert_eq!(
            addr_plan(Op::Bind, &sockaddr_un(b"\0abstract")),
            Ok(AddrPlan::Raw)
        );
        let unnamed = (libc::AF_UNIX as u16).to_ne_bytes().to_vec();
        assert_eq!(addr_plan(Op::Connect, &unnamed), Ok(AddrPlan::Raw));
    }

    #[test]
    fn unix_socket_files_are_decided_as_files() {
        let e = engine();
        let plan = |op, p: &[u8]| match addr_plan(op, &sockaddr_un(p)).unwrap() {
            AddrPlan::Unix { path, right, .. } => fs_check(&e, &path, &[right]),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            effect(&plan(Op::Connect, b"/run/docker.sock")),
            Some(Effect::Deny)
        );
        assert_eq!(
            effect(&plan(Op::Connect, b"/run/app.sock")),
            Some(Effect::Allow)
        );
        assert_eq!(
            effect(&plan(Op::Bind, b"/tmp/mine.sock")),
            Some(Effect::Allow)
        );
        assert_eq!(
            effect(&plan(Op::Bind, b"/run/app.sock")),
            Some(Effect::Deny)
        );
    }

    #[test]
    fn ip_destinations_are_decided_by_the_rules_unless_free() {
        let e = engine();
        let process = NetContext {
            contained: false,
            proxy_port: Some(3128),
        };
        let container = NetContext {
            contained: true,
            proxy_port: None,
        };
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let (c, b) = (NetRight::Connect, NetRight::Bind);
        // MXC's proxy on the host's loopback needs no rule; another port does.
        assert_eq!(
            inet_plan(c, Proto::Tcp, ip("127.0.0.1"), 3128, process),
            InetPlan::Free
        );
        assert_eq!(
            inet_plan(c, Proto::Tcp, ip("127.0.0.1"), 3129, process),
            InetPlan::Rule(ip("127.0.0.1"))
        );
        // The unspecified address reaches the local machine: decided as loopback.
        assert_eq!(
            inet_plan(c, Proto::Tcp, ip("0.0.0.0"), 22, process),
            InetPlan::Rule(ip("127.0.0.1"))
        );
        assert_eq!(
            inet_plan(c, Proto::Tcp, ip("::"), 22, process),
            InetPlan::Rule(ip("::1"))
        );
        assert_eq!(
            inet_plan(c, Proto::Tcp, ip("0.0.0.0"), 3128, process),
            InetPlan::Free,
            "0.0.0.0 is the proxy's loopback too"
        );
        // Binding an ephemeral port names nothing; a named port is decided.
        assert_eq!(
            inet_plan(b, Proto::Tcp, ip("0.0.0.0"), 0, process),
            InetPlan::Free
        );
        assert_eq!(
            inet_plan(b, Proto::Tcp, ip("0.0.0.0"), 9000, process),
            InetPlan::Rule(ip("0.0.0.0"))
        );
        // The container's own loopback: free only if the sandbox listens there.
        assert_eq!(
            inet_plan(c, Proto::Udp, ip("127.0.0.1"), 53, container),
            InetPlan::FreeIfInside(Proto::Udp, 53, ip("127.0.0.1"))
        );
        assert_eq!(
            inet_plan(c, Proto::Tcp, ip("10.0.0.1"), 443, container),
            InetPlan::Rule(ip("10.0.0.1"))
        );
        let check = |right, addr: &str, port| {
            inet_check(&e, right, Proto::Tcp, ip(addr), port, b"/usr/bin/x")
                .decision
                .effect
        };
        assert_eq!(check(c, "10.0.0.1", 443), Effect::Allow);
        assert_eq!(check(c, "10.0.0.1", 80), Effect::Deny, "a denied port");
        assert_eq!(check(c, "10.0.0.2", 443), Effect::Deny);
        assert_eq!(check(c, "127.0.0.1", 22), Effect::Deny);
        assert_eq!(check(b, "0.0.0.0", 9000), Effect::Allow);
        let t = inet_check(&e, c, Proto::Tcp, ip("10.0.0.1"), 443, b"/usr/bin/x").target;
        assert_eq!(
            t,
            Target::Socket {
                proto: Proto::Tcp,
                host: "10.0.0.1".into(),
                port: 443
            }
        );
    }

    #[test]
    fn only_the_proxys_loopback_port_is_the_proxy() {
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let c = NetRight::Connect;
        assert!(to_proxy(c, Some((ip("127.0.0.1"), 3128)), Some(3128)));
        assert!(to_proxy(c, Some((ip("0.0.0.0"), 3128)), Some(3128)));
        assert!(to_proxy(c, Some((ip("::1"), 3128)), Some(3128)));
        assert!(!to_proxy(c, Some((ip("10.0.0.1"), 3128)), Some(3128)));
        assert!(!to_proxy(c, Some((ip("127.0.0.1"), 3129)), Some(3128)));
        assert!(!to_proxy(
            NetRight::Bind,
            Some((ip("127.0.0.1"), 3128)),
            Some(3128)
        ));
        assert!(
            !to_proxy(c, Some((ip("127.0.0.1"), 3128)), None),
            "container tier"
        );
        assert!(!to_proxy(c, None, Some(3128)));
    }

    /// Another task is reached only when it is the sandbox's: never MXC's init in the
    /// container (pid 1 there), never a process group or "every process" (<= 0).
    #[test]
    fn only_the_sandboxs_own_tasks_may_be_named() {
        assert_eq!(task_plan(0, false), Err(Errno::SRCH));
        assert_eq!(task_plan(-1, true), Err(Errno::SRCH));
        assert_eq!(task_plan(1, true), Ok(TaskPlan::Ours(false)));
        assert_eq!(task_plan(2, true), Ok(TaskPlan::Ours(true)));
        assert_eq!(task_plan(1, false), Ok(TaskPlan::HostTask(1)));
        assert_eq!(task_plan(4242, false), Ok(TaskPlan::HostTask(4242)));
    }

    /// Removing, renaming and linking are `delete` where a name goes and `create`
    /// where one comes (and `delete` of what a rename replaces).
    #[test]
    fn names_made_and_removed_are_create_and_delete() {
        let e = engine();
        let del = |p: &[u8]| effect(&fs_check(&e, p, &[FsRight::Delete]));
        assert_eq!(del(b"/work/f"), Some(Effect::Allow));
        assert_eq!(del(b"/work/secret/f"), Some(Effect::Deny), "carve-out");
        assert_eq!(del(b"/data/f"), Some(Effect::Deny), "read-only grant");
        assert_eq!(rename_to_rights(false), vec![FsRight::Create]);
        assert_eq!(
            rename_to_rights(true),
            vec![FsRight::Create, FsRight::Delete]
        );
        // Replacing a file one may create but not delete is refused.
        assert_eq!(
            effect(&fs_check(&e, b"/tmp/mine.sock", &rename_to_rights(false))),
            Some(Effect::Allow)
        );
        assert_eq!(
            effect(&fs_check(&e, b"/tmp/mine.sock", &rename_to_rights(true))),
            Some(Effect::Deny)
        );
        // A hook is never made, by rename or link either.
        assert_eq!(
            effect(&fs_check(
                &e,
                b"/work/.git/hooks/post-checkout",
                &rename_to_rights(false)
            )),
            Some(Effect::Deny)
        );
    }
}

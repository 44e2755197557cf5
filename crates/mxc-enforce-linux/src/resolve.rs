//! Path resolution on behalf of a sandboxed process, one component at a time, so that
//! the supervisor decides on (and then uses) the object the process would reach — not a
//! string it could change after the check.
//!
//! What it handles: relative paths (from the process's cwd or a dirfd, taken from
//! `/proc/PID/`), `..` (physical, as the kernel does), symlinks (at most 40), and
//! procfs: `/proc/self` and `/proc/thread-self` mean the *sandboxed* process, never the
//! supervisor; magic links (`/proc/PID/fd/N`, `cwd`, `root`, `exe`) are followed to the
//! object they name; and anything of procfs that belongs to a process outside the
//! sandbox is refused, whatever the route that reached it (absolute, relative from a cwd
//! or directory descriptor inside `/proc/PID`, `..` from `/proc/PID/task/TID`, a magic
//! link to a procfs directory or file). The process is found from the object reached
//! (its directory's place below the procfs root), never from the path's spelling.

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{self, Mode, OFlags};
use rustix::io::Errno;
use std::collections::VecDeque;

const MAX_SYMLINKS: usize = 40;
const PROC_ROOT_INO: u64 = 1;

/// The outcome of resolving one path.
#[derive(Debug)]
pub struct Resolved {
    /// The directory the last component is in (`None` when the fast path reached an
    /// existing object, which callers that follow the last symlink never need).
    pub parent: Option<OwnedFd>,
    /// The last component (empty when the path named a directory through `..` or `/`).
    pub name: Vec<u8>,
    /// The object, opened `O_PATH`, when it exists.
    pub object: Option<OwnedFd>,
    /// The object's absolute path (or the path it would have), as the policy sees it.
    pub path: Vec<u8>,
    /// Reached through `/proc/PID/fd/N` of a sandboxed process: `(PID, N)`.
    pub via_fd: Option<(u32, u32)>,
    /// A directory on the way does not exist (`name` then holds the rest of the path):
    /// the path can be decided, but nothing can be made there.
    pub parent_missing: bool,
    /// The object's `fstat`, when the resolution already took it (the fast path).
    pub stat: Option<fs::Stat>,
}

/// Who is asking, for `/proc/self` and relative paths.
#[derive(Clone, Copy, Debug)]
pub struct Asker {
    pub tid: u32,
    /// The thread group, when already known (read from `/proc/TID/status` otherwise).
    pub tgid: Option<u32>,
}

impl Asker {
    /// (thread group, thread) as the asker's own pid namespace numbers them: what its
    /// `/proc/self` and `/proc/thread-self` mean in a container.
    fn ns_ids(&self) -> Option<(u32, u32)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.tid)).ok()?;
        let last = |key: &str| -> Option<u32> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().last())
                .and_then(|v| v.parse().ok())
        };
        Some((last("NStgid:")?, last("NSpid:")?))
    }

    pub fn tgid(&self) -> u32 {
        self.tgid.unwrap_or_else(|| {
            std::fs::read_to_string(format!("/proc/{}/status", self.tid))
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find_map(|l| l.strip_prefix("Tgid:"))
                        .and_then(|v| v.trim().parse().ok())
                })
                .unwrap_or(self.tid)
        })
    }
}

/// The view of the filesystem a path is resolved in.
pub struct View<'a> {
    /// The sandbox's root (the host's `/` in the process tier; the root of its mount
    /// namespace, `/proc/PID/root`, in the container tier: the walk never leaves it, as
    /// `..` at a namespace's root stays there). Fixed for a run: `chroot`, `pivot_root`
    /// and new mount namespaces are refused inside.
    pub root: BorrowedFd<'a>,
    /// The sandbox has a root and a pid namespace of its own (the container tier):
    /// its procfs numbers processes its own way.
    pub container: bool,
    /// The device of the procfs the sandbox sees.
    pub proc_dev: u64,
    /// Whether `/proc/PID` (host pid) may be entered (the process tier's procfs shows
    /// every process of the host).
    pub in_sandbox: &'a dyn Fn(u32) -> bool,
    /// The host pid of a pid of the sandbox's namespace (container tier).
    pub host_pid: &'a dyn Fn(u32) -> Option<u32>,
    /// Whether the directory at this path may be traversed (a name looked up in it):
    /// it may be read, or lies on the way to a place the policy can reach (SPEC §1).
    /// Asked before each lookup outside procfs, so a name's existence below a place
    /// the agent may not read is never revealed (a denied name and a missing one
    /// answer alike: `EACCES`).
    pub traverse: &'a dyn Fn(&[u8]) -> bool,
}

/// Where a relative path starts.
#[derive(Clone, Copy, Debug)]
pub enum Base {
    Cwd,
    Fd(i32),
}

fn opath(dir: BorrowedFd<'_>, name: &[u8], follow: bool) -> Result<OwnedFd, Errno> {
    let mut flags = OFlags::PATH | OFlags::CLOEXEC;
    if !follow {
        flags |= OFlags::NOFOLLOW;
    }
    fs::openat(dir, name, flags, Mode::empty())
}

/// The absolute path of an open object, as `/proc/self/fd` shows it. Longer than the
/// kernel shows (`PATH_MAX`): a directory's path is rebuilt by walking up `..`, finding
/// each directory's name in its parent, until a parent's path is short enough; any
/// other object's path must be made from its directory's (the walk keeps it).
pub fn fd_path(fd: BorrowedFd<'_>) -> Result<Vec<u8>, Errno> {
    match readlink_fd(fd) {
        Err(Errno::NAMETOOLONG) => long_path(fd),
        r => r,
    }
}

fn readlink_fd(fd: BorrowedFd<'_>) -> Result<Vec<u8>, Errno> {
    let link = format!("/proc/self/fd/{}", rustix::fd::AsRawFd::as_raw_fd(&fd));
    // An object without a name shows as `pipe:[…]`, `anon_inode:…`: no rule matches it.
    Ok(fs::readlink(link, Vec::new())?.into_bytes())
}

/// How many levels [`long_path`] walks up at most (a path of 1 MiB of one-byte names).
const MAX_UP: usize = 1 << 19;

fn long_path(fd: BorrowedFd<'_>) -> Result<Vec<u8>, Errno> {
    let mut st = fs::fstat(fd)?;
    if fs::FileType::from_raw_mode(st.st_mode) != fs::FileType::Directory {
        return Err(Errno::NAMETOOLONG);
    }
    let mut cur = fd.try_clone_to_owned().map_err(|_| Errno::NOMEM)?;
    let mut names: Vec<Vec<u8>> = Vec::new();
    for _ in 0..MAX_UP {
        let parent = opath(cur.as_fd(), b"..", false)?;
        let pst = fs::fstat(&parent)?;
        if (pst.st_dev, pst.st_ino) == (st.st_dev, st.st_ino) {
            // The root, yet its path was too long: nothing sensible to return.
            return Err(Errno::NAMETOOLONG);
        }
        names.push(name_in(parent.as_fd(), &st)?);
        match readlink_fd(parent.as_fd()) {
            Ok(mut p) => {
                for n in names.iter().rev() {
                    if p != b"/" {
                        p.push(b'/');
                    }
                    p.extend_from_slice(n);
                }
                return Ok(p);
            }
            Err(Errno::NAMETOOLONG) => {
                cur = parent;
                st = pst;
            }
            Err(e) => return Err(e),
        }
    }
    Err(Errno::NAMETOOLONG)
}

/// The name under which `dir` holds the object `st` describes (a mount point's entry
/// shows the covered inode's number, so a name whose entry does not match is stat'ed).
fn name_in(dir: BorrowedFd<'_>, st: &fs::Stat) -> Result<Vec<u8>, Errno> {
    let listing = fs::openat(
        dir,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut d = fs::Dir::read_from(&listing)?;
    let mut others = Vec::new();
    while let Some(e) = d.read() {
        let e = e?;
        let name = e.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        if e.ino() == st.st_ino {
            if let Ok(s) = fs::statat(dir, name, fs::AtFlags::SYMLINK_NOFOLLOW) {
                if (s.st_dev, s.st_ino) == (st.st_dev, st.st_ino) {
                    return Ok(name.to_vec());
                }
            }
        } else if e.file_type() == fs::FileType::Directory {
            others.push(name.to_vec());
        }
    }
    for name in others {
        if let Ok(s) = fs::statat(dir, &name[..], fs::AtFlags::SYMLINK_NOFOLLOW) {
            if (s.st_dev, s.st_ino) == (st.st_dev, st.st_ino) {
                return Ok(name);
            }
        }
    }
    Err(Errno::NOENT)
}

/// `start` followed by `rel`'s names (empty ones and `.` left out), for a path the
/// kernel resolved without symlinks and without `..`.
fn lexical(start: &[u8], rel: &[u8]) -> Vec<u8> {
    let mut p = start.to_vec();
    for c in rel.split(|&b| b == b'/') {
        if c.is_empty() || c == b"." {
            continue;
        }
        if p.last() != Some(&b'/') {
            p.push(b'/');
        }
        p.extend_from_slice(c);
    }
    if p.is_empty() {
        p.push(b'/');
    }
    p
}

/// Whether a file system of device `dev` can be a procfs: every procfs instance has an
/// anonymous device (major 0); a file system on a block device never is one.
fn maybe_procfs(dev: u64) -> bool {
    fs::major(dev) == 0
}

/// `dir` + `/` + `name`.
fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = dir.to_vec();
    if p != b"/" {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// The device of the host's procfs (one `stat` per process).
pub fn proc_dev() -> u64 {
    static DEV: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *DEV.get_or_init(|| fs::stat("/proc").map(|s| s.st_dev).unwrap_or(u64::MAX))
}

/// Where the walk is: (device, inode) of the current directory.
fn id_of(fd: BorrowedFd<'_>) -> Result<(u64, u64), Errno> {
    let st = fs::fstat(fd)?;
    Ok((st.st_dev, st.st_ino))
}

/// Whose part of procfs the walk is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    /// Not procfs.
    Outside,
    /// procfs, but no process's directory (`/proc`, `/proc/sys`, `/proc/meminfo`).
    Global,
    /// Beneath `/proc/PID` (PID as that procfs numbers it).
    Pid(u32),
}

/// Whether `/proc/PID` (as the sandbox's procfs numbers it) belongs to the sandbox.
fn pid_allowed(view: &View<'_>, pid: u32) -> bool {
    if view.container {
        // A container's procfs shows only the sandbox's own pid namespace, whose init
        // (pid 1) is MXC's: a copy of `mxcc`.
        pid != 1
    } else {
        (view.in_sandbox)(pid)
    }
}

/// `Pid(pid)` if the process belongs to the sandbox, else `EACCES`.
fn owned_by(view: &View<'_>, pid: u32) -> Result<Owner, Errno> {
    if pid_allowed(view, pid) {
        Ok(Owner::Pid(pid))
    } else {
        Err(Errno::ACCESS)
    }
}

/// Whether `fd` is on a procfs (any instance).
pub(crate) fn on_procfs(fd: BorrowedFd<'_>) -> Result<bool, Errno> {
    const PROC_SUPER_MAGIC: i64 = 0x9fa0;
    Ok(fs::fstatfs(fd)?.f_type as i64 == PROC_SUPER_MAGIC)
}

/// Whose a directory (or, for a file, its directory) is, found from the object itself:
/// climb with `..` to the directory just below the procfs root; if that is a process's
/// directory (its `stat` names a pid, and `/proc/PID` is that very directory), the
/// process it belongs to. A procfs that is not the sandbox's, or one entered below its
/// root (a bind mount of a part of it), is refused.
fn classify_dir(dir: BorrowedFd<'_>, st: &fs::Stat, view: &View<'_>) -> Result<Owner, Errno> {
    if st.st_dev != view.proc_dev {
        return if on_procfs(dir)? {
            Err(Errno::ACCESS)
        } else {
            Ok(Owner::Outside)
        };
    }
    if st.st_ino == PROC_ROOT_INO {
        return Ok(Owner::Global);
    }
    let mut child = dir.try_clone_to_owned().map_err(|_| Errno::NOMEM)?;
    for _ in 0..32 {
        let up = opath(child.as_fd(), b"..", false)?;
        let (dev, ino) = id_of(up.as_fd())?;
        if dev != view.proc_dev {
            return Err(Errno::ACCESS);
        }
        if ino == PROC_ROOT_INO {
            return pid_dir_owner(up.as_fd(), child.as_fd(), view);
        }
        child = up;
    }
    Err(Errno::ACCESS)
}

/// `dir` lies directly below the procfs root `root`: the process it is the directory
/// of, or `Global` (`/proc/sys`, `/proc/driver`, …).
fn pid_dir_owner(
    root: BorrowedFd<'_>,
    dir: BorrowedFd<'_>,
    view: &View<'_>,
) -> Result<Owner, Errno> {
    let stat = match fs::openat(
        dir,
        "stat",
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(f) => f,
        Err(Errno::NOENT) => return Ok(Owner::Global),
        // A process that is gone: nothing of it can be reached either.
        Err(_) => return Err(Errno::ACCESS),
    };
    let mut buf = [0u8; 32];
    let n = rustix::io::read(&stat, &mut buf).map_err(|_| Errno::ACCESS)?;
    let pid = buf[..n]
        .split(|&b| b == b' ')
        .next()
        .and_then(numeric)
        .ok_or(Errno::ACCESS)?;
    // The directory is `/proc/PID` itself (not some other directory with a `stat`).
    let named = opath(root, pid.to_string().as_bytes(), false).map_err(|_| Errno::ACCESS)?;
    if id_of(named.as_fd())? != id_of(dir)? {
        return Err(Errno::ACCESS);
    }
    owned_by(view, pid)
}

/// Whose an object reached through a magic link is (it may be a procfs file or
/// directory of any process: a descriptor, a cwd). A procfs file is decided by the
/// directory its own path names, checked to hold that very file.
fn classify_object(obj: BorrowedFd<'_>, view: &View<'_>) -> Result<Owner, Errno> {
    let st = fs::fstat(obj)?;
    if fs::FileType::from_raw_mode(st.st_mode) == fs::FileType::Directory {
        return classify_dir(obj, &st, view);
    }
    if st.st_dev != view.proc_dev {
        return if on_procfs(obj)? {
            Err(Errno::ACCESS)
        } else {
            Ok(Owner::Outside)
        };
    }
    // A procfs file: `/proc/PID/…/NAME` as the sandbox sees it (the supervisor's
    // `/proc/self/fd` names it in the sandbox's mount namespace).
    let p = fd_path(obj)?;
    let (dir, name) = match p.iter().rposition(|&b| b == b'/') {
        Some(i) if i > 0 => (&p[..i], &p[i + 1..]),
        _ => return Err(Errno::ACCESS),
    };
    let rel: &[u8] = dir.strip_prefix(b"/").unwrap_or(dir);
    let d = fs::openat2(
        view.root,
        rel,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
        fs::ResolveFlags::NO_SYMLINKS,
    )
    .map_err(|_| Errno::ACCESS)?;
    let again = opath(d.as_fd(), name, false).map_err(|_| Errno::ACCESS)?;
    if id_of(again.as_fd())? != (st.st_dev, st.st_ino) {
        return Err(Errno::ACCESS);
    }
    let dst = fs::fstat(&d)?;
    classify_dir(d.as_fd(), &dst, view)
}

fn numeric(s: &[u8]) -> Option<u32> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Resolves `path` for `who` in `view`. `follow_last`: follow a symlink in the last
/// component.
pub fn resolve(
    who: Asker,
    base: Base,
    path: &[u8],
    follow_last: bool,
    view: &View<'_>,
) -> Result<Resolved, Errno> {
    if path.is_empty() {
        return Err(Errno::NOENT);
    }
    let root = view.root;
    let absolute = path.first() == Some(&b'/');
    // Where a relative path starts (an absolute one starts at `root`).
    let based: Option<OwnedFd> = if absolute {
        None
    } else {
        let p = match base {
            Base::Cwd | Base::Fd(libc::AT_FDCWD) => format!("/proc/{}/cwd", who.tid),
            Base::Fd(fd) if fd >= 0 => format!("/proc/{}/fd/{fd}", who.tid),
            Base::Fd(_) => return Err(Errno::BADF),
        };
        let fd = fs::open(p, OFlags::PATH | OFlags::CLOEXEC, Mode::empty()).map_err(|e| {
            if e == Errno::NOENT {
                Errno::BADF
            } else {
                e
            }
        })?;
        Some(fd)
    };
    let base_stat = match &based {
        Some(b) => Some(fs::fstat(b)?),
        None => None,
    };
    if base_stat.is_some_and(|s| !fs::FileType::from_raw_mode(s.st_mode).is_dir()) {
        return Err(Errno::NOTDIR);
    }
    let pdev = view.proc_dev;
    // A relative path starting inside procfs (a cwd or descriptor in `/proc/PID`)
    // starts as that process: refused if it is not the sandbox's. (Another procfs is
    // found on the walk below: the fast path cannot leave it but by `..`.)
    if let (Some(b), Some(st)) = (&based, &base_stat) {
        if st.st_dev == pdev {
            classify_dir(b.as_fd(), st, view)?;
        }
    }
    let start = based.as_ref().map_or(root, |f| f.as_fd());
    // Fast path: a path without symlinks to an existing object outside procfs is
    // resolved by the kernel in one call (`RESOLVE_NO_SYMLINKS`: any symlink, magic
    // link or not, fails it and the walk below takes over).
    // Only without `..`: then every directory it crosses is an ancestor of the object,
    // whose decision covers them (with `..`, the walk below checks each).
    let dotdot = path.split(|&b| b == b'/').any(|c| c == b"..");
    if follow_last && !dotdot {
        // Relative to `cur` (an absolute path would start at the supervisor's root).
        let mut rel = path;
        while let [b'/', rest @ ..] = rel {
            rel = rest;
        }
        let rel: &[u8] = if rel.is_empty() { b"." } else { rel };
        let fast = fs::openat2(
            start,
            rel,
            OFlags::PATH | OFlags::CLOEXEC,
            Mode::empty(),
            fs::ResolveFlags::NO_SYMLINKS | fs::ResolveFlags::NO_MAGICLINKS,
        );
        if let Ok(obj) = fast {
            if let Some(st) = fs::fstat(&obj).ok().filter(|st| st.st_dev != pdev) {
                // Another procfs (not the sandbox's): refused, not decided by its path.
                if maybe_procfs(st.st_dev) && on_procfs(obj.as_fd())? {
                    return Err(Errno::ACCESS);
                }
                // The kernel looked up exactly the path's names, crossing no symlink
                // and no `..`: the object's path is the start's joined with them (what
                // `/proc/self/fd` would show, without asking it for an absolute path).
                let start_path = match &based {
                    None => Ok(b"/".to_vec()),
                    Some(b) => fd_path(b.as_fd()),
                };
                let p = match start_path {
                    Ok(sp) => lexical(&sp, rel),
                    // A path too long to show: the walk below builds it.
                    Err(Errno::NAMETOOLONG) => {
                        return resolve_walk(who, based, path, follow_last, view)
                    }
                    Err(e) => return Err(e),
                };
                return Ok(Resolved {
                    parent: None,
                    name: Vec::new(),
                    object: Some(obj),
                    path: p,
                    via_fd: None,
                    parent_missing: false,
                    stat: Some(st),
                });
            }
        }
    }
    resolve_walk(who, based, path, follow_last, view)
}

/// The walk, one component at a time.
fn resolve_walk(
    who: Asker,
    based: Option<OwnedFd>,
    path: &[u8],
    follow_last: bool,
    view: &View<'_>,
) -> Result<Resolved, Errno> {
    let root = view.root;
    let pdev = view.proc_dev;
    // Whose the starting directory is (a cwd or descriptor inside `/proc/PID`).
    let mut owner = match &based {
        Some(b) => classify_dir(b.as_fd(), &fs::fstat(b)?, view)?,
        None => Owner::Outside,
    };
    let mut cur: OwnedFd = match based {
        Some(f) => f,
        None => root.try_clone_to_owned().map_err(|_| Errno::NOMEM)?,
    };
    // `cur`'s path, when known without asking the kernel (kept as the walk descends, so
    // a path longer than the kernel shows is still known); and whether `cur` may be
    // traversed (checked once per directory).
    let mut cur_path: Option<Vec<u8>> = None;
    let mut cur_ok = false;
    let root_id = id_of(root)?;
    let mut cur_id = id_of(cur.as_fd())?;
    let mut queue: VecDeque<Vec<u8>> = split(path);
    let trailing_slash = path.len() > 1 && path.last() == Some(&b'/');
    let mut links = 0usize;
    let mut via_fd = None;
    loop {
        let Some(comp) = queue.pop_front() else {
            // The path named a directory (`/`, `..`, `a/..`).
            let p = match cur_path {
                Some(p) => p,
                None => fd_path(cur.as_fd())?,
            };
            let parent = opath(cur.as_fd(), b"..", false)?;
            return Ok(Resolved {
                parent: Some(parent),
                name: Vec::new(),
                object: Some(cur),
                path: p,
                via_fd,
                parent_missing: false,
                stat: None,
            });
        };
        let last = queue.is_empty();
        if comp == b".." {
            let up = opath(cur.as_fd(), b"..", false)?;
            let st = fs::fstat(&up)?;
            let up_id = (st.st_dev, st.st_ino);
            if up_id != cur_id {
                cur_path = None;
                cur_ok = false;
            }
            cur = up;
            cur_id = up_id;
            // `..` from `/proc/PID/task/TID`, `/proc/self/task`, …: whose it is now.
            if owner != Owner::Outside || st.st_dev == pdev {
                owner = classify_dir(cur.as_fd(), &st, view)?;
            }
            continue;
        }
        // Looking a name up in `cur` reveals whether it exists: `cur` must be traversable
        // (procfs has its own rules, below).
        if !cur_ok && cur_id.0 != pdev {
            if cur_path.is_none() {
                cur_path = Some(fd_path(cur.as_fd())?);
            }
            if !(view.traverse)(cur_path.as_deref().unwrap_or_default()) {
                return Err(Errno::ACCESS);
            }
        }
        cur_ok = true;
        let follow = !last || follow_last || trailing_slash;
        let fd = match opath(cur.as_fd(), &comp, false) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => {
                // The path as it would be: what the policy decides even when nothing is
                // there (so a denied path reads as denied, not as missing).
                let mut p = match cur_path {
                    Some(p) => p,
                    None => fd_path(cur.as_fd())?,
                };
                let mut name = comp;
                for c in queue {
                    if c == b".." {
                        return Err(Errno::NOENT);
                    }
                    name.push(b'/');
                    name.extend_from_slice(&c);
                }
                if p != b"/" {
                    p.push(b'/');
                }
                p.extend_from_slice(&name);
                return Ok(Resolved {
                    parent: Some(cur),
                    name,
                    object: None,
                    path: p,
                    via_fd,
                    parent_missing: !last,
                    stat: None,
                });
            }
            Err(e) => return Err(e),
        };
        let st = fs::fstat(&fd)?;
        let ft = fs::FileType::from_raw_mode(st.st_mode);
        if ft == fs::FileType::Symlink && follow {
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(Errno::LOOP);
            }
            if cur_id.0 == pdev {
                let proc_root = cur_id.1 == PROC_ROOT_INO;
                if proc_root && (comp == b"self" || comp == b"thread-self") {
                    let (tgid, tid) = if view.container {
                        who.ns_ids().ok_or(Errno::SRCH)?
                    } else {
                        (who.tgid(), who.tid)
                    };
                    if comp == b"thread-self" {
                        queue.push_front(tid.to_string().into_bytes());
                        queue.push_front(b"task".to_vec());
                    }
                    queue.push_front(tgid.to_string().into_bytes());
                    continue;
                }
                // procfs's plain symbolic links (`/proc/net` → `self/net`, `mounts`):
                // relative, and not a `type:[inode]` name. Walked like any other, so
                // `self` means the asker.
                let target = fs::readlinkat(&fd, "", Vec::new())
                    .map(|t| t.into_bytes())
                    .unwrap_or_default();
                if !target.is_empty() && target[0] != b'/' && !target.contains(&b':') {
                    let mut t = split(&target);
                    while let Some(c) = t.pop_back() {
                        queue.push_front(c);
                    }
                    continue;
                }
                // A magic link: follow it to the object itself.
                let parent_path = fd_path(cur.as_fd())?;
                let obj = opath(cur.as_fd(), &comp, true)?;
                if let Some(fdnum) = numeric(&comp) {
                    if let Some(pid) = proc_fd_owner(&parent_path) {
                        let pid = if view.container {
                            (view.host_pid)(pid)
                        } else {
                            Some(pid)
                        };
                        via_fd = pid.map(|p| (p, fdnum));
                    }
                }
                // Whatever it leads to (a cwd inside `/proc/OTHER`, a descriptor of a
                // procfs file) is decided on the process it belongs to.
                let target_owner = classify_object(obj.as_fd(), view)?;
                if last {
                    let p = fd_path(obj.as_fd())?;
                    return Ok(Resolved {
                        parent: Some(cur),
                        name: comp,
                        object: Some(obj),
                        path: p,
                        via_fd,
                        parent_missing: false,
                        stat: None,
                    });
                }
                cur = obj;
                cur_id = id_of(cur.as_fd())?;
                owner = target_owner;
                cur_path = None;
                cur_ok = false;
                via_fd = None;
                continue;
            }
            let target = fs::readlinkat(&fd, "", Vec::new())?.into_bytes();
            if target.first() == Some(&b'/') {
                cur = root.try_clone_to_owned().map_err(|_| Errno::NOMEM)?;
                cur_id = root_id;
                owner = Owner::Outside;
                cur_path = None;
                cur_ok = false;
            }
            let mut t = split(&target);
            while let Some(c) = t.pop_back() {
                queue.push_front(c);
            }
            continue;
        }
        // Whose the object reached is.
        let here_owner = if st.st_dev == cur_id.0 && owner != Owner::Outside {
            // Within the same procfs: below the root, a numeric name is a process's
            // directory (the thread ids `/proc/TID` too); elsewhere, the directory's own.
            if cur_id == (pdev, PROC_ROOT_INO) {
                match numeric(&comp) {
                    Some(pid) => owned_by(view, pid)?,
                    None => Owner::Global,
                }
            } else {
                owner
            }
        } else if st.st_dev == cur_id.0 {
            Owner::Outside
        } else if ft == fs::FileType::Directory {
            // Another file system: procfs is entered at its root, or refused.
            classify_dir(fd.as_fd(), &st, view)?
        } else if st.st_dev == pdev || on_procfs(fd.as_fd())? {
            return Err(Errno::ACCESS);
        } else {
            Owner::Outside
        };
        // The object's path: from its directory's when known (or too long to show).
        let here = match &cur_path {
            Some(p) if cur_id.0 != pdev => Some(join(p, &comp)),
            _ => match fd_path(fd.as_fd()) {
                Ok(p) => Some(p),
                Err(Errno::NAMETOOLONG) => Some(join(&fd_path(cur.as_fd())?, &comp)),
                Err(e) if last => return Err(e),
                Err(_) => None,
            },
        };
        if last {
            return Ok(Resolved {
                parent: Some(cur),
                name: comp,
                object: Some(fd),
                path: here.ok_or(Errno::NOENT)?,
                via_fd,
                parent_missing: false,
                stat: None,
            });
        }
        if ft != fs::FileType::Directory {
            // Whether it is a directory is its metadata: shown only where it may be
            // traversed (else it answers as a denied directory would).
            if cur_id.0 != pdev && !here.as_deref().is_some_and(|p| (view.traverse)(p)) {
                return Err(Errno::ACCESS);
            }
            return Err(Errno::NOTDIR);
        }
        cur = fd;
        cur_id = (st.st_dev, st.st_ino);
        owner = here_owner;
        cur_path = here;
        cur_ok = false;
    }
}

impl Resolved {
    /// The directory the last component is in.
    pub fn dir(&self) -> Result<BorrowedFd<'_>, Errno> {
        self.parent.as_ref().map(|p| p.as_fd()).ok_or(Errno::NOENT)
    }
}

/// `/proc/PID/fd` (or `/proc/PID/task/TID/fd`) → the pid.
fn proc_fd_owner(dir: &[u8]) -> Option<u32> {
    let s = std::str::from_utf8(dir).ok()?;
    let rest = s.strip_prefix("/proc/")?;
    let mut parts = rest.split('/');
    let pid: u32 = parts.next()?.parse().ok()?;
    let tail: Vec<&str> = parts.collect();
    match tail.as_slice() {
        ["fd"] => Some(pid),
        ["task", t, "fd"] => t.parse().ok(),
        _ => None,
    }
}

fn split(path: &[u8]) -> VecDeque<Vec<u8>> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(<[u8]>::to_vec)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_view<'a>(in_sandbox: &'a dyn Fn(u32) -> bool) -> View<'a> {
        static ROOT: std::sync::OnceLock<OwnedFd> = std::sync::OnceLock::new();
        let root = ROOT.get_or_init(|| opath(rustix::fs::CWD, b"/", true).unwrap());
        View {
            root: root.as_fd(),
            container: false,
            proc_dev: proc_dev(),
            in_sandbox,
            host_pid: &|_| None,
            traverse: &|_| true,
        }
    }

    fn me() -> Asker {
        Asker {
            tid: rustix::thread::gettid().as_raw_nonzero().get() as u32,
            tgid: Some(std::process::id()),
        }
    }

    #[test]
    fn symlinks_dotdot_and_missing() {
        let d = std::env::temp_dir().join(format!("mxc-resolve-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("a/b")).unwrap();
        std::fs::write(d.join("a/b/f"), "x").unwrap();
        std::os::unix::fs::symlink("a/b", d.join("l")).unwrap();
        std::os::unix::fs::symlink(d.join("a/b/f"), d.join("abs")).unwrap();
        let any = |_| true;
        let v = host_view(&any);
        let r = |p: &str, follow| {
            resolve(
                me(),
                Base::Cwd,
                format!("{}/{p}", d.display()).as_bytes(),
                follow,
                &v,
            )
        };
        let canon = std::fs::canonicalize(&d).unwrap();
        let c = |p: &str| format!("{}/{p}", canon.display()).into_bytes();
        // No symlink on the way: the kernel resolves it in one call (no parent kept).
        let fast = r("a/b/f", true).unwrap();
        assert!(fast.parent.is_none() && fast.object.is_some());
        assert_eq!(fast.path, c("a/b/f"));
        // With `..`, the walk (each directory it looks a name up in is checked).
        let walked = r("a/b/../b/f", true).unwrap();
        assert!(walked.parent.is_some());
        assert_eq!(walked.path, c("a/b/f"));
        assert_eq!(r("l/f", true).unwrap().path, c("a/b/f"));
        assert_eq!(r("l/../b/f", true).unwrap().path, c("a/b/f"));
        assert_eq!(r("abs", true).unwrap().path, c("a/b/f"));
        assert_eq!(r("abs", false).unwrap().path, c("abs"));
        let missing = r("a/new", true).unwrap();
        assert!(missing.object.is_none());
        assert_eq!(missing.path, c("a/new"));
        assert_eq!(r("a/b/f/x", true).unwrap_err(), Errno::NOTDIR);
        let deep = r("nope/x", true).unwrap();
        assert!(deep.parent_missing && deep.object.is_none());
        assert_eq!(deep.path, c("nope/x"));
        std::os::unix::fs::symlink("loop", d.join("loop")).unwrap();
        assert_eq!(r("loop", true).unwrap_err(), Errno::LOOP);
        let _ = std::fs::remove_dir_all(&d);
    }

    /// The fast path names its object from the path's own names (after the start's),
    /// without asking the kernel: the same path `/proc/self/fd` shows for the object,
    /// however the names are spelt (`//`, `.`, a trailing `/`), from `/`, the cwd or a
    /// directory descriptor.
    #[test]
    fn the_fast_path_names_objects_as_the_kernel_does() {
        use rustix::fd::AsRawFd;
        let d = std::env::temp_dir().join(format!("mxc-resolve-n-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("a/b")).unwrap();
        std::fs::write(d.join("a/b/f"), "x").unwrap();
        let any = |_| true;
        let v = host_view(&any);
        let dir = opath(rustix::fs::CWD, d.as_os_str().as_encoded_bytes(), true).unwrap();
        let dfd = Base::Fd(dir.as_raw_fd());
        let abs = d.display().to_string();
        let cases = [
            (Base::Cwd, format!("{abs}//a/./b/f")),
            (Base::Cwd, format!("{abs}/a/b/.")),
            (Base::Cwd, format!("{abs}/a/b/")),
            (Base::Cwd, "/".to_string()),
            (Base::Cwd, "//.//".to_string()),
            (dfd, "a//b/./f".to_string()),
            (dfd, ".".to_string()),
            (dfd, "./a/".to_string()),
        ];
        for (base, p) in cases {
            let r = resolve(me(), base, p.as_bytes(), true, &v).unwrap();
            assert!(r.parent.is_none(), "{p}: not the fast path");
            let obj = r.object.as_ref().unwrap();
            assert_eq!(r.path, fd_path(obj.as_fd()).unwrap(), "{p}");
        }
        assert_eq!(lexical(b"/", b""), b"/");
        assert_eq!(lexical(b"/x", b"./y//z/."), b"/x/y/z");
        let _ = std::fs::remove_dir_all(&d);
    }

    /// A name is never looked up in a directory that may not be traversed, so what
    /// lies below it (a file, nothing, a directory to walk back out of) answers alike.
    #[test]
    fn untraversable_directories_hide_their_names() {
        let d = std::env::temp_dir().join(format!("mxc-resolve-t-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("s/sub")).unwrap();
        std::fs::write(d.join("s/key"), "x").unwrap();
        std::fs::write(d.join("ok"), "x").unwrap();
        let any = |_| true;
        let mut v = host_view(&any);
        let closed = |p: &[u8]| !p.ends_with(b"/s");
        v.traverse = &closed;
        let r = |p: &str| {
            resolve(
                me(),
                Base::Cwd,
                format!("{}/{p}", d.display()).as_bytes(),
                true,
                &v,
            )
            .map(|r| r.path)
        };
        for p in [
            "s/key/x",
            "s/nope/x",
            "s/sub/../ok",
            "s/nope/../ok",
            "s/key/../../ok",
            "s/nope",
        ] {
            assert_eq!(r(p), Err(Errno::ACCESS), "{p}");
        }
        // The object itself is decided by its caller (the fast path needs no lookup
        // check: every directory it crossed is an ancestor of what it reached).
        assert!(r("s/key").is_ok());
        assert!(r("ok").is_ok());
        let _ = std::fs::remove_dir_all(&d);
    }

    /// A path longer than `PATH_MAX` is resolved and named whole.
    #[test]
    fn paths_longer_than_path_max() {
        let d = std::env::temp_dir().join(format!("mxc-resolve-l-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let name = "n".repeat(200);
        let mut dir = opath(rustix::fs::CWD, d.as_os_str().as_encoded_bytes(), true).unwrap();
        for _ in 0..30 {
            fs::mkdirat(&dir, name.as_str(), Mode::from_raw_mode(0o755)).unwrap();
            dir = opath(dir.as_fd(), name.as_bytes(), false).unwrap();
        }
        let f = fs::openat(
            &dir,
            "f",
            OFlags::CREATE | OFlags::WRONLY | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .unwrap();
        drop(f);
        let canon = std::fs::canonicalize(&d).unwrap();
        let mut want = canon.as_os_str().as_encoded_bytes().to_vec();
        for _ in 0..30 {
            want.push(b'/');
            want.extend_from_slice(name.as_bytes());
        }
        assert!(want.len() > 6000);
        // The kernel cannot show it; rebuilt by walking up.
        assert_eq!(fd_path(dir.as_fd()).unwrap(), want);
        let any = |_| true;
        let v = host_view(&any);
        let mut file = want.clone();
        file.extend_from_slice(b"/f");
        let r = resolve(me(), Base::Cwd, &file, true, &v).unwrap();
        assert!(r.object.is_some());
        assert_eq!(r.path, file);
        let mut missing = want.clone();
        missing.extend_from_slice(b"/g");
        let r = resolve(me(), Base::Cwd, &missing, true, &v).unwrap();
        assert!(r.object.is_none());
        assert_eq!(r.path, missing);
        let mut rm = std::process::Command::new("rm");
        let _ = rm.arg("-rf").arg(&d).status();
    }

    #[test]
    fn procfs_is_decided_on_the_process_reached() {
        use rustix::fd::AsRawFd;
        let me_pid = std::process::id();
        let tid = rustix::thread::gettid().as_raw_nonzero().get() as u32;
        let parent = rustix::process::getppid().unwrap().as_raw_nonzero().get() as u32;
        let mine = move |p: u32| p == me_pid;
        let v = host_view(&mine);
        let r = |base: Base, p: &str| resolve(me(), base, p.as_bytes(), true, &v);
        // A directory descriptor inside the parent's /proc entry (as a cwd would be).
        let dir = std::fs::File::open(format!("/proc/{parent}")).unwrap();
        let dfd = dir.as_raw_fd();
        assert_eq!(r(Base::Fd(dfd), "environ").unwrap_err(), Errno::ACCESS);
        assert_eq!(
            r(Base::Fd(dfd), "task/../environ").unwrap_err(),
            Errno::ACCESS
        );
        // `..` from our own task directory is ours; one more `..` leads elsewhere.
        let task = std::fs::File::open(format!("/proc/self/task/{tid}")).unwrap();
        let tfd = task.as_raw_fd();
        assert!(r(Base::Fd(tfd), "../../environ").is_ok());
        assert!(r(Base::Cwd, "/proc/self/task/../environ").is_ok());
        assert_eq!(
            r(Base::Fd(tfd), &format!("../../../{parent}/environ")).unwrap_err(),
            Errno::ACCESS
        );
        // Magic links: to the parent's directory, and to one of its files.
        assert_eq!(
            r(Base::Cwd, &format!("/proc/self/fd/{dfd}/environ")).unwrap_err(),
            Errno::ACCESS
        );
        let status = std::fs::File::open(format!("/proc/{parent}/status")).unwrap();
        assert_eq!(
            r(Base::Cwd, &format!("/proc/self/fd/{}", status.as_raw_fd())).unwrap_err(),
            Errno::ACCESS
        );
        let own = std::fs::File::open("/proc/self/status").unwrap();
        assert!(r(Base::Cwd, &format!("/proc/self/fd/{}", own.as_raw_fd())).is_ok());
        // procfs, but no process's: decided by the rules, not refused here.
        assert!(r(Base::Cwd, "/proc/meminfo").is_ok());
        assert!(r(Base::Cwd, "/proc/sys/kernel/../kernel/ostype").is_ok());
    }

    #[test]
    fn proc_self_is_the_asker() {
        let f =
            std::fs::File::open("/etc/hostname").or_else(|_| std::fs::File::open("/etc/passwd"));
        let f = f.unwrap();
        let n = rustix::fd::AsRawFd::as_raw_fd(&f);
        let any = |_| true;
        let r = resolve(
            me(),
            Base::Cwd,
            format!("/proc/self/fd/{n}").as_bytes(),
            true,
            &host_view(&any),
        )
        .unwrap();
        let expect = std::fs::canonicalize(format!("/proc/self/fd/{n}")).unwrap();
        assert_eq!(r.path, expect.as_os_str().as_encoded_bytes());
        assert_eq!(r.via_fd, Some((std::process::id(), n as u32)));
        let none = |_| false;
        assert_eq!(
            resolve(
                me(),
                Base::Cwd,
                b"/proc/self/status",
                true,
                &host_view(&none)
            )
            .unwrap_err(),
            Errno::ACCESS
        );
    }
}

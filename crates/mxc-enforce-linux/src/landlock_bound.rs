//! The Landlock ruleset: the kernel-enforced outer bound of an agent.
//!
//! Every right is requested with `HardRequirement`: a kernel that cannot enforce one
//! (Landlock missing or too old) is a [`SetupError`], never a silently weaker sandbox.

use crate::{Bounds, FsRights, SetupError};
use landlock::{
    Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, NetPort, PathBeneath, Ruleset,
    RulesetAttr, RulesetCreatedAttr, Scope, ABI,
};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// Ports beyond this many in the bound are not narrowed by Landlock (the supervisor
/// still decides each connection).
const MAX_PORT_RULES: usize = 4096;

fn fs_access(r: FsRights, dir: bool) -> BitFlags<AccessFs> {
    let mut a = BitFlags::<AccessFs>::empty();
    if r.read {
        a |= AccessFs::ReadFile;
        if dir {
            a |= AccessFs::ReadDir;
        }
    }
    if r.write {
        a |= AccessFs::WriteFile | AccessFs::Truncate;
    }
    if r.execute {
        a |= AccessFs::Execute;
    }
    if dir && r.create {
        a |= AccessFs::MakeReg
            | AccessFs::MakeDir
            | AccessFs::MakeSym
            | AccessFs::MakeFifo
            | AccessFs::MakeSock
            | AccessFs::MakeChar
            | AccessFs::MakeBlock
            | AccessFs::Refer;
    }
    if dir && r.delete {
        a |= AccessFs::RemoveFile | AccessFs::RemoveDir | AccessFs::Refer;
    }
    a
}

/// The rights Landlock is asked to handle: every fs right of ABI 3 (device ioctls,
/// ABI 5, are not policy rights and stay unrestricted).
fn handled_fs() -> BitFlags<AccessFs> {
    AccessFs::from_all(ABI::V3)
}

/// Where a grant lands, found without following any symbolic link an agent could have
/// planted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Placed {
    /// The path the grant is made on: no symbolic link in it.
    pub at: PathBuf,
    /// Whether it is (or stands for, when the rule's path is not reached) a directory.
    pub dir: bool,
    /// Whether the rule's path itself was reached (through trusted links only).
    pub exact: bool,
    /// The trusted links followed: (where the link is, its target as written).
    pub links: Vec<(PathBuf, PathBuf)>,
}

/// Where the agent may change names: every grant with write, create or delete, at the
/// path its rule names and at the same path with every symbolic link on the way
/// followed (where Landlock's grant lands when the rule names the tree through a link:
/// `allow all "${work}/lnk/w/**"` with `lnk -> real` lets the agent write `real/w`,
/// escape `alias_*`); for a missing path, its nearest existing ancestor so resolved,
/// with the rest of the path after it.
fn writable_places(b: &Bounds) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for g in &b.fs {
        let r = g.rights;
        if !(r.write || r.create || r.delete) {
            continue;
        }
        out.push(g.path.clone());
        let mut base = g.path.as_path();
        let mut rest = Vec::new();
        let resolved = loop {
            if let Ok(c) = std::fs::canonicalize(base) {
                break Some(c);
            }
            match (base.parent(), base.file_name()) {
                (Some(p), Some(n)) => {
                    rest.push(n.to_os_string());
                    base = p;
                }
                _ => break None,
            }
        };
        if let Some(mut c) = resolved {
            for n in rest.into_iter().rev() {
                c.push(n);
            }
            if c != g.path {
                out.push(c);
            }
        }
    }
    out
}

/// Whether the symbolic link at `link` is one no agent could have made: owned by root,
/// in a root-owned directory that neither group nor others may write, and no grant of
/// the policy lets the agent change that directory (a grant with write, create or
/// delete on it or on a directory above it, by the path its rule names or by the place
/// that path leads to: [`writable_places`]). The system's own links (`/bin`, `/lib64`,
/// the ELF loader's chain, `/etc/alternatives`) are such links; one planted in a tree
/// the agent may change (by this run or an earlier one) is not.
fn trusted_link(link: &Path, writable: &[PathBuf]) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some(parent) = link.parent() else {
        return false;
    };
    let (Ok(lm), Ok(pm)) = (
        std::fs::symlink_metadata(link),
        std::fs::symlink_metadata(parent),
    ) else {
        return false;
    };
    if lm.uid() != 0 || pm.uid() != 0 || !pm.is_dir() || pm.mode() & 0o022 != 0 {
        return false;
    }
    !writable
        .iter()
        .any(|w| link.starts_with(w) || parent == w.as_path())
}

/// Where the grant of `path` lands, walked component by component from `/` without
/// following symbolic links except [trusted](trusted_link) ones: the path itself if it
/// exists; else (missing, or a component that is an untrusted link) the last directory
/// reached before it, a wider grant (the bound stays an over-approximation, and
/// [`widened`] says file calls must then be supervised). A planted link never moves a
/// grant to where it points.
pub(crate) fn placed_in(path: &Path, b: &Bounds) -> Option<Placed> {
    placed_cached(path, b, &mut PlaceCache::default())
}

/// What [`placed_in`] learnt about the places it walked (`lstat` results and link
/// trust), kept while placing many grants at once: the per-program execute grants put
/// thousands of paths under the same few directories.
#[derive(Default)]
pub(crate) struct PlaceCache {
    meta: std::collections::HashMap<PathBuf, Option<std::fs::Metadata>>,
    trusted: std::collections::HashMap<PathBuf, bool>,
    /// [`writable_places`] of the bound, found on the first link met.
    writable: Option<Vec<PathBuf>>,
}

impl PlaceCache {
    fn lstat(&mut self, p: &Path) -> Option<std::fs::Metadata> {
        self.meta
            .entry(p.to_path_buf())
            .or_insert_with(|| std::fs::symlink_metadata(p).ok())
            .clone()
    }
}

/// [`placed_in`] with a cache shared between calls for the same bound.
pub(crate) fn placed_cached(path: &Path, b: &Bounds, cache: &mut PlaceCache) -> Option<Placed> {
    use std::collections::VecDeque;
    use std::path::Component;
    if !path.is_absolute() {
        return None;
    }
    let mut queue: VecDeque<std::ffi::OsString> = VecDeque::new();
    let push_front = |queue: &mut VecDeque<std::ffi::OsString>, p: &Path| -> bool {
        let mut parts = Vec::new();
        for c in p.components() {
            match c {
                Component::Normal(n) => parts.push(n.to_os_string()),
                Component::ParentDir => parts.push("..".into()),
                Component::RootDir | Component::CurDir => {}
                Component::Prefix(_) => return false,
            }
        }
        for c in parts.into_iter().rev() {
            queue.push_front(c);
        }
        true
    };
    if !push_front(&mut queue, path) {
        return None;
    }
    let mut cur = PathBuf::from("/");
    let mut links = Vec::new();
    let mut followed = 0;
    let stop = |cur: PathBuf, links| {
        Some(Placed {
            at: cur,
            dir: true,
            exact: false,
            links,
        })
    };
    while let Some(c) = queue.pop_front() {
        if c == ".." {
            // Only in a trusted link's target (grant paths are normalised).
            cur.pop();
            continue;
        }
        let next = cur.join(&c);
        let Some(meta) = cache.lstat(&next) else {
            return stop(cur, links);
        };
        if meta.file_type().is_symlink() {
            followed += 1;
            let writable = cache.writable.get_or_insert_with(|| writable_places(b));
            let trusted = match cache.trusted.get(&next) {
                Some(&t) => t,
                None => {
                    let t = trusted_link(&next, writable);
                    cache.trusted.insert(next.clone(), t);
                    t
                }
            };
            if followed > 40 || !trusted {
                return stop(cur, links);
            }
            let Ok(target) = std::fs::read_link(&next) else {
                return stop(cur, links);
            };
            links.push((next, target.clone()));
            if target.is_absolute() {
                cur = PathBuf::from("/");
            }
            if !push_front(&mut queue, &target) {
                return stop(cur, links);
            }
            continue;
        }
        if !queue.is_empty() && !meta.is_dir() {
            // A file where the path goes on: nothing beneath it.
            return stop(cur, links);
        }
        cur = next;
    }
    let dir = cache.lstat(&cur).is_some_and(|m| m.is_dir());
    Some(Placed {
        at: cur,
        dir,
        exact: true,
        links,
    })
}

/// [`placed_in`] as (where, is a directory or stands for one).
pub(crate) fn placed(path: &Path, b: &Bounds) -> Option<(PathBuf, bool)> {
    placed_in(path, b).map(|p| (p.at, p.dir))
}

/// Opens `at` (a path [`placed_in`] found) as an `O_PATH` descriptor that refuses every
/// symbolic link on the way (`RESOLVE_NO_SYMLINKS`): a link swapped in since it was
/// placed fails the run instead of moving the grant.
fn open_placed(at: &Path) -> std::io::Result<OwnedFd> {
    rustix::fs::openat2(
        rustix::fs::CWD,
        at,
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
        rustix::fs::ResolveFlags::NO_SYMLINKS | rustix::fs::ResolveFlags::NO_MAGICLINKS,
    )
    .map_err(std::io::Error::from)
}

/// Opens directory `at` for reading its entries and making or removing names in it,
/// refusing every symbolic link on the way, as [`open_placed`] does.
fn open_dir_placed(at: &Path) -> std::io::Result<OwnedFd> {
    rustix::fs::openat2(
        rustix::fs::CWD,
        at,
        rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
        rustix::fs::ResolveFlags::NO_SYMLINKS | rustix::fs::ResolveFlags::NO_MAGICLINKS,
    )
    .map_err(std::io::Error::from)
}

/// The system's ELF loaders, by the names programs carry (`PT_INTERP`).
const LOADERS: [&str; 3] = [
    "/lib64/ld-linux-x86-64.so.2",
    "/lib/ld-linux-x86-64.so.2",
    "/lib/ld-musl-x86_64.so.1",
];

/// Whether `g` is the execute grant of a system ELF loader: placed where its links
/// lead, whoever could change them. Every program the kernel runs, in the sandbox and
/// outside it, is loaded through this name; an agent able to replace the system's
/// loader owns the machine already. (A policy with a `write` rule whose literal prefix
/// is `/`, `**/x`, makes no link under `/` trusted.)
fn is_loader(g: &crate::Grant) -> bool {
    !g.subtree && LOADERS.iter().any(|l| g.path == Path::new(l))
}

/// The kernel's outer bound from the table's plan: every right a rule may allow, at
/// the rule's literal prefix; execute where programs may be launched, and on the usual
/// ELF loaders (the kernel opens a program's interpreter with execute access too).
pub fn from_plan(plan: &mxc_eval::Plan) -> Bounds {
    use crate::Grant;
    use mxc_eval::FsRights as R;
    let mut fs: Vec<Grant> = plan
        .fs
        .iter()
        .map(|g| Grant {
            path: g.path.clone().into(),
            rights: FsRights {
                read: g.rights.contains(R::READ),
                write: g.rights.contains(R::WRITE),
                create: g.rights.contains(R::CREATE),
                delete: g.rights.contains(R::DELETE),
                execute: false,
            },
            subtree: g.subtree,
        })
        .collect();
    for g in &plan.exec {
        fs.push(Grant {
            path: g.path.clone().into(),
            rights: FsRights {
                execute: true,
                ..FsRights::default()
            },
            subtree: g.subtree,
        });
    }
    for loader in LOADERS {
        // Granted by the name programs carry (PT_INTERP): the container tier then
        // recreates the symbolic links on the way, as the kernel follows them.
        if Path::new(loader).exists() {
            fs.push(Grant {
                path: loader.into(),
                rights: FsRights {
                    execute: true,
                    ..FsRights::default()
                },
                subtree: false,
            });
        }
    }
    Bounds {
        fs,
        fs_exact: plan.fs_exact,
        tcp_connect: plan.tcp_connect.clone(),
        tcp_bind: plan.tcp_bind.clone(),
    }
}

/// Whether some grant lands wider than its rule: a missing path granted at an
/// existing ancestor, a single-path rule on a directory (Landlock grants beneath it), or
/// making/removing a file (a right on its whole directory). Then Landlock alone is not
/// the policy, even when the rules are all plain `allow`s, and file calls must be
/// supervised.
pub fn widened(b: &Bounds) -> bool {
    // Execute-only grants (programs `app` may launch, the ELF loader) do not count:
    // every `execve` is held and decided exactly whatever Landlock allows.
    let file_rights = |g: &&crate::Grant| {
        let r = g.rights;
        r.read || r.write || r.create || r.delete
    };
    b.fs.iter()
        .filter(file_rights)
        .any(|g| match placed_in(&g.path, b) {
            None => false,
            Some(Placed { exact, dir, .. }) => {
                !exact || (dir && !g.subtree) || (!dir && (g.rights.create || g.rights.delete))
            }
        })
}

/// Whether file calls must go to the supervisor: the rules are not all Landlock can
/// express, or their grants land wider than the rules.
pub fn supervise_fs(b: &Bounds) -> bool {
    !b.fs_exact || widened(b) || kernel_reach(b) != (false, false) || movable(b)
}

/// Whether the agent could move a granted directory (or a directory above it) to a
/// place where the policy grants less: Landlock's rights stay on the directory's inode
/// wherever it goes, so the files beneath it would keep them at their new paths
/// (`allow all "${work}/rw/**"` inside `allow read, create, delete "${work}/**"`: `mv rw
/// ro`, then write `ro/f`). A grant lying strictly beneath a tree where the agent may
/// delete (so it, or a directory above it, can be moved away), with a right some tree
/// the agent may create in lacks (a place it can be moved to), makes file calls
/// supervised: every later call is then decided on the path it names, and the move
/// itself on every name it brings (escapes `moved_*`). Execute-only grants are not
/// counted: every `execve` is decided on its path.
fn movable(b: &Bounds) -> bool {
    let file_rights = |r: FsRights| r.read || r.write || r.create || r.delete;
    let lacks = |have: FsRights, want: FsRights| {
        (want.read && !have.read)
            || (want.write && !have.write)
            || (want.create && !have.create)
            || (want.delete && !have.delete)
    };
    b.fs.iter().filter(|g| file_rights(g.rights)).any(|g| {
        let can_move = b.fs.iter().any(|d| {
            d.subtree && d.rights.delete && g.path != d.path && g.path.starts_with(&d.path)
        });
        can_move
            && b.fs
                .iter()
                .any(|c| c.subtree && c.rights.create && lacks(c.rights, g.rights))
    })
}

/// Whether a grant (other than execute alone) lands on `/proc`, beneath it, or on a
/// directory above it with its subtree; and whether a grant that writes, creates or
/// deletes lands so on `/sys`. Each by the path its rule names, or by the place that
/// path leads to through trusted links (`/srv/k -> /sys/kernel`: Landlock's grant lands
/// where the link leads), each grant placed once (one cache for the bound).
///
/// Landlock cannot tell the sandbox's processes from the others in procfs
/// (`/proc/PID/cmdline`, `status`, `maps` of any process of the machine), so such a
/// policy is supervised: procfs is then decided on the process reached. uid 0 needs no
/// capability to write many of the kernel's attributes in sysfs (`/sys/power/state`,
/// `/sys/kernel/mm/...`), and Landlock cannot carve `/sys` out of a grant on `/`: such a
/// policy is supervised, and the supervisor refuses every change there
/// (`decide::sysfs_refusal`).
fn kernel_reach(b: &Bounds) -> (bool, bool) {
    let (proc_, sys) = (Path::new("/proc"), Path::new("/sys"));
    let mut cache = PlaceCache::default();
    let (mut procfs, mut sysfs) = (false, false);
    for g in &b.fs {
        let r = g.rights;
        let changes = r.write || r.create || r.delete;
        if !(r.read || changes) {
            continue;
        }
        let on = |p: &Path, top: &Path| p.starts_with(top) || (g.subtree && top.starts_with(p));
        let mut hit = |p: &Path| {
            procfs |= on(p, proc_);
            sysfs |= changes && on(p, sys);
        };
        hit(&g.path);
        // Only where the rule's path itself was reached: a grant placed on an ancestor
        // of a missing path is supervised anyway (`widened`).
        if let Some(placed) = placed_cached(&g.path, b, &mut cache).filter(|p| p.exact) {
            hit(&placed.at);
        }
        if procfs && sysfs {
            break;
        }
    }
    (procfs, sysfs)
}

#[cfg(test)]
fn reaches_procfs(b: &Bounds) -> bool {
    kernel_reach(b).0
}

#[cfg(test)]
fn writes_sysfs(b: &Bounds) -> bool {
    kernel_reach(b).1
}

/// A ruleset with the signal and abstract-socket scopes only (`--learn`: the files of
/// its throwaway view are overlay inodes, which no path rule made on the host's names;
/// the supervisor sees every file call instead).
pub fn scopes_only() -> Result<OwnedFd, SetupError> {
    let rs = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .scope(Scope::from_all(ABI::V6))
        .map_err(|e| {
            SetupError(format!(
                "Landlock cannot scope signals and abstract sockets: {e}; this kernel needs \
                 Landlock ABI 6 or newer"
            ))
        })?;
    let created = rs
        .create()
        .map_err(|e| SetupError(format!("Landlock cannot create a ruleset: {e}")))?;
    Option::<OwnedFd>::from(created)
        .ok_or_else(|| SetupError("Landlock is not available on this kernel".into()))
}

/// Builds the ruleset. The returned descriptor is enforced by `landlock_restrict_self`
/// in the child.
pub fn ruleset(b: &Bounds, extra_connect_ports: &[u16]) -> Result<OwnedFd, SetupError> {
    let err = |what: &str, e: &dyn std::fmt::Display| {
        SetupError(format!(
            "Landlock cannot enforce the policy's bound ({what}): {e}; this kernel needs \
             Landlock ABI 6 or newer (Linux 6.12+, with `landlock` in the `lsm=` list)"
        ))
    };
    let mut rs = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(handled_fs())
        .map_err(|e| err("filesystem rights", &e))?
        .scope(Scope::from_all(ABI::V6))
        .map_err(|e| err("signal and abstract-socket scopes", &e))?;
    let connect = b
        .tcp_connect
        .as_ref()
        .and_then(|v| ports(v, extra_connect_ports));
    let bind = b.tcp_bind.as_ref().and_then(|v| ports(v, &[0]));
    if connect.is_some() {
        rs = rs
            .handle_access(AccessNet::ConnectTcp)
            .map_err(|e| err("TCP connect", &e))?;
    }
    if bind.is_some() {
        rs = rs
            .handle_access(AccessNet::BindTcp)
            .map_err(|e| err("TCP bind", &e))?;
    }
    let mut created = rs.create().map_err(|e| err("creating the ruleset", &e))?;
    let mut cache = PlaceCache::default();
    for g in &b.fs {
        let r = g.rights;
        let exec_only = r.execute && !(r.read || r.write || r.create || r.delete);
        let placed = if exec_only && is_loader(g) {
            std::fs::canonicalize(&g.path).ok().map(|at| Placed {
                at,
                dir: false,
                exact: true,
                links: Vec::new(),
            })
        } else {
            placed_cached(&g.path, b, &mut cache)
        };
        if exec_only && !placed.as_ref().is_some_and(|p| p.exact) {
            // Execute granted only where the rule's own path is reached through trusted
            // links (a program file, the ELF loader's chain of system links, a tree):
            // never at an existing ancestor of a missing path, nor where a link the
            // agent could have planted leads. The kernel executes a script's
            // interpreter and a program's ELF loader without an `execve` the supervisor
            // decides, so execute on a wider place, or on a planted link's target, would
            // let the agent run what no rule allows. The supervisor decides launches on
            // the resolved path, so nothing allowed is lost: a path reached through an
            // agent's link is decided (and granted) where it leads.
            continue;
        }
        let Some(Placed { at, dir, exact, .. }) = placed else {
            continue;
        };
        let mut rights = g.rights;
        if !exact {
            // Granted at an ancestor: making the missing path needs `create` there.
            rights.create |= g.rights.create || g.rights.write || g.rights.read;
        }
        let access = fs_access(rights, dir);
        if !access.is_empty() {
            let fd = open_placed(&at).map_err(|e| err(&format!("opening {}", at.display()), &e))?;
            created = created
                .add_rule(PathBeneath::new(fd, access))
                .map_err(|e| err(&format!("granting {}", at.display()), &e))?;
        }
        if !dir && (g.rights.create || g.rights.delete) {
            // Making or removing a file is a right on its directory.
            if let Some(parent) = at.parent() {
                let r = FsRights {
                    create: g.rights.create,
                    delete: g.rights.delete,
                    ..FsRights::default()
                };
                let fd = open_placed(parent)
                    .map_err(|e| err(&format!("opening {}", parent.display()), &e))?;
                created = created
                    .add_rule(PathBeneath::new(fd, fs_access(r, true)))
                    .map_err(|e| err(&format!("granting {}", parent.display()), &e))?;
            }
        }
    }
    for (ports, access) in [(connect, AccessNet::ConnectTcp), (bind, AccessNet::BindTcp)] {
        for p in ports.into_iter().flatten() {
            created = created
                .add_rule(NetPort::new(p, access))
                .map_err(|e| err("granting a TCP port", &e))?;
        }
    }
    Option::<OwnedFd>::from(created)
        .ok_or_else(|| SetupError("Landlock is not available on this kernel".into()))
}

fn ports(ranges: &[(u16, u16)], extra: &[u16]) -> Option<Vec<u16>> {
    let mut out: Vec<u16> = extra.to_vec();
    for &(a, b) in ranges {
        if out.len() + usize::from(b.saturating_sub(a)) + 1 > MAX_PORT_RULES {
            return None;
        }
        out.extend(a..=b);
    }
    out.sort_unstable();
    out.dedup();
    Some(out)
}

/// At most this many program files are granted one by one; a place holding more keeps
/// its directory grant.
const MAX_EXEC_FILES: usize = 20_000;

/// At most this many directory entries are looked at for one grant (each is a `stat`):
/// a place as large as `/usr` (130,000 entries here) keeps its directory grant, so
/// start-up stays in milliseconds (it took 0.7 s to walk `/usr`).
const MAX_EXEC_WALK: usize = 4_096;

/// What [`exec_per_file`] made of the execute grants.
#[derive(Debug)]
pub struct ExecGrants {
    /// The bound with execute granted per program file where it could be.
    pub bounds: Bounds,
    /// Every file Landlock lets the kernel execute is one the policy allows launching
    /// whatever its arguments (the ELF loaders aside: see docs/enforcement.md).
    pub exact: bool,
    /// The launch trees made for this run (empty directories), removed when it is
    /// dropped if still empty.
    pub made: MadeTrees,
}

/// The directories [`make_tree`] made for one run, in the order made. Owned by the run:
/// [`MadeTrees::unmake`] (or dropping it, on every way a start can fail after they were
/// made) removes those still empty, deepest first, each relative to its parent opened
/// through no symbolic link. A run leaves no empty `~/.pyenv/versions` behind on a
/// machine without pyenv, nor one made for a run that never started (escape
/// `tree::made_tree_removed_on_failed_start`); two runs of one process each remove
/// their own.
#[derive(Debug, Default)]
pub struct MadeTrees(Vec<PathBuf>);

impl MadeTrees {
    /// Removes the trees still empty (once the run's processes are gone).
    pub fn unmake(&mut self) {
        for d in std::mem::take(&mut self.0).iter().rev() {
            let (Some(parent), Some(name)) = (d.parent(), d.file_name()) else {
                continue;
            };
            if let Ok(dir) = open_dir_placed(parent) {
                let _ = rustix::fs::unlinkat(&dir, name, rustix::fs::AtFlags::REMOVEDIR);
            }
        }
    }
}

impl Drop for MadeTrees {
    fn drop(&mut self) {
        self.unmake();
    }
}

/// Replaces each execute-only grant on a directory (the literal prefix of an app
/// rule's pattern: `/usr/bin` for `/usr/bin/*`) by grants on the existing files beneath
/// it that the policy may let run: not denied for every argument list. So `allow launch
/// "/usr/bin/*"` with `deny launch "/usr/bin/curl"` leaves curl unexecutable by the
/// kernel, whatever path or arguments the supervisor saw. A directory the agent may
/// write or create in keeps its grant (a file made there later must be able to run),
/// as does one with more than [`MAX_EXEC_FILES`] files.
pub fn exec_per_file(b: &Bounds, engine: &mxc_eval::Engine) -> ExecGrants {
    let writable: Vec<&Path> =
        b.fs.iter()
            .filter(|g| g.rights.write || g.rights.create)
            .map(|g| g.path.as_path())
            .collect();
    let mut out = Bounds {
        fs: Vec::new(),
        ..b.clone()
    };
    let mut exact = true;
    let mut made = MadeTrees::default();
    let mut files = 0usize;
    // Decides one existing program file: granted, and whether exactly.
    let grant_file = |path: &Path, out: &mut Vec<crate::Grant>, exact: &mut bool| {
        use std::os::unix::ffi::OsStrExt;
        let bytes = path.as_os_str().as_bytes();
        let depends = engine.launch_depends_on_args(bytes);
        let effect = engine.launch(bytes, &[] as &[&[u8]]).effect;
        if !depends && effect == mxc_eval::Effect::Deny {
            return;
        }
        if depends || effect != mxc_eval::Effect::Allow {
            *exact = false;
        }
        out.push(crate::Grant {
            path: path.to_path_buf(),
            rights: FsRights {
                execute: true,
                ..FsRights::default()
            },
            subtree: false,
        });
    };
    for g in &b.fs {
        let r = g.rights;
        let exec_only = r.execute && !(r.read || r.write || r.create || r.delete);
        if !exec_only {
            out.fs.push(g.clone());
            continue;
        }
        let overlaps = writable
            .iter()
            .any(|w| w.starts_with(&g.path) || g.path.starts_with(w));
        match placed_in(&g.path, b) {
            _ if is_loader(g) => {}
            Some(p) if p.exact => {}
            Some(p) => {
                // Missing (a tree or program the run may make), or reached through a
                // link the agent could have planted. Execute on the place the grant
                // would land (the nearest existing directory) lets the kernel run any
                // file there without a decided `execve` (a `#!` script's interpreter,
                // a program's ELF loader, a path swapped after the decision), so it is
                // granted only where everything beneath may run anyway (then nothing
                // undecided runs what a decided launch could not: still exact). Else a
                // missing tree the agent may make is made now, empty, and granted
                // exactly; anything else gets no execute right (see `ruleset`).
                use std::os::unix::ffi::OsStrExt;
                if engine.launch_allows_all_beneath(p.at.as_os_str().as_bytes()) {
                    out.fs.push(crate::Grant {
                        path: p.at,
                        subtree: true,
                        ..g.clone()
                    });
                } else if g.subtree && make_tree(&g.path, &p.at, b, engine, &mut made) {
                    exact &= engine.launch_allows_all_beneath(g.path.as_os_str().as_bytes());
                    out.fs.push(g.clone());
                }
                continue;
            }
            None => continue,
        }
        let dir = std::fs::metadata(&g.path).is_ok_and(|m| m.is_dir());
        if !dir {
            if std::fs::metadata(&g.path).is_ok_and(|m| m.is_file()) {
                // A file named as it is (a literal app rule, or an ELF loader, which
                // the policy need not allow launching: the kernel opens it to run any
                // dynamic program). Kept; exact unless `ask` or decided by arguments.
                use std::os::unix::ffi::OsStrExt;
                let bytes = g.path.as_os_str().as_bytes();
                if engine.launch_depends_on_args(bytes)
                    || engine.launch(bytes, &[] as &[&[u8]]).effect == mxc_eval::Effect::Ask
                {
                    exact = false;
                }
                out.fs.push(g.clone());
            }
            continue;
        }
        let found = if overlaps {
            None
        } else {
            program_files(&g.path, MAX_EXEC_FILES.saturating_sub(files))
        };
        match found {
            Some(list) => {
                files += list.len();
                for f in list {
                    grant_file(&f, &mut out.fs, &mut exact);
                }
            }
            None => {
                // The whole directory: exact still when everything beneath it may run.
                exact &= lands_where_all_may_run(&g.path, b, engine);
                out.fs.push(g.clone());
            }
        }
    }
    ExecGrants {
        bounds: out,
        exact,
        made,
    }
}

/// Makes the missing directories of launch tree `path` beneath `at` (the existing
/// directory its grant would land on, reached through no untrusted link), each only
/// where the policy lets the agent create it (so the agent could have made it itself),
/// owned as the directory holding it, never through a symbolic link (each made and
/// opened relative to its parent, `RESOLVE_NO_SYMLINKS`). Whether the tree is now
/// there, reached as a grant would be.
fn make_tree(
    path: &Path,
    at: &Path,
    b: &Bounds,
    engine: &mxc_eval::Engine,
    made: &mut MadeTrees,
) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(rest) = path.strip_prefix(at) else {
        return false;
    };
    let mut cur = at.to_path_buf();
    for c in rest.components() {
        let std::path::Component::Normal(name) = c else {
            return false;
        };
        let next = cur.join(name);
        if engine
            .fs(next.as_os_str().as_bytes(), mxc_eval::FsRight::Create)
            .effect
            != mxc_eval::Effect::Allow
        {
            return false;
        }
        let Ok(dir) = open_dir_placed(&cur) else {
            return false;
        };
        let Ok(st) = rustix::fs::fstat(&dir) else {
            return false;
        };
        match rustix::fs::mkdirat(&dir, name, rustix::fs::Mode::from_raw_mode(0o755)) {
            Ok(()) => {
                made.0.push(next.clone());
                let _ = rustix::fs::chownat(
                    &dir,
                    name,
                    Some(rustix::fs::Uid::from_raw(st.st_uid)),
                    Some(rustix::fs::Gid::from_raw(st.st_gid)),
                    rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
                );
            }
            Err(rustix::io::Errno::EXIST) => {}
            Err(_) => return false,
        }
        cur = next;
    }
    placed_in(path, b).is_some_and(|p| p.exact && p.dir)
}

/// Whether a directory grant on `path` is exact for execution: everything beneath
/// the rule's path and beneath the directory the grant really lands on (an existing
/// ancestor when the path is missing or reached through an untrusted link) may run.
fn lands_where_all_may_run(path: &Path, b: &Bounds, engine: &mxc_eval::Engine) -> bool {
    use std::os::unix::ffi::OsStrExt;
    engine.launch_allows_all_beneath(path.as_os_str().as_bytes())
        && placed_in(path, b)
            .is_some_and(|p| engine.launch_allows_all_beneath(p.at.as_os_str().as_bytes()))
}

/// The regular files beneath `dir` (symbolic links not followed: the kernel executes
/// their targets, granted where they lie), or `None` beyond `max` files or
/// [`MAX_EXEC_WALK`] entries.
fn program_files(dir: &Path, max: usize) -> Option<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut todo = vec![(dir.to_path_buf(), 0u32)];
    let mut seen = 0usize;
    while let Some((d, depth)) = todo.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            seen += 1;
            if seen > MAX_EXEC_WALK {
                return None;
            }
            let Ok(t) = e.file_type() else { continue };
            // Only files someone may execute (the kernel wants an execute bit too).
            if t.is_file()
                && e.metadata().is_ok_and(|m| {
                    std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
                })
            {
                if out.len() >= max {
                    return None;
                }
                out.push(e.path());
            } else if t.is_dir() {
                if depth >= 32 {
                    return None;
                }
                todo.push((e.path(), depth + 1));
            }
        }
    }
    Some(out)
}

/// Whether this kernel can enforce the bound at all (Landlock ABI 6 with the scopes).
pub fn probe() -> Result<(), SetupError> {
    ruleset(&Bounds::default(), &[]).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FsRights, Grant};

    #[test]
    fn grants_on_procfs_are_supervised() {
        let (read, exec) = (rights("r"), rights("x"));
        let b = exact;
        assert!(reaches_procfs(&b(vec![grant("/proc", read, true)])));
        assert!(reaches_procfs(&b(vec![grant(
            "/proc/self/status",
            read,
            false
        )])));
        assert!(reaches_procfs(&b(vec![grant("/", read, true)])));
        assert!(!reaches_procfs(&b(vec![grant("/", read, false)])));
        assert!(!reaches_procfs(&b(vec![grant("/usr", read, true)])));
        assert!(!reaches_procfs(&b(vec![grant("/proc", exec, true)])));
        assert!(!reaches_procfs(&b(vec![grant("/process", read, true)])));
    }

    #[test]
    fn grants_writing_sysfs_are_supervised() {
        let (read, write, create) = (rights("r"), rights("rw"), rights("c"));
        let b = exact;
        assert!(writes_sysfs(&b(vec![grant("/sys", write, true)])));
        assert!(writes_sysfs(&b(vec![grant(
            "/sys/power/state",
            write,
            false
        )])));
        assert!(writes_sysfs(&b(vec![grant("/", write, true)])));
        assert!(writes_sysfs(&b(vec![grant("/", create, true)])));
        assert!(supervise_fs(&b(vec![grant("/sys/kernel", write, true)])));
        assert!(!writes_sysfs(&b(vec![grant("/sys", read, true)])));
        assert!(!writes_sysfs(&b(vec![grant("/", write, false)])));
        assert!(!writes_sysfs(&b(vec![grant("/usr", write, true)])));
        assert!(!writes_sysfs(&b(vec![grant("/system", write, true)])));
    }

    /// A rule that names sysfs through a trusted link (root's, in a directory only root
    /// may write) lands there: supervised too.
    #[test]
    fn grants_writing_sysfs_through_a_link_are_supervised() {
        use std::os::unix::fs::PermissionsExt;
        if !rustix::process::geteuid().is_root() {
            // Only root's links are trusted (followed): as another user the rule's
            // grant stays on the link's own path, outside /sys.
            eprintln!("skipped: needs root (CI runs as root)");
            return;
        }
        let d = std::env::temp_dir().join(format!("mxc-sysfs-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("/sys/kernel", d.join("k")).unwrap();
        let b = exact(vec![grant(
            d.join("k/mm").to_str().unwrap(),
            rights("w"),
            true,
        )]);
        let landed = placed_in(&b.fs[0].path, &b).map(|p| p.at);
        let (writes, supervised) = (writes_sysfs(&b), supervise_fs(&b));
        let _ = std::fs::remove_dir_all(&d);
        assert_eq!(landed.as_deref(), Some(Path::new("/sys/kernel/mm")));
        assert!(writes);
        assert!(supervised);
    }

    /// Rights by letter: `r`ead, `w`rite, `c`reate, `d`elete, e`x`ecute.
    fn rights(letters: &str) -> FsRights {
        FsRights {
            read: letters.contains('r'),
            write: letters.contains('w'),
            create: letters.contains('c'),
            delete: letters.contains('d'),
            execute: letters.contains('x'),
        }
    }

    /// A bound of `gs` whose rules Landlock expresses exactly.
    fn exact(gs: Vec<Grant>) -> Bounds {
        Bounds {
            fs: gs,
            fs_exact: true,
            ..Bounds::default()
        }
    }

    fn grant(path: &str, rights: FsRights, subtree: bool) -> Grant {
        Grant {
            path: path.into(),
            rights,
            subtree,
        }
    }

    fn engine(src: &str, dir: &Path) -> mxc_eval::Engine {
        let params = [("d".to_string(), dir.display().to_string())].into();
        mxc_lang::compile::engine_of_source(src, "a", &params).unwrap()
    }

    /// A grant never lands where a link an agent could have planted points: a link in
    /// a tree the policy lets the agent change (or one not owned by root) places the
    /// grant on the directory holding it, not exactly (file calls supervised); the
    /// system's own kind of link (root's, in a directory only root writes, that no
    /// grant lets the agent change) is followed, exactly, and recorded.
    #[test]
    fn grants_never_follow_planted_links() {
        use std::os::unix::fs::PermissionsExt;
        let d = std::env::temp_dir().join(format!("mxc-placed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        for sub in ["work", "outside", "sys/real"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        for p in [&d, &d.join("sys")] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::os::unix::fs::symlink(d.join("outside"), d.join("work/cache")).unwrap();
        std::os::unix::fs::symlink("real", d.join("sys/link")).unwrap();
        let all = FsRights {
            read: true,
            write: true,
            create: true,
            delete: true,
            ..FsRights::default()
        };
        let read = FsRights {
            read: true,
            ..FsRights::default()
        };
        let work = d.join("work");
        let b = Bounds {
            fs: vec![
                grant(&work.display().to_string(), all, true),
                grant(&format!("{}/cache", work.display()), read, true),
                grant(&format!("{}/sys/link", d.display()), read, true),
            ],
            fs_exact: true,
            ..Bounds::default()
        };
        let cache = placed_in(&work.join("cache/key"), &b).unwrap();
        assert_eq!(cache.at, work, "placed on the link's directory");
        assert!(!cache.exact && cache.dir && cache.links.is_empty());
        assert!(
            widened(&b),
            "a grant moved off a planted link is supervised"
        );
        let root_running = rustix::process::geteuid().is_root();
        let sys = placed_in(&d.join("sys/link"), &b).unwrap();
        if root_running {
            // Root's link in a directory only root may write, no grant changes it.
            assert_eq!(sys.at, d.join("sys/real"));
            assert!(sys.exact && sys.dir);
            assert_eq!(sys.links, vec![(d.join("sys/link"), PathBuf::from("real"))]);
        } else {
            assert_eq!(sys.at, d.join("sys"));
            assert!(!sys.exact);
        }
        // The same link, once a grant lets the agent change its directory: not trusted.
        let mut b2 = b.clone();
        b2.fs
            .push(grant(&format!("{}/sys", d.display()), all, true));
        let sys2 = placed_in(&d.join("sys/link"), &b2).unwrap();
        assert_eq!(sys2.at, d.join("sys"));
        assert!(!sys2.exact);
        // A missing path lands on its nearest directory, not exactly.
        let missing = placed_in(&d.join("sys/real/none/deeper"), &b).unwrap();
        assert_eq!(missing.at, d.join("sys/real"));
        assert!(!missing.exact);
        // The ruleset is built (each grant opened without following links).
        ruleset(&b, &[]).unwrap();
        let _ = std::fs::remove_dir_all(&d);
    }

    /// The bound comes from the table's plan alone: rights at literal prefixes,
    /// execute on launchable programs, TCP ports; nothing wider.
    #[test]
    fn the_bound_is_the_tables_plan() {
        let e = engine(
            r#"param d: path
policy p {
  fs { allow read "/usr/**"  allow read, write "${d}/w/**"  deny write "${d}/w/.git/**" }
  net { allow connect "example.com:443" }
  app { allow launch "/usr/bin/git" }
}
agent a { use p }"#,
            Path::new("/srv"),
        );
        let b = from_plan(&e.table().plan);
        let find = |p: &str| b.fs.iter().find(|g| g.path == Path::new(p)).cloned();
        let usr = find("/usr").unwrap();
        assert!(usr.subtree && usr.rights.read && !usr.rights.write && !usr.rights.execute);
        let w = find("/srv/w").unwrap();
        assert!(w.rights.read && w.rights.write && !w.rights.delete);
        let git = find("/usr/bin/git").unwrap();
        assert!(git.rights.execute && !git.rights.read && !git.subtree);
        assert!(!b.fs_exact, "a carve-out is not exact");
        assert_eq!(b.tcp_connect, Some(vec![(443, 443)]));
        let others: Vec<_> =
            b.fs.iter()
                .filter(|g| !(g.path.starts_with("/usr") || g.path.starts_with("/srv/w")))
                .collect();
        assert!(
            others.iter().all(|g| g.rights
                == FsRights {
                    execute: true,
                    ..FsRights::default()
                }
                && g.path.to_string_lossy().contains("ld-")),
            "only the loaders beyond the plan: {others:?}"
        );
    }

    #[test]
    fn whole_trees_may_run_everything_beneath() {
        let d = std::env::temp_dir();
        let e = engine(
            r#"param d: path
policy p { app {
  allow launch "/opt/a/**", "/opt/b/*", "/opt/c/**"
  deny launch "/opt/c/x/curl"
  ask launch "/opt/a/tool" args "push*"
} }
agent a { use p }"#,
            &d,
        );
        assert!(
            !e.launch_allows_all_beneath(b"/opt/a"),
            "an ask with args below"
        );
        assert!(
            !e.launch_allows_all_beneath(b"/opt/b"),
            "subdirectories are not allowed"
        );
        assert!(
            !e.launch_allows_all_beneath(b"/opt/c"),
            "a denied program below"
        );
        assert!(e.launch_allows_all_beneath(b"/opt/c/y"));
        assert!(!e.launch_allows_all_beneath(b"/usr"));
    }

    #[test]
    fn execute_is_granted_per_program_file() {
        use std::os::unix::fs::PermissionsExt;
        let d = std::env::temp_dir().join(format!("mxc-exec-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("bin/sub")).unwrap();
        for f in ["bin/a", "bin/curl", "bin/sub/c", "bin/data"] {
            std::fs::write(d.join(f), "x").unwrap();
            let mode = if f.ends_with("data") { 0o644 } else { 0o755 };
            std::fs::set_permissions(d.join(f), std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let exec = FsRights {
            execute: true,
            ..FsRights::default()
        };
        let b = Bounds {
            fs: vec![grant(&format!("{}/bin", d.display()), exec, false)],
            fs_exact: true,
            ..Bounds::default()
        };
        let granted = |g: &ExecGrants| {
            let mut v: Vec<String> = g
                .bounds
                .fs
                .iter()
                .map(|g| g.path.strip_prefix(&d).unwrap().display().to_string())
                .collect();
            v.sort();
            v
        };
        let e = engine(
            r#"param d: path
            policy p { app { allow launch "${d}/bin/**"  deny launch "${d}/bin/curl" } }
            agent a { use p }"#,
            &d,
        );
        let g = exec_per_file(&b, &e);
        assert_eq!(granted(&g), ["bin/a", "bin/sub/c"]);
        assert!(g.exact);
        // `ask`, or a decision by arguments: still granted, no longer exact.
        let e = engine(
            r#"param d: path
            policy p { app { allow launch "${d}/bin/**"  ask launch "${d}/bin/a"
                             deny launch "${d}/bin/sub/c" args "--evil*" } }
            agent a { use p }"#,
            &d,
        );
        let g = exec_per_file(&b, &e);
        assert_eq!(granted(&g), ["bin/a", "bin/curl", "bin/sub/c"]);
        assert!(!g.exact);
        // A place the agent may create in keeps its directory grant.
        let mut w = b.clone();
        w.fs.push(grant(
            &d.display().to_string(),
            FsRights {
                create: true,
                ..FsRights::default()
            },
            true,
        ));
        let e = engine(
            r#"param d: path
            policy p { app { allow launch "${d}/bin/**" } }
            agent a { use p }"#,
            &d,
        );
        let g = exec_per_file(&w, &e);
        // Everything beneath it may run: still exact.
        assert!(g.exact);
        assert!(g.bounds.fs.iter().any(|x| x.path == d.join("bin")));
        // A narrower rule there: what the agent adds beneath may not run, but the
        // kernel would let it: not exact.
        let e = engine(
            r#"param d: path
            policy p { app { allow launch "${d}/bin/*" } }
            agent a { use p }"#,
            &d,
        );
        let g = exec_per_file(&w, &e);
        assert!(!g.exact);
        assert!(g.bounds.fs.iter().any(|x| x.path == d.join("bin")));
        let _ = std::fs::remove_dir_all(&d);
    }

    /// Execute grants that would land elsewhere than their rule's path are not made:
    /// a program path the agent could have replaced by a link (the grant would follow it
    /// to the link's target, which a script could then name as its interpreter:
    /// escapes `exec_link`), and a launch tree missing in a place the agent writes (the
    /// grant would land on its existing ancestor: escapes `launch_tree`). Nothing wider
    /// is granted, so the bound stays exact.
    #[test]
    fn execute_grants_that_land_elsewhere_are_not_made() {
        let d = std::env::temp_dir().join(format!("mxc-exec-land-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::os::unix::fs::symlink("/usr/bin/true", d.join("tool")).unwrap();
        let exec = FsRights {
            execute: true,
            ..FsRights::default()
        };
        let create = FsRights {
            create: true,
            write: true,
            ..FsRights::default()
        };
        let w = |path: &str, subtree: bool| Bounds {
            fs: vec![
                grant(&format!("{}/{path}", d.display()), exec, subtree),
                grant(&d.display().to_string(), create, true),
            ],
            fs_exact: true,
            ..Bounds::default()
        };
        // `tool` is a link in a place the agent may change (it could have planted it).
        let e = engine(
            r#"param d: path
            policy p { app { allow launch "${d}/tool", "${d}/tools/**" } }
            agent a { use p }"#,
            &d,
        );
        for (path, subtree) in [("tool", false), ("tools", true)] {
            let g = exec_per_file(&w(path, subtree), &e);
            assert!(g.exact, "{path}");
            assert!(
                !g.bounds.fs.iter().any(|x| x.rights.execute),
                "{path}: {:?}",
                g.bounds.fs
            );
            // And `ruleset` itself makes no grant of them (it would fail on nothing).
            ruleset(&w(path, subtree), &[]).unwrap();
        }
        // A missing tree the policy lets the agent make is made (empty) and granted
        // exactly; one it may not make is not.
        let e = engine(
            r#"param d: path
            policy p { fs { allow all "${d}/made/**" } app { allow launch "${d}/made/t/**", "${d}/not/**" } }
            agent a { use p }"#,
            &d,
        );
        let mut b = w("made/t", true);
        b.fs.push(grant(&format!("{}/not", d.display()), exec, true));
        let g = exec_per_file(&b, &e);
        assert!(g.exact);
        assert!(d.join("made/t").is_dir() && !d.join("not").exists());
        let execs: Vec<_> = g.bounds.fs.iter().filter(|x| x.rights.execute).collect();
        assert_eq!(execs.len(), 1, "{execs:?}");
        assert_eq!(execs[0].path, d.join("made/t"));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn execute_only_grants_never_widen() {
        let read = FsRights {
            read: true,
            ..FsRights::default()
        };
        let exec = FsRights {
            execute: true,
            ..FsRights::default()
        };
        // `allow launch "/usr/bin/*"`: execute on the directory, one level (Landlock
        // grants beneath it), but every execve is decided exactly anyway.
        let b = Bounds {
            fs: vec![grant("/usr", read, true), grant("/usr/bin", exec, false)],
            fs_exact: true,
            ..Bounds::default()
        };
        assert!(!widened(&b) && !supervise_fs(&b));
        // The same shape with `read` is wider than its rule: supervised.
        let b = Bounds {
            fs: vec![grant("/usr/bin", read, false)],
            fs_exact: true,
            ..Bounds::default()
        };
        assert!(widened(&b) && supervise_fs(&b));
    }
}

//! The container tier's filesystem view, planned from the agent's bound.
//!
//! The new root is an empty, read-only tmpfs. Into it go only the paths the policy can
//! allow (the Landlock grants, each at the existing path it lands on): read-only binds
//! where the policy can only read or run, writable binds where it can write, create or
//! delete. Symbolic links on the way to a granted path are recreated as they are on the
//! host (so `/lib/...` resolves to `/usr/lib/...` inside as outside, and the engine
//! sees the same paths in both tiers). A private procfs is mounted at `/proc`; nothing
//! of the host's `/proc` is bound. The working directory is made (empty) when the
//! policy grants nothing there, so the command starts where it was asked to.

use crate::Bounds;
use std::path::{Component, Path, PathBuf};

/// One bind: host `source` at the same path inside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedBind {
    pub path: PathBuf,
    pub readonly: bool,
    pub dir: bool,
}

/// What the new root holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MountPlan {
    /// Parents before children.
    pub binds: Vec<PlannedBind>,
    /// Directories made in the tmpfs (parents first): mount points and the way to them.
    pub dirs: Vec<PathBuf>,
    /// Empty files made in the tmpfs (mount points of file binds).
    pub files: Vec<PathBuf>,
    /// Symbolic links made in the tmpfs: (where, target as on the host).
    pub links: Vec<(PathBuf, PathBuf)>,
    /// Host directories shown behind an overlay whose writes go to a tmpfs dropped at
    /// the end (`--learn`'s throwaway view).
    pub overlays: Vec<PathBuf>,
    /// The working directory inside.
    pub cwd: PathBuf,
    /// A devpts of the sandbox's own at `/dev/pts` (`newinstance`, `/dev/ptmx` a link
    /// to its `ptmx`): `--learn`, which must not reach the host's terminals.
    pub devpts: bool,
}

fn under(p: &Path, dir: &Path) -> bool {
    p.starts_with(dir)
}

/// `path` with every symbolic link resolved, and the links met on the way (where each
/// is, with its parent already resolved, and its target as written).
fn canonical_with_links(path: &Path) -> Option<(PathBuf, Vec<(PathBuf, PathBuf)>)> {
    use std::collections::VecDeque;
    let mut cur = PathBuf::from("/");
    let mut links = Vec::new();
    let mut queue: VecDeque<std::ffi::OsString> = VecDeque::new();
    let push_front = |queue: &mut VecDeque<std::ffi::OsString>, p: &Path| {
        let parts: Vec<_> = p
            .components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n.to_os_string()),
                Component::ParentDir => Some("..".into()),
                _ => None,
            })
            .collect();
        for c in parts.into_iter().rev() {
            queue.push_front(c);
        }
    };
    push_front(&mut queue, path);
    let mut followed = 0;
    while let Some(c) = queue.pop_front() {
        if c == ".." {
            cur.pop();
            continue;
        }
        let next = cur.join(&c);
        let meta = std::fs::symlink_metadata(&next).ok()?;
        if meta.file_type().is_symlink() {
            followed += 1;
            if followed > 40 {
                return None;
            }
            let target = std::fs::read_link(&next).ok()?;
            links.push((next, target.clone()));
            if target.is_absolute() {
                cur = PathBuf::from("/");
            }
            push_front(&mut queue, &target);
        } else {
            cur = next;
        }
    }
    Some((cur, links))
}

/// Plans the root for `bounds`, with the command starting in `cwd`.
pub fn plan(bounds: &Bounds, cwd: &Path) -> MountPlan {
    let proc_ = Path::new("/proc");
    // (canonical path, writable, is a directory)
    let mut wanted: Vec<(PathBuf, bool, bool)> = Vec::new();
    let mut links: Vec<(PathBuf, PathBuf)> = Vec::new();
    for g in &bounds.fs {
        // Placed as Landlock places it: a symbolic link an agent could have planted
        // is never followed (the grant lands on the directory holding it); trusted
        // links on the way (the ELF loader's chain) are recreated inside.
        let Some(crate::landlock_bound::Placed {
            at: canon,
            links: l,
            ..
        }) = crate::landlock_bound::placed_in(&g.path, bounds)
        else {
            continue;
        };
        links.extend(l);
        let rw = g.rights.write || g.rights.create || g.rights.delete;
        if canon == Path::new("/") {
            // The whole root: bound entry by entry, so that the host's /proc (a
            // submount of any bind of `/`) is never among them.
            let Ok(rd) = std::fs::read_dir("/") else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path();
                match std::fs::symlink_metadata(&p) {
                    Ok(m) if m.file_type().is_symlink() => {
                        if let Ok(t) = std::fs::read_link(&p) {
                            links.push((p, t));
                        }
                    }
                    Ok(m) if p != proc_ => wanted.push((p, rw, m.is_dir())),
                    _ => {}
                }
            }
            continue;
        }
        if under(&canon, proc_) {
            continue; // the private /proc stands in for the host's
        }
        let Ok(meta) = std::fs::metadata(&canon) else {
            continue;
        };
        wanted.push((canon, rw, meta.is_dir()));
    }
    wanted.sort();
    let mut binds: Vec<PlannedBind> = Vec::new();
    for (p, rw, dir) in wanted {
        if let Some(last) = binds.last_mut() {
            if last.path == p {
                last.readonly &= !rw;
                continue;
            }
        }
        // The nearest bind holding it already: enough unless it is read-only and this
        // one is writable.
        let holder = binds.iter().rev().find(|b| under(&p, &b.path));
        if holder.is_some_and(|b| !b.readonly || !rw) {
            continue;
        }
        binds.push(PlannedBind {
            path: p,
            readonly: !rw,
            dir,
        });
    }
    // A writable bind merged into an earlier read-only one may now cover later ones;
    // drop binds their holder already covers.
    let mut kept: Vec<PlannedBind> = Vec::new();
    for b in binds {
        let holder = kept.iter().rev().find(|k| under(&b.path, &k.path));
        if holder.is_some_and(|h| !h.readonly || b.readonly) {
            continue;
        }
        kept.push(b);
    }
    let binds = kept;
    let covered = |p: &Path| binds.iter().any(|b| under(p, &b.path) && b.path != p);
    let in_bind = |p: &Path| binds.iter().any(|b| under(p, &b.path));
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut files: Vec<PathBuf> = Vec::new();
    let ancestors = |p: &Path, dirs: &mut Vec<PathBuf>| {
        let mut a = p.parent();
        while let Some(d) = a {
            if d == Path::new("/") {
                break;
            }
            if !in_bind(d) {
                dirs.push(d.to_path_buf());
            }
            a = d.parent();
        }
    };
    for b in &binds {
        if covered(&b.path) {
            continue; // its mount point is inside another bind
        }
        ancestors(&b.path, &mut dirs);
        if b.path != Path::new("/") {
            if b.dir {
                dirs.push(b.path.clone());
            } else {
                files.push(b.path.clone());
            }
        }
    }
    links.sort();
    links.dedup();
    links.retain(|(at, _)| !in_bind(at) && !under(at, proc_));
    for (at, _) in &links {
        ancestors(at, &mut dirs);
    }
    let cwd = canonical_with_links(cwd)
        .map(|(c, _)| c)
        .unwrap_or_else(|| cwd.to_path_buf());
    if !in_bind(&cwd) && !under(&cwd, proc_) {
        ancestors(&cwd, &mut dirs);
        if cwd != Path::new("/") {
            dirs.push(cwd.clone());
        }
    }
    if !in_bind(proc_) {
        dirs.push(proc_.to_path_buf());
    }
    dirs.sort();
    dirs.dedup();
    // A link where a directory must be (a path granted both through a link and as a
    // directory of its own) keeps the directory.
    links.retain(|(at, _)| !dirs.contains(at) && !files.contains(at));
    MountPlan {
        binds,
        dirs,
        files,
        links,
        devpts: false,
        overlays: Vec::new(),
        cwd,
    }
}

/// The devices a `--learn` run sees.
const LEARN_DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
];

/// The throwaway view of `--learn`: every directory at the top of the host's root
/// behind an overlay (writes land in a tmpfs and vanish with the run), `/sys` bound
/// read-only, of `/dev` only [`LEARN_DEVICES`], the top-level symbolic links recreated, a private `/proc`. A
/// directory with filesystems mounted beneath it is bound read-only (with them) rather
/// than overlaid: writes there fail instead of vanishing.
pub fn plan_learn(cwd: &Path) -> MountPlan {
    let mut m = MountPlan {
        cwd: cwd.to_path_buf(),
        ..MountPlan::default()
    };
    let special = [Path::new("/proc"), Path::new("/dev"), Path::new("/sys")];
    // An overlay cannot show filesystems mounted beneath its lower directory (and the
    // kernel refuses to hide them): such directories are bound read-only instead.
    let mount_points: Vec<PathBuf> = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4).map(PathBuf::from))
        .collect();
    let has_submounts = |d: &Path| mount_points.iter().any(|m| m != d && m.starts_with(d));
    if let Ok(rd) = std::fs::read_dir("/") {
        let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                if let Ok(t) = std::fs::read_link(&p) {
                    m.links.push((p, t));
                }
            } else if meta.is_dir() {
                m.dirs.push(p.clone());
                if p == special[1] {
                    // Not the host's devices (a device node is written through, whatever
                    // the mount says): the harmless ones and terminals only.
                    for dev in LEARN_DEVICES {
                        let d = Path::new(dev);
                        if let Ok(meta) = std::fs::metadata(d) {
                            if meta.is_dir() {
                                m.dirs.push(d.to_path_buf());
                            } else {
                                m.files.push(d.to_path_buf());
                            }
                            m.binds.push(PlannedBind {
                                path: d.to_path_buf(),
                                readonly: false,
                                dir: meta.is_dir(),
                            });
                        }
                    }
                } else if p == special[2] || (p != special[0] && has_submounts(&p)) {
                    m.binds.push(PlannedBind {
                        path: p,
                        readonly: true,
                        dir: true,
                    });
                } else if p != special[0] {
                    m.overlays.push(p);
                }
            }
        }
    }
    // Terminals: a devpts instance of the run's own, never the host's (whose every
    // terminal, another session's or the one that started mxcc, could be opened,
    // written to and read from). The run's own terminal, if any, is the pty MXC made
    // for it, reached through its descriptors.
    if m.dirs.iter().any(|d| d == special[1]) {
        m.dirs.push(PathBuf::from("/dev/pts"));
        m.links
            .push((PathBuf::from("/dev/ptmx"), PathBuf::from("pts/ptmx")));
        m.devpts = true;
    }
    if !m.dirs.iter().any(|d| d == special[0]) {
        m.dirs.push(special[0].to_path_buf());
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FsRights, Grant};

    fn grant(p: &Path, write: bool) -> Grant {
        Grant {
            path: p.to_path_buf(),
            rights: FsRights {
                read: true,
                write,
                ..FsRights::default()
            },
            subtree: true,
        }
    }

    /// `--learn` never binds the host's terminals: a devpts of its own, `/dev/ptmx` its
    /// `ptmx`.
    #[test]
    fn learn_has_a_devpts_of_its_own() {
        let m = plan_learn(Path::new("/"));
        assert!(m.devpts);
        assert!(
            !m.binds
                .iter()
                .any(|b| b.path.starts_with("/dev/pts") || b.path == Path::new("/dev/ptmx")),
            "{:?}",
            m.binds
        );
        assert!(m.dirs.contains(&PathBuf::from("/dev/pts")));
        assert!(m
            .links
            .contains(&(PathBuf::from("/dev/ptmx"), PathBuf::from("pts/ptmx"))));
    }

    #[test]
    fn binds_nest_only_where_rights_grow_and_links_are_kept() {
        let d = std::env::temp_dir().join(format!("mxc-plan-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("usr/lib")).unwrap();
        std::fs::create_dir_all(d.join("ws/out")).unwrap();
        std::fs::write(d.join("usr/lib/f"), "x").unwrap();
        std::os::unix::fs::symlink("usr/lib", d.join("lib")).unwrap();
        let b = Bounds {
            fs: vec![
                grant(&d.join("usr"), false),
                grant(&d.join("usr/lib/f"), false), // covered by usr
                grant(&d.join("lib"), false),       // a link to usr/lib
                grant(&d.join("ws"), false),
                grant(&d.join("ws/out"), true), // writable inside read-only
                grant(&d.join("ws/out/new/x"), true), // missing: lands on ws/out
                grant(Path::new("/proc/self/status"), false), // never bound
            ],
            ..Bounds::default()
        };
        let p = plan(&b, &d.join("elsewhere"));
        let paths: Vec<(&Path, bool)> = p
            .binds
            .iter()
            .map(|b| (b.path.as_path(), b.readonly))
            .collect();
        assert_eq!(
            paths,
            vec![
                (d.join("usr").as_path(), true),
                (d.join("ws").as_path(), true),
                (d.join("ws/out").as_path(), false),
            ]
        );
        assert_eq!(p.links, vec![(d.join("lib"), PathBuf::from("usr/lib"))]);
        assert!(p.dirs.contains(&d.join("usr")) && p.dirs.contains(&d.join("ws")));
        assert!(!p.dirs.contains(&d.join("ws/out")), "inside the ws bind");
        assert!(p.dirs.contains(&PathBuf::from("/proc")));
        // The working directory does not exist on the host: made empty inside.
        assert!(p.dirs.contains(&d.join("elsewhere")));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_writable_grant_covers_read_only_ones_beneath() {
        let d = std::env::temp_dir().join(format!("mxc-plan2-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("a/b")).unwrap();
        std::fs::write(d.join("file"), "x").unwrap();
        let b = Bounds {
            fs: vec![
                grant(&d.join("a/b"), false),
                grant(&d.join("a"), true),
                grant(&d.join("file"), false),
            ],
            ..Bounds::default()
        };
        let p = plan(&b, &d.join("a"));
        assert_eq!(p.binds.len(), 2);
        assert_eq!(p.binds[0].path, d.join("a"));
        assert!(!p.binds[0].readonly);
        assert!(!p.binds[1].dir && p.binds[1].readonly);
        assert!(p.files.contains(&d.join("file")));
        assert_eq!(p.cwd, d.join("a"));
        let _ = std::fs::remove_dir_all(&d);
    }
}

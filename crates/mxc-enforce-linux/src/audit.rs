//! The audit log on Linux: where it is opened (never through a symbolic link), and
//! keeping it out of the sandbox's reach. The records themselves (OCSF events built
//! from typed decision records) and their hash chain are platform-neutral:
//! [`mxc_enforce::audit`], [`mxc_enforce::chain`].

use mxc_enforce::chain::{last_record, ChainWriter};
use mxc_enforce::{AskAnswer, Record};
use mxc_eval::{AuditLevel, Effect, Engine};
use rustix::fd::BorrowedFd;
use serde_json::{Map, Value};
use std::fs::File;
use std::path::Path;

pub struct Audit {
    level: AuditLevel,
    /// The identity carried in every record (`local(current)` made concrete).
    identity: String,
    out: ChainWriter<File>,
    /// `LOG.head`: the number of records and the last hash, rewritten after each record.
    head: File,
    /// (device, inode) of the log and its head file: never reachable by the sandbox.
    files: [(u64, u64); 2],
    /// (device, inode) of every directory from the log's up to `/`: never renamed or
    /// removed by the sandbox (the log's path stays the log's).
    dirs: Vec<(u64, u64)>,
    /// The log's length before a record that was written only in part, when cutting
    /// it back failed: cut before anything more is written.
    cut_to: Option<u64>,
}

/// Opens `name` in `dir` for the log's use: never through a symbolic link, and only a
/// regular file (mode 0600 when made).
fn open_regular(
    dir: BorrowedFd<'_>,
    name: &std::ffi::OsStr,
    append: bool,
) -> std::io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    let mut flags = OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    if append {
        flags |= OFlags::APPEND;
    }
    let fd = rustix::fs::openat(dir, name, flags, Mode::from_raw_mode(0o600))?;
    let st = rustix::fs::fstat(&fd)?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(File::from(fd))
}

/// Every path under which the mount table shows the open file `f` (on device `dev`):
/// its place inside its file system, seen through each mount of that file system
/// whose root lies above it. `None` when the mount table cannot be read.
fn names_of(f: &File, dev: u64) -> Option<Vec<std::path::PathBuf>> {
    use std::path::{Path, PathBuf};
    let fd = std::os::fd::AsRawFd::as_raw_fd(f);
    let path = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()?;
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).ok()?;
    let mnt_id = info
        .lines()
        .find_map(|l| l.strip_prefix("mnt_id:"))?
        .trim()
        .to_string();
    let table = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    // (id, major:minor, root, mount point) of each mount.
    let mounts: Vec<(&str, &str, PathBuf, PathBuf)> = table
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            Some((
                *f.first()?,
                *f.get(2)?,
                PathBuf::from(unescape(f.get(3)?)),
                PathBuf::from(unescape(f.get(4)?)),
            ))
        })
        .collect();
    let (_, _, root, point) = mounts.iter().find(|m| m.0 == mnt_id)?;
    let inside = root.join(path.strip_prefix(point).ok()?);
    let dev = format!("{}:{}", rustix::fs::major(dev), rustix::fs::minor(dev));
    let names: Vec<PathBuf> = mounts
        .iter()
        .filter(|m| m.1 == dev)
        .filter_map(|(_, _, r, p)| Some(p.join(inside.strip_prefix(r).ok()?)))
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new("/").into()
            } else {
                p
            }
        })
        .collect();
    (!names.is_empty()).then_some(names)
}

/// A mount table field with its `\NNN` octal escapes (space, tab, newline, `\`) undone.
fn unescape(s: &str) -> std::ffi::OsString {
    use std::os::unix::ffi::OsStringExt;
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let oct = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (b[i], oct) {
            (b'\\', Some(d)) => {
                out.push(
                    d.iter()
                        .fold(0u8, |a, c| a.wrapping_mul(8).wrapping_add(c - b'0')),
                );
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    std::ffi::OsString::from_vec(out)
}

fn id(f: &File) -> std::io::Result<(u64, u64)> {
    let st = rustix::fs::fstat(f)?;
    Ok((st.st_dev, st.st_ino))
}

impl Audit {
    /// Opens (appending, creating with mode 0600) and continues the file's chain; opens
    /// (or makes) its head file `PATH.head` beside it. Both are opened here, before the
    /// command starts, and written only through these descriptors.
    pub fn open(path: &Path, level: AuditLevel) -> std::io::Result<Audit> {
        use std::io::Read;
        use std::os::fd::AsFd;
        let name = path
            .file_name()
            .ok_or_else(|| std::io::Error::other("the path names no file"))?;
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        // No symbolic link anywhere on the way: a sandbox of an earlier run could have
        // put one where the log's directory was, and `mxcc` (maybe root) would then
        // make the log and its head file wherever it points.
        let dir = rustix::fs::openat2(
            rustix::fs::CWD,
            parent,
            rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
            rustix::fs::ResolveFlags::NO_SYMLINKS,
        )
        .map_err(|e| {
            if e == rustix::io::Errno::LOOP {
                std::io::Error::other(format!(
                    "{} is reached through a symbolic link; give the directory's real path",
                    parent.display()
                ))
            } else {
                e.into()
            }
        })?;
        let mut f = open_regular(dir.as_fd(), name, true)?;
        let mut existing = String::new();
        f.read_to_string(&mut existing)?;
        let last = last_record(&existing);
        let head_name = mxc_enforce::chain::head_path(Path::new(name));
        let mut head = open_regular(dir.as_fd(), head_name.as_os_str(), false)?;
        // Records an earlier run could not write (its head file counts them) stay
        // counted: the first record of this run carries them (`lost_before`), and the
        // head file keeps them, so a gap at the end of an earlier run is not erased by
        // the next one (the sandbox could fill the disk, act, and exit).
        let mut old_head = String::new();
        let _ = head.read_to_string(&mut old_head);
        let lost_before = mxc_enforce::chain::Head::lost_in(&old_head)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let files = [id(&f)?, id(&head)?];
        // The directories above the log, by `..` (as the kernel walks them).
        let mut dirs = Vec::new();
        let mut cur = dir;
        for _ in 0..4096 {
            let st = rustix::fs::fstat(&cur)?;
            if dirs.contains(&(st.st_dev, st.st_ino)) {
                break;
            }
            dirs.push((st.st_dev, st.st_ino));
            cur = rustix::fs::openat(
                &cur,
                "..",
                rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )?;
        }
        let mut out = ChainWriter::new(f, last.as_ref());
        out.mark_lost(lost_before);
        let mut a = Audit {
            level,
            identity: String::new(),
            out,
            head,
            files,
            dirs,
            cut_to: None,
        };
        a.write_head()?;
        Ok(a)
    }

    /// (device, inode) of the log and its head file.
    pub fn files(&self) -> [(u64, u64); 2] {
        self.files
    }

    /// (device, inode) of the directories from the log's up to `/`.
    pub fn dirs(&self) -> &[(u64, u64)] {
        &self.dirs
    }

    /// How many records the log holds, and the last one's hash.
    pub fn summary(&self) -> (u64, Option<String>) {
        let n = self.out.records();
        (n, (n > 0).then(|| self.out.last_hash().to_string()))
    }

    /// How many records could not be written.
    pub fn lost(&self) -> u64 {
        self.out.lost()
    }

    fn write_head(&mut self) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        let (records, last_hash) = self.summary();
        let text = mxc_enforce::chain::Head {
            records,
            last_hash,
            lost: self.out.lost(),
        }
        .render();
        self.head.write_all_at(text.as_bytes(), 0)?;
        self.head.set_len(text.len() as u64)?;
        Ok(())
    }

    /// Appends one record; whether it (and the head file after it) was written. A
    /// record that cannot be written (a full disk: the sandbox may fill the log's file
    /// system) is counted as lost ([`Audit::lost`]); the head file says so at once
    /// (rewritten in place), and so does the next record written (`lost_before`), so
    /// `mxcc audit verify` reports the log incomplete; the supervisor refuses the call
    /// it records (nothing the policy allows happens unrecorded). A record written in
    /// part is cut off again, so the log stays a chain: a sandbox that filled the disk
    /// and freed it again once left half a record glued to the next one (escape
    /// `audit_full_disk`).
    fn append(&mut self, rec: Map<String, Value>) -> bool {
        let written = self.try_append(rec);
        let head = self.write_head().is_ok();
        written && head
    }

    fn try_append(&mut self, rec: Map<String, Value>) -> bool {
        // Lost before the chain writer saw it: counted there all the same (one count
        // of lost records, which the next record written carries).
        if let Some(len) = self.cut_to {
            if self.out.inner().set_len(len).is_err() {
                self.out.mark_lost(1);
                return false;
            }
            self.cut_to = None;
        }
        let Ok(st) = rustix::fs::fstat(self.out.inner()) else {
            self.out.mark_lost(1);
            return false;
        };
        let len = st.st_size as u64;
        if self.out.append(rec).is_err() {
            // The log is opened O_APPEND: cutting it back is all it takes.
            if self.out.inner().set_len(len).is_err() {
                self.cut_to = Some(len);
            }
            return false;
        }
        true
    }

    /// Whether the sandbox could reach the log or its head file without the supervisor:
    /// some grant of the kernel's bound (any file right) lies on the way to one of them,
    /// under any name the mount table gives it (a bind mount shows the same file at
    /// another place). Then file calls must be supervised, so that the supervisor can
    /// refuse every access whose object is the log.
    ///
    /// Conservative: a file with more than one link (a hard link could be anywhere)
    /// counts as reachable, and so does one whose place cannot be worked out.
    pub fn exposed(&self, bounds: &crate::Bounds) -> bool {
        let grants: Vec<std::path::PathBuf> = bounds
            .fs
            .iter()
            .filter(|g| {
                let r = g.rights;
                r.read || r.write || r.create || r.delete
            })
            .filter_map(|g| crate::landlock_bound::placed(&g.path, bounds).map(|(p, _)| p))
            .map(|p| std::fs::canonicalize(&p).unwrap_or(p))
            .collect();
        if grants.is_empty() {
            return false;
        }
        [self.out.inner(), &self.head].iter().any(|f| {
            let st = match rustix::fs::fstat(*f) {
                Ok(st) if st.st_nlink == 1 => st,
                _ => return true,
            };
            match names_of(f, st.st_dev) {
                Some(names) => names
                    .iter()
                    .any(|n| grants.iter().any(|g| n.starts_with(g))),
                None => true,
            }
        })
    }

    /// Whether the agent's `audit` level asks for a record of this outcome.
    pub fn wants(&self, final_effect: Effect, asked: Option<AskAnswer>) -> bool {
        mxc_enforce::audit::wants(self.level, final_effect, asked)
    }

    /// Records one decision if the agent's `audit` level asks for it: whether it is
    /// recorded as asked (`false`: it should be and could not be).
    pub fn record(&mut self, engine: &Engine, e: &Record) -> bool {
        if !self.wants(e.effect, e.asked) {
            return true;
        }
        let mut rec = mxc_enforce::audit::event(engine, e);
        self.stamp(engine, &mut rec);
        self.append(rec)
    }

    /// A record that is not a decision (the run started or ended).
    pub fn note(&mut self, engine: &Engine, activity: &str, detail: Value) {
        if self.level == AuditLevel::None {
            return;
        }
        let mut rec = mxc_enforce::audit::note(engine, activity, detail);
        self.stamp(engine, &mut rec);
        let _ = self.append(rec);
    }

    /// Puts the concrete identity into `actor.user.name` and `unmapped.mxc.identity`.
    fn stamp(&mut self, engine: &Engine, rec: &mut Map<String, Value>) {
        if self.identity.is_empty() {
            self.identity = mxc_enforce::identity::concrete(
                &engine.agent().identity,
                rustix::process::getuid().as_raw(),
            );
        }
        mxc_enforce::audit::stamp(rec, &self.identity);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Bounds, FsRights, Grant};

    fn bounds(paths: &[&Path]) -> Bounds {
        Bounds {
            fs: paths
                .iter()
                .map(|p| Grant {
                    path: p.to_path_buf(),
                    rights: FsRights {
                        read: true,
                        ..FsRights::default()
                    },
                    subtree: true,
                })
                .collect(),
            ..Bounds::default()
        }
    }

    #[test]
    fn the_log_and_its_head_are_opened_and_placed() {
        let d = std::env::temp_dir().join(format!("mxc-audit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("logs")).unwrap();
        let log = d.join("logs/a.log");
        let a = Audit::open(&log, AuditLevel::All).unwrap();
        let head = std::fs::read_to_string(d.join("logs/a.log.head")).unwrap();
        assert_eq!(
            mxc_enforce::chain::Head::parse(&head),
            Ok(mxc_enforce::chain::Head {
                records: 0,
                last_hash: None,
                lost: 0,
            })
        );
        assert_eq!(a.summary(), (0, None));
        // An earlier run's lost records stay counted: in the head file, and in the first
        // record this run writes.
        {
            std::fs::write(
                d.join("logs/b.log.head"),
                "{\"records\":0,\"last_hash\":null,\"lost\":3}\n",
            )
            .unwrap();
            let mut b = Audit::open(&d.join("logs/b.log"), AuditLevel::All).unwrap();
            let head = std::fs::read_to_string(d.join("logs/b.log.head")).unwrap();
            assert!(head.contains("\"lost\":3"), "{head}");
            assert!(b.append(Map::new()));
            let log = std::fs::read_to_string(d.join("logs/b.log")).unwrap();
            assert!(log.contains("\"lost_before\":3"), "{log}");
        }
        // Reachable under a grant of its directory or an ancestor, not under another.
        assert!(a.exposed(&bounds(&[&d])));
        assert!(a.exposed(&bounds(&[&d.join("logs")])));
        assert!(!a.exposed(&bounds(&[Path::new("/usr")])));
        assert!(!a.exposed(&Bounds::default()));
        // The directories above the log are known, up to `/`.
        let root = rustix::fs::stat("/").unwrap();
        assert!(a.dirs().contains(&(root.st_dev, root.st_ino)));
        // A second link could be anywhere: reachable.
        std::fs::hard_link(&log, d.join("elsewhere")).unwrap();
        assert!(a.exposed(&bounds(&[Path::new("/usr")])));
        drop(a);
        // Never through a symbolic link, on the way or at the end.
        std::os::unix::fs::symlink(d.join("logs"), d.join("via")).unwrap();
        let e = Audit::open(&d.join("via/a.log"), AuditLevel::All)
            .err()
            .unwrap();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        std::fs::remove_file(&log).unwrap();
        std::os::unix::fs::symlink(d.join("elsewhere"), &log).unwrap();
        assert!(Audit::open(&log, AuditLevel::All).is_err());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn mount_table_fields_are_unescaped() {
        assert_eq!(
            unescape("/a\\040b\\134c"),
            std::ffi::OsString::from("/a b\\c")
        );
        assert_eq!(unescape("/plain\\x"), std::ffi::OsString::from("/plain\\x"));
    }
}

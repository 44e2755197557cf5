//! Audit records: one JSON line per decision of interest (SPEC §5 `audit`), shaped as
//! OCSF 1.3 File System Activity (1001), Network Activity (4001) and Process Activity
//! (1007) events, each carrying the agent's identity and the deciding rule, hash-chained
//! (see [`crate::chain`]).

use crate::chain::{last_record, ChainWriter};
use crate::supervisor::Class;
use crate::AskAnswer;
use mxc_eval::{AuditLevel, Decision, Effect, Engine};
use rustix::fd::BorrowedFd;
use serde_json::{json, Map, Value};
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
        let head_name = crate::chain::head_path(Path::new(name));
        let head = open_regular(dir.as_fd(), head_name.as_os_str(), false)?;
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
        let mut a = Audit {
            level,
            identity: String::new(),
            out: ChainWriter::new(f, last.as_ref()),
            head,
            files,
            dirs,
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

    fn write_head(&mut self) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        let (records, last_hash) = self.summary();
        let text = crate::chain::Head { records, last_hash }.render();
        self.head.write_all_at(text.as_bytes(), 0)?;
        self.head.set_len(text.len() as u64)?;
        Ok(())
    }

    fn append(&mut self, rec: Map<String, Value>) {
        // A full disk must not stop enforcement; the run's summary reports the count.
        if self.out.append(rec).is_ok() {
            let _ = self.write_head();
        }
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
        match self.level {
            AuditLevel::All => true,
            AuditLevel::Denials => final_effect == Effect::Deny || asked.is_some(),
            AuditLevel::None => false,
        }
    }

    /// Records one decision if the agent's `audit` level asks for it.
    pub fn record(&mut self, engine: &Engine, e: &Entry<'_>) {
        if !self.wants(e.effect, e.asked) {
            return;
        }
        let mut rec = event(engine, e);
        self.stamp(engine, &mut rec);
        self.append(rec);
    }

    /// A record that is not a decision (the run started or ended).
    pub fn note(&mut self, engine: &Engine, activity: &str, detail: Value) {
        if self.level == AuditLevel::None {
            return;
        }
        let agent = engine.agent();
        let Value::Object(rec) = json!({
            "class_uid": 1007,
            "class_name": "Process Activity",
            "category_uid": 1,
            "activity_id": 99,
            "activity_name": activity,
            "time": now_ms(),
            "severity_id": 1,
            "metadata": metadata(),
            "actor": {"user": {"name": Value::Null, "type": "agent"}},
            "unmapped": {"mxc": {"agent": agent.name, "identity": Value::Null, "detail": detail}},
        }) else {
            return;
        };
        let mut rec = rec;
        self.stamp(engine, &mut rec);
        self.append(rec);
    }
}

impl Audit {
    /// Puts the concrete identity into `actor.user.name` and `unmapped.mxc.identity`.
    fn stamp(&mut self, engine: &Engine, rec: &mut Map<String, Value>) {
        if self.identity.is_empty() {
            self.identity = match &engine.agent().identity {
                mxc_eval::Identity::Current => {
                    format!("local(uid: {})", rustix::process::getuid().as_raw())
                }
                id => id.to_string(),
            };
        }
        let id = Value::from(self.identity.clone());
        if let Some(Value::Object(actor)) = rec.get_mut("actor") {
            if let Some(Value::Object(user)) = actor.get_mut("user") {
                user.insert("name".into(), id.clone());
            }
        }
        if let Some(Value::Object(u)) = rec.get_mut("unmapped") {
            if let Some(Value::Object(m)) = u.get_mut("mxc") {
                m.insert("identity".into(), id);
            }
        }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn metadata() -> Value {
    json!({"version": "1.3.0", "product": {"name": "MXC", "vendor_name": "MXC", "version": env!("CARGO_PKG_VERSION")}})
}

/// One decision, as the supervisor concluded it.
pub struct Entry<'a> {
    pub class: Class,
    pub right: &'a str,
    pub target: &'a str,
    /// What the engine said.
    pub decision: Decision,
    /// What was enforced (after asking).
    pub effect: Effect,
    pub asked: Option<AskAnswer>,
    /// The process asking, and its program.
    pub pid: u32,
    pub program: &'a str,
    /// Refused by MXC's enforcement whatever the policy says, and why.
    pub enforcement: Option<&'a str>,
}

/// The OCSF event of `e`; the identity fields are left for `Audit::stamp` to fill
/// (once per log, from the agent's typed identity).
pub(crate) fn event(engine: &Engine, e: &Entry<'_>) -> Map<String, Value> {
    let &Entry {
        class,
        right,
        target,
        decision: d,
        effect: final_effect,
        asked,
        pid,
        program,
        enforcement,
    } = e;
    let agent = engine.agent();
    let rule = d.rule.and_then(|r| engine.rule(r));
    let allowed = final_effect == Effect::Allow;
    let (class_uid, class_name, category_uid, activity_id) = match class {
        Class::File => (
            1001,
            "File System Activity",
            1,
            match right {
                "create" => 1,
                "read" => 2,
                "write" => 3,
                "delete" => 4,
                _ => 99,
            },
        ),
        Class::Network => (
            4001,
            "Network Activity",
            4,
            if right == "bind" { 7 } else { 1 },
        ),
        Class::Process => (1007, "Process Activity", 1, 1),
    };
    let mut rec = json!({
        "class_uid": class_uid,
        "class_name": class_name,
        "category_uid": category_uid,
        "activity_id": activity_id,
        "activity_name": right,
        "type_uid": class_uid * 100 + activity_id,
        "time": now_ms(),
        "severity_id": if allowed { 1 } else { 3 },
        "status_id": if allowed { 1 } else { 2 },
        "status": if allowed { "Success" } else { "Failure" },
        "disposition_id": if allowed { 1 } else { 2 },
        "disposition": if allowed { "Allowed" } else { "Blocked" },
        "metadata": metadata(),
        "actor": {
            "user": {"name": Value::Null, "type": "agent"},
            "process": {"pid": pid, "file": {"path": program}},
        },
        "unmapped": {"mxc": {
            "agent": agent.name,
            "identity": Value::Null,
            "right": right,
            "target": target,
            "effect": final_effect.as_str(),
            "decided": d.effect.as_str(),
            "asked": asked.map(|a| match a {
                AskAnswer::AllowOnce => "allow-once",
                AskAnswer::AllowForRun => "allow-for-run",
                AskAnswer::Deny => "deny",
            }),
            "rule": rule.map(|i| json!({
                "policy": i.policy, "file": i.file, "line": i.line, "column": i.column,
                "at": format!("{}:{}", i.file, i.line),
            })),
            "reason": rule.and_then(|i| i.reason.clone()),
            "enforcement": enforcement,
        }},
    });
    match class {
        Class::File => rec["file"] = json!({"path": target}),
        Class::Network => {
            let (host, port) = target
                .trim_start_matches("udp://")
                .rsplit_once(':')
                .unwrap_or((target, "0"));
            rec["dst_endpoint"] = json!({"ip": host.trim_matches(|c| c == '[' || c == ']'), "port": port.parse::<u16>().unwrap_or(0)});
            rec["connection_info"] =
                json!({"protocol_name": if target.starts_with("udp://") { "udp" } else { "tcp" }});
        }
        Class::Process => {
            let prog = target.split(' ').next().unwrap_or(target);
            rec["process"] = json!({"file": {"path": prog}, "cmd_line": target});
        }
    }
    match rec {
        Value::Object(m) => m,
        _ => Map::new(),
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
            crate::chain::Head::parse(&head),
            Ok(crate::chain::Head {
                records: 0,
                last_hash: None
            })
        );
        assert_eq!(a.summary(), (0, None));
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

//! Why a program could not start: what the kernel and the dynamic loader need to run
//! it, decided by the engine and the kernel's bound.
//!
//! To run `CMD` the kernel opens it to execute and to read it (the `launch` decision,
//! and Landlock's execute and read rights on the file: Landlock asks for both), opens
//! its ELF interpreter the same way (execute is granted on the usual loaders; `read`
//! must be), and for a `#!` script opens the script's interpreter instead, which then
//! reads the script (`read`). The loader then reads each shared library the program
//! needs, and theirs (`read`). A program missing any of these cannot start:
//! the kernel refuses the `execve` (`EACCES`), or the loader exits 127 ("error while
//! loading shared libraries"), and the command's exit status alone does not say why.
//!
//! **Invariant:** only headers are read, with bounds on every size, from files the
//! caller asked to run (and the libraries they name); nothing is executed, and no
//! input makes this panic. Used only to explain a failure, never to decide one.
//!
//! The program and the libraries it names may be the agent's making, and `mxcc` may be
//! root: [`diagnose_as`] looks with the agent's credentials (its ids, no capability), so
//! an existence check tells nothing the agent could not learn itself; every file is
//! first reached with `O_PATH` (no open of a FIFO or a device, nothing waits) and read
//! only when it is a regular file whose real path the policy lets the agent read.

use crate::Bounds;
use mxc_eval::{Effect, Engine, FsRight};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// A right a program needs to start and does not have (a platform-neutral record).
pub use mxc_enforce::Missing;

/// Files looked at, at most (the program, its interpreter and libraries).
const MAX_FILES: usize = 64;
/// Bytes of a dynamic section or string table read, at most.
const MAX_TABLE: u64 = 1 << 20;

/// [`diagnose`] on a thread of its own with the agent's credentials (`ids` when it
/// runs as another user; no capability in any case). Nothing when they cannot be taken.
pub fn diagnose_as(
    ids: Option<(u32, u32)>,
    engine: &Engine,
    bounds: &Bounds,
    program: &Path,
    args: &[Vec<u8>],
) -> Vec<Missing> {
    let me = (
        rustix::process::getuid().as_raw(),
        rustix::process::getgid().as_raw(),
    );
    let ids = ids.filter(|&i| i != me);
    std::thread::scope(|s| {
        s.spawn(|| match crate::sys::act_as(ids) {
            Ok(()) => diagnose(engine, bounds, program, args),
            Err(_) => Vec::new(),
        })
        .join()
        .unwrap_or_default()
    })
}

/// What `program` (run with `args`) needs to start and is not granted.
pub fn diagnose(
    engine: &Engine,
    bounds: &Bounds,
    program: &Path,
    args: &[Vec<u8>],
) -> Vec<Missing> {
    let mut out = Vec::new();
    let program = std::fs::canonicalize(program).unwrap_or_else(|_| program.to_path_buf());
    let d = engine.launch(program.as_os_str().as_bytes(), args);
    if d.effect != Effect::Allow {
        out.push(Missing {
            right: "launch",
            path: program.clone(),
            what: "the program".into(),
            decision: Some(d),
        });
        return out;
    }
    kernel_reads(
        engine,
        bounds,
        &program,
        "the program (the kernel reads it to run it)",
        &mut out,
    );
    let mut file = program.clone();
    // A script: its interpreter is what the kernel runs (one level, as the kernel
    // allows a few; MXC's exec rules see only the first).
    if let Some(interp) = script_interpreter(engine, bounds, &program) {
        let d = engine.fs(program.as_os_str().as_bytes(), FsRight::Read);
        if d.effect != Effect::Allow {
            out.push(Missing {
                right: "read",
                path: program.clone(),
                what: "the script (its interpreter reads it)".into(),
                decision: Some(d),
            });
        }
        let interp = std::fs::canonicalize(&interp).unwrap_or(interp);
        if !executable(bounds, &interp) {
            out.push(Missing {
                right: "launch",
                path: interp.clone(),
                what: "the script's interpreter (the kernel runs it)".into(),
                decision: Some(engine.launch(interp.as_os_str().as_bytes(), &[] as &[&[u8]])),
            });
        }
        kernel_reads(
            engine,
            bounds,
            &interp,
            "the script's interpreter",
            &mut out,
        );
        file = interp;
    }
    libraries(engine, bounds, &file, &mut out);
    out
}

/// Whether the kernel's bound grants `path` a right (`execute` or `read`).
fn granted(bounds: &Bounds, path: &Path, right: fn(&crate::FsRights) -> bool) -> bool {
    bounds.fs.iter().any(|g| {
        right(&g.rights) && {
            let gp = std::fs::canonicalize(&g.path).unwrap_or_else(|_| g.path.clone());
            gp == path || g.path == path || (g.subtree && path.starts_with(&gp))
        }
    })
}

/// Whether the kernel's bound lets `path` be executed.
fn executable(bounds: &Bounds, path: &Path) -> bool {
    granted(bounds, path, |r| r.execute)
}

/// A file the kernel itself opens to run it (the program, an interpreter) needs
/// Landlock's `read` too: missing when the kernel's bound lacks it (the supervisor
/// never sees these opens).
fn kernel_reads(engine: &Engine, bounds: &Bounds, path: &Path, what: &str, out: &mut Vec<Missing>) {
    if !granted(bounds, path, |r| r.read) {
        out.push(Missing {
            right: "read",
            path: path.to_path_buf(),
            what: what.into(),
            decision: Some(engine.fs(path.as_os_str().as_bytes(), FsRight::Read)),
        });
    }
}

/// Reaches `path` without opening it (`O_PATH`: no FIFO, device or socket is opened,
/// nothing waits): the file and its real path, if it is a regular file.
fn reach_regular(path: &Path) -> Option<(rustix::fd::OwnedFd, PathBuf)> {
    use rustix::fs::{FileType, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::PATH | OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .ok()?;
    let st = rustix::fs::fstat(&fd).ok()?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return None;
    }
    let real = crate::resolve::fd_path(rustix::fd::AsFd::as_fd(&fd)).ok()?;
    Some((fd, PathBuf::from(std::ffi::OsStr::from_bytes(&real))))
}

/// Opens `path` for reading if it is a regular file that, at its real path, the policy
/// lets the agent read or the agent could not have put there (no grant lets it write or
/// create at or above it: the system's programs and libraries, whose headers say what
/// a denied program would need): reached with `O_PATH` first, then that very file
/// reopened.
fn open_regular(engine: &Engine, bounds: &Bounds, path: &Path) -> Option<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let (fd, real) = reach_regular(path)?;
    let agents = bounds
        .fs
        .iter()
        .any(|g| (g.rights.write || g.rights.create) && real.starts_with(&g.path));
    if agents && engine.fs(real.as_os_str().as_bytes(), FsRight::Read).effect != Effect::Allow {
        return None;
    }
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(format!(
            "/proc/self/fd/{}",
            rustix::fd::AsRawFd::as_raw_fd(&fd)
        ))
        .ok()?;
    f.metadata().ok()?.is_file().then_some(f)
}

/// Whether `p` is a regular file (reached with `O_PATH`, never opened).
fn is_regular(p: &Path) -> bool {
    reach_regular(p).is_some()
}

/// The interpreter of a `#!` script (its first line's first word).
fn script_interpreter(engine: &Engine, bounds: &Bounds, path: &Path) -> Option<PathBuf> {
    let f = open_regular(engine, bounds, path)?;
    let mut head = [0u8; 256];
    let n = f.read_at(&mut head, 0).ok()?;
    let line = head[..n].strip_prefix(b"#!")?;
    let line = &line[..line.iter().position(|&b| b == b'\n').unwrap_or(line.len())];
    let word = line
        .split(|&b| b == b' ' || b == b'\t')
        .find(|w| !w.is_empty())?;
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(word)))
}

/// The ELF interpreter and the shared libraries of `file`, transitively.
fn libraries(engine: &Engine, bounds: &Bounds, file: &Path, out: &mut Vec<Missing>) {
    let mut queue = vec![(file.to_path_buf(), String::new())];
    let mut seen = std::collections::HashSet::new();
    let dirs = search_dirs();
    let mut cache_needed = false;
    while let Some((f, needer)) = queue.pop() {
        if seen.len() >= MAX_FILES || !seen.insert(f.clone()) {
            continue;
        }
        let Some(elf) = Elf::read(engine, bounds, &f) else {
            continue;
        };
        if let Some(interp) = &elf.interp {
            let p = PathBuf::from(std::ffi::OsStr::from_bytes(interp));
            let real = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
            if !executable(bounds, &p) && !executable(bounds, &real) {
                out.push(Missing {
                    right: "execute",
                    path: p,
                    what: "the ELF interpreter (the kernel opens it to run the program)".into(),
                    decision: None,
                });
            }
            kernel_reads(
                engine,
                bounds,
                &real,
                "the ELF interpreter (the kernel reads it to run the program)",
                out,
            );
        }
        let origin = f.parent().unwrap_or(Path::new("/")).to_path_buf();
        for name in &elf.needed {
            let Some((lib, from_conf)) = find_library(name, &elf, &origin, &dirs) else {
                continue; // not found here either: the loader's own message says so
            };
            let real = std::fs::canonicalize(&lib).unwrap_or(lib);
            let d = engine.fs(real.as_os_str().as_bytes(), FsRight::Read);
            if d.effect != Effect::Allow {
                let by = if needer.is_empty() {
                    String::new()
                } else {
                    format!(", needed by {needer}")
                };
                out.push(Missing {
                    right: "read",
                    path: real.clone(),
                    what: format!("shared library {}{by}", String::from_utf8_lossy(name)),
                    decision: Some(d),
                });
                continue;
            }
            cache_needed |= from_conf;
            queue.push((real.clone(), real.display().to_string()));
        }
    }
    if cache_needed {
        // Found only in a directory of /etc/ld.so.conf: the loader learns of it from
        // its cache.
        let d = engine.fs(b"/etc/ld.so.cache", FsRight::Read);
        if d.effect != Effect::Allow {
            out.push(Missing {
                right: "read",
                path: "/etc/ld.so.cache".into(),
                what: "the loader's cache (it lists libraries outside the default directories)"
                    .into(),
                decision: Some(d),
            });
        }
    }
    // The same file may be reached twice (two needers): once is enough.
    let mut keys = std::collections::HashSet::new();
    out.retain(|m| keys.insert((m.right, m.path.clone())));
}

/// The loader's directories: those of /etc/ld.so.conf (and the files it includes from
/// /etc/ld.so.conf.d), then the defaults. `true` for a configured one.
fn search_dirs() -> Vec<(PathBuf, bool)> {
    let mut dirs = Vec::new();
    let mut conf = vec![PathBuf::from("/etc/ld.so.conf")];
    if let Ok(rd) = std::fs::read_dir("/etc/ld.so.conf.d") {
        let mut more: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "conf"))
            .collect();
        more.sort();
        conf.extend(more);
    }
    for c in conf {
        let Ok(text) = std::fs::read_to_string(&c) else {
            continue;
        };
        for l in text.lines().take(1000) {
            let l = l.trim();
            if l.starts_with('/') {
                dirs.push((PathBuf::from(l), true));
            }
        }
    }
    for d in [
        "/lib/x86_64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu",
        "/lib64",
        "/usr/lib64",
        "/lib",
        "/usr/lib",
    ] {
        dirs.push((PathBuf::from(d), false));
    }
    dirs
}

/// Where the loader finds library `name` for `elf` (in `origin`): its RPATH (without
/// RUNPATH), RUNPATH, then the configured and default directories.
fn find_library(
    name: &[u8],
    elf: &Elf,
    origin: &Path,
    dirs: &[(PathBuf, bool)],
) -> Option<(PathBuf, bool)> {
    let name = std::ffi::OsStr::from_bytes(name);
    if name.as_bytes().contains(&b'/') {
        let p = PathBuf::from(name);
        return is_regular(&p).then_some((p, false));
    }
    let own = |list: &[u8]| -> Vec<PathBuf> {
        list.split(|&b| b == b':')
            .filter(|d| !d.is_empty())
            .map(|d| {
                let d = String::from_utf8_lossy(d)
                    .replace("${ORIGIN}", &origin.to_string_lossy())
                    .replace("$ORIGIN", &origin.to_string_lossy());
                PathBuf::from(d)
            })
            .collect()
    };
    let mut first: Vec<PathBuf> = Vec::new();
    match (&elf.rpath, &elf.runpath) {
        (_, Some(r)) => first.extend(own(r)),
        (Some(r), None) => first.extend(own(r)),
        _ => {}
    }
    for d in first {
        let p = d.join(name);
        if is_regular(&p) {
            return Some((p, false));
        }
    }
    let found = dirs.iter().find_map(|(d, _)| {
        let p = d.join(name);
        is_regular(&p).then_some(p)
    })?;
    // Found only through /etc/ld.so.conf: the loader knows of it from its cache.
    let default = dirs
        .iter()
        .any(|(d, conf)| !conf && is_regular(&d.join(name)));
    Some((found, !default))
}

/// What the loader needs from an ELF file (64-bit, little-endian: x86-64).
struct Elf {
    interp: Option<Vec<u8>>,
    needed: Vec<Vec<u8>>,
    rpath: Option<Vec<u8>>,
    runpath: Option<Vec<u8>>,
}

impl Elf {
    fn read(engine: &Engine, bounds: &Bounds, path: &Path) -> Option<Elf> {
        let f = open_regular(engine, bounds, path)?;
        let size = f.metadata().ok()?.len();
        let at = |off: u64, len: u64| -> Option<Vec<u8>> {
            if len > MAX_TABLE || off.checked_add(len)? > size {
                return None;
            }
            let mut b = vec![0u8; usize::try_from(len).ok()?];
            f.read_exact_at(&mut b, off).ok()?;
            Some(b)
        };
        let h = at(0, 64)?;
        // \x7fELF, 64-bit, little-endian.
        if h[..4] != *b"\x7fELF" || h[4] != 2 || h[5] != 1 {
            return None;
        }
        let u16_ = |b: &[u8], o: usize| -> Option<u64> {
            Some(u64::from(u16::from_le_bytes(
                b.get(o..o + 2)?.try_into().ok()?,
            )))
        };
        let u64_ = |b: &[u8], o: usize| -> Option<u64> {
            Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?))
        };
        let (phoff, phentsize, phnum) = (u64_(&h, 32)?, u16_(&h, 54)?, u16_(&h, 56)?);
        if phentsize < 56 {
            return None;
        }
        let ph = at(phoff, phentsize * phnum)?;
        // (type, offset, vaddr, filesz)
        let segs: Vec<(u32, u64, u64, u64)> = (0..phnum as usize)
            .filter_map(|i| {
                let o = i * phentsize as usize;
                let ty = u32::from_le_bytes(ph.get(o..o + 4)?.try_into().ok()?);
                Some((
                    ty,
                    u64_(&ph, o + 8)?,
                    u64_(&ph, o + 16)?,
                    u64_(&ph, o + 32)?,
                ))
            })
            .collect();
        let mut elf = Elf {
            interp: None,
            needed: Vec::new(),
            rpath: None,
            runpath: None,
        };
        const PT_LOAD: u32 = 1;
        const PT_DYNAMIC: u32 = 2;
        const PT_INTERP: u32 = 3;
        if let Some(&(_, off, _, sz)) = segs.iter().find(|s| s.0 == PT_INTERP) {
            let b = at(off, sz)?;
            elf.interp = Some(b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())].to_vec());
        }
        let Some(&(_, doff, _, dsz)) = segs.iter().find(|s| s.0 == PT_DYNAMIC) else {
            return Some(elf); // static
        };
        let dynamic = at(doff, dsz)?;
        let entries: Vec<(u64, u64)> = dynamic
            .chunks_exact(16)
            .map_while(|e| {
                let tag = u64_(e, 0)?;
                (tag != 0).then_some((tag, u64_(e, 8)?))
            })
            .collect();
        let find = |t: u64| entries.iter().find(|e| e.0 == t).map(|e| e.1);
        const DT_NEEDED: u64 = 1;
        const DT_STRTAB: u64 = 5;
        const DT_STRSZ: u64 = 10;
        const DT_RPATH: u64 = 15;
        const DT_RUNPATH: u64 = 29;
        let (Some(strtab), Some(strsz)) = (find(DT_STRTAB), find(DT_STRSZ)) else {
            return Some(elf);
        };
        // The string table's address, as a file offset (through its PT_LOAD).
        let off = segs.iter().find_map(|&(ty, off, vaddr, filesz)| {
            (ty == PT_LOAD && strtab >= vaddr && strtab - vaddr < filesz)
                .then(|| off + (strtab - vaddr))
        })?;
        let strings = at(off, strsz)?;
        let s = |o: u64| -> Option<Vec<u8>> {
            let rest = strings.get(usize::try_from(o).ok()?..)?;
            Some(rest[..rest.iter().position(|&c| c == 0)?].to_vec())
        };
        for &(tag, val) in &entries {
            match tag {
                DT_NEEDED => elf.needed.extend(s(val)),
                DT_RPATH => elf.rpath = s(val),
                DT_RUNPATH => elf.runpath = s(val),
                _ => {}
            }
        }
        Some(elf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(src: &str, dir: &Path) -> Engine {
        let params = [("d".to_string(), dir.display().to_string())].into();
        mxc_lang::compile::engine_of_source(src, "a", &params).unwrap()
    }

    /// Reads everything, runs everything.
    fn open_engine() -> Engine {
        engine(
            r#"param d: path
            policy p { fs { allow read "/**" } app { allow launch "/**" } }
            agent a { use p }"#,
            Path::new("/"),
        )
    }

    /// A tiny x86-64 ELF file with a dynamic section naming `needed` and, if given, a
    /// RUNPATH (no code: only what the loader's headers say).
    fn tiny_elf(needed: &[&str], runpath: Option<&str>) -> Vec<u8> {
        let mut strings = vec![0u8];
        let mut add = |t: &str| {
            let o = strings.len() as u64;
            strings.extend_from_slice(t.as_bytes());
            strings.push(0);
            o
        };
        let mut dynamic: Vec<(u64, u64)> = needed.iter().map(|n| (1, add(n))).collect();
        if let Some(r) = runpath {
            dynamic.push((29, add(r)));
        }
        let (ph_off, ph_num) = (64u64, 2u64);
        let dyn_off = ph_off + 56 * ph_num;
        let dyn_len = 16 * (dynamic.len() as u64 + 3);
        let str_off = dyn_off + dyn_len;
        dynamic.push((5, str_off)); // DT_STRTAB (vaddr = file offset)
        dynamic.push((10, strings.len() as u64)); // DT_STRSZ
        dynamic.push((0, 0));
        let total = str_off + strings.len() as u64;
        let mut f = Vec::new();
        f.extend_from_slice(b"\x7fELF\x02\x01\x01");
        f.resize(16, 0);
        f.extend_from_slice(&3u16.to_le_bytes()); // ET_DYN
        f.extend_from_slice(&0x3eu16.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        f.extend_from_slice(&0u64.to_le_bytes()); // entry
        f.extend_from_slice(&ph_off.to_le_bytes());
        f.extend_from_slice(&0u64.to_le_bytes()); // shoff
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&64u16.to_le_bytes());
        f.extend_from_slice(&56u16.to_le_bytes());
        f.extend_from_slice(&(ph_num as u16).to_le_bytes());
        f.extend_from_slice(&[0u8; 6]);
        for (ty, off, len) in [(1u32, 0u64, total), (2, dyn_off, dyn_len)] {
            f.extend_from_slice(&ty.to_le_bytes());
            f.extend_from_slice(&4u32.to_le_bytes());
            for v in [off, off, off, len, len, 8] {
                f.extend_from_slice(&v.to_le_bytes());
            }
        }
        for (t, v) in dynamic {
            f.extend_from_slice(&t.to_le_bytes());
            f.extend_from_slice(&v.to_le_bytes());
        }
        f.extend_from_slice(&strings);
        assert_eq!(f.len() as u64, total);
        f
    }

    #[test]
    fn reads_a_real_programs_interpreter_and_libraries() {
        let e = open_engine();
        let Some(elf) = ["/bin/sh", "/usr/bin/cat", "/bin/ls"]
            .iter()
            .find_map(|p| Elf::read(&e, &Bounds::default(), Path::new(p)))
        else {
            return; // no dynamic ELF program here
        };
        if elf.interp.is_some() {
            assert!(
                elf.needed.iter().any(|n| n.starts_with(b"libc.so")),
                "{:?}",
                elf.needed
                    .iter()
                    .map(|n| String::from_utf8_lossy(n).into_owned())
                    .collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn reads_the_tiny_elf() {
        let d = std::env::temp_dir().join(format!("mxc-startup-tiny-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("prog"), tiny_elf(&["libc.so.6"], Some("/x"))).unwrap();
        let elf = Elf::read(&open_engine(), &Bounds::default(), &d.join("prog")).unwrap();
        assert_eq!(elf.needed, vec![b"libc.so.6".to_vec()]);
        assert_eq!(elf.runpath.as_deref(), Some(&b"/x"[..]));
        let _ = std::fs::remove_dir_all(&d);
    }

    /// An attack on the diagnosis: the program the user asked to run is, by the time
    /// it looks, a FIFO (or a device) the agent put there. The diagnosis must not open
    /// it (opening a device can act: a watchdog arms, a tape rewinds; a FIFO's writer
    /// learns of the reader): `inotify` sees every open of it, and there must be none.
    #[test]
    fn a_fifo_is_never_opened() {
        let d = std::env::temp_dir().join(format!("mxc-startup-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let f = d.join("fifo");
        rustix::fs::mkfifoat(rustix::fs::CWD, &f, rustix::fs::Mode::from_raw_mode(0o600)).unwrap();
        let ino = rustix::fs::inotify::init(
            rustix::fs::inotify::CreateFlags::NONBLOCK | rustix::fs::inotify::CreateFlags::CLOEXEC,
        )
        .unwrap();
        rustix::fs::inotify::add_watch(&ino, &f, rustix::fs::inotify::WatchFlags::OPEN).unwrap();
        let e = open_engine();
        assert!(Elf::read(&e, &Bounds::default(), &f).is_none());
        assert!(script_interpreter(&e, &Bounds::default(), &f).is_none());
        let _ = diagnose(&e, &Bounds::default(), &f, &[]);
        let mut buf = [0u8; 256];
        let got = rustix::io::read(&ino, &mut buf);
        assert_eq!(got, Err(rustix::io::Errno::AGAIN), "the FIFO was opened");
        let _ = std::fs::remove_dir_all(&d);
    }

    /// An attack on the diagnosis: a program the agent wrote names, as a library, a
    /// path in a place the agent cannot reach (here a directory of mode 000, which
    /// only a capability passes; a root-only directory when `mxcc` runs as root), or
    /// finds one there through its RUNPATH. What the diagnosis reports (on the
    /// terminal and in the audit log) must not depend on whether that file exists.
    #[test]
    fn libraries_named_by_the_agent_are_looked_for_with_its_credentials() {
        use std::os::unix::fs::PermissionsExt;
        let d = std::env::temp_dir().join(format!("mxc-startup-oracle-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let hidden = d.join("hidden");
        std::fs::create_dir_all(&hidden).unwrap();
        let e = engine(
            r#"param d: path
            policy p {
              fs { allow read "/**" deny read "${d}/hidden/**" }
              app { allow launch "${d}/*" }
            }
            agent a { use p }"#,
            &d,
        );
        let lib = hidden.join("libmxcsecret.so");
        let progs = [
            tiny_elf(&[lib.to_str().unwrap()], None),
            tiny_elf(&["libmxcsecret.so"], Some(hidden.to_str().unwrap())),
        ];
        for (i, p) in progs.iter().enumerate() {
            let prog = d.join(format!("prog{i}"));
            std::fs::write(&prog, p).unwrap();
            std::fs::set_permissions(&prog, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let look = |i: usize| -> Vec<(String, PathBuf)> {
            std::fs::set_permissions(&hidden, std::fs::Permissions::from_mode(0o000)).unwrap();
            let m = diagnose_as(
                None,
                &e,
                &Bounds::default(),
                &d.join(format!("prog{i}")),
                &[],
            );
            std::fs::set_permissions(&hidden, std::fs::Permissions::from_mode(0o755)).unwrap();
            m.into_iter()
                .map(|m| (m.right.to_string(), m.path))
                .collect()
        };
        for i in 0..progs.len() {
            let absent = look(i);
            std::fs::write(&lib, tiny_elf(&[], None)).unwrap();
            let present = look(i);
            std::fs::remove_file(&lib).unwrap();
            assert_eq!(
                absent, present,
                "prog{i}: the report tells whether {lib:?} exists"
            );
        }
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn garbage_is_not_an_elf_and_does_not_panic() {
        let e = open_engine();
        let d = std::env::temp_dir().join(format!("mxc-startup-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let cases: [&[u8]; 4] = [
            b"",
            b"\x7fELF",
            b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0\x3e\0\x01\0\0\0\0\0\0\0\0\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff\0\0\0\0\0\0\0\0\0\0\0\0\x40\0\x38\0\xff\xff\0\0\0\0\0\0",
            b"#!",
        ];
        for (i, c) in cases.iter().enumerate() {
            let f = d.join(format!("f{i}"));
            std::fs::write(&f, c).unwrap();
            let _ = Elf::read(&e, &Bounds::default(), &f);
            let _ = script_interpreter(&e, &Bounds::default(), &f);
        }
        let _ = std::fs::remove_dir_all(&d);
    }
}

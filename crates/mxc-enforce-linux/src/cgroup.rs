//! `limits { memory … processes … cpu … }` through a cgroup made for the run: cgroup v2
//! when the unified hierarchy has the controllers, else the v1 `memory`, `pids` and
//! `cpu` hierarchies. A limit that cannot be set is a [`SetupError`]: the command never
//! runs without a limit its policy sets.

use crate::SetupError;
use std::fs::File;
use std::path::{Path, PathBuf};

/// The run's cgroup(s): one directory per hierarchy, removed on drop.
#[derive(Debug)]
pub struct Cgroup {
    dirs: Vec<PathBuf>,
    /// `cgroup.procs` of each, open for the child to write itself into.
    pub procs: Vec<File>,
    /// `cgroup.kill` (cgroup v2, Linux 5.14+).
    pub kill: Option<File>,
    /// The watchdog removes the directories (after the last process is gone).
    pub handed_off: bool,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Limits {
    pub memory_bytes: Option<u64>,
    pub processes: Option<u64>,
    pub cpus: Option<u64>,
}

impl Limits {
    pub fn any(&self) -> bool {
        self.memory_bytes.is_some() || self.processes.is_some() || self.cpus.is_some()
    }
}

const PERIOD_US: u64 = 100_000;

fn own_path(controller: &str) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines().find_map(|l| {
        let mut f = l.splitn(3, ':');
        let (_, ctrls, path) = (f.next()?, f.next()?, f.next()?);
        let hit = if controller.is_empty() {
            ctrls.is_empty()
        } else {
            ctrls.split(',').any(|c| c == controller)
        };
        hit.then(|| path.to_string())
    })
}

fn write(dir: &Path, file: &str, value: &str) -> Result<(), SetupError> {
    std::fs::write(dir.join(file), value).map_err(|e| {
        SetupError(format!(
            "cannot set {} to {value}: {e}",
            dir.join(file).display()
        ))
    })
}

fn open_procs(dir: &Path) -> Result<File, SetupError> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("cgroup.procs"))
        .map_err(|e| SetupError(format!("cannot open {}/cgroup.procs: {e}", dir.display())))
}

/// Makes the run's cgroup with `limits`.
pub fn create(limits: Limits) -> Result<Cgroup, SetupError> {
    let name = format!("mxc-run-{}", std::process::id());
    let v2_root = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]
        .into_iter()
        .map(PathBuf::from)
        .find(|r| {
            std::fs::read_to_string(r.join("cgroup.controllers")).is_ok_and(|c| {
                let has = |x: &str| c.split_whitespace().any(|w| w == x);
                (limits.memory_bytes.is_none() || has("memory"))
                    && (limits.processes.is_none() || has("pids"))
                    && (limits.cpus.is_none() || has("cpu"))
            })
        });
    let mut cg = Cgroup {
        dirs: Vec::new(),
        procs: Vec::new(),
        kill: None,
        handed_off: false,
    };
    if let (Some(root), Some(path)) = (v2_root, own_path("")) {
        let parent = root.join(path.trim_start_matches('/'));
        let mut want = Vec::new();
        if limits.memory_bytes.is_some() {
            want.push("+memory");
        }
        if limits.processes.is_some() {
            want.push("+pids");
        }
        if limits.cpus.is_some() {
            want.push("+cpu");
        }
        if !want.is_empty() {
            write(&parent, "cgroup.subtree_control", &want.join(" "))?;
        }
        let dir = parent.join(&name);
        std::fs::create_dir(&dir)
            .map_err(|e| SetupError(format!("cannot create the cgroup {}: {e}", dir.display())))?;
        cg.dirs.push(dir.clone());
        if let Some(m) = limits.memory_bytes {
            write(&dir, "memory.max", &m.to_string())?;
            let _ = std::fs::write(dir.join("memory.swap.max"), "0");
        }
        if let Some(p) = limits.processes {
            write(&dir, "pids.max", &p.to_string())?;
        }
        if let Some(c) = limits.cpus {
            write(&dir, "cpu.max", &format!("{} {PERIOD_US}", c * PERIOD_US))?;
        }
        cg.procs.push(open_procs(&dir)?);
        cg.kill = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join("cgroup.kill"))
            .ok();
        return Ok(cg);
    }
    // cgroup v1: one hierarchy per controller.
    let mut v1 = |controller: &str, set: &dyn Fn(&Path) -> Result<(), SetupError>| {
        let path = own_path(controller).ok_or_else(|| {
            SetupError(format!(
                "no cgroup v2 with the {controller} controller and no v1 `{controller}` \
                 hierarchy: the agent's limits cannot be enforced"
            ))
        })?;
        let dir = Path::new("/sys/fs/cgroup")
            .join(controller)
            .join(path.trim_start_matches('/'))
            .join(&name);
        std::fs::create_dir(&dir)
            .map_err(|e| SetupError(format!("cannot create the cgroup {}: {e}", dir.display())))?;
        cg.dirs.push(dir.clone());
        set(&dir)?;
        cg.procs.push(open_procs(&dir)?);
        Ok::<(), SetupError>(())
    };
    if let Some(m) = limits.memory_bytes {
        v1("memory", &|d| {
            write(d, "memory.limit_in_bytes", &m.to_string())?;
            if d.join("memory.memsw.limit_in_bytes").exists() {
                write(d, "memory.memsw.limit_in_bytes", &m.to_string())?;
            }
            Ok(())
        })?;
    }
    if let Some(p) = limits.processes {
        v1("pids", &|d| write(d, "pids.max", &p.to_string()))?;
    } else if !limits.any() {
        // No limits: a cgroup only to find (and kill) every process of the run.
        v1("pids", &|_| Ok(()))?;
    }
    if let Some(c) = limits.cpus {
        v1("cpu", &|d| {
            write(d, "cpu.cfs_period_us", &PERIOD_US.to_string())?;
            write(d, "cpu.cfs_quota_us", &(c * PERIOD_US).to_string())
        })?;
    }
    Ok(cg)
}

impl Cgroup {
    /// The directories, for whoever removes them.
    pub fn dirs(&self) -> Vec<std::ffi::CString> {
        self.dirs
            .iter()
            .filter_map(|d| std::ffi::CString::new(d.as_os_str().as_encoded_bytes()).ok())
            .collect()
    }

    /// `cgroup.procs` for reading (the first hierarchy: every process of the run).
    pub fn procs_reader(&self) -> Option<File> {
        self.dirs
            .first()
            .and_then(|d| std::fs::File::open(d.join("cgroup.procs")).ok())
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        self.procs.clear();
        self.kill = None;
        if self.handed_off {
            return;
        }
        for d in self.dirs.iter().rev() {
            // Empty once every process of the run is gone; retry briefly while the
            // kernel finishes tearing the last ones down.
            for _ in 0..50 {
                if std::fs::remove_dir(d).is_ok() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
    }
}

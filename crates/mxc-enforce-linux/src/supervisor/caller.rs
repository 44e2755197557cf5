//! Who is asking: the calling task's process, program, limits and umask, and the
//! process tree of the sandbox (read from `/proc`).

use super::*;

impl Call<'_> {
    pub(super) fn status_field(&self, field: &str) -> Option<String> {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.n.pid)).ok()?;
        s.lines()
            .find_map(|l| l.strip_prefix(field).map(|v| v.trim().to_string()))
    }

    pub(super) fn tgid(&mut self) -> u32 {
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

    pub(super) fn who(&mut self) -> Who {
        Who {
            tid: self.n.pid,
            tgid: self.tgid,
        }
    }

    /// The caller's RLIMIT_FSIZE (soft), when it has one.
    pub(super) fn fsize_limit(&self) -> Option<u64> {
        let text = std::fs::read_to_string(format!("/proc/{}/limits", self.n.pid)).ok()?;
        let line = text.lines().find(|l| l.starts_with("Max file size"))?;
        line.split_whitespace().nth(3)?.parse().ok()
    }

    pub(super) fn umask(&self) -> u32 {
        self.status_field("Umask:")
            .and_then(|v| u32::from_str_radix(&v, 8).ok())
            .unwrap_or(0o022)
    }

    /// The caller's program (its process's executable), for a decision that depends
    /// on it (`from`). Read, then the call checked still pending: another thread's
    /// `execve` replaces the executable only once every other thread of the process
    /// has exited, and the caller's held call ends when it does, so a call still
    /// pending after the read proves the program read is the one that made it (read
    /// after such an `execve` it would be the new program: escapes `proxy_from_exec`).
    ///
    /// Read through the calling thread (`/proc/TID/exe`): a process whose main thread
    /// has exited (a zombie leader, its other threads running) has no executable at
    /// `/proc/TGID/exe`, and a program read as none matched no `deny ... from` rule
    /// (escape `from_leader`). A program that cannot be read at all refuses the call
    /// (`EACCES`: fail closed). (A process that made itself not dumpable, under an
    /// `mxcc` without `CAP_SYS_PTRACE`, cannot be looked at: neither its program nor its
    /// memory, so its held calls fail before this.)
    pub(super) fn program(&mut self) -> Result<Vec<u8>, Errno> {
        let p = match read_program(self.n.pid) {
            Ok(p) => p,
            Err(_) => read_program(self.tgid()).map_err(|_| Errno::ACCESS)?,
        };
        self.still_valid()?;
        Ok(p)
    }

    pub(super) fn pidfd(&mut self) -> Result<OwnedFd, Errno> {
        let t = self.tgid();
        let pid = rustix::process::Pid::from_raw(t as i32).ok_or(Errno::SRCH)?;
        rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())
    }

    /// The caller's socket `fd`, duplicated into the supervisor (same open file).
    pub(super) fn socket(&mut self, fd: i32) -> Result<OwnedFd, Errno> {
        let pidfd = self.pidfd()?;
        let s = rustix::process::pidfd_getfd(&pidfd, fd, rustix::process::PidfdGetfdFlags::empty())
            .map_err(|_| Errno::BADF)?;
        self.still_valid()?;
        Ok(s)
    }
}

/// The host pid of the sandboxed process numbered `nspid` in its own pid namespace.
pub(super) fn host_pid_of(nspid: u32, ancestor: u32) -> Option<u32> {
    descendants(ancestor).into_iter().find(|p| {
        std::fs::read_to_string(format!("/proc/{p}/status")).is_ok_and(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("NSpid:"))
                .map(|v| v.split_whitespace().collect::<Vec<_>>())
                .is_some_and(|v| v.len() > 1 && v.last() == Some(&nspid.to_string().as_str()))
        })
    })
}

/// The executable of process `pid` (empty when it cannot be read).
pub(crate) fn program_of(pid: u32) -> Vec<u8> {
    read_program(pid).unwrap_or_default()
}

/// The executable of task `pid` (a process or one of its threads).
fn read_program(pid: u32) -> Result<Vec<u8>, Errno> {
    fs::readlink(format!("/proc/{pid}/exe"), Vec::new())
        .map(|c| c.into_bytes())
        .and_then(|p| {
            if p.is_empty() {
                Err(Errno::NOENT)
            } else {
                Ok(p)
            }
        })
}

/// The parent of `pid` and whether it is already dead (zombie), from `/proc/PID/stat`.
pub(super) fn parent_of(pid: u32) -> Option<(u32, bool)> {
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
pub(super) fn parse_stat(stat: &[u8]) -> Option<(u32, bool)> {
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

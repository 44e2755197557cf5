//! Proofs for held calls the kernel reads again after the supervisor answers
//! `Continue` (`execve`, and the rare calls the supervisor cannot perform itself): no
//! other task of the sandbox can change the caller's memory or descriptor table in
//! between, and the bytes read lie in memory only the caller can change.
//!
//! Only a task that shares the caller's address space (or descriptor table) can
//! change it: a new sharer is made only by `clone` from a sharer, and the filter refuses
//! `ptrace`, `process_vm_writev` and `userfaultfd`. So when no live task but the
//! caller — held, it cannot run — shares it, nothing can until the call ends. A `vfork`
//! parent blocked until its child (the caller) execs shares the address space but
//! cannot run either.

use crate::supervisor::descendants;
use crate::sys::{self, Shares};

/// Every live task (thread) of the sandbox, as host thread ids, sorted.
fn sandbox_tasks(our_pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for pid in descendants(our_pid) {
        let Ok(rd) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        out.extend(
            rd.flatten()
                .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok())),
        );
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether task `t` is a `vfork` parent waiting for its child to exec or exit: it runs
/// no code of its own until then. It sleeps (state `D`) inside `vfork`, or `clone` with
/// `CLONE_VFORK` (posix_spawn's), as `/proc/T/syscall` shows (the call and its first
/// argument; `running` when it is not in a call). `wchan` cannot tell: the wait is
/// inlined into `kernel_clone` on current kernels.
fn waits_for_vfork(t: u32) -> bool {
    let stat = std::fs::read(format!("/proc/{t}/stat")).unwrap_or_default();
    let state = stat
        .iter()
        .rposition(|&b| b == b')')
        .and_then(|i| stat.get(i + 2).copied());
    if state != Some(b'D') {
        return false;
    }
    let call = std::fs::read_to_string(format!("/proc/{t}/syscall")).unwrap_or_default();
    vfork_call(&call)
}

/// Whether a `/proc/T/syscall` line names `vfork`, or `clone` with `CLONE_VFORK`.
fn vfork_call(line: &str) -> bool {
    let mut f = line.split_ascii_whitespace();
    let nr = f.next().and_then(|n| n.parse::<i64>().ok());
    let arg0 = f
        .next()
        .and_then(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).ok());
    match (nr, arg0) {
        (Some(n), _) if n == libc::SYS_vfork => true,
        (Some(n), Some(flags)) if n == libc::SYS_clone => flags & libc::CLONE_VFORK as u64 != 0,
        _ => false,
    }
}

/// Whether no task of the sandbox but `tid` (held in a system call) can change its
/// `what` before that call ends. Two full passes over the sandbox's tasks that agree
/// (the same tasks, none vanished meanwhile, no sharer): a sharer made between them
/// would have been made by a sharer the first pass saw. The sandbox's tasks are those
/// of the strict descendants of `top` (`Supervisor::sandbox_top`).
pub fn exclusive(tid: u32, top: u32, what: Shares) -> bool {
    let mut previous: Option<Vec<u32>> = None;
    for _ in 0..4 {
        let tasks = sandbox_tasks(top);
        let mut clean = true;
        for &t in &tasks {
            if t == tid {
                continue;
            }
            match sys::kcmp(tid, t, what) {
                Ok(false) => {}
                Ok(true) if what == Shares::Memory && waits_for_vfork(t) => {}
                Ok(true) => return false,
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => clean = false,
                Err(_) => return false,
            }
        }
        if clean && previous.as_ref() == Some(&tasks) {
            return true;
        }
        previous = clean.then_some(tasks);
    }
    false
}

/// One mapping of `/proc/PID/maps`: [start, end) and whether it is private anonymous
/// memory (heap, stack, plain or named anonymous mappings: nothing a file, a shared
/// mapping or another process can change behind the owner's back).
fn maps(tid: u32) -> Option<Vec<(u64, u64, bool)>> {
    let text = std::fs::read_to_string(format!("/proc/{tid}/maps")).ok()?;
    let mut out = Vec::new();
    for line in text.lines() {
        let mut f = line.split_ascii_whitespace();
        let (range, perms, _off, dev, inode) =
            (f.next()?, f.next()?, f.next()?, f.next()?, f.next()?);
        let path = f.collect::<Vec<_>>().join(" ");
        let (a, b) = range.split_once('-')?;
        let (a, b) = (
            u64::from_str_radix(a, 16).ok()?,
            u64::from_str_radix(b, 16).ok()?,
        );
        let private = perms.as_bytes().get(3) == Some(&b'p');
        let anonymous = dev == "00:00"
            && inode == "0"
            && (path.is_empty()
                || path == "[heap]"
                || path.starts_with("[stack")
                || path.starts_with("[anon:"));
        out.push((a, b, private && anonymous));
    }
    Some(out)
}

/// Whether every byte range `(address, length)` lies in private anonymous memory of
/// `tid`'s address space.
pub fn private_anonymous(tid: u32, ranges: &[(u64, u64)]) -> bool {
    let Some(maps) = maps(tid) else { return false };
    let mut ranges: Vec<(u64, u64)> = ranges
        .iter()
        .filter(|r| r.1 > 0)
        .map(|&(a, l)| (a, a.saturating_add(l)))
        .collect();
    ranges.sort_unstable();
    ranges.iter().all(|&(mut a, end)| {
        // Walk the (sorted, adjacent) mappings that cover [a, end).
        while a < end {
            match maps.iter().find(|m| m.0 <= a && a < m.1) {
                Some(&(_, e, true)) => a = e,
                _ => return false,
            }
        }
        true
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vfork_waits_are_read_from_the_syscall_line() {
        assert!(vfork_call("58 0x0 0x0 0x0 0x0 0x0 0x0 0x7ffd 0x7f12"));
        assert!(vfork_call("56 0x4111 0x0 0x0 0x0 0x0 0x0 0x7ffd 0x7f12"));
        assert!(!vfork_call(
            "56 0x1200011 0x0 0x0 0x0 0x0 0x0 0x7ffd 0x7f12"
        ));
        assert!(!vfork_call("0 0x3 0x7ffd 0x1000 0x0 0x0 0x0 0x7ffd 0x7f12"));
        assert!(!vfork_call("running"));
        assert!(!vfork_call(""));
    }

    /// A real `vfork` parent (a C program whose child sleeps before `exec`), seen from
    /// outside; and the same program running, not waiting.
    #[test]
    fn a_vfork_parent_is_seen_waiting() {
        let dir = std::env::temp_dir().join(format!("mxc-race-vfork-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = dir.join("vf.c");
        std::fs::write(
            &src,
            "#include <unistd.h>\nint main(void){pid_t p=vfork();if(p==0){sleep(1);\
             execl(\"/bin/true\",\"true\",(char*)0);_exit(1);}for(volatile long i=0;\
             i<400000000L;i++);return 0;}\n",
        )
        .unwrap();
        let bin = dir.join("vf");
        match std::process::Command::new("cc")
            .arg("-o")
            .arg(&bin)
            .arg(&src)
            .status()
        {
            Ok(s) if s.success() => {}
            _ => {
                eprintln!("skipped: no C compiler");
                return;
            }
        }
        let mut c = std::process::Command::new(&bin).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(
            waits_for_vfork(c.id()),
            "the vfork parent was not seen waiting"
        );
        // After the child's exec the parent runs (its loop): no longer waiting.
        std::thread::sleep(std::time::Duration::from_millis(1000));
        assert!(!waits_for_vfork(c.id()));
        c.wait().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn own_memory_kinds() {
        let me = std::process::id();
        let heap = Box::new([7u8; 64]);
        let stack = [1u8; 16];
        assert!(private_anonymous(me, &[(heap.as_ptr() as u64, 64)]));
        assert!(private_anonymous(me, &[(stack.as_ptr() as u64, 16)]));
        // A string in the executable's read-only data is file-backed.
        static TEXT: &str = "in the binary";
        assert!(!private_anonymous(me, &[(TEXT.as_ptr() as u64, 4)]));
        assert!(!private_anonymous(me, &[(0, 1)]));
    }
}

//! The only module with `unsafe` (with its children): seccomp user-notification
//! ioctls and reading a caller's memory (`notif`), loading a seccomp filter and the
//! few calls the child makes between `fork` and `exec` (`child`), the container's
//! namespaces, mounts and capabilities (`ns`), the watchdog (`watchdog`), socket calls
//! with exact address bytes (`sock`), and `kcmp`.
//!
//! Everything else in the crate uses `rustix`'s safe wrappers, or a safe function
//! here; `crates/mxcc/tests/edges.rs` (`unsafe_stays_in_sys`) fails on `unsafe`
//! anywhere else. Each `unsafe` block says why it is sound. Must never decide
//! anything: these are the kernel's calls, as the rest of the crate asks for them.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
mod child;
mod notif;
mod ns;
mod sock;
mod watchdog;

pub use child::*;
pub use notif::*;
pub use ns::*;
pub use sock::*;
pub use watchdog::*;

fn check(r: libc::c_long) -> io::Result<libc::c_long> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Whether this process holds CAP_SYS_ADMIN in its effective set (from
/// `/proc/self/status`).
pub fn has_sys_admin() -> bool {
    const CAP_SYS_ADMIN: u32 = 21;
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .is_some_and(|c| c & (1 << CAP_SYS_ADMIN) != 0)
}

/// What two tasks may share (`kcmp` types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shares {
    /// The address space (`KCMP_VM`).
    Memory = 1,
    /// The descriptor table (`KCMP_FILES`).
    Files = 2,
    /// The root and working directories (`KCMP_FS`).
    Dirs = 3,
}

/// `Ok(true)` when tasks `a` and `b` share `what`; `Err` when either is gone (`ESRCH`)
/// or cannot be compared.
pub fn kcmp(a: u32, b: u32, what: Shares) -> io::Result<bool> {
    // SAFETY: kcmp takes integers only.
    let r = unsafe {
        libc::syscall(
            libc::SYS_kcmp,
            a as libc::pid_t,
            b as libc::pid_t,
            what as libc::c_int,
            0usize,
            0usize,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r == 0)
}

//! Metadata calls (SPEC §1): changing a file's mode, owner, times or extended
//! attributes is `write`; reading its extended attributes, its file system's statistics,
//! entering it as a directory or watching it is `read`.
//!
//! Every change is decided on the object the path (or descriptor) reaches *now* and
//! performed by the supervisor on that very object (an `O_PATH` descriptor, reached
//! with `AT_EMPTY_PATH` or `/proc/self/fd/N`), with arguments copied out of the caller's
//! memory once: never "continue" with a path or buffer the caller could change after
//! the check. Extended attribute reads are performed the same way and copied back.
//! `statfs` and `chdir` are decided, then run by the kernel (`chdir` cannot be done on
//! another process's behalf): a path swapped in between can reveal which file system a
//! denied place is on, or make it the cwd, whose names are decided again at each use.

use super::{ok, Call, Done, R};
use crate::resolve::{self, Base, Resolved};
use mxc_eval::FsRight;
use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use rustix::fs::{self, AtFlags, Mode, OFlags};
use rustix::io::Errno;

/// x86_64 numbers of calls newer than the libc crate's tables.
pub const SYS_SETXATTRAT: i64 = 463;
pub const SYS_GETXATTRAT: i64 = 464;
pub const SYS_LISTXATTRAT: i64 = 465;
pub const SYS_REMOVEXATTRAT: i64 = 466;
pub const SYS_FILE_GETATTR: i64 = 468;
pub const SYS_FILE_SETATTR: i64 = 469;

const XATTR_NAME_MAX: usize = 255;
const XATTR_SIZE_MAX: usize = 65536;
const XATTR_LIST_MAX: usize = 65536;

/// What a metadata call names: a path (relative to a base), or a descriptor's object.
#[derive(Clone, Copy, Debug)]
pub enum Obj {
    /// `(base, path address, at-flags, follow the last symlink by default)`.
    Path(Base, u64, i32, bool),
    /// A descriptor of the caller (`AT_FDCWD`: its cwd).
    Fd(i32),
}

/// The layout of a `utime`-family call's times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Times {
    /// `struct utimbuf`: two `time_t`.
    Utimbuf,
    /// `struct timeval[2]` (microseconds).
    Timeval,
    /// `struct timespec[2]` (nanoseconds, `UTIME_NOW`, `UTIME_OMIT`).
    Timespec,
}

impl Obj {
    /// `*at` forms: `(dirfd, path, flags)`, where an empty path with `AT_EMPTY_PATH`
    /// names the descriptor itself.
    pub fn at(dirfd: u64, path: u64, flags: i32) -> Obj {
        Obj::Path(Base::Fd(dirfd as i32), path, flags, true)
    }
}

fn is_symlink(st: &fs::Stat) -> bool {
    fs::FileType::from_raw_mode(st.st_mode) == fs::FileType::Symlink
}

/// `/proc/self/fd/N` of one of the supervisor's descriptors: a path that reaches the
/// object itself (magic link), whatever happens to its names meanwhile.
fn self_fd(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

impl Call<'_> {
    /// The object a metadata call names, resolved as the caller would reach it.
    fn meta_object(&mut self, o: Obj) -> Result<Resolved, Errno> {
        let (base, addr, flags, follow_default) = match o {
            Obj::Fd(fd) => return self.fd_object(fd),
            Obj::Path(b, a, f, d) => (b, a, f, d),
        };
        let p = self.path_arg(addr)?;
        if p.is_empty() {
            if flags & libc::AT_EMPTY_PATH == 0 {
                return Err(Errno::NOENT);
            }
            return match base {
                Base::Fd(fd) => self.fd_object(fd),
                Base::Cwd => self.fd_object(libc::AT_FDCWD),
            };
        }
        let follow = follow_default && flags & libc::AT_SYMLINK_NOFOLLOW == 0;
        self.resolve(base, &p, follow)
    }

    /// The object descriptor `fd` of the caller refers to now (`AT_FDCWD`: its cwd),
    /// opened `O_PATH`, and its path as the policy sees it.
    pub(super) fn fd_object(&mut self, fd: i32) -> Result<Resolved, Errno> {
        let link = if fd == libc::AT_FDCWD {
            format!("/proc/{}/cwd", self.n.pid)
        } else if fd >= 0 {
            format!("/proc/{}/fd/{fd}", self.n.pid)
        } else {
            return Err(Errno::BADF);
        };
        let obj = fs::open(link, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())
            .map_err(|_| Errno::BADF)?;
        self.still_valid()?;
        let path = resolve::fd_path(obj.as_fd())?;
        Ok(Resolved {
            parent: None,
            name: Vec::new(),
            object: Some(obj),
            path,
            via_fd: None,
            parent_missing: false,
            stat: None,
        })
    }

    /// Resolves `o` and decides `right` on it; the existing object, when allowed.
    /// A denied name and a missing one answer alike (the decision comes first).
    fn meta_decided(&mut self, o: Obj, right: FsRight) -> Result<(OwnedFd, fs::Stat), Errno> {
        let r = self.meta_object(o)?;
        self.decide_meta(&r, right)?;
        let obj = r.object.ok_or(Errno::NOENT)?;
        let st = match r.stat {
            Some(st) => st,
            None => fs::fstat(&obj)?,
        };
        Ok((obj, st))
    }

    /// Decides `right` on a metadata call's object; a directory on the way to a place
    /// the policy can reach may be looked at without `read` (SPEC §1).
    fn decide_meta(&mut self, r: &Resolved, right: FsRight) -> Result<(), Errno> {
        self.kernel_refusal(&r.path, &[right])?;
        // Whether it is a directory matters only to `read` (no `fstat` otherwise).
        let is_dir = right == FsRight::Read && self.is_dir(r);
        match super::decide::meta_check(&self.sup.engine, &r.path, right, is_dir) {
            Some(c) => {
                self.learn_fs(&r.path, &[right]);
                self.settle(c)
            }
            None => Ok(()),
        }
    }

    // ---- changes (`write`) ---------------------------------------------------------------

    pub(super) fn chmod(&mut self, o: Obj, mode: u32) -> R {
        let (obj, st) = self.meta_decided(o, FsRight::Write)?;
        let dir = fs::FileType::from_raw_mode(st.st_mode) == fs::FileType::Directory;
        // A setuid or setgid program made inside the sandbox would run with its owner's
        // or group's rights outside it (setgid on a directory only sets new files' group).
        if mode & libc::S_ISUID != 0 || (mode & libc::S_ISGID != 0 && !dir) {
            return Err(Errno::PERM);
        }
        if is_symlink(&st) {
            return Err(Errno::OPNOTSUPP);
        }
        fs::chmodat(
            fs::CWD,
            self_fd(&obj),
            Mode::from_bits_retain(mode & 0o7777),
            AtFlags::empty(),
        )?;
        ok(0)
    }

    pub(super) fn chown(&mut self, o: Obj, uid: u32, gid: u32) -> R {
        let (obj, _) = self.meta_decided(o, FsRight::Write)?;
        let uid = (uid != u32::MAX).then(|| fs::Uid::from_raw(uid));
        let gid = (gid != u32::MAX).then(|| fs::Gid::from_raw(gid));
        fs::chownat(&obj, "", uid, gid, AtFlags::EMPTY_PATH)?;
        ok(0)
    }

    /// `utime`, `utimes`, `futimesat`, `utimensat`: `times` is already copied out of
    /// the caller (`None`: now).
    pub(super) fn utimes(&mut self, o: Obj, times: Option<[(i64, i64); 2]>) -> R {
        let (obj, _) = self.meta_decided(o, FsRight::Write)?;
        let now = rustix::fs::Timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_NOW,
        };
        let [a, m] = times.map_or([now, now], |t| {
            t.map(|(s, n)| rustix::fs::Timespec {
                tv_sec: s,
                tv_nsec: n,
            })
        });
        let ts = fs::Timestamps {
            last_access: a,
            last_modification: m,
        };
        fs::utimensat(&obj, "", &ts, AtFlags::EMPTY_PATH)?;
        ok(0)
    }

    /// Copies the two times of a `utime`-family call out of the caller (`None`: now).
    pub(super) fn read_times(
        &mut self,
        addr: u64,
        kind: Times,
    ) -> Result<Option<[(i64, i64); 2]>, Errno> {
        if addr == 0 {
            return Ok(None);
        }
        let len = if kind == Times::Utimbuf { 16 } else { 32 };
        let b = self.read(addr, len)?;
        let w = |i: usize| i64::from_ne_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
        let t = match kind {
            Times::Utimbuf => [(w(0), 0), (w(1), 0)],
            Times::Timeval => {
                for us in [w(1), w(3)] {
                    if !(0..1_000_000).contains(&us) {
                        return Err(Errno::INVAL);
                    }
                }
                [(w(0), w(1) * 1000), (w(2), w(3) * 1000)]
            }
            Times::Timespec => {
                for ns in [w(1), w(3)] {
                    if !(0..1_000_000_000).contains(&ns)
                        && ns != libc::UTIME_NOW
                        && ns != libc::UTIME_OMIT
                    {
                        return Err(Errno::INVAL);
                    }
                }
                [(w(0), w(1)), (w(2), w(3))]
            }
        };
        Ok(Some(t))
    }

    fn xattr_name(&mut self, addr: u64) -> Result<Vec<u8>, Errno> {
        let n = self.read_cstr(addr, XATTR_NAME_MAX).map_err(|e| {
            if e == Errno::NAMETOOLONG {
                Errno::RANGE
            } else {
                e
            }
        })?;
        if n.is_empty() {
            return Err(Errno::RANGE);
        }
        Ok(n)
    }

    pub(super) fn setxattr(&mut self, o: Obj, name: u64, value: u64, size: u64, flags: u32) -> R {
        let name = self.xattr_name(name)?;
        if size as usize > XATTR_SIZE_MAX {
            return Err(Errno::TOOBIG);
        }
        let value = self.read(value, size as usize)?;
        self.still_valid()?;
        let (obj, _) = self.meta_decided(o, FsRight::Write)?;
        fs::setxattr(
            self_fd(&obj),
            &name[..],
            &value,
            fs::XattrFlags::from_bits_retain(flags),
        )?;
        ok(0)
    }

    pub(super) fn removexattr(&mut self, o: Obj, name: u64) -> R {
        let name = self.xattr_name(name)?;
        self.still_valid()?;
        let (obj, _) = self.meta_decided(o, FsRight::Write)?;
        fs::removexattr(self_fd(&obj), &name[..])?;
        ok(0)
    }

    /// `setxattrat(dfd, path, at_flags, name, struct xattr_args *, size)`.
    pub(super) fn setxattrat(&mut self, a: [u64; 6]) -> R {
        let (value, size, flags) = self.xattr_args(a[4], a[5])?;
        self.setxattr(Obj::at(a[0], a[1], a[2] as i32), a[3], value, size, flags)
    }

    /// `struct xattr_args { u64 value; u32 size; u32 flags; }` (the kernel accepts a
    /// larger struct whose extra bytes are zero).
    fn xattr_args(&mut self, at: u64, usize_: u64) -> Result<(u64, u64, u32), Errno> {
        if !(16..=4096).contains(&usize_) {
            return Err(Errno::INVAL);
        }
        let b = self.read(at, usize_ as usize)?;
        if b[16..].iter().any(|&x| x != 0) {
            return Err(Errno::TOOBIG);
        }
        let value = u64::from_ne_bytes(b[0..8].try_into().unwrap_or([0; 8]));
        let size = u32::from_ne_bytes(b[8..12].try_into().unwrap_or([0; 4]));
        let flags = u32::from_ne_bytes(b[12..16].try_into().unwrap_or([0; 4]));
        Ok((value, u64::from(size), flags))
    }

    // ---- reads (`read`) ---------------------------------------------------------------------

    pub(super) fn getxattr(&mut self, o: Obj, name: u64, buf: u64, size: u64) -> R {
        let name = self.xattr_name(name)?;
        self.still_valid()?;
        let (obj, _) = self.meta_decided(o, FsRight::Read)?;
        let mut v = vec![0u8; (size as usize).min(XATTR_SIZE_MAX)];
        let n = fs::getxattr(self_fd(&obj), &name[..], &mut v[..])?;
        if size != 0 {
            self.write(buf, &v[..n])?;
        }
        ok(n as i64)
    }

    /// `getxattrat(dfd, path, at_flags, name, struct xattr_args *, size)`: the value
    /// buffer and its size are in the struct, whose flags must be zero.
    pub(super) fn getxattrat(&mut self, a: [u64; 6]) -> R {
        let (value, size, flags) = self.xattr_args(a[4], a[5])?;
        if flags != 0 {
            return Err(Errno::INVAL);
        }
        self.getxattr(Obj::at(a[0], a[1], a[2] as i32), a[3], value, size)
    }

    pub(super) fn listxattr(&mut self, o: Obj, buf: u64, size: u64) -> R {
        self.still_valid()?;
        let (obj, _) = self.meta_decided(o, FsRight::Read)?;
        let mut v = vec![0u8; (size as usize).min(XATTR_LIST_MAX)];
        let n = fs::listxattr(self_fd(&obj), &mut v[..])?;
        if size != 0 {
            self.write(buf, &v[..n])?;
        }
        ok(n as i64)
    }

    /// `statfs(path, buf)`: decided on the object, then run by the kernel.
    pub(super) fn statfs(&mut self, path: u64) -> R {
        self.meta_decided(Obj::Path(Base::Cwd, path, 0, true), FsRight::Read)?;
        Ok(Done::Reply(crate::sys::Reply::Continue))
    }

    /// `chdir(path)`: entering a directory is `read`, except a directory on the way to
    /// a place the policy can reach, which may be traversed. Run by the kernel.
    pub(super) fn chdir(&mut self, path: u64) -> R {
        let (_, st) = self.meta_decided(Obj::Path(Base::Cwd, path, 0, true), FsRight::Read)?;
        if fs::FileType::from_raw_mode(st.st_mode) != fs::FileType::Directory {
            return Err(Errno::NOTDIR);
        }
        Ok(Done::Reply(crate::sys::Reply::Continue))
    }

    /// `inotify_add_watch(ifd, path, mask)`: watching a place shows the names made and
    /// removed in it, so it is `read` on the object. Performed on the caller's own
    /// inotify instance (a duplicate of its descriptor) with the decided object.
    pub(super) fn inotify_add_watch(&mut self, ifd: i32, path: u64, mask: u32) -> R {
        let follow = mask & libc::IN_DONT_FOLLOW == 0;
        let r = self.meta_object(Obj::Path(Base::Cwd, path, 0, follow))?;
        // Watching is never an ancestor's look: it shows names.
        self.decide_fs(&r.path, &[FsRight::Read])?;
        let obj = r.object.ok_or(Errno::NOENT)?;
        let inot = self.socket(ifd)?;
        // The object is already resolved: `/proc/self/fd/N` must be followed to it.
        let flags = rustix::fs::inotify::WatchFlags::from_bits_retain(mask & !libc::IN_DONT_FOLLOW);
        let wd = rustix::fs::inotify::add_watch(&inot, self_fd(&obj), flags)?;
        ok(i64::from(wd))
    }
}

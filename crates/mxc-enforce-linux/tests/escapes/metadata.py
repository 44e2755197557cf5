# Metadata (SPEC §1): changing it is `write`, reading it is `read`, and whether a name
# exists below a place the agent may not read is never observable.
import ctypes
import errno
from _lib import *

SECRET = f"{WORK}/secret/key"
OK = f"{WORK}/ok"
libc = ctypes.CDLL(None, use_errno=True)


def xattrs_work():
    try:
        os.setxattr(OK, "user.mxc", b"1")
        return True
    except OSError as e:
        if e.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            return False
        raise


control("chmod a workspace file", lambda: os.chmod(OK, 0o600))
control("utime a workspace file", lambda: os.utime(OK, (1, 2)))
control("chown a workspace file to its owner", lambda: os.chown(OK, os.getuid(), os.getgid()))
have_xattrs = False
def _x():
    global have_xattrs
    have_xattrs = xattrs_work()
control("setxattr a workspace file", _x)
if have_xattrs:
    control("getxattr a workspace file", lambda: os.getxattr(OK, "user.mxc"))
    control("removexattr a workspace file", lambda: os.removexattr(OK, "user.mxc"))
control("statvfs the workspace", lambda: os.statvfs(WORK))
control("chdir into the workspace", lambda: os.chdir(WORK))
# The way to the workspace may be looked at and traversed (GNU rm stats /).
control("stat /", lambda: os.stat("/"))
control("stat the workspace's parent", lambda: os.stat(os.path.dirname(WORK)))
control("chdir to the workspace's parent", lambda: os.chdir(os.path.dirname(WORK)))
os.chdir(WORK)

# Changes to the secret, by path and by descriptor-less forms.
attack("chmod the secret", lambda: os.chmod(SECRET, 0o777))
attack("fchmodat2 the secret (no-follow)", lambda: os.chmod(SECRET, 0o777, follow_symlinks=False))
attack("chown the secret", lambda: os.chown(SECRET, os.getuid(), os.getgid()))
attack("lchown the secret", lambda: os.lchown(SECRET, os.getuid(), os.getgid()))
attack("utime the secret", lambda: os.utime(SECRET, (0, 0)))
attack("utime the secret to now", lambda: os.utime(SECRET))
attack("setxattr the secret", lambda: os.setxattr(SECRET, "user.mxc", b"1"))
attack("removexattr the secret", lambda: os.removexattr(SECRET, "user.mxc"))
attack("chmod the secret's directory", lambda: os.chmod(f"{WORK}/secret", 0o777))
attack("chmod the secret through a relative path", lambda: os.chmod("secret/key", 0o777))
d = os.open(f"{WORK}/secret/..", os.O_RDONLY | os.O_DIRECTORY)
attack("fchmodat the secret from a dirfd", lambda: os.chmod("secret/key", 0o777, dir_fd=d))
attack("utimensat the secret from a dirfd", lambda: os.utime("secret/key", (0, 0), dir_fd=d))
attack("fchownat the secret from a dirfd", lambda: os.chown("secret/key", 0, 0, dir_fd=d))

# Descriptor forms act on the descriptor's object, decided for `write` even when the
# descriptor was opened only for reading (a file of the suite: read-only). The values
# are the file's own, so an escape changes nothing.
ro = os.open(os.path.join(os.environ["SUITE"], "escapes.mxc"), os.O_RDONLY)
st = os.fstat(ro)
attack("fchmod a read-only file", lambda: os.fchmod(ro, st.st_mode & 0o7777))
attack("fchown a read-only file", lambda: os.fchown(ro, st.st_uid, st.st_gid))
attack("futimens a read-only file", lambda: os.utime(ro, ns=(st.st_atime_ns, st.st_mtime_ns)))
if have_xattrs:
    attack("fsetxattr a read-only file", lambda: os.setxattr(ro, "user.mxc", b"1"))

# Reads of the secret's metadata.
attack("getxattr the secret", lambda: os.getxattr(SECRET, "user.mxc"))
attack("listxattr the secret", lambda: os.listxattr(SECRET))
attack("statvfs the secret", lambda: os.statvfs(SECRET))
attack("chdir into the secret's directory", lambda: os.chdir(f"{WORK}/secret"))
def inotify():
    fd = libc.inotify_init1(0)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "inotify_init1")
    wd = libc.inotify_add_watch(fd, f"{WORK}/secret".encode(), 0xFFF)
    if wd < 0:
        raise OSError(ctypes.get_errno(), "inotify_add_watch")
    return wd
attack("watch the secret's directory", inotify)

# A denied name and a missing one answer alike, whatever the call.
def alike(fn, a, b):
    def run():
        res = []
        for p in (a, b):
            try:
                fn(p)
                res.append("ok")
            except OSError as e:
                res.append(e.errno)
        if res[0] != res[1] or res[0] == "ok":
            return f"{a}: {res[0]} but {b}: {res[1]}"
        raise OSError(res[0], "denied and missing answer alike")
    return run

S = f"{WORK}/secret"
for name, fn in [
    ("stat", os.stat),
    ("lstat", os.lstat),
    ("access", lambda p: libc.access(p.encode(), 0) == 0 or (_ for _ in ()).throw(OSError(ctypes.get_errno(), "access"))),
    ("readlink", os.readlink),
    ("getxattr", lambda p: os.getxattr(p, "user.mxc")),
    ("statvfs", os.statvfs),
    ("chdir", os.chdir),
]:
    attack(f"{name}: existing vs missing secret", alike(fn, f"{S}/key", f"{S}/nope"))
    attack(f"{name}: through an existing vs missing secret name",
           alike(fn, f"{S}/key/x", f"{S}/nope/x"))
    attack(f"{name}: back out through an existing vs missing secret name",
           alike(fn, f"{S}/key/../../ok", f"{S}/nope/../../ok"))

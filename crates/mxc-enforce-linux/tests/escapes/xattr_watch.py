# Under `escape-exact`, a policy Landlock expresses exactly, so file calls are not held
# (Landlock alone decides opens): what Landlock has no right for must still be decided.
# An extended attribute holds data (`user.*`: anything a program stored there, here
# "TOP-SECRET-XATTR" on `secret/key`, set by escapes.rs), and an inotify watch on a
# directory shows the names made, opened and removed in it from then on: both are
# `read` of a place the policy does not grant.
from _lib import *
import ctypes, errno
secret = os.path.join(WORK, "secret")
key = os.path.join(secret, "key")
ok = os.path.join(WORK, "ok")
libc = ctypes.CDLL(None, use_errno=True)
control("read the granted file", lambda: read(ok))
attack("read the secret", lambda: read(key))
attack("getxattr of the secret", lambda: os.getxattr(key, "user.mxc_secret"))
attack("lgetxattr of the secret",
       lambda: os.getxattr(key, "user.mxc_secret", follow_symlinks=False))
attack("listxattr of the secret", lambda: os.listxattr(key))
def getxattrat():
    # getxattrat(dfd, path, at_flags, name, struct xattr_args *, size) (Linux 6.13).
    buf = ctypes.create_string_buffer(256)
    args = (ctypes.c_uint64 * 2)(ctypes.addressof(buf), 256)
    r = libc.syscall(464, -100, key.encode(), 0, b"user.mxc_secret", args, 16)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return buf.raw[:r]
attack("getxattrat of the secret", getxattrat)
def listxattrat():
    buf = ctypes.create_string_buffer(256)
    r = libc.syscall(465, -100, key.encode(), 0, buf, 256)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return buf.raw[:r]
attack("listxattrat of the secret", listxattrat)
ifd = libc.inotify_init1(0)
control("inotify_init1", lambda: ifd >= 0 or (_ for _ in ()).throw(OSError(ctypes.get_errno(), "inotify_init1")))
def watch(path):
    def go():
        w = libc.inotify_add_watch(ifd, path.encode(), 0xfff)
        if w < 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
        return f"watch {w}: every name made or opened in {path} from now on"
    return go
control("watch the granted file", watch(ok))
attack("inotify watch on the secret directory", watch(secret))
attack("inotify watch on the secret", watch(key))

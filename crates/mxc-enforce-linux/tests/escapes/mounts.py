# Mounts: the read-only view of the host cannot be made writable, cloned, detached or
# unmounted from inside, by the old calls or the new ones (open_tree_attr, 467, is
# newer than most filters; listmount/statmount show the host's mount table).
from _lib import *
import ctypes

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
AT_FDCWD = -100
OPEN_TREE_CLONE = 1
AT_RECURSIVE = 0x8000
MOUNT_ATTR_RDONLY = 1


def sys(nr, *args):
    r = libc.syscall(ctypes.c_long(nr), *[a if isinstance(a, (bytes, ctypes.c_void_p)) else ctypes.c_long(a) for a in args])
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


class MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


clear_ro = MountAttr(0, MOUNT_ATTR_RDONLY, 0, 0)
target = b"/usr"
control("reading beneath the read-only view", lambda: os.listdir("/usr/bin"))


def write_through(fd):
    # A writable clone: create a file through it.
    f = sys(257, fd, b"mxc-escape", os.O_CREAT | os.O_WRONLY, 0o644)
    os.close(f)
    return "wrote through a cloned mount"


def mount(flags):
    if libc.mount(None, target, None, ctypes.c_ulong(flags), None) == 0:
        return "remounted"
    e = ctypes.get_errno()
    raise OSError(e, os.strerror(e))


attack("mount -o remount,rw", lambda: mount(0x20 | 0x1000))  # MS_REMOUNT | MS_BIND
attack("mount_setattr clearing read-only",
       lambda: sys(442, AT_FDCWD, target, AT_RECURSIVE, ctypes.addressof(clear_ro), ctypes.sizeof(clear_ro)))
attack("open_tree clone", lambda: write_through(sys(428, AT_FDCWD, target, OPEN_TREE_CLONE | AT_RECURSIVE)))
# A detached clone with read-only cleared is the escape itself (what is written
# through it is then decided only by the supervisor, when file calls are held).
attack("open_tree_attr clone, read-only cleared",
       lambda: sys(467, AT_FDCWD, target, OPEN_TREE_CLONE | AT_RECURSIVE,
                   ctypes.addressof(clear_ro), ctypes.sizeof(clear_ro)))
attack("umount2 of the view", lambda: sys(166, target, 2))  # MNT_DETACH
attack("fsopen tmpfs", lambda: sys(430, b"tmpfs", 0))
attack("fspick", lambda: sys(433, AT_FDCWD, target, 0))


class MntIdReq(ctypes.Structure):
    _fields_ = [("size", ctypes.c_uint32), ("spare", ctypes.c_uint32),
                ("mnt_id", ctypes.c_uint64), ("param", ctypes.c_uint64), ("mnt_ns_id", ctypes.c_uint64)]


req = MntIdReq(32, 0, 0xffffffffffffffff, 0, 0)  # LSMT_ROOT: every mount
buf = (ctypes.c_uint64 * 256)()
attack("listmount", lambda: sys(458, ctypes.addressof(req), ctypes.addressof(buf), 256, 0))
attack("an unknown system call", lambda: sys(600))
try:
    os.stat("/usr/mxc-escape")
    print("ESCAPED: a file appeared in /usr")
    __import__("sys").exit(1)
except OSError:
    print("held: /usr unchanged")

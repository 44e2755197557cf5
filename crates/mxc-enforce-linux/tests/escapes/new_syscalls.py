# System calls newer than the filter's list, each naming a path: fchmodat2 (6.6),
# setxattrat/getxattrat/listxattrat/removexattrat (6.13), file_getattr/file_setattr
# (6.17). On a denied file each must fail as if the file were denied (EACCES/EPERM, or
# ENOSYS), never answer about it or change it. A kernel without one: ENOSYS, held.
from _lib import *
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
SECRET = f"{WORK}/secret/key".encode()
OK = f"{WORK}/ok".encode()

def call(nr, *args):
    # ctypes passes a Python int as a 32-bit int: through variadic syscall() a 64-bit
    # argument (size_t) would carry garbage in its upper half, which the kernel (and
    # MXC, before deciding) answers EINVAL whatever the file. Sizes go as c_size_t.
    r = libc.syscall(ctypes.c_long(nr), *args)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r

def reached(nr, *args):
    """Any answer about the object (even ENODATA, "no such attribute") is a leak."""
    try:
        return call(nr, *args)
    except OSError as e:
        if e.errno in (errno.ENODATA, errno.EOPNOTSUPP, errno.ENOTTY, errno.EINVAL):
            return f"answered {errno.errorcode[e.errno]}"
        raise

fattr = ctypes.create_string_buffer(24)  # struct file_attr (FILE_ATTR_SIZE_VER0)
def allowed_getattr():
    try:
        return reached(468, AT_FDCWD, OK, fattr, 24, 0)
    except OSError as e:
        if e.errno != errno.ENOSYS:
            raise
        # MXC answers file_getattr/file_setattr ENOSYS whatever the file (as a kernel
        # older than 6.17 would): then the attacks below must get ENOSYS too.
        print("note: file_getattr is ENOSYS here, for every file")
control("file_getattr of an allowed file (or ENOSYS for every file)", allowed_getattr)
attack("file_getattr of the secret", lambda: reached(468, AT_FDCWD, SECRET, fattr, 24, 0))
# FS_XFLAG_NODUMP (0x80): a flag anyone owning the file may set.
attack("file_setattr of the secret", lambda: reached(469, AT_FDCWD, SECRET,
       ctypes.c_char_p(bytes(24)[:0] + (0x80).to_bytes(8, "little") + bytes(16)), 24, 0))

class XattrArgs(ctypes.Structure):
    _fields_ = [("value", ctypes.c_uint64), ("size", ctypes.c_uint32), ("flags", ctypes.c_uint32)]
buf = ctypes.create_string_buffer(256)
xa = XattrArgs(ctypes.addressof(buf), 256, 0)
attack("getxattrat of the secret", lambda: reached(464, AT_FDCWD, SECRET, 0, b"user.mxc",
                                                   ctypes.byref(xa), ctypes.c_size_t(ctypes.sizeof(xa))))
attack("listxattrat of the secret", lambda: reached(465, AT_FDCWD, SECRET, 0, buf, 256))
val = ctypes.create_string_buffer(b"x")
xs = XattrArgs(ctypes.addressof(val), 1, 0)
attack("setxattrat on the secret", lambda: reached(463, AT_FDCWD, SECRET, 0, b"user.mxc",
                                                   ctypes.byref(xs), ctypes.c_size_t(ctypes.sizeof(xs))))
attack("removexattrat on the secret", lambda: reached(466, AT_FDCWD, SECRET, 0, b"user.mxc"))
attack("fchmodat2 of the secret", lambda: reached(452, AT_FDCWD, SECRET, 0o644, 0))

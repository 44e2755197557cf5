# io_uring does file and network I/O the supervisor would not see: refused.
from _lib import *
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
control("a plain system call", lambda: os.getpid())
params = ctypes.create_string_buffer(120)
def setup():
    r = libc.syscall(425, 8, params)  # io_uring_setup
    if r < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return r
attack("io_uring_setup", setup)

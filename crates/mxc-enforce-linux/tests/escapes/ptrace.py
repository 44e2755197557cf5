# ptrace and process_vm_writev of a sibling (or the supervisor): refused.
from _lib import *
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
def call(nr, *args):
    r = libc.syscall(nr, *args)
    if r < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return r
pid = os.fork()
if pid == 0:
    import time
    time.sleep(5)
    os._exit(0)
control("signal an own child", lambda: os.kill(pid, 0))
attack("PTRACE_ATTACH a sibling", lambda: call(101, 16, pid, 0, 0))
attack("PTRACE_ATTACH the supervisor", lambda: call(101, 16, os.getppid(), 0, 0))
buf = ctypes.create_string_buffer(8)
iov = (ctypes.c_void_p * 2)(ctypes.addressof(buf), 8)
attack("process_vm_writev a sibling", lambda: call(311, pid, iov, 1, iov, 1, 0))
os.kill(pid, 9)

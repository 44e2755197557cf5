# IPC objects of processes outside the sandbox, reached by id or name rather than by a
# path Landlock sees: a SysV shared memory segment (HOST_SHM_ID) and a POSIX message
# queue (HOST_MQ) that a host process made, each holding the secret.
from _lib import *
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]

def check(r):
    if r is None or r == -1 or (isinstance(r, int) and r < 0) or r == ctypes.c_void_p(-1).value:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r

def own_segment():
    i = check(libc.shmget(0, 4096, 0o1600))  # IPC_PRIVATE, IPC_CREAT|0600
    libc.shmctl(i, 0, None)  # IPC_RMID
    return i
# Either the sandbox has an IPC namespace of its own (the container tier; the process
# tier started by root), where its own segments work, or it shares the host's, where
# SysV IPC is refused altogether (a key or id there may be anyone's of the same uid).
if os.readlink("/proc/self/ns/ipc") != os.environ["HOST_IPC_NS"]:
    control("a segment of our own (own IPC namespace)", own_segment)
else:
    attack("a segment in the host's IPC namespace", own_segment)

def host_segment():
    p = check(libc.shmat(int(os.environ["HOST_SHM_ID"]), None, 0o10000))  # SHM_RDONLY
    return ctypes.string_at(p, 14)
attack("attach the host's SysV segment", host_segment)

def host_queue():
    q = check(libc.mq_open(os.environ["HOST_MQ"].encode(), os.O_RDONLY | os.O_NONBLOCK))
    buf = ctypes.create_string_buffer(8192)
    n = check(libc.mq_receive(q, buf, 8192, None))
    return buf.raw[:n]
attack("receive from the host's POSIX message queue", host_queue)

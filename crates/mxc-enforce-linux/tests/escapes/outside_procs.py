# System calls that act on another process by pid and that neither Landlock's signal
# scope nor the ptrace checks cover: resource limits (prlimit), priority, CPU affinity,
# I/O priority, scheduling policy. HOST_PID is a process outside the sandbox (the test
# harness); each attack sets what it already has (harmless), which only needs to be
# allowed at all.
from _lib import *
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
host = int(os.environ["HOST_PID"])

def call(nr, *args):
    r = libc.syscall(nr, *args)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r

class Rlim(ctypes.Structure):
    _fields_ = [("cur", ctypes.c_uint64), ("max", ctypes.c_uint64)]

def prlimit(pid):
    old = Rlim()
    call(302, pid, 4, None, ctypes.byref(old))  # RLIMIT_CORE
    call(302, pid, 4, ctypes.byref(old), None)
    return (old.cur, old.max)
control("prlimit ourselves", lambda: prlimit(os.getpid()))
attack("prlimit a process outside", lambda: prlimit(host))

def nice(pid):
    v = os.getpriority(os.PRIO_PROCESS, pid)
    os.setpriority(os.PRIO_PROCESS, pid, v)
    return v
attack("setpriority of a process outside", lambda: nice(host))

def affinity(pid):
    m = os.sched_getaffinity(pid)
    os.sched_setaffinity(pid, m)
    return sorted(m)
attack("sched_setaffinity of a process outside", lambda: affinity(host))

def ioprio(pid):
    v = call(252, 1, pid)  # ioprio_get(IOPRIO_WHO_PROCESS)
    call(251, 1, pid, v)
    return v
attack("ioprio_set of a process outside", lambda: ioprio(host))

def sched(pid):
    p = os.sched_getscheduler(pid)
    os.sched_setscheduler(pid, p, os.sched_param(0))
    return p
attack("sched_setscheduler of a process outside", lambda: sched(host))
# Calls on another process's memory behind a ptrace-mode check (which Landlock's
# domain check should refuse for a process outside the sandbox): process_madvise
# (MADV_COLD on one page of its stack: a hint, harmless) and migrate_pages (to the
# nodes it already has).
def madvise(pid):
    pfd = call(434, pid, 0)  # pidfd_open
    try:
        page = ctypes.create_string_buffer(4096)
        iov = (ctypes.c_void_p * 2)(ctypes.addressof(page) & ~4095, 4096)
        # An address of ours is meaningless there: EINVAL/ENOMEM means the call got
        # past the permission checks; EPERM/ESRCH means it did not.
        try:
            return call(440, pfd, iov, 1, 20, 0)  # MADV_COLD
        except OSError as e:
            if e.errno in (22, 12, 14):
                return f"permitted ({e.strerror})"
            raise
    finally:
        os.close(pfd)
control("process_madvise ourselves", lambda: madvise(os.getpid()))
attack("process_madvise a process outside", lambda: madvise(host))

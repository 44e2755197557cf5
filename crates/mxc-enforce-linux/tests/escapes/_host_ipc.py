"""IPC objects of a host process for sysv_ipc.py, made outside the sandbox by the test
(crates/mxcc/tests/escapes.rs): `make NAME` creates a SysV shared memory segment and a
POSIX message queue `/NAME`, each holding "secret-service", and prints the segment's id;
`remove ID NAME` removes both."""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
SECRET = b"secret-service"

def check(r, what):
    if r == -1 or r is None or r == ctypes.c_void_p(-1).value:
        e = ctypes.get_errno()
        sys.exit(f"{what}: {os.strerror(e)}")
    return r

if sys.argv[1] == "make":
    i = check(libc.shmget(0, 4096, 0o1600), "shmget")  # IPC_PRIVATE, IPC_CREAT | 0600
    p = check(libc.shmat(i, None, 0), "shmat")
    ctypes.memmove(p, SECRET, len(SECRET))
    libc.shmdt(ctypes.c_void_p(p))
    # A small queue: the per-user RLIMIT_MSGQUEUE (800 KiB) holds only ~10 default ones.
    attr = (ctypes.c_long * 8)(0, 1, 64, 0)  # mq_flags, mq_maxmsg, mq_msgsize, mq_curmsgs
    q = check(libc.mq_open(f"/{sys.argv[2]}".encode(), os.O_CREAT | os.O_RDWR, 0o600, attr), "mq_open")
    check(libc.mq_send(q, SECRET, len(SECRET), 0), "mq_send")
    print(i)
else:
    libc.shmctl(int(sys.argv[2]), 0, None)  # IPC_RMID
    libc.mq_unlink(f"/{sys.argv[3]}".encode())

# A seccomp listener of the agent's own: when two filters both hold a call, the kernel
# notifies the most recent one, so a listener installed by the agent would receive the
# calls MXC holds and answer "continue" (past the supervisor, with Landlock's wider
# bound only). Installing a filter is fine (it can only narrow); a listener is not.
# The kernel itself already refuses a second listener in one filter tree (EBUSY, seen
# on main 615d74e); MXC's filter refuses it first (EPERM), in case that ever changes.
from _lib import *
import ctypes
import struct
import threading

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
SYS_openat, SYS_seccomp = 257, 317
AUDIT_ARCH_X86_64 = 0xC000003E
RET_USER_NOTIF, RET_ALLOW = 0x7FC00000, 0x7FFF0000


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(SockFilter))]


insns = [
    (0x20, 0, 0, 0),                 # ld nr
    (0x15, 0, 1, SYS_openat),        # jeq openat
    (0x06, 0, 0, RET_USER_NOTIF),
    (0x06, 0, 0, RET_ALLOW),
]
arr = (SockFilter * len(insns))(*[SockFilter(*i) for i in insns])
prog = SockFprog(len(insns), arr)
secret = os.path.join(WORK, "secret", "key")
control("a filter of its own (no listener)", lambda: None)
def serve(fd):
    recv = ctypes.create_string_buffer(80)
    for _ in range(64):
        ctypes.memset(recv, 0, 80)
        if libc.ioctl(fd, ctypes.c_ulong(0xC0502100), recv) < 0:
            return
        nid = struct.unpack_from("Q", recv.raw, 0)[0]
        resp = ctypes.create_string_buffer(struct.pack("QqiI", nid, 0, 0, 1), 24)  # CONTINUE
        libc.ioctl(fd, ctypes.c_ulong(0xC0182101), resp)


result = {}
ready = threading.Event()
fd_box = {}


def victim():
    try:
        fd = libc.syscall(ctypes.c_long(SYS_seccomp), ctypes.c_long(1), ctypes.c_long(8), ctypes.byref(prog))
        if fd < 0:
            e = ctypes.get_errno()
            result["err"] = OSError(e, os.strerror(e))
            ready.set()
            return
        fd_box["fd"] = fd
        ready.set()
        result["data"] = read(secret)
    except OSError as e:
        result["err"] = e
        ready.set()


def listener_attack():
    v = threading.Thread(target=victim)
    v.start()
    ready.wait(10)
    if "fd" in fd_box:
        threading.Thread(target=serve, args=(fd_box["fd"],), daemon=True).start()
    v.join(10)
    if "err" in result:
        raise result["err"]
    return result.get("data")


attack("a seccomp listener of its own answers the held open", listener_attack)

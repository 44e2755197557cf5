# connect/bind with an address the supervisor did not decide: AF_UNSPEC (a disconnect,
# once let through for the kernel to read again) flipped by a second thread to the host
# service's AF_INET address (HOST_TCP_PORT on 127.0.0.1, denied); AF_UNSPEC in bind
# (the kernel binds 0.0.0.0 for it); short and odd lengths.
from _lib import *
import ctypes, socket, struct, threading, time

libc = ctypes.CDLL(None, use_errno=True)
port = int(os.environ["HOST_TCP_PORT"])
inet = struct.pack("=HH4s8x", socket.AF_INET, socket.htons(port), socket.inet_aton("127.0.0.1"))
unspec = struct.pack("=HH4s8x", socket.AF_UNSPEC, 0, b"\0\0\0\0")


def connect_raw(s, raw, length=None):
    buf = ctypes.create_string_buffer(raw, len(raw))
    if libc.connect(s.fileno(), buf, len(raw) if length is None else length) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


control("connect(AF_UNSPEC) dissolves a UDP association",
        lambda: (lambda u: (u.connect(("192.0.2.1", 9)), connect_raw(u, unspec)))(
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM)))


def race(seconds=15):
    end = time.time() + seconds
    while time.time() < end:
        s = socket.socket()
        buf = ctypes.create_string_buffer(unspec, 16)
        stop = []
        def flipper():
            while not stop:
                ctypes.memmove(buf, inet, 16)
                ctypes.memmove(buf, unspec, 16)
        t = threading.Thread(target=flipper, daemon=True)
        t.start()
        r = libc.connect(s.fileno(), buf, 16)
        stop.append(1)
        t.join()
        if r == 0:
            try:
                s.settimeout(0.5)
                data = s.recv(64)
                if data:
                    return data
            except OSError:
                pass
        s.close()
    raise OSError(13, "never connected")


attack("flip AF_UNSPEC to the host service's address during connect", race)


def bind_unspec():
    s = socket.socket()
    raw = struct.pack("=HH4s8x", socket.AF_UNSPEC, socket.htons(47123), b"\0\0\0\0")
    buf = ctypes.create_string_buffer(raw, 16)
    if libc.bind(s.fileno(), buf, 16) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return s.getsockname()


attack("bind a port through AF_UNSPEC (the kernel reads 0.0.0.0:port)", bind_unspec)
attack("connect with a short AF_INET address",
       lambda: connect_raw(socket.socket(), inet, 8))

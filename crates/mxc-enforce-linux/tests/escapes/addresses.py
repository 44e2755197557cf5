# The host's own services (HOST_TCP_PORT on 127.0.0.1) through addresses that are
# loopback in disguise: unspecified (0.0.0.0, [::], ::ffff:0.0.0.0), IPv4-mapped, and
# numbers the proxy once took for host names (2130706433, 127.1, 0x7f000001, 0,
# 0177.0.0.1), and names that resolve to loopback. The policy allows every host but
# `localhost`.
from _lib import *
import socket

port = int(os.environ["HOST_TCP_PORT"])


def tcp(family, addr):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect(addr)
    return s.recv(64)


attack("connect 0.0.0.0", lambda: tcp(socket.AF_INET, ("0.0.0.0", port)))
attack("connect [::]", lambda: tcp(socket.AF_INET6, ("::", port)))
attack("connect [::ffff:0.0.0.0]", lambda: tcp(socket.AF_INET6, ("::ffff:0.0.0.0", port)))
attack("connect [::ffff:127.0.0.1]", lambda: tcp(socket.AF_INET6, ("::ffff:127.0.0.1", port)))

proxy = int(os.environ["ALL_PROXY"].rsplit(":", 1)[1])


def http_connect(host):
    s = socket.create_connection(("127.0.0.1", proxy), timeout=10)
    s.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    head = s.recv(4096)
    if b" 200 " not in head.split(b"\r\n")[0]:
        raise OSError(13, head.split(b"\r\n")[0].decode())
    return s.recv(64)


def http_get(host):
    s = socket.create_connection(("127.0.0.1", proxy), timeout=10)
    s.sendall(f"GET http://{host}:{port}/ HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    r = s.recv(4096)
    if r.startswith(b"HTTP/1.1 4") or r.startswith(b"HTTP/1.1 5"):
        raise OSError(13, r.split(b"\r\n")[0].decode())
    return r


def socks(host):
    s = socket.create_connection(("127.0.0.1", proxy), timeout=10)
    s.sendall(b"\x05\x01\x00")
    s.recv(2)
    s.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host + port.to_bytes(2, "big"))
    r = s.recv(10)
    if r[1] != 0:
        raise OSError(13, f"SOCKS5 reply {r[1]}")
    return s.recv(64)


control("the proxy answers", lambda: socket.create_connection(("127.0.0.1", proxy), timeout=5))
for h in ["2130706433", "127.1", "0x7f000001", "0", "0177.0.0.1", "0.0.0.0", "[::ffff:127.0.0.1]", "[::]"]:
    attack(f"proxy CONNECT {h}", lambda h=h: http_connect(h))
    attack(f"proxy GET http://{h}/", lambda h=h: http_get(h))
    attack(f"SOCKS5 domain {h}", lambda h=h: socks(h.strip("[]").encode()))
# Names that resolve to loopback (other than `localhost`, which the policy names).
names = []
try:
    for line in read("/etc/hosts").splitlines():
        f = line.split("#")[0].split()
        if f and f[0].startswith("127."):
            names += [n for n in f[1:] if n.lower() not in ("localhost", "localhost.localdomain")]
except OSError:
    pass
for n in names[:4]:
    attack(f"proxy CONNECT {n} (resolves to loopback)", lambda n=n: http_connect(n))
    attack(f"SOCKS5 domain {n} (resolves to loopback)", lambda n=n: socks(n.encode()))

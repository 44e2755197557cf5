# DNS and UDP exfiltration, TCP to a denied address, IPv6 and IPv4-mapped literals of a
# host service (HOST_TCP_PORT, listening on 127.0.0.1, set by the test).
from _lib import *
import socket
port = int(os.environ["HOST_TCP_PORT"])
control("create a UDP socket", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
attack("DNS query to 8.8.8.8", lambda: u.sendto(b"\x12\x34" + b"\0" * 10, ("8.8.8.8", 53)))
attack("UDP to the loopback resolver", lambda: u.sendto(b"x", ("127.0.0.53", 53)))
attack("connect UDP then send", lambda: (u.connect(("9.9.9.9", 53)), u.send(b"x")))
attack("TCP to a host service", lambda: socket.create_connection(("127.0.0.1", port), timeout=2))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
attack("TCP via an IPv4-mapped IPv6 literal", lambda: s6.connect(("::ffff:127.0.0.1", port)))
attack("TCP to [::1]", lambda: socket.socket(socket.AF_INET6).connect(("::1", port)))
# The proxy (HTTP_PROXY / ALL_PROXY point at it) decides names: no rule, no connection.
import urllib.request
attack("the proxy asked (HTTP) for a denied host",
       lambda: urllib.request.urlopen("http://example.com/", timeout=10).status)
def socks(host, port):
    p = int(os.environ["ALL_PROXY"].rsplit(":", 1)[1])
    s = socket.create_connection(("127.0.0.1", p), timeout=10)
    s.sendall(b"\x05\x01\x00")
    s.recv(2)
    s.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host + port.to_bytes(2, "big"))
    r = s.recv(10)
    if r[1] != 0:
        raise OSError(13, f"SOCKS5 reply {r[1]}")
    return r
attack("the proxy asked (SOCKS5) for a denied host", lambda: socks(b"example.com", 443))
attack("the proxy asked for a host service by IP", lambda: socks(b"127.0.0.1", port))

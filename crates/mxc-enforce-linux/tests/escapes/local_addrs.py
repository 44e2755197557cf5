# Addresses that reach the machine itself though they are not loopback (escape-race:
# every host allowed but `localhost`): the machine's own interface addresses (every
# service bound to 0.0.0.0 answers there), multicast and broadcast (looped back to the
# machine's own sockets). The host runs a TCP and a UDP service on 0.0.0.0.
from _lib import *
import socket

ANY_TCP = int(os.environ["HOST_ANY_TCP_PORT"])
ANY_UDP = int(os.environ["HOST_ANY_UDP_PORT"])
ADDRS = [a for a in os.environ.get("HOST_ADDRS", "").split() if ":" not in a]


def udp_out():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.sendto(b"x", ("198.51.100.1", 9))
    except PermissionError:
        raise
    except OSError:
        pass  # no route on this machine: not a denial
    finally:
        u.close()


control("a datagram to a host that is not this machine", udp_out)


def tcp(addr):
    def go():
        s = socket.create_connection((addr, ANY_TCP), timeout=5)
        try:
            return s.recv(100)
        finally:
            s.close()
    return go


def udp(addr, broadcast=False):
    def go():
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            if broadcast:
                u.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            return u.sendto(b"to the host's own service", (addr, ANY_UDP))
        finally:
            u.close()
    return go


for a in ADDRS:
    attack(f"TCP to the machine's own address {a}", tcp(a))
    attack(f"UDP to the machine's own address {a}", udp(a))
attack("UDP to the all-hosts multicast group", udp("224.0.0.1"))
attack("UDP to the limited broadcast address", udp("255.255.255.255", True))

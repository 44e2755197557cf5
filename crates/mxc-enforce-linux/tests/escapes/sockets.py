# Raw, packet, vsock and netlink sockets: refused at creation.
from _lib import *
import socket
control("a unix socket pair", lambda: socket.socketpair())
attack("AF_PACKET", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW))
attack("raw IPv4", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
attack("AF_VSOCK", lambda: socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM))
attack("netlink", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0))

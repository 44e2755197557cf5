# Unix sockets of host services: a pathname socket outside the policy and an abstract
# socket made outside the sandbox (HOST_UNIX, HOST_ABSTRACT: set by the test).
from _lib import *
import socket
def conn(addr):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(addr)
    return s.recv(16)
control("a unix socket in the workspace", lambda: socket.socket(socket.AF_UNIX).bind(f"{WORK}/my.sock"))
attack("connect to a host service's socket", lambda: conn(os.environ["HOST_UNIX"]))
attack("connect to a host abstract socket", lambda: conn("\0" + os.environ["HOST_ABSTRACT"]))

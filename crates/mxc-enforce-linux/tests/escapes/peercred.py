# Who a connection says it comes from. The supervisor performs `connect` for the
# sandbox (on a duplicate of its socket): the kernel records the connecting task's
# credentials (SO_PEERCRED: pid, uid, gid) then. Here the agent is both ends: it
# listens on a socket in the workspace and checks who its own child's connection
# claims to be. The uid and gid must be the caller's (the supervisor thread acts with
# the agent's ids). The pid cannot be (the kernel takes it from the task that
# connects, and only the supervisor can connect exactly the address it decided): it is
# MXC's process, which holds no capability but CAP_KILL once the sandbox runs
# (checked from outside by escapes.rs, mxcc_holds_no_capabilities), a documented limit
# (docs/enforcement.md).
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
    if puid != os.getuid() or pgid != os.getgid():
        return f"peer says uid {puid} gid {pgid}; the caller is uid {os.getuid()} gid {os.getgid()} (pid {ppid} for {pid})"
    raise OSError(1, f"peer has the caller's uid and gid (pid {ppid}, the caller {pid})")
attack("a connection made by the supervisor carries other ids than the caller's", same)

# Calls the supervisor answers from worker threads (a `connect` or a send that may
# block) block as long as the peer wants, and go on blocking once the caller is gone:
# a unix listener of our own whose backlog is full and that never accepts keeps a
# blocking `connect` waiting forever. Each child below connects (blocking, performed by
# a worker of mxcc's) and is killed; without a bound, mxcc kept a thread and
# descriptors per child, any number of them, beyond the run's `limits` (the agent's own
# processes are gone). escapes.rs (`workers_*`) counts mxcc's threads while we wait.
from _lib import *
import signal, socket, time
path = os.path.join(WORK, "full.sock")
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
control("a listener of our own", lambda: (srv.bind(path), srv.listen(0)))
fill = []
for _ in range(4):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.connect(path)
        fill.append(c)
    except BlockingIOError:
        break
control("its backlog full", lambda: fill[0])
N = 300
refused = 0
for _ in range(N):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            os.write(w, b"c")
            s.connect(path)
            os._exit(0)
        except OSError as e:
            os._exit(10 if e.errno == 11 else 11)
    os.close(w)
    os.read(r, 1)
    os.close(r)
    time.sleep(0.005)
    os.kill(pid, signal.SIGKILL)
    _, st = os.waitpid(pid, 0)
    if os.WIFEXITED(st) and os.WEXITSTATUS(st) == 10:
        refused += 1
print(f"held: {N} blocking connects left behind by killed callers; {refused} refused (EAGAIN)", flush=True)
print("waiting", flush=True)
time.sleep(30)

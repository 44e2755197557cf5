# Connections to the MXC proxy, held open and silent: the proxy serves each with a
# thread of mxcc's for as long as it lasts (a tunnel to a peer that never closes lasts
# after the sandbox is gone). Without a bound, holding more connections (descriptors
# are cheap, and the run's `limits` count processes, not them) made mxcc keep any
# number of threads. escapes.rs (`proxy_threads_*`) counts mxcc's threads while we wait.
from _lib import *
import socket, time
proxy = os.environ["HTTP_PROXY"].rsplit("/", 1)[-1].rstrip("/")
host, port = proxy.rsplit(":", 1)
held = []
def one():
    s = socket.create_connection((host, int(port)))
    held.append(s)
control("a connection to the proxy", one)
for _ in range(399):
    try:
        one()
    except OSError:
        pass
print(f"held: {len(held)} silent connections to the proxy", flush=True)
print("waiting", flush=True)
time.sleep(30)

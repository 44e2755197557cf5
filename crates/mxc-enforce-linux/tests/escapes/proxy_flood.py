# The proxy runs in mxcc, outside the run's limits: the sandbox opens hundreds of
# connections to it and holds them (escapes.rs, proxy_flood, counts mxcc's threads
# meanwhile: they must stay bounded).
from _lib import *
import socket, sys, time
proxy = os.environ["HTTP_PROXY"].rsplit("/", 1)[-1].rstrip("/")
host, port = proxy.rsplit(":", 1)
held = []
for i in range(600):
    try:
        held.append(socket.create_connection((host, int(port)), timeout=5))
    except OSError:
        break
print(f"open {len(held)}", flush=True)
sys.stdin.read()  # until the test has counted
print("held: mxcc's threads counted by the test")

"""`--learn` against a host daemon's unix socket (crates/mxcc/tests/escapes.rs,
learn_daemon). Run as root in a private mount namespace (`unshare -m`), so the host's
mounts are untouched: /srv gets a tmpfs with another filesystem mounted beneath it, the
shape of /run on a systemd host (/run/user/N, /run/lock, ...), and a daemon listening on
/srv/daemon.sock, as dockerd or the system bus listen in /run. `--learn` binds such a
directory read-only instead of behind an overlay, and a read-only mount does not stop
connect(): the "throwaway" run talks to the host's daemon.

argv: MXCC POLICY WORK. Exit 0: held; 1: escaped; 2: setup failed."""
import os, socket, subprocess, sys, threading

mxcc, policy, work = sys.argv[1:4]
try:
    subprocess.run(["/usr/bin/mount", "--make-rprivate", "/"], check=True)
    subprocess.run(["/usr/bin/mount", "-t", "tmpfs", "none", "/srv"], check=True)
    os.mkdir("/srv/sub")
    subprocess.run(["/usr/bin/mount", "-t", "tmpfs", "none", "/srv/sub"], check=True)
except (OSError, subprocess.CalledProcessError) as e:
    print(f"setup failed: {e}")
    sys.exit(2)
l = socket.socket(socket.AF_UNIX)
l.bind("/srv/daemon.sock")
l.listen()
def serve():
    while True:
        c, _ = l.accept()
        c.sendall(b"host-daemon-reached")
        c.close()
threading.Thread(target=serve, daemon=True).start()
code = """
import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect('/srv/daemon.sock')
    print('ESCAPED: the learn run reached a host daemon:', s.recv(100))
except OSError as e:
    print('held: the host daemon is out of reach:', e)
"""
r = subprocess.run([mxcc, "run", policy, "--agent", "planted", "--param", f"work={work}",
                    "--learn", f"{work}/../learned.mxc", "--", "/usr/bin/python3", "-c", code],
                   capture_output=True, text=True, timeout=120)
print(r.stdout + r.stderr)
if "held:" in r.stdout:
    sys.exit(0)
sys.exit(1 if "ESCAPED" in r.stdout else 2)

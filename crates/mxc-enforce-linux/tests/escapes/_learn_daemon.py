"""`--learn` against a host daemon's unix socket (crates/mxcc/tests/escapes.rs,
learn_daemon). Run as root in a private mount namespace (`unshare -m`), so the host's
mounts are untouched: /srv gets a tmpfs with another filesystem mounted beneath it, the
shape of /run on a systemd host (/run/user/N, /run/lock, ...), and a daemon listening on
/srv/daemon.sock, as dockerd or the system bus listen in /run. `--learn` binds such a
directory read-only instead of behind an overlay, and a read-only mount does not stop
connect(): the "throwaway" run talks to the host's daemon. (Writing files there, on
/srv or the filesystem beneath it, is refused: checked too.)

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
# The read-only bind must cover the filesystems beneath it too (a bind made read-only
# without AT_RECURSIVE leaves its submounts writable).
for p in ('/srv/top', '/srv/sub/below'):
    try:
        open(p, 'w').write('x')
        print('ESCAPED: wrote through the read-only bind:', p)
    except OSError as e:
        print('held: read-only:', p, e)
"""
r = subprocess.run([mxcc, "run", policy, "--agent", "planted", "--param", f"work={work}",
                    "--learn", f"{work}/../learned.mxc", "--", "/usr/bin/python3", "-c", code],
                   capture_output=True, text=True, timeout=120)
print(r.stdout + r.stderr)
if "ESCAPED" in r.stdout:
    sys.exit(1)
sys.exit(0 if "held:" in r.stdout else 2)

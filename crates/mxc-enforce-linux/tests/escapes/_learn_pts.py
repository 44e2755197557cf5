"""`--learn` against the host's terminals (crates/mxcc/tests/escapes.rs, learn_pts). A
learn run sees, of /dev, only "the harmless ones and terminals": /dev/pts is the host's
devpts, so every terminal of the host (another user's session, the shell that started
mxcc) can be opened, written to (text appears on that screen) and read from (keys
typed there stolen). This driver opens a pseudo-terminal outside the sandbox, as a
session would, and has the learn run write to it.

argv: MXCC POLICY WORK. Exit 0: held; 1: escaped; 2: the run did not behave."""
import os, select, subprocess, sys

mxcc, policy, work = sys.argv[1:4]
master, slave = os.openpty()
name = os.ttyname(slave)
code = f"""
import os
try:
    fd = os.open({name!r}, os.O_RDWR | os.O_NOCTTY)
    os.write(fd, b"typed-by-the-sandbox\\n")
    print("wrote")
except OSError as e:
    print("held: the host's terminal is out of reach:", e)
"""
r = subprocess.run([mxcc, "run", policy, "--agent", "planted", "--param", f"work={work}",
                    "--learn", f"{work}/../learned.mxc", "--", "/usr/bin/python3", "-c", code],
                   capture_output=True, text=True, timeout=120)
print(r.stdout + r.stderr)
ready, _, _ = select.select([master], [], [], 1)
got = os.read(master, 200) if ready else b""
if b"typed-by-the-sandbox" in got:
    print(f"ESCAPED: the learn run wrote to the host's terminal {name}: {got!r}")
    sys.exit(1)
sys.exit(0 if "held:" in r.stdout else 2)

# The audit log's file system filled by the agent (escapes.rs, audit_full_disk: the
# workspace and the log share a small tmpfs): launches the policy allows, under
# `audit all`, must not run unrecorded, and the records that could not be written must
# not leave a silent gap (`mxcc audit verify` says the log is incomplete).
from _lib import *
import subprocess

fill = os.path.join(WORK, "fill")


def fill_up():
    fd = os.open(fill, os.O_WRONLY | os.O_CREAT, 0o600)
    for size in (65536, 1):
        try:
            while True:
                os.write(fd, b"x" * size)
        except OSError:
            pass
    return fd


control("run a program", lambda: subprocess.run(["/usr/bin/true"], check=True))
fd = fill_up()
ran = 0
for i in range(40):
    try:
        subprocess.run(["/usr/bin/true", f"mxc-unseen-{i}"], check=True)
        ran += 1
    except (OSError, subprocess.CalledProcessError):
        pass
# A denied launch too (its record lost as well).
try:
    subprocess.run(["/usr/bin/curl", "--version"], capture_output=True)
except OSError:
    pass
# Space freed again through the descriptor (no call the supervisor decides), so the
# records after the gap are written: the gap must show.
os.ftruncate(fd, 0)
os.close(fd)
print(f"ran {ran}")
print("held: see the log (escapes.rs checks every launch that ran is recorded)")

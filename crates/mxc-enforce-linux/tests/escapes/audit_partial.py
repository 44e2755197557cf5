# The audit log on a file system the sandbox can fill (escapes.rs, `audit_partial_record`:
# a small tmpfs holding the workspace and the log). With the disk full, a record is
# written in part or not at all: the calls the sandbox makes then must not go
# unrecorded, and once it frees the space the log must still be one intact chain (a
# half record glued to the next one made `mxcc audit verify` fail: the log was ruined).
from _lib import *
during = os.path.join(WORK, "during")
after = os.path.join(WORK, "after")
control("files of our own", lambda: [open(p, "w").write("z") for p in (during, after)])
big = open(os.path.join(WORK, "big"), "wb", buffering=0)
try:
    while True:
        big.write(b"x" * 1024)
except OSError as e:
    print(f"the disk is full: {e}")
ok = 0
for _ in range(20):
    try:
        read(during)
        ok += 1
    except OSError:
        pass
print(f"reads while full: {ok} of 20 allowed", flush=True)
# Space back through the descriptor we hold (a held call, even a removal, needs its
# record written first).
big.truncate(0)
big.close()
control("read once the space is back", lambda: read(after))
control("remove the filler", lambda: os.unlink(os.path.join(WORK, "big")))
print(f"held: READS-WHILE-FULL={ok}", flush=True)

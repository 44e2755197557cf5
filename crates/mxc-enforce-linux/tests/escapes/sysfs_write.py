# Under `escape-sysw` (the suite's policy plus `allow read, write "/sys/**"`). uid 0
# needs no capability to write many of the kernel's attributes in sysfs:
# `/sys/power/state` (suspend the machine), `/sys/kernel/mm/...` (memory management),
# `/sys/kernel/uevent_helper` where the kernel has it (a program of ours run as the
# host's root at the next device event). A root-started agent without an identity is
# uid 0. Each is only opened for writing here, never written: opening is the whole
# check the kernel makes. Those this kernel lacks are skipped; at least one must exist.
from _lib import *
targets = [
    "/sys/power/state",
    "/sys/kernel/mm/ksm/run",
    "/sys/kernel/mm/transparent_hugepage/enabled",
    "/sys/kernel/uevent_helper",
]
present = [t for t in targets if os.path.exists(t)]
if not present:
    print("control failed: none of the kernel's attributes tried is present")
    sys.exit(2)
control("read the kernel's attributes", lambda: read(present[0]))
def wopen(path):
    def go():
        fd = os.open(path, os.O_WRONLY)
        os.close(fd)
        return f"{path} open for writing"
    return go
for t in present:
    attack(f"open {t} for writing", wopen(t))
# The owner may change a file's mode and times (`chmod 0666` would let any user of the
# host write it): tried with the file's own mode and times, so nothing changes even if
# the call goes through.
st = os.stat(present[0])
attack(f"chmod {present[0]}", lambda: os.chmod(present[0], st.st_mode & 0o7777))
attack(f"set the times of {present[0]}", lambda: os.utime(present[0], ns=(st.st_atime_ns, st.st_mtime_ns)))
attack("make a file in sysfs", lambda: open("/sys/kernel/mxc-escape", "w"))

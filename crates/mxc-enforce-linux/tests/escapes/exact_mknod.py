# Device nodes when file calls are not held (run under planted.mxc by escapes.rs,
# exact_mknod_*): `allow all "${work}/**"` gives Landlock's make-device rights on the
# workspace, and no supervisor sees mknod, so only the agent's own lack of CAP_MKNOD
# can stop it making /dev/kmsg's twin (1, 11) there and reading the kernel log (which
# the seccomp filter's refusal of syslog(2) is meant to keep from it), or a node of the
# host's disk. Only the size of what was read is printed.
from _lib import *
import stat
def node(name, kind, dev, flags):
    p = f"{WORK}/{name}"
    os.mknod(p, kind | 0o600, dev)
    fd = os.open(p, flags)
    try:
        return f"{name}: read {len(os.read(fd, 512))} bytes"
    finally:
        os.close(fd)
control("make a regular file in the workspace", lambda: os.mknod(f"{WORK}/plain", stat.S_IFREG | 0o600))
attack("a kernel log device node in the workspace",
       lambda: node("kmsg", stat.S_IFCHR, os.makedev(1, 11), os.O_RDONLY | os.O_NONBLOCK))
attack("a node of the disk holding /",
       lambda: node("disk", stat.S_IFBLK, os.stat("/").st_dev, os.O_RDONLY))

# What the sandbox inherits from mxcc (runc CVE-2024-21626): descriptors beyond
# stdin/stdout/stderr (the audit log, the seccomp listener, a directory of the host),
# and a working directory outside the sandbox's root (container tier: a cwd kept from
# the host's mount namespace reaches the host's tree through `..`).
from _lib import *
import stat
control("list our descriptors", lambda: os.listdir("/proc/self/fd"))
def extra():
    fds = sorted(int(f) for f in os.listdir("/proc/self/fd"))
    found = []
    for fd in fds:
        if fd <= 2:
            continue
        try:
            found.append((fd, os.readlink(f"/proc/self/fd/{fd}")))
        except OSError:
            pass  # the listing's own descriptor, closed by now
    if not found:
        raise OSError(9, "nothing beyond stdin/stdout/stderr")
    return found
attack("a descriptor inherited from mxcc", extra)
def cwd_outside():
    # The kernel itself says when the cwd is not beneath our root: getcwd(2) answers
    # "(unreachable)/…" (glibc turns that into ENOENT), and so does /proc/self/cwd.
    try:
        c = os.getcwd()
    except FileNotFoundError:
        return "getcwd: the cwd is unreachable from our root"
    link = os.readlink("/proc/self/cwd")
    if link.startswith("(unreachable)"):
        return f"/proc/self/cwd is {link!r}"
    raise OSError(1, f"cwd {c} is beneath our root")
attack("a working directory outside the sandbox's root", cwd_outside)

# New user namespaces and setuid programs: no way to gain privileges.
from _lib import *
import subprocess
control("no_new_privs is set", lambda: None if "NoNewPrivs:\t1" in read("/proc/self/status") else (_ for _ in ()).throw(OSError("no_new_privs not set")))
def ns():
    r = subprocess.run(["/usr/bin/unshare", "-U", "-r", "/usr/bin/true"], capture_output=True)
    if r.returncode != 0:
        raise OSError(1, r.stderr.decode().strip())
attack("a new user namespace", ns)
attack("os.unshare", lambda: os.unshare(os.CLONE_NEWUSER) if hasattr(os, "unshare") else (_ for _ in ()).throw(OSError(38, "no os.unshare")))

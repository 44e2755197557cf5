# Capabilities: whoever starts mxcc (root in CI), the agent holds none, cannot regain
# any, and what uid 0 without capabilities could still do to the host is refused.
from _lib import *
import ctypes
import errno
import struct
import subprocess

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def sys(nr, *args):
    r = libc.syscall(ctypes.c_long(nr), *[a if isinstance(a, bytes) else ctypes.c_long(a) for a in args])
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


status = read("/proc/self/status")
fields = dict(l.split(":\t", 1) for l in status.splitlines() if ":\t" in l)
in_container = os.uname().nodename == "mxc"
control("the status file lists capabilities", lambda: fields["CapEff"])


def caps(name):
    def f():
        v = int(fields[name], 16)
        if v:
            return f"{name} = {v:#x}"
        raise OSError(errno.EPERM, f"{name} is 0")
    return f


for name in ["CapInh", "CapPrm", "CapEff", "CapAmb"]:
    attack(f"holding capabilities ({name})", caps(name))
# The bounding set can only be emptied by a process that had CAP_SETPCAP: always in
# the container tier, and in the process tier whenever mxcc ran as root.
if in_container or os.getuid() == 0:
    attack("a capability left in the bounding set", caps("CapBnd"))
    attack("securebits not locked (uid 0 would regain capabilities at exec)",
           lambda: (_ for _ in ()).throw(OSError(1, "locked")) if libc.prctl(27, 0, 0, 0, 0) & 0xef == 0xef
           else f"securebits {libc.prctl(27, 0, 0, 0, 0):#x}")


# A program run as uid 0 gains nothing either (exec).
def exec_caps():
    out = subprocess.run(["/usr/bin/grep", "^Cap", "/proc/self/status"], capture_output=True, text=True).stdout
    bad = [l for l in out.splitlines() if not l.endswith("0000000000000000") and not l.startswith("CapBnd")]
    if bad:
        return bad
    raise OSError(errno.EPERM, "no capability after exec")


attack("capabilities after exec", exec_caps)

# Host files outside the workspace: owned by root, the agent may read /etc.
# (chown needs CAP_CHOWN whatever the owner; chmod by the owner, uid 0 here, is a
# metadata write the policy decides: in the container the bind is read-only.)
attack("chown of a host file", lambda: os.chown("/etc/hostname", 12345, 12345))
attack("chgrp of a host file", lambda: os.chown("/etc/hostname", -1, 12345))
if in_container:
    attack("chmod of a host file", lambda: os.chmod("/etc/hostname", 0o666))


def sethostname():
    # The same name again: proof enough, and harmless to the host if it ever worked.
    name = os.uname().nodename.encode()
    if libc.sethostname(name, len(name)) == 0:
        return "renamed to " + os.uname().nodename
    e = ctypes.get_errno()
    raise OSError(e, os.strerror(e))


attack("sethostname", sethostname)
# Limits and priority of a process outside the sandbox (the test harness).
host = int(os.environ["HOST_PID"])
# (Each sets what is already there: proof enough, and harmless if it ever worked.)
attack("setpriority on a host process", lambda: os.setpriority(os.PRIO_PROCESS, host, 0))
attack("setpriority on every process of the user", lambda: os.setpriority(os.PRIO_USER, 0, 0))
attack("prlimit on a host process", lambda: __import__("resource").prlimit(host, __import__("resource").RLIMIT_NOFILE))
control("prlimit on itself", lambda: __import__("resource").prlimit(0, __import__("resource").RLIMIT_CORE, (0, 0)))

# Devices: a character device (/dev/kmsg's numbers) is never made.
dev = os.path.join(WORK, "kmsg")
attack("mknod of a character device", lambda: os.mknod(dev, 0o600 | 0o020000, os.makedev(1, 11)))
attack("mknod of a block device", lambda: os.mknod(dev + "b", 0o600 | 0o060000, os.makedev(7, 0)))
attack("the device node exists", lambda: os.stat(dev))
control("mkfifo in the workspace", lambda: os.mkfifo(os.path.join(WORK, "fifo")))

# setuid / setgid files, by every route.
f = os.path.join(WORK, "tool")
control("a plain file", lambda: open(f, "w").close())
control("chmod 0755", lambda: os.chmod(f, 0o755))


def made_setuid(p):
    m = os.stat(p).st_mode
    if m & 0o6000:
        return f"mode {m:o}"
    raise OSError(errno.EPERM, f"mode {m:o}")


attack("chmod u+s", lambda: (os.chmod(f, 0o4755), made_setuid(f))[1])
attack("chmod g+s", lambda: (os.chmod(f, 0o2755), made_setuid(f))[1])
attack("fchmod u+s", lambda: (os.fchmod(os.open(f, os.O_RDONLY), 0o4755), made_setuid(f))[1])
attack("fchmodat2 u+s", lambda: (sys(452, -100, f.encode(), 0o4755, 0), made_setuid(f))[1])
attack("open(O_CREAT, 04755)", lambda: (os.close(os.open(f + "2", os.O_CREAT | os.O_WRONLY, 0o4755)), made_setuid(f + "2"))[1])
attack("creat(02755)", lambda: (sys(85, (f + "3").encode(), 0o2755), made_setuid(f + "3"))[1])
attack("mknod S_IFREG|04755", lambda: (os.mknod(f + "4", 0o100000 | 0o4755), made_setuid(f + "4"))[1])


# openat2 with the mode in its struct.
class OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


how = OpenHow(os.O_CREAT | os.O_WRONLY, 0o4755, 0)
attack("openat2(O_CREAT, 04755)", lambda: (sys(437, -100, (f + "5").encode(), ctypes.addressof(how), ctypes.sizeof(how)), made_setuid(f + "5"))[1])
# File capabilities need CAP_SETFCAP: a v2 security.capability giving everything.
fcap = bytes([0, 0, 0, 2]) + b"\xff" * 8 + b"\0" * 8
attack("setxattr security.capability", lambda: os.setxattr(f, "security.capability", fcap))

# What the supervisor does for the agent, it does with the agent's credentials: a
# directory without write permission stops the agent (uid 0 without
# CAP_DAC_OVERRIDE), so it must stop the supervisor's create too.
ro = os.path.join(WORK, "ro")
control("a read-only directory of its own", lambda: os.mkdir(ro, 0o555))
attack("create in a directory without write permission", lambda: open(os.path.join(ro, "x"), "w"))
attack("mkdir in a directory without write permission", lambda: os.mkdir(os.path.join(ro, "d")))

# Interface settings (CAP_NET_ADMIN): loopback's flags set to what they are.
def ifflags():
    import fcntl
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    req = struct.pack("16sH14s", b"lo", 0, b"")
    cur = fcntl.ioctl(s, 0x8913, req)  # SIOCGIFFLAGS
    fcntl.ioctl(s, 0x8914, cur)  # SIOCSIFFLAGS
    return "interface flags set"


attack("setting an interface's flags", ifflags)

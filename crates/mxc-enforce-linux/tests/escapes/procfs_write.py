# Under `escape-procw` (the suite's policy plus `allow read, write "/proc/**"`). uid 0
# needs no capability to write most of the kernel's settings: `/proc/sys/kernel/
# core_pattern` (a pipe there runs a program of ours as the host's root, with every
# capability, at the next crash), `/proc/sys/kernel/hostname`, `/proc/sysrq-trigger`
# (reboot, crash). A root-started agent without an identity is uid 0. And a process's
# memory written through `/proc/PID/mem` by its parent (which the kernel allows) changes
# what the supervisor proved unchangeable (an `execve`'s arguments). Each is only
# opened for writing here, never written: opening is the whole check the kernel makes.
from _lib import *
import signal, time
def wopen(path, flags=os.O_WRONLY):
    def go():
        fd = os.open(path, flags)
        os.close(fd)
        return f"{path} open for writing"
    return go
me = os.getpid()
control("write our own process's settings", lambda: open(f"/proc/{me}/task/{me}/comm", "w").write("mxc-escape"))
control("read the kernel's settings", lambda: read("/proc/sys/kernel/hostname"))
attack("open core_pattern for writing", wopen("/proc/sys/kernel/core_pattern"))
attack("open the host name for writing", wopen("/proc/sys/kernel/hostname"))
attack("open sysrq-trigger for writing", wopen("/proc/sysrq-trigger"))
attack("open our own memory for writing", wopen(f"/proc/{me}/mem", os.O_RDWR))
pid = os.fork()
if pid == 0:
    time.sleep(30)
    os._exit(0)
try:
    attack("open a child's memory for writing", wopen(f"/proc/{pid}/mem", os.O_RDWR))
finally:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)

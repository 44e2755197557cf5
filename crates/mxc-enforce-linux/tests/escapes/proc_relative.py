# procfs from the wrong side: every route to a process outside the sandbox (mxcc, the
# watchdog, the test harness, the container's init) is refused, not only the absolute
# `/proc/PID/...` spelling. The secret is MXC_ESCAPE_SECRET_ENV, set in mxcc's
# environment only (the policy does not pass it to the sandbox).
from _lib import *
SECRET = b"TOP-SECRET-ENV"
me = os.getpid()
control("read our own environment, relative to /proc/self",
        lambda: os.chdir("/proc/self") or read("environ", mode="rb"))
os.chdir("/")


def leaks(data):
    if isinstance(data, (bytes, str)) and SECRET in (data if isinstance(data, bytes) else data.encode()):
        return data
    raise PermissionError("read, but no secret in it")


# Processes outside the sandbox: the supervisor (our parent in the process tier), the
# harness, the container's init (pid 1 of its namespace), and every process whose
# /proc entry we can see but that is not ours (the watchdog among them).
outside = {int(os.environ["HOST_PID"]), os.getppid()}
for pid in os.listdir("/proc"):
    if pid.isdigit():
        outside.add(int(pid))
outside.discard(me)

files = ["environ", "cmdline", "maps", "mountinfo", "status", "mem", "fdinfo/0",
         "task", "fd", "cwd", "root", "ns", "map_files", "exe"]


def try_all(pid, base_desc, opener):
    for f in files:
        def go(f=f):
            p = opener(f)
            if f in ("task", "fd", "ns", "map_files", "cwd", "root"):
                return os.listdir(p)
            # Even what `ps` shows (cmdline, status) is refused: nothing of a process
            # outside the sandbox is opened through the supervisor.
            os.close(os.open(p, os.O_RDONLY))
            return "opened"
        attack(f"{base_desc}: {f} of {pid}", go)


for pid in sorted(outside):
    # Relative to a cwd inside /proc/PID: the kernel lets us chdir there (search
    # permission), the supervisor decides what is opened.
    try:
        os.chdir(f"/proc/{pid}")
    except OSError:
        pass
    else:
        try_all(pid, "cwd in /proc/PID", lambda f: f)
        attack(f"list . with cwd /proc/{pid}", lambda: os.listdir("."))
        attack(f"open . with cwd /proc/{pid}",
               lambda: os.open(".", os.O_RDONLY | os.O_DIRECTORY))
        attack(f"environ of {pid} through /proc/self/cwd",
               lambda: read("/proc/self/cwd/environ", mode="rb"))
        attack(f"read {pid}'s cwd through our cwd", lambda: os.listdir("cwd/"))
        os.chdir("/")
    # Relative to a directory descriptor of /proc (or of the process's task dir).
    try:
        d = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        d = None
    if d is not None:
        attack(f"openat(/proc, '{pid}/environ')",
               lambda: os.read(os.open(f"{pid}/environ", os.O_RDONLY, dir_fd=d), 65536))
        os.close(d)
    # `..` out of our own directory, from the task directory, and thread-self.
    attack(f"/proc/self/../{pid}/environ", lambda: read(f"/proc/self/../{pid}/environ", mode="rb"))
    attack(f"/proc/self/task/../../{pid}/environ",
           lambda: read(f"/proc/self/task/../../{pid}/environ", mode="rb"))
    attack(f"/proc/thread-self/../../../{pid}/environ",
           lambda: read(f"/proc/thread-self/../../../{pid}/environ", mode="rb"))
    t = os.open(f"/proc/self/task/{me}", os.O_RDONLY | os.O_DIRECTORY)
    attack(f"openat(task/ME, '../../../{pid}/environ')",
           lambda: os.read(os.open(f"../../../{pid}/environ", os.O_RDONLY, dir_fd=t), 65536))
    os.close(t)

# Thread ids are not listed in /proc but name a directory there (/proc/TID): the
# supervisor's and proxy's threads of mxcc (started after it, so numbered after it).
mine = set(int(t) for t in os.listdir("/proc/self/task"))
for tid in range(os.getppid() + 1, os.getppid() + 64):
    if tid in mine:
        continue
    attack(f"environ of thread id {tid}", lambda: read(f"/proc/{tid}/environ", mode="rb"))
    attack(f"fd/ of thread id {tid}", lambda: os.listdir(f"/proc/{tid}/fd"))

# Our own directory, reached by `..` from our task directory, stays ours.
t = os.open(f"/proc/self/task/{me}", os.O_RDONLY | os.O_DIRECTORY)
control("openat(task/ME, '../../environ') is our own",
        lambda: os.read(os.open("../../environ", os.O_RDONLY, dir_fd=t), 65536))
os.close(t)

# Nothing anywhere in /proc holds the secret (the watchdog and init are copies of mxcc).
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    for f in ("environ", "cmdline"):
        attack(f"secret in /proc/{pid}/{f}", lambda: leaks(read(f"/proc/{pid}/{f}", mode="rb")))

# Reopening held descriptors (/proc/self/fd/N, /dev/stdin) makes a new open file
# description: a host file mxcc passed as stdin is decided by the rules on its path
# (outside the policy here), whatever access fd 0 has; a pipe is the object we hold and
# reopens with no more access than we hold it with.
control("read the host file on stdin through the descriptor we hold", lambda: os.read(0, 100))
attack("reopen the host file on stdin for reading", lambda: read("/proc/self/fd/0"))
attack("reopen the host file on stdin through /dev/stdin", lambda: read("/dev/stdin"))
attack("reopen the host file on stdin for writing",
       lambda: os.open("/proc/self/fd/0", os.O_WRONLY | os.O_TRUNC))
r, w = os.pipe()
control("reopen a pipe's write end for writing",
        lambda: os.write(os.open(f"/proc/self/fd/{w}", os.O_WRONLY), b"x"))
attack("reopen a pipe's write end for reading",
       lambda: os.open(f"/proc/self/fd/{w}", os.O_RDONLY | os.O_NONBLOCK))
attack("reopen a pipe's read end for writing",
       lambda: os.open(f"/proc/self/fd/{r}", os.O_WRONLY))
attack("reopen stdout (the harness's pipe) for reading",
       lambda: os.open("/proc/self/fd/1", os.O_RDONLY | os.O_NONBLOCK))
m = os.memfd_create("mine")
os.write(m, b"data")
control("reopen our own memfd", lambda: os.read(os.open(f"/proc/self/fd/{m}", os.O_RDONLY), 10))
own = os.open("/proc/self/status", os.O_RDONLY)
control("reopen our own procfs file through its descriptor",
        lambda: read(f"/proc/self/fd/{own}"))

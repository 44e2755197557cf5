# The audit log is out of the sandbox's reach whatever the policy says: here it lies in
# the workspace (${work}/logs/audit.log, which the policy lets the agent do anything
# with), and a hard link to it was made there before this run (HOST_AUDIT_LINK). The
# harness then checks `mxcc audit verify --expect` with the hash mxcc printed.
from _lib import *

log = os.environ["HOST_AUDIT_LOG"]
head = log + ".head"
early = os.environ["HOST_AUDIT_LINK"]
logdir = os.path.dirname(log)

control("write a file beside the log",
        lambda: open(os.path.join(logdir, "mine"), "w").write("x"))
control("list the log's directory", lambda: os.listdir(logdir))

for name, p in (("the log", log), ("its head file", head), ("a hard link made earlier", early)):
    attack(f"read {name}", lambda: read(p))
    attack(f"open {name} for writing", lambda: os.open(p, os.O_WRONLY | os.O_APPEND))
    attack(f"open {name} with O_TRUNC", lambda: os.open(p, os.O_RDONLY | os.O_TRUNC))
    attack(f"open {name} O_PATH", lambda: os.open(p, os.O_PATH))
    attack(f"truncate {name}", lambda: os.truncate(p, 0))
    attack(f"delete {name}", lambda: os.unlink(p))
    attack(f"rename {name}", lambda: os.rename(p, os.path.join(WORK, "moved")))
    attack(f"replace {name}", lambda: (open(os.path.join(WORK, "empty"), "w").close(),
                                       os.rename(os.path.join(WORK, "empty"), p)))
    attack(f"hard-link {name}", lambda: os.link(p, os.path.join(WORK, "link-" + os.path.basename(p))))
    attack(f"stat {name}", lambda: os.stat(p))

# Through a symlink made now, and relative to the log's directory.
os.symlink(log, os.path.join(WORK, "sym"))
attack("read the log through a symlink", lambda: read(os.path.join(WORK, "sym")))
d = os.open(logdir, os.O_RDONLY | os.O_DIRECTORY)
attack("openat(logdir, audit.log)",
       lambda: os.open(os.path.basename(log), os.O_RDWR, dir_fd=d))
os.chdir(logdir)
attack("open the log relative to the cwd", lambda: read(os.path.basename(log)))
os.chdir(WORK)
# Moving the directory away (and putting a forged log at its path) or removing it.
attack("rename the log's directory", lambda: os.rename(logdir, os.path.join(WORK, "old-logs")))
attack("rename the workspace's parent path away",
       lambda: os.rename(WORK, WORK + "-moved"))
# mxcc's own descriptor of the log (mxcc is outside the sandbox).
for pid in {os.getppid(), 1}:
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError as e:
        print(f"held: list /proc/{pid}/fd: {e}")
        fds = []
    for fd in fds:
        attack(f"reopen /proc/{pid}/fd/{fd}", lambda: os.open(f"/proc/{pid}/fd/{fd}", os.O_WRONLY))

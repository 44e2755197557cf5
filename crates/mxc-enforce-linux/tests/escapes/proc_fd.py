# Descriptors of processes outside the sandbox (the supervisor, init) are out of reach;
# the sandbox's own descriptors reopen with no more access than they have.
from _lib import *
fd = os.open(f"{WORK}/ok", os.O_RDONLY)
control("reopen an own descriptor", lambda: read(f"/proc/self/fd/{fd}"))
ppid = os.getppid()
attack("list the supervisor's descriptors", lambda: os.listdir(f"/proc/{ppid}/fd"))
attack("read the supervisor's environment", lambda: read(f"/proc/{ppid}/environ"))
attack("read init's root", lambda: os.listdir("/proc/1/root/"))
d = os.open(WORK, os.O_RDONLY | os.O_DIRECTORY)
attack("read the secret beneath an own directory descriptor",
       lambda: read(f"/proc/self/fd/{d}/secret/key"))

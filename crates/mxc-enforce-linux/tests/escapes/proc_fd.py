# Descriptors of processes outside the sandbox (the supervisor, init) are out of reach;
# the sandbox's own descriptors reopen with no more access than they have.
from _lib import *
fd = os.open(f"{WORK}/ok", os.O_RDONLY)
control("reopen an own descriptor", lambda: read(f"/proc/self/fd/{fd}"))
# Our parent is the supervisor (process tier) or the pid namespace's init, which is
# part of the sandbox (container tier: the supervisor is not in our pid namespace).
# HOST_PID is a process outside the sandbox either way (the test harness).
for pid in {os.getppid(), 1} ^ {1} | {int(os.environ["HOST_PID"])}:
    attack(f"list the descriptors of {pid} (outside)", lambda: os.listdir(f"/proc/{pid}/fd"))
    attack(f"read the environment of {pid} (outside)", lambda: read(f"/proc/{pid}/environ"))
attack("read init's root", lambda: os.listdir("/proc/1/root/"))
# pid 1: the host's init (process tier) or MXC's own init of the container, a copy of
# mxcc holding mxcc's environment (MXC_ESCAPE_SECRET_ENV is set for mxcc, scrubbed for us).
attack("read init's environment", lambda: read("/proc/1/environ"))
attack("read init's memory", lambda: read("/proc/1/mem"))
attack("read init's environment through /proc/1/task/1",
       lambda: read("/proc/1/task/1/environ"))
d = os.open(WORK, os.O_RDONLY | os.O_DIRECTORY)
attack("read the secret beneath an own directory descriptor",
       lambda: read(f"/proc/self/fd/{d}/secret/key"))

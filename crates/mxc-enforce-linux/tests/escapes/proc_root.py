# /proc/self/root, /proc/self/cwd and /proc/<pid>/fd lead to the same objects.
from _lib import *
control("read via /proc/self/root", lambda: read(f"/proc/self/root{WORK}/ok"))
attack("read the secret via /proc/self/root", lambda: read(f"/proc/self/root{WORK}/secret/key"))
os.chdir(WORK)
attack("read the secret via /proc/self/cwd", lambda: read("/proc/self/cwd/secret/key"))
attack("read the secret via /proc/thread-self/root", lambda: read(f"/proc/thread-self/root{WORK}/secret/key"))

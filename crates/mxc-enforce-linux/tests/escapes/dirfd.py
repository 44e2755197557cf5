# openat, mkdirat, renameat relative to directory descriptors.
from _lib import *
d = os.open(WORK, os.O_RDONLY | os.O_DIRECTORY)
control("open relative to a dirfd", lambda: os.close(os.open("ok", os.O_RDONLY, dir_fd=d)))
attack("open the secret relative to a dirfd", lambda: os.open("secret/key", os.O_RDONLY, dir_fd=d))
attack("open the secret directory itself", lambda: os.open(f"{WORK}/secret", os.O_RDONLY | os.O_DIRECTORY))
attack("O_PATH then reopen the secret", lambda: read(f"/proc/self/fd/{os.open(WORK + '/secret/key', os.O_PATH)}"))

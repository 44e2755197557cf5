# Metadata is `read` too: stat, lstat, access and readlink of the secret are refused.
from _lib import *
control("stat a workspace file", lambda: os.stat(f"{WORK}/ok"))
attack("stat the secret", lambda: os.stat(f"{WORK}/secret/key"))
attack("lstat the secret", lambda: os.lstat(f"{WORK}/secret/key"))
attack("list the secret directory", lambda: os.listdir(f"{WORK}/secret"))
def access():
    if os.access(f"{WORK}/secret/key", os.R_OK):
        return "readable"
    raise OSError(13, "access says no")
attack("access() the secret", access)

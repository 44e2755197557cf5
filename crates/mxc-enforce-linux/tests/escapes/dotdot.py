# `..` walks, doubled slashes and `.` components reach the same object.
from _lib import *
os.makedirs(f"{WORK}/a/b", exist_ok=True)
control("read through ..", lambda: read(f"{WORK}/a/b/../../ok"))
attack("read the secret through ..", lambda: read(f"{WORK}/a/b/../../secret/key"))
attack("read the secret through //./", lambda: read(f"{WORK}//./secret//key"))
os.chdir(f"{WORK}/a/b")
attack("read the secret relative to the cwd", lambda: read("../../secret/key"))

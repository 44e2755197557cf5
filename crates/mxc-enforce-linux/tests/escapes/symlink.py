# A symlink inside the workspace pointing at the secret: the decision is on the target.
from _lib import *
control("read a workspace file", lambda: read(f"{WORK}/ok"))
os.symlink("secret/key", f"{WORK}/link")
attack("read the secret through a symlink", lambda: read(f"{WORK}/link"))
os.symlink(f"{WORK}/secret", f"{WORK}/dirlink")
attack("read the secret through a directory symlink", lambda: read(f"{WORK}/dirlink/key"))

# Moving the secret (or its directory) into the workspace, and moving a readable file
# into the secret's place and back.
from _lib import *
control("rename a workspace file", lambda: os.rename(f"{WORK}/ok", f"{WORK}/ok-moved"))
attack("move the secret out", lambda: os.rename(f"{WORK}/secret/key", f"{WORK}/k"))
attack("move the secret directory", lambda: os.rename(f"{WORK}/secret", f"{WORK}/s2"))
os.makedirs(f"{WORK}/d/sub", exist_ok=True)
attack("move a directory over the secret's parent", lambda: os.rename(f"{WORK}/d", f"{WORK}/secret/d"))
attack("read the secret", lambda: read(f"{WORK}/k"))

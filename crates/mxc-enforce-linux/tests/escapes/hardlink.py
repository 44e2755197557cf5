# A hard link gives the secret a second name in the workspace: refused, since the new
# name would have more rights than the old one.
from _lib import *
control("hard-link a workspace file", lambda: os.link(f"{WORK}/ok", f"{WORK}/ok2"))
attack("hard-link the secret", lambda: os.link(f"{WORK}/secret/key", f"{WORK}/k"))
attack("read the secret via any name", lambda: read(f"{WORK}/k"))

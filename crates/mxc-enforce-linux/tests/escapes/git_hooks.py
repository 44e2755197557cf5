# Planting a git hook, which would run outside any sandbox at the next commit.
from _lib import *
os.makedirs(f"{WORK}/repo/.git/hooks", exist_ok=True)
control("write the repo's files", lambda: open(f"{WORK}/repo/README", "w").write("x"))
attack("create a pre-commit hook", lambda: open(f"{WORK}/repo/.git/hooks/pre-commit", "w").write("x"))
open(f"{WORK}/repo/hook", "w").write("#!/bin/sh\n")
attack("move a file into the hooks", lambda: os.rename(f"{WORK}/repo/hook", f"{WORK}/repo/.git/hooks/post-checkout"))
attack("link a file into the hooks", lambda: os.link(f"{WORK}/repo/hook", f"{WORK}/repo/.git/hooks/pre-push"))
attack("symlink into the hooks", lambda: os.symlink("/bin/sh", f"{WORK}/repo/.git/hooks/pre-push"))

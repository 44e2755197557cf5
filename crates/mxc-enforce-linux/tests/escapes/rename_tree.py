# Renames that build protected names (issue 9, class 7): moving a prepared tree into
# place makes every name beneath it at once; each must be decided where it lands.
import ctypes
from _lib import *

libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
RENAME_EXCHANGE = 2


def renameat2(a, b, flags):
    if libc.syscall(316, AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def prepare(top):
    os.makedirs(f"{top}/hooks", exist_ok=True)
    with open(f"{top}/hooks/pre-commit", "w") as f:
        f.write("#!/bin/sh\necho escaped\n")


def planted(repo):
    p = f"{repo}/.git/hooks/pre-commit"
    if os.path.exists(p) or os.path.lexists(p):
        return "planted " + p
    raise OSError(2, "not planted")


# Legitimate: moving a tree with files around the workspace.
os.makedirs(f"{WORK}/t1/a/b", exist_ok=True)
open(f"{WORK}/t1/a/b/f", "w").write("x")
control("move a tree", lambda: os.rename(f"{WORK}/t1", f"{WORK}/t2"))
control("read the moved file", lambda: read(f"{WORK}/t2/a/b/f"))
os.makedirs(f"{WORK}/r0", exist_ok=True)
control("move a plain directory to .git", lambda: os.rename(f"{WORK}/t2/a/b", f"{WORK}/r0/.git"))

# A workspace without .git: `mv tpl .git`.
os.makedirs(f"{WORK}/r1", exist_ok=True)
prepare(f"{WORK}/tpl1")
attack("move a prepared tree to .git", lambda: os.rename(f"{WORK}/tpl1", f"{WORK}/r1/.git"))
attack("the hook is not there", lambda: planted(f"{WORK}/r1"))
# One level down: `mv hooksdir .git/hooks`.
os.makedirs(f"{WORK}/r2/.git", exist_ok=True)
prepare(f"{WORK}/tpl2")
attack("move a prepared hooks directory", lambda: os.rename(f"{WORK}/tpl2/hooks", f"{WORK}/r2/.git/hooks"))
attack("the hook is not there (2)", lambda: planted(f"{WORK}/r2"))
# Swap a prepared tree with an existing, empty .git.
os.makedirs(f"{WORK}/r3/.git", exist_ok=True)
prepare(f"{WORK}/tpl3")
attack("exchange a prepared tree with .git", lambda: renameat2(f"{WORK}/tpl3", f"{WORK}/r3/.git", RENAME_EXCHANGE))
attack("the hook is not there (3)", lambda: planted(f"{WORK}/r3"))
# The same swap named the other way round (the prepared tree is the second name).
os.makedirs(f"{WORK}/r4/.git", exist_ok=True)
prepare(f"{WORK}/tpl4")
attack("exchange .git with a prepared tree", lambda: renameat2(f"{WORK}/r4/.git", f"{WORK}/tpl4", RENAME_EXCHANGE))
attack("the hook is not there (4)", lambda: planted(f"{WORK}/r4"))
# Link the hook into place.
os.makedirs(f"{WORK}/r5/.git/hooks", exist_ok=True)
prepare(f"{WORK}/tpl5")
attack("link a prepared hook", lambda: os.link(f"{WORK}/tpl5/hooks/pre-commit", f"{WORK}/r5/.git/hooks/pre-commit"))
# A symlink named hooks, pointing at a directory the agent may fill.
os.makedirs(f"{WORK}/r6/.git", exist_ok=True)
prepare(f"{WORK}/tpl6")
attack("symlink .git/hooks to a prepared directory", lambda: os.symlink(f"{WORK}/tpl6/hooks", f"{WORK}/r6/.git/hooks"))
attack("symlink .git/hooks relatively", lambda: os.symlink("../../tpl6/hooks", f"{WORK}/r6/.git/hooks"))
attack("the hook is not there (6)", lambda: planted(f"{WORK}/r6"))
# A symlink inside a tree moved into place.
os.makedirs(f"{WORK}/tpl7", exist_ok=True)
os.makedirs(f"{WORK}/r7", exist_ok=True)
prepare(f"{WORK}/real7")
control("symlink inside a template", lambda: os.symlink(f"{WORK}/real7/hooks", f"{WORK}/tpl7/hooks"))
attack("move a template whose hooks is a symlink to .git", lambda: os.rename(f"{WORK}/tpl7", f"{WORK}/r7/.git"))
attack("the hook is not there (7)", lambda: planted(f"{WORK}/r7"))
# Moving the secret directory's names out, inside a bigger tree.
attack("move the workspace's secret with its parent", lambda: os.rename(f"{WORK}/secret", f"{WORK}/t2/s"))

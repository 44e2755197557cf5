# A writable tree named through a link of the host's (`allow all "${work}/lnk/w/**"`,
# `${work}/lnk -> real`, the test's, as `/lib -> usr/lib` is the system's), beside a
# read grant naming the same tree by its real path (`allow read
# "${work}/real/w/sub/**"`). Landlock lets the agent write in `real/w` (the grant lands
# where the trusted link leads), so a link the agent leaves there is its own, wherever
# the policy names the tree: a later run must not follow it. Run twice by escapes.rs
# (`alias_*`): `plant` (the earlier run: `real/w/sub` made a link to the secret), then
# `read` (the later run, same policy: the read grant must not land on the secret).
from _lib import *
sub = os.path.join(WORK, "real/w/sub")
if sys.argv[1] == "plant":
    if os.getuid() != 0:
        # Not root (the test runs as another user, who owns the test's files): the
        # link is not trusted, the grant lands above it, file calls are supervised and
        # decided on the real path, which no rule grants: no writing this way at all.
        attack("write in the tree through an untrusted link",
               lambda: open(os.path.join(WORK, "lnk/w/f"), "w").write("x"))
        sys.exit(0)
    control("write in the tree through the link", lambda: open(os.path.join(WORK, "lnk/w/f"), "w").write("x"))
    def plant():
        os.rmdir(sub)
        os.symlink(os.path.join(WORK, "secret"), sub)
        return os.readlink(sub)
    control("replace real/w/sub by a link to the secret", plant)
    print(f"held: nothing to judge yet: planted {sub} -> {os.readlink(sub)}")
else:
    control("read the suite", lambda: read(os.path.join(os.environ["SUITE"], "_lib.py")))
    attack("read the secret through the planted link", lambda: read(os.path.join(sub, "key")))
    attack("read the secret", lambda: read(os.path.join(WORK, "secret/key")))
    def listing():
        names = os.listdir(sub)
        if "key" not in names:
            raise OSError(0, f"not the secret's listing (nothing was planted): {names}")
        return names
    attack("list the secret through the planted link", listing)

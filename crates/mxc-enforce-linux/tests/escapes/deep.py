# Paths longer than PATH_MAX (issue 9, class 9): a file deeper than 4096 bytes is decided
# on its real path, never widened and never refused for its length alone.
from _lib import *

NAME = "d" * 200
DEPTH = 30  # about 6 KiB below the workspace

fd = os.open(WORK, os.O_RDONLY | os.O_DIRECTORY)
for i in range(DEPTH):
    def step():
        global fd
        os.mkdir(NAME, dir_fd=fd)
        n = os.open(NAME, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = n
    control(f"mkdir level {i}", step)

def write_bottom():
    f = os.open("f", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd)
    os.write(f, b"deep")
    os.close(f)
control("create a file at the bottom", write_bottom)
def read_bottom():
    f = os.open("f", os.O_RDONLY, dir_fd=fd)
    data = os.read(f, 10)
    os.close(f)
    if data != b"deep":
        raise OSError(5, f"read {data!r}")
control("read it back", read_bottom)
control("stat it", lambda: os.stat("f", dir_fd=fd))
control("chmod it", lambda: os.chmod("f", 0o600, dir_fd=fd))
control("enter the bottom", lambda: os.fchdir(fd))
control("read it relative to the cwd", lambda: read("f"))
control("rename it", lambda: os.rename("f", "g"))
control("make a directory", lambda: os.mkdir("sub"))
control("enter it by name", lambda: os.chdir("sub"))
control("and back", lambda: os.chdir(".."))

# The secret, reached from the deep directory by `..`.
up = "../" * DEPTH
attack("read the secret from deep below", lambda: read(f"{up}secret/key"))
attack("stat the secret from deep below", lambda: os.stat(f"{up}secret/key"))
attack("chmod the secret from deep below", lambda: os.chmod(f"{up}secret/key", 0o777))
# A protected name deep below: `**/.git/hooks/*`.
control("make .git/hooks deep below", lambda: os.makedirs(".git/hooks"))
attack("plant a hook deep below", lambda: open(".git/hooks/pre-commit", "w").write("x"))
attack("plant a hook deep below through a dirfd", lambda: os.open(
    "pre-commit", os.O_CREAT | os.O_WRONLY, 0o755,
    dir_fd=os.open(".git/hooks", os.O_RDONLY | os.O_DIRECTORY)))

# The seams of the split supervisor (issue 11): what a deciding function is fed is the
# resolved object, its flags as the kernel reads them, and the link text as the kernel
# follows it; never a lexical or partial view of the request.
from _lib import *
import ctypes

libc = ctypes.CDLL(None, use_errno=True)


def exchange(d1, a, d2, b):
    # renameat2(d1, a, d2, b, RENAME_EXCHANGE) (316 on x86_64)
    r = libc.syscall(316, d1, a.encode(), d2, b.encode(), 2)
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r

SUITE = os.environ["SUITE"]
SECRET = f"{WORK}/secret/key"

# 1. O_ACCMODE (3) as an open's access mode: the kernel checks read and write permission
#    and hands out a descriptor with neither (good for ioctl, flock, fstat). It asks for
#    a right like any open: on the secret (no right at all) it is refused.
control("open a workspace file with O_RDWR", lambda: os.close(os.open(f"{WORK}/ok", os.O_RDWR)))
attack("open the secret with access mode 3 (O_ACCMODE)",
       lambda: os.fstat(os.open(SECRET, 3)).st_size)
d = os.open(WORK, os.O_RDONLY | os.O_DIRECTORY)
attack("open the secret with access mode 3 relative to a dirfd",
       lambda: os.fstat(os.open("secret/key", 3 | os.O_NONBLOCK, dir_fd=d)).st_size)

# 2. O_TRUNC on a read-only open of a file the policy grants only `read`: a write.
victim = f"{SUITE}/_readonly_victim.txt"
control("read a read-only file", lambda: read(victim))
attack("O_RDONLY|O_TRUNC on a read-only grant",
       lambda: (os.close(os.open(victim, os.O_RDONLY | os.O_TRUNC)), os.stat(victim).st_size))
attack("O_ACCMODE|O_TRUNC on a read-only grant",
       lambda: (os.close(os.open(victim, 3 | os.O_TRUNC)), os.stat(victim).st_size))

# 3. A symbolic link whose text walks `..` out of another link: the kernel follows
#    `x` first, so `x/../..` is not what the text says lexically. Here the lexical
#    reading lands outside the workspace (denied everything: "no stricter below"), while
#    the kernel lands on a writable template: `.git/hooks` would then be a link to it,
#    and any file made in the template a hook git runs outside the sandbox.
os.makedirs(f"{WORK}/repo/.git", exist_ok=True)
os.makedirs(f"{WORK}/t/a/b/c/d", exist_ok=True)
os.makedirs(f"{WORK}/tpl", exist_ok=True)
control("link inside .git to a workspace directory",
        lambda: os.symlink(f"{WORK}/t/a/b/c/d", f"{WORK}/repo/.git/x"))
# From .git/x (= t/a/b/c/d, five below WORK) five `..` reach WORK; lexically, from
# .git, they reach two levels above WORK.
text = "x/" + "../" * 5 + "tpl"
def hooks_link():
    os.symlink(text, f"{WORK}/repo/.git/hooks")
    real = os.path.realpath(f"{WORK}/repo/.git/hooks")
    open(f"{WORK}/tpl/pre-commit", "w").write("#!/bin/sh\n")
    return real, os.path.exists(f"{WORK}/repo/.git/hooks/pre-commit")
attack(".git/hooks as a link whose `..` follows another link", hooks_link)
# 3b. The same without `..`: the text names a link (`y`) that leads, when the hooks
#     link is made, to another repository's `.git` (as strict as ours), then is made
#     to lead to a writable directory. Each link is decided when made, so the text must
#     be decided as written as well as where it leads now.
os.makedirs(f"{WORK}/other/.git/hooks", exist_ok=True)
os.makedirs(f"{WORK}/t2/hooks", exist_ok=True)
os.symlink(f"{WORK}/other/.git", f"{WORK}/repo/.git/y")
def hooks_via_swapped_link():
    os.symlink("y/hooks", f"{WORK}/repo/.git/hooks")
    os.unlink(f"{WORK}/repo/.git/y")
    os.symlink(f"{WORK}/t2", f"{WORK}/repo/.git/y")
    open(f"{WORK}/t2/hooks/pre-commit", "w").write("#!/bin/sh\n")
    return os.path.realpath(f"{WORK}/repo/.git/hooks/pre-commit")
attack(".git/hooks as a link through a link swapped afterwards", hooks_via_swapped_link)
attack("direct link .git/hooks -> the template (control of the rule)",
       lambda: os.symlink(f"{WORK}/tpl", f"{WORK}/repo/.git/hooks"))

# 4. Rename and exchange through a directory descriptor: decided on the names the
#    descriptor leads to, not on the relative text.
attack("renameat the secret out through a dirfd",
       lambda: os.rename("secret/key", "k", src_dir_fd=d, dst_dir_fd=d))
attack("renameat2 RENAME_EXCHANGE of a workspace file with the secret",
       lambda: exchange(d, "ok", d, "secret/key"))
# A directory holding a hook moved onto (or exchanged with) the empty `.git/hooks`,
# named through directory descriptors: every name the move brings is decided where it
# lands (`create` of `.git/hooks/pre-commit`), whatever the descriptors' paths.
os.makedirs(f"{WORK}/repo/.git/hooks", exist_ok=True)
for t in ("tplA", "tplB"):
    os.makedirs(f"{WORK}/{t}", exist_ok=True)
    open(f"{WORK}/{t}/pre-commit", "w").write("#!/bin/sh\n")
g = os.open(f"{WORK}/repo/.git", os.O_RDONLY | os.O_DIRECTORY)
attack("exchange .git/hooks with a directory holding a hook, through dirfds",
       lambda: (exchange(d, "tplA", g, "hooks"), os.listdir(f"{WORK}/repo/.git/hooks")))
attack("move a directory holding a hook over .git/hooks, through dirfds",
       lambda: (os.rename("tplB", "hooks", src_dir_fd=d, dst_dir_fd=g),
                os.listdir(f"{WORK}/repo/.git/hooks")))

# 5. A link text through procfs means something else to each process that follows it:
#    git runs hooks from the top of the work tree, where `/proc/self/cwd` is the repo,
#    so `.git/hooks -> /proc/self/cwd/tpl5` is the writable `repo2/tpl5` to git.
os.makedirs(f"{WORK}/repo2/.git", exist_ok=True)
os.makedirs(f"{WORK}/repo2/tpl5", exist_ok=True)
def hooks_through(text):
    os.symlink(text, f"{WORK}/repo2/.git/hooks")
    open(f"{WORK}/repo2/tpl5/pre-commit", "w").write("#!/bin/sh\n")
    os.chdir(f"{WORK}/repo2")  # as git does before running a hook
    return os.path.realpath(".git/hooks/pre-commit")
attack(".git/hooks -> /proc/self/cwd/tpl5 (git's cwd is the repo)",
       lambda: hooks_through("/proc/self/cwd/tpl5"))
attack(".git/hooks -> /proc/thread-self/cwd/tpl5",
       lambda: hooks_through("/proc/thread-self/cwd/tpl5"))
attack("a workspace link to /dev/fd (procfs behind a system link)",
       lambda: os.symlink("/dev/fd", f"{WORK}/fdlink"))
attack("a workspace link to /dev/fd/3 (procfs behind a system link)",
       lambda: os.symlink("/dev/fd/3", f"{WORK}/fd3link"))
attack("a workspace link to /proc/self/fd/3", lambda: os.symlink("/proc/self/fd/3", f"{WORK}/fd3"))
attack("a workspace link to /dev/stdout/x (beneath a stream)",
       lambda: os.symlink("/dev/stdout/x", f"{WORK}/outx"))
# A link to the follower's own standard stream (`ln -s /dev/stdout log`, common in
# Dockerfiles) is allowed: it leads to a stream the follower was given, never to a
# directory the agent prepared. Not where names beneath it are protected.
def stdout_link():
    os.symlink("/dev/stdout", f"{WORK}/log")
    # Written through, with this process's stdout a file of its own (a pipe made by
    # another user cannot be reopened through /proc/self/fd, in or out of a sandbox).
    sys.stdout.flush()
    saved = os.dup(1)
    out = os.open(f"{WORK}/out.txt", os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.dup2(out, 1)
    try:
        with open(f"{WORK}/log", "w") as f:
            f.write("through the stdout link\n")
    finally:
        os.dup2(saved, 1)
    if read(f"{WORK}/out.txt") != "through the stdout link\n":
        raise OSError(5, "not written through the link")
control("a workspace link to /dev/stdout, written through", stdout_link)
control("a workspace link to /dev/stderr", lambda: os.symlink("/dev/stderr", f"{WORK}/errlog"))
control("a workspace link to /dev/stdin", lambda: os.symlink("/dev/stdin", f"{WORK}/inlink"))
os.makedirs(f"{WORK}/repo3/.git", exist_ok=True)
attack(".git/hooks -> /dev/stdout (names beneath it are protected)",
       lambda: os.symlink("/dev/stdout", f"{WORK}/repo3/.git/hooks"))
attack(".git/hooks -> /proc/self/fd/0", lambda: os.symlink("/proc/self/fd/0", f"{WORK}/repo3/.git/hooks"))
attack("the allowed /dev/stdout link moved to .git/hooks",
       lambda: os.rename(f"{WORK}/log", f"{WORK}/repo3/.git/hooks"))
control("a link to a workspace directory still works",
        lambda: os.symlink(f"{WORK}/repo2/tpl5", f"{WORK}/plainlink"))

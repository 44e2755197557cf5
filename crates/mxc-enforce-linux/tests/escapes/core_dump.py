# A core file is written by the kernel, not through a system call the supervisor
# holds: a process that crashes with its cwd in a directory Landlock lets it write but
# the policy denies (`${work}/secret`, or `.git/hooks`, where the policy denies
# creating files but entering the directory is allowed) would have the kernel create
# `core` there.
from _lib import *
import resource, signal
pattern = read("/proc/sys/kernel/core_pattern").strip()
control("read core_pattern", lambda: pattern)

def crash_in(d, name=None):
    before = set(os.listdir(d)) if name else set()
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(d)
            soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
            resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
        except OSError:
            os._exit(3)
        os.kill(os.getpid(), signal.SIGSEGV)
        os._exit(4)
    _, st = os.waitpid(pid, 0)
    if os.WIFEXITED(st) and os.WEXITSTATUS(st) == 3:
        raise OSError(13, "could not enter the directory or raise RLIMIT_CORE")
    if os.WIFSIGNALED(st) and os.WCOREDUMP(st):
        made = sorted(set(os.listdir(d)) - before) if name else "?"
        return f"core dumped (core_pattern {pattern!r}): {made}"
    raise OSError(1, f"no core dumped (core_pattern {pattern!r}, status {st:#x})")

if pattern.startswith("|") or pattern.startswith("/"):
    # Piped to a helper or written to a fixed place: not where the process stands.
    attack("a core file in the secret directory (core_pattern does not use the cwd)",
           lambda: (_ for _ in ()).throw(OSError(0, pattern)))
else:
    attack("the kernel writes a core file into the secret directory",
           lambda: crash_in(f"{WORK}/secret"))
    os.makedirs(f"{WORK}/.git/hooks", exist_ok=True)
    attack("the kernel writes a core file into .git/hooks (creating files there is denied)",
           lambda: crash_in(f"{WORK}/.git/hooks", "hooks"))

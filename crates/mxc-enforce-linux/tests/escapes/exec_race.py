# execve reads its path and arguments again after the supervisor decided them: a second
# thread flips them between an allowed program and a denied one (a path: /usr/bin/curl,
# denied; an argument: `printf ESCAPED`, denied by an args rule) many times, bounded.
from _lib import *
import ctypes, threading, time

libc = ctypes.CDLL(None, use_errno=True)
libc.execve.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]


def run(path, args, flip=None):
    """Forks a child that execs `path` with `args` (bytes), while a thread of the child
    flips (buffer index, a, b) pairs if `flip`. Returns (status, output)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.dup2(w, 1)
            os.dup2(w, 2)
            bufs = [ctypes.create_string_buffer(path, 64)]
            bufs += [ctypes.create_string_buffer(a, 64) for a in args]
            argv = (ctypes.c_void_p * (len(bufs)))(*[ctypes.addressof(b) for b in bufs[1:]], None)
            envp = (ctypes.c_void_p * 1)(None)
            if flip:
                i, a, b = flip
                buf = bufs[i]
                def flipper():
                    while True:
                        buf.raw = a
                        buf.raw = b
                threading.Thread(target=flipper, daemon=True).start()
                time.sleep(0.001)
            libc.execve(ctypes.addressof(bufs[0]), argv, envp)
            os.write(1, b"refused:%d" % ctypes.get_errno())
        finally:
            os._exit(3)
    os.close(w)
    out = b""
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break
        out += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    return status, out


def pad(s):
    return s + b"\0" * (64 - len(s))


def ok_run(path, args, want):
    status, out = run(path, args)
    if want not in out:
        raise OSError(1, f"no {want!r} in {out[:80]!r}")


control("exec /usr/bin/true", lambda: ok_run(b"/usr/bin/true", [b"true"], b""))
control("exec printf with an allowed argument (single thread)",
        lambda: ok_run(b"/usr/bin/printf", [b"printf", b"held-xxx"], b"held-xxx"))


def race(path, args, flip, marker, tries=300, seconds=20):
    end = time.time() + seconds
    refused = 0
    for _ in range(tries):
        if time.time() > end:
            break
        status, out = run(path, args, flip)
        if marker in out:
            return "the denied program ran"
        if b"refused" in out:
            refused += 1
    raise OSError(1, f"never ran ({refused} refused)")


attack("flip the program path to a denied program during execve",
       lambda: race(b"/usr/bin/true", [b"x", b"--version"],
                    (0, pad(b"/usr/bin/true"), pad(b"/usr/bin/curl")), b"curl "))
attack("flip an argument to a denied one during execve",
       lambda: race(b"/usr/bin/printf", [b"printf", b"held-xxx"],
                    (2, pad(b"held-xxx"), pad(b"ESCAPED-")), b"ESCAPED-"))

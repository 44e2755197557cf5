# The supervisor reads a held call's arguments out of the caller's memory. A handle on
# `/proc/TID/mem` kept across calls (per thread id) reads the address space it was opened
# on, not the caller's: here a thread makes a held call and exits (its process, and so
# that address space, live on), its id is reused by a child forked from the process (an
# address space copied from the old one: the same layout), and the child's `execve` is
# read through the old handle. The supervisor would decide the bytes the parent leaves
# there (`printf held-xxx`, allowed) while the kernel runs the child's own
# (`printf ESCAPED-`, denied by an args rule). Process tier only: the attack has to
# reuse a *host* thread id, which a container's pid namespace does not show.
from _lib import *
import ctypes, sys, threading, time

libc = ctypes.CDLL(None, use_errno=True)
libc.execve.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]

# One buffer (malloc'd: private anonymous memory, as the exec proof requires) holding
# the path, the two arguments and the argv array.
buf = ctypes.create_string_buffer(512)
base = ctypes.addressof(buf)
ctypes.memmove(base, b"/usr/bin/printf\0", 16)
ctypes.memmove(base + 64, b"printf\0", 7)
argv = (ctypes.c_void_p * 3).from_address(base + 256)
argv[0], argv[1], argv[2] = base + 64, base + 128, None
envp = (ctypes.c_void_p * 1)(None)


def set_arg(word):
    ctypes.memmove(base + 128, word + b"\0", len(word) + 1)


def exec_here(out_w):
    """In a forked child: exec the buffer's program, output to `out_w`."""
    os.dup2(out_w, 1)
    os.dup2(out_w, 2)
    libc.execve(base, base + 256, ctypes.addressof(envp))
    os.write(1, b"refused:%d" % ctypes.get_errno())
    os._exit(3)


def collect(r, pid):
    out = b""
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break
        out += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return out


def run_direct(word):
    set_arg(word)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        exec_here(w)
    os.close(w)
    return collect(r, pid)


def direct_ok():
    out = run_direct(b"held-xxx")
    if b"held-xxx" not in out:
        raise OSError(1, f"printf did not run: {out[:80]!r}")


control("exec printf with an allowed argument", direct_ok)


def held_call_in_thread():
    """A thread that makes one held call (its path read from this address space) and
    exits: its id."""
    box = []

    def body():
        os.stat(os.path.join(WORK, "ok"))
        box.append(threading.get_native_id())

    t = threading.Thread(target=body)
    t.start()
    t.join()
    return box[0]


def next_tid():
    box = []
    t = threading.Thread(target=lambda: box.append(threading.get_native_id()))
    t.start()
    t.join()
    return box[0]


def attack_once(seconds):
    """Reuses the id of a thread that made a held call for a forked child, whose execve
    the supervisor decides. `None` when the id could not be reused in time."""
    tid = held_call_in_thread()
    end = time.time() + seconds
    while time.time() < end:
        n = next_tid()
        # Ids are handed out in turn: the next after `tid - 1` is `tid` (if no other
        # process takes it first; then the child sees another id and leaves).
        if not (tid - 3 <= n < tid):
            continue
        set_arg(b"ESCAPED-")
        r, w = os.pipe()
        go_r, go_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            os.close(go_w)
            if os.getpid() != tid:
                os._exit(4)
            os.read(go_r, 1)
            exec_here(w)
        os.close(w)
        os.close(go_r)
        # The parent's copy (the old address space) says what the supervisor must
        # never decide on; the child's copy keeps the denied argument.
        set_arg(b"held-xxx")
        try:
            os.write(go_w, b"x")
        except BrokenPipeError:
            pass  # the child had another id and left
        os.close(go_w)
        out = collect(r, pid)
        if pid != tid:
            continue
        return out
    return None


def attack_fn():
    reused = 0
    for _ in range(4):
        out = attack_once(15)
        if out is None:
            continue
        reused += 1
        if b"ESCAPED-" in out:
            return "the child's denied argument ran (decided on the parent's memory)"
    if reused == 0:
        # Never reached the attack: the test would prove nothing.
        print("control failed: no thread id was reused for a forked child")
        sys.exit(2)
    raise OSError(1, f"held ({reused} thread ids reused, every exec decided on its own memory)")


attack("reuse a thread's id for a forked child whose execve is read through a stale handle",
       attack_fn)

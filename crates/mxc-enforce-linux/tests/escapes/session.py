# The user's session, from a sandbox run on the user's terminal with `--ask deny` (its
# stdin, stdout and stderr are that terminal; run by `_session_terminal.py`, which
# plays the user's shell: a session leader with a job in the foreground, and a process
# the user stopped, in a process group of its own whose parent is gone). Since
# f2776a0 the process tier stays in that session, without the terminal: what being in
# it must not give.
from _lib import *
import fcntl, termios, signal, struct, time
control("stdin is the user's terminal", lambda: os.ttyname(0))
tty = os.ttyname(0)
victim = int(os.environ["HOST_VICTIM_PID"])
shell = int(os.environ["HOST_SHELL_PID"])
TIOCCONS = 0x541D
# Regaining a controlling terminal.
attack("open /dev/tty", lambda: open("/dev/tty", "w"))
attack("TIOCSCTTY on stdin", lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
attack("TIOCSCTTY on stdin, stealing", lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 1))
def reopen():
    fd = os.open(tty, os.O_RDWR)
    os.close(fd)
    return open("/dev/tty", "w")
attack("open of the terminal without O_NOCTTY, then /dev/tty", reopen)
def in_child(what, fn, judged_here=True):
    """`fn` in a forked child: held when it raises OSError. `judged_here=False`: what it
    did is judged outside (by `_session_terminal.py`), it only says it tried."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            res = fn()
            verdict = "ESCAPED" if judged_here else "tried"
            os.write(w, f"{verdict}: {what}: {res!r}\n".encode())
        except OSError as e:
            os.write(w, f"held: {what}: {e}\n".encode())
        os._exit(0)
    os.close(w)
    out = b""
    while True:
        b = os.read(r, 4096)
        if not b:
            break
        out += b
    os.close(r)
    os.waitpid(pid, 0)
    print(out.decode(), end="", flush=True)
    if b"ESCAPED" in out:
        sys.exit(1)
def new_session(steal):
    def go():
        os.setsid()
        try:
            fcntl.ioctl(0, termios.TIOCSCTTY, steal)
        except OSError:
            fd = os.open(tty, os.O_RDWR)
            os.close(fd)
        return open("/dev/tty", "w")
    return go
in_child("setsid, then TIOCSCTTY on stdin", new_session(0))
in_child("setsid, then TIOCSCTTY on stdin, stealing", new_session(1))
# What a controlling terminal would give, on the terminal's descriptor we hold.
attack("TIOCSTI on stdin", lambda: fcntl.ioctl(0, termios.TIOCSTI, b"x"))
attack("TIOCSPGRP on stdin (our group to the foreground)",
       lambda: fcntl.ioctl(0, termios.TIOCSPGRP, struct.pack("i", os.getpgrp())))
attack("TIOCCONS on stdin", lambda: fcntl.ioctl(0, TIOCCONS))
# Signals the credential check lets through within a session (SIGCONT), to the stopped
# process and to the shell's group; Landlock's signal scope must refuse them.
attack("SIGCONT to a stopped process of the session", lambda: os.kill(victim, signal.SIGCONT))
attack("SIGCONT to the shell's process group", lambda: os.killpg(shell, signal.SIGCONT))
attack("SIGCONT to the shell", lambda: os.kill(shell, signal.SIGCONT))
if os.getppid() != 1:
    attack("SIGCONT to mxcc", lambda: os.kill(os.getppid(), signal.SIGCONT))
# Joining a process group of the session. Then signalling our own group reaches the
# group's other members (refused: Landlock); and leaving a group whose only link to the
# session we were makes the kernel send SIGHUP and SIGCONT to it when something in it
# is stopped (an orphaned process group): `_session_terminal.py` sees whether the
# stopped process outlived it.
def join_and_signal(pgid, sig):
    def go():
        os.setpgid(0, pgid)
        print(f"joined process group {pgid}", flush=True)
        os.kill(0, sig)
        time.sleep(0.2)
        return f"process group {pgid} joined and sent signal {sig}"
    return go
in_child("joining the shell's group and signalling it (SIGCONT)",
         join_and_signal(shell, signal.SIGCONT), judged_here=False)
def join_and_leave(pgid):
    def go():
        os.setpgid(0, pgid)
        print(f"joined process group {pgid}", flush=True)
        return f"joined process group {pgid}; leaving it"
    return go
in_child("joining the stopped process's group, then leaving it", join_and_leave(victim),
         judged_here=False)
time.sleep(0.3)
# SIGKILL to the shell's group, from inside it: must reach only ourselves.
def join_and_kill():
    os.setpgid(0, shell)
    os.kill(0, signal.SIGKILL)
in_child("joining the shell's group and killing it", join_and_kill, judged_here=False)
print("held: the run went on", flush=True)
# The terminal's line discipline (TIOCSETD needs no controlling terminal): N_NULL (27)
# left on the user's terminal makes it dead after the run (`mxcc` would not restore
# it). Tried last, since our own output goes through that terminal; whether it stuck
# is judged by `_session_terminal.py`'s shell once the run is over.
try:
    fcntl.ioctl(0, termios.TIOCSETD, struct.pack("i", 27))
except OSError:
    pass

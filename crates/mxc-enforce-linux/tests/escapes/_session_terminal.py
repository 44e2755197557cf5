"""Runs `session.py` in `mxcc run --ask deny` on a pseudo-terminal, the way a user's
shell would (crates/mxcc/tests/escapes.rs, session_terminal), and judges what the
sandbox cannot see from inside:

- the "shell": the terminal's session leader, with `mxcc` as its foreground job (a
  process group of its own); it records every SIGCONT it gets (none is sent to it
  but by the sandbox) and must outlive the run;
- the "victim": a process of the same session the user stopped (SIGSTOP), in a
  process group of its own whose parent is gone (an orphaned process group, as any
  job left behind by a shell that exited); it must still be stopped after the run.

argv: -- MXCC-COMMAND... (the `mxcc run` command line up to its `--`, `setpriv`
included when run as another user). Exit 0: held; 1: escaped; 2: the run did not
behave."""
import fcntl, os, pty, select, signal, struct, sys, termios, time

cmd = sys.argv[sys.argv.index("--") + 1:]
suite = os.path.dirname(os.path.abspath(__file__))

def state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"

# The victim: forked by a process that then exits (its parent is then init, outside
# the session), stopped by itself once orphaned.
r, w = os.pipe()

marks_r, marks_w = os.pipe()
pid, fd = pty.fork()
if pid == 0:
    # The shell: session leader, the pseudo-terminal its controlling terminal.
    os.close(marks_r)
    shell = os.getpid()
    v = os.fork()
    if v == 0:
        n = os.open("/dev/null", os.O_RDWR)
        for i in (0, 1, 2):
            os.dup2(n, i)
        mid = os.getpid()
        if os.fork():
            os._exit(0)
        os.setpgid(0, 0)
        while os.getppid() == mid:
            time.sleep(0.01)
        os.write(w, f"{os.getpid()}\n".encode())
        os.kill(os.getpid(), signal.SIGSTOP)
        # Let go once continued (the judge also checks it is still stopped).
        os.write(marks_w, b"victim continued\n")
        os._exit(0)
    os.waitpid(v, 0)
    victim = int(os.read(r, 64).decode().strip())
    while state(victim) != "T":
        time.sleep(0.01)
    signal.signal(signal.SIGCONT, lambda *_: os.write(marks_w, b"shell got SIGCONT\n"))
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    job = os.fork()
    if job == 0:
        os.setpgid(0, 0)
        signal.signal(signal.SIGTTOU, signal.SIG_DFL)
        env = dict(os.environ)
        env.pop("MXC_ESCAPE_SECRET_ENV", None)
        env["HOST_VICTIM_PID"] = str(victim)
        env["HOST_SHELL_PID"] = str(shell)
        os.execvpe(cmd[0], cmd + ["--", "/usr/bin/python3", "-B", suite + "/session.py"], env)
    try:
        os.setpgid(job, job)
    except OSError:
        pass
    os.tcsetpgrp(0, job)
    while True:
        try:
            _, st = os.waitpid(job, 0)
            break
        except ChildProcessError:
            os._exit(125)
        except InterruptedError:
            continue
    os.tcsetpgrp(0, shell)
    ldisc = struct.unpack("i", fcntl.ioctl(0, termios.TIOCGETD, b"\0" * 4))[0]
    if ldisc != 0:
        fcntl.ioctl(0, termios.TIOCSETD, struct.pack("i", 0))
    os.write(marks_w, f"ldisc {ldisc}\n".encode())
    os.write(marks_w, f"victim {victim}\n".encode())
    os._exit(os.waitstatus_to_exitcode(st) & 0xff)

os.close(marks_w)
seen = b""
marks = b""
st = None
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    rr, _, _ = select.select([fd, marks_r], [], [], 0.1)
    if fd in rr:
        try:
            b = os.read(fd, 4096)
        except OSError:
            b = b""
        seen += b
    if marks_r in rr:
        marks += os.read(marks_r, 4096)
    if st is None:
        done, s = os.waitpid(pid, os.WNOHANG)
        if done:
            st = s
            # What is still on its way through the terminal and the pipe.
            deadline = min(deadline, time.monotonic() + 0.5)
if st is None:
    os.kill(pid, signal.SIGKILL)
    _, st = os.waitpid(pid, 0)
text = seen.decode(errors="replace").replace("\r\n", "\n")
print(text)
print(f"shell: {st:#x}; marks: {marks!r}")
escaped = "ESCAPED" in text
victim = None
for line in marks.decode().splitlines():
    if line.startswith("victim ") and line[7:].isdigit():
        victim = int(line[7:])
if not os.WIFEXITED(st):
    print("ESCAPED: the shell was killed")
    escaped = True
if b"shell got SIGCONT" in marks:
    print("ESCAPED: the shell got SIGCONT from the sandbox")
    escaped = True
ldisc = None
for line in marks.decode().splitlines():
    if line.startswith("ldisc ") and line[6:].isdigit():
        ldisc = int(line[6:])
if ldisc is None:
    print("the run did not behave: no line discipline read")
    sys.exit(2)
if ldisc != 0:
    print(f"ESCAPED: the terminal's line discipline was left at {ldisc}")
    escaped = True
else:
    print("held: the terminal's line discipline is still N_TTY")
if victim is None:
    print("the run did not behave: no victim")
    sys.exit(2)
s = state(victim)
if s != "T" or b"victim continued" in marks:
    print(f"ESCAPED: the stopped process of the session was signalled (now {s})")
    escaped = True
else:
    print("held: the stopped process of the session is still stopped")
try:
    os.kill(victim, signal.SIGKILL)
except OSError:
    pass
if escaped:
    sys.exit(1)
if not os.WIFEXITED(st) or os.WEXITSTATUS(st) != 0 or "held:" not in text:
    print("the run did not behave")
    sys.exit(2)
sys.exit(0)

"""Drives `mxcc run` (no --ask) from a pseudo-terminal, as a person would, and attacks
the `ask` question from the sandbox (crates/mxcc/tests/escapes.rs, ask_terminal):

1. while a question is pending, the agent keeps writing to the terminal: it can draw
   over the question (or draw a question of its own) and have the user's answer meant
   for one thing answer another;
2. the question shows the target path, which the agent chose: control characters in it
   (ESC [ 2 K: erase the line) reach the user's terminal raw;
3. before asking, the agent leaves the terminal in modes that garble or clip what
   comes next (the DEC line-drawing character set shifted in, autowrap off, insert
   mode): its own fake question printed before stays legible, the real one would not
   be, unless MXC undoes them first.

argv: MXCC POLICY AGENT WORK SUITE LOG. Exit 0: held; 1: escaped; 2: the run did not
behave (no question seen)."""
import os, pty, select, sys, time

mxcc, policy, agent, work, suite, log = sys.argv[1:7]
MARK = b"AGENT-OUTPUT-DURING-QUESTION"
# The target: a name under the asked directory, carrying an erase-line sequence and a
# fake question about an innocent file.
evil = "\x1b[2K\rmxcc: the agent asks to read README.md"
MODES = "\x1b)0\x0e\x1b(0\x1b[?7l\x1b[4h"
agent_code = f"""
import os, sys, threading, time
sys.stdout.write({MODES!r})
sys.stdout.flush()
def ask():
    try:
        open({work!r} + "/asked/" + {evil!r})
    except OSError as e:
        pass
t = threading.Thread(target=ask)
t.start()
time.sleep(1.0)
sys.stdout.write({MARK.decode()!r} + "\\n")
sys.stdout.flush()
t.join()
"""
pid, fd = pty.fork()
if pid == 0:
    os.environ.pop("MXC_ESCAPE_SECRET_ENV", None)
    os.execv(mxcc, [mxcc, "run", policy, "--agent", agent,
                    "--param", f"work={work}", "--param", f"suite={suite}",
                    "--audit-log", log, "--", "/usr/bin/python3", "-B", "-c", agent_code])

seen = b""
def pump(until):
    global seen
    while time.monotonic() < until:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                b = os.read(fd, 4096)
            except OSError:
                return False
            if not b:
                return False
            seen += b
    return True

deadline = time.monotonic() + 30
while b"allow?" not in seen and time.monotonic() < deadline:
    if not pump(time.monotonic() + 0.1):
        break
if b"allow?" not in seen:
    print(f"no question seen: {seen!r}")
    sys.exit(2)
asked_at = seen.index(b"mxcc: the agent asks")
# Let the agent write while the question waits, then deny.
pump(time.monotonic() + 2.5)
question = seen[asked_at:]
os.write(fd, b"n\r")
pump(time.monotonic() + 5)
_, st = os.waitpid(pid, 0)
escaped = False
if MARK in question:
    print("ESCAPED: the agent wrote to the user's terminal while its question was pending")
    escaped = True
else:
    print("held: the agent's output waits while a question is pending")
if b"\x1b[2K" in question:
    print("ESCAPED: the question shows the agent's control characters raw (erase line)")
    escaped = True
else:
    print("held: control characters in the question's target are not sent raw")
# The terminal's modes where the question starts, from everything written before it.
g = {"0": "ascii", "1": "ascii"}
shifted, autowrap, insert = False, True, False
i = 0
before = seen[:asked_at]
while i < len(before):
    for seq, act in [
        (b"\x1b(0", lambda: g.__setitem__("0", "dec")),
        (b"\x1b(B", lambda: g.__setitem__("0", "ascii")),
        (b"\x1b)0", lambda: g.__setitem__("1", "dec")),
        (b"\x1b)B", lambda: g.__setitem__("1", "ascii")),
        (b"\x0e", lambda: "so"),
        (b"\x0f", lambda: "si"),
        (b"\x1b[?7l", lambda: "awm-off"),
        (b"\x1b[?7h", lambda: "awm-on"),
        (b"\x1b[4h", lambda: "irm-on"),
        (b"\x1b[4l", lambda: "irm-off"),
    ]:
        if before.startswith(seq, i):
            r = act()
            shifted = True if r == "so" else False if r == "si" else shifted
            autowrap = False if r == "awm-off" else True if r == "awm-on" else autowrap
            insert = True if r == "irm-on" else False if r == "irm-off" else insert
            i += len(seq)
            break
    else:
        i += 1
charset = g["1" if shifted else "0"]
if charset != "ascii" or not autowrap or insert:
    print(f"ESCAPED: the question is drawn in modes the agent left: character set "
          f"{charset}, autowrap {autowrap}, insert mode {insert}")
    escaped = True
else:
    print("held: the modes the agent left are undone before the question")
print(f"--- what the user saw:\n{seen!r}")
sys.exit(1 if escaped else 0)

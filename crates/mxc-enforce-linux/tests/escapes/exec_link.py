# A program rule naming a file in a place the agent writes (`allow launch
# "${work}/bin/tool"`), where an earlier run left a symbolic link to a program the policy
# denies (`${work}/bin/tool -> /usr/bin/curl`, planted by the test before the run). If
# the execute grant is placed by following that link, Landlock lets the kernel execute
# curl: the agent replaces the link by a script (the launch of `${work}/bin/tool` is
# decided and allowed) whose interpreter is curl, which the kernel runs undecided.
from _lib import *
import subprocess


def run(argv):
    return subprocess.run(argv, capture_output=True, check=True).stdout


control("launch an allowed program", lambda: run(["/usr/bin/true"]))
tool = f"{WORK}/bin/tool"
attack("launch the planted link (decided on curl)", lambda: run([tool, "--version"]))
os.unlink(tool)
with open(tool, "w") as f:
    f.write("#!/usr/bin/curl\n")
os.chmod(tool, 0o755)


def interp():
    out = run([tool, "--version"])
    if b"curl " not in out:
        raise OSError(1, f"curl did not run: {out[:80]!r}")
    return out[:40]


attack("the allowed path as a script whose interpreter is curl", interp)

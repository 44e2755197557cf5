# A launch tree that does not exist when the run starts, in a place the agent may write
# (`allow launch "${work}/tools/**"` while `${work}/tools` is missing; `~/.pyenv/versions/**`
# on a machine without pyenv). If Landlock's execute right is granted on the nearest
# existing directory (`${work}`), the kernel may execute any file the agent writes
# anywhere beneath it: a script in the tree (decided, allowed) names as its interpreter a
# program elsewhere in the workspace, which the kernel then runs without any `execve` of
# it being decided.
from _lib import *
import shutil, subprocess


def run(argv):
    return subprocess.run(argv, capture_output=True, check=True).stdout


control("launch an allowed program", lambda: run(["/usr/bin/true"]))
os.makedirs(f"{WORK}/other", exist_ok=True)
shutil.copy("/bin/sh", f"{WORK}/other/sh")
os.chmod(f"{WORK}/other/sh", 0o755)
attack("launch a program outside the tree directly (no rule allows it)",
       lambda: run([f"{WORK}/other/sh", "-c", "echo RAN-OTHER"]))
os.makedirs(f"{WORK}/tools", exist_ok=True)
# The tree works: mxcc made it (empty) before the run, where the agent may make it.
with open(f"{WORK}/tools/ok", "w") as f:
    f.write("#!/bin/sh\necho in-tree\n")
os.chmod(f"{WORK}/tools/ok", 0o755)
control("run a program made in the tree during the run", lambda: run([f"{WORK}/tools/ok"]))
with open(f"{WORK}/tools/s", "w") as f:
    f.write(f"#!{WORK}/other/sh\necho RAN-OTHER\n")
os.chmod(f"{WORK}/tools/s", 0o755)


def interp():
    out = run([f"{WORK}/tools/s"])
    if b"RAN-OTHER" not in out:
        raise OSError(1, f"did not run: {out!r}")
    return out


attack("a script in the new tree whose interpreter is the agent's program elsewhere", interp)

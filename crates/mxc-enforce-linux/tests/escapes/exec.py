# Denied programs: directly, through the dynamic loader, by execveat of a descriptor, from
# a memfd, and as a script's interpreter.
from _lib import *
import subprocess, shutil
def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, check=True, **kw).returncode
control("launch an allowed program", lambda: run(["/usr/bin/true"]))
attack("launch curl", lambda: run(["/usr/bin/curl", "--version"]))
attack("curl through ld.so", lambda: run(["/lib64/ld-linux-x86-64.so.2", "/usr/bin/curl", "--version"]))
fd = os.open("/usr/bin/curl", os.O_RDONLY)
attack("execveat a descriptor of curl", lambda: run([f"/proc/self/fd/{fd}", "--version"], pass_fds=[fd]))
m = os.memfd_create("x", 0)
os.write(m, open("/usr/bin/true", "rb").read())
attack("exec from a memfd", lambda: run([f"/proc/self/fd/{m}"], pass_fds=[m]))
with open(f"{WORK}/s.sh", "w") as f:
    f.write("#!/usr/bin/curl\n")
os.chmod(f"{WORK}/s.sh", 0o755)
attack("a script in the workspace", lambda: run([f"{WORK}/s.sh"]))
shutil.copy("/usr/bin/true", f"{WORK}/mytrue")
os.chmod(f"{WORK}/mytrue", 0o755)
attack("a copied binary in the workspace", lambda: run([f"{WORK}/mytrue"]))

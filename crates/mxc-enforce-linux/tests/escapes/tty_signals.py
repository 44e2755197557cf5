# TIOCSTI (typing into the user's terminal), signals to processes outside the sandbox,
# and the controlling terminal.
from _lib import *
import time
import fcntl, termios, signal
control("signal ourselves", lambda: os.kill(os.getpid(), 0))
def sti():
    fcntl.ioctl(0, termios.TIOCSTI, b"x")
attack("TIOCSTI on stdin", sti)
# The supervisor (our parent in the process tier) and a process outside the sandbox
# (HOST_PID, the test harness); in the container tier our parent is the sandbox's own
# init, and the supervisor is not in our pid namespace at all.
if os.getppid() != 1:
    attack("signal the supervisor", lambda: os.kill(os.getppid(), signal.SIGTERM))
attack("signal a process outside", lambda: os.kill(int(os.environ["HOST_PID"]), 0))
if os.getppid() != 1:
    attack("signal init", lambda: os.kill(1, 0))  # the host's (process tier)
else:
    # The container's own init (pid 1 of the sandbox's namespace) ignores what its
    # sandbox sends it: it is still there after SIGKILL.
    os.kill(1, signal.SIGKILL)
    time.sleep(0.1)
    control("the sandbox's init outlives SIGKILL from inside", lambda: os.kill(1, 0))
attack("open /dev/tty", lambda: open("/dev/tty", "w"))

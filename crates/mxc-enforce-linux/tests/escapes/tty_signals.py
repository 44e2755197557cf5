# TIOCSTI (typing into the user's terminal), signals to processes outside the sandbox,
# and the controlling terminal.
from _lib import *
import fcntl, termios, signal
control("signal ourselves", lambda: os.kill(os.getpid(), 0))
def sti():
    fcntl.ioctl(0, termios.TIOCSTI, b"x")
attack("TIOCSTI on stdin", sti)
attack("signal the supervisor", lambda: os.kill(os.getppid(), signal.SIGTERM))
attack("signal init", lambda: os.kill(1, 0))
attack("open /dev/tty", lambda: open("/dev/tty", "w"))

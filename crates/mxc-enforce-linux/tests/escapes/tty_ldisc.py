# Terminal ioctls that act beyond the terminal they are made on, on a pseudo-terminal
# of the sandbox's own (/dev/pts/ptmx: read and write are granted on /dev/pts/**):
# TIOCCONS redirects the host's console output to it (reading the kernel's messages);
# TIOCSETD line disciplines N_SLIP and N_GSM make network interfaces or tty devices of
# the host. Each needs a capability in the initial namespaces: with none, refused.
from _lib import *
import fcntl, termios, struct
m = None
def openpty():
    global m, s
    m = os.open("/dev/pts/ptmx", os.O_RDWR | os.O_NOCTTY)
    fcntl.ioctl(m, 0x40045431, struct.pack("i", 0))
    n = struct.unpack("I", fcntl.ioctl(m, 0x80045430, b"\0" * 4))[0]
    s = os.open(f"/dev/pts/{n}", os.O_RDWR | os.O_NOCTTY)
control("a pseudo-terminal of our own", openpty)
TIOCCONS = 0x541D
attack("TIOCCONS: the host's console redirected to our terminal",
       lambda: fcntl.ioctl(s, TIOCCONS))
def ldisc(n):
    fcntl.ioctl(s, termios.TIOCSETD, struct.pack("i", n))
    cur = struct.unpack("i", fcntl.ioctl(s, termios.TIOCGETD, b"\0" * 4))[0]
    fcntl.ioctl(s, termios.TIOCSETD, struct.pack("i", 0))
    if cur != n:
        raise OSError(1, f"line discipline still {cur}")
    return f"line discipline {n} set"
attack("TIOCSETD N_SLIP (a network interface of the host)", lambda: ldisc(1))
attack("TIOCSETD N_GSM0710 (tty devices of the host)", lambda: ldisc(21))
attack("TIOCSTI on our own terminal", lambda: fcntl.ioctl(s, termios.TIOCSTI, b"x"))

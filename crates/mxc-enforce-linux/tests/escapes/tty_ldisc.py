# Terminal ioctls that act beyond the terminal they are made on, on a pseudo-terminal
# of the sandbox's own (/dev/ptmx, granted read and write by escapes.mxc; devpts's own
# /dev/pts/ptmx is mode 000 and opened only with CAP_DAC_OVERRIDE, which the agent lacks):
# TIOCCONS redirects the host's console output to it (reading the kernel's messages);
# TIOCSETD line disciplines N_SLIP and N_GSM make network interfaces or tty devices of
# the host. Each needs a capability in the initial namespaces: with none, refused.
from _lib import *
import fcntl, termios, struct
m = None
def openpty():
    global m, s
    try:
        m = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY)
    except FileNotFoundError:
        # The container's /dev holds only what the policy names as files: its devpts.
        m = os.open("/dev/pts/ptmx", os.O_RDWR | os.O_NOCTTY)
    fcntl.ioctl(m, 0x40045431, struct.pack("i", 0))
    n = struct.unpack("I", fcntl.ioctl(m, 0x80045430, b"\0" * 4))[0]
    s = os.open(f"/dev/pts/{n}", os.O_RDWR | os.O_NOCTTY)
if os.uname().nodename == "mxc":
    # The container tier: its /dev holds no usable ptmx (devpts's own is mode 000), so
    # the sandbox cannot make a pseudo-terminal at all, and there is none to misuse.
    # Should one ever be made, the attacks below run as in the process tier.
    try:
        openpty()
    except OSError as e:
        print(f"held: a pseudo-terminal of our own (none can be made here): {e}")
        sys.exit(0)
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

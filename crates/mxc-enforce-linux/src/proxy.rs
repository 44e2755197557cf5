//! The MXC network proxy: HTTP (`CONNECT` and absolute-form requests) and SOCKS5 on
//! 127.0.0.1, outside the sandbox. Host-name rules can only be decided here: the
//! sandbox has no DNS of its own (its UDP and TCP go through the supervisor's IP rules),
//! so a name reaches the network only when the proxy decides it, resolves it and
//! connects.
//!
//! Each connection is attributed to the sandboxed process that connected it: the
//! supervisor performs every `connect` of the sandbox and records the caller under the
//! socket's local port and inode; its program is the request's `from`. Every other
//! sandboxed process holding the socket is decided too, and all must be allowed. A
//! connection the supervisor did not make is decided with no program (`from` rules
//! match nothing); one held by no sandboxed process is refused.

use crate::supervisor::{descendants, Supervisor};
use mxc_enforce::{Right, Target};
use mxc_eval::{Host, NetRequest, NetRight, Proto};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const MAX_HEADER: usize = 64 * 1024;

/// At most this many connections are served at once (a thread each, or two for a
/// tunnel); one more is closed at once. A connection held open by the sandbox (it need
/// send nothing), or a tunnel to a peer that never closes, keeps its thread as long as
/// it lasts, so without a bound a sandbox made `mxcc` keep any number of threads,
/// outside its `limits` (escapes `proxy_threads_*`).
pub const MAX_CLIENTS: usize = 256;

/// Serves the proxy until the process ends.
pub fn serve(listener: TcpListener, sup: Arc<Supervisor>) {
    let clients = crate::supervisor::Workers::at_most(MAX_CLIENTS);
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let Some(slot) = clients.take() else {
            let _ = conn.shutdown(Shutdown::Both);
            continue;
        };
        let sup = sup.clone();
        // A thread that cannot be made (the host is short of them): the connection is
        // dropped with its slot, never the proxy.
        let _ = std::thread::Builder::new().spawn(move || {
            let _slot = slot;
            let _ = handle(conn, &sup);
        });
    }
}

/// Who a connection is decided for: (pid, program) pairs, every one of which must be
/// allowed (the most restrictive decision wins). A program `None` is no program: rules
/// with `from` match nothing.
type Peers = Vec<(u32, Option<String>)>;

/// Who `conn` is decided for, if it comes from the sandbox: first the process that
/// connected, as the supervisor recorded when it performed the `connect` (no program
/// if the connection was not made through the supervisor, or the record is not for
/// this very socket), then the program of every other sandboxed process holding the
/// socket now. A process holding it proves nothing about who writes to it, so a
/// socket shared with an allowed program gains nothing; and one not held by any
/// sandboxed process is refused (this proxy serves no one else).
fn peer(conn: &TcpStream, sup: &Supervisor) -> Option<Peers> {
    let peer = conn.peer_addr().ok()?;
    let local = conn.local_addr().ok()?;
    // The connection's table: the sandbox's network namespace (container tier) or
    // the host's.
    let net = match sup.container {
        Some(c) => format!("/proc/{}/net", c.init),
        None => "/proc/net".to_string(),
    };
    let inode = socket_inode(&net, peer.port(), local.port())?;
    let needle = format!("socket:[{inode}]");
    let mut holders: Vec<(u32, String)> = Vec::new();
    for pid in descendants(sup.our_pid) {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if std::fs::read_link(fd.path()).is_ok_and(|l| l.as_os_str() == needle.as_str()) {
                let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                holders.push((pid, exe));
                break;
            }
        }
    }
    let connector = sup
        .proxy_clients
        .lock()
        .ok()
        .and_then(|mut m| m.remove(&peer.port()))
        .filter(|c| c.inode == inode);
    let mut out: Peers = match connector {
        Some(c) => vec![(c.pid, Some(c.program))],
        None => vec![(holders.first()?.0, None)],
    };
    for (pid, exe) in holders {
        if !out.iter().any(|(_, p)| p.as_deref() == Some(exe.as_str())) {
            out.push((pid, Some(exe)));
        }
    }
    Some(out)
}

/// The inode of the TCP socket whose local port is `port` and remote port `remote`.
fn socket_inode(net: &str, port: u16, remote: u16) -> Option<u64> {
    for table in ["tcp", "tcp6"] {
        let Ok(t) = std::fs::read_to_string(format!("{net}/{table}")) else {
            continue;
        };
        for line in t.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (Some(l), Some(r), Some(inode)) = (f.get(1), f.get(2), f.get(9)) else {
                continue;
            };
            let port_of = |a: &str| {
                a.rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok())
            };
            if port_of(l) == Some(port) && port_of(r) == Some(remote) {
                return inode.parse().ok();
            }
        }
    }
    None
}

fn handle(conn: TcpStream, sup: &Arc<Supervisor>) -> std::io::Result<()> {
    let Some(peers) = peer(&conn, sup) else {
        // Not from the sandbox: this proxy serves no one else.
        return conn.shutdown(Shutdown::Both);
    };
    conn.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut first = [0u8; 1];
    conn.peek(&mut first)?;
    if first[0] == 5 {
        socks5(conn, sup, &peers)
    } else {
        http(conn, sup, &peers)
    }
}

/// A host as a request names it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Dest {
    Ip(IpAddr),
    Name(String),
}

/// Reads a request's host (SPEC §4.2): `[v6]`, an IPv4 address in any numeric form the
/// C resolver accepts (`2130706433`, `127.1`, `0x7f000001`, `0177.0.0.1`, `0`), or a
/// DNS name of letters, digits, `-`, `_` and `.` whose last label is not a number.
/// Anything else (spaces, `%`, a bare IPv6 address, ...) is no host at all.
fn parse_host(h: &str) -> Option<Dest> {
    if let Some(inner) = h.strip_prefix('[') {
        let a: std::net::Ipv6Addr = inner.strip_suffix(']')?.parse().ok()?;
        return Some(Dest::Ip(IpAddr::V6(a)));
    }
    if let Some(a) = mxc_eval::parse_ipv4_any(h) {
        return Some(Dest::Ip(IpAddr::V4(a.into())));
    }
    if let Ok(a) = h.parse::<std::net::Ipv6Addr>() {
        // SOCKS5 names it as a domain; still an address.
        return Some(Dest::Ip(IpAddr::V6(a)));
    }
    let name = h.strip_suffix('.').unwrap_or(h);
    let last = name.rsplit('.').next().unwrap_or("");
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && name.split('.').all(|l| !l.is_empty() && l.len() <= 63)
        // `1.2.3.4.5`, `99999999999`, `08`: numbers, never names (RFC 3696).
        && !last.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| Dest::Name(h.to_string()))
}

/// Decided as loopback or link-local, or unspecified: a name never leads there unless
/// an IP rule or `localhost` allows the address (SPEC §4.2).
fn local_only(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(a) => a.is_loopback() || a.is_link_local() || a.is_unspecified(),
        IpAddr::V6(a) => {
            a.is_loopback() || a.is_unspecified() || (a.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// The loopback address of `ip`'s family: how an address that also reaches the machine
/// itself ([`crate::local::reaches_local`]) is decided, besides as itself.
fn loopback_of(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
        IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
    }
}

/// IPv4-mapped IPv6 as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(a) => a.to_ipv4_mapped().map_or(IpAddr::V6(a), IpAddr::V4),
        v4 => v4,
    }
}

fn host_of(ip: IpAddr) -> Host<'static> {
    match ip {
        IpAddr::V4(a) => Host::V4(a.octets()),
        IpAddr::V6(a) => Host::V6(a.octets()),
    }
}

/// Why a request goes nowhere.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// Not a host (400).
    BadHost,
    /// Denied by policy (403).
    Denied,
    /// No address the name resolves to may be reached, or none resolved (502).
    NoAddress,
}

/// Resolves a name to the addresses to try (the system's resolver in `mxcc run`).
type Resolver<'a> = &'a dyn Fn(&str, u16) -> std::io::Result<Vec<SocketAddr>>;

/// Decides `host:port` for `connect` (TCP) from `program`, and the addresses to dial:
/// an IP is decided as an IP (and dialled as it is); a name is decided as a name,
/// then resolved once, here, and only addresses that no `deny` rule matches as IPs,
/// and that are not local-only unless an IP rule or `localhost` allows them, are
/// dialled (no DNS rebinding between the check and the connection, no way to a local
/// service through a name). `conclude` turns a decision into allowed or not (asking,
/// auditing).
fn route(
    engine: &mxc_eval::Engine,
    host: &str,
    port: u16,
    program: Option<&str>,
    conclude: &dyn Fn(&Target, mxc_eval::Decision) -> bool,
    resolve: Resolver<'_>,
) -> Result<Vec<SocketAddr>, Refusal> {
    let ask = |h: Host<'_>| {
        engine.net(&NetRequest {
            right: NetRight::Connect,
            proto: Proto::Tcp,
            host: h,
            port,
            program: program.map(str::as_bytes),
        })
    };
    match parse_host(host).ok_or(Refusal::BadHost)? {
        Dest::Ip(ip) => {
            let target = Target::Socket {
                proto: Proto::Tcp,
                host: canonical(ip).to_string(),
                port,
            };
            if !conclude(&target, ask(host_of(ip))) {
                return Err(Refusal::Denied);
            }
            if crate::local::reaches_local(canonical(ip)) {
                // Multicast, broadcast, the machine's own address: the machine itself.
                let lo = loopback_of(ip);
                let target = Target::Socket {
                    proto: Proto::Tcp,
                    host: lo.to_string(),
                    port,
                };
                if !conclude(&target, ask(host_of(lo))) {
                    return Err(Refusal::Denied);
                }
            }
            Ok(vec![SocketAddr::new(ip, port)])
        }
        Dest::Name(name) => {
            let target = Target::Socket {
                proto: Proto::Tcp,
                host: name.clone(),
                port,
            };
            if !conclude(&target, ask(Host::Name(&name))) {
                return Err(Refusal::Denied);
            }
            let addrs: Vec<SocketAddr> = resolve(&name, port)
                .map_err(|_| Refusal::NoAddress)?
                .into_iter()
                .filter(|a| {
                    let d = ask(host_of(a.ip()));
                    let denied = d.effect == mxc_eval::Effect::Deny && d.rule.is_some();
                    // Allowed as an address by a rule (an IP or CIDR rule, `localhost`,
                    // or `*`, which allows connecting to it directly anyway).
                    let allowed_by_ip = d.effect == mxc_eval::Effect::Allow && d.rule.is_some();
                    // One of the machine's own addresses (or multicast, broadcast)
                    // reaches what loopback does: only where loopback is allowed.
                    let own_ok = || {
                        let d = ask(host_of(loopback_of(a.ip())));
                        d.effect == mxc_eval::Effect::Allow && d.rule.is_some()
                    };
                    !denied
                        && (!local_only(a.ip()) || allowed_by_ip)
                        && (!crate::local::reaches_local(canonical(a.ip())) || own_ok())
                })
                .collect();
            if addrs.is_empty() {
                return Err(Refusal::NoAddress);
            }
            Ok(addrs)
        }
    }
}

/// The system's resolver.
fn system_resolve(name: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    Ok((name, port).to_socket_addrs()?.collect())
}

/// [`route`] for a connection from the sandbox: decided for every one of `peers`,
/// allowed only when each is (the first denial is the one recorded, naming its
/// program); the name is resolved once, and only addresses every peer may reach are
/// dialled.
fn decide(
    sup: &Supervisor,
    host: &str,
    port: u16,
    peers: &[(u32, Option<String>)],
) -> Result<(Vec<SocketAddr>, Vec<Target>), Refusal> {
    // The targets decided (for `--learn`: kept only if the connection is made).
    let decided: std::cell::RefCell<Vec<Target>> = Default::default();
    let resolved: std::cell::RefCell<Option<Vec<SocketAddr>>> = Default::default();
    let once = |name: &str, port: u16| -> std::io::Result<Vec<SocketAddr>> {
        if let Some(a) = resolved.borrow().as_ref() {
            return Ok(a.clone());
        }
        let a = system_resolve(name, port)?;
        *resolved.borrow_mut() = Some(a.clone());
        Ok(a)
    };
    let mut out: Option<Vec<SocketAddr>> = None;
    for (pid, program) in peers {
        let who = || (*pid, program.clone().unwrap_or_default());
        let conclude = |target: &Target, d| {
            decided.borrow_mut().push(target.clone());
            sup.conclude(Right::Connect, target, d, &who, None)
        };
        let addrs = route(
            &sup.engine,
            host,
            port,
            program.as_deref(),
            &conclude,
            &once,
        )?;
        out = Some(match out {
            None => addrs,
            Some(prev) => prev.into_iter().filter(|a| addrs.contains(a)).collect(),
        });
    }
    match out {
        Some(a) if a.is_empty() => Err(Refusal::NoAddress),
        Some(a) => Ok((a, decided.into_inner())),
        None => Err(Refusal::Denied),
    }
}

fn dial(addrs: &[SocketAddr]) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::from(std::io::ErrorKind::NotFound);
    for a in addrs {
        match TcpStream::connect_timeout(a, CONNECT_TIMEOUT) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn splice(a: TcpStream, b: TcpStream) -> std::io::Result<()> {
    a.set_read_timeout(None)?;
    let (mut a2, mut b2) = (a.try_clone()?, b.try_clone()?);
    let t = std::thread::spawn(move || {
        let _ = std::io::copy(&mut a2, &mut b2);
        let _ = b2.shutdown(Shutdown::Write);
    });
    let (mut a, mut b) = (a, b);
    let _ = std::io::copy(&mut b, &mut a);
    let _ = a.shutdown(Shutdown::Write);
    let _ = t.join();
    Ok(())
}

fn http(
    conn: TcpStream,
    sup: &Arc<Supervisor>,
    peers: &[(u32, Option<String>)],
) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut head = Vec::new();
    // Read the request head (up to the blank line).
    loop {
        let mut line = Vec::new();
        let n = reader
            .by_ref()
            .take(MAX_HEADER as u64)
            .read_until(b'\n', &mut line)?;
        if n == 0 || head.len() + n > MAX_HEADER {
            return reply(&conn, "400 Bad Request", "bad request\n");
        }
        head.extend_from_slice(&line);
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let request_line = text.lines().next().unwrap_or("");
    let mut parts = request_line.split_whitespace();
    let (method, target, version) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or("HTTP/1.1"),
    );
    if method.eq_ignore_ascii_case("CONNECT") {
        let Some((host, port)) = split_host_port(target, 443) else {
            return reply(&conn, "400 Bad Request", "bad CONNECT target\n");
        };
        let Some(upstream) = upstream_for(&conn, sup, &host, port, peers)? else {
            return Ok(());
        };
        let mut c = conn;
        c.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
        // Bytes the client sent after the head (rare before the 200) go first.
        let buffered = reader.buffer().to_vec();
        let mut up = upstream;
        up.write_all(&buffered)?;
        return splice(c, up);
    }
    // Absolute-form: `GET http://host[:port]/path HTTP/1.1`.
    let Some(rest) = target.strip_prefix("http://") else {
        return reply(
            &conn,
            "400 Bad Request",
            "mxc proxy: use CONNECT or an http:// URL\n",
        );
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let Some((host, port)) = split_host_port(authority, 80) else {
        return reply(&conn, "400 Bad Request", "bad URL\n");
    };
    let Some(mut upstream) = upstream_for(&conn, sup, &host, port, peers)? else {
        return Ok(());
    };
    let mut out = format!("{method} {path} {version}\r\n");
    for l in text.lines().skip(1) {
        if l.is_empty() || l.to_ascii_lowercase().starts_with("proxy-") {
            continue;
        }
        out.push_str(l);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    upstream.write_all(out.as_bytes())?;
    upstream.write_all(reader.buffer())?;
    splice(conn, upstream)
}

/// Decides `host:port` for the client's program and connects to it. On a denial or a
/// failed connection the client gets its answer (403, 502) and `None`.
fn upstream_for(
    conn: &TcpStream,
    sup: &Supervisor,
    host: &str,
    port: u16,
    peers: &[(u32, Option<String>)],
) -> std::io::Result<Option<TcpStream>> {
    let (addrs, targets) = match decide(sup, host, port, peers) {
        Ok(a) => a,
        Err(Refusal::BadHost) => {
            return reply(conn, "400 Bad Request", "mxc: not a host\n").map(|()| None)
        }
        Err(Refusal::Denied) => {
            return reply(
                conn,
                "403 Forbidden",
                "mxc: this connection is denied by policy\n",
            )
            .map(|()| None)
        }
        Err(Refusal::NoAddress) => {
            return reply(
                conn,
                "502 Bad Gateway",
                "mxc: no address this name may reach\n",
            )
            .map(|()| None)
        }
    };
    let dialled = dial(&addrs);
    sup.connected(&targets, dialled.is_ok());
    match dialled {
        Ok(s) => Ok(Some(s)),
        Err(_) => reply(conn, "502 Bad Gateway", "mxc: cannot connect\n").map(|()| None),
    }
}

fn reply(mut conn: &TcpStream, status: &str, body: &str) -> std::io::Result<()> {
    let msg = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(msg.as_bytes())?;
    conn.shutdown(Shutdown::Both)
}

/// `host:port`, `[v6]:port` or `host` (with `default` port).
fn split_host_port(s: &str, default: u16) -> Option<(String, u16)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => default,
            None => return None,
        };
        return Some((format!("[{h}]"), port));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Some((h.to_string(), p.parse().ok()?)),
        Some(_) => None,
        None if !s.is_empty() => Some((s.to_string(), default)),
        None => None,
    }
}

fn socks5(
    mut conn: TcpStream,
    sup: &Arc<Supervisor>,
    peers: &[(u32, Option<String>)],
) -> std::io::Result<()> {
    let mut hdr = [0u8; 2];
    conn.read_exact(&mut hdr)?;
    let mut methods = vec![0u8; usize::from(hdr[1])];
    conn.read_exact(&mut methods)?;
    if !methods.contains(&0) {
        conn.write_all(&[5, 0xff])?;
        return Ok(());
    }
    conn.write_all(&[5, 0])?;
    let mut req = [0u8; 4];
    conn.read_exact(&mut req)?;
    let host = match req[3] {
        1 => {
            let mut a = [0u8; 4];
            conn.read_exact(&mut a)?;
            std::net::Ipv4Addr::from(a).to_string()
        }
        3 => {
            let mut n = [0u8; 1];
            conn.read_exact(&mut n)?;
            let mut name = vec![0u8; usize::from(n[0])];
            conn.read_exact(&mut name)?;
            String::from_utf8_lossy(&name).into_owned()
        }
        4 => {
            let mut a = [0u8; 16];
            conn.read_exact(&mut a)?;
            format!("[{}]", std::net::Ipv6Addr::from(a))
        }
        _ => {
            conn.write_all(&[5, 8, 0, 1, 0, 0, 0, 0, 0, 0])?;
            return Ok(());
        }
    };
    let mut p = [0u8; 2];
    conn.read_exact(&mut p)?;
    let port = u16::from_be_bytes(p);
    if req[1] != 1 {
        // Only CONNECT: BIND and UDP ASSOCIATE would open ways the policy cannot see.
        conn.write_all(&[5, 7, 0, 1, 0, 0, 0, 0, 0, 0])?;
        return Ok(());
    }
    let (addrs, targets) = match decide(sup, &host, port, peers) {
        Ok(a) => a,
        Err(Refusal::Denied) => {
            conn.write_all(&[5, 2, 0, 1, 0, 0, 0, 0, 0, 0])?;
            return Ok(());
        }
        Err(Refusal::BadHost | Refusal::NoAddress) => {
            conn.write_all(&[5, 4, 0, 1, 0, 0, 0, 0, 0, 0])?;
            return Ok(());
        }
    };
    let dialled = dial(&addrs);
    sup.connected(&targets, dialled.is_ok());
    let upstream = match dialled {
        Ok(s) => s,
        Err(_) => {
            conn.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0])?;
            return Ok(());
        }
    };
    conn.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0])?;
    splice(conn, upstream)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(src: &str) -> mxc_eval::Engine {
        mxc_lang::compile::engine_of_source(src, "a", &Default::default()).unwrap()
    }

    /// Routes with a resolver that maps every name to `to`.
    fn go(e: &mxc_eval::Engine, host: &str, to: &[&str]) -> Result<Vec<SocketAddr>, Refusal> {
        let to: Vec<IpAddr> = to.iter().map(|a| a.parse().unwrap()).collect();
        let resolve = move |_: &str, port: u16| -> std::io::Result<Vec<SocketAddr>> {
            Ok(to.iter().map(|&ip| SocketAddr::new(ip, port)).collect())
        };
        let conclude = |_: &Target, d: mxc_eval::Decision| d.effect == mxc_eval::Effect::Allow;
        route(e, host, 80, Some("/usr/bin/python3"), &conclude, &resolve)
    }

    #[test]
    fn numeric_hosts_are_ips_never_names() {
        // `*` as a name rule must not let numbers through as names: they are IPs, and
        // loopback is decided as loopback.
        let e = engine(
            r#"policy p { net { allow connect "*:80"  deny connect "127.0.0.0/8" } }
            agent a { use p }"#,
        );
        for h in [
            "2130706433",
            "127.1",
            "0x7f000001",
            "0177.0.0.1",
            "127.0.0.1",
            "0",
            "0.0.0.0",
            "[::ffff:127.0.0.1]",
            "[::ffff:0.0.0.0]",
            "::ffff:127.0.0.1",
        ] {
            assert_eq!(go(&e, h, &["10.0.0.1"]), Err(Refusal::Denied), "{h}");
        }
        assert_eq!(
            go(&e, "0x7f000001", &[]),
            Err(Refusal::Denied),
            "resolved as an IP, never through the resolver"
        );
        assert_eq!(
            go(&e, "10.1", &[]).unwrap(),
            vec!["10.0.0.1:80".parse().unwrap()]
        );
        for bad in [
            "127.0.0.1 x",
            "a b",
            "x%00",
            "1.2.3.4.5",
            "99999999999",
            "",
            "a..b",
        ] {
            assert_eq!(go(&e, bad, &["10.0.0.1"]), Err(Refusal::BadHost), "{bad:?}");
        }
    }

    #[test]
    fn names_never_lead_to_local_addresses() {
        let e = engine(
            r#"policy p { net { allow connect "*.example:80"  deny connect "10.9.0.0/16" } }
            agent a { use p }"#,
        );
        // DNS rebinding / SSRF: a name resolving to loopback, link-local, unspecified.
        for to in [
            "127.0.0.1",
            "127.8.9.10",
            "::1",
            "169.254.169.254",
            "fe80::1",
            "0.0.0.0",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "10.9.1.1",
        ] {
            assert_eq!(
                go(&e, "evil.example", &[to]),
                Err(Refusal::NoAddress),
                "{to}"
            );
        }
        // Only the allowed addresses of a mixed answer are dialled.
        assert_eq!(
            go(&e, "evil.example", &["127.0.0.1", "93.184.216.34"]).unwrap(),
            vec!["93.184.216.34:80".parse().unwrap()]
        );
        // `localhost` or an IP rule allows the local address by name.
        let e = engine(
            r#"policy p { net { allow connect "*.internal:80", "localhost:80", "169.254.169.254:80" } }
            agent a { use p }"#,
        );
        assert!(go(&e, "svc.internal", &["127.0.0.1"]).is_ok());
        assert!(go(&e, "metadata.internal", &["169.254.169.254"]).is_ok());
        assert_eq!(
            go(&e, "x.internal", &["169.254.1.1"]),
            Err(Refusal::NoAddress)
        );
        // A deny on the address wins over the name's allow.
        let e = engine(
            r#"policy p { net { allow connect "*:80"  deny connect "127.0.0.0/8" } }
            agent a { use p }"#,
        );
        assert_eq!(go(&e, "localhost", &["127.0.0.1"]), Err(Refusal::NoAddress));
    }

    #[test]
    fn host_ports() {
        assert_eq!(split_host_port("a.com:443", 1), Some(("a.com".into(), 443)));
        assert_eq!(split_host_port("a.com", 80), Some(("a.com".into(), 80)));
        assert_eq!(
            split_host_port("[::1]:8080", 1),
            Some(("[::1]".into(), 8080))
        );
        assert_eq!(split_host_port("[::1]", 80), Some(("[::1]".into(), 80)));
        assert_eq!(split_host_port("::1:80", 80), None);
        assert_eq!(split_host_port("a.com:x", 80), None);
    }
}

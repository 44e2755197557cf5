//! The MXC network proxy: HTTP (`CONNECT` and absolute-form requests) and SOCKS5 on
//! 127.0.0.1, outside the sandbox. Host-name rules can only be decided here: the
//! sandbox has no DNS of its own (its UDP and TCP go through the supervisor's IP rules),
//! so a name reaches the network only when the proxy decides it, resolves it and
//! connects.
//!
//! Each connection is attributed to the sandboxed process that opened it (its socket's
//! inode, found in that process's descriptors), whose program is the request's `from`.
//! A connection from any process outside the sandbox is refused.

use crate::supervisor::{descendants, Class, Supervisor};
use mxc_eval::{Host, NetRequest, NetRight, Proto};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Shutdown, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const MAX_HEADER: usize = 64 * 1024;

/// Serves the proxy until the process ends.
pub fn serve(listener: TcpListener, sup: Arc<Supervisor>) {
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let sup = sup.clone();
        std::thread::spawn(move || {
            let _ = handle(conn, &sup);
        });
    }
}

/// Who opened `conn`: (pid, program), if it is a sandboxed process.
fn peer(conn: &TcpStream, sup: &Supervisor) -> Option<(u32, String)> {
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
    for pid in descendants(sup.our_pid) {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if std::fs::read_link(fd.path()).is_ok_and(|l| l.as_os_str() == needle.as_str()) {
                let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                return Some((pid, exe));
            }
        }
    }
    None
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
    let Some((pid, program)) = peer(&conn, sup) else {
        // Not from the sandbox: this proxy serves no one else.
        return conn.shutdown(Shutdown::Both);
    };
    conn.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut first = [0u8; 1];
    conn.peek(&mut first)?;
    if first[0] == 5 {
        socks5(conn, sup, pid, &program)
    } else {
        http(conn, sup, pid, &program)
    }
}

/// Decides `host:port` for `connect` (TCP), as a name or an IP.
fn decide(sup: &Supervisor, host: &str, port: u16, pid: u32, program: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    let ip: Option<IpAddr> = h.parse().ok();
    let ip = ip.map(|ip| match ip {
        IpAddr::V6(a) => a.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(a)),
        v4 => v4,
    });
    let host_req = match ip {
        Some(IpAddr::V4(a)) => Host::V4(a.octets()),
        Some(IpAddr::V6(a)) => Host::V6(a.octets()),
        None => Host::Name(h),
    };
    let d = sup.engine.net(&NetRequest {
        right: NetRight::Connect,
        proto: Proto::Tcp,
        host: host_req,
        port,
        program: Some(program.as_bytes()),
    });
    let target = match ip {
        Some(IpAddr::V6(a)) => format!("[{a}]:{port}"),
        _ => format!("{h}:{port}"),
    };
    let who = || (pid, program.to_string());
    sup.conclude(
        "connect",
        &target,
        target.as_bytes(),
        d,
        Class::Network,
        &who,
    )
}

fn dial(host: &str, port: u16) -> std::io::Result<TcpStream> {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    let mut last = std::io::Error::from(std::io::ErrorKind::NotFound);
    for a in (h, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&a, CONNECT_TIMEOUT) {
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

fn http(conn: TcpStream, sup: &Arc<Supervisor>, pid: u32, program: &str) -> std::io::Result<()> {
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
        let Some(upstream) = upstream_for(&conn, sup, &host, port, pid, program)? else {
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
    let Some(mut upstream) = upstream_for(&conn, sup, &host, port, pid, program)? else {
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
    pid: u32,
    program: &str,
) -> std::io::Result<Option<TcpStream>> {
    if !decide(sup, host, port, pid, program) {
        reply(
            conn,
            "403 Forbidden",
            "mxc: this connection is denied by policy\n",
        )?;
        return Ok(None);
    }
    match dial(host, port) {
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
    pid: u32,
    program: &str,
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
    if !decide(sup, &host, port, pid, program) {
        conn.write_all(&[5, 2, 0, 1, 0, 0, 0, 0, 0, 0])?;
        return Ok(());
    }
    let upstream = match dial(&host, port) {
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
    use super::split_host_port;

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

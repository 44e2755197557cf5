//! Requests as people write them (`"read /etc/passwd"`, `"connect api.github.com:443
//! from /usr/bin/git"`, `"launch /usr/bin/git status --short"`), parsed into owned
//! values that both the engine and the reference interpreter answer.

use crate::ast::SectionKind;
use crate::pattern::NetProto;
use mxc_eval::{FsRight, NetRight};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HostReq {
    Name(String),
    V4([u8; 4]),
    V6([u8; 16]),
}

impl HostReq {
    /// The host a request is decided as (SPEC §4.2): an IPv4-mapped IPv6 address is
    /// its IPv4 address; in a `connect` the unspecified addresses reach the local
    /// machine and decide as loopback.
    pub fn canonical(&self, right: NetRight) -> HostReq {
        let h = match self {
            HostReq::V6(a) if a[..10] == [0; 10] && a[10] == 0xff && a[11] == 0xff => {
                HostReq::V4([a[12], a[13], a[14], a[15]])
            }
            h => h.clone(),
        };
        if right != NetRight::Connect {
            return h;
        }
        match h {
            HostReq::V4([0, 0, 0, 0]) => HostReq::V4([127, 0, 0, 1]),
            HostReq::V6(a) if a == [0; 16] => {
                let mut l = [0; 16];
                l[15] = 1;
                HostReq::V6(l)
            }
            h => h,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Request {
    Fs {
        right: FsRight,
        path: String,
    },
    Net {
        right: NetRight,
        proto: NetProto,
        host: HostReq,
        /// 0 when the request names none.
        port: u16,
        program: Option<String>,
    },
    Launch {
        program: String,
        args: Vec<String>,
    },
}

impl Request {
    pub fn section(&self) -> SectionKind {
        match self {
            Request::Fs { .. } => SectionKind::Fs,
            Request::Net { .. } => SectionKind::Net,
            Request::Launch { .. } => SectionKind::App,
        }
    }
}

/// Normalises a request path lexically (SPEC §10); never touches the disk.
pub fn normalize_request_path(p: &str, windows: bool) -> Result<String, String> {
    let p2 = if windows {
        p.replace('\\', "/")
    } else {
        p.to_string()
    };
    crate::bind::normalize_value(&p2).ok_or_else(|| format!("`{p}` is not an absolute path"))
}

fn fs_right(w: &str) -> Option<FsRight> {
    FsRight::ALL.into_iter().find(|r| r.as_str() == w)
}

/// Parses a host and port as a request names them: `name[:port]`, `a.b.c.d[:port]`,
/// `[v6][:port]`, with an optional `tcp://` or `udp://`.
pub fn parse_net_target(s: &str) -> Result<(NetProto, HostReq, u16), String> {
    let (proto, rest) = if let Some(r) = s.strip_prefix("udp://") {
        (NetProto::Udp, r)
    } else if let Some(r) = s.strip_prefix("tcp://") {
        (NetProto::Tcp, r)
    } else {
        (NetProto::Tcp, s)
    };
    let (host, port) = if let Some(r) = rest.strip_prefix('[') {
        let end = r.find(']').ok_or("unclosed `[`")?;
        let after = &r[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(format!("unexpected `{after}` after the address")),
        };
        (format!("[{}]", &r[..end]), port)
    } else {
        match rest.split_once(':') {
            // One `:` at most outside brackets: `::1:443` and `x.com:80:443` are not
            // a host and a port.
            Some((h, p)) if p.contains(':') => {
                return Err(format!(
                    "`{h}:{p}` is not HOST:PORT (an IPv6 address goes in brackets: `[::1]:443`)"
                ))
            }
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (rest.to_string(), None),
        }
    };
    let port = match port {
        None => 0,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(format!("`{p}` is not a port (1..65535)")),
        },
    };
    let host = if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let ip: std::net::Ipv6Addr = inner
            .parse()
            .map_err(|_| format!("`{inner}` is not an IPv6 address"))?;
        HostReq::V6(ip.octets())
    } else if let Some(ip) = mxc_eval::parse_ipv4_any(&host) {
        HostReq::V4(ip)
    } else {
        if host.is_empty() {
            return Err("empty host".into());
        }
        if host.contains(|c: char| c.is_whitespace() || c == '\0' || c == '/') {
            return Err(format!("`{host}` is not a host name"));
        }
        HostReq::Name(host)
    };
    Ok((proto, host, port))
}

/// The text after the first word of a request and the whitespace that follows it.
fn fs_target(s: &str) -> &str {
    let s = s.trim_start();
    let after = s.find(char::is_whitespace).map_or("", |i| &s[i..]);
    after.trim_start()
}

/// Parses `"RIGHT TARGET"` (SPEC §10).
pub fn parse_request(s: &str, windows: bool) -> Result<Request, String> {
    let mut words = s.split_whitespace();
    let right = words.next().ok_or("empty request")?;
    let rest: Vec<&str> = words.collect();
    if let Some(bit) = fs_right(right) {
        // For fs rights the target is the rest of the argument, spaces included
        // (SPEC §10): `read /odd dir/x` names the path `/odd dir/x`.
        let path = fs_target(s);
        if path.is_empty() {
            return Err(format!("`{right}` takes one path: `{right} /some/path`"));
        }
        return Ok(Request::Fs {
            right: bit,
            path: normalize_request_path(path, windows)?,
        });
    }
    match right {
        "connect" | "bind" => {
            let (target, program) = match rest.as_slice() {
                [t] => (*t, None),
                [t, "from", p] => (*t, Some(normalize_request_path(p, windows)?)),
                _ => {
                    return Err(format!(
                        "`{right}` takes `HOST:PORT` and optionally `from /path/to/program`"
                    ))
                }
            };
            let (proto, host, port) = parse_net_target(target)?;
            Ok(Request::Net {
                right: if right == "connect" {
                    NetRight::Connect
                } else {
                    NetRight::Bind
                },
                proto,
                host,
                port,
                program,
            })
        }
        "launch" => {
            let (prog, args) = rest
                .split_first()
                .ok_or("`launch` takes a program path and its arguments")?;
            Ok(Request::Launch {
                program: normalize_request_path(prog, windows)?,
                args: args.iter().map(|a| a.to_string()).collect(),
            })
        }
        other => Err(format!(
            "unknown right `{other}` (expected read, write, create, delete, connect, bind or launch)"
        )),
    }
}

impl std::fmt::Display for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Request::Fs { right, path } => write!(f, "{} {path}", right.as_str()),
            Request::Net {
                right,
                proto,
                host,
                port,
                program,
            } => {
                let r = right.as_str();
                write!(f, "{r} ")?;
                if *proto == NetProto::Udp {
                    f.write_str("udp://")?;
                }
                match host {
                    HostReq::Name(n) => f.write_str(n)?,
                    HostReq::V4(a) => write!(f, "{}", std::net::Ipv4Addr::from(*a))?,
                    HostReq::V6(a) => write!(f, "[{}]", std::net::Ipv6Addr::from(*a))?,
                }
                if *port != 0 {
                    write!(f, ":{port}")?;
                }
                if let Some(p) = program {
                    write!(f, " from {p}")?;
                }
                Ok(())
            }
            Request::Launch { program, args } => {
                write!(f, "launch {program}")?;
                for a in args {
                    write!(f, " {a}")?;
                }
                Ok(())
            }
        }
    }
}

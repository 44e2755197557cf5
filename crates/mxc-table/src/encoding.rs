//! The byte strings the net and app automata read: the one definition of their
//! encoding, shared by the compiler (which builds automata over it) and the engine
//! (which feeds requests piece by piece without building the string).
//!
//! A network request ([`NetRequest`]) is:
//!
//! ```text
//! right         NetRight as u8 (1 connect, 2 bind)
//! proto         Proto as u8 (1 tcp, 2 udp)
//! host          HOST_NAME, the lowercased name without trailing dot *reversed*
//!               (`moc.elpmaxe.ipa`, so that `*.example.com` is a prefix), NAME_END
//!             | HOST_V4 and the 4 address bytes
//!             | HOST_V6 and the 16 address bytes
//! port          2 bytes big-endian (0 when the request names none)
//! program       NO_PROGRAM | PROGRAM and the program's path bytes
//! ```
//!
//! A launch is the program's path bytes, [`PROGRAM_END`], then the arguments joined by
//! [`ARG_SEP`].
//!
//! [`encode_net`] and [`encode_launch`] build these strings (for tests, tools and
//! analyses: the engine never allocates them).

use crate::table::{Host, NetRequest};

/// Host tag: a DNS name follows, ended by [`NAME_END`].
pub const HOST_NAME: u8 = 0x01;
/// Host tag: four IPv4 address bytes follow.
pub const HOST_V4: u8 = 0x04;
/// Host tag: sixteen IPv6 address bytes follow.
pub const HOST_V6: u8 = 0x06;
/// Ends a host name (no name holds a NUL: the engine denies one that does).
pub const NAME_END: u8 = 0x00;
/// Program tag: the request names no program.
pub const NO_PROGRAM: u8 = 0x00;
/// Program tag: the program's path bytes follow, to the end.
pub const PROGRAM: u8 = 0x01;
/// Ends a launched program's path (no path holds a NUL).
pub const PROGRAM_END: u8 = 0x00;
/// Separates a launch's arguments.
pub const ARG_SEP: u8 = b' ';

/// The host bytes of a request, as the automaton reads them (after the right and
/// protocol): the host tag, then the name reversed and lowercased (one trailing `.`
/// dropped) and [`NAME_END`], or the address. The host must already be
/// [`Host::canonical`].
pub fn host_bytes(host: Host<'_>, out: &mut Vec<u8>) {
    match host {
        Host::Name(name) => {
            let name = name.as_bytes();
            let name = name.strip_suffix(b".").unwrap_or(name);
            out.push(HOST_NAME);
            out.extend(name.iter().rev().map(u8::to_ascii_lowercase));
            out.push(NAME_END);
        }
        Host::V4(ip) => {
            out.push(HOST_V4);
            out.extend_from_slice(&ip);
        }
        Host::V6(ip) => {
            out.push(HOST_V6);
            out.extend_from_slice(&ip);
        }
    }
}

/// The whole string a net request is decided on (the host made canonical first).
pub fn encode_net(req: &NetRequest<'_>) -> Vec<u8> {
    let mut out = vec![req.right as u8, req.proto as u8];
    host_bytes(req.host.canonical(req.right), &mut out);
    out.extend_from_slice(&req.port.to_be_bytes());
    match req.program {
        None => out.push(NO_PROGRAM),
        Some(p) => {
            out.push(PROGRAM);
            out.extend_from_slice(p);
        }
    }
    out
}

/// The whole string a launch is decided on.
pub fn encode_launch<A: AsRef<[u8]>>(program: &[u8], args: &[A]) -> Vec<u8> {
    let mut out = program.to_vec();
    out.push(PROGRAM_END);
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(ARG_SEP);
        }
        out.extend_from_slice(a.as_ref());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{NetRight, Proto};

    #[test]
    fn encodings() {
        let req = NetRequest {
            right: NetRight::Connect,
            proto: Proto::Tcp,
            host: Host::Name("Api.Example.com."),
            port: 443,
            program: Some(b"/usr/bin/git"),
        };
        assert_eq!(
            encode_net(&req),
            b"\x01\x01\x01moc.elpmaxe.ipa\x00\x01\xbb\x01/usr/bin/git"
        );
        let v4 = NetRequest {
            right: NetRight::Bind,
            proto: Proto::Udp,
            host: Host::V6(
                std::net::Ipv4Addr::new(10, 0, 0, 1)
                    .to_ipv6_mapped()
                    .octets(),
            ),
            port: 0,
            program: None,
        };
        assert_eq!(encode_net(&v4), b"\x02\x02\x04\x0a\x00\x00\x01\x00\x00\x00");
        assert_eq!(encode_launch(b"/bin/ls", &["-l", "x"]), b"/bin/ls\x00-l x");
    }
}

//! Addresses that reach the local machine though they are not loopback: multicast and
//! broadcast (the kernel loops them back to the machine's own sockets) and the
//! machine's own interface addresses and their broadcast addresses (every service bound
//! to the unspecified address answers there). A `connect` or datagram to one is also
//! decided as loopback, as the unspecified address is (SPEC §4.2: `localhost` is the
//! loopback of the machine the agent runs on).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `ip` (not loopback) also reaches the machine itself, per the host's network
/// namespace as the caller sees it. When the tables cannot be read: yes (fail closed).
pub(crate) fn reaches_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) if a.is_loopback() => false,
        IpAddr::V6(a) if a.is_loopback() => false,
        IpAddr::V4(a) if a.is_multicast() || a.is_broadcast() => true,
        IpAddr::V6(a) if a.is_multicast() => true,
        IpAddr::V4(a) => {
            std::fs::read_to_string("/proc/net/fib_trie").map_or(true, |t| own_v4(&t).contains(&a))
        }
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => reaches_local(IpAddr::V4(v4)),
            // No IPv6 in this namespace at all: nothing of the machine's answers there.
            None => match std::fs::read_to_string("/proc/net/if_inet6") {
                Ok(t) => own_v6(&t).contains(&a),
                Err(e) => e.kind() != std::io::ErrorKind::NotFound,
            },
        },
    }
}

/// The machine's own IPv4 addresses and broadcast addresses, from `/proc/net/fib_trie`
/// (each `|-- A.B.C.D` leaf followed by `/32 host LOCAL` or `/32 link BROADCAST`).
fn own_v4(trie: &str) -> Vec<Ipv4Addr> {
    let mut out = Vec::new();
    let mut leaf: Option<Ipv4Addr> = None;
    for line in trie.lines() {
        let t = line.trim_start();
        if let Some(a) = t.strip_prefix("|-- ") {
            leaf = a.trim().parse().ok();
        } else if t.starts_with("/32 ") && (t.ends_with(" LOCAL") || t.ends_with(" BROADCAST")) {
            if let Some(a) = leaf {
                if !out.contains(&a) {
                    out.push(a);
                }
            }
        }
    }
    out
}

/// The machine's own IPv6 addresses, from `/proc/net/if_inet6` (32 hex digits first).
fn own_v6(table: &str) -> Vec<Ipv6Addr> {
    table
        .lines()
        .filter_map(|l| {
            let h = l.split_whitespace().next()?;
            u128::from_str_radix(h, 16).ok().map(Ipv6Addr::from)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_addresses_from_the_kernel_tables() {
        let trie = "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 0.0.0.0\n        /0 universe UNICAST\n\
                    \x20          |-- 192.0.2.2\n              /32 host LOCAL\n\
                    \x20       |-- 192.0.2.255\n           /32 link BROADCAST\n\
                    \x20    |-- 192.0.2.0\n        /24 link UNICAST\n";
        assert_eq!(
            own_v4(trie),
            vec![
                "192.0.2.2".parse::<Ipv4Addr>().unwrap(),
                "192.0.2.255".parse().unwrap()
            ]
        );
        let t6 = "00000000000000000000000000000001 01 80 10 80       lo\n\
                  fd000000000000000000000000000002 04 40 00 82     eth0\n";
        assert_eq!(
            own_v6(t6),
            vec![Ipv6Addr::LOCALHOST, "fd00::2".parse().unwrap()]
        );
        for a in [
            "224.0.0.1",
            "255.255.255.255",
            "ff02::1",
            "::ffff:224.0.0.1",
        ] {
            assert!(reaches_local(a.parse().unwrap()), "{a}");
        }
        // Loopback is decided as loopback already.
        for a in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            let ip: IpAddr = a.parse().unwrap();
            assert!(
                !reaches_local(ip) || ip.is_ipv6() && a.contains("ffff"),
                "{a}"
            );
        }
    }
}

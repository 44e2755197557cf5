//! `mxcc run --learn`: what a permissive run needed, written back as a policy.
//!
//! The run happens in a throwaway container (every directory of the host behind an
//! overlay whose upper layer is a tmpfs, dropped at the end), with every decision
//! allowed and recorded here: files by path with their rights, the connections and
//! binds made (a TCP connection refused or never made is not learned), and the
//! programs launched. `mxcc` writes the record as a policy (the language side: `~`,
//! parameters, how wide a grant may be): this crate records typed rights and targets,
//! never policy text.

use crate::record::{Right, Target};
use std::collections::{BTreeMap, BTreeSet};

/// What a learning run did.
#[derive(Clone, Debug, Default)]
pub struct Learned {
    /// Path → rights (`read`, `write`, `create`, `delete`).
    pub fs: BTreeMap<Vec<u8>, BTreeSet<Right>>,
    /// (right, target): `connect`/`bind` with `host:port` or `udp://…`.
    pub net: BTreeSet<(String, String)>,
    /// Programs launched (resolved paths).
    pub launch: BTreeSet<Vec<u8>>,
    /// What the run was refused even while learning, `(right, target)`: connecting to a
    /// unix socket it did not make (a host daemon's). Written as comments, never as
    /// rules.
    pub refused: BTreeSet<(String, String)>,
    /// Connections attempted and never made (refused by the peer, unreachable): not
    /// learned, unless another attempt to the same target succeeded.
    pub failed: BTreeSet<(String, String)>,
    /// Connections made.
    pub made: BTreeSet<(String, String)>,
}

impl Learned {
    pub fn fs(&mut self, path: &[u8], right: Right) {
        self.fs.entry(path.to_vec()).or_default().insert(right);
    }

    pub fn net(&mut self, right: Right, target: &Target) {
        self.net.insert((right.to_string(), target.to_string()));
    }

    /// The outcome of a connection attempt to `target` (recorded by [`Learned::net`]).
    pub fn connected(&mut self, right: Right, target: &Target, ok: bool) {
        let k = (right.to_string(), target.to_string());
        if ok {
            self.made.insert(k);
        } else {
            self.failed.insert(k);
        }
    }

    /// The network targets to learn: every one recorded but those whose every
    /// attempt failed.
    pub fn net_learned(&self) -> impl Iterator<Item = &(String, String)> {
        self.net
            .iter()
            .filter(|k| !self.failed.contains(*k) || self.made.contains(*k))
    }

    pub fn refused(&mut self, right: Right, target: &Target) {
        self.refused.insert((right.to_string(), target.to_string()));
    }

    pub fn launch(&mut self, program: &[u8]) {
        self.launch.insert(program.to_vec());
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.fs.is_empty() && self.net.is_empty() && self.launch.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mxc_eval::Proto;

    #[test]
    fn a_connection_never_made_is_not_learned() {
        let mut l = Learned::default();
        let t = |port| Target::Socket {
            proto: Proto::Tcp,
            host: "10.0.0.1".into(),
            port,
        };
        l.net(Right::Connect, &t(1));
        l.connected(Right::Connect, &t(1), false);
        l.net(Right::Connect, &t(2));
        l.connected(Right::Connect, &t(2), false);
        l.connected(Right::Connect, &t(2), true);
        let learned: Vec<_> = l.net_learned().map(|(_, t)| t.as_str()).collect();
        assert_eq!(learned, ["10.0.0.1:2"]);
        l.fs(b"/w/a", Right::Write);
        l.fs(b"/w/a", Right::Read);
        let rights: Vec<_> = l.fs[&b"/w/a"[..]].iter().map(|r| r.as_str()).collect();
        assert_eq!(rights, ["read", "write"]);
        l.refused(Right::Connect, &Target::Unix(b"/run/d.sock".to_vec()));
        assert!(l
            .refused
            .contains(&("connect".into(), "unix:/run/d.sock".into())));
    }
}

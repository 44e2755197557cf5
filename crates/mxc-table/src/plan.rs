//! The agent's platform-neutral plan: what a kernel can enforce without asking the
//! engine, the outer bound of the agent's rules in the shape Landlock (and, later,
//! Windows ACLs) take. The compiler computes it (`mxc_lang::plan`); the table carries
//! it so that a backend can start from a `.mxcb` alone.
//!
//! The bound is an over-approximation: every access a rule may allow (or ask about)
//! lies inside it, so the kernel never refuses what the policy allows, and the
//! supervisor decides exactly within it. When the bound *is* the policy, the plan says
//! so ([`Plan::fs_exact`]), and a backend may leave fs accesses to the kernel alone.

use crate::rights::{AppRights, FsRights};

/// A path granted some rights.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Grant<R> {
    /// An absolute path without globs: the literal prefix of the rule's pattern.
    pub path: String,
    pub rights: R,
    /// The rule's pattern is exactly this path (`subtree` false) or exactly this path
    /// and everything beneath it (`/**`, `subtree` true). Otherwise the grant is wider
    /// than the rule.
    pub exact: bool,
    /// The grant covers everything beneath `path` too.
    pub subtree: bool,
}

/// An inclusive range of ports.
pub type PortRange = (u16, u16);

/// The outer bound of one agent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Plan {
    /// fs rights, by literal prefix.
    pub fs: Vec<Grant<FsRights>>,
    /// `true` when `fs` is exactly the agent's fs decisions (no carve-out, no `ask`, no
    /// glob other than a trailing `/**`, default deny).
    pub fs_exact: bool,
    /// Programs (or prefixes of program patterns) that may be launched.
    pub exec: Vec<Grant<AppRights>>,
    /// TCP ports `connect` may reach, or `None` when some allowing rule has no port
    /// restriction (then the kernel cannot narrow TCP connects by port).
    pub tcp_connect: Option<Vec<PortRange>>,
    /// The same for `bind`.
    pub tcp_bind: Option<Vec<PortRange>>,
}

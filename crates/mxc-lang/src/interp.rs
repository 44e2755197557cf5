//! The reference interpreter: SPEC §6 written out directly over a [`Bound`] agent,
//! for clarity, not speed. Property tests compare it with the compiled engine.

use crate::ast::{Effect, SectionKind};
use crate::bind::{Bound, BoundRule};
use crate::pattern::{ArgsGlob, Atom, Comp, HostPat, NetTarget, PathGlob, Root};
use crate::request::{HostReq, Request};

/// A decision: the effect and the index of the deciding rule in `Bound::rules`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefDecision {
    pub effect: Effect,
    pub rule: Option<usize>,
}

/// Decides a request per SPEC §6.
pub fn decide(b: &Bound, req: &Request) -> RefDecision {
    // 1. collect the matching rules
    let matching: Vec<(usize, &BoundRule)> = b
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| rule_matches(r, req, b.windows))
        .collect();
    // 2. deny > ask > allow > default; 3. first rule with the winning effect.
    for effect in [Effect::Deny, Effect::Ask, Effect::Allow] {
        if let Some((i, _)) = matching.iter().find(|(_, r)| r.effect == effect) {
            return RefDecision {
                effect,
                rule: Some(*i),
            };
        }
    }
    RefDecision {
        effect: b.agent.default,
        rule: None,
    }
}

pub fn rule_matches(r: &BoundRule, req: &Request, windows: bool) -> bool {
    match req {
        Request::Fs { right, path } => {
            r.section == SectionKind::Fs
                && r.rights & right != 0
                && r.paths.iter().any(|g| path_matches(g, path, windows))
        }
        Request::Net {
            right,
            proto,
            host,
            port,
            program,
        } => {
            r.section == SectionKind::Net
                && r.rights & right != 0
                && r.nets
                    .iter()
                    .any(|t| net_matches(t, *proto, &host.canonical(*right), *port))
                && (r.from.is_empty()
                    || program
                        .as_ref()
                        .is_some_and(|p| r.from.iter().any(|g| path_matches(g, p, windows))))
        }
        Request::Launch { program, args } => {
            r.section == SectionKind::App
                && r.paths.iter().any(|g| path_matches(g, program, windows))
                && r.args
                    .as_ref()
                    .is_none_or(|a| args_match(a, &args.join(" ")))
        }
    }
}

/// Whether a normalised absolute path matches a glob.
pub fn path_matches(g: &PathGlob, path: &str, windows: bool) -> bool {
    let path = if windows {
        path.replace('\\', "/")
    } else {
        path.to_string()
    };
    let (drive, rest) = split_drive(&path);
    let comps: Vec<&str> = rest.split('/').filter(|c| !c.is_empty()).collect();
    if !rest.starts_with('/') {
        return false;
    }
    let pcomps: Vec<Comp> = match &g.root {
        Root::Slash => {
            if drive.is_some() {
                return false;
            }
            g.comps.clone()
        }
        Root::Drive(d) => {
            if drive.map(|c| c.to_ascii_uppercase()) != Some(*d) {
                return false;
            }
            g.comps.clone()
        }
        Root::Anywhere => {
            if drive.is_some() && !windows {
                return false;
            }
            let mut v = vec![Comp::AnyDepth];
            v.extend(g.comps.iter().cloned());
            v
        }
    };
    comps_match(&pcomps, &comps, windows)
}

fn split_drive(p: &str) -> (Option<char>, &str) {
    let b = p.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        (Some(b[0] as char), &p[2..])
    } else {
        (None, p)
    }
}

fn comps_match(pat: &[Comp], comps: &[&str], ci: bool) -> bool {
    match pat.split_first() {
        None => comps.is_empty(),
        Some((Comp::AnyDepth, rest)) => {
            (0..=comps.len()).any(|k| comps_match(rest, &comps[k..], ci))
        }
        Some((Comp::Seg(atoms), rest)) => match comps.split_first() {
            Some((c, crest)) => {
                let chars: Vec<char> = c.chars().collect();
                atoms_match(atoms, &chars, ci) && comps_match(rest, crest, ci)
            }
            None => false,
        },
    }
}

fn fold(c: char, ci: bool) -> char {
    if ci {
        c.to_lowercase().next().unwrap_or(c)
    } else {
        c
    }
}

/// Matches atoms against chars. In a path component `*` and `?` never see `/`
/// (components are split on it); in args they match anything.
fn atoms_match(atoms: &[Atom], s: &[char], ci: bool) -> bool {
    match atoms.split_first() {
        None => s.is_empty(),
        Some((Atom::Lit(l), rest)) => {
            let lc: Vec<char> = l.chars().collect();
            s.len() >= lc.len()
                && lc.iter().zip(s).all(|(a, b)| fold(*a, ci) == fold(*b, ci))
                && atoms_match(rest, &s[lc.len()..], ci)
        }
        Some((Atom::Star, rest)) => (0..=s.len()).any(|k| atoms_match(rest, &s[k..], ci)),
        Some((Atom::One, rest)) => !s.is_empty() && atoms_match(rest, &s[1..], ci),
        Some((Atom::Class { negated, ranges }, rest)) => match s.first() {
            Some(&c) => {
                let hit = ranges.iter().any(|(lo, hi)| {
                    (*lo <= c && c <= *hi)
                        || (ci && {
                            let l = fold(c, true);
                            let u = c.to_uppercase().next().unwrap_or(c);
                            (*lo <= l && l <= *hi) || (*lo <= u && u <= *hi)
                        })
                });
                hit != *negated && c != '/' && atoms_match(rest, &s[1..], ci)
            }
            None => false,
        },
    }
}

pub fn args_match(g: &ArgsGlob, joined: &str) -> bool {
    let chars: Vec<char> = joined.chars().collect();
    atoms_match(&g.atoms, &chars, false)
}

pub fn net_matches(
    t: &NetTarget,
    proto: crate::pattern::NetProto,
    host: &HostReq,
    port: u16,
) -> bool {
    if t.proto != proto {
        return false;
    }
    if !t.ports.is_empty() && !t.ports.iter().any(|(a, b)| *a <= port && port <= *b) {
        return false;
    }
    let name = |h: &HostReq| -> Option<String> {
        match h {
            HostReq::Name(n) => Some(n.strip_suffix('.').unwrap_or(n).to_ascii_lowercase()),
            _ => None,
        }
    };
    match &t.host {
        HostPat::Any => true,
        HostPat::Localhost => match host {
            HostReq::Name(_) => name(host).as_deref() == Some("localhost"),
            HostReq::V4(a) => a[0] == 127,
            HostReq::V6(a) => *a == std::net::Ipv6Addr::LOCALHOST.octets(),
        },
        HostPat::Name(n) => name(host).as_deref() == Some(n.as_str()),
        HostPat::Suffix(s) => name(host).is_some_and(|h| {
            h.strip_suffix(s.as_str())
                .and_then(|p| p.strip_suffix('.'))
                .is_some_and(|p| !p.is_empty())
        }),
        HostPat::V4(a, p) => match host {
            HostReq::V4(h) => crate::pattern::mask4(*h, *p) == *a,
            _ => false,
        },
        HostPat::V6(a, p) => match host {
            HostReq::V6(h) => crate::pattern::mask16(*h, *p) == *a,
            _ => false,
        },
    }
}

//! What a kernel can enforce without asking the engine: the outer bound of an agent's
//! rules, in the shape Landlock (and, later, Windows ACLs) take. The data types live in
//! the table crate ([`mxc_eval::plan`]), which carries the plan in every `.mxcb`; this
//! module computes it.
//!
//! The bound is an over-approximation: every access a rule may allow (or ask about)
//! lies inside it, so the kernel never refuses what the policy allows, and the
//! supervisor decides exactly within it. When the bound *is* the policy (every fs rule
//! an `allow` of a literal path or a literal subtree, default deny), the plan says so,
//! and a backend may leave fs accesses to the kernel alone.

use crate::ast::{Effect, SectionKind};
use crate::bind::{Bound, BoundRule};
use crate::model::{AppRights, FsRights, NetRights};
use crate::pattern::{Atom, Comp, NetProto, PathGlob, Root};
pub use mxc_eval::plan::{Grant, Plan};

/// The literal directory prefix of a glob, and whether the glob is exactly that path
/// (`Some(false)`) or that path's subtree (`Some(true)`), or neither (`None`).
pub fn literal_prefix(g: &PathGlob) -> (String, Option<bool>) {
    let mut path = match g.root {
        Root::Slash => String::new(),
        Root::Drive(d) => format!("{d}:"),
        Root::Anywhere => return ("/".into(), None),
    };
    let mut shape = Some(false);
    for (i, c) in g.comps.iter().enumerate() {
        let lit = match c {
            Comp::Seg(atoms) => match atoms.as_slice() {
                [Atom::Lit(s)] => Some(s.as_str()),
                _ => None,
            },
            Comp::AnyDepth => None,
        };
        match lit {
            Some(s) => {
                path.push('/');
                path.push_str(s);
            }
            None => {
                let last = i + 1 == g.comps.len();
                shape = (last && *c == Comp::AnyDepth).then_some(true);
                break;
            }
        }
    }
    if path.is_empty() {
        path.push('/');
    }
    (path, shape)
}

/// Computes the plan of a bound agent.
pub fn plan(bound: &Bound) -> Plan {
    let mut p = Plan {
        fs_exact: bound.agent.default == Effect::Deny,
        tcp_connect: Some(Vec::new()),
        tcp_bind: Some(Vec::new()),
        ..Plan::default()
    };
    for r in &bound.rules {
        match r.section {
            SectionKind::Fs => fs_rule(&mut p, r),
            SectionKind::App if r.effect != Effect::Deny => {
                for g in &r.paths {
                    let (path, shape) = literal_prefix(g);
                    p.exec.push(Grant {
                        path,
                        rights: AppRights::LAUNCH,
                        exact: shape.is_some() && r.args.is_none(),
                        subtree: shape == Some(true),
                    });
                }
            }
            SectionKind::Net if r.effect != Effect::Deny => {
                for t in &r.nets {
                    if t.proto != NetProto::Tcp {
                        continue;
                    }
                    for (right, slot) in [
                        (NetRights::CONNECT, &mut p.tcp_connect),
                        (NetRights::BIND, &mut p.tcp_bind),
                    ] {
                        if !r.rights.net().contains(right) {
                            continue;
                        }
                        if t.ports.is_empty() {
                            *slot = None;
                        } else if let Some(v) = slot {
                            v.extend(t.ports.iter().copied());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if bound.agent.default != Effect::Deny {
        // `default ask`: anything may be allowed after asking.
        p.fs = vec![Grant {
            path: "/".into(),
            rights: FsRights::ALL,
            exact: false,
            subtree: true,
        }];
        p.exec = vec![Grant {
            path: "/".into(),
            rights: AppRights::LAUNCH,
            exact: false,
            subtree: true,
        }];
        p.tcp_connect = None;
        p.tcp_bind = None;
    }
    for v in [&mut p.tcp_connect, &mut p.tcp_bind].into_iter().flatten() {
        v.sort_unstable();
        v.dedup();
    }
    p.fs.sort();
    p.fs.dedup();
    p.exec.sort();
    p.exec.dedup();
    p
}

fn fs_rule(p: &mut Plan, r: &BoundRule) {
    if r.effect != Effect::Allow {
        p.fs_exact = false;
    }
    if r.effect == Effect::Deny {
        return;
    }
    for g in &r.paths {
        let (path, shape) = literal_prefix(g);
        let exact = match shape {
            Some(true) => true,
            // A single file: Landlock can grant reading and writing it, but making or
            // removing it needs rights on its directory, which is wider.
            Some(false) => !r
                .rights
                .fs()
                .intersects(FsRights::CREATE | FsRights::DELETE),
            None => false,
        };
        if !exact {
            p.fs_exact = false;
        }
        p.fs.push(Grant {
            path,
            rights: r.rights.fs(),
            exact,
            subtree: shape != Some(false),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(src: &str) -> Plan {
        let program = crate::check_source("t.mxc", src);
        assert!(!program.diags.has_errors(), "{:?}", program.diags);
        let params = [("home".to_string(), "/home/a".to_string())].into();
        let (_, bound) =
            crate::compile::compile_agent(&program, "a", &params, mxc_eval::Target::Linux).unwrap();
        plan(&bound)
    }

    #[test]
    fn prefixes_and_exactness() {
        let p = plan_of(
            r#"policy p {
                fs { allow read, write "/work/**"  allow read "/etc/hosts" }
                app { allow launch "/usr/bin/git"  allow launch "/opt/*/bin/x" }
                net { allow connect "api.github.com:443"  allow bind "*:3000-3001" }
            }
            agent a { use p }"#,
        );
        assert!(p.fs_exact);
        assert_eq!(p.fs.len(), 2);
        assert_eq!(p.fs[1].path, "/work");
        assert!(p.fs[1].subtree && p.fs[1].exact);
        assert!(!p.fs[0].subtree && p.fs[0].exact);
        assert_eq!(p.exec[0].path, "/opt");
        assert!(!p.exec[0].exact);
        assert_eq!(p.exec[1].path, "/usr/bin/git");
        assert_eq!(p.tcp_connect, Some(vec![(443, 443)]));
        assert_eq!(p.tcp_bind, Some(vec![(3000, 3001)]));
    }

    #[test]
    fn carve_outs_and_globs_are_not_exact() {
        let p = plan_of(
            r#"policy p {
                fs { allow all "~/**"  deny read "~/.ssh/**"  allow read "**/*.md" }
                net { allow connect "*" }
            }
            agent a { use p }"#,
        );
        assert!(!p.fs_exact);
        assert!(p.fs.iter().any(|g| g.path == "/" && !g.exact));
        assert!(p.fs.iter().any(|g| g.path == "/home/a" && g.exact));
        assert_eq!(p.tcp_connect, None);
    }
}

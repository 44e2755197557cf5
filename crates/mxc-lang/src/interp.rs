//! The reference interpreter: SPEC §6 written out directly over a [`Bound`] agent,
//! for clarity, not speed. Property tests compare it with the compiled engine.

use crate::ast::{Effect, SectionKind};
use crate::bind::{Bound, BoundRule};
use crate::pattern::{ArgsGlob, Atom, HostPat, NetTarget, TChar};
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
                && r.rights.fs().has(*right)
                && r.path_text.iter().any(|g| glob_matches(g, path, windows))
        }
        Request::Net {
            right,
            proto,
            host,
            port,
            program,
        } => {
            r.section == SectionKind::Net
                && r.rights.net().has(*right)
                && r.nets
                    .iter()
                    .any(|t| net_matches(t, *proto, &host.canonical(*right), *port))
                && (r.from.is_empty()
                    || program
                        .as_ref()
                        .is_some_and(|p| r.from_text.iter().any(|g| glob_matches(g, p, windows))))
        }
        Request::Launch { program, args } => {
            r.section == SectionKind::App
                && r.path_text
                    .iter()
                    .any(|g| glob_matches(g, program, windows))
                && r.args
                    .as_ref()
                    .is_none_or(|a| args_match(a, &args.join(" ")))
        }
    }
}

/// Whether a normalised absolute path matches a bound path pattern (SPEC §4.1), read
/// straight from its text: `{a,b}` stays a choice between two texts (never spliced),
/// `**` is a whole component written as two adjacent `*`s, text from a parameter value
/// is literal. The pattern denotes a set of strings — `*` any run of characters other
/// than `/` (possibly empty), `?` and classes one such character, a `**` component any
/// number of whole components (`/**` = `(/[^/]+)*`) — and a path matches when it is in
/// the set; the root (`/` or `C:/`, the one normalised path ending in `/`) also matches
/// when the empty string (the root's body) is. So `/*`, `**/*`, `/*/**` and `/**` match
/// `/`, and `/a/**` matches `/a`.
pub fn glob_matches(text: &[TChar], path: &str, windows: bool) -> bool {
    let drive =
        text.len() >= 2 && text[0].c.is_ascii_alphabetic() && !text[0].literal && text[1].c == ':';
    let win = windows || drive;
    // Each text the pattern stands for (alternatives chosen), normalised as SPEC §4.1
    // normalises a pattern: `//` collapses, a trailing `/` goes (`/a/{*,}` is `/a/*` or
    // `/a`).
    let texts: Vec<Vec<G>> = flatten(&tokens(text, win))
        .iter()
        .map(|t| seq(t, true))
        .collect();
    let path = if windows {
        path.replace('\\', "/")
    } else {
        path.to_string()
    };
    let chars: Vec<char> = path.chars().collect();
    let mut candidates = vec![chars.clone()];
    if chars.last() == Some(&'/') {
        candidates.push(chars[..chars.len() - 1].to_vec());
    }
    // `**/` patterns reach every path, of any drive on Windows.
    if windows && texts.iter().any(|t| matches!(t.first(), Some(G::Below))) {
        for c in candidates.clone() {
            if c.len() >= 2 && c[0].is_ascii_alphabetic() && c[1] == ':' {
                candidates.push(c[2..].to_vec());
            }
        }
    }
    let drive_at = if drive { Some(0) } else { None };
    texts.iter().any(|toks| {
        candidates
            .iter()
            .any(|c| g_match(toks, c, windows, drive_at))
    })
}

/// A piece of a pattern's text.
#[derive(Clone, Debug)]
enum G {
    /// One character, matched literally (case-folded on Windows).
    Ch(char),
    /// `*`: any run of characters other than `/`.
    Star,
    /// `?`: one character other than `/`.
    One,
    /// `[...]`.
    Class(bool, Vec<(char, char)>),
    /// `{a,b}`: one of the texts.
    Alt(Vec<Vec<G>>),
    /// `**` (before the pass that joins it with its `/`).
    DStar,
    /// A `**` component with its separator: `(/[^/]+)*`.
    Below,
}

/// Splits bound text into pieces; alternatives nest.
fn tokens(text: &[TChar], win: bool) -> Vec<G> {
    fn level(t: &[TChar], i: &mut usize, win: bool, inside: bool) -> Vec<Vec<G>> {
        let mut alts = vec![Vec::new()];
        while *i < t.len() {
            let x = t[*i];
            let li = alts.len() - 1;
            let cur = &mut alts[li];
            let c = if win && x.c == '\\' { '/' } else { x.c };
            if x.literal {
                cur.push(G::Ch(c));
                *i += 1;
                continue;
            }
            match c {
                '{' => {
                    *i += 1;
                    let inner = level(t, i, win, true);
                    cur.push(G::Alt(inner));
                }
                '}' if inside => {
                    *i += 1;
                    return alts;
                }
                ',' if inside => {
                    *i += 1;
                    alts.push(Vec::new());
                }
                '*' => {
                    let together = t
                        .get(*i + 1)
                        .is_some_and(|n| n.c == '*' && !n.literal && n.at == x.at + 1);
                    if together {
                        cur.push(G::DStar);
                        *i += 2;
                    } else {
                        cur.push(G::Star);
                        *i += 1;
                    }
                }
                '?' => {
                    cur.push(G::One);
                    *i += 1;
                }
                '[' => {
                    let mut j = *i + 1;
                    let mut negated = false;
                    if t.get(j)
                        .is_some_and(|n| (n.c == '!' || n.c == '^') && !n.literal)
                    {
                        negated = true;
                        j += 1;
                    }
                    let mut ranges = Vec::new();
                    let mut first = true;
                    while let Some(n) = t.get(j) {
                        if n.c == ']' && !n.literal && !first {
                            break;
                        }
                        first = false;
                        let lo = n.c;
                        if t.get(j + 1).is_some_and(|m| m.c == '-')
                            && t.get(j + 2).is_some_and(|m| m.c != ']')
                        {
                            ranges.push((lo, t[j + 2].c));
                            j += 3;
                        } else {
                            ranges.push((lo, lo));
                            j += 1;
                        }
                    }
                    cur.push(G::Class(negated, ranges));
                    *i = j + 1;
                }
                c => {
                    cur.push(G::Ch(c));
                    *i += 1;
                }
            }
        }
        alts
    }
    let mut i = 0;
    level(text, &mut i, win, false).remove(0)
}

/// The texts a pattern stands for: every choice of alternatives, as flat pieces.
fn flatten(v: &[G]) -> Vec<Vec<G>> {
    let mut out: Vec<Vec<G>> = vec![Vec::new()];
    for g in v {
        match g {
            G::Alt(alts) => {
                let choices: Vec<Vec<G>> = alts.iter().flat_map(|a| flatten(a)).collect();
                let mut next = Vec::new();
                for prefix in &out {
                    for c in &choices {
                        let mut x = prefix.clone();
                        x.extend_from_slice(c);
                        next.push(x);
                    }
                }
                out = next;
            }
            other => {
                for x in &mut out {
                    x.push(other.clone());
                }
            }
        }
    }
    out
}

/// Joins each `**` with its separator into `Below`, collapses repeated `/` and, at the
/// top level, drops a trailing `/` (SPEC §4.1 normalisation); recursively inside
/// alternatives.
fn seq(v: &[G], top: bool) -> Vec<G> {
    let mut out: Vec<G> = Vec::new();
    for g in v {
        match g {
            G::DStar => {
                if matches!(out.last(), Some(G::Ch('/'))) {
                    out.pop();
                }
                out.push(G::Below);
            }
            G::Ch('/') if matches!(out.last(), Some(G::Ch('/'))) => {}
            G::Alt(alts) => out.push(G::Alt(alts.iter().map(|a| seq(a, false)).collect())),
            other => out.push(other.clone()),
        }
    }
    if top && out.len() > 1 && matches!(out.last(), Some(G::Ch('/'))) {
        out.pop();
    }
    out
}

/// Backtracking match of pieces against the whole of `s`. `drive_at`: the position of
/// a drive letter, matched without regard to case on every target.
fn g_match(p: &[G], s: &[char], ci: bool, drive_at: Option<usize>) -> bool {
    let Some((first, rest)) = p.split_first() else {
        return s.is_empty();
    };
    match first {
        G::Ch(c) => match s.split_first() {
            Some((x, srest)) => {
                let fold_here = ci || drive_at == Some(0);
                fold(*c, fold_here) == fold(*x, fold_here)
                    && g_match(rest, srest, ci, drive_at.and_then(|d| d.checked_sub(1)))
            }
            None => false,
        },
        G::Star => (0..=s.len())
            .take_while(|&k| k == 0 || !matches!(s[k - 1], '/' | '\0'))
            .any(|k| g_match(rest, &s[k..], ci, None)),
        G::One => !s.is_empty() && !matches!(s[0], '/' | '\0') && g_match(rest, &s[1..], ci, None),
        G::Class(negated, ranges) => match s.first() {
            Some(&c) => class_hit(*negated, ranges, c, ci) && g_match(rest, &s[1..], ci, None),
            None => false,
        },
        // Flattened away before matching.
        G::Alt(_) | G::DStar => false,
        G::Below => {
            // Zero components, or `/`, one or more non-`/` characters, and again.
            if g_match(rest, s, ci, None) {
                return true;
            }
            if s.first() != Some(&'/') {
                return false;
            }
            let mut k = 1;
            while k < s.len() && !matches!(s[k], '/' | '\0') {
                k += 1;
                if g_match(p, &s[k..], ci, None) {
                    return true;
                }
            }
            false
        }
    }
}

fn class_hit(negated: bool, ranges: &[(char, char)], c: char, ci: bool) -> bool {
    let hit = ranges.iter().any(|(lo, hi)| {
        (*lo <= c && c <= *hi)
            || (ci && {
                let l = fold(c, true);
                let u = c.to_uppercase().next().unwrap_or(c);
                (*lo <= l && l <= *hi) || (*lo <= u && u <= *hi)
            })
    });
    hit != negated && c != '/' && c != '\0'
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
            Some(&c) => class_hit(*negated, ranges, c, ci) && atoms_match(rest, &s[1..], ci),
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

//! Path patterns (SPEC §4.1), network targets (§4.2) and args globs (§4.3), parsed
//! into typed values once, so later stages never re-parse strings.
//!
//! A pattern is first a [`Template`]: text with `${param}` holes (and `~`). Binding the
//! parameters yields characters tagged literal-or-glob, which [`parse_path`] turns into
//! one or more [`PathGlob`]s (alternatives `{a,b}` are expanded).

use std::fmt;

/// A piece of a string with interpolation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Piece {
    Text(String),
    /// `${name}` (or `~` at the start of a path pattern, which is `${home}`), with its
    /// byte range in the decoded string.
    Param(String, std::ops::Range<usize>),
}

/// A string with `${name}` holes (SPEC §2, §7).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Template {
    pub pieces: Vec<Piece>,
}

/// An interpolation error: message and byte range in the decoded string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatError {
    pub message: String,
    pub range: std::ops::Range<usize>,
    pub help: Option<String>,
}

impl PatError {
    pub fn new(message: impl Into<String>, range: std::ops::Range<usize>) -> PatError {
        PatError {
            message: message.into(),
            range,
            help: None,
        }
    }
    pub fn help(mut self, h: impl Into<String>) -> PatError {
        self.help = Some(h.into());
        self
    }
}

impl Template {
    /// Parses `${name}` and `$$`; with `tilde`, a leading `~` (alone or before `/`) is
    /// `${home}`.
    pub fn parse(s: &str, tilde: bool) -> Result<Template, PatError> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut i = 0;
        let bytes = s.as_bytes();
        if tilde && s.starts_with('~') {
            match bytes.get(1) {
                None | Some(b'/') | Some(b'\\') => {
                    pieces.push(Piece::Param("home".into(), 0..1));
                    i = 1;
                }
                _ => {
                    return Err(PatError::new("`~` must be followed by `/`", 0..1)
                        .help("`~` means the `home` parameter; `~user` is not supported"))
                }
            }
        }
        while i < s.len() {
            let rest = &s[i..];
            if let Some(r) = rest.strip_prefix("$$") {
                let _ = r;
                text.push('$');
                i += 2;
            } else if rest.starts_with("${") {
                let Some(end) = rest.find('}') else {
                    return Err(PatError::new("unterminated `${`", i..s.len())
                        .help("write `${name}`, or `$$` for a literal `$`"));
                };
                let name = &rest[2..end];
                let valid = !name.is_empty()
                    && name
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if !valid {
                    return Err(PatError::new(
                        format!("`{}` is not a parameter name", name),
                        i..i + end + 1,
                    ));
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Param(name.to_string(), i..i + end + 1));
                i += end + 1;
            } else {
                let c = rest.chars().next().unwrap_or('\0');
                text.push(c);
                i += c.len_utf8();
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Template { pieces })
    }

    pub fn params(&self) -> impl Iterator<Item = (&str, &std::ops::Range<usize>)> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Param(n, r) => Some((n.as_str(), r)),
            Piece::Text(_) => None,
        })
    }

    /// Substitutes parameters: text from the template is glob syntax (`false`), text
    /// from a value is literal (`true`). Each char carries its source range.
    pub fn bind(&self, value: &dyn Fn(&str) -> Option<String>) -> Result<Vec<TChar>, String> {
        let mut out = Vec::new();
        let mut pos = 0usize;
        for p in &self.pieces {
            match p {
                Piece::Text(t) => {
                    for c in t.chars() {
                        out.push(TChar {
                            c,
                            literal: false,
                            at: pos,
                        });
                        pos += c.len_utf8();
                    }
                }
                Piece::Param(n, r) => {
                    let v = value(n).ok_or_else(|| n.clone())?;
                    for c in v.chars() {
                        out.push(TChar {
                            c,
                            literal: true,
                            at: r.start,
                        });
                    }
                    pos = r.end;
                }
            }
        }
        Ok(out)
    }

    /// The template with parameters bound, as plain text (for net targets, args).
    pub fn render(&self, value: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
        Ok(self.bind(value)?.into_iter().map(|t| t.c).collect())
    }
}

/// A character of a bound pattern: whether it came from a parameter value (literal)
/// and where in the source string it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TChar {
    pub c: char,
    pub literal: bool,
    pub at: usize,
}

/// Where a path pattern is rooted.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Root {
    /// `/...`
    Slash,
    /// `C:/...` (letter uppercased)
    Drive(char),
    /// `**/...`: anywhere (any absolute path).
    Anywhere,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Atom {
    Lit(String),
    /// `*`
    Star,
    /// `?`
    One,
    /// `[...]`: ranges, negated with `!`.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Comp {
    /// `**`
    AnyDepth,
    Seg(Vec<Atom>),
}

/// One alternative-free path glob.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PathGlob {
    pub root: Root,
    pub comps: Vec<Comp>,
}

impl fmt::Display for PathGlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.root {
            Root::Slash => {}
            Root::Drive(d) => write!(f, "{d}:")?,
            Root::Anywhere => f.write_str("**")?,
        }
        if self.comps.is_empty() {
            return f.write_str("/");
        }
        for c in &self.comps {
            f.write_str("/")?;
            match c {
                Comp::AnyDepth => f.write_str("**")?,
                Comp::Seg(atoms) => {
                    for a in atoms {
                        match a {
                            Atom::Lit(s) => f.write_str(s)?,
                            Atom::Star => f.write_str("*")?,
                            Atom::One => f.write_str("?")?,
                            Atom::Class { negated, ranges } => {
                                f.write_str("[")?;
                                if *negated {
                                    f.write_str("!")?;
                                }
                                for (a, b) in ranges {
                                    if a == b {
                                        write!(f, "{a}")?;
                                    } else {
                                        write!(f, "{a}-{b}")?;
                                    }
                                }
                                f.write_str("]")?;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Most expansions of `{...}` alternatives allowed in one pattern.
pub const MAX_EXPANSIONS: usize = 256;
/// Deepest nesting of `{...}` allowed (SPEC §4.1).
pub const MAX_ALT_DEPTH: usize = 8;

/// Parses a bound path pattern. `windows`: `\` is a separator (always so for patterns
/// that start with a drive).
pub fn parse_path(chars: &[TChar], windows: bool) -> Result<Vec<PathGlob>, PatError> {
    let range_of = |i: usize| -> std::ops::Range<usize> {
        chars.get(i).map_or(0..0, |t| t.at..t.at + t.c.len_utf8())
    };
    if chars.is_empty() {
        return Err(PatError::new("empty path pattern", 0..0)
            .help("a path pattern begins with `/`, `~`, `${param}`, `**/` or a drive like `C:/`"));
    }
    let is_drive = chars.len() >= 2
        && chars[0].c.is_ascii_alphabetic()
        && chars[1].c == ':'
        && chars.get(2).is_none_or(|t| t.c == '/' || t.c == '\\');
    let win = windows || is_drive;
    // Normalise separators.
    let mut cs: Vec<TChar> = chars
        .iter()
        .map(|t| {
            if win && t.c == '\\' {
                TChar { c: '/', ..*t }
            } else {
                *t
            }
        })
        .collect();
    // Expand alternatives (only glob braces, never braces from parameter values).
    let mut alts = Vec::new();
    expand(&cs, 0, &mut alts, &range_of)?;
    if alts.len() > MAX_EXPANSIONS {
        return Err(PatError::new(
            format!("alternatives expand to more than {MAX_EXPANSIONS} patterns"),
            range_of(0).start..chars.last().map_or(0, |t| t.at + 1),
        ));
    }
    let mut out = Vec::new();
    for alt in alts {
        cs.clear();
        cs.extend(alt);
        out.push(parse_one(&cs, is_drive)?);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn expand(
    cs: &[TChar],
    depth: usize,
    out: &mut Vec<Vec<TChar>>,
    range_of: &dyn Fn(usize) -> std::ops::Range<usize>,
) -> Result<(), PatError> {
    let _ = range_of;
    for v in expand_all(cs, depth)? {
        out.push(v);
        if out.len() > MAX_EXPANSIONS {
            break;
        }
    }
    Ok(())
}

fn too_many(cs: &[TChar]) -> PatError {
    let s = cs.first().map_or(0, |t| t.at);
    let e = cs.last().map_or(s, |t| t.at + 1);
    PatError::new(
        format!("alternatives expand to more than {MAX_EXPANSIONS} patterns"),
        s..e,
    )
}

/// Expands the first top-level `{...}` of `cs` and, recursively, its alternatives and
/// what follows it.
fn expand_all(cs: &[TChar], depth: usize) -> Result<Vec<Vec<TChar>>, PatError> {
    // The first glob brace outside a character class.
    let mut in_class = false;
    let mut found = None;
    for (i, t) in cs.iter().enumerate() {
        if t.literal {
            continue;
        }
        match t.c {
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '{' | '}' if !in_class => {
                found = Some(i);
                break;
            }
            _ => {}
        }
    }
    let Some(open) = found else {
        return Ok(vec![cs.to_vec()]);
    };
    if cs[open].c == '}' {
        let t = cs[open];
        return Err(PatError::new("unmatched `}`", t.at..t.at + 1));
    }
    if depth >= MAX_ALT_DEPTH {
        let t = cs[open];
        return Err(PatError::new(
            format!("alternatives nest more than {MAX_ALT_DEPTH} deep"),
            t.at..t.at + 1,
        ));
    }
    let mut level = 0usize;
    let mut close = None;
    let mut commas = Vec::new();
    let mut in_class = false;
    for (i, t) in cs.iter().enumerate().skip(open) {
        if t.literal {
            continue;
        }
        match t.c {
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            _ if in_class => {}
            '{' => level += 1,
            '}' => {
                level -= 1;
                if level == 0 {
                    close = Some(i);
                    break;
                }
            }
            ',' if level == 1 => commas.push(i),
            _ => {}
        }
    }
    let Some(close) = close else {
        let t = cs[open];
        return Err(PatError::new("unclosed `{`", t.at..t.at + 1)
            .help("alternatives are written `{a,b,c}`"));
    };
    let mut bounds = vec![open];
    bounds.extend(&commas);
    bounds.push(close);
    let whole = cs[open].at..cs[close].at + 1;
    let rest = expand_all(&cs[close + 1..], depth)?;
    let mut out = Vec::new();
    for w in bounds.windows(2) {
        let body = &cs[w[0] + 1..w[1]];
        let text: String = body.iter().map(|t| t.c).collect();
        if text.contains("/**/")
            || text == "**"
            || (text.starts_with("**/") && open > 0)
            || (text.ends_with("/**") && close + 1 < cs.len())
        {
            return Err(PatError::new("alternatives may not contain `/**/`", whole)
                .help("write the alternatives as separate targets"));
        }
        for b in expand_all(body, depth + 1)? {
            for r in &rest {
                let mut v = cs[..open].to_vec();
                v.extend_from_slice(&b);
                v.extend_from_slice(r);
                out.push(v);
                if out.len() > MAX_EXPANSIONS {
                    return Err(too_many(cs));
                }
            }
        }
    }
    Ok(out)
}

fn parse_one(cs: &[TChar], drive: bool) -> Result<PathGlob, PatError> {
    let text_range = |a: usize, b: usize| -> std::ops::Range<usize> {
        let s = cs.get(a).map_or(0, |t| t.at);
        let e = cs
            .get(b.saturating_sub(1))
            .map_or(s, |t| t.at + t.c.len_utf8());
        s..e.max(s)
    };
    let (root, body_start) = if drive {
        (Root::Drive(cs[0].c.to_ascii_uppercase()), 2)
    } else if cs.first().is_some_and(|t| t.c == '/') {
        (Root::Slash, 0)
    } else if cs.len() >= 2
        && cs[0].c == '*'
        && cs[1].c == '*'
        && !cs[0].literal
        && written_together(&cs[0], &cs[1])
        && cs.get(2).is_none_or(|t| t.c == '/')
    {
        (Root::Anywhere, 2)
    } else {
        return Err(
            PatError::new("a path pattern must be absolute", text_range(0, cs.len()))
                .help("begin it with `/`, `~/`, `${param}`, `**/` or a drive like `C:/`"),
        );
    };
    // Split into components on `/`.
    let mut comps = Vec::new();
    let body = &cs[body_start..];
    let mut start = 0;
    for i in 0..=body.len() {
        if i == body.len() || body[i].c == '/' {
            if i > start {
                comps.push((body_start + start, body_start + i));
            }
            start = i + 1;
        }
    }
    let mut out = Vec::new();
    for (a, b) in comps {
        let comp = &cs[a..b];
        let text: String = comp.iter().map(|t| t.c).collect();
        let all_lit = comp.iter().all(|t| t.literal);
        if text == "." || text == ".." {
            return Err(PatError::new(
                format!("`{text}` components are not allowed in patterns"),
                text_range(a, b),
            )
            .help("write the path without `.` and `..`"));
        }
        if !all_lit
            && text == "**"
            && comp.iter().all(|t| !t.literal)
            && written_together(&comp[0], &comp[1])
        {
            if out.last() != Some(&Comp::AnyDepth) {
                out.push(Comp::AnyDepth);
            }
            continue;
        }
        let mut atoms: Vec<Atom> = Vec::new();
        let mut i = 0;
        while i < comp.len() {
            let t = comp[i];
            if t.literal {
                push_lit(&mut atoms, t.c);
                i += 1;
                continue;
            }
            match t.c {
                '*' => {
                    if comp
                        .get(i + 1)
                        .is_some_and(|n| n.c == '*' && !n.literal && written_together(&t, n))
                    {
                        return Err(PatError::new(
                            "`**` must be a whole path component",
                            text_range(a, b),
                        )
                        .help("write `/**/` for any depth, or `*` for any run of characters within a component"));
                    }
                    if atoms.last() != Some(&Atom::Star) {
                        atoms.push(Atom::Star);
                    }
                    i += 1;
                }
                '?' => {
                    atoms.push(Atom::One);
                    i += 1;
                }
                '[' => {
                    let (atom, next) = parse_class(comp, i).map_err(|m| {
                        PatError::new(m, text_range(a + i, b))
                            .help("classes are written `[abc]`, `[a-z]` or `[!a-z]`")
                    })?;
                    atoms.push(atom);
                    i = next;
                }
                ']' => {
                    return Err(PatError::new("unmatched `]`", text_range(a + i, a + i + 1)));
                }
                '\0' => {
                    return Err(PatError::new(
                        "NUL character in pattern",
                        text_range(a + i, a + i + 1),
                    ));
                }
                c => {
                    push_lit(&mut atoms, c);
                    i += 1;
                }
            }
        }
        out.push(Comp::Seg(atoms));
    }
    // `/a/**` trailing: fine. `**/` root followed by nothing: `**` alone means any path.
    if root == Root::Anywhere && out.first() == Some(&Comp::AnyDepth) {
        out.remove(0);
    }
    Ok(PathGlob { root, comps: out })
}

/// Whether two glob characters of an expanded pattern were written side by side in the
/// source. Alternatives are expanded by splicing, so `{*,a}*` gives the two stars of
/// `**` for its first alternative; they are two `*`s of one component (any run of
/// characters), not `**` (any number of components), because they were not written
/// together. Positions of glob text are consecutive within a string (`Template::bind`).
fn written_together(a: &TChar, b: &TChar) -> bool {
    b.at == a.at + a.c.len_utf8()
}

fn push_lit(atoms: &mut Vec<Atom>, c: char) {
    if let Some(Atom::Lit(s)) = atoms.last_mut() {
        s.push(c);
    } else {
        atoms.push(Atom::Lit(c.to_string()));
    }
}

fn parse_class(comp: &[TChar], open: usize) -> Result<(Atom, usize), String> {
    let mut i = open + 1;
    let mut negated = false;
    if comp
        .get(i)
        .is_some_and(|t| (t.c == '!' || t.c == '^') && !t.literal)
    {
        negated = true;
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let Some(t) = comp.get(i) else {
            return Err("unclosed `[`".into());
        };
        if t.c == ']' && !t.literal && !first {
            break;
        }
        first = false;
        let lo = t.c;
        if comp.get(i + 1).is_some_and(|n| n.c == '-')
            && comp.get(i + 2).is_some_and(|n| n.c != ']')
        {
            let hi = comp[i + 2].c;
            if hi < lo {
                return Err(format!("reversed class range `{lo}-{hi}`"));
            }
            if lo <= '/' && '/' <= hi {
                return Err("a class cannot match `/`".into());
            }
            ranges.push((lo, hi));
            i += 3;
        } else {
            if lo == '/' {
                return Err("a class cannot match `/`".into());
            }
            ranges.push((lo, lo));
            i += 1;
        }
    }
    if ranges.is_empty() {
        return Err("empty class".into());
    }
    Ok((Atom::Class { negated, ranges }, i + 1))
}

// ---------------------------------------------------------------------------------------
// Network targets

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NetProto {
    Tcp,
    Udp,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HostPat {
    /// `*`
    Any,
    /// `localhost`: the name, 127.0.0.0/8 and ::1.
    Localhost,
    /// An exact DNS name, lowercased, without trailing dot.
    Name(String),
    /// `*.suffix`: one or more labels before `suffix` (lowercased).
    Suffix(String),
    V4([u8; 4], u8),
    V6([u8; 16], u8),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NetTarget {
    pub proto: NetProto,
    pub host: HostPat,
    /// Inclusive ranges; empty = any port.
    pub ports: Vec<(u16, u16)>,
}

impl fmt::Display for NetTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.proto == NetProto::Udp {
            f.write_str("udp://")?;
        }
        match &self.host {
            HostPat::Any => f.write_str("*")?,
            HostPat::Localhost => f.write_str("localhost")?,
            HostPat::Name(n) => f.write_str(n)?,
            HostPat::Suffix(s) => write!(f, "*.{s}")?,
            HostPat::V4(a, p) => {
                write!(f, "{}", std::net::Ipv4Addr::from(*a))?;
                if *p != 32 {
                    write!(f, "/{p}")?;
                }
            }
            HostPat::V6(a, p) => {
                write!(f, "[{}", std::net::Ipv6Addr::from(*a))?;
                if *p != 128 {
                    write!(f, "/{p}")?;
                }
                f.write_str("]")?;
            }
        }
        if !self.ports.is_empty() {
            f.write_str(":")?;
            for (i, (a, b)) in self.ports.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                if a == b {
                    write!(f, "{a}")?;
                } else {
                    write!(f, "{a}-{b}")?;
                }
            }
        }
        Ok(())
    }
}

/// Parses `[proto://]host[:ports]`.
pub fn parse_net(s: &str) -> Result<NetTarget, PatError> {
    let all = 0..s.len();
    let (proto, rest, off) = if let Some(r) = s.strip_prefix("tcp://") {
        (NetProto::Tcp, r, 6)
    } else if let Some(r) = s.strip_prefix("udp://") {
        (NetProto::Udp, r, 6)
    } else if let Some(i) = s.find("://") {
        return Err(
            PatError::new(format!("unknown protocol `{}`", &s[..i]), 0..i)
                .help("the protocol is `tcp` (the default) or `udp`"),
        );
    } else {
        (NetProto::Tcp, s, 0)
    };
    if rest.is_empty() {
        return Err(PatError::new("empty network target", all)
            .help("write a host such as `api.github.com:443` or `*`"));
    }
    // Split host and ports.
    let (host_s, ports_s, port_off) = if let Some(r) = rest.strip_prefix('[') {
        let Some(end) = r.find(']') else {
            return Err(PatError::new("unclosed `[` in IPv6 address", off..s.len()));
        };
        let h = &r[..end];
        let after = &r[end + 1..];
        let ports = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => {
                return Err(PatError::new(
                    "unexpected text after the IPv6 address",
                    off + end + 2..s.len(),
                ))
            }
        };
        (format!("[{h}]"), ports, off + end + 3)
    } else {
        match rest.find(':') {
            Some(i) => (rest[..i].to_string(), Some(&rest[i + 1..]), off + i + 1),
            None => (rest.to_string(), None, 0),
        }
    };
    let host_range = off..off + host_s.len();
    let host = parse_host(&host_s).map_err(|m| PatError::new(m, host_range))?;
    let mut ports = Vec::new();
    if let Some(p) = ports_s {
        if p.is_empty() {
            return Err(PatError::new(
                "empty port list after `:`",
                port_off.saturating_sub(1)..s.len(),
            ));
        }
        let mut pos = port_off;
        for item in p.split(',') {
            let r = pos..pos + item.len();
            pos += item.len() + 1;
            let (a, b) = match item.split_once('-') {
                Some((a, b)) => (a, b),
                None => (item, item),
            };
            let pa = parse_port(a).map_err(|m| PatError::new(m, r.clone()))?;
            let pb = parse_port(b).map_err(|m| PatError::new(m, r.clone()))?;
            if pa > pb {
                return Err(PatError::new(format!("reversed port range `{item}`"), r)
                    .help(format!("write `{pb}-{pa}`")));
            }
            ports.push((pa, pb));
        }
        ports.sort();
        // Merge overlaps.
        let mut merged: Vec<(u16, u16)> = Vec::new();
        for (a, b) in ports {
            if let Some(last) = merged.last_mut() {
                if u32::from(a) <= u32::from(last.1) + 1 {
                    last.1 = last.1.max(b);
                    continue;
                }
            }
            merged.push((a, b));
        }
        ports = merged;
        if ports == [(1, 65535)] {
            ports.clear();
        }
    }
    Ok(NetTarget { proto, host, ports })
}

fn parse_port(s: &str) -> Result<u16, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{s}` is not a port"));
    }
    match s.parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
        _ => Err(format!("port `{s}` is out of range (1..65535)")),
    }
}

fn parse_host(h: &str) -> Result<HostPat, String> {
    if h == "*" {
        return Ok(HostPat::Any);
    }
    if let Some(inner) = h.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        let (addr, prefix) = match inner.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (inner, None),
        };
        let ip: std::net::Ipv6Addr = addr
            .parse()
            .map_err(|_| format!("`{addr}` is not an IPv6 address"))?;
        let p = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|n| *n <= 128)
                .ok_or_else(|| format!("`/{p}` is not a valid IPv6 prefix length (0..128)"))?,
            None => 128,
        };
        return Ok(HostPat::V6(mask16(ip.octets(), p), p));
    }
    let looks_v4 = h
        .split('/')
        .next()
        .is_some_and(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit() || b == b'.'));
    if looks_v4 {
        let (addr, prefix) = match h.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (h, None),
        };
        let ip: std::net::Ipv4Addr = addr
            .parse()
            .map_err(|_| format!("`{addr}` is not an IPv4 address"))?;
        let p = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|n| *n <= 32)
                .ok_or_else(|| format!("`/{p}` is not a valid IPv4 prefix length (0..32)"))?,
            None => 32,
        };
        return Ok(HostPat::V4(mask4(ip.octets(), p), p));
    }
    if h.contains(':') {
        return Err(format!(
            "`{h}` looks like an IPv6 address: write it in brackets, `[{h}]`"
        ));
    }
    let name = h.strip_suffix('.').unwrap_or(h).to_ascii_lowercase();
    let (suffix, name) = match name.strip_prefix("*.") {
        Some(n) => (true, n.to_string()),
        None => (false, name),
    };
    validate_dns(&name)?;
    if suffix {
        Ok(HostPat::Suffix(name))
    } else if name == "localhost" {
        Ok(HostPat::Localhost)
    } else {
        Ok(HostPat::Name(name))
    }
}

fn validate_dns(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty host name".into());
    }
    if name.len() > 253 {
        return Err("host name is longer than 253 characters".into());
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(format!("`{name}` has an empty label"));
        }
        if label.len() > 63 {
            return Err(format!("label `{label}` is longer than 63 characters"));
        }
        if label.contains('*') {
            return Err(format!(
                "`*` may only stand alone or as the first label (`*.example.com`), not in `{name}`"
            ));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(format!("`{c}` is not allowed in a host name"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("label `{label}` may not begin or end with `-`"));
        }
    }
    Ok(())
}

pub fn mask4(mut a: [u8; 4], p: u8) -> [u8; 4] {
    let v = u32::from_be_bytes(a);
    let m = if p == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(p))
    };
    a = (v & m).to_be_bytes();
    a
}

pub fn mask16(a: [u8; 16], p: u8) -> [u8; 16] {
    let v = u128::from_be_bytes(a);
    let m = if p == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(p))
    };
    (v & m).to_be_bytes()
}

// ---------------------------------------------------------------------------------------
// Args globs

/// An `args` glob: `*` any characters, `?` any one character, the rest literal.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArgsGlob {
    pub atoms: Vec<Atom>,
}

pub fn parse_args(chars: &[TChar]) -> ArgsGlob {
    let mut atoms = Vec::new();
    for t in chars {
        if t.literal {
            push_lit(&mut atoms, t.c);
            continue;
        }
        match t.c {
            '*' => {
                if atoms.last() != Some(&Atom::Star) {
                    atoms.push(Atom::Star)
                }
            }
            '?' => atoms.push(Atom::One),
            c => push_lit(&mut atoms, c),
        }
    }
    ArgsGlob { atoms }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(s: &str) -> Result<Vec<String>, String> {
        let t = Template::parse(s, true).map_err(|e| e.message)?;
        let cs = t.bind(&|n| {
            Some(if n == "home" {
                "/home/a".into()
            } else {
                "/w/[x]".into()
            })
        })?;
        parse_path(&cs, false)
            .map(|v| v.iter().map(|g| g.to_string()).collect())
            .map_err(|e| e.message)
    }

    #[test]
    fn paths() {
        assert_eq!(pat("/a//b/").unwrap(), vec!["/a/b"]);
        assert_eq!(pat("~/.ssh/**").unwrap(), vec!["/home/a/.ssh/**"]);
        assert_eq!(pat("/{a,b/c}/x").unwrap(), vec!["/a/x", "/b/c/x"]);
        assert_eq!(pat("**/.env").unwrap(), vec!["**/.env"]);
        assert_eq!(pat("/").unwrap(), vec!["/"]);
        assert!(pat("a/b").is_err());
        assert!(pat("/a/../b").is_err());
        assert!(pat("/a/**b").is_err());
        assert!(pat("/a/{b").is_err());
        assert!(pat("/a/[b").is_err());
        assert!(pat("~x").is_err());
        assert!(pat("/{a/**/b,c}").is_err());
        assert!(pat("/{{{{{{{{{a}}}}}}}}}").is_err());
        assert!(pat("/{{{{{{{{a}}}}}}}}").is_ok());
        assert_eq!(pat("/a[{]b").unwrap(), vec!["/a[{]b"]);
        assert_eq!(pat("/{x[}],y}").unwrap(), vec!["/x[}]", "/y"]);
    }

    #[test]
    fn param_text_is_literal() {
        let t = Template::parse("${w}/*", true).unwrap();
        let cs = t.bind(&|_| Some("/w/[x]".into())).unwrap();
        let g = parse_path(&cs, false).unwrap();
        assert_eq!(g[0].comps[1], Comp::Seg(vec![Atom::Lit("[x]".into())]));
    }

    #[test]
    fn net() {
        let t = parse_net("api.github.com:443").unwrap();
        assert_eq!(t.host, HostPat::Name("api.github.com".into()));
        assert_eq!(t.ports, vec![(443, 443)]);
        assert_eq!(
            parse_net("udp://10.0.0.0/8:53").unwrap().proto,
            NetProto::Udp
        );
        assert_eq!(
            parse_net("[::1]:80").unwrap().host,
            HostPat::V6(std::net::Ipv6Addr::LOCALHOST.octets(), 128)
        );
        assert_eq!(
            parse_net("*.Example.com.").unwrap().host,
            HostPat::Suffix("example.com".into())
        );
        assert_eq!(parse_net("x:80,443,8000-8999").unwrap().ports.len(), 3);
        assert!(parse_net("x:0").is_err());
        assert!(parse_net("x:65536").is_err());
        assert!(parse_net("x:90-80").is_err());
        assert!(parse_net("10.0.0.0/33").is_err());
        assert!(parse_net("300.1.1.1").is_err());
        assert!(parse_net("a.*.com").is_err());
        assert!(parse_net("ftp://x").is_err());
        assert!(parse_net("[2001:db8::/32]").is_ok());
    }
}

//! Hover: keywords and rights (their short docs), names (what they are), rules (the
//! agents that use them and what they decide) and patterns (what they match).

use crate::analysis::{Analysis, Kind, ROOT};
use crate::docs;
use crate::state::{tokens, word_of};
use mxc_lang::ast::{self, Elem, Item, LetValue, Modifier, Rule, Section, SectionKind};
use mxc_lang::check::placeholder;
use mxc_lang::diag::Code;
use mxc_lang::lexer::Tok;
use mxc_lang::model::ParamType;
use mxc_lang::pattern::{self, HostPat, NetProto, Template};
use mxc_lang::source::{SourceFile, Span};

/// Markdown for the place at `off` of the root file, and the span it is about.
pub fn hover(a: &Analysis, f: &SourceFile, off: usize) -> Option<(String, Span)> {
    let toks = tokens(&f.text);
    let tok = toks
        .iter()
        .find(|(s, _, e)| *s <= off && off < *e)
        .or_else(|| {
            toks.iter().find(|(_, _, e)| *e == off) // just after a word
        })?;
    let span = Span::new(ROOT, tok.0, tok.2);
    let tree = a.tree(ROOT)?;

    // A rule's effect keyword: the rule.
    if let Some((policy, kind, rule)) = rules(tree).find(|(_, _, r)| r.effect_span == span) {
        return Some((rule_hover(a, policy, kind, rule), rule.span));
    }
    // A name (a parameter inside a string too).
    if let Some(o) = a.occurrence_at(ROOT, off) {
        return Some((name_hover(a, o.kind, &o.name), o.span));
    }
    // A string: a pattern of a rule, a let, or an args glob.
    if let Tok::Str(_) = tok.1 {
        return pattern_at(a, tree, span).map(|md| (md, span));
    }
    let w = word_of(&tok.1)?;
    docs::word(w).map(|d| (d.to_string(), span))
}

fn rules(tree: &ast::File) -> impl Iterator<Item = (&ast::Policy, SectionKind, &ast::RuleNode)> {
    tree.items.iter().flat_map(|i| {
        let v: Vec<_> = match i {
            Item::Policy(p) => p
                .sections
                .iter()
                .flat_map(|s| match s {
                    Section::Ok { kind, rules, .. } => rules
                        .iter()
                        .filter_map(|r| match r {
                            Rule::Ok(r) => Some((p, *kind, r)),
                            Rule::Error(_) => None,
                        })
                        .collect::<Vec<_>>(),
                    Section::Error(_) => Vec::new(),
                })
                .collect(),
            _ => Vec::new(),
        };
        v
    })
}

fn elem_text(e: &Elem) -> String {
    match e {
        Elem::Str(s) => format!("`\"{}\"`", s.value),
        Elem::Name(i) => format!("`{}`", i.name),
    }
}

fn rule_hover(a: &Analysis, p: &ast::Policy, kind: SectionKind, r: &ast::RuleNode) -> String {
    let verb = match r.effect {
        ast::Effect::Allow => "allows",
        ast::Effect::Ask => "asks before",
        ast::Effect::Deny => "denies",
    };
    let rights: Vec<&str> = r.rights.iter().map(|i| i.name.as_str()).collect();
    let targets: Vec<String> = r.targets.iter().map(elem_text).collect();
    let mut md = format!(
        "**{} rule** of policy `{}`: {verb} `{}` on {}",
        kind.as_str(),
        p.name.name,
        rights.join("`, `"),
        targets.join(", ")
    );
    for m in &r.modifiers {
        match m {
            Modifier::From { targets, .. } => {
                let t: Vec<String> = targets.iter().map(elem_text).collect();
                md.push_str(&format!(", when the program asking is {}", t.join(" or ")));
            }
            Modifier::Args { glob, .. } => {
                md.push_str(&format!(", when the arguments match `\"{}\"`", glob.value))
            }
            Modifier::Because { .. } => {}
        }
    }
    if let Some(reason) = r.modifiers.iter().find_map(|m| match m {
        Modifier::Because { reason, .. } => Some(&reason.value),
        _ => None,
    }) {
        md.push_str(&format!("\n\nbecause: \"{reason}\""));
    }
    md.push_str(&format!(
        "\n\nA matching `{}` rule {}.",
        r.effect.as_str(),
        match r.effect {
            ast::Effect::Deny => "always decides: `deny` wins over every other rule",
            ast::Effect::Ask => "decides unless a `deny` rule also matches",
            ast::Effect::Allow => "decides only when no `deny` or `ask` rule also matches",
        }
    ));
    let users: Vec<String> = a
        .model
        .agents
        .iter()
        .filter_map(|ag| {
            let i = ag.uses.iter().position(|(n, _)| *n == p.name.name)?;
            Some(format!(
                "- `{}` (policy {} of {} in its `use` list; default `{}`)",
                ag.name,
                i + 1,
                ag.uses.len(),
                ag.default.as_str()
            ))
        })
        .collect();
    if users.is_empty() {
        md.push_str("\n\nNo agent uses this policy.");
    } else {
        md.push_str("\n\nAgents using it:\n");
        md.push_str(&users.join("\n"));
    }
    if a.diags.iter().any(|d| {
        d.code == Code::W0001
            && d.primary
                .is_some_and(|s| s.file == ROOT && s.start >= r.span.start && s.end <= r.span.end)
    }) {
        md.push_str("\n\n**Never decides a request** (W0001): other rules always decide first.");
    }
    md
}

/// The string at `span`: what it matches, from where it is used.
fn pattern_at(a: &Analysis, tree: &ast::File, span: Span) -> Option<String> {
    for (_, kind, r) in rules(tree) {
        for t in &r.targets {
            if let Elem::Str(s) = t {
                if s.span == span {
                    return Some(match kind {
                        SectionKind::Net => net_hover(&s.value),
                        SectionKind::Fs => path_hover(a, &s.value, "path"),
                        SectionKind::App => path_hover(a, &s.value, "program"),
                    });
                }
            }
        }
        for m in &r.modifiers {
            match m {
                Modifier::From { targets, .. } => {
                    for t in targets {
                        if let Elem::Str(s) = t {
                            if s.span == span {
                                return Some(path_hover(a, &s.value, "program"));
                            }
                        }
                    }
                }
                Modifier::Args { glob, .. } if glob.span == span => {
                    return Some(format!(
                        "**args glob** `\"{}\"`: matches launches whose arguments, joined by single spaces, match it; `*` matches any characters (spaces and `/` included), `?` any one character, everything else itself.",
                        glob.value
                    ));
                }
                _ => {}
            }
        }
    }
    for i in &tree.items {
        if let Item::Let(l) = i {
            let strs: Vec<&ast::StrLit> = match &l.value {
                LetValue::Str(s) => vec![s],
                LetValue::List(e, _) => e
                    .iter()
                    .filter_map(|e| match e {
                        Elem::Str(s) => Some(s),
                        Elem::Name(_) => None,
                    })
                    .collect(),
            };
            if let Some(s) = strs.into_iter().find(|s| s.span == span) {
                let v = &s.value;
                return Some(if looks_like_path(v) {
                    path_hover(a, v, "path")
                } else {
                    net_hover(v)
                });
            }
        }
    }
    None
}

fn looks_like_path(v: &str) -> bool {
    v.starts_with('/')
        || v.starts_with('~')
        || v.starts_with("${")
        || v.starts_with("**")
        || v.as_bytes().get(1) == Some(&b':')
            && v.as_bytes()
                .get(2)
                .is_some_and(|c| *c == b'/' || *c == b'\\')
}

/// What a path pattern matches (SPEC §4.1).
pub fn path_hover(a: &Analysis, v: &str, what: &str) -> String {
    let mut md = format!("**{what} pattern** `\"{v}\"`");
    let t = match Template::parse(v, true) {
        Ok(t) => t,
        Err(e) => return format!("{md}: invalid: {}", e.message),
    };
    let ty = |n: &str| a.model.params.get(n).map_or(ParamType::Path, |p| p.ty);
    let chars = match t.bind(&|n| Some(placeholder(n, ty(n)))) {
        Ok(c) => c,
        Err(n) => return format!("{md}: unknown parameter `{n}`"),
    };
    let globs = match pattern::parse_path(&chars, false) {
        Ok(g) => g,
        Err(e) => return format!("{md}: invalid: {}", e.message),
    };
    md.push_str(" matches ");
    let mut parts = Vec::new();
    let params: Vec<&str> = t.params().map(|(n, _)| n).collect();
    for g in &globs {
        parts.push(describe_glob(g));
    }
    if parts.len() == 1 {
        md.push_str(&parts[0]);
    } else {
        md.push_str(&format!("any of {} alternatives:\n", parts.len()));
        for p in parts {
            md.push_str(&format!("\n- {p}"));
        }
    }
    if !params.is_empty() {
        md.push_str(&format!(
            "\n\nParameters: {} (their values are matched literally).",
            params
                .iter()
                .map(|p| if *p == "home" {
                    "`home` (`~`)".to_string()
                } else {
                    format!("`{p}`")
                })
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    md
}

fn describe_glob(g: &pattern::PathGlob) -> String {
    use pattern::{Atom, Comp, Root};
    let shown = g.to_string();
    let shown = shown
        .replace("/home/__mxc_user", "~")
        .replace("/__mxc/param/", "${");
    let mut notes = Vec::new();
    if g.root == Root::Anywhere {
        notes.push(
            "at any depth (the pattern's end is matched at the end of any absolute path)"
                .to_string(),
        );
    }
    let n = g.comps.len();
    for (i, c) in g.comps.iter().enumerate() {
        match c {
            Comp::AnyDepth if i + 1 == n => {
                notes.push("the place itself and everything beneath it".to_string())
            }
            Comp::AnyDepth if g.root != Root::Anywhere || i > 0 => {
                notes.push("`**` stands for zero or more whole directories".to_string())
            }
            Comp::AnyDepth => {}
            Comp::Seg(atoms) => {
                if atoms.iter().any(|a| matches!(a, Atom::Star)) {
                    notes
                        .push("`*` matches any characters within one component (never `/`)".into());
                }
                if atoms.iter().any(|a| matches!(a, Atom::One)) {
                    notes.push("`?` matches one character other than `/`".into());
                }
                if atoms.iter().any(|a| matches!(a, Atom::Class { .. })) {
                    notes.push("`[...]` matches one character of the class".into());
                }
            }
        }
    }
    notes.dedup();
    let literal = g
        .comps
        .iter()
        .all(|c| matches!(c, Comp::Seg(a) if a.iter().all(|a| matches!(a, Atom::Lit(_)))))
        && g.root != Root::Anywhere;
    // Close the placeholder braces written as `${name` above.
    let mut s = close_params(&format!("`{shown}`"));
    if literal {
        s.push_str(": exactly this path");
    } else if !notes.is_empty() {
        s.push_str(": ");
        s.push_str(&notes.join("; "));
    }
    s
}

/// `${name/rest` (a placeholder shown as its parameter) → `${name}/rest`.
fn close_params(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i + 2]);
        rest = &rest[i + 2..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        out.push_str(&rest[..end]);
        out.push('}');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// What a network target matches (SPEC §4.2).
pub fn net_hover(v: &str) -> String {
    let md = format!("**network target** `\"{v}\"`");
    if v.contains("${") {
        return format!("{md}: with its parameters bound, `[proto://]host[:ports]`");
    }
    let t = match pattern::parse_net(v) {
        Ok(t) => t,
        Err(e) => return format!("{md}: invalid: {}", e.message),
    };
    let proto = match t.proto {
        NetProto::Tcp => "TCP",
        NetProto::Udp => "UDP",
    };
    let host = match &t.host {
        HostPat::Any => "any host (name or address)".to_string(),
        HostPat::Localhost => {
            "`localhost`: the name, 127.0.0.0/8 and [::1] (the machine the agent runs on)"
                .to_string()
        }
        HostPat::Name(n) => {
            format!("the host name `{n}` (not its addresses: the engine does no DNS)")
        }
        HostPat::Suffix(s) => {
            format!("any name with one or more labels before `{s}` (not `{s}` itself)")
        }
        HostPat::V4(a, 32) => format!("the address {}", std::net::Ipv4Addr::from(*a)),
        HostPat::V4(a, p) => format!("addresses in {}/{p}", std::net::Ipv4Addr::from(*a)),
        HostPat::V6(a, 128) => format!("the address [{}]", std::net::Ipv6Addr::from(*a)),
        HostPat::V6(a, p) => format!("addresses in [{}/{p}]", std::net::Ipv6Addr::from(*a)),
    };
    let ports = if t.ports.is_empty() {
        "any port".to_string()
    } else {
        let p: Vec<String> = t
            .ports
            .iter()
            .map(|(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect();
        format!(
            "port{} {}",
            if p.len() == 1 && !p[0].contains('-') {
                ""
            } else {
                "s"
            },
            p.join(", ")
        )
    };
    format!("{md} matches {proto} to {host}, {ports}")
}

/// A name: what it is, where it is defined, and (for policies) which agents use it.
fn name_hover(a: &Analysis, kind: Kind, name: &str) -> String {
    let mut md = format!("**{}** `{name}`", kind.as_str());
    match kind {
        Kind::Param => {
            if let Some(p) = a.model.params.get(name) {
                let ty = match p.ty {
                    ParamType::Path => "path",
                    ParamType::String => "string",
                };
                md.push_str(&format!(": {ty}"));
                if let Some(d) = &p.default {
                    md.push_str(&format!(" = \"{d}\""));
                }
                if name == "home" {
                    md.push_str(
                        "\n\nAlways declared; `~` at the start of a path pattern means `${home}`.",
                    );
                }
            } else {
                md.push_str(" (not declared)");
            }
        }
        Kind::Let => {
            for (_, tree) in &a.files {
                for i in &tree.items {
                    if let Item::Let(l) = i {
                        if l.name.name == name {
                            let v = match &l.value {
                                LetValue::Str(s) => format!("\"{}\"", s.value),
                                LetValue::List(e, _) => format!(
                                    "[{}]",
                                    e.iter()
                                        .map(|e| match e {
                                            Elem::Str(s) => format!("\"{}\"", s.value),
                                            Elem::Name(i) => i.name.clone(),
                                        })
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            };
                            md.push_str(&format!(" = `{v}`"));
                        }
                    }
                }
            }
        }
        Kind::Policy => {
            if let Some(p) = a.model.policy(name) {
                md.push_str(&format!(": {} rules", p.rules.len()));
            }
            let users: Vec<String> = a
                .model
                .agents
                .iter()
                .filter(|ag| ag.uses.iter().any(|(n, _)| n == name))
                .map(|ag| format!("`{}`", ag.name))
                .collect();
            if users.is_empty() {
                md.push_str("\n\nUsed by no agent.");
            } else {
                md.push_str(&format!("\n\nUsed by {}.", users.join(", ")));
            }
        }
        Kind::Agent => {
            if let Some(ag) = a.model.agent(name) {
                let uses: Vec<String> = ag.uses.iter().map(|(n, _)| format!("`{n}`")).collect();
                md.push_str(&format!(
                    ": uses {} (in this order); default `{}`; isolation `{}`",
                    uses.join(", "),
                    ag.default.as_str(),
                    match ag.isolation {
                        mxc_lang::model::IsolationDef::Process => "process",
                        mxc_lang::model::IsolationDef::Container => "container",
                        mxc_lang::model::IsolationDef::Microvm => "microvm",
                    }
                ));
            }
        }
    }
    md
}

//! Binding an agent: its policies in evaluation order, parameters substituted, every
//! target parsed into typed globs. The result feeds both the compiler and the
//! reference interpreter.

use crate::ast::{Effect, SectionKind};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::*;
use crate::pattern::{self, ArgsGlob, NetTarget, PathGlob, TChar};
use crate::source::Span;
use std::collections::BTreeMap;

/// One rule of a bound agent. Rules are numbered in evaluation order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundRule {
    pub policy: String,
    pub effect: Effect,
    pub section: SectionKind,
    pub rights: Rights,
    /// fs targets / app programs.
    pub paths: Vec<PathGlob>,
    /// net targets.
    pub nets: Vec<NetTarget>,
    /// `from` programs (net); empty = any requester.
    pub from: Vec<PathGlob>,
    /// The bound text of each path target (fs targets / app programs) and of each
    /// `from` pattern, alternatives unexpanded: what the reference interpreter
    /// (`interp`) matches, independently of how [`pattern::parse_path`] reads it.
    pub path_text: Vec<Vec<TChar>>,
    pub from_text: Vec<Vec<TChar>>,
    pub args: Option<ArgsGlob>,
    pub because: Option<String>,
    /// The effect keyword's span.
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Bound {
    pub agent: AgentDef,
    pub windows: bool,
    pub rules: Vec<BoundRule>,
    pub params: BTreeMap<String, String>,
}

/// Normalises an absolute path value lexically (collapse `//`, drop `.`, resolve `..`,
/// drop a trailing `/`). `None` when not absolute.
pub fn normalize_value(v: &str) -> Option<String> {
    let (prefix, rest) = if v.starts_with('/') {
        (String::new(), v)
    } else if crate::check::is_absolute(v) {
        (v[..2].to_ascii_uppercase(), &v[2..])
    } else {
        return None;
    };
    let windows = !prefix.is_empty();
    let mut parts: Vec<&str> = Vec::new();
    for c in rest.split(|ch| ch == '/' || (windows && ch == '\\')) {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    Some(format!("{prefix}/{}", parts.join("/")))
}

/// Binds `agent`'s policies with `params` (given values win over defaults).
pub fn bind(
    model: &Model,
    agent: &str,
    given: &BTreeMap<String, String>,
    windows: bool,
) -> Result<Bound, Diagnostics> {
    let mut diags = Diagnostics::default();
    let Some(a) = model.agent(agent) else {
        let names: Vec<&str> = model.agents.iter().map(|a| a.name.as_str()).collect();
        let mut d = Diagnostic::global(Code::E0002, format!("unknown agent `{agent}`"));
        d = if names.is_empty() {
            d.note("the files define no agent")
        } else {
            d.note(format!("the files define: {}", names.join(", ")))
        };
        diags.push(d);
        return Err(diags);
    };
    for k in given.keys() {
        if !model.params.contains_key(k) {
            diags.push(
                Diagnostic::global(Code::E0002, format!("unknown parameter `{k}` given"))
                    .help("declare it with `param NAME: path` or remove the `--param`"),
            );
        }
    }
    // Resolve values.
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    for (name, def) in &model.params {
        let v = given.get(name).cloned().or_else(|| def.default.clone());
        let Some(v) = v else { continue };
        let v = if def.ty == ParamType::Path {
            match normalize_value(&v) {
                Some(n) => n,
                None => {
                    diags.push(
                        Diagnostic::global(
                            Code::E0009,
                            format!("value `{v}` of path parameter `{name}` is not absolute"),
                        )
                        .help("a `path` value begins with `/` (or a drive such as `C:/`)"),
                    );
                    continue;
                }
            }
        } else {
            v
        };
        values.insert(name.clone(), v);
    }
    let mut rules = Vec::new();
    let mut reported: Vec<String> = Vec::new();
    for (pname, _) in &a.uses {
        let Some(p) = model.policy(pname) else {
            continue;
        };
        for r in &p.rules {
            let mut br = BoundRule {
                policy: p.name.clone(),
                effect: r.effect,
                section: r.section,
                rights: r.rights,
                paths: Vec::new(),
                nets: Vec::new(),
                from: Vec::new(),
                path_text: Vec::new(),
                from_text: Vec::new(),
                args: None,
                because: r.because.clone(),
                span: r.effect_span,
            };
            let lookup = |n: &str| values.get(n).cloned();
            let mut unbound = |src: &Src, diags: &mut Diagnostics, name: String| {
                if !reported.contains(&name) {
                    reported.push(name.clone());
                    diags.push(
                        Diagnostic::new(
                            Code::E0009,
                            src.use_span(),
                            format!("parameter `{name}` is unbound for agent `{agent}`"),
                        )
                        .with_label(format!("uses `{name}`"))
                        .help(format!(
                            "give it a value: `--param {name}=/...` on the command line, `with {name} = \"...\"` in a test, or a default in its `param`"
                        )),
                    );
                }
            };
            for src in &r.targets {
                match r.section {
                    SectionKind::Net => match src.template.render(&lookup) {
                        Ok(text) => match pattern::parse_net(&text) {
                            Ok(t) => br.nets.push(t),
                            Err(e) => diags.push(
                                Diagnostic::new(
                                    Code::E0006,
                                    src.use_span(),
                                    format!("invalid network target `{text}`: {}", e.message),
                                )
                                .with_label("after parameters were substituted"),
                            ),
                        },
                        Err(n) => unbound(src, &mut diags, n),
                    },
                    _ => match bind_path(src, &lookup, windows) {
                        Ok((gs, text)) => {
                            br.paths.extend(gs);
                            br.path_text.push(text);
                        }
                        Err(Ok(n)) => unbound(src, &mut diags, n),
                        Err(Err(d)) => diags.push(*d),
                    },
                }
            }
            for src in &r.from {
                match bind_path(src, &lookup, windows) {
                    Ok((gs, text)) => {
                        br.from.extend(gs);
                        br.from_text.push(text);
                    }
                    Err(Ok(n)) => unbound(src, &mut diags, n),
                    Err(Err(d)) => diags.push(*d),
                }
            }
            if let Some(src) = &r.args {
                match src.template.bind(&lookup) {
                    Ok(cs) => br.args = Some(pattern::parse_args(&cs)),
                    Err(n) => unbound(src, &mut diags, n),
                }
            }
            rules.push(br);
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(Bound {
        agent: a.clone(),
        windows,
        rules,
        params: values,
    })
}

/// A path pattern bound: its globs (alternatives expanded) and the text they stand for.
type BoundPath = (Vec<PathGlob>, Vec<TChar>);

/// Binds one path pattern; `Err(Ok(name))` for an unbound parameter.
fn bind_path(
    src: &Src,
    lookup: &dyn Fn(&str) -> Option<String>,
    windows: bool,
) -> Result<BoundPath, Result<String, Box<Diagnostic>>> {
    let chars = src.template.bind(lookup).map_err(Ok)?;
    let globs = pattern::parse_path(&chars, windows).map_err(|e| {
        Err(Box::new(
            Diagnostic::new(
                Code::E0005,
                src.use_span(),
                format!("invalid path pattern: {}", e.message),
            )
            .with_label("after parameters were substituted"),
        ))
    })?;
    Ok((globs, chars))
}

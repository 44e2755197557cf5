//! Resolution and checking: parsed files in, a [`Model`] and diagnostics out.
//!
//! Reports every E-code of SPEC §9 that can be judged without compiling an agent, and
//! W0002 (unused let/param), W0003 (unused policy) and W0004 (broad grants). The lints
//! that need decisions (W0001, W0005, W0006) live in [`crate::lints`].

use crate::ast::{
    self, AgentStmt, Effect, Elem, EnvKind, Item, LetValue, Modifier, SectionKind, StrLit,
    TestStmt, Value,
};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::Parsed;
use crate::model::*;
use crate::pattern::{self, Template};
use crate::source::Span;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Placeholder values for parameters when a pattern is checked without an agent.
pub fn placeholder(name: &str, ty: ParamType) -> String {
    match (name, ty) {
        ("home", _) => "/home/__mxc_user".to_string(),
        (_, ParamType::Path) => format!("/__mxc/param/{name}"),
        (_, ParamType::String) => format!("mxc-param-{}", name.to_ascii_lowercase()),
    }
}

struct LetInfo {
    span: Span,
    value: LetRaw,
    used: bool,
}

#[derive(Clone)]
enum LetRaw {
    Str(StrLit),
    List(Vec<Elem>),
}

struct Checker {
    diags: Diagnostics,
    lets: HashMap<String, LetInfo>,
    params: BTreeMap<String, ParamDef>,
    used_params: HashSet<String>,
    /// Names left that "did you mean" may still compare (see [`Checker::suggest`]).
    suggestion_budget: std::cell::Cell<usize>,
    /// Elements that let expansions may still visit (see [`Checker::flatten_let`]).
    let_budget: usize,
    let_budget_reported: bool,
}

/// How many let elements the expansions of one check visit, in all: lets that list each
/// other can describe exponentially many targets in a few lines.
const LET_EXPANSION_BUDGET: usize = 10_000_000;

/// Agents and policies by name (the first of a name, as [`Model::agent`] finds), and
/// each agent's parameters once computed: checking thousands of tests stays linear.
struct Index<'m> {
    agents: HashMap<&'m str, &'m AgentDef>,
    policies: HashMap<&'m str, &'m PolicyDef>,
    params: HashMap<&'m str, Vec<String>>,
}

impl<'m> Index<'m> {
    fn new(model: &'m Model) -> Index<'m> {
        let mut agents = HashMap::new();
        for a in &model.agents {
            agents.entry(a.name.as_str()).or_insert(a);
        }
        let mut policies = HashMap::new();
        for p in &model.policies {
            policies.entry(p.name.as_str()).or_insert(p);
        }
        Index {
            agents,
            policies,
            params: HashMap::new(),
        }
    }

    /// As [`Model::params_of`], for the agent of this name.
    fn params_of(&mut self, agent: &str) -> Option<Vec<String>> {
        let a = *self.agents.get(agent)?;
        if let Some(p) = self.params.get(a.name.as_str()) {
            return Some(p.clone());
        }
        let mut out: Vec<String> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for (p, _) in &a.uses {
            let Some(p) = self.policies.get(p.as_str()) else {
                continue;
            };
            for r in &p.rules {
                for s in r.targets.iter().chain(&r.from).chain(r.args.iter()) {
                    for (n, _) in s.template.params() {
                        if seen.insert(n) {
                            out.push(n.to_string());
                        }
                    }
                }
            }
        }
        self.params.insert(a.name.as_str(), out.clone());
        Some(out)
    }
}

/// How many names one check compares for "did you mean" suggestions, in all.
const SUGGESTION_BUDGET: usize = 200_000;

/// Checks parsed files.
pub fn check(parsed: &Parsed) -> (Model, Diagnostics) {
    let mut c = Checker {
        diags: Diagnostics::default(),
        lets: HashMap::new(),
        params: BTreeMap::new(),
        used_params: HashSet::new(),
        suggestion_budget: std::cell::Cell::new(SUGGESTION_BUDGET),
        let_budget: LET_EXPANSION_BUDGET,
        let_budget_reported: false,
    };
    c.params.insert(
        "home".into(),
        ParamDef {
            name: "home".into(),
            ty: ParamType::Path,
            default: None,
            span: None,
        },
    );
    let mut model = Model::default();
    // Pass 1: declarations.
    let mut policy_asts: Vec<&ast::Policy> = Vec::new();
    let mut agent_asts: Vec<&ast::Agent> = Vec::new();
    let mut test_asts: Vec<&ast::Test> = Vec::new();
    let mut first_policy: HashMap<&str, Span> = HashMap::new();
    let mut first_agent: HashMap<&str, Span> = HashMap::new();
    let mut first_test: HashMap<&str, Span> = HashMap::new();
    for (_, file) in &parsed.files {
        for item in &file.items {
            match item {
                Item::Let(l) => {
                    if let Some(prev) = c.lets.get(&l.name.name) {
                        let d = dup(&l.name, "let", prev.span);
                        c.diags.push(d);
                        continue;
                    }
                    let value = match &l.value {
                        LetValue::Str(s) => LetRaw::Str(s.clone()),
                        LetValue::List(v, _) => LetRaw::List(v.clone()),
                    };
                    c.lets.insert(
                        l.name.name.clone(),
                        LetInfo {
                            span: l.name.span,
                            value,
                            used: false,
                        },
                    );
                }
                Item::Param(p) => c.declare_param(p),
                Item::Policy(p) => {
                    if let Some(prev) = first_policy.get(p.name.name.as_str()) {
                        c.diags.push(dup(&p.name, "policy", *prev));
                        continue;
                    }
                    first_policy.insert(&p.name.name, p.name.span);
                    policy_asts.push(p);
                }
                Item::Agent(a) => {
                    if let Some(prev) = first_agent.get(a.name.name.as_str()) {
                        c.diags.push(dup(&a.name, "agent", *prev));
                        continue;
                    }
                    first_agent.insert(&a.name.name, a.name.span);
                    agent_asts.push(a);
                }
                Item::Test(t) => {
                    if let Some(prev) = first_test.get(t.name.value.as_str()) {
                        c.diags.push(
                            Diagnostic::new(
                                Code::E0003,
                                t.name.span,
                                format!("test `{}` is defined more than once", t.name.value),
                            )
                            .with_label("defined again here")
                            .label(*prev, "first defined here")
                            .help("give each test its own name"),
                        );
                        continue;
                    }
                    first_test.insert(&t.name.value, t.name.span);
                    test_asts.push(t);
                }
                Item::Import(_) | Item::Error(_) => {}
            }
        }
    }
    // Let references between lets must resolve (and not loop), even if unused.
    c.check_let_refs();
    for p in &policy_asts {
        let def = c.policy(p);
        model.policies.push(def);
    }
    for a in &agent_asts {
        if let Some(def) = c.agent(a, &first_policy) {
            model.agents.push(def);
        }
    }
    let mut index = Index::new(&model);
    let tests: Vec<TestDef> = test_asts
        .iter()
        .map(|t| c.test(t, &model, &mut index))
        .collect();
    model.tests.extend(tests);
    // W0002: unused lets and params.
    let mut unused: Vec<(Span, String, &str)> = c
        .lets
        .iter()
        .filter(|(_, l)| !l.used)
        .map(|(n, l)| (l.span, n.clone(), "let"))
        .collect();
    for (n, p) in &c.params {
        if let Some(span) = p.span {
            if !c.used_params.contains(n) {
                unused.push((span, n.clone(), "param"));
            }
        }
    }
    // The standard library's lets, params and policies are there to be picked from:
    // an importer that uses some of them is not told about the rest.
    let in_std = |span: Span| crate::load::is_std(&parsed.sources.file(span.file).path);
    unused.retain(|u| !in_std(u.0));
    unused.sort_by_key(|u| (u.0.file, u.0.start));
    for (span, n, kind) in unused {
        c.diags.push(
            Diagnostic::new(Code::W0002, span, format!("unused {kind} `{n}`"))
                .with_label("never used")
                .help(
                    format!(
                        "remove it, or use it in a rule{}",
                        if kind == "param" { " as `${...}`" } else { "" }
                    )
                    .replace("${...}", &format!("${{{n}}}")),
                ),
        );
    }
    // W0003: policies no agent uses.
    let used: HashSet<&str> = model
        .agents
        .iter()
        .flat_map(|a| a.uses.iter().map(|u| u.0.as_str()))
        .collect();
    for p in &model.policies {
        if !used.contains(p.name.as_str()) && !in_std(p.span) {
            c.diags.push(
                Diagnostic::new(
                    Code::W0003,
                    p.span,
                    format!("policy `{}` is used by no agent", p.name),
                )
                .with_label("never used")
                .help(format!(
                    "add `use {}` to an agent, or remove the policy",
                    p.name
                )),
            );
        }
    }
    model.params = c.params;
    (model, c.diags)
}

fn dup(name: &ast::Ident, kind: &str, prev: Span) -> Diagnostic {
    Diagnostic::new(
        Code::E0003,
        name.span,
        format!("{kind} `{}` is defined more than once", name.name),
    )
    .with_label("defined again here")
    .label(prev, "first defined here")
    .help(format!(
        "rename or remove one of the two {kind} definitions"
    ))
}

impl Checker {
    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn declare_param(&mut self, p: &ast::Param) {
        if let Some(prev) = self.params.get(&p.name.name) {
            let d = match prev.span {
                Some(s) => dup(&p.name, "param", s),
                None => Diagnostic::new(
                    Code::E0003,
                    p.name.span,
                    format!("param `{}` is built in", p.name.name),
                )
                .with_label("already declared")
                .help("`home` is always declared as a `path`; bind it with `--param home=...` or `with home = ...`"),
            };
            self.err(d);
            return;
        }
        let ty = match p.ty.name.as_str() {
            "path" => ParamType::Path,
            "string" => ParamType::String,
            other => {
                self.err(
                    Diagnostic::new(
                        Code::E0010,
                        p.ty.span,
                        format!("unknown parameter type `{other}`"),
                    )
                    .with_label("expected `path` or `string`"),
                );
                ParamType::String
            }
        };
        if let (Some(d), ParamType::Path) = (&p.default, ty) {
            if !is_absolute(&d.value) {
                self.err(
                    Diagnostic::new(
                        Code::E0009,
                        d.span,
                        format!(
                            "default of path parameter `{}` is not absolute",
                            p.name.name
                        ),
                    )
                    .with_label("not an absolute path")
                    .help("a `path` value begins with `/` (or a drive such as `C:/`)"),
                );
            }
        }
        self.params.insert(
            p.name.name.clone(),
            ParamDef {
                name: p.name.name.clone(),
                ty,
                default: p.default.as_ref().map(|d| d.value.clone()),
                span: Some(p.name.span),
            },
        );
    }

    /// Flattens a let into its strings, marking every let reached as used; `via` is the
    /// use site. Iterative, and each let is expanded once per use (a let listed twice,
    /// or reached twice, adds its strings once; a cycle, reported by
    /// [`Checker::check_let_refs`], adds nothing). The expansions of one check are
    /// bounded (see [`LET_EXPANSION_BUDGET`]).
    fn flatten_let(&mut self, name: &str, via: Span) -> Vec<(StrLit, Span)> {
        let mut out = Vec::new();
        let mut expanded: HashSet<String> = HashSet::new();
        // Lists being expanded: (let name, index of the next element).
        let mut stack: Vec<(String, usize)> = Vec::new();
        let mut enter = |c: &mut Checker,
                         n: &str,
                         stack: &mut Vec<(String, usize)>,
                         out: &mut Vec<(StrLit, Span)>| {
            if !expanded.insert(n.to_string()) {
                return;
            }
            let Some(info) = c.lets.get_mut(n) else {
                return;
            };
            info.used = true;
            match &info.value {
                LetRaw::Str(s) => out.push((s.clone(), via)),
                LetRaw::List(_) => stack.push((n.to_string(), 0)),
            }
        };
        enter(self, name, &mut stack, &mut out);
        while let Some((n, i)) = stack.last_mut() {
            let next = match self.lets.get(n.as_str()).map(|l| &l.value) {
                Some(LetRaw::List(elems)) => elems.get(*i).cloned(),
                _ => None,
            };
            *i += 1;
            let Some(e) = next else {
                stack.pop();
                continue;
            };
            if self.let_budget == 0 {
                if !self.let_budget_reported {
                    self.let_budget_reported = true;
                    self.err(
                        Diagnostic::new(
                            Code::E0010,
                            via,
                            format!("let expansions exceed {LET_EXPANSION_BUDGET} elements"),
                        )
                        .with_label("while expanding this")
                        .help("lets that list each other many times expand to many targets; list the strings once"),
                    );
                }
                break;
            }
            self.let_budget -= 1;
            match e {
                Elem::Str(s) => out.push((s, via)),
                Elem::Name(id) => enter(self, &id.name, &mut stack, &mut out),
            }
        }
        out
    }

    /// Checks the names that lets list: each must be a let (E0002), and no let may
    /// reach itself (one E0002 per cycle, at the name that closes it). Linear in the
    /// lets, whatever their depth.
    fn check_let_refs(&mut self) {
        #[derive(Clone, Copy, PartialEq)]
        enum State {
            Open,
            Done,
        }
        let mut names: Vec<String> = self.lets.keys().cloned().collect();
        names.sort_by_key(|n| self.lets[n].span.start);
        names.sort_by_key(|n| self.lets[n].span.file);
        let mut state: HashMap<String, State> = HashMap::new();
        for root in names {
            if state.contains_key(&root) {
                continue;
            }
            state.insert(root.clone(), State::Open);
            let mut stack: Vec<(String, usize)> = vec![(root, 0)];
            while let Some((n, i)) = stack.last_mut() {
                let next = match self.lets.get(n.as_str()).map(|l| &l.value) {
                    Some(LetRaw::List(elems)) => elems.get(*i).cloned(),
                    _ => None,
                };
                *i += 1;
                let Some(e) = next else {
                    if let Some((n, _)) = stack.pop() {
                        state.insert(n, State::Done);
                    }
                    continue;
                };
                let Elem::Name(id) = e else { continue };
                if !self.lets.contains_key(&id.name) {
                    self.unknown_let(&id);
                    continue;
                }
                match state.get(&id.name) {
                    Some(State::Done) => {}
                    Some(State::Open) => {
                        let from = stack.iter().position(|(s, _)| *s == id.name).unwrap_or(0);
                        let chain: Vec<&str> = stack[from..]
                            .iter()
                            .map(|(s, _)| s.as_str())
                            .chain(std::iter::once(id.name.as_str()))
                            .collect();
                        let span = self.lets[&id.name].span;
                        self.err(
                            Diagnostic::new(
                                Code::E0002,
                                id.span,
                                format!("let `{}` refers to itself", id.name),
                            )
                            .with_label("this reference loops back")
                            .label(span, "defined here")
                            .note(format!("cycle: {}", chain.join(" -> "))),
                        );
                    }
                    None => {
                        state.insert(id.name.clone(), State::Open);
                        stack.push((id.name.clone(), 0));
                    }
                }
            }
        }
    }

    fn unknown_let(&mut self, id: &ast::Ident) {
        let mut d = Diagnostic::new(Code::E0002, id.span, format!("unknown let `{}`", id.name))
            .with_label("not defined");
        if let Some(s) = self.suggest(&id.name, self.lets.keys().map(String::as_str)) {
            d = d.help(format!("did you mean `{s}`?"));
        } else {
            d = d.help(format!(
                "define it with `let {} = [...]`, or write the value as a string",
                id.name
            ));
        }
        self.err(d);
    }

    /// The candidate closest to a misspelt name (at most two edits away, more for long
    /// names). Names of a very different length are not compared, nor names over 64
    /// characters; and the comparisons of one check are bounded (see
    /// [`SUGGESTION_BUDGET`]), so a file of thousands of unknown names is not quadratic.
    fn suggest<'n>(
        &self,
        name: &str,
        candidates: impl IntoIterator<Item = &'n str>,
    ) -> Option<String> {
        let len = name.chars().count();
        if len > 64 {
            return None;
        }
        candidates
            .into_iter()
            .filter(|c| {
                let n = c.chars().count();
                n.abs_diff(len) <= 2.max(n / 4) && n <= 64
            })
            .take_while(|_| {
                let left = self.suggestion_budget.get();
                self.suggestion_budget.set(left.saturating_sub(1));
                left > 0
            })
            .map(|c| (edit_distance(name, c), c))
            .filter(|(d, c)| *d <= 2.max(c.len() / 4) && *d > 0)
            .min()
            .map(|(_, c)| c.to_string())
    }

    /// Resolves target elements into sources.
    fn elems(&mut self, elems: &[Elem]) -> Vec<(StrLit, Option<Span>)> {
        let mut out = Vec::new();
        for e in elems {
            match e {
                Elem::Str(s) => out.push((s.clone(), None)),
                Elem::Name(id) => {
                    if self.lets.contains_key(&id.name) {
                        for (s, via) in self.flatten_let(&id.name, id.span) {
                            out.push((s, Some(via)));
                        }
                    } else {
                        self.unknown_let(id);
                    }
                }
            }
        }
        out
    }

    /// Parses the template of a string and checks its `${...}` references.
    fn template(&mut self, s: &StrLit, via: Option<Span>, tilde: bool) -> Option<Src> {
        let code = if tilde { Code::E0005 } else { Code::E0006 };
        self.template_with(s, via, tilde, code)
    }

    fn template_with(
        &mut self,
        s: &StrLit,
        via: Option<Span>,
        tilde: bool,
        code: Code,
    ) -> Option<Src> {
        let src = |t: Template| Src {
            text: s.value.clone(),
            template: t,
            span: s.span,
            via,
            verbatim: s.verbatim,
        };
        match Template::parse(&s.value, tilde) {
            Ok(t) => {
                let mut ok = true;
                for (n, r) in t.params() {
                    if self.params.contains_key(n) {
                        self.used_params.insert(n.to_string());
                    } else {
                        ok = false;
                        let mut d = Diagnostic::new(
                            Code::E0002,
                            s.sub_span(r.clone()),
                            format!("unknown parameter `{n}`"),
                        )
                        .with_label("not declared");
                        d = match self.suggest(n, self.params.keys().map(String::as_str)) {
                            Some(sg) => d.help(format!("did you mean `{sg}`?")),
                            None => d.help(format!("declare it with `param {n}: path`")),
                        };
                        if let Some(v) = via {
                            d = d.label(v, "used here");
                        }
                        self.err(d);
                    }
                }
                ok.then(|| src(t))
            }
            Err(e) => {
                let what = match code {
                    Code::E0005 => "invalid path pattern: ",
                    Code::E0006 => "invalid network target: ",
                    Code::E0010 => "invalid arguments glob: ",
                    _ => "",
                };
                let mut d = Diagnostic::new(
                    code,
                    s.sub_span(e.range.clone()),
                    format!("{what}{}", e.message),
                )
                .with_label("in this pattern");
                if let Some(h) = e.help {
                    d = d.help(h);
                }
                if let Some(v) = via {
                    d = d.label(v, "used here");
                }
                self.err(d);
                None
            }
        }
    }

    fn placeholder_of(&self, n: &str) -> Option<String> {
        self.params.get(n).map(|p| placeholder(n, p.ty))
    }

    /// Checks a path pattern's syntax with placeholder parameters.
    fn check_path(&mut self, src: &Src) -> bool {
        let Ok(chars) = src.template.bind(&|n| self.placeholder_of(n)) else {
            return false;
        };
        match pattern::parse_path(&chars, false) {
            Ok(_) => true,
            Err(e) => {
                self.pattern_error(
                    src,
                    e,
                    Code::E0005,
                    "invalid path pattern",
                    "in this pattern",
                );
                false
            }
        }
    }

    fn check_net(&mut self, src: &Src) -> bool {
        let has_params = src.template.params().next().is_some();
        let Ok(text) = src.template.render(&|n| self.placeholder_of(n)) else {
            return false;
        };
        match pattern::parse_net(&text) {
            Ok(_) => true,
            Err(_) if has_params => true, // judged when the agent is compiled
            Err(e) => {
                self.pattern_error(
                    src,
                    e,
                    Code::E0006,
                    "invalid network target",
                    "in this target",
                );
                false
            }
        }
    }

    /// Reports a pattern that does not parse: `what: message` at the error's place in
    /// `src`, with its help and the place the text was used from.
    fn pattern_error(
        &mut self,
        src: &Src,
        e: pattern::PatError,
        code: Code,
        what: &str,
        label: &str,
    ) {
        let mut d = Diagnostic::new(
            code,
            src.sub_span(e.range.clone()),
            format!("{what}: {}", e.message),
        )
        .with_label(label);
        if let Some(h) = e.help {
            d = d.help(h);
        }
        if let Some(v) = src.via {
            d = d.label(v, "used here");
        }
        self.err(d);
    }

    fn policy(&mut self, p: &ast::Policy) -> PolicyDef {
        let mut rules = Vec::new();
        for sec in &p.sections {
            let ast::Section::Ok {
                kind, rules: rs, ..
            } = sec
            else {
                continue;
            };
            for r in rs {
                let ast::Rule::Ok(r) = r else { continue };
                if let Some(def) = self.rule(*kind, r) {
                    rules.push(def);
                }
            }
        }
        PolicyDef {
            name: p.name.name.clone(),
            span: p.name.span,
            rules,
        }
    }

    fn rights(&mut self, section: SectionKind, rights: &[ast::Ident]) -> Option<Rights> {
        let mut bits = Rights::none(crate::model::section(section));
        let mut ok = true;
        for r in rights {
            match right_bits(section, &r.name) {
                Some(b) => bits = bits.union(b).unwrap_or(bits),
                None => {
                    ok = false;
                    let valid = match section {
                        SectionKind::Fs => "`read`, `write`, `create`, `delete` or `all`",
                        SectionKind::Net => "`connect`, `bind` or `all`",
                        SectionKind::App => "`launch`",
                    };
                    let msg = match section_of_right(&r.name) {
                        Some((other, _)) => format!(
                            "right `{}` is not valid in `{}` (it belongs in `{}`)",
                            r.name,
                            section.as_str(),
                            other.as_str()
                        ),
                        None => format!("unknown right `{}`", r.name),
                    };
                    self.err(
                        Diagnostic::new(Code::E0004, r.span, msg)
                            .with_label(format!("not a right of `{}`", section.as_str()))
                            .help(format!("the rights of `{}` are {valid}", section.as_str())),
                    );
                }
            }
        }
        ok.then_some(bits)
    }

    fn rule(&mut self, section: SectionKind, r: &ast::RuleNode) -> Option<RuleDef> {
        let rights = self.rights(section, &r.rights);
        let mut ok = rights.is_some();
        let mut targets = Vec::new();
        for (s, via) in self.elems(&r.targets) {
            let tilde = section != SectionKind::Net;
            let Some(src) = self.template(&s, via, tilde) else {
                ok = false;
                continue;
            };
            let good = match section {
                SectionKind::Net => self.check_net(&src),
                _ => self.check_path(&src),
            };
            ok &= good;
            targets.push(src);
        }
        let mut from = Vec::new();
        let mut args = None;
        let mut because = None;
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for m in &r.modifiers {
            let (name, allowed) = match m {
                Modifier::From { .. } => ("from", section == SectionKind::Net),
                Modifier::Args { .. } => ("args", section == SectionKind::App),
                Modifier::Because { .. } => ("because", true),
            };
            if !allowed {
                ok = false;
                let only = if name == "from" { "net" } else { "app" };
                self.err(
                    Diagnostic::new(
                        Code::E0011,
                        m.kw_span(),
                        format!(
                            "`{name}` is not allowed on {} `{}` rule",
                            article(section.as_str()),
                            section.as_str()
                        ),
                    )
                    .with_label(format!("only `{only}` rules take `{name}`"))
                    .help(format!(
                        "remove `{name}`, or move the rule to {} `{only}` section",
                        article(only)
                    )),
                );
                continue;
            }
            if let Some(prev) = seen.get(name) {
                ok = false;
                self.err(
                    Diagnostic::new(
                        Code::E0011,
                        m.kw_span(),
                        format!("`{name}` is given more than once on one rule"),
                    )
                    .with_label("repeated here")
                    .label(*prev, "first given here")
                    .help(if name == "from" {
                        "list several programs in one `from`: `from \"/a\", \"/b\"`".to_string()
                    } else {
                        format!("keep one `{name}`, or write two rules")
                    }),
                );
                continue;
            }
            seen.insert(name, m.kw_span());
            match m {
                Modifier::From { targets: ts, .. } => {
                    for (s, via) in self.elems(ts) {
                        match self.template(&s, via, true) {
                            Some(src) => {
                                ok &= self.check_path(&src);
                                from.push(src);
                            }
                            None => ok = false,
                        }
                    }
                }
                Modifier::Args { glob, .. } => {
                    match self.template_with(glob, None, false, Code::E0010) {
                        Some(src) => args = Some(src),
                        None => ok = false,
                    }
                }
                Modifier::Because { reason, .. } => because = Some(reason.value.clone()),
            }
        }
        let rights = rights?;
        // W0004: overly broad grants.
        if r.effect == Effect::Allow && ok {
            self.broad(section, rights, &targets, r);
        }
        ok.then_some(RuleDef {
            effect: r.effect,
            effect_span: r.effect_span,
            section,
            rights,
            targets,
            from,
            args,
            because,
            span: r.span,
        })
    }

    fn broad(&mut self, section: SectionKind, rights: Rights, targets: &[Src], r: &ast::RuleNode) {
        for t in targets {
            let text = t.text.trim();
            match section {
                SectionKind::Fs
                    if rights
                        .fs()
                        .intersects(FsRights::WRITE | FsRights::CREATE | FsRights::DELETE) =>
                {
                    let root_like = {
                        let b = text.replace('\\', "/");
                        let b = b.trim_end_matches('/');
                        let drive = b.len() == 5
                            && b.as_bytes()[0].is_ascii_alphabetic()
                            && &b[1..] == ":/**";
                        b == "/**" || b == "~/**" || b == "${home}/**" || b == "**" || drive
                    };
                    if root_like {
                        let names: Vec<&str> = (rights.fs()
                            & (FsRights::WRITE | FsRights::CREATE | FsRights::DELETE))
                            .names()
                            .collect();
                        let granted = match names.as_slice() {
                            [a] => (*a).to_string(),
                            [a, b] => format!("{a} and {b}"),
                            _ => names.join(", ").replacen(", delete", " and delete", 1),
                        };
                        self.err(
                            Diagnostic::new(
                                Code::W0004,
                                t.use_span(),
                                format!("overly broad grant: `allow` of {granted} access to `{}`", t.text),
                            )
                            .with_label(format!("grants {granted} on a whole tree"))
                            .label(r.effect_span, "this rule")
                            .help(format!("grant {granted} access only to the directories the agent works in, such as `${{workspace}}/**`")),
                        );
                    }
                }
                SectionKind::Net if rights.net().contains(NetRights::CONNECT) => {
                    if let Ok(t2) = pattern::parse_net(text) {
                        if t2.host == pattern::HostPat::Any && t2.ports.is_empty() {
                            self.err(
                                Diagnostic::new(
                                    Code::W0004,
                                    t.use_span(),
                                    "overly broad grant: `allow connect` to any host on any port",
                                )
                                .with_label("allows every connection")
                                .label(r.effect_span, "this rule")
                                .help("name the hosts the agent needs, or at least restrict the ports (`*:443`)"),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn agent(&mut self, a: &ast::Agent, policies: &HashMap<&str, Span>) -> Option<AgentDef> {
        let mut def = AgentDef {
            name: a.name.name.clone(),
            span: a.name.span,
            identity: IdentityDef::Current,
            isolation: IsolationDef::Process,
            default: Effect::Deny,
            uses: Vec::new(),
            limits: LimitsDef::default(),
            env: None,
            clipboard: None,
            display: None,
            audit: AuditDef::Denials,
        };
        let mut singular: HashMap<&str, Span> = HashMap::new();
        let mut has_use = false;
        for st in &a.stmts {
            let key = match st {
                AgentStmt::Identity { .. } => Some("identity"),
                AgentStmt::Isolation { .. } => Some("isolation"),
                AgentStmt::Default { .. } => Some("default"),
                AgentStmt::Audit { .. } => Some("audit"),
                AgentStmt::Limits { .. } => Some("limits"),
                AgentStmt::Env { .. } => Some("env"),
                AgentStmt::Ui { .. } => Some("ui"),
                _ => None,
            };
            if let Some(k) = key {
                if let Some(prev) = singular.get(k) {
                    self.err(
                        Diagnostic::new(
                            Code::E0003,
                            st.kw_span(),
                            format!("`{k}` is given more than once in agent `{}`", a.name.name),
                        )
                        .with_label("given again here")
                        .label(*prev, "first given here")
                        .help(format!("an agent has one `{k}` statement")),
                    );
                    continue;
                }
                singular.insert(k, st.kw_span());
            }
            match st {
                AgentStmt::Identity {
                    kind, args, span, ..
                } => {
                    if let Some(id) = self.identity(kind, args, *span) {
                        def.identity = id;
                    }
                }
                AgentStmt::Isolation { value, .. } => {
                    def.isolation = match value.name.as_str() {
                        "process" => IsolationDef::Process,
                        "container" => IsolationDef::Container,
                        "microvm" => IsolationDef::Microvm,
                        other => {
                            self.err(
                                Diagnostic::new(
                                    Code::E0007,
                                    value.span,
                                    format!("unknown isolation `{other}`"),
                                )
                                .with_label("expected `process`, `container` or `microvm`"),
                            );
                            continue;
                        }
                    }
                }
                AgentStmt::Default {
                    effect,
                    effect_span,
                    ..
                } => {
                    if *effect == Effect::Allow {
                        self.err(
                            Diagnostic::new(Code::E0007, *effect_span, "`default allow` is not allowed")
                                .with_label("the default must be `deny` or `ask`")
                                .help("allow what the agent needs with `allow` rules; the default decides what no rule covers"),
                        );
                    } else {
                        def.default = *effect;
                    }
                }
                AgentStmt::Use { policies: ps, .. } => {
                    has_use = true;
                    for p in ps {
                        if let Some((_, prev)) = def.uses.iter().find(|u| u.0 == p.name) {
                            self.err(
                                Diagnostic::new(
                                    Code::E0003,
                                    p.span,
                                    format!("policy `{}` is used more than once", p.name),
                                )
                                .with_label("used again here")
                                .label(*prev, "first used here")
                                .help("remove the repeated `use`"),
                            );
                            continue;
                        }
                        if !policies.contains_key(p.name.as_str()) {
                            let mut d = Diagnostic::new(
                                Code::E0002,
                                p.span,
                                format!("unknown policy `{}`", p.name),
                            )
                            .with_label("no policy of this name");
                            if let Some(s) = self.suggest(&p.name, policies.keys().copied()) {
                                d = d.help(format!("did you mean `{s}`?"));
                            }
                            self.err(d);
                            continue;
                        }
                        def.uses.push((p.name.clone(), p.span));
                    }
                }
                AgentStmt::Limits { entries, .. } => {
                    for (k, v) in entries {
                        self.limit(&mut def.limits, k, v);
                    }
                }
                AgentStmt::Env { clauses, .. } => {
                    let mut pass = Vec::new();
                    let mut deny = Vec::new();
                    for cl in clauses {
                        if cl.kind == EnvKind::Other {
                            self.err(
                                Diagnostic::new(
                                    Code::E0007,
                                    cl.kw.span,
                                    format!("unknown env clause `{}`", cl.kw.name),
                                )
                                .with_label("expected `pass` or `deny`"),
                            );
                            continue;
                        }
                        for g in &cl.globs {
                            let valid = !g.value.is_empty()
                                && g.value.chars().all(|c| {
                                    c.is_ascii_alphanumeric() || matches!(c, '_' | '*' | '?')
                                });
                            if !valid {
                                self.err(
                                    Diagnostic::new(
                                        Code::E0010,
                                        g.span,
                                        format!("invalid environment variable glob `{}`", g.value),
                                    )
                                    .with_label("not a variable name glob")
                                    .help(
                                        "use letters, digits, `_`, and the wildcards `*` and `?`",
                                    ),
                                );
                                continue;
                            }
                            if cl.kind == EnvKind::Pass {
                                pass.push(g.value.clone());
                            } else {
                                deny.push(g.value.clone());
                            }
                        }
                    }
                    def.env = Some((pass, deny));
                }
                AgentStmt::Ui { entries, .. } => {
                    for (k, e, es) in entries {
                        if *e == Effect::Ask {
                            self.err(
                                Diagnostic::new(
                                    Code::E0007,
                                    *es,
                                    format!("`ui {}` cannot be `ask`", k.name),
                                )
                                .with_label("expected `allow` or `deny`"),
                            );
                            continue;
                        }
                        match k.name.as_str() {
                            "clipboard" => def.clipboard = Some(*e),
                            "display" => def.display = Some(*e),
                            other => self.err(
                                Diagnostic::new(
                                    Code::E0007,
                                    k.span,
                                    format!("unknown ui setting `{other}`"),
                                )
                                .with_label("expected `clipboard` or `display`"),
                            ),
                        }
                    }
                }
                AgentStmt::Audit { value, .. } => {
                    def.audit = match value.name.as_str() {
                        "all" => AuditDef::All,
                        "denials" => AuditDef::Denials,
                        "none" => AuditDef::None,
                        other => {
                            self.err(
                                Diagnostic::new(
                                    Code::E0007,
                                    value.span,
                                    format!("unknown audit level `{other}`"),
                                )
                                .with_label("expected `all`, `denials` or `none`"),
                            );
                            continue;
                        }
                    }
                }
                AgentStmt::Error(_) => {}
            }
        }
        if !has_use {
            self.err(
                Diagnostic::new(
                    Code::E0007,
                    a.name.span,
                    format!("agent `{}` uses no policy", a.name.name),
                )
                .with_label("this agent has no `use` statement")
                .help("add `use POLICY` naming the policies it runs under"),
            );
        }
        Some(def)
    }

    fn identity(
        &mut self,
        kind: &ast::Ident,
        args: &[(ast::Ident, Value)],
        span: Span,
    ) -> Option<IdentityDef> {
        let keys: &[&str] = match kind.name.as_str() {
            "local" => &["user", "uid"],
            "entra" => &["tenant", "client"],
            "oidc" => &["issuer", "subject", "audience"],
            other => {
                self.err(
                    Diagnostic::new(
                        Code::E0007,
                        kind.span,
                        format!("unknown identity kind `{other}`"),
                    )
                    .with_label("expected `local`, `entra` or `oidc`"),
                );
                return None;
            }
        };
        let mut vals: HashMap<&str, &Value> = HashMap::new();
        let mut ok = true;
        for (k, v) in args {
            if !keys.contains(&k.name.as_str()) {
                ok = false;
                self.err(
                    Diagnostic::new(
                        Code::E0007,
                        k.span,
                        format!("unknown key `{}` for a `{}` identity", k.name, kind.name),
                    )
                    .with_label(format!(
                        "expected {}",
                        keys.iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
                continue;
            }
            if vals.insert(k.name.as_str(), v).is_some() {
                ok = false;
                self.err(
                    Diagnostic::new(
                        Code::E0007,
                        k.span,
                        format!("key `{}` is given twice", k.name),
                    )
                    .with_label("repeated"),
                );
            }
        }
        let get_str = |c: &mut Checker, k: &str| -> Option<String> {
            match vals.get(k) {
                Some(Value::Str(s)) if !s.value.is_empty() => Some(s.value.clone()),
                Some(v) => {
                    c.err(
                        Diagnostic::new(
                            Code::E0007,
                            v.span(),
                            format!("`{k}` must be a non-empty string"),
                        )
                        .with_label("expected a string"),
                    );
                    None
                }
                None => None,
            }
        };
        let missing = |c: &mut Checker, need: &[&str]| {
            c.err(
                Diagnostic::new(
                    Code::E0007,
                    span,
                    format!(
                        "`{}` identity is missing {}",
                        kind.name,
                        need.iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(" and ")
                    ),
                )
                .with_label("incomplete identity")
                .help(format!(
                    "write `{}({})`",
                    kind.name,
                    keys.iter()
                        .filter_map(|k| match vals.get(k) {
                            Some(Value::Str(v)) => Some(format!("{k}: {:?}", v.value)),
                            Some(Value::Num(n, _)) => Some(format!("{k}: {n}")),
                            None if need.contains(k) => Some(format!("{k}: \"...\"")),
                            None => None,
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            )
        };
        if !ok {
            return None;
        }
        match kind.name.as_str() {
            "local" => match (vals.get("user"), vals.get("uid")) {
                (Some(_), Some(v)) => {
                    self.err(
                        Diagnostic::new(
                            Code::E0007,
                            v.span(),
                            "`local` identity takes `user` or `uid`, not both",
                        )
                        .with_label("remove one"),
                    );
                    None
                }
                (Some(_), None) => get_str(self, "user").map(IdentityDef::LocalUser),
                (None, Some(Value::Num(n, s))) => match n.parse::<u32>() {
                    Ok(u) => Some(IdentityDef::LocalUid(u)),
                    Err(_) => {
                        self.err(
                            Diagnostic::new(Code::E0007, *s, format!("`{n}` is not a uid"))
                                .with_label("expected a number from 0 to 4294967295"),
                        );
                        None
                    }
                },
                (None, Some(v)) => {
                    self.err(
                        Diagnostic::new(Code::E0007, v.span(), "`uid` must be a number")
                            .with_label("expected a number"),
                    );
                    None
                }
                (None, None) => {
                    missing(self, &["user"]);
                    None
                }
            },
            "entra" => {
                let need: Vec<&str> = ["tenant", "client"]
                    .into_iter()
                    .filter(|k| !vals.contains_key(k))
                    .collect();
                if !need.is_empty() {
                    missing(self, &need);
                    return None;
                }
                Some(IdentityDef::Entra {
                    tenant: get_str(self, "tenant")?,
                    client: get_str(self, "client")?,
                })
            }
            _ => {
                let need: Vec<&str> = ["issuer", "subject", "audience"]
                    .into_iter()
                    .filter(|k| !vals.contains_key(k))
                    .collect();
                if !need.is_empty() {
                    missing(self, &need);
                    return None;
                }
                let issuer = get_str(self, "issuer")?;
                if !issuer.starts_with("https://") {
                    self.err(
                        Diagnostic::new(
                            Code::E0007,
                            vals["issuer"].span(),
                            "`issuer` must be an `https://` URL",
                        )
                        .with_label("not an https URL"),
                    );
                    return None;
                }
                Some(IdentityDef::Oidc {
                    issuer,
                    subject: get_str(self, "subject")?,
                    audience: get_str(self, "audience")?,
                })
            }
        }
    }

    fn limit(&mut self, limits: &mut LimitsDef, k: &ast::Ident, v: &Value) {
        let Value::Num(text, span) = v else {
            self.err(
                Diagnostic::new(
                    Code::E0010,
                    v.span(),
                    format!("limit `{}` takes a number, not a string", k.name),
                )
                .with_label("expected a number"),
            );
            return;
        };
        let digits: String = text.chars().take_while(|c| c.is_ascii_digit()).collect();
        let unit = &text[digits.len()..];
        let n: Option<u64> = digits.parse().ok();
        let bad = |c: &mut Checker, what: &str, help: &str| {
            c.err(
                Diagnostic::new(
                    Code::E0010,
                    *span,
                    format!(
                        "invalid {} `{text}` for limit `{}`",
                        what.trim_start_matches("a "),
                        k.name
                    ),
                )
                .with_label(format!("expected {what}"))
                .help(help.to_string()),
            );
        };
        match k.name.as_str() {
            "memory" => {
                let mul: Option<u64> = match unit {
                    "B" => Some(1),
                    "KiB" => Some(1 << 10),
                    "MiB" => Some(1 << 20),
                    "GiB" => Some(1 << 30),
                    _ => None,
                };
                match (n, mul) {
                    (Some(n), Some(m)) if n > 0 && n.checked_mul(m).is_some() => {
                        limits.memory_bytes = Some(n * m)
                    }
                    _ => bad(
                        self,
                        "a size",
                        "write a size such as `512MiB` or `4GiB` (units: B, KiB, MiB, GiB)",
                    ),
                }
            }
            "timeout" => {
                let mul: Option<u64> = match unit {
                    "ms" => Some(1),
                    "s" => Some(1000),
                    "m" => Some(60_000),
                    "h" => Some(3_600_000),
                    _ => None,
                };
                match (n, mul) {
                    (Some(n), Some(m)) if n > 0 && n.checked_mul(m).is_some() => {
                        limits.timeout_ms = Some(n * m)
                    }
                    _ => bad(
                        self,
                        "a duration",
                        "write a duration such as `30s`, `5m` or `2h` (units: ms, s, m, h)",
                    ),
                }
            }
            "processes" | "cpu" => match n {
                Some(n) if unit.is_empty() && n > 0 => {
                    if k.name == "cpu" {
                        limits.cpus = Some(n)
                    } else {
                        limits.processes = Some(n)
                    }
                }
                _ => bad(
                    self,
                    "a count",
                    "write a whole number of at least 1, without a unit",
                ),
            },
            other => self.err(
                Diagnostic::new(Code::E0010, k.span, format!("unknown limit `{other}`"))
                    .with_label("expected `memory`, `processes`, `timeout` or `cpu`"),
            ),
        }
    }

    fn test<'m>(&mut self, t: &ast::Test, model: &'m Model, index: &mut Index<'m>) -> TestDef {
        let mut def = TestDef {
            name: t.name.value.clone(),
            span: t.name.span,
            agent: None,
            with: Vec::new(),
            expects: Vec::new(),
        };
        // Parameters given a value that was refused (already reported): not reported
        // again as unbound.
        let mut refused: Vec<&str> = Vec::new();
        for st in &t.stmts {
            match st {
                TestStmt::Agent { kw, name } => {
                    if let Some((_, prev)) = &def.agent {
                        self.err(
                            Diagnostic::new(Code::E0003, *kw, "a test names its agent once")
                                .with_label("given again here")
                                .label(*prev, "first given here"),
                        );
                        continue;
                    }
                    if !index.agents.contains_key(name.name.as_str()) {
                        let mut d = Diagnostic::new(
                            Code::E0002,
                            name.span,
                            format!("unknown agent `{}`", name.name),
                        )
                        .with_label("no agent of this name");
                        if let Some(s) =
                            self.suggest(&name.name, model.agents.iter().map(|a| a.name.as_str()))
                        {
                            d = d.help(format!("did you mean `{s}`?"));
                        }
                        self.err(d);
                    }
                    def.agent = Some((name.name.clone(), name.span));
                }
                TestStmt::With { bindings, .. } => {
                    for (k, v) in bindings {
                        let Some(p) = self.params.get(&k.name) else {
                            self.err(
                                Diagnostic::new(
                                    Code::E0002,
                                    k.span,
                                    format!("unknown parameter `{}`", k.name),
                                )
                                .with_label("not declared")
                                .help(format!("declare it with `param {}: path`", k.name)),
                            );
                            continue;
                        };
                        if def.with.iter().any(|w| w.0 == k.name) {
                            self.err(
                                Diagnostic::new(
                                    Code::E0003,
                                    k.span,
                                    format!("parameter `{}` is bound twice", k.name),
                                )
                                .with_label("bound again here"),
                            );
                            continue;
                        }
                        if p.ty == ParamType::Path && !is_absolute(&v.value) {
                            self.err(
                                Diagnostic::new(
                                    Code::E0009,
                                    v.span,
                                    format!("value of path parameter `{}` is not absolute", k.name),
                                )
                                .with_label("not an absolute path")
                                .help("a `path` value begins with `/` (or a drive such as `C:/`)"),
                            );
                            refused.push(&k.name);
                            continue;
                        }
                        def.with.push((k.name.clone(), v.value.clone(), k.span));
                    }
                }
                TestStmt::Expect(e) => {
                    if let Some(x) = self.expect(e) {
                        def.expects.push(x);
                    }
                }
                TestStmt::Error(_) => {}
            }
        }
        match &def.agent {
            None => self.err(
                Diagnostic::new(
                    Code::E0007,
                    t.name.span,
                    format!("test `{}` names no agent", t.name.value),
                )
                .with_label("this test has no `agent` statement")
                .help("add `agent NAME` to say whose decisions are tested"),
            ),
            Some((a, span)) => {
                if let Some(params) = index.params_of(a) {
                    for p in params {
                        let bound = def.with.iter().any(|w| w.0 == p)
                            || refused.contains(&p.as_str())
                            || self.params.get(&p).is_some_and(|d| d.default.is_some());
                        if !bound && self.params.contains_key(&p) {
                            self.err(
                                Diagnostic::new(
                                    Code::E0009,
                                    *span,
                                    format!(
                                        "parameter `{p}` is not bound in test `{}`",
                                        t.name.value
                                    ),
                                )
                                .with_label(format!("agent `{a}` uses `{p}`"))
                                .help(format!("add `with {p} = \"/...\"` to the test")),
                            );
                        }
                    }
                }
            }
        }
        def
    }

    fn expect(&mut self, e: &ast::Expect) -> Option<ExpectDef> {
        let mut section = None;
        let mut rights: Option<Rights> = None;
        for r in &e.rights {
            match section_of_right(&r.name) {
                Some((s, b)) => {
                    if section.is_some_and(|x| x != s) {
                        self.err(
                            Diagnostic::new(
                                Code::E0004,
                                r.span,
                                format!("right `{}` mixes sections in one expectation", r.name),
                            )
                            .with_label("from another section")
                            .help("write one `expect` per section"),
                        );
                        return None;
                    }
                    section = Some(s);
                    rights = Some(rights.and_then(|r| r.union(b)).unwrap_or(b));
                }
                None => {
                    self.err(
                        Diagnostic::new(Code::E0004, r.span, format!("unknown right `{}`", r.name))
                            .with_label("not a right")
                            .help("expectations name one or more of `read`, `write`, `create`, `delete`, `connect`, `bind`, `launch`"),
                    );
                    return None;
                }
            }
        }
        let section = section?;
        let rights = rights?;
        let mut from = None;
        let mut args = None;
        for m in &e.modifiers {
            match m {
                Modifier::From { targets, kw }
                    if section == SectionKind::Net && targets.len() == 1 =>
                {
                    match &targets[0] {
                        Elem::Str(s) => from = Some(s.value.clone()),
                        Elem::Name(n) => self.err(
                            Diagnostic::new(
                                Code::E0011,
                                n.span,
                                "`from` in an expectation takes one program path string",
                            )
                            .with_label("expected a string")
                            .label(*kw, "here"),
                        ),
                    }
                }
                Modifier::Args { glob, .. } if section == SectionKind::App => {
                    args = Some(glob.value.clone())
                }
                other => {
                    self.err(
                        Diagnostic::new(Code::E0011, other.kw_span(), "modifier not allowed on this expectation")
                            .with_label("not allowed here")
                            .help("an expectation takes `from \"PROGRAM\"` (net) or `args \"ARGS\"` (launch)"),
                    );
                }
            }
        }
        Some(ExpectDef {
            effect: e.effect,
            section,
            rights,
            right_names: e.rights.iter().map(|r| r.name.clone()).collect(),
            target: e.target.value.clone(),
            from,
            args,
            span: e.span,
        })
    }
}

pub fn is_absolute(p: &str) -> bool {
    let b = p.as_bytes();
    p.starts_with('/')
        || (b.len() >= 3
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && (b[2] == b'/' || b[2] == b'\\'))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let v = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
            cur.push(v);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The indefinite article for a section name, as it is read aloud: "an `fs` rule",
/// "an `app` section", "a `net` rule".
fn article(section: &str) -> &'static str {
    match section {
        "fs" | "app" => "an",
        _ => "a",
    }
}

//! The resolved, checked model of a set of `.mxc` files.
//!
//! Names are resolved, lets flattened, rights and modifiers validated, patterns parsed
//! into [`Template`]s whose syntax has been checked (with placeholders for parameters).
//! Binding parameters for an agent ([`crate::bind`]) turns templates into typed globs.

use crate::ast::{Effect, SectionKind};
use crate::pattern::Template;
use crate::source::Span;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamType {
    Path,
    String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamDef {
    pub name: String,
    pub ty: ParamType,
    pub default: Option<String>,
    /// `None` for the built-in `home`.
    pub span: Option<Span>,
}

/// Rights as typed sets, one type per section (see [`mxc_eval::rights`]).
pub use mxc_eval::rights::{AppRights, FsRights, NetRights, Rights};

/// The typed section of a section keyword.
pub fn section(kind: SectionKind) -> mxc_eval::Section {
    match kind {
        SectionKind::Fs => mxc_eval::Section::Fs,
        SectionKind::Net => mxc_eval::Section::Net,
        SectionKind::App => mxc_eval::Section::App,
    }
}

/// Parses a right name for a section; `None` if it is not valid there.
pub fn right_bits(kind: SectionKind, name: &str) -> Option<Rights> {
    Rights::parse(section(kind), name)
}

/// The section a right name belongs to (for `expect`).
pub fn section_of_right(name: &str) -> Option<(SectionKind, Rights)> {
    [SectionKind::Fs, SectionKind::Net, SectionKind::App]
        .into_iter()
        .find_map(|s| right_bits(s, name).map(|b| (s, b)))
        .filter(|_| name != "all")
}

/// A string as written (with its span), parsed into a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Src {
    pub text: String,
    pub template: Template,
    /// The string literal it came from.
    pub span: Span,
    /// Where it is used, when it came through a `let`.
    pub via: Option<Span>,
    /// Whether the literal has no escapes (so sub-spans can be computed).
    pub verbatim: bool,
}

impl Src {
    /// The span of a byte range of the decoded text.
    pub fn sub_span(&self, range: std::ops::Range<usize>) -> Span {
        crate::ast::literal_sub_span(self.span, self.verbatim, self.text.len(), range)
    }
    /// The span to report for a use (the use site when it came through a `let`).
    pub fn use_span(&self) -> Span {
        self.via.unwrap_or(self.span)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleDef {
    pub effect: Effect,
    pub effect_span: Span,
    pub section: SectionKind,
    pub rights: Rights,
    pub targets: Vec<Src>,
    pub from: Vec<Src>,
    pub args: Option<Src>,
    pub because: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDef {
    pub name: String,
    pub span: Span,
    pub rules: Vec<RuleDef>,
}

/// An agent's `identity` (no statement: [`IdentityDef::Current`]); the table carries it
/// as it is.
pub type IdentityDef = mxc_eval::Identity;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IsolationDef {
    #[default]
    Process,
    Container,
    Microvm,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AuditDef {
    All,
    #[default]
    Denials,
    None,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct LimitsDef {
    pub memory_bytes: Option<u64>,
    pub processes: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub cpus: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentDef {
    pub name: String,
    pub span: Span,
    pub identity: IdentityDef,
    pub isolation: IsolationDef,
    pub default: Effect,
    /// Policy names, in evaluation order, with the span of each use.
    pub uses: Vec<(String, Span)>,
    pub limits: LimitsDef,
    /// `None`: no `env` block (SPEC §5 defaults apply).
    pub env: Option<(Vec<String>, Vec<String>)>,
    pub clipboard: Option<Effect>,
    pub display: Option<Effect>,
    pub audit: AuditDef,
}

/// Variables passed when an agent has no `env` block (SPEC §5).
pub const DEFAULT_ENV_PASS: [&str; 7] = ["PATH", "LANG", "LC_*", "TERM", "HOME", "USER", "TZ"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectDef {
    pub effect: Effect,
    pub section: SectionKind,
    pub rights: Rights,
    pub right_names: Vec<String>,
    pub target: String,
    pub from: Option<String>,
    pub args: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestDef {
    pub name: String,
    pub span: Span,
    pub agent: Option<(String, Span)>,
    pub with: Vec<(String, String, Span)>,
    pub expects: Vec<ExpectDef>,
}

#[derive(Clone, Debug, Default)]
pub struct Model {
    pub params: BTreeMap<String, ParamDef>,
    pub policies: Vec<PolicyDef>,
    pub agents: Vec<AgentDef>,
    pub tests: Vec<TestDef>,
}

impl Model {
    pub fn policy(&self, name: &str) -> Option<&PolicyDef> {
        self.policies.iter().find(|p| p.name == name)
    }
    pub fn agent(&self, name: &str) -> Option<&AgentDef> {
        self.agents.iter().find(|a| a.name == name)
    }
    /// Names of the parameters referenced by an agent's policies (`home` included if
    /// `~` or `${home}` is used).
    pub fn params_of(&self, agent: &AgentDef) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for (p, _) in &agent.uses {
            if let Some(p) = self.policy(p) {
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
        }
        out
    }
}

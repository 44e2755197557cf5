//! The syntax tree, as written. Every node carries its [`Span`].
//!
//! The tree is produced by the parser even for broken input: what could not be parsed
//! is an `Error` node, and the diagnostics say why.

use crate::source::Span;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A string literal with its escapes decoded (`${...}` and `$$` are kept as written
/// and interpreted by the consumer: see [`crate::interp`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
    /// True when the literal has no escapes, so byte `i` of `value` is source byte
    /// `span.start + 1 + i` (lets diagnostics point inside the string).
    pub verbatim: bool,
}

impl StrLit {
    /// The span of `value[range]` when it can be located exactly, else the whole literal.
    pub fn sub_span(&self, range: std::ops::Range<usize>) -> Span {
        literal_sub_span(self.span, self.verbatim, self.value.len(), range)
    }
}

/// The span of bytes `range` of a string literal's decoded text: exact when the literal
/// has no escapes (`verbatim`), else the whole literal.
pub fn literal_sub_span(
    lit: Span,
    verbatim: bool,
    len: usize,
    range: std::ops::Range<usize>,
) -> Span {
    if verbatim && range.end <= len && range.start < range.end {
        Span {
            file: lit.file,
            start: lit.start + 1 + range.start as u32,
            end: lit.start + 1 + range.end as u32,
        }
    } else {
        lit
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Effect {
    Allow,
    Ask,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::Ask => "ask",
            Effect::Deny => "deny",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Import(Import),
    Param(Param),
    Let(Let),
    Policy(Policy),
    Agent(Agent),
    Test(Test),
    Error(Span),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    pub path: StrLit,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    pub name: Ident,
    pub ty: Ident,
    pub default: Option<StrLit>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Let {
    pub name: Ident,
    pub value: LetValue,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LetValue {
    Str(StrLit),
    List(Vec<Elem>, Span),
}

/// A list element or a rule target: a string, or the name of a `let`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Elem {
    Str(StrLit),
    Name(Ident),
}

impl Elem {
    pub fn span(&self) -> Span {
        match self {
            Elem::Str(s) => s.span,
            Elem::Name(i) => i.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub name: Ident,
    pub sections: Vec<Section>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SectionKind {
    Fs,
    Net,
    App,
}

impl SectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SectionKind::Fs => "fs",
            SectionKind::Net => "net",
            SectionKind::App => "app",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Section {
    Ok {
        kind: SectionKind,
        kw_span: Span,
        rules: Vec<Rule>,
        span: Span,
    },
    Error(Span),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    Ok(RuleNode),
    Error(Span),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleNode {
    pub effect: Effect,
    pub effect_span: Span,
    pub rights: Vec<Ident>,
    pub targets: Vec<Elem>,
    pub modifiers: Vec<Modifier>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Modifier {
    From { kw: Span, targets: Vec<Elem> },
    Args { kw: Span, glob: StrLit },
    Because { kw: Span, reason: StrLit },
}

impl Modifier {
    pub fn kw_span(&self) -> Span {
        match self {
            Modifier::From { kw, .. }
            | Modifier::Args { kw, .. }
            | Modifier::Because { kw, .. } => *kw,
        }
    }
    pub fn span(&self) -> Span {
        match self {
            Modifier::From { kw, targets } => targets.last().map_or(*kw, |t| kw.to(t.span())),
            Modifier::Args { kw, glob } => kw.to(glob.span),
            Modifier::Because { kw, reason } => kw.to(reason.span),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agent {
    pub name: Ident,
    pub stmts: Vec<AgentStmt>,
    pub span: Span,
}

/// A value in an identity argument or a limit: a string or a number with optional unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(StrLit),
    Num(String, Span),
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Str(s) => s.span,
            Value::Num(_, s) => *s,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvKind {
    Pass,
    Deny,
    /// Any other word (reported by the checker).
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvClause {
    pub kind: EnvKind,
    pub kw: Ident,
    pub globs: Vec<StrLit>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentStmt {
    Identity {
        kw: Span,
        kind: Ident,
        args: Vec<(Ident, Value)>,
        span: Span,
    },
    Isolation {
        kw: Span,
        value: Ident,
    },
    Default {
        kw: Span,
        effect: Effect,
        effect_span: Span,
    },
    Use {
        kw: Span,
        policies: Vec<Ident>,
    },
    Limits {
        kw: Span,
        entries: Vec<(Ident, Value)>,
    },
    Env {
        kw: Span,
        clauses: Vec<EnvClause>,
    },
    Ui {
        kw: Span,
        entries: Vec<(Ident, Effect, Span)>,
    },
    Audit {
        kw: Span,
        value: Ident,
    },
    Error(Span),
}

impl AgentStmt {
    pub fn kw_span(&self) -> Span {
        match self {
            AgentStmt::Identity { kw, .. }
            | AgentStmt::Isolation { kw, .. }
            | AgentStmt::Default { kw, .. }
            | AgentStmt::Use { kw, .. }
            | AgentStmt::Limits { kw, .. }
            | AgentStmt::Env { kw, .. }
            | AgentStmt::Ui { kw, .. }
            | AgentStmt::Audit { kw, .. } => *kw,
            AgentStmt::Error(s) => *s,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Test {
    pub name: StrLit,
    pub stmts: Vec<TestStmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expect {
    pub kw: Span,
    pub effect: Effect,
    pub effect_span: Span,
    pub rights: Vec<Ident>,
    pub target: StrLit,
    pub modifiers: Vec<Modifier>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TestStmt {
    Agent {
        kw: Span,
        name: Ident,
    },
    With {
        kw: Span,
        bindings: Vec<(Ident, StrLit)>,
    },
    Expect(Expect),
    Error(Span),
}

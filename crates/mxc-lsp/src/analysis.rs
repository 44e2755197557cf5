//! One analysis of an open document: its files loaded (open documents win over the
//! disk), parsed, checked and linted as `mxcc check` does, and an index of every name
//! written in them (definitions and uses) for navigation, hover and rename.

use mxc_lang::ast::{self, AgentStmt, Elem, Item, LetValue, Modifier, Rule, Section, TestStmt};
use mxc_lang::diag::{self, Diagnostics};
use mxc_lang::load::{self, Parsed};
use mxc_lang::model::Model;
use mxc_lang::pattern::{Piece, Template};
use mxc_lang::source::{FileId, SourceMap, Span};
use mxc_lang::{check, lints, Program};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What kind of thing a name names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Let,
    Param,
    Policy,
    Agent,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Let => "let",
            Kind::Param => "param",
            Kind::Policy => "policy",
            Kind::Agent => "agent",
        }
    }
}

/// One place a name is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub kind: Kind,
    pub name: String,
    pub span: Span,
    /// The definition itself (`let NAME`, `policy NAME`, ...), not a use.
    pub def: bool,
}

/// An `import` of a file of the compilation: the string's span and the file it loads.
#[derive(Clone, Debug)]
pub struct ImportRef {
    pub span: Span,
    pub target: Option<FileId>,
}

/// The result of analysing one document (file 0) and everything it imports.
pub struct Analysis {
    pub sources: SourceMap,
    /// The trees, by file.
    pub files: Vec<(FileId, ast::File)>,
    pub model: Model,
    /// Sorted, limited per file, as `mxcc check` reports them.
    pub diags: Diagnostics,
    pub occurrences: Vec<Occurrence>,
    pub imports: Vec<ImportRef>,
}

/// The root document's file id (the first file loaded).
pub const ROOT: FileId = FileId(0);

impl Analysis {
    /// Analyses `text` as the file `path`; imports are read with `read` (which serves
    /// open documents before the disk).
    pub fn new(
        path: &Path,
        text: &str,
        read: &mut dyn FnMut(&Path) -> std::io::Result<Vec<u8>>,
    ) -> Analysis {
        let parsed = load::load_with(vec![(path.to_path_buf(), text.as_bytes().to_vec())], read);
        let (model, check_diags) = check::check(&parsed);
        let Parsed {
            sources,
            files,
            diags: parse_diags,
            dropped,
        } = parsed;
        let mut program = Program {
            sources,
            model,
            diags: parse_diags,
            errors_not_shown: 0,
        };
        program.diags.extend(check_diags);
        if !program.diags.has_errors() {
            let found = lints::lint(&program);
            program.diags.extend(found);
        }
        program.diags.sort();
        program.errors_not_shown = program
            .diags
            .limit_errors_per_file(diag::MAX_ERRORS_PER_FILE, dropped);
        let mut a = Analysis {
            sources: program.sources,
            files,
            model: program.model,
            diags: program.diags,
            occurrences: Vec::new(),
            imports: Vec::new(),
        };
        a.index();
        a
    }

    /// The tree of a file.
    pub fn tree(&self, file: FileId) -> Option<&ast::File> {
        self.files.iter().find(|(f, _)| *f == file).map(|(_, t)| t)
    }

    /// Every file's path, by id.
    pub fn paths(&self) -> Vec<(FileId, PathBuf)> {
        self.sources
            .files()
            .map(|(id, f)| (id, f.path.clone()))
            .collect()
    }

    /// The occurrence of a name at a byte offset of a file, if any.
    pub fn occurrence_at(&self, file: FileId, offset: usize) -> Option<&Occurrence> {
        self.occurrences
            .iter()
            .filter(|o| o.span.file == file && contains(o.span, offset))
            .min_by_key(|o| o.span.end - o.span.start)
    }

    /// Definitions of a name.
    pub fn definitions<'a>(
        &'a self,
        kind: Kind,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Occurrence> {
        self.occurrences
            .iter()
            .filter(move |o| o.def && o.kind == kind && o.name == name)
    }

    /// Every occurrence (definitions and uses) of a name.
    pub fn all<'a>(&'a self, kind: Kind, name: &'a str) -> impl Iterator<Item = &'a Occurrence> {
        self.occurrences
            .iter()
            .filter(move |o| o.kind == kind && o.name == name)
    }

    /// Names defined in the compilation, by kind (sorted, each once).
    pub fn names(&self, kind: Kind) -> Vec<String> {
        let mut v: Vec<String> = self
            .occurrences
            .iter()
            .filter(|o| o.def && o.kind == kind)
            .map(|o| o.name.clone())
            .collect();
        if kind == Kind::Param {
            v.push("home".to_string());
        }
        v.sort();
        v.dedup();
        v
    }

    fn index(&mut self) {
        let mut occ = Vec::new();
        let mut imports = Vec::new();
        for (file, tree) in &self.files {
            let dir = self
                .sources
                .get(*file)
                .and_then(|f| f.path.parent().map(Path::to_path_buf))
                .unwrap_or_default();
            let std_file = self
                .sources
                .get(*file)
                .is_some_and(|f| load::is_std(&f.path));
            for item in &tree.items {
                index_item(item, &mut occ);
                if let Item::Import(im) = item {
                    let v = &im.path.value;
                    let target = if v.starts_with(load::STD_PREFIX) {
                        PathBuf::from(v)
                    } else if std_file {
                        PathBuf::from(format!("{}{v}", load::STD_PREFIX))
                    } else {
                        dir.join(v)
                    };
                    imports.push(ImportRef {
                        span: im.path.span,
                        target: self.sources.find(&target),
                    });
                }
            }
        }
        self.occurrences = occ;
        self.imports = imports;
    }
}

pub fn contains(span: Span, offset: usize) -> bool {
    (span.start as usize) <= offset && offset <= span.end as usize
}

fn name(kind: Kind, id: &ast::Ident, def: bool, out: &mut Vec<Occurrence>) {
    out.push(Occurrence {
        kind,
        name: id.name.clone(),
        span: id.span,
        def,
    });
}

/// `${name}` (and a leading `~`) inside a string literal: a use of a parameter, placed
/// exactly when the literal has no escapes.
fn params_in(lit: &ast::StrLit, tilde: bool, out: &mut Vec<Occurrence>) {
    let Ok(t) = Template::parse(&lit.value, tilde) else {
        return;
    };
    for p in &t.pieces {
        if let Piece::Param(n, r) = p {
            let span = lit.sub_span(r.clone());
            if span == lit.span {
                continue; // escapes: the place inside the literal is not known
            }
            // `${name}`: the name itself; `~`: the tilde.
            let span = if r.len() > 1 {
                Span {
                    start: span.start + 2,
                    end: span.end - 1,
                    ..span
                }
            } else {
                span
            };
            out.push(Occurrence {
                kind: Kind::Param,
                name: n.clone(),
                span,
                def: false,
            });
        }
    }
}

fn elem(e: &Elem, tilde: bool, out: &mut Vec<Occurrence>) {
    match e {
        Elem::Str(s) => params_in(s, tilde, out),
        Elem::Name(id) => name(Kind::Let, id, false, out),
    }
}

fn index_item(item: &Item, out: &mut Vec<Occurrence>) {
    match item {
        Item::Import(_) | Item::Error(_) => {}
        Item::Param(p) => {
            name(Kind::Param, &p.name, true, out);
        }
        Item::Let(l) => {
            name(Kind::Let, &l.name, true, out);
            match &l.value {
                LetValue::Str(s) => params_in(s, true, out),
                LetValue::List(elems, _) => elems.iter().for_each(|e| elem(e, true, out)),
            }
        }
        Item::Policy(p) => {
            name(Kind::Policy, &p.name, true, out);
            for s in &p.sections {
                let Section::Ok { rules, kind, .. } = s else {
                    continue;
                };
                let tilde = *kind != ast::SectionKind::Net;
                for r in rules {
                    let Rule::Ok(r) = r else { continue };
                    r.targets.iter().for_each(|e| elem(e, tilde, out));
                    for m in &r.modifiers {
                        match m {
                            Modifier::From { targets, .. } => {
                                targets.iter().for_each(|e| elem(e, true, out))
                            }
                            Modifier::Args { glob, .. } => params_in(glob, false, out),
                            Modifier::Because { .. } => {}
                        }
                    }
                }
            }
        }
        Item::Agent(a) => {
            name(Kind::Agent, &a.name, true, out);
            for s in &a.stmts {
                if let AgentStmt::Use { policies, .. } = s {
                    policies
                        .iter()
                        .for_each(|p| name(Kind::Policy, p, false, out));
                }
            }
        }
        Item::Test(t) => {
            for s in &t.stmts {
                match s {
                    TestStmt::Agent { name: n, .. } => name(Kind::Agent, n, false, out),
                    TestStmt::With { bindings, .. } => bindings
                        .iter()
                        .for_each(|(p, _)| name(Kind::Param, p, false, out)),
                    TestStmt::Expect(_) | TestStmt::Error(_) => {}
                }
            }
        }
    }
}

/// Reads imports for an analysis: open documents (by path) first, then the disk.
pub fn reader(
    open: &HashMap<PathBuf, String>,
) -> impl FnMut(&Path) -> std::io::Result<Vec<u8>> + '_ {
    move |p: &Path| {
        if let Some(t) = open.get(p) {
            return Ok(t.as_bytes().to_vec());
        }
        if let Ok(c) = std::fs::canonicalize(p) {
            if let Some(t) = open.get(&c) {
                return Ok(t.as_bytes().to_vec());
            }
        }
        load::read_source(p)
    }
}

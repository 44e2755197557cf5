//! The server's state and its answers, independent of the transport: open documents,
//! their analyses, and one method per LSP request or notification. The transport
//! ([`crate::server`]) and the in-process tests drive the same [`State`]; what the
//! server sends on its own (diagnostics) goes through a [`Notifier`].

use crate::analysis::{self, contains, Analysis, Kind, ROOT};
use mxc_lang::ast::{self, AgentStmt, Elem, Item, LetValue, Modifier, Rule, Section, TestStmt};
use mxc_lang::diag::Severity;
use mxc_lang::lexer::{self, Tok};
use mxc_lang::model;
use mxc_lang::source::{FileId, SourceFile, Span};
use std::collections::HashMap;
use std::path::PathBuf;
use tower_lsp_server::ls_types::*;

/// Where the server's own messages go (the client, or a test's recorder).
pub trait Notifier {
    fn publish_diagnostics(&mut self, params: PublishDiagnosticsParams);
}

/// Collects notifications, for a transport that sends them later.
#[derive(Default, Debug)]
pub struct Outbox(pub Vec<PublishDiagnosticsParams>);

impl Notifier for Outbox {
    fn publish_diagnostics(&mut self, params: PublishDiagnosticsParams) {
        self.0.push(params);
    }
}

struct Doc {
    text: String,
    version: i32,
    path: PathBuf,
    analysis: Option<Analysis>,
    /// Edited since its last analysis (the transport analyses after a pause in typing,
    /// or before answering a request).
    dirty: bool,
}

/// Open documents and their analyses.
#[derive(Default)]
pub struct State {
    docs: HashMap<Uri, Doc>,
}

/// A failed request: a message for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError(pub String);

/// The capabilities the server has.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(
            TextDocumentSyncKind::INCREMENTAL,
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![" ".into(), ",".into(), "{".into(), "$".into()]),
            ..Default::default()
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        ..Default::default()
    }
}

/// The path a document is analysed as: its file path for `file:` URIs (imports are
/// relative to it), else its last path segment.
fn path_of(uri: &Uri) -> PathBuf {
    if uri.scheme().as_str() == "file" {
        if let Some(p) = uri.to_file_path() {
            return p.into_owned();
        }
    }
    let s = uri.path().as_str();
    PathBuf::from(
        s.rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or("untitled.mxc"),
    )
}

fn file_of(a: &Analysis, id: FileId) -> Option<&SourceFile> {
    a.sources.get(id)
}

/// The LSP range of a span.
pub fn range(file: &SourceFile, span: Span) -> Range {
    let (l0, c0) = file.utf16_position(span.start as usize);
    let (l1, c1) = file.utf16_position(span.end as usize);
    Range::new(Position::new(l0, c0), Position::new(l1, c1))
}

impl State {
    pub fn new() -> State {
        State::default()
    }

    /// The text of an open document.
    pub fn text(&self, uri: &Uri) -> Option<&str> {
        self.docs.get(uri).map(|d| d.text.as_str())
    }

    pub fn did_open(&mut self, p: DidOpenTextDocumentParams, out: &mut dyn Notifier) {
        let uri = p.text_document.uri;
        let path = path_of(&uri);
        self.docs.insert(
            uri.clone(),
            Doc {
                text: p.text_document.text,
                version: p.text_document.version,
                path,
                analysis: None,
                dirty: false,
            },
        );
        self.refresh(&uri, out);
    }

    /// Applies a change and analyses the document again at once.
    pub fn did_change(&mut self, p: DidChangeTextDocumentParams, out: &mut dyn Notifier) {
        if let Some(uri) = self.edit(p) {
            self.refresh(&uri, out);
        }
    }

    /// Applies a change without analysing: the document is dirty until [`State::flush`]
    /// or [`State::flush_if`]. Returns the document, or `None` when it is not open.
    pub fn edit(&mut self, p: DidChangeTextDocumentParams) -> Option<Uri> {
        let uri = p.text_document.uri;
        let doc = self.docs.get_mut(&uri)?;
        for change in p.content_changes {
            match change.range {
                None => doc.text = change.text,
                Some(r) => {
                    let file = SourceFile::new(PathBuf::new(), String::new(), doc.text.clone());
                    let a = file.utf16_offset(r.start.line, r.start.character);
                    let b = file.utf16_offset(r.end.line, r.end.character).max(a);
                    doc.text.replace_range(a..b, &change.text);
                }
            }
        }
        doc.version = p.text_document.version;
        doc.dirty = true;
        Some(uri)
    }

    /// The version of an open document.
    pub fn version(&self, uri: &Uri) -> Option<i32> {
        self.docs.get(uri).map(|d| d.version)
    }

    /// Analyses `uri` again if it is still dirty and still at `version` (a later edit
    /// comes with its own pause).
    pub fn flush_if(&mut self, uri: &Uri, version: i32, out: &mut dyn Notifier) {
        if self
            .docs
            .get(uri)
            .is_some_and(|d| d.dirty && d.version == version)
        {
            self.refresh(uri, out);
        }
    }

    /// Analyses every dirty document (before a request is answered, so that answers
    /// always read the text the client has).
    pub fn flush(&mut self, out: &mut dyn Notifier) {
        let dirty: Vec<Uri> = self
            .docs
            .iter()
            .filter(|(_, d)| d.dirty)
            .map(|(u, _)| u.clone())
            .collect();
        for uri in dirty {
            self.refresh(&uri, out);
        }
    }

    pub fn did_close(&mut self, p: DidCloseTextDocumentParams, out: &mut dyn Notifier) {
        let uri = p.text_document.uri;
        if let Some(doc) = self.docs.remove(&uri) {
            out.publish_diagnostics(PublishDiagnosticsParams {
                uri: uri.clone(),
                diagnostics: Vec::new(),
                version: None,
            });
            self.refresh_dependents(&doc.path, &uri, out);
        }
    }

    /// Analyses a document again, publishes its diagnostics, then does the same for the
    /// open documents that import it.
    fn refresh(&mut self, uri: &Uri, out: &mut dyn Notifier) {
        self.analyse(uri, out);
        if let Some(path) = self.docs.get(uri).map(|d| d.path.clone()) {
            self.refresh_dependents(&path, uri, out);
        }
    }

    fn refresh_dependents(
        &mut self,
        path: &std::path::Path,
        changed: &Uri,
        out: &mut dyn Notifier,
    ) {
        let canon = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let dependents: Vec<Uri> = self
            .docs
            .iter()
            .filter(|(u, _)| *u != changed)
            .filter(|(_, d)| {
                d.analysis.as_ref().is_some_and(|a| {
                    a.paths().iter().skip(1).any(|(_, p)| {
                        p == path || std::fs::canonicalize(p).is_ok_and(|c| c == canon)
                    })
                })
            })
            .map(|(u, _)| u.clone())
            .collect();
        for u in dependents {
            self.analyse(&u, out);
        }
    }

    fn analyse(&mut self, uri: &Uri, out: &mut dyn Notifier) {
        let open: HashMap<PathBuf, String> = self
            .docs
            .iter()
            .filter(|(u, _)| *u != uri)
            .map(|(_, d)| (d.path.clone(), d.text.clone()))
            .collect();
        let Some(doc) = self.docs.get_mut(uri) else {
            return;
        };
        let mut read = analysis::reader(&open);
        let a = Analysis::new(&doc.path, &doc.text, &mut read);
        let diagnostics = lsp_diagnostics(&a, uri);
        doc.analysis = Some(a);
        doc.dirty = false;
        out.publish_diagnostics(PublishDiagnosticsParams {
            uri: uri.clone(),
            diagnostics,
            version: Some(doc.version),
        });
    }

    fn doc(&self, uri: &Uri) -> Result<(&Doc, &Analysis), RequestError> {
        let doc = self
            .docs
            .get(uri)
            .ok_or_else(|| RequestError(format!("`{}` is not open", uri.as_str())))?;
        let a = doc
            .analysis
            .as_ref()
            .ok_or_else(|| RequestError("not analysed yet".into()))?;
        Ok((doc, a))
    }

    fn offset(a: &Analysis, pos: Position) -> usize {
        file_of(a, ROOT).map_or(0, |f| f.utf16_offset(pos.line, pos.character))
    }

    /// The URI of a file of an analysis (the document's own for the root; `None` for
    /// the standard library, which is inside `mxcc`).
    fn uri_of(&self, a: &Analysis, root: &Uri, file: FileId) -> Option<Uri> {
        if file == ROOT {
            return Some(root.clone());
        }
        let path = &file_of(a, file)?.path;
        if mxc_lang::load::is_std(path) {
            return None;
        }
        if let Some((u, _)) = self.docs.iter().find(|(_, d)| &d.path == path) {
            return Some(u.clone());
        }
        Uri::from_file_path(path)
    }

    fn location(&self, a: &Analysis, root: &Uri, span: Span) -> Option<Location> {
        let uri = self.uri_of(a, root, span.file)?;
        Some(Location::new(uri, range(file_of(a, span.file)?, span)))
    }

    pub fn definition(
        &self,
        p: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>, RequestError> {
        let uri = &p.text_document_position_params.text_document.uri;
        let (_, a) = self.doc(uri)?;
        let off = Self::offset(a, p.text_document_position_params.position);
        if let Some(im) = a
            .imports
            .iter()
            .find(|i| i.span.file == ROOT && contains(i.span, off))
        {
            let Some(target) = im.target else {
                return Ok(None);
            };
            let Some(u) = self.uri_of(a, uri, target) else {
                return Ok(None);
            };
            return Ok(Some(GotoDefinitionResponse::Scalar(Location::new(
                u,
                Range::default(),
            ))));
        }
        let Some(o) = a.occurrence_at(ROOT, off) else {
            return Ok(None);
        };
        let locs: Vec<Location> = a
            .definitions(o.kind, &o.name)
            .filter_map(|d| self.location(a, uri, d.span))
            .collect();
        Ok(match locs.len() {
            0 => None,
            1 => locs.into_iter().next().map(GotoDefinitionResponse::Scalar),
            _ => Some(GotoDefinitionResponse::Array(locs)),
        })
    }

    pub fn references(&self, p: ReferenceParams) -> Result<Option<Vec<Location>>, RequestError> {
        let uri = &p.text_document_position.text_document.uri;
        let (_, a) = self.doc(uri)?;
        let off = Self::offset(a, p.text_document_position.position);
        if let Some(im) = a
            .imports
            .iter()
            .find(|i| i.span.file == ROOT && contains(i.span, off))
        {
            // The imports of the same file.
            let locs = a
                .imports
                .iter()
                .filter(|i| i.target.is_some() && i.target == im.target)
                .filter_map(|i| self.location(a, uri, i.span))
                .collect();
            return Ok(Some(locs));
        }
        let Some(o) = a.occurrence_at(ROOT, off) else {
            return Ok(None);
        };
        let decl = p.context.include_declaration;
        Ok(Some(
            a.all(o.kind, &o.name)
                .filter(|x| decl || !x.def)
                .filter_map(|x| self.location(a, uri, x.span))
                .collect(),
        ))
    }

    pub fn prepare_rename(
        &self,
        p: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>, RequestError> {
        let (_, a) = self.doc(&p.text_document.uri)?;
        let off = Self::offset(a, p.position);
        let Some(o) = a.occurrence_at(ROOT, off) else {
            return Ok(None);
        };
        if o.kind == Kind::Param {
            return Err(RequestError(
                "parameters are named by their callers; only lets, policies and agents can be renamed".into(),
            ));
        }
        let f = file_of(a, ROOT).ok_or_else(|| RequestError("no file".into()))?;
        Ok(Some(PrepareRenameResponse::Range(range(f, o.span))))
    }

    pub fn rename(&self, p: RenameParams) -> Result<Option<WorkspaceEdit>, RequestError> {
        let uri = &p.text_document_position.text_document.uri;
        let (_, a) = self.doc(uri)?;
        let off = Self::offset(a, p.text_document_position.position);
        let Some(o) = a.occurrence_at(ROOT, off) else {
            return Ok(None);
        };
        if o.kind == Kind::Param {
            return Err(RequestError(
                "parameters are named by their callers; only lets, policies and agents can be renamed".into(),
            ));
        }
        let new = p.new_name.as_str();
        let valid = new
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && new
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && !lexer::KEYWORDS.contains(&new);
        if !valid {
            return Err(RequestError(format!(
                "`{new}` is not a name (letters, digits, `_` and `-`, not starting with a digit or `-`, and not a keyword)"
            )));
        }
        if a.names(o.kind).iter().any(|n| n == new) {
            return Err(RequestError(format!(
                "a {} named `{new}` already exists",
                o.kind.as_str()
            )));
        }
        let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
        for x in a.all(o.kind, &o.name) {
            let Some(loc) = self.location(a, uri, x.span) else {
                return Err(RequestError(format!(
                    "`{}` is also written in the standard library, which cannot be edited",
                    o.name
                )));
            };
            changes
                .entry(loc.uri)
                .or_default()
                .push(TextEdit::new(loc.range, new.to_string()));
        }
        Ok(Some(WorkspaceEdit::new(changes)))
    }

    /// `textDocument/formatting`: the whole document laid out by `mxc-syntax`'s printer
    /// (the layout of `mxcc fmt`), as one edit; no edit when it is already canonical.
    /// A document with syntax errors is not formatted (no edits; its diagnostics say
    /// why), as `mxcc fmt` never rewrites such a file.
    pub fn formatting(
        &self,
        p: DocumentFormattingParams,
    ) -> Result<Option<Vec<TextEdit>>, RequestError> {
        let (doc, a) = self.doc(&p.text_document.uri)?;
        let formatted = match mxc_syntax::print::format(FileId(0), &doc.text) {
            Ok(t) => t,
            Err(mxc_syntax::print::FormatError::Syntax(..)) => return Ok(None),
            Err(mxc_syntax::print::FormatError::Internal(m)) => return Err(RequestError(m)),
        };
        if formatted == doc.text {
            return Ok(Some(Vec::new()));
        }
        let Some(f) = file_of(a, ROOT) else {
            return Ok(None);
        };
        let (line, character) = f.utf16_position(doc.text.len());
        Ok(Some(vec![TextEdit {
            range: Range {
                start: Position::new(0, 0),
                end: Position::new(line, character),
            },
            new_text: formatted,
        }]))
    }

    pub fn document_symbols(
        &self,
        p: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>, RequestError> {
        let (_, a) = self.doc(&p.text_document.uri)?;
        let (Some(tree), Some(f)) = (a.tree(ROOT), file_of(a, ROOT)) else {
            return Ok(None);
        };
        let syms = tree
            .items
            .iter()
            .filter_map(|i| item_symbol(f, i))
            .collect();
        Ok(Some(DocumentSymbolResponse::Nested(syms)))
    }

    pub fn hover(&self, p: HoverParams) -> Result<Option<Hover>, RequestError> {
        let uri = &p.text_document_position_params.text_document.uri;
        let (_, a) = self.doc(uri)?;
        let off = Self::offset(a, p.text_document_position_params.position);
        let Some(f) = file_of(a, ROOT) else {
            return Ok(None);
        };
        let text = crate::hover::hover(a, f, off);
        Ok(text.map(|(md, span)| Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: md,
            }),
            range: Some(range(f, span)),
        }))
    }

    pub fn completion(
        &self,
        p: CompletionParams,
    ) -> Result<Option<CompletionResponse>, RequestError> {
        let uri = &p.text_document_position.text_document.uri;
        let (doc, a) = self.doc(uri)?;
        let f = SourceFile::new(PathBuf::new(), String::new(), doc.text.clone());
        let pos = p.text_document_position.position;
        let off = f.utf16_offset(pos.line, pos.character);
        let items = crate::complete::complete(a, &doc.text, off);
        Ok(Some(CompletionResponse::Array(items)))
    }
}

/// The LSP diagnostics of a document: those of its own file; an import whose file has
/// errors gets one error saying so.
pub fn lsp_diagnostics(a: &Analysis, uri: &Uri) -> Vec<Diagnostic> {
    let Some(root) = file_of(a, ROOT) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut elsewhere: HashMap<FileId, (usize, String)> = HashMap::new();
    for d in a.diags.iter() {
        let span = d.primary.unwrap_or_default();
        if d.primary.is_some() && span.file != ROOT {
            if d.is_error() {
                let e = elsewhere
                    .entry(span.file)
                    .or_insert((0, d.code.to_string()));
                e.0 += 1;
            }
            continue;
        }
        let mut message = d.message.clone();
        if let Some(l) = &d.primary_label {
            message.push_str(&format!("\n{l}"));
        }
        for n in &d.notes {
            message.push_str(&format!("\nnote: {n}"));
        }
        if let Some(h) = &d.help {
            message.push_str(&format!("\nhelp: {h}"));
        }
        let related: Vec<DiagnosticRelatedInformation> = d
            .labels
            .iter()
            .filter_map(|l| {
                let file = file_of(a, l.span.file)?;
                let uri = if l.span.file == ROOT {
                    uri.clone()
                } else {
                    Uri::from_file_path(&file.path)?
                };
                Some(DiagnosticRelatedInformation {
                    location: Location::new(uri, range(file, l.span)),
                    message: l.message.clone(),
                })
            })
            .collect();
        out.push(Diagnostic {
            range: range(root, span),
            severity: Some(match d.severity {
                Severity::Error => DiagnosticSeverity::ERROR,
                Severity::Warning => DiagnosticSeverity::WARNING,
            }),
            code: Some(NumberOrString::String(d.code.to_string())),
            source: Some("mxc".into()),
            message,
            related_information: (!related.is_empty()).then_some(related),
            ..Default::default()
        });
    }
    for (file, (n, code)) in elsewhere {
        let name = file_of(a, file).map(|f| f.name.clone()).unwrap_or_default();
        let at = a
            .imports
            .iter()
            .find(|i| i.span.file == ROOT)
            .map_or(Span::default(), |i| i.span);
        let s = if n == 1 { "" } else { "s" };
        out.push(Diagnostic {
            range: range(root, at),
            severity: Some(DiagnosticSeverity::ERROR),
            code: Some(NumberOrString::String(code)),
            source: Some("mxc".into()),
            message: format!("imported file `{name}` has {n} error{s}"),
            ..Default::default()
        });
    }
    out
}

#[expect(deprecated, reason = "DocumentSymbol::deprecated must be written")]
fn symbol(
    f: &SourceFile,
    name: String,
    detail: Option<String>,
    kind: SymbolKind,
    span: Span,
    sel: Span,
    children: Vec<DocumentSymbol>,
) -> DocumentSymbol {
    DocumentSymbol {
        name: if name.is_empty() { "?".into() } else { name },
        detail,
        kind,
        tags: None,
        deprecated: None,
        range: range(f, span),
        selection_range: range(f, sel),
        children: (!children.is_empty()).then_some(children),
    }
}

fn item_symbol(f: &SourceFile, item: &Item) -> Option<DocumentSymbol> {
    Some(match item {
        Item::Import(i) => symbol(
            f,
            i.path.value.clone(),
            Some("import".into()),
            SymbolKind::MODULE,
            i.span,
            i.path.span,
            vec![],
        ),
        Item::Param(p) => symbol(
            f,
            p.name.name.clone(),
            Some(format!("param: {}", p.ty.name)),
            SymbolKind::VARIABLE,
            p.span,
            p.name.span,
            vec![],
        ),
        Item::Let(l) => symbol(
            f,
            l.name.name.clone(),
            Some(match &l.value {
                LetValue::Str(s) => format!("\"{}\"", s.value),
                LetValue::List(e, _) => format!("list of {}", e.len()),
            }),
            SymbolKind::CONSTANT,
            l.span,
            l.name.span,
            vec![],
        ),
        Item::Policy(p) => {
            let sections = p
                .sections
                .iter()
                .filter_map(|s| match s {
                    Section::Ok {
                        kind,
                        kw_span,
                        rules,
                        span,
                    } => {
                        let rules = rules
                            .iter()
                            .filter_map(|r| match r {
                                Rule::Ok(r) => Some(rule_symbol(f, r)),
                                Rule::Error(_) => None,
                            })
                            .collect();
                        Some(symbol(
                            f,
                            kind.as_str().into(),
                            None,
                            SymbolKind::NAMESPACE,
                            *span,
                            *kw_span,
                            rules,
                        ))
                    }
                    Section::Error(_) => None,
                })
                .collect();
            symbol(
                f,
                p.name.name.clone(),
                Some("policy".into()),
                SymbolKind::CLASS,
                p.span,
                p.name.span,
                sections,
            )
        }
        Item::Agent(ag) => {
            let uses: Vec<&str> = ag
                .stmts
                .iter()
                .flat_map(|s| match s {
                    AgentStmt::Use { policies, .. } => policies.iter().collect::<Vec<_>>(),
                    _ => Vec::new(),
                })
                .map(|i| i.name.as_str())
                .collect();
            symbol(
                f,
                ag.name.name.clone(),
                Some(format!("agent, uses {}", uses.join(", "))),
                SymbolKind::OBJECT,
                ag.span,
                ag.name.span,
                vec![],
            )
        }
        Item::Test(t) => {
            let agent = t.stmts.iter().find_map(|s| match s {
                TestStmt::Agent { name, .. } => Some(format!("test of {}", name.name)),
                _ => None,
            });
            symbol(
                f,
                t.name.value.clone(),
                agent.or(Some("test".into())),
                SymbolKind::EVENT,
                t.span,
                t.name.span,
                vec![],
            )
        }
        Item::Error(_) => return None,
    })
}

fn rule_symbol(f: &SourceFile, r: &ast::RuleNode) -> DocumentSymbol {
    let rights: Vec<&str> = r.rights.iter().map(|i| i.name.as_str()).collect();
    let targets: Vec<String> = r
        .targets
        .iter()
        .map(|t| match t {
            Elem::Str(s) => format!("\"{}\"", s.value),
            Elem::Name(i) => i.name.clone(),
        })
        .collect();
    let because = r.modifiers.iter().find_map(|m| match m {
        Modifier::Because { reason, .. } => Some(reason.value.clone()),
        _ => None,
    });
    symbol(
        f,
        format!(
            "{} {} {}",
            r.effect.as_str(),
            rights.join(", "),
            targets.join(", ")
        ),
        because,
        SymbolKind::FIELD,
        r.span,
        r.effect_span,
        vec![],
    )
}

/// The right names valid in a section (with `all`).
pub fn rights_of(kind: ast::SectionKind) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = match kind {
        ast::SectionKind::Fs => model::FsRights::NAMED.iter().map(|(_, w)| *w).collect(),
        ast::SectionKind::Net => model::NetRights::NAMED.iter().map(|(_, w)| *w).collect(),
        ast::SectionKind::App => model::AppRights::NAMED.iter().map(|(_, w)| *w).collect(),
    };
    if model::right_bits(kind, "all").is_some() && !v.contains(&"all") {
        v.push("all");
    }
    v
}

/// Tokens of a text, errors included (for hover and completion).
pub fn tokens(text: &str) -> Vec<lexer::Spanned<'_>> {
    lexer::lex_raw(text).0
}

/// Whether a token is a keyword or an identifier (a word).
pub fn word_of<'s>(t: &Tok<'s>) -> Option<&'s str> {
    match t {
        Tok::Ident(s) => Some(s),
        t if t.is_keyword() => Some(t.text()),
        _ => None,
    }
}

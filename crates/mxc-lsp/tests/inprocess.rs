//! The server driven in-process, through a small client trait over [`State`]: what an
//! editor sends (open, change, requests) and what it receives (published diagnostics).

use mxc_lsp::ls_types::*;
use mxc_lsp::{Notifier, State};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Records the diagnostics the server publishes, latest per document.
#[derive(Default)]
struct Recorder {
    latest: HashMap<String, PublishDiagnosticsParams>,
    count: usize,
}

impl Notifier for Recorder {
    fn publish_diagnostics(&mut self, p: PublishDiagnosticsParams) {
        self.count += 1;
        self.latest.insert(p.uri.as_str().to_string(), p);
    }
}

/// What a test does as an editor.
trait Client {
    fn open(&mut self, uri: &Uri, text: &str);
    fn change(&mut self, uri: &Uri, version: i32, edits: Vec<(Range, &str)>);
    fn diagnostics(&self, uri: &Uri) -> Vec<Diagnostic>;
    fn hover(&self, uri: &Uri, pos: Position) -> Option<String>;
    fn complete(&self, uri: &Uri, pos: Position) -> Vec<String>;
    fn definition(&self, uri: &Uri, pos: Position) -> Vec<Location>;
    fn references(&self, uri: &Uri, pos: Position) -> Vec<Location>;
    fn symbols(&self, uri: &Uri) -> Vec<DocumentSymbol>;
    fn rename(&self, uri: &Uri, pos: Position, to: &str) -> Result<WorkspaceEdit, String>;
    fn prepare_rename(&self, uri: &Uri, pos: Position) -> Result<Option<Range>, String>;
}

struct Editor {
    state: State,
    rec: Recorder,
}

fn tdp(uri: &Uri, pos: Position) -> TextDocumentPositionParams {
    TextDocumentPositionParams::new(TextDocumentIdentifier::new(uri.clone()), pos)
}

impl Client for Editor {
    fn open(&mut self, uri: &Uri, text: &str) {
        self.state.did_open(
            DidOpenTextDocumentParams {
                text_document: TextDocumentItem::new(uri.clone(), "mxc".into(), 1, text.into()),
            },
            &mut self.rec,
        );
    }
    fn change(&mut self, uri: &Uri, version: i32, edits: Vec<(Range, &str)>) {
        self.state.did_change(
            DidChangeTextDocumentParams {
                text_document: VersionedTextDocumentIdentifier::new(uri.clone(), version),
                content_changes: edits
                    .into_iter()
                    .map(|(r, t)| TextDocumentContentChangeEvent {
                        range: Some(r),
                        range_length: None,
                        text: t.into(),
                    })
                    .collect(),
            },
            &mut self.rec,
        );
    }
    fn diagnostics(&self, uri: &Uri) -> Vec<Diagnostic> {
        self.rec
            .latest
            .get(uri.as_str())
            .map(|p| p.diagnostics.clone())
            .unwrap_or_default()
    }
    fn hover(&self, uri: &Uri, pos: Position) -> Option<String> {
        let h = self
            .state
            .hover(HoverParams {
                text_document_position_params: tdp(uri, pos),
                work_done_progress_params: Default::default(),
            })
            .unwrap()?;
        match h.contents {
            HoverContents::Markup(m) => Some(m.value),
            other => panic!("unexpected hover {other:?}"),
        }
    }
    fn complete(&self, uri: &Uri, pos: Position) -> Vec<String> {
        let r = self
            .state
            .completion(CompletionParams {
                text_document_position: tdp(uri, pos),
                work_done_progress_params: Default::default(),
                partial_result_params: Default::default(),
                context: None,
            })
            .unwrap();
        match r {
            Some(CompletionResponse::Array(items)) => items.into_iter().map(|i| i.label).collect(),
            other => panic!("unexpected completion {other:?}"),
        }
    }
    fn definition(&self, uri: &Uri, pos: Position) -> Vec<Location> {
        match self
            .state
            .definition(GotoDefinitionParams {
                text_document_position_params: tdp(uri, pos),
                work_done_progress_params: Default::default(),
                partial_result_params: Default::default(),
            })
            .unwrap()
        {
            None => vec![],
            Some(GotoDefinitionResponse::Scalar(l)) => vec![l],
            Some(GotoDefinitionResponse::Array(v)) => v,
            Some(other) => panic!("unexpected {other:?}"),
        }
    }
    fn references(&self, uri: &Uri, pos: Position) -> Vec<Location> {
        self.state
            .references(ReferenceParams {
                text_document_position: tdp(uri, pos),
                work_done_progress_params: Default::default(),
                partial_result_params: Default::default(),
                context: ReferenceContext {
                    include_declaration: true,
                },
            })
            .unwrap()
            .unwrap_or_default()
    }
    fn symbols(&self, uri: &Uri) -> Vec<DocumentSymbol> {
        match self
            .state
            .document_symbols(DocumentSymbolParams {
                text_document: TextDocumentIdentifier::new(uri.clone()),
                work_done_progress_params: Default::default(),
                partial_result_params: Default::default(),
            })
            .unwrap()
        {
            Some(DocumentSymbolResponse::Nested(v)) => v,
            other => panic!("unexpected {other:?}"),
        }
    }
    fn rename(&self, uri: &Uri, pos: Position, to: &str) -> Result<WorkspaceEdit, String> {
        self.state
            .rename(RenameParams {
                text_document_position: tdp(uri, pos),
                new_name: to.into(),
                work_done_progress_params: Default::default(),
            })
            .map(|e| e.expect("an edit"))
            .map_err(|e| e.0)
    }

    fn prepare_rename(&self, uri: &Uri, pos: Position) -> Result<Option<Range>, String> {
        self.state
            .prepare_rename(tdp(uri, pos))
            .map(|r| {
                r.map(|r| match r {
                    PrepareRenameResponse::Range(r) => r,
                    other => panic!("a range, not {other:?}"),
                })
            })
            .map_err(|e| e.0)
    }
}

fn editor() -> Editor {
    Editor {
        state: State::new(),
        rec: Recorder::default(),
    }
}

fn uri(path: &Path) -> Uri {
    Uri::from_file_path(path).expect("absolute path")
}

/// A fresh directory under the target directory for a test's files.
fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("lsp-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The position of the `n`-th (0-based) occurrence of `needle` in `text`, plus `delta`
/// UTF-16 units.
fn pos(text: &str, needle: &str, n: usize, delta: u32) -> Position {
    let off = text
        .match_indices(needle)
        .nth(n)
        .unwrap_or_else(|| panic!("`{needle}` #{n} not in the text"))
        .0;
    let line = text[..off].matches('\n').count() as u32;
    let start = text[..off].rfind('\n').map_or(0, |i| i + 1);
    let col: usize = text[start..off].chars().map(char::len_utf16).sum();
    Position::new(line, col as u32 + delta)
}

fn code(d: &Diagnostic) -> String {
    match &d.code {
        Some(NumberOrString::String(s)) => s.clone(),
        other => panic!("no code: {other:?}"),
    }
}

const POLICY: &str = r#"param workspace: path
let keys = ["~/.ssh/**", "~/.aws/**"]

policy dev {
  fs {
    allow read, delete "${workspace}/**"
    deny read keys because "keys stay home"
  }
  net { allow connect "api.github.com:443" from "/usr/bin/git" }
  app { allow launch "/usr/bin/git" args "status *" }
}

agent coder {
  use dev
}

test "coder" {
  agent coder
  with workspace = "/w", home = "/h"
  expect deny read "/h/.ssh/id"
}
"#;

#[test]
fn a_clean_file_publishes_no_diagnostics_and_an_error_is_placed_and_coded() {
    let d = dir("clean");
    let path = d.join("p.mxc");
    let u = uri(&path);
    let mut e = editor();
    e.open(&u, POLICY);
    assert_eq!(e.diagnostics(&u), vec![], "clean file");
    // Replace `keys` in the deny rule with an unknown name: E0002 on that name.
    let at = pos(POLICY, "deny read keys", 0, 10);
    e.change(
        &u,
        2,
        vec![(
            Range::new(at, Position::new(at.line, at.character + 4)),
            "kez",
        )],
    );
    let ds: Vec<Diagnostic> = e
        .diagnostics(&u)
        .into_iter()
        .filter(|d| d.severity == Some(DiagnosticSeverity::ERROR))
        .collect();
    assert_eq!(ds.len(), 1, "{ds:?}");
    assert_eq!(code(&ds[0]), "E0002");
    assert_eq!(ds[0].severity, Some(DiagnosticSeverity::ERROR));
    assert_eq!(
        ds[0].range,
        Range::new(at, Position::new(at.line, at.character + 3))
    );
    assert_eq!(e.rec.latest[u.as_str()].version, Some(2));
}

#[test]
fn related_spans_become_related_information() {
    let text = "policy p { fs { allow read \"/a\" } }\npolicy p { fs { allow read \"/b\" } }\nagent a { use p }\n";
    let d = dir("related");
    let u = uri(&d.join("p.mxc"));
    let mut e = editor();
    e.open(&u, text);
    let ds = e.diagnostics(&u);
    let dup = ds.iter().find(|d| code(d) == "E0003").expect("E0003");
    assert_eq!(dup.range.start.line, 1);
    let rel = dup
        .related_information
        .as_ref()
        .expect("related information");
    assert_eq!(rel[0].location.uri, u);
    assert_eq!(rel[0].location.range.start, Position::new(0, 7));
}

#[test]
fn incremental_edits_are_applied_in_utf16_units() {
    // A comment with a non-ASCII and an astral character before the error.
    let text = "// é😀\npolicy p { fs { allow read \"/a\" } } // 😀😀 x\nagent a { use p }\n";
    let d = dir("utf16");
    let u = uri(&d.join("p.mxc"));
    let mut e = editor();
    e.open(&u, text);
    assert_eq!(e.diagnostics(&u), vec![]);
    // Line 1: `// 😀😀 x` — replace `x` (after two surrogate pairs) with `}` to break it,
    // then insert an unknown policy name after `use p` on line 2.
    let x = pos(text, " x\n", 0, 1);
    assert_eq!(x.character, 44, "UTF-16 column of x");
    e.change(
        &u,
        2,
        vec![
            (Range::new(x, Position::new(x.line, x.character + 1)), "y"),
            (
                Range::new(Position::new(2, 15), Position::new(2, 15)),
                ", q😀",
            ),
        ],
    );
    let now = e.state.text(&u).unwrap().to_string();
    assert_eq!(
        now,
        "// é😀\npolicy p { fs { allow read \"/a\" } } // 😀😀 y\nagent a { use p, q😀 }\n"
    );
    let ds = e.diagnostics(&u);
    // `q` is unknown (E0002) and `😀` is not a token (E0001), at UTF-16 columns.
    let unknown = ds.iter().find(|d| code(d) == "E0002").expect("E0002");
    assert_eq!(
        unknown.range,
        Range::new(Position::new(2, 17), Position::new(2, 18))
    );
    let bad = ds.iter().find(|d| code(d) == "E0001").expect("E0001");
    assert_eq!(
        bad.range,
        Range::new(Position::new(2, 18), Position::new(2, 20))
    );
}

#[test]
fn a_broken_file_still_has_symbols_and_diagnostics() {
    let text = "let a = \"/x\"\npolicy p {\n  fs { allow read a }\n  net { allow connect }\n}\nagent z {\n  use p\n  bogus\n}\ntest \"t\" { agent z }\n";
    let d = dir("broken");
    let u = uri(&d.join("p.mxc"));
    let mut e = editor();
    e.open(&u, text);
    let ds = e.diagnostics(&u);
    assert!(ds.iter().any(|d| code(d) == "E0001"), "{ds:?}");
    let syms = e.symbols(&u);
    let names: Vec<&str> = syms.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a", "p", "z", "t"]);
    let p = &syms[1];
    assert_eq!(p.kind, SymbolKind::CLASS);
    let fs = &p.children.as_ref().expect("sections")[0];
    assert_eq!(fs.name, "fs");
    assert_eq!(fs.children.as_ref().expect("rules")[0].name, "allow read a");
}

#[test]
fn hover_tells_keywords_rights_rules_names_and_patterns() {
    let d = dir("hover");
    let u = uri(&d.join("p.mxc"));
    let mut e = editor();
    e.open(&u, POLICY);
    let h = |p: Position| e.hover(&u, p).unwrap_or_default();
    assert!(h(pos(POLICY, "policy dev", 0, 2)).contains("a set of rules"));
    assert!(h(pos(POLICY, "delete", 0, 1)).contains("remove, or move something out"));
    assert!(h(pos(POLICY, "connect", 0, 1)).contains("open a connection"));
    // On a rule's effect: what it decides, and the agents that use it.
    let rule = h(pos(POLICY, "deny read keys", 0, 1));
    assert!(rule.contains("denies `read` on `keys`"), "{rule}");
    assert!(rule.contains("keys stay home"), "{rule}");
    assert!(rule.contains("`coder` (policy 1 of 1"), "{rule}");
    // On a pattern: what it matches.
    let p = h(pos(POLICY, "}/**", 0, 2));
    assert!(
        p.contains("the place itself and everything beneath it"),
        "{p}"
    );
    assert!(p.contains("`workspace`"), "{p}");
    let n = h(pos(POLICY, "api.github.com", 0, 2));
    assert!(n.contains("TCP to the host name `api.github.com`"), "{n}");
    assert!(n.contains("port 443"), "{n}");
    let l = h(pos(POLICY, "\"~/.ssh/**\"", 0, 5));
    assert!(l.contains("`~/.ssh/**`"), "{l}");
    // On a name: what it is.
    assert!(h(pos(POLICY, "use dev", 0, 5)).contains("Used by `coder`"));
    assert!(h(pos(POLICY, "read keys", 0, 6)).contains("[\"~/.ssh/**\", \"~/.aws/**\"]"));
    // On the param inside the string: the parameter (it is a name too).
    assert!(h(pos(POLICY, "${workspace}", 0, 3)).contains("**param** `workspace`: path"));
}

#[test]
fn definition_and_references_for_lets_params_policies_agents_and_imports() {
    let d = dir("nav");
    let lib = "let keys = \"~/.ssh/**\"\npolicy base { fs { deny read keys } }\n";
    std::fs::write(d.join("lib.mxc"), lib).unwrap();
    let main = format!("import \"lib.mxc\"\n{POLICY}").replace("use dev", "use base, dev");
    let main = main.replace(
        "let keys = [\"~/.ssh/**\", \"~/.aws/**\"]",
        "let more = [keys, \"~/.aws/**\"]",
    );
    let main = main.replace("deny read keys because", "deny read more because");
    let u = uri(&d.join("main.mxc"));
    let lib_uri = uri(&d.join("lib.mxc"));
    let mut e = editor();
    e.open(&u, &main);
    assert_eq!(e.diagnostics(&u), vec![]);
    // A let defined in the imported file.
    let def = e.definition(&u, pos(&main, "[keys", 0, 2));
    assert_eq!(def.len(), 1);
    assert_eq!(def[0].uri, lib_uri);
    assert_eq!(def[0].range.start, Position::new(0, 4));
    let refs = e.references(&u, pos(&main, "[keys", 0, 2));
    assert_eq!(refs.len(), 3, "{refs:?}"); // its definition, its use in lib, in main
                                           // A param used inside a string.
    let def = e.definition(&u, pos(&main, "${workspace}", 0, 4));
    assert_eq!(def[0].uri, u);
    assert_eq!(def[0].range.start, pos(&main, "workspace: path", 0, 0));
    assert_eq!(
        e.references(&u, pos(&main, "param workspace", 0, 7)).len(),
        3
    );
    // A policy in `use`, and an agent in a test.
    let def = e.definition(&u, pos(&main, "use base", 0, 5));
    assert_eq!(
        (def[0].uri.clone(), def[0].range.start),
        (lib_uri.clone(), Position::new(1, 7))
    );
    let def = e.definition(&u, pos(&main, "agent coder\n  with", 0, 7));
    assert_eq!(def[0].range.start, pos(&main, "agent coder {", 0, 6));
    // An import: the file.
    let def = e.definition(&u, pos(&main, "lib.mxc", 0, 1));
    assert_eq!(def[0].uri, lib_uri);
}

#[test]
fn completion_by_context() {
    let d = dir("complete");
    let u = uri(&d.join("p.mxc"));
    let mut e = editor();
    let text = format!("{POLICY}\n");
    e.open(&u, &text);
    let at_end = Position::new(text.lines().count() as u32, 0);
    let top = e.complete(&u, at_end);
    assert!(
        top.contains(&"policy".to_string()) && top.contains(&"agent".to_string()),
        "{top:?}"
    );
    assert!(!top.contains(&"allow".to_string()));
    let ins = |e: &mut Editor, v: i32, p: Position, t: &str| {
        e.change(&u, v, vec![(Range::new(p, p), t)]);
    };
    // In an fs section after an effect: fs rights only.
    let p = pos(&text, "    deny read keys", 0, 0);
    ins(&mut e, 2, p, "    allow \n");
    let c = e.complete(&u, Position::new(p.line, 10));
    assert!(
        c.contains(&"read".to_string()) && c.contains(&"delete".to_string()),
        "{c:?}"
    );
    assert!(!c.contains(&"connect".to_string()), "{c:?}");
    // After a right: lets in scope.
    ins(&mut e, 3, Position::new(p.line, 10), "read ");
    let c = e.complete(&u, Position::new(p.line, 15));
    assert_eq!(c, ["keys"]);
    // In the net section after `allow`: net rights only.
    let text = e.state.text(&u).unwrap().to_string();
    let n = pos(&text, "net { allow connect", 0, 12);
    let c = e.complete(&u, n);
    assert!(
        c.contains(&"connect".to_string()) && c.contains(&"bind".to_string()),
        "{c:?}"
    );
    assert!(!c.contains(&"read".to_string()));
    // After `use`: policy names; in an agent: statements.
    let usep = pos(&text, "use dev", 0, 4);
    assert_eq!(e.complete(&u, usep), ["dev"]);
    let c = e.complete(&u, pos(&text, "  use dev", 0, 0));
    assert!(
        c.contains(&"isolation".to_string()) && c.contains(&"limits".to_string()),
        "{c:?}"
    );
    // In a test: after `agent`, agents; after `expect deny`, rights of every section.
    assert_eq!(
        e.complete(&u, pos(&text, "agent coder\n  with", 0, 6)),
        ["coder"]
    );
    let c = e.complete(&u, pos(&text, "expect deny read", 0, 12));
    assert!(
        c.contains(&"read".to_string()) && c.contains(&"launch".to_string()),
        "{c:?}"
    );
    // In a string after `${`: parameters.
    let w = pos(&text, "${workspace}", 0, 2);
    let c = e.complete(&u, w);
    assert!(
        c.contains(&"workspace".to_string()) && c.contains(&"home".to_string()),
        "{c:?}"
    );
}

#[test]
fn rename_lets_policies_and_agents_everywhere_but_not_params() {
    let d = dir("rename");
    let lib = "policy base { fs { deny read \"~/.ssh/**\" } }\n";
    std::fs::write(d.join("lib.mxc"), lib).unwrap();
    let main = format!("import \"lib.mxc\"\n{POLICY}").replace("use dev", "use base, dev");
    let u = uri(&d.join("main.mxc"));
    let lib_uri = uri(&d.join("lib.mxc"));
    let mut e = editor();
    e.open(&u, &main);
    let edit = e.rename(&u, pos(&main, "use base", 0, 5), "core").unwrap();
    let changes = edit.changes.unwrap();
    assert_eq!(changes[&lib_uri].len(), 1);
    assert_eq!(changes[&lib_uri][0].range.start, Position::new(0, 7));
    assert_eq!(changes[&u].len(), 1);
    assert_eq!(changes[&u][0].new_text, "core");
    let edit = e
        .rename(&u, pos(&main, "let keys", 0, 5), "secrets")
        .unwrap();
    assert_eq!(edit.changes.unwrap()[&u].len(), 2);
    let edit = e
        .rename(&u, pos(&main, "agent coder {", 0, 7), "writer")
        .unwrap();
    assert_eq!(edit.changes.unwrap()[&u].len(), 2);
    // Not a parameter, not to a keyword, not onto an existing name.
    assert!(e
        .rename(&u, pos(&main, "param workspace", 0, 7), "ws")
        .is_err());
    assert!(e.rename(&u, pos(&main, "let keys", 0, 5), "allow").is_err());
    assert!(e
        .rename(&u, pos(&main, "policy dev", 0, 8), "base")
        .is_err());
    // prepareRename: the name's range on a let, a policy or an agent; an error on a
    // parameter (the editor then says why); nothing on a keyword or a string.
    let p = pos(&main, "let keys", 0, 5);
    let r = e.prepare_rename(&u, p).unwrap().expect("a range");
    assert_eq!(r.start, Position::new(p.line, 4));
    assert_eq!(r.end, Position::new(p.line, 8));
    let p = pos(&main, "policy dev", 0, 8);
    let r = e.prepare_rename(&u, p).unwrap().expect("a range");
    assert_eq!((r.start.character, r.end.character), (7, 10));
    let err = e
        .prepare_rename(&u, pos(&main, "param workspace", 0, 7))
        .unwrap_err();
    assert!(err.contains("parameters"), "{err}");
    assert_eq!(
        e.prepare_rename(&u, pos(&main, "policy dev", 0, 2)),
        Ok(None)
    );
}

/// Inside `import "`, completion offers the standard library's files (`std:NAME.mxc`),
/// every one of which resolves; elsewhere in a string, nothing.
#[test]
fn import_completes_the_standard_library() {
    let d = dir("complete-import");
    let u = uri(&d.join("p.mxc"));
    let mut e = editor();
    let text = "import \"\n";
    e.open(&u, text);
    let c = e.complete(&u, Position::new(0, 8));
    assert!(c.contains(&"std:baseline.mxc".to_string()), "{c:?}");
    assert!(c.iter().all(|n| n.starts_with("std:")), "{c:?}");
    for name in &c {
        let file = format!("import \"{name}\"\n");
        e.open(&u, &file);
        assert!(
            e.diagnostics(&u).is_empty(),
            "{name}: {:?}",
            e.diagnostics(&u)
        );
    }
    let text = "let x = \"/a\n";
    e.open(&u, text);
    assert!(e.complete(&u, Position::new(0, 11)).is_empty());
}

#[test]
fn an_open_import_is_read_from_the_editor_and_its_importers_follow_it() {
    let d = dir("overlay");
    std::fs::write(
        d.join("lib.mxc"),
        "policy base { fs { allow read \"/a\" } }\n",
    )
    .unwrap();
    let main = "import \"lib.mxc\"\nagent a { use base }\n";
    let u = uri(&d.join("main.mxc"));
    let lib_uri = uri(&d.join("lib.mxc"));
    let mut e = editor();
    e.open(&u, main);
    assert_eq!(e.diagnostics(&u), vec![]);
    // The library is opened and its policy renamed in the editor (not on disk).
    e.open(&lib_uri, "policy core { fs { allow read \"/a\" } }\n");
    let ds = e.diagnostics(&u);
    assert_eq!(ds.len(), 1, "{ds:?}");
    assert_eq!(code(&ds[0]), "E0002");
}

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

#[test]
fn every_example_opens_with_no_diagnostics() {
    let mut n = 0;
    for entry in std::fs::read_dir(examples_dir()).unwrap() {
        let path = std::fs::canonicalize(entry.unwrap().path()).unwrap();
        if path.extension().is_none_or(|e| e != "mxc") {
            continue;
        }
        let mut e = editor();
        let u = uri(&path);
        e.open(&u, &std::fs::read_to_string(&path).unwrap());
        assert_eq!(e.diagnostics(&u), vec![], "{}", path.display());
        assert!(!e.symbols(&u).is_empty());
        n += 1;
    }
    assert!(n >= 5, "examples found: {n}");
}

#[test]
fn every_corpus_error_shows_its_code_at_its_range() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mxc-lang/tests/corpus");
    let mut n = 0;
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let path = std::fs::canonicalize(entry.unwrap().path()).unwrap();
        if path.extension().is_none_or(|e| e != "mxc") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // What `mxcc check --format json` says (lines and columns from 1, in characters).
        let program = mxc_lang::check_paths(std::slice::from_ref(&path)).unwrap();
        let json = mxc_lang::render::json(&program.sources, &program.diags.0);
        let mut e = editor();
        let u = uri(&path);
        e.open(&u, &text);
        let got = e.diagnostics(&u);
        for (d, j) in program
            .diags
            .iter()
            .zip(json["diagnostics"].as_array().unwrap())
        {
            let c = d.code.to_string();
            if d.primary.is_some_and(|s| s.file.0 != 0) {
                // In an imported file: the import says so, with the code.
                assert!(
                    got.iter().any(|g| code(g) == c),
                    "{}: {c} in an import",
                    path.display()
                );
                continue;
            }
            let line = |k: &str| j[k].as_u64().unwrap() as u32 - 1;
            let start = Position::new(line("line"), line("column"));
            let end = Position::new(line("end_line"), line("end_column"));
            assert!(
                got.iter()
                    .any(|g| code(g) == c && g.range == Range::new(start, end)),
                "{}: {c} at {start:?}..{end:?} not in {got:#?}",
                path.display()
            );
            n += 1;
        }
    }
    assert!(n >= 30, "corpus diagnostics compared: {n}");
}

#[test]
fn closing_a_document_clears_its_diagnostics() {
    let u = Uri::from_str("untitled:Untitled-1").unwrap();
    let mut e = editor();
    e.open(&u, "policy {");
    assert!(!e.diagnostics(&u).is_empty());
    e.state.did_close(
        DidCloseTextDocumentParams {
            text_document: TextDocumentIdentifier::new(u.clone()),
        },
        &mut e.rec,
    );
    assert_eq!(e.diagnostics(&u), vec![]);
    assert!(e.state.text(&u).is_none());
}

/// `textDocument/formatting` gives the layout of `mxcc fmt` (one edit over the whole
/// document, ending at its UTF-16 end), nothing for a canonical document, and no edit
/// for a document with syntax errors.
#[test]
fn formatting_is_the_printers_layout_and_never_touches_a_broken_file() {
    let d = dir("format");
    let path = d.join("p.mxc");
    let u = uri(&path);
    let mut e = editor();
    let messy = "policy  dev{fs{allow read \"/srv/é/**\"   // keep me\n\n\n deny read \"/srv/é/k\"}}\nagent a {use dev}\n";
    e.open(&u, messy);
    let params = |u: &Uri| DocumentFormattingParams {
        text_document: TextDocumentIdentifier::new(u.clone()),
        options: FormattingOptions::default(),
        work_done_progress_params: Default::default(),
    };
    let edits = e.state.formatting(params(&u)).unwrap().expect("edits");
    assert_eq!(edits.len(), 1);
    let want = mxc_syntax::print::format(mxc_syntax::source::FileId(0), messy).unwrap();
    assert_eq!(edits[0].new_text, want);
    assert!(want.contains("// keep me"), "{want}");
    // The edit covers the whole document: 5 lines, the last one empty.
    assert_eq!(
        edits[0].range,
        Range::new(Position::new(0, 0), Position::new(5, 0))
    );
    // Applied, it is canonical: nothing more to do.
    e.change(&u, 2, vec![(edits[0].range, edits[0].new_text.as_str())]);
    assert_eq!(e.state.formatting(params(&u)).unwrap(), Some(vec![]));
    // A syntax error: no edit, and the diagnostics say why.
    let broken = "policy dev { fs { allow read \"/srv/**\" \n";
    let b = uri(&d.join("broken.mxc"));
    e.open(&b, broken);
    assert_eq!(e.state.formatting(params(&b)).unwrap(), None);
    assert!(!e.diagnostics(&b).is_empty());
}

//! Completion by context: the tokens before the cursor say which block it is in (top
//! level, policy, section, agent, test, limits, env, ui, a let list) and what the
//! statement being written expects next.

use crate::analysis::{Analysis, Kind};
use crate::docs;
use crate::state::{rights_of, tokens};
use mxc_lang::ast::SectionKind;
use mxc_lang::lexer::Tok;
use mxc_lang::load::STD_FILES;
use tower_lsp_server::ls_types::{CompletionItem, CompletionItemKind, Documentation};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Block {
    Top,
    Policy,
    Section(SectionKind),
    Agent,
    Test,
    Limits,
    Env,
    Ui,
    /// Braces of something else (identity arguments never use braces; unknown blocks).
    Other,
}

fn item(label: &str, kind: CompletionItemKind) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        documentation: docs::word(label).map(|d| Documentation::String(d.to_string())),
        ..Default::default()
    }
}

fn keywords(words: &[&str]) -> Vec<CompletionItem> {
    words
        .iter()
        .map(|w| item(w, CompletionItemKind::KEYWORD))
        .collect()
}

fn names(a: &Analysis, kind: Kind) -> Vec<CompletionItem> {
    let ck = match kind {
        Kind::Let => CompletionItemKind::CONSTANT,
        Kind::Param => CompletionItemKind::VARIABLE,
        Kind::Policy => CompletionItemKind::CLASS,
        Kind::Agent => CompletionItemKind::MODULE,
    };
    a.names(kind)
        .into_iter()
        .map(|n| CompletionItem {
            label: n,
            kind: Some(ck),
            detail: Some(kind.as_str().to_string()),
            ..Default::default()
        })
        .collect()
}

/// The completions at byte offset `off` of `text` (the document as it is now; names
/// come from its latest analysis).
pub fn complete(a: &Analysis, text: &str, off: usize) -> Vec<CompletionItem> {
    let mut off = off.min(text.len());
    while !text.is_char_boundary(off) {
        off -= 1;
    }
    let before = &text[..off];
    let mut toks = tokens(before);
    // Inside a string: `${` completes parameters; `import "` completes the library.
    if let Some(&(s, Tok::Error, _)) = toks.last() {
        let partial = &before[s..];
        if partial.starts_with('"') {
            if partial
                .rfind("${")
                .is_some_and(|i| !partial[i..].contains('}'))
            {
                return names(a, Kind::Param);
            }
            if toks.len() >= 2 && toks[toks.len() - 2].1 == Tok::Import {
                return STD_FILES
                    .iter()
                    .map(|(n, _)| item(&format!("std:{n}"), CompletionItemKind::FILE))
                    .collect();
            }
            return Vec::new();
        }
    }
    // The word being typed is not context.
    if let Some(&(_, t, e)) = toks.last() {
        if e == off && (matches!(t, Tok::Ident(_)) || t.is_keyword()) {
            toks.pop();
        }
    }
    // Which block the cursor is in.
    let mut stack = vec![Block::Top];
    let mut brackets = 0i32;
    for (i, (_, t, _)) in toks.iter().enumerate() {
        let top = *stack.last().unwrap_or(&Block::Top);
        match t {
            Tok::LBrace => {
                let prev = |k: usize| i.checked_sub(k).map(|j| toks[j].1);
                let b = match (top, prev(1), prev(2)) {
                    (Block::Top, Some(Tok::Ident(_)), Some(Tok::Policy)) => Block::Policy,
                    (Block::Top, Some(Tok::Ident(_)), Some(Tok::Agent)) => Block::Agent,
                    (Block::Top, Some(Tok::Str(_)), Some(Tok::Test)) => Block::Test,
                    (Block::Policy, Some(Tok::Fs), _) => Block::Section(SectionKind::Fs),
                    (Block::Policy, Some(Tok::Net), _) => Block::Section(SectionKind::Net),
                    (Block::Policy, Some(Tok::App), _) => Block::Section(SectionKind::App),
                    (Block::Agent, Some(Tok::Limits), _) => Block::Limits,
                    (Block::Agent, Some(Tok::Env), _) => Block::Env,
                    (Block::Agent, Some(Tok::Ui), _) => Block::Ui,
                    _ => Block::Other,
                };
                stack.push(b);
            }
            Tok::RBrace if stack.len() > 1 => {
                stack.pop();
            }
            Tok::LBracket => brackets += 1,
            Tok::RBracket => brackets = (brackets - 1).max(0),
            _ => {}
        }
    }
    let block = *stack.last().unwrap_or(&Block::Top);
    let last = toks.last().map(|t| t.1);
    match block {
        Block::Top if brackets > 0 => names(a, Kind::Let),
        Block::Top => match last {
            Some(Tok::Eq) => Vec::new(),
            Some(Tok::Colon) => keywords(&["path", "string"]),
            Some(Tok::Let | Tok::Param | Tok::Policy | Tok::Agent | Tok::Import | Tok::Test) => {
                Vec::new()
            }
            _ => keywords(docs::ITEM_KEYWORDS),
        },
        Block::Policy => keywords(docs::SECTIONS),
        Block::Section(kind) => section(a, kind, &toks),
        Block::Agent => match last {
            Some(Tok::Use) | Some(Tok::Comma) if in_use_list(&toks) => names(a, Kind::Policy),
            Some(Tok::Isolation) => keywords(&["process", "container", "microvm"]),
            Some(Tok::Default) => keywords(&["deny", "ask"]),
            Some(Tok::Audit) => keywords(&["all", "denials", "none"]),
            Some(Tok::Identity) => keywords(&["local", "entra", "oidc"]),
            _ => keywords(docs::AGENT_STMTS),
        },
        Block::Limits => keywords(&["memory", "processes", "timeout", "cpu"]),
        Block::Env => keywords(&["pass", "deny"]),
        Block::Ui => match last {
            Some(Tok::Ident("clipboard" | "display")) => keywords(&["allow", "deny"]),
            _ => keywords(&["clipboard", "display"]),
        },
        Block::Test => test(a, &toks),
        Block::Other => Vec::new(),
    }
}

/// Whether the last tokens are `use NAME, NAME,` (or `use`).
fn in_use_list(toks: &[mxc_lang::lexer::Spanned<'_>]) -> bool {
    for (_, t, _) in toks.iter().rev() {
        match t {
            Tok::Use => return true,
            Tok::Comma | Tok::Ident(_) => {}
            _ => return false,
        }
    }
    false
}

/// Inside a section: what the rule being written expects next.
fn section(
    a: &Analysis,
    kind: SectionKind,
    toks: &[mxc_lang::lexer::Spanned<'_>],
) -> Vec<CompletionItem> {
    let rights = rights_of(kind);
    // The tokens of the current rule: after the last effect keyword (or the `{`).
    let start = toks
        .iter()
        .rposition(|(_, t, _)| matches!(t, Tok::Allow | Tok::Ask | Tok::Deny | Tok::LBrace));
    let Some(start) = start else {
        return keywords(docs::EFFECTS);
    };
    if toks[start].1 == Tok::LBrace {
        return keywords(docs::EFFECTS);
    }
    let rule = &toks[start + 1..];
    let right_items = || {
        rights
            .iter()
            .map(|r| item(r, CompletionItemKind::KEYWORD))
            .collect::<Vec<_>>()
    };
    let is_right = |t: &Tok<'_>| matches!(t, Tok::Ident(w) if rights.contains(w) || *w == "all");
    // Still in the rights: `allow`, `allow read,`.
    let in_rights = rule.iter().all(|(_, t, _)| is_right(t) || *t == Tok::Comma);
    match rule.last().map(|t| t.1) {
        None => return right_items(),
        Some(Tok::Comma) if in_rights => return right_items(),
        Some(t) if in_rights && is_right(&t) => {
            // A target comes next: a let, or a string.
            return names(a, Kind::Let);
        }
        Some(Tok::Comma | Tok::From) => return names(a, Kind::Let),
        Some(Tok::Args | Tok::Because) => return Vec::new(),
        _ => {}
    }
    // After the targets: modifiers valid here, or the next rule.
    let mut v = Vec::new();
    match kind {
        SectionKind::Net => v.push("from"),
        SectionKind::App => v.push("args"),
        SectionKind::Fs => {}
    }
    v.push("because");
    v.extend(docs::EFFECTS);
    keywords(&v)
}

/// Inside a test: statements, agent names, parameters, effects and rights.
fn test(a: &Analysis, toks: &[mxc_lang::lexer::Spanned<'_>]) -> Vec<CompletionItem> {
    let last = toks.last().map(|t| t.1);
    let prev = toks.len().checked_sub(2).map(|i| toks[i].1);
    match last {
        Some(Tok::Agent) => names(a, Kind::Agent),
        Some(Tok::With) => names(a, Kind::Param),
        Some(Tok::Comma) if matches!(prev, Some(Tok::Str(_))) && in_with(toks) => {
            names(a, Kind::Param)
        }
        Some(Tok::Expect) => keywords(docs::EFFECTS),
        Some(Tok::Allow | Tok::Ask | Tok::Deny) if prev == Some(Tok::Expect) => {
            let mut all: Vec<&str> = Vec::new();
            for k in [SectionKind::Fs, SectionKind::Net, SectionKind::App] {
                for r in rights_of(k) {
                    if r != "all" && !all.contains(&r) {
                        all.push(r);
                    }
                }
            }
            keywords(&all)
        }
        Some(Tok::Str(_)) if in_expect(toks) => {
            let mut v = vec!["from", "args"];
            v.extend(docs::TEST_STMTS);
            keywords(&v)
        }
        _ => keywords(docs::TEST_STMTS),
    }
}

fn in_with(toks: &[mxc_lang::lexer::Spanned<'_>]) -> bool {
    toks.iter()
        .rev()
        .find(|(_, t, _)| matches!(t, Tok::With | Tok::Expect | Tok::Agent | Tok::LBrace))
        .is_some_and(|t| t.1 == Tok::With)
}

fn in_expect(toks: &[mxc_lang::lexer::Spanned<'_>]) -> bool {
    toks.iter()
        .rev()
        .find(|(_, t, _)| matches!(t, Tok::With | Tok::Expect | Tok::Agent | Tok::LBrace))
        .is_some_and(|t| t.1 == Tok::Expect)
}

//! The logos lexer.
//!
//! Comments are kept apart from the tokens ([`lex_all`]): the parser never sees them,
//! the printer puts them back where they were.
//!
//! Bad input never stops lexing: an unexpected character, an unterminated string or an
//! unterminated comment becomes a [`Tok::Error`] token (so the parser can recover around
//! it) and a diagnostic.

use crate::diag::{Code, Diagnostic, Dropped};
use crate::source::{FileId, Span};
use logos::{FilterResult, Logos};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LexError {
    #[default]
    Unexpected,
    UnterminatedString,
    UnterminatedComment,
    /// `'...'` closed on its line: one error for the whole literal.
    SingleQuoted,
}

fn block_comment<'s>(lex: &mut logos::Lexer<'s, Tok<'s>>) -> FilterResult<(), LexError> {
    let rest = lex.remainder();
    match rest.find("*/") {
        Some(i) => {
            lex.bump(i + 2);
            FilterResult::Emit(())
        }
        None => {
            lex.bump(rest.len());
            FilterResult::Error(LexError::UnterminatedComment)
        }
    }
}

fn string<'s>(lex: &mut logos::Lexer<'s, Tok<'s>>) -> Result<&'s str, LexError> {
    let rest = lex.remainder().as_bytes();
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            b'"' => {
                lex.bump(i + 1);
                return Ok(lex.slice());
            }
            b'\n' => break,
            b'\\' if rest.get(i + 1).is_some_and(|b| *b != b'\n') => i += 2,
            _ => i += 1,
        }
    }
    // Unterminated: consume to the end of the line (keeping UTF-8 boundaries).
    let mut end = i.min(rest.len());
    while end < rest.len() && !lex.remainder().is_char_boundary(end) {
        end += 1;
    }
    lex.bump(end);
    Err(LexError::UnterminatedString)
}

/// `'...'`: a string in the wrong quotes, when it is closed on its line (else only the
/// `'` is bad).
fn single_quoted<'s>(lex: &mut logos::Lexer<'s, Tok<'s>>) -> Result<(), LexError> {
    let rest = lex.remainder().as_bytes();
    let mut i = 0;
    while let Some(&b) = rest.get(i) {
        match b {
            b'\'' => {
                lex.bump(i + 1);
                return Err(LexError::SingleQuoted);
            }
            b'\n' => break,
            b'\\' if rest.get(i + 1).is_some_and(|b| *b != b'\n') => i += 2,
            _ => i += 1,
        }
    }
    Err(LexError::Unexpected)
}

#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
#[logos(error = LexError)]
#[logos(skip r"[ \t\r\n\f\u{feff}]+")]
pub enum Tok<'s> {
    /// `/* ... */`; kept out of the token list by [`lex_all`].
    #[token("/*", block_comment)]
    BlockComment,
    /// `// ...` to the end of the line; kept out of the token list by [`lex_all`].
    #[regex(r"//[^\n]*", allow_greedy = true)]
    LineComment,
    /// Never produced: `'` is always an error (see [`single_quoted`]).
    #[token("'", single_quoted)]
    SingleQuote,

    #[token("import")]
    Import,
    #[token("param")]
    Param,
    #[token("let")]
    Let,
    #[token("policy")]
    Policy,
    #[token("agent")]
    Agent,
    #[token("test")]
    Test,
    #[token("fs")]
    Fs,
    #[token("net")]
    Net,
    #[token("app")]
    App,
    #[token("allow")]
    Allow,
    #[token("deny")]
    Deny,
    #[token("ask")]
    Ask,
    #[token("from")]
    From,
    #[token("args")]
    Args,
    #[token("because")]
    Because,
    #[token("identity")]
    Identity,
    #[token("isolation")]
    Isolation,
    #[token("default")]
    Default,
    #[token("use")]
    Use,
    #[token("limits")]
    Limits,
    #[token("env")]
    Env,
    #[token("ui")]
    Ui,
    #[token("audit")]
    Audit,
    #[token("expect")]
    Expect,
    #[token("with")]
    With,

    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token(",")]
    Comma,
    #[token(":")]
    Colon,
    #[token("=")]
    Eq,

    #[regex(r"[A-Za-z_][A-Za-z0-9_-]*")]
    Ident(&'s str),
    /// The whole literal, quotes included; escapes are decoded by the parser. Scanned
    /// by a loop (not a regex), so a long string cannot exhaust the stack.
    #[token("\"", string)]
    Str(&'s str),
    /// Never produced (unterminated strings are errors); kept for `Display`.
    UnterminatedStr,
    /// Digits with an optional unit suffix (`30s`, `512MiB`); the unit is checked later.
    #[regex(r"[0-9]+[A-Za-z]*")]
    Number(&'s str),

    /// Produced by [`lex`] for bad input; never by logos itself.
    Error,
}

impl fmt::Display for Tok<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Ident(s) => write!(f, "identifier `{s}`"),
            Tok::Str(s) => write!(f, "string {s}"),
            Tok::Number(s) => write!(f, "number `{s}`"),
            Tok::BlockComment | Tok::LineComment => f.write_str("comment"),
            Tok::Error | Tok::UnterminatedStr | Tok::SingleQuote => f.write_str("invalid input"),
            other => write!(f, "`{}`", other.text()),
        }
    }
}

impl Tok<'_> {
    /// The fixed text of a keyword or punctuation token.
    pub fn text(&self) -> &'static str {
        match self {
            Tok::Import => "import",
            Tok::Param => "param",
            Tok::Let => "let",
            Tok::Policy => "policy",
            Tok::Agent => "agent",
            Tok::Test => "test",
            Tok::Fs => "fs",
            Tok::Net => "net",
            Tok::App => "app",
            Tok::Allow => "allow",
            Tok::Deny => "deny",
            Tok::Ask => "ask",
            Tok::From => "from",
            Tok::Args => "args",
            Tok::Because => "because",
            Tok::Identity => "identity",
            Tok::Isolation => "isolation",
            Tok::Default => "default",
            Tok::Use => "use",
            Tok::Limits => "limits",
            Tok::Env => "env",
            Tok::Ui => "ui",
            Tok::Audit => "audit",
            Tok::Expect => "expect",
            Tok::With => "with",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::Comma => ",",
            Tok::Colon => ":",
            Tok::Eq => "=",
            _ => "",
        }
    }

    pub fn is_keyword(&self) -> bool {
        self.text()
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
    }
}

/// The keywords of SPEC §2; none of them is an identifier.
pub const KEYWORDS: [&str; 25] = [
    "import",
    "param",
    "let",
    "policy",
    "agent",
    "test",
    "fs",
    "net",
    "app",
    "allow",
    "deny",
    "ask",
    "from",
    "args",
    "because",
    "identity",
    "isolation",
    "default",
    "use",
    "limits",
    "env",
    "ui",
    "audit",
    "expect",
    "with",
];

/// A token with its byte range.
pub type Spanned<'s> = (usize, Tok<'s>, usize);

/// Lexes a whole file; lexical errors become `Tok::Error` tokens plus diagnostics.
pub fn lex(file: FileId, src: &str) -> (Vec<Spanned<'_>>, Vec<Diagnostic>) {
    let (toks, errors) = lex_raw(src);
    let mut diags = Vec::new();
    let mut dropped = Dropped::default();
    errors_to_diagnostics(file, src, &errors, usize::MAX, &mut diags, &mut dropped);
    (toks, diags)
}

/// A lexical error found, before it is made a [`Diagnostic`] (most of a huge bad file's
/// errors are only counted, never rendered: see [`errors_to_diagnostics`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawError {
    pub kind: LexError,
    pub range: std::ops::Range<usize>,
    /// A run of bad characters, reported as one error.
    pub run: bool,
}

/// Lexes a whole file; each lexical error is a `Tok::Error` token and a [`RawError`].
pub fn lex_raw(src: &str) -> (Vec<Spanned<'_>>, Vec<RawError>) {
    let (toks, errors, _) = lex_all(src);
    (toks, errors)
}

/// A comment: `// ...` (to the end of its line, the newline not included) or
/// `/* ... */`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub range: std::ops::Range<usize>,
    pub block: bool,
}

/// Lexes a whole file: the tokens (comments not among them), the lexical errors (each
/// also a `Tok::Error` token), and the comments, each list in source order.
pub fn lex_all(src: &str) -> (Vec<Spanned<'_>>, Vec<RawError>, Vec<Comment>) {
    let mut toks: Vec<Spanned<'_>> = Vec::new();
    let mut errors: Vec<RawError> = Vec::new();
    let mut comments: Vec<Comment> = Vec::new();
    let mut lexer = Tok::lexer(src);
    let mut last_unexpected = false;
    while let Some(res) = lexer.next() {
        let range = lexer.span();
        match res {
            Ok(Tok::LineComment | Tok::BlockComment) => comments.push(Comment {
                block: src.get(range.clone()).is_some_and(|t| t.starts_with("/*")),
                range,
            }),
            Ok(tok) => {
                last_unexpected = false;
                toks.push((range.start, tok, range.end))
            }
            Err(LexError::Unexpected)
                if toks
                    .last()
                    .is_some_and(|t: &Spanned<'_>| t.1 == Tok::Error && t.2 == range.start)
                    && last_unexpected =>
            {
                // A run of bad characters is one error.
                if let Some(t) = toks.last_mut() {
                    t.2 = range.end;
                }
                if let Some(e) = errors.last_mut() {
                    e.range.end = range.end;
                    e.run = true;
                }
            }
            Err(kind) => {
                last_unexpected = kind == LexError::Unexpected;
                toks.push((range.start, Tok::Error, range.end));
                errors.push(RawError {
                    kind,
                    range,
                    run: false,
                });
            }
        }
    }
    (toks, errors, comments)
}

/// Makes diagnostics of the first `max` errors; the others are only counted in
/// `dropped`.
pub fn errors_to_diagnostics(
    file: FileId,
    src: &str,
    errors: &[RawError],
    max: usize,
    diags: &mut Vec<Diagnostic>,
    dropped: &mut Dropped,
) {
    for (i, e) in errors.iter().enumerate() {
        if i < max {
            diags.push(error_diagnostic(file, src, e));
        } else {
            dropped.add(|| error_diagnostic(file, src, e));
        }
    }
}

/// A string's text shown in double quotes, with `"` and `\` escaped (and cut short when
/// long).
struct StrShown<'a>(&'a str);

impl fmt::Display for StrShown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for (i, c) in self.0.chars().enumerate() {
            if i == 60 {
                f.write_str("...")?;
                break;
            }
            match c {
                '"' | '\\' => write!(f, "\\{c}")?,
                c if c.is_control() => write!(f, "\\u{{{:X}}}", c as u32)?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"")
    }
}

fn error_diagnostic(file: FileId, src: &str, e: &RawError) -> Diagnostic {
    let range = e.range.clone();
    let span = Span::new(file, range.start, range.end);
    match e.kind {
        LexError::Unexpected if e.run => {
            Diagnostic::new(Code::E0001, span, "unexpected characters").with_label("not valid here")
        }
        LexError::Unexpected => {
            let ch = src.get(range).and_then(|s| s.chars().next());
            let shown = match ch {
                Some(c) if c.is_control() || c.is_whitespace() => {
                    format!("{:?}", c)
                }
                Some(c) => format!("`{c}`"),
                None => "input".to_string(),
            };
            let d = Diagnostic::new(Code::E0001, span, format!("unexpected character {shown}"))
                .with_label("not valid here");
            if ch == Some('\'') {
                d.help("strings are written in double quotes: `\"...\"`")
            } else {
                d
            }
        }
        LexError::SingleQuoted => {
            let inner = src
                .get(range.start + 1..range.end.saturating_sub(1))
                .unwrap_or("")
                .replace("\\'", "'");
            Diagnostic::new(Code::E0001, span, "string in single quotes")
                .with_label("not valid here")
                .help(format!(
                    "strings are written in double quotes: `{}`",
                    StrShown(&inner)
                ))
        }
        LexError::UnterminatedString => Diagnostic::new(Code::E0001, span, "unterminated string")
            .with_label("this string has no closing `\"` on its line")
            .help("close the string with `\"`; a string cannot span lines (write `\\n`)"),
        LexError::UnterminatedComment => Diagnostic::new(
            Code::E0001,
            Span::new(file, e.range.start, e.range.start + 2),
            "unterminated block comment",
        )
        .with_label("this comment is never closed")
        .help("close it with `*/` (block comments do not nest)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok<'_>> {
        lex(FileId(0), src).0.into_iter().map(|t| t.1).collect()
    }

    #[test]
    fn keywords_idents_and_literals() {
        assert_eq!(
            kinds(r#"agent copilot-cli { limits { memory 4GiB } } "a\"b" // c"#),
            vec![
                Tok::Agent,
                Tok::Ident("copilot-cli"),
                Tok::LBrace,
                Tok::Limits,
                Tok::LBrace,
                Tok::Ident("memory"),
                Tok::Number("4GiB"),
                Tok::RBrace,
                Tok::RBrace,
                Tok::Str(r#""a\"b""#),
            ]
        );
    }

    #[test]
    fn errors_become_tokens() {
        let (toks, diags) = lex(FileId(0), "allow @ \"abc\n/* x");
        assert_eq!(diags.len(), 3, "{diags:?}");
        assert_eq!(toks.iter().filter(|t| t.1 == Tok::Error).count(), 3);
    }

    #[test]
    fn single_quoted_string_is_one_error() {
        let (toks, diags) = lex(FileId(0), "allow connect 'x.com:443' 'a\n");
        assert_eq!(toks.iter().filter(|t| t.1 == Tok::Error).count(), 2);
        assert_eq!(diags[0].message, "string in single quotes");
        assert_eq!(
            diags[0].help.as_deref(),
            Some("strings are written in double quotes: `\"x.com:443\"`")
        );
        assert_eq!(diags[1].message, "unexpected character `'`");
    }

    #[test]
    fn comments_are_kept_apart() {
        let src = "allow // a\n/* b\n c */ read /**/\"x\" // d";
        let (toks, errors, comments) = lex_all(src);
        assert!(errors.is_empty());
        assert_eq!(
            toks.iter().map(|t| t.1).collect::<Vec<_>>(),
            vec![Tok::Allow, Tok::Ident("read"), Tok::Str("\"x\"")]
        );
        let texts: Vec<(&str, bool)> = comments
            .iter()
            .map(|c| (&src[c.range.clone()], c.block))
            .collect();
        assert_eq!(
            texts,
            vec![
                ("// a", false),
                ("/* b\n c */", true),
                ("/**/", true),
                ("// d", false)
            ]
        );
    }

    #[test]
    fn keyword_prefix_is_identifier() {
        assert_eq!(kinds("allowed"), vec![Tok::Ident("allowed")]);
    }
}

//! Parsing: text in, `(tree, diagnostics)` out. Never fails, never panics.
//!
//! **Invariant:** [`parse`] always returns a [`File`]; syntax errors are diagnostics,
//! and recovery (see `grammar/mxc.lalrpop`) lets one run report all it can.

use crate::ast::{File, StrLit};
use crate::diag::{Code, Diagnostic, Dropped};
use crate::lexer::{self, LexError, Tok};
use crate::source::{FileId, Span};
use lalrpop_util::{ErrorRecovery, ParseError};

#[allow(
    clippy::all,
    clippy::pedantic,
    unused_qualifications,
    unused_parens,
    dead_code
)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/mxc.rs"));
}

/// Parses one file.
pub fn parse(file: FileId, src: &str) -> (File, Vec<Diagnostic>) {
    let (tree, diags, _) = parse_limited(file, src, usize::MAX);
    (tree, diags)
}

/// Parses one file, making diagnostics of at most `max` lexical errors and `max`
/// syntax errors; the others are only counted (with the first of them) in the
/// [`Dropped`] returned. A huge bad file is parsed in time linear in its size.
pub fn parse_limited(file: FileId, src: &str, max: usize) -> (File, Vec<Diagnostic>, Dropped) {
    let (toks, lex_errors) = lexer::lex_raw(src);
    let mut diags = Vec::new();
    let mut dropped = Dropped::default();
    lexer::errors_to_diagnostics(file, src, &lex_errors, max, &mut diags, &mut dropped);
    drop(lex_errors);
    let toks = close_unclosed(file, src, toks, &mut diags);
    let (tree, errors, eof_error) = run(file, &toks, Some(src), &mut diags);
    let eof = src.len();
    let mut syntax = Vec::new();
    for e in errors {
        if syntax.len() < max {
            if let Some(d) = convert(file, e.error, eof) {
                syntax.push(d);
            }
        } else if let Some(d) = convert(file, e.error, eof) {
            dropped.add(|| d);
        }
    }
    // An error at end of input usually means closing braces are missing: parse again
    // with them supplied, so the tree keeps what was written (the diagnostics stay).
    let tree = if eof_error {
        let depth = toks.iter().fold(0i64, |d, t| match t.1 {
            Tok::LBrace => d + 1,
            Tok::RBrace => d - 1,
            _ => d,
        });
        if depth > 0 {
            let mut patched = toks.clone();
            for _ in 0..depth.min(64) {
                patched.push((eof, Tok::RBrace, eof));
            }
            let mut scratch = Vec::new();
            let (t2, _, _) = run(file, &patched, None, &mut scratch);
            t2
        } else {
            tree
        }
    } else {
        tree
    };
    diags.extend(syntax);
    (tree, diags, dropped)
}

/// What a `{` opened, for [`close_unclosed`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Opened {
    /// `policy NAME {`, `agent NAME {`, `test "NAME" {`: the keyword's position.
    Item(usize),
    /// `fs {`, `net {`, `app {`: the keyword's position.
    Section(usize),
    Other,
}

/// Supplies the `}` a writer forgot, where the next construct shows it is missing: an
/// item can only start at the top level (`policy NAME {`, `agent NAME {`, `test "..." {`,
/// `let NAME =`, `param NAME :`, `import "..."`), and a section only in a policy, not in
/// another section. Each place is one E0001 (the parser then sees the braces and
/// keeps what was written before them, so nothing that follows is a follow-on error).
/// When a lexical error swallowed a `}` (an unterminated string runs to the end of its
/// line) after the unclosed `{`, that error already explains it: no second one.
fn close_unclosed<'s>(
    file: FileId,
    src: &str,
    toks: Vec<lexer::Spanned<'s>>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<lexer::Spanned<'s>> {
    // The tokens with the braces supplied; copied only from the first brace supplied.
    let mut out: Option<Vec<lexer::Spanned<'s>>> = None;
    let mut stack: Vec<(usize, Opened)> = Vec::new();
    // Where the last lexical error that swallowed a `}` starts.
    let mut swallowed: Option<usize> = None;
    let explained = |stack: &[(usize, Opened)], swallowed: Option<usize>| {
        swallowed.is_some_and(|at| stack.last().is_some_and(|(b, _)| at > *b))
    };
    let kind = |i: usize| toks.get(i).map(|t| t.1);
    for (i, &t) in toks.iter().enumerate() {
        let item_start = matches!(
            (t.1, kind(i + 1), kind(i + 2)),
            (
                Tok::Policy | Tok::Agent,
                Some(Tok::Ident(_)),
                Some(Tok::LBrace)
            ) | (Tok::Test, Some(Tok::Str(_)), Some(Tok::LBrace))
                | (Tok::Let, Some(Tok::Ident(_)), Some(Tok::Eq))
                | (Tok::Param, Some(Tok::Ident(_)), Some(Tok::Colon))
                | (Tok::Import, Some(Tok::Str(_)), _)
        );
        let section_start = matches!(t.1, Tok::Fs | Tok::Net | Tok::App)
            && kind(i + 1) == Some(Tok::LBrace)
            && matches!(stack.last(), Some((_, Opened::Section(_))))
            && matches!(stack.iter().rev().nth(1), Some((_, Opened::Item(_))));
        if item_start && !stack.is_empty() {
            let (brace, what) = stack
                .iter()
                .find(|(_, o)| matches!(o, Opened::Item(_)))
                .or(stack.first())
                .copied()
                .unwrap_or((t.0, Opened::Other));
            if !explained(&stack, swallowed) {
                diags.push(missing_brace(file, t, brace, what, &toks, stack.len()));
            }
            let out = out.get_or_insert_with(|| toks[..i].to_vec());
            for _ in 0..stack.len() {
                out.push((t.0, Tok::RBrace, t.0));
            }
            stack.clear();
        } else if section_start {
            let quiet = explained(&stack, swallowed);
            if let Some((brace, what)) = stack.pop() {
                if !quiet {
                    diags.push(missing_brace(file, t, brace, what, &toks, 1));
                }
                out.get_or_insert_with(|| toks[..i].to_vec())
                    .push((t.0, Tok::RBrace, t.0));
            }
        }
        match t.1 {
            Tok::LBrace => {
                let opened = match (
                    i.checked_sub(1).and_then(kind),
                    i.checked_sub(2).and_then(kind),
                ) {
                    (Some(Tok::Fs | Tok::Net | Tok::App), _) => Opened::Section(toks[i - 1].0),
                    (_, Some(Tok::Policy | Tok::Agent | Tok::Test)) => Opened::Item(toks[i - 2].0),
                    _ => Opened::Other,
                };
                stack.push((t.0, opened));
            }
            Tok::RBrace => {
                stack.pop();
            }
            Tok::Error if src.get(t.0..t.2).is_some_and(|x| x.contains('}')) => {
                swallowed = Some(t.0);
            }
            _ => {}
        }
        if let Some(out) = out.as_mut() {
            out.push(t);
        }
    }
    out.unwrap_or(toks)
}

fn missing_brace(
    file: FileId,
    at: lexer::Spanned<'_>,
    brace: usize,
    what: Opened,
    toks: &[lexer::Spanned<'_>],
    count: usize,
) -> Diagnostic {
    let shown = |pos: usize| {
        let i = toks.partition_point(|t| t.0 < pos);
        match (toks.get(i).map(|t| t.1), toks.get(i + 1).map(|t| t.1)) {
            (Some(Tok::Fs | Tok::Net | Tok::App), _) => {
                format!("the `{}` section", toks[i].1.text())
            }
            (Some(k @ (Tok::Policy | Tok::Agent)), Some(Tok::Ident(n))) => {
                format!("{} `{n}`", k.text())
            }
            (Some(Tok::Test), Some(Tok::Str(n))) => format!("test {n}"),
            _ => "this block".to_string(),
        }
    };
    let closes = match what {
        Opened::Item(k) | Opened::Section(k) => shown(k),
        Opened::Other => "this block".to_string(),
    };
    let braces = if count == 1 {
        "`}`".to_string()
    } else {
        format!("{count} `}}`")
    };
    Diagnostic::new(
        Code::E0001,
        Span::new(file, at.0, at.2),
        format!("missing `}}` before {}", at.1),
    )
    .with_label(format!("expected `}}` to close {closes} before this"))
    .label(
        Span::new(file, brace, brace + 1),
        "this `{` is never closed",
    )
    .help(format!("add the missing {braces}"))
}

type Recovered<'s> = ErrorRecovery<usize, Tok<'s>, LexError>;

/// Where the grammar recovered from an error (which `!` alternative).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ctx {
    Item,
    Section,
    Rule,
    AgentStmt,
    TestStmt,
}

/// Runs the generated parser; with `src`, also looks for the errors that recoveries in
/// rules and statements skipped over (see [`hidden_errors`]).
fn run<'s>(
    file: FileId,
    toks: &[lexer::Spanned<'s>],
    src: Option<&str>,
    diags: &mut Vec<Diagnostic>,
) -> (File, Vec<Recovered<'s>>, bool) {
    let mut tagged = Vec::new();
    let iter = toks.iter().copied().map(Ok::<lexer::Spanned<'s>, LexError>);
    let res = generated::FileParser::new().parse(file, &mut tagged, diags, iter);
    let mut errors = Vec::new();
    let tree = match res {
        Ok(t) => t,
        Err(e) => {
            errors.push(ErrorRecovery {
                error: e,
                dropped_tokens: Vec::new(),
            });
            File { items: Vec::new() }
        }
    };
    let eof_error = errors
        .iter()
        .chain(tagged.iter().map(|t| &t.1))
        .any(|e| matches!(e.error, ParseError::UnrecognizedEof { .. }));
    for (ctx, e) in tagged {
        let mut hidden = Vec::new();
        if let Some(src) = src {
            hidden_errors(file, src, toks, ctx, &e, diags, &mut hidden);
        }
        errors.push(e);
        errors.append(&mut hidden);
    }
    (tree, errors, eof_error)
}

/// The errors a recovery skipped over. A recovery in a rule (or an agent or test
/// statement) skips tokens up to the next rule or the closing `}`, which may be lines
/// away: a second mistake on those lines would go unreported until the first is fixed.
/// So the skipped lines after the error's own are parsed again, each group of lines
/// on its own (a line, with the lines indented deeper that continue it), and what is
/// wrong in them is reported too. Linear: each skipped token is parsed once more.
fn hidden_errors<'s>(
    file: FileId,
    src: &str,
    toks: &[lexer::Spanned<'s>],
    ctx: Ctx,
    e: &Recovered<'s>,
    diags: &mut Vec<Diagnostic>,
    out: &mut Vec<Recovered<'s>>,
) {
    if matches!(ctx, Ctx::Item | Ctx::Section) {
        return;
    }
    let dropped = &e.dropped_tokens;
    let Some(first) = dropped.first() else {
        return;
    };
    let at = match &e.error {
        ParseError::UnrecognizedToken { token, .. } | ParseError::ExtraToken { token } => token.0,
        ParseError::InvalidToken { location } => *location,
        _ => first.0,
    };
    // Whether a token is the first on its line (nothing but blanks and comments since
    // the token before it), and then its column.
    let line_start = |pos: usize| {
        let i = toks.partition_point(|t| t.0 < pos);
        let prev_end = i
            .checked_sub(1)
            .and_then(|j| toks.get(j))
            .map_or(0, |t| t.2);
        let gap = src.get(prev_end.min(pos)..pos).unwrap_or("");
        if i == 0 {
            Some(
                src.get(..pos)
                    .and_then(|b| b.rfind('\n'))
                    .map_or(0, |n| n + 1),
            )
        } else {
            gap.rfind('\n').map(|n| prev_end + n + 1)
        }
    };
    let column = |pos: usize| line_start(pos).map(|ls| pos - ls);
    let mut i = dropped
        .iter()
        .position(|t| t.0 > at && column(t.0).is_some())
        .unwrap_or(dropped.len());
    while i < dropped.len() {
        let col = column(dropped[i].0).unwrap_or(0);
        let mut j = i + 1;
        // A group ends before a line that starts a rule or statement: one as far left,
        // beginning with a word, after a line that does not end in `,`.
        while j < dropped.len()
            && (column(dropped[j].0).is_none_or(|c| c > col)
                || !matches!(dropped[j].1, Tok::Ident(_)) && !dropped[j].1.is_keyword()
                || dropped[j - 1].1 == Tok::Comma)
        {
            j += 1;
        }
        let end = dropped[j - 1].2;
        let sentinel = (end, Tok::RBrace, end);
        let segment = dropped[i..j]
            .iter()
            .copied()
            .chain(std::iter::once(sentinel))
            .map(Ok::<lexer::Spanned<'s>, LexError>);
        let mut tagged = Vec::new();
        let res = match ctx {
            Ctx::Rule => generated::RulesTailParser::new().parse(file, &mut tagged, diags, segment),
            Ctx::AgentStmt => {
                generated::AgentStmtsTailParser::new().parse(file, &mut tagged, diags, segment)
            }
            Ctx::TestStmt => {
                generated::TestStmtsTailParser::new().parse(file, &mut tagged, diags, segment)
            }
            Ctx::Item | Ctx::Section => return,
        };
        let mut found: Vec<Recovered<'s>> = tagged.into_iter().map(|t| t.1).collect();
        if let Err(error) = res {
            found.push(ErrorRecovery {
                error,
                dropped_tokens: Vec::new(),
            });
        }
        for f in found {
            // What only the cut made wrong: the end of a group that is not the end of
            // its rule.
            let cut = match &f.error {
                ParseError::UnrecognizedEof { .. } => true,
                ParseError::UnrecognizedToken { token, .. } => *token == sentinel,
                _ => false,
            };
            if !cut {
                out.push(ErrorRecovery {
                    error: f.error,
                    dropped_tokens: Vec::new(),
                });
            }
        }
        i = j;
    }
}

fn convert(
    file: FileId,
    e: ParseError<usize, Tok<'_>, LexError>,
    eof: usize,
) -> Option<Diagnostic> {
    match e {
        ParseError::InvalidToken { location } => Some(Diagnostic::new(
            Code::E0001,
            Span::new(file, location, location + 1),
            "invalid token",
        )),
        ParseError::UnrecognizedEof { location, expected } => {
            let at = location.min(eof);
            Some(
                Diagnostic::new(
                    Code::E0001,
                    Span::new(file, at, at),
                    "unexpected end of file",
                )
                .with_label(format!("expected {}", expected_list(&expected))),
            )
        }
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => {
            // The lexer already reported bad characters.
            if tok == Tok::Error {
                return None;
            }
            let exp = expected_list(&expected);
            let mut d = Diagnostic::new(
                Code::E0001,
                Span::new(file, l, r),
                format!("unexpected {tok}"),
            )
            .with_label(format!("expected {exp}"));
            if let Tok::Ident(w) = tok {
                if let Some(kw) = similar_keyword(w, &expected) {
                    d = d.help(format!("did you mean `{kw}`?"));
                }
            }
            if tok.is_keyword() && expected.iter().any(|e| e == "IDENT") {
                d = d.note(format!(
                    "`{}` is a keyword and cannot be used as a name",
                    tok.text()
                ));
            }
            Some(d)
        }
        ParseError::ExtraToken { token: (l, tok, r) } => Some(
            Diagnostic::new(
                Code::E0001,
                Span::new(file, l, r),
                format!("unexpected {tok}"),
            )
            .with_label("not expected here"),
        ),
        ParseError::User { .. } => None,
    }
}

/// The keyword a misspelt word was probably meant to be: one of those expected (or of
/// all keywords, when none is), at most one edit away (two for words of five letters or
/// more; swapping two neighbours is one edit; case does not count).
fn similar_keyword(word: &str, expected: &[String]) -> Option<&'static str> {
    let wanted: Vec<&'static str> = lexer::KEYWORDS
        .iter()
        .copied()
        .filter(|k| expected.iter().any(|e| e.trim_matches('"') == *k))
        .collect();
    let pool: &[&'static str] = if wanted.is_empty() {
        &lexer::KEYWORDS
    } else {
        &wanted
    };
    let lower = word.to_ascii_lowercase();
    let limit = if word.len() >= 5 { 2 } else { 1 };
    pool.iter()
        .copied()
        .filter(|k| *k != word)
        .map(|k| (edit_distance(&lower, k), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Optimal string alignment distance (insertions, deletions, substitutions and swaps
/// of neighbours), on bytes; `None`-free and cheap for the short words it is used on.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len().abs_diff(b.len()) > 2 || a.len() > 64 {
        return usize::MAX;
    }
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, v) in d.iter_mut().take(w).enumerate() {
        *v = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

/// Turns lalrpop's terminal names into a short friendly list.
fn expected_list(expected: &[String]) -> String {
    let mut names: Vec<String> = Vec::new();
    let effects = ["\"allow\"", "\"ask\"", "\"deny\""];
    let has_all_effects = effects.iter().all(|e| expected.iter().any(|x| x == e));
    let items = [
        "\"import\"",
        "\"param\"",
        "\"let\"",
        "\"policy\"",
        "\"agent\"",
        "\"test\"",
    ];
    let has_items = items
        .iter()
        .filter(|e| expected.iter().any(|x| x == *e))
        .count()
        >= 4;
    let stmts = [
        "\"identity\"",
        "\"isolation\"",
        "\"default\"",
        "\"use\"",
        "\"limits\"",
        "\"env\"",
        "\"ui\"",
        "\"audit\"",
    ];
    let has_stmts = stmts
        .iter()
        .filter(|e| expected.iter().any(|x| x == *e))
        .count()
        >= 4;
    if has_items {
        names.push("an item (`policy`, `agent`, `test`, `let`, `param` or `import`)".into());
    }
    if has_stmts {
        names.push("an agent statement (`identity`, `isolation`, `default`, `use`, `limits`, `env`, `ui` or `audit`)".into());
    }
    if has_all_effects && !has_stmts && expected.len() > effects.len() {
        names.push("a rule (`allow`, `ask` or `deny`)".into());
    }
    for e in expected {
        if (has_items && items.contains(&e.as_str()))
            || (has_stmts && stmts.contains(&e.as_str()))
            || (has_all_effects
                && !has_stmts
                && expected.len() > effects.len()
                && effects.contains(&e.as_str()))
        {
            continue;
        }
        let friendly = match e.as_str() {
            "IDENT" => "a name".to_string(),
            "STRING" => "a string".to_string(),
            "NUMBER" => "a number".to_string(),
            "ERROR" => continue,
            other => format!("`{}`", other.trim_matches('"')),
        };
        if !names.contains(&friendly) {
            names.push(friendly);
        }
    }
    match names.len() {
        0 => "something else".to_string(),
        1 => names.remove(0),
        _ => {
            let last = names.pop().unwrap_or_default();
            format!("{} or {}", names.join(", "), last)
        }
    }
}

/// Decodes a string literal (quotes included) at `l..r`. Bad escapes are reported and
/// kept as written.
pub fn decode_str(
    file: FileId,
    l: usize,
    raw: &str,
    r: usize,
    diags: &mut Vec<Diagnostic>,
) -> StrLit {
    let span = Span::new(file, l, r);
    let inner = raw
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(raw);
    if !inner.contains('\\') {
        return StrLit {
            value: inner.to_string(),
            span,
            verbatim: true,
        };
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let esc_start = l + 1 + i;
        match chars.next() {
            Some((_, '"')) => out.push('"'),
            Some((_, '\\')) => out.push('\\'),
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((j, 'u')) => {
                // \u{HEX}
                let rest = inner.get(j + 1..).unwrap_or("");
                let parsed = rest.strip_prefix('{').and_then(|r2| {
                    let end = r2.find('}')?;
                    let hex = r2.get(..end)?;
                    let v = u32::from_str_radix(hex, 16).ok()?;
                    Some((char::from_u32(v)?, end + 2))
                });
                match parsed {
                    Some((ch, consumed)) => {
                        out.push(ch);
                        for _ in 0..consumed {
                            chars.next();
                        }
                    }
                    None => {
                        diags.push(
                            Diagnostic::new(
                                Code::E0001,
                                Span::new(file, esc_start, esc_start + 2),
                                "invalid unicode escape",
                            )
                            .with_label("expected `\\u{HEX}` naming a unicode scalar value"),
                        );
                        out.push_str("\\u");
                    }
                }
            }
            Some((j, other)) => {
                diags.push(
                    Diagnostic::new(
                        Code::E0001,
                        Span::new(file, esc_start, l + 1 + j + other.len_utf8()),
                        format!("unknown escape `\\{other}`"),
                    )
                    .with_label("not a valid escape")
                    .help("the escapes are `\\\"`, `\\\\`, `\\n`, `\\t` and `\\u{HEX}`"),
                );
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    StrLit {
        value: out,
        span,
        verbatim: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::*;

    #[test]
    fn parses_a_policy() {
        let src = r#"
            policy base {
              fs {
                allow read, write "/home/a/**", tmp because "scratch"
                deny all "~/.ssh/**"
              }
              net { allow connect "api.github.com:443" from "/usr/bin/git" }
              app { allow launch "/usr/bin/git" args "status *" }
            }
            let tmp = ["/tmp/**", other,]
            agent a { use base default ask isolation process limits { memory 4GiB } env { pass "PATH" deny "*_TOKEN" } ui { clipboard deny } audit all identity local(user: "alice") }
            test "t" { agent a with home = "/h" expect deny read "/x" }
        "#;
        let (f, d) = parse(FileId(0), src);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(f.items.len(), 4);
        let Item::Policy(p) = &f.items[0] else {
            panic!()
        };
        let Section::Ok { rules, .. } = &p.sections[0] else {
            panic!()
        };
        let Rule::Ok(r) = &rules[0] else { panic!() };
        assert_eq!(r.rights.len(), 2);
        assert_eq!(r.targets.len(), 2);
        assert_eq!(r.modifiers.len(), 1);
    }

    #[test]
    fn recovers_and_reports_every_error() {
        let src = "policy p { fs { allow read read2 = ; allow write \"/x\" } }\npolicy q { fs { deny ( } }\nagent a { use p  bogus }\n";
        let (f, d) = parse(FileId(0), src);
        assert!(d.len() >= 3, "{d:#?}");
        assert!(
            f.items
                .iter()
                .filter(|i| !matches!(i, Item::Error(_)))
                .count()
                >= 2
        );
    }

    #[test]
    fn missing_brace_keeps_tree() {
        let (f, d) = parse(FileId(0), "policy p { fs { allow read \"/x\" }");
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(matches!(f.items[0], Item::Policy(_)));
    }

    #[test]
    fn an_error_in_a_rule_does_not_hide_the_next() {
        let src = "policy p { fs {\n  allow read \"/a\" \"/b\"\n  alow write \"/c\"\n  allow read\n    \"/d\"\n  allow read \"/f\",\n  \"/g\"\n  from \"/h\"\n  deny ( \"/e\"\n} }\n";
        let (_, d) = parse(FileId(0), src);
        let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "unexpected string \"/b\"",
                "unexpected identifier `alow`",
                "unexpected `(`"
            ]
        );
    }

    #[test]
    fn missing_braces_are_supplied_before_the_next_item_or_section() {
        let src = "policy p {\n  fs { allow read \"/x\"\n  net { allow connect \"a:1\" }\nagent a { use p }\n";
        let (f, d) = parse(FileId(0), src);
        let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            ["missing `}` before `net`", "missing `}` before `agent`"]
        );
        let Item::Policy(p) = &f.items[0] else {
            panic!("{f:?}")
        };
        assert_eq!(p.sections.len(), 2);
        assert!(matches!(f.items[1], Item::Agent(_)));
    }

    #[test]
    fn misspelt_keywords() {
        let exp = |v: &[&str]| v.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>();
        let rule = exp(&["allow", "ask", "deny"]);
        assert_eq!(similar_keyword("alow", &rule), Some("allow"));
        assert_eq!(similar_keyword("Allow", &rule), Some("allow"));
        assert_eq!(similar_keyword("dney", &rule), Some("deny"));
        assert_eq!(similar_keyword("allowed", &rule), Some("allow"));
        assert_eq!(similar_keyword("read", &rule), None);
        assert_eq!(similar_keyword("polcy", &[]), Some("policy"));
        assert_eq!(
            similar_keyword("isolaton", &exp(&["isolation", "use"])),
            Some("isolation")
        );
        assert_eq!(similar_keyword("x", &rule), None);
    }

    #[test]
    fn escapes() {
        let mut d = Vec::new();
        let s = decode_str(FileId(0), 0, r#""a\"\\\n\u{41}\q""#, 10, &mut d);
        assert_eq!(s.value, "a\"\\\nA\\q");
        assert_eq!(d.len(), 1);
    }
}

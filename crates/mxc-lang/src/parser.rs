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
    let (tree, errors, eof_error) = run(file, &toks, &mut diags);
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
            let (t2, _, _) = run(file, &patched, &mut scratch);
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

type Recovered<'s> = ErrorRecovery<usize, Tok<'s>, LexError>;

fn run<'s>(
    file: FileId,
    toks: &[lexer::Spanned<'s>],
    diags: &mut Vec<Diagnostic>,
) -> (File, Vec<Recovered<'s>>, bool) {
    let mut errors = Vec::new();
    let iter = toks.iter().copied().map(Ok::<lexer::Spanned<'s>, LexError>);
    let res = generated::FileParser::new().parse(file, &mut errors, diags, iter);
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
        .any(|e| matches!(e.error, ParseError::UnrecognizedEof { .. }));
    (tree, errors, eof_error)
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
                if let Some(kw) = lexer::KEYWORDS.iter().find(|k| {
                    k.eq_ignore_ascii_case(w) || w.starts_with(**k) && w.len() == k.len() + 1
                }) {
                    if *kw != w {
                        d = d.help(format!("did you mean `{kw}`?"));
                    }
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
    if has_all_effects && !has_stmts {
        names.push("a rule (`allow`, `ask` or `deny`)".into());
    }
    for e in expected {
        if (has_items && items.contains(&e.as_str()))
            || (has_stmts && stmts.contains(&e.as_str()))
            || (has_all_effects && !has_stmts && effects.contains(&e.as_str()))
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
    fn escapes() {
        let mut d = Vec::new();
        let s = decode_str(FileId(0), 0, r#""a\"\\\n\u{41}\q""#, 10, &mut d);
        assert_eq!(s.value, "a\"\\\nA\\q");
        assert_eq!(d.len(), 1);
    }
}

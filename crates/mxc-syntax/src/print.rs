//! The printer: a tree back to canonical `.mxc` text, for `mxcc fmt` and for every
//! tool that writes policy text.
//!
//! [`format`] reprints a source file, keeping every comment where it was; [`print`]
//! writes a tree built by a program (no source, no comments).
//!
//! The canonical layout: two spaces per block level; one item, section, rule or
//! statement per line; a rule's `from` and `because` each on a line of their own, two
//! spaces deeper, and its `args` after its targets when that fits in [`WIDTH`]
//! columns; lists of targets, `use` policies, `env` globs and `with` bindings filled up
//! to [`WIDTH`] columns, continued under their first element; a `let` list, a `limits`,
//! `env` or `ui` block on one line when it fits, has no comment inside and was not
//! broken after its opening bracket by its author, else one element per line (a list's
//! elements each with a trailing comma); runs of blank lines kept as one, none at the
//! start or end of a block or file; a comment on the line of a token stays after that
//! token, a comment on a line of its own stays on a line of its own.
//!
//! **Invariant:** printing changes only the space between tokens and the trailing
//! commas of lists. [`format`] checks it on every run (the output has the input's
//! tokens and comments, in the same order) and refuses to answer when it does not hold,
//! so a bug here can never change what a policy means. A file with syntax errors is
//! never formatted.

use crate::ast::*;
use crate::diag::{Diagnostic, MAX_ERRORS_PER_FILE};
use crate::lexer::{self, Comment, Tok};
use crate::parser;
use crate::source::FileId;
use std::borrow::Cow;

/// The column a line is filled up to.
pub const WIDTH: usize = 100;
/// The indentation of one block level.
const INDENT: usize = 2;

/// Why a file could not be formatted.
#[derive(Debug)]
pub enum FormatError {
    /// The file has syntax errors (at most [`MAX_ERRORS_PER_FILE`] of them, and how
    /// many more there are); it is not formatted.
    Syntax(Vec<Diagnostic>, usize),
    /// The printer would have changed more than the layout (a bug in the printer); the
    /// text it made is not given out.
    Internal(String),
}

/// Formats one source file. The result has the file's tokens and comments in the same
/// order, only laid out anew; formatting it again gives it back unchanged.
pub fn format(file: FileId, src: &str) -> Result<String, FormatError> {
    let (tree, diags, dropped) = parser::parse_limited(file, src, MAX_ERRORS_PER_FILE);
    if diags.iter().any(Diagnostic::is_error) || dropped.count > 0 {
        return Err(FormatError::Syntax(diags, dropped.count));
    }
    let (toks, errors, comments) = lexer::lex_all(src);
    if !errors.is_empty() {
        return Err(FormatError::Internal(
            "the lexer found an error the parser did not report".into(),
        ));
    }
    let mut p = Printer::new(Some(Source {
        text: src,
        toks,
        next: 0,
        comments,
        next_comment: 0,
    }));
    p.file(&tree);
    let out = p.finish().map_err(FormatError::Internal)?;
    same_tokens(src, &out).map_err(FormatError::Internal)?;
    let (_, diags, _) = parser::parse_limited(file, &out, 1);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(FormatError::Internal(
            "the formatted text does not parse".into(),
        ));
    }
    Ok(out)
}

/// Prints a tree that has no source (one built by a program): the canonical layout,
/// strings written from their values, a blank line around each policy, agent and test.
/// Error nodes print nothing.
pub fn print(file: &File) -> String {
    let mut p = Printer::new(None);
    p.file(file);
    // Without a source the printer cannot lose step with it.
    p.finish().unwrap_or_default()
}

/// A string's value as a literal: quotes around it, `"` and `\` escaped, newlines,
/// tabs and other control characters written as escapes. `${...}` and `$$` are kept as
/// they are (the value holds them as written).
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:X}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Checks that `b` has the tokens and comments of `a`, in the same order (a comma
/// before `]` or `)` does not count).
fn same_tokens(a: &str, b: &str) -> Result<(), String> {
    let (ta, ea, ca) = lexer::lex_all(a);
    let (tb, eb, cb) = lexer::lex_all(b);
    if !ea.is_empty() || !eb.is_empty() {
        return Err("lexical errors in the formatted text".into());
    }
    fn significant<'s>(toks: &[lexer::Spanned<'s>]) -> Vec<Tok<'s>> {
        toks.iter()
            .enumerate()
            .filter(|(i, t)| {
                !(t.1 == Tok::Comma
                    && toks
                        .get(i + 1)
                        .is_some_and(|n| matches!(n.1, Tok::RBracket | Tok::RParen)))
            })
            .map(|(_, t)| t.1)
            .collect()
    }
    let (sa, sb) = (significant(&ta), significant(&tb));
    if sa != sb {
        let at = sa
            .iter()
            .zip(&sb)
            .position(|(x, y)| x != y)
            .unwrap_or(sa.len().min(sb.len()));
        return Err(format!(
            "the formatted text has other tokens (from token {at}: {:?} became {:?})",
            sa.get(at),
            sb.get(at)
        ));
    }
    let texts = |src: &str, cs: &[Comment]| -> Vec<String> {
        cs.iter()
            .map(|c| comment_text(src, c).to_string())
            .collect()
    };
    if texts(a, &ca) != texts(b, &cb) {
        return Err("the formatted text has other comments".into());
    }
    Ok(())
}

/// A comment as printed: a line comment without the blanks that end its line.
fn comment_text<'s>(src: &'s str, c: &Comment) -> &'s str {
    let t = src.get(c.range.clone()).unwrap_or("");
    if c.block {
        t
    } else {
        t.trim_end()
    }
}

/// Columns taken by `s` (characters; the text after the last newline when it has one).
fn width(s: &str) -> usize {
    s.chars().count()
}

/// The source a file is printed from: its tokens, to keep step with, and its comments.
struct Source<'s> {
    text: &'s str,
    toks: Vec<lexer::Spanned<'s>>,
    /// The next token to print.
    next: usize,
    comments: Vec<Comment>,
    /// The next comment to print.
    next_comment: usize,
}

struct Printer<'s> {
    src: Option<Source<'s>>,
    out: String,
    /// Columns on the current line.
    col: usize,
    /// Nothing but (not yet written) indentation on the current line.
    line_empty: bool,
    /// Indentation of the current block's lines.
    indent: usize,
    /// Indentation of the current line, written with its first text.
    line_indent: usize,
    /// Where a line broken inside a construct (after a line comment) continues.
    cont: usize,
    /// A line comment was printed: the next text starts a new line.
    need_break: bool,
    /// Nothing printed yet in the block just opened (no blank line here).
    after_open: bool,
    /// Source offset after the last token or comment printed.
    last_end: usize,
    /// The printer lost step with the source: why (a bug; no output is given).
    lost: Option<String>,
}

impl<'s> Printer<'s> {
    fn new(src: Option<Source<'s>>) -> Printer<'s> {
        Printer {
            src,
            out: String::new(),
            col: 0,
            line_empty: true,
            indent: 0,
            line_indent: 0,
            cont: INDENT,
            need_break: false,
            after_open: true,
            last_end: 0,
            lost: None,
        }
    }

    fn finish(mut self) -> Result<String, String> {
        self.flush(usize::MAX, true);
        if let Some(why) = self.lost {
            return Err(why);
        }
        if let Some(src) = &self.src {
            if src.next < src.toks.len() {
                return Err(format!(
                    "{} tokens were not printed",
                    src.toks.len() - src.next
                ));
            }
        }
        if !self.line_empty {
            self.newline();
        }
        Ok(self.out)
    }

    // ---- lines -------------------------------------------------------------------

    fn newline(&mut self) {
        let kept = self.out.trim_end_matches(' ').len();
        self.out.truncate(kept);
        self.out.push('\n');
        self.col = 0;
        self.line_empty = true;
    }

    /// Ends the current line (if anything is on it); the next text starts at `col`.
    fn break_to(&mut self, col: usize) {
        self.need_break = false;
        if !self.line_empty {
            self.newline();
        }
        self.line_indent = col;
    }

    fn blank_line(&mut self) {
        if self.after_open || self.out.is_empty() {
            return;
        }
        if !self.line_empty {
            self.newline();
        }
        if !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// Writes `text`, after `sep` unless it starts a line.
    fn put(&mut self, text: &str, sep: &str) {
        if self.need_break {
            let cont = self.cont;
            self.break_to(cont);
        }
        if self.line_empty {
            for _ in 0..self.line_indent {
                self.out.push(' ');
            }
            self.col = self.line_indent;
            self.line_empty = false;
        } else {
            self.out.push_str(sep);
            self.col += sep.len();
        }
        self.out.push_str(text);
        match text.rfind('\n') {
            Some(i) => self.col = width(&text[i + 1..]),
            None => self.col += width(text),
        }
        self.after_open = false;
    }

    // ---- keeping step with the source ------------------------------------------------

    fn lose(&mut self, why: String) {
        if self.lost.is_none() {
            self.lost = Some(why);
        }
    }

    /// Where the next source token starts (the end of the source after the last).
    fn peek_pos(&self) -> Option<usize> {
        let src = self.src.as_ref()?;
        Some(src.toks.get(src.next).map_or(src.text.len(), |t| t.0))
    }

    /// Takes the next source token, which must be of `want`'s kind (a comma the layout
    /// drops is passed over): its range and text.
    fn sync(&mut self, want: Tok<'_>) -> Option<(usize, usize, &'s str)> {
        let src = self.src.as_mut()?;
        loop {
            let Some(&(start, tok, end)) = src.toks.get(src.next) else {
                let why = format!("the source ended where {want} was printed");
                self.lose(why);
                return None;
            };
            if std::mem::discriminant(&tok) == std::mem::discriminant(&want) {
                src.next += 1;
                let text = src.text.get(start..end).unwrap_or("");
                return Some((start, end, text));
            }
            if tok == Tok::Comma && want != Tok::Comma {
                src.next += 1;
                continue;
            }
            let why = format!("the source has {tok} at byte {start} where {want} was printed");
            self.lose(why);
            return None;
        }
    }

    /// Prints a token: the comments before it, then its text (the source's, when
    /// printing a source), after `sep`.
    fn tok(&mut self, want: Tok<'_>, text: &str, sep: &str) {
        match self.sync(want) {
            Some((start, end, shown)) => {
                self.flush(start, false);
                self.put(shown, sep);
                self.last_end = end;
            }
            None => self.put(text, sep),
        }
    }

    /// A comma the layout always prints, which the source may not have.
    fn comma_kept(&mut self) {
        let has = self
            .src
            .as_ref()
            .and_then(|s| s.toks.get(s.next))
            .map(|t| t.1);
        match has {
            Some(Tok::Comma) => self.tok(Tok::Comma, ",", ""),
            _ => self.put(",", ""),
        }
    }

    /// Prints the comments that start before `pos`. One on the line of the last token
    /// printed follows it; one on a line of its own gets a line of its own, at the
    /// block's indentation (`line_level`, keeping one blank line before it where the
    /// source had any) or where the construct continues.
    fn flush(&mut self, pos: usize, line_level: bool) {
        loop {
            let Some(src) = self.src.as_ref() else { return };
            let Some(c) = src.comments.get(src.next_comment) else {
                return;
            };
            if c.range.start >= pos {
                return;
            }
            let text: &'s str = comment_text(src.text, c);
            let gap = src.text.get(self.last_end..c.range.start).unwrap_or("\n");
            let newlines = gap.matches('\n').count();
            let after = src.text.get(c.range.end..).unwrap_or("");
            let ends_line = !c.block
                || after
                    .trim_start_matches([' ', '\t', '\r'])
                    .starts_with('\n')
                || after.trim().is_empty();
            let end = c.range.end;
            if let Some(src) = self.src.as_mut() {
                src.next_comment += 1;
            }
            if newlines == 0 && !self.line_empty {
                self.need_break = false;
                self.put(text, " ");
            } else if line_level {
                if newlines >= 2 {
                    self.blank_line();
                }
                let indent = self.indent;
                self.break_to(indent);
                self.put(text, "");
            } else {
                let cont = self.cont;
                self.break_to(cont);
                self.put(text, "");
            }
            self.need_break = ends_line;
            self.last_end = end;
        }
    }

    /// Prints the comments on the line of the last token printed (before the next).
    fn flush_trailing(&mut self) {
        let Some(src) = self.src.as_ref() else { return };
        let next = src.toks.get(src.next).map_or(src.text.len(), |t| t.0);
        let line_end = src
            .text
            .get(self.last_end..)
            .and_then(|r| r.find('\n'))
            .map_or(src.text.len(), |i| self.last_end + i);
        self.flush(next.min(line_end), false);
    }

    /// Starts a line-level element (an item, section, rule, statement, list element):
    /// the comments before it, a blank line where the source had one, a new line.
    fn line(&mut self) {
        if let Some(pos) = self.peek_pos() {
            self.flush(pos, true);
            let blank = self
                .src
                .as_ref()
                .and_then(|s| s.text.get(self.last_end..pos))
                .is_some_and(|gap| gap.matches('\n').count() >= 2);
            if blank {
                self.blank_line();
            }
        }
        let indent = self.indent;
        self.break_to(indent);
        self.cont = indent + INDENT;
    }

    /// A break inside a construct: the comments on the current line stay on it.
    fn brk(&mut self, col: usize) {
        self.flush_trailing();
        self.break_to(col);
        self.cont = col;
    }

    fn open(&mut self) {
        self.tok(Tok::LBrace, "{", " ");
        self.indent += INDENT;
        self.after_open = true;
    }

    /// Closes a block opened by [`Printer::open`]: its last comments, then `}` (or
    /// `]`) on a line of its own.
    fn close(&mut self, tok: Tok<'static>, text: &str) {
        if let Some(pos) = self.peek_pos() {
            self.flush(pos, true);
        }
        self.indent = self.indent.saturating_sub(INDENT);
        if self.after_open {
            // Nothing inside: `{}`.
            self.tok(tok, text, "");
            return;
        }
        let indent = self.indent;
        self.break_to(indent);
        self.tok(tok, text, "");
    }

    /// Whether the source has a comment in `range`, or a line break right after its
    /// start (the author's wish to keep a bracketed group broken).
    fn kept_broken(&self, open_end: usize, close_start: usize) -> bool {
        let Some(src) = self.src.as_ref() else {
            return false;
        };
        let comment = src
            .comments
            .iter()
            .skip(src.next_comment)
            .take_while(|c| c.range.start < close_start)
            .any(|c| c.range.start >= open_end);
        let first = src
            .toks
            .get(src.next)
            .map_or(close_start, |t| t.0)
            .min(close_start);
        let broken = src
            .text
            .get(open_end..first)
            .is_some_and(|g| g.contains('\n'));
        comment || broken
    }

    /// The range of the `{` or `[` just printed and the start of the first closing
    /// `close` after it (groups that call this hold no nested brackets).
    fn group_bounds(&self, close: Tok<'static>) -> Option<(usize, usize)> {
        let src = self.src.as_ref()?;
        let open_end = src.toks.get(src.next.checked_sub(1)?)?.2;
        let close_start = src.toks[src.next..]
            .iter()
            .find(|t| t.1 == close)
            .map_or(src.text.len(), |t| t.0);
        Some((open_end, close_start))
    }

    // ---- leaves ----------------------------------------------------------------------

    fn source_text(&self, span: crate::source::Span) -> Option<&'s str> {
        let src = self.src.as_ref()?;
        src.text.get(span.range())
    }

    fn str_text(&self, s: &StrLit) -> Cow<'s, str> {
        match self.source_text(s.span) {
            Some(t) => Cow::Borrowed(t),
            None => Cow::Owned(quote(&s.value)),
        }
    }

    fn elem_text(&self, e: &Elem) -> Cow<'s, str> {
        match e {
            Elem::Str(s) => self.str_text(s),
            Elem::Name(i) => Cow::Owned(i.name.clone()),
        }
    }

    fn value_text(&self, v: &Value) -> Cow<'s, str> {
        match v {
            Value::Str(s) => self.str_text(s),
            Value::Num(n, _) => Cow::Owned(n.clone()),
        }
    }

    fn kw(&mut self, tok: Tok<'static>, sep: &str) {
        self.tok(tok, tok.text(), sep);
    }

    fn ident(&mut self, i: &Ident, sep: &str) {
        self.tok(Tok::Ident(""), &i.name, sep);
    }

    fn string(&mut self, s: &StrLit, sep: &str) {
        let text = quote(&s.value);
        self.tok(Tok::Str(""), &text, sep);
    }

    fn elem(&mut self, e: &Elem, sep: &str) {
        match e {
            Elem::Str(s) => self.string(s, sep),
            Elem::Name(i) => self.ident(i, sep),
        }
    }

    fn value(&mut self, v: &Value, sep: &str) {
        match v {
            Value::Str(s) => self.string(s, sep),
            Value::Num(n, _) => self.tok(Tok::Number(""), n, sep),
        }
    }

    fn effect(&mut self, e: Effect, sep: &str) {
        let tok = match e {
            Effect::Allow => Tok::Allow,
            Effect::Ask => Tok::Ask,
            Effect::Deny => Tok::Deny,
        };
        self.kw(tok, sep);
    }

    fn rights(&mut self, rights: &[Ident]) {
        for (i, r) in rights.iter().enumerate() {
            if i > 0 {
                self.tok(Tok::Comma, ",", "");
            }
            self.ident(r, " ");
        }
    }

    /// A comma list after a space, filled up to [`WIDTH`] and continued under its first
    /// element. `widths[i]` is element `i`'s width.
    fn fill(&mut self, n: usize, widths: &[usize], mut each: impl FnMut(&mut Self, usize, &str)) {
        let align = self.col + 1;
        self.cont = align;
        for i in 0..n {
            if i > 0 {
                self.tok(Tok::Comma, ",", "");
                self.flush_trailing();
                let w = widths.get(i).copied().unwrap_or(0) + usize::from(i + 1 < n);
                if !self.need_break && self.col + 1 + w > WIDTH {
                    self.break_to(align);
                }
            }
            each(self, i, " ");
        }
    }

    fn elems(&mut self, elems: &[Elem]) {
        let widths: Vec<usize> = elems.iter().map(|e| width(&self.elem_text(e))).collect();
        self.fill(elems.len(), &widths, |p, i, sep| p.elem(&elems[i], sep));
    }

    // ---- the tree ----------------------------------------------------------------------

    fn file(&mut self, f: &File) {
        let mut prev: Option<&Item> = None;
        for item in &f.items {
            if matches!(item, Item::Error(_)) {
                continue;
            }
            if self.src.is_none() {
                let small = |i: &Item| matches!(i, Item::Import(_) | Item::Param(_) | Item::Let(_));
                if prev.is_some_and(|p| !(small(p) && small(item))) {
                    self.blank_line();
                }
            }
            self.item(item);
            prev = Some(item);
        }
    }

    fn item(&mut self, item: &Item) {
        self.line();
        match item {
            Item::Import(i) => {
                self.kw(Tok::Import, "");
                self.string(&i.path, " ");
            }
            Item::Param(p) => {
                self.kw(Tok::Param, "");
                self.ident(&p.name, " ");
                self.tok(Tok::Colon, ":", "");
                self.ident(&p.ty, " ");
                if let Some(d) = &p.default {
                    self.tok(Tok::Eq, "=", " ");
                    self.string(d, " ");
                }
            }
            Item::Let(l) => {
                self.kw(Tok::Let, "");
                self.ident(&l.name, " ");
                self.tok(Tok::Eq, "=", " ");
                match &l.value {
                    LetValue::Str(s) => self.string(s, " "),
                    LetValue::List(elems, _) => self.let_list(elems),
                }
            }
            Item::Policy(p) => {
                self.kw(Tok::Policy, "");
                self.ident(&p.name, " ");
                self.open();
                for s in &p.sections {
                    self.section(s);
                }
                self.close(Tok::RBrace, "}");
            }
            Item::Agent(a) => {
                self.kw(Tok::Agent, "");
                self.ident(&a.name, " ");
                self.open();
                for s in &a.stmts {
                    self.agent_stmt(s);
                }
                self.close(Tok::RBrace, "}");
            }
            Item::Test(t) => {
                self.kw(Tok::Test, "");
                self.string(&t.name, " ");
                self.open();
                for s in &t.stmts {
                    self.test_stmt(s);
                }
                self.close(Tok::RBrace, "}");
            }
            Item::Error(_) => {}
        }
    }

    fn let_list(&mut self, elems: &[Elem]) {
        self.tok(Tok::LBracket, "[", " ");
        let texts: Vec<Cow<'s, str>> = elems.iter().map(|e| self.elem_text(e)).collect();
        let one_line: usize =
            texts.iter().map(|t| width(t)).sum::<usize>() + 2 * texts.len().saturating_sub(1) + 1;
        let broken = self
            .group_bounds(Tok::RBracket)
            .is_some_and(|(o, c)| self.kept_broken(o, c));
        let empty_and_quiet = elems.is_empty() && !broken;
        if empty_and_quiet || (!broken && self.col + one_line <= WIDTH) {
            for (i, e) in elems.iter().enumerate() {
                if i > 0 {
                    self.tok(Tok::Comma, ",", "");
                }
                self.elem(e, if i > 0 { " " } else { "" });
            }
            self.tok(Tok::RBracket, "]", "");
            return;
        }
        self.indent += INDENT;
        self.after_open = true;
        for e in elems {
            self.line();
            self.elem(e, "");
            self.comma_kept();
        }
        self.close(Tok::RBracket, "]");
    }

    fn section(&mut self, s: &Section) {
        let Section::Ok { kind, rules, .. } = s else {
            return;
        };
        self.line();
        let tok = match kind {
            SectionKind::Fs => Tok::Fs,
            SectionKind::Net => Tok::Net,
            SectionKind::App => Tok::App,
        };
        self.kw(tok, "");
        self.open();
        for r in rules {
            if let Rule::Ok(r) = r {
                self.rule(r);
            }
        }
        self.close(Tok::RBrace, "}");
    }

    fn rule(&mut self, r: &RuleNode) {
        self.line();
        let deeper = self.indent + INDENT;
        self.effect(r.effect, "");
        self.rights(&r.rights);
        self.elems(&r.targets);
        for m in &r.modifiers {
            match m {
                Modifier::From { targets, .. } => {
                    self.brk(deeper);
                    self.kw(Tok::From, "");
                    self.elems(targets);
                }
                Modifier::Args { glob, .. } => {
                    let w = 6 + width(&self.str_text(glob));
                    self.flush_trailing();
                    if self.need_break || self.col + w > WIDTH {
                        self.brk(deeper);
                    }
                    self.kw(Tok::Args, " ");
                    self.string(glob, " ");
                }
                Modifier::Because { reason, .. } => {
                    self.brk(deeper);
                    self.kw(Tok::Because, "");
                    self.string(reason, " ");
                }
            }
        }
    }

    /// A `limits`, `env` or `ui` block: `n` entries, one line each, or all on the
    /// block's line (two spaces apart) when they fit and the author did not break it.
    fn brace_group(
        &mut self,
        n: usize,
        one_line: usize,
        mut each: impl FnMut(&mut Self, usize, &str),
    ) {
        self.tok(Tok::LBrace, "{", " ");
        let broken = self
            .group_bounds(Tok::RBrace)
            .is_some_and(|(o, c)| self.kept_broken(o, c));
        if n == 0 && !broken {
            self.tok(Tok::RBrace, "}", "");
            return;
        }
        if !broken && self.col + 1 + one_line + 2 <= WIDTH {
            for i in 0..n {
                each(self, i, if i == 0 { " " } else { "  " });
            }
            self.tok(Tok::RBrace, "}", " ");
            return;
        }
        self.indent += INDENT;
        self.after_open = true;
        for i in 0..n {
            self.line();
            each(self, i, "");
        }
        self.close(Tok::RBrace, "}");
    }

    fn agent_stmt(&mut self, s: &AgentStmt) {
        if matches!(s, AgentStmt::Error(_)) {
            return;
        }
        self.line();
        match s {
            AgentStmt::Identity { kind, args, .. } => {
                self.kw(Tok::Identity, "");
                self.ident(kind, " ");
                self.tok(Tok::LParen, "(", "");
                // Filled like a list, continued under the first argument.
                let align = self.col;
                self.cont = align;
                for (i, (k, v)) in args.iter().enumerate() {
                    if i > 0 {
                        self.tok(Tok::Comma, ",", "");
                        self.flush_trailing();
                        let w = width(&k.name) + 2 + width(&self.value_text(v)) + 1;
                        if !self.need_break && self.col + 1 + w > WIDTH {
                            self.break_to(align);
                        }
                    }
                    self.ident(k, if i > 0 { " " } else { "" });
                    self.tok(Tok::Colon, ":", "");
                    self.value(v, " ");
                }
                self.tok(Tok::RParen, ")", "");
            }
            AgentStmt::Isolation { value, .. } => {
                self.kw(Tok::Isolation, "");
                self.ident(value, " ");
            }
            AgentStmt::Default { effect, .. } => {
                self.kw(Tok::Default, "");
                self.effect(*effect, " ");
            }
            AgentStmt::Use { policies, .. } => {
                self.kw(Tok::Use, "");
                let widths: Vec<usize> = policies.iter().map(|p| width(&p.name)).collect();
                self.fill(policies.len(), &widths, |p, i, sep| {
                    p.ident(&policies[i], sep)
                });
            }
            AgentStmt::Limits { entries, .. } => {
                self.kw(Tok::Limits, "");
                let ws: Vec<usize> = entries
                    .iter()
                    .map(|(k, v)| width(&k.name) + 1 + width(&self.value_text(v)))
                    .collect();
                let one_line = ws.iter().sum::<usize>() + 2 * ws.len().saturating_sub(1);
                self.brace_group(entries.len(), one_line, |p, i, sep| {
                    let (k, v) = &entries[i];
                    p.ident(k, sep);
                    p.value(v, " ");
                });
            }
            AgentStmt::Env { clauses, .. } => {
                self.kw(Tok::Env, "");
                let ws: Vec<usize> = clauses
                    .iter()
                    .map(|c| {
                        width(&c.kw.name)
                            + c.globs
                                .iter()
                                .map(|g| 2 + width(&self.str_text(g)))
                                .sum::<usize>()
                            - 1
                    })
                    .collect();
                let one_line = ws.iter().sum::<usize>() + 2 * ws.len().saturating_sub(1);
                self.brace_group(clauses.len(), one_line, |p, i, sep| {
                    let c = &clauses[i];
                    match c.kind {
                        EnvKind::Deny => p.kw(Tok::Deny, sep),
                        EnvKind::Pass | EnvKind::Other => p.ident(&c.kw, sep),
                    }
                    let widths: Vec<usize> =
                        c.globs.iter().map(|g| width(&p.str_text(g))).collect();
                    p.fill(c.globs.len(), &widths, |p, j, sep| {
                        p.string(&c.globs[j], sep)
                    });
                });
            }
            AgentStmt::Ui { entries, .. } => {
                self.kw(Tok::Ui, "");
                let ws: Vec<usize> = entries
                    .iter()
                    .map(|(k, e, _)| width(&k.name) + 1 + e.as_str().len())
                    .collect();
                let one_line = ws.iter().sum::<usize>() + 2 * ws.len().saturating_sub(1);
                self.brace_group(entries.len(), one_line, |p, i, sep| {
                    let (k, e, _) = &entries[i];
                    p.ident(k, sep);
                    p.effect(*e, " ");
                });
            }
            AgentStmt::Audit { value, .. } => {
                self.kw(Tok::Audit, "");
                self.ident(value, " ");
            }
            AgentStmt::Error(_) => {}
        }
    }

    fn test_stmt(&mut self, s: &TestStmt) {
        if matches!(s, TestStmt::Error(_)) {
            return;
        }
        self.line();
        match s {
            TestStmt::Agent { name, .. } => {
                self.kw(Tok::Agent, "");
                self.ident(name, " ");
            }
            TestStmt::With { bindings, .. } => {
                self.kw(Tok::With, "");
                let widths: Vec<usize> = bindings
                    .iter()
                    .map(|(k, v)| width(&k.name) + 3 + width(&self.str_text(v)))
                    .collect();
                self.fill(bindings.len(), &widths, |p, i, sep| {
                    let (k, v) = &bindings[i];
                    p.ident(k, sep);
                    p.tok(Tok::Eq, "=", " ");
                    p.string(v, " ");
                });
            }
            TestStmt::Expect(e) => {
                self.kw(Tok::Expect, "");
                self.effect(e.effect, " ");
                self.rights(&e.rights);
                self.string(&e.target, " ");
                for m in &e.modifiers {
                    match m {
                        Modifier::From { targets, .. } => {
                            self.kw(Tok::From, " ");
                            for (i, t) in targets.iter().enumerate() {
                                if i > 0 {
                                    self.tok(Tok::Comma, ",", "");
                                }
                                self.elem(t, " ");
                            }
                        }
                        Modifier::Args { glob, .. } => {
                            self.kw(Tok::Args, " ");
                            self.string(glob, " ");
                        }
                        Modifier::Because { reason, .. } => {
                            self.kw(Tok::Because, " ");
                            self.string(reason, " ");
                        }
                    }
                }
            }
            TestStmt::Error(_) => {}
        }
    }
}

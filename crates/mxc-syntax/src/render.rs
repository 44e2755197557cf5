//! Renderers: one adapter per output format, all from the same [`Diagnostic`].
//!
//! - [`human`]: source snippets with underlines, for people (ariadne, byte offsets);
//! - [`json`]: the `--format json` object of SPEC §10;
//! - [`sarif`]: a SARIF 2.1.0 log, for code-scanning tools.
//!
//! Lines and columns come from [`SourceFile::line_col`] (1-based, columns in characters),
//! so every format agrees on where a diagnostic is.
//!
//! **Invariant:** a renderer never panics and never drops a diagnostic, whatever the
//! spans say: a span past the end of its file is clamped, a span inside a character is
//! widened to whole characters, a span in an unknown file is rendered without a
//! location. Renderers never decide what is an error; they only show what they are given.

use crate::diag::{Code, Diagnostic, Severity};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use ariadne::{Color, Config, IndexType, Label, Report, ReportKind, Source};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::ops::Range;

/// Renders diagnostics for people: `error[E0005]: message`, then the source with the
/// primary span and the labels underlined, then notes and help; a blank line follows
/// each diagnostic.
///
/// With `color` off the text contains no escape sequences at all.
pub fn human(sources: &SourceMap, diags: &[Diagnostic], color: bool) -> String {
    let mut out = String::new();
    for d in diags {
        human_one(sources, d, color, &mut out);
        out.push('\n');
    }
    out
}

fn header(d: &Diagnostic, color: bool) -> String {
    let sev = d.severity.as_str();
    if color {
        let c = match d.severity {
            Severity::Error => "\x1b[1;31m",
            Severity::Warning => "\x1b[1;33m",
        };
        format!("{c}{sev}[{}]\x1b[0m\x1b[1m: {}\x1b[0m\n", d.code, d.message)
    } else {
        format!("{sev}[{}]: {}\n", d.code, d.message)
    }
}

/// A label resolved to a byte range that is safe to hand to ariadne.
struct Placed {
    file: FileId,
    range: Range<usize>,
    message: String,
    primary: bool,
}

fn human_one(sources: &SourceMap, d: &Diagnostic, color: bool, out: &mut String) {
    out.push_str(&header(d, color));
    let primary = d.primary.and_then(|s| sources.get(s.file).map(|f| (s, f)));
    let Some((pspan, pfile)) = primary else {
        // No place to show: the notes and help follow the header as plain lines.
        for n in &d.notes {
            let _ = writeln!(out, "  = note: {n}");
        }
        if let Some(h) = &d.help {
            let _ = writeln!(out, "  = help: {h}");
        }
        return;
    };
    let mut placed = vec![Placed {
        file: pspan.file,
        range: display_range(&pfile.text, pspan),
        message: d.primary_label.clone().unwrap_or_else(|| d.message.clone()),
        primary: true,
    }];
    for l in &d.labels {
        if let Some(f) = sources.get(l.span.file) {
            placed.push(Placed {
                file: l.span.file,
                range: display_range(&f.text, l.span),
                message: l.message.clone(),
                primary: false,
            });
        }
    }
    // The primary's file first, then the other files; by position within a file.
    placed.sort_by_key(|p| (p.file != pspan.file, p.file, p.range.start, p.range.end));
    // One ariadne report per file, the notes and help closing the last: ariadne 0.6
    // locates a snippet of a file other than its report's by a character offset read
    // as a byte offset (a panic on non-ASCII text), and draws labels in one file whose
    // lines go backwards as separate snippets.
    let mut files: Vec<Vec<Placed>> = Vec::new();
    for p in placed {
        match files.last_mut() {
            Some(group) if group[0].file == p.file => group.push(p),
            _ => files.push(vec![p]),
        }
    }
    let last = files.len().saturating_sub(1);
    for (i, group) in files.into_iter().enumerate() {
        let notes: &[String] = if i == last { &d.notes } else { &[] };
        let help = if i == last { d.help.as_deref() } else { None };
        snippet(sources, d.severity, group, notes, help, color, out);
    }
}

/// Draws one file's labels (a non-empty group), with ariadne's header line removed.
///
/// ariadne is given an [`Excerpt`] of the file, not the file: only the lines the
/// labels are on, long lines cut down around the labels.
fn snippet(
    sources: &SourceMap,
    severity: Severity,
    group: Vec<Placed>,
    notes: &[String],
    help: Option<&str>,
    color: bool,
    out: &mut String,
) {
    let (prim_color, other_color) = match severity {
        Severity::Error => (Color::Red, Color::Blue),
        Severity::Warning => (Color::Yellow, Color::Blue),
    };
    let Some(first) = group.iter().find(|p| p.primary).or(group.first()) else {
        return;
    };
    let Some(file) = sources.get(first.file) else {
        return;
    };
    let ranges: Vec<Range<usize>> = group.iter().map(|p| p.range.clone()).collect();
    let mut excerpt = Excerpt::new(file, &ranges);
    let first_range = excerpt.map_range(&first.range);
    let location = (first.file, first.range.start, first_range.start);
    let mut report = Report::build(ReportKind::Error, (first.file, first_range)).with_config(
        Config::default()
            .with_index_type(IndexType::Byte)
            .with_color(color),
    );
    for (order, p) in group.into_iter().enumerate() {
        let mut label = Label::new((p.file, excerpt.map_range(&p.range)))
            .with_message(p.message)
            .with_order(i32::try_from(order).unwrap_or(i32::MAX));
        if color {
            label = label.with_color(if p.primary { prim_color } else { other_color });
        }
        if p.primary {
            label = label.with_priority(1);
        }
        report.add_label(label);
    }
    for n in notes {
        report.add_note(n);
    }
    if let Some(h) = help {
        report.add_help(h);
    }
    let (id, orig_start, excerpt_start) = location;
    let (line, col) = file.line_col(orig_start);
    let (shown_line, shown_col) = excerpt.line_col(excerpt_start);
    let mut cache = ExcerptCache {
        id,
        name: &file.name,
        source: Source::from(std::mem::take(&mut excerpt.text)),
    };
    let mut buf = Vec::new();
    if report.finish().write(&mut cache, &mut buf).is_err() {
        return;
    }
    let text = String::from_utf8_lossy(&buf);
    // ariadne's own header line (`Error:`) is replaced by ours; ariadne pads lines
    // with spaces, which are trimmed.
    let body = text.split_once('\n').map_or("", |(_, rest)| rest);
    for (i, l) in body.lines().enumerate() {
        let l = excerpt.renumber(l.trim_end_matches(' '));
        if i == 0 && (shown_line, shown_col) != (line, col) {
            // ariadne counted in the excerpt, not in the file.
            let wrong = format!("{}:{shown_line}:{shown_col} ", file.name);
            let right = format!("{}:{line}:{col} ", file.name);
            out.push_str(&l.replacen(&wrong, &right, 1));
        } else {
            out.push_str(&l);
        }
        out.push('\n');
    }
}

/// Lines longer than this (in bytes) are shown cut down around the labels.
const LONG_LINE: usize = 240;
/// Bytes shown on each side of a label's ends in a line that is cut down.
const CONTEXT: usize = 60;
/// Between labels more lines apart than this, the unlabelled lines are left blank.
const MAX_SPAN_LINES: usize = 32;
/// What stands for the text left out of a line.
const ELLIPSIS: &str = "…";

/// The part of a file that one snippet shows, as ariadne is given it: the lines from
/// the first label to the last (the lines before them left empty), each long line reduced to
/// windows around the labels' ends, and every character made safe to print (see
/// [`safe_char`]). So the work and the output of a diagnostic do not grow with the
/// size of the file or the length of its lines.
struct Excerpt {
    text: String,
    /// The 0-based line of the file that the excerpt's first line is.
    first: usize,
    /// One past the last line ariadne numbers, counted in the excerpt.
    ariadne_end: usize,
    /// The pieces of the file kept: (start in the file, start in `text`, length).
    pieces: Vec<(usize, usize, usize)>,
}

impl Excerpt {
    fn new(file: &SourceFile, ranges: &[Range<usize>]) -> Excerpt {
        let text = file.text.as_str();
        let lo = ranges.iter().map(|r| r.start).min().unwrap_or(0);
        let hi = ranges.iter().map(|r| r.end).max().unwrap_or(0).max(lo);
        let first = file.line_index(lo);
        let last = file.line_index(hi);
        // ariadne numbers lines from the excerpt's start: [`Excerpt::renumber`] puts
        // the file's numbers back.
        let ariadne_end = file.line_index(hi.saturating_sub(1).max(lo)) - first + 1;
        let mut points: Vec<usize> = ranges.iter().flat_map(|r| [r.start, r.end]).collect();
        points.sort_unstable();
        points.dedup();
        let mut out = String::new();
        let mut pieces = Vec::new();
        let many = last - first + 1 > MAX_SPAN_LINES;
        for line in first..=last {
            let ls = file.line_start(line).unwrap_or(text.len());
            let le = file
                .line_start(line + 1)
                .map_or(text.len(), |n| n.saturating_sub(1));
            let from = points.partition_point(|p| *p < ls);
            let to = points.partition_point(|p| *p <= le);
            let here = &points[from..to];
            if here.is_empty() && many {
                // Left blank.
            } else if le - ls <= LONG_LINE {
                push_piece(&mut out, &mut pieces, text, ls..le);
            } else {
                let mut windows: Vec<Range<usize>> = Vec::new();
                for &p in here {
                    let w = floor(text, p.saturating_sub(CONTEXT).max(ls))
                        ..ceil(text, (p + CONTEXT).min(le));
                    match windows.last_mut() {
                        Some(prev) if w.start <= prev.end + 8 => prev.end = prev.end.max(w.end),
                        _ => windows.push(w),
                    }
                }
                let mut at = ls;
                for w in windows {
                    if w.start > at {
                        out.push_str(ELLIPSIS);
                    }
                    at = w.end;
                    push_piece(&mut out, &mut pieces, text, w);
                }
                if at < le {
                    out.push_str(ELLIPSIS);
                }
            }
            if line < last {
                out.push('\n');
            } else if le < text.len() || (ls == text.len() && text.ends_with('\n')) {
                // Whatever follows in the file: the end of the line (or of the file)
                // is on a line of its own for ariadne too.
                if le < text.len() {
                    out.push('\n');
                }
                out.push(' ');
            }
        }
        Excerpt {
            text: out,
            first,
            ariadne_end,
            pieces,
        }
    }

    /// Where a byte offset of the file is in the excerpt.
    fn map(&self, off: usize) -> usize {
        let i = self.pieces.partition_point(|p| p.0 <= off);
        match i.checked_sub(1).and_then(|i| self.pieces.get(i)) {
            Some(&(orig, at, len)) => at + (off - orig).min(len),
            None => self.pieces.first().map_or(0, |p| p.1),
        }
    }

    fn map_range(&self, r: &Range<usize>) -> Range<usize> {
        let start = self.map(r.start);
        start..self.map(r.end).max(start)
    }

    /// The 1-based line and column (in characters) ariadne shows for an excerpt offset.
    fn line_col(&self, at: usize) -> (usize, usize) {
        let before = self.text.get(..at).unwrap_or("");
        let line = before.rfind('\n').map_or(before, |i| &before[i + 1..]);
        (before.matches('\n').count() + 1, line.chars().count() + 1)
    }

    /// Gives a line of ariadne's output the file's line numbers: the number in the
    /// margin is shifted by the excerpt's first line, and every margin is widened for
    /// the wider numbers.
    fn renumber(&self, line: &str) -> String {
        let digits = |n: usize| n.max(1).ilog10() as usize + 1;
        let narrow = digits(self.ariadne_end);
        let wide = digits(self.first + self.ariadne_end);
        if self.first == 0 || wide == narrow && !line.contains(char::is_numeric) {
            return line.to_string();
        }
        let delta = wide - narrow;
        // Where the visible text starts, past colour sequences.
        let mut i = 0;
        let mut escapes = String::new();
        let bytes = line.as_bytes();
        loop {
            if bytes.get(i) == Some(&0x1b) {
                let end = line[i..].find('m').map_or(line.len(), |e| i + e + 1);
                escapes.push_str(&line[i..end]);
                i = end;
            } else if bytes.get(i) == Some(&b' ') {
                i += 1;
            } else {
                break;
            }
        }
        let digit_end = line[i..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(line.len(), |e| i + e);
        if digit_end > i && line[digit_end..].starts_with(' ') {
            // A numbered line: ` NUM │ text`, NUM right-aligned in the margin.
            let n: usize = line[i..digit_end].parse().unwrap_or(0);
            format!(" {escapes}{:>wide$}{}", n + self.first, &line[digit_end..])
        } else if line[i..].starts_with('─') {
            format!("{}{}{}", &line[..i], "─".repeat(delta), &line[i..])
        } else {
            format!("{}{line}", " ".repeat(delta))
        }
    }
}

fn push_piece(
    out: &mut String,
    pieces: &mut Vec<(usize, usize, usize)>,
    text: &str,
    r: Range<usize>,
) {
    pieces.push((r.start, out.len(), r.len()));
    out.extend(text.get(r).unwrap_or("").chars().map(safe_char));
}

fn floor(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Feeds ariadne the excerpt of one file.
struct ExcerptCache<'a> {
    id: FileId,
    name: &'a str,
    source: Source<String>,
}

impl ariadne::Cache<FileId> for ExcerptCache<'_> {
    type Storage = String;

    fn fetch(&mut self, id: &FileId) -> Result<&Source<String>, impl std::fmt::Debug> {
        if *id == self.id {
            Ok(&self.source)
        } else {
            Err("no such file")
        }
    }

    fn display<'b>(&self, _id: &'b FileId) -> Option<impl std::fmt::Display + 'b> {
        Some(self.name.to_string())
    }
}

/// The byte range ariadne is given for a span: clamped to the text, on character
/// boundaries, and at least one character wide when there is a character to show
/// (an empty span points at the character that follows it; at the end of a line or
/// of the file it stays empty and ariadne marks the position).
fn display_range(text: &str, span: Span) -> Range<usize> {
    let r = clamp(text, span);
    if !r.is_empty() {
        return r;
    }
    match text.get(r.start..).and_then(|s| s.chars().next()) {
        Some(c) if c != '\n' && c != '\r' => r.start..r.start + c.len_utf8(),
        _ => r,
    }
}

/// Clamps a span to the text and widens it to whole characters.
fn clamp(text: &str, span: Span) -> Range<usize> {
    let len = text.len();
    let mut start = (span.start as usize).min(len);
    let mut end = (span.end as usize).min(len).max(start);
    while start > 0 && !text.is_char_boundary(start) {
        start -= 1;
    }
    while end < len && !text.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

/// A character as ariadne is given it: the same number of bytes, but only `\n` ends a
/// line (as in [`SourceFile::line_col`]; ariadne alone would also break lines at `\r`,
/// form feeds and Unicode separators) and no control character reaches the terminal.
fn safe_char(c: char) -> char {
    match c {
        '\n' | '\t' => c,
        // One byte each: a visible stand-in of the same size.
        '\r' | '\x0B' | '\x0C' => ' ',
        c if (c as u32) < 0x20 || c == '\x7f' => '?',
        // Two bytes each (U+0080..U+009F, including NEL).
        c if c.is_control() => '\u{A0}',
        // Three bytes each.
        '\u{2028}' | '\u{2029}' => '\u{2000}',
        // Bidirectional overrides and isolates (three bytes each) would reorder
        // what the terminal shows.
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => '\u{FFFD}',
        c => c,
    }
}

/// The position of a span: (file name, start line, start column, end line, end column),
/// 1-based, columns in characters, end exclusive. `None` for a span in an unknown file.
fn position(sources: &SourceMap, span: Span) -> Option<(&SourceFile, [usize; 4])> {
    let f = sources.get(span.file)?;
    let r = clamp(&f.text, span);
    let (l1, c1) = f.line_col(r.start);
    let (l2, c2) = f.line_col(r.end);
    Some((f, [l1, c1, l2, c2]))
}

/// The `--format json` object of SPEC §10:
/// `{"diagnostics": [{"code", "severity", "message", "file", "line", "column",
/// "end_line", "end_column", "help"}]}`. `file` is the file name as given; without a
/// location, `file` and the positions are `null`, and so is `help` when there is none.
pub fn json(sources: &SourceMap, diags: &[Diagnostic]) -> Value {
    let list: Vec<Value> = diags
        .iter()
        .map(|d| {
            let pos = d.primary.and_then(|s| position(sources, s));
            let (file, p) = match pos {
                Some((f, p)) => (Value::from(f.name.clone()), p.map(Value::from)),
                None => (
                    Value::Null,
                    [Value::Null, Value::Null, Value::Null, Value::Null],
                ),
            };
            let [line, column, end_line, end_column] = p;
            json!({
                "code": d.code.as_str(),
                "severity": d.severity.as_str(),
                "message": d.message,
                "file": file,
                "line": line,
                "column": column,
                "end_line": end_line,
                "end_column": end_column,
                "help": d.help,
            })
        })
        .collect();
    json!({ "diagnostics": list })
}

/// The URI of the SARIF 2.1.0 JSON schema, as written in `$schema`.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// A SARIF 2.1.0 log with one run of the tool `mxcc`: one rule per code used (the
/// rule's description is [`Code::summary`]), one result per diagnostic. Notes and help
/// are appended to the result's message text; labels become related locations.
pub fn sarif(sources: &SourceMap, diags: &[Diagnostic]) -> Value {
    let mut codes: Vec<Code> = diags.iter().map(|d| d.code).collect();
    codes.sort();
    codes.dedup();
    let rules: Vec<Value> = codes
        .iter()
        .map(|c| {
            json!({
                "id": c.as_str(),
                "shortDescription": { "text": c.summary() },
                "defaultConfiguration": { "level": level(c.severity()) },
            })
        })
        .collect();
    let results: Vec<Value> = diags
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            for n in &d.notes {
                let _ = write!(text, "\nnote: {n}");
            }
            if let Some(h) = &d.help {
                let _ = write!(text, "\nhelp: {h}");
            }
            let rule_index = codes.iter().position(|c| *c == d.code).unwrap_or(0);
            let mut result = json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": rule_index,
                "level": level(d.severity),
                "message": { "text": text },
            });
            if let Some(loc) = d.primary.and_then(|s| location(sources, s)) {
                result["locations"] = json!([loc]);
            }
            let related: Vec<Value> = d
                .labels
                .iter()
                .filter_map(|l| {
                    let mut loc = location(sources, l.span)?;
                    loc["message"] = json!({ "text": l.message });
                    Some(loc)
                })
                .enumerate()
                .map(|(i, mut loc)| {
                    loc["id"] = json!(i);
                    loc
                })
                .collect();
            if !related.is_empty() {
                result["relatedLocations"] = json!(related);
            }
            result
        })
        .collect();
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "mxcc",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn location(sources: &SourceMap, span: Span) -> Option<Value> {
    let (f, [line, column, end_line, end_column]) = position(sources, span)?;
    Some(json!({
        "physicalLocation": {
            "artifactLocation": { "uri": file_uri(&f.name) },
            "region": {
                "startLine": line,
                "startColumn": column,
                "endLine": end_line,
                "endColumn": end_column,
            }
        }
    }))
}

/// A file name as a URI reference: relative names stay relative (`policies/a.mxc`),
/// absolute ones become `file:` URIs; `\` is read as `/` and anything outside the
/// unreserved characters is percent-encoded.
fn file_uri(name: &str) -> String {
    let path = name.replace('\\', "/");
    let b = path.as_bytes();
    let drive = b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/';
    let (prefix, rest) = if drive {
        (format!("file:///{}:", char::from(b[0])), &path[2..])
    } else if path.starts_with('/') {
        ("file://".to_string(), path.as_str())
    } else {
        (String::new(), path.as_str())
    };
    let mut out = prefix;
    for byte in rest.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &str) -> SourceMap {
        let mut m = SourceMap::new();
        m.add("p.mxc", text.to_string());
        m
    }

    fn span(start: u32, end: u32) -> Span {
        Span {
            file: FileId(0),
            start,
            end,
        }
    }

    #[test]
    fn header_and_underline() {
        let m = map("policy p {\n  fs { allow rread \"/x\" }\n}\n");
        let d = Diagnostic::new(Code::E0004, span(24, 29), "unknown right `rread`")
            .with_label("not a right of `fs`")
            .help("the rights of `fs` are `read`, `write`, `create`, `delete` or `all`");
        let out = human(&m, &[d], false);
        assert!(
            out.starts_with("error[E0004]: unknown right `rread`\n"),
            "{out}"
        );
        assert!(out.contains("p.mxc:2:14"), "{out}");
        assert!(out.contains("not a right of `fs`"), "{out}");
        assert!(out.contains("Help: the rights of `fs`"), "{out}");
        assert!(!out.contains('\x1b'), "{out}");
        assert!(
            human(&m, &[Diagnostic::new(Code::E0004, span(24, 29), "x")], true).contains('\x1b')
        );
    }

    #[test]
    fn labels_in_another_file_get_their_own_snippet() {
        let mut m = SourceMap::new();
        m.add("main.mxc", "// é\npolicy p { }\n".to_string());
        m.add("lib/ünï.mxc", "// ü\n\npolicy p { }\n".to_string());
        let d = Diagnostic::new(
            Code::E0003,
            span(13, 14),
            "policy `p` is defined more than once",
        )
        .with_label("defined again here")
        .label(
            Span {
                file: FileId(1),
                start: 14,
                end: 15,
            },
            "first defined here",
        )
        .help("rename or remove one of the two policy definitions");
        let out = human(&m, &[d], false);
        let main = out.find("main.mxc:2:8").expect(&out);
        let lib = out.find("lib/ünï.mxc:3:8").expect(&out);
        let help = out.find("Help: rename").expect(&out);
        assert!(main < lib && lib < help, "{out}");
    }

    /// Only the lines with labels are given to ariadne; the numbers in the margin and
    /// in the location are still the file's, and the margin as wide as they need.
    #[test]
    fn snippets_keep_the_file_line_numbers() {
        let text = format!("{}policy p {{ }}\n\npolicy p {{ }}\n", "\n".repeat(8));
        let m = map(&text);
        let d = Diagnostic::new(
            Code::E0003,
            span(29, 30),
            "policy `p` is defined more than once",
        )
        .with_label("defined again here")
        .label(span(15, 16), "first defined here");
        let out = human(&m, &[d], false);
        let want = "\
error[E0003]: policy `p` is defined more than once
    ╭─[ p.mxc:11:8 ]
    │
  9 │ policy p { }
    │        ┬
    │        ╰── first defined here
    │
 11 │ policy p { }
    │        ┬
    │        ╰── defined again here
────╯

";
        assert_eq!(out, want);
        // Far down a file, in colour.
        let text = format!("{}let x = @\n", "\n".repeat(99_999));
        let at = text.len() as u32 - 2;
        let out = human(
            &map(&text),
            &[Diagnostic::new(Code::E0001, span(at, at + 1), "m")],
            true,
        );
        assert!(out.contains("p.mxc:100000:9 "), "{out}");
        assert!(out.contains("100000 │"), "{out}");
    }

    /// A long line is shown as windows around the labels' ends.
    #[test]
    fn long_lines_are_cut_down() {
        let text = format!(
            "let x = \"{}\" @ {} @\n",
            "a".repeat(1000),
            "b".repeat(1000)
        );
        let first = text.find('@').unwrap_or(0) as u32;
        let second = text.rfind('@').unwrap_or(0) as u32;
        let d = Diagnostic::new(Code::E0001, span(first, first + 1), "m")
            .label(span(second, second + 1), "l");
        let out = human(&map(&text), &[d], false);
        assert!(out.chars().count() < 2000, "{out}");
        assert!(out.contains("p.mxc:1:1012 "), "{out}");
        assert!(out.contains(" 1 │ …aaa"), "{out}");
        assert!(out.contains("b @"), "{out}");
        // A label over the whole line: its two ends are shown.
        let d = Diagnostic::new(Code::E0001, span(0, text.len() as u32 - 1), "m");
        let out = human(&map(&text), &[d], false);
        assert!(out.chars().count() < 1000, "{out}");
        assert!(out.contains(" 1 │ let x"), "{out}");
    }

    #[test]
    fn no_span_is_a_plain_line() {
        let d = Diagnostic::global(Code::E0009, "parameter `workspace` is not bound")
            .note("agent `a` uses it")
            .help("pass `--param workspace=/...`");
        let out = human(&SourceMap::new(), &[d], false);
        assert_eq!(
            out,
            "error[E0009]: parameter `workspace` is not bound\n  = note: agent `a` uses it\n  = help: pass `--param workspace=/...`\n\n"
        );
    }

    #[test]
    fn odd_spans_never_panic() {
        let text = "é\r\nab\u{2028}c\x1b\u{85}\n\t\"x\"";
        let m = map(text);
        let len = text.len() as u32;
        for s in 0..len + 3 {
            for e in 0..len + 3 {
                let d = Diagnostic::new(Code::E0001, span(s, e), "m")
                    .label(span(e, s), "l")
                    .label(
                        Span {
                            file: FileId(7),
                            start: s,
                            end: e,
                        },
                        "elsewhere",
                    );
                let out = human(&m, std::slice::from_ref(&d), false);
                assert!(out.starts_with("error[E0001]: m\n"));
                assert!(!out.contains('\x1b'), "{out:?}");
                let _ = json(&m, std::slice::from_ref(&d));
                let _ = sarif(&m, &[d]);
            }
        }
    }

    #[test]
    fn json_positions_are_one_based() {
        let m = map("ab\ncdé");
        let d = Diagnostic::new(Code::E0005, span(3, 7), "m").help("h");
        let j = json(&m, &[d]);
        assert_eq!(
            j,
            json!({"diagnostics": [{"code": "E0005", "severity": "error", "message": "m",
                "file": "p.mxc", "line": 2, "column": 1, "end_line": 2, "end_column": 4,
                "help": "h"}]})
        );
        let g = json(&m, &[Diagnostic::global(Code::E0009, "g")]);
        assert_eq!(g["diagnostics"][0]["file"], Value::Null);
        assert_eq!(g["diagnostics"][0]["line"], Value::Null);
        assert_eq!(g["diagnostics"][0]["help"], Value::Null);
    }

    #[test]
    fn uris() {
        assert_eq!(file_uri("a/b c.mxc"), "a/b%20c.mxc");
        assert_eq!(file_uri("/tmp/x.mxc"), "file:///tmp/x.mxc");
        assert_eq!(file_uri("C:\\p\\x.mxc"), "file:///C:/p/x.mxc");
        assert_eq!(file_uri("a:b.mxc"), "a%3Ab.mxc");
    }
}

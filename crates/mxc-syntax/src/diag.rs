//! The one diagnostic type, shared by every stage and every renderer.
//!
//! Messages follow rustc's guide: lowercase, no final period, code in backticks; the
//! message states the problem and only `help` suggests a fix.

use crate::source::{FileId, Span};
use std::collections::HashMap;
use std::fmt;

/// Most errors reported for one file (see [`Diagnostics::limit_errors_per_file`]).
pub const MAX_ERRORS_PER_FILE: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// Stable diagnostic codes (SPEC §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// syntax error
    E0001,
    /// unknown name
    E0002,
    /// duplicate definition
    E0003,
    /// right not valid in this section, or unknown right
    E0004,
    /// invalid path pattern
    E0005,
    /// invalid network target
    E0006,
    /// invalid agent statement
    E0007,
    /// import not found, or import cycle
    E0008,
    /// parameter unbound, or a path value that is not absolute
    E0009,
    /// invalid value (duration, size, limit, env glob)
    E0010,
    /// modifier not allowed on this rule
    E0011,
    /// rule can never decide a request
    W0001,
    /// unused let or param
    W0002,
    /// policy used by no agent
    W0003,
    /// overly broad grant
    W0004,
    /// credential store readable
    W0005,
    /// file that runs later outside the sandbox writable
    W0006,
}

impl Code {
    pub const ALL: [Code; 17] = [
        Code::E0001,
        Code::E0002,
        Code::E0003,
        Code::E0004,
        Code::E0005,
        Code::E0006,
        Code::E0007,
        Code::E0008,
        Code::E0009,
        Code::E0010,
        Code::E0011,
        Code::W0001,
        Code::W0002,
        Code::W0003,
        Code::W0004,
        Code::W0005,
        Code::W0006,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::E0001 => "E0001",
            Code::E0002 => "E0002",
            Code::E0003 => "E0003",
            Code::E0004 => "E0004",
            Code::E0005 => "E0005",
            Code::E0006 => "E0006",
            Code::E0007 => "E0007",
            Code::E0008 => "E0008",
            Code::E0009 => "E0009",
            Code::E0010 => "E0010",
            Code::E0011 => "E0011",
            Code::W0001 => "W0001",
            Code::W0002 => "W0002",
            Code::W0003 => "W0003",
            Code::W0004 => "W0004",
            Code::W0005 => "W0005",
            Code::W0006 => "W0006",
        }
    }

    pub fn severity(self) -> Severity {
        if self.as_str().starts_with('E') {
            Severity::Error
        } else {
            Severity::Warning
        }
    }

    /// One-line description, used as the SARIF rule description.
    pub fn summary(self) -> &'static str {
        match self {
            Code::E0001 => "syntax error",
            Code::E0002 => "unknown name",
            Code::E0003 => "duplicate definition",
            Code::E0004 => "right not valid in this section, or unknown right",
            Code::E0005 => "invalid path pattern",
            Code::E0006 => "invalid network target",
            Code::E0007 => "invalid agent statement",
            Code::E0008 => "import not found, or import cycle",
            Code::E0009 => "parameter unbound, or a path value that is not absolute",
            Code::E0010 => "invalid value",
            Code::E0011 => "modifier not allowed on this rule",
            Code::W0001 => "rule can never decide a request",
            Code::W0002 => "unused let or param",
            Code::W0003 => "policy used by no agent",
            Code::W0004 => "overly broad grant",
            Code::W0005 => "agent may read a credential store",
            Code::W0006 => "agent may write a file that runs later outside the sandbox",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secondary label: a span with a short text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// The primary span; `None` only for diagnostics about no particular place
    /// (for example a parameter missing on the command line).
    pub primary: Option<Span>,
    /// Text shown under the primary span.
    pub primary_label: Option<String>,
    pub labels: Vec<Label>,
    pub notes: Vec<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            primary: Some(span),
            primary_label: None,
            labels: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    /// A diagnostic with no source location.
    pub fn global(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            primary: None,
            ..Diagnostic::new(code, Span::default(), message)
        }
    }

    pub fn with_label(mut self, text: impl Into<String>) -> Diagnostic {
        self.primary_label = Some(text.into());
        self
    }

    pub fn label(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: text.into(),
        });
        self
    }

    pub fn note(mut self, text: impl Into<String>) -> Diagnostic {
        self.notes.push(text.into());
        self
    }

    pub fn help(mut self, text: impl Into<String>) -> Diagnostic {
        self.help = Some(text.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Errors of one file left out of its report: how many, and the first of them.
#[derive(Clone, Debug, Default)]
pub struct Dropped {
    pub count: usize,
    pub first: Option<Diagnostic>,
}

impl Dropped {
    /// Counts one more error left out; `make` builds it only when it is the first.
    pub fn add(&mut self, make: impl FnOnce() -> Diagnostic) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(make());
        }
    }

    /// Adds what another tally left out (its first kept if it comes first).
    pub fn merge(&mut self, other: Dropped) {
        self.count += other.count;
        if let Some(o) = other.first {
            match &self.first {
                Some(f) if sort_key(f) <= sort_key(&o) => {}
                _ => self.first = Some(o),
            }
        }
    }
}

fn sort_key(d: &Diagnostic) -> (bool, FileId, u32, u32, Code) {
    let s = d.primary.unwrap_or_default();
    (d.primary.is_some(), s.file, s.start, s.end, d.code)
}

/// A list of diagnostics, kept in source order for output.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Adds a diagnostic; exact duplicates are removed by [`Diagnostics::sort`].
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        for d in ds {
            self.push(d);
        }
    }
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }
    pub fn has_warnings(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Warning)
    }
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Sorts by file, then position, then code, keeping equal elements' order.
    pub fn sort(&mut self) {
        self.0.sort_by_key(sort_key);
        self.0.dedup();
    }

    /// Keeps the first `max` errors of each file (in the current order, so after
    /// [`Diagnostics::sort`]: the first by position) and replaces the others with one
    /// error saying how many were left out, placed where the first of them was. Warnings
    /// and diagnostics without a place are all kept. `dropped` are errors of a file
    /// left out earlier (each preceded by at least `max` errors of that file that were
    /// kept), counted in the summary.
    ///
    /// Bounds the work of every renderer: a file of random bytes has hundreds of
    /// thousands of syntax errors, and nobody reads past the first screenful.
    ///
    /// Returns how many errors the list now stands for beyond those it holds (each
    /// summary holds the place of one of the errors it counts).
    pub fn limit_errors_per_file(&mut self, max: usize, dropped: Vec<(FileId, Dropped)>) -> usize {
        let mut kept_per_file: HashMap<FileId, usize> = HashMap::new();
        let mut hidden: HashMap<FileId, Dropped> = HashMap::new();
        self.0.retain(|d| {
            let Some(span) = d.primary.filter(|_| d.is_error()) else {
                return true;
            };
            let kept = kept_per_file.entry(span.file).or_insert(0);
            if *kept < max {
                *kept += 1;
                return true;
            }
            hidden.entry(span.file).or_default().add(|| d.clone());
            false
        });
        for (file, d) in dropped {
            if d.count > 0 {
                hidden.entry(file).or_default().merge(d);
            }
        }
        if hidden.is_empty() {
            return 0;
        }
        let mut hidden: Vec<(FileId, Dropped)> = hidden.into_iter().collect();
        hidden.sort_by_key(|h| h.0);
        let mut beyond = 0;
        for (file, h) in hidden {
            let Some(first) = h.first else { continue };
            let n = h.count;
            beyond += n - 1;
            let more = if n == 1 { "error" } else { "errors" };
            let span = first.primary.unwrap_or(Span::new(file, 0, 0));
            self.0.push(
                Diagnostic::new(
                    first.code,
                    span,
                    format!("{n} more {more} in this file not shown"),
                )
                .with_label(format!("the first of them: {}", first.message))
                .note(format!(
                    "only the first {max} errors of a file are reported; fix these and check again"
                )),
            );
        }
        self.sort();
        beyond
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(file: u32, at: usize) -> Diagnostic {
        Diagnostic::new(
            Code::E0001,
            Span::new(FileId(file), at, at + 1),
            format!("e{at}"),
        )
    }

    #[test]
    fn errors_are_limited_per_file() {
        let mut ds = Diagnostics::default();
        for at in 0..250 {
            ds.push(error(0, at));
        }
        ds.push(error(1, 0));
        ds.push(Diagnostic::new(
            Code::W0002,
            Span::new(FileId(0), 900, 901),
            "w",
        ));
        ds.push(Diagnostic::global(Code::E0009, "g"));
        ds.sort();
        let dropped = Dropped {
            count: 7,
            first: Some(error(0, 1000)),
        };
        assert_eq!(
            ds.limit_errors_per_file(100, vec![(FileId(0), dropped)]),
            156
        );
        let msgs: Vec<&str> = ds.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(msgs.len(), 104, "{msgs:?}");
        assert_eq!(msgs[0], "g");
        assert_eq!(msgs[100], "e99");
        assert_eq!(msgs[101], "157 more errors in this file not shown");
        assert_eq!(ds.0[101].primary, Some(Span::new(FileId(0), 100, 101)));
        assert_eq!(msgs[102], "w");
        assert_eq!(msgs[103], "e0");
    }
}

//! The formatter (`mxc_syntax::print`): snapshots over a corpus of formatting cases
//! (`tests/fmt/*.mxc`), idempotence, comments kept, files with syntax errors refused,
//! every example and standard-library file already formatted, and trees printed
//! without a source read back as the same tree.

use mxc_syntax::print::{self, FormatError};
use mxc_syntax::{lexer, parser, FileId};
use std::path::Path;

fn fmt(src: &str) -> String {
    match print::format(FileId(0), src) {
        Ok(s) => s,
        Err(e) => panic!("not formatted: {e:?}\n{src}"),
    }
}

/// The comments of a text, as printed (line comments without their trailing blanks).
fn comments(src: &str) -> Vec<String> {
    let (_, _, cs) = lexer::lex_all(src);
    cs.iter()
        .map(|c| {
            let t = &src[c.range.clone()];
            if c.block {
                t.to_string()
            } else {
                t.trim_end().to_string()
            }
        })
        .collect()
}

#[test]
fn corpus() {
    insta::glob!("fmt/*.mxc", |path| {
        let src = std::fs::read_to_string(path).expect("read the case");
        let once = fmt(&src);
        assert_eq!(
            fmt(&once),
            once,
            "formatting twice changes {}",
            path.display()
        );
        assert_eq!(
            comments(&once),
            comments(&src),
            "comments of {}",
            path.display()
        );
        for (i, line) in once.lines().enumerate() {
            assert!(
                !line.ends_with(' '),
                "{}:{}: trailing blank",
                path.display(),
                i + 1
            );
        }
        assert!(
            !once.contains("\n\n\n"),
            "{}: two blank lines",
            path.display()
        );
        insta::assert_snapshot!(once);
    });
}

#[test]
fn long_lists_are_filled_to_the_width() {
    let src = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fmt/long_lists.mxc"),
    )
    .expect("read");
    let out = fmt(&src);
    for line in out.lines() {
        let w = line.chars().count();
        // A line may overflow only when it holds a single element that does not fit.
        if w > print::WIDTH {
            let strings = line.matches('"').count();
            assert!(
                strings <= 2 || line.trim_start().starts_with("expect"),
                "too wide: {line}"
            );
        }
    }
    assert!(
        out.contains("\n               \"/etc/nsswitch.conf\""),
        "continued under the first target:\n{out}"
    );
}

#[test]
fn a_file_with_syntax_errors_is_refused() {
    for src in [
        "policy p { fs { allow read } }",
        "policy p { fs { allow read \"/a\" }",
        "let x = \"unterminated\n",
        "agent a { use p } }",
        "/* never closed",
    ] {
        match print::format(FileId(0), src) {
            Err(FormatError::Syntax(diags, _)) => {
                assert!(diags.iter().any(|d| d.is_error()), "{src}: {diags:?}")
            }
            other => panic!("{src}: formatted anyway: {other:?}"),
        }
    }
}

fn mxc_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            mxc_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "mxc") {
            out.push(p);
        }
    }
}

#[test]
fn examples_and_the_standard_library_are_formatted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    mxc_files(&root.join("std"), &mut files);
    mxc_files(&root.join("../../examples"), &mut files);
    assert!(files.len() >= 15, "{files:?}");
    for f in files {
        let src = std::fs::read_to_string(&f).expect("read");
        let out = fmt(&src);
        if out != src {
            let line = src
                .lines()
                .zip(out.lines())
                .position(|(a, b)| a != b)
                .map_or(0, |i| i + 1);
            panic!(
                "{} is not formatted (from line {line}):\n{out}",
                f.display()
            );
        }
    }
}

/// A tree's Debug text without positions (spans, and whether a string had escapes).
fn shape(src: &str) -> String {
    let (tree, diags) = parser::parse(FileId(0), src);
    assert!(diags.is_empty(), "{diags:?}\n{src}");
    let dbg = format!("{tree:?}");
    let mut out = String::new();
    let mut rest = dbg.as_str();
    while let Some(i) = rest.find("Span {") {
        out.push_str(&rest[..i]);
        let close = rest[i..].find('}').map_or(rest.len(), |j| i + j + 1);
        rest = &rest[close..];
    }
    out.push_str(rest);
    out.replace("verbatim: true", "")
        .replace("verbatim: false", "")
}

#[test]
fn printed_trees_read_back_the_same() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    mxc_files(&root.join("std"), &mut files);
    mxc_files(&root.join("tests/fmt"), &mut files);
    for f in files {
        let src = std::fs::read_to_string(&f).expect("read");
        let (tree, _) = parser::parse(FileId(0), &src);
        let printed = print::print(&tree);
        assert_eq!(shape(&printed), shape(&src), "{}:\n{printed}", f.display());
        assert_eq!(print::print(&parser::parse(FileId(0), &printed).0), printed);
    }
}

#[test]
fn strings_without_a_source_are_escaped() {
    assert_eq!(
        print::quote("a\"b\\c\nd\te\u{1}f${x}$$é"),
        r#""a\"b\\c\nd\te\u{1}f${x}$$é""#
    );
}

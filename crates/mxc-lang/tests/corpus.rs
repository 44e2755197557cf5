//! The diagnostics corpus: one `.mxc` file per case under `tests/corpus/`, each opening
//! with the codes it must produce:
//!
//! ```text
//! // expect: E0005          one diagnostic, E0005
//! // expect: E0001 E0001    exactly two, both E0001
//! // expect: none           no diagnostic at all
//! ```
//!
//! The test checks exactly that multiset of codes, then snapshots what a person and a
//! program would see: the human rendering (colour off) and the `--format json` document.
//! Files under `tests/corpus/imports/` are only imported, never cases themselves.

use mxc_lang::render;
use std::path::{Path, PathBuf};

/// The codes named on the first line of a case.
fn expected_codes(path: &Path, text: &str) -> Vec<String> {
    let first = text.lines().next().unwrap_or_default();
    let Some(list) = first.strip_prefix("// expect:") else {
        panic!(
            "{}: the first line must be `// expect: CODE...` or `// expect: none`",
            path.display()
        );
    };
    let mut codes: Vec<String> = list
        .split_whitespace()
        .filter(|c| *c != "none")
        .map(str::to_string)
        .collect();
    codes.sort();
    codes
}

/// The case's path as given to the checker: relative to the crate, so the file names in
/// the snapshots are the same on every machine.
fn relative(path: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

#[test]
fn corpus() {
    insta::glob!("corpus/*.mxc", |path| {
        let text = std::fs::read_to_string(path).expect("corpus files are readable");
        let expected = expected_codes(path, &text);
        let rel = relative(path);
        let program =
            mxc_lang::check_paths(std::slice::from_ref(&rel)).unwrap_or_else(|e| panic!("{e}"));
        let diags = &program.diags.0;
        let human = render::human(&program.sources, diags, false);
        let mut got: Vec<String> = diags.iter().map(|d| d.code.to_string()).collect();
        got.sort();
        assert_eq!(
            got,
            expected,
            "{}: codes differ from the `// expect:` line\n{human}",
            rel.display()
        );
        let json = serde_json::to_string_pretty(&render::json(&program.sources, diags))
            .expect("json renders");
        insta::assert_snapshot!(format!("{human}\n--- json ---\n{json}\n"));
    });
}

/// Every code of SPEC §9 that `check` reports has at least one corpus case.
#[test]
fn every_code_has_a_case() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let checked = [
        "E0001", "E0002", "E0003", "E0004", "E0005", "E0006", "E0007", "E0008", "E0009", "E0010",
        "E0011", "W0002", "W0003", "W0004",
    ];
    for code in checked {
        assert!(
            names.iter().any(|n| n.starts_with(code)),
            "no corpus case for {code} in {}",
            dir.display()
        );
    }
    assert!(names.iter().filter(|n| n.starts_with("ok_")).count() >= 3);
}

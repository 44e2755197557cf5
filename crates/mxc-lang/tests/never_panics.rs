//! SPEC §9: "No input, however malformed, makes `mxcc` panic, hang or print a Rust
//! backtrace." The lexer, the parser, the checker and every renderer are fed arbitrary
//! strings and arbitrary soups of the language's own tokens.

use mxc_lang::{lexer, parser, render, Code, Diagnostic, FileId, SourceMap, Span};
use proptest::prelude::*;

/// Pieces of the language, valid and broken, for token soups.
const PIECES: &[&str] = &[
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
    "read",
    "write",
    "create",
    "delete",
    "all",
    "connect",
    "bind",
    "launch",
    "path",
    "string",
    "local",
    "entra",
    "oidc",
    "user",
    "uid",
    "pass",
    "container",
    "process",
    "microvm",
    "memory",
    "timeout",
    "cpu",
    "clipboard",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    ",",
    ":",
    "=",
    "p",
    "a",
    "copilot-cli",
    "_x",
    "home",
    "workspace",
    "0",
    "4GiB",
    "30s",
    "65536",
    "99999999999999999999",
    "\"/tmp/**\"",
    "\"~/**\"",
    "\"${workspace}/**\"",
    "\"${\"",
    "\"${home\"",
    "\"$$\"",
    "\"**/.env\"",
    "\"/a/../b\"",
    "\"C:\\\\x\"",
    "\"*:443\"",
    "\"[::1]:80\"",
    "\"10.0.0.0/8\"",
    "\"x:0\"",
    "\"udp://*\"",
    "\"{a,{b,{c}}}\"",
    "\"[!a-\"",
    "\"\\u{110000}\"",
    "\"\\u{41}\"",
    "\"\\q\"",
    "\"\"",
    "\"unterminated",
    "\"a\\",
    "'single'",
    "//c\n",
    "/* c */",
    "/*",
    "*/",
    "@",
    "#",
    "é",
    "\u{202e}",
    "\u{2028}",
    "\r",
    "\t",
    "\0",
    "\u{feff}",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(PIECES),
            prop::sample::select(&[" ", "", "\n", "  "][..]),
        ),
        0..80,
    )
    .prop_map(|v| v.into_iter().flat_map(|(t, s)| [t, s]).collect())
}

fn render_all(sources: &SourceMap, diags: &[Diagnostic]) {
    let _ = render::human(sources, diags, false);
    let _ = render::human(sources, diags, true);
    let _ = render::json(sources, diags);
    let _ = render::sarif(sources, diags);
}

fn check_everything(text: &str) {
    let _ = lexer::lex(FileId(0), text);
    let _ = parser::parse(FileId(0), text);
    // Imports are read relative to this (non-existent) directory; the pieces name no
    // existing file either, so no test reads the machine's files.
    let program = mxc_lang::check_source("mxc-none/input.mxc", text);
    render_all(&program.sources, &program.diags.0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_strings(text in any::<String>()) {
        check_everything(&text);
    }

    #[test]
    fn language_like_strings(text in "[a-z{}\\[\\](),:=\"/*~$.\\\\ \n@0-9-]{0,200}") {
        check_everything(&text);
    }

    #[test]
    fn token_soups(text in soup()) {
        check_everything(&text);
    }

    #[test]
    fn a_policy_with_one_token_changed(i in 0usize..64, piece in prop::sample::select(PIECES)) {
        // Any string here may become an `import`: none names an existing file.
        let base = "param workspace: path\nlet l = [\"/mxc-none/a/**\", \"/mxc-none/b\"]\npolicy p {\n fs { allow read, write \"${workspace}/**\", l because \"x\" }\n net { allow connect \"api.github.com:443\" from \"/mxc-none/git\" }\n app { allow launch \"/mxc-none/git\" args \"status *\" }\n}\nagent a { identity local(user: \"u\") use p limits { memory 4GiB } env { pass \"PATH\" } ui { clipboard deny } audit all }\ntest \"t\" { agent a with workspace = \"/w\" expect allow read \"/mxc-none/w/x\" }\n";
        let words: Vec<&str> = base.split(' ').collect();
        let mut words = words.clone();
        let at = i % words.len();
        words[at] = piece;
        check_everything(&words.join(" "));
    }

    /// Renderers clamp any span, in any file, whatever the text.
    #[test]
    fn renderers_take_any_span(
        text in any::<String>(),
        spans in prop::collection::vec((0u32..3, 0u32..600, 0u32..600), 1..6),
    ) {
        let mut sources = SourceMap::new();
        sources.add("a.mxc", text.clone());
        sources.add("b.mxc", text.chars().rev().collect::<String>());
        let span = |(f, s, e): (u32, u32, u32)| Span { file: FileId(f), start: s, end: e };
        let mut d = Diagnostic::new(Code::E0001, span(spans[0]), "message").note("n").help("h");
        for s in &spans[1..] {
            d = d.label(span(*s), "label");
        }
        let global = Diagnostic::global(Code::E0009, "no place");
        render_all(&sources, &[d, global]);
    }
}

/// A long string literal with non-ASCII characters or escapes (the lexer scans strings
/// with a loop: a recursive scan overflowed the stack on about 10 000 `é`).
#[test]
fn long_strings_do_not_overflow_the_stack() {
    for body in ["é".repeat(200_000), "\\\\".repeat(100_000)] {
        check_everything(&format!("let x = \"{body}\"\nlet y = \"{body}"));
    }
}

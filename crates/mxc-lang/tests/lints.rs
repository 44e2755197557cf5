//! W0001, W0005 and W0006 through `check_source` (SPEC §9): policies that must and must
//! not trigger each lint, the witness in the message, the spans, and the cost of the
//! lints on a large policy.

use mxc_lang::{check_source, Code, Diagnostic};

fn check(src: &str) -> Vec<Diagnostic> {
    let p = check_source("t.mxc", src);
    assert!(!p.diags.has_errors(), "{:#?}", p.diags);
    scalable_agrees(src);
    p.diags.0
}

/// What a lint says, without the W0005/W0006 witness: the scalable analysis shows the
/// shortest allowed path of the first rule that has one, the exact analysis the
/// shortest of the place.
fn key(d: &Diagnostic) -> (Code, String, u32) {
    match d.code {
        Code::W0001 => (d.code, String::new(), d.primary.map_or(0, |s| s.start)),
        _ => {
            let agent = d
                .labels
                .iter()
                .map(|l| l.message.clone())
                .collect::<Vec<_>>();
            (d.code, format!("{agent:?} {:?}", d.help), 0)
        }
    }
}

/// Every source of these tests is small enough for the exact analysis (what
/// `check_source` uses); the scalable analysis must report the same rules and places.
fn scalable_agrees(src: &str) {
    use mxc_lang::lints::{lint_counted, Mode};
    let p = mxc_lang::check_source_without_lints("t.mxc", src);
    let lints = [Code::W0001, Code::W0005, Code::W0006];
    let run = |mode| {
        let (d, work) = lint_counted(&p.model, &p.sources, mode);
        let keys: Vec<_> = d
            .iter()
            .filter(|d| lints.contains(&d.code))
            .map(key)
            .collect();
        (keys, work)
    };
    let (exact, we) = run(Mode::Exact);
    let (scalable, ws) = run(Mode::Scalable);
    assert_eq!(we.scalable_agents, 0);
    assert_eq!(ws.exact_agents, 0);
    assert_eq!(exact, scalable, "exact vs scalable on {src}");
}

fn of(src: &str, code: Code) -> Vec<Diagnostic> {
    check(src).into_iter().filter(|d| d.code == code).collect()
}

fn messages(src: &str, code: Code) -> Vec<String> {
    of(src, code).into_iter().map(|d| d.message).collect()
}

/// The source text of a diagnostic's primary span.
fn primary_text<'a>(src: &'a str, d: &Diagnostic) -> &'a str {
    let s = d.primary.expect("a primary span");
    &src[s.start as usize..s.end as usize]
}

fn line_of(src: &str, d: &Diagnostic) -> usize {
    let s = d.primary.expect("a primary span");
    src[..s.start as usize].matches('\n').count() + 1
}

fn fs_agent(rules: &str) -> String {
    format!("policy p {{\n  fs {{\n{rules}\n  }}\n}}\nagent a {{ use p }}\n")
}

// ---------------------------------------------------------------------------------------
// W0001

#[test]
fn w0001_allow_after_same_deny() {
    let src = fs_agent("    deny read \"/a/**\"\n    allow read \"/a/**\"");
    let ds = of(&src, Code::W0001);
    assert_eq!(ds.len(), 1, "{ds:#?}");
    assert_eq!(line_of(&src, &ds[0]), 4);
    assert_eq!(primary_text(&src, &ds[0]), "allow");
    assert_eq!(ds[0].message, "rule can never decide a request");
    assert_eq!(ds[0].primary_label.as_deref(), Some("always overridden"));
    assert_eq!(ds[0].labels.len(), 1);
    assert!(
        ds[0].labels[0].message.contains("read /a"),
        "{:?}",
        ds[0].labels
    );
    assert!(ds[0].help.as_deref().unwrap().contains("remove the rule"));
}

#[test]
fn w0001_order_does_not_matter() {
    // The deny decides whatever the order: the allow is shadowed either way.
    let src = fs_agent("    allow read \"/a/b\"\n    deny read \"/a/*\"");
    let ds = of(&src, Code::W0001);
    assert_eq!(ds.len(), 1, "{ds:#?}");
    assert_eq!(line_of(&src, &ds[0]), 3);
}

#[test]
fn w0001_is_exact_on_normalised_paths() {
    // `/a/*` matches `/a/` where `/a/?*` does not, but `/a/` is no request.
    let src = fs_agent("    allow read \"/a/*\"\n    deny read \"/a/?*\"");
    assert_eq!(of(&src, Code::W0001).len(), 1);
    // `/a/*` never matches `/a` itself, so `/a/**` covers all of it.
    let src = fs_agent("    allow read \"/a/*\"\n    deny read \"/a/**\"");
    assert_eq!(of(&src, Code::W0001).len(), 1);
    // The other way round, the allow decides `/a`.
    let src = fs_agent("    allow read \"/a/**\"\n    deny read \"/a/*\"");
    assert!(of(&src, Code::W0001).is_empty());
}

#[test]
fn w0001_not_for_partial_overlap() {
    let src = fs_agent("    allow read \"/x/**\"\n    deny read \"/x/y/**\"");
    assert!(of(&src, Code::W0001).is_empty());
    // Different rights do not shadow each other.
    let src = fs_agent("    allow write \"/x/**\"\n    deny read \"/x/**\"");
    assert!(of(&src, Code::W0001).is_empty());
    // A rule with several rights decides if one of them is not overridden.
    let src = fs_agent("    allow read, write \"/x/**\"\n    deny read \"/x/**\"");
    assert!(of(&src, Code::W0001).is_empty());
}

#[test]
fn w0001_needs_every_agent() {
    // `shared` is overridden for `one` but decides for `two`.
    let src = r#"
policy shared { fs { allow read "/a/**" } }
policy strict { fs { deny read "/a/**" } }
agent one { use shared, strict }
agent two { use shared }
"#;
    assert!(of(src, Code::W0001).is_empty());
    // Overridden for both: reported once.
    let src = r#"
policy shared { fs { allow read "/a/**" } }
policy strict { fs { deny read "/a/**" } }
agent one { use shared, strict }
agent two { use strict, shared }
"#;
    let ds = of(src, Code::W0001);
    assert_eq!(ds.len(), 1, "{ds:#?}");
    assert_eq!(line_of(src, &ds[0]), 2);
}

#[test]
fn w0001_first_of_equal_effects_decides() {
    // Two identical denies: the first decides every request, the second none.
    let src = fs_agent("    deny read \"/a\"\n    deny read \"/a\"");
    let ds = of(&src, Code::W0001);
    assert_eq!(ds.len(), 1);
    assert_eq!(line_of(&src, &ds[0]), 4);
}

#[test]
fn w0001_net_and_app() {
    let src = r#"
policy p {
  net {
    deny connect "*:22"
    allow connect "example.com:22"
    allow connect "example.com:1-100"
    allow connect "github.com:443" from "/usr/bin/*"
    deny connect "github.com:443" from "/usr/bin/?*"
  }
  app {
    deny launch "/usr/bin/*"
    allow launch "/usr/bin/git" args "status"
    allow launch "/opt/x" args "a*"
    deny launch "/opt/x" args "a?*"
  }
}
agent a { use p }
"#;
    let lines: Vec<usize> = of(src, Code::W0001)
        .iter()
        .map(|d| line_of(src, d))
        .collect();
    assert_eq!(lines, vec![5, 7, 12]);
}

#[test]
fn w0001_not_for_windows_drive_rules() {
    // Checked for Linux, where a drive pattern matches nothing: not reported.
    let src = fs_agent("    allow read \"C:/Tools/**\"");
    assert!(of(&src, Code::W0001).is_empty());
}

#[test]
fn w0001_placeholders_are_distinct() {
    // Two parameters: with placeholders they are different directories, whatever
    // their defaults say.
    let src = r#"
param a: path = "/w"
param b: path = "/w"
policy p { fs {
  deny read "${a}/**"
  allow read "${b}/**"
} }
agent x { use p }
"#;
    assert!(of(src, Code::W0001).is_empty());
}

// ---------------------------------------------------------------------------------------
// W0005

#[test]
fn w0005_home_read() {
    let src = fs_agent("    allow read \"~/**\"");
    let ds = of(&src, Code::W0005);
    let places: Vec<&str> = ds
        .iter()
        .map(|d| d.message.rsplit('`').nth(1).unwrap())
        .collect();
    assert_eq!(
        places,
        vec![
            "~/.ssh",
            "~/.aws",
            "~/.config/gh",
            "~/.netrc",
            "~/.docker/config.json",
            "~/.kube/config",
            "~/.gnupg"
        ],
        "{ds:#?}"
    );
    for d in &ds {
        assert_eq!(primary_text(&src, d), "allow");
        assert!(d.labels.iter().any(|l| l.message == "agent `a`"));
        assert!(d.help.as_deref().unwrap().contains("deny read"));
    }
}

#[test]
fn w0005_witness_beneath() {
    let src = fs_agent("    allow read \"~/.ssh/*.pub\"\n    allow read \"~/.ssh/id_*\"");
    let ds = of(&src, Code::W0005);
    assert_eq!(ds.len(), 1);
    // The shortest path wins: `~/.ssh/id_` is shorter than `~/.ssh/a.pub`.
    assert_eq!(
        ds[0].message,
        "agent `a` may read `~/.ssh/id_` (credential store `~/.ssh`)"
    );
    assert_eq!(line_of(&src, &ds[0]), 4);
}

#[test]
fn w0005_silenced_by_deny_or_ask() {
    let src = fs_agent(
        r#"    allow read "~/**"
    deny read "~/.ssh/**", "~/.aws/**", "~/.config/gh/**", "~/.netrc/**"
    ask read "~/.docker/config.json/**", "~/.kube/config/**", "~/.gnupg/**""#,
    );
    assert!(of(&src, Code::W0005).is_empty());
    // The deny in another policy of the same agent counts too.
    let src = r#"
policy open { fs { allow read "/**" } }
policy guard { fs { deny read "~/.{ssh,aws,gnupg}/**", "~/.config/gh/**", "~/.netrc/**", "~/.docker/config.json/**", "~/.kube/config/**" } }
agent a { use open, guard }
"#;
    assert!(of(src, Code::W0005).is_empty());
}

#[test]
fn w0005_only_the_uncovered_part() {
    // Denying the file but not beneath it: `~/.netrc/x` is still a path of the place.
    let src = fs_agent("    allow read \"~/.netrc/**\"\n    deny read \"~/.netrc\"");
    assert_eq!(
        messages(&src, Code::W0005),
        vec!["agent `a` may read `~/.netrc/a` (credential store `~/.netrc`)"]
    );
    // Reading elsewhere in home does not count.
    let src = fs_agent("    allow read \"~/src/**\", \"~/.sshx/**\"");
    assert!(of(&src, Code::W0005).is_empty());
}

#[test]
fn w0005_per_agent() {
    let src = r#"
policy open { fs { allow read "~/.aws/**" } }
policy guard { fs { deny read "~/.aws/**" } }
agent careful { use open, guard }
agent careless { use open }
"#;
    assert_eq!(
        messages(src, Code::W0005),
        vec!["agent `careless` may read the credential store `~/.aws`"]
    );
}

// ---------------------------------------------------------------------------------------
// W0006

#[test]
fn w0006_workspace_write() {
    let src = r#"
param workspace: path
policy p { fs { allow write "${workspace}/**" } }
agent a { use p }
"#;
    let ms = messages(src, Code::W0006);
    assert_eq!(ms.len(), 4, "{ms:#?}");
    assert!(ms[0].starts_with("agent `a` may write `${workspace}/.git/hooks`"));
    assert!(ms[1].starts_with("agent `a` may write `${workspace}/.git/config`"));
    assert!(ms[2].starts_with("agent `a` may write `${workspace}/.vscode`"));
    assert!(ms[3].starts_with("agent `a` may write `${workspace}/.mcp.json`"));
}

#[test]
fn w0006_silenced() {
    let src = r#"
param workspace: path
policy p { fs {
  allow read, write, create, delete "${workspace}/**"
  ask write, create "**/.git/hooks/**"
  deny write, create "**/.git/config", "**/.mcp.json"
  ask write, create "**/.vscode/**"
} }
agent a { use p }
"#;
    assert!(of(src, Code::W0006).is_empty());
    // Write denied but create allowed is still a risk.
    let src = r#"
param workspace: path
policy p { fs {
  allow write, create "${workspace}/**"
  deny write "**/.git/hooks/**", "**/.git/config", "**/.vscode/**", "**/.mcp.json"
} }
agent a { use p }
"#;
    let ms = messages(src, Code::W0006);
    assert_eq!(ms.len(), 4, "{ms:#?}");
    assert!(ms[0].starts_with("agent `a` may create `${workspace}/.git/hooks`"));
}

#[test]
fn w0006_home_places() {
    let src = fs_agent("    allow write \"~/.zshrc\", \"~/.config/autostart/*.desktop\"");
    let ms = messages(&src, Code::W0006);
    assert_eq!(ms.len(), 2, "{ms:#?}");
    assert!(ms[0].starts_with("agent `a` may write `~/.zshrc`"));
    assert!(ms[1].starts_with("agent `a` may write `~/.config/autostart/.desktop`"));
    // Other dotfiles are fine.
    let src = fs_agent("    allow write \"~/.zshrc.bak\", \"~/.config/app/settings.json\"");
    assert!(of(&src, Code::W0006).is_empty());
}

#[test]
fn w0006_git_names_must_be_whole_components() {
    let src = fs_agent(
        "    allow write \"/w/x.git/hooks/[a-z]*\", \"/w/.github/[a-z]*\", \"/w/.git/hooks-old\", \"/w/.vscodex\", \"/w/a.mcp.json\"",
    );
    assert!(of(&src, Code::W0006).is_empty());
    // `*` can be `.git` (and `.vscode`): both places are reachable.
    let src = fs_agent("    allow create \"/w/*/hooks/pre-commit\"");
    let ms = messages(&src, Code::W0006);
    assert_eq!(ms.len(), 2, "{ms:#?}");
    assert!(ms[0].starts_with("agent `a` may create `/w/.git/hooks/pre-commit`"));
    assert!(ms[1].starts_with("agent `a` may create `/w/.vscode/hooks/pre-commit`"));
}

// ---------------------------------------------------------------------------------------
// Corpus cases and ordering

#[test]
fn corpus_cases_produce_their_codes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    for (file, want) in [
        ("w0001_shadowed.mxc", Code::W0001),
        ("w0005_ssh.mxc", Code::W0005),
        ("w0006_git_hooks.mxc", Code::W0006),
    ] {
        let p = mxc_lang::check_paths(&[dir.join(file)]).unwrap();
        let codes: Vec<Code> = p.diags.iter().map(|d| d.code).collect();
        assert_eq!(codes, vec![want], "{file}: {:#?}", p.diags);
    }
}

#[test]
fn output_is_deterministic() {
    let src = r#"
param workspace: path
policy p { fs {
  allow read, write "/**"
  deny read "/etc/**"
  allow read "/etc/passwd"
} }
agent b { use p }
agent a { use p }
"#;
    let first: Vec<String> = check(src).iter().map(|d| format!("{d:?}")).collect();
    for _ in 0..3 {
        let again: Vec<String> = check(src).iter().map(|d| format!("{d:?}")).collect();
        assert_eq!(first, again);
    }
}

/// A 5,000-rule policy: the whole check, lints included. Run with
/// `cargo test --release -p mxc-lang --test lints -- --ignored --nocapture`.
#[test]
#[ignore]
fn large_policy_is_fast() {
    let mut src = String::from("param workspace: path\npolicy big {\n  fs {\n");
    for i in 0..2500 {
        src.push_str(&format!("    allow read \"/data/p{i}/**\"\n"));
        src.push_str(&format!(
            "    deny write, create \"/data/p{i}/secret/*.key\"\n"
        ));
    }
    src.push_str("    allow write, create \"${workspace}/**\"\n");
    src.push_str("    ask write, create \"**/.git/hooks/**\"\n");
    src.push_str("    deny read \"/data/p7/**\"\n  }\n  net {\n");
    for i in 0..1000 {
        src.push_str(&format!("    allow connect \"host{i}.example.com:443\"\n"));
    }
    src.push_str("  }\n  app {\n");
    for i in 0..1000 {
        src.push_str(&format!(
            "    allow launch \"/opt/tool{i}/bin/*\" args \"run *\"\n"
        ));
    }
    src.push_str("  }\n}\nagent a { use big }\n");
    let t = std::time::Instant::now();
    let p = check_source("big.mxc", &src);
    let total = t.elapsed();
    let t = std::time::Instant::now();
    let lints = mxc_lang::lints::lint(&p);
    let lint_time = t.elapsed();
    eprintln!(
        "check: {total:?} (lints alone: {lint_time:?}); {} diagnostics",
        p.diags.len()
    );
    let params: std::collections::BTreeMap<String, String> = [
        ("home".to_string(), "/home/u".to_string()),
        ("workspace".to_string(), "/w".to_string()),
    ]
    .into_iter()
    .collect();
    let t = std::time::Instant::now();
    let b = mxc_lang::bind::bind(&p.model, "a", &params, false).unwrap();
    let bind_time = t.elapsed();
    let t = std::time::Instant::now();
    let table = mxc_lang::compile::compile_bound(&b, &p.sources).unwrap();
    eprintln!(
        "bind: {bind_time:?}, compile: {:?} ({} fs states, {} classes)",
        t.elapsed(),
        table.fs.nstates(),
        table.fs.nclasses
    );
    let codes: Vec<Code> = lints.iter().map(|d| d.code).collect();
    assert_eq!(
        codes.iter().filter(|c| **c == Code::W0001).count(),
        1,
        "{lints:#?}"
    );
}

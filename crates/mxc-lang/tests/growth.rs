//! Issue 10, part 2: the compiled table grows linearly with the policy in every mix of
//! `mxc_lang::mixes`, including the hostile ones. Counts, not timings: each mix is
//! compiled at `n` and `4n` rules and the states and bytes of the table may grow by at
//! most 6x (linear growth is 4x; quadratic would be 16x, exponential far more).

use mxc_lang::mixes::{generate, Mix};
use mxc_lang::{bind, compile};
use std::collections::BTreeMap;

/// (states of the four automata, bytes of the `.mxcb`) of a mix at `n` rules.
fn size(mix: Mix, n: usize) -> (usize, usize) {
    size_of(mix.name(), &generate(mix, n), n)
}

/// (states and exceptions of the automata, bytes of the `.mxcb`) of a policy.
fn size_of(name: &str, src: &str, n: usize) -> (usize, usize) {
    let src = src.to_string();
    // The lints are not what is measured here (they search the product of the two fs
    // automata, still quadratic on floating patterns: see docs/performance.md).
    let prog = mxc_lang::check_source_without_lints("gen.mxc", &src);
    assert!(!prog.diags.has_errors(), "{name}: {:?}", prog.diags);
    let b = bind::bind(&prog.model, "gen", &BTreeMap::new(), false).expect("binds");
    let t = compile::compile_bound(&b, &prog.sources)
        .unwrap_or_else(|d| panic!("{name} at {n} rules: {d:?}"));
    let comp = t.fs_comp.as_ref().map(|l| l.lists()).map_or(0, |c| {
        c.rooted.nstates()
            + c.anywhere.nstates()
            + c.rooted.exc_class.len()
            + c.anywhere.exc_class.len()
            + c.globs.nstates()
    });
    let states = t.fs.accept.len()
        + t.fs_anywhere.accept.len()
        + t.net.accept.len()
        + t.app.accept.len()
        + comp;
    (states, t.to_bytes().len())
}

fn linear(mix: Mix, n: usize) {
    linear_gen(mix.name(), n, |n| generate(mix, n));
}

fn linear_gen(name: &str, n: usize, gen: impl Fn(usize) -> String) {
    let (s1, b1) = size_of(name, &gen(n), n);
    let (s4, b4) = size_of(name, &gen(4 * n), 4 * n);
    eprintln!(
        "{name}: {n} rules {s1} states {b1} bytes; {} rules {s4} states {b4} bytes",
        4 * n
    );
    assert!(s4 <= 6 * s1.max(64), "{name}: states {s1} -> {s4}");
    assert!(b4 <= 6 * b1.max(4096), "{name}: bytes {b1} -> {b4}");
}

/// A policy of `n` fs rules: `allow read "/usr/**"` and one floating pattern per
/// other rule, `shape` giving its text from the rule's number.
fn floating_policy(n: usize, shape: impl Fn(usize) -> String) -> String {
    let mut s = String::from("policy gen { fs {\n  allow read \"/usr/**\"\n");
    for i in 1..n {
        s.push_str(&format!("  {}\n", shape(i)));
    }
    s.push_str("} }\nagent gen { use gen }\n");
    s
}

/// A deny list of names anywhere (`deny read "**/NAMEi"`): over bytes read forwards,
/// every name the walk may be in the middle of was tracked at once; per component each
/// name is one literal of the `**/` loop.
#[test]
fn fs_deny_list_anywhere_grows_linearly() {
    linear_gen("fs deny list", 250, |n| {
        floating_policy(n, |i| format!("deny read \"**/secret{i}.key\""))
    });
}

/// Floating directories followed by an extension glob (`**/docsI/*.md`) beside a deny
/// list: per component, each directory name is one literal of the `**/` loop and the
/// state after it stores only its extension.
#[test]
fn floating_directories_with_globs_grow_linearly() {
    linear_gen("floating dir/*.ext", 250, |n| {
        floating_policy(n, |i| match i % 2 {
            0 => format!("deny read \"**/secret{i}.key\""),
            _ => format!("allow read \"**/docs{i}/*.md{}\"", i % 7),
        })
    });
}

/// Thousands of floating `**/dirI/*.extJ` patterns (10,000 rules of the floating
/// mix): compiled per component in well under the budget.
#[test]
fn floating_mix_at_ten_thousand_rules_compiles() {
    let (s, b) = size(Mix::Floating, 10_000);
    eprintln!("floating 10000: {s} states, {b} bytes");
    assert!(b < 10 << 20, "{b} bytes");
}

#[test]
fn bench_mix_grows_linearly() {
    linear(Mix::Bench, 250);
}

/// `allow launch "/usr/bin/*"` with `deny launch "**/NAME"` for many names made 2^n
/// states (14 names: 1.8 million): the program's wildcards read on past the NUL that
/// ends the program. 200 names now.
#[test]
fn launch_deny_list_grows_linearly() {
    linear(Mix::LaunchDenyList, 50);
}

#[test]
fn alternatives_grow_linearly() {
    linear(Mix::Alternatives, 250);
}

#[test]
fn enterprise_mix_grows_linearly() {
    linear(Mix::Enterprise, 250);
}

/// Floating `**/dirI/*.extJ` patterns among rooted trees: read forwards, the `**/`
/// automaton paired every directory name it might be starting with the extension of
/// the one it had just matched (quadratic: 41,000 states for 118 such rules); read
/// backwards (as the table now stores it) each pattern is anchored where the walk
/// starts.
#[test]
fn floating_patterns_grow_linearly() {
    linear(Mix::Floating, 250);
}

/// Some sets of globs need exponentially many states whichever way they are read
/// (`/x/**/a/*/*/...`: which of the last 20 components were `a`). Such a policy is
/// refused with E0005 once the automaton passes its budget (linear in the policy),
/// naming the rules responsible, instead of running out of memory.
#[test]
fn an_explosive_policy_is_refused_naming_its_rules() {
    let stars = "/*".repeat(20);
    let src = format!(
        "policy gen {{ fs {{\n allow read \"/srv/**\"\n allow read \"/x/**/a{stars}\"\n deny read \"/x/**/b{stars}\"\n}} }}\nagent gen {{ use gen }}\n"
    );
    let prog = mxc_lang::check_source_without_lints("gen.mxc", &src);
    assert!(!prog.diags.has_errors(), "{:?}", prog.diags);
    let b = bind::bind(&prog.model, "gen", &BTreeMap::new(), false).expect("binds");
    let err = compile::compile_bound(&b, &prog.sources).expect_err("refused");
    let d = err.iter().next().expect("one diagnostic");
    assert_eq!(d.code, mxc_lang::Code::E0005);
    assert!(
        d.message.contains("combine into more than"),
        "{}",
        d.message
    );
    // The primary span and the labels name the two rules with `**` and the stars (lines 3
    // and 4), not the harmless `/srv/**`.
    let mut lines: Vec<usize> = d
        .primary
        .iter()
        .chain(d.labels.iter().map(|l| &l.span))
        .map(|sp| src[..sp.start as usize].lines().count())
        .collect();
    lines.sort();
    assert_eq!(lines, vec![3, 4], "{d:?}");
}

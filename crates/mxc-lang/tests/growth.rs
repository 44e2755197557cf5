//! Issue 10, part 2: the compiled table grows linearly with the policy in every mix of
//! `mxc_lang::mixes`, including the hostile ones. Counts, not timings: each mix is
//! compiled at `n` and `4n` rules and the states and bytes of the table may grow by at
//! most 6x (linear growth is 4x; quadratic would be 16x, exponential far more).

use mxc_lang::mixes::{generate, Mix};
use mxc_lang::{bind, compile};
use std::collections::BTreeMap;

/// (states of the four automata, bytes of the `.mxcb`) of a mix at `n` rules.
fn size(mix: Mix, n: usize) -> (usize, usize) {
    let src = generate(mix, n);
    // The lints are not what is measured here (see tests/lint_growth.rs).
    let prog = mxc_lang::check_source_without_lints("gen.mxc", &src);
    assert!(!prog.diags.has_errors(), "{}: {:?}", mix.name(), prog.diags);
    let b = bind::bind(&prog.model, "gen", &BTreeMap::new(), false).expect("binds");
    let t = compile::compile_bound(&b, &prog.sources)
        .unwrap_or_else(|d| panic!("{} at {n} rules: {d:?}", mix.name()));
    let states =
        t.fs.accept.len() + t.fs_anywhere.accept.len() + t.net.accept.len() + t.app.accept.len();
    (states, t.to_bytes().len())
}

fn linear(mix: Mix, n: usize) {
    let (s1, b1) = size(mix, n);
    let (s4, b4) = size(mix, 4 * n);
    eprintln!(
        "{}: {n} rules {s1} states {b1} bytes; {} rules {s4} states {b4} bytes",
        mix.name(),
        4 * n
    );
    assert!(s4 <= 6 * s1.max(64), "{}: states {s1} -> {s4}", mix.name());
    assert!(b4 <= 6 * b1.max(4096), "{}: bytes {b1} -> {b4}", mix.name());
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

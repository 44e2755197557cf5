//! Issue 10, part 3: the lints (W0001, W0005, W0006) grow linearly with the policy in
//! every mix of `mxc_lang::mixes`, and the scalable analysis finds what the exact one
//! finds on them.
//!
//! Counts first, timings second: each mix is linted at `n` and `4n` rules with the
//! scalable analysis (what `mxcc check` uses on large agents), and the work it counts
//! (states of the agent's compiled automata, states of the small automata it built,
//! single decisions) may grow by at most 6x (linear growth is 4x; quadratic would be
//! 16x). The time may grow by at most 12x plus two seconds (a generous bound that
//! catches a quadratic blow-up, not a timing assertion). The agent's own automata may
//! have at most 32 states per rule (what keeps `mxcc check` of 10,000 rules of every
//! mix under 500 MB).

use mxc_lang::lints::{lint_counted, Mode, Work};
use mxc_lang::mixes::{generate, workload, Mix, SpeedMix};
use mxc_lang::{Code, Diagnostic};
use std::time::{Duration, Instant};

fn lint(mix: Mix, n: usize, mode: Mode) -> (Vec<Diagnostic>, Work, Duration) {
    lint_source(mix.name(), &generate(mix, n), mode)
}

fn lint_source(name: &str, src: &str, mode: Mode) -> (Vec<Diagnostic>, Work, Duration) {
    let prog = mxc_lang::check_source_without_lints("gen.mxc", src);
    assert!(!prog.diags.has_errors(), "{name}: {:?}", prog.diags);
    let t = Instant::now();
    let (d, w) = lint_counted(&prog.model, &prog.sources, mode);
    (d.0, w, t.elapsed())
}

fn total(w: &Work) -> usize {
    w.compiled_states + w.small_states + w.decisions
}

fn linear(mix: Mix, n: usize) {
    let name = mix.name();
    grows_linearly(name, n, |n| generate(mix, n));
    // `mxcc check` (Mode::Auto) uses the scalable analysis at this size (the deny
    // list has no fs pattern: its exact analysis is the linear app search).
    let (_, auto, _) = lint(mix, 4 * n, Mode::Auto);
    let want = if mix == Mix::LaunchDenyList {
        (1, 0)
    } else {
        (0, 1)
    };
    assert_eq!((auto.exact_agents, auto.scalable_agents), want);
}

/// Lints the policy `source(n)` and `source(4 * n)` with the scalable analysis and
/// checks that its work grows linearly.
fn grows_linearly(name: &str, n: usize, source: impl Fn(usize) -> String) {
    let (d1, w1, t1) = lint_source(name, &source(n), Mode::Scalable);
    let (d4, w4, t4) = lint_source(name, &source(4 * n), Mode::Scalable);
    eprintln!(
        "{name}: {n} rules: {} warnings, {w1:?}, {t1:?}; {} rules: {} warnings, {w4:?}, {t4:?}",
        d1.len(),
        4 * n,
        d4.len()
    );
    assert_eq!(w4.scalable_agents, 1);
    // The automata the analysis decides with are the engine's, linear in the policy
    // with a small constant: at most 32 states per rule (the alternatives mix has 18;
    // byte automata of its 7,500 expanded fs patterns per 1,000 rules had 52, and
    // 430 MB at 10,000 rules).
    assert!(
        w4.compiled_states <= 32 * 4 * n,
        "{name}: {} compiled states for {} rules",
        w4.compiled_states,
        4 * n
    );
    // The small automata: at most 8 states per rule. A place that the `**/` blockers
    // found so far cover whole is settled with one small automaton, not one per
    // `allow` rule that meets it (before: 24 per rule on the enterprise mix, 70 on the
    // enterprise workload, where every team's tree meets `.git/hooks` and `.vscode`).
    assert!(
        w4.small_states <= 8 * 4 * n,
        "{name}: {} small-automaton states for {} rules",
        w4.small_states,
        4 * n
    );
    assert!(
        total(&w4) <= 6 * total(&w1).max(1000),
        "{name}: work {} -> {}",
        total(&w1),
        total(&w4)
    );
    assert!(
        t4 <= t1 * 12 + Duration::from_secs(2),
        "{name}: time {t1:?} -> {t4:?}"
    );
    // Nothing left undecided on the mixes: the scalable analysis is exact on them.
    assert_eq!(w4.undecided, 0, "{name}");
}

/// The speed workloads' policies (`mixes::workload`), at 250 and 1,000 rules.
#[test]
fn workload_lints_grow_linearly() {
    for mix in SpeedMix::ALL {
        grows_linearly(&format!("speed-{}", mix.name()), 250, |n| {
            workload(mix, n).source
        });
    }
}

#[test]
fn bench_mix_lints_grow_linearly() {
    linear(Mix::Bench, 250);
}

#[test]
fn floating_mix_lints_grow_linearly() {
    linear(Mix::Floating, 250);
}

#[test]
fn launch_deny_list_lints_grow_linearly() {
    linear(Mix::LaunchDenyList, 50);
}

#[test]
fn alternatives_lints_grow_linearly() {
    linear(Mix::Alternatives, 250);
}

#[test]
fn enterprise_lints_grow_linearly() {
    linear(Mix::Enterprise, 250);
}

/// What a diagnostic says, without the witness (the scalable analysis shows the
/// shortest allowed path of the first rule that has one, the exact analysis the
/// shortest of the place).
fn key(d: &Diagnostic) -> (Code, String, u32) {
    let what = match d.code {
        Code::W0005 | Code::W0006 => d.help.clone().unwrap_or_default(),
        _ => String::new(),
    };
    (
        d.code,
        what,
        d.primary.map_or(0, |s| s.start) * u32::from(d.code == Code::W0001),
    )
}

/// On every mix at a size the exact analysis handles, the scalable analysis reports
/// the same W0001 rules and the same exposed places.
#[test]
fn scalable_agrees_with_exact_on_the_mixes() {
    for mix in Mix::ALL {
        let n = if mix == Mix::LaunchDenyList { 12 } else { 64 };
        let (exact, we, _) = lint(mix, n, Mode::Exact);
        let (scalable, ws, _) = lint(mix, n, Mode::Scalable);
        assert_eq!(
            (we.exact_agents, ws.scalable_agents),
            (1, 1),
            "{}",
            mix.name()
        );
        let ke: Vec<_> = exact.iter().map(key).collect();
        let ks: Vec<_> = scalable.iter().map(key).collect();
        assert_eq!(ke, ks, "{}", mix.name());
        assert_eq!(ws.undecided, 0, "{}", mix.name());
    }
}

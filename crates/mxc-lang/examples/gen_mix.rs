//! Prints a generated policy: `cargo run --release -p mxc-lang --example gen_mix -- MIX N`
//! (MIX one of bench, floating, launch-deny-list, alternatives, enterprise), for timing
//! `mxcc check` and `mxcc compile` on it (`docs/performance.md`).

use mxc_lang::mixes::{generate, Mix};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage =
        "usage: gen_mix MIX N (MIX: bench, floating, launch-deny-list, alternatives, enterprise)";
    let [name, n] = args.as_slice() else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let Some(mix) = Mix::ALL.into_iter().find(|m| m.name() == name) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let Ok(n) = n.parse::<usize>() else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    print!("{}", generate(mix, n));
}

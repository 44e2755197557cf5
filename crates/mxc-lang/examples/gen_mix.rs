//! Prints a generated policy: `cargo run --release -p mxc-lang --example gen_mix -- MIX N`
//! (MIX one of bench, floating, launch-deny-list, alternatives, enterprise, or a speed
//! workload's policy: speed-bench, speed-floating, speed-enterprise, N at least 100),
//! for timing `mxcc check` and `mxcc compile` on it (`docs/performance.md`).

use mxc_lang::mixes::{generate, workload, Mix, SpeedMix, WORKLOAD_MIN_RULES};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: gen_mix MIX N (MIX: bench, floating, launch-deny-list, alternatives, \
                 enterprise, speed-bench, speed-floating, speed-enterprise)";
    let fail = || -> ! {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let [name, n] = args.as_slice() else { fail() };
    let Ok(n) = n.parse::<usize>() else { fail() };
    if let Some(mix) = Mix::ALL.into_iter().find(|m| m.name() == name) {
        print!("{}", generate(mix, n));
    } else if let Some(mix) = name.strip_prefix("speed-").and_then(SpeedMix::from_name) {
        if n < WORKLOAD_MIN_RULES {
            fail()
        }
        print!("{}", workload(mix, n).source);
    } else {
        fail()
    }
}

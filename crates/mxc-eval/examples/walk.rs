//! Times `Engine::fs` in cycles that do not depend on the machine's load: loads a table
//! and decides the benchmark's eight fs paths (`benches/decide.rs`) `ITERS` times, so
//! that `perf stat -e cycles:u` of two runs (ITERS and 0) gives cycles per decision.
//!
//! `cargo run --release -p mxc-eval --example walk -- TABLE.mxcb N ITERS` (N = the
//! policy size the table was generated for, which names the paths). With
//! `MXC_LOADS=K` it first loads the table K times and prints the time per load.

use mxc_eval::{Engine, FsRight};
use std::hint::black_box;

fn sixty(prefix: &str, suffix: &str) -> String {
    let pad = 60usize.saturating_sub(prefix.len() + suffix.len());
    format!("{prefix}{}{suffix}", "x".repeat(pad))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&args[1]).expect("table");
    let n: usize = args[2].parse().expect("N");
    let iters: usize = args[3].parse().expect("ITERS");
    // `MXC_LOADS=K`: load the table K more times first (to time or profile loading).
    let loads: usize = std::env::var("MXC_LOADS").map_or(0, |v| v.parse().expect("MXC_LOADS"));
    let t = std::time::Instant::now();
    for _ in 0..loads {
        black_box(Engine::from_bytes(black_box(&bytes)).expect("load"));
    }
    if loads > 0 {
        eprintln!("load: {:?} per table", t.elapsed() / loads as u32);
    }
    let e = Engine::from_bytes(&bytes).expect("load");
    let d = (n / 2) / 10 * 10;
    let paths = [
        sixty(&format!("/home/u/proj{d}/src/components/"), "/button.rs"),
        sixty(
            &format!("/home/u/proj{}/src/components/", d + 1),
            "/button.rs",
        ),
        sixty(
            &format!("/home/u/proj{}/secret/keys/", d + 2),
            "/id_ed25519",
        ),
        sixty(
            &format!("/home/u/proj{d}/src/generated/"),
            &format!("/out.ext{}", d + 4),
        ),
        sixty(
            &format!("/home/u/proj{}/build/", d + 2),
            &format!("module.o{}", d + 5),
        ),
        sixty(&format!("/usr/share/doc{}/", d + 6), "/README.md"),
        sixty("/var/lib/postgresql/16/main/base/", "/pg_internal.init"),
        sixty(
            &format!("/home/u/proj{}/src/components/", n + 7),
            "/button.rs",
        ),
    ];
    let mut sum = 0u64;
    for i in 0..iters {
        let p = &paths[i % 8];
        let dec = e.fs(black_box(p.as_bytes()), FsRight::Read);
        sum = sum.wrapping_add(dec.effect as u64 + dec.rule.map_or(0, |r| u64::from(r.0)));
    }
    println!("{sum}");
}

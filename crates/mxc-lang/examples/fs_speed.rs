//! fs decisions per path component against the byte automata, side by side in one run:
//! `cargo run --release -p mxc-lang --example fs_speed -- [N...]` (default 1000 10000).
//!
//! For each mix of `mxc_lang::mixes` with fs rules, at each size: compile time, states
//! and table bytes of both layouts, then the mean time of `Engine::fs_row` over
//! realistic 40–120-byte paths of that mix (hits and misses), and a check that both
//! layouts decide every path the same. The byte layout is skipped where it takes more
//! than `MXC_BYTES_MAX` rules (default 2000: the floating mix at 10,000 rules ran out of
//! memory).

use mxc_eval::{Engine, Table};
use mxc_lang::mixes::{generate, Mix};
use mxc_lang::{bind, compile};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

/// Realistic paths of a mix of `n` rules: under the trees it names, hits and misses.
fn paths(mix: Mix, n: usize) -> Vec<String> {
    let mut r = Lcg(42);
    let mut out = Vec::new();
    for _ in 0..64 {
        let i = r.below(n);
        let p = match mix {
            Mix::Bench => {
                let d = i / 10 * 10;
                match r.below(6) {
                    0 => format!("/home/u/proj{d}/src/components/widgets/button.rs"),
                    1 => format!("/home/u/proj{}/secret/keys/deploy/id_ed25519", d + 2),
                    2 => format!("/home/u/proj{d}/src/generated/out.ext{}", d + 4),
                    3 => format!("/home/u/proj{}/build/objects/module.o{}", d + 2, d + 5),
                    4 => format!("/usr/share/doc{}/packages/README.md", d + 6),
                    _ => "/var/lib/postgresql/16/main/base/pg_internal.init".to_string(),
                }
            }
            Mix::Floating => {
                let d = i / 8 * 8;
                let dir = ["data", "logs", "cache", "tmp"][d / 8 % 4];
                let ext = ["yaml", "txt", "json", "csv", "log"][d / 32 % 5];
                match r.below(6) {
                    0 => format!("/srv/team{}/work/{dir}{d}/settings.{ext}", d + 1),
                    1 => format!("/home/alice/projects/site/{dir}{d}/report.{ext}"),
                    2 => format!("/srv/team{}/secret/tokens/prod.key", d + 1),
                    3 => format!("/opt/app{}/lib/libcrypto.so", d + 4),
                    4 => format!("/tmp/job{}/output-final.txt", d + 7),
                    _ => format!("/var/lib/svc{}/db/table_0001.dat", d + 5),
                }
            }
            Mix::Enterprise => {
                let t = i / 6;
                match r.below(7) {
                    0 => format!("/home/team{t}/projects/app/src/main.rs"),
                    1 => format!("/home/team{t}/projects/app/secrets/api-key.pem"),
                    2 => format!("/home/team{t}/projects/web/node_modules/react/index.js"),
                    3 => "/usr/lib/x86_64-linux-gnu/libc.so.6".to_string(),
                    4 => "/home/alice/.ssh/id_ed25519".to_string(),
                    5 => format!("/home/team{t}/projects/svc/.env"),
                    _ => format!("/srv/shared/team{t}/reports/2026/q4/summary.pdf"),
                }
            }
            Mix::Alternatives => {
                let d = i / 4 * 4;
                match r.below(4) {
                    0 => format!("/srv/a{d}/src/components/main.rs"),
                    1 => format!("/srv/b{d}/lib/Cargo.lock"),
                    2 => format!("/home/u/docs{}/meeting-notes.md", d + 3),
                    _ => format!("/srv/c{d}/src/deeper/module/file.txt"),
                }
            }
            Mix::LaunchDenyList => String::new(),
        };
        out.push(p);
    }
    out
}

fn compile_one(src: &str, bytes: bool) -> (Table, Duration) {
    let prog = mxc_lang::check_source_without_lints("gen.mxc", src);
    assert!(!prog.diags.has_errors(), "{:?}", prog.diags);
    let b = bind::bind(&prog.model, "gen", &BTreeMap::new(), false).expect("binds");
    let t0 = Instant::now();
    let t = if bytes {
        compile::compile_bound_bytes(&b, &prog.sources)
    } else {
        compile::compile_bound(&b, &prog.sources)
    }
    .expect("compiles");
    (t, t0.elapsed())
}

fn states(t: &Table) -> usize {
    let c = t
        .fs_comp
        .as_ref()
        .map_or(0, |c| (c.rooted.nstates + c.anywhere.nstates) as usize);
    t.fs.nstates() + t.fs_anywhere.nstates() + c
}

fn time_fs(e: &Engine, paths: &[String]) -> f64 {
    let iters = 200_000usize;
    let t0 = Instant::now();
    for k in 0..iters {
        let p = &paths[k % paths.len()];
        black_box(e.fs_row(black_box(p.as_bytes())));
    }
    t0.elapsed().as_nanos() as f64 / iters as f64
}

pub fn main() {
    let sizes: Vec<usize> = {
        let v: Vec<usize> = std::env::args()
            .skip(1)
            .filter_map(|a| a.parse().ok())
            .collect();
        if v.is_empty() {
            vec![1000, 10000]
        } else {
            v
        }
    };
    let bytes_max: usize = std::env::var("MXC_BYTES_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    println!("mix n | layout: compile ms, fs states, table KiB, fs_row ns");
    for mix in [
        Mix::Bench,
        Mix::Floating,
        Mix::Enterprise,
        Mix::Alternatives,
    ] {
        for &n in &sizes {
            let src = generate(mix, n);
            let ps = paths(mix, n);
            let avg = ps.iter().map(|p| p.len()).sum::<usize>() / ps.len();
            let (t, ct) = compile_one(&src, false);
            let size = t.to_bytes().len();
            let e = Engine::from_table(t.clone()).expect("valid");
            let ns = time_fs(&e, &ps);
            let ns2 = time_fs(&e, &ps);
            println!(
                "{} {n} (paths {avg} B avg) | components: {:.1} ms, {} states, {} KiB, {:.1} ns",
                mix.name(),
                ct.as_secs_f64() * 1e3,
                states(&t),
                size / 1024,
                ns.min(ns2)
            );
            if n <= bytes_max {
                let (tb, cb) = compile_one(&src, true);
                let sizeb = tb.to_bytes().len();
                let eb = Engine::from_table(tb.clone()).expect("valid");
                for p in &ps {
                    assert_eq!(e.fs_row(p.as_bytes()), eb.fs_row(p.as_bytes()), "{p}");
                }
                let nb = time_fs(&eb, &ps);
                let nb2 = time_fs(&eb, &ps);
                println!(
                    "{} {n} | bytes: {:.1} ms, {} states, {} KiB, {:.1} ns",
                    mix.name(),
                    cb.as_secs_f64() * 1e3,
                    states(&tb),
                    sizeb / 1024,
                    nb.min(nb2)
                );
            }
        }
    }
}

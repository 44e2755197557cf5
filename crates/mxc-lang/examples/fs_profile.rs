//! fs decisions of the speed workloads (`mxc_lang::mixes::workload`), for profilers:
//!
//! ```text
//! fs_profile write MIX N OUT    # compiles the workload, writes OUT.mxcb and OUT.req
//! fs_profile run OUT ITERS      # loads OUT.mxcb, decides every request of OUT.req ITERS
//!                               # times (checking each against the workload's answer)
//! ```
//!
//! Instructions per decision, which do not drift with the machine's load: run under
//! `valgrind --tool=callgrind` with ITERS = 0 and ITERS = K; the difference of the
//! totals divided by K times the number of requests.

use mxc_eval::{Engine, FsRight};
use mxc_lang::mixes::{workload, SpeedMix};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

fn right(w: &str) -> FsRight {
    match w {
        "read" => FsRight::Read,
        "write" => FsRight::Write,
        "create" => FsRight::Create,
        "delete" => FsRight::Delete,
        _ => panic!("fs right `{w}`"),
    }
}

fn write(mix: &str, n: usize, out: &str) {
    let mix = SpeedMix::from_name(mix).expect("mix: bench, floating or enterprise");
    let w = workload(mix, n);
    let prog = mxc_lang::check_source_without_lints("gen.mxc", &w.source);
    assert!(!prog.diags.has_errors(), "{:?}", prog.diags);
    let b = mxc_lang::bind::bind(&prog.model, "gen", &BTreeMap::new(), false).expect("binds");
    let t = mxc_lang::compile::compile_bound(&b, &prog.sources).expect("compiles");
    std::fs::write(format!("{out}.mxcb"), t.to_bytes()).expect("write table");
    let mut req = String::new();
    for p in &w.fs {
        req.push_str(&format!("{}\t{}\n", p.request, p.expect));
    }
    std::fs::write(format!("{out}.req"), req).expect("write requests");
}

fn run(out: &str, iters: usize) {
    let bytes = std::fs::read(format!("{out}.mxcb")).expect("read table");
    let len = bytes.len();
    // MXC_LOAD=bytes: the copying load (`Engine::from_bytes`); else the owning one.
    let copy = std::env::var_os("MXC_LOAD").is_some_and(|v| v == "bytes");
    let t0 = Instant::now();
    let e = if copy {
        Engine::from_bytes(&bytes).expect("load")
    } else {
        Engine::from_vec(bytes).expect("load")
    };
    let load = t0.elapsed();
    let text = std::fs::read_to_string(format!("{out}.req")).expect("read requests");
    let reqs: Vec<(Vec<u8>, FsRight, String)> = text
        .lines()
        .map(|l| {
            let (r, expect) = l.split_once('\t').expect("tab");
            let (w, path) = r.split_once(' ').expect("right and path");
            (path.as_bytes().to_vec(), right(w), expect.to_string())
        })
        .collect();
    for (p, r, expect) in &reqs {
        let got = e.fs(p, *r).effect.as_str();
        assert_eq!(got, expect, "{}", String::from_utf8_lossy(p));
    }
    let t0 = Instant::now();
    for _ in 0..iters {
        for (p, r, _) in &reqs {
            black_box(e.fs(black_box(p), *r));
        }
    }
    let n = (iters * reqs.len()).max(1);
    let avg = reqs.iter().map(|r| r.0.len()).sum::<usize>() / reqs.len().max(1);
    println!(
        "{out}: {len} B table, load ({}) {:.3} ms, {} requests ({avg} B avg), {:.1} ns per decision",
        if copy { "from_bytes" } else { "from_vec" },
        load.as_secs_f64() * 1e3,
        reqs.len(),
        t0.elapsed().as_nanos() as f64 / n as f64
    );
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    match a.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["write", mix, n, out] => write(mix, n.parse().expect("N"), out),
        ["run", out, iters] => run(out, iters.parse().expect("ITERS")),
        _ => eprintln!("usage: fs_profile write MIX N OUT | fs_profile run OUT ITERS"),
    }
}

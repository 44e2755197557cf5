//! wtool TABLE.mxcb REQUESTS.txt MODE ITERS [BATCHES]
//!
//! Loads a table and decides its net or launch requests (or loads it again) ITERS times,
//! outside criterion and the workspace (so a release build needs no Cedar), for
//! callgrind counts: docs/performance.md, "Byte automata: one type, loaded in place".
//! TABLE and REQUESTS come from `cargo run -p mxc-eval --example netlaunch`.
//! MODE: load | net | launch | none | cold (prints the first load's wall clock and
//! stops); net-nohosts: net with the table's net host jump emptied (every name walked
//! byte by byte, as before format 6). Prints a checksum of the effects and, with
//! BATCHES > 0, min/median ns per operation over BATCHES batches of ITERS.
//! Build: `cd scripts/wtool && cargo build --release` (own workspace and target).
use mxc_eval::{Engine, Host, NetRequest, NetRight, Proto};
use std::hint::black_box;
use std::time::Instant;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

enum Req {
    Net { right: NetRight, proto: Proto, kind: String, host: String, hostb: Vec<u8>, port: u16, program: Option<Vec<u8>> },
    Launch { program: Vec<u8>, args: Vec<Vec<u8>> },
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&a[1]).unwrap();
    let text = std::fs::read_to_string(&a[2]).unwrap();
    let mode = a[3].as_str();
    let iters: usize = a[4].parse().unwrap();
    let batches: usize = a.get(5).map_or(0, |s| s.parse().unwrap());
    let mut reqs = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f[0] {
            "net" => reqs.push(Req::Net {
                right: if f[1] == "connect" { NetRight::Connect } else { NetRight::Bind },
                proto: if f[2] == "tcp" { Proto::Tcp } else { Proto::Udp },
                kind: f[3].to_string(),
                host: f[4].to_string(),
                hostb: if f[3] == "name" { vec![] } else { unhex(f[4]) },
                port: f[5].parse().unwrap(),
                program: (f[6] != "-").then(|| f[6].as_bytes().to_vec()),
            }),
            _ => reqs.push(Req::Launch {
                program: f[1].as_bytes().to_vec(),
                args: f[2..].iter().filter(|s| !s.is_empty()).map(|s| s.as_bytes().to_vec()).collect(),
            }),
        }
    }
    // The first load in this process (cold: fresh allocations, nothing in cache but
    // the file's bytes just read).
    let t0 = Instant::now();
    let e = Engine::from_bytes(black_box(&bytes)).unwrap();
    let first = t0.elapsed();
    if mode == "cold" {
        println!("first load {:.1} us", first.as_nanos() as f64 / 1000.0);
        return;
    }
    let e = if mode == "net-nohosts" {
        let mut t = mxc_eval::Table::from_bytes(&bytes).unwrap();
        t.net_hosts = Default::default();
        Engine::from_table(t).unwrap()
    } else {
        e
    };
    let nets: Vec<NetRequest> = reqs.iter().filter_map(|r| match r {
        Req::Net { right, proto, kind, host, hostb, port, program } => Some(NetRequest {
            right: *right, proto: *proto,
            host: match kind.as_str() {
                "name" => Host::Name(host),
                "v4" => Host::V4(hostb.as_slice().try_into().unwrap()),
                _ => Host::V6(hostb.as_slice().try_into().unwrap()),
            },
            port: *port, program: program.as_deref(),
        }),
        _ => None,
    }).collect();
    let launches: Vec<(&[u8], &[Vec<u8>])> = reqs.iter().filter_map(|r| match r {
        Req::Launch { program, args } => Some((program.as_slice(), args.as_slice())),
        _ => None,
    }).collect();
    let mut sum = 0u64;
    let run = |n: usize| -> u64 {
        let mut s = 0u64;
        match mode {
            "load" => for _ in 0..n { let e = Engine::from_bytes(black_box(&bytes)).unwrap(); s += black_box(&e).agent().name.len() as u64; },
            "net" | "net-nohosts" => for i in 0..n { let r = &nets[i % nets.len()]; let d = e.net(black_box(r)); s += d.effect as u64 + d.rule.map_or(0, |r| r.0 as u64); },
            "launch" => for i in 0..n { let (p, a) = launches[i % launches.len()]; let d = e.launch(black_box(p), black_box(a)); s += d.effect as u64 + d.rule.map_or(0, |r| r.0 as u64); },
            _ => {}
        }
        s
    };
    if batches == 0 {
        sum = run(iters);
    } else {
        let mut t = Vec::new();
        for _ in 0..batches {
            let t0 = Instant::now();
            sum = sum.wrapping_add(run(iters));
            t.push(t0.elapsed().as_nanos() as f64 / iters as f64);
        }
        t.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!("{mode}: min {:.1} ns, median {:.1} ns", t[0], t[t.len() / 2]);
    }
    println!("nets {} launches {} checksum {sum}", nets.len(), launches.len());
}

//! Writes a speed workload's table and its net and launch requests, for timing and
//! counting the engine outside criterion (`docs/performance.md`, "Issue 10: net,
//! launch and load"):
//!
//! ```text
//! cargo run -p mxc-eval --example netlaunch -- MIX N TABLE.mxcb REQUESTS.txt
//! ```
//!
//! MIX is a `mxc_lang::mixes::SpeedMix` (`bench`, `floating`, `enterprise`), N the number
//! of rules. REQUESTS.txt has one request a line, fields separated by tabs:
//! `net RIGHT PROTO name|v4|v6 HOST PORT PROGRAM|-` (HOST as text for a name, as
//! the address bytes in hex otherwise) or `launch PROGRAM ARG...`.

use mxc_lang::mixes::{workload, SpeedMix};
use mxc_lang::pattern::NetProto;
use mxc_lang::request::{parse_request, HostReq, Request};
use std::fmt::Write as _;

fn hex(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mix = SpeedMix::from_name(&args[1]).expect("MIX: bench, floating or enterprise");
    let n: usize = args[2].parse().expect("N");
    let w = workload(mix, n);
    let prog = mxc_lang::check_source_without_lints("gen.mxc", &w.source);
    assert!(!prog.diags.has_errors(), "{:?}", prog.diags);
    let bound = mxc_lang::bind::bind(&prog.model, "gen", &Default::default(), false).expect("bind");
    let bytes = mxc_lang::compile::compile_bound(&bound, &prog.sources)
        .expect("compile")
        .to_bytes();
    std::fs::write(&args[3], bytes).expect("write the table");
    let mut out = String::new();
    for p in &w.net {
        let Ok(Request::Net {
            right,
            proto,
            host,
            port,
            program,
        }) = parse_request(&p.request, false)
        else {
            panic!("not a net request: {}", p.request)
        };
        let proto = match proto {
            NetProto::Tcp => "tcp",
            NetProto::Udp => "udp",
        };
        let (kind, host) = match host {
            HostReq::Name(n) => ("name", n),
            HostReq::V4(a) => ("v4", hex(&a)),
            HostReq::V6(a) => ("v6", hex(&a)),
        };
        let _ = writeln!(
            out,
            "net\t{}\t{proto}\t{kind}\t{host}\t{port}\t{}",
            right.as_str(),
            program.as_deref().unwrap_or("-")
        );
    }
    for p in &w.launch {
        match parse_request(&p.request, false) {
            Ok(Request::Launch { program, args }) => {
                let _ = writeln!(out, "launch\t{program}\t{}", args.join("\t"));
            }
            r => panic!("not a launch request: {r:?}"),
        }
    }
    std::fs::write(&args[4], out).expect("write the requests");
}

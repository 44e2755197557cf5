//! Issue 10, part 4: the speed workloads of `mxc_lang::mixes` (what
//! `crates/mxc-eval/benches/decide.rs` times) are what they claim. Every request gets its
//! stated decision from the reference interpreter and from the compiled engine (so a
//! "hit" really hits the rule it was written for, and the benchmark times real hits),
//! every fs path is 40 to 120 bytes, and each policy has the size and mix it says.

use mxc_lang::mixes::{workload, SpeedMix, Workload, WORKLOAD_MIN_RULES};
use mxc_lang::request::parse_request;
use mxc_lang::{bind, compile, interp, query};
use std::collections::BTreeMap;

fn check(w: &Workload) {
    let name = w.mix.name();
    let prog = mxc_lang::check_source_without_lints("gen.mxc", &w.source);
    assert!(!prog.diags.has_errors(), "{name}: {:?}", prog.diags);
    let b = bind::bind(&prog.model, "gen", &BTreeMap::new(), false).expect("binds");
    assert_eq!(b.rules.len(), w.n, "{name}: rules bound");
    let table = compile::compile_bound(&b, &prog.sources).expect("compiles");
    let e = mxc_eval::Engine::from_table(table).expect("valid table");
    for (section, probes) in [("fs", &w.fs), ("net", &w.net), ("launch", &w.launch)] {
        assert!(probes.len() >= 4, "{name}: {section} requests");
        for p in probes {
            let r = parse_request(&p.request, false)
                .unwrap_or_else(|m| panic!("{name}: `{}`: {m}", p.request));
            if section == "fs" {
                let path = p.request.split_once(' ').expect("right and path").1;
                assert!(
                    (40..=120).contains(&path.len()),
                    "{name}: {} bytes: {path}",
                    path.len()
                );
            }
            let reference = interp::decide(&b, &r);
            let got = query::decide_engine(&e, &r);
            assert_eq!(
                reference.effect.as_str(),
                p.expect,
                "{name} at {}: reference on `{}` ({})",
                w.n,
                p.request,
                p.what
            );
            assert_eq!(
                got.effect.as_str(),
                p.expect,
                "{name} at {}: engine on `{}` ({})",
                w.n,
                p.request,
                p.what
            );
            // A request that is not a miss is decided by a rule, not by the default.
            if !p.what.contains("miss") {
                assert!(
                    reference.rule.is_some(),
                    "{name}: `{}` ({}) decided by the default",
                    p.request,
                    p.what
                );
            }
        }
    }
}

#[test]
fn bench_workload_decides_as_stated() {
    for n in [WORKLOAD_MIN_RULES, 1_000] {
        check(&workload(SpeedMix::Bench, n));
    }
}

#[test]
fn floating_workload_decides_as_stated() {
    for n in [WORKLOAD_MIN_RULES, 1_000] {
        let w = workload(SpeedMix::Floating, n);
        let floating = w
            .rules
            .iter()
            .filter(|r| r.target.starts_with("**/") && r.target.contains("/*."))
            .count();
        assert_eq!(floating, n / 5, "floating patterns");
        check(&w);
    }
}

#[test]
fn enterprise_workload_decides_as_stated() {
    for n in [WORKLOAD_MIN_RULES, 137, 1_000] {
        check(&workload(SpeedMix::Enterprise, n));
    }
}

#[test]
fn workloads_are_deterministic_and_named() {
    for mix in SpeedMix::ALL {
        assert_eq!(SpeedMix::from_name(mix.name()), Some(mix));
        assert_eq!(workload(mix, 300).source, workload(mix, 300).source);
    }
}

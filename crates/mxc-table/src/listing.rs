//! A human-readable listing of a table (`mxcc inspect`): the agent's settings and
//! identity, the plan, the size of each automaton and row set, and the rules.

use std::fmt::Write;

use crate::plan::Grant;
use crate::table::{Dfa, RowSet, Table, Target};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn grants<R: std::fmt::Display>(out: &mut String, what: &str, list: &[Grant<R>]) {
    let _ = writeln!(out, "  {what}: {}", list.len());
    for g in list {
        let shape = match (g.exact, g.subtree) {
            (true, true) => "exact subtree",
            (true, false) => "exact",
            (false, true) => "subtree (wider than the rules)",
            (false, false) => "path (wider than the rules)",
        };
        let _ = writeln!(out, "    {} [{}] {shape}", g.path, g.rights);
    }
}

fn ports(v: &Option<Vec<(u16, u16)>>) -> String {
    match v {
        None => "any".into(),
        Some(v) if v.is_empty() => "none".into(),
        Some(v) => v
            .iter()
            .map(|&(lo, hi)| {
                if lo == hi {
                    lo.to_string()
                } else {
                    format!("{lo}-{hi}")
                }
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn dfa_line(out: &mut String, name: &str, d: &Dfa) {
    let used = d.check.iter().filter(|&&c| c != crate::table::NONE).count();
    let _ = writeln!(
        out,
        "  {name:<16} {} states, {} classes, {} slots ({used} used)",
        d.nstates(),
        d.nclasses,
        d.next.len()
    );
}

impl Table {
    /// A listing of the table for people (what `mxcc inspect` prints). Lists every
    /// rule, so it is as long as the policy.
    pub fn listing(&self) -> String {
        let mut out = String::new();
        let a = &self.agent;
        let target = match self.target {
            Target::Linux => "linux",
            Target::Windows => "windows",
        };
        let _ = writeln!(
            out,
            "table format {}, target {target}",
            crate::FORMAT_VERSION
        );
        let _ = writeln!(out, "agent {}", a.name);
        let _ = writeln!(out, "  identity: {}", a.identity);
        let _ = writeln!(
            out,
            "  isolation: {}",
            format!("{:?}", a.isolation).to_lowercase()
        );
        let _ = writeln!(out, "  default: {}", a.default.as_str());
        let _ = writeln!(out, "  audit: {}", format!("{:?}", a.audit).to_lowercase());
        let _ = writeln!(out, "  policies: {}", a.policies.join(", "));
        for (k, v) in &a.params {
            let _ = writeln!(out, "  param {k} = {v}");
        }
        let _ = writeln!(out, "  source sha256: {}", hex(&a.source_hash));
        let _ = writeln!(
            out,
            "  env: pass [{}], deny [{}]",
            a.env_pass.join(", "),
            a.env_deny.join(", ")
        );
        let opt = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
        let _ = writeln!(
            out,
            "  limits: memory_bytes {}, processes {}, timeout_ms {}, cpus {}",
            opt(a.memory_bytes),
            opt(a.processes),
            opt(a.timeout_ms),
            opt(a.cpus)
        );
        let ui = |e: Option<crate::Effect>| e.map_or("-", crate::Effect::as_str);
        let _ = writeln!(
            out,
            "  ui: clipboard {}, display {}",
            ui(a.clipboard),
            ui(a.display)
        );
        let p = &self.plan;
        let _ = writeln!(
            out,
            "plan (fs {})",
            if p.fs_exact {
                "exact: the kernel's grants are the policy"
            } else {
                "not exact: the supervisor decides within the grants"
            }
        );
        grants(&mut out, "fs grants", &p.fs);
        grants(&mut out, "exec grants", &p.exec);
        let _ = writeln!(out, "  tcp connect ports: {}", ports(&p.tcp_connect));
        let _ = writeln!(out, "  tcp bind ports: {}", ports(&p.tcp_bind));
        let _ = writeln!(out, "automata");
        for (k, dfa) in self.iter() {
            dfa_line(&mut out, k.name().trim_end_matches(" dfa"), dfa);
        }
        if let Some(c) = &self.fs_comp {
            let _ = writeln!(
                out,
                "  fs components    {} literals ({} slots, probe <= {}), {} key classes, \
                 rooted {} states ({} slots, probe <= {}), anywhere {} states ({} slots, \
                 probe <= {})",
                c.nlits,
                c.nlit_slots,
                c.lit_probe,
                c.nkeys,
                c.rooted.nstates,
                c.rooted.nslots,
                c.rooted.probe,
                c.anywhere.nstates,
                c.anywhere.nslots,
                c.anywhere.probe
            );
        }
        let h = &self.net_hosts;
        let _ = writeln!(
            out,
            "  net hosts        {} names, {} slots, probe <= {}",
            h.entries.len(),
            h.slots.len(),
            h.max_probe
        );
        let rows: Vec<String> = RowSet::ALL
            .iter()
            .map(|&r| format!("{} {}", r.name().trim_end_matches(" rows"), self.nrows(r)))
            .collect();
        let _ = writeln!(out, "  rows: {}", rows.join(", "));
        let _ = writeln!(out, "rules: {}", self.rules.len());
        for (i, r) in self.rules.iter().enumerate() {
            let _ = write!(
                out,
                "  #{i} {} ({} {}:{}:{})",
                r.effect.as_str(),
                r.policy,
                r.file,
                r.line,
                r.column
            );
            if let Some(reason) = &r.reason {
                let _ = write!(out, " because {reason:?}");
            }
            out.push('\n');
        }
        out
    }
}

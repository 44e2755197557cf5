//! Decision benchmarks: the compiled engine against the reference interpreter, Cedar
//! and a naive globset engine, on generated policies of 10, 100, 1,000 and 10,000
//! rules; plus table load and compile times. Results are recorded in
//! `docs/performance.md`.
//!
//! Run: `cargo bench -p mxc-eval --bench decide` (CI only builds it:
//! `cargo bench -p mxc-eval --no-run`). Without `--bench` (as under
//! `cargo test --benches`) only the 10- and 100-rule sizes run, once each.
//!
//! The policies are compiled with `mxc-lang` (a dev-dependency). That crate links its
//! own copy of `mxc_eval`, so its `Table` is not this crate's: the table crosses over
//! as bytes (`to_bytes` there, [`Engine::from_bytes`] here), which is the real load
//! path of an embedding runtime.
//!
//! Each size is compiled once in a child process (this executable, re-run with
//! `MXC_BENCH_CHILD_N`), so that a compile that takes too long can be stopped: past
//! the timeout the size's compile time is reported as "more than" it, and only the
//! benchmarks that need no table (reference, Cedar, globset) run for it.
//!
//! Knobs (environment variables):
//! - `MXC_BENCH_SIZES=10,100`: the sizes to run (default `10,100,1000,10000`);
//! - `MXC_BENCH_COMPILE_TIMEOUT=SECS`: the longest one compile may take (default 600);
//! - `MXC_BENCH_SKIP=4,5`: leave out the rules of these kinds (`i % 10`, see
//!   [`generate`]), to see what a kind costs;
//! - `MXC_TIMING=1`: the compiler (in the child) prints the time and size of each
//!   automaton it builds, on stderr;
//! - `MXC_BENCH_LINTS=1`: the child also times `check_source` (parse, check and lints).

use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityUid, Policy, PolicyId, PolicySet,
    Request as CedarRequest,
};
use criterion::{BenchmarkId, Criterion};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use mxc_eval::{Engine, FsRight, Host, NetRequest, NetRight, Proto};
use mxc_lang::bind::Bound;
use mxc_lang::request::Request;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::str::FromStr;
use std::time::{Duration, Instant};

const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];
/// `compile/{n}` runs under criterion only when one compile takes less than this;
/// slower ones are reported from the one timed compile.
const CRITERION_COMPILE_MAX: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------------------------------
// The generated policy

/// One fs rule as the naive engines see it: its effect, rights and target.
struct FsRule {
    effect: Eff,
    rights: u8,
    pattern: String,
    /// A literal subtree (`PREFIX/**`) or literal path: what Cedar can express.
    cedar: Option<CedarTarget>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Eff {
    Allow,
    Ask,
    Deny,
}

enum CedarTarget {
    Subtree(String),
}

const READ: u8 = 1;
const WRITE: u8 = 2;
const CREATE: u8 = 4;
const DELETE: u8 = 8;

fn rights_text(r: u8) -> String {
    let names: Vec<&str> = [
        (READ, "read"),
        (WRITE, "write"),
        (CREATE, "create"),
        (DELETE, "delete"),
    ]
    .iter()
    .filter(|(b, _)| r & b != 0)
    .map(|(_, n)| *n)
    .collect();
    names.join(", ")
}

fn eff_text(e: Eff) -> &'static str {
    match e {
        Eff::Allow => "allow",
        Eff::Ask => "ask",
        Eff::Deny => "deny",
    }
}

/// A policy of `n` rules, by rule index `i` modulo 10:
///
/// | i % 10 | rule |
/// |---|---|
/// | 0, 1, 2 | `allow read, write, create "/home/u/proj{i}/**"` (literal-prefix subtree) |
/// | 3 | `deny all "/home/u/proj{i-1}/secret/**"` (carve-out) |
/// | 4 | `ask write, create "**/*.ext{i}"` (glob anywhere) |
/// | 5 | `allow read "/home/u/proj{i-3}/build/*.o{i}"` (glob in a directory) |
/// | 6 | `allow read "/usr/share/doc{i}/**"` (literal-prefix subtree) |
/// | 7 | net: `allow connect "svc{i}.example.com:443"`, `allow connect "*.domain{i}.org"` or `deny connect "10.A.B.0/24"` |
/// | 8 | net: `allow connect "api{i}.internal.net:8000-8999"` |
/// | 9 | app: `allow launch "/usr/bin/tool{i}"`, `allow launch "/opt/bin/prog{i}" args "run *"` or `deny launch "/usr/bin/tool{i-10}" args "*--force*"` |
///
/// So 70% fs, 20% net and 10% app rules.
fn generate(n: usize, skip: &[usize]) -> (String, Vec<FsRule>) {
    let mut fs = Vec::new();
    let mut src = String::from("policy gen {\n");
    let mut fs_rule = |src: &mut String, effect: Eff, rights: u8, pattern: String, cedar| {
        let _ = writeln!(
            src,
            "  fs {{ {} {} {pattern:?} }}",
            eff_text(effect),
            rights_text(rights)
        );
        fs.push(FsRule {
            effect,
            rights,
            pattern,
            cedar,
        });
    };
    for i in 0..n {
        if skip.contains(&(i % 10)) {
            continue;
        }
        match i % 10 {
            0..=2 => {
                let p = format!("/home/u/proj{i}");
                fs_rule(
                    &mut src,
                    Eff::Allow,
                    READ | WRITE | CREATE,
                    format!("{p}/**"),
                    Some(CedarTarget::Subtree(p)),
                );
            }
            3 => {
                let p = format!("/home/u/proj{}/secret", i - 1);
                fs_rule(
                    &mut src,
                    Eff::Deny,
                    READ | WRITE | CREATE | DELETE,
                    format!("{p}/**"),
                    Some(CedarTarget::Subtree(p)),
                );
            }
            4 => fs_rule(
                &mut src,
                Eff::Ask,
                WRITE | CREATE,
                format!("**/*.ext{i}"),
                None,
            ),
            5 => fs_rule(
                &mut src,
                Eff::Allow,
                READ,
                format!("/home/u/proj{}/build/*.o{i}", i - 3),
                None,
            ),
            6 => {
                let p = format!("/usr/share/doc{i}");
                fs_rule(
                    &mut src,
                    Eff::Allow,
                    READ,
                    format!("{p}/**"),
                    Some(CedarTarget::Subtree(p)),
                );
            }
            7 => {
                let _ = match (i / 10) % 3 {
                    0 => writeln!(src, "  net {{ allow connect \"svc{i}.example.com:443\" }}"),
                    1 => writeln!(src, "  net {{ allow connect \"*.domain{i}.org\" }}"),
                    _ => writeln!(
                        src,
                        "  net {{ deny connect \"10.{}.{}.0/24\" }}",
                        (i / 256) % 256,
                        i % 256
                    ),
                };
            }
            8 => {
                let _ = writeln!(
                    src,
                    "  net {{ allow connect \"api{i}.internal.net:8000-8999\" }}"
                );
            }
            _ => {
                let _ = match (i / 10) % 3 {
                    0 => writeln!(src, "  app {{ allow launch \"/usr/bin/tool{i}\" }}"),
                    1 => writeln!(
                        src,
                        "  app {{ allow launch \"/opt/bin/prog{i}\" args \"run *\" }}"
                    ),
                    _ => writeln!(
                        src,
                        "  app {{ deny launch \"/usr/bin/tool{}\" args \"*--force*\" }}",
                        i.saturating_sub(10)
                    ),
                };
            }
        }
    }
    src.push_str("}\nagent bench { use gen }\n");
    (src, fs)
}

/// Pads `prefix` with `x` before `suffix` to about 60 bytes.
fn sixty(prefix: &str, suffix: &str) -> String {
    let len = prefix.len() + suffix.len();
    let pad = 60usize.saturating_sub(len);
    format!("{prefix}{}{suffix}", "x".repeat(pad))
}

/// The fs requests: a mix of hits (subtree, carve-out, both globs) and misses, all
/// about 60 bytes, with reads and writes.
fn fs_requests(n: usize) -> Vec<(String, FsRight)> {
    // The decade in the middle of the policy (every size has at least one).
    let d = (n / 2) / 10 * 10;
    let v = vec![
        (
            sixty(&format!("/home/u/proj{d}/src/components/"), "/button.rs"),
            FsRight::Read,
        ),
        (
            sixty(
                &format!("/home/u/proj{}/src/components/", d + 1),
                "/button.rs",
            ),
            FsRight::Write,
        ),
        (
            sixty(
                &format!("/home/u/proj{}/secret/keys/", d + 2),
                "/id_ed25519",
            ),
            FsRight::Read,
        ),
        (
            sixty(
                &format!("/home/u/proj{d}/src/generated/"),
                &format!("/out.ext{}", d + 4),
            ),
            FsRight::Write,
        ),
        (
            sixty(
                &format!("/home/u/proj{}/build/", d + 2),
                &format!("module.o{}", d + 5),
            ),
            FsRight::Read,
        ),
        (
            sixty(&format!("/usr/share/doc{}/", d + 6), "/README.md"),
            FsRight::Read,
        ),
        (
            sixty("/var/lib/postgresql/16/main/base/", "/pg_internal.init"),
            FsRight::Read,
        ),
        (
            sixty(
                &format!("/home/u/proj{}/src/components/", n + 7),
                "/button.rs",
            ),
            FsRight::Read,
        ),
    ];
    for (p, _) in &v {
        assert!((58..=64).contains(&p.len()), "{p}");
    }
    v
}

fn fs_right_bit(r: FsRight) -> u8 {
    match r {
        FsRight::Read => READ,
        FsRight::Write => WRITE,
        FsRight::Create => CREATE,
        FsRight::Delete => DELETE,
    }
}

fn fs_right_word(r: FsRight) -> &'static str {
    r.as_str()
}

/// Net requests: name hit, suffix hit, CIDR deny, range hit, name miss, IP miss.
fn net_requests(n: usize) -> Vec<(Host<'static>, u16)> {
    let d = (n / 2) / 30 * 30; // (i / 10) % 3 == 0 at i = d + 7
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let cidr_i = d + 27; // (i / 10) % 3 == 2
    vec![
        (Host::Name(leak(format!("svc{}.example.com", d + 7))), 443),
        (
            Host::Name(leak(format!("cdn.eu.domain{}.org", d + 17))),
            443,
        ),
        (
            Host::V4([10, ((cidr_i / 256) % 256) as u8, (cidr_i % 256) as u8, 5]),
            5432,
        ),
        (Host::Name(leak(format!("api{}.internal.net", d + 8))), 8443),
        (Host::Name("www.unknown-site.com"), 443),
        (Host::V4([192, 168, 1, 1]), 80),
    ]
}

/// Launch requests: plain hit, args hit, args deny, miss.
fn launch_requests(n: usize) -> Vec<(String, Vec<String>)> {
    let d = (n / 2) / 30 * 30;
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        (format!("/usr/bin/tool{}", d + 9), args(&["--version"])),
        (
            format!("/opt/bin/prog{}", d + 19),
            args(&["run", "build", "--release"]),
        ),
        (
            format!("/usr/bin/tool{}", d + 19),
            args(&["push", "--force", "origin"]),
        ),
        ("/bin/rm".to_string(), args(&["-rf", "/tmp/x"])),
    ]
}

// ---------------------------------------------------------------------------------------
// The other engines

/// A naive engine: every fs pattern in one `GlobSet`; a decision lists the matching
/// globs and folds their effects (SPEC §6), as an engine without a compiler would.
struct GlobEngine {
    set: GlobSet,
    rules: Vec<(Eff, u8)>,
}

impl GlobEngine {
    fn new(rules: &[FsRule]) -> GlobEngine {
        let mut b = GlobSetBuilder::new();
        for r in rules {
            b.add(
                GlobBuilder::new(&r.pattern)
                    .literal_separator(true)
                    .build()
                    .expect("glob"),
            );
        }
        GlobEngine {
            set: b.build().expect("globset"),
            rules: rules.iter().map(|r| (r.effect, r.rights)).collect(),
        }
    }

    fn decide(&self, path: &str, right: u8) -> Eff {
        let mut best = None;
        for i in self.set.matches(path) {
            let (e, rights) = self.rules[i];
            if rights & right != 0 && best.is_none_or(|b| e > b) {
                best = Some(e);
            }
        }
        best.unwrap_or(Eff::Deny)
    }
}

fn cedar_uid(ty: &str, id: &str) -> EntityUid {
    EntityUid::from_str(&format!("{ty}::{id:?}")).expect("uid")
}

/// The Cedar translation of the subtree rules (glob rules have no Cedar equivalent
/// and are left out): `PREFIX/**` is `resource == File::"PREFIX" || resource in
/// Dir::"PREFIX"`.
fn cedar_policies(rules: &[FsRule]) -> (PolicySet, usize) {
    let mut set = PolicySet::new();
    let mut count = 0;
    for (i, r) in rules.iter().enumerate() {
        let Some(CedarTarget::Subtree(p)) = &r.cedar else {
            continue;
        };
        let effect = match r.effect {
            Eff::Allow => "permit",
            Eff::Deny => "forbid",
            Eff::Ask => continue,
        };
        let actions: Vec<String> = [READ, WRITE, CREATE, DELETE]
            .iter()
            .filter(|b| r.rights & **b != 0)
            .map(|b| format!("Action::{:?}", rights_text(*b)))
            .collect();
        let text = format!(
            "{effect}(principal == Agent::\"bench\", action in [{}], resource) when {{ resource == File::{p:?} || resource in Dir::{p:?} }};",
            actions.join(", ")
        );
        set.add(Policy::parse(Some(PolicyId::new(format!("r{i}"))), &text).expect("cedar policy"))
            .expect("add");
        count += 1;
    }
    (set, count)
}

/// A Cedar request for `right` on `path`, with the path's `Dir` hierarchy as entities.
fn cedar_request(path: &str, right: FsRight) -> (CedarRequest, Entities) {
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let dir = |k: usize| format!("/{}", comps[..k].join("/"));
    let mut entities = Vec::new();
    for k in 0..comps.len() {
        let parents: HashSet<EntityUid> = if k == 0 {
            HashSet::new()
        } else {
            HashSet::from([cedar_uid("Dir", &dir(k - 1))])
        };
        entities.push(Entity::new_no_attrs(cedar_uid("Dir", &dir(k)), parents));
    }
    let resource = cedar_uid("File", path);
    entities.push(Entity::new_no_attrs(
        resource.clone(),
        HashSet::from([cedar_uid("Dir", &dir(comps.len() - 1))]),
    ));
    let request = CedarRequest::new(
        cedar_uid("Agent", "bench"),
        cedar_uid("Action", fs_right_word(right)),
        resource,
        Context::empty(),
        None,
    )
    .expect("cedar request");
    (
        request,
        Entities::from_entities(entities, None).expect("entities"),
    )
}

// ---------------------------------------------------------------------------------------
// Compiling (in a child process)

fn env_list(name: &str) -> Option<Vec<usize>> {
    let v = std::env::var(name).ok()?;
    Some(
        v.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                s.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("{name}: bad number `{s}`"))
            })
            .collect(),
    )
}

fn skip_kinds() -> Vec<usize> {
    env_list("MXC_BENCH_SKIP").unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Parses and checks one source, without the lints (`check_source` runs them too).
fn front_end(source: &str) -> (mxc_lang::model::Model, mxc_lang::SourceMap) {
    let mut read = |p: &std::path::Path| -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            p.display().to_string(),
        ))
    };
    let parsed = mxc_lang::load::load_with(
        vec![("gen.mxc".into(), source.as_bytes().to_vec())],
        &mut read,
    );
    let (model, diags) = mxc_lang::check::check(&parsed);
    assert!(
        !parsed.diags.has_errors() && !diags.has_errors(),
        "{:?} {diags:?}",
        parsed.diags
    );
    (model, parsed.sources)
}

fn bind(model: &mxc_lang::model::Model) -> Bound {
    mxc_lang::bind::bind(model, "bench", &BTreeMap::new(), false).expect("bind")
}

/// Source text to table bytes: parse, check, bind, compile, serialise.
fn compile_source(source: &str) -> Vec<u8> {
    let (model, sources) = front_end(source);
    mxc_lang::compile::compile_bound(&bind(&model), &sources)
        .expect("compile")
        .to_bytes()
}

/// The child: compiles size `n` once, phase by phase, prints the times and writes the
/// table's bytes to `out`.
fn child(n: usize, out: &str) {
    let (source, _) = generate(n, &skip_kinds());
    let t = Instant::now();
    let (model, sources) = front_end(&source);
    let t_front = t.elapsed();
    let t = Instant::now();
    let bound = bind(&model);
    let t_bind = t.elapsed();
    let t = Instant::now();
    let table = mxc_lang::compile::compile_bound(&bound, &sources).expect("compile");
    let t_compile = t.elapsed();
    let t = Instant::now();
    let bytes = table.to_bytes();
    let t_ser = t.elapsed();
    let total = t_front + t_bind + t_compile + t_ser;
    println!(
        "compile/{n} (once): {:.1} ms = parse+check {:.1} ms + bind {:.1} ms + compile {:.1} ms + to_bytes {:.2} ms",
        ms(total),
        ms(t_front),
        ms(t_bind),
        ms(t_compile),
        ms(t_ser)
    );
    println!(
        "table/{n}: {} rules, {} B ({:.0} B/rule, {:.2} MiB per 1,000 rules); fs: {} states, {} classes, {} slots; fs anywhere: {} states; net: {} states; app: {} states",
        table.rules.len(),
        bytes.len(),
        bytes.len() as f64 / table.rules.len() as f64,
        bytes.len() as f64 / table.rules.len() as f64 * 1000.0 / 1048576.0,
        table.fs.accept.len(),
        table.fs.nclasses,
        table.fs.next.len(),
        table.fs_anywhere.accept.len(),
        table.net.accept.len(),
        table.app.accept.len(),
    );
    std::fs::write(out, &bytes).expect("write table");
    if std::env::var_os("MXC_BENCH_LINTS").is_some() {
        let t = Instant::now();
        let prog = mxc_lang::check_source("gen.mxc", &source);
        println!(
            "check_source/{n} (parse, check and lints, once): {:.1} ms, {} diagnostics",
            ms(t.elapsed()),
            prog.diags.len()
        );
    }
}

/// Compiles size `n` in a child process; `None` when it did not finish in `timeout`.
fn compile_in_child(n: usize, timeout: Duration) -> Option<(Vec<u8>, Duration)> {
    let out: PathBuf =
        std::env::temp_dir().join(format!("mxc-bench-{}-{n}.mxcb", std::process::id()));
    let exe = std::env::current_exe().expect("current exe");
    let t = Instant::now();
    let mut child = Command::new(exe)
        .env("MXC_BENCH_CHILD_N", n.to_string())
        .env("MXC_BENCH_CHILD_OUT", &out)
        .spawn()
        .expect("spawn the compiling child");
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "compiling child failed: {status}");
            let elapsed = t.elapsed();
            let bytes = std::fs::read(&out).expect("read table");
            let _ = std::fs::remove_file(&out);
            return Some((bytes, elapsed));
        }
        if t.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_file(&out);
            println!(
                "compile/{n} (once): did not finish in {} s; stopped. Only the benchmarks that need no table run for this size.",
                timeout.as_secs()
            );
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------------------
// One size, built

struct World {
    n: usize,
    source: String,
    bound: Bound,
    /// The table's bytes and the engine, when the compile finished.
    table: Option<(Vec<u8>, Engine, Duration)>,
    fs_reqs: Vec<(String, FsRight)>,
    fs_ref_reqs: Vec<Request>,
    net_reqs: Vec<(Host<'static>, u16)>,
    launch_reqs: Vec<(String, Vec<String>)>,
    glob: GlobEngine,
    cedar: PolicySet,
    cedar_reqs: Vec<(CedarRequest, Entities)>,
}

fn build(n: usize, timeout: Duration) -> World {
    let (source, fs_rules) = generate(n, &skip_kinds());
    let (model, _) = front_end(&source);
    let bound = bind(&model);
    println!(
        "size {n}: {} rules ({} fs), source {} B",
        bound.rules.len(),
        fs_rules.len(),
        source.len()
    );
    let table = compile_in_child(n, timeout).map(|(bytes, elapsed)| {
        let t = Instant::now();
        let engine = Engine::from_bytes(&bytes).expect("load");
        println!(
            "load/{n} (once, cold): {:.2} ms for {} B",
            ms(t.elapsed()),
            bytes.len()
        );
        (bytes, engine, elapsed)
    });
    let fs_reqs = fs_requests(n);
    let fs_ref_reqs = fs_reqs
        .iter()
        .map(|(p, r)| {
            mxc_lang::request::parse_request(&format!("{} {p}", fs_right_word(*r)), false)
                .expect("request")
        })
        .collect();
    let glob = GlobEngine::new(&fs_rules);
    let (cedar, ncedar) = cedar_policies(&fs_rules);
    let cedar_reqs = fs_reqs.iter().map(|(p, r)| cedar_request(p, *r)).collect();
    let w = World {
        n,
        source,
        bound,
        table,
        fs_reqs,
        fs_ref_reqs,
        net_reqs: net_requests(n),
        launch_reqs: launch_requests(n),
        glob,
        cedar,
        cedar_reqs,
    };
    println!("size {n}: {ncedar} Cedar policies (the fs subtree rules); fs requests:");
    for (i, (p, r)) in w.fs_reqs.iter().enumerate() {
        let reference = mxc_lang::interp::decide(&w.bound, &w.fs_ref_reqs[i]);
        let mxc = match &w.table {
            Some((_, engine, _)) => {
                let d = engine.fs(p.as_bytes(), *r);
                assert_eq!(
                    d.effect.as_str(),
                    reference.effect.as_str(),
                    "engine and reference disagree on {p}"
                );
                d.effect.as_str()
            }
            None => "-",
        };
        let (creq, cent) = &w.cedar_reqs[i];
        let cedar = Authorizer::new().is_authorized(creq, &w.cedar, cent);
        println!(
            "  {} {p} ({} B): mxc {mxc}, reference {}, globset {:?}, cedar {:?}",
            r.as_str(),
            p.len(),
            reference.effect.as_str(),
            w.glob.decide(p, fs_right_bit(*r)),
            cedar.decision()
        );
    }
    w
}

// ---------------------------------------------------------------------------------------
// The benchmarks

/// Cycles through `items`, one per iteration.
fn cycle<'a, T>(items: &'a [T]) -> impl FnMut() -> &'a T + 'a {
    let mut i = 0;
    move || {
        i = (i + 1) % items.len();
        &items[i]
    }
}

fn bench_size(c: &mut Criterion, w: &World) {
    let n = w.n;
    let engine = w.table.as_ref().map(|(_, e, _)| e);
    {
        let mut g = c.benchmark_group("fs");
        if let Some(engine) = engine {
            g.bench_function(BenchmarkId::new("mxc", n), |b| {
                let mut next = cycle(&w.fs_reqs);
                b.iter(|| {
                    let (p, r) = next();
                    engine.fs(black_box(p.as_bytes()), *r)
                })
            });
        }
        g.bench_function(BenchmarkId::new("reference", n), |b| {
            let mut next = cycle(&w.fs_ref_reqs);
            b.iter(|| mxc_lang::interp::decide(&w.bound, black_box(next())))
        });
        g.bench_function(BenchmarkId::new("cedar", n), |b| {
            let auth = Authorizer::new();
            let mut next = cycle(&w.cedar_reqs);
            b.iter(|| {
                let (req, ent) = next();
                auth.is_authorized(black_box(req), &w.cedar, ent).decision()
            })
        });
        g.bench_function(BenchmarkId::new("globset", n), |b| {
            let mut next = cycle(&w.fs_reqs);
            b.iter(|| {
                let (p, r) = next();
                w.glob.decide(black_box(p), fs_right_bit(*r))
            })
        });
        g.finish();
    }
    let Some((bytes, engine, compile_time)) = &w.table else {
        return;
    };
    {
        let mut g = c.benchmark_group("net");
        g.bench_function(BenchmarkId::new("mxc", n), |b| {
            let mut next = cycle(&w.net_reqs);
            b.iter(|| {
                let (host, port) = next();
                engine.net(black_box(&NetRequest {
                    right: NetRight::Connect,
                    proto: Proto::Tcp,
                    host: *host,
                    port: *port,
                    program: None,
                }))
            })
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("launch");
        g.bench_function(BenchmarkId::new("mxc", n), |b| {
            let mut next = cycle(&w.launch_reqs);
            b.iter(|| {
                let (prog, args) = next();
                engine.launch(black_box(prog.as_bytes()), black_box(args))
            })
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("load");
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| Engine::from_bytes(black_box(bytes)).expect("load"))
        });
        g.finish();
    }
    if *compile_time < CRITERION_COMPILE_MAX {
        let mut g = c.benchmark_group("compile");
        g.sample_size(10);
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| compile_source(black_box(&w.source)))
        });
        g.finish();
    } else {
        println!(
            "compile/{n}: not under criterion (one compile took {:.1} s, see above)",
            compile_time.as_secs_f64()
        );
    }
}

fn main() {
    if let (Ok(n), Ok(out)) = (
        std::env::var("MXC_BENCH_CHILD_N"),
        std::env::var("MXC_BENCH_CHILD_OUT"),
    ) {
        child(n.parse().expect("MXC_BENCH_CHILD_N"), &out);
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and then each
    // benchmark runs once: keep that quick.
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let sizes = env_list("MXC_BENCH_SIZES").unwrap_or_else(|| {
        if bench_mode {
            SIZES.to_vec()
        } else {
            SIZES[..2].to_vec()
        }
    });
    let timeout = Duration::from_secs(
        env_list("MXC_BENCH_COMPILE_TIMEOUT")
            .and_then(|v| v.first().copied())
            .unwrap_or(600) as u64,
    );
    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    for n in sizes {
        let w = build(n, timeout);
        bench_size(&mut c, &w);
    }
    c.final_summary();
}

//! Decision benchmarks (issue 10, part 4): the compiled engine against its peers, side
//! by side in one run, on the speed workloads of `mxc_lang::mixes` (`bench`,
//! `floating`, `enterprise`) at 1,000 and 10,000 rules; plus table size, load and
//! compile times. Results are recorded in `docs/performance.md`.
//!
//! Run: `cargo bench -p mxc-eval --bench decide` (CI only builds it:
//! `cargo bench -p mxc-eval --no-run`). Without `--bench` (as under
//! `cargo test --benches`) only the 100-rule size runs, each benchmark once.
//!
//! What is timed, per mix and size (criterion ids `SECTION/MIX/ENGINE/N`):
//! - `fs/MIX/mxc/N`: [`Engine::fs`] on the workload's fs requests taken in turn (one
//!   decision per iteration; paths of 40 to 120 bytes: hits, misses, deep paths, paths
//!   under carve-outs);
//! - the fs peers on the same requests: `reference` (the reference interpreter,
//!   `mxc_lang::interp`), `cedar` (Cedar's `is_authorized`, with the fs rules Cedar can
//!   express: literal paths and literal subtrees `PREFIX/**`), `globset` (every fs
//!   pattern in one `GlobSet`, the matches folded by precedence: a naive engine),
//!   `dfa-floor` (the same bytes walked through a dense 256-wide automaton, one state
//!   per byte: the floor a byte-at-a-time walk cannot beat) and `hash` (hashing the
//!   path once: a reference point, not a decision);
//! - `net/MIX/mxc/N`, `launch/MIX/mxc/N`: [`Engine::net`] and [`Engine::launch`];
//! - `load/MIX/N`: [`Engine::from_bytes`] of the table's bytes (one copy into an aligned
//!   buffer); `load-vec/MIX/N`: [`Engine::from_vec`] of a vector holding them (kept and
//!   read in place, the load path of `mxcc run`);
//! - `compile/MIX/N`: source text to table bytes (parse, check without the lints, bind,
//!   compile, serialise), under criterion when one compile takes under a second.
//!
//! The harness uses the engine only through its public API (`Engine::from_bytes`,
//! `fs`, `net`, `launch`), so it measures whatever engine the table format and the
//! compiler produce. The policies are compiled with `mxc-lang` (a dev-dependency).
//! That crate links its own copy of `mxc_eval`, so its `Table` is not this crate's:
//! the table crosses over as bytes, which is the real load path of an embedding
//! runtime. Each (mix, size) is compiled once in a child process (this executable,
//! re-run with `MXC_BENCH_CHILD_*`), so that a compile that takes too long can be
//! stopped: past the timeout only the benchmarks that need no table run.
//!
//! Before timing, every request is decided by the engine and by the reference
//! interpreter, and both must give the decision the workload states
//! (`crates/mxc-lang/tests/workloads.rs` checks the same at smaller sizes).
//!
//! Knobs (environment variables):
//! - `MXC_BENCH_SIZES=1000,10000`: the sizes (default `1000,10000` under `cargo
//!   bench`, `100` otherwise; at least 100);
//! - `MXC_BENCH_MIXES=bench,floating,enterprise`: the mixes (default all three);
//! - `MXC_BENCH_COMPILE_TIMEOUT=SECS`: the longest one compile may take (default 600);
//! - `MXC_BENCH_LINTS=1`: the child also times `check_source` (parse, check, lints);
//! - `MXC_TIMING=1`: the compiler (in the child) prints its phases on stderr.
//!
//! Criterion's filter picks benchmarks as usual, e.g. `-- 'fs/.*/(mxc|dfa-floor)/'`.

use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityUid, Policy, PolicyId, PolicySet,
    Request as CedarRequest,
};
use criterion::{BenchmarkId, Criterion};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use mxc_eval::{Engine, FsRight, Host, NetRequest, Proto};
use mxc_lang::bind::Bound;
use mxc_lang::mixes::{workload, GenRule, SpeedMix, Workload, WORKLOAD_MIN_RULES};
use mxc_lang::pattern::NetProto;
use mxc_lang::request::{HostReq, Request};
use std::collections::{BTreeMap, HashSet};
use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// `compile/MIX/N` runs under criterion only when one compile takes less than this;
/// slower ones are reported from the one timed compile.
const CRITERION_COMPILE_MAX: Duration = Duration::from_secs(1);

const READ: u8 = 1;
const WRITE: u8 = 2;
const CREATE: u8 = 4;
const DELETE: u8 = 8;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Eff {
    Allow,
    Ask,
    Deny,
}

impl Eff {
    fn parse(s: &str) -> Eff {
        match s {
            "allow" => Eff::Allow,
            "ask" => Eff::Ask,
            "deny" => Eff::Deny,
            _ => panic!("effect `{s}`"),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Eff::Allow => "allow",
            Eff::Ask => "ask",
            Eff::Deny => "deny",
        }
    }
}

/// The fs rights of a rule as written (`read, write`, `all`).
fn rights_bits(text: &str) -> u8 {
    text.split(',')
        .map(|w| match w.trim() {
            "read" => READ,
            "write" => WRITE,
            "create" => CREATE,
            "delete" => DELETE,
            "all" => READ | WRITE | CREATE | DELETE,
            w => panic!("fs right `{w}`"),
        })
        .fold(0, |a, b| a | b)
}

fn right_of(bits: u8) -> FsRight {
    match bits {
        READ => FsRight::Read,
        WRITE => FsRight::Write,
        CREATE => FsRight::Create,
        _ => FsRight::Delete,
    }
}

fn right_bit(r: FsRight) -> u8 {
    match r {
        FsRight::Read => READ,
        FsRight::Write => WRITE,
        FsRight::Create => CREATE,
        FsRight::Delete => DELETE,
    }
}

fn fs_rules(w: &Workload) -> Vec<&GenRule> {
    w.rules.iter().filter(|r| r.section == "fs").collect()
}

// ---------------------------------------------------------------------------------------
// The peers

/// A naive engine: every fs pattern in one `GlobSet`; a decision lists the matching
/// globs and folds their effects (SPEC §6), as an engine without a compiler would.
struct GlobEngine {
    set: GlobSet,
    rules: Vec<(Eff, u8)>,
}

impl GlobEngine {
    fn new(rules: &[&GenRule]) -> GlobEngine {
        let mut b = GlobSetBuilder::new();
        for r in rules {
            b.add(
                GlobBuilder::new(&r.target)
                    .literal_separator(true)
                    .build()
                    .expect("glob"),
            );
        }
        GlobEngine {
            set: b.build().expect("globset"),
            rules: rules
                .iter()
                .map(|r| (Eff::parse(r.effect), rights_bits(r.rights)))
                .collect(),
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

fn is_literal(s: &str) -> bool {
    !s.contains(['*', '?', '[', '{'])
}

/// The Cedar translation of the fs rules Cedar can express (as in
/// `crates/mxc-lang/tests/cedar_diff.rs`): a literal path is `resource ==
/// File::"PATH"`, a literal subtree `PREFIX/**` is `resource == File::"PREFIX" ||
/// resource in Dir::"PREFIX"`. Globs, and `ask` (Cedar has no third effect), are left
/// out.
fn cedar_policies(rules: &[&GenRule]) -> (PolicySet, usize) {
    let mut set = PolicySet::new();
    let mut count = 0;
    for (i, r) in rules.iter().enumerate() {
        let cond = match r.target.strip_suffix("/**") {
            Some(p) if is_literal(p) && p.starts_with('/') => {
                format!("resource == File::{p:?} || resource in Dir::{p:?}")
            }
            _ if is_literal(&r.target) && r.target.starts_with('/') => {
                format!("resource == File::{:?}", r.target)
            }
            _ => continue,
        };
        let effect = match r.effect {
            "allow" => "permit",
            "deny" => "forbid",
            _ => continue,
        };
        let bits = rights_bits(r.rights);
        let actions: Vec<String> = [READ, WRITE, CREATE, DELETE]
            .iter()
            .filter(|b| bits & **b != 0)
            .map(|b| format!("Action::{:?}", right_of(*b).as_str()))
            .collect();
        let text = format!(
            "{effect}(principal == Agent::\"bench\", action in [{}], resource) when {{ {cond} }};",
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
        cedar_uid("Action", right.as_str()),
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

/// The floor: a dense automaton with one state per byte of the requests (a trie of
/// the paths), 256 `u32` successors per state, walked one dependent load per byte; the
/// accepting value of the last state is the answer. No engine that steps byte by byte
/// through a table does less per byte.
struct ByteFloor {
    next: Vec<u32>,
    accept: Vec<u8>,
}

impl ByteFloor {
    fn new(paths: &[&str]) -> ByteFloor {
        // State 0 is the dead state (every byte loops), state 1 the start.
        let mut f = ByteFloor {
            next: vec![0; 2 * 256],
            accept: vec![0; 2],
        };
        for (k, p) in paths.iter().enumerate() {
            let mut s = 1usize;
            for &b in p.as_bytes() {
                let t = f.next[s * 256 + b as usize] as usize;
                s = if t != 0 {
                    t
                } else {
                    let t = f.accept.len();
                    f.accept.push(0);
                    f.next.extend_from_slice(&[0; 256]);
                    f.next[s * 256 + b as usize] = t as u32;
                    t
                };
            }
            f.accept[s] = (k % 3) as u8 + 1;
        }
        f
    }

    fn states(&self) -> usize {
        self.accept.len()
    }

    #[inline(never)]
    fn walk(&self, path: &[u8]) -> u8 {
        let mut s = 1usize;
        for &b in path {
            s = self.next[s * 256 + b as usize] as usize;
        }
        self.accept[s]
    }
}

/// Hashes the path once (FxHash's mixing over 8-byte words).
#[inline(never)]
fn hash_path(path: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = 0u64;
    let mut chunks = path.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    for &b in chunks.remainder() {
        h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
    }
    h
}

// ---------------------------------------------------------------------------------------
// Compiling (in a child process)

fn env_list(name: &str) -> Option<Vec<String>> {
    let v = std::env::var(name).ok()?;
    Some(
        v.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    )
}

fn env_numbers(name: &str) -> Option<Vec<usize>> {
    Some(
        env_list(name)?
            .iter()
            .map(|s| {
                s.parse()
                    .unwrap_or_else(|_| panic!("{name}: bad number `{s}`"))
            })
            .collect(),
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Parses and checks one source, without the lints (`check_source` runs them too).
fn front_end(source: &str) -> mxc_lang::Program {
    let prog = mxc_lang::check_source_without_lints("gen.mxc", source);
    assert!(!prog.diags.has_errors(), "{:?}", prog.diags);
    prog
}

fn bind(prog: &mxc_lang::Program) -> Bound {
    mxc_lang::bind::bind(&prog.model, "gen", &BTreeMap::new(), false).expect("bind")
}

/// Source text to table bytes: parse, check, bind, compile, serialise.
fn compile_source(source: &str) -> Vec<u8> {
    let prog = front_end(source);
    mxc_lang::compile::compile_bound(&bind(&prog), &prog.sources)
        .expect("compile")
        .to_bytes()
}

/// The child: compiles the workload once, phase by phase, prints the times and writes
/// the table's bytes to `out`.
fn child(mix: SpeedMix, n: usize, out: &str) {
    let w = workload(mix, n);
    let t = Instant::now();
    let prog = front_end(&w.source);
    let t_front = t.elapsed();
    let t = Instant::now();
    let bound = bind(&prog);
    let t_bind = t.elapsed();
    let t = Instant::now();
    let table = mxc_lang::compile::compile_bound(&bound, &prog.sources).expect("compile");
    let t_compile = t.elapsed();
    let t = Instant::now();
    let bytes = table.to_bytes();
    let t_ser = t.elapsed();
    let total = t_front + t_bind + t_compile + t_ser;
    let m = mix.name();
    println!(
        "compile/{m}/{n} (once, cold): {:.1} ms = parse+check {:.1} ms + bind {:.1} ms + compile {:.1} ms + to_bytes {:.2} ms",
        ms(total),
        ms(t_front),
        ms(t_bind),
        ms(t_compile),
        ms(t_ser)
    );
    std::fs::write(out, &bytes).expect("write table");
    if std::env::var_os("MXC_BENCH_LINTS").is_some() {
        let t = Instant::now();
        let prog = mxc_lang::check_source("gen.mxc", &w.source);
        println!(
            "check_source/{m}/{n} (parse, check and lints, once): {:.1} ms, {} diagnostics",
            ms(t.elapsed()),
            prog.diags.len()
        );
    }
}

/// Compiles the workload in a child process; `None` when it did not finish in
/// `timeout`.
fn compile_in_child(mix: SpeedMix, n: usize, timeout: Duration) -> Option<(Vec<u8>, Duration)> {
    let out: PathBuf = std::env::temp_dir().join(format!(
        "mxc-bench-{}-{}-{n}.mxcb",
        std::process::id(),
        mix.name()
    ));
    let exe = std::env::current_exe().expect("current exe");
    let t = Instant::now();
    let mut child = Command::new(exe)
        .env("MXC_BENCH_CHILD_MIX", mix.name())
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
                "compile/{}/{n} (once): did not finish in {} s; stopped. Only the benchmarks that need no table run.",
                mix.name(),
                timeout.as_secs()
            );
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------------------
// One workload, built

struct World {
    mix: SpeedMix,
    n: usize,
    source: String,
    bound: Bound,
    /// The table's bytes and the engine, when the compile finished.
    table: Option<(Vec<u8>, Engine, Duration)>,
    fs_reqs: Vec<(String, FsRight)>,
    fs_ref_reqs: Vec<Request>,
    net_reqs: Vec<NetRequest<'static>>,
    launch_reqs: Vec<(String, Vec<String>)>,
    glob: GlobEngine,
    cedar: PolicySet,
    cedar_reqs: Vec<(CedarRequest, Entities)>,
    floor: ByteFloor,
}

fn parse(request: &str) -> Request {
    mxc_lang::request::parse_request(request, false).unwrap_or_else(|m| panic!("`{request}`: {m}"))
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

fn net_request(r: &Request) -> NetRequest<'static> {
    let Request::Net {
        right,
        proto,
        host,
        port,
        program,
    } = r
    else {
        panic!("not a net request: {r}")
    };
    NetRequest {
        right: *right,
        proto: match proto {
            NetProto::Tcp => Proto::Tcp,
            NetProto::Udp => Proto::Udp,
        },
        host: match host {
            HostReq::Name(n) => Host::Name(leak(n)),
            HostReq::V4(a) => Host::V4(*a),
            HostReq::V6(a) => Host::V6(*a),
        },
        port: *port,
        program: program.as_deref().map(|p| leak(p).as_bytes()),
    }
}

fn build(mix: SpeedMix, n: usize, timeout: Duration) -> World {
    let w = workload(mix, n);
    let m = mix.name();
    let prog = front_end(&w.source);
    let bound = bind(&prog);
    let fs = fs_rules(&w);
    println!(
        "{m}/{n}: {} rules ({} fs, {} net, {} app), source {} B",
        bound.rules.len(),
        fs.len(),
        w.rules.iter().filter(|r| r.section == "net").count(),
        w.rules.iter().filter(|r| r.section == "app").count(),
        w.source.len()
    );
    let table = compile_in_child(mix, n, timeout).map(|(bytes, elapsed)| {
        // The first load of this table in the process, as a runtime loads a file it
        // read (`mxcc run`: `Engine::from_vec` of the vector, no copy); then the
        // copying load of a borrowed slice (`Engine::from_bytes`: one copy into an
        // aligned buffer), the first time for this table's bytes (the code is warm).
        let owned = bytes.clone();
        let t = Instant::now();
        let engine = Engine::from_vec(owned).expect("load");
        let load = t.elapsed();
        let t = Instant::now();
        let copied = Engine::from_bytes(&bytes).expect("load");
        let load_copy = t.elapsed();
        drop(copied);
        println!(
            "table/{m}/{n}: {} B, {:.3} MiB per 1,000 rules; load (once, cold) {:.2} ms \
             from_vec, then {:.2} ms from_bytes",
            bytes.len(),
            bytes.len() as f64 / n as f64 * 1000.0 / 1_048_576.0,
            ms(load),
            ms(load_copy)
        );
        (bytes, engine, elapsed)
    });
    let fs_ref_reqs: Vec<Request> = w.fs.iter().map(|p| parse(&p.request)).collect();
    let fs_reqs: Vec<(String, FsRight)> = fs_ref_reqs
        .iter()
        .map(|r| match r {
            Request::Fs { right, path } => (path.clone(), *right),
            r => panic!("not an fs request: {r}"),
        })
        .collect();
    let glob = GlobEngine::new(&fs);
    let (cedar, ncedar) = cedar_policies(&fs);
    let cedar_reqs = fs_reqs.iter().map(|(p, r)| cedar_request(p, *r)).collect();
    let floor = ByteFloor::new(&fs_reqs.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>());
    let net_ref: Vec<Request> = w.net.iter().map(|p| parse(&p.request)).collect();
    let launch_ref: Vec<Request> = w.launch.iter().map(|p| parse(&p.request)).collect();
    let world = World {
        mix,
        n,
        source: w.source.clone(),
        bound,
        table,
        fs_reqs,
        fs_ref_reqs,
        net_reqs: net_ref.iter().map(net_request).collect(),
        launch_reqs: launch_ref
            .iter()
            .map(|r| match r {
                Request::Launch { program, args } => (program.clone(), args.clone()),
                r => panic!("not a launch request: {r}"),
            })
            .collect(),
        glob,
        cedar,
        cedar_reqs,
        floor,
    };
    let engine = world.table.as_ref().map(|(_, e, _)| e);
    // Every request: the engine and the reference interpreter give the stated decision.
    let check = |req: &Request, expect: &str, mxc: Option<&str>| {
        let reference = mxc_lang::interp::decide(&world.bound, req);
        assert_eq!(reference.effect.as_str(), expect, "reference on `{req}`");
        if let Some(mxc) = mxc {
            assert_eq!(mxc, expect, "engine on `{req}`");
        }
    };
    println!(
        "{m}/{n}: {ncedar} Cedar policies (the literal fs rules); floor automaton {} states; fs requests:",
        world.floor.states()
    );
    let (mut glob_agree, mut cedar_agree) = (0, 0);
    for (i, (p, r)) in world.fs_reqs.iter().enumerate() {
        let probe = &w.fs[i];
        let mxc = engine.map(|e| e.fs(p.as_bytes(), *r).effect.as_str());
        check(&world.fs_ref_reqs[i], probe.expect, mxc);
        let g = world.glob.decide(p, right_bit(*r));
        let (creq, cent) = &world.cedar_reqs[i];
        let c = match Authorizer::new()
            .is_authorized(creq, &world.cedar, cent)
            .decision()
        {
            cedar_policy::Decision::Allow => Eff::Allow,
            cedar_policy::Decision::Deny => Eff::Deny,
        };
        glob_agree += usize::from(g.as_str() == probe.expect);
        cedar_agree += usize::from(c.as_str() == probe.expect);
        println!(
            "  {} {p} ({} B, {}): mxc {}, globset {}, cedar {}",
            r.as_str(),
            p.len(),
            probe.what,
            mxc.unwrap_or("-"),
            g.as_str(),
            c.as_str()
        );
    }
    println!(
        "{m}/{n}: of {} fs requests, globset decides {glob_agree} and Cedar {cedar_agree} as MXC does",
        w.fs.len()
    );
    for (i, req) in net_ref.iter().enumerate() {
        let mxc = engine.map(|e| e.net(&world.net_reqs[i]).effect.as_str());
        check(req, w.net[i].expect, mxc);
    }
    for (i, req) in launch_ref.iter().enumerate() {
        let (prog, args) = &world.launch_reqs[i];
        let mxc = engine.map(|e| e.launch(prog.as_bytes(), args).effect.as_str());
        check(req, w.launch[i].expect, mxc);
    }
    world
}

// ---------------------------------------------------------------------------------------
// The benchmarks

/// Cycles through `items`, one per iteration (a compare, not a division: `%` by the
/// length cost every engine a few nanoseconds of harness, measured as the `hash` peer).
fn cycle<'a, T>(items: &'a [T]) -> impl FnMut() -> &'a T + 'a {
    let mut i = 0;
    move || {
        i += 1;
        if i >= items.len() {
            i = 0;
        }
        &items[i]
    }
}

fn bench_world(c: &mut Criterion, w: &World) {
    let (m, n) = (w.mix.name(), w.n);
    let engine = w.table.as_ref().map(|(_, e, _)| e);
    {
        let mut g = c.benchmark_group(format!("fs/{m}"));
        if let Some(engine) = engine {
            g.bench_function(BenchmarkId::new("mxc", n), |b| {
                let mut next = cycle(&w.fs_reqs);
                b.iter(|| {
                    let (p, r) = next();
                    engine.fs(black_box(p.as_bytes()), *r)
                })
            });
        }
        g.bench_function(BenchmarkId::new("dfa-floor", n), |b| {
            let mut next = cycle(&w.fs_reqs);
            b.iter(|| w.floor.walk(black_box(next().0.as_bytes())))
        });
        g.bench_function(BenchmarkId::new("hash", n), |b| {
            let mut next = cycle(&w.fs_reqs);
            b.iter(|| hash_path(black_box(next().0.as_bytes())))
        });
        g.bench_function(BenchmarkId::new("globset", n), |b| {
            let mut next = cycle(&w.fs_reqs);
            b.iter(|| {
                let (p, r) = next();
                w.glob.decide(black_box(p), right_bit(*r))
            })
        });
        g.bench_function(BenchmarkId::new("cedar", n), |b| {
            let auth = Authorizer::new();
            let mut next = cycle(&w.cedar_reqs);
            b.iter(|| {
                let (req, ent) = next();
                auth.is_authorized(black_box(req), &w.cedar, ent).decision()
            })
        });
        g.bench_function(BenchmarkId::new("reference", n), |b| {
            let mut next = cycle(&w.fs_ref_reqs);
            b.iter(|| mxc_lang::interp::decide(&w.bound, black_box(next())))
        });
        g.finish();
    }
    let Some((bytes, engine, compile_time)) = &w.table else {
        return;
    };
    {
        let mut g = c.benchmark_group(format!("net/{m}"));
        g.bench_function(BenchmarkId::new("mxc", n), |b| {
            let mut next = cycle(&w.net_reqs);
            b.iter(|| engine.net(black_box(next())))
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group(format!("launch/{m}"));
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
        let mut g = c.benchmark_group(format!("load/{m}"));
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| Engine::from_bytes(black_box(bytes)).expect("load"))
        });
        g.finish();
        // The owning load: the vector (a fresh copy of the file's bytes, made outside
        // the timing) is kept and read in place.
        let mut g = c.benchmark_group(format!("load-vec/{m}"));
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter_batched(
                || bytes.clone(),
                |v| Engine::from_vec(black_box(v)).expect("load"),
                criterion::BatchSize::LargeInput,
            )
        });
        g.finish();
    }
    if *compile_time < CRITERION_COMPILE_MAX {
        let mut g = c.benchmark_group(format!("compile/{m}"));
        g.sample_size(10);
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| compile_source(black_box(&w.source)))
        });
        g.finish();
    } else {
        println!(
            "compile/{m}/{n}: not under criterion (one compile took {:.1} s, see above)",
            compile_time.as_secs_f64()
        );
    }
}

fn main() {
    if let (Ok(n), Ok(out)) = (
        std::env::var("MXC_BENCH_CHILD_N"),
        std::env::var("MXC_BENCH_CHILD_OUT"),
    ) {
        // The mix defaults to `bench` (`examples/walk.rs` reads that table).
        let mix = std::env::var("MXC_BENCH_CHILD_MIX").unwrap_or_else(|_| "bench".into());
        let mix = SpeedMix::from_name(&mix).expect("MXC_BENCH_CHILD_MIX");
        child(mix, n.parse().expect("MXC_BENCH_CHILD_N"), &out);
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and then each
    // benchmark runs once: keep that quick.
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let sizes = env_numbers("MXC_BENCH_SIZES").unwrap_or_else(|| {
        if bench_mode {
            vec![1_000, 10_000]
        } else {
            vec![WORKLOAD_MIN_RULES]
        }
    });
    for &n in &sizes {
        assert!(
            n >= WORKLOAD_MIN_RULES,
            "MXC_BENCH_SIZES: {n} rules, at least {WORKLOAD_MIN_RULES}"
        );
    }
    let mixes: Vec<SpeedMix> = match env_list("MXC_BENCH_MIXES") {
        Some(names) => names
            .iter()
            .map(|s| {
                SpeedMix::from_name(s).unwrap_or_else(|| {
                    panic!("MXC_BENCH_MIXES: unknown mix `{s}` (bench, floating, enterprise)")
                })
            })
            .collect(),
        None => SpeedMix::ALL.to_vec(),
    };
    let timeout = Duration::from_secs(
        env_numbers("MXC_BENCH_COMPILE_TIMEOUT")
            .and_then(|v| v.first().copied())
            .unwrap_or(600) as u64,
    );
    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    for n in sizes {
        for &mix in &mixes {
            let w = build(mix, n, timeout);
            bench_world(&mut c, &w);
        }
    }
    c.final_summary();
}

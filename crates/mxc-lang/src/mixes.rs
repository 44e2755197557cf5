//! Generated policies of `n` rules in the mixes that have made compilers explode, for
//! the growth tests (`tests/growth.rs`) and the benches: each is an ordinary policy a
//! security team could write, scaled up.
//!
//! Every mix defines `policy gen` and `agent gen` (default deny), and uses no parameter.

/// A mix of rules (see [`generate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mix {
    /// The bench mix (`crates/mxc-eval/benches/decide.rs`): project trees with
    /// carve-outs, `**/*.extN` asks, globs in build directories, documentation trees,
    /// 20% net and 10% app rules.
    Bench,
    /// Rooted trees plus floating `**/dirI/*.extJ` patterns (a directory name and an
    /// extension), one rule in eight.
    Floating,
    /// `allow launch "/usr/bin/*"` and `deny launch "**/NAME"` for `n - 1` program
    /// names: a deny list of programs wherever they are installed.
    LaunchDenyList,
    /// Rules with several alternatives each (`/srv/{a,b,c}I/{src,lib}/*.{rs,toml,md}`).
    Alternatives,
    /// An enterprise baseline (system directories readable, credential stores denied)
    /// plus per-team project trees with carve-outs, `**/.env`, `**/node_modules/**`
    /// and `**/.git/hooks/**`.
    Enterprise,
}

impl Mix {
    pub const ALL: [Mix; 5] = [
        Mix::Bench,
        Mix::Floating,
        Mix::LaunchDenyList,
        Mix::Alternatives,
        Mix::Enterprise,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mix::Bench => "bench",
            Mix::Floating => "floating",
            Mix::LaunchDenyList => "launch-deny-list",
            Mix::Alternatives => "alternatives",
            Mix::Enterprise => "enterprise",
        }
    }
}

/// The source of a policy of `n` rules of `mix`.
pub fn generate(mix: Mix, n: usize) -> String {
    policy_text(&rules(mix, n))
}

/// The rules of [`generate`], in order.
fn rules(mix: Mix, n: usize) -> Vec<GenRule> {
    let fs = |effect, rights, target| gen_rule("fs", effect, rights, target);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(match mix {
            Mix::Bench => match i % 10 {
                0..=2 => fs(
                    "allow",
                    "read, write, create",
                    format!("/home/u/proj{i}/**"),
                ),
                3 => fs("deny", "all", format!("/home/u/proj{}/secret/**", i - 1)),
                4 => fs("ask", "write, create", format!("**/*.ext{i}")),
                5 => fs(
                    "allow",
                    "read",
                    format!("/home/u/proj{}/build/*.o{i}", i - 3),
                ),
                6 => fs("allow", "read", format!("/usr/share/doc{i}/**")),
                7 => gen_rule("net", "allow", "connect", format!("svc{i}.example.com:443")),
                8 => gen_rule(
                    "net",
                    "allow",
                    "connect",
                    format!("api{i}.internal.net:8000-8999"),
                ),
                _ => gen_rule("app", "allow", "launch", format!("/usr/bin/tool{i}")),
            },
            Mix::Floating => match i % 8 {
                0 => fs(
                    "deny",
                    "read",
                    format!(
                        "**/{}{i}/*.{}",
                        ["data", "logs", "cache", "tmp"][i / 8 % 4],
                        ["yaml", "txt", "json", "csv", "log"][i / 32 % 5]
                    ),
                ),
                1 | 2 => fs("allow", "read, write", format!("/srv/team{i}/**")),
                3 => fs("deny", "write", format!("/srv/team{}/secret/**", i - 2)),
                4 => fs("allow", "read", format!("/opt/app{i}/lib/*.so")),
                5 => fs("ask", "write", format!("/var/lib/svc{i}/**")),
                6 => fs("allow", "read", format!("/usr/share/doc{i}/**")),
                _ => fs("allow", "create", format!("/tmp/job{i}/*")),
            },
            Mix::LaunchDenyList => {
                if i == 0 {
                    gen_rule("app", "allow", "launch", "/usr/bin/*".to_string())
                } else {
                    gen_rule("app", "deny", "launch", format!("**/prog{i}"))
                }
            }
            Mix::Alternatives => match i % 4 {
                0 => fs(
                    "allow",
                    "read",
                    format!("/srv/{{a,b,c}}{i}/{{src,lib}}/*.{{rs,toml,md}}"),
                ),
                1 => fs(
                    "deny",
                    "write",
                    format!("/srv/{{a,b}}{}/{{src,lib}}/{{*.lock,.env*}}", i - 1),
                ),
                2 => gen_rule(
                    "app",
                    "allow",
                    "launch",
                    format!("/opt/{{bin,sbin}}/{{tool,helper}}{i}"),
                ),
                _ => fs(
                    "ask",
                    "create",
                    format!("/home/u/{{docs,notes}}{i}/{{*.md,*.txt}}"),
                ),
            },
            Mix::Enterprise => {
                const BASE: &[(&str, &str, &str)] = &[
                    ("allow", "read", "/usr/**"),
                    ("allow", "read", "/etc/**"),
                    ("deny", "read", "/etc/shadow"),
                    ("deny", "all", "/home/*/.ssh/**"),
                    ("deny", "all", "/home/*/.aws/**"),
                    ("deny", "read, write", "**/.env"),
                    ("deny", "write, create", "**/.git/hooks/**"),
                    ("allow", "read, write, create, delete", "/tmp/**"),
                    ("ask", "write", "**/node_modules/**"),
                ];
                if let Some(&(effect, rights, target)) = BASE.get(i) {
                    fs(effect, rights, target.to_string())
                } else {
                    let team = i / 6;
                    match i % 6 {
                        0 => fs(
                            "allow",
                            "read, write, create",
                            format!("/home/team{team}/projects/**"),
                        ),
                        1 => fs(
                            "deny",
                            "write",
                            format!("/home/team{team}/projects/release/**"),
                        ),
                        2 => fs(
                            "deny",
                            "read",
                            format!("/home/team{team}/projects/*/secrets/**"),
                        ),
                        3 => fs("allow", "read", format!("/srv/shared/team{team}/**")),
                        4 => fs("ask", "delete", format!("/home/team{team}/projects/*/*.db")),
                        _ => gen_rule(
                            "net",
                            "allow",
                            "connect",
                            format!("git.team{team}.corp.example:443"),
                        ),
                    }
                }
            }
        });
    }
    out
}

/// The policy `gen` of `rules` (one section a rule, in order) and `agent gen` (default
/// deny, process isolation), printed by mxc-syntax's printer from a tree built with
/// [`mxc_syntax::gen`]: the text reads back as exactly these rules.
fn policy_text(rules: &[GenRule]) -> String {
    use crate::ast::{Effect, Modifier, Rule, SectionKind, StrLit};
    use mxc_syntax::gen;
    let sections = rules
        .iter()
        .map(|r| {
            let kind = match r.section {
                "fs" => SectionKind::Fs,
                "net" => SectionKind::Net,
                _ => SectionKind::App,
            };
            let effect = match r.effect {
                "allow" => Effect::Allow,
                "ask" => Effect::Ask,
                _ => Effect::Deny,
            };
            let rights: Vec<&str> = r.rights.split(", ").collect();
            let mut rule = gen::rule(effect, &rights, &[r.target.as_str()], None);
            if let (Some(args), Rule::Ok(node)) = (&r.args, &mut rule) {
                node.modifiers.push(Modifier::Args {
                    kw: Default::default(),
                    glob: StrLit {
                        value: args.clone(),
                        span: Default::default(),
                        verbatim: false,
                    },
                });
            }
            gen::section(kind, vec![rule])
        })
        .collect();
    gen::items(vec![
        gen::policy("gen", sections),
        gen::agent("gen", "process", &["gen"]),
    ])
}

// ---------------------------------------------------------------------------------------
// Speed workloads (issue 10, part 4): a policy plus the requests the benches decide on it.
//
// Kept apart from [`Mix`] and [`generate`] on purpose: these policies carry net and app
// rules in every mix (the benches time all three sections on each), and their requests
// are written against the rules they hit, so changing one means changing the other.

/// A mix of the speed benches (`crates/mxc-eval/benches/decide.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpeedMix {
    /// The benchmark mix of issues 2 and 3, unchanged: project trees with carve-outs,
    /// `**/*.extN` asks, globs in build directories, documentation trees; 20% net rules
    /// (names, `*.suffix`, CIDR denies, port ranges), 10% app rules (plain, `args`
    /// allows, `args` denies). [`Mix::Bench`] is the same mix with simpler net and app
    /// rules.
    Bench,
    /// Team trees with carve-outs and library globs, and one rule in five a floating
    /// `**/dirI/*.extJ` pattern (200 at 1,000 rules, 2,000 at 10,000); 10% net and 10%
    /// app rules.
    Floating,
    /// An enterprise policy: a baseline like `examples/common/baseline.mxc` (system
    /// trees readable, credential stores of every home denied, `**/.env`,
    /// `**/node_modules/**`, `**/.git/hooks/**`, `**/.vscode/**`, a launch deny list)
    /// and then, per team of ten rules, a project tree with carve-outs (`release/**`,
    /// `*/secrets/**`, `*/*.db`), a shared tree with a carve-out, a cache, two net rules
    /// and an app rule.
    Enterprise,
}

impl SpeedMix {
    pub const ALL: [SpeedMix; 3] = [SpeedMix::Bench, SpeedMix::Floating, SpeedMix::Enterprise];

    pub fn name(self) -> &'static str {
        match self {
            SpeedMix::Bench => "bench",
            SpeedMix::Floating => "floating",
            SpeedMix::Enterprise => "enterprise",
        }
    }

    pub fn from_name(s: &str) -> Option<SpeedMix> {
        SpeedMix::ALL.into_iter().find(|m| m.name() == s)
    }
}

/// One generated rule, as written in the policy: `{section} {{ {effect} {rights}
/// "{target}" [args "{args}"] }}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenRule {
    /// `fs`, `net` or `app`.
    pub section: &'static str,
    /// `allow`, `ask` or `deny`.
    pub effect: &'static str,
    /// The rights as written (`read, write`, `all`, `connect`, `launch`).
    pub rights: &'static str,
    pub target: String,
    pub args: Option<String>,
}

/// A request of a workload and the decision it must get.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// In the syntax of `mxcc query` (SPEC §10): `read /path`, `connect host:port`,
    /// `launch /prog arg...`.
    pub request: String,
    /// `allow`, `ask` or `deny`, as the reference interpreter decides it.
    pub expect: &'static str,
    /// What the request exercises (`subtree hit`, `carve-out`, `miss`, ...).
    pub what: &'static str,
}

/// A policy of `n` rules and the requests the benches decide on it.
#[derive(Clone, Debug)]
pub struct Workload {
    pub mix: SpeedMix,
    pub n: usize,
    /// All rules, in the order of the source.
    pub rules: Vec<GenRule>,
    /// The policy: `policy gen { ... }` and `agent gen { use gen }` (default deny).
    pub source: String,
    /// fs requests, every path 40 to 120 bytes: hits, misses, deep paths, carve-outs.
    pub fs: Vec<Probe>,
    /// net requests: names, `*.suffix` hits, addresses, port ranges, misses.
    pub net: Vec<Probe>,
    /// launch requests: plain hits, `args` hits and denies, misses.
    pub launch: Vec<Probe>,
}

/// The smallest `n` every [`workload`] is defined for (its requests hit rules that
/// exist).
pub const WORKLOAD_MIN_RULES: usize = 100;

/// The workload of `mix` at `n` rules (`n >= WORKLOAD_MIN_RULES`). Its requests are
/// drawn from the middle of the policy, so that they name rules of every size.
pub fn workload(mix: SpeedMix, n: usize) -> Workload {
    assert!(
        n >= WORKLOAD_MIN_RULES,
        "workload: {n} rules, at least {WORKLOAD_MIN_RULES}"
    );
    let mut w = Workload {
        mix,
        n,
        rules: Vec::with_capacity(n),
        source: String::new(),
        fs: Vec::new(),
        net: Vec::new(),
        launch: Vec::new(),
    };
    match mix {
        SpeedMix::Bench => bench_workload(&mut w),
        SpeedMix::Floating => floating_workload(&mut w),
        SpeedMix::Enterprise => enterprise_workload(&mut w),
    }
    assert_eq!(w.rules.len(), n, "{} rules", mix.name());
    w.source = policy_text(&w.rules);
    w
}

fn gen_rule(
    section: &'static str,
    effect: &'static str,
    rights: &'static str,
    target: String,
) -> GenRule {
    GenRule {
        section,
        effect,
        rights,
        target,
        args: None,
    }
}

fn gen_args(mut r: GenRule, args: &str) -> GenRule {
    r.args = Some(args.to_string());
    r
}

/// `prefix`, a component of `x`s, then `suffix`, `len` bytes in all (`prefix` ends
/// and `suffix` starts with `/`); exactly `prefix + suffix` when that is longer.
fn fit(prefix: &str, suffix: &str, len: usize) -> String {
    let pad = len.saturating_sub(prefix.len() + suffix.len()).max(1);
    format!("{prefix}{}{suffix}", "x".repeat(pad))
}

fn probe(request: String, expect: &'static str, what: &'static str) -> Probe {
    Probe {
        request,
        expect,
        what,
    }
}

/// The decade in the middle of the policy, rounded down to a multiple of `m`.
fn middle(n: usize, m: usize) -> usize {
    (n / 2) / m * m
}

/// The app rule of rule `i` of the bench and floating workloads: a plain allow, an
/// `args` allow, or an `args` deny of the tool ten rules back, in turn per decade.
fn workload_app(i: usize) -> GenRule {
    match (i / 10) % 3 {
        0 => gen_rule("app", "allow", "launch", format!("/usr/bin/tool{i}")),
        1 => gen_args(
            gen_rule("app", "allow", "launch", format!("/opt/bin/prog{i}")),
            "run *",
        ),
        _ => gen_args(
            gen_rule(
                "app",
                "deny",
                "launch",
                format!("/usr/bin/tool{}", i.saturating_sub(10)),
            ),
            "*--force*",
        ),
    }
}

fn bench_workload(w: &mut Workload) {
    let n = w.n;
    for i in 0..n {
        w.rules.push(match i % 10 {
            0..=2 => gen_rule(
                "fs",
                "allow",
                "read, write, create",
                format!("/home/u/proj{i}/**"),
            ),
            3 => gen_rule(
                "fs",
                "deny",
                "all",
                format!("/home/u/proj{}/secret/**", i - 1),
            ),
            4 => gen_rule("fs", "ask", "write, create", format!("**/*.ext{i}")),
            5 => gen_rule(
                "fs",
                "allow",
                "read",
                format!("/home/u/proj{}/build/*.o{i}", i - 3),
            ),
            6 => gen_rule("fs", "allow", "read", format!("/usr/share/doc{i}/**")),
            7 => match (i / 10) % 3 {
                0 => gen_rule("net", "allow", "connect", format!("svc{i}.example.com:443")),
                1 => gen_rule("net", "allow", "connect", format!("*.domain{i}.org")),
                _ => gen_rule(
                    "net",
                    "deny",
                    "connect",
                    format!("10.{}.{}.0/24", (i / 256) % 256, i % 256),
                ),
            },
            8 => gen_rule(
                "net",
                "allow",
                "connect",
                format!("api{i}.internal.net:8000-8999"),
            ),
            _ => workload_app(i),
        });
    }
    // The eight 60-byte paths of the issue-3 benchmark, then longer and shorter ones.
    let d = middle(n, 10);
    let fs = &mut w.fs;
    let mut f = |right: &str, path: String, expect, what| {
        fs.push(probe(format!("{right} {path}"), expect, what))
    };
    f(
        "read",
        fit(
            &format!("/home/u/proj{d}/src/components/"),
            "/button.rs",
            60,
        ),
        "allow",
        "subtree hit",
    );
    f(
        "write",
        fit(
            &format!("/home/u/proj{}/src/components/", d + 1),
            "/button.rs",
            60,
        ),
        "allow",
        "subtree hit",
    );
    f(
        "read",
        fit(
            &format!("/home/u/proj{}/secret/keys/", d + 2),
            "/id_ed25519",
            60,
        ),
        "deny",
        "carve-out",
    );
    f(
        "write",
        fit(
            &format!("/home/u/proj{d}/src/generated/"),
            &format!("/out.ext{}", d + 4),
            60,
        ),
        "ask",
        "**/*.ext hit",
    );
    f(
        "read",
        fit(
            &format!("/home/u/proj{}/build/", d + 2),
            &format!("module.o{}", d + 5),
            60,
        ),
        "allow",
        "build/*.o hit",
    );
    f(
        "read",
        fit(&format!("/usr/share/doc{}/", d + 6), "/README.md", 60),
        "allow",
        "subtree hit",
    );
    f(
        "read",
        fit("/var/lib/postgresql/16/main/base/", "/pg_internal.init", 60),
        "deny",
        "miss",
    );
    f(
        "read",
        fit(
            &format!("/home/u/proj{}/src/components/", n + 7),
            "/button.rs",
            60,
        ),
        "deny",
        "miss (no such project)",
    );
    f(
        "read",
        fit(
            &format!("/home/u/proj{d}/src/components/widgets/forms/inputs/text/"),
            "/validation/rules/max_length.rs",
            110,
        ),
        "allow",
        "deep subtree hit",
    );
    f(
        "write",
        fit(
            &format!("/home/u/proj{}/secret/keys/prod/eu-west-1/database/", d + 2),
            "/replica-03/tls/server.key",
            105,
        ),
        "deny",
        "deep carve-out",
    );
    f(
        "create",
        fit(
            &format!("/home/u/proj{}/node/packages/core/dist/esm/", d + 1),
            &format!("/chunk-4f2a.ext{}", d + 14),
            90,
        ),
        "ask",
        "deep **/*.ext hit",
    );
    f(
        "read",
        fit(&format!("/usr/share/doc{}/", d + 16), "/copyright", 42),
        "allow",
        "short subtree hit",
    );
    f(
        "read",
        fit(
            "/var/cache/apt/archives/partial/",
            "/linux-image-6.18.0-1-amd64-unsigned_6.18.3-1_amd64.deb",
            118,
        ),
        "deny",
        "long miss",
    );
    f(
        "write",
        fit(
            &format!("/home/u/proj{}/build/", d + 2),
            &format!("module.o{}", d + 5),
            48,
        ),
        "allow",
        "write beside a read-only glob",
    );
    // Net: a name hit, a `*.domain` hit, a CIDR deny, a port-range hit, misses.
    let d = middle(n, 30); // (i / 10) % 3 == 0 at i = d + 7
    let cidr = d + 27; // (i / 10) % 3 == 2
    w.net = vec![
        probe(
            format!("connect svc{}.example.com:443", d + 7),
            "allow",
            "name hit",
        ),
        probe(
            format!("connect cdn.eu.domain{}.org:443", d + 17),
            "allow",
            "*.suffix hit",
        ),
        probe(
            format!("connect 10.{}.{}.5:5432", (cidr / 256) % 256, cidr % 256),
            "deny",
            "CIDR deny",
        ),
        probe(
            format!("connect api{}.internal.net:8443", d + 8),
            "allow",
            "port-range hit",
        ),
        probe(
            "connect www.unknown-site.com:443".into(),
            "deny",
            "name miss",
        ),
        probe("connect 192.168.1.1:80".into(), "deny", "address miss"),
    ];
    w.launch = vec![
        probe(
            format!("launch /usr/bin/tool{} --version", d + 9),
            "allow",
            "plain hit",
        ),
        probe(
            format!("launch /opt/bin/prog{} run build --release", d + 19),
            "allow",
            "args hit",
        ),
        probe(
            format!("launch /usr/bin/tool{} push --force origin", d + 19),
            "deny",
            "args deny",
        ),
        probe("launch /bin/rm -rf /tmp/x".into(), "deny", "miss"),
    ];
}

const FLOAT_DIRS: [&str; 4] = ["data", "logs", "cache", "tmp"];
const FLOAT_EXTS: [&str; 5] = ["yaml", "txt", "json", "csv", "log"];
const FLOAT_OUT_DIRS: [&str; 4] = ["build", "out", "dist", "gen"];
const FLOAT_OUT_EXTS: [&str; 4] = ["o", "so", "a", "bin"];

/// The net rule of rule `i` (`i % 10 == 8`) of the floating mix.
fn floating_net(i: usize) -> GenRule {
    match (i / 10) % 4 {
        0 => gen_rule("net", "allow", "connect", format!("svc{i}.example.com:443")),
        1 => gen_rule("net", "allow", "connect", format!("*.cdn{i}.net")),
        2 => gen_rule(
            "net",
            "deny",
            "connect",
            format!("10.{}.{}.0/24", (i / 256) % 256, i % 256),
        ),
        _ => gen_rule(
            "net",
            "allow",
            "connect",
            format!("db{i}.internal:5432-5439"),
        ),
    }
}

fn floating_workload(w: &mut Workload) {
    let n = w.n;
    let dir = |i: usize| FLOAT_DIRS[i / 10 % 4];
    let ext = |i: usize| FLOAT_EXTS[i / 40 % 5];
    let out_dir = |i: usize| FLOAT_OUT_DIRS[i / 10 % 4];
    let out_ext = |i: usize| FLOAT_OUT_EXTS[i / 40 % 4];
    for i in 0..n {
        w.rules.push(match i % 10 {
            0 => gen_rule(
                "fs",
                "deny",
                "read",
                format!("**/{}{i}/*.{}", dir(i), ext(i)),
            ),
            1 => gen_rule(
                "fs",
                "ask",
                "write",
                format!("**/{}{i}/*.{}", out_dir(i), out_ext(i)),
            ),
            2 | 3 => gen_rule("fs", "allow", "read, write", format!("/srv/team{i}/**")),
            4 => gen_rule(
                "fs",
                "deny",
                "write",
                format!("/srv/team{}/secret/**", i - 2),
            ),
            5 => gen_rule("fs", "allow", "read", format!("/opt/app{i}/lib/*.so")),
            6 => gen_rule("fs", "ask", "write", format!("/var/lib/svc{i}/**")),
            7 => gen_rule("fs", "allow", "create", format!("/tmp/job{i}/*")),
            8 => floating_net(i),
            _ => workload_app(i),
        });
    }
    let d = middle(n, 40);
    let (fd, fe) = (format!("{}{d}", dir(d)), ext(d));
    let (od, oe) = (format!("{}{}", out_dir(d + 1), d + 1), out_ext(d + 1));
    let team = d + 2;
    let fs = &mut w.fs;
    let mut f = |right: &str, path: String, expect, what| {
        fs.push(probe(format!("{right} {path}"), expect, what))
    };
    f(
        "read",
        fit(
            &format!("/srv/team{team}/pipelines/ingest/"),
            &format!("/{fd}/events-2026-12-03.{fe}"),
            80,
        ),
        "deny",
        "floating deny hit",
    );
    f(
        "write",
        fit(
            &format!("/srv/team{}/services/api/", team + 1),
            &format!("/{od}/libapi.{oe}"),
            70,
        ),
        "ask",
        "floating ask hit",
    );
    f(
        "read",
        fit(
            &format!("/srv/team{team}/pipelines/ingest/"),
            &format!("/{fd}/archive/events.{fe}"),
            75,
        ),
        "allow",
        "floating near miss (one level deeper)",
    );
    f(
        "read",
        fit(
            &format!("/srv/team{team}/pipelines/ingest/"),
            &format!("/{fd}/notes.md"),
            64,
        ),
        "allow",
        "floating near miss (extension)",
    );
    f(
        "read",
        fit(
            &format!("/srv/team{team}/pipelines/ingest/"),
            &format!("/{}{}/events.{fe}", dir(d), n + 40),
            72,
        ),
        "allow",
        "floating miss (no such rule)",
    );
    f(
        "write",
        fit(
            &format!("/srv/team{team}/secret/"),
            "/tokens/deploy.json",
            56,
        ),
        "deny",
        "carve-out",
    );
    f(
        "read",
        fit(&format!("/srv/team{}/src/", team + 1), "/main.rs", 44),
        "allow",
        "subtree hit",
    );
    f(
        "read",
        fit(
            &format!(
                "/srv/team{}/src/internal/storage/engine/compaction/",
                team + 1
            ),
            "/leveled/picker/score.rs",
            115,
        ),
        "allow",
        "deep subtree hit",
    );
    f(
        "read",
        fit(
            &format!("/srv/team{team}/archive/2026/12/03/hourly/"),
            &format!("/region-eu/{fd}/part-00017.{fe}"),
            118,
        ),
        "deny",
        "deep floating deny hit",
    );
    f(
        "read",
        fit(
            &format!("/opt/app{}/lib/", d + 5),
            "libcrypto-legacy.so",
            50,
        ),
        "allow",
        "lib/*.so hit",
    );
    f(
        "write",
        fit(
            &format!("/var/lib/svc{}/state/queue/", d + 6),
            "/000001.log",
            60,
        ),
        "ask",
        "subtree ask",
    );
    f(
        "create",
        fit(&format!("/tmp/job{}/", d + 7), "output.tar.gz", 45),
        "allow",
        "/tmp/jobN/* hit",
    );
    f(
        "read",
        fit(
            "/home/someone/Downloads/",
            "/quarterly-report-final-v2.pdf",
            66,
        ),
        "deny",
        "miss",
    );
    f(
        "write",
        fit(
            &format!("/opt/app{}/lib/", d + 5),
            "libcrypto-legacy.so",
            50,
        ),
        "deny",
        "miss (right)",
    );
    // Net: one rule in ten, by (i / 10) % 4: name, `*.suffix`, CIDR deny, port range.
    let cidr = d + 28;
    w.net = vec![
        probe(
            format!("connect svc{}.example.com:443", d + 8),
            "allow",
            "name hit",
        ),
        probe(
            format!("connect edge-7.fra.cdn{}.net:443", d + 18),
            "allow",
            "*.suffix hit",
        ),
        probe(
            format!("connect 10.{}.{}.9:8080", (cidr / 256) % 256, cidr % 256),
            "deny",
            "CIDR deny",
        ),
        probe(
            format!("connect db{}.internal:5433", d + 38),
            "allow",
            "port-range hit",
        ),
        probe(
            format!("connect db{}.internal:6432", d + 38),
            "deny",
            "port-range miss",
        ),
        probe(
            "connect www.unknown-site.com:443".into(),
            "deny",
            "name miss",
        ),
        probe("connect 192.168.1.1:80".into(), "deny", "address miss"),
    ];
    let d = middle(n, 30);
    w.launch = vec![
        probe(
            format!("launch /usr/bin/tool{} --version", d + 9),
            "allow",
            "plain hit",
        ),
        probe(
            format!("launch /opt/bin/prog{} run build --release", d + 19),
            "allow",
            "args hit",
        ),
        probe(
            format!("launch /usr/bin/tool{} push --force origin", d + 19),
            "deny",
            "args deny",
        ),
        probe("launch /bin/rm -rf /tmp/x".into(), "deny", "miss"),
    ];
}

/// The baseline of the enterprise mix: (section, effect, rights, target).
const ENTERPRISE_BASE: &[(&str, &str, &str, &str)] = &[
    ("fs", "allow", "read", "/usr/**"),
    ("fs", "allow", "read", "/etc/**"),
    ("fs", "deny", "read", "/etc/shadow"),
    ("fs", "deny", "all", "/home/*/.ssh/**"),
    ("fs", "deny", "all", "/home/*/.aws/**"),
    ("fs", "deny", "all", "/home/*/.config/gcloud/**"),
    ("fs", "deny", "all", "/home/*/.kube/config/**"),
    ("fs", "deny", "write, create, delete", "/home/*/.bashrc"),
    ("fs", "deny", "read, write", "**/.env"),
    ("fs", "deny", "write, create, delete", "**/.git/hooks/**"),
    ("fs", "deny", "write, create, delete", "**/.git/config"),
    ("fs", "deny", "write, create, delete", "**/.vscode/**"),
    ("fs", "ask", "write", "**/node_modules/**"),
    ("fs", "allow", "read, write, create, delete", "/tmp/**"),
    ("net", "allow", "connect", "*.github.com:443"),
    ("net", "deny", "connect", "169.254.169.254"),
    ("app", "allow", "launch", "/usr/bin/*"),
    ("app", "deny", "launch", "/usr/bin/sudo"),
    ("app", "deny", "launch", "**/nc"),
];

fn enterprise_workload(w: &mut Workload) {
    let n = w.n;
    for i in 0..n {
        if let Some(&(section, effect, rights, target)) = ENTERPRISE_BASE.get(i) {
            w.rules
                .push(gen_rule(section, effect, rights, target.to_string()));
            continue;
        }
        let t = i / 10;
        w.rules.push(match i % 10 {
            0 => gen_rule(
                "fs",
                "allow",
                "read, write, create",
                format!("/home/team{t}/projects/**"),
            ),
            1 => gen_rule(
                "fs",
                "deny",
                "write",
                format!("/home/team{t}/projects/release/**"),
            ),
            2 => gen_rule(
                "fs",
                "deny",
                "read",
                format!("/home/team{t}/projects/*/secrets/**"),
            ),
            3 => gen_rule(
                "fs",
                "ask",
                "delete",
                format!("/home/team{t}/projects/*/*.db"),
            ),
            4 => gen_rule("fs", "allow", "read", format!("/srv/shared/team{t}/**")),
            5 => gen_rule("fs", "deny", "all", format!("/srv/shared/team{t}/hr/**")),
            6 => gen_rule(
                "fs",
                "allow",
                "read, write, create, delete",
                format!("/var/cache/team{t}/**"),
            ),
            7 => gen_rule(
                "net",
                "allow",
                "connect",
                format!("git.team{t}.corp.example:443"),
            ),
            8 => match t % 3 {
                0 => gen_rule(
                    "net",
                    "allow",
                    "connect",
                    format!("*.team{t}.svc.cluster.local"),
                ),
                1 => gen_rule(
                    "net",
                    "allow",
                    "connect",
                    format!("registry.team{t}.corp.example:5000-5010"),
                ),
                _ => gen_rule(
                    "net",
                    "allow",
                    "connect",
                    format!("10.{}.{}.0/24", (t / 256) % 256, t % 256),
                ),
            },
            _ => {
                if t % 2 == 0 {
                    gen_rule("app", "allow", "launch", format!("/opt/team{t}/bin/*"))
                } else {
                    gen_args(
                        gen_rule(
                            "app",
                            "deny",
                            "launch",
                            format!("/opt/team{}/bin/deploy", t - 1),
                        ),
                        "*--prod*",
                    )
                }
            }
        });
    }
    // A team in the middle with `t % 6 == 0` (so that teams t+1 and t+2 have the other
    // net rules), past the teams the baseline displaces.
    let mut t = middle(n, 60) / 10;
    if t * 10 < ENTERPRISE_BASE.len() {
        t += 6;
    }
    let home = format!("/home/team{t}");
    let proj = format!("{home}/projects");
    let fs = &mut w.fs;
    let mut f = |right: &str, path: String, expect, what| {
        fs.push(probe(format!("{right} {path}"), expect, what))
    };
    f(
        "read",
        fit(
            "/usr/lib/python3/dist-packages/",
            "/requests/adapters.py",
            70,
        ),
        "allow",
        "baseline hit",
    );
    f(
        "read",
        fit(&format!("{home}/.ssh/"), "/id_ed25519", 45),
        "deny",
        "credential store",
    );
    f(
        "write",
        fit(&format!("{proj}/webapp/src/components/"), "/Button.tsx", 80),
        "allow",
        "project hit",
    );
    f(
        "write",
        fit(&format!("{proj}/webapp/"), "/.env", 50),
        "deny",
        "**/.env",
    );
    f(
        "write",
        fit(
            &format!("{proj}/webapp/node_modules/@babel/core/"),
            "/lib/index.js",
            85,
        ),
        "ask",
        "**/node_modules/** ask",
    );
    f(
        "read",
        fit(
            &format!("{proj}/webapp/node_modules/@babel/core/"),
            "/lib/index.js",
            85,
        ),
        "allow",
        "node_modules read",
    );
    f(
        "create",
        fit(&format!("{proj}/webapp/.git/hooks/"), "pre-commit", 60),
        "deny",
        "**/.git/hooks/**",
    );
    f(
        "write",
        fit(&format!("{proj}/release/"), "/v2.3.1/checksums.txt", 64),
        "deny",
        "carve-out",
    );
    f(
        "read",
        fit(&format!("{proj}/billing/secrets/"), "/stripe.json", 60),
        "deny",
        "*/secrets/** carve-out",
    );
    f(
        "delete",
        fit(&format!("{proj}/billing/"), "ledger.db", 48),
        "ask",
        "*/*.db ask",
    );
    f(
        "read",
        fit(
            &format!("/srv/shared/team{t}/handbook/onboarding/"),
            "/README.md",
            70,
        ),
        "allow",
        "shared hit",
    );
    f(
        "read",
        fit(
            &format!("/srv/shared/team{t}/hr/"),
            "/salaries-2026.csv",
            55,
        ),
        "deny",
        "shared carve-out",
    );
    f(
        "read",
        fit(
            &format!("{proj}/webapp/src/features/checkout/components/payment/"),
            "/providers/stripe/CardForm.test.tsx",
            118,
        ),
        "allow",
        "deep project hit",
    );
    f(
        "write",
        fit(
            &format!("/var/cache/team{t}/pip/http/"),
            "/d/e/f/abc.body",
            70,
        ),
        "allow",
        "cache hit",
    );
    f(
        "create",
        fit("/tmp/build-cache/", "/obj/module.o", 50),
        "allow",
        "/tmp hit",
    );
    f(
        "write",
        fit(
            &format!("/home/team{}/projects/webapp/src/", n / 10 + 1),
            "/index.ts",
            60,
        ),
        "deny",
        "miss (no such team)",
    );
    f(
        "write",
        fit("/var/log/journal/", "/system@0005f.journal", 60),
        "deny",
        "miss",
    );
    let cidr = t + 2;
    w.net = vec![
        probe(
            format!("connect git.team{t}.corp.example:443"),
            "allow",
            "name hit",
        ),
        probe(
            format!("connect api.team{t}.svc.cluster.local:8080"),
            "allow",
            "*.suffix hit",
        ),
        probe(
            format!("connect registry.team{}.corp.example:5005", t + 1),
            "allow",
            "port-range hit",
        ),
        probe(
            format!("connect 10.{}.{}.17:9000", (cidr / 256) % 256, cidr % 256),
            "allow",
            "CIDR hit",
        ),
        probe("connect 169.254.169.254:80".into(), "deny", "address deny"),
        probe(
            "connect api.github.com:443".into(),
            "allow",
            "baseline *.suffix hit",
        ),
        probe(
            "connect www.unknown-site.com:443".into(),
            "deny",
            "name miss",
        ),
        probe("connect 192.168.1.1:80".into(), "deny", "address miss"),
    ];
    w.launch = vec![
        probe(
            "launch /usr/bin/git status --short".into(),
            "allow",
            "baseline hit",
        ),
        probe("launch /usr/bin/sudo -i".into(), "deny", "baseline deny"),
        probe(
            format!("launch /opt/team{t}/bin/deploy --env staging"),
            "allow",
            "team hit",
        ),
        probe(
            format!("launch /opt/team{t}/bin/deploy --env --prod"),
            "deny",
            "args deny",
        ),
        probe(
            "launch /usr/local/bin/nc -l 4444".into(),
            "deny",
            "**/nc deny",
        ),
        probe(format!("launch {proj}/tools/run.sh"), "deny", "miss"),
    ];
}

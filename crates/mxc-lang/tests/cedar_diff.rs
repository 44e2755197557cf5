//! Differential test against Cedar (`cedar-policy`), on the subset of MXC that Cedar
//! can express: allow/deny rules (Cedar has no `ask`) over
//!
//! - fs paths: literal paths and `/**` subtrees, as a `Dir`/`File` entity hierarchy:
//!   the request's path is `File::"/a/b"`, whose parent is `Dir::"/a"`, whose parent is
//!   `Dir::"/"` (Cedar computes the transitive closure). The literal `/a/b` is
//!   `resource == File::"/a/b"`; the subtree `/a/**` (which matches `/a` itself and
//!   everything beneath it) is `resource == File::"/a" || resource in Dir::"/a"`;
//! - net targets: exact names, `*.suffix` names (`like`), `*`, `localhost`, IPv4
//!   addresses and CIDRs (the `ipaddr` extension), ports, lists and ranges, `udp://`;
//!   the resource is a `Conn` entity with attributes `host` (the lowercased name without
//!   trailing dot, or the address text), `port`, `proto`, and `ip` when the request
//!   names an address;
//! - app rules: literal programs and program subtrees, with `args` globs made of
//!   literal text and `*` (Cedar's `like` reads `*` the same way: any characters);
//!   the arguments, joined by single spaces, are `context.args`.
//!
//! MXC `deny` is a Cedar `forbid`, `allow` a `permit`, and the agent's default `deny`
//! is Cedar's default deny. For each request, Cedar's decision must equal the decision
//! of both the compiled engine and the reference interpreter; the deciding rule of
//! MXC must be among Cedar's reasons (and Cedar must give none when the default
//! decided). A Cedar evaluation error is a failed case, never agreement.

use cedar_policy::{
    Authorizer, Context, Decision as CedarDecision, Entities, Entity, EntityUid, Policy, PolicyId,
    PolicySet, Request as CedarRequest, RestrictedExpression,
};
use mxc_lang::bind::{bind, Bound};
use mxc_lang::compile::compile_bound;
use mxc_lang::request::{parse_request, HostReq, Request};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::str::FromStr;

// ---------------------------------------------------------------------------------------
// The subset, as data that renders both to MXC and to Cedar.

#[derive(Clone, Debug)]
enum PathT {
    /// A literal path (`/a/b`).
    Literal(String),
    /// `PREFIX/**`; the prefix `/` renders as `/**`.
    Subtree(String),
}

#[derive(Clone, Debug)]
enum HostT {
    Any,
    Localhost,
    Name(&'static str),
    /// `*.suffix`
    Suffix(&'static str),
    /// An IPv4 address or CIDR, as written.
    V4(&'static str),
}

#[derive(Clone, Debug)]
struct NetT {
    udp: bool,
    host: HostT,
    /// Inclusive ranges; empty = any port.
    ports: Vec<(u16, u16)>,
}

#[derive(Clone, Debug)]
enum Body {
    Fs {
        rights: Vec<&'static str>,
        targets: Vec<PathT>,
    },
    Net {
        rights: Vec<&'static str>,
        targets: Vec<NetT>,
    },
    App {
        programs: Vec<PathT>,
        /// Literal text and `*` only.
        args: Option<&'static str>,
    },
}

#[derive(Clone, Debug)]
struct RuleT {
    deny: bool,
    body: Body,
}

/// A generated case: the rules of two policies (`p0`, then `p1`, in the agent's `use`
/// order), so that bound rule `i` is `rules[i]`.
#[derive(Clone, Debug)]
struct Case {
    rules: Vec<RuleT>,
    /// How many of `rules` belong to `p0`.
    split: usize,
}

static FS_RIGHTS: [&str; 4] = ["read", "write", "create", "delete"];
static NET_RIGHTS: [&str; 2] = ["connect", "bind"];

fn path_text(p: &PathT) -> String {
    match p {
        PathT::Literal(s) => s.clone(),
        PathT::Subtree(s) if s == "/" => "/**".into(),
        PathT::Subtree(s) => format!("{s}/**"),
    }
}

fn ports_text(ports: &[(u16, u16)]) -> String {
    let parts: Vec<String> = ports
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect();
    parts.join(",")
}

fn net_text(t: &NetT) -> String {
    let mut s = String::new();
    if t.udp {
        s.push_str("udp://");
    }
    match &t.host {
        HostT::Any => s.push('*'),
        HostT::Localhost => s.push_str("localhost"),
        HostT::Name(n) => s.push_str(n),
        HostT::Suffix(n) => {
            s.push_str("*.");
            s.push_str(n);
        }
        HostT::V4(a) => s.push_str(a),
    }
    if !t.ports.is_empty() {
        s.push(':');
        s.push_str(&ports_text(&t.ports));
    }
    s
}

fn quoted_list(items: &[String]) -> String {
    let q: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    q.join(", ")
}

/// The MXC source of a case: each rule in a section of its own, so that source order
/// is the order of `rules`.
fn to_mxc(case: &Case) -> String {
    let mut src = String::new();
    for (p, rules) in [
        ("p0", &case.rules[..case.split]),
        ("p1", &case.rules[case.split..]),
    ] {
        let _ = writeln!(src, "policy {p} {{");
        for r in rules {
            let effect = if r.deny { "deny" } else { "allow" };
            match &r.body {
                Body::Fs { rights, targets } => {
                    let ts: Vec<String> = targets.iter().map(path_text).collect();
                    let _ = writeln!(
                        src,
                        "  fs {{ {effect} {} {} }}",
                        rights.join(", "),
                        quoted_list(&ts)
                    );
                }
                Body::Net { rights, targets } => {
                    let ts: Vec<String> = targets.iter().map(net_text).collect();
                    let _ = writeln!(
                        src,
                        "  net {{ {effect} {} {} }}",
                        rights.join(", "),
                        quoted_list(&ts)
                    );
                }
                Body::App { programs, args } => {
                    let ts: Vec<String> = programs.iter().map(path_text).collect();
                    let _ = write!(src, "  app {{ {effect} launch {}", quoted_list(&ts));
                    if let Some(a) = args {
                        let _ = write!(src, " args {a:?}");
                    }
                    let _ = writeln!(src, " }}");
                }
            }
        }
        let _ = writeln!(src, "}}");
    }
    src.push_str("agent a { use p0, p1 }\n");
    src
}

fn cedar_str(s: &str) -> String {
    // Every string of the subset is plain ASCII without quotes or backslashes.
    assert!(!s.contains(['"', '\\']), "{s}");
    format!("\"{s}\"")
}

fn cedar_path(p: &PathT, ty: &str) -> String {
    match p {
        PathT::Literal(s) => format!("resource == {ty}::{}", cedar_str(s)),
        PathT::Subtree(s) => format!(
            "(resource == {ty}::{} || resource in Dir::{})",
            cedar_str(s),
            cedar_str(s)
        ),
    }
}

fn cedar_net(t: &NetT) -> String {
    let mut conds = vec![format!(
        "resource.proto == {}",
        cedar_str(if t.udp { "udp" } else { "tcp" })
    )];
    match &t.host {
        HostT::Any => {}
        HostT::Localhost => conds.push(
            r#"(resource.host == "localhost" || (resource has ip && resource.ip.isLoopback()))"#
                .into(),
        ),
        HostT::Name(n) => conds.push(format!(
            "(!(resource has ip) && resource.host == {})",
            cedar_str(n)
        )),
        HostT::Suffix(n) => conds.push(format!(
            "(!(resource has ip) && resource.host like {})",
            cedar_str(&format!("*.{n}"))
        )),
        HostT::V4(a) => conds.push(format!(
            "(resource has ip && resource.ip.isInRange(ip({})))",
            cedar_str(a)
        )),
    }
    if !t.ports.is_empty() {
        let alts: Vec<String> = t
            .ports
            .iter()
            .map(|&(a, b)| {
                if a == b {
                    format!("resource.port == {a}")
                } else {
                    format!("(resource.port >= {a} && resource.port <= {b})")
                }
            })
            .collect();
        conds.push(format!("({})", alts.join(" || ")));
    }
    format!("({})", conds.join(" && "))
}

/// The Cedar policy of one rule.
fn to_cedar(r: &RuleT) -> String {
    let effect = if r.deny { "forbid" } else { "permit" };
    let (actions, cond): (Vec<&str>, String) = match &r.body {
        Body::Fs { rights, targets } => {
            let c: Vec<String> = targets.iter().map(|p| cedar_path(p, "File")).collect();
            (rights.clone(), c.join(" || "))
        }
        Body::Net { rights, targets } => {
            let c: Vec<String> = targets.iter().map(cedar_net).collect();
            (rights.clone(), c.join(" || "))
        }
        Body::App { programs, args } => {
            let c: Vec<String> = programs.iter().map(|p| cedar_path(p, "File")).collect();
            let mut cond = format!("({})", c.join(" || "));
            if let Some(a) = args {
                let _ = write!(cond, " && context.args like {}", cedar_str(a));
            }
            (vec!["launch"], cond)
        }
    };
    let actions: Vec<String> = actions
        .iter()
        .map(|a| format!("Action::{}", cedar_str(a)))
        .collect();
    format!(
        "{effect}(principal == Agent::\"a\", action in [{}], resource) when {{ {cond} }};",
        actions.join(", ")
    )
}

// ---------------------------------------------------------------------------------------
// Requests, as Cedar sees them.

fn uid(ty: &str, id: &str) -> EntityUid {
    EntityUid::from_str(&format!("{ty}::{}", cedar_str(id))).expect("entity uid")
}

/// `File::"/a/b/c"` with parent `Dir::"/a/b"`, whose parent is `Dir::"/a"`, ... up to
/// `Dir::"/"`. Returns the resource and the entities.
fn path_entities(path: &str) -> (EntityUid, Vec<Entity>) {
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let dir_of = |k: usize| -> String { format!("/{}", comps[..k].join("/")) };
    let mut entities = Vec::new();
    for k in 0..comps.len() {
        let parents: HashSet<EntityUid> = if k == 0 {
            HashSet::new()
        } else {
            HashSet::from([uid("Dir", &dir_of(k - 1))])
        };
        entities.push(Entity::new_no_attrs(uid("Dir", &dir_of(k)), parents));
    }
    let parents: HashSet<EntityUid> = if comps.is_empty() {
        HashSet::new()
    } else {
        HashSet::from([uid("Dir", &dir_of(comps.len() - 1))])
    };
    let resource = uid("File", path);
    entities.push(Entity::new_no_attrs(resource.clone(), parents));
    (resource, entities)
}

/// Cedar's answer: allow or deny and the ids of the policies behind it. An evaluation
/// error fails the case.
fn cedar_decide(policies: &PolicySet, req: &Request) -> Result<(bool, HashSet<String>), String> {
    let (action, resource, entities, context) = match req {
        Request::Fs { right, path } => {
            let action = right.as_str();
            let (resource, entities) = path_entities(path);
            (action, resource, entities, Context::empty())
        }
        Request::Net {
            right,
            proto,
            host,
            port,
            program,
        } => {
            assert!(program.is_none(), "`from` is outside the subset");
            let action = right.as_str();
            let proto = match proto {
                mxc_lang::pattern::NetProto::Tcp => "tcp",
                mxc_lang::pattern::NetProto::Udp => "udp",
            };
            let mut attrs: HashMap<String, RestrictedExpression> = HashMap::new();
            let host_text = match host {
                HostReq::Name(n) => n.strip_suffix('.').unwrap_or(n).to_ascii_lowercase(),
                HostReq::V4(a) => {
                    let text = std::net::Ipv4Addr::from(*a).to_string();
                    attrs.insert("ip".into(), RestrictedExpression::new_ip(&text));
                    text
                }
                HostReq::V6(_) => panic!("IPv6 is outside the subset"),
            };
            attrs.insert("host".into(), RestrictedExpression::new_string(host_text));
            attrs.insert(
                "port".into(),
                RestrictedExpression::new_long(i64::from(*port)),
            );
            attrs.insert(
                "proto".into(),
                RestrictedExpression::new_string(proto.into()),
            );
            let resource = uid("Conn", &req.to_string());
            let e = Entity::new(resource.clone(), attrs, HashSet::new())
                .map_err(|e| format!("cedar entity: {e}"))?;
            (action, resource, vec![e], Context::empty())
        }
        Request::Launch { program, args } => {
            let (resource, entities) = path_entities(program);
            let context = Context::from_pairs([(
                "args".to_string(),
                RestrictedExpression::new_string(args.join(" ")),
            )])
            .map_err(|e| format!("cedar context: {e}"))?;
            ("launch", resource, entities, context)
        }
    };
    let entities =
        Entities::from_entities(entities, None).map_err(|e| format!("cedar entities: {e}"))?;
    let request = CedarRequest::new(
        uid("Agent", "a"),
        uid("Action", action),
        resource,
        context,
        None,
    )
    .map_err(|e| format!("cedar request: {e}"))?;
    let response = Authorizer::new().is_authorized(&request, policies, &entities);
    let errors: Vec<String> = response
        .diagnostics()
        .errors()
        .map(|e| e.to_string())
        .collect();
    if !errors.is_empty() {
        return Err(format!("cedar evaluation errors: {errors:?}"));
    }
    let reasons = response
        .diagnostics()
        .reason()
        .map(|id| id.to_string())
        .collect();
    Ok((response.decision() == CedarDecision::Allow, reasons))
}

// ---------------------------------------------------------------------------------------
// The comparison.

struct Compiled {
    mxc: String,
    bound: Bound,
    engine: mxc_eval::Engine,
    cedar: PolicySet,
    cedar_text: Vec<String>,
}

fn compile_case(case: &Case) -> Compiled {
    let mxc = to_mxc(case);
    let prog = mxc_lang::check_source("case.mxc", &mxc);
    assert!(
        !prog.diags.has_errors(),
        "generated MXC does not check:\n{mxc}\n{:?}",
        prog.diags
    );
    let bound = bind(&prog.model, "a", &BTreeMap::new(), false).expect("bind");
    assert_eq!(bound.rules.len(), case.rules.len(), "{mxc}");
    let table = compile_bound(&bound, &prog.sources).expect("compile");
    let engine = mxc_eval::Engine::from_table(table).expect("engine");
    let mut cedar = PolicySet::new();
    let mut cedar_text = Vec::new();
    for (i, r) in case.rules.iter().enumerate() {
        let text = to_cedar(r);
        let p = Policy::parse(Some(PolicyId::new(format!("r{i}"))), &text)
            .unwrap_or_else(|e| panic!("cedar does not parse `{text}`: {e}"));
        cedar.add(p).expect("add policy");
        cedar_text.push(text);
    }
    Compiled {
        mxc,
        bound,
        engine,
        cedar,
        cedar_text,
    }
}

/// How an agreed request was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Outcome {
    Allowed,
    DeniedByRule,
    DeniedByDefault,
}

/// Checks one request; `Err` describes the disagreement.
fn check_request(c: &Compiled, req: &Request) -> Result<Outcome, String> {
    let context = || {
        format!(
            "request `{req}`\n--- MXC ---\n{}--- Cedar ---\n{}",
            c.mxc,
            c.cedar_text.join("\n")
        )
    };
    let (cedar_allow, reasons) =
        cedar_decide(&c.cedar, req).map_err(|e| format!("{e}\n{}", context()))?;
    let engine = mxc_lang::query::decide_engine(&c.engine, req);
    let reference = mxc_lang::interp::decide(&c.bound, req);
    let engine_allow = match engine.effect {
        mxc_eval::Effect::Allow => true,
        mxc_eval::Effect::Deny => false,
        mxc_eval::Effect::Ask => return Err(format!("engine said ask\n{}", context())),
    };
    let reference_allow = match reference.effect {
        mxc_lang::ast::Effect::Allow => true,
        mxc_lang::ast::Effect::Deny => false,
        mxc_lang::ast::Effect::Ask => return Err(format!("reference said ask\n{}", context())),
    };
    let word = |a: bool| if a { "allow" } else { "deny" };
    if engine_allow != cedar_allow || reference_allow != cedar_allow {
        return Err(format!(
            "decisions differ: cedar {}, engine {}, reference {}\n{}",
            word(cedar_allow),
            word(engine_allow),
            word(reference_allow),
            context()
        ));
    }
    let engine_rule = engine.rule.map(|r| r.0 as usize);
    if engine_rule != reference.rule {
        return Err(format!(
            "deciding rules differ: engine {engine_rule:?}, reference {:?}\n{}",
            reference.rule,
            context()
        ));
    }
    match reference.rule {
        None if !reasons.is_empty() => Err(format!(
            "MXC's default decided but Cedar names {reasons:?}\n{}",
            context()
        )),
        Some(i) if !reasons.contains(&format!("r{i}")) => Err(format!(
            "MXC's deciding rule r{i} is not among Cedar's reasons {reasons:?}\n{}",
            context()
        )),
        None => Ok(Outcome::DeniedByDefault),
        Some(_) if cedar_allow => Ok(Outcome::Allowed),
        Some(_) => Ok(Outcome::DeniedByRule),
    }
}

fn req(s: &str) -> Request {
    parse_request(s, false).unwrap_or_else(|e| panic!("bad request `{s}`: {e}"))
}

// ---------------------------------------------------------------------------------------
// Hand-written cases.

fn fs(deny: bool, rights: &[&'static str], targets: &[&str]) -> RuleT {
    RuleT {
        deny,
        body: Body::Fs {
            rights: rights.to_vec(),
            targets: targets.iter().map(|t| parse_path_t(t)).collect(),
        },
    }
}

fn parse_path_t(t: &str) -> PathT {
    match t.strip_suffix("/**") {
        Some("") => PathT::Subtree("/".into()),
        Some(p) => PathT::Subtree(p.into()),
        None => PathT::Literal(t.into()),
    }
}

fn net(deny: bool, rights: &[&'static str], targets: Vec<NetT>) -> RuleT {
    RuleT {
        deny,
        body: Body::Net {
            rights: rights.to_vec(),
            targets,
        },
    }
}

fn tcp(host: HostT, ports: &[(u16, u16)]) -> NetT {
    NetT {
        udp: false,
        host,
        ports: ports.to_vec(),
    }
}

fn app(deny: bool, programs: &[&str], args: Option<&'static str>) -> RuleT {
    RuleT {
        deny,
        body: Body::App {
            programs: programs.iter().map(|t| parse_path_t(t)).collect(),
            args,
        },
    }
}

#[test]
fn hand_written_cases() {
    let rules = vec![
        fs(false, &["read"], &["/a/**"]),
        fs(true, &["read", "write"], &["/a/b/**"]),
        fs(false, &["write"], &["/c/d", "/a/b/c"]),
        fs(false, &["create", "delete"], &["/**"]),
        fs(true, &["delete"], &["/c/d/e"]),
        net(
            false,
            &["connect"],
            vec![tcp(HostT::Name("api.github.com"), &[(443, 443)])],
        ),
        net(
            false,
            &["connect"],
            vec![tcp(HostT::Suffix("example.com"), &[(80, 80), (443, 443)])],
        ),
        net(true, &["connect"], vec![tcp(HostT::V4("10.0.0.0/8"), &[])]),
        net(
            false,
            &["connect"],
            vec![tcp(HostT::V4("10.1.0.0/16"), &[(5432, 5432)])],
        ),
        net(
            false,
            &["connect", "bind"],
            vec![tcp(HostT::Localhost, &[(8000, 8999)])],
        ),
        app(false, &["/usr/bin/git"], Some("status*")),
        app(true, &["/usr/bin/**"], Some("push *")),
        app(false, &["/usr/bin/ls"], None),
    ];
    let case = Case { split: 5, rules };
    let c = compile_case(&case);
    let expectations = [
        ("read /a", "allow"),
        ("read /a/x/y", "allow"),
        ("read /a/b", "deny"),
        ("read /a/b/c", "deny"),
        ("write /a/b/c", "deny"),
        ("write /c/d", "allow"),
        ("write /c/d/e", "deny"),
        ("write /c", "deny"),
        ("read /ab", "deny"),
        ("read /", "deny"),
        ("create /", "allow"),
        ("create /x/y/z", "allow"),
        ("delete /c/d/e", "deny"),
        ("delete /c/d/e/f", "allow"),
        ("connect api.github.com:443", "allow"),
        ("connect API.GitHub.com.:443", "allow"),
        ("connect api.github.com:80", "deny"),
        ("connect api.github.com", "deny"),
        ("connect www.example.com:80", "allow"),
        ("connect a.b.example.com:443", "allow"),
        ("connect example.com:443", "deny"),
        ("connect www.example.com:8080", "deny"),
        ("bind www.example.com:443", "deny"),
        ("connect 10.1.2.3:5432", "deny"),
        ("connect 11.1.2.3:5432", "deny"),
        ("connect localhost:8080", "allow"),
        ("connect 127.0.0.1:8999", "allow"),
        ("bind 127.3.4.5:8000", "allow"),
        ("bind 127.0.0.1:9000", "deny"),
        ("connect udp://localhost:8080", "deny"),
        ("launch /usr/bin/git status --short", "allow"),
        ("launch /usr/bin/git push origin main", "deny"),
        ("launch /usr/bin/git", "deny"),
        ("launch /usr/bin/ls -la", "allow"),
        ("launch /usr/bin/ls push it", "deny"),
        ("launch /bin/ls", "deny"),
    ];
    for (q, want) in expectations {
        let r = req(q);
        if let Err(e) = check_request(&c, &r) {
            panic!("{e}");
        }
        let got = mxc_lang::query::decide_engine(&c.engine, &r);
        assert_eq!(got.effect.as_str(), want, "{q}");
    }
}

// ---------------------------------------------------------------------------------------
// Random cases.

static COMPS: [&str; 5] = ["a", "b", "c", "d", "e"];
static NAMES: [&str; 5] = [
    "api.github.com",
    "example.com",
    "a.example.com",
    "x.a.example.com",
    "registry.npmjs.org",
];
static SUFFIXES: [&str; 3] = ["example.com", "a.example.com", "npmjs.org"];
static V4_RULES: [&str; 7] = [
    "10.0.0.0/8",
    "10.1.0.0/16",
    "192.168.0.0/16",
    "8.8.8.8",
    "172.16.0.0/12",
    "127.0.0.1",
    "0.0.0.0/0",
];
static V4_REQUESTS: [&str; 7] = [
    "10.0.0.1",
    "10.1.2.3",
    "192.168.1.5",
    "8.8.8.8",
    "172.31.255.255",
    "127.0.0.1",
    "1.2.3.4",
];
static PROGRAMS: [&str; 4] = [
    "/usr/bin/git",
    "/usr/bin/ls",
    "/bin/sh",
    "/usr/local/bin/git",
];
static ARGS_GLOBS: [&str; 5] = ["status*", "push *", "*--force*", "", "*"];
static ARGS_REQUESTS: [&str; 6] = [
    "",
    "status",
    "status --short",
    "push origin main",
    "push --force origin",
    "log",
];
static PORT_SETS: [&[(u16, u16)]; 5] = [
    &[],
    &[(443, 443)],
    &[(80, 80), (443, 443)],
    &[(8000, 8999)],
    &[(22, 22), (8080, 8443)],
];
static PORT_REQUESTS: [u16; 7] = [0, 22, 80, 443, 8080, 8500, 9000];

fn path_strategy(min: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(&COMPS[..]), min..=4)
        .prop_map(|cs| format!("/{}", cs.join("/")))
}

fn path_t_strategy() -> impl Strategy<Value = PathT> {
    prop_oneof![
        path_strategy(1).prop_map(PathT::Literal),
        path_strategy(1).prop_map(PathT::Subtree),
        Just(PathT::Subtree("/".into())),
    ]
}

fn rights_strategy(all: &'static [&'static str]) -> impl Strategy<Value = Vec<&'static str>> {
    prop::sample::subsequence(all, 1..=all.len())
}

fn host_strategy() -> impl Strategy<Value = HostT> {
    prop_oneof![
        1 => Just(HostT::Any),
        1 => Just(HostT::Localhost),
        3 => prop::sample::select(&NAMES[..]).prop_map(HostT::Name),
        2 => prop::sample::select(&SUFFIXES[..]).prop_map(HostT::Suffix),
        3 => prop::sample::select(&V4_RULES[..]).prop_map(HostT::V4),
    ]
}

fn net_t_strategy() -> impl Strategy<Value = NetT> {
    (
        prop::bool::weighted(0.15),
        host_strategy(),
        prop::sample::select(&PORT_SETS[..]),
    )
        .prop_map(|(udp, host, ports)| NetT {
            udp,
            host,
            ports: ports.to_vec(),
        })
}

fn program_t_strategy() -> impl Strategy<Value = PathT> {
    prop_oneof![
        3 => prop::sample::select(&PROGRAMS[..]).prop_map(|p| PathT::Literal(p.into())),
        1 => prop::sample::select(vec!["/usr/bin", "/usr", "/bin"])
            .prop_map(|p| PathT::Subtree(p.into())),
    ]
}

fn rule_strategy() -> impl Strategy<Value = RuleT> {
    let fs = (
        rights_strategy(&FS_RIGHTS),
        prop::collection::vec(path_t_strategy(), 1..=2),
    )
        .prop_map(|(rights, targets)| Body::Fs { rights, targets });
    let net = (
        rights_strategy(&NET_RIGHTS),
        prop::collection::vec(net_t_strategy(), 1..=2),
    )
        .prop_map(|(rights, targets)| Body::Net { rights, targets });
    let app = (
        prop::collection::vec(program_t_strategy(), 1..=2),
        prop::option::of(prop::sample::select(&ARGS_GLOBS[..])),
    )
        .prop_map(|(programs, args)| Body::App { programs, args });
    (
        prop::bool::weighted(0.35),
        prop_oneof![5 => fs, 3 => net, 2 => app],
    )
        .prop_map(|(deny, body)| RuleT { deny, body })
}

fn case_strategy() -> impl Strategy<Value = Case> {
    prop::collection::vec(rule_strategy(), 1..=10)
        .prop_flat_map(|rules| {
            let n = rules.len();
            (Just(rules), 0..=n)
        })
        .prop_map(|(rules, split)| Case { rules, split })
}

fn request_strategy() -> impl Strategy<Value = String> {
    let fs = (prop::sample::select(&FS_RIGHTS[..]), path_strategy(0))
        .prop_map(|(r, p)| format!("{r} {p}"));
    let host = prop_oneof![
        prop::sample::select(&NAMES[..]).prop_map(str::to_string),
        Just("localhost".to_string()),
        Just("b.npmjs.org".to_string()),
        Just("Api.GitHub.COM.".to_string()),
        prop::sample::select(&V4_REQUESTS[..]).prop_map(str::to_string),
    ];
    let net = (
        prop::sample::select(&NET_RIGHTS[..]),
        prop::bool::weighted(0.15),
        host,
        prop::sample::select(&PORT_REQUESTS[..]),
    )
        .prop_map(|(r, udp, h, port)| {
            let proto = if udp { "udp://" } else { "" };
            if port == 0 {
                format!("{r} {proto}{h}")
            } else {
                format!("{r} {proto}{h}:{port}")
            }
        });
    let launch = (
        prop::sample::select(&PROGRAMS[..]),
        prop::sample::select(&ARGS_REQUESTS[..]),
    )
        .prop_map(|(p, a)| format!("launch {p} {a}").trim_end().to_string());
    prop_oneof![5 => fs, 3 => net, 2 => launch]
}

/// Requests aimed at a case's rules: each fs target's own path, a path beneath it and
/// its parent, with every right.
fn derived_requests(case: &Case) -> Vec<String> {
    let mut out = Vec::new();
    for r in &case.rules {
        if let Body::Fs { targets, .. } = &r.body {
            for t in targets {
                let (PathT::Literal(p) | PathT::Subtree(p)) = t;
                let below = if p == "/" {
                    "/e".to_string()
                } else {
                    format!("{p}/e")
                };
                let parent = match p.rfind('/') {
                    Some(0) | None => "/".to_string(),
                    Some(k) => p[..k].to_string(),
                };
                for right in FS_RIGHTS {
                    for path in [p, &below, &parent] {
                        out.push(format!("{right} {path}"));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn random_policies_agree_with_cedar() {
    let config = Config {
        cases: 96,
        rng_seed: RngSeed::Fixed(0x6d78_635f_6365_6461),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let strategy = (
        case_strategy(),
        prop::collection::vec(request_strategy(), 24..=48),
    );
    // How the agreed requests were decided: agreement must not be vacuous.
    let tally: RefCell<HashMap<Outcome, usize>> = RefCell::default();
    let result = runner.run(&strategy, |(case, requests)| {
        let c = compile_case(&case);
        for q in requests.iter().cloned().chain(derived_requests(&case)) {
            let r = req(&q);
            let outcome = check_request(&c, &r).map_err(TestCaseError::fail)?;
            *tally.borrow_mut().entry(outcome).or_default() += 1;
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let tally = tally.into_inner();
    let total: usize = tally.values().sum();
    eprintln!("agreed on {total} requests: {tally:?}");
    for outcome in [
        Outcome::Allowed,
        Outcome::DeniedByRule,
        Outcome::DeniedByDefault,
    ] {
        let k = tally.get(&outcome).copied().unwrap_or(0);
        assert!(
            k * 10 >= total,
            "only {k} of {total} requests were {outcome:?}: the generator is too narrow"
        );
    }
}

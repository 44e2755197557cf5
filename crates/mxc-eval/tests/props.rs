//! Property tests: the engine agrees with the naive reference on random tables, and no
//! input (random bytes, damaged tables, random requests) makes loading or deciding panic.

mod common;

use common::*;
use mxc_eval::*;
use proptest::prelude::*;

fn effect() -> impl Strategy<Value = Effect> {
    prop_oneof![Just(Effect::Allow), Just(Effect::Ask), Just(Effect::Deny)]
}

fn short_bytes(alphabet: &'static [u8], max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(alphabet), 0..=max)
}

const PATH_ALPHABET: &[u8] = b"/ab.\\A";
const NAME_ALPHABET: &[u8] = b"aB.-";

fn pat(bytes: impl Strategy<Value = Vec<u8>>) -> impl Strategy<Value = Pat> {
    (bytes, any::<bool>()).prop_map(|(b, p)| if p { Pat::Prefix(b) } else { Pat::Exact(b) })
}

#[derive(Clone, Debug)]
struct Req {
    right: NetRight,
    proto: Proto,
    host: HostOwned,
    port: u16,
    program: Option<Vec<u8>>,
}

#[derive(Clone, Debug)]
enum HostOwned {
    Name(String),
    V4([u8; 4]),
    V6([u8; 16]),
}

impl Req {
    fn as_request(&self) -> NetRequest<'_> {
        NetRequest {
            right: self.right,
            proto: self.proto,
            host: match &self.host {
                HostOwned::Name(n) => Host::Name(n),
                HostOwned::V4(ip) => Host::V4(*ip),
                HostOwned::V6(ip) => Host::V6(*ip),
            },
            port: self.port,
            program: self.program.as_deref(),
        }
    }
}

fn req() -> impl Strategy<Value = Req> {
    let name =
        short_bytes(NAME_ALPHABET, 4).prop_map(|b| HostOwned::Name(String::from_utf8(b).unwrap()));
    let host = prop_oneof![
        4 => name,
        1 => Just(HostOwned::Name("a\0".into())),
        1 => prop::sample::select(vec![[127, 0, 0, 1], [10, 0, 0, 1]]).prop_map(HostOwned::V4),
        1 => prop::sample::select(vec![[0u8; 16], [1u8; 16]]).prop_map(HostOwned::V6),
    ];
    (
        prop::sample::select(vec![NetRight::Connect, NetRight::Bind]),
        prop::sample::select(vec![Proto::Tcp, Proto::Udp]),
        host,
        prop::sample::select(vec![0u16, 1, 443, 0x0100]),
        prop::option::of(short_bytes(PATH_ALPHABET, 3)),
    )
        .prop_map(|(right, proto, host, port, program)| Req {
            right,
            proto,
            host,
            port,
            program,
        })
}

/// A net pattern: the encoding of a request, whole or cut short as a prefix.
fn net_pat() -> impl Strategy<Value = Pat> {
    (req(), any::<bool>(), any::<prop::sample::Index>()).prop_map(|(r, is_prefix, cut)| {
        let enc = encode_net(&r.as_request()).unwrap_or_default();
        if is_prefix {
            let n = cut.index(enc.len() + 1);
            Pat::Prefix(enc[..n].to_vec())
        } else {
            Pat::Exact(enc)
        }
    })
}

fn launch_req() -> impl Strategy<Value = (Vec<u8>, Vec<Vec<u8>>)> {
    (
        short_bytes(b"/ab\0", 3),
        prop::collection::vec(short_bytes(b"a -", 2), 0..3),
    )
}

fn app_pat() -> impl Strategy<Value = Pat> {
    (launch_req(), any::<bool>(), any::<prop::sample::Index>()).prop_map(
        |((p, args), is_prefix, cut)| {
            let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            let enc = encode_launch(&p, &args).unwrap_or_default();
            if is_prefix {
                let n = cut.index(enc.len() + 1);
                Pat::Prefix(enc[..n].to_vec())
            } else {
                Pat::Exact(enc)
            }
        },
    )
}

fn spec() -> impl Strategy<Value = Spec> {
    let fs_rule =
        (pat(short_bytes(PATH_ALPHABET, 4)), effect(), 1u8..16).prop_map(|(pat, effect, bits)| R {
            pat,
            effect,
            rights: FsRights::from_bits(bits),
        });
    let rule = |p: BoxedStrategy<Pat>| (p, effect()).prop_map(|(pat, effect)| r(pat, effect));
    (
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(fs_rule, 0..8),
        prop::collection::vec(rule(net_pat().boxed()), 0..6),
        prop::collection::vec(rule(app_pat().boxed()), 0..6),
    )
        .prop_map(|(ask, windows, fs, net, app)| Spec {
            target: if windows {
                Target::Windows
            } else {
                Target::Linux
            },
            default: if ask { Effect::Ask } else { Effect::Deny },
            fs,
            net,
            app,
        })
}

/// Automaton arrays of random shape whose values are mostly, not always, in range: some
/// pass validation (and must then walk like `Dfa::step` says), some fail it.
fn raw_dfa() -> impl Strategy<Value = Dfa> {
    (1u32..5, 1usize..6, 0usize..8, prop::bool::weighted(0.05)).prop_flat_map(
        |(nclasses, nstates, extra, odd_classes)| {
            let n = nstates as u32;
            let nslots = nclasses as usize + extra;
            let classes = if odd_classes {
                prop::collection::vec(0u8..=nclasses as u8, 255..=257).boxed()
            } else {
                prop::collection::vec(0u8..nclasses as u8, 256).boxed()
            };
            let state = move || prop_oneof![100 => 0..n, 1 => n..n + 2];
            (
                classes,
                state(),
                prop::collection::vec(state(), nstates),
                prop::collection::vec(
                    prop_oneof![20 => 0u32..=extra as u32, 1 => Just(extra as u32 + 1)],
                    nstates,
                ),
                prop::collection::vec(
                    prop_oneof![40 => Just(NONE), 40 => 0u32..3, 1 => 3u32..5],
                    nstates,
                ),
                prop::collection::vec(state(), nslots),
                prop::collection::vec(prop_oneof![1 => Just(NONE), 1 => state()], nslots),
                any::<bool>(),
            )
                .prop_map(
                    move |(
                        classes,
                        start,
                        mut default,
                        base,
                        mut accept,
                        next,
                        check,
                        fix_dead,
                    )| {
                        if fix_dead {
                            default[0] = 0;
                            accept[0] = NONE;
                        }
                        Dfa {
                            classes,
                            nclasses,
                            start,
                            default,
                            base,
                            accept,
                            next,
                            check,
                        }
                    },
                )
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn engine_agrees_with_reference(
        spec in spec(),
        paths in prop::collection::vec(short_bytes(PATH_ALPHABET, 6), 1..12),
        reqs in prop::collection::vec(req(), 1..12),
        launches in prop::collection::vec(launch_req(), 1..12),
    ) {
        let table = spec.table();
        let engine = Engine::from_table(table.clone()).expect("hand-built tables are valid");
        let loaded = Engine::from_bytes(&table.to_bytes()).expect("round trip");
        prop_assert_eq!(loaded.table(), &table);

        // Inputs that hit the patterns, as well as random ones.
        let mut paths = paths;
        paths.extend(spec.fs.iter().map(|r| r.pat.bytes().to_vec()));
        for path in &paths {
            let row = engine.fs_row(path);
            prop_assert_eq!(row, loaded.fs_row(path));
            for right in FsRight::ALL {
                let got = engine.fs(path, right);
                prop_assert_eq!(got, spec.fs_decision(path, right), "{:?} {:?}", path, right);
                prop_assert_eq!(row[right as usize], got);
            }
        }
        for r in &reqs {
            let req = r.as_request();
            let want = match encode_net(&req) {
                Some(enc) => spec.encoded_decision(1, &enc),
                None => FAIL_CLOSED,
            };
            prop_assert_eq!(engine.net(&req), want, "{:?}", r);
            prop_assert_eq!(loaded.net(&req), want);
        }
        for (program, args) in &launches {
            let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            let want = match encode_launch(program, &refs) {
                Some(enc) => spec.encoded_decision(2, &enc),
                None => FAIL_CLOSED,
            };
            prop_assert_eq!(engine.launch(program, args), want);
            prop_assert_eq!(loaded.launch(program, &refs), want);
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        prop_assert!(Engine::from_bytes(&bytes).is_err());
        let mut with_magic = MAGIC.to_vec();
        with_magic.extend(1u32.to_le_bytes());
        with_magic.extend(&bytes);
        prop_assert!(Engine::from_bytes(&with_magic).is_err());
    }

    #[test]
    fn damaged_tables_never_panic(
        spec in spec(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        reseal in any::<bool>(),
        truncate in prop::option::of(any::<prop::sample::Index>()),
        paths in prop::collection::vec(short_bytes(PATH_ALPHABET, 6), 1..6),
        reqs in prop::collection::vec(req(), 1..6),
        launches in prop::collection::vec(launch_req(), 1..6),
    ) {
        let mut bytes = spec.table().to_bytes();
        let header = bytes[..28].to_vec();
        let mut payload = bytes.split_off(28);
        for (at, value) in edits {
            let i = at.index(payload.len());
            payload[i] = value;
        }
        if let Some(t) = truncate {
            payload.truncate(t.index(payload.len() + 1));
        }
        let mut bytes = header;
        if reseal {
            // Fix the checksum and length so the structural checks are what is tested.
            bytes[16..20].copy_from_slice(&crc32fast::hash(&payload).to_le_bytes());
            bytes[20..28].copy_from_slice(&(payload.len() as u64).to_le_bytes());
        }
        bytes.extend(payload);
        if let Ok(engine) = Engine::from_bytes(&bytes) {
            for path in &paths {
                for right in FsRight::ALL {
                    let d = engine.fs(path, right);
                    if let Some(id) = d.rule {
                        prop_assert!(engine.rule(id).is_some());
                    }
                }
                let _ = engine.fs_row(path);
            }
            for r in &reqs {
                let _ = engine.net(&r.as_request());
            }
            for (program, args) in &launches {
                let _ = engine.launch(program, args);
            }
        }
    }

    #[test]
    fn random_dfa_arrays_are_validated_or_safe(
        dfa in raw_dfa(),
        inputs in prop::collection::vec(short_bytes(b"\x00\x01\x02\x03\x04\x05\x06ab", 6), 1..8),
    ) {
        let mut t = Spec::new(Effect::Deny).table();
        t.fs = dfa.into();
        t.fs_rows = vec![[FAIL_CLOSED; 4]; 3];
        if let Ok(engine) = Engine::from_table(t) {
            for input in &inputs {
                // The engine's walk agrees with the plain reading of the table.
                let row = match engine.table().fs.accept_of(input) {
                    NONE => [FAIL_CLOSED; 4],
                    r => engine.table().fs_rows[r as usize],
                };
                prop_assert_eq!(engine.fs_row(input), row);
            }
        }
    }

}

/// A small automaton whose classes 1.. are single bytes (`\x01`, `\x02`, ...), so that
/// states left by at most three bytes exist and are skipped through, laid out as the
/// compiler lays it out.
fn small_layout() -> impl Strategy<Value = ByteDfa> {
    (2u32..6, 2usize..7).prop_flat_map(|(nclasses, nstates)| {
        let n = nstates as u32;
        let classes: Vec<u8> = (0..=255u8)
            .map(|b| if u32::from(b) < nclasses { b } else { 0 })
            .collect();
        let row = prop::collection::vec(
            prop_oneof![3 => Just(None), 2 => (0..n).prop_map(Some)],
            nclasses as usize,
        );
        (
            prop::collection::vec(row, nstates),
            prop::collection::vec(prop_oneof![Just(NONE), 0u32..3], nstates),
            1..n,
        )
            .prop_map(move |(rows, mut accept, start)| {
                // Row `s`: each class's target, `None` staying in `s` (self loops make
                // states that are skipped through). State 0 is dead.
                let mut dense: Vec<Vec<u32>> = rows
                    .iter()
                    .enumerate()
                    .map(|(s, r)| r.iter().map(|t| t.unwrap_or(s as u32)).collect())
                    .collect();
                dense[0] = vec![0; nclasses as usize];
                accept[0] = NONE;
                Dfa::from_dense(nclasses, classes.clone(), start, &dense, accept).into()
            })
    })
}

/// One change to a stored field of a layout: `(field, index, value)`.
fn layout_edit() -> impl Strategy<Value = (u8, usize, u32)> {
    (
        0u8..9,
        0usize..12,
        prop_oneof![
            8 => 0u32..8,
            1 => (0u32..8).prop_map(|v| v | SKIP_BASE),
            1 => Just(FREE),
            1 => Just(NONE),
            2 => (0u32..4).prop_map(|k| u32::from(SKIP) | k),
        ],
    )
}

fn apply(l: &mut Layout, (field, i, v): (u8, usize, u32)) {
    let ns = l.states.len();
    let nsl = l.slots.len();
    match field {
        0 => l.states[i % ns].default = v,
        1 => l.states[i % ns].default_base = v,
        2 => l.states[i % ns].exits[i % 3] = v as u8,
        3 => l.states[i % ns].exits[3] = v as u8,
        4 => l.slots[i % nsl].check = v,
        5 => l.slots[i % nsl].next = v,
        6 => l.slots[i % nsl].next_base = v,
        7 => l.accept[i % ns] = v,
        _ => l.states[i % ns].base = v,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// A layout with random stored fields changed is refused, or walks (skipping
    /// through the states it marks) exactly as the `Dfa` decoded from it steps: what
    /// validation checks in place is enough for the walk, whatever the file says.
    #[test]
    fn random_layouts_are_validated_or_walk_as_their_dfa(
        a in small_layout(),
        edits in prop::collection::vec(layout_edit(), 0..4),
        inputs in prop::collection::vec(short_bytes(b"\x01\x02\x03\x04\x05ab", 10), 1..10),
    ) {
        let mut t = sample_spec().table();
        let rows: Vec<FsRow> = (0..3u32)
            .map(|i| {
                let effect = t.rules.effect(i as usize).unwrap();
                [Decision { effect, rule: Some(RuleId(i)) }; 4]
            })
            .collect();
        t.fs_rows = rows;
        t.fs_anywhere = ByteDfa::empty();
        t.fs = a;
        // Unchanged, the compiler's layout is valid.
        prop_assert!(Engine::from_table(t.clone()).is_ok());
        for e in edits {
            apply(t.fs.layout_mut(), e);
        }
        // The same table through the file, read in place (owned vector) or from an
        // unaligned slice (copied once): the same verdict and the same walk.
        let bytes = t.to_bytes();
        let mut odd = vec![0u8];
        odd.extend_from_slice(&bytes);
        let loaded = [Engine::from_vec(bytes), Engine::from_bytes(&odd[1..])];
        let direct = Engine::from_table(t.clone());
        for l in &loaded {
            prop_assert_eq!(l.is_ok(), direct.is_ok());
        }
        if let (Ok(engine), [Ok(a), Ok(b)]) = (&direct, &loaded) {
            for input in &inputs {
                prop_assert_eq!(a.fs_row(input), engine.fs_row(input));
                prop_assert_eq!(b.fs_row(input), engine.fs_row(input));
            }
        }
        if let Ok(engine) = Engine::from_table(t) {
            let table = engine.table();
            for input in &inputs {
                let want = match table.fs.accept_of(input) {
                    NONE => [Decision { effect: table.agent.default, rule: None }; 4],
                    r => table.fs_rows[r as usize],
                };
                prop_assert_eq!(engine.fs_row(input), want, "{:?}", input);
            }
        }
    }
}

//! The v4 format: plan and identity round-trip, old versions are refused with a clear
//! error, and the listing names what a table holds.

use mxc_table::*;

fn table() -> Table {
    let allow = Decision {
        effect: Effect::Allow,
        rule: Some(RuleId(0)),
    };
    Table {
        target: Target::Linux,
        agent: AgentInfo {
            name: "a".into(),
            identity: Identity::Oidc {
                issuer: "https://id.example".into(),
                subject: "agent-7".into(),
                audience: "mxc".into(),
            },
            policies: vec!["base".into(), "team".into()],
            params: vec![("home".into(), "/home/alice".into())],
            source_hash: [0xab; 32],
            isolation: Isolation::Process,
            default: Effect::Deny,
            audit: AuditLevel::All,
            env_pass: vec!["PATH".into()],
            env_deny: vec![],
            memory_bytes: None,
            processes: Some(64),
            timeout_ms: None,
            cpus: None,
            clipboard: None,
            display: None,
        },
        plan: Plan {
            fs: vec![Grant {
                path: "/home/alice/work".into(),
                rights: FsRights::ALL,
                exact: true,
                subtree: true,
            }],
            fs_exact: true,
            exec: vec![Grant {
                path: "/usr/bin".into(),
                rights: AppRights::LAUNCH,
                exact: false,
                subtree: true,
            }],
            tcp_connect: None,
            tcp_bind: Some(vec![]),
        }
        .into(),
        rules: Rules::from(vec![RuleInfo {
            policy: "base".into(),
            file: "p.mxc".into(),
            line: 3,
            column: 5,
            effect: Effect::Allow,
            reason: Some("work".into()),
        }]),
        sections: Sections {
            automata: Automata::from_fn(|_| Dfa::empty().into()),
            fs_rows: vec![[allow; 4]],
            net_rows: vec![],
            app_rows: vec![],
        },
        fs_comp: None,
        net_hosts: Default::default(),
    }
}

#[test]
fn plan_and_identity_round_trip() {
    let t = table();
    let bytes = t.to_bytes();
    let back = Table::from_bytes(&bytes).unwrap();
    assert_eq!(back, t);
    validate(&back).unwrap();
    for identity in [
        Identity::Current,
        Identity::LocalUser("ünï".into()),
        Identity::LocalUid(1001),
        Identity::Entra {
            tenant: "t".into(),
            client: "c".into(),
        },
    ] {
        let mut t = table();
        t.agent.identity = identity;
        t.plan.tcp_connect = Some(vec![(1, 2), (443, 443)]);
        t.plan.fs_exact = false;
        assert_eq!(Table::from_bytes(&t.to_bytes()).unwrap(), t);
    }
}

/// Rewrites the version field (the checksum covers the payload only).
fn with_version(mut bytes: Vec<u8>, v: u32) -> Vec<u8> {
    bytes[8..12].copy_from_slice(&v.to_le_bytes());
    bytes
}

#[test]
fn older_versions_are_refused_with_a_clear_error() {
    assert_eq!(FORMAT_VERSION, 7);
    let bytes = table().to_bytes();
    for old in [1, 2, 3, 4, 5, 6] {
        let err = Table::from_bytes(&with_version(bytes.clone(), old)).unwrap_err();
        assert_eq!(
            err,
            LoadError::Version {
                found: old,
                supported: 7
            }
        );
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("version {old}")) && msg.contains("version 7"),
            "{msg}"
        );
        assert!(msg.contains("recompile"), "{msg}");
    }
    // A newer one too.
    assert!(matches!(
        Table::from_bytes(&with_version(bytes, 8)),
        Err(LoadError::Version { found: 8, .. })
    ));
}

#[test]
fn bad_plan_bytes_are_malformed() {
    let t = table();
    let bytes = t.to_bytes();
    // The plan is the section before the last two (the per-component fs section, one 0
    // byte for a table without it, and the net hosts section, 36 bytes when empty: probe
    // bound, one empty slot, no entries, no key bytes, one filter word): its fs grant's
    // rights byte
    // follows the count (4) and the path's string id (4).
    // fs: count, path id, rights, flags; fs_exact; exec: count, path id, rights,
    // flags; connect tag (none); bind tag (some) and its count.
    let plan_len = 4 + 4 + 1 + 1 + 1 + 4 + 4 + 1 + 1 + 1 + 1 + 4;
    let hosts_len = 4 + 4 + 8 + 4 + 4 + 4 + 8;
    assert_eq!(
        bytes[bytes.len() - hosts_len - 1],
        0,
        "no per-component section"
    );
    let start = bytes.len() - hosts_len - 1 - plan_len;
    for (offset, value) in [(8usize, 0x10u8), (9, 4)] {
        let mut b = bytes.clone();
        b[start + offset] = value;
        let payload = b[28..].to_vec();
        b[16..20].copy_from_slice(&crc32fast_hash(&payload).to_le_bytes());
        let err = Table::from_bytes(&b).unwrap_err().to_string();
        assert!(err.contains("malformed section `plan`"), "{err}");
    }
}

/// CRC-32 (IEEE), bit by bit: enough for a test, and independent of the crate's.
fn crc32fast_hash(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn listing_names_what_the_table_holds() {
    let l = table().listing();
    for want in [
        "table format 7, target linux",
        "identity: oidc(issuer: \"https://id.example\"",
        "policies: base, team",
        "param home = /home/alice",
        "/home/alice/work [read, write, create, delete] exact subtree",
        "/usr/bin [launch] subtree (wider than the rules)",
        "tcp connect ports: any",
        "tcp bind ports: none",
        "#0 allow (base p.mxc:3:5) because \"work\"",
    ] {
        assert!(l.contains(want), "missing {want:?} in\n{l}");
    }
}

/// The rules section is decoded only when a rule is asked for, but loading still checks
/// it whole: a rule naming a string that does not exist, or with no valid effect, is
/// refused at load (never a rule that cannot be decoded later).
#[test]
fn rules_are_decoded_lazily_and_checked_at_load() {
    let t = table();
    let bytes = t.to_bytes();
    let back = Table::from_bytes(&bytes).unwrap();
    assert_eq!(back.rules.len(), 1);
    assert_eq!(back.rules.effect(0), Some(Effect::Allow));
    assert_eq!(back.rules.get(0), t.rules.get(0));
    assert_eq!(back, t);

    // Where rule 0's record starts: the directory's third entry (kind 3, `rules`).
    const HEADER: usize = 28;
    let entry = HEADER + 4 + 2 * 20;
    assert_eq!(
        u32::from_le_bytes(bytes[entry..entry + 4].try_into().unwrap()),
        3
    );
    let offset = u64::from_le_bytes(bytes[entry + 4..entry + 12].try_into().unwrap());
    let record = HEADER + offset as usize + 4;
    let reseal = |mut b: Vec<u8>| {
        let crc = crc32fast::hash(&b[HEADER..]);
        b[16..20].copy_from_slice(&crc.to_le_bytes());
        b
    };
    for (at, value, problem) in [
        (
            0,
            99u32.to_le_bytes().to_vec(),
            "policy refers to string 99",
        ),
        (4, 77u32.to_le_bytes().to_vec(), "file refers to string 77"),
        (
            17,
            55u32.to_le_bytes().to_vec(),
            "reason refers to string 55",
        ),
        (16, vec![7], "bad effect byte 7"),
    ] {
        let mut b = bytes.clone();
        b[record + at..record + at + value.len()].copy_from_slice(&value);
        match Table::from_bytes(&reseal(b)) {
            Err(LoadError::Malformed {
                section,
                problem: p,
            }) => {
                assert_eq!(section, "rules");
                assert!(p.contains(problem), "{p}");
            }
            r => panic!("{problem}: {r:?}"),
        }
    }
    // No reason is a valid reason.
    let mut b = bytes.clone();
    b[record + 17..record + 21].copy_from_slice(&u32::MAX.to_le_bytes());
    let back = Table::from_bytes(&reseal(b)).unwrap();
    assert_eq!(back.rules.get(0).unwrap().reason, None);
}

/// The rows sections are decoded record by record from fixed-size chunks: a count the
/// bytes do not hold, a trailing byte, or a bad effect in any of an fs row's four
/// decisions is refused at load, naming the section (never a panic or a short row).
#[test]
fn rows_are_checked_record_by_record() {
    let t = table();
    let bytes = t.to_bytes();
    const HEADER: usize = 28;
    // Directory entry `kind` (1-based): its offset and length.
    let entry = |kind: usize| {
        let e = HEADER + 4 + (kind - 1) * 20;
        assert_eq!(
            u32::from_le_bytes(bytes[e..e + 4].try_into().unwrap()),
            kind as u32
        );
        let off = u64::from_le_bytes(bytes[e + 4..e + 12].try_into().unwrap()) as usize;
        let len = u64::from_le_bytes(bytes[e + 12..e + 20].try_into().unwrap()) as usize;
        (HEADER + off, len)
    };
    let reseal = |mut b: Vec<u8>| {
        let crc = crc32fast::hash(&b[HEADER..]);
        b[16..20].copy_from_slice(&crc.to_le_bytes());
        b
    };
    let (fs_rows, len) = entry(RowSet::Fs.section() as usize);
    assert_eq!(len, 4 + 20, "one fs row of four 5-byte decisions");
    let malformed = |b: Vec<u8>, want: &str| match Table::from_bytes(&reseal(b)) {
        Err(LoadError::Malformed { section, problem }) => {
            assert_eq!(section, "fs rows");
            assert!(problem.contains(want), "{problem}");
        }
        r => panic!("{want}: {r:?}"),
    };
    // Each decision's effect byte.
    for d in 0..4 {
        let mut b = bytes.clone();
        b[fs_rows + 4 + 5 * d] = 9;
        malformed(b, "bad effect byte 9");
    }
    // More rows than the bytes hold.
    let mut b = bytes.clone();
    b[fs_rows..fs_rows + 4].copy_from_slice(&2u32.to_le_bytes());
    malformed(b, "do not fit");
    // Fewer rows than the bytes hold.
    let mut b = bytes.clone();
    b[fs_rows..fs_rows + 4].copy_from_slice(&0u32.to_le_bytes());
    malformed(b, "20 unexpected bytes at the end");
    // A rule index that exists nowhere is the validation's business (a valid record).
    let mut b = bytes.clone();
    b[fs_rows + 5..fs_rows + 9].copy_from_slice(&1234u32.to_le_bytes());
    let back = Table::from_bytes(&reseal(b)).unwrap();
    assert_eq!(back.fs_rows[0][0].rule, Some(RuleId(1234)));
    assert!(matches!(validate(&back), Err(LoadError::Invalid { .. })));
}

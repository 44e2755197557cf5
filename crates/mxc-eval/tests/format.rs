//! The `.mxcb` format: round trips, and every corruption or truncation is a clean error.

mod common;

use common::*;
use mxc_eval::*;

fn sample_bytes() -> (Table, Vec<u8>) {
    let table = sample_spec().table();
    let bytes = table.to_bytes();
    (table, bytes)
}

#[test]
fn round_trip() {
    let (table, bytes) = sample_bytes();
    assert_eq!(&bytes[..8], &MAGIC);
    assert_eq!(Table::from_bytes(&bytes).unwrap(), table);
    let engine = Engine::from_bytes(&bytes).unwrap();
    assert_eq!(engine.table(), &table);
    assert_eq!(
        engine.table().to_bytes(),
        bytes,
        "serialisation is deterministic"
    );

    // A table with every optional field set the other way.
    let mut t = table.clone();
    t.target = Target::Windows;
    t.agent.memory_bytes = None;
    t.agent.timeout_ms = Some(u64::MAX);
    t.agent.clipboard = None;
    t.agent.display = Some(Effect::Ask);
    t.agent.env_pass.clear();
    t.agent.isolation = Isolation::Microvm;
    t.agent.audit = AuditLevel::None;
    t.agent.name = "ünïcødé ✓".into();
    t.rules.make_mut()[0].reason = Some(String::new());
    let back = Engine::from_bytes(&t.to_bytes()).unwrap();
    assert_eq!(back.table(), &t);
    assert_eq!(back.target(), Target::Windows);

    // Even an invalid table round-trips through `Table::from_bytes`.
    let mut bad = table.clone();
    bad.fs.edit(|d| d.start = 10_000);
    bad.net.layout_mut().states[1].default_base ^= 1;
    assert_eq!(Table::from_bytes(&bad.to_bytes()).unwrap(), bad);
    assert!(Engine::from_bytes(&bad.to_bytes()).is_err());
    // An automaton whose arrays do not fit together has no layout: it is written as
    // one that is refused.
    let mut bad = table.clone();
    bad.fs.edit(|d| d.classes.truncate(3));
    assert!(Engine::from_bytes(&bad.to_bytes()).is_err());
}

#[test]
fn decisions_survive_the_round_trip() {
    let (table, bytes) = sample_bytes();
    let a = Engine::from_table(table).unwrap();
    let b = Engine::from_bytes(&bytes).unwrap();
    for path in [&b"/home/u/.env"[..], b"/tmp/x", b"/etc/passwd", b"/x"] {
        assert_eq!(a.fs_row(path), b.fs_row(path));
    }
    assert_eq!(
        a.launch(b"/usr/bin/git", &["push", "--force"]),
        b.launch(b"/usr/bin/git", &["push", "--force"])
    );
}

/// The bytes at an odd address: a slice of a vector that starts one byte earlier.
fn unaligned(bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes.len() + 1);
    v.push(0);
    v.extend_from_slice(bytes);
    v
}

#[test]
fn every_single_byte_corruption_is_an_error() {
    let (_, bytes) = sample_bytes();
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x80, 0xFF, 0x5A] {
            let mut b = bytes.clone();
            b[i] ^= mask;
            assert!(
                Engine::from_bytes(&b).is_err(),
                "flipping {mask:#04x} at byte {i} went undetected"
            );
            assert!(
                Engine::from_bytes(&unaligned(&b)[1..]).is_err(),
                "flipping {mask:#04x} at byte {i} went undetected (unaligned input)"
            );
            assert!(
                Engine::from_vec(b).is_err(),
                "flipping {mask:#04x} at byte {i} went undetected (from_vec)"
            );
        }
    }
}

/// Every way in loads the same table: from a borrowed slice (aligned or not: copied once
/// into an aligned buffer) and from an owned vector (kept), and the loaded arrays are
/// read where they lie in that buffer, not copied per section.
#[test]
fn loads_read_the_file_in_place() {
    let (table, bytes) = sample_bytes();
    let odd = unaligned(&bytes);
    let engines = [
        Engine::from_bytes(&bytes).unwrap(),
        Engine::from_bytes(&odd[1..]).unwrap(),
        Engine::from_vec(bytes.clone()).unwrap(),
    ];
    let reference = Engine::from_table(table).unwrap();
    for e in &engines {
        let t = e.table();
        assert_eq!(t, reference.table());
        if cfg!(target_endian = "little") {
            for (k, a) in t.iter() {
                let l = a.layout();
                assert!(
                    l.states.is_in_place() && l.accept.is_in_place(),
                    "{}",
                    k.name()
                );
                assert!(l.slots.is_in_place() || l.slots.is_empty(), "{}", k.name());
            }
            if let Some(c) = &t.fs_comp {
                assert!(c.is_in_place());
            }
            assert!(t.net_hosts.slots.is_in_place() && t.net_hosts.entries.is_in_place());
        }
        for path in [&b"/home/u/.env"[..], b"/tmp/x", b"/etc/passwd", b"/x"] {
            assert_eq!(e.fs_row(path), reference.fs_row(path));
        }
        assert_eq!(
            e.launch(b"/usr/bin/git", &["push", "--force"]),
            reference.launch(b"/usr/bin/git", &["push", "--force"])
        );
    }
}

/// Format v7 places each section at a multiple of 8 in the file, after zero padding: a
/// section moved off its place, or padding that is not zeros, is refused.
#[test]
fn sections_are_aligned_and_padded_with_zeros() {
    let (_, bytes) = sample_bytes();
    let p = &bytes[28..];
    let n = u32::from_le_bytes(p[0..4].try_into().unwrap()) as usize;
    let mut padded = 0;
    for i in 0..n {
        let at = 4 + 20 * i;
        let offset = u64::from_le_bytes(p[at + 4..at + 12].try_into().unwrap());
        assert_eq!((28 + offset) % 8, 0, "section {}", i + 1);
        if i > 0 {
            let prev = 4 + 20 * (i - 1);
            let end = u64::from_le_bytes(p[prev + 4..prev + 12].try_into().unwrap())
                + u64::from_le_bytes(p[prev + 12..prev + 20].try_into().unwrap());
            if end < offset {
                padded += 1;
                // A padding byte set, the checksum recomputed: refused.
                let b = reseal(bytes.clone(), |q| q[end as usize] = 1);
                let err = Engine::from_bytes(&b).unwrap_err().to_string();
                assert!(err.contains("padding"), "{err}");
            }
        }
    }
    assert!(padded > 0, "the sample has no padding to test");
}

#[test]
fn every_truncation_is_an_error() {
    let (_, bytes) = sample_bytes();
    for len in 0..bytes.len() {
        let err = Engine::from_bytes(&bytes[..len]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("truncated table"), "{len}: {msg}");
    }
}

#[test]
fn error_messages() {
    let (_, bytes) = sample_bytes();
    let msg = |b: &[u8]| Engine::from_bytes(b).unwrap_err().to_string();

    assert_eq!(
        msg(b"hello world, this is not a table"),
        "not an MXC table (bad magic)"
    );
    assert_eq!(msg(b"MXCC"), "not an MXC table (bad magic)");
    assert_eq!(
        msg(b"MXCB"),
        "truncated table: 4 bytes, shorter than the 28-byte header"
    );

    // Older tables (v2: the `**/` automaton read paths forwards; v3: no plan, an
    // untyped identity; v4: the per-component fs section as lists, hash tables built at
    // load; v5: the byte automata as arrays, laid out for the walk at load, no net hosts
    // section, no literal paths; v6: sections not aligned, so read by copy, and no
    // re-entry table in the per-component fs section) are refused, naming both versions
    // and what to do.
    for old in [2u32, 3, 4, 5, 6] {
        let mut v = bytes.clone();
        v[8..12].copy_from_slice(&old.to_le_bytes());
        assert_eq!(
            msg(&v),
            format!(
                "table format version {old}, but this engine reads version 7 only: recompile \
                 the table from its policy source (`mxcc compile`) with this version of mxcc"
            )
        );
    }

    let mut v = bytes.clone();
    v[8..12].copy_from_slice(&8u32.to_le_bytes());
    assert_eq!(
        Engine::from_bytes(&v).unwrap_err(),
        LoadError::Version {
            found: 8,
            supported: 7
        }
    );
    assert!(msg(&v).starts_with("table format version 8, but this engine reads version 7"));
    // The version is read before anything else can go wrong.
    assert!(msg(&v[..12]).starts_with("table format version 8, but this engine reads version 7"));

    let mut v = bytes.clone();
    let last = v.len() - 1;
    v[last] ^= 1;
    assert!(msg(&v).starts_with("checksum mismatch: the table is corrupted"));

    let mut v = bytes.clone();
    v.push(0);
    assert_eq!(
        msg(&v),
        "trailing garbage: 1 bytes after the end of the table"
    );

    let mut v = bytes.clone();
    v[12..16].copy_from_slice(&9u32.to_le_bytes());
    assert_eq!(
        msg(&v),
        "unknown target 9 (expected 1 for linux or 2 for windows)"
    );
    // A target changed to the other valid one is caught by its copy in the payload.
    let mut v = bytes.clone();
    v[12..16].copy_from_slice(&2u32.to_le_bytes());
    assert_eq!(
        msg(&v),
        "malformed section `agent info`: target 1 does not match the header's target 2"
    );

    assert!(msg(&bytes[..bytes.len() - 10]).starts_with("truncated table: the header declares"));
}

/// Rewrites the payload of a table with a new checksum: corruption that the checksum
/// cannot catch, to exercise the checks behind it.
fn reseal(mut bytes: Vec<u8>, edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut payload = bytes.split_off(28);
    edit(&mut payload);
    bytes[16..20].copy_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    bytes[20..28].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend(payload);
    bytes
}

#[test]
fn resealed_corruption_is_still_caught_or_harmless() {
    let (_, bytes) = sample_bytes();
    assert_eq!(reseal(bytes.clone(), |_| {}), bytes);
    let mut errors = 0;
    let payload_len = bytes.len() - 28;
    for i in 0..payload_len {
        for mask in [0x01u8, 0x80, 0xFF] {
            let b = reseal(bytes.clone(), |p| p[i] ^= mask);
            match Engine::from_bytes(&b) {
                Err(_) => errors += 1,
                Ok(e) => {
                    // Undetectable (e.g. a line number): decisions still never panic.
                    let _ = e.fs(b"/home/u/.env", FsRight::Read);
                    let _ = e.fs_row(b"/tmp/x");
                    let _ = e.launch(b"/usr/bin/git", &["push"]);
                    let _ = e.net(&NetRequest {
                        right: NetRight::Connect,
                        proto: Proto::Tcp,
                        host: Host::Name("example.com"),
                        port: 443,
                        program: None,
                    });
                }
            }
        }
    }
    assert!(
        errors > payload_len,
        "most payload corruptions are structural"
    );

    // Directory damage.
    let msg = |b: Vec<u8>| Engine::from_bytes(&b).unwrap_err().to_string();
    assert_eq!(
        msg(reseal(bytes.clone(), |p| p[0] = 8)),
        "malformed section `section directory`: 8 sections, expected 13"
    );
    assert_eq!(
        msg(reseal(bytes.clone(), |p| p[4] = 2)),
        "malformed section `section directory`: entry 1 has kind 2, expected 1 (`agent info`)"
    );
    // Section 4 (`fs dfa`) length made huge.
    assert!(msg(reseal(bytes.clone(), |p| {
        let at = 4 + 3 * 20 + 12;
        p[at..at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    }))
    .starts_with("truncated table: section `fs dfa` ends at byte"));
    assert!(msg(reseal(bytes.clone(), |p| p.push(0))).starts_with("trailing garbage"));
}

#[test]
fn hostile_counts_do_not_allocate() {
    // An fs dfa section claiming 4 billion states, or 4 billion slots, in a few bytes.
    let (_, bytes) = sample_bytes();
    for (field, what) in [(8, "4294967295 states"), (12, "4294967295 slots")] {
        let b = reseal(bytes.clone(), |p| {
            let entry = 4 + 3 * 20;
            let off = u64::from_le_bytes(p[entry + 4..entry + 12].try_into().unwrap()) as usize;
            // nclasses, start, then the number of states and of slots.
            let at = off + field;
            p[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        });
        let err = Engine::from_bytes(&b).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("malformed section `fs dfa`: {what}")),
            "{err}"
        );
    }
}

/// The strings section (count, each string's end, then the text) is checked once at
/// load: the text UTF-8, the ends in order, inside the text and on character
/// boundaries. Each broken, the table is refused naming the section.
#[test]
fn broken_strings_are_refused() {
    let mut t = sample_spec().table();
    // String 0 is the agent's name: two bytes, one character.
    t.agent.name = "é".into();
    let bytes = t.to_bytes();
    Engine::from_bytes(&bytes).unwrap();
    let edit = |f: &dyn Fn(&mut [u8])| {
        let b = reseal(bytes.clone(), |p| {
            let entry = 4 + 20;
            let off = u64::from_le_bytes(p[entry + 4..entry + 12].try_into().unwrap()) as usize;
            let len = u64::from_le_bytes(p[entry + 12..entry + 20].try_into().unwrap()) as usize;
            f(&mut p[off..off + len]);
        });
        Engine::from_bytes(&b).unwrap_err().to_string()
    };
    let n = |s: &[u8]| u32::from_le_bytes(s[0..4].try_into().unwrap()) as usize;
    // A byte of the text that is no UTF-8 (in string 0's second byte).
    let got = edit(&|s| {
        let text = 4 + 4 * n(s);
        s[text + 1] = 0xFF;
    });
    assert!(
        got.starts_with("malformed section `strings`: string 0 is not valid UTF-8"),
        "{got}"
    );
    // String 0 ending inside its character.
    let got = edit(&|s| s[4..8].copy_from_slice(&1u32.to_le_bytes()));
    assert!(got.contains("on character boundaries"), "{got}");
    // Ends out of order.
    let got = edit(&|s| s[8..12].copy_from_slice(&0u32.to_le_bytes()));
    assert!(got.contains("not in order"), "{got}");
    // The last end short of the text's end.
    let got = edit(&|s| {
        let last = 4 * n(s);
        let e = u32::from_le_bytes(s[last..last + 4].try_into().unwrap()) - 1;
        s[last..last + 4].copy_from_slice(&e.to_le_bytes());
    });
    assert!(got.contains("the last at its end"), "{got}");
}

//! The net host jump table (section 13, `net hosts`): the policy's literal host names
//! (`api.example.com`, `localhost`, the `example.com` of `*.example.com`), each with the
//! net automaton's state after reading it, so that a request naming one of them skips
//! the byte walk of its name.
//!
//! For each stored key `S` (lowercased, no trailing dot) and each of the four request
//! prefixes (right × protocol, [`combo`]), the compiler runs the real net automaton over
//! the encoding ([`crate::encoding`]) `right proto HOST_NAME rev(S) NAME_END` and stores
//! the state reached (`full`); the engine resumes there with the port. The states are
//! exact by construction; a name not found (or longer than [`MAX_NAME`]) is walked byte
//! by byte as before. (Suffixes at label boundaries, with the state after `rev(S) .`,
//! were tried: the extra probes cost more than the bytes they saved, see
//! docs/performance.md.)
//!
//! The keys sit in an open-addressing hash table (linear probing, a power of two of
//! slots, at least four per key, so that a miss meets an empty slot soon). The hash
//! ([`hash`]) reads a key in 8-byte words from its end ([`word`]), then its leading
//! partial word and its length ([`finish`]), case folded. Before hashing, a filter of
//! about 8 bits per key, indexed by the name's first 8 bytes and length ([`filter_bit`]),
//! sends most names that are no key straight to the walk. Every probe compares the
//! key's bytes (never trusts the hash); a key that would sit further than
//! [`MAX_PROBE`] slots from its home is left out (its names are walked).
//!
//! Section layout (little-endian): `max_probe u32`, `slots count u32 × u64` (0 empty,
//! else the entry's index + 1 in the low 32 bits and the hash's high 32 bits above),
//! `entries count u32 × { start u32, len u32, full 4 × u32 }`, `bytes
//! count u32 × u8` (the keys' bytes), `filter count u32 × u64` (see [`filter_bit`]).

use crate::comp::{K, SEED};
use crate::format::{put_len, put_u32, LoadError, Reader};
use crate::words::{FileBytes, View};
use std::sync::Arc;

/// The section's name (errors, listing).
pub const SECTION: &str = "net hosts";
/// The most slots a lookup probes (a stored bound may be smaller).
pub const MAX_PROBE: u32 = 8;
/// The longest key, and the longest request name looked up (DNS names have at most
/// 253 bytes; longer names are walked byte by byte).
pub const MAX_NAME: usize = 255;
/// Request prefixes: right (connect, bind) × protocol (tcp, udp).
pub const COMBOS: usize = 4;

const ENTRY_LEN: usize = 24;

/// One stored key: its bytes (`bytes[start..start + len]`) and, per [`combo`], the net
/// automaton's state after the key and `NAME_END` (`full`), as the table's `Dfa`
/// numbers its states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct HostEntry {
    pub start: u32,
    pub len: u32,
    pub full: [u32; COMBOS],
}

/// The jump table (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetHosts {
    /// Most slots a lookup probes (at most [`MAX_PROBE`] and the number of slots).
    pub max_probe: u32,
    /// A power of two of slots: 0 empty, else `entry + 1 | tag << 32`.
    pub slots: View<u64>,
    pub entries: View<HostEntry>,
    pub bytes: View<u8>,
    /// A bit per (first 8 bytes, length) class of the keys ([`filter_bit`]), a power of
    /// two of words: a name whose bit is clear is no key, and is walked without hashing.
    pub filter: View<u64>,
}

impl crate::words::Word for HostEntry {
    #[inline(always)]
    fn le_to_native(self) -> HostEntry {
        HostEntry {
            start: u32::from_le(self.start),
            len: u32::from_le(self.len),
            full: self.full.map(u32::from_le),
        }
    }
}

impl Default for NetHosts {
    /// No keys: one empty slot, nothing probed.
    fn default() -> Self {
        NetHosts {
            max_probe: 0,
            slots: vec![0].into(),
            entries: View::default(),
            bytes: View::default(),
            filter: vec![0].into(),
        }
    }
}

/// The index of a request prefix among [`COMBOS`]: `right` 1 (connect) or 2 (bind),
/// `proto` 1 (tcp) or 2 (udp), as the encoding writes them.
#[inline(always)]
pub fn combo(right: u8, proto: u8) -> usize {
    usize::from(right == 2) << 1 | usize::from(proto == 2)
}

#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a).wrapping_mul(u128::from(b));
    (p as u64) ^ (p.wrapping_shr(64) as u64)
}

/// The running hash before any word.
#[inline(always)]
pub fn seed() -> u64 {
    SEED
}

/// Set in every byte before hashing: folds ASCII case (`A` and `a` hash alike) in one
/// instruction. Other bytes may collide too (`\x0e` and `.`): the hash only chooses
/// where to look, the key's bytes decide.
const CASE: u64 = 0x2020_2020_2020_2020;

/// The running hash after one more whole word (8 bytes, little-endian, any case), words
/// taken from the key's end towards its start.
#[inline(always)]
pub fn word(h: u64, w: u64) -> u64 {
    fold(h ^ (w | CASE), K)
}

/// The hash of a key of `len` bytes from the running hash over its `len / 8` last
/// whole words and its first `len % 8` bytes (`partial`, little-endian, zero above).
#[inline(always)]
pub fn finish(h: u64, partial: u64, len: usize) -> u64 {
    fold(h ^ (partial | CASE) ^ SEED, K.wrapping_add(len as u64))
}

/// The hash of a key (ASCII case does not matter).
pub fn hash(key: &[u8]) -> u64 {
    let mut h = seed();
    let mut rest = key;
    while let Some((head, tail)) = rest.split_last_chunk::<8>() {
        h = word(h, u64::from_le_bytes(*tail));
        rest = head;
    }
    let mut p = [0u8; 8];
    for (d, &s) in p.iter_mut().zip(rest) {
        *d = s;
    }
    finish(h, u64::from_le_bytes(p), key.len())
}

/// The filter bit of a name: `head` its first 8 bytes, little-endian, zero past a
/// shorter name's end (any case), `len` its length; reduce modulo the filter's bits.
#[inline(always)]
pub fn filter_bit(head: u64, len: usize) -> usize {
    fold(head | CASE, K ^ (len as u64)) as usize
}

/// The first 8 bytes of a name, little-endian, zero past its end.
pub fn head(name: &[u8]) -> u64 {
    let mut p = [0u8; 8];
    for (d, &s) in p.iter_mut().zip(name) {
        *d = s;
    }
    u64::from_le_bytes(p)
}

impl NetHosts {
    /// Builds the table from keys (lowercased names, each at most [`MAX_NAME`] bytes;
    /// duplicates and longer keys are left out) and their states. A key that would sit
    /// further than [`MAX_PROBE`] slots from its home is left out too.
    pub fn new(keys: &[(Vec<u8>, [u32; COMBOS])]) -> NetHosts {
        let nslots = keys
            .len()
            .saturating_mul(4)
            .saturating_add(1)
            .checked_next_power_of_two()
            .unwrap_or(1)
            .max(2);
        let mask = nslots.wrapping_sub(1);
        // About 8 filter bits per key (a name that is no key passes one time in 8).
        let nwords = (keys.len() / 8)
            .checked_next_power_of_two()
            .unwrap_or(1)
            .max(1);
        let mut out = NetHosts {
            max_probe: 0,
            slots: vec![0; nslots].into(),
            entries: View::default(),
            bytes: View::default(),
            filter: vec![0; nwords].into(),
        };
        'keys: for (key, full) in keys {
            if key.len() > MAX_NAME || key.is_empty() {
                continue;
            }
            let h = hash(key);
            let mut i = (h as usize) & mask;
            for d in 0..MAX_PROBE {
                let Some(&slot) = out.slots.get(i) else {
                    continue 'keys;
                };
                if slot == 0 {
                    let (Ok(start), Ok(len), Ok(e)) = (
                        u32::try_from(out.bytes.len()),
                        u32::try_from(key.len()),
                        u32::try_from(out.entries.len().saturating_add(1)),
                    ) else {
                        continue 'keys;
                    };
                    out.bytes.to_mut().extend_from_slice(key);
                    out.entries.to_mut().push(HostEntry {
                        start,
                        len,
                        full: *full,
                    });
                    if let Some(s) = out.slots.get_mut(i) {
                        *s = u64::from(e) | (h & !0xffff_ffff);
                    }
                    out.max_probe = out.max_probe.max(d.saturating_add(1));
                    out.set_filter(key);
                    continue 'keys;
                }
                if out.key_of(slot) == Some(key.as_slice()) {
                    continue 'keys;
                }
                i = i.wrapping_add(1) & mask;
            }
        }
        out
    }

    fn set_filter(&mut self, key: &[u8]) {
        let bits = self.filter.len().wrapping_mul(64);
        let b = filter_bit(head(key), key.len()) & bits.wrapping_sub(1);
        if let Some(w) = self.filter.get_mut(b / 64) {
            *w |= 1u64 << (b % 64);
        }
    }

    /// Whether the filter lets a name with this head and length through.
    #[inline(always)]
    pub fn may_hold(&self, head: u64, len: usize) -> bool {
        let bits = self.filter.len().wrapping_mul(64);
        let b = filter_bit(head, len) & bits.wrapping_sub(1);
        self.filter
            .get(b / 64)
            .is_some_and(|w| w.wrapping_shr(b as u32 % 64) & 1 != 0)
    }

    /// The entry a full slot names.
    #[inline(always)]
    pub fn entry_of(&self, slot: u64) -> Option<&HostEntry> {
        self.entries.get(((slot as u32) as usize).wrapping_sub(1))
    }

    /// The key bytes of a full slot's entry.
    pub fn key_of(&self, slot: u64) -> Option<&[u8]> {
        let e = self.entry_of(slot)?;
        let start = e.start as usize;
        self.bytes.get(start..start.checked_add(e.len as usize)?)
    }

    /// The entry whose key is `key` (lowercased), probing at most `max_probe` slots.
    /// The reference lookup (the engine's is the same, with the hash computed its way).
    pub fn find(&self, key: &[u8]) -> Option<&HostEntry> {
        if !self.may_hold(head(key), key.len()) {
            return None;
        }
        self.find_hashed(key, hash(key))
    }

    /// [`NetHosts::find`] with the key's [`hash`] given.
    #[inline(always)]
    pub fn find_hashed(&self, key: &[u8], h: u64) -> Option<&HostEntry> {
        self.probe(h, |k| k == key)
    }

    /// The first entry, among the at most `max_probe` slots from the home of hash `h`
    /// that carry its tag, whose key `is` says is the one looked for.
    #[inline(always)]
    pub fn probe(&self, h: u64, is: impl Fn(&[u8]) -> bool) -> Option<&HostEntry> {
        // The slices once (views of the file: see `crate::words`).
        let (slots, entries, bytes) = (&*self.slots, &*self.entries, &*self.bytes);
        let mask = slots.len().wrapping_sub(1);
        let tag = h & !0xffff_ffff;
        let mut i = (h as usize) & mask;
        for _ in 0..self.max_probe {
            let slot = *slots.get(i)?;
            if slot == 0 {
                return None;
            }
            if slot & !0xffff_ffff == tag {
                let e = entries.get(((slot as u32) as usize).wrapping_sub(1))?;
                let start = e.start as usize;
                if is(bytes.get(start..start.wrapping_add(e.len as usize))?) {
                    return Some(e);
                }
            }
            i = i.wrapping_add(1) & mask;
        }
        None
    }

    /// Number of stored keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

// ---------------------------------------------------------------------------------------
// Format

pub(crate) fn write_section(out: &mut Vec<u8>, t: &NetHosts) {
    put_u32(out, t.max_probe);
    put_len(out, t.slots.len());
    for s in &t.slots {
        out.extend_from_slice(&s.to_le_bytes());
    }
    put_len(out, t.entries.len());
    for e in &t.entries {
        put_u32(out, e.start);
        put_u32(out, e.len);
        for s in &e.full {
            put_u32(out, *s);
        }
    }
    put_len(out, t.bytes.len());
    out.extend_from_slice(&t.bytes);
    put_len(out, t.filter.len());
    for w in &t.filter {
        out.extend_from_slice(&w.to_le_bytes());
    }
}

pub(crate) fn read_section(buf: &[u8], file: &Arc<FileBytes>) -> Result<NetHosts, LoadError> {
    let mut r = Reader::new(buf, SECTION);
    let max_probe = r.u32()?;
    let n = r.count(8, "slots")?;
    let slots = View::of(file, r.take(n.saturating_mul(8))?);
    let n = r.count(ENTRY_LEN, "entries")?;
    let entries = View::of(file, r.take(n.saturating_mul(ENTRY_LEN))?);
    let n = r.count(1, "key bytes")?;
    let bytes = View::of(file, r.take(n)?);
    let n = r.count(8, "filter words")?;
    let filter = View::of(file, r.take(n.saturating_mul(8))?);
    r.finish()?;
    Ok(NetHosts {
        max_probe,
        slots,
        entries,
        bytes,
        filter,
    })
}

// ---------------------------------------------------------------------------------------
// Validation

fn invalid(problem: String) -> LoadError {
    LoadError::Invalid {
        section: SECTION,
        problem,
    }
}

/// Checks what a lookup relies on: a power of two of slots, some slot empty, the probe
/// bound at most [`MAX_PROBE`] and the number of slots; a power of two of filter words,
/// no more than the slots; every full slot names an entry;
/// every entry's key inside the key bytes, 1 to [`MAX_NAME`] bytes long; every state
/// below `nstates` (the net automaton's). Whatever the section says, a lookup reads
/// nothing outside it, probes at most [`MAX_PROBE`] slots, and resumes the walk in a
/// state of the automaton.
pub(crate) fn validate(t: &NetHosts, nstates: usize) -> Result<(), LoadError> {
    let n = t.slots.len();
    if !n.is_power_of_two() {
        return Err(invalid(format!("slots: {n}, not a power of two")));
    }
    if !t.slots.contains(&0) {
        return Err(invalid("slots: none empty".into()));
    }
    if t.max_probe > MAX_PROBE || t.max_probe as usize > n {
        return Err(invalid(format!(
            "max_probe: {} (at most {MAX_PROBE} and the {n} slots)",
            t.max_probe
        )));
    }
    let nf = t.filter.len();
    if !nf.is_power_of_two() || nf > n {
        return Err(invalid(format!(
            "filter: {nf} words, not a power of two up to the {n} slots"
        )));
    }
    let ne = t.entries.len();
    for (i, &s) in t.slots.iter().enumerate() {
        let e = (s as u32) as usize;
        if s != 0 && (e == 0 || e > ne) {
            return Err(invalid(format!(
                "slot {i}: entry {e} - 1 not below the {ne} entries"
            )));
        }
    }
    for (i, e) in t.entries.iter().enumerate() {
        let len = e.len as usize;
        if len == 0 || len > MAX_NAME {
            return Err(invalid(format!(
                "entry {i}: key of {len} bytes (1 to {MAX_NAME})"
            )));
        }
        if (e.start as usize)
            .checked_add(len)
            .is_none_or(|end| end > t.bytes.len())
        {
            return Err(invalid(format!(
                "entry {i}: key bytes {}+{len} past the {} key bytes",
                e.start,
                t.bytes.len()
            )));
        }
        if let Some(s) = e.full.iter().find(|&&s| s as usize >= nstates) {
            return Err(invalid(format!(
                "entry {i}: state {s} not below the {nstates} net states"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn suffix_hashes_share_words() {
        // The engine's way: running hash over whole words from the end, then finish.
        let name = b"cdn.eu.domain17.example.org";
        for k in 0..name.len() {
            let s = &name[k..];
            let mut h = seed();
            let mut end = name.len();
            for _ in 0..s.len() / 8 {
                h = word(
                    h,
                    u64::from_le_bytes(name[end - 8..end].try_into().unwrap()),
                );
                end -= 8;
            }
            let r = s.len() % 8;
            let mut p = [0u8; 8];
            p[..r].copy_from_slice(&name[k..k + r]);
            assert_eq!(finish(h, u64::from_le_bytes(p), s.len()), hash(s), "{k}");
        }
    }

    #[test]
    fn build_and_find() {
        let keys: Vec<_> = (0..500u32)
            .map(|i| (format!("svc{i}.example.com").into_bytes(), [i; 4]))
            .collect();
        let t = NetHosts::new(&keys);
        assert!(t.max_probe <= MAX_PROBE);
        assert!(t.len() > 490, "{} of 500 kept", t.len());
        validate(&t, 1000).unwrap();
        for (k, full) in &keys {
            if let Some(e) = t.find(k) {
                assert_eq!(&e.full, full);
            }
        }
        assert!(t.find(b"svc1.example.co").is_none());
        assert!(t.find(b"").is_none());
        let mut out = Vec::new();
        write_section(&mut out, &t);
        let file = Arc::new(FileBytes::owned(out));
        let back = read_section(file.bytes(), &file).unwrap();
        assert_eq!(back, t);
        // Slots, entries and key bytes are read in place; the filter (after the key
        // bytes, at any offset) too when it happens to be aligned, else copied.
        assert!(back.slots.is_in_place() && back.entries.is_in_place());
        assert!(back.bytes.is_in_place());
    }
}

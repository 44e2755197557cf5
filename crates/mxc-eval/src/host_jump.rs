//! The net host jump (see `mxc_table::hosts`): finds the stored key that a request's
//! host name is, so that [`Engine::net`] resumes the automaton's walk after the name
//! instead of walking it byte by byte.
//!
//! The name is read in 8-byte words: tested for NUL, hashed (case folded by the hash),
//! probed, and compared with the key a word at a time (lowercasing only a word that
//! differs).
//!
//! [`Engine::net`]: crate::Engine::net

use mxc_table::hosts::{finish, seed, word, HostEntry, NetHosts, MAX_NAME};

/// What a lookup found.
pub(crate) enum Jump<'a> {
    /// The name is a key: resume at the entry's `full` state (after `NAME_END`).
    Full(&'a HostEntry),
    /// No key found (or the name is longer than [`MAX_NAME`], or the table is empty):
    /// walk the name.
    Miss,
    /// The name holds a NUL: deny.
    Nul,
}

use crate::word::{load, zero_bytes, HIGH as HI, ONES as LO};

/// ASCII lowercase of each byte of a word (SWAR): bytes `A`..=`Z` get `0x20`.
#[inline(always)]
fn lower(w: u64) -> u64 {
    let heptets = w & !HI;
    let ge_a = heptets.wrapping_add(LO.wrapping_mul(0x3f)); // 0x80 - b'A'
    let gt_z = heptets.wrapping_add(LO.wrapping_mul(0x25)); // 0x7f - b'Z'
    w | ((ge_a & !gt_z & !w & HI) >> 2)
}

/// Whether some byte of the word is 0.
#[inline(always)]
fn has_zero(w: u64) -> bool {
    zero_bytes(w) != 0
}

/// The low `r` bytes of a word (`r` < 8).
#[inline(always)]
fn low(w: u64, r: usize) -> u64 {
    w & (1u64.wrapping_shl((r as u32).wrapping_mul(8))).wrapping_sub(1)
}

/// Whether `s` lowercased (ASCII) is `key`, a word at a time (the last word overlaps
/// the one before when the length is not a multiple of 8).
#[inline(always)]
fn eq_lower(key: &[u8], s: &[u8]) -> bool {
    let n = key.len();
    if n != s.len() {
        return false;
    }
    if n < 8 {
        return key.iter().zip(s).all(|(a, b)| *a == b.to_ascii_lowercase());
    }
    let mut i = 0;
    let last = n.wrapping_sub(8);
    // Names usually come lowercase: lowercase a word only when it differs.
    let same = |i: usize| {
        let (a, b) = (load(key, i), load(s, i));
        a == b || a == lower(b)
    };
    while i < last {
        if !same(i) {
            return false;
        }
        i = i.wrapping_add(8);
    }
    same(last)
}

/// The hash of `name[k..]` (see `mxc_table::hosts::hash`, which folds case): its whole words
/// from the end, then its first `(len - k) % 8` bytes. `head`: the name's first 8 bytes.
#[inline(always)]
fn hash_from(name: &[u8], head: u64, k: usize) -> u64 {
    let l = name.len();
    let mut h = seed();
    let mut end = l;
    let m = l.wrapping_sub(k);
    let r = m % 8;
    let stop = k.wrapping_add(r);
    while end > stop {
        end = end.wrapping_sub(8);
        h = word(h, load(name, end));
    }
    let partial = if r == 0 {
        0
    } else if stop >= 8 {
        load(name, stop.wrapping_sub(8))
            .wrapping_shr(64u32.wrapping_sub((r as u32).wrapping_mul(8)))
    } else {
        low(head.wrapping_shr((k as u32).wrapping_mul(8)), r)
    };
    finish(h, partial, m)
}

/// Looks `name` (trailing dot already dropped, any case) up in `t`.
#[inline(always)]
pub(crate) fn lookup<'a>(t: &'a NetHosts, name: &[u8]) -> Jump<'a> {
    let l = name.len();
    if t.max_probe == 0 || l > MAX_NAME {
        return Jump::Miss;
    }
    // The first 8 bytes (zero past a shorter name's end); a name the filter keeps out is
    // no key (walked, with its NUL test).
    let head = if l >= 8 {
        load(name, 0)
    } else {
        mxc_table::hosts::head(name)
    };
    if !t.may_hold(head, l) {
        return Jump::Miss;
    }
    // The NUL test, a word at a time.
    let mut zero = false;
    let mut end = l;
    while end >= 8 {
        end = end.wrapping_sub(8);
        zero |= has_zero(load(name, end));
    }
    if zero || has_zero(head | !low(!0, l % 8)) {
        return Jump::Nul;
    }
    if let Some(e) = t.probe(hash_from(name, head, 0), |key| eq_lower(key, name)) {
        return Jump::Full(e);
    }
    Jump::Miss
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn swar_helpers_agree_with_bytes() {
        for b in 0..=255u8 {
            for pos in 0..8 {
                let mut a = [b'q'; 8];
                a[pos] = b;
                let w = u64::from_le_bytes(a);
                let want: [u8; 8] = a.map(|c| c.to_ascii_lowercase());
                assert_eq!(lower(w), u64::from_le_bytes(want), "{b:#x} at {pos}");
                assert_eq!(has_zero(w), b == 0);
            }
        }
        assert!(eq_lower(b"api.example.com", b"API.Example.COM"));
        assert!(!eq_lower(b"api.example.com", b"API.Example.COMx"));
        assert!(!eq_lower(b"api.example.cpm", b"API.Example.COM"));
        assert!(!eq_lower(b"apj.example.com", b"API.Example.COM"));
        assert!(eq_lower(b"a.com", b"A.Com"));
        assert!(!eq_lower(b"a.com", b"A.Con"));
        // The engine's suffix hashes are the reference's.
        let name = b"CDN.eu.Domain17.Example.ORG.x";
        let head = load(name, 0);
        for k in 0..name.len() {
            let key = name[k..].to_ascii_lowercase();
            assert_eq!(
                hash_from(name, head, k),
                mxc_table::hosts::hash(&key),
                "{k}"
            );
        }
        for short in [&b"a"[..], b"A.b", b"abcdefg"] {
            let mut b = [0u8; 8];
            b[..short.len()].copy_from_slice(short);
            let head = u64::from_le_bytes(b);
            for k in 0..short.len() {
                let key = short[k..].to_ascii_lowercase();
                assert_eq!(hash_from(short, head, k), mxc_table::hosts::hash(&key));
            }
        }
    }
}

//! The checks a [`Table`] passes before an engine (`mxc_eval::Engine`) is built from it.
//!
//! Everything the decision path relies on is checked here, once, so that the decision
//! path never meets an out-of-range index. Validation must never panic and must reject
//! rather than repair: a table that fails any check is not used at all.

use crate::format::LoadError;
use crate::table::{ByteDfa, Decision, RowSet, Slot, StateRec, Table, FREE, NONE, SKIP, SKIP_BASE};

/// The most states, and the most transition slots, an automaton may have (2^31).
pub const MAX_ENTRIES: u32 = 1 << 31;

fn invalid(section: &'static str, problem: String) -> LoadError {
    LoadError::Invalid { section, problem }
}

/// Checks every invariant the decision path relies on:
///
/// - each byte automaton (fs, fs anywhere, net, app), checked in place on its walk
///   layout ([`crate::Layout`]): laid out at all (a [`crate::Dfa`] whose arrays' lengths
///   do not fit together is not); `nclasses` in 1..=256, every byte's class below it; at
///   least one state, at most [`MAX_ENTRIES`] states and slots, one accept per state;
///   `start`, every `default` and every slot's `next` a state; every slot's `check` a
///   state or [`crate::FREE`]; every `base + nclasses - 1` inside the slots; every carried
///   base (a record's `default_base`, a slot's `next_base`) equal to its target's; skip
///   bytes canonical (a skipped state's default is itself, at most 3 bytes listed, the
///   rest zero; other states list none) and complete (every slot that leaves a skipped
///   state holds a class whose bytes are all listed); every `accept` [`NONE`] or a row
///   index; state 0 dead (no accept, default 0, skipped through with no bytes listed,
///   so that no byte leaves it). Then a walk of any bytes from any state stays on
///   states and slots of the layout, and walks as the decoded [`crate::Dfa`] steps;
/// - each row decision: either a rule that exists and has the decision's effect, or no
///   rule and the agent's default effect;
/// - the net host jump table as `hosts::validate` says (slots, probe bound, keys in
///   range, states below the net automaton's).
pub fn validate(t: &Table) -> Result<(), LoadError> {
    for (k, dfa) in t.iter() {
        validate_dfa(k.name(), dfa, t.nrows(k.rows()))?;
    }
    if let Some(c) = &t.fs_comp {
        if t.target != crate::Target::Linux {
            return Err(invalid(
                crate::comp::SECTION,
                "per-component fs automata on a table that is not for linux".into(),
            ));
        }
        if t.fs.layout() != ByteDfa::empty().layout()
            || t.fs_anywhere.layout() != ByteDfa::empty().layout()
        {
            return Err(invalid(
                crate::comp::SECTION,
                "both per-component and byte fs automata".into(),
            ));
        }
        crate::comp::validate(c, t.fs_rows.len())?;
    }
    // The layout's count: `nstates()` would decode the `Dfa` form (megabytes, at load).
    crate::hosts::validate(&t.net_hosts, t.net.layout().states.len())?;
    // Every decision at once (a flag), then the search for the message only when one
    // is wrong.
    let default = t.agent.default;
    let ok = |d: &Decision| match d.rule {
        None => d.effect == default,
        Some(id) => t.rules.effect(id.0 as usize) == Some(d.effect),
    };
    let all = t.fs_rows.iter().flatten().fold(true, |a, d| a & ok(d))
        & t.net_rows.iter().fold(true, |a, d| a & ok(d))
        & t.app_rows.iter().fold(true, |a, d| a & ok(d));
    if all {
        return Ok(());
    }
    for set in RowSet::ALL {
        for row in 0..t.nrows(set) {
            for i in 0..set.width() {
                if let Some(d) = t.decision(set, row, i) {
                    validate_decision(t, set.name(), row, &d)?;
                }
            }
        }
    }
    Ok(())
}

/// A decision names an existing rule with that rule's effect, or no rule and the agent's
/// default (SPEC §6: the deciding rule has the winning effect; without one, the default
/// decides).
fn validate_decision(
    t: &Table,
    section: &'static str,
    row: usize,
    d: &Decision,
) -> Result<(), LoadError> {
    match d.rule {
        None if d.effect != t.agent.default => Err(invalid(
            section,
            format!(
                "row {row} decides `{}` with no rule, but the agent's default is `{}`",
                d.effect.as_str(),
                t.agent.default.as_str()
            ),
        )),
        None => Ok(()),
        Some(id) => match t.rules.effect(id.0 as usize) {
            None => Err(invalid(
                section,
                format!(
                    "row {row} names rule {}, but there are {} rules",
                    id.0,
                    t.rules.len()
                ),
            )),
            Some(effect) if effect != d.effect => Err(invalid(
                section,
                format!(
                    "row {row} decides `{}` by rule {}, but that rule's effect is `{}`",
                    d.effect.as_str(),
                    id.0,
                    effect.as_str()
                ),
            )),
            Some(_) => Ok(()),
        },
    }
}

/// Checks a byte automaton's walk layout in place: one pass over the states, one over
/// the slots (see [`validate`] for the list).
pub(crate) fn validate_dfa(s: &'static str, a: &ByteDfa, nrows: usize) -> Result<(), LoadError> {
    if let Some(problem) = a.shape_error() {
        return Err(invalid(s, problem.to_owned()));
    }
    let l = a.layout();
    if !(1..=256).contains(&l.nclasses) {
        return Err(invalid(
            s,
            format!("{} classes, expected 1 to 256", l.nclasses),
        ));
    }
    let max_class = l.classes.iter().fold(0u8, |m, &c| m.max(c));
    if u32::from(max_class) >= l.nclasses {
        if let Some((b, c)) = (0..=255u8)
            .zip(&l.classes)
            .find(|&(_, &c)| u32::from(c) >= l.nclasses)
        {
            return Err(invalid(
                s,
                format!(
                    "byte {b:#04x} is in class {c}, but there are {} classes",
                    l.nclasses
                ),
            ));
        }
    }
    let nstates = l.states.len();
    if nstates == 0 {
        return Err(invalid(
            s,
            "no states (state 0 must be the dead state)".into(),
        ));
    }
    // Below 2^31 states and slots: a carried base is flagged with bit 31, and a free
    // slot's check is no state.
    let n = u32::try_from(nstates)
        .ok()
        .filter(|&n| n <= MAX_ENTRIES)
        .ok_or_else(|| invalid(s, format!("{nstates} states is too many")))?;
    if l.slots.len() > MAX_ENTRIES as usize {
        return Err(invalid(
            s,
            format!("{} transition slots is too many", l.slots.len()),
        ));
    }
    if l.accept.len() != nstates {
        return Err(invalid(
            s,
            format!("{} accepts for {nstates} states", l.accept.len()),
        ));
    }
    if l.start >= n {
        return Err(invalid(
            s,
            format!("start state {} out of range ({n} states)", l.start),
        ));
    }
    let nslots = l.slots.len() as u64;
    let last_class = u64::from(l.nclasses.saturating_sub(1));
    // States: default a state, base + last class inside the slots, exits canonical
    // (a skipped state loops on itself by default, counts at most 3 exit bytes and
    // zeroes the rest; any other state has no exits). Branch-free flags, searched for
    // the offending state only when one is set.
    let state_ok = |i: usize, r: &StateRec| -> bool {
        let w = u32::from_le_bytes(r.exits);
        let f = r.exits[3];
        let exits_ok = if f & SKIP != 0 {
            // The bytes past the count are zero and the flags byte holds nothing else.
            let mask = (1u32 << (8 * u32::from(f & 3))).wrapping_sub(1);
            w & !mask == u32::from(f & (SKIP | 3)) << 24 && r.default as usize == i
        } else {
            w == 0
        };
        (r.default < n) & (u64::from(r.base).saturating_add(last_class) < nslots) & exits_ok
    };
    let mut all = true;
    for (i, r) in l.states.iter().enumerate() {
        all &= state_ok(i, r);
    }
    if !all {
        if let Some((i, r)) = l.states.iter().enumerate().find(|&(i, r)| !state_ok(i, r)) {
            let b = r.base;
            return Err(invalid(
                s,
                if r.default >= n {
                    format!("default[{i}] = {} out of range ({n} states)", r.default)
                } else if u64::from(b).saturating_add(last_class) >= nslots {
                    format!(
                        "base[{i}] = {b}: {b} + {last_class} is past the {nslots} transition slots"
                    )
                } else {
                    format!(
                        "state {i}'s skip bytes {:?} are not canonical (a skipped state \
                         loops on itself by default and lists at most 3 bytes)",
                        r.exits
                    )
                },
            ));
        }
    }
    // Every base is now below 2^31: the carried bases can be compared. Each state's, in
    // one array (bit 31: skipped through), read by the checks below.
    let carried_of: Vec<u32> = l.states.iter().map(StateRec::carried).collect();
    let carried = |t: u32| -> u32 { carried_of.get(t as usize).copied().unwrap_or(NONE) };
    let defaults_ok = l
        .states
        .iter()
        .fold(true, |ok, r| ok & (r.default_base == carried(r.default)));
    if let Some((i, r)) = (!defaults_ok)
        .then(|| l.states.iter().enumerate())
        .into_iter()
        .flatten()
        .find(|(_, r)| r.default_base != carried(r.default))
    {
        return Err(invalid(
            s,
            format!(
                "default_base[{i}] = {:#x}, but state {}'s carried base is {:#x}",
                r.default_base,
                r.default,
                carried(r.default)
            ),
        ));
    }
    // NONE + 1 wraps to 0: an accept is NONE or a row iff `a + 1 <= nrows`.
    let bad_accept = l.accept.iter().fold(0u32, |m, &a| m.max(a.wrapping_add(1))) as usize > nrows;
    if let Some((i, a)) = bad_accept
        .then(|| l.accept.iter().enumerate())
        .into_iter()
        .flatten()
        .find(|&(_, &a)| a != NONE && a as usize >= nrows)
    {
        return Err(invalid(
            s,
            format!("accept[{i}] = {a} out of range ({nrows} rows)"),
        ));
    }
    // State 0 is dead: it accepts nothing, its default is itself, and it is skipped
    // through with no exit bytes (so, by the slot check below, no byte leaves it).
    let dead = l
        .states
        .first()
        .is_some_and(|r| r.default == 0 && r.exits == [0, 0, 0, SKIP])
        && l.accept.first() == Some(&NONE);
    if !dead {
        return Err(invalid(
            s,
            "state 0 is not the dead state (it must not accept, its default must be 0, \
             and it must be skipped through with no exit bytes)"
                .into(),
        ));
    }
    // Bytes of each class (up to 4: a class of more than 3 bytes can leave no skipped
    // state).
    let mut class_bytes = [([0u8; 4], 0u8); 256];
    for (b, &c) in (0..=255u8).zip(l.classes.iter()) {
        if let Some((bytes, k)) = class_bytes.get_mut(usize::from(c)) {
            if let Some(x) = bytes.get_mut(usize::from(*k)) {
                *x = b;
            }
            *k = k.saturating_add(1).min(4);
        }
    }
    // Slots: every next a state with its carried base, every check a state or free;
    // a slot that leaves a skipped state holds a class whose bytes are its exits. A
    // branch-free pass, then the slow search for the message only when it failed.
    let leaves_ok = |i: usize, x: &Slot, owner: &StateRec| -> bool {
        let c = (i as u64).wrapping_sub(u64::from(owner.base));
        if c > last_class {
            return true;
        }
        let (bytes, k) = class_bytes.get(c as usize).copied().unwrap_or(([0; 4], 4));
        let exits = owner
            .exits
            .get(..usize::from(owner.exits[3] & 3))
            .unwrap_or(&[]);
        let _ = x;
        k <= 3 && bytes.iter().take(usize::from(k)).all(|b| exits.contains(b))
    };
    // The owner's carried base says whether it is skipped through (bit 31); its record
    // is read only for a slot that leaves a skipped state (at most 3 per such state).
    let co: &[u32] = &carried_of;
    let mut bad = false;
    for (i, x) in l.slots.iter().enumerate() {
        let cn = co.get(x.next as usize).copied().unwrap_or(0);
        bad |= (x.next >= n) | (x.next_base != cn);
        match co.get(x.check as usize) {
            None => bad |= x.check != FREE,
            // Rare: a slot that leaves a skipped state (at most 3 per such state).
            Some(&c) if c & SKIP_BASE != 0 && x.next != x.check => {
                bad |= !l
                    .states
                    .get(x.check as usize)
                    .is_some_and(|o| leaves_ok(i, x, o));
            }
            Some(_) => {}
        }
    }
    let fast = !bad;
    if fast {
        return Ok(());
    }
    for (i, x) in l.slots.iter().enumerate() {
        if x.next >= n {
            return Err(invalid(
                s,
                format!("next[{i}] = {} out of range ({n} states)", x.next),
            ));
        }
        if x.next_base != carried(x.next) {
            return Err(invalid(
                s,
                format!(
                    "next_base[{i}] = {:#x}, but state {}'s carried base is {:#x}",
                    x.next_base,
                    x.next,
                    carried(x.next)
                ),
            ));
        }
        match l.states.get(x.check as usize) {
            None if x.check != FREE => {
                return Err(invalid(
                    s,
                    format!(
                        "check[{i}] = {} is neither a state ({n} states) nor free",
                        x.check
                    ),
                ))
            }
            Some(o) if o.exits[3] & SKIP != 0 && x.next != x.check && !leaves_ok(i, x, o) => {
                return Err(invalid(
                    s,
                    format!(
                        "state {} is skipped through, but slot {i} leaves it on a class \
                         whose bytes are not all among its skip bytes {:?}",
                        x.check, o.exits
                    ),
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

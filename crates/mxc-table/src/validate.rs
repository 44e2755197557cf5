//! The checks a [`Table`] passes before an engine (`mxc_eval::Engine`) is built from it.
//!
//! Everything the decision path relies on is checked here, once, so that the decision
//! path never meets an out-of-range index. Validation must never panic and must reject
//! rather than repair: a table that fails any check is not used at all.

use crate::format::LoadError;
use crate::table::{Decision, Dfa, RowSet, Table, NONE};

/// The most states, and the most transition slots, an automaton may have (2^31).
pub const MAX_ENTRIES: u32 = 1 << 31;

fn invalid(section: &'static str, problem: String) -> LoadError {
    LoadError::Invalid { section, problem }
}

/// Checks every invariant the decision path relies on:
///
/// - each automaton (fs, fs anywhere, net, app): 256 byte classes, each below `nclasses`, `nclasses` in 1..=256;
///   at least one state, at most [`MAX_ENTRIES`] states and slots; `base` and `accept` as long as `default`; `check` as long as
///   `next`; `start`, every `default` and every `next` below the number of states;
///   every `check` a state or [`NONE`]; `base[s] + nclasses - 1 < next.len()`; every
///   `accept` [`NONE`] or a row index; state 0 dead (no accept, every transition to 0);
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
        if t.fs != Dfa::empty() || t.fs_anywhere != Dfa::empty() {
            return Err(invalid(
                crate::comp::SECTION,
                "both per-component and byte fs automata".into(),
            ));
        }
        crate::comp::validate(c, t.fs_rows.len())?;
    }
    crate::hosts::validate(&t.net_hosts, t.net.nstates())?;
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

pub(crate) fn validate_dfa(s: &'static str, dfa: &Dfa, nrows: usize) -> Result<(), LoadError> {
    if dfa.classes.len() != 256 {
        return Err(invalid(
            s,
            format!("{} byte classes, expected 256", dfa.classes.len()),
        ));
    }
    if !(1..=256).contains(&dfa.nclasses) {
        return Err(invalid(
            s,
            format!("{} classes, expected 1 to 256", dfa.nclasses),
        ));
    }
    if let Some((b, c)) = (0..=255u8)
        .zip(&dfa.classes)
        .find(|&(_, &c)| u32::from(c) >= dfa.nclasses)
    {
        return Err(invalid(
            s,
            format!(
                "byte {b:#04x} is in class {c}, but there are {} classes",
                dfa.nclasses
            ),
        ));
    }
    let nstates = dfa.default.len();
    if nstates == 0 {
        return Err(invalid(
            s,
            "no states (state 0 must be the dead state)".into(),
        ));
    }
    // Below 2^31 states and slots: the engine's walk flags a base with bit 31 and
    // marks a free slot with a check that is no state.
    let n = u32::try_from(nstates)
        .ok()
        .filter(|&n| n <= MAX_ENTRIES)
        .ok_or_else(|| invalid(s, format!("{nstates} states is too many")))?;
    if dfa.next.len() > MAX_ENTRIES as usize {
        return Err(invalid(
            s,
            format!("{} transition slots is too many", dfa.next.len()),
        ));
    }
    for (what, len) in [("bases", dfa.base.len()), ("accepts", dfa.accept.len())] {
        if len != nstates {
            return Err(invalid(s, format!("{len} {what} for {nstates} states")));
        }
    }
    if dfa.check.len() != dfa.next.len() {
        return Err(invalid(
            s,
            format!(
                "{} checks for {} next entries",
                dfa.check.len(),
                dfa.next.len()
            ),
        ));
    }
    if dfa.start >= n {
        return Err(invalid(
            s,
            format!("start state {} out of range ({n} states)", dfa.start),
        ));
    }
    // Each check is first a branch-free pass (a maximum, which the compiler
    // vectorises), and looks for the offending entry only when there is one.
    let state_range = |what: &str, v: &[u32]| -> Result<(), LoadError> {
        if v.iter().fold(0u32, |m, &x| m.max(x)) < n {
            return Ok(());
        }
        match v.iter().enumerate().find(|&(_, &x)| x >= n) {
            Some((i, x)) => Err(invalid(
                s,
                format!("{what}[{i}] = {x} out of range ({n} states)"),
            )),
            None => Ok(()),
        }
    };
    state_range("default", &dfa.default)?;
    state_range("next", &dfa.next)?;
    // NONE + 1 wraps to 0: a check is a state or NONE iff `x + 1 <= n`.
    let bad_check = dfa
        .check
        .iter()
        .fold(0u32, |m, &x| m.max(x.wrapping_add(1)))
        > n;
    if let Some((i, x)) = bad_check
        .then(|| dfa.check.iter().enumerate())
        .into_iter()
        .flatten()
        .find(|&(_, &x)| x >= n && x != NONE)
    {
        return Err(invalid(
            s,
            format!("check[{i}] = {x} is neither a state ({n} states) nor NONE"),
        ));
    }
    let nslots = dfa.next.len() as u64;
    let last_class = u64::from(dfa.nclasses.saturating_sub(1));
    let max_base = dfa.base.iter().fold(0u32, |m, &b| m.max(b));
    let bad_base = u64::from(max_base).saturating_add(last_class) >= nslots;
    if let Some((i, b)) = bad_base
        .then(|| dfa.base.iter().enumerate())
        .into_iter()
        .flatten()
        .find(|&(_, &b)| u64::from(b).saturating_add(last_class) >= nslots)
    {
        return Err(invalid(
            s,
            format!("base[{i}] = {b}: {b} + {last_class} is past the {nslots} transition slots"),
        ));
    }
    // NONE + 1 wraps to 0: an accept is NONE or a row iff `a + 1 <= nrows`.
    let bad_accept = dfa
        .accept
        .iter()
        .fold(0u32, |m, &a| m.max(a.wrapping_add(1))) as usize
        > nrows;
    if let Some((i, a)) = bad_accept
        .then(|| dfa.accept.iter().enumerate())
        .into_iter()
        .flatten()
        .find(|&(_, &a)| a != NONE && a as usize >= nrows)
    {
        return Err(invalid(
            s,
            format!("accept[{i}] = {a} out of range ({nrows} rows)"),
        ));
    }
    // State 0 is dead: it accepts nothing and every transition stays in it.
    if dfa.default.first() != Some(&0) || dfa.accept.first() != Some(&NONE) {
        return Err(invalid(
            s,
            "state 0 is not the dead state (its default must be 0 and it must not accept)".into(),
        ));
    }
    if let Some(b) = (0..=255u8).find(|&b| dfa.step(0, b) != 0) {
        return Err(invalid(
            s,
            format!("state 0 is not the dead state (byte {b:#04x} leaves it)"),
        ));
    }
    Ok(())
}

//! The seccomp filter: a small classic-BPF program, built here from a table of system
//! calls and what happens to each.
//!
//! Layout: reject any architecture but x86-64 (so the 32-bit and x32 system call tables
//! cannot be used to get around the filter), then a binary search over the listed
//! system call numbers, then one block per listed number. A number not listed (an
//! unknown or future system call) fails with `ENOSYS`: the filter is an allow-list.
//! System calls that MXC decides are sent to the supervisor (`SECCOMP_RET_USER_NOTIF`);
//! ways out of the sandbox that no policy can allow (io_uring, ptrace, namespaces, raw
//! and packet sockets, TIOCSTI, …) fail with an errno.

/// What the filter does with a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Allow,
    Notify,
    Errno(u16),
    Kill,
}

impl Action {
    fn ret(self) -> u32 {
        match self {
            Action::Allow => SECCOMP_RET_ALLOW,
            Action::Notify => SECCOMP_RET_USER_NOTIF,
            Action::Errno(e) => SECCOMP_RET_ERRNO | u32::from(e),
            Action::Kill => SECCOMP_RET_KILL_PROCESS,
        }
    }
}

/// A test on one argument. The filter reads 32-bit words; an argument is 64 bits.
#[derive(Clone, Copy, Debug)]
pub struct ArgTest {
    pub arg: u8,
    /// How much of the register the kernel uses.
    pub width: Width,
    /// For `Width::Int`, at most the low 32 bits.
    pub mask: u64,
    pub op: Op,
}

/// How the kernel reads an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// An `int`, `unsigned int`, `pid_t`, `umode_t` …: the kernel uses only the low 32
    /// bits, whatever the high half holds (a sign-extended `AT_FDCWD` or flags word
    /// included), so only the low word is tested.
    Int,
    /// A pointer, `long`, `unsigned long` or `size_t`: both halves matter (a pointer at
    /// a multiple of 4 GiB has a low half of 0).
    Long,
}

#[derive(Clone, Copy, Debug)]
pub enum Op {
    /// `(arg & mask) == v`
    Eq(u64),
    /// `(arg & mask) != v`
    Ne(u64),
    /// `(arg & mask) != 0`
    Any,
    /// `(arg & mask)` is none of these.
    NotIn(&'static [u64]),
}

/// `syscall` gets `action` when every test holds (rules for one call are tried in
/// order; the first that matches wins; when none matches, the call fails with
/// `ENOSYS`, as does a call with no rule at all).
#[derive(Clone, Debug)]
pub struct Rule {
    /// The system call's name (for plans and messages).
    pub name: &'static str,
    pub nr: i64,
    pub tests: Vec<ArgTest>,
    pub action: Action,
}

pub const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
pub const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
pub const SECCOMP_RET_USER_NOTIF: u32 = 0x7fc0_0000;
pub const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

// Classic BPF opcodes.
const LD_W_ABS: u16 = 0x20;
const JEQ_K: u16 = 0x15;
const JGE_K: u16 = 0x35;
const JSET_K: u16 = 0x45;
const AND_K: u16 = 0x54;
const RET_K: u16 = 0x06;
const JA: u16 = 0x05;

/// Offsets in `struct seccomp_data`.
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
fn off_arg_lo(i: u8) -> u32 {
    16 + 8 * u32::from(i)
}
/// The high half (x86-64 is little-endian).
fn off_arg_hi(i: u8) -> u32 {
    off_arg_lo(i) + 4
}

/// One BPF instruction (`struct sock_filter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

fn stmt(code: u16, k: u32) -> Insn {
    Insn {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

/// One stretch of call numbers, from `start` to the next stretch's start.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stretch {
    /// Every number here gets this return value.
    Ret(u32),
    /// One number with rules that test arguments: they are tried in order.
    Rules(u32),
}

/// Assembles the filter: after the architecture checks, a binary search (`jge`, with
/// a long `ja` to the upper half) over stretches of call numbers: a stretch is either
/// one number with argument tests, or a run of numbers with the same plain answer
/// (allowed, refused, held, or not listed at all: `ENOSYS`). The filter is an
/// allow-list: a number with no rule, or whose rules all fail to match, gets
/// `ENOSYS`. Its depth grows with the logarithm of the list; conditional jumps skip
/// at most one instruction, or past one rule's block (an error if that ever
/// overflowed, never a wrong program).
pub fn assemble(rules: &[Rule]) -> Result<Vec<Insn>, String> {
    let enosys = SECCOMP_RET_ERRNO | libc_enosys();
    let mut out = vec![
        stmt(LD_W_ABS, OFF_ARCH),
        Insn {
            code: JEQ_K,
            jt: 1,
            jf: 0,
            k: AUDIT_ARCH_X86_64,
        },
        stmt(RET_K, SECCOMP_RET_KILL_PROCESS),
        stmt(LD_W_ABS, OFF_NR),
        Insn {
            code: JGE_K,
            jt: 0,
            jf: 1,
            k: X32_SYSCALL_BIT,
        },
        stmt(RET_K, enosys),
    ];
    // The rules of each number, in their order.
    let mut by_nr: std::collections::BTreeMap<u32, Vec<&Rule>> = Default::default();
    for r in rules {
        let nr = u32::try_from(r.nr).map_err(|_| "bad system call number")?;
        if nr >= X32_SYSCALL_BIT {
            return Err("bad system call number".into());
        }
        by_nr.entry(nr).or_default().push(r);
    }
    // The stretches, covering 0..X32_SYSCALL_BIT.
    let mut stretches: Vec<(u32, Stretch)> = Vec::new();
    let push = |v: &mut Vec<(u32, Stretch)>, start: u32, s: Stretch| {
        if let Some(&(_, last)) = v.last() {
            if last == s && matches!(s, Stretch::Ret(_)) {
                return;
            }
        }
        v.push((start, s));
    };
    let mut next = 0u32;
    for (&nr, rs) in &by_nr {
        if nr > next {
            push(&mut stretches, next, Stretch::Ret(enosys));
        }
        let s = match rs[0] {
            r if r.tests.is_empty() => Stretch::Ret(r.action.ret()),
            _ => Stretch::Rules(nr),
        };
        push(&mut stretches, nr, s);
        next = nr + 1;
    }
    if next < X32_SYSCALL_BIT {
        push(&mut stretches, next, Stretch::Ret(enosys));
    }
    // Emit the tree: (instruction, index of the stretch range a `ja` goes to).
    let mut code: Vec<(Insn, Option<(usize, usize)>)> = Vec::new();
    let mut at: std::collections::HashMap<(usize, usize), usize> = Default::default();
    let mut todo = vec![(0usize, stretches.len())];
    while let Some((lo, hi)) = todo.pop() {
        at.insert((lo, hi), code.len());
        if hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            code.push((
                Insn {
                    code: JGE_K,
                    jt: 0,
                    jf: 1,
                    k: stretches[mid].0,
                },
                None,
            ));
            code.push((stmt(JA, 0), Some((mid, hi))));
            // The lower half follows at once; the upper half after it.
            todo.push((mid, hi));
            todo.push((lo, mid));
            continue;
        }
        match stretches[lo].1 {
            Stretch::Ret(k) => code.push((stmt(RET_K, k), None)),
            Stretch::Rules(nr) => {
                for rule in &by_nr[&nr] {
                    code.extend(rule_block(rule)?.into_iter().map(|i| (i, None)));
                }
                if by_nr[&nr].last().is_some_and(|r| !r.tests.is_empty()) {
                    code.push((stmt(RET_K, enosys), None));
                }
            }
        }
    }
    // Resolve the long jumps (offsets count from the next instruction).
    for (idx, (insn, target)) in code.iter_mut().enumerate() {
        if let Some(range) = target {
            let to = *at.get(range).ok_or("filter tree")?;
            if to <= idx {
                return Err("filter jump backwards".into());
            }
            insn.k = u32::try_from(to - idx - 1).map_err(|_| "filter too long")?;
        }
    }
    out.extend(code.into_iter().map(|(i, _)| i));
    if out.len() > 4096 {
        return Err("seccomp filter longer than 4096 instructions".into());
    }
    Ok(out)
}

/// Where a conditional jump of a rule's block goes.
#[derive(Clone, Copy)]
enum J {
    /// The next instruction.
    Fall,
    /// Past the block: this rule does not match.
    Fail,
    /// A label placed later in the block.
    To(usize),
}

/// A rule's block being built: instructions with symbolic jumps.
struct Block {
    code: Vec<(Insn, J, J)>,
    labels: Vec<Option<usize>>,
}

impl Block {
    fn stmt(&mut self, code: u16, k: u32) {
        self.code.push((stmt(code, k), J::Fall, J::Fall));
    }
    fn jump(&mut self, code: u16, k: u32, jt: J, jf: J) {
        self.code.push((
            Insn {
                code,
                jt: 0,
                jf: 0,
                k,
            },
            jt,
            jf,
        ));
    }
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }
    fn place(&mut self, l: usize) {
        self.labels[l] = Some(self.code.len());
    }
    /// Loads one word of an argument, masked (no `and` for a full mask).
    fn load(&mut self, off: u32, mask: u32) {
        self.stmt(LD_W_ABS, off);
        if mask != u32::MAX {
            self.stmt(AND_K, mask);
        }
    }
}

/// One rule: its argument tests (each jumping past the block when it fails), then its
/// return. A `Width::Long` test looks at both halves of the argument: "≠ 0" when
/// either half is, equal only when both halves are.
fn rule_block(rule: &Rule) -> Result<Vec<Insn>, String> {
    let mut b = Block {
        code: Vec::new(),
        labels: Vec::new(),
    };
    let lo32 = |v: u64| v as u32;
    let hi32 = |v: u64| (v >> 32) as u32;
    for t in &rule.tests {
        let next = b.label();
        let (mlo, mhi) = (lo32(t.mask), hi32(t.mask));
        let lo = off_arg_lo(t.arg);
        let hi = off_arg_hi(t.arg);
        if t.arg > 5 {
            return Err(format!("{}: no argument {}", rule.name, t.arg));
        }
        if t.width == Width::Int {
            let vals: &[u64] = match &t.op {
                Op::Eq(v) | Op::Ne(v) => std::slice::from_ref(v),
                Op::Any => &[],
                Op::NotIn(vs) => vs,
            };
            if mhi != 0 || vals.iter().any(|&v| hi32(v) != 0) {
                return Err(format!(
                    "{}: a test of a 32-bit argument with a 64-bit value",
                    rule.name
                ));
            }
        }
        match (t.width, t.op) {
            (Width::Int, Op::Any) => {
                b.stmt(LD_W_ABS, lo);
                b.jump(JSET_K, mlo, J::Fall, J::Fail);
            }
            (Width::Long, Op::Any) => {
                if mlo != 0 {
                    b.stmt(LD_W_ABS, lo);
                    b.jump(JSET_K, mlo, J::To(next), J::Fall);
                }
                if mhi != 0 {
                    b.stmt(LD_W_ABS, hi);
                    b.jump(JSET_K, mhi, J::To(next), J::Fall);
                }
                b.jump(JA, 0, J::Fall, J::Fall);
                // A `ja` to the failure: its offset is set like the others (below).
                let i = b.code.len() - 1;
                b.code[i].1 = J::Fail;
            }
            (Width::Int, Op::Eq(v)) => {
                b.load(lo, mlo);
                b.jump(JEQ_K, lo32(v), J::Fall, J::Fail);
            }
            (Width::Long, Op::Eq(v)) => {
                b.load(hi, mhi);
                b.jump(JEQ_K, hi32(v), J::Fall, J::Fail);
                b.load(lo, mlo);
                b.jump(JEQ_K, lo32(v), J::Fall, J::Fail);
            }
            (Width::Int, Op::Ne(v)) => {
                b.load(lo, mlo);
                b.jump(JEQ_K, lo32(v), J::Fail, J::Fall);
            }
            (Width::Long, Op::Ne(v)) => {
                b.load(hi, mhi);
                b.jump(JEQ_K, hi32(v), J::Fall, J::To(next));
                b.load(lo, mlo);
                b.jump(JEQ_K, lo32(v), J::Fail, J::Fall);
            }
            (Width::Int, Op::NotIn(vs)) => {
                b.load(lo, mlo);
                for &v in vs {
                    b.jump(JEQ_K, lo32(v), J::Fail, J::Fall);
                }
            }
            (Width::Long, Op::NotIn(vs)) => {
                for &v in vs {
                    let other = b.label();
                    b.load(hi, mhi);
                    b.jump(JEQ_K, hi32(v), J::Fall, J::To(other));
                    b.load(lo, mlo);
                    b.jump(JEQ_K, lo32(v), J::Fail, J::Fall);
                    b.place(other);
                }
            }
        }
        b.place(next);
    }
    b.stmt(RET_K, rule.action.ret());
    let end = b.code.len();
    let mut out = Vec::with_capacity(end);
    for (i, (mut insn, jt, jf)) in b.code.iter().copied().enumerate() {
        let off = |j: J| -> Result<u32, String> {
            let to = match j {
                J::Fall => return Ok(0),
                J::Fail => end,
                J::To(l) => b.labels[l].ok_or("filter label")?,
            };
            if to <= i {
                return Err("filter jump backwards".into());
            }
            Ok((to - i - 1) as u32)
        };
        if insn.code == JA {
            insn.k = off(jt)?;
        } else {
            insn.jt = u8::try_from(off(jt)?).map_err(|_| "filter block too long")?;
            insn.jf = u8::try_from(off(jf)?).map_err(|_| "filter block too long")?;
        }
        out.push(insn);
    }
    Ok(out)
}

fn libc_enosys() -> u32 {
    38
}

/// Runs the filter on one call, as the kernel would (for tests and `mxcc plan`).
pub fn simulate(prog: &[Insn], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
    let word = |off: u32| -> u32 {
        match off {
            OFF_NR => nr,
            OFF_ARCH => arch,
            o if (16..64).contains(&o) => {
                let i = ((o - 16) / 8) as usize;
                if (o - 16) % 8 == 0 {
                    args[i] as u32
                } else {
                    (args[i] >> 32) as u32
                }
            }
            _ => 0,
        }
    };
    let mut acc = 0u32;
    let mut pc = 0usize;
    while let Some(i) = prog.get(pc) {
        pc += 1;
        match i.code {
            LD_W_ABS => acc = word(i.k),
            AND_K => acc &= i.k,
            RET_K => return i.k,
            JA => pc += i.k as usize,
            JEQ_K | JGE_K | JSET_K => {
                let t = match i.code {
                    JEQ_K => acc == i.k,
                    JGE_K => acc >= i.k,
                    _ => acc & i.k != 0,
                };
                pc += usize::from(if t { i.jt } else { i.jf });
            }
            _ => return SECCOMP_RET_KILL_PROCESS,
        }
    }
    SECCOMP_RET_KILL_PROCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_tests() {
        let rules = vec![
            Rule {
                name: "t",
                nr: 41, // socket
                tests: vec![ArgTest {
                    arg: 0,
                    width: Width::Int,
                    mask: 0xffff_ffff,
                    op: Op::NotIn(&[1, 2, 10]),
                }],
                action: Action::Errno(97),
            },
            Rule {
                name: "t",
                nr: 41,
                tests: vec![
                    ArgTest {
                        arg: 0,
                        width: Width::Int,
                        mask: 0xffff_ffff,
                        op: Op::Ne(1),
                    },
                    ArgTest {
                        arg: 1,
                        width: Width::Int,
                        mask: 0xf,
                        op: Op::Eq(3),
                    },
                ],
                action: Action::Errno(1),
            },
            Rule {
                name: "t",
                nr: 16, // ioctl
                tests: vec![ArgTest {
                    arg: 1,
                    width: Width::Int,
                    mask: 0xffff_ffff,
                    op: Op::Eq(0x5412),
                }],
                action: Action::Errno(1),
            },
            Rule {
                name: "t",
                nr: 59,
                tests: vec![],
                action: Action::Notify,
            },
            Rule {
                name: "t",
                nr: 44, // sendto with MSG_FASTOPEN
                tests: vec![ArgTest {
                    arg: 3,
                    width: Width::Int,
                    mask: 0x2000_0000,
                    op: Op::Any,
                }],
                action: Action::Errno(95),
            },
        ];
        let p = assemble(&rules).unwrap();
        let a = AUDIT_ARCH_X86_64;
        let run = |nr, args| simulate(&p, a, nr, args);
        assert_eq!(run(41, [16, 3, 0, 0, 0, 0]), SECCOMP_RET_ERRNO | 97);
        assert_eq!(run(41, [2, 3, 0, 0, 0, 0]), SECCOMP_RET_ERRNO | 1);
        assert_eq!(run(41, [2, 0x80003, 0, 0, 0, 0]), SECCOMP_RET_ERRNO | 1);
        // No rule of socket matched: refused.
        assert_eq!(run(41, [2, 1, 0, 0, 0, 0]), SECCOMP_RET_ERRNO | 38);
        assert_eq!(run(16, [1, 0x5412, 0, 0, 0, 0]), SECCOMP_RET_ERRNO | 1);
        assert_eq!(run(16, [1, 0x5413, 0, 0, 0, 0]), SECCOMP_RET_ERRNO | 38);
        assert_eq!(run(59, [0; 6]), SECCOMP_RET_USER_NOTIF);
        assert_eq!(
            run(44, [3, 0, 0, 0x2000_0000, 0, 0]),
            SECCOMP_RET_ERRNO | 95
        );
        assert_eq!(run(44, [3, 0, 0, 0x40, 0, 0]), SECCOMP_RET_ERRNO | 38);
        // Not listed: refused (an allow-list), whatever the number.
        assert_eq!(run(0, [0; 6]), SECCOMP_RET_ERRNO | 38);
        assert_eq!(run(600, [0; 6]), SECCOMP_RET_ERRNO | 38);
        // Another architecture (i386 via int 0x80) and x32 numbers never pass.
        assert_eq!(
            simulate(&p, 0x4000_0003, 59, [0; 6]),
            SECCOMP_RET_KILL_PROCESS
        );
        assert_eq!(run(59 | 0x4000_0000, [0; 6]), SECCOMP_RET_ERRNO | 38);
    }

    /// Every test on a 64-bit argument looks at both halves; a 32-bit (`int`) argument
    /// only at the low half, as the kernel does (a sign-extended value still matches).
    #[test]
    fn long_arguments_are_tested_whole() {
        let t = |width, mask, op| ArgTest {
            arg: 4,
            width,
            mask,
            op,
        };
        let rule = |nr, test| Rule {
            name: "t",
            nr,
            tests: vec![test],
            action: Action::Notify,
        };
        let p = assemble(&[
            rule(1, t(Width::Long, u64::MAX, Op::Ne(0))),
            rule(2, t(Width::Long, u64::MAX, Op::Any)),
            rule(3, t(Width::Long, u64::MAX, Op::Eq(0x1_0000_0005))),
            rule(4, t(Width::Long, u64::MAX, Op::NotIn(&[0, 0x2_0000_0000]))),
            rule(5, t(Width::Int, 0xffff_ffff, Op::Eq(0xffff_ff9c))),
            rule(6, t(Width::Int, 0xffff_ffff, Op::Ne(0))),
            rule(7, t(Width::Long, 0xff_0000_00ff, Op::Any)),
            rule(8, t(Width::Long, 0xff_0000_00ff, Op::Eq(0x5_0000_0006))),
        ])
        .unwrap();
        let run = |nr, v: u64| simulate(&p, AUDIT_ARCH_X86_64, nr, [0, 0, 0, 0, v, 0]);
        let held = SECCOMP_RET_USER_NOTIF;
        let no = SECCOMP_RET_ERRNO | 38;
        for nr in [1, 2] {
            assert_eq!(run(nr, 0), no);
            assert_eq!(run(nr, 8), held);
            // A pointer at a multiple of 4 GiB: the low half is 0.
            assert_eq!(run(nr, 1 << 32), held);
            assert_eq!(run(nr, 0x7fff_0000_0000), held);
            assert_eq!(run(nr, u64::MAX), held);
        }
        assert_eq!(run(3, 0x1_0000_0005), held);
        assert_eq!(run(3, 5), no);
        assert_eq!(run(3, 0x2_0000_0005), no);
        assert_eq!(run(3, 0x1_0000_0004), no);
        assert_eq!(run(4, 0), no);
        assert_eq!(run(4, 0x2_0000_0000), no);
        assert_eq!(run(4, 0x1_0000_0000), held);
        assert_eq!(run(4, 0x2_0000_0001), held);
        // `int` arguments: AT_FDCWD sign-extended or not, the same (the kernel reads
        // the low half only).
        assert_eq!(run(5, 0xffff_ff9c), held);
        assert_eq!(run(5, (-100i64) as u64), held);
        assert_eq!(run(5, 0x1_ffff_ff9c), held);
        assert_eq!(run(6, 1 << 32), no);
        assert_eq!(run(6, 1), held);
        // Masks of both halves.
        assert_eq!(run(7, 0x00ff_ff00), no);
        assert_eq!(run(7, 0x1_0000_0000), held);
        assert_eq!(run(7, 0x1), held);
        assert_eq!(run(7, 0x100_0000_0000), no);
        assert_eq!(run(8, 0x5_0000_0006), held);
        assert_eq!(run(8, 0xff05_1234_5606), held);
        assert_eq!(run(8, 0x6_0000_0006), no);
        // A 64-bit value for a 32-bit argument is a mistake, not a silent truncation.
        assert!(assemble(&[rule(9, t(Width::Int, u64::MAX, Op::Any))]).is_err());
        assert!(assemble(&[rule(9, t(Width::Int, 0xffff_ffff, Op::Eq(1 << 32)))]).is_err());
    }
}

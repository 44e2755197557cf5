//! Concluding: a decision becomes allowed or denied (asking for `ask`, remembering
//! answers for the run, `--learn`), counted, recorded (audit, denial sink).

use super::*;

impl Supervisor {
    /// Turns a decision into allowed (`true`) or denied, asking for `ask` (an answer
    /// "for this run" is remembered for this exact right and target), and records it.
    /// `enforcement`: refused by MXC itself whatever the policy says, and why.
    pub fn conclude(
        &self,
        right: Right,
        target: &Target,
        d: Decision,
        who: &dyn Fn() -> (u32, String),
        enforcement: Option<&'static str>,
    ) -> bool {
        self.stats.decisions.fetch_add(1, Ordering::Relaxed);
        let mut effect = d.effect;
        let mut asked = None;
        if let Some(l) = &self.learned {
            if enforcement.is_some() {
                // Refused by MXC itself even while learning: recorded as refused (in
                // the learned policy's comments and the audit log), never learned.
                if let Ok(mut l) = l.lock() {
                    l.refused(right, target);
                }
            } else {
                // Learning: allowed, and remembered for the policy written at the end
                // (files and programs are recorded where their rights are known).
                if right.class() == Class::Network {
                    if let Ok(mut l) = l.lock() {
                        l.net(right, target);
                    }
                }
                effect = Effect::Allow;
            }
        }
        if effect == Effect::Ask {
            let remembered = self
                .remembered
                .lock()
                .map(|s| s.contains(right, target))
                .unwrap_or(false);
            let answer = if remembered {
                AskAnswer::AllowOnce
            } else {
                // One question at a time on the terminal.
                let a = {
                    let _one = self.asking.lock();
                    let (pid, program) = who();
                    (self.asker)(&AskRequest::new(
                        &self.engine,
                        right,
                        target,
                        &d,
                        pid,
                        program,
                    ))
                };
                if let Ok(mut s) = self.remembered.lock() {
                    s.keep(right, target, a);
                }
                a
            };
            asked = Some(answer);
            effect = mxc_enforce::ask::effect_of(answer);
        }
        let wanted = self
            .audit_level
            .is_some_and(|l| mxc_enforce::audit::wants(l, effect, asked));
        let denied = effect == Effect::Deny;
        if denied {
            self.stats.denials.fetch_add(1, Ordering::Relaxed);
        }
        if wanted || (denied && self.on_denial.is_some()) {
            let (pid, program) = who();
            let rec = Record {
                right,
                target: target.clone(),
                decision: d,
                effect,
                asked,
                pid,
                program,
                enforcement,
            };
            if denied {
                self.tell(&rec);
            }
            if wanted {
                if let Some(Ok(mut a)) = self.audit.as_ref().map(|a| a.lock()) {
                    a.record(&self.engine, &rec);
                }
            }
        }
        effect == Effect::Allow
    }
}

impl Supervisor {
    /// `--learn`: whether connecting to `targets` (already recorded as attempted)
    /// succeeded; a target never reached is not learned (a refused connection).
    pub fn connected(&self, targets: &[Target], ok: bool) {
        if let Some(l) = &self.learned {
            if let Ok(mut l) = l.lock() {
                for t in targets {
                    l.connected(Right::Connect, t, ok);
                }
            }
        }
    }

    /// Tells the run's denial sink, never while a question is on the terminal.
    pub fn tell(&self, d: &Denial) {
        if let Some(sink) = &self.on_denial {
            let _one = self.asking.lock();
            sink(d);
        }
    }
}

impl Call<'_> {
    /// Decides `rights` on `path`: allowed only if each is (after asking, for `ask`).
    /// A call that asks for no right at all is refused: every held call that reaches
    /// a path needs one, and a handler that computed none (an open with access mode 3
    /// did, before `open_plan` asked read and write for it) must not pass undecided.
    pub(super) fn decide_fs(&mut self, path: &[u8], rights: &[FsRight]) -> Result<(), Errno> {
        self.learn_fs(path, rights);
        match decide::fs_check(&self.sup.engine, path, rights) {
            Some(c) => self.settle(c),
            None => Err(Errno::ACCESS),
        }
    }

    /// `--learn`: `rights` on `path` were asked for.
    pub(super) fn learn_fs(&self, path: &[u8], rights: &[FsRight]) {
        if let Some(l) = &self.sup.learned {
            if let Ok(mut l) = l.lock() {
                for &r in rights {
                    l.fs(path, r.into());
                }
            }
        }
    }

    /// Settles what a decider returned: allowed, or `EACCES` (asking for `ask`).
    pub(super) fn settle(&mut self, c: decide::Check) -> Result<(), Errno> {
        self.conclude(c.right, &c.target, c.decision)
    }

    /// Turns a decision into allowed / EACCES, asking for `ask`, and audits it.
    pub(super) fn conclude(
        &mut self,
        right: Right,
        target: &Target,
        d: Decision,
    ) -> Result<(), Errno> {
        self.conclude_why(right, target, d, None)
    }

    /// Refuses (and audits) what MXC's enforcement refuses whatever the policy says.
    pub(super) fn refuse(&mut self, right: Right, target: &Target, why: &'static str) {
        let d = Decision {
            effect: Effect::Deny,
            rule: None,
        };
        let _ = self.conclude_why(right, target, d, Some(why));
    }

    pub(super) fn conclude_why(
        &mut self,
        right: Right,
        target: &Target,
        d: Decision,
        enforcement: Option<&'static str>,
    ) -> Result<(), Errno> {
        // Who asked is looked up only when a record or a question needs it.
        let tid = self.n.pid;
        let known = self.tgid;
        let who = std::cell::OnceCell::new();
        let get = || {
            who.get_or_init(|| {
                let pid = known.unwrap_or_else(|| resolve::Asker { tid, tgid: None }.tgid());
                (pid, String::from_utf8_lossy(&program_of(pid)).into_owned())
            })
            .clone()
        };
        if self.sup.conclude(right, target, d, &get, enforcement) {
            Ok(())
        } else {
            Err(Errno::ACCESS)
        }
    }

    /// Refuses a call the supervisor can neither perform itself nor prove safe to let
    /// the kernel run (`EPERM`), and records it.
    pub(super) fn refuse_race(&mut self, right: Right, what: &str) -> Errno {
        self.refuse(
            right,
            &Target::Unnamed(what.to_string()),
            "the call could change between the check and the kernel's use",
        );
        Errno::PERM
    }
}

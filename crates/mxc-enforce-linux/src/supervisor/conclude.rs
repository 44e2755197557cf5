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
                let a = self.asking.question(self.on_denial.as_ref(), || {
                    let (pid, program) = who();
                    (self.asker)(&AskRequest::new(
                        &self.engine,
                        right,
                        target,
                        &d,
                        pid,
                        program,
                    ))
                });
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
        // Recorded when the audit level asks: a call whose record cannot be written
        // (a full disk, a poisoned lock) is refused, never performed unrecorded.
        let mut recorded = true;
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
                recorded = match self.audit.as_ref().map(|a| a.lock()) {
                    Some(Ok(mut a)) => a.record(&self.engine, &rec),
                    _ => false,
                };
            }
        }
        if effect == Effect::Allow && !recorded {
            self.stats.denials.fetch_add(1, Ordering::Relaxed);
        }
        effect == Effect::Allow && recorded
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
            self.asking.tell(sink, d);
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
        self.kernel_refusal(path, rights)?;
        match decide::fs_check(&self.sup.engine, path, rights) {
            Some(c) => self.settle(c),
            None => Err(Errno::ACCESS),
        }
    }

    /// Refuses (and records) a change to what the kernel's own files hold, whatever the
    /// policy says: procfs outside a process's directory and any process's memory, and
    /// anything under `/sys` (`decide::procfs_refusal`, `decide::sysfs_refusal`). Asked
    /// by every held call that changes a file or its metadata (`decide_fs`,
    /// `decide_meta`: a root agent may `chmod` root's sysfs files as their owner).
    pub(super) fn kernel_refusal(&mut self, path: &[u8], rights: &[FsRight]) -> Result<(), Errno> {
        if let Some(why) =
            decide::procfs_refusal(path, rights).or_else(|| decide::sysfs_refusal(path, rights))
        {
            let right = rights
                .iter()
                .copied()
                .find(|&r| r != FsRight::Read)
                .unwrap_or(FsRight::Write);
            self.refuse(right.into(), &Target::Path(path.to_vec()), why);
            return Err(Errno::ACCESS);
        }
        Ok(())
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

/// One question at a time on the terminal, and the denial sink never while one is on.
/// A denial told during a question is kept and told when the question is over: the
/// supervisor's thread, which tells denials, must not wait for a person's answer to a
/// question another thread (the proxy's) asked, or every held call of the sandbox would
/// wait with it.
#[derive(Default)]
pub struct Asking {
    /// Whether the terminal is taken (a question, or the sink), and the denials told
    /// meanwhile.
    state: Mutex<(bool, Vec<Denial>)>,
    free: std::sync::Condvar,
}

/// Frees the terminal when dropped (also when a question or the sink panics).
struct Taken<'a>(&'a Asking, Option<&'a crate::DenialSink>);

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        self.0.release(self.1);
    }
}

/// At most this many denials are kept during one question (the sink counts distinct
/// ones; beyond this, the run's audit log still has them all).
const MAX_UNTOLD: usize = 4096;

impl Asking {
    /// Runs `ask` (a question to a person) when no other question is on, then tells
    /// `sink` the denials kept meanwhile.
    pub fn question<A>(&self, sink: Option<&crate::DenialSink>, ask: impl FnOnce() -> A) -> A {
        {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            while s.0 {
                s = self.free.wait(s).unwrap_or_else(|e| e.into_inner());
            }
            s.0 = true;
        }
        let _free = Taken(self, sink);
        ask()
    }

    /// Tells `sink` of `d` now, or when the question on is over; never waits for one.
    pub fn tell(&self, sink: &crate::DenialSink, d: &Denial) {
        {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if s.0 {
                if s.1.len() < MAX_UNTOLD {
                    s.1.push(d.clone());
                }
                return;
            }
            s.0 = true;
        }
        let _free = Taken(self, Some(sink));
        sink(d);
    }

    /// Frees the terminal, first telling `sink` what was kept while it was taken (the
    /// terminal stays taken while telling, so nothing is told during a question and
    /// nothing kept is left behind).
    fn release(&self, sink: Option<&crate::DenialSink>) {
        loop {
            let kept = {
                let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
                if s.1.is_empty() || sink.is_none() {
                    s.1.clear();
                    s.0 = false;
                    self.free.notify_one();
                    return;
                }
                std::mem::take(&mut s.1)
            };
            if let Some(sink) = sink {
                for d in &kept {
                    sink(d);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    fn denial(n: u8) -> Denial {
        Record {
            right: Right::Read,
            target: Target::Path(vec![b'/', b'a' + n]),
            decision: Decision {
                effect: Effect::Deny,
                rule: None,
            },
            effect: Effect::Deny,
            asked: None,
            pid: 1,
            program: String::new(),
            enforcement: None,
        }
    }

    /// A denial while a person is asked (by the proxy's thread, say) does not wait for
    /// the answer: the supervisor's thread tells it and goes on deciding the sandbox's
    /// calls (before, it waited on the question's lock until the person answered, and
    /// every held call of the sandbox with it). The sink still never runs during the
    /// question: it is told once the question is over, in order.
    #[test]
    fn a_denial_does_not_wait_for_a_question() {
        let asking = Arc::new(Asking::default());
        let on = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let told = Arc::new(Mutex::new(Vec::new()));
        let sink: crate::DenialSink = {
            let (on, told) = (on.clone(), told.clone());
            Arc::new(move |d: &Denial| {
                assert!(!on.load(Ordering::SeqCst), "the sink ran during a question");
                told.lock().unwrap().push(d.target.clone());
            })
        };
        let (asked_tx, asked_rx) = mpsc::channel();
        let (answer_tx, answer_rx) = mpsc::channel::<()>();
        let q = {
            let (asking, on, sink) = (asking.clone(), on.clone(), sink.clone());
            std::thread::spawn(move || {
                asking.question(Some(&sink), || {
                    on.store(true, Ordering::SeqCst);
                    asked_tx.send(()).unwrap();
                    answer_rx.recv().unwrap();
                    on.store(false, Ordering::SeqCst);
                })
            })
        };
        asked_rx.recv().unwrap();
        let (done_tx, done_rx) = mpsc::channel();
        {
            let (asking, sink) = (asking.clone(), sink.clone());
            std::thread::spawn(move || {
                asking.tell(&sink, &denial(0));
                asking.tell(&sink, &denial(1));
                done_tx.send(()).unwrap();
            });
        }
        // A liveness bound, not a timing claim: the tells must return while the
        // question waits (it waits until this test answers).
        let returned = done_rx.recv_timeout(Duration::from_secs(60)).is_ok();
        answer_tx.send(()).unwrap();
        q.join().unwrap();
        assert!(returned, "a denial waited for the person's answer");
        assert_eq!(
            *told.lock().unwrap(),
            vec![denial(0).target, denial(1).target],
            "told after the question, in order"
        );
        // Outside a question, a denial is told at once.
        asking.tell(&sink, &denial(2));
        assert_eq!(told.lock().unwrap().len(), 3);
    }
}

//! `ask` (SPEC §5): what happens to an access the engine answered `ask`. The question
//! is typed data ([`AskRequest`]); who answers it is the run's [`AskMode`] (a fixed
//! answer, a broker, or a person at a terminal, which is the backend's to provide); an
//! answer for the rest of the run is remembered by [`Remembered`].

use crate::record::{AskAnswer, Right, Target};
use mxc_eval::{Decision, Effect, Engine};
use std::collections::HashSet;
use std::sync::Arc;

/// An access held for a person (or a broker) to decide: the engine said `ask`.
#[derive(Clone, Debug)]
pub struct AskRequest {
    pub right: Right,
    pub target: Target,
    /// The program asking.
    pub program: String,
    pub pid: u32,
    /// `FILE:LINE` of the `ask` rule and its reason (`FILE:LINE "reason"`).
    pub rule: Option<String>,
}

impl AskRequest {
    /// The question for `d` (which said `ask`) on `right` and `target`.
    pub fn new(
        engine: &Engine,
        right: Right,
        target: &Target,
        d: &Decision,
        pid: u32,
        program: String,
    ) -> AskRequest {
        let rule = d.rule.and_then(|r| engine.rule(r)).map(|i| {
            let mut s = format!("{}:{}", i.file, i.line);
            if let Some(reason) = &i.reason {
                s.push_str(&format!(" \"{reason}\""));
            }
            s
        });
        AskRequest {
            right,
            target: target.clone(),
            program,
            pid,
            rule,
        }
    }
}

/// Decides held `ask` accesses. Called on the backend's deciding thread; the access
/// waits.
pub type Asker = Arc<dyn Fn(&AskRequest) -> AskAnswer + Send + Sync>;

/// Who answers `ask`.
#[derive(Clone)]
pub enum AskMode {
    /// This callback (a broker, or a fixed answer).
    Answer(Asker),
    /// The person at the terminal the run was started from: the backend gives the
    /// command a terminal of its own, so it never sees the question or the answer.
    /// With no terminal, `ask` is denied.
    Terminal,
}

impl AskMode {
    /// Every `ask` answered `answer` (`--ask allow|deny`).
    pub fn fixed(answer: AskAnswer) -> AskMode {
        AskMode::Answer(Arc::new(move |_: &AskRequest| answer))
    }
}

/// What is enforced for an answer.
pub fn effect_of(answer: AskAnswer) -> Effect {
    match answer {
        AskAnswer::Deny => Effect::Deny,
        AskAnswer::AllowOnce | AskAnswer::AllowForRun => Effect::Allow,
    }
}

/// `allow for this run` answers, by exact right and target.
#[derive(Debug, Default)]
pub struct Remembered(HashSet<(Right, Vec<u8>)>);

impl Remembered {
    pub fn contains(&self, right: Right, target: &Target) -> bool {
        self.0.contains(&(right, target.key()))
    }

    /// Keeps `answer` if it holds for the rest of the run.
    pub fn keep(&mut self, right: Right, target: &Target, answer: AskAnswer) {
        if answer == AskAnswer::AllowForRun {
            self.0.insert((right, target.key()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allow_for_run_is_remembered_and_only_for_that_access() {
        let mut r = Remembered::default();
        let t = Target::Path(b"/w/a".to_vec());
        r.keep(Right::Read, &t, AskAnswer::AllowOnce);
        assert!(!r.contains(Right::Read, &t));
        r.keep(Right::Read, &t, AskAnswer::AllowForRun);
        assert!(r.contains(Right::Read, &t));
        assert!(!r.contains(Right::Write, &t));
        assert!(!r.contains(Right::Read, &Target::Path(b"/w/b".to_vec())));
        assert_eq!(effect_of(AskAnswer::Deny), Effect::Deny);
        assert_eq!(effect_of(AskAnswer::AllowForRun), Effect::Allow);
    }

    #[test]
    fn the_question_names_the_asking_rule() {
        let e = crate::tests::engine(
            "policy p { fs { ask read \"/w/**\" because \"secrets\" } }\nagent a { use p }",
        );
        let d = e.fs(b"/w/x", mxc_eval::FsRight::Read);
        assert_eq!(d.effect, Effect::Ask);
        let q = AskRequest::new(
            &e,
            Right::Read,
            &Target::Path(b"/w/x".to_vec()),
            &d,
            3,
            "/bin/cat".into(),
        );
        assert_eq!(q.rule.as_deref(), Some("t.mxc:1 \"secrets\""));
        let AskMode::Answer(a) = AskMode::fixed(AskAnswer::Deny) else {
            panic!("a fixed answer is a callback")
        };
        assert_eq!(a(&q), AskAnswer::Deny);
    }
}

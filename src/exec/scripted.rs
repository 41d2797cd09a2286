//! A step's script form where it is a shell construct of its own (a bounded wait, a change made
//! only when a read says so, credentials kept in variables) rather than its commands one by one.
//!
//! The step hands both forms to the executor ([`Executor::either`]): a run and a plan run the
//! step's own code; a dry-run prints this instead. So a step never asks which executor it has,
//! and the bash of a wait or a condition is written here once.
//!
//! [`Executor::either`]: super::Executor

use crate::cmd::{Cmd, quote};
use std::time::Duration;

pub(crate) enum Scripted {
    /// Reads until `test` succeeds, every `every`, for at most `within`; then fails with `failure`.
    Until {
        test: String,
        within: Duration,
        every: Duration,
        failure: String,
    },
    /// Runs `then` only when `test` succeeds.
    If { test: String, then: String },
    /// Lines as they are (each printed once, as [`super::Executor::script_only`] does).
    Lines(Vec<String>),
    /// A command, printed as the executor prints any command (`kubectl wait` in place of a poll).
    Cmd(Cmd),
}

impl Scripted {
    /// The script's lines. An executor prints a [`Scripted::Cmd`] as it prints any command.
    pub(crate) fn lines(&self) -> Vec<String> {
        match self {
            Scripted::Until {
                test,
                within,
                every,
                failure,
            } => vec![format!(
                "deadline=$((SECONDS + {})); until {test}; do (( SECONDS < deadline )) || {{ echo {} >&2; exit 1; }}; sleep {}; done",
                within.as_secs(),
                quote(failure),
                every.as_secs()
            )],
            Scripted::If { test, then } => vec![format!("if {test}; then {then}; fi")],
            Scripted::Lines(lines) => lines.clone(),
            Scripted::Cmd(cmd) => vec![cmd.to_string()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_is_bounded_and_says_what_it_waited_for() {
        let wait = Scripted::Until {
            test: "curl -sS x | grep -q '\"Healthy\"'".into(),
            within: Duration::from_secs(300),
            every: Duration::from_secs(5),
            failure: "application guestbook not Healthy after 5m".into(),
        };
        assert_eq!(
            wait.lines(),
            [
                "deadline=$((SECONDS + 300)); until curl -sS x | grep -q '\"Healthy\"'; do (( SECONDS < deadline )) || { echo 'application guestbook not Healthy after 5m' >&2; exit 1; }; sleep 5; done"
            ]
        );
        let cond = Scripted::If {
            test: "curl a | grep -q b".into(),
            then: "curl -X DELETE a".into(),
        };
        assert_eq!(cond.lines(), ["if curl a | grep -q b; then curl -X DELETE a; fi"]);
    }
}

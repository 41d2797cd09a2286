//! What a read found, with "not known" kept apart from "absent".
//!
//! A dry-run reads nothing, and a plan cannot read what a planned command changes
//! ([`Executor::knows`]): their reads answer [`Observed::Unknown`]. Each step says what that
//! means for it (`up` plans a run from scratch: absent; `down` the teardown of a complete
//! environment: present; `verify` judges nothing), instead of asking which executor it has.
//!
//! [`Executor::knows`]: crate::exec::Executor::knows

use super::Ctx;
use crate::cmd::Cmd;
use crate::error::Result;
use crate::exec::{Output, command_error};

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Observed<T> {
    /// The read says it is not there.
    Absent,
    Present(T),
    /// Nothing was read (a dry-run, or what a planned command changes).
    Unknown,
}

impl<T> Observed<T> {
    /// What was found, reading "not known" as absent (a run from scratch).
    pub(crate) fn or_absent(self) -> Option<T> {
        match self {
            Observed::Present(v) => Some(v),
            Observed::Absent | Observed::Unknown => None,
        }
    }

    /// What the read said, `None` when it said nothing.
    pub(crate) fn known(self) -> Option<Option<T>> {
        match self {
            Observed::Present(v) => Some(Some(v)),
            Observed::Absent => Some(None),
            Observed::Unknown => None,
        }
    }

    /// Whether it exists, reading "not known" as present (the teardown of a complete environment).
    pub(crate) fn maybe_present(&self) -> bool {
        !matches!(self, Observed::Absent)
    }
}

impl Ctx<'_> {
    /// Observes `cmd`: its parsed output, `Absent` when `not_found` says so, `Unknown` when the
    /// executor did not run it; any other failure is an error.
    pub(crate) async fn read<T>(
        &self,
        cmd: &Cmd,
        not_found: impl Fn(&Output) -> bool,
        parse: impl Fn(&str, &str) -> Result<T>,
    ) -> Result<Observed<T>> {
        let Some(out) = self.exec.observe(cmd).await? else {
            return Ok(Observed::Unknown);
        };
        if out.success() {
            parse(&cmd.to_string(), &out.stdout).map(Observed::Present)
        } else if not_found(&out) {
            Ok(Observed::Absent)
        } else {
            Err(command_error(cmd, &out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Observed;

    #[test]
    fn unknown_is_absent_for_a_run_from_scratch_and_present_for_a_teardown() {
        let unknown: Observed<i32> = Observed::Unknown;
        assert_eq!(unknown.clone().or_absent(), None);
        assert!(unknown.maybe_present());
        assert_eq!(unknown.known(), None);
        assert!(!Observed::<i32>::Absent.maybe_present());
        assert_eq!(Observed::Absent::<i32>.known(), Some(None));
        assert_eq!(Observed::Present(1).known(), Some(Some(1)));
        assert!(Observed::Present(1).maybe_present());
    }
}

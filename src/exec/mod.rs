//! Executors: the one place where [`Cmd`]s turn into processes, or into lines of a script.
//!
//! Steps never spawn anything themselves; they hand `Cmd`s to an [`Executor`]. [`RealExecutor`]
//! runs them; [`ScriptExecutor`] prints them as a bash script for `--dry-run`
//! (`crate::plan::PlanExecutor` does both: reads run, changes print). A step cannot tell
//! which one it has, except that in a dry-run observations return `None` ("nothing exists yet"),
//! so the script is the plan of a run from scratch.
//!
//! By concern: `children` spawns processes and holds what a signal reaches; `http` sends
//! requests; `readahead` is the cache of reads started ahead; `real` and `script` are the two
//! executors.

mod children;
mod http;
mod readahead;
mod real;
mod script;
mod scripted;

pub(crate) use real::RealExecutor;
pub(crate) use script::ScriptExecutor;
pub(crate) use scripted::Scripted;

use crate::cmd::{Cmd, Val};
use crate::error::{CommandError, Error, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::render::Render;
use crate::resource::Selector;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a finished command printed.
#[derive(Clone, Debug, Default)]
pub(crate) struct Output {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub(crate) fn success(&self) -> bool {
        self.status == Some(0)
    }
}

/// How a captured value is derived from the command's trimmed stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transform {
    None,
    /// Drop a prefix, e.g. `https://` from the OIDC issuer (the tutorial's `sed`).
    StripPrefix(&'static str),
}

impl Transform {
    pub(crate) fn apply(self, s: &str) -> String {
        match self {
            Transform::None => s.to_string(),
            Transform::StripPrefix(p) => s.strip_prefix(p).unwrap_or(s).to_string(),
        }
    }
}

pub(crate) trait Executor: Send + Sync {
    /// Whether waiting for what a run changed means anything: not in a dry-run, nor in a plan
    /// (its changes are printed, not made).
    fn waits(&self) -> bool {
        true
    }

    /// A step whose script is a shell construct of its own (`script`): a run and a plan run
    /// `run`; a dry-run prints `script` instead. Steps call it through [`Executor::either`].
    fn run_or_script<'a>(&'a self, script: Scripted, run: BoxFuture<'a, Result<()>>) -> BoxFuture<'a, Result<()>> {
        let _ = script;
        run
    }

    /// Runs a read-only command to learn the current state, whatever its exit status.
    /// `None` in a dry-run, where the plan is that of a run from scratch.
    fn observe<'a>(&'a self, cmd: &'a Cmd) -> BoxFuture<'a, Result<Option<Output>>>;

    /// Whether observing `cmd` tells the current state. Not in a dry-run, nor in a plan for what
    /// a planned command changes: there `None` means "not known yet", which a step reads as
    /// "absent" before the command that makes it and as "there" after it.
    fn knows(&self, cmd: &Cmd) -> bool;

    /// Runs a read-only command whose trimmed stdout later commands need, as `var`.
    fn capture<'a>(&'a self, var: &'a str, cmd: &'a Cmd, transform: Transform) -> BoxFuture<'a, Result<Val>>;

    /// Runs a command that must succeed (a mutation, or a wait such as `rollout status`).
    fn run<'a>(&'a self, cmd: &'a Cmd) -> BoxFuture<'a, Result<Output>>;

    /// Writes a file that a later command reads; the script writes it by running `render`.
    fn write_file(&self, path: &Path, contents: &str, render: &Render) -> Result<()>;

    /// A remark: a `#` comment in the script, a progress line in a real run.
    fn comment(&self, text: &str);

    /// What is left for the user at the end of a command: a warning in a real run (seen even
    /// with `-q`), a `#` comment at the end of a dry-run's script.
    fn closing_note(&self, text: &str) {
        self.comment(text);
    }

    /// Sends a read-only HTTP request; `None` in a dry-run.
    fn http_observe<'a>(&'a self, req: &'a HttpRequest) -> BoxFuture<'a, Result<Option<HttpResponse>>>;

    /// Sends an HTTP request that changes something; printed as `curl` in a dry-run.
    fn http_run<'a>(&'a self, req: &'a HttpRequest) -> BoxFuture<'a, Result<HttpResponse>>;

    /// A line only a script needs (e.g. reading the API key from its file); a run has no script.
    fn script_only(&self, _line: &str) {}

    /// Whether a wait may poll (read again until a state is reached); a plan reads once.
    fn polls(&self) -> bool {
        true
    }

    /// The read-ahead, where reads run (not in a dry-run, which reads nothing).
    fn read_ahead(&self) -> Option<&dyn ReadAhead> {
        None
    }
}

impl dyn Executor + '_ {
    /// Runs `run`, or prints `script` in its place (see [`Executor::run_or_script`]): `None`
    /// when the script does it, and what it would find is known only when the script runs.
    pub(crate) async fn either<T: Send>(
        &self,
        script: Scripted,
        run: impl Future<Output = Result<T>> + Send,
    ) -> Result<Option<T>> {
        let mut ran = None;
        self.run_or_script(
            script,
            Box::pin(async {
                ran = Some(run.await?);
                Ok(())
            }),
        )
        .await?;
        Ok(ran)
    }
}

/// Reads started ahead of the steps that observe them (see `readahead`), and values learned
/// on the way.
pub(crate) trait ReadAhead: Send + Sync {
    /// Runs read-only commands ahead of the steps that will observe them, a round at a time:
    /// a converged run then costs a round or two of reads instead of a chain. Only commands
    /// with a resource are kept. All are in the cache from the call on, so an observation made
    /// while the returned future runs waits for its answer, also one of a later round; each
    /// round starts when the one before has answered. Running a command drops what was read
    /// about it.
    fn prefetch(&self, rounds: Vec<Vec<Cmd>>) -> BoxFuture<'_, ()>;

    /// Drops what was read ahead about what `what` selects: for a thing whose state changed
    /// without a command of ours, e.g. a cluster that was not ACTIVE when it was read.
    fn forget(&self, what: &Selector);

    /// Drops the failed answers read ahead about what `what` selects: a read of a cluster's
    /// contents may have raced its becoming ACTIVE (eksctl refuses while it is not).
    fn forget_failures(&self, what: &Selector);

    /// A value learned from an observation (the issuer in `describe-cluster`), so a later
    /// capture of the same variable need not run its command.
    fn remember(&self, var: &str, value: &str);
}

/// Install hints shown when a tool is missing.
pub(crate) fn install_hint(program: &str) -> &'static str {
    match program {
        "aws" => {
            "install the AWS CLI: `pip install awscli` (v1) or https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html (v2)"
        }
        "eksctl" => "install eksctl: https://eksctl.io/installation/",
        "kubectl" => "install kubectl: https://kubernetes.io/docs/tasks/tools/",
        _ => "install it and make sure it is on PATH",
    }
}

/// The error for a command that exited non-zero.
pub(crate) fn command_error(cmd: &Cmd, out: &Output) -> Error {
    Error::Command(Box::new(CommandError {
        purpose: cmd.purpose.clone(),
        command: cmd.to_string(),
        status: out.status,
        stderr: out.stderr.clone(),
        detail: None,
    }))
}

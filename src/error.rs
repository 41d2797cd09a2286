//! One error type for the whole program, and the one place that maps errors to exit codes.
//!
//! Users and CI jobs branch on the exit code, so the mapping is a contract: 0 ok, 1 a step failed
//! (or a prerequisite is missing), 2 invalid input or usage, 128+n stopped by signal n (130
//! SIGINT, 143 SIGTERM, 129 SIGHUP), as a shell reports a process killed by that signal.

use std::fmt;

/// A signal that stops a run. CI cancellation sends SIGTERM, a closed terminal SIGHUP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signal {
    Interrupt,
    Terminate,
    Hangup,
}

impl Signal {
    pub(crate) fn number(self) -> i32 {
        match self {
            Signal::Interrupt => libc::SIGINT,
            Signal::Terminate => libc::SIGTERM,
            Signal::Hangup => libc::SIGHUP,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
            Signal::Hangup => "SIGHUP",
        }
    }
}

/// A failed external command: everything a user needs to see to understand it, secrets redacted.
#[derive(Debug)]
pub(crate) struct CommandError {
    /// One line: what the command was for ("create IAM role ArgoCD").
    pub purpose: String,
    /// The command in shell form, exactly as it ran.
    pub command: String,
    /// Exit status; `None` when it was killed by a signal or timed out.
    pub status: Option<i32>,
    pub stderr: String,
    /// Extra context, e.g. "timed out after 5m".
    pub detail: Option<String>,
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "failed to {}", self.purpose)?;
        writeln!(f, "  command: {}", self.command)?;
        match (self.status, &self.detail) {
            (_, Some(detail)) => writeln!(f, "  status: {detail}")?,
            (Some(code), None) => writeln!(f, "  exit status: {code}")?,
            (None, None) => writeln!(f, "  exit status: killed by a signal")?,
        }
        let stderr = self.stderr.trim_end();
        if stderr.is_empty() {
            write!(f, "  stderr: (empty)")
        } else {
            write!(f, "  stderr:")?;
            for line in stderr.lines() {
                write!(f, "\n    {line}")?;
            }
            Ok(())
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// A flag or setting whose value breaks a rule; raised before any external command runs.
    #[error("invalid value {value:?} for {flag}: {rule}")]
    Invalid { flag: String, value: String, rule: String },
    /// Usage that cannot work, e.g. a missing region for a real run.
    #[error("{0}")]
    Usage(String),
    /// A required program is not on PATH.
    #[error("`{tool}` is not installed or not on PATH\n  hint: {hint}")]
    ToolMissing { tool: String, hint: String },
    /// An external command failed.
    #[error("{0}")]
    Command(Box<CommandError>),
    /// A tool answered with something we could not understand.
    #[error("could not understand the output of `{command}`: {reason}")]
    Parse { command: String, reason: String },
    /// The environment is in a state the tool must not repair on its own.
    #[error("{0}")]
    State(String),
    /// A command needs what another command makes; raised before anything is changed.
    #[error("{} {} not exist yet: run first\n  {}", missing.join(", "), if missing.len() == 1 { "does" } else { "do" }, run_first.join("\n  "))]
    Precondition {
        missing: Vec<String>,
        run_first: Vec<String>,
    },
    /// Harness did not report the agent connected within the wait.
    #[error(
        "Harness does not report GitOps agent {agent} connected after {waited} (last: {health}). Look at its pods (kubectl -n {namespace} logs deployment/gitops-agent), then re-run:\n  {rerun}\n(a re-run passes the installed agent's key, so its token stays as it is).\nWas its token regenerated elsewhere (its YAML downloaded without the key)? Then delete its Secret (kubectl -n {namespace} delete secret gitops-agent) and re-run: gitops-iam fetches a new token and restarts the agent"
    )]
    AgentNotConnected {
        agent: String,
        namespace: String,
        waited: String,
        health: String,
        rerun: String,
    },
    /// The agent runs somewhere else: fetching its manifest would regenerate its token.
    #[error(
        "Harness GitOps agent {agent} is connected, but it is not installed in namespace {namespace} of cluster {cluster}: downloading its manifest would regenerate its token and cut off the running agent. Pass another --agent-id (gitops-iam creates it), or install that agent's manifest with --agent-manifest FILE"
    )]
    AgentInUse {
        agent: String,
        namespace: String,
        cluster: String,
    },
    /// A GitOps application that did not become Synced and Healthy: the agent's own words, and
    /// where to look and what to run next.
    #[error("application {app} did not become Synced and Healthy: {state}\n  agent: {message}\n  {hint}")]
    Sync {
        app: String,
        state: String,
        message: String,
        hint: String,
    },
    /// The step that failed, wrapping the cause.
    #[error("step `{step}` failed: {source}")]
    Step { step: String, source: Box<Error> },
    #[error("interrupted by {}", .0.name())]
    Interrupted(Signal),
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
}

impl Error {
    pub(crate) fn invalid(flag: &str, value: impl Into<String>, rule: impl Into<String>) -> Self {
        Error::Invalid {
            flag: flag.to_string(),
            value: value.into(),
            rule: rule.into(),
        }
    }

    pub(crate) fn in_step(self, step: &str) -> Self {
        match self {
            // Keep the innermost step name: it is the most precise.
            Error::Step { .. } | Error::Interrupted(_) => self,
            other => Error::Step {
                step: step.to_string(),
                source: Box::new(other),
            },
        }
    }

    /// The exit code for this error.
    pub(crate) fn code(&self) -> i32 {
        match self {
            Error::Invalid { .. } | Error::Usage(_) => 2,
            Error::Interrupted(signal) => 128 + signal.number(),
            Error::Step { source, .. } => match source.as_ref() {
                Error::Interrupted(signal) => 128 + signal.number(),
                _ => 1,
            },
            _ => 1,
        }
    }

    /// Whether re-running the same command is the way forward (shown as a hint).
    pub(crate) fn resumable(&self) -> bool {
        matches!(
            self,
            Error::Step { .. } | Error::Command(_) | Error::Interrupted(_) | Error::Sync { .. }
        )
    }

    /// Whether a signal stopped the run (also inside a step).
    pub(crate) fn is_interrupted(&self) -> bool {
        match self {
            Error::Interrupted(_) => true,
            Error::Step { source, .. } => source.is_interrupted(),
            _ => false,
        }
    }
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(Error::invalid("--region", "x", "rule").code(), 2);
        assert_eq!(Error::Usage("u".into()).code(), 2);
        assert_eq!(Error::Interrupted(Signal::Interrupt).code(), 130);
        assert_eq!(Error::Interrupted(Signal::Terminate).code(), 143);
        assert_eq!(Error::Interrupted(Signal::Hangup).code(), 129);
        assert_eq!(Error::State("s".into()).code(), 1);
        assert_eq!(Error::Interrupted(Signal::Terminate).in_step("mgmt").code(), 143);
        assert!(Error::Interrupted(Signal::Hangup).in_step("mgmt").is_interrupted());
        assert_eq!(Error::State("s".into()).in_step("mgmt").code(), 1);
    }

    #[test]
    fn command_error_shows_command_status_and_stderr() {
        let e = CommandError {
            purpose: "create IAM role ArgoCD".into(),
            command: "aws iam create-role --role-name ArgoCD".into(),
            status: Some(255),
            stderr: "An error occurred (EntityAlreadyExists)\nsecond line\n".into(),
            detail: None,
        };
        let text = e.to_string();
        assert!(text.starts_with("failed to create IAM role ArgoCD\n"));
        assert!(text.contains("  command: aws iam create-role --role-name ArgoCD\n"));
        assert!(text.contains("  exit status: 255\n"));
        assert!(text.ends_with("    An error occurred (EntityAlreadyExists)\n    second line"));
    }
}

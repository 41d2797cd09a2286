//! Diagnostics, beside what the user sees (`output.rs`), as uv keeps its `tracing` log beside
//! its `Printer`: a span for the command, one per step and one per external command or request
//! (program, purpose, effect, resource, then duration and exit status). Never a secret: a
//! command is logged in its printed form, which names secrets by their shell variables.
//!
//! Off unless asked: `GITOPS_IAM_LOG` (env-filter syntax, as `RUST_LOG`) shows it on stderr,
//! `-vv` shows debug on stderr, `--log-file FILE` writes JSON lines (debug unless
//! `GITOPS_IAM_LOG` says otherwise) that a CI job keeps as an artifact.

use crate::cmd::Cmd;
use crate::error::{Error, Result};
use crate::exec::Output;
use crate::http::{HttpRequest, HttpResponse};
use std::future::Future;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;
use tracing::Instrument as _;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

/// The environment variable that filters the log.
pub(crate) const LOG_VAR: &str = "GITOPS_IAM_LOG";

/// What `-vv` and `--log-file` record when `GITOPS_IAM_LOG` is not set.
const DEBUG: &str = "gitops_iam=debug";

fn filter(directives: &str) -> Result<EnvFilter> {
    EnvFilter::builder().parse(directives).map_err(|e| {
        Error::invalid(
            LOG_VAR,
            directives,
            format!("env-filter directives, e.g. {DEBUG} ({e})"),
        )
    })
}

/// The filter `GITOPS_IAM_LOG` asks for, when it is set: the log then goes to stderr.
pub(crate) fn asked() -> Option<String> {
    std::env::var(LOG_VAR).ok().filter(|v| !v.trim().is_empty())
}

/// Installs the log's subscriber for this process (once, before the command runs).
pub(crate) fn init(verbose: u8, log_file: Option<&Path>) -> Result<()> {
    let asked = asked();
    let stderr = match (&asked, verbose) {
        (Some(directives), _) => Some(filter(directives)?),
        (None, 2..) => Some(filter(DEBUG)?),
        (None, _) => None,
    }
    .map(|f| {
        fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(false)
            .with_filter(f)
    });
    let file = match log_file {
        Some(path) => {
            let file = std::fs::File::create(path).map_err(|e| {
                Error::invalid(
                    "--log-file",
                    path.display().to_string(),
                    format!("a writable file ({e})"),
                )
            })?;
            let f = filter(asked.as_deref().unwrap_or(DEBUG))?;
            Some(
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(true)
                    .with_writer(Mutex::new(file))
                    .with_filter(f),
            )
        }
        None => None,
    };
    // `run` installs it once per process; a subscriber set already (a host of the library) stays.
    let _ = tracing_subscriber::registry().with(file).with(stderr).try_init();
    Ok(())
}

/// An external command while it runs, in a span of its own (program, purpose, effect,
/// resource, its printed form), ending with its duration and exit status.
pub(crate) async fn command<F>(cmd: &Cmd, run: F) -> Result<Output>
where
    F: Future<Output = Result<Output>>,
{
    let span = tracing::debug_span!(
        "cmd",
        program = cmd.program,
        purpose = %cmd.purpose,
        effect = ?cmd.effect,
        resource = cmd.resource.as_ref().map(ToString::to_string).unwrap_or_default(),
        command = %cmd,
    );
    let started = Instant::now();
    let result = run.instrument(span.clone()).await;
    span.in_scope(|| finished(started, result.as_ref().map(|o| o.status)));
    result
}

/// An HTTP request, as [`command`]; its exit status is the HTTP status.
pub(crate) async fn request<F>(req: &HttpRequest, send: F) -> Result<HttpResponse>
where
    F: Future<Output = Result<HttpResponse>>,
{
    let span = tracing::debug_span!(
        "http",
        method = ?req.method,
        purpose = %req.purpose,
        effect = ?req.effect,
        command = %req,
    );
    let started = Instant::now();
    let result = send.instrument(span.clone()).await;
    span.in_scope(|| finished(started, result.as_ref().map(|r| Some(i32::from(r.status)))));
    result
}

/// The end of a command or request: how long it took, how it ended.
fn finished(started: Instant, outcome: std::result::Result<Option<i32>, &Error>) {
    let duration_ms = crate::report::millis(started.elapsed());
    match outcome {
        Ok(exit_status) => tracing::debug!(duration_ms, exit_status, "finished"),
        Err(e) => tracing::debug!(duration_ms, error = %e, "failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_filter_names_the_variable_and_the_syntax() {
        let err = filter("gitops_iam=loud").unwrap_err().to_string();
        assert!(err.contains(LOG_VAR) && err.contains(DEBUG), "{err}");
        assert!(filter("gitops_iam=trace,warn").is_ok());
    }
}

//! Diagnostics, beside what the user sees (`output.rs`), as uv keeps its `tracing` log beside
//! its `Printer`: a span for the command, one per step and one per external command or request
//! (program, purpose, effect, resource, then duration and exit status). Never a secret: a
//! command is logged in its printed form, which names secrets by their shell variables.
//!
//! Off unless asked: `GITOPS_IAM_LOG` (env-filter syntax, as `RUST_LOG`) shows it on stderr,
//! `-vv` shows debug on stderr, `--log-file FILE` writes JSON lines (debug unless
//! `GITOPS_IAM_LOG` says otherwise) that a CI job keeps as an artifact.

use crate::error::{Error, Result};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Mutex;
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

/// Installs the log's subscriber for this process (once, before the command runs).
pub(crate) fn init(verbose: u8, log_file: Option<&Path>) -> Result<()> {
    let asked = std::env::var(LOG_VAR).ok().filter(|v| !v.trim().is_empty());
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
    // A second subscriber (unit tests calling `run` twice) is not an error worth stopping for.
    let _ = tracing_subscriber::registry().with(file).with(stderr).try_init();
    Ok(())
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

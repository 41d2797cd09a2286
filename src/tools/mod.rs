//! Typed builders of the commands the tool runs, and parsers of their JSON output.
//!
//! One file per program. Builders add the flags every call needs (`--region`, `--profile`,
//! `--kubeconfig`, `--output json`), so no step can forget them.

pub(crate) mod aws;
pub(crate) mod eksctl;
pub(crate) mod kubectl;

use crate::error::{Error, Result};

/// Parses a tool's JSON output, naming the command when it is not what we expected.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(command: &str, stdout: &str) -> Result<T> {
    serde_json::from_str(stdout).map_err(|e| Error::Parse {
        command: command.to_string(),
        reason: e.to_string(),
    })
}

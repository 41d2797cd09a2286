//! Typed builders of the commands the tool runs, and parsers of their JSON output.
//!
//! One file per program. Builders add the flags every call needs (`--region`, `--profile`,
//! `--kubeconfig`, `--output json`), so no step can forget them.

pub(crate) mod aws;
pub(crate) mod eksctl;
pub(crate) mod kubectl;

use crate::cmd::{Cmd, Val};
use crate::error::{Error, Result};
use crate::names::Profile;
use crate::resource::Resource;

/// The account context of an `aws` or `eksctl` call: the region and the profile whose
/// credentials it uses. Both tools take the same two flags and reach the same account with
/// them, so one value serves both; its builders are in `aws.rs` and `eksctl.rs`.
#[derive(Clone, Debug)]
pub(crate) struct ToolCtx {
    pub region: Val,
    pub profile: Option<Profile>,
}

impl ToolCtx {
    /// Something in this account (see [`Cmd::resource`]): resources reached with different
    /// profiles never cover each other.
    pub(crate) fn key<'s>(&self, path: impl IntoIterator<Item = &'s str>) -> Resource {
        Resource::aws(self.profile.as_ref(), path)
    }

    /// Appends `--region R [--profile P]`, which every aws and eksctl call carries.
    pub(crate) fn with_region_profile(&self, cmd: Cmd) -> Cmd {
        let cmd = cmd.arg("--region").arg(&self.region);
        match &self.profile {
            Some(p) => cmd.arg("--profile").arg(p.as_str()),
            None => cmd,
        }
    }
}

/// Parses a tool's JSON output, naming the command when it is not what we expected.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(command: &str, stdout: &str) -> Result<T> {
    serde_json::from_str(stdout).map_err(|e| Error::Parse {
        command: command.to_string(),
        reason: e.to_string(),
    })
}

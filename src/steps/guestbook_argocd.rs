//! `app guestbook --to argocd`: the guestbook as an Argo CD `Application` in the agent's namespace.

use super::Ctx;
use crate::error::{Error, Result};
use std::time::Duration;

pub(crate) async fn run(_ctx: &Ctx<'_>, _timeout: Duration) -> Result<()> {
    Err(Error::Usage(
        "app guestbook --to argocd is not available yet: use the Harness target".into(),
    ))
}

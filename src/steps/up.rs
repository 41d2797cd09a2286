//! `up`: every step in dependency order, concurrently where the order allows.
//!
//! ```text
//!   mgmt cluster -> OIDC -> agent role -> policy --+--> agent patch
//!   testing cluster(s) -----------------------------+--> Deployer role -> mapping
//! ```
//! The two cluster creations (10-20 minutes each) run at the same time. When one branch fails the
//! other is allowed to finish, so a cluster creation is never abandoned halfway.

use super::agent::{self, DryRunAgent, Outcome};
use super::{Ctx, mgmt, testing};
use crate::cli::{AgentArgs, PolicyArgs};
use crate::error::Result;
use futures_util::future::join_all;

pub async fn run(ctx: &Ctx<'_>, policy: &PolicyArgs, agent_args: &AgentArgs) -> Result<Outcome> {
    let targets = &ctx.settings.testing;
    // Account ids first: a dry-run script then reads each once, at the top.
    ctx.mgmt_account().await?;
    for t in targets {
        ctx.testing_account(t).await?;
    }

    let mgmt_branch = async {
        mgmt::cluster(ctx).await?;
        mgmt::role(ctx).await?;
        mgmt::policy(ctx, policy.assume_any_role).await
    };
    let (m, clusters) = tokio::join!(mgmt_branch, join_all(targets.iter().map(|t| testing::cluster(ctx, t))));
    m?;
    clusters.into_iter().collect::<Result<Vec<()>>>()?;

    let deployers = join_all(targets.iter().map(|t| async move {
        testing::role(ctx, t).await?;
        testing::access(ctx, t).await
    }));
    let (outcome, deployed) = tokio::join!(agent::patch(ctx, agent_args, DryRunAgent::Missing), deployers);
    deployed.into_iter().collect::<Result<Vec<()>>>()?;
    outcome
}

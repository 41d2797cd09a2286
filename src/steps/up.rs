//! `up`: every step in dependency order, concurrently where the order allows.
//!
//! ```text
//!   mgmt cluster ──┬─> agent patch                      (needs only the role's ARN)
//!                  └─> agent role ──┬─> inline policy
//!                                   └─> Deployer role(s) (IAM rejects a trust naming a missing role)
//!   testing cluster(s) ──(and the Deployer roles)──> access (an access entry needs its role)
//! ```
//! The cluster creations (10-20 minutes each) run at the same time, and everything after them
//! waits only for what it really needs. When one branch fails the others finish, so a cluster
//! creation is never abandoned halfway; the first error is reported.

use super::agent::{self, DryRunAgent, Outcome};
use super::{Ctx, mgmt, testing};
use crate::cli::{AgentArgs, PolicyArgs};
use crate::error::Result;
use futures_util::future::join_all;

/// Every result, or the first error.
pub fn all<T>(results: Vec<Result<T>>) -> Result<Vec<T>> {
    results.into_iter().collect()
}

pub async fn run(ctx: &Ctx<'_>, policy: &PolicyArgs, agent_args: &AgentArgs) -> Result<Outcome> {
    let targets = &ctx.settings.testing;
    // Account ids first (a dry-run script then reads each once, at the top), and every
    // observation at once: a converged run then costs one round of reads.
    ctx.read_ahead().await?;

    // Whether the Deployer roles exist: access waits for it (None until known).
    let (roles_tx, roles_rx) = tokio::sync::watch::channel(None::<bool>);
    let mgmt_side = async {
        let iam = async {
            mgmt::role(ctx).await?;
            let (p, d) = tokio::join!(mgmt::policy(ctx, policy.assume_any_role), testing::roles(ctx));
            let _ = roles_tx.send(Some(d.is_ok()));
            p.and(d)
        };
        let result = async {
            mgmt::cluster(ctx).await?;
            let (outcome, iam) = tokio::join!(agent::patch(ctx, agent_args, DryRunAgent::Missing), iam);
            iam?;
            outcome
        }
        .await;
        // On an early failure, release the waiting testing branches.
        roles_tx.send_if_modified(|v| v.replace(v.unwrap_or(false)).is_none());
        result
    };
    let testing_side = join_all(targets.iter().map(|t| {
        let mut roles = roles_rx.clone();
        async move {
            testing::cluster(ctx, t).await?;
            let ready = *roles
                .wait_for(Option::is_some)
                .await
                .expect("sender lives in this scope");
            if ready == Some(true) {
                testing::access(ctx, t).await?;
            }
            Ok(())
        }
    }));
    let (outcome, clusters) = tokio::join!(mgmt_side, testing_side);
    all(clusters)?;
    outcome
}

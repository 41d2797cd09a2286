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
use super::{Ctx, agent_install, mgmt, testing};
use crate::cli::{AgentArgs, PolicyArgs};
use crate::error::Result;
use crate::harness::Harness;
use crate::registration::Registration;
use futures_util::future::join_all;

/// `install`: the Harness agent to create and install (Harness settings, no `--agent-manifest`).
pub(crate) async fn run(
    ctx: &Ctx<'_>,
    policy: &PolicyArgs,
    agent_args: &AgentArgs,
    install: Option<&Harness>,
) -> Result<Outcome> {
    let targets = &ctx.settings.testing;
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
            let agent_step = async {
                match install {
                    Some(h) => agent_install::run(ctx, h, agent_args.wait_timeout)
                        .await
                        .map(|()| Outcome::Patched),
                    None => agent::patch(ctx, agent_args, DryRunAgent::Missing).await,
                }
            };
            let (outcome, iam) = tokio::join!(agent_step, iam);
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
    // Every read at once; each step waits only for its own (see `Ctx::reading_ahead`).
    ctx.reading_ahead(async {
        let (outcome, clusters) = tokio::join!(mgmt_side, testing_side);
        super::all(clusters)?;
        outcome
    })
    .await
}

/// The `up` command: every step, then the registration when it was asked for and the agent is
/// there, and what is left to do.
pub(crate) async fn command(
    ctx: &Ctx<'_>,
    policy: &PolicyArgs,
    agent_args: &AgentArgs,
    registration: Option<&Registration>,
    guestbook: Option<std::time::Duration>,
) -> Result<()> {
    let install = match registration {
        Some(reg @ Registration::Harness { harness, .. }) if agent_args.agent_manifest.is_none() => {
            super::register::script_reads_key(ctx, reg);
            Some(harness)
        }
        _ => None,
    };
    let outcome = run(ctx, policy, agent_args, install).await?;
    let mut next = Vec::new();
    if let Outcome::AgentMissing(missing) = &outcome {
        next.push(format!(
            "the Harness GitOps agent is not installed yet (missing in namespace {}: {}).\nInstall the agent, then run:\n  {}",
            ctx.settings.namespace,
            missing.join(", "),
            ctx.settings.suggest("agent patch")
        ));
    }
    match (registration, &outcome) {
        (Some(reg), Outcome::Patched) => {
            super::register::run(ctx, reg).await?;
            if let Some(timeout) = guestbook {
                super::guestbook::run(ctx, reg, timeout).await?;
            }
        }
        (Some(_), Outcome::AgentMissing(_)) => {
            next.push(format!("then register the testing cluster: {}", ctx.settings.suggest("register ...")));
        }
        (None, _) => next.push(format!(
            "to register the testing cluster in Harness, run:\n  {} --harness-account ID --agent-id ID [--harness-org ID --harness-project ID]\n(or `--to argocd` for an Argo CD cluster Secret)",
            ctx.settings.suggest("register")
        )),
    }
    if !next.is_empty() {
        ctx.exec
            .closing_note(&format!("Everything else is done.\n{}", next.join("\n")));
    }
    Ok(())
}

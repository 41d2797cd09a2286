//! `testing`: the testing cluster, the Deployer role trusted by the agent role, and the
//! Deployer role's Kubernetes access in the testing cluster.

use super::{Ctx, TESTING};
use crate::cmd::Arg;
use crate::error::Result;
use crate::render::Doc;
use crate::report::Changes;
use crate::settings::TestingTarget;
use crate::tools::eksctl::{self, Mapping};

const DEPLOYER_ROLE_DESCRIPTION: &str = "IAM Role to be used by AWS to Deploy in the testing cluster";

pub async fn cluster(ctx: &Ctx<'_>, t: &TestingTarget) -> Result<()> {
    ctx.report
        .step(&format!("testing: cluster {}", t.cluster), async {
            let kubeconfig = ctx.settings.kubeconfig(TESTING, &t.cluster);
            let (changes, _) = ctx
                .ensure_cluster(
                    &ctx.testing_aws(t),
                    &ctx.testing_eksctl(t),
                    &t.cluster,
                    false,
                    &kubeconfig,
                )
                .await?;
            Ok((changes, ()))
        })
        .await
}

/// The Deployer role. IAM rejects a trust policy naming a role that does not exist yet, so
/// this runs after the agent role.
pub async fn role(ctx: &Ctx<'_>, t: &TestingTarget) -> Result<()> {
    ctx.report
        .step(&format!("testing: role {}", t.deployer_role), async {
            let trust = Doc::DeployerTrust {
                agent_role_arn: ctx.agent_role_arn().await?,
            };
            let changes = ctx
                .ensure_role(
                    &ctx.testing_aws(t),
                    t.deployer_role.as_str(),
                    &trust,
                    DEPLOYER_ROLE_DESCRIPTION,
                )
                .await?;
            Ok((changes, ()))
        })
        .await
}

/// Whether the mappings hold exactly one entry for `arn`, with the wanted username and group.
fn mapping_converged(mappings: &[Mapping], arn: &str, t: &TestingTarget) -> bool {
    let mine: Vec<&Mapping> = mappings.iter().filter(|m| m.rolearn.as_deref() == Some(arn)).collect();
    mine.len() == 1
        && mine[0].username.as_deref() == Some(t.identity_username.as_str())
        && mine[0].groups == [t.identity_group.to_string()]
}

/// The Deployer role mapped in the testing cluster's aws-auth, exactly once.
pub async fn access(ctx: &Ctx<'_>, t: &TestingTarget) -> Result<()> {
    ctx.report
        .step(
            &format!("testing: access for {} in {}", t.deployer_role, t.cluster),
            async {
                let e = ctx.testing_eksctl(t);
                let arn = ctx.deployer_role_arn(t).await?;
                let cluster = t.cluster.as_str();
                let found = ctx
                    .observe(
                        &e.get_mappings(cluster),
                        |o| eksctl::is_not_found(&o.stderr),
                        eksctl::parse_mappings,
                    )
                    .await?;
                let mut changes = Changes::none();
                if let Some(mappings) = &found {
                    let value = arn.value();
                    if mapping_converged(mappings, &value, t) {
                        return Ok((changes, ()));
                    }
                    let mine: Vec<&Mapping> = mappings
                        .iter()
                        .filter(|m| m.rolearn.as_deref() == Some(value.as_str()))
                        .collect();
                    if !mine.is_empty() {
                        let current = serde_json::to_string_pretty(
                            &mine.iter().map(|m| (&m.username, &m.groups)).collect::<Vec<_>>(),
                        )
                        .unwrap_or_default();
                        let desired = serde_json::to_string_pretty(&[(
                            Some(t.identity_username.as_str()),
                            [t.identity_group.as_str()],
                        )])
                        .unwrap_or_default();
                        ctx.report.diff(
                            &format!("identity mappings of {value} in {cluster}"),
                            &(current + "\n"),
                            &(desired + "\n"),
                        );
                        ctx.exec.run(&e.delete_mappings(cluster, arn.clone())).await?;
                        changes.push(format!("removed {} stale mapping(s)", mine.len()));
                    }
                }
                ctx.exec
                    .run(&e.create_mapping(
                        cluster,
                        arn.clone(),
                        t.identity_username.as_str(),
                        t.identity_group.as_str(),
                    ))
                    .await?;
                changes.push(format!(
                    "mapped {} as {} in {}",
                    t.deployer_role, t.identity_username, t.cluster
                ));
                Ok((changes, ()))
            },
        )
        .await
}

/// The agent role's inline policy must name this Deployer role (when `testing` runs alone).
pub async fn agent_policy(ctx: &Ctx<'_>) -> Result<()> {
    ctx.report
        .step(
            &format!(
                "testing: policy {} of {}",
                crate::policy::AGENT_POLICY_NAME,
                ctx.settings.agent_role
            ),
            async {
                let mut wanted: Vec<Arg> = Vec::new();
                for t in &ctx.settings.testing {
                    wanted.push(ctx.deployer_role_arn(t).await?);
                }
                Ok((ctx.ensure_agent_policy(wanted).await?, ()))
            },
        )
        .await
}

/// The whole `testing` command, for every testing cluster at once.
pub async fn run(ctx: &Ctx<'_>) -> Result<()> {
    let results = futures_util::future::join_all(ctx.settings.testing.iter().map(|t| async move {
        cluster(ctx, t).await?;
        role(ctx, t).await?;
        access(ctx, t).await
    }))
    .await;
    results.into_iter().collect::<Result<Vec<()>>>()?;
    agent_policy(ctx).await
}

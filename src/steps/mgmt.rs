//! `mgmt`: the management cluster with an OIDC provider, the agent role trusted by that
//! provider, and the agent role's inline policy to assume the Deployer role(s).

use super::Ctx;
use crate::cmd::{Arg, Val};
use crate::error::Result;
use crate::exec::Transform;
use crate::render::Doc;
use crate::report::Changes;
use crate::tools::aws;

const AGENT_ROLE_DESCRIPTION: &str = "IAM Role to be used by Harness GitOps Agent to gain AWS access";

/// Whether the agent role's trust lets the OIDC provider `provider_arn` (issuer `provider`)
/// federate the agent's service accounts in `namespace`, and if not, why. `verify` judges the
/// link by it; the step repairs to gitops-iam's exact statement (`Ctx::ensure_role`), which
/// satisfies it.
pub(crate) fn trust_converged(
    trust: &serde_json::Value,
    provider_arn: &str,
    provider: &str,
    namespace: &str,
) -> std::result::Result<(), String> {
    let subjects: Vec<String> = crate::policy::AGENT_SERVICE_ACCOUNTS
        .iter()
        .map(|sa| format!("system:serviceaccount:{namespace}:{sa}"))
        .collect();
    crate::policy::check_web_identity_trust(trust, provider_arn, provider, &subjects)
}

/// Whether the agent role's inline policy lets it assume `deployer_arn`. `verify` judges the
/// link by it; the step repairs to the exact merged document (`Ctx::ensure_agent_policy`).
pub(crate) fn policy_converged(policy: &serde_json::Value, deployer_arn: &str) -> bool {
    crate::policy::allows_assume(policy, deployer_arn)
}

/// The cluster's OIDC issuer without `https://` (read once per run).
pub(crate) async fn oidc_provider(ctx: &Ctx<'_>) -> Result<Val> {
    let cmd = ctx
        .mgmt_tools()
        .cluster_field(ctx.settings.mgmt_cluster.as_str(), "cluster.identity.oidc.issuer");
    let val = ctx
        .exec
        .capture("OIDC_PROVIDER", &cmd, Transform::StripPrefix("https://"))
        .await?;
    if let Val::Known(v) = &val {
        crate::names::OidcProvider::parse("the OIDC issuer of the management cluster", v)?;
    }
    Ok(val)
}

/// The management cluster and its OIDC provider.
pub(crate) async fn cluster(ctx: &Ctx<'_>) -> Result<()> {
    let s = ctx.settings;
    let name = format!("mgmt: cluster {}", s.mgmt_cluster);
    let created = ctx
        .report
        .step(&name, async {
            let kubeconfig = ctx.mgmt_kubeconfig().await?;
            let (changes, existing) = ctx
                .ensure_cluster(&ctx.mgmt_tools(), &s.mgmt_cluster, true, &kubeconfig)
                .await?;
            // describe-cluster already named the issuer: no need to ask again.
            if let Some(issuer) = existing.as_ref().and_then(|c| c.issuer()) {
                ctx.remember("OIDC_PROVIDER", issuer.trim_start_matches("https://"));
            }
            Ok((changes, existing.is_none()))
        })
        .await?;
    // `create cluster --with-oidc` made the provider; an adopted cluster may lack one.
    if !created {
        ctx.report
            .step("mgmt: OIDC provider", async {
                let aws = ctx.mgmt_tools();
                let account = ctx.mgmt_account().await?;
                let provider = oidc_provider(ctx).await?;
                let arn = ctx.oidc_provider_arn(&account, &provider);
                // The list needs no issuer, so it is read ahead with everything else.
                let providers = ctx
                    .observe(&aws.list_oidc_providers(), |_| false, aws::parse_oidc_provider_list)
                    .await?;
                let found = providers.is_some_and(|list| arn.is_known() && list.contains(&arn.value()));
                let mut changes = Changes::none();
                if !found {
                    ctx.exec
                        .run(&ctx.mgmt_tools().associate_oidc(s.mgmt_cluster.as_str()))
                        .await?;
                    changes.push(format!("associated an OIDC provider with cluster {}", s.mgmt_cluster));
                }
                Ok((changes, ()))
            })
            .await?;
    }
    Ok(())
}

/// The agent role, trusted by the cluster's OIDC provider for the agent's service accounts.
pub(crate) async fn role(ctx: &Ctx<'_>) -> Result<()> {
    let s = ctx.settings;
    ctx.report
        .step(&format!("mgmt: role {}", s.agent_role), async {
            let trust = Doc::AgentTrust {
                account: ctx.mgmt_account().await?,
                oidc_provider: oidc_provider(ctx).await?,
                namespace: s.namespace.clone(),
            };
            let changes = ctx
                .ensure_role(&ctx.mgmt_tools(), s.agent_role.as_str(), &trust, AGENT_ROLE_DESCRIPTION)
                .await?;
            Ok((changes, ()))
        })
        .await
}

/// The agent role's inline policy: assume every Deployer role of this environment (or `*`).
pub(crate) async fn policy(ctx: &Ctx<'_>, assume_any_role: bool) -> Result<()> {
    let step = format!("mgmt: policy {}", crate::policy::AGENT_POLICY_NAME);
    agent_policy(ctx, &step, assume_any_role).await
}

/// The agent role's inline policy: `sts:AssumeRole` on every Deployer role (or on `*`), keeping
/// the roles it already allows. `mgmt` and `testing` run it, each under its own step name.
pub(crate) async fn agent_policy(ctx: &Ctx<'_>, step: &str, assume_any_role: bool) -> Result<()> {
    let s = ctx.settings;
    ctx.report
        .step(step, async {
            let wanted = if assume_any_role {
                vec![Arg::from("*")]
            } else {
                let mut arns = Vec::new();
                for t in &s.testing {
                    arns.push(ctx.deployer_role_arn(t).await?);
                }
                arns
            };
            Ok((ctx.ensure_agent_policy(wanted).await?, ()))
        })
        .await
}

/// The whole `mgmt` command.
pub(crate) async fn run(ctx: &Ctx<'_>, assume_any_role: bool) -> Result<()> {
    ctx.reading_ahead(async {
        cluster(ctx).await?;
        role(ctx).await?;
        policy(ctx, assume_any_role).await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PROVIDER: &str = "oidc.eks.eu-west-1.amazonaws.com/id/ABC";
    const PROVIDER_ARN: &str = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC";

    fn trust(namespace: &str) -> serde_json::Value {
        let doc = Doc::AgentTrust {
            account: Val::known("111122223333"),
            oidc_provider: Val::known(PROVIDER),
            namespace: crate::names::Namespace::parse("--namespace", namespace).unwrap(),
        };
        serde_json::from_str(&doc.contents("aws")).unwrap()
    }

    #[test]
    fn trust_converged_on_the_agent_trust_and_not_on_another_namespace() {
        assert_eq!(trust_converged(&trust("iam"), PROVIDER_ARN, PROVIDER, "iam"), Ok(()));
        assert!(trust_converged(&trust("other"), PROVIDER_ARN, PROVIDER, "iam").is_err());
    }

    #[test]
    fn policy_converged_only_when_it_allows_the_deployer_role() {
        let policy = |resource: &str| json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": resource}]});
        let deployer = "arn:aws:iam::444455556666:role/Deployer";
        assert!(policy_converged(&policy(deployer), deployer));
        assert!(policy_converged(&policy("*"), deployer));
        assert!(!policy_converged(
            &policy("arn:aws:iam::444455556666:role/Other"),
            deployer
        ));
    }
}

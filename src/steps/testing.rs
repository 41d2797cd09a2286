//! `testing`: the testing cluster, the Deployer role trusted by the agent role, and the
//! Deployer role's Kubernetes access in the testing cluster.

use super::Ctx;
use crate::cli::ClusterAccess;
use crate::error::{Error, Result};
use crate::render::Doc;
use crate::report::Changes;
use crate::settings::TestingTarget;
use crate::tools::ToolCtx;
use crate::tools::aws::{self, API, CONFIG_MAP};
use crate::tools::eksctl::{self, Mapping};
use std::time::Duration;

const DEPLOYER_ROLE_DESCRIPTION: &str = "IAM Role to be used by AWS to Deploy in the testing cluster";

pub(crate) async fn cluster(ctx: &Ctx<'_>, t: &TestingTarget) -> Result<()> {
    ctx.report
        .step(&format!("testing: cluster {}", t.cluster), async {
            let kubeconfig = ctx.testing_kubeconfig(t).await?;
            let (changes, existing) = ctx
                .ensure_cluster(&ctx.testing_tools(t), &t.cluster, false, &kubeconfig)
                .await?;
            // register needs the endpoint and CA: describe-cluster already said them.
            if let Some(info) = &existing {
                if let Some(endpoint) = &info.endpoint {
                    ctx.remember(&ctx.target_var("TESTING_ENDPOINT", t), endpoint);
                }
                if let Some(ca) = info.certificate_authority.as_ref().and_then(|c| c.data.as_deref()) {
                    ctx.remember(&ctx.target_var("TESTING_CA", t), ca);
                }
            }
            Ok((changes, ()))
        })
        .await
}

/// The Deployer role. IAM rejects a trust policy naming a role that does not exist yet, so
/// this runs after the agent role.
pub(crate) async fn role(ctx: &Ctx<'_>, t: &TestingTarget) -> Result<()> {
    ctx.report
        .step(&format!("testing: role {}", t.deployer_role), async {
            let trust = Doc::DeployerTrust {
                agent_role_arn: ctx.agent_role_arn().await?,
            };
            let changes = ctx
                .ensure_role(
                    &ctx.testing_tools(t),
                    t.deployer_role.as_str(),
                    &trust,
                    DEPLOYER_ROLE_DESCRIPTION,
                )
                .await?;
            Ok((changes, ()))
        })
        .await
}

/// The aws-auth group of a target (always set in aws-auth mode).
fn aws_auth_group(t: &TestingTarget) -> &str {
    t.identity_group
        .as_ref()
        .map(super::super::names::Subject::as_str)
        .unwrap_or("system:masters")
}

/// Whether the Deployer role's trust lets the agent role `agent_arn` assume it. `verify` judges
/// the link by it; the step repairs to gitops-iam's exact statement (`Ctx::ensure_role`), which
/// satisfies it.
pub(crate) fn trust_converged(trust: &serde_json::Value, agent_arn: &str) -> bool {
    crate::policy::trusts_role(trust, agent_arn)
}

/// Whether an access entry maps the Deployer role to the wanted username and groups.
pub(crate) fn access_entry_converged(entry: &aws::AccessEntry, t: &TestingTarget) -> bool {
    let want_groups: Vec<&str> = t
        .identity_group
        .as_ref()
        .map(crate::names::Subject::as_str)
        .into_iter()
        .collect();
    entry.kubernetes_groups == want_groups && entry.username.as_deref() == Some(t.identity_username.as_str())
}

/// Whether the access entry holds `AmazonEKSClusterAdminPolicy` at cluster scope, from
/// `list-associated-access-policies` (`None`: no entry).
pub(crate) fn admin_policy_converged(has_cluster_admin: Option<bool>) -> bool {
    has_cluster_admin == Some(true)
}

/// Whether the mappings hold exactly one entry for `arn`, with the wanted username and group.
pub(crate) fn mapping_converged(mappings: &[Mapping], arn: &str, t: &TestingTarget) -> bool {
    let mine: Vec<&Mapping> = mappings.iter().filter(|m| m.rolearn.as_deref() == Some(arn)).collect();
    mine.len() == 1
        && mine[0].username.as_deref() == Some(t.identity_username.as_str())
        && mine[0].groups == [aws_auth_group(t).to_string()]
}

/// The Deployer role mapped in the testing cluster's aws-auth, exactly once.
async fn aws_auth(ctx: &Ctx<'_>, t: &TestingTarget) -> Result<Changes> {
    let e = ctx.testing_tools(t);
    let arn = ctx.deployer_mapping_arn(t).await?;
    let cluster = t.cluster.as_str();
    let group = aws_auth_group(t);
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
            return Ok(changes);
        }
        let mine: Vec<&Mapping> = mappings
            .iter()
            .filter(|m| m.rolearn.as_deref() == Some(value.as_str()))
            .collect();
        if !mine.is_empty() {
            let show =
                |items: Vec<(Option<&str>, Vec<&str>)>| serde_json::to_string_pretty(&items).unwrap_or_default() + "\n";
            let current = show(
                mine.iter()
                    .map(|m| (m.username.as_deref(), m.groups.iter().map(String::as_str).collect()))
                    .collect(),
            );
            let desired = show(vec![(Some(t.identity_username.as_str()), vec![group])]);
            ctx.report.diff(
                &format!("identity mappings of {value} in {cluster}"),
                &current,
                &desired,
            );
            ctx.exec.run(&e.delete_mappings(cluster, arn.clone())).await?;
            changes.push(format!("removed {} stale mapping(s)", mine.len()));
        }
    }
    ctx.exec
        .run(&e.create_mapping(cluster, arn.clone(), t.identity_username.as_str(), group))
        .await?;
    changes.push(format!(
        "mapped {} as {} in {}",
        t.deployer_role, t.identity_username, t.cluster
    ));
    Ok(changes)
}

/// The Deployer role's access entry with the cluster admin policy (cluster scope).
async fn access_entry(ctx: &Ctx<'_>, t: &TestingTarget) -> Result<Changes> {
    let aws = ctx.testing_tools(t);
    let arn = ctx.deployer_role_arn(t).await?;
    let cluster = t.cluster.as_str();
    let mut changes = Changes::none();
    let describe = aws.describe_access_entry(cluster, arn.clone());
    let read = || ctx.observe(&describe, aws::is_not_found, aws::parse_access_entry);
    let mut entry = read().await?;
    if entry.is_none() {
        let group = t.identity_group.as_ref().map(super::super::names::Subject::as_str);
        let create = aws.create_access_entry(cluster, arn.clone(), t.identity_username.as_str(), group);
        match ctx.exec.run(&create).await {
            Ok(_) => changes.push(format!(
                "created an access entry for {} in {}",
                t.deployer_role, t.cluster
            )),
            // Another run created it meanwhile: check what it holds like any existing entry.
            Err(e) if crate::tools::aws::error_code_of(&e) == Some("ResourceInUseException") => {
                ctx.report.info(&format!(
                    "the access entry of {} in {cluster} was created meanwhile (by another run?): reading it again",
                    t.deployer_role
                ));
                entry = read().await?;
            }
            Err(e) => return Err(e),
        }
    }
    if let Some(e) = &entry
        && !access_entry_converged(e, t)
    {
        let want_groups: Vec<&str> = t
            .identity_group
            .as_ref()
            .map(super::super::names::Subject::as_str)
            .into_iter()
            .collect();
        ctx.report.info(&format!(
            "access entry of {} in {cluster} drifted: username {:?}, groups {:?}; want {:?}, {want_groups:?}",
            t.deployer_role,
            e.username.as_deref().unwrap_or(""),
            e.kubernetes_groups,
            t.identity_username.as_str()
        ));
        ctx.exec
            .run(&aws.update_access_entry(
                cluster,
                arn.clone(),
                t.identity_username.as_str(),
                t.identity_group.as_ref().map(super::super::names::Subject::as_str),
            ))
            .await?;
        changes.push(format!(
            "updated the access entry of {} in {}",
            t.deployer_role, t.cluster
        ));
    }
    let policies = if entry.is_some() {
        ctx.observe(
            &aws.list_access_policies(cluster, arn.clone()),
            crate::tools::aws::is_not_found,
            crate::tools::aws::parse_has_cluster_admin,
        )
        .await?
    } else {
        None
    };
    if !admin_policy_converged(policies) {
        ctx.exec.run(&aws.associate_admin_policy(cluster, arn.clone())).await?;
        changes.push(format!("granted cluster admin to {} in {}", t.deployer_role, t.cluster));
    }
    Ok(changes)
}

/// Why the cluster's authentication mode rules out the chosen access, and what to run instead;
/// `None` when it allows it (or is not known). EKS refuses access entries on a `CONFIG_MAP`
/// cluster (InvalidRequestException) and ignores aws-auth on an `API` one, silently.
pub(crate) fn mode_conflict(ctx: &Ctx<'_>, t: &TestingTarget, mode: Option<&str>) -> Option<String> {
    let cluster = &t.cluster;
    match (t.access, mode) {
        (ClusterAccess::AccessEntry, Some(CONFIG_MAP)) => Some(format!(
            "EKS cluster {cluster} has authentication mode CONFIG_MAP, which refuses access entries \
             (\"The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this \
             operation.\"). Turn them on (a one-way change: the mode can never go back to CONFIG_MAP; \
             aws-auth keeps working) by re-running with --enable-access-entries, or yourself:\n  {}\n\
             or keep to the ConfigMap with --cluster-access aws-auth",
            ctx.testing_tools(t).enable_access_entries(cluster.as_str())
        )),
        (ClusterAccess::AwsAuth, Some(API)) => Some(format!(
            "EKS cluster {cluster} has authentication mode API: it ignores the aws-auth ConfigMap, so an \
             identity mapping would grant nothing (and the mode cannot go back). Use an access entry \
             instead:\n  {}",
            access_entry_command(ctx, t)
        )),
        _ => None,
    }
}

/// `gitops-iam testing ...` for this target with access entries instead of aws-auth. aws-auth's
/// default group `system:masters` is dropped: access entries reject `system:` groups.
pub(crate) fn access_entry_command(ctx: &Ctx<'_>, t: &TestingTarget) -> String {
    let mut settings = ctx.settings.clone();
    for x in settings
        .testing
        .iter_mut()
        .filter(|x| x.cluster == t.cluster && x.profile == t.profile)
    {
        x.access = ClusterAccess::AccessEntry;
        if x.identity_group
            .as_ref()
            .is_some_and(|g| g.as_str().starts_with("system:"))
        {
            x.identity_group = None;
        }
    }
    let command = settings.suggest("testing");
    // With a config file the fleet's flags are not repeated: say which one to add.
    if settings.config.is_some() {
        format!("{command} --cluster-access access-entry")
    } else {
        command
    }
}

/// Turns the access-entry API on (CONFIG_MAP → API_AND_CONFIG_MAP) and waits for the update,
/// as eksctl's access-entry migration does (`describe-update` until `Successful`).
async fn enable_access_entries(ctx: &Ctx<'_>, aws: &ToolCtx, t: &TestingTarget) -> Result<String> {
    const POLL: Duration = Duration::from_secs(5);
    const LIMIT: Duration = Duration::from_secs(30 * 60);
    let cluster = t.cluster.as_str();
    ctx.report.info(&format!(
        "enabling access entries on cluster {cluster} (--enable-access-entries; one way: CONFIG_MAP cannot be restored)"
    ));
    let update = ctx.exec.run(&aws.enable_access_entries(cluster)).await?;
    let id = update.stdout.trim().to_string();
    let started = std::time::Instant::now();
    loop {
        let read = aws.describe_update(cluster, &id);
        let Some(out) = ctx.exec.observe(&read).await? else {
            break;
        };
        if !out.success() {
            return Err(crate::exec::command_error(&read, &out));
        }
        match out.stdout.trim() {
            "Successful" => break,
            status @ ("Failed" | "Cancelled") => {
                return Err(Error::State(format!(
                    "the update {id} of EKS cluster {cluster} to authentication mode API_AND_CONFIG_MAP is {status}; \
                     see `aws eks describe-update --name {cluster} --update-id {id}`, then re-run"
                )));
            }
            status if started.elapsed() > LIMIT => {
                return Err(Error::State(format!(
                    "the update {id} of EKS cluster {cluster} is still {status} after {}; re-run to wait again",
                    humantime::format_duration(LIMIT)
                )));
            }
            status => {
                ctx.report
                    .info(&format!("update {id} of cluster {cluster} is {status}: waiting"));
                tokio::time::sleep(POLL).await;
            }
        }
    }
    Ok(format!(
        "enabled access entries on {cluster} (authentication mode CONFIG_MAP → API_AND_CONFIG_MAP)"
    ))
}

/// Reads the cluster's authentication mode before acting: a mode that rules out the chosen
/// access fails with the fix, except CONFIG_MAP with --enable-access-entries, which is fixed
/// (the change made, if any).
async fn check_mode(ctx: &Ctx<'_>, t: &TestingTarget) -> Result<Option<String>> {
    let aws = ctx.testing_tools(t);
    let info = ctx
        .observe(
            &aws.describe_cluster(t.cluster.as_str()),
            aws::is_not_found,
            aws::parse_cluster,
        )
        .await?;
    let mode = info.as_ref().and_then(|i| i.authentication_mode());
    match mode_conflict(ctx, t, mode) {
        None => Ok(None),
        Some(_) if mode == Some(CONFIG_MAP) && ctx.settings.enable_access_entries => {
            enable_access_entries(ctx, &aws, t).await.map(Some)
        }
        Some(why) => Err(Error::State(why)),
    }
}

/// The Deployer role's Kubernetes access to the testing cluster.
pub(crate) async fn access(ctx: &Ctx<'_>, t: &TestingTarget) -> Result<()> {
    ctx.report
        .step(
            &format!("testing: access for {} in {}", t.deployer_role, t.cluster),
            async {
                let enabled = check_mode(ctx, t).await?;
                let mut changes = match t.access {
                    ClusterAccess::AwsAuth => aws_auth(ctx, t).await?,
                    ClusterAccess::AccessEntry => access_entry(ctx, t).await?,
                };
                if let Some(change) = enabled {
                    changes.0.insert(0, change);
                }
                Ok((changes, ()))
            },
        )
        .await
}

/// The agent role's inline policy must name this Deployer role (when `testing` runs alone).
pub(crate) async fn agent_policy(ctx: &Ctx<'_>) -> Result<()> {
    let step = format!(
        "testing: policy {} of {}",
        crate::policy::AGENT_POLICY_NAME,
        ctx.settings.agent_role
    );
    super::mgmt::agent_policy(ctx, &step, false).await
}

/// Every distinct Deployer role of the fleet, once: clusters in one account share a role name.
pub(crate) async fn roles(ctx: &Ctx<'_>) -> Result<()> {
    let mut seen = Vec::new();
    let mut unique = Vec::new();
    for t in &ctx.settings.testing {
        let key = (t.account_id.clone(), t.profile.clone(), t.deployer_role.clone());
        if !seen.contains(&key) {
            seen.push(key);
            unique.push(t);
        }
    }
    super::all(futures_util::future::join_all(unique.into_iter().map(|t| role(ctx, t))).await).map(|_| ())
}

/// The whole `testing` command, for every testing cluster at once. Access comes last: an access
/// entry needs its role to exist.
pub(crate) async fn run(ctx: &Ctx<'_>) -> Result<()> {
    let targets = &ctx.settings.testing;
    ctx.reading_ahead(async {
        super::needs::testing(ctx).await?;
        let clusters = futures_util::future::join_all(targets.iter().map(|t| cluster(ctx, t)));
        let (clusters, roles) = tokio::join!(clusters, roles(ctx));
        super::all(clusters)?;
        roles?;
        super::all(futures_util::future::join_all(targets.iter().map(|t| access(ctx, t))).await)?;
        agent_policy(ctx).await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target(group: Option<&str>) -> TestingTarget {
        use crate::names::{ClusterName, RoleName, Subject};
        TestingTarget {
            cluster: ClusterName::parse("--testing-cluster", "testing").unwrap(),
            account_id: None,
            profile: None,
            deployer_role: RoleName::parse("--deployer-role", "Deployer").unwrap(),
            identity_group: group.map(|g| Subject::parse("--identity-group", g).unwrap()),
            identity_username: Subject::parse("--identity-username", "deployer").unwrap(),
            access: ClusterAccess::AccessEntry,
        }
    }

    #[test]
    fn trust_converged_only_when_it_trusts_the_agent_role() {
        let trust = |principal: &str| json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]});
        let agent = "arn:aws:iam::111122223333:role/ArgoCD";
        assert!(trust_converged(&trust(agent), agent));
        assert!(!trust_converged(&trust("arn:aws:iam::111122223333:role/Other"), agent));
    }

    #[test]
    fn access_entry_converged_on_the_wanted_username_and_groups() {
        let t = target(Some("deployers"));
        let entry = |username: &str, groups: &[&str]| aws::AccessEntry {
            username: Some(username.into()),
            kubernetes_groups: groups.iter().map(|g| (*g).to_string()).collect(),
        };
        assert!(access_entry_converged(
            &entry(t.identity_username.as_str(), &["deployers"]),
            &t
        ));
        assert!(!access_entry_converged(&entry(t.identity_username.as_str(), &[]), &t));
        assert!(!access_entry_converged(&entry("someone-else", &["deployers"]), &t));
    }

    #[test]
    fn admin_policy_converged_only_with_cluster_admin() {
        assert!(admin_policy_converged(Some(true)));
        assert!(!admin_policy_converged(Some(false)));
        assert!(!admin_policy_converged(None));
    }

    #[test]
    fn mapping_converged_once_with_the_wanted_username_and_group() {
        let t = target(None);
        let arn = "arn:aws:iam::444455556666:role/Deployer";
        let mapping = |username: &str| Mapping {
            rolearn: Some(arn.into()),
            userarn: None,
            username: Some(username.into()),
            groups: vec!["system:masters".into()],
        };
        let mine = mapping(t.identity_username.as_str());
        assert!(mapping_converged(std::slice::from_ref(&mine), arn, &t));
        assert!(!mapping_converged(&[mine.clone(), mine], arn, &t));
        assert!(!mapping_converged(&[mapping("someone-else")], arn, &t));
    }
}

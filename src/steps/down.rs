//! `down`: remove what `up` made, in reverse order, idempotently.
//!
//! GitOps applications and their repository -> registration -> Deployer access -> Deployer role -> testing cluster, and, at the same time,
//! agent role -> management cluster -> any OIDC provider left behind. Each step observes first,
//! so a second `down`, or a `down` after a partial `up`, removes only what exists. What a read
//! cannot tell (everything, in a dry-run) is assumed to exist: the script is the teardown of a
//! complete environment.

use super::Ctx;
use super::observed::Observed;
use crate::cli::ClusterAccess;
use crate::cmd::{Cmd, Val};
use crate::error::{Error, Result};
use crate::exec::{Output, Transform};
use crate::harness;
use crate::names::ClusterName;
use crate::registration::Registration;
use crate::report::Changes;
use crate::settings::TestingTarget;
use crate::tools::ToolCtx;
use crate::tools::aws::{self};
use crate::tools::{eksctl, kubectl};
use futures_util::future::join_all;

/// Whether something may exist: unless a read says it does not (see the module docs).
async fn exists(ctx: &Ctx<'_>, cmd: &Cmd, not_found: impl Fn(&Output) -> bool) -> Result<bool> {
    Ok(ctx.read(cmd, not_found, |_, _| Ok(())).await?.maybe_present())
}

async fn registration(ctx: &Ctx<'_>, reg: &Registration, t: &TestingTarget) -> Result<()> {
    ctx.report
        .step(&format!("down: registration of {}", t.cluster), async {
            let mut changes = Changes::none();
            match reg {
                Registration::Harness {
                    harness: h, cluster_id, ..
                } => {
                    let id =
                        Registration::harness_cluster_id(cluster_id, t.cluster.as_str(), ctx.settings.testing.len());
                    let get = h.get_cluster(&id);
                    let present = match ctx.exec.http_observe(&get).await? {
                        Some(resp) => h.parse_get(&get, &resp)?.is_some(),
                        None => true,
                    };
                    if present {
                        let del = h.delete_cluster(&id);
                        let resp = ctx.exec.http_run(&del).await?;
                        if !(200..300).contains(&resp.status) && !harness::is_not_found(&resp) {
                            return Err(h.api_error(&del, &resp));
                        }
                        changes.push(format!("removed Harness cluster {id}"));
                    }
                }
                Registration::Argocd => {
                    let s = ctx.settings;
                    let name = crate::argocd::secret_name(t.cluster.as_str());
                    let mgmt = ctx
                        .read(
                            &ctx.mgmt_tools().describe_cluster(s.mgmt_cluster.as_str()),
                            aws::is_not_found,
                            aws::parse_cluster,
                        )
                        .await?;
                    if mgmt.maybe_present() {
                        let k = ctx.mgmt_kubectl().await?;
                        // The guestbook (`app guestbook --to argocd`) deploys through the Secret.
                        if let Some(removed) = super::guestbook_argocd::remove(ctx, &k, t).await? {
                            changes.push(removed);
                        }
                        let get = k.get(Some(s.namespace.as_str()), "secret", &name);
                        if exists(ctx, &get, |o| kubectl::is_not_found(&o.stderr)).await? {
                            ctx.exec.run(&k.delete(s.namespace.as_str(), "secret", &name)).await?;
                            changes.push(format!("deleted Argo CD secret {name}"));
                        }
                    }
                }
            }
            Ok((changes, ()))
        })
        .await
}

async fn access(ctx: &Ctx<'_>, t: &TestingTarget, keep_clusters: bool) -> Result<()> {
    ctx.report
        .step(
            &format!("down: access for {} in {}", t.deployer_role, t.cluster),
            async {
                let mut changes = Changes::none();
                let aws = ctx.testing_tools(t);
                let cluster = t.cluster.as_str();
                match cluster_status(ctx, &aws, cluster).await?.as_deref() {
                    None => return Ok((changes, ())),
                    Some("ACTIVE") => {}
                    // eksctl refuses Kubernetes operations on it (`CanOperate`), and so may EKS:
                    // the mapping or entry goes with the cluster, which `down` deletes.
                    Some(status) if !keep_clusters => {
                        ctx.report.info(&format!(
                            "cluster {cluster} is {status}: its access for {} goes with the cluster",
                            t.deployer_role
                        ));
                        return Ok((changes, ()));
                    }
                    Some("CREATING" | "UPDATING" | "PENDING") => {
                        let c = ClusterName::parse("--testing-cluster", cluster)?;
                        super::cluster::wait_active(ctx, &aws, &c).await?;
                    }
                    Some(status) => {
                        let c = ClusterName::parse("--testing-cluster", cluster)?;
                        return Err(super::cluster::unusable(&aws, &c, status));
                    }
                }
                let arn = ctx.deployer_role_arn(t).await?;
                match t.access {
                    ClusterAccess::AwsAuth => {
                        let arn = ctx.deployer_mapping_arn(t).await?;
                        let e = ctx.testing_tools(t);
                        let mapped = match ctx
                            .read(
                                &e.get_mappings(cluster),
                                |o| eksctl::is_not_found(&o.stderr),
                                eksctl::parse_mappings,
                            )
                            .await?
                            .known()
                        {
                            None => true,
                            Some(m) => {
                                let value = arn.value();
                                m.unwrap_or_default()
                                    .iter()
                                    .any(|x| x.rolearn.as_deref() == Some(value.as_str()))
                            }
                        };
                        if mapped {
                            ctx.exec.run(&e.delete_mappings(cluster, arn.clone())).await?;
                            changes.push(format!("removed the mapping of {} in {cluster}", t.deployer_role));
                        }
                    }
                    ClusterAccess::AccessEntry => {
                        if exists(ctx, &aws.describe_access_entry(cluster, arn.clone()), aws::is_not_found).await? {
                            ctx.exec.run(&aws.delete_access_entry(cluster, arn.clone())).await?;
                            changes.push(format!("deleted the access entry of {} in {cluster}", t.deployer_role));
                        }
                    }
                }
                Ok((changes, ()))
            },
        )
        .await
}

/// Deletes a role: inline policies first, then attached policies, then the role (IAM refuses to
/// delete a role that still has policies: `DeleteConflict`).
async fn delete_role(ctx: &Ctx<'_>, aws: &ToolCtx, role: &str, known_inline: &[&str]) -> Result<Changes> {
    let mut changes = Changes::none();
    if !exists(ctx, &aws.get_role(role), aws::is_not_found).await? {
        return Ok(changes);
    }
    // Not known: the policies gitops-iam puts, and nothing attached.
    let inline = match ctx
        .read(
            &aws.list_role_policies(role),
            aws::is_not_found,
            aws::parse_role_policy_names,
        )
        .await?
        .known()
    {
        Some(names) => names.unwrap_or_default(),
        None => known_inline.iter().map(std::string::ToString::to_string).collect(),
    };
    let attached = ctx
        .observe(
            &aws.list_attached_role_policies(role),
            aws::is_not_found,
            aws::parse_attached_policies,
        )
        .await?
        .unwrap_or_default();
    for p in &inline {
        ctx.exec.run(&aws.delete_role_policy(role, p)).await?;
        changes.push(format!("deleted inline policy {p} of {role}"));
    }
    for p in &attached {
        ctx.exec.run(&aws.detach_role_policy(role, p)).await?;
        changes.push(format!("detached {p} from {role}"));
    }
    // IAM refuses to delete a role that is in an instance profile (`DeleteConflict: Cannot delete
    // entity, must remove roles from instance profile first.`). The profile itself may serve
    // others: only the role leaves it.
    let profiles = ctx
        .observe(
            &aws.list_instance_profiles_for_role(role),
            aws::is_not_found,
            aws::parse_instance_profiles,
        )
        .await?
        .unwrap_or_default();
    for p in &profiles {
        ctx.exec.run(&aws.remove_role_from_instance_profile(role, p)).await?;
        changes.push(format!("removed {role} from instance profile {p}"));
    }
    ctx.exec.run(&aws.delete_role(role)).await?;
    changes.push(format!("deleted role {role}"));
    Ok(changes)
}

async fn delete_cluster(ctx: &Ctx<'_>, aws: &ToolCtx, cluster: &str) -> Result<Changes> {
    let mut changes = Changes::none();
    let status = cluster_status(ctx, aws, cluster).await?;
    match status.as_deref() {
        // Someone deletes it already: `eksctl delete cluster` would fail on it; wait for the end.
        Some("DELETING") => {
            ctx.report
                .info(&format!("EKS cluster {cluster} is DELETING: waiting until it is gone"));
            ctx.exec.run(&aws.wait_cluster_deleted(cluster)).await?;
        }
        Some(_) => {
            ctx.report
                .info(&format!("deleting EKS cluster {cluster}: eksctl takes 10-15 minutes"));
            ctx.exec.run(&aws.delete_cluster(cluster)).await?;
            changes.push(format!("deleted cluster {cluster}"));
        }
        // No cluster, but maybe the stack of a creation that failed and rolled back: eksctl
        // deletes it as its own (`pkg/actions/cluster/cluster.go`).
        None => {
            let stack = ctx
                .observe(
                    &aws.describe_cluster_stack(cluster),
                    aws::is_stack_not_found,
                    aws::parse_stack_status,
                )
                .await?;
            if let Some(st) = stack {
                ctx.report.info(&format!(
                    "CloudFormation stack eksctl-{cluster}-cluster ({st}) has no EKS cluster: deleting it"
                ));
                ctx.exec.run(&aws.delete_cluster(cluster)).await?;
                changes.push(format!(
                    "deleted the stack eksctl-{cluster}-cluster left without a cluster"
                ));
            }
        }
    }
    Ok(changes)
}

/// The cluster's status; `None` when it does not exist. Not known, it is taken for ACTIVE.
async fn cluster_status(ctx: &Ctx<'_>, aws: &ToolCtx, cluster: &str) -> Result<Option<String>> {
    let found = ctx
        .read(&aws.describe_cluster(cluster), aws::is_not_found, aws::parse_cluster)
        .await?;
    Ok(found.known().map_or(Some("ACTIVE".into()), |c| c.map(|c| c.status)))
}

/// Each step runs even when the one before failed: a leftover registration or mapping must not
/// keep a role (a trust into another account) alive. The failures are reported together.
async fn testing_side(ctx: &Ctx<'_>, reg: Option<&Registration>, t: &TestingTarget, keep_clusters: bool) -> Vec<Error> {
    let mut errors = Vec::new();
    if let Some(r) = reg
        && let Err(e) = registration(ctx, r, t).await
    {
        errors.push(e);
    }
    if let Err(e) = access(ctx, t, keep_clusters).await {
        errors.push(e);
    }
    let role = ctx
        .report
        .step(&format!("down: role {}", t.deployer_role), async {
            Ok((
                delete_role(ctx, &ctx.testing_tools(t), t.deployer_role.as_str(), &[]).await?,
                (),
            ))
        })
        .await;
    errors.extend(role.err());
    errors
}

async fn testing_cluster(ctx: &Ctx<'_>, t: &TestingTarget) -> Result<()> {
    ctx.report
        .step(&format!("down: cluster {}", t.cluster), async {
            Ok((
                delete_cluster(ctx, &ctx.testing_tools(t), t.cluster.as_str()).await?,
                (),
            ))
        })
        .await
}

async fn mgmt_side(ctx: &Ctx<'_>, keep_clusters: bool) -> Vec<Error> {
    let s = ctx.settings;
    let aws = ctx.mgmt_tools();
    let role = ctx
        .report
        .step(&format!("down: role {}", s.agent_role), async {
            Ok((
                delete_role(ctx, &aws, s.agent_role.as_str(), &[crate::policy::AGENT_POLICY_NAME]).await?,
                (),
            ))
        })
        .await;
    let mut errors: Vec<Error> = role.err().into_iter().collect();
    if keep_clusters {
        return errors;
    }
    let cluster = ctx
        .report
        .step(&format!("down: cluster {}", s.mgmt_cluster), async {
            let cluster = s.mgmt_cluster.as_str();
            // Read the issuer first: once the cluster is gone, nothing names its provider.
            let found = ctx
                .read(&aws.describe_cluster(cluster), aws::is_not_found, aws::parse_cluster)
                .await?;
            let provider = match &found {
                Observed::Present(c) => c.issuer().map(|i| Val::known(i.trim_start_matches("https://"))),
                Observed::Unknown => Some(
                    ctx.exec
                        .capture(
                            "OIDC_PROVIDER",
                            &aws.cluster_field(cluster, "cluster.identity.oidc.issuer"),
                            Transform::StripPrefix("https://"),
                        )
                        .await?,
                ),
                Observed::Absent => None,
            };
            let mut changes = delete_cluster(ctx, &aws, cluster).await?;
            if let Some(p) = provider {
                let account = ctx.mgmt_account().await?;
                let arn = ctx.oidc_provider_arn(&account, &p);
                // eksctl removes the provider it made; one associated by hand may remain.
                let left = ctx
                    .observe(&aws.get_oidc_provider(arn.clone()), aws::is_not_found, |_, _| Ok(()))
                    .await?;
                if left.is_some() {
                    ctx.exec.run(&aws.delete_oidc_provider(arn)).await?;
                    changes.push("deleted the OIDC provider left behind".to_string());
                }
            }
            Ok((changes, ()))
        })
        .await;
    errors.extend(cluster.err());
    errors
}

/// The whole `down` command.
pub(crate) async fn run(ctx: &Ctx<'_>, reg: Option<&Registration>, keep_clusters: bool) -> Result<()> {
    let targets = &ctx.settings.testing;
    // Account ids first, so a dry-run script reads them once at the top.
    ctx.mgmt_account().await?;
    for t in targets {
        ctx.testing_account(t).await?;
    }
    // The applications and their repository go first: they deploy through the registration.
    let mut errors: Vec<Error> = Vec::new();
    if let Some(Registration::Harness { harness: h, .. }) = reg
        && let Err(e) = super::guestbook::remove(ctx, h).await
    {
        errors.push(e);
    }
    let sides = join_all(targets.iter().map(|t| testing_side(ctx, reg, t, keep_clusters))).await;
    errors.extend(sides.into_iter().flatten());
    if errors.iter().any(|e| e.code() == 130) {
        return all_failures(errors);
    }
    // The Deployer roles that trust the agent role are gone (or failed to go, reported below):
    // the clusters can go in parallel.
    let clusters = async {
        if keep_clusters {
            return Vec::new();
        }
        let done = join_all(targets.iter().map(|t| testing_cluster(ctx, t))).await;
        done.into_iter().filter_map(Result::err).collect::<Vec<_>>()
    };
    // The agent's clusters are unregistered (above): its record can go. Its objects in the
    // management cluster go with the cluster (or stay, with --keep-clusters, disconnected).
    let agent_record = async {
        match reg {
            Some(Registration::Harness { harness, .. }) => super::agent_install::delete(ctx, harness).await.err(),
            _ => None,
        }
    };
    let (c, m, a) = tokio::join!(clusters, mgmt_side(ctx, keep_clusters), agent_record);
    errors.extend(c);
    errors.extend(m);
    errors.extend(a);
    all_failures(errors)
}

/// One error for every failure of `down`: the only one as it is, several listed together.
fn all_failures(mut errors: Vec<Error>) -> Result<()> {
    // Ctrl-C stays an interruption (exit 130), whatever else failed.
    if let Some(i) = errors.iter().position(|e| e.code() == 130) {
        return Err(errors.swap_remove(i));
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        n => {
            let list: Vec<String> = errors.iter().map(|e| format!("- {e}")).collect();
            Err(Error::State(format!(
                "{n} steps of down failed (every other step ran):\n{}",
                list.join("\n")
            )))
        }
    }
}

/// `down` deletes clusters and roles: ask on a terminal, insist on --yes elsewhere.
pub(crate) fn confirm(s: &crate::settings::Settings) -> Result<()> {
    use std::io::IsTerminal;
    let clusters: Vec<String> = std::iter::once(s.mgmt_cluster.to_string())
        .chain(s.testing.iter().map(|t| t.cluster.to_string()))
        .collect();
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "down deletes clusters, roles and registrations: pass --yes to confirm (stdin is not a terminal)".into(),
        ));
    }
    eprint!(
        "This removes the registration, the IAM roles {} and {}, and (unless --keep-clusters) the clusters {}.\nType 'yes' to continue: ",
        s.agent_role,
        s.testing
            .iter()
            .map(|t| t.deployer_role.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        clusters.join(", ")
    );
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Error::Other(anyhow::anyhow!("reading the answer: {e}")))?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Error::Usage("not confirmed: nothing was removed".into()))
    }
}

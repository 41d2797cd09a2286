//! `agent patch`: give the Harness GitOps agent its IAM role.
//!
//! Namespace; optionally the agent's manifest; the IRSA annotation on its two service accounts;
//! `fsGroup: 999` on their workloads (the token file must be readable by the argocd user); a
//! restart where only the annotation changed (pods read it when they are created, so an
//! unchanged pod template would keep the old identity); and a wait until both are rolled out.

use super::Ctx;
use super::observed::Observed;
use crate::cli::AgentArgs;
use crate::cmd::Arg;
use crate::error::{Error, Result};
use crate::policy::{AGENT_SERVICE_ACCOUNTS, SERVICE_ACCOUNT_ANNOTATION};
use crate::report::{Changes, Status, StepRecord};
use crate::tools::kubectl::{self, Kubectl, fs_group_patch};
use serde_json::Value;
use std::time::Duration;

/// The group id of the argocd user in the agent's images.
pub(crate) const FS_GROUP: i64 = 999;

/// Each service account and the workload that runs under it, as the agent's installer names them.
pub(crate) const WORKLOADS: [(&str, &str, &str); 2] = [
    (AGENT_SERVICE_ACCOUNTS[0], "deployment", "gitops-agent"),
    (
        AGENT_SERVICE_ACCOUNTS[1],
        "statefulset",
        "argocd-application-controller",
    ),
];

/// Whether a service account is annotated with the agent role `arn` (the step and `verify`).
pub(crate) fn annotation_converged(service_account: &Value, arn: &str) -> bool {
    kubectl::annotation(service_account, SERVICE_ACCOUNT_ANNOTATION).is_some_and(|v| v == arn)
}

/// Whether a workload's pods run with `fsGroup: 999` (the step and `verify`).
pub(crate) fn fs_group_converged(workload: &Value) -> bool {
    kubectl::fs_group(workload) == Some(FS_GROUP)
}

/// How `agent patch` ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Patched,
    /// The agent is not installed (and no manifest was given): nothing to patch yet.
    AgentMissing(Vec<String>),
}

/// What the agent's objects are taken to be where a read cannot tell (all of them, in a
/// dry-run): `agent patch` assumes an installed agent (it is the command to run once it is);
/// `up` assumes a run from scratch, where it is not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DryRunAgent {
    Installed,
    Missing,
}

async fn kubectl(ctx: &Ctx<'_>) -> Result<Kubectl> {
    ctx.mgmt_kubectl().await
}

/// One of the agent's objects, and whether the answer tells (see [`Executor::knows`]).
///
/// [`Executor::knows`]: crate::exec::Executor::knows
async fn observe(ctx: &Ctx<'_>, kind: &str, name: &str) -> Result<(Option<Value>, bool)> {
    let ns = ctx.settings.namespace.as_str();
    let cmd = kubectl(ctx).await?.get(Some(ns), kind, name);
    let found = ctx
        .observe(&cmd, |o| kubectl::is_not_found(&o.stderr), crate::tools::parse_json)
        .await?;
    Ok((found, ctx.exec.knows(&cmd)))
}

/// The agent's objects that do not exist; with `known_only`, only those known not to (after an
/// apply that a plan only printed, the rest will be there).
pub(crate) async fn missing_objects(ctx: &Ctx<'_>, known_only: bool) -> Result<Vec<String>> {
    let mut missing = Vec::new();
    for (sa, kind, name) in WORKLOADS {
        for (kind, name) in [("serviceaccount", sa), (kind, name)] {
            let (found, known) = observe(ctx, kind, name).await?;
            if found.is_none() && (known || !known_only) {
                missing.push(format!("{kind}/{name}"));
            }
        }
    }
    Ok(missing)
}

/// kubectl's answer to creating an object that exists: `Error from server (AlreadyExists): ...`.
fn already_exists(stderr: &str) -> bool {
    stderr.contains("(AlreadyExists)")
}

/// The namespace; `unknown_present`: where the read cannot tell, take it as there.
pub(crate) async fn namespace(ctx: &Ctx<'_>, unknown_present: bool) -> Result<()> {
    let s = ctx.settings;
    ctx.report
        .step(&format!("agent: namespace {}", s.namespace), async {
            ctx.ensure_mgmt_kubeconfig().await?;
            let k = kubectl(ctx).await?;
            let cmd = k.get(None, "namespace", s.namespace.as_str());
            let ns = s.namespace.as_str();
            let mut reads = vec![cmd.clone()];
            for (sa, kind, name) in WORKLOADS {
                reads.push(k.get(Some(ns), "serviceaccount", sa));
                reads.push(k.get(Some(ns), kind, name));
            }
            ctx.prefetch(reads).await;
            let found = ctx
                .read(&cmd, |o| kubectl::is_not_found(&o.stderr), |_, _| Ok(()))
                .await?;
            let mut changes = Changes::none();
            let present = match found {
                Observed::Present(()) => true,
                Observed::Absent => false,
                Observed::Unknown => unknown_present,
            };
            if !present {
                match ctx.exec.run(&k.create_namespace(s.namespace.as_str())).await {
                    Ok(_) => changes.push(format!("created namespace {}", s.namespace)),
                    // Another run created it between our read and our create: look again.
                    Err(Error::Command(e)) if already_exists(&e.stderr) => {
                        let again = ctx
                            .observe(&cmd, |o| kubectl::is_not_found(&o.stderr), |_, _| Ok(()))
                            .await?;
                        if again.is_none() {
                            return Err(Error::Command(e));
                        }
                        ctx.report.info(&format!(
                            "namespace {} was created meanwhile (another run?)",
                            s.namespace
                        ));
                    }
                    Err(e) => return Err(e),
                }
            }
            Ok((changes, ()))
        })
        .await
}

/// Applies the manifest when any of the agent's objects is missing. Returns what is still
/// missing (always empty after an apply).
async fn install(ctx: &Ctx<'_>, args: &AgentArgs, dry: DryRunAgent) -> Result<Vec<String>> {
    let s = ctx.settings;
    ctx.report
        .step("agent: installed", async {
            let mut changes = Changes::none();
            let assume_installed = dry == DryRunAgent::Installed && args.agent_manifest.is_none();
            let mut missing = missing_objects(ctx, assume_installed).await?;
            // The manifest is a readable file: `preflight` checked it before a run or a plan.
            if !missing.is_empty()
                && let Some(manifest) = &args.agent_manifest
            {
                let apply = kubectl(ctx)
                    .await?
                    .apply_server_side(s.namespace.as_str(), manifest, "the agent manifest");
                match ctx.exec.run(&apply).await {
                    // An apply creates what it did not find; another run may have created it
                    // meanwhile. Applying again updates what is there now.
                    Err(Error::Command(e)) if already_exists(&e.stderr) => {
                        ctx.report
                            .info("some of the agent's objects were created meanwhile (another run?): applying again");
                        ctx.exec.run(&apply).await?;
                    }
                    other => {
                        other?;
                    }
                }
                changes.push(format!("applied {}", manifest.display()));
                missing = missing_objects(ctx, true).await?;
                if !missing.is_empty() {
                    return Err(Error::State(format!(
                        "{} does not define {} in namespace {}",
                        manifest.display(),
                        missing.join(", "),
                        s.namespace
                    )));
                }
            }
            Ok((changes, missing))
        })
        .await
}

/// Annotation, fsGroup, restart and wait for one service account and its workload.
async fn patch_pair(ctx: &Ctx<'_>, arn: &Arg, sa: &str, kind: &str, name: &str, wait: Duration) -> Result<()> {
    let ns = ctx.settings.namespace.as_str();
    let k = kubectl(ctx).await?;
    ctx.report
        .step(&format!("agent: {kind} {name}"), async {
            let mut changes = Changes::none();
            let (current_sa, known) = observe(ctx, "serviceaccount", sa).await?;
            if known && current_sa.is_none() {
                return Err(agent_missing(ctx, &[format!("serviceaccount/{sa}")]));
            }
            let annotated = current_sa
                .as_ref()
                .is_some_and(|o| arn.is_known() && annotation_converged(o, &arn.value()));
            if !annotated {
                ctx.exec
                    .run(&k.annotate(ns, "serviceaccount", sa, SERVICE_ACCOUNT_ANNOTATION, arn.clone()))
                    .await?;
                changes.push(format!("annotated serviceaccount {sa}"));
            }
            let (workload, known) = observe(ctx, kind, name).await?;
            if known && workload.is_none() {
                return Err(agent_missing(ctx, &[format!("{kind}/{name}")]));
            }
            let patched = workload.as_ref().is_some_and(fs_group_converged);
            if !patched {
                ctx.exec
                    .run(&k.patch_merge(ns, kind, name, &fs_group_patch(FS_GROUP)))
                    .await?;
                changes.push(format!("set fsGroup {FS_GROUP} on {kind} {name}"));
            } else if !annotated || stale_pods(ctx, &k, sa, arn).await? > 0 {
                // The pod template did not change, so nothing would restart the pods, and pods
                // get the role only when they are created: they would keep running without it.
                ctx.exec.run(&k.rollout_restart(ns, kind, name)).await?;
                changes.push(format!("restarted {kind} {name}"));
            }
            ctx.exec.run(&k.rollout_status(ns, kind, name, wait)).await?;
            Ok((changes, ()))
        })
        .await
}

/// Pods of the service account that run without the role (started before the annotation).
async fn stale_pods(ctx: &Ctx<'_>, k: &Kubectl, sa: &str, arn: &Arg) -> Result<usize> {
    if !arn.is_known() {
        return Ok(0);
    }
    let ns = ctx.settings.namespace.as_str();
    let pods: Option<Value> = ctx
        .observe(
            &k.list(ns, "pods"),
            |o| kubectl::is_not_found(&o.stderr),
            crate::tools::parse_json,
        )
        .await?;
    let arn = arn.value();
    Ok(pods
        .as_ref()
        .map(|p| {
            kubectl::pods_of(p, sa)
                .into_iter()
                .filter(|pod| !kubectl::pod_has_role(pod, &arn))
                .count()
        })
        .unwrap_or(0))
}

fn agent_missing(ctx: &Ctx<'_>, missing: &[String]) -> Error {
    let s = ctx.settings;
    Error::State(format!(
        "the Harness GitOps agent is not installed in namespace {} of cluster {} (missing: {}). Install the agent first, or pass --agent-manifest FILE",
        s.namespace,
        s.mgmt_cluster,
        missing.join(", ")
    ))
}

/// The whole `agent patch` command.
pub(crate) async fn patch(ctx: &Ctx<'_>, args: &AgentArgs, dry: DryRunAgent) -> Result<Outcome> {
    // A dry-run of `agent patch` describes an installed agent, so its namespace exists too.
    let assume_ns = dry == DryRunAgent::Installed && args.agent_manifest.is_none();
    namespace(ctx, assume_ns).await?;
    let missing = install(ctx, args, dry).await?;
    if !missing.is_empty() {
        ctx.report.record(StepRecord {
            step: "agent: patch".into(),
            status: Status::Pending,
            duration: Duration::ZERO,
            changes: vec!["agent not installed".into()],
        });
        return Ok(Outcome::AgentMissing(missing));
    }
    patch_workloads(ctx, args.wait_timeout).await?;
    Ok(Outcome::Patched)
}

/// The two service accounts and workloads of an installed agent, at the same time.
pub(crate) async fn patch_workloads(ctx: &Ctx<'_>, wait: Duration) -> Result<()> {
    let arn = ctx.agent_role_arn().await?;
    let [(sa0, kind0, name0), (sa1, kind1, name1)] = WORKLOADS;
    let (a, b) = tokio::join!(
        patch_pair(ctx, &arn, sa0, kind0, name0, wait),
        patch_pair(ctx, &arn, sa1, kind1, name1, wait)
    );
    a?;
    b
}

/// The error `agent patch` gives when run on its own and the agent is missing.
pub(crate) fn missing_error(ctx: &Ctx<'_>, missing: &[String]) -> Error {
    agent_missing(ctx, missing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn annotation_converged_only_on_the_agent_role() {
        let sa = |arn: &str| json!({"metadata": {"annotations": {SERVICE_ACCOUNT_ANNOTATION: arn}}});
        assert!(annotation_converged(
            &sa("arn:aws:iam::1:role/ArgoCD"),
            "arn:aws:iam::1:role/ArgoCD"
        ));
        assert!(!annotation_converged(
            &sa("arn:aws:iam::1:role/Old"),
            "arn:aws:iam::1:role/ArgoCD"
        ));
        assert!(!annotation_converged(
            &json!({"metadata": {}}),
            "arn:aws:iam::1:role/ArgoCD"
        ));
    }

    #[test]
    fn fs_group_converged_only_on_999() {
        let workload = |g: i64| json!({"spec": {"template": {"spec": {"securityContext": {"fsGroup": g}}}}});
        assert!(fs_group_converged(&workload(FS_GROUP)));
        assert!(!fs_group_converged(&workload(1000)));
        assert!(!fs_group_converged(&json!({"spec": {"template": {"spec": {}}}})));
    }
}

//! `verify`: check every link of the IRSA chain, read-only, one line per check.
//!
//! When IRSA is wrong, Argo CD only says "the server has asked for the client to provide
//! credentials" or "AccessDenied ... sts:AssumeRole". Each check here names one link, why it
//! fails, and the command that repairs it. A check whose inputs are missing (the cluster does not
//! exist) is skipped rather than failed twice. Each link is judged by the predicate beside its
//! step (`mgmt::trust_converged`, `agent::annotation_converged`, ...); a read that tells nothing
//! (a dry-run's) gives no verdict, so a dry-run's script lists the reads and nothing else.

use super::Ctx;
use super::agent::{self, FS_GROUP, WORKLOADS};
use super::observed::Observed;
use super::{mgmt, register, testing};
use crate::cli::ClusterAccess;
use crate::cmd::{Arg, Val};
use crate::error::Result;
use crate::exec::Transform;
use crate::harness;
use crate::policy::{self, SERVICE_ACCOUNT_ANNOTATION};
use crate::registration::Registration;
use crate::settings::TestingTarget;
use crate::tools::ToolCtx;
use crate::tools::aws::{self, ClusterInfo};
use crate::tools::{eksctl, kubectl, parse_json};
use serde_json::Value;
use std::fmt::Write as _;
use std::sync::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Ok,
    Fail,
    Skipped,
}

impl Verdict {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Fail => "FAIL",
            Verdict::Skipped => "skipped",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Check {
    pub name: String,
    pub verdict: Verdict,
    pub detail: String,
    pub fix: Option<String>,
}

/// Collects check results in order.
struct Checks {
    list: Mutex<Vec<Check>>,
}

impl Checks {
    fn add(&self, name: impl Into<String>, verdict: Verdict, detail: impl Into<String>, fix: Option<String>) -> bool {
        self.list.lock().unwrap().push(Check {
            name: name.into(),
            verdict,
            detail: detail.into(),
            fix: if verdict == Verdict::Fail { fix } else { None },
        });
        verdict == Verdict::Ok
    }

    fn ok(&self, name: impl Into<String>, detail: impl Into<String>) -> bool {
        self.add(name, Verdict::Ok, detail, None)
    }

    fn fail(&self, name: impl Into<String>, detail: impl Into<String>, fix: String) -> bool {
        self.add(name, Verdict::Fail, detail, Some(fix))
    }

    fn skip(&self, name: impl Into<String>, why: impl Into<String>) -> bool {
        self.add(name, Verdict::Skipped, why, None)
    }
}

/// The cluster is ACTIVE and has a nodegroup with nodes: without one (a creation cut off after
/// the control plane) no pod of the agent or of a deployment can ever start. Returns whether
/// the control plane is ACTIVE (`None`: not known): what lives in it (mappings, access entries,
/// the agent's objects) can be checked even when the nodegroup check failed.
async fn cluster_check(
    ctx: &Ctx<'_>,
    checks: &Checks,
    aws: &ToolCtx,
    name: &str,
    cluster: &str,
    found: &Observed<ClusterInfo>,
    fix: String,
) -> Result<Option<bool>> {
    match found {
        Observed::Present(c) if c.status == "ACTIVE" => {}
        Observed::Present(c) => return Ok(Some(checks.fail(name, format!("{cluster} is {}", c.status), fix))),
        Observed::Absent => return Ok(Some(checks.fail(name, format!("{cluster} does not exist"), fix))),
        Observed::Unknown => return Ok(None),
    }
    let groups = ctx
        .observe(&aws.list_nodegroups(cluster), aws::is_not_found, aws::parse_nodegroups)
        .await?
        .unwrap_or_default();
    let mut nodes = Vec::new();
    for g in &groups {
        let info = ctx
            .observe(
                &aws.describe_nodegroup(cluster, g),
                aws::is_not_found,
                aws::parse_nodegroup,
            )
            .await?;
        let desired = info.as_ref().and_then(|i| i.scaling.as_ref()?.desired).unwrap_or(0);
        if info.is_some_and(|i| i.status == "ACTIVE") && desired > 0 {
            nodes.push(format!("{g}: {desired} node(s)"));
        }
    }
    if !nodes.is_empty() {
        checks.ok(name, format!("{cluster} is ACTIVE; nodegroup {}", nodes.join(", ")));
    } else if groups.is_empty() {
        checks.fail(
            name,
            format!("{cluster} is ACTIVE but has no nodegroup: no pod can start on it"),
            fix,
        );
    } else {
        checks.fail(
            name,
            format!(
                "{cluster} is ACTIVE but no nodegroup of it ({}) is ACTIVE with nodes",
                groups.join(", ")
            ),
            fix,
        );
    }
    Ok(Some(true))
}

async fn mgmt_checks(ctx: &Ctx<'_>, checks: &Checks) -> Result<()> {
    let s = ctx.settings;
    let aws = ctx.mgmt_tools();
    let fix = s.suggest("mgmt");
    let cluster = ctx
        .read(
            &aws.describe_cluster(s.mgmt_cluster.as_str()),
            aws::is_not_found,
            aws::parse_cluster,
        )
        .await?;
    let active = cluster_check(
        ctx,
        checks,
        &aws,
        "management cluster",
        s.mgmt_cluster.as_str(),
        &cluster,
        fix.clone(),
    )
    .await?;
    let account = ctx.mgmt_account().await?;
    let agent_arn = ctx.role_arn(&account, s.agent_role.as_str());

    // OIDC provider for the cluster's issuer.
    let provider = match &cluster {
        // The script reads it for the reads that need it.
        Observed::Unknown => Some(
            ctx.exec
                .capture(
                    "OIDC_PROVIDER",
                    &aws.cluster_field(s.mgmt_cluster.as_str(), "cluster.identity.oidc.issuer"),
                    Transform::StripPrefix("https://"),
                )
                .await?,
        ),
        Observed::Present(c) => c.issuer().map(|i| Val::known(i.trim_start_matches("https://"))),
        Observed::Absent => None,
    };
    let provider_arn = provider.as_ref().map(|p| ctx.oidc_provider_arn(&account, p));
    match &provider_arn {
        Some(arn) => {
            let found = ctx
                .read(&aws.get_oidc_provider(arn.clone()), aws::is_not_found, |_, _| Ok(()))
                .await?;
            match found {
                Observed::Present(()) => checks.ok("OIDC provider", format!("{} exists in IAM", arn.template())),
                Observed::Absent => checks.fail(
                    "OIDC provider",
                    format!("no IAM OIDC provider {}", arn.template()),
                    fix.clone(),
                ),
                Observed::Unknown => true,
            }
        }
        None if active == Some(true) => checks.fail("OIDC provider", "the cluster has no OIDC issuer", fix.clone()),
        None => checks.skip("OIDC provider", "the management cluster is not there"),
    };

    // Agent role trust.
    let role = ctx
        .read(&aws.get_role(s.agent_role.as_str()), aws::is_not_found, aws::parse_role)
        .await?;
    let trust_name = format!("{} trust", s.agent_role);
    match (&role, &provider, &provider_arn) {
        (Observed::Unknown, _, _) => true,
        (Observed::Absent, _, _) => checks.fail(
            &trust_name,
            format!("role {} does not exist", s.agent_role),
            fix.clone(),
        ),
        (Observed::Present(_), None, _) | (Observed::Present(_), _, None) => {
            checks.skip(&trust_name, "no OIDC issuer to compare with")
        }
        (Observed::Present(r), Some(p), Some(parn)) if parn.is_known() => {
            match mgmt::trust_converged(&r.trust, &parn.value(), p.value(), s.namespace.as_str()) {
                Ok(()) => checks.ok(
                    &trust_name,
                    "trusts the OIDC provider for the agent's service accounts (sub and aud)",
                ),
                Err(why) => checks.fail(&trust_name, why, fix.clone()),
            }
        }
        _ => true,
    };

    agent_policy_check(ctx, checks, &aws, &role, &fix).await?;
    agent_checks(ctx, checks, active, &agent_arn).await
}

/// The agent role's inline policy: it lets the agent assume each testing target's Deployer role.
async fn agent_policy_check(
    ctx: &Ctx<'_>,
    checks: &Checks,
    aws: &ToolCtx,
    role: &Observed<aws::Role>,
    fix: &str,
) -> Result<()> {
    let s = ctx.settings;
    let policy_name = format!("{} policy {}", s.agent_role, policy::AGENT_POLICY_NAME);
    let doc = ctx
        .read(
            &aws.get_role_policy(s.agent_role.as_str(), policy::AGENT_POLICY_NAME),
            aws::is_not_found,
            aws::parse_role_policy,
        )
        .await?;
    for t in &s.testing {
        let deployer = ctx.deployer_role_arn(t).await?;
        match &doc {
            _ if !deployer.is_known() => true,
            Observed::Unknown => true,
            Observed::Present(d) if mgmt::policy_converged(d, &deployer.value()) => {
                checks.ok(&policy_name, format!("allows sts:AssumeRole on {}", deployer.value()))
            }
            Observed::Present(_) => checks.fail(
                &policy_name,
                format!("does not allow sts:AssumeRole on {}", deployer.value()),
                fix.to_string(),
            ),
            Observed::Absent if matches!(role, Observed::Absent) => {
                checks.skip(&policy_name, format!("role {} does not exist", s.agent_role))
            }
            Observed::Absent => checks.fail(&policy_name, "the inline policy does not exist", fix.to_string()),
        };
    }
    Ok(())
}

async fn agent_checks(ctx: &Ctx<'_>, checks: &Checks, mgmt_active: Option<bool>, agent_arn: &Arg) -> Result<()> {
    let s = ctx.settings;
    let fix = s.suggest("agent patch");
    let names: Vec<String> = WORKLOADS
        .iter()
        .flat_map(|(sa, kind, name)| {
            [
                format!("serviceaccount {sa}"),
                format!("{kind} {name} fsGroup"),
                format!("pods of {kind} {name}"),
            ]
        })
        .collect();
    if mgmt_active == Some(false) {
        for n in names {
            checks.skip(n, "the management cluster is not ACTIVE");
        }
        return Ok(());
    }
    ctx.ensure_mgmt_kubeconfig().await?;
    let k = ctx.mgmt_kubectl().await?;
    let ns = s.namespace.as_str();
    let get = |kind: &str, name: &str| k.get(Some(ns), kind, name);
    let not_found = |o: &crate::exec::Output| kubectl::is_not_found(&o.stderr);
    let pods: Option<Value> = ctx.observe(&k.list(ns, "pods"), not_found, parse_json).await?;
    for (sa, kind, name) in WORKLOADS {
        let sa_obj: Observed<Value> = ctx.read(&get("serviceaccount", sa), not_found, parse_json).await?;
        let sa_name = format!("serviceaccount {sa}");
        let want = agent_arn.is_known().then(|| agent_arn.value());
        match (&sa_obj, &want) {
            (_, None) | (Observed::Unknown, _) => true,
            (Observed::Absent, _) => checks.fail(
                &sa_name,
                format!("does not exist in namespace {ns}: install the agent"),
                fix.clone(),
            ),
            (Observed::Present(o), Some(w)) if agent::annotation_converged(o, w) => {
                checks.ok(&sa_name, format!("{SERVICE_ACCOUNT_ANNOTATION}={w}"))
            }
            (Observed::Present(o), Some(w)) => match kubectl::annotation(o, SERVICE_ACCOUNT_ANNOTATION) {
                Some(v) => checks.fail(
                    &sa_name,
                    format!("{SERVICE_ACCOUNT_ANNOTATION} is {v}, not {w}"),
                    fix.clone(),
                ),
                None => checks.fail(
                    &sa_name,
                    format!("no {SERVICE_ACCOUNT_ANNOTATION} annotation"),
                    fix.clone(),
                ),
            },
        };
        let workload: Observed<Value> = ctx.read(&get(kind, name), not_found, parse_json).await?;
        let fs_name = format!("{kind} {name} fsGroup");
        match &workload {
            Observed::Unknown => true,
            Observed::Absent => checks.fail(
                &fs_name,
                format!("{kind} {name} does not exist: install the agent"),
                fix.clone(),
            ),
            Observed::Present(w) if agent::fs_group_converged(w) => checks.ok(&fs_name, format!("fsGroup {FS_GROUP}")),
            Observed::Present(w) => match kubectl::fs_group(w) {
                Some(other) => checks.fail(&fs_name, format!("fsGroup is {other}, not {FS_GROUP}"), fix.clone()),
                None => checks.fail(
                    &fs_name,
                    "no fsGroup: the token file is unreadable for the argocd user",
                    fix.clone(),
                ),
            },
        };
        let pods_name = format!("pods of {kind} {name}");
        match (&pods, &want) {
            (Some(p), Some(w)) => {
                let mine = kubectl::pods_of(p, sa);
                let stale = mine.iter().filter(|pod| !kubectl::pod_has_role(pod, w)).count();
                if mine.is_empty() {
                    checks.fail(&pods_name, format!("no pods run as serviceaccount {sa}"), fix.clone())
                } else if stale > 0 {
                    checks.fail(
                        &pods_name,
                        format!(
                            "{stale} of {} pod(s) started before the annotation (no AWS_ROLE_ARN={w})",
                            mine.len()
                        ),
                        k.rollout_restart(ns, kind, name).to_string(),
                    )
                } else {
                    checks.ok(&pods_name, format!("{} pod(s) run with AWS_ROLE_ARN={w}", mine.len()))
                }
            }
            _ => true,
        };
    }
    Ok(())
}

/// The testing cluster's checks; whether its read told anything (a dry-run's does not).
async fn testing_checks(ctx: &Ctx<'_>, checks: &Checks, t: &TestingTarget) -> Result<bool> {
    let s = ctx.settings;
    let fix = s.suggest("testing");
    let aws = ctx.testing_tools(t);
    let cluster = ctx
        .read(
            &aws.describe_cluster(t.cluster.as_str()),
            aws::is_not_found,
            aws::parse_cluster,
        )
        .await?;
    let active = cluster_check(
        ctx,
        checks,
        &aws,
        &format!("testing cluster {}", t.cluster),
        t.cluster.as_str(),
        &cluster,
        fix.clone(),
    )
    .await?;
    let agent_arn = ctx.agent_role_arn().await?;
    let deployer_arn = ctx.deployer_role_arn(t).await?;
    deployer_trust_check(ctx, checks, t, &aws, &agent_arn, &fix).await?;
    deployer_access_check(ctx, checks, t, &aws, &cluster, active, deployer_arn).await?;
    Ok(active.is_some())
}

/// The Deployer role's trust: it names the agent role.
async fn deployer_trust_check(
    ctx: &Ctx<'_>,
    checks: &Checks,
    t: &TestingTarget,
    aws: &ToolCtx,
    agent_arn: &Arg,
    fix: &str,
) -> Result<()> {
    let role = ctx
        .read(
            &aws.get_role(t.deployer_role.as_str()),
            aws::is_not_found,
            aws::parse_role,
        )
        .await?;
    let trust_name = format!("{} trust", t.deployer_role);
    match &role {
        _ if !agent_arn.is_known() => true,
        Observed::Unknown => true,
        Observed::Absent => checks.fail(
            &trust_name,
            format!("role {} does not exist", t.deployer_role),
            fix.to_string(),
        ),
        Observed::Present(r) if testing::trust_converged(&r.trust, &agent_arn.value()) => {
            checks.ok(&trust_name, format!("trusts {}", agent_arn.value()))
        }
        Observed::Present(_) => checks.fail(
            &trust_name,
            format!("does not trust {}", agent_arn.value()),
            fix.to_string(),
        ),
    };
    Ok(())
}

/// The Deployer's access to the testing cluster (skipped unless ACTIVE): an aws-auth mapping or
/// an access entry, whichever the cluster's authentication mode and `--access` call for.
async fn deployer_access_check(
    ctx: &Ctx<'_>,
    checks: &Checks,
    t: &TestingTarget,
    aws: &ToolCtx,
    cluster: &Observed<ClusterInfo>,
    active: Option<bool>,
    deployer_arn: Arg,
) -> Result<()> {
    let s = ctx.settings;
    let fix = s.suggest("testing");
    let access_name = format!("{} access to {}", t.deployer_role, t.cluster);
    if active == Some(false) {
        checks.skip(&access_name, "the testing cluster is not ACTIVE");
        return Ok(());
    }
    // EKS refuses access entries on a CONFIG_MAP cluster and ignores aws-auth on an API one.
    let mode = match cluster {
        Observed::Present(c) => c.authentication_mode(),
        Observed::Absent | Observed::Unknown => None,
    };
    if let Some(mode) = mode
        && testing::mode_conflict(ctx, t, Some(mode)).is_some()
    {
        let (detail, fix) = match t.access {
            ClusterAccess::AccessEntry => (
                format!(
                    "{} has authentication mode {mode}: EKS refuses access entries",
                    t.cluster
                ),
                format!(
                    "{fix} --enable-access-entries (one way: the mode cannot go back to {mode}), or: {}",
                    aws.enable_access_entries(t.cluster.as_str())
                ),
            ),
            ClusterAccess::AwsAuth => (
                format!(
                    "{} has authentication mode {mode}: EKS ignores aws-auth, a mapping grants nothing",
                    t.cluster
                ),
                testing::access_entry_command(ctx, t),
            ),
        };
        checks.fail(&access_name, detail, fix);
        return Ok(());
    }
    match t.access {
        ClusterAccess::AwsAuth => {
            let e = ctx.testing_tools(t);
            let mappings = ctx
                .observe(
                    &e.get_mappings(t.cluster.as_str()),
                    |o| eksctl::is_not_found(&o.stderr),
                    eksctl::parse_mappings,
                )
                .await?;
            let mapped_arn = ctx.deployer_mapping_arn(t).await?;
            if let (Some(m), true) = (&mappings, mapped_arn.is_known()) {
                let arn = mapped_arn.value();
                let count = m.iter().filter(|x| x.rolearn.as_deref() == Some(arn.as_str())).count();
                if testing::mapping_converged(m, &arn, t) {
                    checks.ok(&access_name, "mapped once in aws-auth");
                } else if count == 0 {
                    checks.fail(&access_name, format!("{arn} is not mapped in aws-auth"), fix.clone());
                } else {
                    checks.fail(
                        &access_name,
                        format!("{arn} is mapped {count} time(s) or with other username/groups"),
                        fix.clone(),
                    );
                }
            }
        }
        ClusterAccess::AccessEntry => {
            let entry = ctx
                .read(
                    &aws.list_access_policies(t.cluster.as_str(), deployer_arn.clone()),
                    aws::is_not_found,
                    aws::parse_has_cluster_admin,
                )
                .await?;
            if let Some(has_admin) = entry.known() {
                if testing::admin_policy_converged(has_admin) {
                    checks.ok(
                        &access_name,
                        "access entry with AmazonEKSClusterAdminPolicy (cluster scope)",
                    );
                } else {
                    checks.fail(
                        &access_name,
                        "no access entry with AmazonEKSClusterAdminPolicy at cluster scope",
                        fix.clone(),
                    );
                }
            }
        }
    }
    Ok(())
}

async fn registration_checks(ctx: &Ctx<'_>, checks: &Checks, reg: &Registration, t: &TestingTarget) -> Result<()> {
    let fix = ctx.settings.suggest("register");
    let aws = ctx.testing_tools(t);
    let cluster = t.cluster.as_str();
    let endpoint = ctx
        .read(&aws.describe_cluster(cluster), aws::is_not_found, aws::parse_cluster)
        .await?;
    let name = format!("registration of {cluster}");
    let info = match endpoint {
        Observed::Present(info) => info,
        Observed::Absent => {
            checks.skip(&name, "the testing cluster does not exist");
            return Ok(());
        }
        Observed::Unknown => return Ok(()),
    };
    let spec = harness::ClusterSpec {
        identifier: match reg {
            Registration::Harness { cluster_id, .. } => {
                Registration::harness_cluster_id(cluster_id, cluster, ctx.settings.testing.len())
            }
            Registration::Argocd => crate::names::harness_identifier(cluster),
        },
        name: cluster.to_string(),
        server: Arg::from(info.endpoint.clone().unwrap_or_default()),
        role_arn: ctx.deployer_role_arn(t).await?,
        aws_cluster_name: cluster.to_string(),
        ca_data: Arg::from(info.certificate_authority.and_then(|c| c.data).unwrap_or_default()),
    };
    match reg {
        Registration::Harness { harness: h, .. } => {
            let get = h.get_cluster(&spec.identifier);
            if let Some(resp) = ctx.exec.http_observe(&get).await? {
                match h.parse_get(&get, &resp) {
                    Ok(Some(current)) => {
                        let diffs = register::harness_drift(&current, &spec);
                        if diffs.is_empty() {
                            checks.ok(&name, format!("Harness cluster {} matches", spec.identifier));
                        } else {
                            checks.fail(
                                &name,
                                format!("Harness cluster {} differs: {}", spec.identifier, diffs.join(", ")),
                                fix,
                            );
                        }
                    }
                    Ok(None) => {
                        checks.fail(&name, format!("Harness has no cluster {}", spec.identifier), fix);
                    }
                    Err(e) => {
                        checks.fail(&name, e.to_string(), fix);
                    }
                }
            }
        }
        Registration::Argocd => {
            let k = ctx.mgmt_kubectl().await?;
            let secret_name = crate::argocd::secret_name(cluster);
            let found: Option<Value> = ctx
                .observe(
                    &k.get(Some(ctx.settings.namespace.as_str()), "secret", &secret_name),
                    |o| kubectl::is_not_found(&o.stderr),
                    parse_json,
                )
                .await?;
            let desired = crate::argocd::cluster_secret(
                ctx.settings.namespace.as_str(),
                cluster,
                &spec.server.value(),
                &spec.ca_data.value(),
                &spec.role_arn.value(),
            );
            match found {
                Some(f) if register::argocd_secret_converged(&f, &desired) => {
                    checks.ok(&name, format!("Argo CD secret {secret_name} matches"))
                }
                Some(_) => checks.fail(&name, format!("Argo CD secret {secret_name} differs"), fix),
                None => checks.fail(&name, format!("no Argo CD secret {secret_name}"), fix),
            };
        }
    }
    Ok(())
}

/// Runs every check. Returns the checks (empty in a dry-run, where only the reads are printed).
pub(crate) async fn run(ctx: &Ctx<'_>, reg: Option<&Registration>) -> Result<Vec<Check>> {
    let checks = Checks {
        list: Mutex::new(Vec::new()),
    };
    mgmt_checks(ctx, &checks).await?;
    for t in &ctx.settings.testing {
        let known = testing_checks(ctx, &checks, t).await?;
        match reg {
            Some(r) => registration_checks(ctx, &checks, r, t).await?,
            None if known => {
                checks.skip(
                    format!("registration of {}", t.cluster),
                    "no --harness-account/--agent-id or --to given",
                );
            }
            None => {}
        }
    }
    Ok(checks.list.into_inner().unwrap())
}

/// `verify` (with `--live`, also the agent's own calls, hop by hop): the checks on stdout, as
/// text or JSON events; exit code 1 when one failed.
pub(crate) async fn command(ctx: &Ctx<'_>, reg: Option<&Registration>, live: bool) -> Result<i32> {
    let mut checks = run(ctx, reg).await?;
    if live {
        let hops = super::live::run(ctx, &checks).await?;
        checks.extend(hops);
    }
    if ctx.report.is_json() {
        for c in &checks {
            ctx.report.event(&crate::event::Event::Check {
                check: &c.name,
                status: c.verdict.label(),
                detail: &c.detail,
                fix: c.fix.as_deref(),
            });
        }
    } else if !checks.is_empty() {
        // No check at all: nothing was read (a dry-run), the script of the reads is the answer.
        ctx.report.result(&render(&checks))?;
    }
    let failed = checks.iter().any(|c| c.verdict == Verdict::Fail);
    Ok(i32::from(failed))
}

/// The report: one line per check, the fix under each failure, and a count.
pub(crate) fn render(checks: &[Check]) -> String {
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for c in checks {
        let label = c.verdict.label();
        let _ = writeln!(out, "{label:7} {:width$}  {}", c.name, c.detail);
        if let Some(fix) = &c.fix {
            let _ = writeln!(out, "{:7} {:width$}  fix: {fix}", "", "");
        }
    }
    let count = |v: Verdict| checks.iter().filter(|c| c.verdict == v).count();
    let _ = writeln!(
        out,
        "{} checks: {} ok, {} failed, {} skipped",
        checks.len(),
        count(Verdict::Ok),
        count(Verdict::Fail),
        count(Verdict::Skipped)
    );
    out
}

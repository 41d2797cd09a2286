//! The tutorial's sections as steps. Each step observes, then acts.
//!
//! Observe: read-only calls that find out the current state. Act: the mutating commands needed
//! to get from that state to the desired one, and nothing else. In a dry-run the observations
//! return nothing, so the acts printed are those of a run from scratch.

pub(crate) mod agent;
pub(crate) mod agent_install;
pub(crate) mod cluster;
pub(crate) mod command;
pub(crate) mod down;
pub(crate) mod guestbook;
pub(crate) mod guestbook_argocd;
pub(crate) mod live;
pub(crate) mod mgmt;
pub(crate) mod needs;
pub(crate) mod observed;
pub(crate) mod register;
pub(crate) mod testing;
pub(crate) mod up;
pub(crate) mod verify;

use crate::cmd::{Arg, Cmd, Val};
use crate::error::{Error, Result};
use crate::exec::{Executor, Output, Transform};
use crate::names::ClusterName;
use crate::render::Doc;
use crate::report::{Changes, Reporter};
use crate::resource::Selector;
use crate::settings::{Settings, TestingTarget};
use crate::tools::ToolCtx;
use crate::tools::kubectl::{self, Kubeconfig, Kubectl};
use crate::tools::{aws, eksctl};
use std::collections::HashSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Mutex;

/// Every result, or the first error (of branches that ran to the end).
pub(crate) fn all<T>(results: Vec<Result<T>>) -> Result<Vec<T>> {
    results.into_iter().collect()
}

/// The commands without repeats (two targets may share a role or a profile).
fn unique(mut cmds: Vec<Cmd>) -> Vec<Cmd> {
    let mut seen = HashSet::new();
    cmds.retain(|c| seen.insert(c.to_string()));
    cmds
}

/// What every step needs: the settings, the executor and the reporter.
pub(crate) struct Ctx<'a> {
    pub settings: &'a Settings,
    pub exec: &'a dyn Executor,
    pub report: &'a Reporter,
    /// Kubeconfigs written during this run (by `create cluster` or `write-kubeconfig`), by key.
    kubeconfigs: Mutex<HashSet<String>>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(settings: &'a Settings, exec: &'a dyn Executor, report: &'a Reporter) -> Self {
        Ctx {
            settings,
            exec,
            report,
            kubeconfigs: Mutex::new(HashSet::new()),
        }
    }

    /// The management account's aws and eksctl context.
    pub(crate) fn mgmt_tools(&self) -> ToolCtx {
        ToolCtx {
            region: self.settings.region.clone(),
            profile: self.settings.profile.clone(),
        }
    }

    /// A testing target's: its own profile, else the management one.
    pub(crate) fn testing_tools(&self, t: &TestingTarget) -> ToolCtx {
        ToolCtx {
            region: self.settings.region.clone(),
            profile: t.profile.clone().or_else(|| self.settings.profile.clone()),
        }
    }

    pub(crate) async fn mgmt_kubeconfig(&self) -> Result<Kubeconfig> {
        let account = self.mgmt_account().await?;
        Ok(self.settings.kubeconfig(&account, &self.settings.mgmt_cluster))
    }

    pub(crate) async fn testing_kubeconfig(&self, t: &TestingTarget) -> Result<Kubeconfig> {
        let account = self.testing_account(t).await?;
        Ok(self.settings.kubeconfig(&account, &t.cluster))
    }

    /// kubectl on the management cluster: its kubeconfig made fresh, and the cluster's context
    /// in it read once (`$MGMT_CONTEXT` in a dry-run script).
    pub(crate) async fn mgmt_kubectl(&self) -> Result<Kubectl> {
        self.ensure_mgmt_kubeconfig().await?;
        let kubeconfig = self.mgmt_kubeconfig().await?;
        let entry = kubectl::eksctl_cluster_entry(self.settings.mgmt_cluster.as_str(), &self.settings.region);
        let read = kubectl::context_of(&kubeconfig, &entry);
        let context = self.exec.capture("MGMT_CONTEXT", &read, Transform::None).await?;
        if let Val::Known(c) = &context
            && c.contains(char::is_whitespace)
        {
            // Two identities wrote the same file: which one this run acts as is not clear.
            return Err(Error::State(format!(
                "{} has several contexts for cluster {} ({c}): delete the file and re-run, gitops-iam writes it anew",
                kubeconfig.path().display(),
                entry.value()
            )));
        }
        Ok(Kubectl { kubeconfig, context })
    }

    /// Reads `cmds` at once, ahead of the steps that observe them (see [`ReadAhead::prefetch`](crate::exec::ReadAhead::prefetch));
    /// nothing in a dry-run, which reads nothing.
    pub(crate) async fn prefetch(&self, cmds: Vec<Cmd>) {
        if let Some(r) = self.exec.read_ahead() {
            r.prefetch(vec![cmds]).await;
        }
    }

    /// Drops the failed answers read ahead about `what` (see [`ReadAhead::forget_failures`](crate::exec::ReadAhead::forget_failures)).
    fn forget_failures(&self, what: &Selector) {
        if let Some(r) = self.exec.read_ahead() {
            r.forget_failures(what);
        }
    }

    /// Drops what was read ahead about what `what` selects (see [`ReadAhead::forget`](crate::exec::ReadAhead::forget)).
    pub(crate) fn forget(&self, what: &Selector) {
        if let Some(r) = self.exec.read_ahead() {
            r.forget(what);
        }
    }

    /// A value an observation told, for later captures of `var` (see [`ReadAhead::remember`](crate::exec::ReadAhead::remember)).
    pub(crate) fn remember(&self, var: &str, value: &str) {
        if let Some(r) = self.exec.read_ahead() {
            r.remember(var, value);
        }
    }

    /// The management account id: given, or read once from `sts get-caller-identity`.
    pub(crate) async fn mgmt_account(&self) -> Result<Val> {
        match &self.settings.account_id {
            Some(a) => Ok(Val::known(a.as_str())),
            None => self.account_capture("ACCOUNT_ID", &self.mgmt_tools()).await,
        }
    }

    /// The testing account id: given, read with the testing profile, or the management account.
    pub(crate) async fn testing_account(&self, t: &TestingTarget) -> Result<Val> {
        match (&t.account_id, &t.profile) {
            (Some(a), _) => Ok(Val::known(a.as_str())),
            (None, Some(_)) => {
                self.account_capture(&self.target_var("TESTING_ACCOUNT_ID", t), &self.testing_tools(t))
                    .await
            }
            (None, None) => self.mgmt_account().await,
        }
    }

    /// Every read-only AWS observation of `up`, `mgmt` and `testing`, in two rounds: first what
    /// a cluster creation waits for (each cluster's `describe-cluster`), then the rest (the
    /// nodegroups, the OIDC providers, the roles, the agent's inline policy, the mappings).
    fn observations(&self) -> Vec<Vec<Cmd>> {
        let s = self.settings;
        let aws = self.mgmt_tools();
        let mut first = vec![aws.describe_cluster(s.mgmt_cluster.as_str())];
        let mut rest = vec![
            aws.list_nodegroups(s.mgmt_cluster.as_str()),
            aws.list_oidc_providers(),
            aws.get_role(s.agent_role.as_str()),
            aws.get_role_policy(s.agent_role.as_str(), crate::policy::AGENT_POLICY_NAME),
        ];
        for t in &s.testing {
            let taws = self.testing_tools(t);
            first.push(taws.describe_cluster(t.cluster.as_str()));
            rest.push(taws.list_nodegroups(t.cluster.as_str()));
            rest.push(taws.get_role(t.deployer_role.as_str()));
            if t.access == crate::cli::ClusterAccess::AwsAuth {
                rest.push(taws.get_mappings(t.cluster.as_str()));
            }
        }
        vec![unique(first), unique(rest)]
    }

    /// Runs `steps` while every AWS observation of them is read ahead: a converged run costs two
    /// rounds of reads, and each step waits only for the reads it makes. A cluster creation
    /// starts as soon as its own `describe-cluster` has answered: those go first, alone with
    /// the account ids, since on two cores (the sandbox) or a slow link every read started
    /// beside them delays them; the others start when they have answered. The account ids come
    /// first in the steps: they need them for the kubeconfig paths, and a dry-run script then
    /// reads each once, at the top.
    pub(crate) async fn reading_ahead<T>(&self, steps: impl Future<Output = Result<T>>) -> Result<T> {
        // Started here, not when first polled: the steps find every read in the cache.
        let reads = self.exec.read_ahead().map(|r| r.prefetch(self.observations()));
        let reads = async {
            if let Some(reads) = reads {
                reads.await;
            }
        };
        let run = async {
            self.mgmt_account().await?;
            for t in &self.settings.testing {
                self.testing_account(t).await?;
            }
            steps.await
        };
        let ((), result) = tokio::join!(reads, run);
        result
    }

    /// A shell variable name for a testing target: `BASE` for the first, `BASE_2`... for more.
    pub(crate) fn target_var(&self, base: &str, t: &TestingTarget) -> String {
        match self
            .settings
            .testing
            .iter()
            .position(|x| x.cluster == t.cluster && x.profile == t.profile)
        {
            Some(0) | None => base.to_string(),
            Some(i) => format!("{base}_{}", i + 1),
        }
    }

    async fn account_capture(&self, var: &str, aws: &ToolCtx) -> Result<Val> {
        let val = self.exec.capture(var, &aws.caller_account(), Transform::None).await?;
        if let Val::Known(v) = &val {
            crate::names::AccountId::parse("the account id from `aws sts get-caller-identity`", v)?;
        }
        Ok(val)
    }

    pub(crate) fn role_arn(&self, account: &Val, role: &str) -> Arg {
        Arg::concat([
            Val::known("arn:"),
            self.settings.partition_val(),
            Val::known(":iam::"),
            account.clone(),
            Val::known(format!(":role/{role}")),
        ])
    }

    /// `arn:PARTITION:iam::ACCOUNT:oidc-provider/ISSUER_HOST_PATH`.
    pub(crate) fn oidc_provider_arn(&self, account: &Val, provider: &Val) -> Arg {
        Arg::concat([
            Val::known("arn:"),
            self.settings.partition_val(),
            Val::known(":iam::"),
            account.clone(),
            Val::known(":oidc-provider/"),
            provider.clone(),
        ])
    }

    /// The tool's kubeconfig for the management cluster, fresh (see `ensure_kubeconfig`).
    pub(crate) async fn ensure_mgmt_kubeconfig(&self) -> Result<()> {
        let kubeconfig = self.mgmt_kubeconfig().await?;
        self.ensure_kubeconfig(&self.mgmt_tools(), &self.settings.mgmt_cluster, &kubeconfig, None)
            .await
    }

    /// A role's ARN as IAM knows it: what `get-role` answers once the role exists (an adopted
    /// role may have a path, `role/team/NAME`, which trust policies, policy resources, the IRSA
    /// annotation and access entries must name), else the path-less ARN it is created with.
    async fn existing_role_arn(&self, aws: &ToolCtx, role: &str, built: Arg) -> Result<Arg> {
        let found = self
            .observe(&aws.get_role(role), aws::is_not_found, aws::parse_role)
            .await?;
        Ok(found.map_or(built, |r| Arg::from(r.arn)))
    }

    pub(crate) async fn agent_role_arn(&self) -> Result<Arg> {
        let account = self.mgmt_account().await?;
        let role = self.settings.agent_role.as_str();
        self.existing_role_arn(&self.mgmt_tools(), role, self.role_arn(&account, role))
            .await
    }

    pub(crate) async fn deployer_role_arn(&self, t: &TestingTarget) -> Result<Arg> {
        let role = t.deployer_role.as_str();
        self.existing_role_arn(&self.testing_tools(t), role, self.deployer_mapping_arn(t).await?)
            .await
    }

    /// The Deployer's ARN without a path, which aws-auth needs: the authenticator matches the
    /// caller's role ARN, and STS drops the path from it (kubernetes-sigs/aws-iam-authenticator
    /// issue 268; EKS troubleshooting guide). Access entries take the full ARN.
    pub(crate) async fn deployer_mapping_arn(&self, t: &TestingTarget) -> Result<Arg> {
        let account = self.testing_account(t).await?;
        Ok(self.role_arn(&account, t.deployer_role.as_str()))
    }

    /// Runs a read-only command and parses its answer; `None` when the thing does not exist
    /// (or in a dry-run).
    pub(crate) async fn observe<T>(
        &self,
        cmd: &Cmd,
        not_found: impl Fn(&Output) -> bool,
        parse: impl Fn(&str, &str) -> Result<T>,
    ) -> Result<Option<T>> {
        Ok(self.read(cmd, not_found, parse).await?.or_absent())
    }

    /// Writes a document's file and returns its path and, when its values are known, its JSON
    /// (the executor writes it, or prints how a script renders it).
    pub(crate) fn write_doc(&self, name: &str, doc: &Doc) -> Result<(PathBuf, Option<serde_json::Value>)> {
        let path = self.settings.policy_file(name);
        // A document that names what a dry-run or a planned command creates cannot be known.
        let contents = if !doc.is_known() {
            String::new()
        } else {
            doc.contents(self.settings.partition())
        };
        self.exec
            .write_file(&path, &contents, &doc.render(&self.settings.region))?;
        let value = (!contents.is_empty()).then(|| serde_json::from_str(&contents).expect("documents are JSON"));
        Ok((path, value))
    }

    fn kubeconfig_written(&self, kubeconfig: &Kubeconfig) {
        self.kubeconfigs.lock().unwrap().insert(kubeconfig.key());
    }

    /// Makes sure the tool's kubeconfig for a cluster is fresh: written by `create cluster`, kept
    /// when it is newer than the cluster (`created`), else written again (an old file may point
    /// at a cluster that was deleted and created anew).
    pub(crate) async fn ensure_kubeconfig(
        &self,
        tools: &ToolCtx,
        cluster: &ClusterName,
        path: &Kubeconfig,
        created: Option<std::time::SystemTime>,
    ) -> Result<()> {
        if self.kubeconfigs.lock().unwrap().contains(&path.key()) {
            return Ok(());
        }
        // `created` comes from describe-cluster, which a dry-run does not read (nor does it
        // know the file's name: the account may be a variable).
        let written = || std::fs::metadata(path.path()).and_then(|m| m.modified()).ok();
        if let Some(created) = created
            && let Some(written) = written()
            && written > created
        {
            self.kubeconfig_written(path);
            return Ok(());
        }
        self.exec.run(&tools.write_kubeconfig(cluster.as_str(), path)).await?;
        self.kubeconfig_written(path);
        Ok(())
    }

    /// Creates the cluster unless it exists; waits for it to be ACTIVE; leaves a kubeconfig.
    /// Returns the changes and, for a cluster that was already there, what describe said.
    pub(crate) async fn ensure_cluster(
        &self,
        tools: &ToolCtx,
        cluster: &ClusterName,
        with_oidc: bool,
        kubeconfig: &Kubeconfig,
    ) -> Result<(Changes, Option<aws::ClusterInfo>)> {
        let mut changes = Changes::none();
        let describe = tools.describe_cluster(cluster.as_str());
        let mut found = self.observe(&describe, aws::is_not_found, aws::parse_cluster).await?;
        let mut another_run = false;
        if found.is_none() {
            self.report
                .info(&format!("creating EKS cluster {cluster}: eksctl takes 10-20 minutes"));
            match self
                .exec
                .run(&tools.create_cluster(cluster.as_str(), with_oidc, kubeconfig))
                .await
            {
                Ok(_) => {
                    self.kubeconfig_written(kubeconfig);
                    changes.push(format!("created cluster {cluster}"));
                    return Ok((changes, None));
                }
                // Another run created its stack since we looked: use that cluster.
                Err(e) if eksctl::is_stack_exists(&e) => {
                    found = match self.observe(&describe, aws::is_not_found, aws::parse_cluster).await? {
                        Some(info) => Some(info),
                        None => Some(cluster::after_stack_exists(self, tools, cluster).await?),
                    };
                    self.report.info(&format!(
                        "cluster {cluster} was created by another run meanwhile: using it"
                    ));
                    another_run = true;
                }
                Err(e) => return Err(e),
            }
        }
        let mut info = found.expect("observed above");
        match cluster::Status::of(&info.status) {
            // Read ahead at the same time as describe: a refusal from before it became ACTIVE.
            cluster::Status::Active => self.forget_failures(&Selector::Inside(tools.key(["eks", cluster.as_str()]))),
            cluster::Status::Pending => {
                // What was read in it meanwhile (eksctl refuses while it is not ACTIVE) is no answer.
                self.forget(&Selector::Inside(tools.key(["eks", cluster.as_str()])));
                self.report.info(&format!(
                    "cluster {cluster} is {}: waiting until it is ACTIVE",
                    info.status
                ));
                info = cluster::wait_active(self, tools, cluster).await?;
            }
            cluster::Status::Deleting | cluster::Status::Failed => {
                return Err(cluster::unusable(tools, cluster, &info.status));
            }
        }
        changes
            .0
            .extend(cluster::ensure_nodegroup(self, tools, cluster, another_run).await?.0);
        self.ensure_kubeconfig(tools, cluster, kubeconfig, info.created())
            .await?;
        Ok((changes, Some(info)))
    }

    /// Creates the role with `trust`, or repairs gitops-iam's own statement in its trust policy
    /// when it drifted. Statements for other principals (another environment's OIDC provider or
    /// agent role sharing this role name) are kept unless `--replace-trust` is given.
    pub(crate) async fn ensure_role(
        &self,
        aws: &ToolCtx,
        role: &str,
        trust: &Doc,
        description: &str,
    ) -> Result<Changes> {
        let mut changes = Changes::none();
        let file = format!("trust-{role}");
        let get = aws.get_role(role);
        let found = self.observe(&get, aws::is_not_found, aws::parse_role).await?;
        let current = match found {
            Some(current) => current,
            None => {
                let (path, _) = self.write_doc(&file, trust)?;
                match self.exec.run(&aws.create_role(role, &path, description)).await {
                    Ok(_) => {
                        changes.push(format!("created role {role}"));
                        return Ok(changes);
                    }
                    // Another run created it meanwhile: converge on what is there now.
                    Err(e) if aws::error_code_of(&e) == Some("EntityAlreadyExists") => {
                        self.report.info(&format!(
                            "role {role} was created meanwhile (by another run?): reading it again"
                        ));
                        match self.observe(&get, aws::is_not_found, aws::parse_role).await? {
                            Some(current) => current,
                            None => return Err(e),
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        if !trust.is_known() {
            // Only a plan gets here: the trust names what a planned command creates (a new
            // cluster's OIDC provider), so it changes; the script merges it when it runs.
            self.report.info(&format!(
                "trust policy of role {role}: will name what the commands before it create"
            ));
            return self.update_trust(aws, role, trust, "").await;
        }
        let ours = crate::policy::document(&trust.contents(self.settings.partition()));
        let owner = crate::policy::Owner::of(&ours).expect("trust documents name their principal");
        let (desired, kept) = if self.settings.replace_trust {
            (serde_json::to_value(&ours).expect("serializable"), 0)
        } else {
            crate::policy::merge_trust(&current.trust, &ours, &owner)
        };
        if current.trust != desired {
            let what = match kept {
                0 => format!("trust policy of role {role}"),
                n => format!(
                    "trust policy of role {role} (keeping {n} statement(s) for other principals; --replace-trust drops them)"
                ),
            };
            self.report.diff(&what, &pretty(&current.trust), &pretty(&desired));
            changes = self.update_trust(aws, role, trust, &pretty(&desired)).await?;
        }
        Ok(changes)
    }

    /// How a script writes the trust it updates a role with: merged into what the role has when
    /// the script runs, unless `--replace-trust`.
    fn trust_render(&self, aws: &ToolCtx, role: &str, trust: &Doc) -> crate::render::Render {
        match self.settings.replace_trust {
            true => trust.render(&self.settings.region),
            false => trust.render_merged(&self.settings.region, aws.get_trust_document(role)),
        }
    }

    /// Writes a role's new trust policy (`contents` in a real run; a script merges `trust` into
    /// what the role has when it runs) and updates the role with it.
    async fn update_trust(&self, aws: &ToolCtx, role: &str, trust: &Doc, contents: &str) -> Result<Changes> {
        let path = self.settings.policy_file(&format!("trust-{role}"));
        self.exec
            .write_file(&path, contents, &self.trust_render(aws, role, trust))?;
        self.exec.run(&aws.update_trust(role, &path)).await?;
        Ok(Changes(vec![format!("updated trust policy of role {role}")]))
    }

    /// Makes the agent role's inline policy allow assuming `wanted` (and whatever it already
    /// allowed: another environment's Deployer role is never dropped).
    pub(crate) async fn ensure_agent_policy(&self, wanted: Vec<Arg>) -> Result<Changes> {
        let aws = self.mgmt_tools();
        let role = self.settings.agent_role.as_str();
        let policy_name = crate::policy::AGENT_POLICY_NAME;
        let mut changes = Changes::none();
        let found = self
            .observe(
                &aws.get_role_policy(role, policy_name),
                aws::is_not_found,
                aws::parse_role_policy,
            )
            .await?;
        let existing: Vec<String> = found
            .as_ref()
            .map(crate::policy::assumable_resources)
            .unwrap_or_default();
        let resources = merge_resources(&existing, wanted);
        let doc = Doc::AssumePolicy { resources };
        let (path, desired) = self.write_doc(&format!("policy-{role}-{policy_name}"), &doc)?;
        let up_to_date = match (&found, &desired) {
            (Some(current), Some(desired)) => *current == serde_json::to_value(desired).expect("serializable"),
            _ => false,
        };
        if !up_to_date {
            if let (Some(current), Some(desired)) = (&found, &desired) {
                let desired = serde_json::to_value(desired).expect("serializable");
                self.report.diff(
                    &format!("inline policy {policy_name} of role {role}"),
                    &pretty(current),
                    &pretty(&desired),
                );
            }
            self.exec.run(&aws.put_role_policy(role, policy_name, &path)).await?;
            changes.push(format!(
                "{} inline policy {policy_name} of role {role}",
                if found.is_some() { "updated" } else { "put" }
            ));
        }
        Ok(changes)
    }
}

/// Existing resources plus the wanted ones, in a stable order; `*` absorbs everything.
fn merge_resources(existing: &[String], wanted: Vec<Arg>) -> Vec<Arg> {
    if existing.iter().any(|r| r == "*") || wanted.iter().any(|w| w.is_known() && w.value() == "*") {
        return vec![Arg::from("*")];
    }
    let mut out: Vec<Arg> = existing.iter().map(Arg::from).collect();
    for w in wanted {
        let dup = w.is_known() && existing.contains(&w.value());
        if !dup && !out.contains(&w) {
            out.push(w);
        }
    }
    if out.iter().all(Arg::is_known) {
        out.sort_by_key(Arg::value);
        out.dedup_by_key(|a| a.value());
    }
    out
}

pub(crate) fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_existing_and_sorts() {
        let got = merge_resources(&["arn:b".into(), "arn:a".into()], vec!["arn:c".into(), "arn:a".into()]);
        let got: Vec<String> = got.iter().map(Arg::value).collect();
        assert_eq!(got, ["arn:a", "arn:b", "arn:c"]);
        let star = merge_resources(&["*".into()], vec!["arn:c".into()]);
        assert_eq!(star, vec![Arg::from("*")]);
        let with_var = merge_resources(&[], vec![Arg::concat([Val::known("arn:"), Val::var("X")])]);
        assert_eq!(with_var.len(), 1);
    }
}

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
mod ensure;
pub(crate) mod guestbook;
pub(crate) mod guestbook_argocd;
pub(crate) mod live;
pub(crate) mod mgmt;
pub(crate) mod needs;
pub(crate) mod observed;
mod read_ahead;
pub(crate) mod register;
pub(crate) mod testing;
pub(crate) mod up;
pub(crate) mod verify;

use crate::cmd::{Arg, Cmd, Val};
use crate::error::{Error, Result};
use crate::exec::{Executor, Output, Transform};
use crate::render::Doc;
use crate::report::Reporter;
use crate::settings::{Settings, TestingTarget};
use crate::tools::ToolCtx;
use crate::tools::aws;
use crate::tools::kubectl::{self, Kubeconfig, Kubectl};
use std::collections::HashSet;
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
}

pub(crate) fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

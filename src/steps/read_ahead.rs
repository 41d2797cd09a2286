//! Reading ahead: every AWS observation of `up`, `mgmt` and `testing` started before the steps
//! that make them, in two rounds (see [`Ctx::reading_ahead`]), and the step-side handles of the
//! executor's read-ahead, which a dry-run does not have.

use super::{Ctx, unique};
use crate::cmd::Cmd;
use crate::error::Result;
use crate::resource::Selector;
use std::future::Future;

impl Ctx<'_> {
    /// Reads `cmds` at once, ahead of the steps that observe them (see [`ReadAhead::prefetch`](crate::exec::ReadAhead::prefetch));
    /// nothing in a dry-run, which reads nothing.
    pub(crate) async fn prefetch(&self, cmds: Vec<Cmd>) {
        if let Some(r) = self.exec.read_ahead() {
            r.prefetch(vec![cmds]).await;
        }
    }

    /// Drops the failed answers read ahead about `what` (see [`ReadAhead::forget_failures`](crate::exec::ReadAhead::forget_failures)).
    pub(super) fn forget_failures(&self, what: &Selector) {
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
}

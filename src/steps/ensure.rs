//! The observe-then-act helpers several steps share: a cluster (created, ACTIVE, with a
//! nodegroup and a fresh kubeconfig), a role and its trust, the agent role's inline policy.

use super::{Ctx, cluster, pretty};
use crate::cmd::Arg;
use crate::error::Result;
use crate::names::ClusterName;
use crate::render::Doc;
use crate::report::Changes;
use crate::resource::Selector;
use crate::tools::ToolCtx;
use crate::tools::kubectl::Kubeconfig;
use crate::tools::{aws, eksctl};

impl Ctx<'_> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::Val;

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

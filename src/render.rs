//! `gitops-iam render`: one IAM document as JSON, and the [`Doc`] value that ties it to a run.
//!
//! A real run writes each policy file itself; a dry-run script writes the same file by calling
//! `gitops-iam render ...` with the run-time values as shell variables. Both come from one
//! [`Doc`], so the file the script writes is byte-for-byte the file a real run writes.

use crate::cli::{EnvArgs, GlobalArgs, RenderCommand};
use crate::cmd::{Arg, Cmd, Effect, Val};
use crate::error::{Error, Result};
use crate::names::{AccountId, Namespace, OidcProvider, Region, RoleName};
use crate::policy;

/// A policy document, described by the values it is made of.
#[derive(Clone, Debug)]
pub(crate) enum Doc {
    AgentTrust {
        account: Val,
        oidc_provider: Val,
        namespace: Namespace,
    },
    /// `resources` are role ARNs, or just `*`.
    AssumePolicy {
        resources: Vec<Arg>,
    },
    DeployerTrust {
        agent_role_arn: Arg,
    },
    /// The Argo CD cluster Secret of a testing cluster.
    ArgocdSecret {
        namespace: Namespace,
        cluster: String,
        server: Val,
        ca_data: Val,
        role_arn: Arg,
    },
    /// The guestbook's Argo CD `Application` (`app guestbook --to argocd`).
    ArgocdApplication {
        namespace: Namespace,
        name: String,
        server: Val,
    },
}

/// How a script writes a document's file: `gitops-iam render ...`, fed on stdin the document it
/// merges into when the file must keep what is there (a shared role's trust policy).
#[derive(Clone, Debug)]
pub(crate) struct Render {
    pub cmd: Cmd,
    /// Prints the current document (`aws iam get-role --query ...`), piped into `cmd`.
    pub current: Option<Cmd>,
}

impl std::fmt::Display for Render {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(current) = &self.current {
            write!(f, "{current} | ")?;
        }
        write!(f, "{}", self.cmd)
    }
}

impl Doc {
    /// How a script writes this document.
    pub(crate) fn render(&self, region: &Val) -> Render {
        Render {
            cmd: self.render_cmd(region),
            current: None,
        }
    }

    /// How a script writes this trust policy merged into the current one, which `current`
    /// prints: other principals' statements kept, as a run keeps them.
    pub(crate) fn render_merged(&self, region: &Val, current: Cmd) -> Render {
        Render {
            cmd: self.render_cmd(region).args(["--merge-current", "-"]),
            current: Some(current),
        }
    }

    /// Whether every value is known (not a variable of a dry-run or a plan's script).
    pub(crate) fn is_known(&self) -> bool {
        match self {
            Doc::AgentTrust {
                account, oidc_provider, ..
            } => [account, oidc_provider].iter().all(|v| matches!(v, Val::Known(_))),
            Doc::AssumePolicy { resources } => resources.iter().all(Arg::is_known),
            Doc::DeployerTrust { agent_role_arn } => agent_role_arn.is_known(),
            Doc::ArgocdSecret {
                server,
                ca_data,
                role_arn,
                ..
            } => matches!((server, ca_data), (Val::Known(_), Val::Known(_))) && role_arn.is_known(),
            Doc::ArgocdApplication { server, .. } => matches!(server, Val::Known(_)),
        }
    }

    /// The `gitops-iam render` command that prints this document.
    pub(crate) fn render_cmd(&self, region: &Val) -> Cmd {
        let cmd = Cmd::new("gitops-iam", Effect::Read, "render a document").arg("render");
        match self {
            Doc::AgentTrust {
                account,
                oidc_provider,
                namespace,
            } => cmd
                .arg("trust")
                .args(["--region".into(), Arg::from(region)])
                .args(["--account-id".into(), Arg::from(account)])
                .args(["--oidc-provider".into(), Arg::from(oidc_provider)])
                .args(["--namespace", namespace.as_str()]),
            Doc::AssumePolicy { resources } if is_any(resources) => cmd.args(["policy", "--assume-any-role"]),
            Doc::AssumePolicy { resources } => {
                let mut cmd = cmd.arg("policy");
                for r in resources {
                    cmd = cmd.arg("--deployer-role-arn").arg(r.clone());
                }
                cmd
            }
            Doc::DeployerTrust { agent_role_arn } => cmd
                .args(["deployer-trust", "--agent-role-arn"])
                .arg(agent_role_arn.clone()),
            Doc::ArgocdSecret {
                namespace,
                cluster,
                server,
                ca_data,
                role_arn,
            } => cmd
                .args([
                    "argocd-secret",
                    "--namespace",
                    namespace.as_str(),
                    "--testing-cluster",
                    cluster,
                ])
                .args(["--server".into(), Arg::from(server)])
                .args(["--ca-data".into(), Arg::from(ca_data)])
                .arg("--role-arn")
                .arg(role_arn.clone()),
            Doc::ArgocdApplication {
                namespace,
                name,
                server,
            } => cmd
                .args(["argocd-application", "--namespace", namespace.as_str(), "--name", name])
                .args(["--server".into(), Arg::from(server)]),
        }
    }

    /// The file's contents, in a real run (every value known).
    pub(crate) fn contents(&self, partition: &str) -> String {
        let policy = match self {
            Doc::AgentTrust {
                account,
                oidc_provider,
                namespace,
            } => policy::agent_trust(partition, account.value(), oidc_provider.value(), namespace.as_str()),
            Doc::AssumePolicy { resources } => {
                let resources: Vec<String> = resources.iter().map(Arg::value).collect();
                policy::assume_role_policy(&resources)
            }
            Doc::DeployerTrust { agent_role_arn } => policy::deployer_trust(&agent_role_arn.value()),
            Doc::ArgocdSecret {
                namespace,
                cluster,
                server,
                ca_data,
                role_arn,
            } => {
                let secret = crate::argocd::cluster_secret(
                    namespace.as_str(),
                    cluster,
                    server.value(),
                    ca_data.value(),
                    &role_arn.value(),
                );
                return pretty_json(&secret);
            }
            Doc::ArgocdApplication {
                namespace,
                name,
                server,
            } => {
                return pretty_json(&crate::argocd_app::application(
                    namespace.as_str(),
                    name,
                    server.value(),
                ));
            }
        };
        policy.to_json()
    }
}

fn pretty_json(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).expect("serializable") + "\n"
}

fn is_any(resources: &[Arg]) -> bool {
    resources.len() == 1 && resources[0].is_known() && resources[0].value() == "*"
}

fn required_account(flag: &str, value: &Option<String>, what: &str) -> Result<AccountId> {
    match value {
        Some(a) => AccountId::parse(flag, a),
        None => Err(Error::Usage(format!("render {what} needs {flag}"))),
    }
}

/// The `render` command: prints the document on stdout.
pub(crate) fn run(cmd: &RenderCommand, global: &GlobalArgs, env: &EnvArgs) -> Result<String> {
    let region = global
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .filter(|r| !r.is_empty());
    let partition = match &region {
        Some(r) => policy::partition(Region::parse("--region", r)?.as_str()),
        None => "aws",
    };
    match cmd {
        RenderCommand::ArgocdSecret {
            server,
            ca_data,
            role_arn,
        } => argocd_secret(env, partition, server, ca_data, role_arn),
        RenderCommand::ArgocdApplication { server, name } => {
            let namespace = Namespace::parse("--namespace", &env.namespace)?;
            api_endpoint(server)?;
            if !crate::names::is_dns1123_label(name) {
                return Err(Error::invalid("--name", name, "a DNS label: a-z, 0-9 and '-'"));
            }
            let app = crate::argocd_app::application(namespace.as_str(), name, server);
            Ok(pretty_json(&app))
        }
        RenderCommand::Trust {
            oidc_provider,
            merge_current,
        } => {
            let account = required_account("--account-id", &env.account_id, "trust")?;
            let oidc = OidcProvider::parse("--oidc-provider", oidc_provider)?;
            let namespace = Namespace::parse("--namespace", &env.namespace)?;
            let doc = policy::agent_trust(partition, account.as_str(), oidc.as_str(), namespace.as_str());
            merged(doc, merge_current.as_deref())
        }
        RenderCommand::Policy {
            deployer_role_arns,
            policy: p,
        } => {
            let resources = policy_resources(env, partition, deployer_role_arns, p.assume_any_role)?;
            Ok(policy::assume_role_policy(&resources).to_json())
        }
        RenderCommand::DeployerTrust {
            agent_role_arn,
            merge_current,
        } => {
            let arn = match agent_role_arn {
                Some(a) => crate::arn::Arn::parse("--agent-role-arn", a)?.to_string(),
                None => {
                    let account = required_account(
                        "--account-id",
                        &env.account_id,
                        "deployer-trust (without --agent-role-arn)",
                    )?;
                    let role = RoleName::parse("--agent-role", &env.agent_role)?;
                    policy::role_arn(partition, account.as_str(), role.as_str())
                }
            };
            merged(policy::deployer_trust(&arn), merge_current.as_deref())
        }
    }
}

/// `render argocd-secret`: the cluster secret Argo CD reads, checked as a run would check it.
fn argocd_secret(
    env: &EnvArgs,
    partition: &str,
    server: &str,
    ca_data: &str,
    role_arn: &Option<String>,
) -> Result<String> {
    let namespace = Namespace::parse("--namespace", &env.namespace)?;
    let cluster = crate::names::ClusterName::parse("--testing-cluster", &env.testing_cluster)?;
    api_endpoint(server)?;
    if base64::Engine::decode(&base64::engine::general_purpose::STANDARD, ca_data).is_err() {
        return Err(Error::invalid(
            "--ca-data",
            ca_data,
            "base64 (certificateAuthority.data of describe-cluster), not PEM",
        ));
    }
    let secret = crate::argocd::cluster_secret(
        namespace.as_str(),
        cluster.as_str(),
        server,
        ca_data,
        &deployer_arn(env, partition, role_arn)?,
    );
    Ok(pretty_json(&secret))
}

/// `--server`: a cluster's API endpoint.
fn api_endpoint(server: &str) -> Result<()> {
    if server.starts_with("https://") {
        return Ok(());
    }
    Err(Error::invalid(
        "--server",
        server,
        "the cluster's API endpoint, https://...",
    ))
}

/// The Deployer role's ARN: the flag's, else built from the testing account and role name.
fn deployer_arn(env: &EnvArgs, partition: &str, flag_value: &Option<String>) -> Result<String> {
    match flag_value {
        Some(a) => Ok(crate::arn::Arn::parse("--role-arn", a)?.to_string()),
        None => {
            let account = required_account(
                "--testing-account-id",
                &env.testing_account_id.clone().or(env.account_id.clone()),
                "(without a Deployer role ARN)",
            )?;
            let role = RoleName::parse("--deployer-role", &env.deployer_role)?;
            Ok(policy::role_arn(partition, account.as_str(), role.as_str()))
        }
    }
}

/// The roles `render policy` lets the agent assume, in the order a real run writes them.
fn policy_resources(
    env: &EnvArgs,
    partition: &str,
    deployer_role_arns: &[String],
    assume_any_role: bool,
) -> Result<Vec<String>> {
    if assume_any_role {
        if !deployer_role_arns.is_empty() {
            return Err(Error::Usage(
                "--assume-any-role and --deployer-role-arn exclude each other".into(),
            ));
        }
        return Ok(vec!["*".to_string()]);
    }
    if deployer_role_arns.is_empty() {
        return Ok(vec![deployer_arn(env, partition, &None)?]);
    }
    let mut arns = Vec::new();
    for a in deployer_role_arns {
        arns.push(crate::arn::Arn::parse("--deployer-role-arn", a)?.to_string());
    }
    // sorted, without repeats
    arns.sort();
    arns.dedup();
    Ok(arns)
}

/// A trust policy, merged into the current one (`--merge-current FILE`, `-` for stdin) the way a
/// run merges it: the document's own statement replaced, other principals' statements kept.
fn merged(doc: policy::PolicyDocument, current: Option<&std::path::Path>) -> Result<String> {
    let Some(path) = current else {
        return Ok(doc.to_json());
    };
    let text = if path == std::path::Path::new("-") {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| Error::Other(anyhow::anyhow!("reading the current trust policy from stdin: {e}")))?
    } else {
        std::fs::read_to_string(path).map_err(|e| {
            Error::invalid(
                "--merge-current",
                path.display().to_string(),
                format!("unreadable: {e}"),
            )
        })?
    };
    let current: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::invalid(
            "--merge-current",
            path.display().to_string(),
            format!("not a JSON policy document ({e})"),
        )
    })?;
    let owner = policy::Owner::of(&doc).expect("trust documents name their principal");
    let (merged, _) = policy::merge_trust(&current, &doc, &owner);
    Ok(serde_json::to_string_pretty(&merged).expect("serializable") + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_cmd_matches_document_inputs() {
        let doc = Doc::AgentTrust {
            account: Val::var("ACCOUNT_ID"),
            oidc_provider: Val::var("OIDC_PROVIDER"),
            namespace: Namespace::parse("--namespace", "iam").unwrap(),
        };
        assert_eq!(
            doc.render_cmd(&Val::known("us-east-1")).to_string(),
            "gitops-iam render trust --region us-east-1 --account-id \"${ACCOUNT_ID}\" --oidc-provider \"${OIDC_PROVIDER}\" --namespace iam"
        );
        let any = Doc::AssumePolicy {
            resources: vec!["*".into()],
        };
        assert_eq!(
            any.render_cmd(&Val::known("us-east-1")).to_string(),
            "gitops-iam render policy --assume-any-role"
        );
        let json: serde_json::Value = serde_json::from_str(&any.contents("aws")).unwrap();
        assert_eq!(json["Statement"][0]["Resource"], "*");
    }
}

//! `eksctl` calls. Every call passes `--region` and, when set, `--profile`.
//!
//! eksctl writes kubeconfig only where `--kubeconfig` says: the tool's own file per cluster under
//! the state directory, so the user's kubeconfig and current-context are never touched.

use super::ToolCtx;
use crate::cmd::{Arg, Cmd, Effect};
use crate::tools::kubectl::Kubeconfig;
use serde::Deserialize;
use std::time::Duration;

/// `eksctl` calls in an account context.
impl ToolCtx {
    fn eksctl<A: Into<Arg>>(&self, effect: Effect, purpose: String, args: impl IntoIterator<Item = A>) -> Cmd {
        self.with_region_profile(Cmd::new("eksctl", effect, purpose).args(args))
    }

    /// Creates a cluster (10-20 minutes). eksctl itself does not check for an existing cluster,
    /// so callers observe first.
    pub(crate) fn create_cluster(&self, name: &str, with_oidc: bool, kubeconfig: &Kubeconfig) -> Cmd {
        let mut cmd = self.eksctl(
            Effect::Mutate,
            format!("create EKS cluster {name}"),
            ["create", "cluster", "--name", name],
        );
        if with_oidc {
            cmd = cmd.arg("--with-oidc");
        }
        cmd.arg("--kubeconfig")
            .arg(kubeconfig.arg())
            .timeout(Duration::from_secs(45 * 60))
            .resource(self.key(["eks", name]))
            // It writes the kubeconfig, which then points at the new cluster.
            .and_resource(crate::tools::kubectl::cluster_key(kubeconfig))
            .in_background()
    }

    /// The nodegroup `create cluster` makes and a cut-off creation never made: eksctl's defaults
    /// (managed, 2 × m5.large, a generated `ng-XXXXXXXX` name).
    pub(crate) fn create_nodegroup(&self, cluster: &str) -> Cmd {
        self.eksctl(
            Effect::Mutate,
            format!("create a nodegroup in cluster {cluster}"),
            ["create", "nodegroup", "--cluster", cluster],
        )
        .timeout(Duration::from_secs(45 * 60))
        .resource(self.key(["eks", cluster, "nodegroups"]))
    }

    pub(crate) fn associate_oidc(&self, cluster: &str) -> Cmd {
        self.eksctl(
            Effect::Mutate,
            format!("associate an IAM OIDC provider with cluster {cluster}"),
            [
                "utils",
                "associate-iam-oidc-provider",
                "--cluster",
                cluster,
                "--approve",
            ],
        )
        .resource(self.key(["iam-oidc-providers"]))
    }

    /// Writes the tool's own kubeconfig for a cluster (a local file; changes nothing in AWS).
    pub(crate) fn write_kubeconfig(&self, cluster: &str, kubeconfig: &Kubeconfig) -> Cmd {
        let args: [Arg; 6] = [
            "utils".into(),
            "write-kubeconfig".into(),
            "--cluster".into(),
            cluster.into(),
            "--kubeconfig".into(),
            kubeconfig.arg(),
        ];
        self.eksctl(Effect::Read, format!("write a kubeconfig for cluster {cluster}"), args)
            // A new kubeconfig may point elsewhere: what was read through the old one is stale.
            .resource(crate::tools::kubectl::cluster_key(kubeconfig))
    }

    pub(crate) fn delete_cluster(&self, name: &str) -> Cmd {
        self.eksctl(
            Effect::Mutate,
            format!("delete EKS cluster {name}"),
            ["delete", "cluster", "--name", name, "--wait"],
        )
        .timeout(Duration::from_secs(45 * 60))
        .resource(self.key(["eks", name]))
        // With the cluster's stack goes the OIDC provider eksctl associated with it.
        .and_resource(self.key(["iam-oidc-providers"]))
    }

    pub(crate) fn get_mappings(&self, cluster: &str) -> Cmd {
        self.eksctl(
            Effect::Read,
            format!("list the IAM identity mappings of cluster {cluster}"),
            ["get", "iamidentitymapping", "--cluster", cluster],
        )
        .args(["-o", "json"])
        .resource(self.key(["eks", cluster, "aws-auth"]))
    }

    /// `--no-duplicate-arns`: without it eksctl appends a duplicate on every run.
    pub(crate) fn create_mapping(&self, cluster: &str, arn: Arg, username: &str, group: &str) -> Cmd {
        self.eksctl(
            Effect::Mutate,
            format!("map the Deployer role in cluster {cluster}"),
            ["create", "iamidentitymapping", "--cluster", cluster],
        )
        .arg("--arn")
        .arg(arn)
        .args(["--username", username, "--group", group, "--no-duplicate-arns"])
        .resource(self.key(["eks", cluster, "aws-auth"]))
    }

    pub(crate) fn delete_mappings(&self, cluster: &str, arn: Arg) -> Cmd {
        self.eksctl(
            Effect::Mutate,
            format!("remove the mappings of a role in cluster {cluster}"),
            ["delete", "iamidentitymapping", "--cluster", cluster],
        )
        .arg("--arn")
        .arg(arn)
        .arg("--all")
        .resource(self.key(["eks", cluster, "aws-auth"]))
    }
}

/// One entry of `eksctl get iamidentitymapping -o json`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct Mapping {
    #[serde(default)]
    pub rolearn: Option<String>,
    #[serde(default)]
    pub userarn: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
}

pub(crate) fn parse_mappings(command: &str, stdout: &str) -> crate::error::Result<Vec<Mapping>> {
    // eksctl prints `null` for no mappings in some versions.
    if stdout.trim().is_empty() || stdout.trim() == "null" {
        return Ok(Vec::new());
    }
    super::parse_json(command, stdout)
}

/// Whether eksctl's failure means the cluster does not exist.
pub(crate) fn is_not_found(stderr: &str) -> bool {
    stderr.contains("ResourceNotFoundException") || stderr.contains("No cluster found")
}

/// `create cluster` found its CloudFormation stack already there: CloudFormation's CreateStack
/// answers `AlreadyExistsException: Stack [eksctl-N-cluster] already exists` (another run made
/// it meanwhile, or a failed creation left it behind).
pub(crate) fn is_stack_exists(e: &crate::error::Error) -> bool {
    match e {
        crate::error::Error::Command(c) => {
            c.stderr.contains("AlreadyExistsException") && c.stderr.contains("already exists")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::cmd::Val;
    #[test]
    fn create_cluster_uses_own_kubeconfig() {
        let e = ToolCtx {
            region: Val::known("us-east-1"),
            profile: None,
        };
        assert_eq!(
            e.create_cluster(
                "management",
                true,
                &Kubeconfig::new(
                    std::path::Path::new(".gitops-iam/kubeconfig"),
                    &Val::known("123456789012"),
                    &Val::known("us-east-1"),
                    "management"
                )
            )
            .to_string(),
            "eksctl create cluster --name management --region us-east-1 --with-oidc --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml"
        );
        assert_eq!(
            e.create_mapping(
                "testing",
                Arg::from("arn:aws:iam::1:role/Deployer"),
                "deployer",
                "system:masters"
            )
            .to_string(),
            "eksctl create iamidentitymapping --cluster testing --region us-east-1 --arn arn:aws:iam::1:role/Deployer --username deployer --group system:masters --no-duplicate-arns"
        );
    }

    #[test]
    fn write_kubeconfig_names_the_file_after_the_flag() {
        let e = ToolCtx {
            region: Val::var("AWS_REGION"),
            profile: None,
        };
        let kubeconfig = Kubeconfig::new(
            std::path::Path::new("s/kubeconfig"),
            &Val::var("ACCOUNT_ID"),
            &Val::var("AWS_REGION"),
            "m",
        );
        assert_eq!(
            e.write_kubeconfig("m", &kubeconfig).to_string(),
            "eksctl utils write-kubeconfig --cluster m --kubeconfig \"s/kubeconfig/${ACCOUNT_ID}-${AWS_REGION}-m.yaml\" --region \"${AWS_REGION}\""
        );
    }

    #[test]
    fn parses_mappings() {
        let json = r#"[{"rolearn":"arn:aws:iam::1:role/ng","username":"system:node:{{EC2PrivateDNSName}}","groups":["system:bootstrappers","system:nodes"]},
                       {"userarn":"arn:aws:iam::1:user/u","username":"u","groups":null}]"#;
        let got = parse_mappings("x", json);
        // `groups: null` is not a list: eksctl never prints it, and we would rather fail loudly.
        assert!(got.is_err());
        let json = r#"[{"rolearn":"arn:aws:iam::1:role/ng","username":"n","groups":["g"]},{"userarn":"arn:aws:iam::1:user/u","username":"u"}]"#;
        let got = parse_mappings("x", json).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].groups, vec!["g".to_string()]);
        assert_eq!(got[1].userarn.as_deref(), Some("arn:aws:iam::1:user/u"));
        assert!(parse_mappings("x", "[]\n").unwrap().is_empty());
        assert!(parse_mappings("x", "null").unwrap().is_empty());
    }
}

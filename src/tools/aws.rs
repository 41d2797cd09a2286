//! `aws` CLI calls. Every call passes `--region` (v1 ignores `AWS_REGION`) and, when set,
//! `--profile`; JSON calls pass `--output json` because users may default to text or table.
//! Every call also pins CLI v2's own conventions ([`CONVENTIONS`]), which a profile may change.

use super::ToolCtx;
use crate::cmd::{Arg, Cmd, Effect};
use crate::exec::Output;
use crate::propagation::Propagation;
use serde::Deserialize;
use std::path::Path;

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// `aws` calls in an account context.
impl ToolCtx {
    fn aws<A: Into<Arg>>(&self, effect: Effect, purpose: String, args: impl IntoIterator<Item = A>) -> Cmd {
        self.with_region_profile(Cmd::new("aws", effect, purpose).args(args).conventions(CONVENTIONS))
    }

    fn aws_json(&self, purpose: String, args: Vec<Arg>) -> Cmd {
        self.aws(Effect::Read, purpose, args).args(["--output", "json"])
    }

    pub(crate) fn caller_account(&self) -> Cmd {
        self.aws(
            Effect::Read,
            "read the AWS account id".into(),
            ["sts", "get-caller-identity"],
        )
        .args(["--query", "Account", "--output", "text"])
    }

    pub(crate) fn describe_cluster(&self, name: &str) -> Cmd {
        self.aws_json(
            format!("describe EKS cluster {name}"),
            args(["eks", "describe-cluster", "--name", name]),
        )
        .resource(self.key(["eks", name]))
    }

    /// One field of `describe-cluster` as text (`cluster.identity.oidc.issuer`).
    pub(crate) fn cluster_field(&self, name: &str, query: &str) -> Cmd {
        self.aws(
            Effect::Read,
            format!("read {query} of EKS cluster {name}"),
            ["eks", "describe-cluster", "--name", name],
        )
        .args(["--query", query, "--output", "text"])
        .resource(self.key(["eks", name]))
    }

    pub(crate) fn wait_cluster_active(&self, name: &str) -> Cmd {
        self.aws(
            Effect::Read,
            format!("wait for EKS cluster {name} to become ACTIVE"),
            ["eks", "wait", "cluster-active", "--name", name],
        )
        // botocore's waiter gives up after 20 minutes; the margin is for a slow API.
        .timeout(std::time::Duration::from_secs(25 * 60))
        // Waiting means the cluster was not ACTIVE: what was read about it and in it is stale.
        .resource(self.key(["eks", name]))
    }

    /// The waiter for a cluster that is being deleted (20 minutes, like `cluster-active`).
    pub(crate) fn wait_cluster_deleted(&self, name: &str) -> Cmd {
        self.aws(
            Effect::Read,
            format!("wait for EKS cluster {name} to be deleted"),
            ["eks", "wait", "cluster-deleted", "--name", name],
        )
        .timeout(std::time::Duration::from_secs(25 * 60))
        .resource(self.key(["eks", name]))
    }

    pub(crate) fn get_oidc_provider(&self, arn: Arg) -> Cmd {
        self.aws_json(
            "look up the cluster's IAM OIDC provider".into(),
            vec![
                "iam".into(),
                "get-open-id-connect-provider".into(),
                "--open-id-connect-provider-arn".into(),
                arn,
            ],
        )
        .resource(self.key(["iam-oidc-providers"]))
    }

    pub(crate) fn list_oidc_providers(&self) -> Cmd {
        self.aws_json(
            "list the IAM OIDC providers".into(),
            args(["iam", "list-open-id-connect-providers"]),
        )
        .resource(self.key(["iam-oidc-providers"]))
    }

    pub(crate) fn get_role(&self, role: &str) -> Cmd {
        self.aws_json(
            format!("read IAM role {role}"),
            args(["iam", "get-role", "--role-name", role]),
        )
        .resource(self.key(["iam-role", role]))
        .and_resource(self.key(["iam-role", role, "trust"]))
    }

    /// The role's trust policy alone, as JSON: what a plan's script merges gitops-iam's
    /// statement into (`gitops-iam render trust --merge-current -`).
    pub(crate) fn get_trust_document(&self, role: &str) -> Cmd {
        self.aws(
            Effect::Read,
            format!("read the trust policy of IAM role {role}"),
            ["iam", "get-role", "--role-name", role],
        )
        .args(["--query", "Role.AssumeRolePolicyDocument", "--output", "json"])
        .resource(self.key(["iam-role", role, "trust"]))
    }

    pub(crate) fn create_role(&self, role: &str, trust: &Path, description: &str) -> Cmd {
        self.aws(
            Effect::Mutate,
            format!("create IAM role {role}"),
            [
                "iam",
                "create-role",
                "--role-name",
                role,
                "--assume-role-policy-document",
                &file_url(trust),
                "--description",
                description,
            ],
        )
        .resource(self.key(["iam-role", role]))
        .retry_on(Propagation::IamPrincipal)
    }

    pub(crate) fn update_trust(&self, role: &str, trust: &Path) -> Cmd {
        self.aws(
            Effect::Mutate,
            format!("update the trust policy of IAM role {role}"),
            [
                "iam",
                "update-assume-role-policy",
                "--role-name",
                role,
                "--policy-document",
                &file_url(trust),
            ],
        )
        // The trust alone: the role's inline and attached policies stay as they are.
        .resource(self.key(["iam-role", role, "trust"]))
        .retry_on(Propagation::IamPrincipal)
    }

    /// Turns on the access-entry API of a `CONFIG_MAP` cluster. One way: EKS never lets the
    /// mode go back. Prints the update's id, for [`Aws::describe_update`].
    pub(crate) fn enable_access_entries(&self, cluster: &str) -> Cmd {
        self.aws(
            Effect::Mutate,
            format!("enable access entries on EKS cluster {cluster} (authentication mode API_AND_CONFIG_MAP)"),
            [
                "eks",
                "update-cluster-config",
                "--name",
                cluster,
                "--access-config",
                &format!("authenticationMode={API_AND_CONFIG_MAP}"),
            ],
        )
        .args(["--query", "update.id", "--output", "text"])
        .resource(self.key(["eks", cluster]))
    }

    /// The status of an update (`InProgress`, `Successful`, `Failed`, `Cancelled`) as text.
    pub(crate) fn describe_update(&self, cluster: &str, update_id: &str) -> Cmd {
        self.aws(
            Effect::Read,
            format!("read update {update_id} of EKS cluster {cluster}"),
            ["eks", "describe-update", "--name", cluster, "--update-id", update_id],
        )
        .args(["--query", "update.status", "--output", "text"])
    }

    pub(crate) fn describe_access_entry(&self, cluster: &str, principal: Arg) -> Cmd {
        self.aws_json(
            format!("read the access entry of the Deployer role in cluster {cluster}"),
            vec![
                "eks".into(),
                "describe-access-entry".into(),
                "--cluster-name".into(),
                cluster.into(),
                "--principal-arn".into(),
                principal,
            ],
        )
        .resource(self.key(["eks", cluster, "access-entry"]))
    }

    pub(crate) fn create_access_entry(
        &self,
        cluster: &str,
        principal: Arg,
        username: &str,
        group: Option<&str>,
    ) -> Cmd {
        let mut cmd = self
            .aws(
                Effect::Mutate,
                format!("create an access entry in cluster {cluster}"),
                ["eks", "create-access-entry", "--cluster-name", cluster],
            )
            .arg("--principal-arn")
            .arg(principal)
            .args(["--type", "STANDARD", "--username", username]);
        if let Some(g) = group {
            cmd = cmd.args(["--kubernetes-groups", g]);
        }
        cmd.resource(self.key(["eks", cluster, "access-entry"]))
            .retry_on(Propagation::EksPrincipal)
    }

    pub(crate) fn update_access_entry(
        &self,
        cluster: &str,
        principal: Arg,
        username: &str,
        group: Option<&str>,
    ) -> Cmd {
        let cmd = self
            .aws(
                Effect::Mutate,
                format!("update the access entry in cluster {cluster}"),
                ["eks", "update-access-entry", "--cluster-name", cluster],
            )
            .arg("--principal-arn")
            .arg(principal)
            .args(["--username", username, "--kubernetes-groups"]);
        // An empty list clears the groups.
        match group {
            Some(g) => cmd.arg(g),
            None => cmd.arg("[]"),
        }
        .resource(self.key(["eks", cluster, "access-entry"]))
    }

    pub(crate) fn list_access_policies(&self, cluster: &str, principal: Arg) -> Cmd {
        self.aws_json(
            format!("list the access policies of the Deployer role in cluster {cluster}"),
            vec![
                "eks".into(),
                "list-associated-access-policies".into(),
                "--cluster-name".into(),
                cluster.into(),
                "--principal-arn".into(),
                principal,
            ],
        )
        .resource(self.key(["eks", cluster, "access-entry"]))
    }

    pub(crate) fn associate_admin_policy(&self, cluster: &str, principal: Arg) -> Cmd {
        self.aws(
            Effect::Mutate,
            format!("grant cluster admin access in cluster {cluster}"),
            ["eks", "associate-access-policy", "--cluster-name", cluster],
        )
        .arg("--principal-arn")
        .arg(principal)
        .args(["--policy-arn", CLUSTER_ADMIN_POLICY, "--access-scope", "type=cluster"])
        .resource(self.key(["eks", cluster, "access-entry"]))
    }

    pub(crate) fn delete_access_entry(&self, cluster: &str, principal: Arg) -> Cmd {
        self.aws(
            Effect::Mutate,
            format!("delete the access entry in cluster {cluster}"),
            ["eks", "delete-access-entry", "--cluster-name", cluster],
        )
        .arg("--principal-arn")
        .arg(principal)
        .resource(self.key(["eks", cluster, "access-entry"]))
    }

    pub(crate) fn list_role_policies(&self, role: &str) -> Cmd {
        self.aws_json(
            format!("list the inline policies of IAM role {role}"),
            args(["iam", "list-role-policies", "--role-name", role]),
        )
        .resource(self.key(["iam-role", role, "policies"]))
    }

    pub(crate) fn list_attached_role_policies(&self, role: &str) -> Cmd {
        self.aws_json(
            format!("list the managed policies attached to IAM role {role}"),
            args(["iam", "list-attached-role-policies", "--role-name", role]),
        )
        .resource(self.key(["iam-role", role, "attached"]))
    }

    pub(crate) fn delete_role_policy(&self, role: &str, policy: &str) -> Cmd {
        self.aws(
            Effect::Mutate,
            format!("delete inline policy {policy} of IAM role {role}"),
            [
                "iam",
                "delete-role-policy",
                "--role-name",
                role,
                "--policy-name",
                policy,
            ],
        )
        .resource(self.key(["iam-role", role, "policy", policy]))
    }

    pub(crate) fn detach_role_policy(&self, role: &str, policy_arn: &str) -> Cmd {
        self.aws(
            Effect::Mutate,
            format!("detach {policy_arn} from IAM role {role}"),
            [
                "iam",
                "detach-role-policy",
                "--role-name",
                role,
                "--policy-arn",
                policy_arn,
            ],
        )
        .resource(self.key(["iam-role", role, "attached"]))
    }

    pub(crate) fn delete_role(&self, role: &str) -> Cmd {
        self.aws(
            Effect::Mutate,
            format!("delete IAM role {role}"),
            ["iam", "delete-role", "--role-name", role],
        )
        .resource(self.key(["iam-role", role]))
    }

    pub(crate) fn delete_oidc_provider(&self, arn: Arg) -> Cmd {
        self.aws(
            Effect::Mutate,
            "delete the IAM OIDC provider left behind".into(),
            vec![
                "iam".into(),
                "delete-open-id-connect-provider".into(),
                "--open-id-connect-provider-arn".into(),
                arn,
            ],
        )
        .resource(self.key(["iam-oidc-providers"]))
    }

    pub(crate) fn get_role_policy(&self, role: &str, policy: &str) -> Cmd {
        self.aws_json(
            format!("read inline policy {policy} of IAM role {role}"),
            args(["iam", "get-role-policy", "--role-name", role, "--policy-name", policy]),
        )
        .resource(self.key(["iam-role", role, "policy", policy]))
    }

    pub(crate) fn put_role_policy(&self, role: &str, policy: &str, doc: &Path) -> Cmd {
        self.aws(
            Effect::Mutate,
            format!("put inline policy {policy} on IAM role {role}"),
            [
                "iam",
                "put-role-policy",
                "--role-name",
                role,
                "--policy-name",
                policy,
                "--policy-document",
                &file_url(doc),
            ],
        )
        .resource(self.key(["iam-role", role, "policy", policy]))
    }
}

/// The environment of every aws child (CLI v1 ignores both variables).
///
/// CLI v2 prints errors as `cli_error_format` in the profile says (json, yaml, text, table...),
/// and only the `legacy` and `enhanced` formats keep the `An error occurred (CODE)` line that
/// [`error_code`] reads; the variable outranks the profile (aws-cli v2 `awscli/clidriver.py`,
/// `_construct_cli_error_format_chain`; `awscli/errorhandler.py`). `cli_auto_prompt = on` would
/// make every call wait for a terminal the child does not have.
pub(crate) const CONVENTIONS: &[(&str, &str)] = &[("AWS_CLI_ERROR_FORMAT", "legacy"), ("AWS_CLI_AUTO_PROMPT", "off")];

fn args<const N: usize>(items: [&str; N]) -> Vec<Arg> {
    items.into_iter().map(Arg::from).collect()
}

/// The authentication modes of an EKS cluster (`accessConfig.authenticationMode`).
pub(crate) const CONFIG_MAP: &str = "CONFIG_MAP";
pub(crate) const API_AND_CONFIG_MAP: &str = "API_AND_CONFIG_MAP";
pub(crate) const API: &str = "API";

pub(crate) const CLUSTER_ADMIN_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

/// Whether `list-associated-access-policies` shows `AmazonEKSClusterAdminPolicy` at cluster
/// scope: the link `testing` makes and `verify` checks.
pub(crate) fn parse_has_cluster_admin(command: &str, stdout: &str) -> crate::error::Result<bool> {
    #[derive(Deserialize)]
    struct Scope {
        #[serde(rename = "type")]
        kind: String,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Associated {
        policy_arn: String,
        access_scope: Scope,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct List {
        #[serde(default)]
        associated_access_policies: Vec<Associated>,
    }
    let list = super::parse_json::<List>(command, stdout)?;
    Ok(list
        .associated_access_policies
        .iter()
        .any(|a| a.policy_arn == CLUSTER_ADMIN_POLICY && a.access_scope.kind == "cluster"))
}

/// The AWS error code in a CLI error (`An error occurred (NoSuchEntity) when calling ...`).
///
/// The exit code does not tell (v1 uses 255 for everything); the text does, in v1 and in v2's
/// `legacy` and `enhanced` formats (`aws: [ERROR]: An error occurred (...)`), which
/// [`CONVENTIONS`] pins.
pub(crate) fn error_code(stderr: &str) -> Option<&str> {
    let start = stderr.find("An error occurred (")? + "An error occurred (".len();
    let len = stderr[start..].find(')')?;
    Some(&stderr[start..start + len])
}

/// The AWS error code of a failed command, if the error is one.
pub(crate) fn error_code_of(e: &crate::error::Error) -> Option<&str> {
    match e {
        crate::error::Error::Command(c) => error_code(&c.stderr),
        crate::error::Error::Step { source, .. } => error_code_of(source),
        _ => None,
    }
}

/// Whether a failed read means "this does not exist".
pub(crate) fn is_not_found(out: &Output) -> bool {
    matches!(
        error_code(&out.stderr),
        Some("NoSuchEntity" | "ResourceNotFoundException")
    )
}

/// Nodegroups, CloudFormation stacks and instance profiles: what a half-made cluster and a role
/// made by hand leave behind.
impl ToolCtx {
    pub(crate) fn list_nodegroups(&self, cluster: &str) -> Cmd {
        self.aws_json(
            format!("list the nodegroups of EKS cluster {cluster}"),
            args(["eks", "list-nodegroups", "--cluster-name", cluster]),
        )
        .resource(self.key(["eks", cluster, "nodegroups"]))
    }

    pub(crate) fn describe_nodegroup(&self, cluster: &str, nodegroup: &str) -> Cmd {
        self.aws_json(
            format!("describe nodegroup {nodegroup} of EKS cluster {cluster}"),
            args([
                "eks",
                "describe-nodegroup",
                "--cluster-name",
                cluster,
                "--nodegroup-name",
                nodegroup,
            ]),
        )
        .resource(self.key(["eks", cluster, "nodegroups"]))
    }

    /// eksctl's stack for a cluster's control plane, `eksctl-N-cluster`.
    pub(crate) fn describe_cluster_stack(&self, cluster: &str) -> Cmd {
        let stack = format!("eksctl-{cluster}-cluster");
        self.aws_json(
            format!("describe CloudFormation stack {stack}"),
            args(["cloudformation", "describe-stacks", "--stack-name", &stack]),
        )
        .resource(self.key(["eks", cluster, "stack"]))
    }

    /// Waits while another run's `eksctl create cluster` is creating the stack (CloudFormation's
    /// waiter: 120 polls 30 s apart, one hour).
    pub(crate) fn wait_cluster_stack(&self, cluster: &str) -> Cmd {
        let stack = format!("eksctl-{cluster}-cluster");
        self.aws(
            Effect::Read,
            format!("wait for CloudFormation stack {stack}"),
            [
                "cloudformation",
                "wait",
                "stack-create-complete",
                "--stack-name",
                &stack,
            ],
        )
        .timeout(std::time::Duration::from_secs(65 * 60))
        .resource(self.key(["eks", cluster]))
    }

    pub(crate) fn list_instance_profiles_for_role(&self, role: &str) -> Cmd {
        self.aws_json(
            format!("list the instance profiles of IAM role {role}"),
            args(["iam", "list-instance-profiles-for-role", "--role-name", role]),
        )
        .resource(self.key(["iam-role", role, "instance-profiles"]))
    }

    pub(crate) fn remove_role_from_instance_profile(&self, role: &str, profile: &str) -> Cmd {
        self.aws(
            Effect::Mutate,
            format!("remove IAM role {role} from instance profile {profile}"),
            [
                "iam",
                "remove-role-from-instance-profile",
                "--instance-profile-name",
                profile,
                "--role-name",
                role,
            ],
        )
        .resource(self.key(["iam-role", role, "instance-profiles"]))
    }
}

/// `describe-stacks` of a stack that is not there: CloudFormation answers `ValidationError`
/// (`Stack with id NAME does not exist`), not a not-found code.
pub(crate) fn is_stack_not_found(out: &Output) -> bool {
    error_code(&out.stderr) == Some("ValidationError") && out.stderr.contains("does not exist")
}

/// The names in `list-nodegroups`.
pub(crate) fn parse_nodegroups(command: &str, stdout: &str) -> crate::error::Result<Vec<String>> {
    #[derive(Deserialize)]
    struct List {
        nodegroups: Vec<String>,
    }
    super::parse_json::<List>(command, stdout).map(|l| l.nodegroups)
}

/// A nodegroup's status and size from `describe-nodegroup`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct NodegroupInfo {
    pub status: String,
    #[serde(default, rename = "scalingConfig")]
    pub scaling: Option<Scaling>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Scaling {
    #[serde(default, rename = "desiredSize")]
    pub desired: Option<u32>,
}

pub(crate) fn parse_nodegroup(command: &str, stdout: &str) -> crate::error::Result<NodegroupInfo> {
    #[derive(Deserialize)]
    struct Describe {
        nodegroup: NodegroupInfo,
    }
    super::parse_json::<Describe>(command, stdout).map(|d| d.nodegroup)
}

/// The `StackStatus` of the one stack in `describe-stacks`.
pub(crate) fn parse_stack_status(command: &str, stdout: &str) -> crate::error::Result<String> {
    #[derive(Deserialize)]
    struct Stack {
        #[serde(rename = "StackStatus")]
        status: String,
    }
    #[derive(Deserialize)]
    struct Stacks {
        #[serde(rename = "Stacks")]
        stacks: Vec<Stack>,
    }
    let s = super::parse_json::<Stacks>(command, stdout)?;
    s.stacks
        .into_iter()
        .next()
        .map(|s| s.status)
        .ok_or_else(|| crate::error::Error::Parse {
            command: command.to_string(),
            reason: "no stack in the answer".into(),
        })
}

/// Instance profile names in `list-instance-profiles-for-role`.
pub(crate) fn parse_instance_profiles(command: &str, stdout: &str) -> crate::error::Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Profile {
        #[serde(rename = "InstanceProfileName")]
        name: String,
    }
    #[derive(Deserialize)]
    struct List {
        #[serde(rename = "InstanceProfiles")]
        profiles: Vec<Profile>,
    }
    super::parse_json::<List>(command, stdout).map(|l| l.profiles.into_iter().map(|p| p.name).collect())
}

/// The names in `list-role-policies` (the role's inline policies).
pub(crate) fn parse_role_policy_names(command: &str, stdout: &str) -> crate::error::Result<Vec<String>> {
    #[derive(Deserialize)]
    struct List {
        #[serde(rename = "PolicyNames", default)]
        names: Vec<String>,
    }
    super::parse_json::<List>(command, stdout).map(|l| l.names)
}

/// The ARNs in `list-attached-role-policies` (the managed policies attached to the role).
pub(crate) fn parse_attached_policies(command: &str, stdout: &str) -> crate::error::Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Attached {
        #[serde(rename = "PolicyArn")]
        arn: String,
    }
    #[derive(Deserialize)]
    struct List {
        #[serde(rename = "AttachedPolicies", default)]
        attached: Vec<Attached>,
    }
    super::parse_json::<List>(command, stdout).map(|l| l.attached.into_iter().map(|a| a.arn).collect())
}

/// An access entry as `describe-access-entry` returns it: who it maps the principal to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccessEntry {
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub kubernetes_groups: Vec<String>,
}

pub(crate) fn parse_access_entry(command: &str, stdout: &str) -> crate::error::Result<AccessEntry> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Describe {
        #[serde(default)]
        access_entry: AccessEntry,
    }
    super::parse_json::<Describe>(command, stdout).map(|d| d.access_entry)
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ClusterInfo {
    pub status: String,
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default, rename = "certificateAuthority")]
    pub certificate_authority: Option<CertificateAuthority>,
    #[serde(default)]
    pub identity: Option<Identity>,
    /// Epoch seconds (CLI v1) or an ISO 8601 string (CLI v2).
    #[serde(default, rename = "createdAt")]
    pub created_at: Option<serde_json::Value>,
    #[serde(default, rename = "accessConfig")]
    pub access_config: Option<AccessConfig>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct AccessConfig {
    #[serde(default, rename = "authenticationMode")]
    pub authentication_mode: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CertificateAuthority {
    pub data: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Identity {
    pub oidc: Option<Oidc>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Oidc {
    pub issuer: Option<String>,
}

impl ClusterInfo {
    /// `CONFIG_MAP`, `API_AND_CONFIG_MAP` or `API`; `None` when describe-cluster did not say.
    pub(crate) fn authentication_mode(&self) -> Option<&str> {
        self.access_config.as_ref()?.authentication_mode.as_deref()
    }

    pub(crate) fn issuer(&self) -> Option<&str> {
        self.identity.as_ref()?.oidc.as_ref()?.issuer.as_deref()
    }

    pub(crate) fn created(&self) -> Option<std::time::SystemTime> {
        match self.created_at.as_ref()? {
            serde_json::Value::Number(n) => {
                let secs = n.as_f64()?;
                (secs >= 0.0).then(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs_f64(secs))
            }
            serde_json::Value::String(s) => parse_timestamp(s),
            _ => None,
        }
    }
}

/// An ISO 8601 time with any UTC offset: CLI v2 prints local time (`...T10:00:00.123-05:00`).
fn parse_timestamp(s: &str) -> Option<std::time::SystemTime> {
    use std::time::Duration;
    if s.ends_with(['Z', 'z']) {
        return humantime::parse_rfc3339_weak(s).ok();
    }
    // `+HH:MM` or `-HH:MM` after the time (the date's own `-` come before the `T`).
    let time_start = s.find(['T', 't', ' '])?;
    let sign_at = time_start + s[time_start..].rfind(['+', '-'])?;
    let (local, offset) = s.split_at(sign_at);
    let (sign, digits) = offset.split_at(1);
    let (hours, minutes) = digits.split_once(':').unwrap_or((digits, "00"));
    let offset = Duration::from_secs(hours.parse::<u64>().ok()? * 3600 + minutes.parse::<u64>().ok()? * 60);
    let as_if_utc = humantime::parse_rfc3339_weak(&format!("{local}Z")).ok()?;
    // Local time is UTC plus the offset: a `-05:00` clock reads five hours less than UTC.
    if sign == "-" {
        as_if_utc.checked_add(offset)
    } else {
        as_if_utc.checked_sub(offset)
    }
}

#[derive(Deserialize)]
struct DescribeCluster {
    cluster: ClusterInfo,
}

pub(crate) fn parse_cluster(command: &str, stdout: &str) -> crate::error::Result<ClusterInfo> {
    super::parse_json::<DescribeCluster>(command, stdout).map(|d| d.cluster)
}

/// A role as `get-role` returns it.
#[derive(Debug, Clone)]
pub(crate) struct Role {
    pub arn: String,
    pub trust: serde_json::Value,
}

/// IAM returns policy documents URL-encoded; the CLI usually decodes them, but not always
/// (older versions, some profiles), so accept a JSON object or an encoded string.
pub(crate) fn decode_document(value: &serde_json::Value) -> Option<serde_json::Value> {
    match value {
        serde_json::Value::String(s) => {
            let decoded = percent_encoding::percent_decode_str(s).decode_utf8().ok()?;
            serde_json::from_str(&decoded).ok()
        }
        serde_json::Value::Object(_) => Some(value.clone()),
        _ => None,
    }
}

pub(crate) fn parse_role(command: &str, stdout: &str) -> crate::error::Result<Role> {
    let v: serde_json::Value = super::parse_json(command, stdout)?;
    let role = &v["Role"];
    let bad = |what: &str| crate::error::Error::Parse {
        command: command.to_string(),
        reason: format!("no {what} in the answer"),
    };
    Ok(Role {
        arn: role["Arn"].as_str().ok_or_else(|| bad("Role.Arn"))?.to_string(),
        trust: decode_document(&role["AssumeRolePolicyDocument"])
            .ok_or_else(|| bad("Role.AssumeRolePolicyDocument"))?,
    })
}

/// The ARNs in `list-open-id-connect-providers`.
pub(crate) fn parse_oidc_provider_list(command: &str, stdout: &str) -> crate::error::Result<Vec<String>> {
    let v: serde_json::Value = super::parse_json(command, stdout)?;
    let list = v["OpenIDConnectProviderList"]
        .as_array()
        .ok_or_else(|| crate::error::Error::Parse {
            command: command.to_string(),
            reason: "no OpenIDConnectProviderList in the answer".into(),
        })?;
    Ok(list
        .iter()
        .filter_map(|p| p["Arn"].as_str().map(str::to_string))
        .collect())
}

pub(crate) fn parse_role_policy(command: &str, stdout: &str) -> crate::error::Result<serde_json::Value> {
    let v: serde_json::Value = super::parse_json(command, stdout)?;
    decode_document(&v["PolicyDocument"]).ok_or_else(|| crate::error::Error::Parse {
        command: command.to_string(),
        reason: "no PolicyDocument in the answer".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::Val;
    use serde_json::json;

    fn aws() -> ToolCtx {
        ToolCtx {
            region: Val::known("eu-west-1"),
            profile: Some(crate::names::Profile::parse("--profile", "prod").unwrap()),
        }
    }

    #[test]
    fn role_policy_lists_and_access_entries_parse_into_types() {
        let names = parse_role_policy_names("c", r#"{"PolicyNames": ["AssumeRole", "Other"]}"#).unwrap();
        assert_eq!(names, ["AssumeRole", "Other"]);
        let attached = parse_attached_policies(
            "c",
            r#"{"AttachedPolicies": [{"PolicyName": "ReadOnly", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]}"#,
        )
        .unwrap();
        assert_eq!(attached, ["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
        assert!(parse_attached_policies("c", "{}").unwrap().is_empty());
        let entry = parse_access_entry(
            "c",
            r#"{"accessEntry": {"principalArn": "arn:aws:iam::1:role/Deployer", "username": "deployer", "kubernetesGroups": ["deployers"]}}"#,
        )
        .unwrap();
        assert_eq!(entry.username.as_deref(), Some("deployer"));
        assert_eq!(entry.kubernetes_groups, ["deployers"]);
        assert_eq!(
            parse_access_entry("c", r#"{"accessEntry": {}}"#).unwrap(),
            AccessEntry::default()
        );
    }

    #[test]
    fn cluster_admin_only_at_cluster_scope() {
        let list = |arn: &str, scope: &str| {
            json!({"clusterName": "t", "principalArn": "p", "associatedAccessPolicies": [
                {"policyArn": arn, "accessScope": {"type": scope, "namespaces": []}, "associatedAt": "x", "modifiedAt": "x"}
            ]})
            .to_string()
        };
        assert!(parse_has_cluster_admin("c", &list(CLUSTER_ADMIN_POLICY, "cluster")).unwrap());
        assert!(!parse_has_cluster_admin("c", &list(CLUSTER_ADMIN_POLICY, "namespace")).unwrap());
        let view = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
        assert!(!parse_has_cluster_admin("c", &list(view, "cluster")).unwrap());
        assert!(!parse_has_cluster_admin("c", r#"{"associatedAccessPolicies": []}"#).unwrap());
    }

    #[test]
    fn every_flag_is_followed_by_its_value_not_by_region_or_profile() {
        let arn = "arn:aws:iam::1:oidc-provider/x";
        for cmd in [
            aws().delete_oidc_provider(arn.into()),
            aws().get_oidc_provider(arn.into()),
        ] {
            let argv = cmd.argv();
            let at = argv.iter().position(|a| a == "--open-id-connect-provider-arn").unwrap();
            assert_eq!(argv[at + 1], arn, "{cmd}");
        }
    }

    #[test]
    fn every_call_has_region_and_profile() {
        let a = aws();
        for cmd in [
            a.caller_account(),
            a.describe_cluster("m"),
            a.get_role("ArgoCD"),
            a.create_role("ArgoCD", Path::new("/t/trust.json"), "d"),
            a.put_role_policy("ArgoCD", "AssumeRole", Path::new("/t/p.json")),
        ] {
            let s = cmd.to_string();
            assert!(s.contains("--region eu-west-1 --profile prod"), "{s}");
        }
        assert_eq!(
            a.create_role("ArgoCD", Path::new(".gitops-iam/t.json"), "IAM Role")
                .to_string(),
            "aws iam create-role --role-name ArgoCD --assume-role-policy-document file://.gitops-iam/t.json --description 'IAM Role' --region eu-west-1 --profile prod"
        );
        assert!(!a.get_role("x").is_mutating());
        assert_eq!(
            a.enable_access_entries("testing").to_string(),
            "aws eks update-cluster-config --name testing --access-config 'authenticationMode=API_AND_CONFIG_MAP' --region eu-west-1 --profile prod --query update.id --output text"
        );
        assert!(a.enable_access_entries("testing").is_mutating());
        assert!(!a.describe_update("testing", "u-1").is_mutating());
        assert!(a.update_trust("x", Path::new("p")).is_mutating());
    }

    #[test]
    fn error_codes() {
        let e = "\nAn error occurred (NoSuchEntity) when calling the GetRole operation: Role ArgoCD not found\n";
        assert_eq!(error_code(e), Some("NoSuchEntity"));
        assert_eq!(error_code("Unable to locate credentials"), None);
        let out = Output {
            status: Some(255),
            stdout: String::new(),
            stderr: "An error occurred (ResourceNotFoundException) when calling the DescribeCluster operation: No cluster found for name: x.".into(),
        };
        assert!(is_not_found(&out));
    }

    #[test]
    fn error_codes_of_cli_v2() {
        // aws-cli v2 `errorformat.py` `write_error`: the `legacy`/`enhanced` line gets a prefix.
        let v2 = "\naws: [ERROR]: An error occurred (NoSuchEntity) when calling the GetRole operation: Role ArgoCD not found";
        assert_eq!(error_code(v2), Some("NoSuchEntity"));
        let cmd = aws().get_role("ArgoCD");
        assert!(cmd.conventions.contains(&("AWS_CLI_ERROR_FORMAT", "legacy")));
        assert!(cmd.conventions.contains(&("AWS_CLI_AUTO_PROMPT", "off")));
        // Pinned once for the script, not repeated on each line.
        assert!(cmd.to_string().starts_with("aws iam get-role"), "{cmd}");
    }

    #[test]
    fn created_at_with_any_utc_offset() {
        let at = |s: &str| {
            let c = ClusterInfo {
                status: "ACTIVE".into(),
                endpoint: None,
                certificate_authority: None,
                identity: None,
                created_at: Some(json!(s)),
                access_config: None,
            };
            c.created()
                .map(|t| t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis())
        };
        let utc = at("2026-12-01T15:00:00.123000Z").unwrap();
        assert_eq!(at("2026-12-01T15:00:00.123000+00:00"), Some(utc));
        assert_eq!(at("2026-12-01T10:00:00.123000-05:00"), Some(utc));
        assert_eq!(at("2026-12-01T20:30:00.123000+05:30"), Some(utc));
        assert_eq!(at("2026-12-01T10:00:00-05:00"), Some(utc - 123));
        assert_eq!(at("not a time"), None);
        let epoch = ClusterInfo {
            created_at: Some(json!(1.5)),
            ..serde_json::from_value(json!({"name": "m", "status": "ACTIVE"})).unwrap()
        };
        assert_eq!(
            epoch.created(),
            Some(std::time::UNIX_EPOCH + std::time::Duration::from_millis(1500))
        );
    }

    #[test]
    fn parses_describe_cluster() {
        let out = json!({"cluster": {
            "name": "management", "arn": "arn:aws:eks:us-east-1:123456789012:cluster/management",
            "endpoint": "https://ABC.gr7.us-east-1.eks.amazonaws.com",
            "certificateAuthority": {"data": "LS0tLS1CRUdJTg=="},
            "identity": {"oidc": {"issuer": "https://oidc.eks.us-east-1.amazonaws.com/id/ABC"}},
            "status": "ACTIVE", "version": "1.32",
            "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"}
        }});
        let c = parse_cluster("x", &out.to_string()).unwrap();
        assert_eq!(c.status, "ACTIVE");
        assert_eq!(c.authentication_mode(), Some(API_AND_CONFIG_MAP));
        assert_eq!(c.issuer(), Some("https://oidc.eks.us-east-1.amazonaws.com/id/ABC"));
        assert_eq!(
            c.certificate_authority.unwrap().data.as_deref(),
            Some("LS0tLS1CRUdJTg==")
        );
        assert!(parse_cluster("x", "{}").is_err());
        let bare = parse_cluster("x", r#"{"cluster": {"name": "old", "status": "ACTIVE"}}"#).unwrap();
        assert_eq!(bare.authentication_mode(), None);
    }

    #[test]
    fn parses_roles_with_decoded_or_encoded_documents() {
        let doc = json!({"Version": "2012-10-17", "Statement": []});
        let decoded =
            json!({"Role": {"RoleName": "A", "Arn": "arn:aws:iam::1:role/A", "AssumeRolePolicyDocument": doc}});
        assert_eq!(parse_role("x", &decoded.to_string()).unwrap().trust, doc);
        let encoded_text = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        let encoded = json!({"Role": {"Arn": "arn:aws:iam::1:role/A", "AssumeRolePolicyDocument": encoded_text}});
        assert_eq!(parse_role("x", &encoded.to_string()).unwrap().trust, doc);
        let policy = json!({"RoleName": "A", "PolicyName": "AssumeRole", "PolicyDocument": doc});
        assert_eq!(parse_role_policy("x", &policy.to_string()).unwrap(), doc);
        assert!(parse_role("x", "{\"Role\": {}}").is_err());
    }
}

//! The command-line surface: global flags, environment flags and the command tree.
//!
//! Global and environment flags are `global = true`, so they are accepted before or after the
//! subcommand (`gitops-iam --region R up` and `gitops-iam up --region R`), as CI scripts write
//! them both ways.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const ABOUT: &str = "Bootstrap a Harness GitOps agent in a management EKS cluster that deploys into a testing EKS cluster through IAM roles for service accounts (IRSA).";

const LONG_ABOUT: &str = "\
Bootstrap a Harness GitOps agent in a management EKS cluster that deploys into a testing EKS \
cluster through IAM roles for service accounts (IRSA).

gitops-iam drives the tools you already have (eksctl, aws, kubectl) exactly as a careful engineer \
would by hand: each step first reads the current state and then runs only the commands needed to \
reach the desired one, so every command can be re-run safely. `--dry-run` prints the commands a \
run from scratch would issue, as a bash script, without running anything; `--plan` reads the current state and prints the commands a run would issue from it now.

Exit codes: 0 ok, 1 a step failed (re-run the same command to resume), 2 invalid input, \
128+n stopped by signal n: 130 SIGINT (Ctrl-C), 143 SIGTERM (CI cancellation), 129 SIGHUP. \
With --plan --detailed-exitcode: 0 nothing to change, 2 changes pending, 1 any error.";

#[derive(Debug, Parser)]
#[command(name = "gitops-iam", version, about = ABOUT, long_about = LONG_ABOUT, propagate_version = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(flatten)]
    pub env: EnvArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct GlobalArgs {
    /// AWS region for every aws and eksctl call [default: $AWS_REGION, else $AWS_DEFAULT_REGION,
    /// else the profile's region in $AWS_CONFIG_FILE or ~/.aws/config]
    #[arg(long, global = true, value_name = "REGION", env = "GITOPS_IAM_REGION")]
    pub region: Option<String>,

    /// AWS CLI profile of the management account [default: $AWS_PROFILE]
    #[arg(long, global = true, value_name = "NAME", env = "GITOPS_IAM_PROFILE")]
    pub profile: Option<String>,

    /// Print the commands as a bash script instead of running them; needs no credentials or tools
    #[arg(long, global = true)]
    pub dry_run: bool,

    /// Read the current state for real, then print as a bash script the commands a run would
    /// issue from it, and the drift on stderr; changes nothing (see docs/plan.md)
    #[arg(long, global = true, conflicts_with = "dry_run")]
    pub plan: bool,

    /// With --plan: exit 0 when there is nothing to change, 2 when there are changes, 1 on any
    /// error (Terraform's `plan -detailed-exitcode`)
    #[arg(long, global = true, requires = "plan")]
    pub detailed_exitcode: bool,

    /// Show every command as it runs; -vv also the diagnostic log (each step and command with its
    /// duration and exit status) on stderr
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Write the diagnostic log to FILE as JSON lines (a span per command and step, never a
    /// secret): a CI artifact. GITOPS_IAM_LOG (env-filter syntax) chooses what it holds
    #[arg(long, global = true, value_name = "FILE")]
    pub log_file: Option<PathBuf>,

    /// Progress format: human text on stderr, or JSON lines on stdout (see docs/output.md)
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "FORMAT",
        default_value = "text",
        env = "GITOPS_IAM_OUTPUT"
    )]
    pub output: OutputFormat,

    /// Print only errors and warnings
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// YAML file with any of the settings below, keys named like the long flags in snake_case;
    /// flags and GITOPS_IAM_* variables override it
    #[arg(long, global = true, value_name = "FILE", env = "GITOPS_IAM_CONFIG")]
    pub config: Option<PathBuf>,

    /// Directory for the tool's own kubeconfigs and policy files
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = ".gitops-iam",
        env = "GITOPS_IAM_STATE_DIR"
    )]
    pub state_dir: PathBuf,

    /// How long to wait out IAM, STS and EKS propagation errors (a role created seconds ago is
    /// not yet a valid principal); every other error fails at once
    #[arg(
        long,
        global = true,
        value_name = "DURATION",
        default_value = "2m",
        value_parser = humantime::parse_duration,
        env = "GITOPS_IAM_PROPAGATION_TIMEOUT"
    )]
    pub propagation_timeout: std::time::Duration,

    /// Replace a role's whole trust policy with gitops-iam's, dropping the statements for other
    /// OIDC providers or principals (other environments sharing the role name) that are kept by
    /// default
    #[arg(long, global = true, env = "GITOPS_IAM_REPLACE_TRUST")]
    pub replace_trust: bool,
}

#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Environment options")]
pub(crate) struct EnvArgs {
    /// Name of the management EKS cluster (hosts the agent)
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        default_value = "management",
        env = "GITOPS_IAM_MGMT_CLUSTER"
    )]
    pub mgmt_cluster: String,

    /// Name of the testing EKS cluster (the agent deploys into it)
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        default_value = "testing",
        env = "GITOPS_IAM_TESTING_CLUSTER"
    )]
    pub testing_cluster: String,

    /// Namespace of the GitOps agent in the management cluster
    #[arg(
        long,
        global = true,
        value_name = "NS",
        default_value = "iam",
        env = "GITOPS_IAM_NAMESPACE"
    )]
    pub namespace: String,

    /// IAM role the agent's service accounts assume through the OIDC provider
    #[arg(
        long,
        global = true,
        value_name = "ROLE",
        default_value = "ArgoCD",
        env = "GITOPS_IAM_AGENT_ROLE"
    )]
    pub agent_role: String,

    /// IAM role the agent assumes to deploy into the testing cluster
    #[arg(
        long,
        global = true,
        value_name = "ROLE",
        default_value = "Deployer",
        env = "GITOPS_IAM_DEPLOYER_ROLE"
    )]
    pub deployer_role: String,

    /// Management account id [default: from `aws sts get-caller-identity`]
    #[arg(long, global = true, value_name = "ID", env = "GITOPS_IAM_ACCOUNT_ID")]
    pub account_id: Option<String>,

    /// Account of the testing cluster and Deployer role [default: the management account, or
    /// from `aws sts get-caller-identity --profile <testing-profile>`]
    #[arg(long, global = true, value_name = "ID", env = "GITOPS_IAM_TESTING_ACCOUNT_ID")]
    pub testing_account_id: Option<String>,

    /// AWS CLI profile for the testing account [default: --profile]
    #[arg(long, global = true, value_name = "NAME", env = "GITOPS_IAM_TESTING_PROFILE")]
    pub testing_profile: Option<String>,

    /// Kubernetes group of the Deployer role in the testing cluster [default: system:masters with
    /// aws-auth; none with access-entry, where the admin access policy grants the rights]
    #[arg(long, global = true, value_name = "GROUP", env = "GITOPS_IAM_IDENTITY_GROUP")]
    pub identity_group: Option<String>,

    /// Kubernetes username of the Deployer role in the testing cluster
    #[arg(
        long,
        global = true,
        value_name = "USER",
        default_value = "deployer",
        env = "GITOPS_IAM_IDENTITY_USERNAME"
    )]
    pub identity_username: String,

    /// How the Deployer role gets Kubernetes access to the testing cluster: the aws-auth
    /// ConfigMap (eksctl identity mapping) or an EKS access entry with the cluster admin policy
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "MODE",
        default_value = "aws-auth",
        env = "GITOPS_IAM_CLUSTER_ACCESS"
    )]
    pub cluster_access: ClusterAccess,

    /// With access entries: turn them on when a testing cluster's authentication mode is
    /// CONFIG_MAP (aws eks update-cluster-config --access-config
    /// authenticationMode=API_AND_CONFIG_MAP). A one-way change: EKS never lets the mode go
    /// back to CONFIG_MAP. Without it such a cluster is an error that names the command
    #[arg(long, global = true, env = "GITOPS_IAM_ENABLE_ACCESS_ENTRIES")]
    pub enable_access_entries: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ClusterAccess {
    /// eksctl create iamidentitymapping (the tutorial's way)
    AwsAuth,
    /// aws eks create-access-entry + associate-access-policy (AmazonEKSClusterAdminPolicy)
    AccessEntry,
}

#[derive(Debug, Args, Clone)]
pub(crate) struct PolicyArgs {
    /// Let the agent role assume any role ("Resource": "*", as the tutorial does) instead of
    /// only the Deployer role(s)
    #[arg(long, env = "GITOPS_IAM_ASSUME_ANY_ROLE")]
    pub assume_any_role: bool,
}

#[derive(Debug, Args, Clone)]
pub(crate) struct AgentArgs {
    /// Apply this manifest (the agent's install YAML) into the namespace when the agent's
    /// objects are missing (server-side apply, so CRDs of any size install)
    #[arg(long, value_name = "FILE", env = "GITOPS_IAM_AGENT_MANIFEST")]
    pub agent_manifest: Option<PathBuf>,

    /// How long to wait for the agent's workloads to roll out
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = humantime::parse_duration, env = "GITOPS_IAM_WAIT_TIMEOUT")]
    pub wait_timeout: std::time::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OutputFormat {
    Text,
    Json,
}

/// Where `register` puts the testing cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RegisterTarget {
    /// A cluster of the Harness GitOps agent, through the Harness API
    Harness,
    /// An Argo CD cluster Secret in the agent's namespace (plain Argo CD)
    Argocd,
}

/// `verify`: the registration options, and `--live`.
#[derive(Debug, Args, Clone)]
pub(crate) struct VerifyArgs {
    /// Then walk the chain with real credentials, as the agent does, for each agent service
    /// account and testing cluster: a service-account token, AssumeRoleWithWebIdentity into the
    /// agent role, AssumeRole into the Deployer role, the testing cluster's API (read-only; the
    /// token and the credentials are never printed)
    #[arg(long)]
    pub live: bool,

    #[command(flatten)]
    pub register: RegisterArgs,
}

#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Registration options")]
pub(crate) struct RegisterArgs {
    /// Where to register the testing cluster [default: harness when --harness-account is given]
    #[arg(long, value_enum, value_name = "TARGET")]
    pub to: Option<RegisterTarget>,

    /// Harness account identifier
    #[arg(long, value_name = "ID", env = "GITOPS_IAM_HARNESS_ACCOUNT")]
    pub harness_account: Option<String>,

    /// Harness organization identifier (for agents and clusters at org or project scope)
    #[arg(long, value_name = "ID", env = "GITOPS_IAM_HARNESS_ORG")]
    pub harness_org: Option<String>,

    /// Harness project identifier (for agents and clusters at project scope)
    #[arg(long, value_name = "ID", env = "GITOPS_IAM_HARNESS_PROJECT")]
    pub harness_project: Option<String>,

    /// GitOps agent identifier; `account.<id>` or `org.<id>` for agents above project scope
    #[arg(long, value_name = "ID", env = "GITOPS_IAM_AGENT_ID")]
    pub agent_id: Option<String>,

    /// Identifier of the cluster in Harness [default: the testing cluster's name as a valid
    /// Harness identifier]
    #[arg(long, value_name = "ID", env = "GITOPS_IAM_CLUSTER_ID")]
    pub cluster_id: Option<String>,

    /// Harness API base URL
    #[arg(long, value_name = "URL", default_value = crate::harness::DEFAULT_URL, env = "GITOPS_IAM_HARNESS_URL")]
    pub harness_url: String,

    /// Read the Harness API key from this file [default: $HARNESS_API_KEY]; never pass the key
    /// itself as a flag
    #[arg(long, value_name = "FILE", env = "GITOPS_IAM_API_KEY_FILE")]
    pub api_key_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Management cluster with an OIDC provider, the agent role trusted by it, and its inline
    /// policy to assume the Deployer role
    Mgmt(PolicyArgs),

    /// Set up the GitOps agent in the management cluster
    #[command(subcommand)]
    Agent(AgentCommand),

    /// Testing cluster, the Deployer role trusted by the agent role, and its Kubernetes access
    Testing,

    /// Everything, in dependency order, with both clusters created at the same time; with
    /// Harness options and no --agent-manifest the agent is created and installed through the
    /// Harness API, as `agent install` does
    Up {
        #[command(flatten)]
        policy: PolicyArgs,
        #[command(flatten)]
        agent: AgentArgs,
        #[command(flatten)]
        register: RegisterArgs,
        /// At the end, deploy Argo CD's guestbook sample through the agent and wait until it is
        /// Synced and Healthy (as `app guestbook`; needs the registration options)
        #[arg(long)]
        with_guestbook: bool,
        #[command(flatten)]
        app: AppWaitArgs,
    },

    /// Deploy a sample application through the agent into the testing cluster
    #[command(subcommand)]
    App(AppCommand),

    /// Register the testing cluster in Harness GitOps (IRSA), or as an Argo CD cluster Secret
    Register(RegisterArgs),

    /// Check every link of the IRSA chain (read-only); exit 1 if any check fails
    Verify(VerifyArgs),

    /// Remove what `up` made, in reverse order (asks first; --yes when not on a terminal)
    Down {
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
        /// Remove only the IAM roles, access and registration; keep both clusters
        #[arg(long)]
        keep_clusters: bool,
        #[command(flatten)]
        register: RegisterArgs,
    },

    /// Print one document as JSON: an IAM policy, or the Argo CD cluster Secret
    #[command(subcommand)]
    Render(RenderCommand),

    /// Check that eksctl, aws and kubectl are installed and that credentials and a region are set
    Doctor,

    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },

    /// Print the man page (roff), or write one page per command into a directory
    Man {
        /// Write gitops-iam.1 and a page per subcommand (gitops-iam-up.1, ...) here
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// How long `app` waits for an application.
#[derive(Debug, Args)]
pub(crate) struct AppWaitArgs {
    /// How long to wait for the application to become Synced and Healthy
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "5m",
        value_parser = humantime::parse_duration,
        env = "GITOPS_IAM_APP_TIMEOUT"
    )]
    pub app_timeout: std::time::Duration,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AppCommand {
    /// Register github.com/argoproj/argocd-example-apps (path guestbook) and a GitOps application
    /// `guestbook` targeting the registered testing cluster, sync it, and wait until it is Synced
    /// and Healthy (the whole IRSA chain, proven by a deployment)
    Guestbook {
        #[command(flatten)]
        register: RegisterArgs,
        #[command(flatten)]
        wait: AppWaitArgs,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AgentCommand {
    /// Namespace, IRSA annotation on the agent's service accounts, fsGroup 999 on its workloads,
    /// restart, and wait until they are rolled out
    Patch(AgentArgs),
    /// Create the agent in Harness (unless it exists), download its manifest into the state
    /// directory (0600: it holds the agent's token), apply it server-side, patch it as `agent
    /// patch` does and wait until Harness reports it connected. A re-run passes the installed
    /// agent's key, so its token is never regenerated, and applies the manifest only when it
    /// changed
    Install(AgentInstallArgs),
}

#[derive(Debug, Args, Clone)]
pub(crate) struct AgentInstallArgs {
    /// How long to wait for the agent's workloads to roll out, and then for Harness to report
    /// the agent connected
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = humantime::parse_duration, env = "GITOPS_IAM_WAIT_TIMEOUT")]
    pub wait_timeout: std::time::Duration,

    #[command(flatten)]
    pub register: RegisterArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RenderCommand {
    /// Trust policy of the agent role (needs --account-id and --oidc-provider)
    Trust {
        /// The OIDC issuer of the management cluster, with or without https://
        #[arg(long, value_name = "HOST/PATH")]
        oidc_provider: String,
        #[command(flatten)]
        merge_current: MergeCurrent,
    },
    /// Inline policy of the agent role: sts:AssumeRole on the Deployer role(s)
    Policy {
        /// ARN of a role the agent may assume (repeatable) [default: the Deployer role of
        /// --testing-account-id]
        #[arg(long = "deployer-role-arn", value_name = "ARN")]
        deployer_role_arns: Vec<String>,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// The Argo CD cluster Secret for the testing cluster (JSON, for kubectl apply)
    ArgocdSecret {
        /// The testing cluster's API endpoint
        #[arg(long, value_name = "URL")]
        server: String,
        /// The testing cluster's CA certificate, base64 (as describe-cluster prints it)
        #[arg(long, value_name = "BASE64")]
        ca_data: String,
        /// ARN of the Deployer role [default: --deployer-role in --testing-account-id]
        #[arg(long, value_name = "ARN")]
        role_arn: Option<String>,
    },
    /// The guestbook's Argo CD Application in --namespace (`app guestbook --to argocd`)
    ArgocdApplication {
        /// The testing cluster's API endpoint (the server of its cluster Secret)
        #[arg(long, value_name = "URL")]
        server: String,
        /// The Application's name
        #[arg(long, value_name = "NAME", default_value = "guestbook")]
        name: String,
    },
    /// Trust policy of the Deployer role: the agent role
    DeployerTrust {
        /// ARN of the agent role [default: --agent-role in --account-id]
        #[arg(long, value_name = "ARN")]
        agent_role_arn: Option<String>,
        #[command(flatten)]
        merge_current: MergeCurrent,
    },
}

#[derive(Debug, Args)]
pub(crate) struct MergeCurrent {
    /// Merge into this current trust policy (JSON; `-` reads stdin, e.g. from `aws iam get-role
    /// --query Role.AssumeRolePolicyDocument`): statements for other principals are kept, as a
    /// run keeps them
    #[arg(long = "merge-current", value_name = "FILE")]
    pub path: Option<PathBuf>,
}

impl MergeCurrent {
    pub(crate) fn as_deref(&self) -> Option<&std::path::Path> {
        self.path.as_deref()
    }
}

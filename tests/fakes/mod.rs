//! What the fake `aws`, `eksctl` and `kubectl` answer: rules, and two ready-made accounts.
//!
//! The fake program (`fake.py` beside this file) answers each call from a list of rules, first
//! match wins. A rule set is a picture of an AWS account and its clusters as the three tools
//! would show it: [`fresh_account`] where nothing exists yet, [`converged_account`] where
//! everything is exactly as gitops-iam wants it. Tests describe drift by putting an overriding
//! rule in front ([`Rules::with`]).
//!
//! "Not found" looks exactly the way the real tools say it (aws: exit 255 and
//! `An error occurred (NoSuchEntity) ...`; kubectl: exit 1 and `Error from server (NotFound)`),
//! because that text, not the exit code, is what gitops-iam classifies.

use serde_json::{Value, json};
use std::sync::OnceLock;

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";
/// The management cluster's OIDC issuer, as `describe-cluster` prints it.
pub const ISSUER: &str = "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
/// The issuer without `https://`: the IAM OIDC provider's name.
pub const OIDC_PROVIDER: &str = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
/// The management cluster's context in the kubeconfig eksctl writes (`IDENTITY@N.REGION.eksctl.io`).
pub const MGMT_CONTEXT: &str = "admin@management.us-east-1.eksctl.io";
pub const AGENT_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/ArgoCD";
pub const DEPLOYER_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/Deployer";
pub const NODEGROUP_ROLE_ARN: &str =
    "arn:aws:iam::123456789012:role/eksctl-testing-nodegroup-ng-NodeInstanceRole-1EXAMPLE";
/// What the agent's service accounts are annotated with.
pub const ROLE_ARN_ANNOTATION: &str = "eks.amazonaws.com/role-arn";

/// A stand-in for the Harness GitOps agent's install YAML (the fake never reads it).
pub const AGENT_MANIFEST: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: gitops-agent\n";

/// One rule of the fake: which calls it matches and what it answers (or how long it holds them).
#[derive(Clone, Debug)]
pub struct Rule(serde_json::Map<String, Value>);

impl Rule {
    fn set(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.insert(key.to_string(), value.into());
        self
    }

    /// Matches calls of `program` whose space-joined argv contains `contains`.
    pub fn new(program: &str, contains: &str) -> Self {
        Rule(serde_json::Map::new())
            .set("program", program)
            .set("contains", contains)
    }

    /// Matches calls of `program` whose space-joined argv matches the Python regex `regex`.
    pub fn regex(program: &str, regex: &str) -> Self {
        Rule(serde_json::Map::new()).set("program", program).set("regex", regex)
    }

    /// A wait rule: holds matching calls until a call containing `wait_for` has been logged (at
    /// most [`Rule::wait_seconds`]; the harness then fails the run). A test that holds `a` until
    /// `b` passes only if `b` does not wait for `a`: it proves two steps independent.
    pub fn wait(program: &str, contains: &str, wait_for: &str) -> Self {
        Rule::new(program, contains).set("wait_for", wait_for)
    }

    /// How long a wait rule holds a call at most (default 10 s).
    pub fn wait_seconds(self, seconds: u32) -> Self {
        self.set("wait_seconds", seconds)
    }

    /// Applies only once an earlier call's `program argv...` line contained `earlier`.
    pub fn after(self, earlier: &str) -> Self {
        self.set("after", earlier)
    }

    /// Answers only the first `n` calls it matches.
    pub fn times(self, n: u32) -> Self {
        self.set("times", n)
    }

    pub fn stdout(self, text: impl Into<String>) -> Self {
        self.set("stdout", text.into())
    }

    pub fn stderr(self, text: impl Into<String>) -> Self {
        self.set("stderr", text.into())
    }

    pub fn exit(self, code: i32) -> Self {
        self.set("exit", code)
    }

    /// Answers `value` as pretty JSON, as the tools print it.
    pub fn json(self, value: Value) -> Self {
        self.stdout(serde_json::to_string_pretty(&value).unwrap() + "\n")
    }

    /// Fails the way the AWS CLI (v1) does for a service error: exit 255 and the error text.
    pub fn aws_error(self, code: &str, operation: &str, message: &str) -> Self {
        self.exit(255).stderr(format!(
            "\nAn error occurred ({code}) when calling the {operation} operation: {message}\n"
        ))
    }

    /// Fails the way eksctl does: exit 1 and `Error: ...`.
    pub fn eksctl_error(self, message: &str) -> Self {
        self.exit(1).stderr(format!("Error: {message}\n"))
    }

    /// Fails the way kubectl does for an API error: exit 1 and `Error from server (REASON): ...`.
    pub fn kubectl_error(self, reason: &str, message: &str) -> Self {
        self.exit(1)
            .stderr(format!("Error from server ({reason}): {message}\n"))
    }

    /// The exit code and stderr this rule answers with.
    pub fn answer(&self) -> (i32, String) {
        let exit = self.0.get("exit").and_then(Value::as_i64).unwrap_or(0);
        let stderr = self.0.get("stderr").and_then(Value::as_str).unwrap_or("");
        (exit as i32, stderr.to_string())
    }

    /// kubectl's answer for an object that does not exist (`serviceaccounts`, `deployments.apps`).
    pub fn kubectl_not_found(self, resource: &str, name: &str) -> Self {
        self.kubectl_error("NotFound", &format!("{resource} \"{name}\" not found"))
    }
}

/// An ordered list of rules; the first that matches a call answers it.
#[derive(Clone, Debug, Default)]
pub struct Rules(Vec<Rule>);

impl Rules {
    pub fn new(rules: impl IntoIterator<Item = Rule>) -> Self {
        Rules(rules.into_iter().collect())
    }

    /// Puts `rule` in front, so it wins over every rule already here (drift, injected failures).
    pub fn with(mut self, rule: Rule) -> Self {
        self.0.insert(0, rule);
        self
    }

    pub fn to_json(&self) -> String {
        let rules: Vec<Value> = self.0.iter().map(|r| Value::Object(r.0.clone())).collect();
        serde_json::to_string_pretty(&rules).unwrap()
    }
}

/// What `gitops-iam render ARGS` prints, parsed (computed once per document).
pub fn render(args: &[&str]) -> Value {
    let out = std::process::Command::new(crate::harness::BIN)
        .arg("render")
        .args(args)
        .env_clear()
        .output()
        .expect("running gitops-iam render");
    assert!(
        out.status.success(),
        "gitops-iam render {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("render prints JSON")
}

/// The agent role's trust policy for the default settings.
pub fn agent_trust() -> Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        render(&[
            "trust",
            "--account-id",
            ACCOUNT,
            "--oidc-provider",
            OIDC_PROVIDER,
            "--namespace",
            "iam",
            "--region",
            REGION,
        ])
    })
    .clone()
}

/// The agent role's inline policy allowing the default Deployer role.
pub fn assume_policy() -> Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| render(&["policy", "--deployer-role-arn", DEPLOYER_ROLE_ARN]))
        .clone()
}

/// The Deployer role's trust policy for the default settings.
pub fn deployer_trust() -> Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| render(&["deployer-trust", "--agent-role-arn", AGENT_ROLE_ARN]))
        .clone()
}

/// `aws eks describe-cluster --output json` of an ACTIVE cluster.
pub fn cluster(name: &str) -> Value {
    json!({"cluster": {
        "name": name,
        "arn": format!("arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{name}"),
        "version": "1.32",
        "endpoint": "https://EXAMPLE0123456789.gr7.us-east-1.eks.amazonaws.com",
        "certificateAuthority": {"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="},
        "identity": {"oidc": {"issuer": ISSUER}},
        "status": "ACTIVE",
        "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"}
    }})
}

/// `aws iam get-role --output json`.
pub fn role(name: &str, trust: Value) -> Value {
    json!({"Role": {
        "Path": "/",
        "RoleName": name,
        "RoleId": "AROAEXAMPLEEXAMPLEEXA",
        "Arn": format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
        "CreateDate": "2026-01-01T00:00:00Z",
        "AssumeRolePolicyDocument": trust,
        "MaxSessionDuration": 3600
    }})
}

/// `aws iam get-role-policy --output json` of the agent role's inline policy.
pub fn role_policy(document: Value) -> Value {
    json!({"RoleName": "ArgoCD", "PolicyName": "AssumeRole", "PolicyDocument": document})
}

/// `aws iam get-open-id-connect-provider --output json`.
pub fn oidc_provider() -> Value {
    json!({
        "Url": OIDC_PROVIDER,
        "ClientIDList": ["sts.amazonaws.com"],
        "ThumbprintList": ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
        "CreateDate": "2026-01-01T00:00:00Z"
    })
}

/// `aws iam list-open-id-connect-providers --output json`: the management cluster's provider,
/// or none.
pub fn oidc_provider_list(present: bool) -> Value {
    let list: Vec<Value> = if present {
        vec![json!({"Arn": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC_PROVIDER}")})]
    } else {
        Vec::new()
    };
    json!({"OpenIDConnectProviderList": list})
}

/// An entry of `eksctl get iamidentitymapping -o json`.
pub fn mapping(rolearn: &str, username: &str, groups: &[&str]) -> Value {
    json!({"rolearn": rolearn, "username": username, "groups": groups})
}

/// The mapping eksctl creates for the testing cluster's node group.
pub fn nodegroup_mapping() -> Value {
    mapping(
        NODEGROUP_ROLE_ARN,
        "system:node:{{EC2PrivateDNSName}}",
        &["system:bootstrappers", "system:nodes"],
    )
}

/// The mapping gitops-iam wants for the Deployer role.
pub fn deployer_mapping() -> Value {
    mapping(DEPLOYER_ROLE_ARN, "deployer", &["system:masters"])
}

/// `kubectl get namespace NAME -o json`.
pub fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace",
           "metadata": {"name": name}, "status": {"phase": "Active"}})
}

/// `kubectl get serviceaccount NAME -o json`, annotated with `role_arn` when given.
pub fn service_account(name: &str, role_arn: Option<&str>) -> Value {
    let mut metadata = json!({"name": name, "namespace": "iam"});
    if let Some(arn) = role_arn {
        metadata["annotations"] = json!({ROLE_ARN_ANNOTATION: arn});
    }
    json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata})
}

/// `kubectl get deployment|statefulset NAME -o json`, with `fsGroup` when given.
pub fn workload(kind: &str, name: &str, fs_group: Option<i64>) -> Value {
    let security_context = match fs_group {
        Some(g) => json!({"fsGroup": g}),
        None => json!({}),
    };
    let kind = match kind {
        "deployment" => "Deployment",
        "statefulset" => "StatefulSet",
        other => panic!("no workload kind {other}"),
    };
    json!({"apiVersion": "apps/v1", "kind": kind,
           "metadata": {"name": name, "namespace": "iam", "generation": 1},
           "spec": {"replicas": 1, "template": {"spec": {
               "serviceAccountName": name,
               "securityContext": security_context,
               "containers": [{"name": name, "image": "harness/gitops-agent:v0"}]}}},
           "status": {"observedGeneration": 1, "replicas": 1, "readyReplicas": 1}})
}

/// `kubectl get pods -n iam -o json`: one pod per agent workload; with `role_arn`, each runs
/// with the role (the IRSA webhook's `AWS_ROLE_ARN`), as a pod created after the annotation does.
pub fn agent_pod_list(role_arn: Option<&str>) -> Value {
    let items: Vec<Value> = AGENT_OBJECTS
        .iter()
        .map(|(sa, _, _, name)| {
            let mut container = json!({"name": name, "image": "harness/gitops-agent:v0"});
            if let Some(arn) = role_arn {
                container["env"] = json!([
                    {"name": "AWS_ROLE_ARN", "value": arn},
                    {"name": "AWS_WEB_IDENTITY_TOKEN_FILE",
                     "value": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"}
                ]);
            }
            json!({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": format!("{name}-0"), "namespace": "iam"},
                   "spec": {"serviceAccountName": sa, "containers": [container]}})
        })
        .collect();
    json!({"apiVersion": "v1", "kind": "List", "items": items})
}

/// The agent's service accounts and workloads: (service account, kind, plural resource, name).
pub const AGENT_OBJECTS: [(&str, &str, &str, &str); 2] = [
    ("gitops-agent", "deployment", "deployments.apps", "gitops-agent"),
    (
        "argocd-application-controller",
        "statefulset",
        "statefulsets.apps",
        "argocd-application-controller",
    ),
];

/// What every account answers alike: the tools' versions, the caller's account, the issuer.
fn common() -> Vec<Rule> {
    vec![
        Rule::new("aws", "sts get-caller-identity").stdout(format!("{ACCOUNT}\n")),
        Rule::regex("aws", "^--version$").stdout("aws-cli/1.45.0 Python/3.11.2 Linux/6.1.0 botocore/1.40.0\n"),
        Rule::regex("eksctl", "^version$").stdout("0.230.0\n"),
        Rule::regex("kubectl", "^version --client$").stdout("Client Version: v1.32.0\nKustomize Version: v5.5.0\n"),
        Rule::new("aws", "--query cluster.identity.oidc.issuer").stdout(format!("{ISSUER}\n")),
        // every cluster has the nodegroup `eksctl create cluster` makes
        Rule::new("aws", "eks list-nodegroups ").json(json!({"nodegroups": ["ng-1"]})),
        Rule::new("aws", "iam list-instance-profiles-for-role ").json(json!({"InstanceProfiles": []})),
        Rule::new("aws", "eks describe-nodegroup ").json(
            json!({"nodegroup": {"nodegroupName": "ng-1", "status": "ACTIVE", "scalingConfig": {"desiredSize": 2}}}),
        ),
        Rule::new("eksctl", "utils write-kubeconfig ").stdout("2026-01-01 00:00:00 [✔]  saved kubeconfig\n"),
        // `kubectl config view` is local: the file eksctl wrote names the context.
        Rule::new(
            "kubectl",
            "config view -o jsonpath={.contexts[?(@.context.cluster==\"management.us-east-1.eksctl.io\")].name}",
        )
        .stdout(format!("{MGMT_CONTEXT}\n")),
        Rule::new("kubectl", "rollout status deployment/gitops-agent ")
            .stdout("deployment \"gitops-agent\" successfully rolled out\n"),
        Rule::new("kubectl", "rollout status statefulset/argocd-application-controller ")
            .stdout("partitioned roll out complete: 1 new pods have been updated...\n"),
    ]
}

fn cluster_not_found(name: &str) -> Rule {
    Rule::new("aws", &format!("eks describe-cluster --name {name} ")).aws_error(
        "ResourceNotFoundException",
        "DescribeCluster",
        &format!("No cluster found for name: {name}."),
    )
}

fn role_not_found(name: &str) -> Rule {
    Rule::new("aws", &format!("iam get-role --role-name {name} ")).aws_error(
        "NoSuchEntity",
        "GetRole",
        &format!("The role with name {name} cannot be found."),
    )
}

/// An account where nothing exists yet: no clusters, no roles, no policy, no agent. Clusters
/// exist once `eksctl create cluster` ran; the agent's objects exist (without annotation or
/// fsGroup) once `kubectl apply` ran.
pub fn fresh_account() -> Rules {
    let mut rules = common();
    for name in ["management", "testing"] {
        rules.push(
            Rule::new("aws", &format!("eks describe-cluster --name {name} "))
                .after(&format!("eksctl create cluster --name {name} "))
                .json(cluster(name)),
        );
        rules.push(cluster_not_found(name));
    }
    rules.extend([
        Rule::new("aws", "iam get-open-id-connect-provider ")
            .after("eksctl create cluster --name management ")
            .json(oidc_provider()),
        Rule::new("aws", "iam get-open-id-connect-provider ").aws_error(
            "NoSuchEntity",
            "GetOpenIDConnectProvider",
            &format!("OpenIDConnect Provider not found for arn arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC_PROVIDER}"),
        ),
        Rule::new("aws", "iam list-open-id-connect-providers ")
            .after("eksctl create cluster --name management ")
            .json(oidc_provider_list(true)),
        Rule::new("aws", "iam list-open-id-connect-providers ").json(oidc_provider_list(false)),
        role_not_found("ArgoCD"),
        role_not_found("Deployer"),
        Rule::new("aws", "iam get-role-policy --role-name ArgoCD ").aws_error(
            "NoSuchEntity",
            "GetRolePolicy",
            "The role policy with name AssumeRole cannot be found.",
        ),
        Rule::new("eksctl", "get iamidentitymapping --cluster testing ").json(json!([nodegroup_mapping()])),
        Rule::new("kubectl", "get namespace iam ").kubectl_not_found("namespaces", "iam"),
    ]);
    for (sa, kind, resource, name) in AGENT_OBJECTS {
        rules.extend([
            Rule::new("kubectl", &format!("get serviceaccount {sa} "))
                .after("apply -f ")
                .json(service_account(sa, None)),
            Rule::new("kubectl", &format!("get serviceaccount {sa} ")).kubectl_not_found("serviceaccounts", sa),
            Rule::new("kubectl", &format!("get {kind} {name} "))
                .after("apply -f ")
                .json(workload(kind, name, None)),
            Rule::new("kubectl", &format!("get {kind} {name} ")).kubectl_not_found(resource, name),
        ]);
    }
    Rules::new(rules)
}

/// What `testing` and `agent patch` need (their preconditions): `mgmt` made the management
/// cluster and the agent role; nothing else exists.
pub fn after_mgmt() -> Rules {
    after_mgmt_in("aws")
}

/// [`after_mgmt`] in a partition (`aws-cn`: IAM's ARNs say so).
pub fn after_mgmt_in(partition: &str) -> Rules {
    let mut agent_role = role("ArgoCD", agent_trust());
    agent_role["Role"]["Arn"] = json!(format!("arn:{partition}:iam::{ACCOUNT}:role/ArgoCD"));
    fresh_account()
        .with(Rule::new("aws", "eks describe-cluster --name management ").json(cluster("management")))
        .with(Rule::new("aws", "iam get-role --role-name ArgoCD ").json(agent_role))
}

/// An account where everything is exactly as gitops-iam wants it with the default settings.
pub fn converged_account() -> Rules {
    let mut rules = common();
    rules.extend([
        Rule::new("aws", "eks describe-cluster --name management ").json(cluster("management")),
        Rule::new("aws", "eks describe-cluster --name testing ").json(cluster("testing")),
        Rule::new("aws", "iam get-open-id-connect-provider ").json(oidc_provider()),
        Rule::new("aws", "iam list-open-id-connect-providers ").json(oidc_provider_list(true)),
        Rule::new("aws", "iam get-role --role-name ArgoCD ").json(role("ArgoCD", agent_trust())),
        Rule::new("aws", "iam get-role --role-name Deployer ").json(role("Deployer", deployer_trust())),
        Rule::new("aws", "iam get-role-policy --role-name ArgoCD ").json(role_policy(assume_policy())),
        Rule::new("eksctl", "get iamidentitymapping --cluster testing ")
            .json(json!([nodegroup_mapping(), deployer_mapping()])),
        Rule::new("kubectl", "get namespace iam ").json(namespace("iam")),
        Rule::new("kubectl", "get pods -n iam ").json(agent_pod_list(Some(AGENT_ROLE_ARN))),
    ]);
    for (sa, kind, _, name) in AGENT_OBJECTS {
        rules.extend([
            Rule::new("kubectl", &format!("get serviceaccount {sa} ")).json(service_account(sa, Some(AGENT_ROLE_ARN))),
            Rule::new("kubectl", &format!("get {kind} {name} ")).json(workload(kind, name, Some(999))),
        ]);
    }
    Rules::new(rules)
}

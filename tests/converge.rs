//! Converge: a run from scratch issues exactly the commands it needs, a run on a converged
//! account issues no mutating command, and each kind of drift is repaired with the fewest
//! commands (and shown as a diff).

use crate::fakes::*;
use crate::harness::{NOTHING, Output, Test, assert_lines_eq};
use serde_json::json;

const KUBECTL: &str = "kubectl --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml --context admin@management.us-east-1.eksctl.io";

// The mutating commands of `up --agent-manifest agent.yaml` on a fresh account, one by one.
pub const MGMT_CLUSTER: &str = "eksctl create cluster --name management --region us-east-1 --with-oidc --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml";
pub const NAMESPACE: &str = "kubectl --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml --context admin@management.us-east-1.eksctl.io create namespace iam";
pub const APPLY: &str = "kubectl --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml --context admin@management.us-east-1.eksctl.io -n iam apply -f agent.yaml --server-side --field-manager gitops-iam --force-conflicts";
pub const ANNOTATE_AGENT: &str = "kubectl --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml --context admin@management.us-east-1.eksctl.io -n iam annotate serviceaccount gitops-agent eks.amazonaws.com/role-arn=arn:aws:iam::123456789012:role/ArgoCD --overwrite";
pub const PATCH_DEPLOYMENT: &str = "kubectl --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml --context admin@management.us-east-1.eksctl.io -n iam patch deployment gitops-agent --type=merge -p '{\"spec\":{\"template\":{\"spec\":{\"securityContext\":{\"fsGroup\":999}}}}}'";
pub const ANNOTATE_CONTROLLER: &str = "kubectl --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml --context admin@management.us-east-1.eksctl.io -n iam annotate serviceaccount argocd-application-controller eks.amazonaws.com/role-arn=arn:aws:iam::123456789012:role/ArgoCD --overwrite";
pub const PATCH_STATEFULSET: &str = "kubectl --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml --context admin@management.us-east-1.eksctl.io -n iam patch statefulset argocd-application-controller --type=merge -p '{\"spec\":{\"template\":{\"spec\":{\"securityContext\":{\"fsGroup\":999}}}}}'";
pub const AGENT_ROLE: &str = "aws iam create-role --role-name ArgoCD --assume-role-policy-document file://.gitops-iam/policies/trust-ArgoCD.json --description 'IAM Role to be used by Harness GitOps Agent to gain AWS access' --region us-east-1";
pub const POLICY: &str = "aws iam put-role-policy --role-name ArgoCD --policy-name AssumeRole --policy-document file://.gitops-iam/policies/policy-ArgoCD-AssumeRole.json --region us-east-1";
pub const DEPLOYER_ROLE: &str = "aws iam create-role --role-name Deployer --assume-role-policy-document file://.gitops-iam/policies/trust-Deployer.json --description 'IAM Role to be used by AWS to Deploy in the testing cluster' --region us-east-1";
pub const TESTING_CLUSTER: &str = "eksctl create cluster --name testing --region us-east-1 --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-testing.yaml";
pub const MAPPING: &str = "eksctl create iamidentitymapping --cluster testing --region us-east-1 --arn arn:aws:iam::123456789012:role/Deployer --username deployer --group system:masters --no-duplicate-arns";

/// The mutating commands of `up --agent-manifest agent.yaml` on a fresh account, in the order
/// the dry-run script prints them. A real run issues each exactly once, but runs independent
/// branches concurrently: only [`FRESH_UP_DEPENDENCIES`] orders them.
pub const FRESH_UP: [&str; 12] = [
    MGMT_CLUSTER,
    TESTING_CLUSTER,
    NAMESPACE,
    APPLY,
    ANNOTATE_AGENT,
    PATCH_DEPLOYMENT,
    ANNOTATE_CONTROLLER,
    PATCH_STATEFULSET,
    AGENT_ROLE,
    POLICY,
    DEPLOYER_ROLE,
    MAPPING,
];

/// What must have finished before what starts, in `up` (and `agent patch`), as
/// `src/steps/up.rs` has it:
/// ```text
///   mgmt cluster ──┬─> namespace -> apply ─┬─> annotate gitops-agent -> patch its deployment
///                  │                       └─> annotate the controller -> patch its statefulset
///                  └─> agent role ──┬─> inline policy
///                                   └─> Deployer role (IAM rejects a trust naming a missing role)
///   testing cluster ──(and the Deployer role)──> mapping
/// ```
/// Nothing else is ordered: the agent patch needs only the agent role's ARN, as a string, so it
/// neither waits for the role nor stops when the role fails; the testing cluster waits for
/// nothing. [`assert_fresh_up_order`] adds that no kubectl call at all comes before the mgmt
/// cluster. (Other reads may come early: they are read ahead.)
pub const FRESH_UP_DEPENDENCIES: [(&str, &str); 11] = [
    (MGMT_CLUSTER, NAMESPACE),
    (NAMESPACE, APPLY),
    (APPLY, ANNOTATE_AGENT),
    (APPLY, ANNOTATE_CONTROLLER),
    (ANNOTATE_AGENT, PATCH_DEPLOYMENT),
    (ANNOTATE_CONTROLLER, PATCH_STATEFULSET),
    (MGMT_CLUSTER, AGENT_ROLE),
    (AGENT_ROLE, POLICY),
    (AGENT_ROLE, DEPLOYER_ROLE),
    (TESTING_CLUSTER, MAPPING),
    (DEPLOYER_ROLE, MAPPING),
];

/// The commands of a run from a fresh account respect every real dependency: each pair of
/// [`FRESH_UP_DEPENDENCIES`] of which both ran is in order, and every kubectl call (reads too:
/// the kubeconfig it names is written by the creation) comes after a mgmt cluster creation.
/// Which commands ran is for the caller to check ([`Output::mutating_unordered`]).
#[track_caller]
pub fn assert_fresh_up_order(out: &Output) {
    let commands = out.commands();
    let ran = |needle: &str| commands.iter().any(|c| c.contains(needle));
    for (a, b) in FRESH_UP_DEPENDENCIES {
        if ran(a) && ran(b) {
            out.before(a, b);
        }
    }
    if ran(MGMT_CLUSTER) && ran("kubectl ") {
        out.before(MGMT_CLUSTER, "kubectl ");
    }
}

/// `gitops-iam up --region us-east-1 --agent-manifest agent.yaml`, with the manifest present.
pub fn up_with_manifest() -> Test {
    Test::new()
        .write("agent.yaml", AGENT_MANIFEST)
        .args(["up", "--region", REGION, "--agent-manifest", "agent.yaml"])
}

#[test]
fn up_with_agent_manifest_on_a_fresh_account_runs_exactly_these_commands_in_dependency_order() {
    let out = up_with_manifest().rules(fresh_account()).run();
    out.success().mutating_unordered(&FRESH_UP).no_unmatched_reads();
    assert_fresh_up_order(&out);
    // The policy files the commands point at are the rendered documents, byte for byte.
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out.file(".gitops-iam/policies/trust-ArgoCD.json")).unwrap(),
        agent_trust()
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out.file(".gitops-iam/policies/policy-ArgoCD-AssumeRole.json"))
            .unwrap(),
        assume_policy()
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out.file(".gitops-iam/policies/trust-Deployer.json")).unwrap(),
        deployer_trust()
    );
}

/// `up --agent-manifest` on a fresh account with every `program` call whose argv contains
/// `held` held back until a call containing one of `until` took effect, each in turn (plain
/// words only: the fake matches the unquoted argv). The harness fails a run whose wait gave up,
/// so the run passes only if nothing `until` names waits for `held`: that proves two steps
/// independent whatever the timing, where a run left to itself shows just one ordering.
#[track_caller]
fn fresh_up_holding((program, held): (&str, &str), until: &[&str]) {
    let rules = until.iter().fold(fresh_account(), |rules, u| {
        // Generous: on a loaded machine the steps it waits for can take a while.
        rules.with(Rule::wait(program, held, u).wait_seconds(30))
    });
    let out = up_with_manifest().rules(rules).run();
    out.success().mutating_unordered(&FRESH_UP);
    assert_fresh_up_order(&out);
    for u in until {
        out.before(u, &format!("{program} {held}"));
    }
}

#[test]
fn up_patches_the_agent_without_waiting_for_the_agent_role() {
    fresh_up_holding(
        ("aws", "iam create-role --role-name ArgoCD "),
        &[
            "patch deployment gitops-agent ",
            "patch statefulset argocd-application-controller ",
        ],
    );
}

#[test]
fn up_creates_the_deployer_role_without_waiting_for_the_inline_policy() {
    fresh_up_holding(
        ("aws", "iam put-role-policy "),
        &["aws iam create-role --role-name Deployer "],
    );
}

#[test]
fn up_creates_the_deployer_role_without_waiting_for_the_testing_cluster() {
    fresh_up_holding(
        ("eksctl", "create cluster --name testing "),
        &["aws iam create-role --role-name Deployer "],
    );
}

#[test]
fn up_creates_the_testing_cluster_without_waiting_for_the_mgmt_cluster() {
    fresh_up_holding(
        ("eksctl", "create cluster --name management "),
        &["eksctl create cluster --name testing "],
    );
}

#[test]
fn up_on_a_converged_account_changes_nothing() {
    let out = up_with_manifest().rules(converged_account()).run();
    out.success()
        .no_mutations()
        .no_unmatched_reads()
        .stderr_lacks("drift in")
        .stderr_contains("0 of them mutating");
}

#[test]
fn up_with_account_id_on_a_converged_account_never_asks_sts() {
    let out = up_with_manifest()
        .rules(converged_account())
        .args(["--account-id", ACCOUNT])
        .run();
    out.success().no_mutations();
    let sts: Vec<String> = out.commands().into_iter().filter(|c| c.contains(" sts ")).collect();
    assert_lines_eq("sts calls", &sts, NOTHING, &out.context());
}

#[test]
fn mgmt_on_a_converged_account_changes_nothing() {
    Test::new()
        .rules(converged_account())
        .args(["mgmt", "--region", REGION])
        .run()
        .success()
        .no_mutations()
        .no_unmatched_reads();
}

#[test]
fn agent_patch_on_a_converged_account_changes_nothing() {
    Test::new()
        .rules(converged_account())
        .args(["agent", "patch", "--region", REGION])
        .run()
        .success()
        .no_mutations()
        .no_unmatched_reads();
}

#[test]
fn testing_on_a_converged_account_changes_nothing() {
    Test::new()
        .rules(converged_account())
        .args(["testing", "--region", REGION])
        .run()
        .success()
        .no_mutations()
        .no_unmatched_reads();
}

#[test]
fn trust_policy_returned_url_encoded_counts_as_converged() {
    let encoded = percent_encoding::utf8_percent_encode(&agent_trust().to_string(), percent_encoding::NON_ALPHANUMERIC)
        .to_string();
    Test::new()
        .rules(
            converged_account()
                .with(Rule::new("aws", "iam get-role --role-name ArgoCD ").json(role("ArgoCD", json!(encoded)))),
        )
        .args(["mgmt", "--region", REGION])
        .run()
        .success()
        .no_mutations();
}

#[test]
fn edited_trust_policy_is_shown_as_a_diff_and_updated_once() {
    // The tutorial's trust: any service account of the namespace, no audience check.
    let edited = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC_PROVIDER}")},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {format!("{OIDC_PROVIDER}:sub"): "system:serviceaccount:iam:*"}}
        }]
    });
    let out = Test::new()
        .rules(
            converged_account().with(Rule::new("aws", "iam get-role --role-name ArgoCD ").json(role("ArgoCD", edited))),
        )
        .args(["mgmt", "--region", REGION])
        .run();
    out.success().mutating(&[
        "aws iam update-assume-role-policy --role-name ArgoCD --policy-document file://.gitops-iam/policies/trust-ArgoCD.json --region us-east-1",
    ]);
    let lines = out.stderr_lines();
    let has = |prefix: &str, text: &str| lines.iter().any(|l| l.starts_with(prefix) && l.contains(text));
    assert!(
        has("drift in trust policy of role ArgoCD", ""),
        "no drift header\n{}",
        out.context()
    );
    assert!(
        has("-", "system:serviceaccount:iam:*"),
        "the old value is not shown as removed\n{}",
        out.context()
    );
    assert!(
        has("+", "system:serviceaccount:iam:gitops-agent"),
        "the new value is not shown as added\n{}",
        out.context()
    );
    assert!(
        has("+", "sts.amazonaws.com"),
        "the audience is not shown as added\n{}",
        out.context()
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out.file(".gitops-iam/policies/trust-ArgoCD.json")).unwrap(),
        agent_trust()
    );
}

#[test]
fn missing_annotation_with_fs_group_set_annotates_and_restarts_without_patching() {
    let out =
        Test::new()
            .rules(converged_account().with(
                Rule::new("kubectl", "get serviceaccount gitops-agent ").json(service_account("gitops-agent", None)),
            ))
            .args(["agent", "patch", "--region", REGION])
            .run();
    out.success().mutating(&[
        &format!("{KUBECTL} -n iam annotate serviceaccount gitops-agent eks.amazonaws.com/role-arn={AGENT_ROLE_ARN} --overwrite"),
        &format!("{KUBECTL} -n iam rollout restart deployment/gitops-agent"),
    ]);
}

#[test]
fn annotation_naming_another_role_is_overwritten_and_the_statefulset_restarted() {
    let out = Test::new()
        .rules(converged_account().with(
            Rule::new("kubectl", "get serviceaccount argocd-application-controller ").json(service_account(
                "argocd-application-controller",
                Some("arn:aws:iam::123456789012:role/OldArgoCD"),
            )),
        ))
        .args(["agent", "patch", "--region", REGION])
        .run();
    out.success().mutating(&[
        &format!("{KUBECTL} -n iam annotate serviceaccount argocd-application-controller eks.amazonaws.com/role-arn={AGENT_ROLE_ARN} --overwrite"),
        &format!("{KUBECTL} -n iam rollout restart statefulset/argocd-application-controller"),
    ]);
}

#[test]
fn missing_fs_group_is_patched_without_a_restart() {
    let out = Test::new()
        .rules(
            converged_account().with(Rule::new("kubectl", "get deployment gitops-agent ").json(workload(
                "deployment",
                "gitops-agent",
                None,
            ))),
        )
        .args(["agent", "patch", "--region", REGION])
        .run();
    out.success().mutating(&[&format!(
        "{KUBECTL} -n iam patch deployment gitops-agent --type=merge -p '{{\"spec\":{{\"template\":{{\"spec\":{{\"securityContext\":{{\"fsGroup\":999}}}}}}}}}}'"
    )]);
}

#[test]
fn duplicate_mapping_is_deleted_then_created_once() {
    let out = Test::new()
        .rules(converged_account().with(
            Rule::new("eksctl", "get iamidentitymapping --cluster testing ").json(json!([
                nodegroup_mapping(),
                deployer_mapping(),
                deployer_mapping()
            ])),
        ))
        .args(["testing", "--region", REGION])
        .run();
    out.success().mutating(&[
        "eksctl delete iamidentitymapping --cluster testing --region us-east-1 --arn arn:aws:iam::123456789012:role/Deployer --all",
        "eksctl create iamidentitymapping --cluster testing --region us-east-1 --arn arn:aws:iam::123456789012:role/Deployer --username deployer --group system:masters --no-duplicate-arns",
    ]);
    assert!(
        out.stderr_lines()
            .iter()
            .any(|l| l.starts_with("drift in identity mappings of")),
        "the duplicate is not reported\n{}",
        out.context()
    );
}

#[test]
fn mapping_with_another_group_is_replaced() {
    let out = Test::new()
        .rules(converged_account().with(
            Rule::new("eksctl", "get iamidentitymapping --cluster testing ").json(json!([
                nodegroup_mapping(),
                mapping(DEPLOYER_ROLE_ARN, "deployer", &["view-only"])
            ])),
        ))
        .args(["testing", "--region", REGION])
        .run();
    out.success().mutating(&[
        "eksctl delete iamidentitymapping --cluster testing --region us-east-1 --arn arn:aws:iam::123456789012:role/Deployer --all",
        "eksctl create iamidentitymapping --cluster testing --region us-east-1 --arn arn:aws:iam::123456789012:role/Deployer --username deployer --group system:masters --no-duplicate-arns",
    ]);
}

#[test]
fn inline_policy_listing_another_deployer_keeps_both_arns() {
    let other = "arn:aws:iam::222222222222:role/Deployer";
    let existing = render(&["policy", "--deployer-role-arn", other]);
    let out = Test::new()
        .rules(
            converged_account()
                .with(Rule::new("aws", "iam get-role-policy --role-name ArgoCD ").json(role_policy(existing))),
        )
        .args(["mgmt", "--region", REGION])
        .run();
    out.success().mutating(&[
        "aws iam put-role-policy --role-name ArgoCD --policy-name AssumeRole --policy-document file://.gitops-iam/policies/policy-ArgoCD-AssumeRole.json --region us-east-1",
    ]);
    let written: serde_json::Value =
        serde_json::from_str(&out.file(".gitops-iam/policies/policy-ArgoCD-AssumeRole.json")).unwrap();
    assert_eq!(
        written["Statement"][0]["Resource"],
        json!([DEPLOYER_ROLE_ARN, other]),
        "{written:#}"
    );
    assert!(
        out.stderr_lines()
            .iter()
            .any(|l| l.starts_with("drift in inline policy AssumeRole of role ArgoCD")),
        "{}",
        out.context()
    );
}

#[test]
fn assume_any_role_replaces_the_deployer_arns_with_a_star() {
    let out = Test::new()
        .rules(converged_account())
        .args(["mgmt", "--region", REGION, "--assume-any-role"])
        .run();
    out.success().mutating(&[
        "aws iam put-role-policy --role-name ArgoCD --policy-name AssumeRole --policy-document file://.gitops-iam/policies/policy-ArgoCD-AssumeRole.json --region us-east-1",
    ]);
    let written: serde_json::Value =
        serde_json::from_str(&out.file(".gitops-iam/policies/policy-ArgoCD-AssumeRole.json")).unwrap();
    assert_eq!(written["Statement"][0]["Resource"], json!("*"));
}

#[test]
fn adopted_mgmt_cluster_without_an_oidc_provider_gets_one() {
    let out = Test::new()
        .rules(
            converged_account()
                .with(Rule::new("aws", "iam list-open-id-connect-providers ").json(oidc_provider_list(false))),
        )
        .args(["mgmt", "--region", REGION])
        .run();
    out.success()
        .mutating(&["eksctl utils associate-iam-oidc-provider --cluster management --approve --region us-east-1"]);
    let lookup = "aws iam list-open-id-connect-providers --region us-east-1 --output json".to_string();
    assert!(out.commands().contains(&lookup), "{}", out.context());
}

#[test]
fn cluster_still_creating_is_waited_for_not_created_again() {
    let mut creating = cluster("testing");
    creating["cluster"]["status"] = json!("CREATING");
    let out = Test::new()
        // CREATING when first read; ACTIVE once the waiter returned, as EKS answers
        .rules(
            converged_account().with(
                Rule::new("aws", "eks describe-cluster --name testing ")
                    .times(1)
                    .json(creating),
            ),
        )
        .args(["testing", "--region", REGION])
        .run();
    out.success().no_mutations();
    assert!(
        out.commands()
            .contains(&"aws eks wait cluster-active --name testing --region us-east-1".to_string()),
        "{}",
        out.context()
    );
}

#[test]
fn up_without_agent_manifest_on_a_fresh_account_stops_before_the_agent_and_names_agent_patch() {
    let out = Test::new()
        .rules(fresh_account())
        .args(["up", "--region", REGION])
        .run();
    out.success()
        .stderr_contains("the Harness GitOps agent is not installed yet")
        .stderr_contains("gitops-iam agent patch");
    // Everything but installing and patching the agent, once each, in dependency order.
    out.mutating_unordered(&[
        MGMT_CLUSTER,
        NAMESPACE,
        AGENT_ROLE,
        POLICY,
        DEPLOYER_ROLE,
        TESTING_CLUSTER,
        MAPPING,
    ]);
    assert_fresh_up_order(&out);
}

#[test]
fn agent_patch_without_the_agent_installed_exits_1_and_says_to_install_it() {
    let mut rules = converged_account();
    for (sa, kind, resource, name) in AGENT_OBJECTS {
        rules = rules
            .with(Rule::new("kubectl", &format!("get serviceaccount {sa} ")).kubectl_not_found("serviceaccounts", sa))
            .with(Rule::new("kubectl", &format!("get {kind} {name} ")).kubectl_not_found(resource, name));
    }
    let out = Test::new()
        .rules(rules)
        .args(["agent", "patch", "--region", REGION])
        .run();
    out.status(1)
        .no_mutations()
        .stderr_contains("the Harness GitOps agent is not installed in namespace iam of cluster management")
        .stderr_contains("serviceaccount/gitops-agent")
        .stderr_contains("Install the agent first, or pass --agent-manifest FILE");
}

#[test]
fn cluster_created_by_another_run_meanwhile_is_used_not_a_failure() {
    // describe said "no cluster"; by the time eksctl ran, another run had created its stack
    // (`mgmt` ran before: the precondition of `testing`)
    let out = Test::new()
        .rules(after_mgmt().with(
            Rule::new("eksctl", "create cluster --name testing ")
                .times(1)
                .eksctl_error("creating CloudFormation stack \"eksctl-testing-cluster\": operation error CloudFormation: CreateStack, https response error StatusCode: 400, RequestID: 1, AlreadyExistsException: Stack [eksctl-testing-cluster] already exists"),
        ))
        .args(["testing", "--region", REGION])
        .run();
    out.success();
    assert!(
        out.stderr
            .contains("cluster testing was created by another run meanwhile: using it"),
        "{}",
        out.context()
    );
}

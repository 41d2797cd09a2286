//! Failures: whichever command fails, the user learns the step, the command (shell form), its
//! exit status, the tool's own words, and that re-running the same command resumes. Every step
//! that does not depend on the failed one still runs (a cluster creation is never abandoned
//! halfway), and nothing that depends on it runs.

use crate::converge::*;
use crate::fakes::*;
use crate::harness::{NOTHING, Output, Test, assert_lines_eq};

const HINT: &str = "hint: fix the cause, then re-run the same command: finished steps are skipped";
const KUBECTL_500: &str = "Internal error occurred: etcdserver: request timed out";

/// What a failing step must tell the user.
#[track_caller]
fn assert_names_failure(out: &Output, step: &str, command: &str, status: i32, tool_stderr: &str) {
    out.status(1)
        .stderr_contains(&format!("error: step `{step}` failed: failed to "))
        .stderr_contains(&format!("\n  command: {command}\n"))
        .stderr_contains(&format!("\n  exit status: {status}\n"))
        .stderr_contains(HINT);
    for line in tool_stderr.lines().filter(|l| !l.trim().is_empty()) {
        out.stderr_contains(&format!("\n    {line}"));
    }
    assert!(
        out.stderr_lines()
            .iter()
            .any(|l| l.trim_start().starts_with(step) && l.to_lowercase().contains("failed")),
        "the progress report does not mark `{step}` as failed\n{}",
        out.context()
    );
}

/// Makes `failed` (one of [`FRESH_UP`]) of a fresh `up --agent-manifest` fail once with
/// `failing` (whose pattern must match it), then checks the report, that it was not retried,
/// that exactly the commands depending on it (directly or not, by [`FRESH_UP_DEPENDENCIES`])
/// were `stopped` while every other command of [`FRESH_UP`] ran once (the other branches
/// finish), and that what ran respects every dependency. The failure is transient (a second
/// attempt would succeed), so a silent retry would show.
#[track_caller]
fn fail_at(failed: &str, failing: Rule, step: &str, command: &str, stopped: &[&str]) -> Output {
    assert!(FRESH_UP.contains(&failed), "not a command of FRESH_UP: {failed}");
    // What the test names is what the dependency graph says: the two cannot drift apart.
    let mut dependents = vec![failed];
    while let Some((_, b)) = FRESH_UP_DEPENDENCIES
        .iter()
        .find(|(a, b)| dependents.contains(a) && !dependents.contains(b))
    {
        dependents.push(b);
    }
    let (mut named, mut derived) = (stopped.to_vec(), dependents[1..].to_vec());
    named.sort();
    derived.sort();
    assert_eq!(named, derived, "stopped is not what depends on the failed command");
    let out = up_with_manifest()
        .rules(fresh_account().with(failing.clone().times(1)))
        .run();
    let (status, tool_stderr) = failing.answer();
    assert_names_failure(&out, step, command, status, &tool_stderr);
    let tried = out.mutating_commands().iter().filter(|c| *c == failed).count();
    assert_eq!(tried, 1, "the failing command ran {tried} times\n{}", out.context());
    let ran: Vec<&str> = FRESH_UP.into_iter().filter(|c| !stopped.contains(c)).collect();
    out.mutating_unordered(&ran);
    assert_fresh_up_order(&out);
    out
}

/// No call at all of `program` (reads included).
#[track_caller]
fn assert_no_calls_of(out: &Output, program: &str) {
    let calls: Vec<String> = out
        .calls
        .iter()
        .filter(|c| c.program == program)
        .map(super::harness::Call::line)
        .collect();
    assert_lines_eq(&format!("{program} calls"), &calls, NOTHING, &out.context());
}

fn kubectl_500(contains: &str) -> Rule {
    Rule::new("kubectl", contains).kubectl_error("InternalError", KUBECTL_500)
}

#[test]
fn failing_mgmt_cluster_creation_stops_the_mgmt_side_and_the_mapping_but_not_the_testing_cluster() {
    let out = fail_at(
        MGMT_CLUSTER,
        // (AlreadyExists is not a failure: another run made the cluster, `up` uses it)
        Rule::new("eksctl", "create cluster --name management ")
            .eksctl_error("failed to create cluster \"management\""),
        "mgmt: cluster management",
        "eksctl create cluster --name management --region us-east-1 --with-oidc --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml",
        &[
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
        ],
    );
    // Not even a read: the kubeconfig every kubectl call names comes with the cluster.
    assert_no_calls_of(&out, "kubectl");
}

#[test]
fn failing_agent_role_creation_stops_the_policy_deployer_role_and_mapping_but_not_the_agent_patch() {
    fail_at(
        AGENT_ROLE,
        Rule::new("aws", "iam create-role --role-name ArgoCD ").aws_error(
            "EntityAlreadyExists",
            "CreateRole",
            "Role with name ArgoCD already exists.",
        ),
        "mgmt: role ArgoCD",
        "aws iam create-role --role-name ArgoCD --assume-role-policy-document file://.gitops-iam/policies/trust-ArgoCD.json --description 'IAM Role to be used by Harness GitOps Agent to gain AWS access' --region us-east-1",
        &[POLICY, DEPLOYER_ROLE, MAPPING],
    );
}

#[test]
fn failing_inline_policy_is_reported_and_stops_nothing_else() {
    fail_at(
        POLICY,
        Rule::new("aws", "iam put-role-policy ").aws_error(
            "MalformedPolicyDocument",
            "PutRolePolicy",
            "Syntax errors in policy.",
        ),
        "mgmt: policy AssumeRole",
        "aws iam put-role-policy --role-name ArgoCD --policy-name AssumeRole --policy-document file://.gitops-iam/policies/policy-ArgoCD-AssumeRole.json --region us-east-1",
        NOTHING,
    );
}

#[test]
fn failing_testing_cluster_creation_stops_only_its_mapping() {
    fail_at(
        TESTING_CLUSTER,
        Rule::new("eksctl", "create cluster --name testing ").eksctl_error(
            "creating CloudFormation stack \"eksctl-testing-cluster\": LimitExceededException: Cannot exceed quota for ClustersPerAccount",
        ),
        "testing: cluster testing",
        "eksctl create cluster --name testing --region us-east-1 --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-testing.yaml",
        &[MAPPING],
    );
}

#[test]
fn failing_namespace_creation_stops_the_agent_but_the_deployer_role_finishes() {
    fail_at(
        NAMESPACE,
        kubectl_500("create namespace iam"),
        "agent: namespace iam",
        "kubectl --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml --context admin@management.us-east-1.eksctl.io create namespace iam",
        &[
            APPLY,
            ANNOTATE_AGENT,
            PATCH_DEPLOYMENT,
            ANNOTATE_CONTROLLER,
            PATCH_STATEFULSET,
        ],
    );
}

#[test]
fn failing_manifest_apply_stops_the_agent_patch_only() {
    fail_at(
        APPLY,
        kubectl_500("apply -f agent.yaml"),
        "agent: installed",
        APPLY,
        &[ANNOTATE_AGENT, PATCH_DEPLOYMENT, ANNOTATE_CONTROLLER, PATCH_STATEFULSET],
    );
}

#[test]
fn failing_annotation_of_gitops_agent_leaves_the_other_workload_patched() {
    fail_at(
        ANNOTATE_AGENT,
        kubectl_500("annotate serviceaccount gitops-agent "),
        "agent: deployment gitops-agent",
        "kubectl --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml --context admin@management.us-east-1.eksctl.io -n iam annotate serviceaccount gitops-agent 'eks.amazonaws.com/role-arn=arn:aws:iam::123456789012:role/ArgoCD' --overwrite",
        &[PATCH_DEPLOYMENT],
    );
}

#[test]
fn failing_fs_group_patch_of_the_deployment_is_reported() {
    fail_at(
        PATCH_DEPLOYMENT,
        kubectl_500("patch deployment gitops-agent "),
        "agent: deployment gitops-agent",
        "kubectl --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml --context admin@management.us-east-1.eksctl.io -n iam patch deployment gitops-agent '--type=merge' -p '{\"spec\":{\"template\":{\"spec\":{\"securityContext\":{\"fsGroup\":999}}}}}'",
        NOTHING,
    );
}

#[test]
fn failing_annotation_of_the_application_controller_stops_only_its_fs_group_patch() {
    fail_at(
        ANNOTATE_CONTROLLER,
        kubectl_500("annotate serviceaccount argocd-application-controller "),
        "agent: statefulset argocd-application-controller",
        "kubectl --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml --context admin@management.us-east-1.eksctl.io -n iam annotate serviceaccount argocd-application-controller 'eks.amazonaws.com/role-arn=arn:aws:iam::123456789012:role/ArgoCD' --overwrite",
        &[PATCH_STATEFULSET],
    );
}

#[test]
fn failing_fs_group_patch_of_the_statefulset_is_reported() {
    fail_at(
        PATCH_STATEFULSET,
        kubectl_500("patch statefulset argocd-application-controller "),
        "agent: statefulset argocd-application-controller",
        "kubectl --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml --context admin@management.us-east-1.eksctl.io -n iam patch statefulset argocd-application-controller '--type=merge' -p '{\"spec\":{\"template\":{\"spec\":{\"securityContext\":{\"fsGroup\":999}}}}}'",
        NOTHING,
    );
}

#[test]
fn failing_deployer_role_creation_is_reported_and_stops_only_the_mapping() {
    // Not a propagation error: fails at once (`Invalid principal` is waited out: below).
    fail_at(
        DEPLOYER_ROLE,
        Rule::new("aws", "iam create-role --role-name Deployer ").aws_error(
            "LimitExceeded",
            "CreateRole",
            "Cannot exceed quota for RolesPerAccount: 1000",
        ),
        "testing: role Deployer",
        "aws iam create-role --role-name Deployer --assume-role-policy-document file://.gitops-iam/policies/trust-Deployer.json --description 'IAM Role to be used by AWS to Deploy in the testing cluster' --region us-east-1",
        &[MAPPING],
    );
}

/// IAM refuses a trust policy naming a role it has not propagated yet (issue 10, item 1): the
/// refusal is waited out and `up` goes on; another `MalformedPolicyDocument` is not.
#[test]
fn deployer_role_refused_until_iam_propagated_the_agent_role_is_retried_and_up_succeeds() {
    let not_yet = Rule::new("aws", "iam create-role --role-name Deployer ").aws_error(
        "MalformedPolicyDocument",
        "CreateRole",
        "Invalid principal in policy: \"AWS\":\"arn:aws:iam::123456789012:role/ArgoCD\"",
    );
    let out = up_with_manifest().rules(fresh_account().with(not_yet.times(2))).run();
    out.success();
    let tried = out.mutating_commands().iter().filter(|c| *c == DEPLOYER_ROLE).count();
    assert_eq!(tried, 3, "refused twice, then created\n{}", out.context());
    assert!(
        out.stderr
            .contains("waiting for IAM to accept a new role as a principal (create IAM role Deployer: retry 2 in 2s)"),
        "{}",
        out.context()
    );
    out.mutating_unordered(&FRESH_UP_WITH_RETRIES);

    let syntax = Rule::new("aws", "iam create-role --role-name Deployer ").aws_error(
        "MalformedPolicyDocument",
        "CreateRole",
        "Syntax errors in policy.",
    );
    let out = up_with_manifest().rules(fresh_account().with(syntax.times(1))).run();
    out.status(1);
    let tried = out.mutating_commands().iter().filter(|c| *c == DEPLOYER_ROLE).count();
    assert_eq!(tried, 1, "a real error is not retried\n{}", out.context());
}

/// FRESH_UP with the Deployer role's two refused attempts.
const FRESH_UP_WITH_RETRIES: [&str; 14] = {
    let mut all = [DEPLOYER_ROLE; 14];
    let mut i = 0;
    while i < FRESH_UP.len() {
        all[i] = FRESH_UP[i];
        i += 1;
    }
    all
};

#[test]
fn failing_identity_mapping_is_reported_with_the_eksctl_error() {
    fail_at(
        MAPPING,
        Rule::new("eksctl", "create iamidentitymapping ")
            .eksctl_error("found existing mappings with same arn \"arn:aws:iam::123456789012:role/Deployer\""),
        "testing: access for Deployer in testing",
        "eksctl create iamidentitymapping --cluster testing --region us-east-1 --arn arn:aws:iam::123456789012:role/Deployer --username deployer --group system:masters --no-duplicate-arns",
        NOTHING,
    );
}

#[test]
fn failing_describe_cluster_read_exits_1_naming_the_command() {
    let failing = Rule::new("aws", "eks describe-cluster --name management ").aws_error(
        "AccessDeniedException",
        "DescribeCluster",
        "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: eks:DescribeCluster on resource: arn:aws:eks:us-east-1:123456789012:cluster/management",
    );
    let out = up_with_manifest().rules(fresh_account().with(failing.clone())).run();
    let (status, stderr) = failing.answer();
    assert_names_failure(
        &out,
        "mgmt: cluster management",
        "aws eks describe-cluster --name management --region us-east-1 --output json",
        status,
        &stderr,
    );
    // A read that fails is not "not found": the cluster is not created over it, and nothing
    // that needs it runs (the mapping waits for the Deployer role); the testing cluster does not
    // need it and is created.
    out.mutating(&[TESTING_CLUSTER]);
    assert_no_calls_of(&out, "kubectl");
}

#[test]
fn failing_kubectl_read_exits_1_naming_the_command() {
    let failing = Rule::new("kubectl", "get namespace iam ").kubectl_error(
        "Forbidden",
        "namespaces \"iam\" is forbidden: User \"dev\" cannot get resource \"namespaces\" in API group \"\" in the namespace \"iam\"",
    );
    let out = up_with_manifest().rules(fresh_account().with(failing.clone())).run();
    let (status, stderr) = failing.answer();
    assert_names_failure(
        &out,
        "agent: namespace iam",
        "kubectl --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml --context admin@management.us-east-1.eksctl.io get namespace iam -o json",
        status,
        &stderr,
    );
    let kubectl_mutations: Vec<String> = out
        .mutating_commands()
        .into_iter()
        .filter(|c| c.starts_with("kubectl"))
        .collect();
    assert_lines_eq("kubectl mutations", &kubectl_mutations, NOTHING, &out.context());
}

#[test]
fn failing_credentials_stop_the_run_before_any_change() {
    let out =
        up_with_manifest()
            .rules(fresh_account().with(
                Rule::new("aws", "sts get-caller-identity").exit(255).stderr(
                    "Unable to locate credentials. You can configure credentials by running \"aws configure\".\n",
                ),
            ))
            .run();
    out.status(1)
        .no_mutations()
        .stderr_contains("failed to read the AWS account id")
        .stderr_contains("  command: aws sts get-caller-identity --region us-east-1 --query Account --output text\n")
        .stderr_contains("  exit status: 255\n")
        .stderr_contains("    Unable to locate credentials.")
        .stderr_contains(HINT);
}

#[test]
fn unreadable_tool_output_exits_1_naming_the_command() {
    let out = Test::new()
        .rules(
            converged_account()
                .with(Rule::new("aws", "iam get-role --role-name ArgoCD ").stdout("<html>oops</html>\n")),
        )
        .args(["mgmt", "--region", REGION])
        .run();
    out.status(1)
        .no_mutations()
        .stderr_contains("step `mgmt: role ArgoCD` failed")
        .stderr_contains(
            "could not understand the output of `aws iam get-role --role-name ArgoCD --region us-east-1 --output json`",
        );
}

#[test]
fn failed_cluster_is_not_used_and_the_message_says_what_to_do() {
    let mut failed = cluster("testing");
    failed["cluster"]["status"] = serde_json::json!("FAILED");
    let out = Test::new()
        .rules(converged_account().with(Rule::new("aws", "eks describe-cluster --name testing ").json(failed)))
        .args(["testing", "--region", REGION])
        .run();
    out.status(1)
        .no_mutations()
        .stderr_contains("step `testing: cluster testing` failed")
        .stderr_contains("EKS cluster testing is FAILED")
        .stderr_contains("eksctl delete cluster --name testing");
}

#[test]
fn missing_eksctl_exits_1_with_an_install_hint_before_any_command_runs() {
    up_with_manifest()
        .rules(fresh_account())
        .without("eksctl")
        .run()
        .status(1)
        .no_calls()
        .stderr_contains("`eksctl` is not installed or not on PATH")
        .stderr_contains("hint: install eksctl: https://eksctl.io/installation/");
}

#[test]
fn missing_kubectl_stops_up_but_not_mgmt() {
    up_with_manifest()
        .rules(fresh_account())
        .without("kubectl")
        .run()
        .status(1)
        .no_calls()
        .stderr_contains("`kubectl` is not installed or not on PATH")
        .stderr_contains("install kubectl: https://kubernetes.io/docs/tasks/tools/");
    Test::new()
        .rules(converged_account())
        .without("kubectl")
        .args(["mgmt", "--region", REGION])
        .run()
        .success()
        .no_mutations();
}

/// A profile with `cli_error_format = json` (aws CLI v2) turns "does not exist" into a JSON
/// document without the `An error occurred (CODE)` line, and `cli_auto_prompt = on` would make
/// every call prompt: every aws child gets both conventions pinned, whatever the profile says,
/// so a fresh `up` behaves exactly as with CLI v1.
#[test]
fn aws_cli_v2_error_format_and_auto_prompt_of_the_profile_are_pinned() {
    for format in ["json", "yaml", "text", "enhanced"] {
        let out = up_with_manifest()
            .rules(fresh_account())
            .write(
                "aws-config",
                &format!("[default]\ncli_error_format = {format}\ncli_auto_prompt = on\n"),
            )
            .env("AWS_CONFIG_FILE", "aws-config")
            .env("FAKE_AWS_CLI", "2")
            .run();
        out.success().mutating_unordered(&FRESH_UP).no_unmatched_reads();
        let log = std::fs::read_to_string(out.work_dir().parent().unwrap().join("log.jsonl")).unwrap();
        for entry in log
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        {
            if entry["program"] == "aws" || entry["program"] == "kubectl" {
                assert_eq!(entry["env"]["AWS_CLI_ERROR_FORMAT"], "legacy", "{entry}");
                assert_eq!(entry["env"]["AWS_CLI_AUTO_PROMPT"], "off", "{entry}");
            }
        }
    }
}

//! Access entries: with `--cluster-access access-entry` the Deployer role gets its Kubernetes
//! access from an EKS access entry with the cluster admin policy (cluster scope) instead of an
//! aws-auth identity mapping: created on a fresh account, left alone when converged, repaired
//! with the fewest commands, removed by `down`, checked by `verify`. eksctl's identity mappings
//! are never touched in this mode.

use crate::converge::{FRESH_UP, up_with_manifest};
use crate::fakes::*;
use crate::harness::{NOTHING, Output, Test, assert_lines_eq};
use serde_json::{Value, json};

const ADMIN_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const MODE: [&str; 2] = ["--cluster-access", "access-entry"];

const CREATE_ENTRY: &str = "aws eks create-access-entry --cluster-name testing --region us-east-1 --principal-arn arn:aws:iam::123456789012:role/Deployer --type STANDARD --username deployer";
const ASSOCIATE: &str = "aws eks associate-access-policy --cluster-name testing --region us-east-1 --principal-arn arn:aws:iam::123456789012:role/Deployer --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy --access-scope type=cluster";
const DELETE_ENTRY: &str = "aws eks delete-access-entry --cluster-name testing --region us-east-1 --principal-arn arn:aws:iam::123456789012:role/Deployer";
const DESCRIBE_ENTRY: &str = "aws eks describe-access-entry --cluster-name testing --principal-arn arn:aws:iam::123456789012:role/Deployer --region us-east-1 --output json";
const LIST_POLICIES: &str = "aws eks list-associated-access-policies --cluster-name testing --principal-arn arn:aws:iam::123456789012:role/Deployer --region us-east-1 --output json";

/// `describe-access-entry` when there is none (what EKS answers).
fn no_entry() -> Rule {
    Rule::new("aws", "eks describe-access-entry ").aws_error(
        "ResourceNotFoundException",
        "DescribeAccessEntry",
        "The specified access entry resource can't be found.",
    )
}

/// `describe-access-entry --output json` of the Deployer role's entry.
fn entry(groups: &[&str]) -> Rule {
    Rule::new("aws", "eks describe-access-entry ").json(json!({"accessEntry": {
        "clusterName": "testing",
        "principalArn": DEPLOYER_ROLE_ARN,
        "kubernetesGroups": groups,
        "accessEntryArn": format!("arn:aws:eks:{REGION}:{ACCOUNT}:access-entry/testing/role/{ACCOUNT}/Deployer/0ac9f0b1-1111-2222-3333-444455556666"),
        "createdAt": "2026-01-01T00:00:00Z",
        "modifiedAt": "2026-01-01T00:00:00Z",
        "tags": {},
        "username": "deployer",
        "type": "STANDARD"
    }}))
}

/// One associated access policy, as `list-associated-access-policies` prints it.
fn associated(policy_arn: &str, scope: Value) -> Value {
    json!({
        "policyArn": policy_arn,
        "accessScope": scope,
        "associatedAt": "2026-01-01T00:00:00Z",
        "modifiedAt": "2026-01-01T00:00:00Z"
    })
}

fn cluster_scope() -> Value {
    json!({"type": "cluster", "namespaces": []})
}

/// `list-associated-access-policies --output json` with these policies.
fn policies(list: Vec<Value>) -> Rule {
    Rule::new("aws", "eks list-associated-access-policies ").json(json!({
        "clusterName": "testing",
        "principalArn": DEPLOYER_ROLE_ARN,
        "associatedAccessPolicies": list
    }))
}

/// `list-associated-access-policies` when the entry does not exist.
fn no_policies() -> Rule {
    Rule::new("aws", "eks list-associated-access-policies ").aws_error(
        "ResourceNotFoundException",
        "ListAssociatedAccessPolicies",
        "The specified access entry resource can't be found.",
    )
}

/// A converged account where the Deployer role has its access entry with the admin policy (the
/// aws-auth mapping of the converged account is still there, and must not matter).
fn converged() -> Rules {
    converged_account()
        .with(entry(&[]))
        .with(policies(vec![associated(ADMIN_POLICY, cluster_scope())]))
}

/// `gitops-iam testing --region us-east-1 --cluster-access access-entry`.
fn testing() -> Test {
    Test::new().args(["testing", "--region", REGION]).args(MODE)
}

#[track_caller]
fn assert_no_identity_mapping_calls(out: &Output) {
    let eksctl: Vec<String> = out
        .commands()
        .into_iter()
        .filter(|c| c.contains("iamidentitymapping"))
        .collect();
    assert_lines_eq("identity mapping calls", &eksctl, NOTHING, &out.context());
}

// ---------------------------------------------------------------------------------------------
// Creating and converging

/// Every call containing `a` took effect before every call containing `b`, and both ran.
#[track_caller]
fn assert_before(out: &Output, a: &str, b: &str) {
    let commands = out.commands();
    let last_a = commands.iter().rposition(|c| c.contains(a));
    let first_b = commands.iter().position(|c| c.contains(b));
    match (last_a, first_b) {
        (Some(i), Some(j)) if i < j => {}
        _ => panic!(
            "expected every call containing {a:?} before every call containing {b:?}\n{}",
            out.context()
        ),
    }
}

#[test]
fn up_on_a_fresh_account_creates_the_entry_and_grants_cluster_admin() {
    let out = up_with_manifest()
        .args(MODE)
        .rules(fresh_account().with(no_entry()).with(agent_pods()))
        .run();
    // Every command of a fresh `up`, with the access entry in place of the identity mapping.
    let mut want: Vec<&str> = FRESH_UP
        .iter()
        .copied()
        .filter(|c| !c.contains("iamidentitymapping"))
        .collect();
    assert_eq!(want.len(), FRESH_UP.len() - 1);
    want.extend([CREATE_ENTRY, ASSOCIATE]);
    let mut have = out.mutating_commands();
    have.sort();
    want.sort();
    out.success().no_unmatched_reads();
    assert_lines_eq("mutating commands (sorted)", &have, &want, &out.context());
    // An access entry needs its cluster and its role (EKS rejects a principal that does not
    // exist); the policy needs the entry.
    assert_before(
        &out,
        "eksctl create cluster --name testing ",
        "eks describe-access-entry ",
    );
    assert_before(
        &out,
        "iam create-role --role-name Deployer ",
        "eks create-access-entry ",
    );
    assert_before(&out, "eks create-access-entry ", "eks associate-access-policy ");
    assert_no_identity_mapping_calls(&out);
    // No group unless one is asked for: the access policy grants the rights.
    assert!(
        !out.commands().iter().any(|c| c.contains("--kubernetes-groups")),
        "{}",
        out.context()
    );
}

#[test]
fn testing_on_a_fresh_account_runs_exactly_these_commands() {
    // `mgmt` ran (the precondition of `testing`): the agent role and its cluster exist.
    let out = testing().rules(after_mgmt().with(no_entry())).run();
    // The cluster and the Deployer role are made side by side; the entry needs both.
    out.success()
        .mutating_unordered(&[
            "eksctl create cluster --name testing --region us-east-1 --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-testing.yaml",
            "aws iam create-role --role-name Deployer --assume-role-policy-document file://.gitops-iam/policies/trust-Deployer.json --description 'IAM Role to be used by AWS to Deploy in the testing cluster' --region us-east-1",
            CREATE_ENTRY,
            ASSOCIATE,
            "aws iam put-role-policy --role-name ArgoCD --policy-name AssumeRole --policy-document file://.gitops-iam/policies/policy-ArgoCD-AssumeRole.json --region us-east-1",
        ])
        .before("eksctl create cluster --name testing", "create-access-entry")
        .before("iam create-role --role-name Deployer", "create-access-entry")
        .before("create-access-entry", "associate-access-policy")
        .before("associate-access-policy", "put-role-policy")
        .no_unmatched_reads();
    assert_no_identity_mapping_calls(&out);
    assert!(
        out.commands().contains(&DESCRIBE_ENTRY.to_string()),
        "{}",
        out.context()
    );
    // A new entry has no policies yet: nothing to list.
    assert!(
        !out.commands().contains(&LIST_POLICIES.to_string()),
        "{}",
        out.context()
    );
}

#[test]
fn exact_argv_of_the_two_commands() {
    let out = testing().rules(converged_account().with(no_entry())).run();
    out.success();
    let argv = out.mutating_argv();
    let deployer = DEPLOYER_ROLE_ARN.to_string();
    assert_eq!(
        argv,
        vec![
            [
                "aws",
                "eks",
                "create-access-entry",
                "--cluster-name",
                "testing",
                "--region",
                REGION,
                "--principal-arn",
                &deployer,
                "--type",
                "STANDARD",
                "--username",
                "deployer",
            ]
            .map(str::to_string)
            .to_vec(),
            [
                "aws",
                "eks",
                "associate-access-policy",
                "--cluster-name",
                "testing",
                "--region",
                REGION,
                "--principal-arn",
                &deployer,
                "--policy-arn",
                ADMIN_POLICY,
                "--access-scope",
                "type=cluster",
            ]
            .map(str::to_string)
            .to_vec(),
        ],
        "{}",
        out.context()
    );
}

#[test]
fn converged_access_entry_changes_nothing() {
    let out = testing().rules(converged()).run();
    out.success().no_mutations().no_unmatched_reads();
    assert_no_identity_mapping_calls(&out);
    let commands = out.commands();
    for read in [DESCRIBE_ENTRY, LIST_POLICIES] {
        assert!(commands.contains(&read.to_string()), "no `{read}`\n{}", out.context());
    }
}

#[test]
fn up_on_a_converged_account_with_access_entry_changes_nothing() {
    let out = up_with_manifest()
        .args(MODE)
        .rules(converged().with(agent_pods()))
        .run();
    out.success().no_mutations().no_unmatched_reads();
    assert_no_identity_mapping_calls(&out);
}

#[test]
fn entry_without_the_admin_policy_gets_only_the_policy() {
    let out = testing().rules(converged().with(policies(vec![]))).run();
    out.success().mutating(&[ASSOCIATE]);
    assert_no_identity_mapping_calls(&out);
}

#[test]
fn entry_with_another_policy_gets_the_admin_policy_too() {
    let out = testing()
        .rules(converged().with(policies(vec![associated(
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
            cluster_scope(),
        )])))
        .run();
    out.success().mutating(&[ASSOCIATE]);
}

#[test]
fn admin_policy_scoped_to_namespaces_is_widened_to_the_cluster() {
    let out = testing()
        .rules(converged().with(policies(vec![associated(
            ADMIN_POLICY,
            json!({"type": "namespace", "namespaces": ["default"]}),
        )])))
        .run();
    out.success().mutating(&[ASSOCIATE]);
}

#[test]
fn system_group_is_rejected_with_exit_2_naming_the_rule() {
    let out = testing()
        .args(["--identity-group", "system:masters"])
        .rules(fresh_account())
        .run();
    out.status(2)
        .no_calls()
        .stderr_contains("invalid value \"system:masters\" for --identity-group")
        .stderr_contains("access entries reject groups starting with system:");
    assert!(out.stdout.is_empty(), "{}", out.context());
}

#[test]
fn system_group_from_the_environment_is_rejected_too() {
    testing()
        .env("GITOPS_IAM_IDENTITY_GROUP", "system:authenticated")
        .rules(fresh_account())
        .run()
        .status(2)
        .no_calls()
        .stderr_contains("invalid value \"system:authenticated\" for --identity-group");
}

#[test]
fn custom_group_is_passed_as_kubernetes_groups() {
    let out = testing()
        .args(["--identity-group", "my-deployers"])
        .rules(converged_account().with(no_entry()))
        .run();
    out.success()
        .mutating(&[&format!("{CREATE_ENTRY} --kubernetes-groups my-deployers"), ASSOCIATE]);
}

#[test]

fn entry_without_the_asked_for_group_is_repaired() {
    let out = testing()
        .args(["--identity-group", "my-deployers"])
        .rules(converged())
        .run();
    out.success();
    let repaired = out
        .mutating_commands()
        .iter()
        .any(|c| c.starts_with("aws eks ") && c.contains("--kubernetes-groups my-deployers"));
    assert!(repaired, "the group was not added to the entry\n{}", out.context());
}

#[test]
fn aws_auth_mode_on_the_same_account_does_not_touch_access_entries() {
    let out = Test::new()
        .args(["testing", "--region", REGION])
        .rules(converged())
        .run();
    out.success().no_mutations();
    assert!(
        !out.commands()
            .iter()
            .any(|c| c.contains("access-entry") || c.contains("access-polic")),
        "{}",
        out.context()
    );
}

#[test]
fn failing_create_access_entry_is_reported_and_no_policy_is_associated() {
    let out = testing()
        .rules(converged_account().with(no_entry()).with(
            Rule::new("aws", "eks create-access-entry ").aws_error(
                "InvalidRequestException",
                "CreateAccessEntry",
                "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.",
            ),
        ))
        .run();
    out.status(1)
        .stderr_contains("step `testing: access for Deployer in testing` failed")
        .stderr_contains("failed to create an access entry in cluster testing")
        .stderr_contains(&format!("  command: {CREATE_ENTRY}\n"))
        .stderr_contains("authentication mode must be set")
        .mutating(&[CREATE_ENTRY]);
}

// ---------------------------------------------------------------------------------------------
// Authentication modes: EKS refuses access entries on a CONFIG_MAP cluster (InvalidRequestException)
// and ignores aws-auth on an API one. The mode is read (describe-cluster) before acting.

const ENABLE: &str = "aws eks update-cluster-config --name testing --access-config authenticationMode=API_AND_CONFIG_MAP --region us-east-1 --query update.id --output text";
/// The same command as the error message shows it (bash-quoted).
const ENABLE_SHOWN: &str = "aws eks update-cluster-config --name testing --access-config 'authenticationMode=API_AND_CONFIG_MAP' --region us-east-1 --query update.id --output text";
const UPDATE_ID: &str = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

/// `describe-cluster` of the testing cluster in authentication mode `mode`.
fn testing_in_mode(mode: &str) -> Rule {
    let mut c = cluster("testing");
    c["cluster"]["accessConfig"]["authenticationMode"] = json!(mode);
    Rule::new("aws", "eks describe-cluster --name testing ").json(c)
}

/// EKS's answer to an access-entry call on a CONFIG_MAP cluster.
fn refused_in_config_map_mode(contains: &str, operation: &str) -> Rule {
    Rule::new("aws", contains).aws_error(
        "InvalidRequestException",
        operation,
        "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.",
    )
}

/// A CONFIG_MAP testing cluster as EKS shows it: access-entry calls are refused.
fn config_map_cluster() -> Rules {
    converged_account()
        .with(refused_in_config_map_mode(
            "eks describe-access-entry ",
            "DescribeAccessEntry",
        ))
        .with(refused_in_config_map_mode(
            "eks create-access-entry ",
            "CreateAccessEntry",
        ))
        .with(refused_in_config_map_mode(
            "eks list-associated-access-policies ",
            "ListAssociatedAccessPolicies",
        ))
        .with(testing_in_mode("CONFIG_MAP"))
}

#[test]
fn access_entry_on_a_config_map_cluster_fails_before_acting_and_names_the_one_way_fix() {
    let out = testing().rules(config_map_cluster()).run();
    out.status(1)
        .stderr_contains("step `testing: access for Deployer in testing` failed")
        .stderr_contains("has authentication mode CONFIG_MAP, which refuses access entries")
        .stderr_contains(&format!("\n  {ENABLE_SHOWN}\n"))
        .stderr_contains("--enable-access-entries")
        .stderr_contains("one-way change")
        .no_mutations();
    assert!(
        !out.commands()
            .iter()
            .any(|c| c.contains("access-entry") || c.contains("access-polic")),
        "an access-entry call was made on a CONFIG_MAP cluster\n{}",
        out.context()
    );
}

#[test]
fn enable_access_entries_switches_a_config_map_cluster_waits_for_the_update_then_creates_the_entry() {
    let rules = converged_account()
        .with(no_entry())
        .with(no_policies())
        .with(testing_in_mode("CONFIG_MAP"))
        .with(Rule::new("aws", "eks update-cluster-config ").stdout(format!("{UPDATE_ID}\n")))
        .with(
            Rule::new(
                "aws",
                &format!("eks describe-update --name testing --update-id {UPDATE_ID} "),
            )
            .stdout("Successful\n"),
        );
    let out = testing().arg("--enable-access-entries").rules(rules).run();
    out.success()
        .stderr_contains("one way: CONFIG_MAP cannot be restored")
        .mutating(&[ENABLE, CREATE_ENTRY, ASSOCIATE]);
    assert_before(&out, "eks describe-update ", "eks create-access-entry ");
}

#[test]
fn aws_auth_on_an_api_only_cluster_fails_instead_of_writing_a_mapping_eks_ignores() {
    let out = Test::new()
        .args(["testing", "--region", REGION])
        .rules(converged_account().with(testing_in_mode("API")))
        .run();
    out.status(1)
        .stderr_contains("has authentication mode API: it ignores the aws-auth ConfigMap")
        .stderr_contains("--cluster-access access-entry")
        // aws-auth's default group: access entries would reject the suggested command
        .stderr_lacks("--identity-group system:masters")
        .no_mutations();
}

#[test]
fn verify_fails_access_entries_on_a_config_map_cluster_with_the_fix() {
    let out = verify().rules(config_map_cluster().with(agent_pods())).run();
    out.status(1).no_mutations();
    let line = check_line(&out, ACCESS_CHECK);
    assert!(line.starts_with("FAIL "), "{line}\n{}", out.context());
    assert!(
        line.contains("authentication mode CONFIG_MAP: EKS refuses access entries"),
        "{line}"
    );
    out.stdout_contains("--enable-access-entries")
        .stdout_contains(ENABLE_SHOWN);
}

#[test]
fn verify_fails_aws_auth_on_an_api_only_cluster_even_when_the_mapping_is_there() {
    let out = Test::new()
        .args(["verify", "--region", REGION])
        .rules(converged_account().with(testing_in_mode("API")).with(agent_pods()))
        .run();
    out.status(1).no_mutations();
    let line = check_line(&out, ACCESS_CHECK);
    assert!(line.starts_with("FAIL "), "{line}\n{}", out.context());
    assert!(line.contains("authentication mode API: EKS ignores aws-auth"), "{line}");
    out.stdout_contains("--cluster-access access-entry");
    assert!(
        !out.stdout.contains("--identity-group system:masters"),
        "the fix keeps aws-auth's group, which access entries reject\n{}",
        out.context()
    );
}

// ---------------------------------------------------------------------------------------------
// down

/// Rules for what `down --keep-clusters` reads about the roles' policies.
pub fn role_policy_listings(rules: Rules) -> Rules {
    rules
        .with(Rule::new("aws", "iam list-role-policies --role-name Deployer ").json(json!({"PolicyNames": []})))
        .with(
            Rule::new("aws", "iam list-attached-role-policies --role-name Deployer ")
                .json(json!({"AttachedPolicies": []})),
        )
        .with(
            Rule::new("aws", "iam list-role-policies --role-name ArgoCD ").json(json!({"PolicyNames": ["AssumeRole"]})),
        )
        .with(
            Rule::new("aws", "iam list-attached-role-policies --role-name ArgoCD ")
                .json(json!({"AttachedPolicies": []})),
        )
}

fn down() -> Test {
    Test::new()
        .args(["down", "--yes", "--keep-clusters", "--region", REGION])
        .args(MODE)
}

const ROLE_DELETIONS: [&str; 3] = [
    "aws iam delete-role --role-name Deployer --region us-east-1",
    "aws iam delete-role-policy --role-name ArgoCD --policy-name AssumeRole --region us-east-1",
    "aws iam delete-role --role-name ArgoCD --region us-east-1",
];

#[test]
fn down_deletes_the_access_entry_not_a_mapping() {
    let out = down().rules(role_policy_listings(converged())).run();
    let mut want = vec![DELETE_ENTRY];
    want.extend(ROLE_DELETIONS);
    out.success().mutating(&want).no_unmatched_reads();
    assert_no_identity_mapping_calls(&out);
    assert!(
        out.commands().contains(&DESCRIBE_ENTRY.to_string()),
        "{}",
        out.context()
    );
}

#[test]
fn down_without_an_access_entry_deletes_only_the_roles() {
    let out = down().rules(role_policy_listings(converged().with(no_entry()))).run();
    out.success().mutating(&ROLE_DELETIONS).no_unmatched_reads();
}

// ---------------------------------------------------------------------------------------------
// verify

/// `kubectl get pods -n iam -o json`: one pod per agent workload, started after the annotation.
pub fn agent_pods() -> Rule {
    let pods: Vec<Value> = AGENT_OBJECTS
        .iter()
        .map(|(sa, _, _, name)| {
            json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": format!("{name}-0"), "namespace": "iam"},
                "spec": {
                    "serviceAccountName": sa,
                    "containers": [{
                        "name": name,
                        "image": "harness/gitops-agent:v0",
                        "env": [
                            {"name": "AWS_ROLE_ARN", "value": AGENT_ROLE_ARN},
                            {"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"}
                        ]
                    }]
                }
            })
        })
        .collect();
    Rule::new("kubectl", "get pods -n iam ").json(json!({"apiVersion": "v1", "kind": "List", "items": pods}))
}

fn verify() -> Test {
    Test::new().args(["verify", "--region", REGION]).args(MODE)
}

/// The line of `verify`'s report for `check`.
#[track_caller]
fn check_line<'a>(out: &'a Output, check: &str) -> &'a str {
    out.stdout
        .lines()
        .find(|l| {
            l.split_whitespace()
                .skip(1)
                .collect::<Vec<_>>()
                .join(" ")
                .starts_with(check)
        })
        .unwrap_or_else(|| panic!("no check {check:?}\n{}", out.context()))
}

const ACCESS_CHECK: &str = "Deployer access to testing";

#[test]
fn verify_reports_the_access_entry_ok() {
    let out = verify().rules(converged().with(agent_pods())).run();
    out.success().no_mutations().no_unmatched_reads();
    let line = check_line(&out, ACCESS_CHECK);
    assert!(line.starts_with("ok "), "{line}\n{}", out.context());
    assert!(line.contains("access entry with AmazonEKSClusterAdminPolicy"), "{line}");
    assert_no_identity_mapping_calls(&out);
    out.stdout_contains(" 0 failed,");
}

#[test]
fn verify_reports_a_missing_access_entry_as_failed() {
    let out = verify()
        .rules(converged().with(no_entry()).with(no_policies()).with(agent_pods()))
        .run();
    out.status(1).no_mutations();
    let line = check_line(&out, ACCESS_CHECK);
    assert!(line.starts_with("FAIL "), "{line}\n{}", out.context());
    assert!(
        line.contains("no access entry with AmazonEKSClusterAdminPolicy"),
        "{line}"
    );
    out.stdout_contains("fix: gitops-iam testing --region us-east-1 ")
        .stdout_contains(" 1 failed,");
}

#[test]
fn verify_reports_an_entry_without_the_admin_policy_as_failed() {
    let out = verify()
        .rules(converged().with(policies(vec![])).with(agent_pods()))
        .run();
    out.status(1);
    assert!(check_line(&out, ACCESS_CHECK).starts_with("FAIL "), "{}", out.context());
}

/// (HEAD 282fdf5 reported this ok: verify accepted the admin policy at any scope.)
#[test]
fn verify_reports_a_namespace_scoped_admin_policy_as_failed() {
    let out = verify()
        .rules(
            converged()
                .with(policies(vec![associated(
                    ADMIN_POLICY,
                    json!({"type": "namespace", "namespaces": ["default"]}),
                )]))
                .with(agent_pods()),
        )
        .run();
    out.status(1);
    assert!(check_line(&out, ACCESS_CHECK).starts_with("FAIL "), "{}", out.context());
}

#[test]
fn verify_dry_run_lists_the_access_policy_read() {
    let out = Test::new()
        .no_fakes()
        .args(["verify", "--region", REGION, "--dry-run"])
        .args(MODE)
        .run();
    out.success().no_calls();
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("aws eks list-associated-access-policies --cluster-name testing ")),
        "{}",
        out.context()
    );
    assert!(!out.stdout.contains("iamidentitymapping"), "{}", out.context());
}

//! `--cluster-access access-entry` against the sandbox (moto with EKS access entries, see
//! docs/sandbox.md): `up` gives the Deployer an access entry with cluster-admin instead of an
//! aws-auth mapping and otherwise builds what the aws-auth mode builds; a re-run changes
//! nothing; `verify` checks the entry, `verify --live` reaches the cluster through it (issue 13),
//! and the printed fix repairs a lost policy, which `--live` sees as no admin; `down
//! --keep-clusters` deletes the entry.

use super::live::{assert_live_fails, assert_live_green};
use super::sandbox::Sandbox;
use super::support::*;
use super::*;
use serde_json::{Value, json};

const CLUSTER_ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const ACCESS_ENTRY: [&str; 2] = ["--cluster-access", "access-entry"];

/// `aws eks ARGS --cluster-name testing` as JSON.
fn eks(sb: &Sandbox, args: &[&str]) -> Value {
    let mut argv = vec!["eks"];
    argv.extend_from_slice(args);
    argv.extend(["--cluster-name", "testing", "--region", REGION, "--output", "json"]);
    sb.aws(&argv).success().json()
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

#[test]
fn up_with_access_entries_grants_the_deployer_cluster_admin_verify_checks_it_and_down_removes_it() {
    let sb = Sandbox::start();
    sb.gitops_iam(&up_args(&ACCESS_ENTRY)).success();

    // the Deployer's access entry, with cluster-admin over the whole cluster
    assert_eq!(
        eks(&sb, &["list-access-entries"])["accessEntries"],
        json!([DEPLOYER_ROLE_ARN])
    );
    let entry = &eks(&sb, &["describe-access-entry", "--principal-arn", DEPLOYER_ROLE_ARN])["accessEntry"];
    assert_eq!(entry["type"], "STANDARD", "{entry:#}");
    assert_eq!(entry["username"], "deployer", "{entry:#}");
    let associated = eks(
        &sb,
        &["list-associated-access-policies", "--principal-arn", DEPLOYER_ROLE_ARN],
    );
    let policies = associated["associatedAccessPolicies"].as_array().unwrap();
    assert_eq!(policies.len(), 1, "{associated:#}");
    assert_eq!(policies[0]["policyArn"], CLUSTER_ADMIN);
    assert_eq!(policies[0]["accessScope"]["type"], "cluster");

    // the rest is the state of the aws-auth mode's `up`, and aws-auth keeps only eksctl's nodes
    let reference = std::fs::read_to_string(format!("{REFERENCE_DIR}/up.json")).unwrap();
    let mut expected: Value = serde_json::from_str(&reference).unwrap();
    let mappings = expected["kubernetes"][MGMT_ACCOUNT]["testing"]["identity_mappings"]
        .as_array_mut()
        .unwrap();
    let mapped = mappings.len();
    mappings.retain(|m| m["rolearn"] != DEPLOYER_ROLE_ARN);
    assert_eq!(mappings.len(), mapped - 1, "the reference maps the Deployer once");
    let snap = sb.snapshot();
    assert!(
        snap.normalized == expected,
        "access-entry mode differs from aws-auth mode beyond the Deployer's access:\n{}",
        diff(&pretty(&expected), &pretty(&snap.normalized))
    );

    // converged
    let mark = sb.mark();
    sb.gitops_iam(&up_args(&ACCESS_ENTRY)).success();
    assert_eq!(mutating_lines(&sb.mutating_since(mark)), Vec::<String>::new());

    // registered, then every check green; the access check names the entry
    let h = harness_args(&sb);
    let with_harness: Vec<&str> = ACCESS_ENTRY.iter().copied().chain(h.iter().copied()).collect();
    sb.gitops_iam(&up_args(&with_harness)).success();
    let verify = args(&["verify"], &with_harness);
    let live = args(&["verify", "--live"], &with_harness);
    let checks = parse_report(&assert_live_green(&sb, &live, "after up"));
    let access = checks.iter().find(|c| c.name == "Deployer access to testing").unwrap();
    assert_eq!(
        access.detail,
        "access entry with AmazonEKSClusterAdminPolicy (cluster scope)"
    );

    // the policy disassociated by hand: exactly that check fails, and its fix repairs it
    sb.aws(&[
        "eks",
        "disassociate-access-policy",
        "--cluster-name",
        "testing",
        "--principal-arn",
        DEPLOYER_ROLE_ARN,
        "--policy-arn",
        CLUSTER_ADMIN,
        "--region",
        REGION,
    ])
    .success();
    let fix = assert_live_fails(
        &sb,
        &live,
        "Deployer access to testing",
        "no access entry with AmazonEKSClusterAdminPolicy at cluster scope",
        Some(("API of testing", "can-i '*' '*' --all-namespaces: no")),
        "gitops-iam testing --region us-east-1 ",
    );
    assert!(fix.ends_with(" --cluster-access access-entry"), "{fix}");
    run_fix(&sb, &fix, &[]);
    assert_verify_green(&sb, &verify, &format!("after `{fix}`"));

    // down --keep-clusters: the entry goes, eksctl's node mapping stays
    sb.gitops_iam(&args(&["down", "--yes", "--keep-clusters"], &with_harness))
        .success();
    assert_eq!(eks(&sb, &["list-access-entries"])["accessEntries"], json!([]));
    let left = testing_cluster_mappings(&sb);
    assert_eq!(left.as_array().map(Vec::len), Some(1), "{left:#}");
    assert!(
        left[0]["rolearn"].as_str().unwrap().contains("NodeInstanceRole"),
        "{left:#}"
    );
}

//! Clusters that are not simply there or absent: still CREATING (an earlier run was cut off and
//! CloudFormation goes on), created by another run meanwhile, FAILED. `up` waits for what will
//! finish, never acts on what it read before the wait, and names the clean-up for what will not.

use super::sandbox::Sandbox;
use super::support::*;
use super::*;

/// Starts `eksctl create cluster --name NAME` as a cut-off run leaves it: eksctl gives up after
/// one second (`--timeout 1s`, as a killed `up` would stop it) while the cluster stays CREATING
/// for DELAY seconds, as a CloudFormation stack does once submitted.
fn leave_cluster_creating(sb: &Sandbox, name: &str, delay: &str) {
    let kubeconfig = sb.scratch("kubeconfig");
    let out = sb.run_with(
        "eksctl",
        &[
            "create",
            "cluster",
            "--name",
            name,
            "--region",
            REGION,
            "--timeout",
            "1s",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
        ],
        &[("SANDBOX_CREATE_DELAY", delay)],
    );
    out.code(1);
    assert_eq!(
        describe_cluster(sb, name, None)["status"],
        "CREATING",
        "{}",
        out.describe()
    );
}

/// The read-ahead lists the testing cluster's aws-auth mappings while the cluster is CREATING,
/// which eksctl refuses (`CanOperate`). That answer must not outlive the wait for ACTIVE.
#[test]
fn up_while_the_testing_cluster_is_creating_waits_and_converges() {
    let sb = Sandbox::start();
    leave_cluster_creating(&sb, "testing", "6");

    let out = sb.gitops_iam(&up_args(&[]));
    out.success();
    assert!(
        out.stderr
            .contains("cluster testing is CREATING: waiting until it is ACTIVE"),
        "{}",
        out.describe()
    );
    let mutating = mutating_lines(&sb.mutating_commands());
    assert!(
        !mutating
            .iter()
            .skip(1)
            .any(|l| l.contains("create cluster --name testing")),
        "up created the testing cluster again:\n{}",
        mutating.join("\n")
    );
    sb.snapshot().assert_matches_reference("up", false);
}

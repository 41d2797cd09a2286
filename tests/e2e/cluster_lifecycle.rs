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
    leave_cluster_creating(&sb, "testing", "20");

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
    // eksctl was cut off before the nodegroup stack: `up` made the nodegroup
    assert!(
        mutating
            .iter()
            .any(|l| l.contains("eksctl create nodegroup --cluster testing")),
        "up did not create the missing nodegroup:\n{}",
        mutating.join("\n")
    );
    assert_eq!(nodegroups(&sb, "testing").len(), 1);
    sb.snapshot().assert_matches_reference("up", false);
}

/// `aws eks list-nodegroups` of NAME.
fn nodegroups(sb: &Sandbox, name: &str) -> Vec<Value> {
    let out = sb.aws(&[
        "eks",
        "list-nodegroups",
        "--cluster-name",
        name,
        "--region",
        REGION,
        "--output",
        "json",
    ]);
    out.success().json()["nodegroups"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// `eksctl create cluster` with SANDBOX_CREATE_STOP=STOP: it fails as eksctl does when a stack fails.
fn create_stopped(sb: &Sandbox, name: &str, stop: &str, with_oidc: bool) {
    let kubeconfig = sb.scratch("kubeconfig");
    let mut argv = vec!["create", "cluster", "--name", name, "--region", REGION, "--kubeconfig"];
    argv.push(kubeconfig.to_str().unwrap());
    if with_oidc {
        argv.push("--with-oidc");
    }
    let out = sb.run_with("eksctl", &argv, &[("SANDBOX_CREATE_STOP", stop)]);
    out.code(1);
    assert!(
        out.stderr
            .contains(&format!("Error: failed to create cluster \"{name}\"")),
        "{}",
        out.describe()
    );
}

/// eksctl made the control plane, then its nodegroup stack failed: an ACTIVE cluster without
/// nodes, where the agent's pods would never start. `up` creates the nodegroup first.
#[test]
fn up_creates_the_nodegroup_a_cut_off_creation_did_not_make() {
    let sb = Sandbox::start();
    create_stopped(&sb, "management", "after-control-plane", true);
    assert_eq!(describe_cluster(&sb, "management", None)["status"], "ACTIVE");
    assert!(nodegroups(&sb, "management").is_empty());

    let mark = sb.mark();
    let out = sb.gitops_iam(&up_args(&[]));
    out.success();
    let mutating = mutating_lines(&sb.mutating_since(mark));
    let nodegroup = mutating
        .iter()
        .position(|l| l.contains("eksctl create nodegroup --cluster management"))
        .unwrap_or_else(|| panic!("no nodegroup created:\n{}\n{}", mutating.join("\n"), out.describe()));
    let agent = mutating
        .iter()
        .position(|l| l.contains("apply -f"))
        .unwrap_or_else(|| panic!("no agent install:\n{}", mutating.join("\n")));
    assert!(
        nodegroup < agent,
        "the agent was installed before the nodegroup:\n{}",
        mutating.join("\n")
    );
    assert_eq!(nodegroups(&sb, "management").len(), 1);
    sb.snapshot().assert_matches_reference("up", false);

    // converged: nothing more to create
    let mark = sb.mark();
    sb.gitops_iam(&up_args(&[])).success();
    assert_eq!(mutating_lines(&sb.mutating_since(mark)), Vec::<String>::new());
}

/// The control-plane stack failed and rolled back: `eksctl-N-cluster` exists, the EKS cluster
/// does not, and `eksctl create cluster` answers AlreadyExists at once. `up` names the clean-up
/// (with the region) instead of the raw error; after it, `up` converges.
#[test]
fn up_names_the_clean_up_of_a_rolled_back_stack_then_converges() {
    let sb = Sandbox::start();
    create_stopped(&sb, "testing", "control-plane", false);
    let out = sb.aws(&["eks", "describe-cluster", "--name", "testing", "--region", REGION]);
    out.code(255);

    let out = sb.gitops_iam(&up_args(&[]));
    out.code(1);
    let advice = "eksctl delete cluster --name testing --wait --region us-east-1";
    assert!(
        out.stderr
            .contains("the CloudFormation stack eksctl-testing-cluster exists but EKS cluster testing does not")
            && out.stderr.contains(advice),
        "{}",
        out.describe()
    );
    sb.run("bash", &["-c", advice]).success();
    sb.gitops_iam(&up_args(&[])).success();
    sb.snapshot().assert_matches_reference("up", false);
}

/// A FAILED cluster can never be used: `up` says so at once with the exact delete command.
#[test]
fn up_on_a_failed_cluster_names_the_delete_command_with_its_region() {
    let sb = Sandbox::start();
    sb.gitops_iam(&up_args(&[])).success();
    mark_status(&sb, "testing", "FAILED");
    let out = sb.gitops_iam(&up_args(&[]));
    out.code(1);
    assert!(
        out.stderr.contains(
            "EKS cluster testing is FAILED: it cannot be used. Delete it (this also removes what eksctl made for it), then run this command again:\n  eksctl delete cluster --name testing --wait --region us-east-1"
        ),
        "{}",
        out.describe()
    );
}

/// Shows STATUS for cluster NAME from now on (the sandbox's tag; EKS gets there by itself).
pub fn mark_status(sb: &Sandbox, name: &str, status: &str) {
    let arn = describe_cluster(sb, name, None)["arn"].as_str().unwrap().to_owned();
    let tag = format!("sandbox.gitops-iam/status={status}");
    sb.aws(&[
        "eks",
        "tag-resource",
        "--resource-arn",
        &arn,
        "--tags",
        &tag,
        "--region",
        REGION,
    ])
    .success();
    assert_eq!(describe_cluster(sb, name, None)["status"], status);
}

/// `verify` fails the cluster check of a cluster without a nodegroup (nothing can run on it),
/// and its fix, `gitops-iam mgmt`, makes the nodegroup again.
#[test]
fn verify_fails_a_cluster_without_a_nodegroup_and_its_fix_makes_one() {
    let sb = Sandbox::start();
    let h = harness_args(&sb);
    sb.gitops_iam(&up_args(&h)).success();
    let verify = args(&["verify"], &h);
    assert_verify_green(&sb, &verify, "after up");
    let ng = nodegroups(&sb, "management")[0].as_str().unwrap().to_owned();
    sb.aws(&[
        "eks",
        "delete-nodegroup",
        "--cluster-name",
        "management",
        "--nodegroup-name",
        &ng,
        "--region",
        REGION,
    ])
    .success();
    let fix = assert_verify_fails_only(
        &sb,
        &verify,
        "management cluster",
        "management is ACTIVE but has no nodegroup",
        "gitops-iam mgmt --region us-east-1 ",
    );
    run_fix(&sb, &fix, &[]);
    assert_eq!(nodegroups(&sb, "management").len(), 1);
    assert_verify_green(&sb, &verify, &format!("after `{fix}`"));
}

/// The laptop dies while `up` creates both clusters: `up` and every eksctl it started are killed,
/// CloudFormation goes on creating the control planes (SANDBOX_CREATE_DELAY), nothing makes the
/// nodegroups or the OIDC provider. The next `up` waits for both clusters and converges.
#[test]
fn up_killed_during_cluster_creation_then_rerun_waits_and_converges() {
    let sb = Sandbox::start();
    let mut first = sb.spawn_gitops_iam_with(&up_args(&[]), &[("SANDBOX_CREATE_DELAY", "20")]);
    let started = std::time::Instant::now();
    // CloudFormation has the stacks and EKS the control planes: from here on they finish alone
    let creating = |name: &str| {
        let out = sb.aws(&[
            "eks",
            "describe-cluster",
            "--name",
            name,
            "--region",
            REGION,
            "--output",
            "json",
        ]);
        out.code == Some(0) && out.json()["cluster"]["status"] == "CREATING"
    };
    while !(creating("management") && creating("testing")) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(90),
            "up did not start both cluster creations: {:#?}",
            sb.commands().iter().map(|c| c.line.clone()).collect::<Vec<_>>()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let group = format!("-{}", first.id());
    let killed = std::process::Command::new("kill")
        .args(["-KILL", "--", &group])
        .status()
        .unwrap();
    assert!(killed.success());
    first.wait().unwrap();
    for name in ["management", "testing"] {
        assert_eq!(describe_cluster(&sb, name, None)["status"], "CREATING");
    }

    let mark = sb.mark();
    let out = sb.gitops_iam(&up_args(&[]));
    out.success();
    let mutating = mutating_lines(&sb.mutating_since(mark));
    assert!(
        !mutating.iter().any(|l| l.contains("eksctl create cluster")),
        "the rerun created a cluster again:\n{}",
        mutating.join("\n")
    );
    for name in ["management", "testing"] {
        assert_eq!(nodegroups(&sb, name).len(), 1, "{}", out.describe());
    }
    sb.snapshot().assert_matches_reference("up", false);
}

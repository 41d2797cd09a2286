//! IAM as AWS runs it (issue 10, items 1, 2, 7): the sandbox refuses a trust policy naming a
//! role that does not exist, or was created seconds ago (`SANDBOX_IAM_PROPAGATION_DELAY`), and
//! EKS refuses such a role as an access-entry principal (docs/sandbox.md, "Real-world
//! behaviour"). gitops-iam waits out exactly those errors, bounded; a command run before what it
//! needs stops before changing anything; and a role shared by two environments keeps both.

use super::sandbox::Sandbox;
use super::support::get_role;
use super::*;

fn attempts(sb: &Sandbox, prefix: &str) -> usize {
    sb.mutating_commands()
        .iter()
        .filter(|c| c.line.starts_with(prefix))
        .count()
}

#[test]
fn up_waits_out_iam_and_eks_propagation_then_a_rerun_changes_nothing() {
    // Long enough that both the Deployer role (trusting the new ArgoCD role) and its access
    // entry are refused at first, whatever the machine's speed.
    let sb = Sandbox::start_with(&[("SANDBOX_IAM_PROPAGATION_DELAY", "6")]);
    let out = sb.gitops_iam(&up_args(&["--cluster-access", "access-entry"]));
    out.success();
    let err = &out.stderr;
    for awaited in [
        "waiting for IAM to accept a new role as a principal (create IAM role Deployer",
        "waiting for EKS to accept a new role as an access-entry principal (create an access entry",
    ] {
        assert!(
            err.contains(awaited),
            "no progress line {awaited:?}:\n{}",
            out.describe()
        );
    }
    assert!(
        attempts(&sb, "aws iam create-role --role-name Deployer ") >= 2,
        "create-role Deployer was not retried:\n{}",
        mutating_lines(&sb.mutating_commands()).join("\n")
    );
    assert!(attempts(&sb, "aws eks create-access-entry ") >= 2);
    // the role the sandbox refused at first exists once, trusting ArgoCD
    let role = get_role(&sb, "Deployer");
    let trust = &role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"];
    assert_eq!(trust, AGENT_ROLE_ARN, "{role:#}");

    let mark = sb.mark();
    sb.gitops_iam(&up_args(&["--cluster-access", "access-entry"])).success();
    assert_eq!(mutating_lines(&sb.commands_since(mark)), Vec::<String>::new());
}

#[test]
fn a_propagation_wait_is_bounded_by_propagation_timeout() {
    let sb = Sandbox::start_with(&[("SANDBOX_IAM_PROPAGATION_DELAY", "300")]);
    let started = std::time::Instant::now();
    let out = sb.gitops_iam(&up_args(&["--propagation-timeout", "3s"]));
    out.code(1);
    let err = &out.stderr;
    assert!(err.contains("failed to create IAM role Deployer"), "{}", out.describe());
    assert!(err.contains("--propagation-timeout 3s"), "{}", out.describe());
    assert!(
        err.contains(r#"Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:role/ArgoCD""#),
        "the service's own error is shown:\n{}",
        out.describe()
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(120),
        "{}",
        out.describe()
    );
}

#[test]
fn commands_run_before_what_they_need_stop_before_changing_anything_naming_what_to_run() {
    let sb = Sandbox::start();
    let cases: [(&[&str], &str, &str); 3] = [
        (&["testing"], "IAM role ArgoCD", "gitops-iam mgmt "),
        (
            &["agent", "patch", "--agent-manifest", AGENT_MANIFEST],
            "EKS cluster management",
            "gitops-iam mgmt ",
        ),
        (
            &["register", "--to", "argocd"],
            "EKS cluster testing",
            "gitops-iam testing ",
        ),
    ];
    for (command, missing, run_first) in cases {
        let mut args = command.to_vec();
        args.extend(["--region", REGION]);
        let out = sb.gitops_iam(&args);
        out.code(1);
        assert!(
            out.stderr.contains(missing) && out.stderr.contains("not exist yet"),
            "{command:?} does not name {missing}:\n{}",
            out.describe()
        );
        assert!(
            out.stderr.contains(run_first),
            "{command:?} does not say to run {run_first:?} first:\n{}",
            out.describe()
        );
    }
    assert_eq!(
        mutating_lines(&sb.mutating_commands()),
        Vec::<String>::new(),
        "a command changed something before failing on its precondition"
    );
}

fn argocd_trust(sb: &Sandbox) -> Value {
    get_role(sb, "ArgoCD")["AssumeRolePolicyDocument"].clone()
}

fn providers(trust: &Value) -> Vec<String> {
    trust["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["Principal"]["Federated"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn two_environments_sharing_the_role_names_do_not_cut_each_other_off() {
    let sb = Sandbox::start();
    let b: &[&str] = &["--mgmt-cluster", "management-b", "--testing-cluster", "testing-b"];
    sb.gitops_iam(&up_args(&[])).success();
    let a_provider = providers(&argocd_trust(&sb));
    assert_eq!(a_provider.len(), 1);

    // environment B: other clusters, the same ArgoCD and Deployer roles
    let out = sb.gitops_iam(&up_args(b));
    out.success();
    assert!(
        out.stderr
            .contains("drift in trust policy of role ArgoCD (keeping 1 statement(s) for other principals"),
        "the diff does not say what is kept:\n{}",
        out.describe()
    );
    let both = providers(&argocd_trust(&sb));
    assert_eq!(both.len(), 2, "{both:?}");
    assert_eq!(both[0], a_provider[0], "A's statement keeps its place");

    // both environments verify, and A's re-run changes nothing
    let mut verify_b = vec!["verify", "--region", REGION];
    verify_b.extend_from_slice(b);
    sb.gitops_iam(&verify_b).success();
    sb.gitops_iam(&["verify", "--region", REGION]).success();
    let mark = sb.mark();
    sb.gitops_iam(&up_args(&[])).success();
    assert_eq!(mutating_lines(&sb.commands_since(mark)), Vec::<String>::new());

    // --replace-trust makes the document A's alone: B is cut off, as asked
    sb.gitops_iam(&up_args(&["--replace-trust"])).success();
    assert_eq!(providers(&argocd_trust(&sb)), a_provider);
    let out = sb.gitops_iam(&verify_b);
    out.code(1);
    assert!(out.stdout.contains("ArgoCD trust"), "{}", out.describe());
}

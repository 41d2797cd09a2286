//! `--plan` against a live sandbox: the observations run for real, nothing mutating does, and the
//! script it prints is what is left to do. (`e2e::drift` checks that a plan of drift lists
//! exactly the commands of the repair and that a converged environment plans nothing.)

use super::sandbox::Sandbox;
use super::*;

/// The command lines of a plan's script: what it runs, without the header, the waiting helper
/// and the lines that only capture values.
fn script_commands(script: &str) -> Vec<&str> {
    script
        .lines()
        .filter(|l| {
            ["aws ", "eksctl ", "kubectl ", "curl ", "wait_out_propagation "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .collect()
}

#[test]
fn plan_after_a_fault_half_way_lists_what_is_left_and_its_script_finishes_up() {
    let sb = Sandbox::start();
    let up = up_args(&["--to", "argocd"]);
    let plan: Vec<&str> = up.iter().copied().chain(["--plan", "--detailed-exitcode"]).collect();

    // the testing cluster's creation fails: the management side is done, the testing side not
    let failed = sb.gitops_iam_with(&up, &[("SANDBOX_FAIL_MATCH", "create cluster --name testing")]);
    failed.code(1);

    let mark = sb.mark();
    let planned = sb.gitops_iam(&plan);
    planned.code(2);
    let ran = sb.commands_since(mark);
    assert!(!ran.is_empty(), "the plan read nothing:\n{}", planned.describe());
    assert_eq!(
        mutating_lines(&ran),
        Vec::<String>::new(),
        "--plan ran mutating commands:\n{}",
        planned.describe()
    );
    // exactly what is left: the cluster, the Deployer's mapping in it, its Argo CD Secret (whose
    // endpoint and CA exist only once the cluster does, so the script reads them then)
    let script = &planned.stdout;
    assert_eq!(
        script_commands(script),
        [
            "eksctl create cluster --name testing --region us-east-1 --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-testing.yaml &",
            "eksctl create iamidentitymapping --cluster testing --region us-east-1 --arn arn:aws:iam::123456789012:role/Deployer --username deployer --group system:masters --no-duplicate-arns",
            "kubectl --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml --context moto@management.us-east-1.eksctl.io -n iam apply -f .gitops-iam/policies/argocd-secret-testing.json",
        ],
        "{}",
        planned.describe()
    );
    assert!(
        script.contains("TESTING_ENDPOINT=$(aws eks describe-cluster --name testing")
            && script.contains("gitops-iam render argocd-secret")
            && script.contains("--server \"${TESTING_ENDPOINT}\""),
        "{}",
        planned.describe()
    );
    let summary = [
        "Plan: 3 changes:",
        "  testing: cluster testing: create EKS cluster testing",
    ];
    for line in summary {
        assert!(
            stderr_lines(&planned.stderr).contains(&line),
            "no {line:?} on stderr:\n{}",
            planned.describe()
        );
    }

    // the script finishes the job: the tool plans nothing more, the end state is a run's
    std::fs::write(sb.work().join("plan.sh"), script).unwrap();
    let run = sb.run("bash", &["plan.sh"]);
    assert_eq!(
        run.code,
        Some(0),
        "the plan's script failed:\n{}\n--- script\n{script}",
        run.describe()
    );
    let again = sb.gitops_iam(&plan);
    again.code(0);
    assert_eq!(
        again.stdout,
        "",
        "a converged plan prints no script:\n{}",
        again.describe()
    );
    assert!(
        again
            .stderr
            .contains("No changes: the environment matches the settings"),
        "{}",
        again.describe()
    );
    sb.snapshot().assert_matches_reference("up", false);
    let kc = sb.kubeconfig_for("management", None);
    sb.kubectl(&[
        "--kubeconfig",
        kc.to_str().unwrap(),
        "-n",
        "iam",
        "get",
        "secret",
        "testing-cluster",
    ])
    .success();
}

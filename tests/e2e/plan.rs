//! `--plan` against a live sandbox: the observations run for real, nothing mutating does, and the
//! script it prints is what is left to do, for `up` and its parts and for `down`. (`e2e::drift` checks that a plan of drift lists
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

const PLAN: [&str; 2] = ["--plan", "--detailed-exitcode"];

#[test]
fn plan_after_a_fault_half_way_lists_what_is_left_and_its_script_finishes_up_then_down_plans_everything() {
    let sb = Sandbox::start();
    let up = up_args(&["--to", "argocd"]);
    let plan: Vec<&str> = up.iter().copied().chain(PLAN).collect();

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

    // every command plans: nothing left for the parts of `up`, everything for `down`
    let mark = sb.mark();
    for command in [
        &["mgmt"][..],
        &["testing"],
        &["agent", "patch", "--agent-manifest", AGENT_MANIFEST],
        &["register", "--to", "argocd"],
    ] {
        let args: Vec<&str> = command
            .iter()
            .copied()
            .chain(["--region", REGION])
            .chain(PLAN)
            .collect();
        let out = sb.gitops_iam(&args);
        out.code(0);
        assert_eq!(out.stdout, "", "{}", out.describe());
    }
    let down: Vec<&str> = ["down", "--to", "argocd", "--region", REGION]
        .into_iter()
        .chain(PLAN)
        .collect();
    let planned = sb.gitops_iam(&down);
    planned.code(2);
    assert_eq!(
        mutating_lines(&sb.commands_since(mark)),
        Vec::<String>::new(),
        "--plan ran mutating commands:\n{}",
        planned.describe()
    );
    for gone in [
        "  down: registration of testing: delete secret testing-cluster",
        "  down: cluster testing: delete EKS cluster testing",
        "  down: cluster management: delete EKS cluster management",
        "  down: role ArgoCD: delete IAM role ArgoCD",
        "  down: role Deployer: delete IAM role Deployer",
    ] {
        assert!(
            stderr_lines(&planned.stderr).contains(&gone),
            "no {gone:?}:\n{}",
            planned.describe()
        );
    }
    std::fs::write(sb.work().join("down.sh"), &planned.stdout).unwrap();
    let run = sb.run("bash", &["down.sh"]);
    assert_eq!(run.code, Some(0), "the down plan's script failed:\n{}", run.describe());
    sb.gitops_iam(&down).code(0);
    let left = sb.aws(&["eks", "list-clusters", "--region", REGION]).success().json();
    assert_eq!(left["clusters"], serde_json::json!([]), "{left}");
}

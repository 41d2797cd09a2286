//! Drift made with the real clients after `up` is planned (`--plan` lists exactly the repair),
//! reported and repaired by the next `up`, back to exactly the state of a run from scratch; the
//! same drift again is repaired by running the plan's script.

use super::sandbox::Sandbox;
use super::support::{doc_file, get_role, testing_cluster_mappings};
use super::*;

#[test]
fn up_repairs_drifted_trust_annotation_fs_group_and_duplicated_mapping() {
    let sb = Sandbox::start();
    sb.gitops_iam(&up_args(&[])).success();
    let kc = sb.kubeconfig_for("management", None);
    let kc = kc.to_str().unwrap();

    let read_trust = || get_role(&sb, "ArgoCD")["AssumeRolePolicyDocument"].clone();
    let issuer = make_drift(&sb, kc);

    // the drift is real (read directly: cheaper than a snapshot)
    let argocd_trust = read_trust();
    assert_eq!(
        statements(&argocd_trust)[0]["Condition"]["StringLike"][format!("{issuer}:sub")],
        "system:serviceaccount:iam:*",
        "{argocd_trust:#}"
    );
    let objects = sb
        .kubectl(&[
            "--kubeconfig",
            kc,
            "-n",
            "iam",
            "get",
            "serviceaccounts,statefulsets,pods",
            "-o",
            "json",
        ])
        .success()
        .json();
    let items = objects["items"].as_array().unwrap();
    let object = |kind: &str, name: &str| {
        items
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name}"))
    };
    let sa = object("ServiceAccount", "gitops-agent");
    assert!(
        sa["metadata"]["annotations"].get(ROLE_ARN_ANNOTATION).is_none(),
        "{sa:#}"
    );
    let agent_pods: Vec<_> = items
        .iter()
        .filter(|o| o["kind"] == "Pod" && o["spec"]["serviceAccountName"] == "gitops-agent")
        .collect();
    assert!(!agent_pods.is_empty());
    for p in &agent_pods {
        let env = p["spec"]["containers"][0]["env"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(env.iter().all(|e| e["name"] != "AWS_ROLE_ARN"), "{p:#}");
    }
    let sts = object("StatefulSet", "argocd-application-controller");
    assert!(
        sts["spec"]["template"]["spec"]["securityContext"]
            .get("fsGroup")
            .is_none(),
        "{sts:#}"
    );
    let mappings = testing_cluster_mappings(&sb);
    let deployer_mappings = mappings
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["rolearn"] == DEPLOYER_ROLE_ARN)
        .count();
    assert_eq!(deployer_mappings, 2, "{mappings:#}");

    // the plan: reads only, and it lists the repair (checked against it below)
    let mark = sb.mark();
    let plan = sb.gitops_iam(&up_args(&["--plan", "--detailed-exitcode", "--output", "json"]));
    plan.code(2);
    assert_eq!(
        mutating_lines(&sb.commands_since(mark)),
        Vec::<String>::new(),
        "--plan ran mutating commands:\n{}",
        plan.describe()
    );
    let events: Vec<Value> = plan.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut planned: Vec<Vec<String>> = events
        .iter()
        .filter(|e| e["event"] == "planned")
        .map(|e| shlex::split(e["command"].as_str().unwrap()).unwrap())
        .collect();
    let last = events.last().unwrap();
    assert_eq!(
        (&last["event"], last["changes"].as_u64()),
        (&Value::from("plan"), Some(planned.len() as u64))
    );
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "drift" && e["object"] == "trust policy of role ArgoCD"),
        "{}",
        plan.describe()
    );

    // repair
    let mark = sb.mark();
    let out = sb.gitops_iam(&up_args(&[]));
    out.success();
    let err = &out.stderr;
    let lines = stderr_lines(err);

    // the trust policy drift is shown as a diff: the wildcard out, the exact subjects and the
    // audience in; nothing else of the document was kept, so the title says nothing is kept
    assert!(
        err.contains("drift in trust policy of role ArgoCD:"),
        "{}",
        out.describe()
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with('-') && l.contains("system:serviceaccount:iam:*")),
        "no `-` line for the wildcard subject:\n{}",
        out.describe()
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with('+') && l.contains(&format!("{issuer}:aud"))),
        "no `+` line for the audience condition:\n{}",
        out.describe()
    );
    let role = summary_line(err, "mgmt: role ArgoCD");
    assert!(
        role.contains("changed") && role.contains("trust policy"),
        "{role}\n{}",
        out.describe()
    );
    // the annotation is back, and the Deployment, whose template did not change, is restarted
    let agent = summary_line(err, "agent: deployment gitops-agent");
    assert!(
        agent.contains("annotated serviceaccount gitops-agent") && agent.contains("restarted"),
        "{agent}\n{}",
        out.describe()
    );
    // fsGroup is back on the StatefulSet (the patch itself rolls it out)
    let sts = summary_line(err, "agent: statefulset argocd-application-controller");
    assert!(sts.contains("fsGroup 999"), "{sts}\n{}", out.describe());
    // the mapping is single again
    assert!(err.contains("drift in identity mappings"), "{}", out.describe());
    let access = summary_line(err, "testing: access for Deployer in testing");
    assert!(access.contains("changed"), "{access}\n{}", out.describe());

    let repaired = mutating_lines(&sb.commands_since(mark));
    assert!(
        repaired
            .iter()
            .all(|l| !l.contains("create-role") && !l.contains("create cluster")),
        "the repair re-created things:\n{}",
        repaired.join("\n")
    );
    assert!(
        repaired
            .iter()
            .any(|l| l.contains(" rollout restart ") && l.contains("gitops-agent")),
        "no restart of the Deployment:\n{}",
        repaired.join("\n")
    );

    // the plan listed exactly the repair's commands (as argv: the log quotes its own way)
    let mut retried = BTreeSet::new();
    let mut repair: Vec<Vec<String>> = sb
        .mutating_since(mark)
        .into_iter()
        .filter(|c| !waited_out(&c.line) || retried.insert(c.line.clone()))
        .map(|c| c.argv)
        .collect();
    planned.sort();
    repair.sort();
    assert_eq!(planned, repair, "the plan is not the repair\n{}", plan.describe());

    let after = sb.snapshot();
    after.assert_matches_reference("up", false);
    super::up::assert_agent_uses_role(&after, MGMT_ACCOUNT, AGENT_ROLE_ARN);

    // the same drift again, repaired this time by the plan's script; then nothing is left
    make_drift(&sb, kc);
    let plan = sb.gitops_iam(&up_args(&["--plan", "--detailed-exitcode"]));
    plan.code(2);
    std::fs::write(sb.work().join("plan.sh"), &plan.stdout).unwrap();
    let run = sb.run("bash", &["plan.sh"]);
    assert_eq!(
        run.code,
        Some(0),
        "the plan's script failed:\n{}\n--- script\n{}",
        run.describe(),
        plan.stdout
    );
    let converged = sb.gitops_iam(&up_args(&["--plan", "--detailed-exitcode"]));
    converged.code(0);
    assert_eq!(converged.stdout, "", "{}", converged.describe());
    let after = sb.snapshot();
    after.assert_matches_reference("up", false);
    super::up::assert_agent_uses_role(&after, MGMT_ACCOUNT, AGENT_ROLE_ARN);
}

/// Four drifts made with the real clients (each step says which); returns the management
/// cluster's OIDC issuer.
fn make_drift(sb: &Sandbox, kc: &str) -> String {
    let read_trust = || get_role(sb, "ArgoCD")["AssumeRolePolicyDocument"].clone();
    // kubectl in the agent's namespace of the management cluster
    let kube = |args: &[&str]| {
        sb.kubectl(&[&["--kubeconfig", kc, "-n", "iam"][..], args].concat())
            .success();
    };
    // 1. gitops-iam's own statement in the ArgoCD trust loosened to the tutorial's: any service
    //    account of the namespace, no audience (statements for other principals would be kept:
    //    e2e::realworld_iam checks that)
    let mut loosened = read_trust();
    let provider = loosened["Statement"][0]["Principal"]["Federated"]
        .as_str()
        .unwrap()
        .to_owned();
    let issuer = provider.split_once(":oidc-provider/").unwrap().1.to_owned();
    loosened["Statement"][0]["Condition"] = serde_json::json!({
        "StringLike": {format!("{issuer}:sub"): "system:serviceaccount:iam:*"}
    });
    let doc = doc_file(sb, "loosened-trust.json", &loosened);
    sb.aws(&[
        "iam",
        "update-assume-role-policy",
        "--role-name",
        "ArgoCD",
        "--policy-document",
        &doc,
        "--region",
        REGION,
    ])
    .success();

    // 2. the agent's annotation removed, and its pods recreated meanwhile (so they lack the
    //    IRSA environment: only a restart after re-annotating brings it back)
    let annotation_removal = format!("{ROLE_ARN_ANNOTATION}-");
    kube(&["annotate", "sa", "gitops-agent", &annotation_removal]);
    kube(&["rollout", "restart", "deployment/gitops-agent"]);
    kube(&["rollout", "status", "deployment/gitops-agent", "--timeout=120s"]);

    // 3. fsGroup removed from the StatefulSet
    kube(&[
        "patch",
        "statefulset",
        "argocd-application-controller",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/spec/template/spec/securityContext/fsGroup"}]"#,
    ]);
    kube(&[
        "rollout",
        "status",
        "statefulset/argocd-application-controller",
        "--timeout=120s",
    ]);

    // 4. the Deployer mapped a second time (eksctl appends without --no-duplicate-arns)
    sb.eksctl(&[
        "create",
        "iamidentitymapping",
        "--cluster",
        "testing",
        "--region",
        REGION,
        "--arn",
        DEPLOYER_ROLE_ARN,
        "--username",
        "deployer",
        "--group",
        "system:masters",
    ])
    .success();
    issuer
}

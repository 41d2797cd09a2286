//! `up --agent-manifest` from scratch builds the whole IRSA chain, checked link by link through
//! the real clients; a second `up` changes nothing.

use super::faults::FAULT_POINTS;
use super::sandbox::Sandbox;
use super::snapshot::Snapshot;
use super::*;
use serde_json::json;

#[test]
fn up_from_scratch_builds_the_irsa_chain_and_leaves_the_users_kubeconfig_alone() {
    let sb = Sandbox::start();
    let kubeconfig = std::path::PathBuf::from(sb.var("KUBECONFIG"));
    let before = std::fs::read(&kubeconfig).ok();

    let out = sb.gitops_iam(&up_args(&[]));
    out.success();

    assert_eq!(
        std::fs::read(&kubeconfig).ok(),
        before,
        "`up` changed the user's KUBECONFIG {}",
        kubeconfig.display()
    );
    let commands = sb.commands();
    assert!(commands.iter().all(|c| !c.injected), "nothing was to be injected");

    // through the aws CLI itself; every other test reads AWS with aws_state.py, which must agree
    let snap = sb.snapshot_via_aws_cli();
    assert_irsa_chain(&snap);
    let one_process = sb.snapshot();
    assert!(
        snap.raw["accounts"] == one_process.raw["accounts"],
        "tests/sandbox/aws_state.py reads another state than the aws CLI:\n{}",
        diff(
            &serde_json::to_string_pretty(&snap.raw["accounts"]).unwrap(),
            &serde_json::to_string_pretty(&one_process.raw["accounts"]).unwrap()
        )
    );

    let mutating: Vec<_> = commands.iter().filter(|c| c.mutating).cloned().collect();
    assert_eq!(
        mutating_lines(&mutating).len(),
        FAULT_POINTS,
        "`up` from scratch issued {} mutating commands, but faults.rs injects a fault at each of \
         {FAULT_POINTS}: update FAULT_POINTS and its list of tests:\n{}",
        mutating_lines(&mutating).len(),
        mutating_lines(&mutating).join("\n")
    );
    assert_dependency_order(&mutating, "`up`");
    // the suite's time depends on the sandbox's warm start (docs/sandbox.md)
    assert_eq!(sb.cold_calls(), Vec::<String>::new(), "calls the sandbox ran cold");
    assert_same_mutating_commands_as_reference(&mutating, true);
    snap.assert_matches_reference("up", true);
}

/// Every link of the chain after `up` in one account (123456789012).
#[track_caller]
fn assert_irsa_chain(snap: &Snapshot) {
    let acct = |path: &[&str]| {
        let mut p = vec!["accounts", MGMT_ACCOUNT];
        p.extend_from_slice(path);
        snap.get(&p).clone()
    };

    // both clusters, ACTIVE, in the management account only
    assert_eq!(
        snap.keys(&["accounts", MGMT_ACCOUNT, "clusters"]),
        ["management", "testing"]
    );
    for name in ["management", "testing"] {
        assert_eq!(
            acct(&["clusters", name, "status"]),
            "ACTIVE",
            "status of cluster {name}"
        );
    }
    assert!(snap.keys(&["accounts", TESTING_ACCOUNT, "clusters"]).is_empty());
    assert!(snap.keys(&["accounts", TESTING_ACCOUNT, "roles"]).is_empty());

    // the OIDC provider of the management cluster
    let issuer = acct(&["clusters", "management", "identity", "oidc", "issuer"]);
    let issuer_host = issuer
        .as_str()
        .unwrap()
        .strip_prefix("https://")
        .expect("issuer is https://");
    let provider_arn = format!("arn:aws:iam::{MGMT_ACCOUNT}:oidc-provider/{issuer_host}");
    let providers = acct(&["oidc_providers"]);
    let provider = providers
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["Arn"] == provider_arn.as_str())
        .unwrap_or_else(|| panic!("no OIDC provider {provider_arn}: {providers:#}"));
    assert!(
        string_set(&provider["ClientIDList"]).contains("sts.amazonaws.com"),
        "client ids of {provider_arn}: {provider:#}"
    );

    // ArgoCD: trusted by that provider for exactly the agent's two service accounts
    let trust = acct(&["roles", "ArgoCD", "AssumeRolePolicyDocument"]);
    let st = statements(&trust);
    assert_eq!(st.len(), 1, "one statement in the ArgoCD trust: {trust:#}");
    let st = &st[0];
    assert_eq!(st["Effect"], "Allow", "{trust:#}");
    assert_eq!(st["Principal"], json!({ "Federated": provider_arn }), "{trust:#}");
    assert_eq!(
        string_set(&st["Action"]),
        set(["sts:AssumeRoleWithWebIdentity"]),
        "{trust:#}"
    );
    let conditions = st["Condition"]
        .as_object()
        .unwrap_or_else(|| panic!("no Condition: {trust:#}"));
    let sub_key = format!("{issuer_host}:sub");
    let aud_key = format!("{issuer_host}:aud");
    let mut keys = Vec::new();
    for (operator, block) in conditions {
        for (key, values) in block.as_object().unwrap() {
            keys.push(key.clone());
            if *key == sub_key {
                assert!(
                    operator == "StringEquals" || operator == "StringLike",
                    "sub under {operator}: {trust:#}"
                );
                assert_eq!(
                    string_set(values),
                    set([
                        "system:serviceaccount:iam:gitops-agent",
                        "system:serviceaccount:iam:argocd-application-controller"
                    ]),
                    "{trust:#}"
                );
            } else if *key == aud_key {
                assert_eq!(operator, "StringEquals", "aud under {operator}: {trust:#}");
                assert_eq!(string_set(values), set(["sts.amazonaws.com"]), "{trust:#}");
            }
        }
    }
    keys.sort();
    let mut expected_keys = vec![aud_key, sub_key];
    expected_keys.sort();
    assert_eq!(keys, expected_keys, "condition keys of the ArgoCD trust: {trust:#}");

    // ArgoCD's only inline policy lets it assume the Deployer and nothing else
    let inline = acct(&["roles", "ArgoCD", "InlinePolicies"]);
    assert_eq!(
        snap.keys(&["accounts", MGMT_ACCOUNT, "roles", "ArgoCD", "InlinePolicies"]),
        ["AssumeRole"]
    );
    let doc = &inline["AssumeRole"];
    for st in statements(doc) {
        assert_eq!(st["Effect"], "Allow", "{doc:#}");
        assert_eq!(string_set(&st["Action"]), set(["sts:AssumeRole"]), "{doc:#}");
        assert_eq!(string_set(&st["Resource"]), set([DEPLOYER_ROLE_ARN]), "{doc:#}");
    }
    assert!(!statements(doc).is_empty(), "{doc:#}");

    // Deployer: trusted by ArgoCD, without the tutorial's empty Condition
    let trust = acct(&["roles", "Deployer", "AssumeRolePolicyDocument"]);
    assert_eq!(statements(&trust).len(), 1, "{trust:#}");
    let st = &statements(&trust)[0];
    assert_eq!(st["Effect"], "Allow", "{trust:#}");
    assert_eq!(st["Principal"], json!({ "AWS": AGENT_ROLE_ARN }), "{trust:#}");
    assert_eq!(string_set(&st["Action"]), set(["sts:AssumeRole"]), "{trust:#}");
    assert!(
        st.get("Condition").is_none(),
        "the Deployer trust has a Condition: {trust:#}"
    );

    assert_agent_uses_role(snap, MGMT_ACCOUNT, AGENT_ROLE_ARN);

    // the testing cluster maps the Deployer exactly once
    assert_single_deployer_mapping(snap, MGMT_ACCOUNT, DEPLOYER_ROLE_ARN);
}

/// Both service accounts annotated with ROLE_ARN, both workloads with fsGroup 999 and rolled
/// out, and each of their pods started with `AWS_ROLE_ARN` = ROLE_ARN (the pod identity webhook).
#[track_caller]
pub fn assert_agent_uses_role(snap: &Snapshot, account: &str, role_arn: &str) {
    let kube = |path: &[&str]| {
        let mut p = vec!["kubernetes", account, "management"];
        p.extend_from_slice(path);
        snap.get(&p).clone()
    };
    for (kind, name) in [
        ("deployment", "gitops-agent"),
        ("statefulset", "argocd-application-controller"),
    ] {
        let annotations = kube(&["service_accounts", "iam", name, "annotations"]);
        assert_eq!(
            annotations[ROLE_ARN_ANNOTATION], role_arn,
            "annotation {ROLE_ARN_ANNOTATION} of serviceaccount {name}: {annotations:#}"
        );
        let w = kube(&["workloads", "iam", kind, name]);
        assert_eq!(
            w["template"]["securityContext"]["fsGroup"], 999,
            "fsGroup of {kind} {name}: {w:#}"
        );
        assert_eq!(w["template"]["serviceAccountName"], name, "{kind} {name}: {w:#}");
        let replicas = w["replicas"]
            .as_u64()
            .unwrap_or_else(|| panic!("replicas of {kind} {name}: {w:#}"));
        assert!(replicas >= 1, "{kind} {name}: {w:#}");
        assert_eq!(
            w["status"]["observedGeneration"], w["generation"],
            "{kind} {name} not observed: {w:#}"
        );
        for field in ["readyReplicas", "updatedReplicas", "replicas"] {
            assert_eq!(w["status"][field], replicas, "{field} of {kind} {name}: {w:#}");
        }
        let pods = kube(&["pods", "iam"]);
        let pods: Vec<_> = pods
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["workload"] == name)
            .collect();
        assert_eq!(
            pods.len() as u64,
            replicas,
            "pods of {kind} {name} (old ones left?): {pods:#?}"
        );
        for pod in pods {
            assert_eq!(pod["serviceAccountName"], name, "{pod:#}");
            assert_eq!(pod["ready"], true, "{pod:#}");
            for c in pod["containers"].as_array().unwrap() {
                assert_eq!(
                    c["env"]["AWS_ROLE_ARN"], role_arn,
                    "AWS_ROLE_ARN in pod {}: {pod:#}",
                    pod["name"]
                );
                assert!(c["env"].get("AWS_WEB_IDENTITY_TOKEN_FILE").is_some(), "{pod:#}");
            }
        }
    }
}

/// aws-auth of the testing cluster (in ACCOUNT) maps DEPLOYER exactly once, as deployer in
/// system:masters.
#[track_caller]
pub fn assert_single_deployer_mapping(snap: &Snapshot, account: &str, deployer: &str) {
    let mappings = snap.get(&["kubernetes", account, "testing", "identity_mappings"]);
    let mine: Vec<_> = mappings
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["rolearn"] == deployer)
        .collect();
    assert_eq!(
        mine.len(),
        1,
        "mappings of {deployer} in the testing cluster: {mappings:#}"
    );
    assert_eq!(mine[0]["username"], "deployer", "{mappings:#}");
    assert_eq!(mine[0]["groups"], json!(["system:masters"]), "{mappings:#}");
}

#[test]
fn second_up_issues_no_mutating_command() {
    let sb = Sandbox::start();
    sb.gitops_iam(&up_args(&[])).success();

    let mark = sb.mark();
    let out = sb.gitops_iam(&up_args(&[]));
    out.success();
    let since = sb.commands_since(mark);
    assert!(
        !since.is_empty(),
        "the second run did not even read the state:\n{}",
        out.describe()
    );
    let mutating = mutating_lines(&since);
    assert!(
        mutating.is_empty(),
        "the second `up` changed things:\n{}\n{}",
        mutating.join("\n"),
        out.describe()
    );
}

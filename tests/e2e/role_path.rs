//! Adopted roles with a path (`role/team/NAME`): IAM's ARN of such a role includes the path, so
//! what names the role (the IRSA annotation, the Deployer's trust, the agent's inline policy)
//! must use the ARN `get-role` returns; aws-auth alone needs it without the path (the
//! authenticator matches the caller's ARN, from which STS drops the path).

use super::sandbox::Sandbox;
use super::support::{get_role, testing_cluster_mappings};
use super::*;

const AGENT_PATH_ARN: &str = "arn:aws:iam::123456789012:role/team/ArgoCD";
const DEPLOYER_PATH_ARN: &str = "arn:aws:iam::123456789012:role/team/Deployer";

#[test]
fn adopted_roles_with_a_path_are_named_by_the_arn_iam_gives_them() {
    let sb = Sandbox::start();
    let trust = sb.scratch("account-trust.json");
    std::fs::write(
        &trust,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
    )
    .unwrap();
    let doc = format!("file://{}", trust.display());
    for role in ["ArgoCD", "Deployer"] {
        sb.aws(&[
            "iam",
            "create-role",
            "--role-name",
            role,
            "--path",
            "/team/",
            "--assume-role-policy-document",
            &doc,
            "--region",
            REGION,
        ])
        .success();
    }

    sb.gitops_iam(&up_args(&[])).success();

    let kc = sb.kubeconfig_for("management", None);
    let kc = kc.to_str().unwrap();
    for sa in ["gitops-agent", "argocd-application-controller"] {
        let obj = sb
            .kubectl(&[
                "--kubeconfig",
                kc,
                "-n",
                "iam",
                "get",
                "serviceaccount",
                sa,
                "-o",
                "json",
            ])
            .success()
            .json();
        assert_eq!(
            obj["metadata"]["annotations"][ROLE_ARN_ANNOTATION], AGENT_PATH_ARN,
            "{sa}"
        );
    }
    let deployer = get_role(&sb, "Deployer");
    // The adopted trust's own statement (the account) is kept; gitops-iam's names the agent
    // role by its ARN.
    let statements = deployer["AssumeRolePolicyDocument"]["Statement"].as_array().unwrap();
    let principals: Vec<&Value> = statements.iter().map(|s| &s["Principal"]["AWS"]).collect();
    assert_eq!(
        principals,
        [
            &serde_json::json!("arn:aws:iam::123456789012:root"),
            &serde_json::json!(AGENT_PATH_ARN)
        ],
        "the Deployer trusts the agent role by its ARN, and keeps what it trusted"
    );
    let policy = sb
        .aws(&[
            "iam",
            "get-role-policy",
            "--role-name",
            "ArgoCD",
            "--policy-name",
            "AssumeRole",
            "--region",
            REGION,
            "--output",
            "json",
        ])
        .success()
        .json();
    assert_eq!(
        policy["PolicyDocument"]["Statement"][0]["Resource"],
        serde_json::json!(DEPLOYER_PATH_ARN),
        "the agent may assume the Deployer by its ARN: {policy}"
    );
    let mappings = testing_cluster_mappings(&sb);
    let mapped: Vec<&str> = mappings
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["rolearn"].as_str())
        .filter(|a| a.ends_with("/Deployer"))
        .collect();
    assert_eq!(
        mapped,
        [DEPLOYER_ROLE_ARN],
        "aws-auth maps the Deployer without its path"
    );

    let mark = sb.mark();
    sb.gitops_iam(&up_args(&[])).success();
    let again: Vec<String> = sb.mutating_since(mark).into_iter().map(|c| c.line).collect();
    assert!(again.is_empty(), "a second up changed:\n{}", again.join("\n"));
}

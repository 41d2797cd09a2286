//! One state directory, two regions: each cluster has its own kubeconfig (named by account,
//! region and cluster) and every kubectl call names the cluster's context, so a run in one
//! region never acts on the same-named cluster of the other. The second region comes from the
//! profile (`region` in `AWS_CONFIG_FILE`), as the aws CLI and eksctl resolve it.

use super::sandbox::Sandbox;
use super::support::parse_report;
use super::*;

const OTHER_REGION: &str = "us-west-2";

fn kubeconfig_path(region: &str, cluster: &str) -> String {
    format!(".gitops-iam/kubeconfig/{MGMT_ACCOUNT}-{region}-{cluster}.yaml")
}

/// The gitops-agent service account's role annotation in the management cluster of REGION.
fn agent_annotation(sb: &Sandbox, region: &str) -> Option<String> {
    let kc = sb.scratch("management.kubeconfig");
    let kc = kc.to_str().unwrap();
    sb.eksctl(&[
        "utils",
        "write-kubeconfig",
        "--cluster",
        "management",
        "--region",
        region,
        "--kubeconfig",
        kc,
    ])
    .success();
    let sa = sb
        .kubectl(&[
            "--kubeconfig",
            kc,
            "-n",
            "iam",
            "get",
            "serviceaccount",
            "gitops-agent",
            "-o",
            "json",
        ])
        .success()
        .json();
    sa["metadata"]["annotations"][ROLE_ARN_ANNOTATION]
        .as_str()
        .map(str::to_string)
}

#[test]
fn one_state_dir_for_two_regions_acts_on_each_regions_own_cluster() {
    let sb = Sandbox::start();
    // Region A, then region B with roles of its own (IAM is global: another environment).
    sb.gitops_iam(&up_args(&[])).success();
    // B's region comes from the profile, as the aws CLI and eksctl would take it.
    let config = sb.scratch("aws-config");
    let sandbox_config = std::fs::read_to_string(sb.var("AWS_CONFIG_FILE")).unwrap();
    std::fs::write(
        &config,
        sandbox_config.replace("[default]\n", &format!("[default]\nregion = {OTHER_REGION}\n")),
    )
    .unwrap();
    let no_region = [
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
        ("AWS_REGION", ""),
        ("AWS_DEFAULT_REGION", ""),
    ];
    let mark = sb.mark();
    let b_args = [
        "up",
        "--agent-manifest",
        AGENT_MANIFEST,
        "--agent-role",
        "ArgoCD-west",
        "--deployer-role",
        "Deployer-west",
    ];
    sb.gitops_iam_with(&b_args, &no_region).success();
    let elsewhere: Vec<String> = sb
        .commands_since(mark)
        .into_iter()
        .filter(|c| c.tool != "kubectl" && !c.line.contains(&format!(" --region {OTHER_REGION}")))
        .map(|c| c.line)
        .collect();
    assert!(
        elsewhere.is_empty(),
        "calls not in {OTHER_REGION}:\n{}",
        elsewhere.join("\n")
    );
    for region in [REGION, OTHER_REGION] {
        for cluster in ["management", "testing"] {
            let path = sb.work().join(kubeconfig_path(region, cluster));
            assert!(path.is_file(), "no kubeconfig {}", path.display());
        }
    }
    let west_arn = format!("arn:aws:iam::{MGMT_ACCOUNT}:role/ArgoCD-west");
    assert_eq!(agent_annotation(&sb, REGION).as_deref(), Some(AGENT_ROLE_ARN));
    assert_eq!(agent_annotation(&sb, OTHER_REGION), Some(west_arn.clone()));

    // A's annotation goes; `up` and `agent patch` in A must repair A, through A's kubeconfig
    // and context, and leave B alone.
    let kc = sb.scratch("a.kubeconfig");
    let kc = kc.to_str().unwrap();
    sb.eksctl(&[
        "utils",
        "write-kubeconfig",
        "--cluster",
        "management",
        "--region",
        REGION,
        "--kubeconfig",
        kc,
    ])
    .success();
    let removal = format!("{ROLE_ARN_ANNOTATION}-");
    sb.kubectl(&[
        "--kubeconfig",
        kc,
        "-n",
        "iam",
        "annotate",
        "serviceaccount",
        "gitops-agent",
        &removal,
    ])
    .success();

    let own = [
        "kubectl".to_string(),
        "--kubeconfig".to_string(),
        kubeconfig_path(REGION, "management"),
        "--context".to_string(),
        format!("moto@management.{REGION}.eksctl.io"),
    ];
    let assert_own_cluster_only = |mark: usize, what: &str| {
        let stray: Vec<String> = sb
            .commands_since(mark)
            .into_iter()
            .filter(|c| c.tool == "kubectl" && !c.argv.starts_with(&own) && !c.line.contains(" config view "))
            .map(|c| c.line)
            .collect();
        assert!(
            stray.is_empty(),
            "{what}: kubectl calls not on {own:?}:\n{}",
            stray.join("\n")
        );
    };
    // `up` keeps a kubeconfig newer than its cluster: B's creation wrote the newest file.
    let mark = sb.mark();
    sb.gitops_iam(&up_args(&[])).success();
    assert_own_cluster_only(mark, "up");
    assert_eq!(
        agent_annotation(&sb, REGION).as_deref(),
        Some(AGENT_ROLE_ARN),
        "A repaired"
    );
    assert_eq!(
        agent_annotation(&sb, OTHER_REGION),
        Some(west_arn.clone()),
        "B left alone"
    );

    sb.kubectl(&[
        "--kubeconfig",
        kc,
        "-n",
        "iam",
        "annotate",
        "serviceaccount",
        "gitops-agent",
        &removal,
    ])
    .success();
    let mark = sb.mark();
    sb.gitops_iam(&["agent", "patch", "--region", REGION]).success();
    assert_own_cluster_only(mark, "agent patch");
    assert_eq!(
        agent_annotation(&sb, REGION).as_deref(),
        Some(AGENT_ROLE_ARN),
        "A repaired"
    );
    assert_eq!(agent_annotation(&sb, OTHER_REGION), Some(west_arn), "B left alone");

    let mark = sb.mark();
    let out = sb.gitops_iam(&["verify", "--region", REGION]);
    assert_own_cluster_only(mark, "verify");
    let checks = parse_report(&out);
    let sa = checks.iter().find(|c| c.name == "serviceaccount gitops-agent").unwrap();
    assert_eq!(sa.status, "ok", "{}", out.describe());
}

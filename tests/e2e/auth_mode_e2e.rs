//! EKS authentication modes against the sandbox (moto_eks_access.py models them as EKS does):
//! an `API`-only testing cluster ignores aws-auth, so `verify` fails the Deployer's access and
//! `testing` refuses to write a mapping that would grant nothing, both naming access entries;
//! a `CONFIG_MAP` cluster (the bare EKS API's default) refuses access entries, and the one-way
//! fix `verify` prints is accepted by EKS's rules and enables them.

use super::sandbox::{Output, Sandbox};
use super::support::*;
use super::*;

const ACCESS_ENTRY: [&str; 2] = ["--cluster-access", "access-entry"];
const ACCESS_CHECK: &str = "Deployer access to testing";

fn update_mode(sb: &Sandbox, cluster: &str, mode: &str) -> Output {
    sb.aws(&[
        "eks",
        "update-cluster-config",
        "--name",
        cluster,
        "--access-config",
        &format!("authenticationMode={mode}"),
        "--region",
        REGION,
    ])
}

fn mode_of(sb: &Sandbox, cluster: &str) -> String {
    describe_cluster(sb, cluster, None)["accessConfig"]["authenticationMode"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn an_api_only_testing_cluster_refuses_aws_auth_with_the_fix_and_access_entries_converge() {
    let sb = Sandbox::start();
    let h = harness_args(&sb);
    sb.gitops_iam(&up_args(&h)).success();
    assert_eq!(mode_of(&sb, "testing"), "API_AND_CONFIG_MAP", "eksctl's default");
    // EKS allows the second step, to API only; then aws-auth is ignored.
    update_mode(&sb, "testing", "API").success();

    let verify = args(&["verify"], &h);
    let fix = assert_verify_fails_only(
        &sb,
        &verify,
        ACCESS_CHECK,
        "authentication mode API: EKS ignores aws-auth",
        "gitops-iam testing --region us-east-1 ",
    );
    assert!(fix.ends_with(" --cluster-access access-entry"), "{fix}");

    // `testing` in aws-auth mode changes nothing and says what to run
    let mark = sb.mark();
    let out = sb.gitops_iam(&args(&["testing"], &[]));
    out.code(1);
    assert!(
        out.stderr
            .contains("has authentication mode API: it ignores the aws-auth ConfigMap"),
        "{}",
        out.describe()
    );
    assert!(
        out.stderr.contains("--cluster-access access-entry"),
        "{}",
        out.describe()
    );
    assert_eq!(mutating_lines(&sb.mutating_since(mark)), Vec::<String>::new());

    // the fix: an access entry; then every check is green in access-entry mode
    run_fix(&sb, &fix, &[]);
    let with_entries: Vec<&str> = ACCESS_ENTRY.iter().copied().chain(h.iter().copied()).collect();
    let checks = assert_verify_green(&sb, &args(&["verify"], &with_entries), "after the fix");
    let access = checks.iter().find(|c| c.name == ACCESS_CHECK).unwrap();
    assert_eq!(
        access.detail,
        "access entry with AmazonEKSClusterAdminPolicy (cluster scope)"
    );
}

#[test]
fn a_config_map_testing_cluster_fails_verify_with_the_one_way_fix_which_enables_access_entries() {
    let sb = Sandbox::start();
    // A cluster made with the bare EKS API: CONFIG_MAP, the API's default.
    sb.aws(&[
        "eks",
        "create-cluster",
        "--name",
        "testing",
        "--role-arn",
        &format!("arn:aws:iam::{MGMT_ACCOUNT}:role/eks"),
        "--resources-vpc-config",
        "subnetIds=subnet-1,subnet-2",
        "--region",
        REGION,
    ])
    .success();
    assert_eq!(mode_of(&sb, "testing"), "CONFIG_MAP");
    // EKS refuses the jump straight to API: one step at a time
    let jump = update_mode(&sb, "testing", "API");
    jump.code(255);
    assert!(
        jump.stderr
            .contains("Unsupported authentication mode update from CONFIG_MAP to API"),
        "{}",
        jump.describe()
    );

    let verify = args(&["verify"], &ACCESS_ENTRY);
    let access = |out: &Output| {
        parse_report(out)
            .into_iter()
            .find(|c| c.name == ACCESS_CHECK)
            .unwrap_or_else(|| panic!("no {ACCESS_CHECK} check:\n{}", out.describe()))
    };
    let out = sb.gitops_iam(&verify);
    out.code(1);
    let check = access(&out);
    assert_eq!(check.status, "FAIL", "{}", out.describe());
    assert!(
        check
            .detail
            .contains("authentication mode CONFIG_MAP: EKS refuses access entries"),
        "{}",
        out.describe()
    );
    let fix = check.fix.unwrap();
    assert!(fix.contains(" --enable-access-entries (one way"), "{fix}");
    let (_, aws_fix) = fix.split_once(", or: ").unwrap_or_else(|| panic!("{fix}"));
    assert!(
        aws_fix.starts_with("aws eks update-cluster-config --name testing --access-config "),
        "{fix}"
    );

    // the printed aws command is one EKS accepts; afterwards access entries are allowed, and
    // the access check only misses the entry itself
    run_fix(&sb, aws_fix, &[]);
    assert_eq!(mode_of(&sb, "testing"), "API_AND_CONFIG_MAP");
    let out = sb.gitops_iam(&verify);
    let check = access(&out);
    assert_eq!(
        (check.status.as_str(), check.detail.as_str()),
        (
            "FAIL",
            "no access entry with AmazonEKSClusterAdminPolicy at cluster scope"
        ),
        "{}",
        out.describe()
    );
}

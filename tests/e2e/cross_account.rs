//! `--testing-profile`: the testing cluster and the Deployer role live in the testing account
//! (222222222222, reached with `aws --profile testing`), trusted by the agent role of the
//! management account; `verify --live` walks the chain across the accounts (issue 13).

use super::sandbox::Sandbox;
use super::*;
use serde_json::json;

const CROSS_DEPLOYER_ARN: &str = "arn:aws:iam::222222222222:role/Deployer";

#[test]
fn up_with_testing_profile_puts_testing_cluster_and_deployer_in_the_testing_account() {
    let sb = Sandbox::start();
    let args = up_args(&["--testing-profile", "testing"]);
    sb.gitops_iam(&args).success();

    // straight from the clients: the Deployer is in the testing account, not in the default one
    let got = sb
        .aws(&[
            "--profile",
            "testing",
            "iam",
            "get-role",
            "--role-name",
            "Deployer",
            "--region",
            REGION,
            "--output",
            "json",
        ])
        .success()
        .json();
    assert_eq!(got["Role"]["Arn"], CROSS_DEPLOYER_ARN);
    let missing = sb.aws(&["iam", "get-role", "--role-name", "Deployer", "--region", REGION]);
    assert_ne!(missing.code, Some(0), "{}", missing.describe());
    assert!(missing.stderr.contains("NoSuchEntity"), "{}", missing.describe());

    let snap = sb.snapshot();
    assert_eq!(snap.keys(&["accounts", MGMT_ACCOUNT, "clusters"]), ["management"]);
    assert_eq!(snap.keys(&["accounts", TESTING_ACCOUNT, "clusters"]), ["testing"]);
    assert_eq!(
        snap.get(&["accounts", TESTING_ACCOUNT, "clusters", "testing", "status"]),
        "ACTIVE"
    );
    let mgmt_roles = snap.keys(&["accounts", MGMT_ACCOUNT, "roles"]);
    let testing_roles = snap.keys(&["accounts", TESTING_ACCOUNT, "roles"]);
    assert!(
        mgmt_roles.contains(&"ArgoCD".to_owned()) && !mgmt_roles.contains(&"Deployer".to_owned()),
        "{mgmt_roles:?}"
    );
    assert!(
        testing_roles.contains(&"Deployer".to_owned()) && !testing_roles.contains(&"ArgoCD".to_owned()),
        "{testing_roles:?}"
    );

    let trust = snap.get(&[
        "accounts",
        TESTING_ACCOUNT,
        "roles",
        "Deployer",
        "AssumeRolePolicyDocument",
    ]);
    assert_eq!(statements(trust).len(), 1, "{trust:#}");
    let st = &statements(trust)[0];
    assert_eq!(st["Principal"], json!({ "AWS": AGENT_ROLE_ARN }), "{trust:#}");
    assert_eq!(string_set(&st["Action"]), set(["sts:AssumeRole"]), "{trust:#}");
    assert!(st.get("Condition").is_none(), "{trust:#}");

    let policy = snap.get(&[
        "accounts",
        MGMT_ACCOUNT,
        "roles",
        "ArgoCD",
        "InlinePolicies",
        "AssumeRole",
    ]);
    for st in statements(policy) {
        assert_eq!(string_set(&st["Action"]), set(["sts:AssumeRole"]), "{policy:#}");
        assert_eq!(string_set(&st["Resource"]), set([CROSS_DEPLOYER_ARN]), "{policy:#}");
    }

    super::up::assert_agent_uses_role(&snap, MGMT_ACCOUNT, AGENT_ROLE_ARN);
    super::up::assert_single_deployer_mapping(&snap, TESTING_ACCOUNT, CROSS_DEPLOYER_ARN);
    snap.assert_matches_reference("up-cross-account", true);

    let mark = sb.mark();
    let out = sb.gitops_iam(&args);
    out.success();
    let mutating = mutating_lines(&sb.commands_since(mark));
    assert!(
        mutating.is_empty(),
        "the second run changed things:\n{}\n{}",
        mutating.join("\n"),
        out.describe()
    );

    // the agent's own calls: AssumeRole into the testing account's Deployer, its cluster's API
    let live = ["verify", "--live", "--region", REGION, "--testing-profile", "testing"];
    let out = super::live::assert_live_green(&sb, &live, "cross-account");
    assert!(
        out.stdout.contains(&format!("credentials of {CROSS_DEPLOYER_ARN}")),
        "{}",
        out.describe()
    );
}

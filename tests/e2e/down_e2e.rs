//! `down` against a real environment: after `up` (complete or partial) it removes every cluster,
//! role, policy, OIDC provider, mapping and registration, checked through the real clients; a
//! second `down` changes nothing; without `--yes` and a terminal it runs nothing;
//! `--keep-clusters` keeps the clusters; the `--dry-run` script tears down a real environment.

use super::sandbox::Sandbox;
use super::snapshot::{ACCOUNTS, Snapshot};
use super::support::*;
use super::*;

/// Nothing `up` made is left in either account, nor in the Harness stand-in.
#[track_caller]
fn assert_nothing_left(snap: &Snapshot, what: &str) {
    for (account, _) in ACCOUNTS {
        for kind in ["clusters", "roles"] {
            let left = snap.keys(&["accounts", account, kind]);
            assert!(left.is_empty(), "{what}: {kind} left in account {account}: {left:?}");
        }
        let providers = snap.get(&["accounts", account, "oidc_providers"]);
        assert_eq!(
            providers.as_array().map(Vec::len),
            Some(0),
            "{what}: OIDC providers left in account {account}: {providers:#}"
        );
    }
    let kube = snap.get(&["kubernetes"]);
    assert_eq!(kube.as_object().map(serde_json::Map::len), Some(0), "{what}: {kube:#}");
    let harness = snap.get(&["harness", "clusters"]);
    assert_eq!(
        harness.as_array().map(Vec::len),
        Some(0),
        "{what}: clusters left in Harness: {harness:#}"
    );
}

/// The position of the first mutating command containing NEEDLE.
#[track_caller]
fn position(lines: &[String], needle: &str) -> usize {
    lines
        .iter()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no mutating command contains {needle:?}:\n{}", lines.join("\n")))
}

#[test]
fn down_needs_yes_without_a_terminal_then_removes_everything_and_a_second_down_changes_nothing() {
    let sb = Sandbox::start();
    let h = harness_args(&sb);
    sb.gitops_iam(&up_args(&h)).success();
    assert_eq!(harness_state(&sb)["clusters"].as_array().unwrap().len(), 1);
    let down = args(&["down"], &h);

    // no --yes, stdin not a terminal (the fixture gives every command /dev/null)
    let mark = sb.mark();
    let requests = harness_request_count(&sb);
    let out = sb.gitops_iam(&down);
    out.code(2);
    assert!(
        out.stderr.contains(
            "error: down deletes clusters, roles and registrations: pass --yes to confirm (stdin is not a terminal)"
        ),
        "{}",
        out.describe()
    );
    let ran: Vec<String> = sb.commands_since(mark).into_iter().map(|c| c.line).collect();
    assert!(ran.is_empty(), "down without --yes ran commands:\n{}", ran.join("\n"));
    assert_eq!(
        harness_request_count(&sb),
        requests,
        "down without --yes called the Harness API"
    );

    // --yes
    let mark = sb.mark();
    let requests = harness_request_count(&sb);
    let out = sb.gitops_iam(&[down.as_slice(), &["--yes"]].concat());
    out.success();
    let removed = mutating_lines(&sb.commands_since(mark));
    // the mapping and the Deployer go while the testing cluster still exists
    let mapping = position(&removed, "eksctl delete iamidentitymapping --cluster testing ");
    let deployer = position(&removed, "aws iam delete-role --role-name Deployer ");
    let testing = position(&removed, "eksctl delete cluster --name testing ");
    let policy = position(
        &removed,
        "aws iam delete-role-policy --role-name ArgoCD --policy-name AssumeRole ",
    );
    let argocd = position(&removed, "aws iam delete-role --role-name ArgoCD ");
    let mgmt = position(&removed, "eksctl delete cluster --name management ");
    assert!(
        mapping < deployer && deployer < testing && policy < argocd && deployer < argocd && argocd < mgmt,
        "down's order:\n{}",
        removed.join("\n")
    );
    let deletes: Vec<_> = harness_requests_since(&sb, requests)
        .into_iter()
        .filter(|r| r["method"] == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 1, "{deletes:#?}");
    assert_eq!(
        deletes[0]["path"],
        format!("/gitops/api/v1/agents/{HARNESS_AGENT}/clusters/testing"),
        "{deletes:#?}"
    );
    assert_nothing_left(&sb.snapshot(), "after down --yes");

    // again: nothing to do
    let mark = sb.mark();
    let requests = harness_request_count(&sb);
    let out = sb.gitops_iam(&[down.as_slice(), &["--yes"]].concat());
    out.success();
    let again = sb.commands_since(mark);
    assert!(
        !again.is_empty(),
        "the second down did not even look:\n{}",
        out.describe()
    );
    let mutating = mutating_lines(&again);
    assert!(
        mutating.is_empty(),
        "the second down changed things:\n{}\n{}",
        mutating.join("\n"),
        out.describe()
    );
    let writes: Vec<_> = harness_requests_since(&sb, requests)
        .into_iter()
        .filter(|r| r["method"] != "GET")
        .collect();
    assert!(writes.is_empty(), "{writes:#?}");
    assert!(
        summary_line(&out.stderr, "down: role ArgoCD").contains("unchanged"),
        "{}",
        out.describe()
    );
}

#[test]
fn down_after_up_failed_at_the_deployer_role_removes_what_exists() {
    let sb = Sandbox::start();
    let h = harness_args(&sb);
    // SANDBOX_FAIL_MATCH rather than SANDBOX_FAIL_NTH: the Deployer's creation has no fixed
    // rank among the mutating commands, since the two clusters' branches run concurrently.
    let out = sb.gitops_iam_with(
        &up_args(&h),
        &[("SANDBOX_FAIL_MATCH", "^aws iam create-role --role-name Deployer ")],
    );
    out.code(1);
    let injected: Vec<String> = sb
        .mutating_commands()
        .into_iter()
        .filter(|c| c.injected)
        .map(|c| c.line)
        .collect();
    assert_eq!(injected.len(), 1, "{injected:?}\n{}", out.describe());
    assert!(
        injected[0].starts_with("aws iam create-role --role-name Deployer "),
        "{injected:?}"
    );

    // partial indeed: clusters and ArgoCD, no Deployer, no mapping, no registration
    let before = sb.snapshot();
    assert_eq!(
        before.keys(&["accounts", MGMT_ACCOUNT, "clusters"]),
        ["management", "testing"]
    );
    let roles = before.keys(&["accounts", MGMT_ACCOUNT, "roles"]);
    assert!(
        roles.contains(&"ArgoCD".to_owned()) && !roles.contains(&"Deployer".to_owned()),
        "{roles:?}"
    );
    let mappings = before.get(&["kubernetes", MGMT_ACCOUNT, "testing", "identity_mappings"]);
    assert!(
        mappings
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["rolearn"] != DEPLOYER_ROLE_ARN),
        "{mappings:#}"
    );
    assert_eq!(before.get(&["harness", "clusters"]).as_array().unwrap().len(), 0);

    let out = sb.gitops_iam(&args(&["down", "--yes"], &h));
    out.success();
    assert!(
        summary_line(&out.stderr, "down: role Deployer").contains("unchanged"),
        "{}",
        out.describe()
    );
    assert_nothing_left(&sb.snapshot(), "after down --yes following a partial up");
}

#[test]
fn down_keep_clusters_removes_iam_access_and_registration_but_keeps_both_clusters() {
    let sb = Sandbox::start();
    let h = harness_args(&sb);
    sb.gitops_iam(&up_args(&h)).success();
    let before = sb.snapshot();

    let mark = sb.mark();
    let out = sb.gitops_iam(&args(&["down", "--yes", "--keep-clusters"], &h));
    out.success();
    let removed = mutating_lines(&sb.commands_since(mark));
    assert!(
        removed.iter().all(|l| !l.contains(" delete cluster ")),
        "--keep-clusters deleted a cluster:\n{}",
        removed.join("\n")
    );

    let after = sb.snapshot();
    assert_eq!(
        after.keys(&["accounts", MGMT_ACCOUNT, "clusters"]),
        ["management", "testing"]
    );
    for name in ["management", "testing"] {
        assert_eq!(
            after.get(&["accounts", MGMT_ACCOUNT, "clusters", name, "status"]),
            "ACTIVE"
        );
        assert_eq!(
            after.get(&["accounts", MGMT_ACCOUNT, "clusters", name, "endpoint"]),
            before.get(&["accounts", MGMT_ACCOUNT, "clusters", name, "endpoint"]),
            "cluster {name} was re-created"
        );
    }
    // the roles gone (eksctl's own cluster and node roles stay with their clusters)
    let roles = after.keys(&["accounts", MGMT_ACCOUNT, "roles"]);
    assert!(
        roles.iter().all(|r| r.starts_with("eksctl-")),
        "roles left besides eksctl's: {roles:?}"
    );
    assert_eq!(
        roles.len(),
        before.keys(&["accounts", MGMT_ACCOUNT, "roles"]).len() - 2,
        "{roles:?}"
    );
    // the management cluster's OIDC provider stays with it
    assert_eq!(
        after.get(&["accounts", MGMT_ACCOUNT, "oidc_providers"]),
        before.get(&["accounts", MGMT_ACCOUNT, "oidc_providers"])
    );
    // no mapping of the Deployer; the nodes' mapping stays
    let mappings = after.get(&["kubernetes", MGMT_ACCOUNT, "testing", "identity_mappings"]);
    let mappings = mappings.as_array().unwrap();
    assert!(
        mappings.iter().all(|m| m["rolearn"] != DEPLOYER_ROLE_ARN),
        "{mappings:#?}"
    );
    assert_eq!(mappings.len(), 1, "the node role's mapping must stay: {mappings:#?}");
    // no registration
    assert_eq!(after.get(&["harness", "clusters"]).as_array().unwrap().len(), 0);
    // the agent stays, as installed
    assert_eq!(
        after.get(&["kubernetes", MGMT_ACCOUNT, "management", "workloads"]),
        before.get(&["kubernetes", MGMT_ACCOUNT, "management", "workloads"])
    );
}

#[test]
fn down_dry_run_script_run_by_bash_after_up_removes_everything() {
    let sb = Sandbox::start();
    let h = harness_args(&sb);
    sb.gitops_iam(&up_args(&h)).success();

    let mark = sb.mark();
    let requests = harness_request_count(&sb);
    let script = sb.gitops_iam(&args(&["down", "--dry-run"], &h));
    script.success();
    let ran: Vec<String> = sb.commands_since(mark).into_iter().map(|c| c.line).collect();
    assert!(ran.is_empty(), "down --dry-run ran commands:\n{}", ran.join("\n"));
    assert_eq!(harness_request_count(&sb), requests, "down --dry-run called Harness");
    assert!(
        script.stdout.starts_with("#!/usr/bin/env bash\n"),
        "{}",
        script.describe()
    );

    sb.run_script("down.sh", &script.stdout);
    assert_nothing_left(&sb.snapshot(), "after the down --dry-run script");
}

/// The stacks eksctl made (CloudFormation `describe-stacks`), by name.
fn stacks(sb: &Sandbox) -> Vec<String> {
    let out = sb.aws(&[
        "cloudformation",
        "describe-stacks",
        "--region",
        REGION,
        "--output",
        "json",
    ]);
    let all = out.success().json();
    all["Stacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["StackName"].as_str().unwrap().to_owned())
        .collect()
}

/// A broken environment: the testing cluster FAILED (eksctl refuses to touch what is in it) and
/// the Deployer role in an instance profile (IAM refuses to delete it: `DeleteConflict`). `down`
/// still removes every role, cluster, OIDC provider and stack, and a second `down` is a no-op.
#[test]
fn down_on_a_failed_cluster_and_a_role_in_an_instance_profile_removes_everything() {
    let sb = Sandbox::start();
    sb.gitops_iam(&up_args(&[])).success();
    super::cluster_lifecycle::mark_status(&sb, "testing", "FAILED");
    let aws = |argv: &[&str]| {
        let mut all = argv.to_vec();
        all.extend(["--region", REGION]);
        sb.aws(&all).success();
    };
    aws(&[
        "iam",
        "create-instance-profile",
        "--instance-profile-name",
        "deployer-profile",
    ]);
    aws(&[
        "iam",
        "add-role-to-instance-profile",
        "--instance-profile-name",
        "deployer-profile",
        "--role-name",
        "Deployer",
    ]);

    let mark = sb.mark();
    let out = sb.gitops_iam(&["down", "--region", REGION, "--yes"]);
    out.success();
    let removed = mutating_lines(&sb.commands_since(mark));
    assert!(
        !removed.iter().any(|l| l.contains("iamidentitymapping")),
        "down touched the mappings of a FAILED cluster:\n{}",
        removed.join("\n")
    );
    let unprofiled = position(
        &removed,
        "aws iam remove-role-from-instance-profile --instance-profile-name deployer-profile --role-name Deployer ",
    );
    let deployer = position(&removed, "aws iam delete-role --role-name Deployer ");
    assert!(unprofiled < deployer, "{}", removed.join("\n"));
    position(&removed, "eksctl delete cluster --name testing ");
    assert_nothing_left(&sb.snapshot(), "after down");
    assert_eq!(stacks(&sb), Vec::<String>::new());

    let mark = sb.mark();
    sb.gitops_iam(&["down", "--region", REGION, "--yes"]).success();
    assert_eq!(mutating_lines(&sb.commands_since(mark)), Vec::<String>::new());
}

/// A creation that failed and rolled back leaves the stack `eksctl-management-cluster` and no
/// cluster; `down` removes the stack (as `eksctl delete cluster` does).
#[test]
fn down_removes_the_stack_of_a_rolled_back_creation() {
    let sb = Sandbox::start();
    let out = sb.run_with(
        "eksctl",
        &[
            "create",
            "cluster",
            "--name",
            "management",
            "--with-oidc",
            "--region",
            REGION,
        ],
        &[("SANDBOX_CREATE_STOP", "control-plane")],
    );
    out.code(1);
    assert_eq!(stacks(&sb), ["eksctl-management-cluster"]);
    let out = sb.gitops_iam(&["down", "--region", REGION, "--yes"]);
    out.success();
    assert_eq!(stacks(&sb), Vec::<String>::new(), "{}", out.describe());
    assert_nothing_left(&sb.snapshot(), "after down");
}

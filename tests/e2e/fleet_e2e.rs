//! A fleet from a config file: two testing clusters, one in the management account and one in
//! the testing account (`profile: testing`), brought up by one `up --config F --output json`
//! whose stdout is JSON Lines only; a second run changes nothing.

use super::sandbox::{AGENT_MANIFEST, Sandbox};
use super::snapshot::Snapshot;
use super::support::*;
use super::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const QA_DEPLOYER: &str = "arn:aws:iam::123456789012:role/Deployer";
const STAGING_DEPLOYER: &str = "arn:aws:iam::222222222222:role/Deployer";

/// The events of one `up --output json`: every stdout line JSON; one `step_start` and one
/// `step_finish` per step (by name and count); a final `summary` (returned) whose steps are
/// the finished ones.
#[track_caller]
fn check_events(out: &super::sandbox::Output) -> Value {
    let events = json_lines(out);
    let (summary, rest) = events
        .split_last()
        .unwrap_or_else(|| panic!("no events:\n{}", out.describe()));
    assert_eq!(summary["event"], "summary", "the last line:\n{}", out.describe());
    let mut started: BTreeMap<String, usize> = BTreeMap::new();
    let mut finished: BTreeMap<String, usize> = BTreeMap::new();
    for e in rest {
        let step = e["step"]
            .as_str()
            .unwrap_or_else(|| panic!("an event without a step: {e}"))
            .to_owned();
        match e["event"].as_str().unwrap() {
            "step_start" => *started.entry(step).or_default() += 1,
            "step_finish" => {
                assert!(
                    started.get(&step).copied().unwrap_or(0) > finished.get(&step).copied().unwrap_or(0),
                    "{step} finished before it started:\n{}",
                    out.stdout
                );
                assert!(
                    matches!(e["status"].as_str(), Some("changed" | "unchanged")),
                    "{e}\n{}",
                    out.describe()
                );
                assert_eq!(e["changed"], e["status"] == "changed", "{e}");
                *finished.entry(step).or_default() += 1;
            }
            other => panic!("unexpected event {other:?} in {e}"),
        }
    }
    // (two Deployer roles of one name in two accounts are two steps of one name)
    assert_eq!(started, finished, "every step_start needs one step_finish");
    let mut summary_steps: BTreeMap<String, usize> = BTreeMap::new();
    for s in summary["steps"].as_array().unwrap() {
        *summary_steps.entry(s["step"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    assert_eq!(summary_steps, finished, "summary.steps: {summary}");
    for step in [
        "mgmt: cluster management",
        "testing: cluster qa",
        "testing: cluster staging",
        "testing: access for Deployer in qa",
        "testing: access for Deployer in staging",
        "agent: deployment gitops-agent",
    ] {
        assert!(finished.contains_key(step), "no step {step:?}: {:?}", finished.keys());
    }
    assert_eq!(summary["status"], "ok", "{summary}");
    assert_eq!(summary["exit_code"], 0, "{summary}");
    assert_eq!(summary["error"], Value::Null, "{summary}");
    summary.clone()
}

/// aws-auth of CLUSTER (in ACCOUNT) maps DEPLOYER exactly once, as deployer in system:masters.
#[track_caller]
fn assert_mapped_once(snap: &Snapshot, account: &str, cluster: &str, deployer: &str) {
    let mappings = snap.get(&["kubernetes", account, cluster, "identity_mappings"]);
    let mine: Vec<&Value> = mappings
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["rolearn"] == deployer)
        .collect();
    assert_eq!(mine.len(), 1, "mappings of {deployer} in {cluster}: {mappings:#}");
    assert_eq!(mine[0]["username"], "deployer", "{mappings:#}");
    assert_eq!(mine[0]["groups"], json!(["system:masters"]), "{mappings:#}");
}

#[test]
fn up_with_a_two_cluster_fleet_config_prints_json_lines_and_builds_both_then_changes_nothing() {
    let sb = Sandbox::start();
    let config = sb.scratch("fleet.yaml");
    std::fs::write(
        &config,
        format!(
            "region: {REGION}\n\
             agent_manifest: {AGENT_MANIFEST}\n\
             testing:\n\
             \x20 - name: qa\n\
             \x20 - name: staging\n\
             \x20   profile: testing\n\
             \x20   account_id: \"{TESTING_ACCOUNT}\"\n"
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let up = ["up", "--config", config, "--output", "json"];

    let out = sb.gitops_iam(&up);
    out.success();
    let summary = check_events(&out);
    let logged = sb.commands();
    let (commands, mutating) = counts(&logged);
    assert!(mutating > 0);
    assert_eq!(
        summary["mutating_commands"], mutating,
        "summary vs. the {mutating} mutating commands logged: {summary}"
    );
    assert_eq!(
        summary["commands"], commands,
        "summary vs. the {commands} commands logged: {summary}"
    );

    let snap = sb.snapshot();
    assert_eq!(snap.keys(&["accounts", MGMT_ACCOUNT, "clusters"]), ["management", "qa"]);
    assert_eq!(snap.keys(&["accounts", TESTING_ACCOUNT, "clusters"]), ["staging"]);
    for (account, cluster) in [(MGMT_ACCOUNT, "qa"), (TESTING_ACCOUNT, "staging")] {
        assert_eq!(
            snap.get(&["accounts", account, "clusters", cluster, "status"]),
            "ACTIVE"
        );
    }
    for (account, deployer) in [(MGMT_ACCOUNT, QA_DEPLOYER), (TESTING_ACCOUNT, STAGING_DEPLOYER)] {
        let role = snap.get(&["accounts", account, "roles", "Deployer"]);
        assert_eq!(role["Arn"], deployer, "{role:#}");
        let trust = &role["AssumeRolePolicyDocument"];
        assert_eq!(statements(trust).len(), 1, "{trust:#}");
        assert_eq!(
            statements(trust)[0]["Principal"],
            json!({ "AWS": AGENT_ROLE_ARN }),
            "{trust:#}"
        );
        assert_eq!(
            string_set(&statements(trust)[0]["Action"]),
            set(["sts:AssumeRole"]),
            "{trust:#}"
        );
    }
    let testing_roles = snap.keys(&["accounts", TESTING_ACCOUNT, "roles"]);
    assert!(!testing_roles.contains(&"ArgoCD".to_owned()), "{testing_roles:?}");
    assert_mapped_once(&snap, MGMT_ACCOUNT, "qa", QA_DEPLOYER);
    assert_mapped_once(&snap, TESTING_ACCOUNT, "staging", STAGING_DEPLOYER);

    let policy = snap.get(&[
        "accounts",
        MGMT_ACCOUNT,
        "roles",
        "ArgoCD",
        "InlinePolicies",
        "AssumeRole",
    ]);
    let mut resources = std::collections::BTreeSet::new();
    for st in statements(policy) {
        assert_eq!(st["Effect"], "Allow", "{policy:#}");
        assert_eq!(string_set(&st["Action"]), set(["sts:AssumeRole"]), "{policy:#}");
        resources.extend(string_set(&st["Resource"]));
    }
    assert_eq!(resources, set([QA_DEPLOYER, STAGING_DEPLOYER]), "{policy:#}");
    super::up::assert_agent_uses_role(&snap, MGMT_ACCOUNT, AGENT_ROLE_ARN);

    // a second run: nothing to change
    let mark = sb.mark();
    let out = sb.gitops_iam(&up);
    out.success();
    let summary = check_events(&out);
    let since = sb.commands_since(mark);
    assert_eq!(summary["mutating_commands"], 0, "{summary}");
    let lines = mutating_lines(&since);
    assert!(lines.is_empty(), "the second run changed things:\n{}", lines.join("\n"));
    assert_eq!(summary["commands"], since.len(), "{summary}");
}

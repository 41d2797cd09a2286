//! `--plan` against the fakes: the reads run, no mutating command does, the script holds what a
//! run would issue, and the exit codes follow Terraform's `plan -detailed-exitcode`. (The
//! sandbox tests `e2e::plan` and `e2e::drift` run plans against live state and run the script.)

use crate::converge::{FRESH_UP, up_with_manifest};
use crate::fakes::*;
use crate::harness::Test;
use serde_json::json;

const PLAN: [&str; 2] = ["--plan", "--detailed-exitcode"];

#[test]
fn plan_of_a_converged_account_prints_nothing_and_exits_0() {
    let out = up_with_manifest().args(PLAN).rules(converged_account()).run();
    out.status(0)
        .no_mutations()
        .stdout_eq("")
        .stderr_contains("No changes: the environment matches the settings");
    // Without --detailed-exitcode a plan that succeeds exits 0 either way.
    up_with_manifest()
        .arg("--plan")
        .rules(fresh_account())
        .run()
        .success()
        .no_mutations();
}

#[test]
fn plan_of_a_fresh_account_lists_every_command_of_a_run_and_its_script_runs_them() {
    let out = up_with_manifest().args(PLAN).rules(fresh_account()).run();
    out.status(2).no_mutations();
    // What the clusters give once they exist is read by the script when it runs.
    out.stdout_contains("OIDC_PROVIDER=$(aws eks describe-cluster --name management")
        .stdout_contains(
            "gitops-iam render trust --region us-east-1 --account-id 123456789012 --oidc-provider \"${OIDC_PROVIDER}\"",
        )
        .stderr_contains("Plan: 12 changes:")
        .stderr_contains("  mgmt: cluster management: create EKS cluster management");
    // The script, run against the same fresh account, issues exactly the commands of a run.
    let replay = Test::new()
        .rules(fresh_account())
        .write("agent.yaml", AGENT_MANIFEST)
        .write("plan.sh", &out.stdout)
        .bash(["plan.sh"])
        .run();
    replay.success().mutating_unordered(&FRESH_UP);
}

#[test]
fn plan_json_lists_the_planned_commands_as_events() {
    let out = up_with_manifest()
        .args(PLAN)
        .args(["--output", "json"])
        .rules(fresh_account())
        .run();
    out.status(2).no_mutations();
    let events: Vec<serde_json::Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let planned: Vec<String> = events
        .iter()
        .filter(|e| e["event"] == "planned")
        .map(|e| e["command"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(planned.len(), FRESH_UP.len(), "{}", out.context());
    assert!(
        planned.contains(&crate::converge::MGMT_CLUSTER.to_string()),
        "{planned:#?}"
    );
    let mgmt = events.iter().find(|e| e["event"] == "planned").unwrap();
    assert!(mgmt["step"].is_string() && mgmt["purpose"].is_string(), "{mgmt}");
    assert_eq!(events.last().unwrap()["event"], "plan");
    assert_eq!(events.last().unwrap()["changes"], json!(FRESH_UP.len()));
    assert_eq!(events.last().unwrap()["exit_code"], json!(2));
}

#[test]
fn plan_exit_codes_follow_terraform_and_read_only_commands_refuse_it() {
    // --detailed-exitcode: 1 for every error, usage errors included (2 means "changes")
    Test::new()
        .args(["up", "--detailed-exitcode"])
        .run()
        .status(1)
        .no_calls();
    Test::new()
        .args(["up", "--plan", "--dry-run"])
        .run()
        .status(2)
        .no_calls();
    Test::new()
        .args(["verify", "--plan"])
        .run()
        .status(2)
        .no_calls()
        .stderr_contains("this one changes nothing: run it without --plan");
    Test::new()
        .args(["verify", "--plan", "--detailed-exitcode"])
        .run()
        .status(1)
        .no_calls();
    Test::new()
        .args(["render", "policy", "--plan", "--detailed-exitcode", "--assume-any-role"])
        .run()
        .status(1)
        .no_calls();
}

#[test]
fn render_merge_current_keeps_other_principals_statements() {
    let other = json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:role/Other"}, "Action": "sts:AssumeRole"});
    let stale = json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/ArgoCD"}, "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:SecureTransport": "true"}}});
    let current = json!({"Version": "2012-10-17", "Statement": [stale, other]});
    let ours = render(&["deployer-trust", "--account-id", ACCOUNT]);
    let merge = |contents: &str| {
        Test::new()
            .write("current.json", contents)
            .args([
                "render",
                "deployer-trust",
                "--account-id",
                ACCOUNT,
                "--merge-current",
                "current.json",
            ])
            .run()
    };
    let out = merge(&current.to_string());
    out.success().no_calls();
    // ours in the place of the stale statement of the same principal, the other kept
    out.stdout_json(json!({"Version": "2012-10-17", "Statement": [ours["Statement"][0], other]}));
    // stdin, as a plan's script pipes `aws iam get-role --query Role.AssumeRolePolicyDocument`
    Test::new()
        .write("current.json", &current.to_string())
        .bash([
            "-c",
            &format!("gitops-iam render deployer-trust --account-id {ACCOUNT} --merge-current - < current.json"),
        ])
        .run()
        .success()
        .stdout_json(json!({"Version": "2012-10-17", "Statement": [ours["Statement"][0], other]}));
    merge("not json").status(2).stderr_contains("--merge-current");
}

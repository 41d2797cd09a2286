//! Dry-run: `--dry-run` runs nothing, needs no tools or credentials, and prints a bash script
//! that is exactly a real run from scratch. The parity tests prove "exactly": they run the
//! script with bash against the same fakes as a real run and compare the mutating argv and the
//! policy files byte for byte (each in its own directory, with the same relative state dir).

use crate::fakes::*;
use crate::harness::{Output, Test, assert_lines_eq};

/// The commands whose scripts the tests check.
const COMMANDS: [&[&str]; 6] = [
    &["up", "--region", REGION, "--agent-manifest", "agent.yaml"],
    &["up", "--region", REGION],
    &["up"],
    &["mgmt", "--region", REGION],
    &["testing", "--region", REGION],
    &["agent", "patch", "--region", REGION],
];

/// `gitops-iam ARGS --dry-run` with no tool on PATH; must succeed.
#[track_caller]
fn script(args: &[&str]) -> Output {
    let out = Test::new().no_fakes().args(args).arg("--dry-run").run();
    out.success();
    out
}

#[test]
fn dry_run_needs_no_tools_and_no_credentials() {
    // No aws, eksctl or kubectl on PATH, no AWS_* variable, no HOME config.
    for args in COMMANDS {
        let out = script(args);
        assert!(
            out.stdout.starts_with("#!/usr/bin/env bash\n"),
            "not a bash script\n{}",
            out.context()
        );
    }
}

#[test]
fn dry_run_runs_no_external_command() {
    for args in COMMANDS {
        Test::new()
            .rules(fresh_account())
            .args(args)
            .arg("--dry-run")
            .run()
            .success()
            .no_calls();
    }
}

#[test]
fn dry_run_scripts_pass_bash_syntax_check() {
    let mut variants: Vec<Vec<&str>> = COMMANDS.iter().map(|a| a.to_vec()).collect();
    variants.push(vec!["up", "--region", REGION, "--state-dir", "dir with spaces"]);
    variants.push(vec![
        "up",
        "--region",
        REGION,
        "--agent-manifest",
        "my agent's manifest.yaml",
    ]);
    for args in variants {
        let out = script(&args);
        Test::new()
            .no_fakes()
            .write("script.sh", &out.stdout)
            .bash(["-n", "script.sh"])
            .run()
            .success();
    }
}

#[test]
fn dry_run_stdout_is_only_comments_assignments_and_commands() {
    let commands = ["aws ", "eksctl ", "kubectl ", "gitops-iam ", "mkdir ", "set "];
    for args in COMMANDS {
        let out = script(args);
        let chatter: Vec<String> = out
            .stdout
            .lines()
            .filter(|l| !l.is_empty())
            .filter(|l| {
                let assignment = l.split_once('=').is_some_and(|(name, _)| {
                    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                });
                !(l.starts_with('#') || assignment || commands.iter().any(|c| l.starts_with(c)))
            })
            .map(str::to_string)
            .collect();
        assert_lines_eq(
            "lines that are not script",
            &chatter,
            crate::harness::NOTHING,
            &out.context(),
        );
    }
}

#[test]
fn dry_run_with_account_id_reads_no_account_and_writes_it_literally() {
    let out = script(&[
        "up",
        "--region",
        REGION,
        "--account-id",
        ACCOUNT,
        "--agent-manifest",
        "agent.yaml",
    ]);
    assert!(!out.stdout.contains("sts get-caller-identity"), "{}", out.context());
    assert!(!out.stdout.contains("ACCOUNT_ID"), "{}", out.context());
    out.stdout_contains(&format!("eks.amazonaws.com/role-arn={AGENT_ROLE_ARN}"))
        .stdout_contains(&format!("--arn {DEPLOYER_ROLE_ARN} "));
}

#[test]
fn dry_run_without_region_reads_it_from_the_environment_at_run_time() {
    let out = script(&["mgmt"]);
    out.stdout_contains("AWS_REGION=\"${AWS_REGION:-${AWS_DEFAULT_REGION:?")
        .stdout_contains("--region \"${AWS_REGION}\"");
    // Run with neither variable set, the script stops before its first command.
    let replay = Test::new()
        .rules(fresh_account())
        .write("script.sh", &out.stdout)
        .bash(["script.sh"])
        .run();
    replay
        .status(1)
        .no_calls()
        .stderr_contains("pass --region to gitops-iam or set AWS_REGION");
}

/// Runs `args` for real (with `real_rules`) and as a dry-run script replayed by bash (with
/// `rules`), each in its own directory, and checks that both issued the same mutating argv in
/// the same order, that the script's reads are reads the real run made too, and that both wrote
/// the same files into the policy directory.
#[track_caller]
fn assert_parity(args: &[&str], real_rules: Rules, rules: Rules, state_dir: &str) -> (Output, Output) {
    let printed = script(args);
    let real = Test::new()
        .rules(real_rules)
        .write("agent.yaml", AGENT_MANIFEST)
        .args(args)
        .run();
    real.success();
    let replay = Test::new()
        .rules(rules)
        .write("agent.yaml", AGENT_MANIFEST)
        .write("script.sh", &printed.stdout)
        .bash(["script.sh"])
        .run();
    let context = format!(
        "=== the script:\n{}\n=== its run:\n{}\n=== the real run:\n{}",
        printed.stdout,
        replay.context(),
        real.context()
    );
    assert!(!real.mutating_commands().is_empty(), "nothing to compare\n{context}");
    assert_lines_eq(
        "mutating commands (- real run, + script)",
        &replay.mutating_commands(),
        &real.mutating_commands(),
        &context,
    );
    assert_eq!(replay.mutating_argv(), real.mutating_argv(), "argv differ\n{context}");
    assert_eq!(replay.status, 0, "the script failed\n{context}");
    let real_reads = real.commands();
    let foreign: Vec<String> = replay
        .calls
        .iter()
        .filter(|c| !c.is_mutating())
        .map(|c| c.line())
        .filter(|l| !real_reads.contains(l))
        .collect();
    assert_lines_eq(
        "reads of the script that the real run does not make",
        &foreign,
        crate::harness::NOTHING,
        &context,
    );
    let policies = format!("{state_dir}/policies");
    let (have, want) = (replay.files(&policies), real.files(&policies));
    let names = |files: &[(String, Vec<u8>)]| files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_lines_eq(
        "policy files (- real run, + script)",
        &names(&have),
        &names(&want),
        &context,
    );
    for ((name, script_bytes), (_, real_bytes)) in have.iter().zip(&want) {
        crate::harness::assert_text_eq(
            &format!("{policies}/{name} (- real run, + script)"),
            &String::from_utf8_lossy(script_bytes),
            &String::from_utf8_lossy(real_bytes),
            &context,
        );
    }
    (real, replay)
}

#[test]
fn script_of_up_with_agent_manifest_does_what_a_real_run_does() {
    let rules = fresh_account().in_script_order();
    let (real, _) = assert_parity(
        &["up", "--region", REGION, "--agent-manifest", "agent.yaml"],
        rules.clone(),
        rules,
        ".gitops-iam",
    );
    real.mutating(&crate::converge::FRESH_UP);
}

#[test]
fn script_of_up_without_agent_manifest_does_what_a_real_run_does() {
    // Pin the real run's concurrent branches to the script's order.
    let rules = fresh_account()
        .with(Rule::wait(
            "aws",
            "eks describe-cluster --name testing ",
            "aws iam put-role-policy",
        ))
        .with(Rule::wait(
            "aws",
            "iam get-role --role-name Deployer ",
            "get statefulset argocd-application-controller",
        ));
    assert_parity(&["up", "--region", REGION], rules.clone(), rules, ".gitops-iam");
}

#[test]
fn script_of_mgmt_does_what_a_real_run_does() {
    assert_parity(
        &["mgmt", "--region", REGION],
        fresh_account(),
        fresh_account(),
        ".gitops-iam",
    );
}

#[test]
fn script_of_testing_does_what_a_real_run_does() {
    assert_parity(
        &["testing", "--region", REGION],
        fresh_account(),
        fresh_account(),
        ".gitops-iam",
    );
}

#[test]
fn script_of_agent_patch_with_agent_manifest_does_what_a_real_run_does() {
    let rules = fresh_account().in_script_order();
    assert_parity(
        &["agent", "patch", "--region", REGION, "--agent-manifest", "agent.yaml"],
        rules.clone(),
        rules,
        ".gitops-iam",
    );
}

#[test]
fn script_quotes_a_state_dir_with_spaces() {
    let rules = fresh_account().in_script_order();
    let (_, replay) = assert_parity(
        &[
            "up",
            "--region",
            REGION,
            "--agent-manifest",
            "agent.yaml",
            "--state-dir",
            "dir with spaces",
        ],
        rules.clone(),
        rules,
        "dir with spaces",
    );
    let argv = replay.mutating_argv();
    let has_word = |word: &str| argv.iter().any(|a| a.iter().any(|w| w == word));
    assert!(
        has_word("file://dir with spaces/policies/trust-ArgoCD.json"),
        "{argv:#?}"
    );
    assert!(has_word("dir with spaces/kubeconfig/mgmt-management.yaml"), "{argv:#?}");
}

/// The agent installed by hand (in its namespace), nothing patched yet.
fn agent_installed_unpatched() -> Rules {
    let mut rules = converged_account().with(
        Rule::new("kubectl", "create namespace iam")
            .kubectl_error("AlreadyExists", "namespaces \"iam\" already exists"),
    );
    for (sa, kind, _, name) in AGENT_OBJECTS {
        rules = rules
            .with(Rule::new("kubectl", &format!("get serviceaccount {sa} ")).json(service_account(sa, None)))
            .with(Rule::new("kubectl", &format!("get {kind} {name} ")).json(workload(kind, name, None)));
    }
    rules.with(
        Rule::wait(
            "kubectl",
            "get serviceaccount argocd-application-controller ",
            "rollout status deployment/gitops-agent",
        )
        .skip(1),
    )
}

#[test]

fn script_of_agent_patch_on_an_installed_agent_does_what_a_real_run_does() {
    let rules = agent_installed_unpatched();
    assert_parity(
        &["agent", "patch", "--region", REGION],
        rules.clone(),
        rules,
        ".gitops-iam",
    );
}

#[test]

fn script_without_region_matches_a_real_run_in_the_region_given_at_run_time() {
    let printed = script(&["testing"]);
    let real = Test::new()
        .rules(fresh_account())
        .args(["testing", "--region", "cn-north-1"])
        .run();
    real.success();
    let replay = Test::new()
        .rules(fresh_account())
        .env("AWS_REGION", "cn-north-1")
        .write("script.sh", &printed.stdout)
        .bash(["script.sh"])
        .run();
    replay.success();
    let context = format!(
        "=== the script:\n{}\n=== its run:\n{}",
        printed.stdout,
        replay.context()
    );
    assert_lines_eq(
        "mutating commands (- real run, + script)",
        &replay.mutating_commands(),
        &real.mutating_commands(),
        &context,
    );
    assert_eq!(
        replay.files(".gitops-iam/policies"),
        real.files(".gitops-iam/policies"),
        "{context}"
    );
}

#[test]

fn script_survives_a_newline_in_an_argument() {
    let out = script(&["up", "--region", REGION, "--agent-manifest", "agent\nv2.yaml"]);
    Test::new()
        .no_fakes()
        .write("script.sh", &out.stdout)
        .bash(["-n", "script.sh"])
        .run()
        .success();
}

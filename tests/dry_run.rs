//! Dry-run: `--dry-run` runs nothing, needs no tools or credentials, and prints a bash script
//! that is exactly a real run from scratch. The parity tests prove "exactly": they run the
//! script with bash against the same fakes as a real run and compare the mutating argv (each
//! as often; a real run runs independent steps concurrently, so in an order of its own) and
//! the policy files byte for byte (each in its own directory, with the same relative state dir).
//! The order is checked on each side: the script's lines exactly, the real run's against the
//! dependencies between steps.

use crate::converge::{
    AGENT_ROLE, ANNOTATE_AGENT, ANNOTATE_CONTROLLER, APPLY, DEPLOYER_ROLE, FRESH_UP, MAPPING, MGMT_CLUSTER, NAMESPACE,
    PATCH_DEPLOYMENT, PATCH_STATEFULSET, POLICY, TESTING_CLUSTER, assert_fresh_up_order,
};
use crate::fakes::*;
use crate::harness::{Output, Test, assert_lines_eq, assert_lines_eq_unordered};

/// The commands whose scripts the tests check.
const COMMANDS: [&[&str]; 6] = [
    &["up", "--region", REGION, "--agent-manifest", "agent.yaml"],
    &["up", "--region", REGION],
    &["up"],
    &["mgmt", "--region", REGION],
    &["testing", "--region", REGION],
    &["agent", "patch", "--region", REGION],
];

/// `agent install` of an account-level agent of a self-managed Harness.
const AGENT_INSTALL: [&str; 10] = [
    "agent",
    "install",
    "--region",
    REGION,
    "--harness-url",
    "https://h.example/gateway",
    "--harness-account",
    "acc1",
    "--agent-id",
    "account.myagent",
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
    // issue 14: the agent's download, its subshell and the bounded wait
    variants.push(AGENT_INSTALL.to_vec());
    variants.push([&AGENT_INSTALL[..], &["--api-key-file", "the key.txt"]].concat());
    for args in variants {
        let out = script(&args);
        assert_bash_syntax(&out.stdout);
    }
}

/// `bash -n`: the script parses.
#[track_caller]
fn assert_bash_syntax(script: &str) {
    Test::new()
        .no_fakes()
        .write("script.sh", script)
        .bash(["-n", "script.sh"])
        .run()
        .success();
}

#[test]
fn dry_run_stdout_is_only_comments_assignments_and_commands() {
    // `wait "$JOB_n"`: the cluster creations run in the background, like a real run's.
    let commands = [
        "aws ",
        "eksctl ",
        "kubectl ",
        "gitops-iam ",
        "mkdir ",
        "set ",
        "export ",
        "wait \"$JOB_",
        // the script's helper that waits out IAM propagation around a command, as a real run does
        "wait_out_propagation ",
    ];
    for args in COMMANDS {
        let out = script(args);
        // ... and its definition, once, before its first use
        let (before, helper) = match out.stdout.split_once("wait_out_propagation() {\n") {
            Some((before, rest)) => (before.to_string(), rest.split_once("\n}\n").expect("the helper ends").1),
            None => (String::new(), out.stdout.as_str()),
        };
        let stdout = before + helper;
        let chatter: Vec<String> = stdout
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

/// What a real run gives every aws child (aws CLI v2's error format and auto-prompt, which a
/// profile may change), the script exports once, before its first command.
#[test]
fn dry_run_script_pins_the_aws_cli_conventions_before_any_command() {
    for args in COMMANDS {
        let out = script(args);
        let lines: Vec<&str> = out.stdout.lines().collect();
        let export = lines
            .iter()
            .position(|l| *l == "export AWS_CLI_ERROR_FORMAT=legacy AWS_CLI_AUTO_PROMPT=off");
        let first = lines
            .iter()
            .position(|l| l.starts_with("aws ") || l.contains("=$(aws ") || l.starts_with("kubectl "));
        assert!(
            export.is_some() && export < first,
            "no export before the first aws/kubectl command\n{}",
            out.context()
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
/// `rules`), each in its own directory, and checks that both issued the same mutating argv, each
/// as often (the order is each test's to check: the script's lines exactly, with
/// [`assert_script_order`], the runs against the dependencies), that the script's reads are
/// reads the real run made too, and that both wrote the same files into the policy directory.
#[track_caller]
fn assert_parity(args: &[&str], real_rules: Rules, rules: Rules, state_dir: &str) -> Parity {
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
    assert_lines_eq_unordered(
        "mutating commands (- real run, + script)",
        &replay.mutating_commands(),
        &real.mutating_commands(),
        &context,
    );
    let sorted = |mut argv: Vec<Vec<String>>| {
        argv.sort();
        argv
    };
    assert_eq!(
        sorted(replay.mutating_argv()),
        sorted(real.mutating_argv()),
        "argv differ (sorted)\n{context}"
    );
    assert_eq!(replay.status, 0, "the script failed\n{context}");
    let real_reads = real.commands();
    let foreign: Vec<String> = replay
        .calls
        .iter()
        .filter(|c| !c.is_mutating())
        .map(super::harness::Call::line)
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
    Parity { printed, real, replay }
}

/// The three runs of a parity test.
struct Parity {
    /// `gitops-iam ARGS --dry-run`: the script on stdout.
    printed: Output,
    /// `gitops-iam ARGS`.
    real: Output,
    /// bash on the script.
    replay: Output,
}

/// Plain words that name each command of [`FRESH_UP`] on its line of a script (which quotes
/// and parametrises the rest of the line).
const SCRIPT_WORDS: [(&str, &str); 12] = [
    (MGMT_CLUSTER, "eksctl create cluster --name management "),
    (NAMESPACE, " create namespace iam"),
    (APPLY, " apply -f agent.yaml"),
    (ANNOTATE_AGENT, " annotate serviceaccount gitops-agent "),
    (PATCH_DEPLOYMENT, " patch deployment gitops-agent "),
    (
        ANNOTATE_CONTROLLER,
        " annotate serviceaccount argocd-application-controller ",
    ),
    (PATCH_STATEFULSET, " patch statefulset argocd-application-controller "),
    (AGENT_ROLE, "aws iam create-role --role-name ArgoCD "),
    (POLICY, "aws iam put-role-policy "),
    (DEPLOYER_ROLE, "aws iam create-role --role-name Deployer "),
    (TESTING_CLUSTER, "eksctl create cluster --name testing "),
    (MAPPING, "eksctl create iamidentitymapping "),
];

/// The script prints exactly the commands `want` (of [`FRESH_UP`]), each on one line, in this
/// order: the script's own line order, whatever order bash then runs them in (a script may
/// start slow commands side by side).
#[track_caller]
fn assert_script_order(printed: &Output, want: &[&str]) {
    let have: Vec<String> = printed
        .stdout
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(|l| {
            SCRIPT_WORDS
                .iter()
                .filter(move |(_, words)| l.contains(words))
                .map(|(command, _)| command.to_string())
        })
        .collect();
    assert_lines_eq(
        "the script's mutating commands, in its line order",
        &have,
        want,
        &printed.context(),
    );
}

/// The order `testing` needs (plain words, so any region matches): the mapping after both the
/// testing cluster and the Deployer role, the inline policy after the mapping. The Deployer
/// role and the cluster are independent.
#[track_caller]
fn assert_testing_order(out: &Output) {
    out.before(
        "eksctl create cluster --name testing ",
        "eksctl create iamidentitymapping ",
    )
    .before(
        "aws iam create-role --role-name Deployer ",
        "eksctl create iamidentitymapping ",
    )
    .before("eksctl create iamidentitymapping ", "aws iam put-role-policy ");
}

#[test]
fn script_of_up_with_agent_manifest_does_what_a_real_run_does() {
    let Parity { printed, real, replay } = assert_parity(
        &["up", "--region", REGION, "--agent-manifest", "agent.yaml"],
        fresh_account(),
        fresh_account(),
        ".gitops-iam",
    );
    real.mutating_unordered(&FRESH_UP);
    // The script: both clusters (in the background, then waited for), agent patch, agent role,
    // policy, Deployer role, mapping.
    assert_script_order(&printed, &FRESH_UP);
    assert_fresh_up_order(&real);
    assert_fresh_up_order(&replay);
}

#[test]
fn script_of_up_without_agent_manifest_does_what_a_real_run_does() {
    let Parity { printed, real, replay } = assert_parity(
        &["up", "--region", REGION],
        fresh_account(),
        fresh_account(),
        ".gitops-iam",
    );
    let want = [
        MGMT_CLUSTER,
        TESTING_CLUSTER,
        NAMESPACE,
        AGENT_ROLE,
        POLICY,
        DEPLOYER_ROLE,
        MAPPING,
    ];
    real.mutating_unordered(&want);
    assert_script_order(&printed, &want);
    assert_fresh_up_order(&real);
    assert_fresh_up_order(&replay);
}

#[test]
fn script_of_mgmt_does_what_a_real_run_does() {
    let Parity { printed, real, .. } = assert_parity(
        &["mgmt", "--region", REGION],
        fresh_account(),
        fresh_account(),
        ".gitops-iam",
    );
    // One chain, nothing concurrent: the same order on both sides.
    real.mutating(&[MGMT_CLUSTER, AGENT_ROLE, POLICY]);
    assert_script_order(&printed, &[MGMT_CLUSTER, AGENT_ROLE, POLICY]);
}

#[test]
fn script_of_testing_does_what_a_real_run_does() {
    let Parity { printed, real, replay } = assert_parity(
        &["testing", "--region", REGION],
        after_mgmt(),
        after_mgmt(),
        ".gitops-iam",
    );
    let want = [TESTING_CLUSTER, DEPLOYER_ROLE, MAPPING, POLICY];
    real.mutating_unordered(&want);
    // The script: the cluster, the Deployer role, the mapping, then the agent's policy.
    assert_script_order(&printed, &want);
    assert_testing_order(&real);
    assert_testing_order(&replay);
}

#[test]
fn script_of_agent_patch_with_agent_manifest_does_what_a_real_run_does() {
    let Parity { printed, real, replay } = assert_parity(
        &["agent", "patch", "--region", REGION, "--agent-manifest", "agent.yaml"],
        after_mgmt(),
        after_mgmt(),
        ".gitops-iam",
    );
    let want = [
        NAMESPACE,
        APPLY,
        ANNOTATE_AGENT,
        PATCH_DEPLOYMENT,
        ANNOTATE_CONTROLLER,
        PATCH_STATEFULSET,
    ];
    real.mutating_unordered(&want);
    assert_script_order(&printed, &want);
    assert_fresh_up_order(&real);
    assert_fresh_up_order(&replay);
}

#[test]
fn script_quotes_a_state_dir_with_spaces() {
    let rules = fresh_account();
    let Parity { replay, .. } = assert_parity(
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
    assert!(
        has_word("dir with spaces/kubeconfig/123456789012-us-east-1-management.yaml"),
        "{argv:#?}"
    );
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
    rules
}

#[test]

fn script_of_agent_patch_on_an_installed_agent_does_what_a_real_run_does() {
    let rules = agent_installed_unpatched();
    let Parity { printed, real, replay } = assert_parity(
        &["agent", "patch", "--region", REGION],
        rules.clone(),
        rules,
        ".gitops-iam",
    );
    let want = [ANNOTATE_AGENT, PATCH_DEPLOYMENT, ANNOTATE_CONTROLLER, PATCH_STATEFULSET];
    real.mutating_unordered(&want);
    // The two workloads are patched concurrently; each annotation before its fsGroup patch.
    assert_script_order(&printed, &want);
    assert_fresh_up_order(&real);
    assert_fresh_up_order(&replay);
}

#[test]

fn script_without_region_matches_a_real_run_in_the_region_given_at_run_time() {
    let printed = script(&["testing"]);
    let real = Test::new()
        .rules(after_mgmt_in("aws-cn"))
        .args(["testing", "--region", "cn-north-1"])
        .run();
    real.success();
    let replay = Test::new()
        .rules(after_mgmt_in("aws-cn"))
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
    assert_lines_eq_unordered(
        "mutating commands (- real run, + script)",
        &replay.mutating_commands(),
        &real.mutating_commands(),
        &context,
    );
    assert_testing_order(&replay);
    assert_testing_order(&real);
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

/// Issue 13: `verify --live --dry-run` prints the hops as a script: the token into a 0600 file
/// that is removed, each hop's credentials into shell variables that only the next child's
/// environment names; valid bash, and nothing runs.
#[test]
fn dry_run_of_verify_live_prints_the_hops_with_credentials_in_variables() {
    let args = ["verify", "--live", "--region", REGION];
    Test::new()
        .rules(fresh_account())
        .args(args)
        .arg("--dry-run")
        .run()
        .success()
        .no_calls();
    let out = script(&args);
    let token = "--audience sts.amazonaws.com --duration 10m > .gitops-iam/live-token-gitops-agent)";
    let want = [
        "(umask 077 && kubectl ",
        token,
        "if ! AGENT_CREDS=$(aws sts assume-role-with-web-identity --role-arn \"arn:aws:iam::${ACCOUNT_ID}:role/ArgoCD\" --role-session-name gitops-iam-verify --web-identity-token file://.gitops-iam/live-token-gitops-agent ",
        "rm -f .gitops-iam/live-token-gitops-agent\n",
        "read -r AGENT_KEY AGENT_SECRET AGENT_SESSION <<<\"${AGENT_CREDS}\"",
        "DEPLOYER_CREDS=$(AWS_ACCESS_KEY_ID=\"${AGENT_KEY}\" AWS_SECRET_ACCESS_KEY=\"${AGENT_SECRET}\" AWS_SESSION_TOKEN=\"${AGENT_SESSION}\" aws sts assume-role ",
        "AWS_SESSION_TOKEN=\"${DEPLOYER_SESSION}\" kubectl --kubeconfig \".gitops-iam/kubeconfig/${ACCOUNT_ID}-us-east-1-testing.live.yaml\" --context \"${LIVE_CONTEXT}\" --user gitops-iam-live auth whoami -o json",
        "--user gitops-iam-live auth can-i '*' '*' --all-namespaces",
        "'--exec-command=aws' '--exec-arg=eks' '--exec-arg=get-token'",
        "read -r AGENT_KEY_SA2 AGENT_SECRET_SA2 AGENT_SESSION_SA2 <<<\"${AGENT_CREDS_SA2}\"",
    ];
    for w in want {
        assert!(out.stdout.contains(w), "no {w:?} in the script\n{}", out.context());
    }
    Test::new()
        .no_fakes()
        .write("script.sh", &out.stdout)
        .bash(["-n", "script.sh"])
        .run()
        .success();
}

/// `agent install --dry-run`: the agent is created (its answer, which holds the private key,
/// goes to /dev/null), its manifest downloaded into a 0600 file (umask 077) and applied
/// server-side, the agent patched, then a bounded wait until Harness reports it connected. The
/// key comes from the environment (or the key file), never from the script.
#[test]
fn agent_install_script_creates_downloads_privately_applies_patches_and_waits() {
    let base = AGENT_INSTALL;
    let out = script(&base);
    let kc = "kubectl --kubeconfig \".gitops-iam/kubeconfig/${ACCOUNT_ID}-us-east-1-management.yaml\" --context \"${MGMT_CONTEXT}\"";
    let harness: Vec<String> = out
        .stdout
        .lines()
        .filter(|l| l.contains("curl") || l.contains(" create namespace ") || l.contains(" apply "))
        .map(str::to_string)
        .collect();
    let want = [
        format!("{kc} create namespace iam"),
        "curl -sS --fail-with-body -X POST -H \"x-api-key: ${HARNESS_API_KEY}\" -H 'Content-Type: application/json' --data-binary '{\"accountIdentifier\":\"acc1\",\"identifier\":\"myagent\",\"name\":\"myagent\",\"type\":\"MANAGED_ARGO_PROVIDER\",\"metadata\":{\"namespace\":\"iam\"},\"tags\":{\"created-by\":\"gitops-iam\"}}' -o /dev/null 'https://h.example/gateway/gitops/api/v1/agents?routingId=acc1'".to_string(),
        "(umask 077 && curl -sS --fail-with-body -X GET -H \"x-api-key: ${HARNESS_API_KEY}\" --create-dirs -o .gitops-iam/agent/account.myagent.yaml 'https://h.example/gateway/gitops/api/v1/agents/myagent/deploy.yaml?accountIdentifier=acc1&routingId=acc1&namespace=iam')".to_string(),
        format!("{kc} -n iam apply -f .gitops-iam/agent/account.myagent.yaml --server-side --field-manager gitops-iam --force-conflicts"),
        "deadline=$((SECONDS + 300)); until curl -sS --fail-with-body -X GET -H \"x-api-key: ${HARNESS_API_KEY}\" 'https://h.example/gateway/gitops/api/v1/agents/myagent?accountIdentifier=acc1&routingId=acc1' | grep -Eq '\"connectionStatus\" *: *\"CONNECTED\"'; do (( SECONDS < deadline )) || { echo 'Harness does not report GitOps agent account.myagent connected after 300s' >&2; exit 1; }; sleep 2; done".to_string(),
    ];
    assert_lines_eq("the agent's lines", &harness, &want, &out.context());
    // between the apply and the wait: the patch of both workloads, as `agent patch` prints it
    let after_apply = out.stdout.split_once(" --force-conflicts\n").unwrap().1;
    for needle in [
        "annotate serviceaccount gitops-agent",
        "patch deployment gitops-agent",
        "rollout status deployment/gitops-agent",
        "rollout status statefulset/argocd-application-controller",
    ] {
        assert!(
            after_apply.split_once("deadline=").unwrap().0.contains(needle),
            "{needle}\n{}",
            out.context()
        );
    }

    // with a key file, the script reads it before its first request
    let with_file = script(&[&base[..], &["--api-key-file", "key.txt", "--wait-timeout", "90s"]].concat());
    let first_curl = with_file.stdout.find("curl ").unwrap();
    let read = with_file
        .stdout
        .find("HARNESS_API_KEY=\"$(cat key.txt)\"\n")
        .expect("reads the key file");
    assert!(read < first_curl, "{}", with_file.context());
    assert!(
        with_file.stdout.contains("deadline=$((SECONDS + 90))"),
        "{}",
        with_file.context()
    );
}

/// `app guestbook --dry-run`: the repository, the application and its sync as `curl`, in that
/// order (the application after the read of the testing endpoint), then a bounded wait; a valid bash script that
/// refers to the key and never holds it. (Run for real: `e2e::guestbook_e2e`.)
#[test]
fn script_of_app_guestbook_posts_repository_application_and_sync_then_waits() {
    let args = [
        "app",
        "guestbook",
        "--region",
        REGION,
        "--harness-account",
        "acc",
        "--agent-id",
        "myagent",
        "--harness-org",
        "default",
        "--harness-project",
        "gitops",
    ];
    let out = Test::new()
        .no_fakes()
        .env("HARNESS_API_KEY", "pat.secret.key")
        .args(args)
        .arg("--dry-run")
        .run();
    out.success();
    assert!(!out.stdout.contains("pat.secret.key"), "{}", out.context());
    let base = "https://app.harness.io/gateway/gitops/api/v1/agents/myagent";
    let q = "accountIdentifier=acc&routingId=acc&orgIdentifier=default&projectIdentifier=gitops";
    let curls: Vec<&str> = out.stdout.lines().filter(|l| l.contains("curl ")).collect();
    let want = [
        format!("{base}/repositories?{q}&identifier=argocd_example_apps'"),
        format!("{base}/applications?{q}&clusterIdentifier=testing&repoIdentifier=argocd_example_apps'"),
        format!("{base}/applications/guestbook/sync?{q}'"),
        format!(
            "-X GET -H \"x-api-key: ${{HARNESS_API_KEY}}\" '{base}/applications/guestbook?{q}' | grep -q '\"Healthy\"'"
        ),
    ];
    assert_eq!(curls.len(), want.len(), "{}", out.context());
    for (line, want) in curls.iter().zip(&want) {
        assert!(
            line.contains(want.as_str()),
            "{want}\nnot in\n{line}\n{}",
            out.context()
        );
    }
    assert!(
        curls[1].contains(r#""server":"'"${TESTING_ENDPOINT}"'""#),
        "{}",
        curls[1]
    );
    assert!(
        curls[3].starts_with("deadline=$((SECONDS + 300)); until curl"),
        "{}",
        curls[3]
    );
    let endpoint = out
        .stdout
        .find("TESTING_ENDPOINT=$(aws eks describe-cluster --name testing")
        .expect("the endpoint is read");
    assert!(endpoint < out.stdout.find(curls[1]).unwrap(), "{}", out.context());
    assert_bash_syntax(&out.stdout);
}

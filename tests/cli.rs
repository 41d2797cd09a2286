//! The command-line surface: help, version, flag placement, completions, man page, `render`
//! and `doctor` — everything a user meets before a real run.

use crate::fakes::{ACCOUNT, OIDC_PROVIDER, converged_account};
use crate::harness::{Test, assert_lines_eq};
use serde_json::json;

/// Flags every command accepts (they are global, before or after the subcommand).
const GLOBAL_FLAGS: [&str; 18] = [
    "--config",
    "--region",
    "--profile",
    "--dry-run",
    "--verbose",
    "--quiet",
    "--state-dir",
    "--mgmt-cluster",
    "--testing-cluster",
    "--namespace",
    "--agent-role",
    "--deployer-role",
    "--account-id",
    "--testing-account-id",
    "--testing-profile",
    "--identity-group",
    "--identity-username",
    "--cluster-access",
];

const REGISTER_FLAGS: [&str; 8] = [
    "--to",
    "--harness-account",
    "--harness-org",
    "--harness-project",
    "--agent-id",
    "--cluster-id",
    "--harness-url",
    "--api-key-file",
];

#[test]
fn help_of_every_command_lists_its_flags_and_the_global_ones() {
    let up_flags: Vec<&str> = [
        "--assume-any-role",
        "--agent-manifest",
        "--wait-timeout",
        "--with-guestbook",
        "--app-timeout",
    ]
    .into_iter()
    .chain(REGISTER_FLAGS)
    .collect();
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec![],
            vec![
                "mgmt",
                "agent",
                "testing",
                "up",
                "app",
                "register",
                "verify",
                "down",
                "render",
                "doctor",
                "completions",
                "man",
            ],
        ),
        (vec!["mgmt"], vec!["--assume-any-role"]),
        (vec!["agent"], vec!["patch", "install"]),
        (vec!["agent", "patch"], vec!["--agent-manifest", "--wait-timeout"]),
        (
            vec!["agent", "install"],
            ["--wait-timeout"].into_iter().chain(REGISTER_FLAGS).collect(),
        ),
        (vec!["testing"], vec![]),
        (vec!["up"], up_flags),
        (vec!["register"], REGISTER_FLAGS.to_vec()),
        (vec!["app"], vec!["guestbook"]),
        (
            vec!["app", "guestbook"],
            ["--app-timeout"].into_iter().chain(REGISTER_FLAGS).collect(),
        ),
        (vec!["verify"], REGISTER_FLAGS.to_vec()),
        (
            vec!["down"],
            ["--yes", "--keep-clusters"].into_iter().chain(REGISTER_FLAGS).collect(),
        ),
        (
            vec!["render"],
            vec![
                "trust",
                "policy",
                "deployer-trust",
                "argocd-secret",
                "argocd-application",
            ],
        ),
        (vec!["render", "trust"], vec!["--oidc-provider"]),
        (
            vec!["render", "policy"],
            vec!["--deployer-role-arn", "--assume-any-role"],
        ),
        (vec!["render", "deployer-trust"], vec!["--agent-role-arn"]),
        (
            vec!["render", "argocd-secret"],
            vec!["--server", "--ca-data", "--role-arn"],
        ),
        (vec!["render", "argocd-application"], vec!["--server", "--name"]),
        (vec!["doctor"], vec![]),
        (vec!["completions"], vec!["bash", "zsh", "fish"]),
        (vec!["man"], vec![]),
    ];
    let mut missing = Vec::new();
    for (command, own) in cases {
        let out = Test::new().no_state_dir().args(&command).arg("--help").run();
        out.success();
        for flag in own.iter().chain(GLOBAL_FLAGS.iter()) {
            if !out.stdout.contains(flag) {
                missing.push(format!("gitops-iam {} --help: {flag}", command.join(" ")));
            }
        }
    }
    assert_lines_eq("missing from --help", &missing, crate::harness::NOTHING, "");
}

#[test]
fn version_prints_the_package_version() {
    Test::new()
        .no_state_dir()
        .arg("--version")
        .run()
        .success()
        .stdout_eq(&format!("gitops-iam {}\n", env!("CARGO_PKG_VERSION")));
}

/// The script without its second line, which records the invocation as typed.
fn script_body(stdout: &str) -> String {
    stdout
        .lines()
        .filter(|l| !l.starts_with("# gitops-iam "))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn global_flags_work_before_and_after_the_subcommand() {
    let orders: [&[&str]; 3] = [
        &["--region", "us-east-1", "up", "--account-id", ACCOUNT, "--dry-run"],
        &["up", "--region", "us-east-1", "--account-id", ACCOUNT, "--dry-run"],
        &["--region", "us-east-1", "--account-id", ACCOUNT, "--dry-run", "up"],
    ];
    let scripts: Vec<String> = orders
        .iter()
        .map(|args| {
            let out = Test::new().args(*args).run();
            out.success().no_calls();
            script_body(&out.stdout)
        })
        .collect();
    assert!(
        scripts[0].contains(&format!("arn:aws:iam::{ACCOUNT}:role/ArgoCD")),
        "the account id was not used:\n{}",
        scripts[0]
    );
    crate::harness::assert_text_eq("script (flags after up)", &scripts[1], &scripts[0], "");
    crate::harness::assert_text_eq("script (flags before up)", &scripts[2], &scripts[0], "");
}

#[test]
fn completions_for_bash_zsh_and_fish_are_scripts_for_gitops_iam() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef gitops-iam"),
        ("fish", "complete -c gitops-iam"),
    ] {
        let out = Test::new().no_state_dir().args(["completions", shell]).run();
        out.success().stdout_contains(marker).stdout_contains("agent-manifest");
    }
}

#[test]
fn man_page_is_roff() {
    let out = Test::new().no_state_dir().arg("man").run();
    out.success()
        .stdout_contains(".TH gitops-iam 1")
        .stdout_contains(".SH NAME")
        .stdout_contains(".SH OPTIONS")
        .stdout_contains("\\-\\-region");
    assert!(out.stdout.starts_with('.'), "not roff:\n{}", out.stdout);
}

#[test]
fn render_trust_prints_the_agent_role_trust_policy() {
    Test::new()
        .args([
            "render",
            "trust",
            "--account-id",
            ACCOUNT,
            "--oidc-provider",
            OIDC_PROVIDER,
            "--namespace",
            "iam",
            "--region",
            "us-east-1",
        ])
        .run()
        .success()
        .no_calls()
        .stdout_json(json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Federated": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC_PROVIDER}")},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {
                    format!("{OIDC_PROVIDER}:aud"): "sts.amazonaws.com",
                    format!("{OIDC_PROVIDER}:sub"): [
                        "system:serviceaccount:iam:gitops-agent",
                        "system:serviceaccount:iam:argocd-application-controller"
                    ]
                }}
            }]
        }));
}

#[test]
fn render_trust_accepts_the_issuer_url_and_uses_the_china_partition() {
    Test::new()
        .args([
            "render",
            "trust",
            "--account-id",
            ACCOUNT,
            "--oidc-provider",
            "https://oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC",
            "--namespace",
            "gitops",
            "--region",
            "cn-north-1",
        ])
        .run()
        .success()
        .stdout_json(json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Federated": format!("arn:aws-cn:iam::{ACCOUNT}:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC")},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {
                    "oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC:aud": "sts.amazonaws.com",
                    "oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC:sub": [
                        "system:serviceaccount:gitops:gitops-agent",
                        "system:serviceaccount:gitops:argocd-application-controller"
                    ]
                }}
            }]
        }));
}

#[test]
fn render_policy_prints_assume_role_on_the_deployer_role() {
    let want = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AssumeRole",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": format!("arn:aws:iam::{ACCOUNT}:role/Deployer")
        }]
    });
    Test::new()
        .args([
            "render",
            "policy",
            "--deployer-role-arn",
            &format!("arn:aws:iam::{ACCOUNT}:role/Deployer"),
        ])
        .run()
        .success()
        .stdout_json(want.clone());
    // Without an ARN: the --deployer-role of the (testing) account.
    Test::new()
        .args(["render", "policy", "--account-id", ACCOUNT])
        .run()
        .success()
        .stdout_json(want);
}

#[test]
fn render_policy_lists_several_deployer_roles() {
    Test::new()
        .args([
            "render",
            "policy",
            "--deployer-role-arn",
            "arn:aws:iam::111111111111:role/Deployer",
            "--deployer-role-arn",
            "arn:aws:iam::222222222222:role/Deployer",
        ])
        .run()
        .success()
        .stdout_json(json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "AssumeRole",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": [
                    "arn:aws:iam::111111111111:role/Deployer",
                    "arn:aws:iam::222222222222:role/Deployer"
                ]
            }]
        }));
}

#[test]
fn render_policy_assume_any_role_gives_a_star() {
    Test::new()
        .args(["render", "policy", "--assume-any-role"])
        .run()
        .success()
        .stdout_json(json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "AssumeRole",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": "*"
            }]
        }));
}

#[test]
fn render_deployer_trust_trusts_the_agent_role_without_an_empty_condition() {
    let want = |arn: &str| {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": arn},
                "Action": "sts:AssumeRole"
            }]
        })
    };
    Test::new()
        .args(["render", "deployer-trust", "--account-id", ACCOUNT])
        .run()
        .success()
        .stdout_json(want(&format!("arn:aws:iam::{ACCOUNT}:role/ArgoCD")));
    Test::new()
        .args([
            "render",
            "deployer-trust",
            "--agent-role-arn",
            "arn:aws:iam::111111111111:role/GitOps",
        ])
        .run()
        .success()
        .stdout_json(want("arn:aws:iam::111111111111:role/GitOps"));
}

#[test]
fn doctor_without_the_tools_exits_1_and_says_how_to_install_each() {
    let out = Test::new().no_fakes().args(["doctor", "--region", "us-east-1"]).run();
    out.status(1).no_calls();
    for (tool, hint) in [
        ("eksctl", "install eksctl: https://eksctl.io/installation/"),
        ("aws", "install the AWS CLI"),
        ("kubectl", "install kubectl: https://kubernetes.io/docs/tasks/tools/"),
    ] {
        let line = out
            .stdout
            .lines()
            .find(|l| l.starts_with("MISSING") && l.split_whitespace().nth(1) == Some(tool))
            .unwrap_or_else(|| panic!("no MISSING line for {tool}\n{}", out.context()));
        assert!(line.contains("not found on PATH"), "{line}");
        assert!(line.contains(hint), "{line}");
    }
}

#[test]
fn doctor_with_the_tools_credentials_and_a_region_exits_0() {
    let out = Test::new()
        .rules(converged_account())
        .args(["doctor", "--region", "us-east-1"])
        .run();
    out.success()
        .stdout_contains("0.230.0")
        .stdout_contains("aws-cli/1.45.0")
        .stdout_contains("Client Version: v1.32.0")
        .stdout_contains("us-east-1")
        .stdout_contains(&format!("account {ACCOUNT}"))
        .no_mutations()
        .no_unmatched_reads();
    assert!(
        !out.stdout.contains("MISSING"),
        "doctor found something missing:\n{}",
        out.stdout
    );
    assert!(
        out.commands()
            .contains(&"aws sts get-caller-identity --region us-east-1 --query Account --output text".to_string()),
        "{}",
        out.context()
    );
}

#[test]
fn doctor_without_a_region_exits_1_and_says_how_to_set_one() {
    Test::new()
        .rules(converged_account())
        .arg("doctor")
        .run()
        .status(1)
        .stdout_contains("pass --region or export AWS_REGION");
}

/// No `--region` and no `AWS_REGION`: the profile's `region` in the shared config file, as the
/// aws CLI and eksctl resolve it (`AWS_CONFIG_FILE`, else `~/.aws/config`; `--profile`, else
/// `AWS_PROFILE`, else `default`), passed explicitly to every call.
#[test]
fn region_comes_from_the_profile_when_no_flag_or_variable_gives_one() {
    use crate::converge::FRESH_UP;
    use crate::fakes::{AGENT_MANIFEST, fresh_account};
    // ~/.aws/config (HOME is the test's root, the parent of the work dir).
    let out = Test::new()
        .rules(fresh_account())
        .write("agent.yaml", AGENT_MANIFEST)
        .write("../.aws/config", "[default]\nregion = us-east-1\n")
        .args(["up", "--agent-manifest", "agent.yaml"])
        .run();
    out.success().mutating_unordered(&FRESH_UP).no_unmatched_reads();

    // AWS_CONFIG_FILE and a named profile; the dry-run script names the region literally.
    let out = Test::new()
        .write(
            "aws-config",
            "[default]\nregion = us-east-1\n[profile prod]\nregion = eu-west-1\n",
        )
        .env("AWS_CONFIG_FILE", "aws-config")
        .args(["mgmt", "--dry-run", "--profile", "prod"])
        .run();
    out.success()
        .stdout_contains(" --region eu-west-1 --profile prod")
        .no_calls();
    assert!(!out.stdout.contains("AWS_REGION"), "{}", out.context());

    // A variable still wins over the profile; a bad value names where it came from.
    let out = Test::new()
        .write("aws-config", "[default]\nregion = eu-west-1\n")
        .env("AWS_CONFIG_FILE", "aws-config")
        .env("AWS_REGION", "us-west-2")
        .args(["mgmt", "--dry-run"])
        .run();
    out.success().stdout_contains(" --region us-west-2");
    let out = Test::new()
        .write("aws-config", "[default]\nregion = moon-1\n")
        .env("AWS_CONFIG_FILE", "aws-config")
        .args(["mgmt", "--dry-run"])
        .run();
    out.status(2)
        .stderr_contains("invalid value \"moon-1\" for region (profile default in aws-config)");
}

#[test]
fn doctor_takes_the_region_from_the_profile_as_the_commands_do() {
    Test::new()
        .rules(converged_account())
        .write("aws-config", "[profile prod]\nregion = eu-west-1\n")
        .env("AWS_CONFIG_FILE", "aws-config")
        .args(["doctor", "--profile", "prod"])
        .run()
        .stdout_contains("eu-west-1");
}

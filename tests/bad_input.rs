//! Bad input: rejected with exit 2 before any external command runs, naming the flag and the
//! value. Every case runs a *real* run (not a dry-run) against the fakes on a fresh account, so
//! a value that slipped through validation would show up as a logged command.

use crate::fakes::{ACCOUNT, AGENT_MANIFEST, OIDC_PROVIDER, fresh_account};
use crate::harness::Test;

/// Runs `args` (plus `env`) and checks: exit 2, every needle in stderr, no external command.
#[track_caller]
fn rejected(args: &[&str], env: &[(&str, &str)], needles: &[&str]) {
    let mut test = Test::new()
        .rules(fresh_account())
        .write("agent.yaml", AGENT_MANIFEST)
        .args(args);
    for (k, v) in env {
        test = test.env(k, v);
    }
    let out = test.run();
    out.status(2).no_calls();
    for needle in needles {
        out.stderr_contains(needle);
    }
    assert!(out.stdout.is_empty(), "stdout is not empty\n{}", out.context());
}

/// `name: [args...] => [needles in stderr...];` — one test per bad input.
macro_rules! bad_input {
    ($($(#[$meta:meta])* $name:ident: [$($arg:expr),* $(,)?] $(env [$($k:expr => $v:expr),*])? => [$($needle:expr),+ $(,)?];)*) => {$(
        #[test]
        $(#[$meta])*
        fn $name() {
            rejected(&[$($arg),*], &[$($(($k, $v)),*)?], &[$($needle),+]);
        }
    )*};
}

const R: &str = "us-east-1";

bad_input! {
    /// `up --with-guestbook` deploys through the registration: without one, nothing runs.
    guestbook_without_registration_options:
        ["up", "--region", R, "--with-guestbook"] => ["--with-guestbook deploys through the registered cluster", "--harness-account"];
    guestbook_app_without_registration_options:
        ["app", "guestbook", "--region", R] => ["app guestbook needs the registration's options"];
    region_with_too_few_parts:
        ["up", "--region", "us-east"] => ["invalid value \"us-east\" for --region"];
    region_in_upper_case:
        ["up", "--region", "US-EAST-1"] => ["invalid value \"US-EAST-1\" for --region"];
    region_from_aws_region_is_checked_too:
        ["up"] env ["AWS_REGION" => "moon-base"] => ["invalid value \"moon-base\" for --region"];
    missing_region_on_a_real_run:
        ["up"] => ["no AWS region", "--region", "AWS_REGION"];
    mgmt_cluster_with_a_dot:
        ["up", "--region", R, "--mgmt-cluster", "mgmt.prod"] => ["invalid value \"mgmt.prod\" for --mgmt-cluster"];
    mgmt_cluster_starting_with_an_underscore:
        ["mgmt", "--region", R, "--mgmt-cluster", "_mgmt"] => ["invalid value \"_mgmt\" for --mgmt-cluster"];
    /// eksctl refuses it (`validation for my_cluster failed, name must satisfy regular
    /// expression pattern: [a-zA-Z][-a-zA-Z0-9]*`) although EKS would accept it.
    mgmt_cluster_with_an_underscore:
        ["up", "--region", R, "--mgmt-cluster", "my_mgmt"] => ["invalid value \"my_mgmt\" for --mgmt-cluster", "letters, digits and '-'"];
    testing_cluster_with_an_underscore:
        ["up", "--region", R, "--testing-cluster", "my_testing"] => ["invalid value \"my_testing\" for --testing-cluster"];
    testing_cluster_with_a_space:
        ["up", "--region", R, "--testing-cluster", "my testing"] => ["invalid value \"my testing\" for --testing-cluster"];
    testing_cluster_equal_to_mgmt_cluster:
        ["up", "--region", R, "--testing-cluster", "management"] => ["invalid value \"management\" for --testing-cluster", "--mgmt-cluster"];
    namespace_in_upper_case:
        ["up", "--region", R, "--namespace", "IAM"] => ["invalid value \"IAM\" for --namespace", "DNS-1123"];
    namespace_with_an_underscore:
        ["agent", "patch", "--region", R, "--namespace", "i_am"] => ["invalid value \"i_am\" for --namespace"];
    namespace_with_a_space:
        ["up", "--region", R, "--namespace", "my ns"] => ["invalid value \"my ns\" for --namespace"];
    namespace_of_64_characters:
        ["up", "--region", R, "--namespace", &"n".repeat(64)] => [&format!("invalid value \"{}\" for --namespace", "n".repeat(64))];
    agent_role_with_a_slash:
        ["up", "--region", R, "--agent-role", "team/ArgoCD"] => ["invalid value \"team/ArgoCD\" for --agent-role"];
    agent_role_of_65_characters:
        ["mgmt", "--region", R, "--agent-role", &"r".repeat(65)] => [&format!("invalid value \"{}\" for --agent-role", "r".repeat(65))];
    deployer_role_with_a_colon:
        ["testing", "--region", R, "--deployer-role", "Deploy:er"] => ["invalid value \"Deploy:er\" for --deployer-role"];
    deployer_role_equal_to_agent_role:
        ["up", "--region", R, "--deployer-role", "ArgoCD"] => ["invalid value \"ArgoCD\" for --deployer-role", "--agent-role"];
    account_id_of_11_digits:
        ["up", "--region", R, "--account-id", "12345678901"] => ["invalid value \"12345678901\" for --account-id", "12 digits"];
    account_id_with_a_letter:
        ["up", "--region", R, "--account-id", "12345678901a"] => ["invalid value \"12345678901a\" for --account-id"];
    testing_account_id_too_short:
        ["up", "--region", R, "--testing-account-id", "1234"] => ["invalid value \"1234\" for --testing-account-id"];
    identity_group_with_a_space:
        ["testing", "--region", R, "--identity-group", "system masters"] => ["invalid value \"system masters\" for --identity-group"];
    empty_identity_username:
        ["testing", "--region", R, "--identity-username", ""] => ["invalid value \"\" for --identity-username"];
    profile_with_a_space:
        ["up", "--region", R, "--profile", "my profile"] => ["invalid value \"my profile\" for --profile"];
    testing_profile_with_a_space:
        ["up", "--region", R, "--testing-profile", "their profile"] => ["invalid value \"their profile\" for --testing-profile"];
    wait_timeout_banana:
        ["up", "--region", R, "--wait-timeout", "banana"] => ["invalid value 'banana' for '--wait-timeout <DURATION>'"];
    wait_timeout_with_an_unknown_unit:
        ["agent", "patch", "--region", R, "--wait-timeout", "5parsecs"] => ["invalid value '5parsecs' for '--wait-timeout <DURATION>'"];
    unknown_flag:
        ["up", "--region", R, "--frobnicate"] => ["unexpected argument '--frobnicate'"];
    unknown_subcommand:
        ["deploy", "--region", R] => ["unrecognized subcommand 'deploy'"];
    assume_any_role_on_agent_patch:
        ["agent", "patch", "--region", R, "--assume-any-role"] => ["unexpected argument '--assume-any-role'"];
    completions_for_an_unknown_shell:
        ["completions", "tcsh"] => ["invalid value 'tcsh' for '<SHELL>'"];
    render_trust_without_account_id:
        ["render", "trust", "--oidc-provider", OIDC_PROVIDER] => ["render trust needs --account-id"];
    render_trust_with_an_http_oidc_provider:
        ["render", "trust", "--account-id", ACCOUNT, "--oidc-provider", "http://oidc.example.com/id/X"]
        => ["invalid value \"http://oidc.example.com/id/X\" for --oidc-provider"];
    render_trust_with_an_oidc_provider_without_a_host:
        ["render", "trust", "--account-id", ACCOUNT, "--oidc-provider", "/id/X"] => ["invalid value \"/id/X\" for --oidc-provider"];
    render_policy_with_an_arn_whose_account_has_one_digit:
        ["render", "policy", "--deployer-role-arn", "arn:aws:iam::1:role/Deployer"]
        => ["invalid value \"arn:aws:iam::1:role/Deployer\" for --deployer-role-arn"];
    render_policy_with_a_role_name_instead_of_an_arn:
        ["render", "policy", "--deployer-role-arn", "Deployer"] => ["invalid value \"Deployer\" for --deployer-role-arn"];
    render_policy_with_any_role_and_an_arn:
        ["render", "policy", "--assume-any-role", "--deployer-role-arn", "arn:aws:iam::123456789012:role/Deployer"]
        => ["--assume-any-role", "--deployer-role-arn"];
    render_policy_without_any_account:
        ["render", "policy"] => ["--testing-account-id"];
    render_deployer_trust_with_a_malformed_agent_role_arn:
        ["render", "deployer-trust", "--agent-role-arn", "arn:aws:iam:role/ArgoCD"]
        => ["invalid value \"arn:aws:iam:role/ArgoCD\" for --agent-role-arn"];
    render_with_a_bad_region:
        ["render", "policy", "--assume-any-role", "--region", "everywhere"] => ["invalid value \"everywhere\" for --region"];
    dry_run_checks_input_too:
        ["up", "--dry-run", "--namespace", "IAM"] => ["invalid value \"IAM\" for --namespace"];


    testing_cluster_equal_to_mgmt_cluster_in_the_same_explicit_account:
        ["up", "--region", R, "--account-id", ACCOUNT, "--testing-account-id", ACCOUNT, "--testing-cluster", "management"]
        => ["invalid value \"management\" for --testing-cluster"];

    deployer_role_equal_to_agent_role_in_the_same_explicit_account:
        ["up", "--region", R, "--account-id", ACCOUNT, "--testing-account-id", ACCOUNT, "--deployer-role", "ArgoCD"]
        => ["invalid value \"ArgoCD\" for --deployer-role"];

    agent_manifest_that_does_not_exist:
        ["up", "--region", R, "--agent-manifest", "missing.yaml"] => ["invalid value \"missing.yaml\" for --agent-manifest"];
}

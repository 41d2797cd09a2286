//! Sandbox end-to-end tests: the real `gitops-iam` binary driving the real `aws` CLI and the
//! real `kubectl` against the local sandbox (`tests/sandbox/`, see docs/sandbox.md): moto for
//! AWS, an eksctl emulator, one Kubernetes API emulator per EKS cluster, a Harness stand-in.
//!
//! Each test starts its own sandbox ([`sandbox::Sandbox`]) and checks the outcome through the
//! real clients ([`snapshot`]), never through the product's own output alone.
//!
//! Reference files (`tests/e2e/reference/`):
//! - `up.json`: the normalized snapshot after `up --agent-manifest` from scratch. Test 1 checks
//!   every link of it explicitly and then that it equals this file; the drift, fault, dry-run and
//!   CI tests must reach exactly this state.
//! - `up-mutating.txt`: the mutating commands of that run, sorted (concurrent branches
//!   interleave differently from run to run, so lists are compared as multisets).
//! - `up-cross-account.json`: the state after `up --testing-profile testing`.
//!
//! When the product changes on purpose: `GITOPS_IAM_E2E_BLESS=1 cargo nextest run e2e::up
//! e2e::cross_account` rewrites them (only those tests write); review the diff.
//!
//! The sandbox's tools (moto_server, aws, kubectl, flock) must be installed (`scripts/test` does
//! it); a missing tool fails every test here, naming it.

mod sandbox;
mod snapshot;

mod ci;
mod cross_account;
mod drift;
mod dry_run;
mod faults;
mod plan;
mod tutorial;
mod up;

mod cluster_lifecycle;

mod support;

mod access_entry_e2e;
mod agent_install_e2e;
mod agent_manifest_e2e;
mod auth_mode_e2e;
mod concurrent_e2e;
mod down_e2e;
mod fleet_e2e;
mod guestbook_e2e;
mod live;
mod realworld_iam;
mod register_e2e;
mod role_path;
mod signals_e2e;
mod state_dir;
mod verify_e2e;

use sandbox::{AGENT_MANIFEST, Logged, REPO};
use serde_json::Value;
use std::collections::BTreeSet;

pub const REGION: &str = "us-east-1";
/// The account of the sandbox's default credentials.
pub const MGMT_ACCOUNT: &str = "123456789012";
/// The account `--profile testing` acts in.
pub const TESTING_ACCOUNT: &str = "222222222222";

pub const AGENT_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/ArgoCD";
pub const DEPLOYER_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/Deployer";
pub const ROLE_ARN_ANNOTATION: &str = "eks.amazonaws.com/role-arn";

const REFERENCE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/reference");

/// `up --region us-east-1 --agent-manifest <the sandbox's agent.yaml>`, plus EXTRA.
pub fn up_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["up", "--region", REGION, "--agent-manifest", AGENT_MANIFEST];
    args.extend_from_slice(extra);
    args
}

/// A unified diff, expected first.
pub fn diff(expected: &str, actual: &str) -> String {
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(4)
        .header("expected", "actual")
        .to_string()
}

#[track_caller]
pub fn assert_matches_reference_file(file: &str, actual: &str, may_bless: bool) {
    let path = format!("{REFERENCE_DIR}/{file}");
    if may_bless && std::env::var_os("GITOPS_IAM_E2E_BLESS").is_some() {
        std::fs::create_dir_all(REFERENCE_DIR).unwrap();
        std::fs::write(&path, actual).unwrap();
        eprintln!("blessed {path}");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    assert!(
        expected == actual,
        "differs from {path} (- expected, + actual):\n{}\n\
         If the change is intended, re-bless: GITOPS_IAM_E2E_BLESS=1 cargo nextest run e2e::up e2e::cross_account",
        diff(&expected, actual)
    );
}

/// Mutating commands as logged, with the repository path written `$REPO`.
/// The mutating commands as logged lines. A command that gitops-iam waits out on a
/// propagation error (IAM and EKS refuse a just-created role as a principal for a few seconds:
/// the sandbox's `SANDBOX_IAM_PROPAGATION_DELAY`) is logged once per attempt; it counts once
/// here, so that lists compare what was done, not how often IAM said "not yet".
/// (`e2e::realworld_iam` checks the attempts themselves.)
pub fn mutating_lines(cmds: &[Logged]) -> Vec<String> {
    let mut retried = BTreeSet::new();
    cmds.iter()
        .filter(|c| c.mutating)
        .map(|c| c.line.replace(REPO, "$REPO"))
        .filter(|l| !waited_out(l) || retried.insert(l.clone()))
        .collect()
}

/// The commands gitops-iam retries on a documented propagation error (`Cmd::retry_on`).
pub fn waited_out(line: &str) -> bool {
    [
        "aws iam create-role ",
        "aws iam update-assume-role-policy ",
        "aws eks create-access-entry ",
    ]
    .iter()
    .any(|p| line.starts_with(p))
}

/// The mutating commands, as a multiset, must equal those of the reference run.
#[track_caller]
pub fn assert_same_mutating_commands_as_reference(cmds: &[Logged], may_bless: bool) {
    let mut lines = mutating_lines(cmds);
    lines.sort();
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    assert_matches_reference_file("up-mutating.txt", &text, may_bless);
}

/// What must happen before what, whatever runs concurrently: `(earlier, later, why)`, each a
/// substring of a logged mutating command; both must occur.
const DEPENDENCIES: &[(&str, &str, &str)] = &[
    (
        "eksctl create cluster --name management ",
        "aws iam create-role --role-name ArgoCD ",
        "the trust policy names the management cluster's OIDC issuer",
    ),
    (
        "aws iam create-role --role-name ArgoCD ",
        "aws iam put-role-policy --role-name ArgoCD ",
        "the inline policy needs the role",
    ),
    (
        "aws iam create-role --role-name ArgoCD ",
        "aws iam create-role --role-name Deployer ",
        "IAM rejects a trust policy naming a role that does not exist",
    ),
    (
        "eksctl create cluster --name management ",
        "create namespace iam",
        "the namespace is in the cluster",
    ),
    (
        " create namespace iam",
        " -n iam apply -f ",
        "the agent is installed into the namespace",
    ),
    (
        " -n iam apply -f ",
        "annotate serviceaccount gitops-agent ",
        "the service account comes from the manifest",
    ),
    (
        " -n iam apply -f ",
        "annotate serviceaccount argocd-application-controller ",
        "the service account comes from the manifest",
    ),
    (
        "annotate serviceaccount gitops-agent ",
        "patch deployment gitops-agent ",
        "pods created by the patch must see the annotation",
    ),
    (
        "annotate serviceaccount argocd-application-controller ",
        "patch statefulset argocd-application-controller ",
        "pods created by the patch must see the annotation",
    ),
    (
        "eksctl create cluster --name testing ",
        "eksctl create iamidentitymapping --cluster testing ",
        "the mapping is in the testing cluster",
    ),
];

/// The mutating commands respect [`DEPENDENCIES`].
#[track_caller]
pub fn assert_dependency_order(cmds: &[Logged], what: &str) {
    let lines = mutating_lines(cmds);
    let find = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{what}: no mutating command contains {needle:?}:\n{}", lines.join("\n")))
    };
    for (earlier, later, why) in DEPENDENCIES {
        assert!(
            find(earlier) < find(later),
            "{what}: {earlier:?} must come before {later:?} ({why}):\n{}",
            lines.join("\n")
        );
    }
}

/// A string or a list of strings (IAM's Action/Resource/condition values) as a set.
pub fn string_set(v: &Value) -> BTreeSet<String> {
    match v {
        Value::String(s) => BTreeSet::from([s.clone()]),
        Value::Array(a) => a.iter().map(|x| x.as_str().expect("a string").to_owned()).collect(),
        other => panic!("expected a string or a list of strings, got {other}"),
    }
}

pub fn set<const N: usize>(items: [&str; N]) -> BTreeSet<String> {
    items.iter().map(std::string::ToString::to_string).collect()
}

/// The statements of an IAM policy document.
#[track_caller]
pub fn statements(doc: &Value) -> &Vec<Value> {
    doc["Statement"]
        .as_array()
        .unwrap_or_else(|| panic!("not a policy document with a Statement list: {doc}"))
}

/// stderr without the `[   1.2s] ` progress prefix of each line.
pub fn stderr_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .map(|l| match l.strip_prefix('[').and_then(|r| r.split_once("] ")) {
            Some((t, rest)) if t.trim_end().ends_with('s') => rest,
            _ => l,
        })
        .collect()
}

/// The summary line of STEP in `gitops-iam`'s stderr (`  STEP  changed  1.2s  detail`).
#[track_caller]
pub fn summary_line<'a>(stderr: &'a str, step: &str) -> &'a str {
    let lines = stderr_lines(stderr);
    let start = lines
        .iter()
        .rposition(|l| *l == "summary:")
        .unwrap_or_else(|| panic!("no summary in stderr:\n{stderr}"));
    lines[start + 1..]
        .iter()
        .find(|l| l.trim_start().starts_with(step) && l.trim_start()[step.len()..].starts_with(' '))
        .unwrap_or_else(|| panic!("the summary has no step {step:?}:\n{stderr}"))
}

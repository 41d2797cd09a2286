//! Two runs at once (issue 10, item 8): two `up`s started together against one sandbox (two CI
//! jobs, two engineers) both end converged, and the state is exactly that of one `up`. What one
//! run creates between the other's read and its create (the cluster stack, the roles, the OIDC
//! provider, the namespace, the mapping) is re-observed and adopted, never a failure.

use super::sandbox::Sandbox;
use super::*;
use serde_json::Value;

// The second run meets `eksctl create cluster`'s `AlreadyExistsException: Stack
// [eksctl-testing-cluster] already exists`, create-role's `EntityAlreadyExists`, kubectl's
// `AlreadyExists`: each is re-observed and converged on.
#[test]
fn two_ups_started_at_once_both_converge_to_the_state_of_one() {
    let sb = Sandbox::start();
    // each run has its own state dir, as two CI machines would
    let a = up_args(&["--state-dir", ".gitops-iam-a"]);
    let b = up_args(&["--state-dir", ".gitops-iam-b"]);
    let (ra, rb) = std::thread::scope(|s| {
        let ta = s.spawn(|| sb.gitops_iam(&a));
        let tb = s.spawn(|| sb.gitops_iam(&b));
        (ta.join().unwrap(), tb.join().unwrap())
    });
    ra.success();
    rb.success();

    // converged: a third run only reads, and the state is the reference state of one `up`
    let mark = sb.mark();
    sb.gitops_iam(&up_args(&[])).success();
    assert_eq!(mutating_lines(&sb.mutating_since(mark)), Vec::<String>::new());
    let reference = std::fs::read_to_string(format!("{REFERENCE_DIR}/up.json")).unwrap();
    let expected: Value = serde_json::from_str(&reference).unwrap();
    let snap = sb.snapshot();
    assert!(
        snap.normalized == expected,
        "two concurrent runs left another state than one:\n{}",
        diff(
            &serde_json::to_string_pretty(&expected).unwrap(),
            &serde_json::to_string_pretty(&snap.normalized).unwrap()
        )
    );
}

/// Two `agent patch` runs at once on one management cluster
/// race on `kubectl create namespace` (one gets `AlreadyExists`) and both converge.
#[test]
fn two_agent_patches_started_at_once_both_converge() {
    let sb = Sandbox::start();
    sb.gitops_iam(&["mgmt", "--region", REGION]).success();
    let patch = |dir: &'static str| {
        vec![
            "agent",
            "patch",
            "--region",
            REGION,
            "--agent-manifest",
            super::sandbox::AGENT_MANIFEST,
            "--state-dir",
            dir,
        ]
    };
    let (a, b) = (patch(".gitops-iam-a"), patch(".gitops-iam-b"));
    let (ra, rb) = std::thread::scope(|s| {
        let ta = s.spawn(|| sb.gitops_iam(&a));
        let tb = s.spawn(|| sb.gitops_iam(&b));
        (ta.join().unwrap(), tb.join().unwrap())
    });
    ra.success();
    rb.success();
    let mark = sb.mark();
    sb.gitops_iam(&patch(".gitops-iam")).success();
    assert_eq!(mutating_lines(&sb.mutating_since(mark)), Vec::<String>::new());
}

//! CI cancellation against the sandbox (issue 10, item 8): SIGTERM to `gitops-iam up` while
//! eksctl creates both clusters reaches each eksctl once, the run exits 143 saying how to
//! resume, the clusters go on being created as CloudFormation stacks do, and a later `up`
//! resumes to exactly the state of an uninterrupted one.

use super::sandbox::Sandbox;
use super::support::describe_cluster;
use super::*;
use std::time::{Duration, Instant};

/// Starts `gitops-iam ARGS` in the background of a non-interactive bash (no terminal: a CI
/// job), sends it SIGTERM once both cluster creations run (EKS shows both clusters: their
/// stacks were submitted, so CloudFormation finishes them; the emulator models that only once
/// its cluster exists), and waits for it.
const CANCEL: &str = r#"
gitops-iam "$@" & pid=$!
for _ in $(seq 240); do
  aws eks describe-cluster --name management --region us-east-1 >/dev/null 2>&1 \
    && aws eks describe-cluster --name testing --region us-east-1 >/dev/null 2>&1 && break
  sleep 0.25
done
kill -TERM "$pid"
wait "$pid"
"#;

#[test]
fn sigterm_during_cluster_creation_exits_143_and_the_next_up_resumes() {
    let sb = Sandbox::start();
    let mut argv = vec!["-c", CANCEL, "cancel"];
    argv.extend(up_args(&[]));
    // long enough that SIGTERM lands during the creations even on a loaded machine
    let out = sb.run_with("bash", &argv, &[("SANDBOX_CREATE_DELAY", "15")]);
    out.code(143);
    for want in [
        "interrupted by SIGTERM: waiting for the running commands to stop",
        "re-run the same command to resume",
        "error: interrupted by SIGTERM",
    ] {
        assert!(out.stderr.contains(want), "no {want:?}:\n{}", out.describe());
    }
    assert!(
        out.elapsed < Duration::from_secs(20),
        "the children were not stopped: {:?}\n{}",
        out.elapsed,
        out.describe()
    );

    // the stacks go on: both clusters become ACTIVE on their own
    let started = Instant::now();
    for name in ["management", "testing"] {
        while describe_cluster(&sb, name, None)["status"] != "ACTIVE" {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{name} never became ACTIVE"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    sb.gitops_iam(&up_args(&[])).success();
    sb.snapshot().assert_matches_reference("up", false);
}

//! The CI split: `mgmt`, `agent patch`, `testing`, each a fresh process in the same work dir,
//! ends in the same state as one `up`, with the same mutating commands.

use super::sandbox::{AGENT_MANIFEST, Sandbox};
use super::*;

#[test]
fn ci_jobs_mgmt_then_agent_patch_then_testing_reach_the_state_of_up() {
    let sb = Sandbox::start();
    sb.gitops_iam(&["mgmt", "--region", REGION]).success();
    sb.gitops_iam(&["agent", "patch", "--region", REGION, "--agent-manifest", AGENT_MANIFEST])
        .success();
    sb.gitops_iam(&["testing", "--region", REGION]).success();

    sb.snapshot().assert_matches_reference("up", false);
    let mutating = sb.mutating_commands();
    assert_same_mutating_commands_as_reference(&mutating, false);
    assert_dependency_order(&mutating, "mgmt, agent patch, testing");
}

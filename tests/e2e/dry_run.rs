//! The script `up --dry-run` prints, run by bash in a fresh sandbox, does what a real `up` does:
//! same end state, same mutating commands.

use super::sandbox::Sandbox;
use super::*;

#[test]
fn dry_run_script_of_up_reaches_the_same_state_with_the_same_mutating_commands() {
    let sb = Sandbox::start();
    let script = sb.gitops_iam(&up_args(&["--dry-run"]));
    script.success();
    assert!(
        sb.commands().is_empty(),
        "--dry-run ran commands:\n{}",
        sb.commands()
            .iter()
            .map(|c| c.line.clone())
            .collect::<Vec<_>>()
            .join("\n")
    );
    sb.run_script("s.sh", &script.stdout);

    sb.snapshot().assert_matches_reference("up", false);
    // The real run creates both clusters at once and patches the two workloads at once, so its
    // order differs from the script's sequential one: the lists are compared as multisets, and
    // the order that matters (dependencies) is checked on the script's own order.
    let mutating = sb.mutating_commands();
    assert_same_mutating_commands_as_reference(&mutating, false);
    assert_dependency_order(&mutating, "the dry-run script");
}

//! Two runs at once: what one run creates between another's read and its create is adopted,
//! not reported as a failure (issue 10, item 8).

use crate::converge::*;
use crate::fakes::*;

#[test]
fn a_namespace_created_by_another_run_between_read_and_create_is_adopted() {
    // The read says "absent", the create answers as kubectl does when another run was first,
    // and the namespace is there when read again.
    let rules = fresh_account()
        .with(
            Rule::new("kubectl", "create namespace iam")
                .kubectl_error("AlreadyExists", "namespaces \"iam\" already exists"),
        )
        .with(
            Rule::new("kubectl", "get namespace iam ")
                .after("create namespace iam")
                .json(namespace("iam")),
        );
    let out = up_with_manifest().rules(rules).run();
    out.success()
        .stderr_contains("namespace iam was created meanwhile")
        .stderr_lacks("error:");
    out.mutating_unordered(&FRESH_UP);
}

#[test]
fn agent_objects_created_by_another_run_during_an_apply_are_applied_again() {
    // kubectl apply creates what it did not find; the other run was first.
    let rules = fresh_account().with(
        Rule::new("kubectl", " apply -f agent.yaml")
            .kubectl_error(
                "AlreadyExists",
                "error when creating \"agent.yaml\": deployments.apps \"gitops-agent\" already exists",
            )
            .times(1),
    );
    let out = up_with_manifest().rules(rules).run();
    out.success()
        .stderr_contains("created meanwhile (another run?): applying again")
        .stderr_lacks("error:");
    let mut want = FRESH_UP.to_vec();
    want.push(APPLY);
    out.mutating_unordered(&want);
}

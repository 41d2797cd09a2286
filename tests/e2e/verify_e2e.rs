//! `verify` against a real environment: after `up` every check is `ok` and nothing is changed;
//! each link broken through the real clients fails exactly its own check with a `fix:` that,
//! run as printed, makes `verify` green again; `--output json` is one event per check and a
//! summary.
//!
//! The break-a-link tests share one sandbox per group: each case starts from a `verify` that is
//! all green (the previous case's repair), so no case depends on another one's leftovers. The
//! IAM and access group runs `verify --live` (issue 13): each broken link fails its static check
//! and exactly its hop for both service accounts, with the same fix; there the next case's run
//! (exactly one static check failing, the hops before its own passing) shows the repair.

use super::live::*;
use super::sandbox::Sandbox;
use super::support::*;
use super::*;
use serde_json::{Value, json};

#[test]
fn verify_after_up_is_all_ok_reads_only_and_reports_one_json_event_per_check() {
    let sb = Sandbox::start();
    let h = harness_args(&sb);
    sb.gitops_iam(&up_args(&h)).success();
    let verify = args(&["verify"], &h);

    let text = assert_verify_green(&sb, &verify, "after up");
    let details: Vec<(&str, &str)> = text.iter().map(|c| (c.name.as_str(), c.detail.as_str())).collect();
    assert!(
        details.contains(&("registration of testing", "Harness cluster testing matches")),
        "{details:#?}"
    );
    assert!(
        details.contains(&("Deployer access to testing", "mapped once in aws-auth")),
        "{details:#?}"
    );

    // --output json, green: the same checks as events, then the summary, and nothing else
    let mut json_args = verify.clone();
    json_args.extend(["--output", "json"]);
    let mark = sb.mark();
    let requests = harness_request_count(&sb);
    let out = sb.gitops_iam(&json_args);
    out.success();
    let events = json_lines(&out);
    assert_eq!(events.len(), CHECKS.len() + 1, "{}", out.describe());
    for (e, c) in events.iter().zip(&text) {
        assert_eq!(
            e,
            &json!({"event": "check", "check": c.name, "status": "ok", "detail": c.detail, "fix": null}),
            "{}",
            out.describe()
        );
    }
    let summary = events.last().unwrap();
    let logged = sb.commands_since(mark);
    let http = harness_requests_since(&sb, requests);
    assert_reads_only(&sb, mark, requests, "verify --output json");
    assert_eq!(summary["event"], "summary", "{}", out.describe());
    assert_eq!(summary["status"], "ok", "{summary}");
    assert_eq!(summary["exit_code"], 0, "{summary}");
    assert_eq!(summary["error"], Value::Null, "{summary}");
    assert_eq!(summary["steps"], json!([]), "{summary}");
    assert_eq!(summary["mutating_commands"], 0, "{summary}");
    assert_eq!(
        summary["commands"],
        logged.len() + http.len(),
        "summary.commands must count the {} logged commands and {} HTTP requests: {summary}",
        logged.len(),
        http.len()
    );

    // --output json, one link broken: a FAIL event with its fix, and a failed summary
    sb.eksctl(&[
        "delete",
        "iamidentitymapping",
        "--cluster",
        "testing",
        "--region",
        REGION,
        "--arn",
        DEPLOYER_ROLE_ARN,
        "--all",
    ])
    .success();
    let mark = sb.mark();
    let out = sb.gitops_iam(&json_args);
    out.code(1);
    let events = json_lines(&out);
    assert_eq!(events.len(), CHECKS.len() + 1, "{}", out.describe());
    for (e, name) in events.iter().zip(CHECKS) {
        assert_eq!(e["event"], "check", "{}", out.describe());
        assert_eq!(e["check"], name, "{}", out.describe());
        if name == "Deployer access to testing" {
            // the spelling `FAIL` is pinned by verify_json_status_is_spelled_like_the_report
            let status = e["status"].as_str().unwrap_or_default();
            assert!(status.eq_ignore_ascii_case("FAIL"), "{e}");
            assert_eq!(
                e["detail"],
                format!("{DEPLOYER_ROLE_ARN} is not mapped in aws-auth"),
                "{e}"
            );
            let fix = e["fix"].as_str().unwrap_or_else(|| panic!("no fix: {e}"));
            assert!(fix.starts_with("gitops-iam testing --region us-east-1 "), "{e}");
        } else {
            assert_eq!(e["status"], "ok", "{e}");
            assert_eq!(e["fix"], Value::Null, "{e}");
        }
    }
    let summary = events.last().unwrap();
    assert_eq!(summary["event"], "summary", "{}", out.describe());
    assert_eq!(summary["status"], "failed", "{summary}");
    assert_eq!(summary["exit_code"], 1, "{summary}");
    assert_eq!(summary["mutating_commands"], 0, "{summary}");
    assert!(mutating_lines(&sb.commands_since(mark)).is_empty());
}

#[test]

fn verify_json_status_is_spelled_like_the_report() {
    // nothing exists: the checks FAIL or are skipped, no `up` needed
    let sb = Sandbox::start();
    let verify = args(&["verify", "--to", "argocd"], &[]);
    let text = sb.gitops_iam(&verify);
    text.code(1);
    let report = parse_report(&text);
    assert_eq!(
        report.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        CHECKS,
        "{}",
        text.describe()
    );
    let statuses: std::collections::BTreeSet<&str> = report.iter().map(|c| c.status.as_str()).collect();
    assert_eq!(statuses, set(["FAIL", "skipped"]).iter().map(String::as_str).collect());

    let out = sb.gitops_iam(&[verify.as_slice(), &["--output", "json"]].concat());
    out.code(1);
    let events = json_lines(&out);
    assert_eq!(events.len(), CHECKS.len() + 1, "{}", out.describe());
    for (e, c) in events.iter().zip(&report) {
        assert_eq!(
            e,
            &json!({"event": "check", "check": c.name, "status": c.status, "detail": c.detail, "fix": c.fix}),
            "the event of a check must say what the report says (status `ok`, `FAIL` or `skipped`)"
        );
    }
    let summary = events.last().unwrap();
    assert_eq!(summary["event"], "summary", "{summary}");
    assert_eq!(summary["status"], "failed", "{summary}");
    assert_eq!(summary["exit_code"], 1, "{summary}");
    assert!(mutating_lines(&sb.commands()).is_empty());
}

/// One broken link: `verify` fails exactly FAILED (detail containing DETAIL, fix starting with
/// FIX_PREFIX); the fix, run as printed plus FIX_EXTRA, makes `verify` green again.
#[track_caller]
fn expect_failure_then_fix(
    sb: &Sandbox,
    verify: &[&str],
    failed: &str,
    detail: &str,
    fix_prefix: &str,
    fix_extra: &[&str],
) {
    let fix = assert_verify_fails_only(sb, verify, failed, detail, fix_prefix);
    run_fix(sb, &fix, fix_extra);
    assert_verify_green(sb, verify, &format!("after `{fix}` repaired {failed}"));
}

/// One broken link, `verify --live` (issue 13): the static check FAILED and, for both service
/// accounts, exactly the hop HOP fail (HOP `None`: a weak link every hop passes), with one fix,
/// which is then run as printed. No green run in between (each costs seconds): the next case's
/// run, where exactly its own static check fails and the hops before its own hop pass, and the
/// closing `verify --live` show the repair.
#[track_caller]
fn expect_live_failure_then_fix(
    sb: &Sandbox,
    live: &[&str],
    failed: &str,
    detail: &str,
    hop: Option<(&str, &str)>,
    fix_prefix: &str,
) {
    let fix = assert_live_fails(sb, live, failed, detail, hop, fix_prefix);
    run_fix(sb, &fix, &[]);
}

#[test]
fn verify_fails_exactly_the_broken_iam_or_access_link_and_the_printed_fix_repairs_it() {
    let sb = Sandbox::start();
    let h = harness_args(&sb);
    sb.gitops_iam(&up_args(&h)).success();
    let live = args(&["verify", "--live"], &h);
    // green, as the agent: every hop ok (the JSON run, with every secret, at the end)
    let text = assert_live_green(&sb, &[live.as_slice(), &["-v"]].concat(), "after up");
    let web_denied = "AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity";
    let assume_denied = format!(
        "AccessDenied: User: arn:aws:sts::{MGMT_ACCOUNT}:assumed-role/ArgoCD/gitops-iam-verify is not authorized to perform: sts:AssumeRole on resource: {DEPLOYER_ROLE_ARN}"
    );
    let iss = mgmt_issuer_host(&sb);
    let provider_arn = format!("arn:aws:iam::{MGMT_ACCOUNT}:oidc-provider/{iss}");
    let mgmt_fix = "gitops-iam mgmt --region us-east-1 --mgmt-cluster management ";
    let testing_fix = "gitops-iam testing --region us-east-1 --mgmt-cluster management ";
    let agent_sub = |ns: &str| {
        json!([
            format!("system:serviceaccount:{ns}:gitops-agent"),
            format!("system:serviceaccount:{ns}:argocd-application-controller"),
        ])
    };
    let web_identity_trust = |conditions: Value| {
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": conditions},
        }]})
    };
    let set_trust = |role: &str, doc: &Value, file: &str| {
        let doc = doc_file(&sb, file, doc);
        sb.aws(&[
            "iam",
            "update-assume-role-policy",
            "--role-name",
            role,
            "--policy-document",
            &doc,
            "--region",
            REGION,
        ])
        .success();
    };

    // 1. the ArgoCD trust without the aud condition (the tutorial's trust)
    let mut conditions = serde_json::Map::new();
    conditions.insert(format!("{iss}:sub"), agent_sub("iam"));
    set_trust("ArgoCD", &web_identity_trust(Value::Object(conditions)), "no-aud.json");
    // STS takes any audience then: a weakness the static check names, no hop fails
    expect_live_failure_then_fix(
        &sb,
        &live,
        "ArgoCD trust",
        &format!("no {iss}:aud condition"),
        None,
        mgmt_fix,
    );

    // 2. the ArgoCD trust for another namespace's service accounts
    let mut conditions = serde_json::Map::new();
    conditions.insert(format!("{iss}:aud"), json!("sts.amazonaws.com"));
    conditions.insert(format!("{iss}:sub"), agent_sub("other"));
    set_trust(
        "ArgoCD",
        &web_identity_trust(Value::Object(conditions)),
        "other-ns.json",
    );
    expect_live_failure_then_fix(
        &sb,
        &live,
        "ArgoCD trust",
        &format!("the {iss}:sub condition does not allow system:serviceaccount:iam:gitops-agent"),
        Some(("AssumeRoleWithWebIdentity ArgoCD", web_denied)),
        mgmt_fix,
    );

    // 2b. the ArgoCD trust for another audience
    let mut conditions = serde_json::Map::new();
    conditions.insert(format!("{iss}:aud"), json!("sts.amazonaws.com.cn"));
    conditions.insert(format!("{iss}:sub"), agent_sub("iam"));
    set_trust("ArgoCD", &web_identity_trust(Value::Object(conditions)), "aud.json");
    expect_live_failure_then_fix(
        &sb,
        &live,
        "ArgoCD trust",
        &format!("the {iss}:aud condition does not allow sts.amazonaws.com"),
        Some(("AssumeRoleWithWebIdentity ArgoCD", web_denied)),
        mgmt_fix,
    );

    // 3. the ArgoCD inline policy without the Deployer's ARN
    let other = doc_file(
        &sb,
        "policy.json",
        &json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Resource": "arn:aws:iam::123456789012:role/Other",
        }]}),
    );
    sb.aws(&[
        "iam",
        "put-role-policy",
        "--role-name",
        "ArgoCD",
        "--policy-name",
        "AssumeRole",
        "--policy-document",
        &other,
        "--region",
        REGION,
    ])
    .success();
    expect_live_failure_then_fix(
        &sb,
        &live,
        "ArgoCD policy AssumeRole",
        &format!("does not allow sts:AssumeRole on {DEPLOYER_ROLE_ARN}"),
        Some(("AssumeRole Deployer (testing)", &assume_denied)),
        mgmt_fix,
    );

    // 4. the OIDC provider deleted
    sb.aws(&[
        "iam",
        "delete-open-id-connect-provider",
        "--open-id-connect-provider-arn",
        &provider_arn,
        "--region",
        REGION,
    ])
    .success();
    let no_provider =
        format!("InvalidIdentityToken: No OpenIDConnect provider found in your account for https://{iss}");
    expect_live_failure_then_fix(
        &sb,
        &live,
        "OIDC provider",
        &format!("no IAM OIDC provider {provider_arn}"),
        Some(("AssumeRoleWithWebIdentity ArgoCD", &no_provider)),
        mgmt_fix,
    );

    // 5. the Deployer trusting another role only (one that exists, or IAM refuses the
    //    document: eksctl's service role, made by `up`); the fix adds the agent role's statement
    let roles = sb
        .aws(&["iam", "list-roles", "--region", REGION, "--output", "json"])
        .success()
        .json();
    let other = roles["Roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["RoleName"]
                .as_str()
                .unwrap()
                .starts_with("eksctl-testing-cluster-ServiceRole")
        })
        .map(|r| r["Arn"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no eksctl service role: {roles:#}"));
    set_trust(
        "Deployer",
        &json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": other},
            "Action": "sts:AssumeRole",
        }]}),
        "deployer-trust.json",
    );
    expect_live_failure_then_fix(
        &sb,
        &live,
        "Deployer trust",
        &format!("does not trust {AGENT_ROLE_ARN}"),
        Some(("AssumeRole Deployer (testing)", &assume_denied)),
        testing_fix,
    );

    // 6. the mapping removed
    let mapping = |verb: &str, extra: &[&str]| {
        let mut argv = vec![
            verb,
            "iamidentitymapping",
            "--cluster",
            "testing",
            "--region",
            REGION,
            "--arn",
            DEPLOYER_ROLE_ARN,
        ];
        argv.extend_from_slice(extra);
        sb.eksctl(&argv).success();
    };
    mapping("delete", &["--all"]);
    // what Argo CD shows as "the server has asked for the client to provide credentials"
    expect_live_failure_then_fix(
        &sb,
        &live,
        "Deployer access to testing",
        &format!("{DEPLOYER_ROLE_ARN} is not mapped in aws-auth"),
        Some((
            "API of testing",
            "error: You must be logged in to the server (Unauthorized): EKS maps",
        )),
        testing_fix,
    );

    // 7. the mapping duplicated (eksctl appends without --no-duplicate-arns): both say admin
    mapping("create", &["--username", "deployer", "--group", "system:masters"]);
    expect_live_failure_then_fix(
        &sb,
        &live,
        "Deployer access to testing",
        &format!("{DEPLOYER_ROLE_ARN} is mapped 2 time(s)"),
        None,
        testing_fix,
    );

    // 8. the mapping's group: mapped, but not an admin
    mapping("delete", &["--all"]);
    mapping("create", &["--username", "deployer", "--group", "viewers"]);
    expect_live_failure_then_fix(
        &sb,
        &live,
        "Deployer access to testing",
        &format!("{DEPLOYER_ROLE_ARN} is mapped 1 time(s) or with other username/groups"),
        Some(("API of testing", "can-i '*' '*' --all-namespaces: no")),
        testing_fix,
    );
    // every repair made, as JSON events: all ok; no token or credential in any stream
    let json = sb.gitops_iam(&[live.as_slice(), &["--output", "json", "-v"]].concat());
    json.success();
    let events = json_lines(&json);
    let checks: Vec<&Value> = events.iter().filter(|e| e["event"] == "check").collect();
    assert_eq!(checks.len(), CHECKS.len() + 8, "{}", json.describe());
    assert!(checks.iter().all(|e| e["status"] == "ok"), "{}", json.describe());
    assert_no_secrets(&sb, &[&text, &json]);
}

#[test]
fn verify_fails_exactly_the_broken_agent_or_registration_link_and_the_printed_fix_repairs_it() {
    let sb = Sandbox::start();
    let h = harness_args(&sb);
    sb.gitops_iam(&up_args(&h)).success();
    let verify = args(&["verify"], &h);
    assert_verify_green(&sb, &verify, "after up");
    let kc = sb.kubeconfig_for("management", None);
    let kc = kc.to_str().unwrap();
    let k = |argv: &[&str]| {
        let mut a = vec!["-n", "iam"];
        a.extend_from_slice(argv);
        kubectl_mgmt(&sb, kc, &a).success();
    };
    let remove_annotation = format!("{ROLE_ARN_ANNOTATION}-");
    let agent_fix = "gitops-iam agent patch --region us-east-1 --mgmt-cluster management ";

    // 1. the service account's annotation removed (its pods keep the role they started with)
    k(&["annotate", "serviceaccount", "gitops-agent", &remove_annotation]);
    expect_failure_then_fix(
        &sb,
        &verify,
        "serviceaccount gitops-agent",
        &format!("no {ROLE_ARN_ANNOTATION} annotation"),
        agent_fix,
        &[],
    );

    // 2. fsGroup removed from the StatefulSet (its new pods still get the role)
    k(&[
        "patch",
        "statefulset",
        "argocd-application-controller",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/spec/template/spec/securityContext/fsGroup"}]"#,
    ]);
    k(&[
        "rollout",
        "status",
        "statefulset/argocd-application-controller",
        "--timeout=120s",
    ]);
    expect_failure_then_fix(
        &sb,
        &verify,
        "statefulset argocd-application-controller fsGroup",
        "no fsGroup",
        agent_fix,
        &[],
    );

    // 3. pods started before the annotation: restarted while it was missing, then the right
    //    ARN annotated again without a restart
    k(&["annotate", "serviceaccount", "gitops-agent", &remove_annotation]);
    k(&["rollout", "restart", "deployment/gitops-agent"]);
    k(&["rollout", "status", "deployment/gitops-agent", "--timeout=120s"]);
    let annotation = format!("{ROLE_ARN_ANNOTATION}={AGENT_ROLE_ARN}");
    k(&["annotate", "serviceaccount", "gitops-agent", &annotation]);
    let fix = assert_verify_fails_only(
        &sb,
        &verify,
        "pods of deployment gitops-agent",
        &format!("1 of 1 pod(s) started before the annotation (no AWS_ROLE_ARN={AGENT_ROLE_ARN})"),
        "kubectl ",
    );
    assert_eq!(
        fix,
        "kubectl --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml --context moto@management.us-east-1.eksctl.io -n iam rollout restart deployment/gitops-agent"
    );
    run_fix(&sb, &fix, &[]);
    k(&["rollout", "status", "deployment/gitops-agent", "--timeout=120s"]);
    assert_verify_green(&sb, &verify, "after the printed rollout restart");

    // 4. the registration deleted in Harness
    let register_fix = "gitops-iam register --region us-east-1 --mgmt-cluster management ";
    harness_delete_cluster(&sb, "testing");
    expect_failure_then_fix(
        &sb,
        &verify,
        "registration of testing",
        "Harness has no cluster testing",
        register_fix,
        &h,
    );

    // 5. the registration changed in Harness (another role)
    let mut cluster = harness_state(&sb)["clusters"][0]["cluster"].clone();
    cluster.as_object_mut().unwrap().remove("connectionState");
    cluster["config"]["roleARN"] = json!("arn:aws:iam::123456789012:role/Other");
    harness_upsert_cluster(&sb, "testing", &cluster);
    expect_failure_then_fix(
        &sb,
        &verify,
        "registration of testing",
        &format!(r#"roleARN: "arn:aws:iam::123456789012:role/Other" -> "{DEPLOYER_ROLE_ARN}""#),
        register_fix,
        &h,
    );
}

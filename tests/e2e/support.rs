//! Helpers shared by the `verify`, `down`, `register` and fleet end-to-end tests: the Harness
//! stand-in's API (inspection and the tests' own changes), the registration options, `verify`'s
//! report (text and JSON lines) and "nothing changed" assertions.

use super::sandbox::{Logged, Output, Sandbox};
use super::*;
use serde_json::Value;

/// The Harness account and the account-level agent the tests register into.
pub const HARNESS_ACCOUNT: &str = "acc";
pub const HARNESS_AGENT: &str = "account.gitopsagent";

/// The 14 checks of `verify` for one testing cluster named `testing`, in order (docs/verify.md).
pub const CHECKS: [&str; 14] = [
    "management cluster",
    "OIDC provider",
    "ArgoCD trust",
    "ArgoCD policy AssumeRole",
    "serviceaccount gitops-agent",
    "deployment gitops-agent fsGroup",
    "pods of deployment gitops-agent",
    "serviceaccount argocd-application-controller",
    "statefulset argocd-application-controller fsGroup",
    "pods of statefulset argocd-application-controller",
    "testing cluster testing",
    "Deployer trust",
    "Deployer access to testing",
    "registration of testing",
];

/// `--harness-url $SANDBOX_HARNESS_URL --harness-account acc --agent-id account.gitopsagent`.
pub fn harness_args(sb: &Sandbox) -> Vec<&str> {
    vec![
        "--harness-url",
        sb.var("SANDBOX_HARNESS_URL"),
        "--harness-account",
        HARNESS_ACCOUNT,
        "--agent-id",
        HARNESS_AGENT,
    ]
}

/// `COMMAND --region us-east-1 EXTRA...`.
pub fn args<'a>(command: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = command.to_vec();
    v.extend(["--region", REGION]);
    v.extend_from_slice(extra);
    v
}

/// An HTTP client for the stand-in: no proxy, every status an answer.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .build()
        .into()
}

/// `GET $SANDBOX_HARNESS_URL/_sandbox/clusters`: `{"clusters", "request_count", "requests"}`.
pub fn harness_state(sb: &Sandbox) -> Value {
    sandbox_view(sb, "clusters")
}

/// `GET $SANDBOX_HARNESS_URL/_sandbox/WHAT` as JSON.
fn sandbox_view(sb: &Sandbox, what: &str) -> Value {
    let url = format!("{}/_sandbox/{what}", sb.var("SANDBOX_HARNESS_URL"));
    let mut resp = agent().get(&url).call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(resp.status().as_u16(), 200, "GET {url}");
    let body = resp.body_mut().read_to_string().unwrap();
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {body}"))
}

/// `GET $SANDBOX_HARNESS_URL/_sandbox/agents`: `{"agents": [... with credentials.privateKey],
/// "rotations": N}` (how often a manifest download regenerated a token).
pub fn harness_agents(sb: &Sandbox) -> Value {
    sandbox_view(sb, "agents")
}

/// The API requests the stand-in answered after the first SINCE (from `harness_state`).
pub fn harness_requests_since(sb: &Sandbox, since: usize) -> Vec<Value> {
    let state = harness_state(sb);
    state["requests"].as_array().unwrap()[since..].to_vec()
}

pub fn harness_request_count(sb: &Sandbox) -> usize {
    harness_state(sb)["request_count"].as_u64().unwrap() as usize
}

fn harness_cluster_url(sb: &Sandbox, id: &str) -> String {
    format!(
        "{}/gitops/api/v1/agents/{HARNESS_AGENT}/clusters/{id}?accountIdentifier={HARNESS_ACCOUNT}",
        sb.var("SANDBOX_HARNESS_URL")
    )
}

/// Deletes a cluster through the stand-in's API, as a user would in Harness.
pub fn harness_delete_cluster(sb: &Sandbox, id: &str) {
    let url = format!("{}&forceDelete=true", harness_cluster_url(sb, id));
    let resp = agent()
        .delete(&url)
        .header("x-api-key", sb.var("HARNESS_API_KEY"))
        .call()
        .unwrap_or_else(|e| panic!("DELETE {url}: {e}"));
    assert_eq!(resp.status().as_u16(), 200, "DELETE {url}");
}

/// Upserts a cluster through the stand-in's API.
pub fn harness_upsert_cluster(sb: &Sandbox, id: &str, cluster: &Value) {
    let url = format!(
        "{}/gitops/api/v1/agents/{HARNESS_AGENT}/clusters?accountIdentifier={HARNESS_ACCOUNT}&identifier={id}",
        sb.var("SANDBOX_HARNESS_URL")
    );
    let body = serde_json::json!({ "cluster": cluster, "upsert": true }).to_string();
    let mut resp = agent()
        .post(&url)
        .header("x-api-key", sb.var("HARNESS_API_KEY"))
        .header("Content-Type", "application/json")
        .send(body.as_str())
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    assert_eq!(status, 200, "POST {url}: {text}");
}

/// One line of `verify`'s report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckLine {
    pub status: String,
    pub name: String,
    pub detail: String,
    pub fix: Option<String>,
}

/// Parses `verify`'s text report: `STATUS  NAME  DETAIL`, an indented `fix: ...` under a
/// failure, and the closing `N checks: ...` line (which must be right).
#[track_caller]
pub fn parse_report(out: &Output) -> Vec<CheckLine> {
    let mut checks: Vec<CheckLine> = Vec::new();
    let mut count_line = None;
    for line in out.stdout.lines() {
        if line.starts_with(' ') {
            let fix = line
                .trim_start()
                .strip_prefix("fix: ")
                .unwrap_or_else(|| panic!("an indented line that is not a fix: {line:?}\n{}", out.describe()));
            let last = checks
                .last_mut()
                .unwrap_or_else(|| panic!("a fix before any check:\n{}", out.describe()));
            assert!(last.fix.is_none(), "two fixes under one check:\n{}", out.describe());
            last.fix = Some(fix.to_owned());
        } else if line.contains(" checks: ") {
            count_line = Some(line.to_owned());
        } else {
            assert!(count_line.is_none(), "a check after the count:\n{}", out.describe());
            let (status, rest) = line
                .split_once(' ')
                .unwrap_or_else(|| panic!("not a check line: {line:?}\n{}", out.describe()));
            let (name, detail) = rest
                .trim_start()
                .split_once("  ")
                .unwrap_or_else(|| panic!("not a check line: {line:?}\n{}", out.describe()));
            checks.push(CheckLine {
                status: status.to_owned(),
                name: name.to_owned(),
                detail: detail.trim_start().to_owned(),
                fix: None,
            });
        }
    }
    let count = |s: &str| checks.iter().filter(|c| c.status == s).count();
    assert_eq!(
        count_line.as_deref(),
        Some(
            format!(
                "{} checks: {} ok, {} failed, {} skipped",
                checks.len(),
                count("ok"),
                count("FAIL"),
                count("skipped")
            )
            .as_str()
        ),
        "the count line:\n{}",
        out.describe()
    );
    checks
}

/// The testing cluster's aws-auth mappings, as `eksctl get iamidentitymapping -o json` lists them.
pub fn testing_cluster_mappings(sb: &Sandbox) -> Value {
    sb.eksctl(&[
        "get",
        "iamidentitymapping",
        "--cluster",
        "testing",
        "--region",
        REGION,
        "-o",
        "json",
    ])
    .success()
    .json()
}

/// Runs `verify ARGS`: exit 0, every one of [`CHECKS`] `ok` (in that order, no fix), and only
/// reads: nothing mutating in commands.log, no POST or DELETE to the Harness stand-in.
#[track_caller]
pub fn assert_verify_green(sb: &Sandbox, verify_args: &[&str], when: &str) -> Vec<CheckLine> {
    let mark = sb.mark();
    let requests = harness_request_count(sb);
    let out = sb.gitops_iam(verify_args);
    let checks = parse_report(&out);
    let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, CHECKS, "{when}: the checks of verify:\n{}", out.describe());
    let not_ok: Vec<&CheckLine> = checks.iter().filter(|c| c.status != "ok").collect();
    assert!(
        not_ok.is_empty(),
        "{when}: not every check is ok: {not_ok:#?}\n{}",
        out.describe()
    );
    assert!(checks.iter().all(|c| c.fix.is_none()), "{when}:\n{}", out.describe());
    out.success();
    assert_reads_only(sb, mark, requests, &format!("{when}: verify"));
    checks
}

/// Runs `verify ARGS` after one link was broken: exit 1, EXACTLY the check FAILED fails (the
/// others `ok` or `skipped`), its detail contains DETAIL, it has a `fix:` line starting with
/// FIX_PREFIX, and `verify` only read. Returns the fix.
#[track_caller]
pub fn assert_verify_fails_only(
    sb: &Sandbox,
    verify_args: &[&str],
    failed: &str,
    detail: &str,
    fix_prefix: &str,
) -> String {
    let mark = sb.mark();
    let requests = harness_request_count(sb);
    let out = sb.gitops_iam(verify_args);
    let checks = parse_report(&out);
    let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        CHECKS,
        "{failed} broken: the checks of verify:\n{}",
        out.describe()
    );
    let fails: Vec<&str> = checks
        .iter()
        .filter(|c| c.status == "FAIL")
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        fails,
        [failed],
        "{failed} broken: verify must fail exactly that check:\n{}",
        out.describe()
    );
    for c in &checks {
        assert!(
            matches!(c.status.as_str(), "ok" | "FAIL" | "skipped"),
            "status {:?}:\n{}",
            c.status,
            out.describe()
        );
    }
    let check = checks.iter().find(|c| c.name == failed).unwrap();
    assert!(
        check.detail.contains(detail),
        "{failed} broken: the detail does not say {detail:?}:\n{}",
        out.describe()
    );
    let fix = check
        .fix
        .clone()
        .unwrap_or_else(|| panic!("{failed} broken: no fix: line under it:\n{}", out.describe()));
    assert!(
        fix.starts_with(fix_prefix),
        "{failed} broken: the fix {fix:?} does not start with {fix_prefix:?}:\n{}",
        out.describe()
    );
    out.code(1);
    assert_reads_only(sb, mark, requests, &format!("verify with {failed} broken"));
    fix
}

/// Since MARK (commands.log) and REQUESTS (the stand-in's request count): no mutating command,
/// only GETs to the Harness API.
#[track_caller]
pub fn assert_reads_only(sb: &Sandbox, mark: usize, requests: usize, what: &str) {
    let cmds = sb.commands_since(mark);
    assert!(!cmds.is_empty(), "{what} did not even read anything");
    let mutating = mutating_lines(&cmds);
    assert!(
        mutating.is_empty(),
        "{what} ran mutating commands:\n{}",
        mutating.join("\n")
    );
    let writes: Vec<Value> = harness_requests_since(sb, requests)
        .into_iter()
        .filter(|r| r["method"] != "GET")
        .collect();
    assert!(writes.is_empty(), "{what} changed the Harness stand-in: {writes:#?}");
}

/// Runs a `fix:` command as printed (a `gitops-iam ...` with EXTRA appended, or a `kubectl ...`)
/// in the work dir; it must succeed.
#[track_caller]
pub fn run_fix(sb: &Sandbox, fix: &str, extra: &[&str]) -> Output {
    let argv = shlex::split(fix).unwrap_or_else(|| panic!("the fix is not shell words: {fix:?}"));
    let rest: Vec<&str> = argv[1..]
        .iter()
        .map(String::as_str)
        .chain(extra.iter().copied())
        .collect();
    let out = if argv[0] == "gitops-iam" {
        sb.gitops_iam(&rest)
    } else {
        sb.run(&argv[0], &rest)
    };
    out.success();
    out
}

/// stdout as JSON Lines: every line must parse as an object with an `event`.
#[track_caller]
pub fn json_lines(out: &Output) -> Vec<Value> {
    out.stdout
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("stdout line {} is not JSON ({e}): {line:?}\n{}", i + 1, out.describe()));
            assert!(v["event"].is_string(), "line {} has no event: {line}", i + 1);
            v
        })
        .collect()
}

/// The number of logged commands and mutating ones since MARK, as the product's summary counts
/// them (HTTP requests to the stand-in added separately).
pub fn counts(cmds: &[Logged]) -> (usize, usize) {
    (cmds.len(), cmds.iter().filter(|c| c.mutating).count())
}

/// A kubectl call against the management cluster with a kubeconfig of the test's own.
pub fn kubectl_mgmt(sb: &Sandbox, kubeconfig: &str, args: &[&str]) -> Output {
    let mut argv = vec!["--kubeconfig", kubeconfig];
    argv.extend_from_slice(args);
    sb.kubectl(&argv)
}

/// Writes a JSON document under the sandbox for `file://` arguments.
pub fn doc_file(sb: &Sandbox, name: &str, doc: &Value) -> String {
    let path = sb.scratch(name);
    std::fs::write(&path, doc.to_string()).unwrap();
    format!("file://{}", path.display())
}

/// The management cluster's OIDC issuer without `https://`.
pub fn mgmt_issuer_host(sb: &Sandbox) -> String {
    let out = sb.aws(&[
        "eks",
        "describe-cluster",
        "--name",
        "management",
        "--region",
        REGION,
        "--query",
        "cluster.identity.oidc.issuer",
        "--output",
        "text",
    ]);
    out.success();
    out.stdout
        .trim()
        .strip_prefix("https://")
        .unwrap_or_else(|| panic!("issuer: {}", out.describe()))
        .to_owned()
}

/// `aws eks describe-cluster` of NAME (with PROFILE), the `cluster` object.
pub fn describe_cluster(sb: &Sandbox, name: &str, profile: Option<&str>) -> Value {
    let mut argv = vec![
        "eks",
        "describe-cluster",
        "--name",
        name,
        "--region",
        REGION,
        "--output",
        "json",
    ];
    if let Some(p) = profile {
        argv.extend(["--profile", p]);
    }
    sb.aws(&argv).success().json()["cluster"].clone()
}

/// `aws iam get-role` of NAME in the default account, the `Role` object.
pub fn get_role(sb: &Sandbox, name: &str) -> Value {
    sb.aws(&[
        "iam",
        "get-role",
        "--role-name",
        name,
        "--region",
        REGION,
        "--output",
        "json",
    ])
    .success()
    .json()["Role"]
        .clone()
}

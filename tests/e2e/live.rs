//! `verify --live` helpers (issue 13): the hops of the report, green and broken, and the check
//! that no secret of the chain (the service-account token, the temporary credentials moto
//! issued) reaches any stream.
//!
//! The break-a-link cases live in `verify_e2e.rs`, on the sandbox of the static break-a-link
//! test: a `verify --live` replaces its `verify` where a link is broken, so a case costs only
//! the hops (one sandbox and one `up` serve both).

use super::sandbox::{Output, Sandbox};
use super::support::*;
use super::*;

/// The hops of `verify --live` for one testing cluster named `testing`, per service account.
pub fn live_hops(deployer: &str) -> Vec<String> {
    ["gitops-agent", "argocd-application-controller"]
        .iter()
        .flat_map(|sa| {
            [
                format!("live {sa}: token"),
                format!("live {sa}: AssumeRoleWithWebIdentity ArgoCD"),
                format!("live {sa}: AssumeRole {deployer} (testing)"),
                format!("live {sa}: API of testing"),
            ]
        })
        .collect()
}

/// Runs `verify --live ...`: the static checks, then every hop `ok`; exit 0, reads only.
#[track_caller]
pub fn assert_live_green(sb: &Sandbox, args: &[&str], when: &str) -> Output {
    let mark = sb.mark();
    let out = sb.gitops_iam(args);
    let report = parse_report(&out);
    let hops = live_hops("Deployer");
    let names: Vec<&str> = report.iter().map(|c| c.name.as_str()).collect();
    let want: Vec<&str> = CHECKS.iter().copied().chain(hops.iter().map(String::as_str)).collect();
    assert_eq!(names, want, "{when}: the checks of verify --live:\n{}", out.describe());
    let bad: Vec<_> = report
        .iter()
        .filter(|c| c.status == "FAIL" || (c.status != "ok" && c.name.starts_with("live ")))
        .collect();
    assert!(bad.is_empty(), "{when}: {bad:#?}\n{}", out.describe());
    out.success();
    assert!(
        mutating_lines(&sb.commands_since(mark)).is_empty(),
        "{when}: verify --live changed something"
    );
    out
}

/// One link broken, `verify --live ...`: exactly the static check FAILED fails (detail
/// containing DETAIL); for both service accounts the hops before HOP are `ok`, HOP fails with
/// the service's ERROR and names FAILED, the hops after it are skipped; the hop's fix is the
/// static check's, starting with FIX_PREFIX. HOP `None`: the link is weak, not broken (every
/// hop passes). No secret in its streams. Returns the fix.
#[track_caller]
pub fn assert_live_fails(
    sb: &Sandbox,
    args: &[&str],
    failed: &str,
    detail: &str,
    hop: Option<(&str, &str)>,
    fix_prefix: &str,
) -> String {
    let mark = sb.mark();
    let out = sb.gitops_iam(args);
    out.code(1);
    let report = parse_report(&out);
    let what = format!("{failed} broken");
    let fails: Vec<&str> = report
        .iter()
        .filter(|c| c.status == "FAIL" && !c.name.starts_with("live "))
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(fails, [failed], "{what}: the static checks:\n{}", out.describe());
    let check = report.iter().find(|c| c.name == failed).unwrap();
    assert!(
        check.detail.contains(detail),
        "{what}: {:?}\n{}",
        check.detail,
        out.describe()
    );
    let fix = check.fix.clone().unwrap();
    assert!(fix.starts_with(fix_prefix), "{what}: {fix}\n{}", out.describe());
    for sa in ["gitops-agent", "argocd-application-controller"] {
        let hops: Vec<_> = report
            .iter()
            .filter(|c| c.name.starts_with(&format!("live {sa}: ")))
            .collect();
        assert_eq!(hops.len(), 4, "{what}: the hops of {sa}:\n{}", out.describe());
        let Some((hop, error)) = hop else {
            assert!(hops.iter().all(|h| h.status == "ok"), "{what}: {hops:#?}");
            continue;
        };
        let at = hops
            .iter()
            .position(|h| h.name.ends_with(hop))
            .unwrap_or_else(|| panic!("{what}: no hop {hop}: {hops:#?}"));
        for (i, h) in hops.iter().enumerate() {
            let want = match i.cmp(&at) {
                std::cmp::Ordering::Less => "ok",
                std::cmp::Ordering::Equal => "FAIL",
                std::cmp::Ordering::Greater => "skipped",
            };
            assert_eq!(h.status, want, "{what}: {sa}, hop {}:\n{}", h.name, out.describe());
        }
        let broken = hops[at];
        assert!(
            broken.detail.starts_with(error),
            "{what}: {:?}\n{}",
            broken.detail,
            out.describe()
        );
        assert!(
            broken.detail.contains(&format!("static check `{failed}`")),
            "{what}: the hop must name the static check: {:?}",
            broken.detail
        );
        assert_eq!(
            broken.fix.as_deref(),
            Some(fix.as_str()),
            "{what}: {sa}:\n{}",
            out.describe()
        );
    }
    assert!(
        mutating_lines(&sb.commands_since(mark)).is_empty(),
        "{what}: verify --live changed something"
    );
    // a failing hop's error names no secret either (the hops before it had some)
    assert_no_secrets(sb, &[&out]);
    fix
}

/// No secret of the chain in any of OUTS' streams, in the command log (every child's argv) or
/// left in the state directory: the service-account tokens (JWTs: `eyJ...`) and every
/// credential moto issued to a `gitops-iam-verify` session (its own record of them).
#[track_caller]
pub fn assert_no_secrets(sb: &Sandbox, outs: &[&Output]) {
    let data: serde_json::Value = {
        let url = format!("{}/moto-api/data.json", sb.var("AWS_ENDPOINT_URL"));
        let agent: ureq::Agent = ureq::Agent::config_builder().proxy(None).build().into();
        let mut resp = agent.get(&url).call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
        serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap()
    };
    let sessions: Vec<&serde_json::Value> = data["sts"]["AssumedRole"]
        .as_array()
        .map(|a| a.iter().filter(|r| r["session_name"] == "gitops-iam-verify").collect())
        .unwrap_or_default();
    assert!(sessions.len() >= 4, "verify --live assumed no roles? {:#}", data["sts"]);
    let mut secrets: Vec<String> = Vec::new();
    for s in &sessions {
        for key in ["access_key_id", "secret_access_key", "session_token"] {
            secrets.push(s[key].as_str().unwrap().to_string());
        }
    }
    let log = std::fs::read_to_string(std::path::Path::new(sb.var("GITOPS_IAM_SANDBOX")).join("commands.log")).unwrap();
    let mut streams: Vec<(String, &str)> = vec![("commands.log".into(), log.as_str())];
    for (i, o) in outs.iter().enumerate() {
        streams.push((format!("stdout of run {i}"), o.stdout.as_str()));
        streams.push((format!("stderr of run {i}"), o.stderr.as_str()));
    }
    for (name, text) in &streams {
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{name} holds a credential:\n{text}");
        }
        assert!(!text.contains("eyJhbGciOi"), "{name} holds a token:\n{text}");
    }
    let state = sb.work().join(".gitops-iam");
    let left: Vec<_> = std::fs::read_dir(&state)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("live-token"))
        .collect();
    assert!(left.is_empty(), "token files left in {}: {left:?}", state.display());
}

//! `agent install --dry-run`, run by bash after `mgmt`, creates and installs the agent as a real
//! run does (issue 14): the manifest lands in a 0600 file, the agent connects, and no secret is
//! printed. A real `agent install` afterwards finds everything in place: it reads the installed
//! agent's key from its Secret, downloads the manifest with it (no new token: the agent stays
//! connected), writes nothing to Harness and runs no mutating command.

use super::sandbox::Sandbox;
use super::support::*;
use super::*;
use base64::Engine as _;

#[test]
fn agent_install_dry_run_script_installs_the_agent_and_a_real_run_after_it_changes_nothing() {
    let sb = Sandbox::start();
    sb.gitops_iam(&["mgmt", "--region", REGION]).success();
    let url = sb.var("SANDBOX_HARNESS_URL");
    let install = args(
        &["agent", "install"],
        &[
            "--harness-url",
            url,
            "--harness-account",
            HARNESS_ACCOUNT,
            "--agent-id",
            "account.scripted",
        ],
    );

    let script = sb.gitops_iam(&[install.as_slice(), &["--dry-run"]].concat());
    script.success();
    let run = sb.run_script("install.sh", &script.stdout);
    let agents = harness_agents(&sb);
    let a = &agents["agents"][0];
    assert_eq!(a["prefixedIdentifier"], "account.scripted", "{agents:#}");
    assert_eq!(a["health"]["connectionStatus"], "CONNECTED", "{agents:#}");
    // the script has no create answer to take the key from: its one download made the token
    assert_eq!(agents["rotations"], 1, "{agents:#}");
    let key = a["credentials"]["privateKey"].as_str().unwrap().to_owned();
    let token = base64::engine::general_purpose::STANDARD.encode(key.as_bytes());
    for secret in [&key, &token] {
        assert!(
            !run.stdout.contains(secret.as_str()) && !run.stderr.contains(secret.as_str()),
            "{}",
            run.describe()
        );
        assert!(!script.stdout.contains(secret.as_str()));
    }
    let manifest = sb.work().join(".gitops-iam/agent/account.scripted.yaml");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&manifest).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "{}", manifest.display());

    let mark = sb.mark();
    let count = harness_request_count(&sb);
    let real = sb.gitops_iam(&[install.as_slice(), &["-v"]].concat());
    real.success();
    let since = harness_requests_since(&sb, count);
    let writes: Vec<&Value> = since.iter().filter(|r| r["method"] != "GET").collect();
    assert!(writes.is_empty(), "{writes:#?}\n{}", real.describe());
    let mutating = mutating_lines(&sb.commands_since(mark));
    assert!(mutating.is_empty(), "{}\n{}", mutating.join("\n"), real.describe());
    let after = harness_agents(&sb);
    assert_eq!(after["rotations"], 1, "{after:#}");
    assert_eq!(
        after["agents"][0]["health"]["connectionStatus"], "CONNECTED",
        "{after:#}"
    );
    for secret in [&key, &token] {
        assert!(
            !real.stdout.contains(secret.as_str()) && !real.stderr.contains(secret.as_str()),
            "{}",
            real.describe()
        );
    }
}

//! Registration against the sandbox: `up` with Harness options registers the testing cluster in
//! the Harness stand-in with IRSA and the values EKS reports, once; `register --to argocd`
//! creates the Argo CD cluster Secret once, with the right content, and `verify --to argocd`
//! checks it.

use super::sandbox::Sandbox;
use super::support::*;
use super::*;
use base64::Engine as _;
use serde_json::{Value, json};

/// The agent `up` creates (issue 14): `account.bootstrap`, an agent Harness does not have yet.
const NEW_AGENT: &str = "account.bootstrap";

/// The agent's private key and token as they could leak: the key itself and base64 of it (the
/// Secret's data).
fn secrets_of(agent: &Value) -> [String; 2] {
    let key = agent["credentials"]["privateKey"]
        .as_str()
        .expect("the stand-in shows the key")
        .to_owned();
    let b64 = base64::engine::general_purpose::STANDARD.encode(key.as_bytes());
    [key, b64]
}

/// Issue 12, item 6: `--log-file` holds a JSON line per event: one per external command and
/// request (in its span, with duration and exit status), one per step, one for the command's
/// end; as many commands as the summary counts, and no secret.
#[track_caller]
fn assert_diagnostic_log(log: &str, out: &super::sandbox::Output, secrets: &[String]) {
    let events: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let ended = |span: &str| -> Vec<&Value> {
        events
            .iter()
            .filter(|e| e["span"]["name"] == span && e["fields"]["duration_ms"].is_u64())
            .collect()
    };
    let (cmds, http) = (ended("cmd"), ended("http"));
    for program in ["aws", "eksctl", "kubectl"] {
        assert!(
            cmds.iter()
                .any(|e| e["span"]["program"] == program && e["fields"]["exit_status"] == 0),
            "no {program} command in the log:\n{log}"
        );
    }
    assert!(
        http.iter().any(|e| e["fields"]["exit_status"] == 200),
        "no HTTP request in the log:\n{log}"
    );
    let counted = out
        .stderr
        .lines()
        .find_map(|l| {
            l.split("total ")
                .nth(1)?
                .split(", ")
                .nth(1)?
                .strip_suffix(" commands")?
                .parse::<usize>()
                .ok()
        })
        .unwrap_or_else(|| panic!("no command count in the summary\n{}", out.describe()));
    assert_eq!(cmds.len() + http.len(), counted, "{log}");
    let steps = events
        .iter()
        .filter(|e| e["fields"]["message"] == "step finished")
        .count();
    assert_eq!(steps, out.stderr.matches(": started").count(), "{log}");
    let last = events.last().expect("a log");
    assert_eq!(
        (
            &last["fields"]["message"],
            &last["fields"]["exit_code"],
            &last["span"]["command"]
        ),
        (&json!("finished"), &json!(0), &json!("up")),
        "{last:#}"
    );
    for s in secrets {
        assert!(!log.contains(s.as_str()), "a secret in the log file");
    }
}

#[track_caller]
fn assert_no_secret(out: &super::sandbox::Output, secrets: &[String], what: &str) {
    for s in secrets {
        assert!(
            !out.stdout.contains(s.as_str()),
            "{what}: a secret on stdout\n{}",
            out.describe()
        );
        assert!(
            !out.stderr.contains(s.as_str()),
            "{what}: a secret on stderr\n{}",
            out.describe()
        );
    }
}

/// Issue 14, item 1: from an empty sandbox, `up` with Harness settings and no agent manifest
/// creates the agent in Harness, installs its manifest, patches it and waits until Harness
/// reports it connected, then registers the testing cluster with IRSA. A re-run writes nothing
/// to Harness, runs no mutating command and does not regenerate the token (the agent stays
/// connected); the key and token appear in no output (-v, --output json); `down` removes the
/// agent record after its cluster.
#[test]
fn up_installs_the_agent_registers_the_testing_cluster_with_irsa_and_a_rerun_writes_nothing() {
    let sb = Sandbox::start();
    let url = sb.var("SANDBOX_HARNESS_URL");
    let h = [
        "--harness-url",
        url,
        "--harness-account",
        HARNESS_ACCOUNT,
        "--agent-id",
        NEW_AGENT,
    ];
    let log = sb.scratch("up-log.json");
    let log_flag = ["--log-file", log.to_str().unwrap()];
    let up = args(&["up", "-v"], &h);
    let first = sb.gitops_iam(&[up.as_slice(), &log_flag].concat());
    first.success();

    let agents = harness_agents(&sb);
    let list = agents["agents"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{agents:#}");
    let a = &list[0];
    assert_eq!(
        (
            &a["identifier"],
            &a["prefixedIdentifier"],
            &a["type"],
            &a["accountIdentifier"]
        ),
        (
            &json!("bootstrap"),
            &json!(NEW_AGENT),
            &json!("MANAGED_ARGO_PROVIDER"),
            &json!(HARNESS_ACCOUNT)
        ),
        "{a:#}"
    );
    assert_eq!(a["metadata"], json!({"namespace": "iam"}), "{a:#}");
    assert_eq!(a["tags"], json!({"created-by": "gitops-iam"}), "{a:#}");
    assert_eq!(a["health"]["connectionStatus"], "CONNECTED", "{a:#}");
    assert_eq!(a["health"]["harnessGitopsAgent"]["status"], "HEALTHY", "{a:#}");
    // the download passed the key the agent was created with: no token was regenerated
    assert_eq!(agents["rotations"], 0, "{agents:#}");
    let secrets = secrets_of(a);
    assert_no_secret(&first, &secrets, "up");
    assert_diagnostic_log(&std::fs::read_to_string(&log).unwrap(), &first, &secrets);
    let manifest = sb.work().join(".gitops-iam/agent/account.bootstrap.yaml");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&manifest).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "{}", manifest.display());
    assert!(std::fs::read_to_string(&manifest).unwrap().contains(&secrets[1]));
    assert!(
        summary_line(&first.stderr, "agent: harness agent account.bootstrap").contains("created Harness GitOps agent"),
        "{}",
        first.describe()
    );

    let eks = describe_cluster(&sb, "testing", None);
    let endpoint = eks["endpoint"].as_str().expect("endpoint").to_owned();
    let ca = eks["certificateAuthority"]["data"].as_str().expect("CA").to_owned();
    let state = harness_state(&sb);
    let clusters = state["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 1, "{state:#}");
    let c = &clusters[0];
    assert_eq!(c["identifier"], "testing", "{c:#}");
    assert_eq!(c["accountIdentifier"], HARNESS_ACCOUNT, "{c:#}");
    assert_eq!(c["agentIdentifier"], NEW_AGENT, "{c:#}");
    assert!(
        c.get("orgIdentifier").is_none() && c.get("projectIdentifier").is_none(),
        "{c:#}"
    );
    let cluster = &c["cluster"];
    assert_eq!(cluster["name"], "testing", "{c:#}");
    assert_eq!(cluster["server"], endpoint.as_str(), "{c:#}");
    assert_eq!(
        cluster["config"],
        json!({
            "awsClusterName": "testing",
            "clusterConnectionType": "IRSA",
            "roleARN": DEPLOYER_ROLE_ARN,
            "tlsClientConfig": {"caData": ca, "insecure": false},
        }),
        "{c:#}"
    );
    let writes =
        |requests: &[Value]| -> Vec<Value> { requests.iter().filter(|r| r["method"] != "GET").cloned().collect() };
    let requests = state["requests"].as_array().unwrap();
    let posts: Vec<Value> = writes(requests);
    assert_eq!(
        posts.iter().map(|r| r["path"].as_str().unwrap()).collect::<Vec<_>>(),
        [
            "/gitops/api/v1/agents",
            "/gitops/api/v1/agents/account.bootstrap/clusters"
        ],
        "{requests:#?}"
    );
    // harness-go-sdk sends the account as routingId on every call; so does gitops-iam
    for r in requests {
        assert_eq!(r["query"]["routingId"], HARNESS_ACCOUNT, "{r:#}");
    }

    // a re-run: reads only, in Harness and in the clusters; the token stays, the agent
    // connected (the GET leaves `insecure: false` out, as the real API's Go model may)
    let mark = sb.mark();
    let count = harness_request_count(&sb);
    let again = sb.gitops_iam(&[up.as_slice(), &["--output", "json"]].concat());
    again.success();
    let since = harness_requests_since(&sb, count);
    assert!(writes(&since).is_empty(), "the re-run wrote to Harness: {since:#?}");
    assert!(
        since
            .iter()
            .any(|r| r["path"] == "/gitops/api/v1/agents/bootstrap/deploy.yaml"
                && r["query"]["privateKey"] == "<redacted>"),
        "the re-run did not download the manifest with the installed key: {since:#?}"
    );
    let mutating = mutating_lines(&sb.commands_since(mark));
    assert!(mutating.is_empty(), "{}", mutating.join("\n"));
    let after = harness_agents(&sb);
    assert_eq!(after["rotations"], 0, "{after:#}");
    assert_eq!(
        after["agents"][0]["health"]["connectionStatus"], "CONNECTED",
        "{after:#}"
    );
    assert_no_secret(&again, &secrets, "the re-run (-v, --output json)");
    assert_eq!(harness_state(&sb)["clusters"], state["clusters"]);

    // its dry-run neither holds nor prints a secret either
    let dry = sb.gitops_iam(&args(&["agent", "install", "--dry-run", "-v"], &h));
    dry.success();
    assert_no_secret(&dry, &secrets, "agent install --dry-run");

    // down: the cluster, then the agent record gitops-iam created
    let count = harness_request_count(&sb);
    let down = sb.gitops_iam(&args(&["down", "--yes", "--keep-clusters", "-v"], &h));
    down.success();
    assert_no_secret(&down, &secrets, "down");
    let deletes: Vec<String> = writes(&harness_requests_since(&sb, count))
        .iter()
        .map(|r| format!("{} {}", r["method"].as_str().unwrap(), r["path"].as_str().unwrap()))
        .collect();
    assert_eq!(
        deletes,
        [
            "DELETE /gitops/api/v1/agents/account.bootstrap/clusters/testing",
            "DELETE /gitops/api/v1/agents/bootstrap",
        ],
        "{}",
        down.describe()
    );
    assert_eq!(harness_agents(&sb)["agents"], json!([]));
}

/// An agent Harness does not have answers 404 without a not-found code: `register` stops at the
/// GET, names the agent and its scope, and posts nothing.
#[test]
fn register_with_an_unknown_agent_fails_at_the_get_naming_the_agent_and_scope() {
    let sb = Sandbox::start();
    sb.gitops_iam(&up_args(&[])).success();
    let count = harness_request_count(&sb);
    let register = args(
        &["register"],
        &[
            "--harness-url",
            sb.var("SANDBOX_HARNESS_URL"),
            "--harness-account",
            HARNESS_ACCOUNT,
            "--agent-id",
            "account.nosuchagent",
        ],
    );
    let out = sb.gitops_iam(&register);
    out.code(1);
    assert!(
        out.stderr
            .contains("Harness has no GitOps agent account.nosuchagent in account acc;"),
        "{}",
        out.describe()
    );
    assert!(out.stderr.contains("check --agent-id"), "{}", out.describe());
    let since = harness_requests_since(&sb, count);
    assert_eq!(since.len(), 1, "{since:#?}");
    assert_eq!(
        (&since[0]["method"], &since[0]["status"]),
        (&json!("GET"), &json!(404)),
        "{since:#?}"
    );
    assert!(harness_state(&sb)["clusters"].as_array().unwrap().is_empty());
}

#[test]
fn register_to_argocd_creates_the_cluster_secret_once_a_rerun_changes_nothing_and_verify_checks_it() {
    let sb = Sandbox::start();
    sb.gitops_iam(&up_args(&[])).success();
    let register = args(&["register", "--to", "argocd"], &[]);

    let mark = sb.mark();
    let out = sb.gitops_iam(&register);
    out.success();
    let applied = mutating_lines(&sb.commands_since(mark));
    assert_eq!(
        applied,
        [
            "kubectl --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml --context moto@management.us-east-1.eksctl.io -n iam apply -f \
             .gitops-iam/policies/argocd-secret-testing.json"
        ],
        "{}",
        out.describe()
    );

    let kc = sb.kubeconfig_for("management", None);
    let kc = kc.to_str().unwrap();
    let secrets = kubectl_mgmt(
        &sb,
        kc,
        &[
            "get",
            "secrets",
            "-A",
            "-l",
            "argocd.argoproj.io/secret-type=cluster",
            "-o",
            "json",
        ],
    )
    .success()
    .json();
    let items = secrets["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "cluster secrets: {secrets:#}");
    let s = &items[0];
    assert_eq!(s["metadata"]["name"], "testing-cluster", "{s:#}");
    assert_eq!(s["metadata"]["namespace"], "iam", "{s:#}");
    assert_eq!(s["type"], "Opaque", "{s:#}");
    let data = s["data"].as_object().unwrap_or_else(|| panic!("no data: {s:#}"));
    let decode = |key: &str| {
        let b64 = data
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no data.{key}: {s:#}"));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap_or_else(|e| panic!("data.{key} is not base64 ({e}): {s:#}"));
        String::from_utf8(bytes).unwrap()
    };
    let mut keys: Vec<&String> = data.keys().collect();
    keys.sort();
    assert_eq!(keys, ["config", "name", "server"], "{s:#}");
    let eks = describe_cluster(&sb, "testing", None);
    assert_eq!(decode("name"), "testing");
    assert_eq!(decode("server"), eks["endpoint"].as_str().unwrap());
    let config: Value = serde_json::from_str(&decode("config")).expect("data.config is JSON");
    assert_eq!(
        config,
        json!({
            "awsAuthConfig": {"clusterName": "testing", "roleARN": DEPLOYER_ROLE_ARN},
            "tlsClientConfig": {"caData": eks["certificateAuthority"]["data"], "insecure": false},
        })
    );

    // a re-run changes nothing
    let mark = sb.mark();
    let out = sb.gitops_iam(&register);
    out.success();
    let since = sb.commands_since(mark);
    assert!(!since.is_empty());
    let mutating = mutating_lines(&since);
    assert!(mutating.is_empty(), "{}\n{}", mutating.join("\n"), out.describe());
    assert!(
        summary_line(&out.stderr, "register: argocd secret testing-cluster").contains("unchanged"),
        "{}",
        out.describe()
    );

    // verify --to argocd: green and read-only; the Secret deleted fails only the registration
    let verify = args(&["verify", "--to", "argocd"], &[]);
    let checks = assert_verify_green(&sb, &verify, "after register --to argocd");
    assert_eq!(checks.last().unwrap().detail, "Argo CD secret testing-cluster matches");
    kubectl_mgmt(&sb, kc, &["-n", "iam", "delete", "secret", "testing-cluster"]).success();
    let fix = assert_verify_fails_only(
        &sb,
        &verify,
        "registration of testing",
        "no Argo CD secret testing-cluster",
        "gitops-iam register --region us-east-1 ",
    );
    run_fix(&sb, &fix, &["--to", "argocd"]);
    assert_verify_green(&sb, &verify, "after the printed register fix");
}

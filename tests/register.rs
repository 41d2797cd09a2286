//! Register: `gitops-iam register` (and `up`, `verify`, `down`, `agent install` with Harness
//! settings) against the sandbox's Harness GitOps API stand-in (`tests/sandbox/harness_api.py`,
//! one process per test: [`crate::harness_api`]), with the fakes answering `aws eks
//! describe-cluster`.
//!
//! The request is checked twice: by the stand-in, which refuses what the real API refuses (a
//! wrong key, a field its models do not have, a body without a server or role), and by reading
//! what it received, verbatim. What the real service does when it fails (a 5xx, a 429, a proxy's
//! page, an error body of another shape) is injected ([`Answer`]). The API key must reach the
//! server and nothing else: not stdout, stderr, a child's argv, a file, the script.

use crate::fakes::*;
use crate::harness::{Output, Test, assert_lines_eq};
use crate::harness_api::{Answer, HarnessApi, Request};
use base64::Engine as _;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The API key; distinctive, so any leak shows.
const KEY: &str = "pat.acc123.0123456789abcdef.SEKRIT-4f9c2b7d";
const HARNESS_ACCOUNT: &str = "acc123";
const ORG: &str = "default";
const PROJECT: &str = "proj_1";
const AGENT: &str = "myagent";
/// What the fakes answer for the testing cluster's endpoint and CA (as `cluster("testing")`).
const ENDPOINT: &str = "https://EXAMPLE0123456789.gr7.us-east-1.eks.amazonaws.com";
const CA: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==";
const CLUSTERS: &str = "/gitops/api/v1/agents/myagent/clusters";
const CLUSTER: &str = "/gitops/api/v1/agents/myagent/clusters/testing";
const AGENT_PATH: &str = "/gitops/api/v1/agents/myagent";
/// The query of the POST, in the order the tool writes it.
const POST_QUERY: &str =
    "accountIdentifier=acc123&routingId=acc123&orgIdentifier=default&projectIdentifier=proj_1&identifier=testing";
const GET_QUERY: &str = "accountIdentifier=acc123&routingId=acc123&orgIdentifier=default&projectIdentifier=proj_1";
/// The agents the stand-in knows.
const AGENTS: &[&str] = &[AGENT, "account.shared_agent"];

/// The stand-in accepting [`KEY`]; a cluster it does not have is a 404 with gRPC NotFound.
fn harness() -> HarnessApi {
    harness_with_key(KEY)
}

fn harness_with_key(key: &str) -> HarnessApi {
    HarnessApi::start(key, AGENTS, true)
}

/// The fakes' answers to the two text queries `register` makes.
fn endpoint_rules(rules: Rules) -> Rules {
    rules
        .with(Rule::new("aws", "--query cluster.endpoint ").stdout(format!("{ENDPOINT}\n")))
        .with(Rule::new("aws", "--query cluster.certificateAuthority.data ").stdout(format!("{CA}\n")))
}

/// A converged account that also answers the endpoint and CA queries (and lists the agent's
/// pods, for `up`).
fn account() -> Rules {
    endpoint_rules(converged_account()).with(crate::access_entry::agent_pods())
}

/// The Harness flags, pointing at `server`.
fn harness_args(server: &HarnessApi) -> Vec<String> {
    [
        "--harness-url",
        &server.uri(),
        "--harness-account",
        HARNESS_ACCOUNT,
        "--harness-org",
        ORG,
        "--harness-project",
        PROJECT,
        "--agent-id",
        AGENT,
    ]
    .map(str::to_string)
    .to_vec()
}

/// `gitops-iam register --region us-east-1 <harness flags>` with `HARNESS_API_KEY` set.
fn register(server: &HarnessApi) -> Test {
    Test::new()
        .rules(account())
        .env("HARNESS_API_KEY", KEY)
        .args(["register", "--region", REGION])
        .args(harness_args(server))
}

/// The cluster as the tool wants it registered.
fn desired_cluster() -> Value {
    json!({
        "server": ENDPOINT,
        "name": "testing",
        "config": {
            "clusterConnectionType": "IRSA",
            "roleARN": DEPLOYER_ROLE_ARN,
            "awsClusterName": "testing",
            "tlsClientConfig": {"insecure": false, "caData": CA}
        }
    })
}

/// The exact body of the POST.
fn desired_body() -> Value {
    json!({"upsert": true, "cluster": desired_cluster()})
}

/// A registered cluster in the form Harness answers it (for an injected GET).
fn registered(cluster: Value) -> Value {
    json!({
        "accountIdentifier": HARNESS_ACCOUNT,
        "orgIdentifier": ORG,
        "projectIdentifier": PROJECT,
        "agentIdentifier": AGENT,
        "identifier": "testing",
        "cluster": cluster,
        "createdAt": "2026-01-01T00:00:00Z",
        "lastModifiedAt": "2026-01-01T00:00:00Z"
    })
}

/// Registers `cluster` as testing through the API (as an earlier run or the UI did), then
/// forgets that request: the test reads only what the tool sent.
fn seed(server: &HarnessApi, cluster: Value) {
    let body = json!({"upsert": true, "cluster": cluster});
    let (status, answer) = server.api("POST", &format!("{CLUSTERS}?{POST_QUERY}"), KEY, Some(&body));
    assert_eq!(status, 200, "seeding the registration: {answer}");
    server.forget_requests();
}

/// Harness's error body.
fn harness_error(code: &str, message: &str) -> Value {
    json!({"status": "ERROR", "code": code, "message": message, "correlationId": "c0ffee", "detailedMessage": null})
}

/// What the GitOps API answers for a cluster it does not have: grpc-gateway's body with gRPC
/// NotFound (harness-go-sdk `GatewayruntimeError`), as the stand-in does.
fn grpc_not_found() -> Value {
    json!({"error": "cluster not found", "code": 5, "message": "cluster not found", "details": []})
}

/// The GET of the testing cluster answers `status` with `body` (once).
fn get_answers(status: u16, body: Value) -> Answer {
    Answer::json("GET", CLUSTER, status, body)
}

/// The POST as it must be: key, content type, body (the query is in [`post_line`]).
#[track_caller]
fn assert_post_exact(post: &Request, key: &str) {
    assert_eq!(post.method, "POST", "{}", post.line());
    assert_eq!(post.header("x-api-key"), Some(key), "{}", post.line());
    assert_eq!(post.header("content-type"), Some("application/json"), "{}", post.line());
    assert_eq!(post.body_json(), desired_body(), "{}", post.line());
}

/// "METHOD path?query" of each request, in order.
fn lines(requests: &[Request]) -> Vec<String> {
    requests.iter().map(Request::line).collect()
}

fn get_line() -> String {
    format!("GET {CLUSTER}?{GET_QUERY}")
}

/// `down` reads the agent last, to delete it if gitops-iam created it.
fn agent_get_line() -> String {
    format!("GET {AGENT_PATH}?{GET_QUERY}")
}

fn post_line() -> String {
    format!("POST {CLUSTERS}?{POST_QUERY}")
}

#[track_caller]
fn assert_requests(requests: &[Request], want: &[String], out: &Output) {
    assert_lines_eq("HTTP requests received", &lines(requests), want, &out.context());
}

/// Every file under `dir` (recursively), as (path, contents).
fn all_files(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                out.extend(all_files(&p));
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((p, bytes));
            }
        }
    }
    out
}

/// The key appears nowhere the run left a trace: stdout, stderr, a child's argv, the work dir.
#[track_caller]
fn assert_no_key(out: &Output, key: &str) {
    assert!(!out.stdout.contains(key), "the key is on stdout\n{}", out.context());
    assert!(!out.stderr.contains(key), "the key is on stderr\n{}", out.context());
    for call in &out.calls {
        assert!(
            !call.argv.iter().any(|a| a.contains(key)),
            "the key is in the argv of `{}`\n{}",
            call.line(),
            out.context()
        );
    }
    for (file, bytes) in all_files(&out.work_dir()) {
        if file.file_name().is_some_and(|n| n == "key.txt") {
            continue;
        }
        assert!(
            !String::from_utf8_lossy(&bytes).contains(key),
            "the key is in {}\n{}",
            file.display(),
            out.context()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The request itself

#[test]
fn register_gets_then_posts_exactly_the_documented_request() {
    let server = harness();
    let out = register(&server).run();
    out.success()
        .no_mutations()
        .no_unmatched_reads()
        .stderr_contains("registered cluster testing in Harness as testing");
    let requests = server.requests();
    assert_requests(&requests, &[get_line(), post_line()], &out);
    assert_post_exact(&requests[1], KEY);
    assert_eq!(requests[0].header("x-api-key"), Some(KEY));
    assert!(requests[0].body.is_empty(), "the GET has a body");
    // The endpoint and CA come from describe-cluster, the role ARN from the account id.
    let commands = out.commands();
    for query in ["cluster.endpoint", "cluster.certificateAuthority.data"] {
        let want = format!("aws eks describe-cluster --name testing --region us-east-1 --query {query} --output text");
        assert!(commands.contains(&want), "no `{want}`\n{}", out.context());
    }
    assert_no_key(&out, KEY);
}

#[test]
fn account_scoped_agent_and_derived_cluster_identifier() {
    // `account.<id>` agents; no org or project; a cluster name with hyphens becomes `test_1`.
    let server = harness();
    let cluster = "/gitops/api/v1/agents/account.shared_agent/clusters";
    let mut want = desired_body();
    want["cluster"]["name"] = json!("test-1");
    want["cluster"]["config"]["awsClusterName"] = json!("test-1");
    let out = Test::new()
        .rules(endpoint_rules(converged_account()))
        .env("HARNESS_API_KEY", KEY)
        .args([
            "register",
            "--region",
            REGION,
            "--testing-cluster",
            "test-1",
            "--harness-url",
            &server.uri(),
            "--harness-account",
            HARNESS_ACCOUNT,
            "--agent-id",
            "account.shared_agent",
        ])
        .run();
    out.success();
    let requests = server.requests();
    assert_requests(
        &requests,
        &[
            format!("GET {cluster}/test_1?accountIdentifier=acc123&routingId=acc123"),
            format!("POST {cluster}?accountIdentifier=acc123&routingId=acc123&identifier=test_1"),
        ],
        &out,
    );
    assert_eq!(requests[1].body_json(), want);
}

#[test]
fn cluster_id_flag_names_the_cluster_in_harness() {
    let server = harness();
    let out = register(&server).args(["--cluster-id", "qa_cluster"]).run();
    out.success();
    let requests = server.requests();
    assert_requests(
        &requests,
        &[
            format!("GET {CLUSTERS}/qa_cluster?{GET_QUERY}"),
            format!(
                "POST {CLUSTERS}?{}",
                POST_QUERY.replace("identifier=testing", "identifier=qa_cluster")
            ),
        ],
        &out,
    );
    assert_eq!(requests[1].body_json(), desired_body());
}

#[test]
fn harness_url_with_a_path_and_a_trailing_slash_is_the_base() {
    // Harness SaaS serves the API under /gateway (harness-go-sdk's BasePath), as the stand-in does.
    let server = harness();
    let url = format!("{}/gateway/", server.uri());
    let out = Test::new()
        .rules(account())
        .env("HARNESS_API_KEY", KEY)
        .args(["register", "--region", REGION])
        .args(harness_args_with(&server, &[("--harness-url", &url)]))
        .run();
    out.success();
    let requests = server.requests();
    assert_requests(
        &requests,
        &[
            format!("GET /gateway{CLUSTER}?{GET_QUERY}"),
            format!("POST /gateway{CLUSTERS}?{POST_QUERY}"),
        ],
        &out,
    );
    assert_eq!(requests[1].body_json(), desired_body());
}

#[test]
fn answer_that_is_not_json_exits_1_naming_the_request() {
    // What a sign-in page in front of the API answers.
    let server = harness();
    server.answer(Answer::raw("GET", CLUSTER, 200, "<html>Sign in</html>", Some("text/html")).always());
    let out = register(&server).run();
    out.status(1)
        .stderr_contains("could not understand the output of `curl -sS --fail-with-body -X GET ")
        .stderr_contains("/gitops/api/v1/agents/myagent/clusters/testing?");
    assert_requests(&server.requests(), &[get_line()], &out);
    assert_no_key(&out, KEY);
}

// ---------------------------------------------------------------------------------------------
// Converging: skip, update, create

#[test]
fn identical_registration_is_left_alone() {
    // The answer as the tool would post it, `insecure: false` included.
    let server = harness();
    server.answer(get_answers(200, registered(desired_cluster())).always());
    let out = register(&server).run();
    out.success()
        .no_mutations()
        .stderr_lacks("differs")
        .stderr_contains("0 of them mutating");
    assert_requests(&server.requests(), &[get_line()], &out);
}

/// Harness has `current`; the POST must carry the desired body; stderr must show `diff`.
fn updated_when(current: Value, diff: &str) {
    let server = harness();
    seed(&server, current);
    let out = register(&server).run();
    out.success()
        .stderr_contains("Harness cluster testing differs:")
        .stderr_contains(diff)
        .stderr_contains("updated Harness cluster testing");
    let requests = server.requests();
    assert_requests(&requests, &[get_line(), post_line()], &out);
    assert_post_exact(&requests[1], KEY);
}

#[test]
fn registration_with_another_role_is_updated() {
    let mut current = desired_cluster();
    current["config"]["roleARN"] = json!("arn:aws:iam::123456789012:role/OldDeployer");
    updated_when(
        current,
        "roleARN: \"arn:aws:iam::123456789012:role/OldDeployer\" -> \"arn:aws:iam::123456789012:role/Deployer\"",
    );
}

#[test]
fn registration_with_another_server_is_updated() {
    let mut current = desired_cluster();
    current["server"] = json!("https://OLD.gr7.us-east-1.eks.amazonaws.com");
    updated_when(
        current,
        &format!("server: \"https://OLD.gr7.us-east-1.eks.amazonaws.com\" -> \"{ENDPOINT}\""),
    );
}

#[test]
fn registration_with_another_ca_or_connection_type_is_updated() {
    let mut current = desired_cluster();
    current["config"]["tlsClientConfig"]["caData"] = json!("T0xEQ0E=");
    current["config"]["clusterConnectionType"] = json!("SERVICE_ACCOUNT");
    updated_when(current, &format!("caData: \"T0xEQ0E=\" -> \"{CA}\""));
}

#[test]
fn registration_with_tls_verification_off_is_updated() {
    // The stand-in refuses to store `insecure: true` beside `caData`: the GET is injected.
    let mut current = desired_cluster();
    current["config"]["tlsClientConfig"]["insecure"] = json!(true);
    let server = harness();
    server.answer(get_answers(200, registered(current)));
    let out = register(&server).run();
    out.success();
    let requests = server.requests();
    assert_requests(&requests, &[get_line(), post_line()], &out);
    assert_post_exact(&requests[1], KEY);
}

/// The GET answers `status` with `body`; the cluster counts as absent: one POST, "registered".
fn created_when(status: u16, body: Value) {
    let server = harness();
    server.answer(get_answers(status, body));
    created_in(&server);
}

/// `register` against `server`, where the cluster counts as absent: one POST, "registered".
fn created_in(server: &HarnessApi) {
    let out = register(server).run();
    out.success()
        .stderr_lacks("differs")
        .stderr_contains("registered cluster testing in Harness as testing");
    let requests = server.requests();
    assert_requests(&requests, &[get_line(), post_line()], &out);
    assert_post_exact(&requests[1], KEY);
}

#[test]
fn absent_as_404_leads_to_a_post() {
    created_when(404, harness_error("RESOURCE_NOT_FOUND", "Cluster testing not found"));
}

#[test]
fn absent_as_404_with_grpc_not_found_or_entity_not_found_leads_to_a_post() {
    // gRPC NotFound is the stand-in's own answer for a cluster it does not have.
    created_in(&harness());
    created_when(404, harness_error("ENTITY_NOT_FOUND", "Cluster testing not found"));
}

/// terraform-provider-harness (`helpers/errors.go`) reads a 404 as "gone" only with a not-found
/// code: a bare 404, or one with another code (here gRPC Unknown, as the stand-in answers for an
/// unknown agent), is an error that names the agent and its scope, and nothing is posted.
#[test]
fn a_404_without_a_not_found_code_fails_naming_the_agent_and_scope() {
    let bare = harness();
    bare.answer(Answer::raw("GET", CLUSTER, 404, "", None));
    let text = harness();
    text.answer(Answer::raw(
        "GET",
        CLUSTER,
        404,
        "404 page not found\n",
        Some("text/plain"),
    ));
    let unknown_agent = HarnessApi::start(KEY, &["another_agent"], true);
    for server in [bare, text, unknown_agent] {
        let out = register(&server).run();
        out.status(1)
            .stderr_contains("failed to read Harness GitOps cluster testing")
            .stderr_contains(
                "HTTP 404: not found: check --agent-id, --harness-account, --harness-org and --harness-project",
            )
            .stderr_contains("Harness has no GitOps agent myagent in account acc123, org default, project proj_1")
            .stderr_lacks("registered cluster");
        assert_requests(&server.requests(), &[get_line()], &out);
        assert_no_key(&out, KEY);
    }
}

/// harness-go-sdk declares `insecure` with `omitempty`: a GET leaves `false` out, as the
/// stand-in does.
#[test]
fn registration_that_leaves_out_insecure_false_is_left_alone() {
    let server = harness();
    seed(&server, desired_cluster());
    let out = register(&server).run();
    out.success().no_mutations().stderr_lacks("differs");
    assert_requests(&server.requests(), &[get_line()], &out);
}

#[test]
fn absent_as_200_without_cluster_leads_to_a_post() {
    // The stand-in's default for a cluster it does not have: 200 `{}`.
    created_in(&HarnessApi::start(KEY, AGENTS, false));
}

#[test]
fn absent_as_200_with_a_null_cluster_leads_to_a_post() {
    created_when(
        200,
        json!({"identifier": "testing", "accountIdentifier": HARNESS_ACCOUNT, "cluster": null}),
    );
}

// ---------------------------------------------------------------------------------------------
// Retries

#[test]
fn server_errors_are_retried_with_backoff_until_success() {
    let server = harness();
    // Envoy's answer when the service behind the gateway is not there.
    server.answer(
        Answer::raw(
            "POST",
            CLUSTERS,
            503,
            "upstream connect error",
            Some("text/plain; charset=utf-8"),
        )
        .times(2),
    );
    let started = Instant::now();
    let out = register(&server).run();
    let elapsed = started.elapsed();
    out.success()
        .stderr_contains("registered cluster testing in Harness as testing");
    let requests = server.requests();
    assert_requests(&requests, &[get_line(), post_line(), post_line(), post_line()], &out);
    for post in &requests[1..] {
        assert_post_exact(post, KEY);
    }
    // 500 ms, then 1 s, between the three attempts.
    assert!(
        elapsed >= Duration::from_millis(1500),
        "retried without backing off ({elapsed:?})\n{}",
        out.context()
    );
}

#[test]
fn rate_limiting_is_retried_too() {
    let server = harness();
    server.answer(get_answers(429, harness_error("TOO_MANY_REQUESTS", "slow down")));
    let out = register(&server).run();
    out.success();
    let requests = server.requests();
    assert_requests(&requests, &[get_line(), get_line(), post_line()], &out);
    assert_post_exact(&requests[2], KEY);
}

#[test]
fn persistent_server_errors_give_up_after_four_attempts() {
    let server = harness();
    server.answer(get_answers(503, harness_error("SERVICE_UNAVAILABLE", "Service is in maintenance")).always());
    let started = Instant::now();
    let out = register(&server).run();
    let elapsed = started.elapsed();
    out.status(1)
        .stderr_contains("step `register: harness cluster testing` failed")
        .stderr_contains("failed to read Harness GitOps cluster testing")
        .stderr_contains("HTTP 503: Harness had a server error; retried and gave up")
        .stderr_contains("Service is in maintenance")
        .stderr_contains("hint: fix the cause, then re-run the same command");
    assert_requests(&server.requests(), &vec![get_line(); 4], &out);
    assert!(
        elapsed >= Duration::from_millis(3500),
        "gave up without backing off ({elapsed:?})\n{}",
        out.context()
    );
    assert_no_key(&out, KEY);
}

#[test]
fn unreachable_harness_gives_up_after_four_attempts() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let out = Test::new()
        .rules(account())
        .env("HARNESS_API_KEY", KEY)
        .args([
            "register",
            "--region",
            REGION,
            "--harness-url",
            &url,
            "--harness-account",
            HARNESS_ACCOUNT,
            "--agent-id",
            AGENT,
        ])
        .run();
    out.status(1)
        .stderr_contains("failed to read Harness GitOps cluster testing")
        .stderr_contains("(after 4 attempts)")
        .stderr_contains(&format!("{url}/gitops/api/v1/agents/myagent/clusters/testing"));
    assert_no_key(&out, KEY);
}

// ---------------------------------------------------------------------------------------------
// Client errors: not retried, explained, with Harness's own message

/// The GET (or, when `on_post`, the POST after a 404 GET) answers `status` with `body`.
fn rejected(on_post: bool, status: u16, body: Value, needles: &[&str]) {
    let server = harness();
    if on_post {
        server.answer(Answer::json("POST", CLUSTERS, status, body));
    } else {
        server.answer(get_answers(status, body));
    }
    rejected_by(&server, on_post, status, needles);
}

/// `register` against `server` fails at the GET (or the POST) with `status`, naming `needles`.
fn rejected_by(server: &HarnessApi, on_post: bool, status: u16, needles: &[&str]) {
    let out = register(server).run();
    out.status(1)
        .stderr_contains("step `register: harness cluster testing` failed")
        .stderr_contains(&format!("HTTP {status}: "));
    for needle in needles {
        out.stderr_contains(needle);
    }
    let requests = server.requests();
    if on_post {
        assert_requests(&requests, &[get_line(), post_line()], &out);
        assert_post_exact(&requests[1], KEY);
    } else {
        assert_requests(&requests, &[get_line()], &out);
    }
    assert_no_key(&out, KEY);
}

#[test]
fn unauthorized_says_the_key_was_rejected() {
    // The stand-in refuses any key but its own: 401 INVALID_TOKEN "Token is not valid.".
    rejected_by(
        &harness_with_key("pat.acc123.another.key"),
        false,
        401,
        &[
            "Token is not valid.",
            "the Harness API key was rejected (check HARNESS_API_KEY or --api-key-file)",
            "failed to read Harness GitOps cluster testing",
        ],
    );
}

#[test]
fn forbidden_says_the_key_has_no_permission() {
    rejected(
        true,
        403,
        harness_error(
            "NG_ACCESS_DENIED",
            "Missing permission gitops_cluster_edit on gitops cluster with identifier testing",
        ),
        &[
            "Missing permission gitops_cluster_edit on gitops cluster with identifier testing",
            "the API key has no permission for this agent, project or cluster",
            "failed to register cluster testing in Harness GitOps agent myagent",
        ],
    );
}

#[test]
fn not_found_on_post_says_to_check_the_agent() {
    rejected(
        true,
        404,
        harness_error("RESOURCE_NOT_FOUND", "Agent myagent not found"),
        &[
            "Agent myagent not found",
            "not found: check --agent-id, --harness-account, --harness-org and --harness-project",
        ],
    );
}

#[test]
fn bad_request_shows_the_grpc_gateway_error_text() {
    rejected(
        true,
        400,
        json!({"error": "cluster server must be a valid URL", "code": 3, "message": null}),
        &[
            "cluster server must be a valid URL",
            "HTTP 400: Harness rejected the request",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// The key

#[test]
fn api_key_file_is_read_and_wins_over_the_environment() {
    // The stand-in accepts only the file's key: the environment's would be a 401.
    let file_key = "pat.acc123.fromfile.SEKRIT-77aa";
    let server = harness_with_key(file_key);
    let out = register(&server)
        .write("key.txt", &format!("{file_key}\n"))
        .args(["--api-key-file", "key.txt"])
        .run();
    out.success();
    let requests = server.requests();
    assert_requests(&requests, &[get_line(), post_line()], &out);
    for r in &requests {
        assert_eq!(r.header("x-api-key"), Some(file_key));
    }
    assert_post_exact(&requests[1], file_key);
    assert_no_key(&out, file_key);
    assert_no_key(&out, KEY);
}

#[test]
fn api_key_file_without_the_environment_variable() {
    let file_key = "pat.acc123.onlyfile.SEKRIT-0b0b";
    let server = harness_with_key(file_key);
    let out = Test::new()
        .rules(account())
        .write("key.txt", file_key)
        .args(["register", "--region", REGION, "--api-key-file", "key.txt"])
        .args(harness_args(&server))
        .run();
    out.success();
    let requests = server.requests();
    assert_requests(&requests, &[get_line(), post_line()], &out);
    assert_post_exact(&requests[1], file_key);
    assert_no_key(&out, file_key);
}

#[test]
fn api_key_from_the_environment_with_a_trailing_newline_is_trimmed_like_the_file() {
    let server = harness();
    let out = register(&server).env("HARNESS_API_KEY", &format!("{KEY}\n")).run();
    out.success();
    let requests = server.requests();
    assert_requests(&requests, &[get_line(), post_line()], &out);
    assert_eq!(requests[0].header("x-api-key"), Some(KEY));
    assert_post_exact(&requests[1], KEY);
}

#[test]
fn api_key_is_not_sent_to_another_origin_on_a_redirect() {
    let server = harness();
    let elsewhere = HarnessApi::start("elsewhere", AGENTS, true);
    let collect = format!("{}/collect", elsewhere.uri());
    server
        .answer(
            Answer::raw("GET", CLUSTER, 302, "", None)
                .header("Location", &collect)
                .always(),
        )
        .answer(
            Answer::raw("POST", CLUSTERS, 307, "", None)
                .header("Location", &collect)
                .always(),
        );
    let out = register(&server).run();
    let leaked: Vec<String> = elsewhere
        .requests()
        .iter()
        .filter(|r| r.header("x-api-key").is_some())
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        leaked.is_empty(),
        "the key was sent to {} with: {leaked:?}\n{}",
        elsewhere.uri(),
        out.context()
    );
}

/// Runs `script` (a dry-run's stdout) with bash against the fakes, with `curl` a shell function
/// that records its argv (NUL-separated) in `curl.argv`; returns that argv.
fn run_script_with_fake_curl(script: &str, env: &[(&str, &str)], files: &[(&str, &str)]) -> (Output, Vec<String>) {
    let mut test = Test::new()
        .rules(account())
        .write("script.sh", script)
        .write(
            "run.sh",
            // The harness's PATH has no `cat` (a script with --api-key-file reads the key with it).
            "curl() { printf '%s\\0' \"$@\" >> curl.argv; }\ncat() { printf '%s' \"$(<\"$1\")\"; }\nsource ./script.sh\n",
        )
        .bash(["run.sh"]);
    for (k, v) in env {
        test = test.env(k, v);
    }
    for (name, contents) in files {
        test = test.write(name, contents);
    }
    let out = test.run();
    out.success();
    let argv: Vec<String> = out
        .file("curl.argv")
        .split('\0')
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect();
    (out, argv)
}

/// The value after `flag` in `argv`.
#[track_caller]
fn after<'a>(argv: &'a [String], flag: &str) -> &'a str {
    let i = argv
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("no {flag} in {argv:?}"));
    &argv[i + 1]
}

#[test]
fn dry_run_prints_a_curl_that_sends_what_a_real_run_sends() {
    // The real run: what reached the server.
    let server = harness();
    let real = register(&server).run();
    real.success();
    let requests = server.requests();
    assert_requests(&requests, &[get_line(), post_line()], &real);
    let post = &requests[1];

    // The dry-run: no tools, the key in the environment, never in the script.
    let mut args = vec![
        "register".to_string(),
        "--region".into(),
        REGION.into(),
        "--dry-run".into(),
    ];
    args.extend(harness_args(&server));
    let dry = Test::new().no_fakes().env("HARNESS_API_KEY", KEY).args(args).run();
    dry.success().no_calls();
    assert_no_key(&dry, KEY);
    let curl: Vec<&str> = dry.stdout.lines().filter(|l| l.starts_with("curl ")).collect();
    assert_eq!(curl.len(), 1, "one curl line\n{}", dry.context());
    assert!(
        curl[0].contains(" -H \"x-api-key: ${HARNESS_API_KEY}\" "),
        "the key header does not refer to $HARNESS_API_KEY\n{}",
        dry.context()
    );
    assert!(curl[0].contains("--data-binary "), "{}", dry.context());
    assert!(
        !dry.stdout.contains(" -X GET "),
        "a dry-run prints only changes\n{}",
        dry.context()
    );

    // The script run with bash against the same fakes sends the same request.
    let (script_run, argv) = run_script_with_fake_curl(&dry.stdout, &[("HARNESS_API_KEY", KEY)], &[]);
    let body: Value = serde_json::from_str(after(&argv, "--data-binary")).expect("the curl body is JSON");
    assert_eq!(body, post.body_json(), "the script's body differs from the real run's");
    assert_eq!(body, desired_body());
    assert_eq!(after(&argv, "-X"), "POST");
    let headers: Vec<&str> = argv
        .iter()
        .enumerate()
        .filter(|(i, _)| *i > 0 && argv[i - 1] == "-H")
        .map(|(_, a)| a.as_str())
        .collect();
    assert_eq!(
        headers,
        [format!("x-api-key: {KEY}").as_str(), "Content-Type: application/json"]
    );
    let post_url = format!("{}{}?{}", server.uri(), post.path, post.query);
    assert_eq!(argv.last().unwrap(), &post_url);
    // The script reads the endpoint and CA with the same commands as the real run.
    for query in ["cluster.endpoint", "cluster.certificateAuthority.data"] {
        let want = format!("aws eks describe-cluster --name testing --region us-east-1 --query {query} --output text");
        assert!(script_run.commands().contains(&want), "{}", script_run.context());
    }
}

#[test]
fn dry_run_with_api_key_file_reads_the_file_in_the_script() {
    let server = harness();
    let file_key = "pat.acc123.dryfile.SEKRIT-9d9d";
    let mut args = vec![
        "register".to_string(),
        "--region".into(),
        REGION.into(),
        "--dry-run".into(),
        "--api-key-file".into(),
        "key.txt".into(),
    ];
    args.extend(harness_args(&server));
    let dry = Test::new().no_fakes().write("key.txt", file_key).args(args).run();
    dry.success()
        .no_calls()
        .stdout_contains("HARNESS_API_KEY=\"$(cat key.txt)\"\n");
    assert_no_key(&dry, file_key);
    let (_, argv) = run_script_with_fake_curl(&dry.stdout, &[], &[("key.txt", file_key)]);
    assert!(
        argv.contains(&format!("x-api-key: {file_key}")),
        "the script does not send the file's key: {argv:?}"
    );
    assert!(server.requests().is_empty(), "a dry-run called Harness");
}

#[test]
fn dry_run_needs_no_key() {
    let server = harness();
    let mut args = vec![
        "register".to_string(),
        "--region".into(),
        REGION.into(),
        "--dry-run".into(),
    ];
    args.extend(harness_args(&server));
    let dry = Test::new().no_fakes().args(args).run();
    dry.success()
        .no_calls()
        .stdout_contains("-H \"x-api-key: ${HARNESS_API_KEY}\"");
    assert!(server.requests().is_empty(), "a dry-run called Harness");
}

// ---------------------------------------------------------------------------------------------
// Invalid settings: exit 2 before any call

/// The Harness flags with some values replaced (`(flag, value)`), or added when absent.
fn harness_args_with(server: &HarnessApi, changes: &[(&str, &str)]) -> Vec<String> {
    let mut args = harness_args(server);
    for (flag, value) in changes {
        match args.iter().position(|a| a == flag) {
            Some(i) => args[i + 1] = value.to_string(),
            None => args.extend([flag.to_string(), value.to_string()]),
        }
    }
    args
}

/// `register <harness flags with changes>` (with the key when `with_key`): exit 2, needles in
/// stderr, no external command, no HTTP request.
fn invalid(changes: &[(&str, &str)], with_key: bool, needles: &[&str]) {
    let server = harness();
    let mut test = Test::new()
        .rules(account())
        .args(["register", "--region", REGION])
        .args(harness_args_with(&server, changes));
    if with_key {
        test = test.env("HARNESS_API_KEY", KEY);
    }
    let out = test.run();
    out.status(2).no_calls();
    for needle in needles {
        out.stderr_contains(needle);
    }
    assert!(server.requests().is_empty(), "Harness was called\n{}", out.context());
    assert_no_key(&out, KEY);
}

#[test]
fn missing_key_on_a_real_run_exits_2() {
    invalid(
        &[],
        false,
        &["no Harness API key: set HARNESS_API_KEY or pass --api-key-file FILE"],
    );
}

#[test]
fn empty_or_missing_key_file_exits_2() {
    invalid(
        &[("--api-key-file", "nowhere.txt")],
        true,
        &["invalid value \"nowhere.txt\" for --api-key-file"],
    );
    let server = harness();
    let out = Test::new()
        .rules(account())
        .write("empty.txt", "\n")
        .args(["register", "--region", REGION, "--api-key-file", "empty.txt"])
        .args(harness_args(&server))
        .run();
    out.status(2)
        .no_calls()
        .stderr_contains("invalid value \"empty.txt\" for --api-key-file: must not be empty");
}

#[test]
fn cluster_id_with_a_hyphen_exits_2() {
    invalid(
        &[("--cluster-id", "my-cluster")],
        true,
        &["invalid value \"my-cluster\" for --cluster-id", "a Harness identifier"],
    );
}

#[test]
fn agent_id_with_a_hyphen_after_the_scope_prefix_exits_2() {
    invalid(
        &[("--agent-id", "org.bad-id")],
        true,
        &["invalid value \"org.bad-id\" for --agent-id"],
    );
}

#[test]
fn bad_harness_url_exits_2() {
    invalid(
        &[("--harness-url", "app.harness.io/gateway")],
        true,
        &["invalid value \"app.harness.io/gateway\" for --harness-url: an http(s) URL"],
    );
}

#[test]
fn project_without_org_exits_2() {
    let server = harness();
    let out = Test::new()
        .rules(account())
        .env("HARNESS_API_KEY", KEY)
        .args([
            "register",
            "--region",
            REGION,
            "--harness-url",
            &server.uri(),
            "--harness-account",
            HARNESS_ACCOUNT,
            "--harness-project",
            PROJECT,
            "--agent-id",
            AGENT,
        ])
        .run();
    out.status(2)
        .no_calls()
        .stderr_contains("--harness-project needs --harness-org");
    assert!(server.requests().is_empty());
}

#[test]
fn register_without_a_destination_exits_2() {
    let out = Test::new()
        .rules(account())
        .env("HARNESS_API_KEY", KEY)
        .args(["register", "--region", REGION])
        .run();
    out.status(2)
        .no_calls()
        .stderr_contains("register needs --harness-account and --agent-id (Harness), or --to argocd");
}

// ---------------------------------------------------------------------------------------------
// `up`

#[test]
fn up_with_harness_settings_registers_last() {
    let server = harness();
    // The agent from a manifest: without one, `up` installs it through Harness (issue 14,
    // tests/e2e/register_e2e.rs).
    let out = Test::new()
        .rules(account())
        .env("HARNESS_API_KEY", KEY)
        .write("agent.yaml", "")
        .args(["up", "--region", REGION, "--agent-manifest", "agent.yaml"])
        .args(harness_args(&server))
        .run();
    out.success()
        .no_mutations()
        .no_unmatched_reads()
        .stderr_lacks("gitops-iam register")
        .stderr_contains("registered cluster testing in Harness as testing");
    let requests = server.requests();
    assert_requests(&requests, &[get_line(), post_line()], &out);
    assert_post_exact(&requests[1], KEY);
    // In the progress report, register starts after every other step has finished: it runs last.
    let lines = out.stderr_lines();
    let progress: Vec<&str> = lines.iter().take_while(|l| **l != "summary:").copied().collect();
    let n = progress.len();
    assert!(n >= 2, "{}", out.context());
    assert_eq!(
        progress[n - 2],
        "register: harness cluster testing: started",
        "{}",
        out.context()
    );
    assert!(
        progress[n - 1].starts_with("register: harness cluster testing: changed in "),
        "{}",
        out.context()
    );
    assert_no_key(&out, KEY);
}

#[test]
fn up_without_harness_settings_names_the_register_command() {
    let out = Test::new().rules(account()).args(["up", "--region", REGION]).run();
    out.success()
        .no_mutations()
        .stderr_contains("to register the testing cluster in Harness, run:\n")
        .stderr_contains("  gitops-iam register --region us-east-1 ")
        .stderr_contains("--harness-account ID --agent-id ID");
    assert!(
        !out.commands().iter().any(|c| c.contains("cluster.endpoint")),
        "up read the endpoint without registering\n{}",
        out.context()
    );
}

// ---------------------------------------------------------------------------------------------
// `register --to argocd`

const KUBECTL: &str = "kubectl --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml --context admin@management.us-east-1.eksctl.io";
const SECRET_FILE: &str = ".gitops-iam/policies/argocd-secret-testing.json";

fn argocd() -> Test {
    Test::new().args(["register", "--region", REGION, "--to", "argocd"])
}

/// `kubectl get secret -o json` of `secret` (a `stringData` manifest): base64 `data`.
fn as_stored(secret: &Value) -> Value {
    let e = |key: &str| base64::engine::general_purpose::STANDARD.encode(secret["stringData"][key].as_str().unwrap());
    let mut metadata = secret["metadata"].clone();
    metadata["uid"] = json!("6f1c7a2e-0000-4000-8000-000000000000");
    metadata["resourceVersion"] = json!("12345");
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": "Opaque",
        "data": {"name": e("name"), "server": e("server"), "config": e("config")}
    })
}

#[test]
fn argocd_secret_is_applied_then_left_alone() {
    let first =
        argocd()
            .rules(account().with(
                Rule::new("kubectl", "get secret testing-cluster ").kubectl_not_found("secrets", "testing-cluster"),
            ))
            .run();
    first
        .success()
        .no_unmatched_reads()
        .mutating(&[&format!("{KUBECTL} -n iam apply -f {SECRET_FILE}")]);
    assert!(
        first
            .commands()
            .contains(&format!("{KUBECTL} get secret testing-cluster -n iam -o json")),
        "{}",
        first.context()
    );
    let secret: Value = serde_json::from_str(&first.file(SECRET_FILE)).unwrap();
    assert_eq!(secret["kind"], "Secret");
    assert_eq!(secret["metadata"]["name"], "testing-cluster");
    assert_eq!(secret["metadata"]["namespace"], "iam");
    assert_eq!(
        secret["metadata"]["labels"]["argocd.argoproj.io/secret-type"],
        "cluster"
    );
    assert_eq!(secret["stringData"]["name"], "testing");
    assert_eq!(secret["stringData"]["server"], ENDPOINT);
    let config: Value = serde_json::from_str(secret["stringData"]["config"].as_str().unwrap()).unwrap();
    assert_eq!(
        config,
        json!({
            "awsAuthConfig": {"clusterName": "testing", "roleARN": DEPLOYER_ROLE_ARN},
            "tlsClientConfig": {"insecure": false, "caData": CA}
        })
    );

    let second = argocd()
        .rules(account().with(Rule::new("kubectl", "get secret testing-cluster ").json(as_stored(&secret))))
        .run();
    second.success().no_mutations().no_unmatched_reads();

    // A secret that points elsewhere is applied again.
    let mut moved = secret.clone();
    moved["stringData"]["server"] = json!("https://OLD.gr7.us-east-1.eks.amazonaws.com");
    let third = argocd()
        .rules(account().with(Rule::new("kubectl", "get secret testing-cluster ").json(as_stored(&moved))))
        .run();
    third
        .success()
        .mutating(&[&format!("{KUBECTL} -n iam apply -f {SECRET_FILE}")])
        .stderr_contains("updated Argo CD cluster secret testing-cluster");
}

#[test]
fn argocd_needs_no_harness_key() {
    let out =
        argocd()
            .rules(account().with(
                Rule::new("kubectl", "get secret testing-cluster ").kubectl_not_found("secrets", "testing-cluster"),
            ))
            .run();
    out.success().stderr_lacks("HARNESS_API_KEY");
}

// ---------------------------------------------------------------------------------------------
// `verify` and `down` with Harness settings

fn verify_harness(server: &HarnessApi) -> Test {
    Test::new()
        .rules(account())
        .env("HARNESS_API_KEY", KEY)
        .args(["verify", "--region", REGION])
        .args(harness_args(server))
}

/// The report line of the registration check.
#[track_caller]
fn registration_check(out: &Output) -> String {
    out.stdout
        .lines()
        .find(|l| l.contains("registration of testing"))
        .unwrap_or_else(|| panic!("no registration check\n{}", out.context()))
        .to_string()
}

#[test]
fn verify_reads_the_registration_and_reports_it_ok() {
    let server = harness();
    seed(&server, desired_cluster());
    let out = verify_harness(&server).run();
    out.success().no_mutations();
    let line = registration_check(&out);
    assert!(line.starts_with("ok "), "{line}\n{}", out.context());
    assert!(line.contains("Harness cluster testing matches"), "{line}");
    let requests = server.requests();
    assert_requests(&requests, &[get_line()], &out);
    assert_eq!(requests[0].header("x-api-key"), Some(KEY));
    assert_no_key(&out, KEY);
}

#[test]
fn verify_reports_a_registration_that_differs_as_failed() {
    let server = harness();
    let mut current = desired_cluster();
    current["config"]["roleARN"] = json!("arn:aws:iam::123456789012:role/OldDeployer");
    seed(&server, current);
    let out = verify_harness(&server).run();
    out.status(1).no_mutations();
    let line = registration_check(&out);
    assert!(line.starts_with("FAIL "), "{line}\n{}", out.context());
    assert!(line.contains("Harness cluster testing differs: roleARN"), "{line}");
    out.stdout_contains("fix: gitops-iam register ");
    assert_requests(&server.requests(), &[get_line()], &out);
}

#[test]
fn verify_reports_an_unregistered_cluster_as_failed() {
    let server = harness();
    let out = verify_harness(&server).run();
    out.status(1).no_mutations();
    let line = registration_check(&out);
    assert!(line.starts_with("FAIL "), "{line}\n{}", out.context());
    assert!(line.contains("Harness has no cluster testing"), "{line}");
    assert_requests(&server.requests(), &[get_line()], &out);
}

const APPLICATION: &str = "/gitops/api/v1/agents/myagent/applications/guestbook";
const REPOSITORY: &str = "/gitops/api/v1/agents/myagent/repositories/argocd_example_apps";

/// `down` first looks for the guestbook application and its repository (`app guestbook`),
/// which the stand-in has not: the GETs of them, in order.
fn guestbook_gets() -> [String; 2] {
    [
        format!("GET {APPLICATION}?{GET_QUERY}"),
        format!("GET {REPOSITORY}?{GET_QUERY}"),
    ]
}

fn down_harness(server: &HarnessApi) -> Test {
    Test::new()
        .rules(crate::access_entry::role_policy_listings(account()))
        .env("HARNESS_API_KEY", KEY)
        .args(["down", "--yes", "--keep-clusters", "--region", REGION])
        .args(harness_args(server))
}

#[test]
fn down_deletes_the_registration_with_force_delete() {
    let server = harness();
    seed(&server, desired_cluster());
    let out = down_harness(&server).run();
    out.success().stderr_contains("removed Harness cluster testing");
    let requests = server.requests();
    assert_requests(
        &requests,
        &[
            guestbook_gets().as_slice(),
            &[
                get_line(),
                format!("DELETE {CLUSTER}?{GET_QUERY}&forceDelete=true"),
                agent_get_line(),
            ],
        ]
        .concat(),
        &out,
    );
    assert_eq!(requests[3].header("x-api-key"), Some(KEY));
    assert!(
        server.view("clusters")["clusters"].as_array().unwrap().is_empty(),
        "the registration is left"
    );
    assert_no_key(&out, KEY);
}

/// `down` deletes the agent record only when gitops-iam created it (its tag), after its cluster.
#[test]
fn down_deletes_the_agent_gitops_iam_created_and_keeps_any_other() {
    for (tags, deleted) in [
        (json!({"created-by": "gitops-iam"}), true),
        (json!({"team": "x"}), false),
    ] {
        let server = harness();
        // The agent, created through the API with these tags.
        let agent = json!({
            "accountIdentifier": HARNESS_ACCOUNT, "orgIdentifier": ORG, "projectIdentifier": PROJECT,
            "identifier": AGENT, "name": AGENT, "type": "MANAGED_ARGO_PROVIDER",
            "metadata": {"namespace": "iam"}, "tags": tags,
        });
        let (status, answer) = server.api("POST", "/gitops/api/v1/agents?routingId=acc123", KEY, Some(&agent));
        assert_eq!(status, 200, "creating the agent: {answer}");
        server.forget_requests();
        let out = down_harness(&server).run();
        out.success();
        let mut want = guestbook_gets().to_vec();
        want.extend([get_line(), agent_get_line()]);
        if deleted {
            want.push(format!("DELETE {AGENT_PATH}?{GET_QUERY}"));
        }
        let requests = server.requests();
        assert_requests(&requests, &want, &out);
        if deleted {
            assert_eq!(requests[4].header("x-api-key"), Some(KEY));
        }
        let agents = server.view("agents")["agents"].as_array().unwrap().len();
        assert_eq!(agents, usize::from(!deleted), "{}", out.context());
        assert_no_key(&out, KEY);
    }
}

#[test]
fn down_without_a_registration_deletes_nothing_in_harness() {
    let server = harness();
    let out = down_harness(&server).run();
    out.success().stderr_lacks("removed Harness cluster");
    assert_requests(
        &server.requests(),
        &[guestbook_gets().as_slice(), &[get_line(), agent_get_line()]].concat(),
        &out,
    );
}

/// The DELETE's 404 means "already gone" only with a not-found code, as the GET's does.
#[test]
fn down_reads_a_delete_404_by_its_code() {
    for (answer, gone) in [
        (Answer::json("DELETE", CLUSTER, 404, grpc_not_found()), true),
        (
            Answer::raw("DELETE", CLUSTER, 404, "404 page not found\n", Some("text/plain")),
            false,
        ),
    ] {
        let server = harness();
        seed(&server, desired_cluster());
        server.answer(answer);
        let out = down_harness(&server).run();
        if gone {
            out.success().stderr_contains("removed Harness cluster testing");
        } else {
            out.status(1)
                .stderr_contains("failed to remove Harness GitOps cluster testing")
                .stderr_contains("Harness has no GitOps agent myagent in account acc123, org default, project proj_1");
        }
    }
}

#[test]
fn failing_argocd_apply_exits_1_naming_the_step_and_command() {
    let out = argocd()
        .rules(
            account()
                .with(
                    Rule::new("kubectl", "get secret testing-cluster ").kubectl_not_found("secrets", "testing-cluster"),
                )
                .with(Rule::new("kubectl", " apply -f ").kubectl_error(
                    "Forbidden",
                    "secrets is forbidden: User \"dev\" cannot create resource \"secrets\" in the namespace \"iam\"",
                )),
        )
        .run();
    out.status(1)
        .stderr_contains("step `register: argocd secret testing-cluster` failed")
        .stderr_contains(&format!("  command: {KUBECTL} -n iam apply -f {SECRET_FILE}\n"))
        .stderr_contains("cannot create resource \"secrets\"");
}

#[test]

fn failing_argocd_apply_does_not_call_the_secret_an_agent_manifest() {
    let out = argocd()
        .rules(
            account()
                .with(
                    Rule::new("kubectl", "get secret testing-cluster ").kubectl_not_found("secrets", "testing-cluster"),
                )
                .with(Rule::new("kubectl", " apply -f ").kubectl_error("Forbidden", "secrets is forbidden")),
        )
        .run();
    out.status(1).stderr_lacks("agent manifest");
}

// ---------------------------------------------------------------------------------------------
// `agent install`

/// `agent install` on the converged account, where the agent has no token Secret yet.
fn agent_install(server: &HarnessApi) -> Test {
    Test::new()
        .rules(
            account()
                .with(Rule::new("kubectl", "get secret gitops-agent ").kubectl_not_found("secrets", "gitops-agent")),
        )
        .env("HARNESS_API_KEY", KEY)
        .args(["agent", "install", "--region", REGION])
        .args(harness_args(server))
}

/// The agent as Harness shows it once it runs: connected and healthy. The stand-in derives
/// health from the sandbox's clusters, which these tests have not (the fakes answer kubectl),
/// so the answer is injected.
fn connected_agent() -> Answer {
    Answer::json(
        "GET",
        AGENT_PATH,
        200,
        json!({
            "identifier": "myagent",
            "health": {"connectionStatus": "CONNECTED", "harnessGitopsAgent": {"status": "HEALTHY"}},
        }),
    )
}

/// An agent Harness reports connected but that is not installed here runs somewhere else:
/// downloading its manifest without its key would regenerate its token and cut it off. `agent
/// install` stops before any download, naming the ways forward (issue 14).
#[test]
fn agent_install_leaves_an_agent_connected_elsewhere_alone() {
    let server = harness();
    server.answer(connected_agent().always());
    let out = agent_install(&server).run();
    out.status(1)
        .no_mutations()
        .stderr_contains(
            "Harness GitOps agent myagent is connected, but it is not installed in namespace iam of cluster management",
        )
        .stderr_contains("--agent-manifest FILE");
    assert_requests(&server.requests(), &[agent_get_line()], &out);
    assert_no_key(&out, KEY);
}

/// The first run: the agent is created, and the manifest downloaded with the key of the create
/// answer (no new token), saved 0600, applied server-side; Harness reports it connected. The
/// key reaches Harness only as `privateKey` and appears nowhere else.
#[test]
fn agent_install_creates_the_agent_and_downloads_its_manifest_with_the_created_key() {
    let server = harness();
    // The first GET finds no agent (the stand-in's 404); once created, it runs.
    server.answer(connected_agent().after(1).always());
    let out = agent_install(&server).arg("-v").run();
    out.success()
        .mutating(&[&format!(
            "kubectl --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml --context {MGMT_CONTEXT} -n iam apply -f .gitops-iam/agent/myagent.yaml --server-side --field-manager gitops-iam --force-conflicts"
        )]);
    let requests = server.requests();
    let create = requests
        .iter()
        .find(|r| r.method == "POST")
        .unwrap_or_else(|| panic!("no create\n{}", out.context()));
    assert_eq!(create.line(), "POST /gitops/api/v1/agents?routingId=acc123");
    assert_eq!(create.header("x-api-key"), Some(KEY));
    assert_eq!(
        create.body_json(),
        json!({
            "accountIdentifier": HARNESS_ACCOUNT, "orgIdentifier": "default", "projectIdentifier": "proj_1",
            "identifier": "myagent", "name": "myagent", "type": "MANAGED_ARGO_PROVIDER",
            "metadata": {"namespace": "iam"}, "tags": {"created-by": "gitops-iam"},
        })
    );
    // The key the create answered, which no download has since regenerated.
    let agents = server.view("agents");
    assert_eq!(agents["rotations"], 0, "{agents}");
    let private = agents["agents"][0]["credentials"]["privateKey"]
        .as_str()
        .unwrap_or_else(|| panic!("no agent: {agents}"))
        .to_string();
    let downloads: Vec<&Request> = requests
        .iter()
        .filter(|r| r.path == format!("{AGENT_PATH}/deploy.yaml"))
        .collect();
    assert_eq!(downloads.len(), 1, "{:?}", lines(&requests));
    for (name, value) in [
        ("namespace", "iam"),
        ("privateKey", private.as_str()),
        ("projectIdentifier", "proj_1"),
    ] {
        assert_eq!(
            downloads[0].query_param(name).as_deref(),
            Some(value),
            "{}",
            downloads[0].line()
        );
    }
    let file = out.work_dir().join(".gitops-iam/agent/myagent.yaml");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        !out.stdout.contains(&private) && !out.stderr.contains(&private),
        "{}",
        out.context()
    );
    assert!(
        out.stderr.contains("'&privateKey='\"${AGENT_PRIVATE_KEY}\""),
        "-v shows the download with the key as a variable\n{}",
        out.context()
    );
    assert_no_key(&out, KEY);
}

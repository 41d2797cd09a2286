//! `up --with-guestbook` and `app guestbook` against the sandbox: the Harness stand-in's agent
//! syncs through the real IRSA chain (a service-account token, the sandbox's STS, the Deployer,
//! an EKS token) into the testing cluster's emulator. One `up` from empty, then every contract on
//! that environment: converged re-run, a broken Deployer trust, the dry-run script run for real,
//! the same through Argo CD (`--to argocd`: an `Application` the agent's Argo CD reconciles), and
//! `down`.

use super::sandbox::Sandbox;
use super::support::*;
use super::*;
use serde_json::Value;

/// `METHOD` on an agent path of the stand-in's API, as a user would in Harness: (status, body).
fn harness_call(sb: &Sandbox, method: &str, path: &str) -> (u16, Value) {
    let url = format!(
        "{}/gitops/api/v1/agents/{HARNESS_AGENT}/{path}?accountIdentifier={HARNESS_ACCOUNT}",
        sb.var("SANDBOX_HARNESS_URL")
    );
    let key = sb.var("HARNESS_API_KEY");
    let resp = match method {
        "GET" => agent().get(&url).header("x-api-key", key).call(),
        "DELETE" => agent().delete(&url).header("x-api-key", key).call(),
        _ => unreachable!(),
    };
    let mut resp = resp.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn app_status(sb: &Sandbox) -> (String, String) {
    let (status, app) = harness_call(sb, "GET", "applications/guestbook");
    assert_eq!(status, 200, "{app:#}");
    let s = &app["app"]["status"];
    (
        s["sync"]["status"].as_str().unwrap_or("").to_string(),
        s["health"]["status"].as_str().unwrap_or("").to_string(),
    )
}

/// No service-account token (a JWT), EKS token or Harness key in anything shown.
#[track_caller]
fn assert_no_secret(sb: &Sandbox, out: &super::sandbox::Output) {
    let all = format!("{}{}", out.stdout, out.stderr);
    for secret in ["k8s-aws-v1.", "eyJ", sb.var("HARNESS_API_KEY")] {
        assert!(!all.contains(secret), "{secret:?} shown:\n{}", out.describe());
    }
}

/// The guestbook as the testing cluster's API shows it: the Deployment is available.
#[track_caller]
fn assert_guestbook_runs(sb: &Sandbox, kubeconfig: &str) {
    let out = sb.kubectl(&[
        "--kubeconfig",
        kubeconfig,
        "get",
        "deployment",
        "guestbook-ui",
        "-n",
        "default",
        "-o",
        "json",
    ]);
    out.success();
    let d = out.json();
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"], "gcr.io/google-samples/gb-frontend:v5",
        "{d:#}"
    );
    assert_eq!(
        d["metadata"]["labels"]["app.kubernetes.io/instance"], "guestbook",
        "{d:#}"
    );
    assert_eq!(d["status"]["availableReplicas"], 1, "{d:#}");
    sb.kubectl(&[
        "--kubeconfig",
        kubeconfig,
        "get",
        "service",
        "guestbook-ui",
        "-n",
        "default",
    ])
    .success();
}

#[test]
fn up_with_guestbook_deploys_through_the_irsa_chain_converges_names_a_broken_deployer_and_down_removes_it() {
    let sb = Sandbox::start();
    let h = harness_args(&sb);
    let up = up_args(&[h.as_slice(), &["--with-guestbook"]].concat());
    let out = sb.gitops_iam(&up);
    out.success();
    assert_no_secret(&sb, &out);
    assert!(
        out.stderr.contains(
            "application guestbook is Synced and Healthy: Harness shows it under GitOps > Applications > guestbook"
        ),
        "{}",
        out.describe()
    );
    assert_eq!(app_status(&sb), ("Synced".into(), "Healthy".into()));
    let testing = sb.kubeconfig_for("testing", None);
    let testing = testing.to_str().unwrap();
    assert_guestbook_runs(&sb, testing);
    let (status, repo) = harness_call(&sb, "GET", "repositories/argocd_example_apps");
    assert_eq!(
        (status, repo["repository"]["repo"].as_str()),
        (200, Some("https://github.com/argoproj/argocd-example-apps")),
        "{repo:#}"
    );

    // converged: only reads, in Harness and in the tools
    let mark = sb.mark();
    let count = harness_request_count(&sb);
    let again = sb.gitops_iam(&up);
    again.success();
    let writes: Vec<Value> = harness_requests_since(&sb, count)
        .into_iter()
        .filter(|r| r["method"] != "GET")
        .collect();
    assert!(writes.is_empty(), "the re-run wrote to Harness: {writes:#?}");
    let mutating = mutating_lines(&sb.commands_since(mark));
    assert!(mutating.is_empty(), "{}", mutating.join("\n"));

    // a Deployer that no longer trusts the agent role: the agent's AccessDenied, named, and the
    // command that walks the chain (the application is deleted in Harness so that it syncs again)
    let trust = get_role(&sb, "Deployer")["AssumeRolePolicyDocument"].clone();
    let ec2 = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let update = |doc: &Value| {
        let file = doc_file(&sb, "trust.json", doc);
        sb.aws(&[
            "iam",
            "update-assume-role-policy",
            "--role-name",
            "Deployer",
            "--policy-document",
            &file,
        ])
        .success();
    };
    update(&ec2);
    assert_eq!(harness_call(&sb, "DELETE", "applications/guestbook").0, 200);
    let app = args(&["app", "guestbook"], &h);
    let failed = sb.gitops_iam(&app);
    failed.code(1);
    assert_no_secret(&sb, &failed);
    for needle in [
        "application guestbook did not become Synced and Healthy: sync Unknown, health Unknown, operation Error",
        "AccessDenied: User: arn:aws:sts::123456789012:assumed-role/ArgoCD/",
        "is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Deployer",
        "the agent role cannot assume the Deployer role",
        "next: walk the IRSA chain hop by hop, then re-run this command:\n    gitops-iam verify --live --region us-east-1 ",
    ] {
        assert!(
            failed.stderr.contains(needle),
            "{needle:?} missing:\n{}",
            failed.describe()
        );
    }

    // the trust repaired, the dry-run script of `app guestbook`, run by bash, deploys it again
    update(&trust);
    let script = sb.gitops_iam(&[app.as_slice(), &["--dry-run"]].concat());
    script.success();
    assert!(!script.stdout.contains(sb.var("HARNESS_API_KEY")));
    std::fs::write(sb.work().join("app.sh"), &script.stdout).unwrap();
    let run = sb.run("bash", &["app.sh"]);
    assert_eq!(run.code, Some(0), "{}\n--- script\n{}", run.describe(), script.stdout);
    assert_eq!(app_status(&sb), ("Synced".into(), "Healthy".into()));
    assert_guestbook_runs(&sb, testing);

    // --to argocd: the agent's Argo CD reconciles a declarative Application through the cluster
    // Secret (the CRD comes with the agent's Argo CD; the sandbox's agent.yaml has none)
    sb.gitops_iam(&args(&["register", "--to", "argocd"], &[])).success();
    let mgmt = sb.kubeconfig_for("management", None);
    let mgmt = mgmt.to_str().unwrap();
    let crd = format!("{REPO}/tests/sandbox/guestbook/application-crd.json");
    sb.kubectl(&["--kubeconfig", mgmt, "apply", "-f", &crd]).success();
    sb.kubectl(&[
        "--kubeconfig",
        testing,
        "delete",
        "deployment",
        "guestbook-ui",
        "-n",
        "default",
    ])
    .success();
    let argocd = args(&["app", "guestbook", "--to", "argocd"], &[]);
    let out = sb.gitops_iam(&argocd);
    out.success();
    assert_no_secret(&sb, &out);
    assert_guestbook_runs(&sb, testing);
    let app = kubectl_mgmt(
        &sb,
        mgmt,
        &[
            "get",
            "applications.argoproj.io",
            "guestbook",
            "-n",
            "iam",
            "-o",
            "json",
        ],
    );
    let app = app.success().json();
    assert_eq!(
        (&app["status"]["sync"]["status"], &app["status"]["health"]["status"]),
        (&serde_json::json!("Synced"), &serde_json::json!("Healthy")),
        "{app:#}"
    );
    let mark = sb.mark();
    sb.gitops_iam(&argocd).success();
    let mutating = mutating_lines(&sb.commands_since(mark));
    assert!(mutating.is_empty(), "{}", mutating.join("\n"));
    let out = sb.gitops_iam(&args(&["down", "--yes", "--keep-clusters", "--to", "argocd"], &[]));
    out.success();
    assert!(
        out.stderr.contains("deleted Argo CD application guestbook"),
        "{}",
        out.describe()
    );
    kubectl_mgmt(
        &sb,
        mgmt,
        &["get", "applications.argoproj.io", "guestbook", "-n", "iam"],
    )
    .code(1);

    // down: the application, then the repository, then the registration
    let count = harness_request_count(&sb);
    sb.gitops_iam(&args(&["down", "--yes", "--keep-clusters"], &h))
        .success();
    let deletes: Vec<String> = harness_requests_since(&sb, count)
        .into_iter()
        .filter(|r| r["method"] == "DELETE")
        .map(|r| {
            r["path"]
                .as_str()
                .unwrap()
                .rsplit_once("/agents/")
                .unwrap()
                .1
                .to_string()
        })
        .collect();
    assert_eq!(
        deletes,
        [
            format!("{HARNESS_AGENT}/applications/guestbook"),
            format!("{HARNESS_AGENT}/repositories/argocd_example_apps"),
            format!("{HARNESS_AGENT}/clusters/testing"),
        ]
    );
    assert_eq!(harness_call(&sb, "GET", "applications/guestbook").0, 404);
    assert_eq!(harness_call(&sb, "GET", "repositories/argocd_example_apps").0, 404);
}

//! The sandbox catches the tutorial's annotation defect: its JSON patch targets the empty key
//! (`/metadata/annotations/`), which the API server rejects; so does an `add` below an
//! annotations map that does not exist. The product's way (`kubectl annotate --overwrite`) works.

use super::sandbox::{AGENT_MANIFEST, Sandbox};
use super::*;

#[test]
fn tutorials_annotation_json_patch_is_rejected_by_the_sandbox() {
    let sb = Sandbox::start();
    let kc = sb.scratch("management.kubeconfig");
    let kc = kc.to_str().unwrap();
    sb.eksctl(&[
        "create",
        "cluster",
        "--name",
        "management",
        "--region",
        REGION,
        "--with-oidc",
        "--kubeconfig",
        kc,
    ])
    .success();
    sb.kubectl(&["--kubeconfig", kc, "create", "namespace", "iam"])
        .success();
    sb.kubectl(&["--kubeconfig", kc, "-n", "iam", "apply", "-f", AGENT_MANIFEST])
        .success();

    // the tutorial, word for word (plus our kubeconfig)
    let tutorial_patch = format!(r#"[{{"op": "add", "path": "/metadata/annotations/", "value": "{AGENT_ROLE_ARN}"}}]"#);
    let p = format!("-p={tutorial_patch}");
    let out = sb.kubectl(&[
        "--kubeconfig",
        kc,
        "-n",
        "iam",
        "patch",
        "serviceaccount",
        "gitops-agent",
        "--type=json",
        &p,
    ]);
    out.code(1);
    assert!(out.stderr.contains("name part must be non-empty"), "{}", out.describe());

    // nothing changed
    let sa = sb
        .kubectl(&[
            "--kubeconfig",
            kc,
            "-n",
            "iam",
            "get",
            "serviceaccount",
            "gitops-agent",
            "-o",
            "json",
        ])
        .success()
        .json();
    let annotations = sa["metadata"]["annotations"].as_object().cloned().unwrap_or_default();
    assert!(
        annotations
            .keys()
            .all(|k| k == "kubectl.kubernetes.io/last-applied-configuration"),
        "{annotations:#?}"
    );

    // the right key, but on a service account without annotations: 422 too
    sb.kubectl(&["--kubeconfig", kc, "-n", "iam", "create", "serviceaccount", "bare"])
        .success();
    let keyed_patch = format!(
        r#"[{{"op": "add", "path": "/metadata/annotations/eks.amazonaws.com~1role-arn", "value": "{AGENT_ROLE_ARN}"}}]"#
    );
    let out = sb.kubectl(&[
        "--kubeconfig",
        kc,
        "-n",
        "iam",
        "patch",
        "serviceaccount",
        "bare",
        "--type=json",
        "-p",
        &keyed_patch,
    ]);
    out.code(1);

    // control: the way the product annotates works on both
    for sa in ["gitops-agent", "bare"] {
        let annotation = format!("{ROLE_ARN_ANNOTATION}={AGENT_ROLE_ARN}");
        sb.kubectl(&[
            "--kubeconfig",
            kc,
            "-n",
            "iam",
            "annotate",
            "serviceaccount",
            sa,
            &annotation,
            "--overwrite",
        ])
        .success();
        let got = sb
            .kubectl(&[
                "--kubeconfig",
                kc,
                "-n",
                "iam",
                "get",
                "serviceaccount",
                sa,
                "-o",
                "json",
            ])
            .success()
            .json();
        assert_eq!(
            got["metadata"]["annotations"][ROLE_ARN_ANNOTATION], AGENT_ROLE_ARN,
            "{got:#}"
        );
    }
}

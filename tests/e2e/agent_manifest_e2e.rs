//! The agent manifest is applied server-side: a manifest holding a CRD bigger than client-side
//! apply's `last-applied-configuration` limit (262144 bytes, as Argo CD 3.3's ApplicationSet CRD
//! is) installs through `agent patch --agent-manifest`.

use super::sandbox::{AGENT_MANIFEST, REPO, Sandbox};
use super::support::*;
use super::*;
use serde_json::{Value, json};

const CRD: &str = "applicationsets.argoproj.io";

/// A CRD of about SIZE bytes: Argo CD's are that big because of their schemas' descriptions.
fn big_crd(size: usize) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD, "labels": {"app.kubernetes.io/part-of": "argocd"}},
        "spec": {
            "group": "argoproj.io",
            "scope": "Namespaced",
            "names": {"kind": "ApplicationSet", "listKind": "ApplicationSetList",
                      "plural": "applicationsets", "singular": "applicationset"},
            "versions": [{
                "name": "v1alpha1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "description": "x".repeat(size),
                    "x-kubernetes-preserve-unknown-fields": true
                }}
            }]
        }
    })
}

#[test]
fn agent_manifest_with_a_crd_over_the_annotation_limit_installs() {
    let sb = Sandbox::start();
    sb.gitops_iam(&["mgmt", "--region", REGION]).success();

    // The sandbox agent plus the CRD, one YAML stream (a JSON document is YAML).
    let agent = std::fs::read_to_string(AGENT_MANIFEST).unwrap();
    let manifest = sb.scratch("agent-with-crds.yaml");
    std::fs::write(&manifest, format!("{agent}\n---\n{}\n", big_crd(300_000))).unwrap();
    let manifest = manifest.to_str().unwrap();

    // What a client-side apply gets from the API server: the object does not fit the annotation.
    let kc = sb.kubeconfig_for("management", None);
    let kc = kc.to_str().unwrap();
    let crd_file = sb.scratch("crd.json");
    std::fs::write(&crd_file, big_crd(300_000).to_string()).unwrap();
    let client_side = kubectl_mgmt(&sb, kc, &["apply", "-f", crd_file.to_str().unwrap()]);
    client_side.code(1);
    assert!(
        client_side
            .stderr
            .contains("metadata.annotations: Too long: must have at most 262144 bytes"),
        "{}",
        client_side.describe()
    );

    let mark = sb.mark();
    let out = sb.gitops_iam(&["agent", "patch", "--region", REGION, "--agent-manifest", manifest]);
    out.success();
    let applies: Vec<String> = mutating_lines(&sb.commands_since(mark))
        .into_iter()
        .filter(|l| l.contains(" apply "))
        .collect();
    assert_eq!(
        applies,
        [format!(
            "kubectl --kubeconfig .gitops-iam/kubeconfig/123456789012-us-east-1-management.yaml \
             --context moto@management.us-east-1.eksctl.io -n iam apply -f {manifest} \
             --server-side --field-manager gitops-iam --force-conflicts"
        )
        .replace(REPO, "$REPO")],
        "{}",
        out.describe()
    );

    let crd = kubectl_mgmt(&sb, kc, &["get", "crd", CRD, "-o", "json"]);
    let crd = crd.success().json();
    assert_eq!(crd["spec"]["names"]["kind"], "ApplicationSet", "{crd:#}");
    assert!(
        crd["metadata"]["annotations"]
            .get("kubectl.kubernetes.io/last-applied-configuration")
            .is_none(),
        "{:#}",
        crd["metadata"]
    );
    let sa = kubectl_mgmt(
        &sb,
        kc,
        &["-n", "iam", "get", "serviceaccount", "gitops-agent", "-o", "json"],
    );
    assert_eq!(
        sa.success().json()["metadata"]["annotations"][ROLE_ARN_ANNOTATION],
        AGENT_ROLE_ARN
    );

    // A re-run finds everything installed: no apply, nothing mutating.
    let mark = sb.mark();
    sb.gitops_iam(&["agent", "patch", "--region", REGION, "--agent-manifest", manifest])
        .success();
    let mutating = mutating_lines(&sb.commands_since(mark));
    assert!(mutating.is_empty(), "{}", mutating.join("\n"));
}

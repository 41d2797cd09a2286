//! The guestbook as a declarative Argo CD `Application` (`app guestbook --to argocd`): what
//! `kubectl apply` gets, and its comparison with what is in the cluster.
//!
//! Harness syncs on request; plain Argo CD reconciles what is declared. So the Application asks
//! for automated sync (`spec.syncPolicy.automated`), and a re-apply of the same spec changes
//! nothing. The destination is the server of the cluster Secret `register --to argocd` wrote.

use crate::gitops_app::{DEST_NAMESPACE, Source};
use serde::Serialize;
use serde_json::Value;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Application<'a> {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata<'a>,
    spec: Spec<'a>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    name: &'a str,
    namespace: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Spec<'a> {
    project: &'static str,
    source: Source,
    destination: Destination<'a>,
    sync_policy: SyncPolicy,
}

#[derive(Serialize)]
struct Destination<'a> {
    server: &'a str,
    namespace: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SyncPolicy {
    automated: Automated,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Automated {
    prune: bool,
    self_heal: bool,
}

/// The Application, as JSON that `kubectl apply -f` takes.
pub(crate) fn application(namespace: &str, name: &str, server: &str) -> Value {
    serde_json::to_value(Application {
        api_version: "argoproj.io/v1alpha1",
        kind: "Application",
        metadata: Metadata { name, namespace },
        spec: Spec {
            project: "default",
            source: Source::guestbook(),
            destination: Destination {
                server,
                namespace: DEST_NAMESPACE,
            },
            sync_policy: SyncPolicy {
                automated: Automated {
                    prune: false,
                    self_heal: false,
                },
            },
        },
    })
    .expect("serialisable")
}

/// Whether the Application in the cluster declares what `desired` declares (Argo CD adds
/// defaults elsewhere; only the fields gitops-iam sets are compared).
pub(crate) fn matches(current: &Value, desired: &Value) -> bool {
    let (c, d) = (&current["spec"], &desired["spec"]);
    c["source"] == d["source"]
        && c["destination"] == d["destination"]
        && c["project"] == d["project"]
        && c["syncPolicy"]["automated"].is_object()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitops_app::REPO_URL;
    use serde_json::json;

    #[test]
    fn application_and_comparison() {
        let app = application("iam", "guestbook", "https://ABC.eks.amazonaws.com");
        assert_eq!(
            app,
            json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                "metadata": {"name": "guestbook", "namespace": "iam"},
                "spec": {"project": "default",
                    "source": {"repoURL": REPO_URL, "path": "guestbook", "targetRevision": "HEAD"},
                    "destination": {"server": "https://ABC.eks.amazonaws.com", "namespace": "default"},
                    "syncPolicy": {"automated": {"prune": false, "selfHeal": false}}}})
        );
        let mut current = app.clone();
        current["status"] = json!({"sync": {"status": "Synced"}});
        current["metadata"]["uid"] = json!("u");
        assert!(matches(&current, &app));
        current["spec"]["destination"]["server"] = json!("https://OLD");
        assert!(!matches(&current, &app));
    }
}

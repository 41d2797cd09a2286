//! `kubectl` calls, always with the tool's own `--kubeconfig` for the cluster.
//!
//! Annotations use `kubectl annotate --overwrite` (a merge patch): the tutorial's JSON patch to
//! `/metadata/annotations/` targets the empty key and fails with 422, and a JSON-patch `add` also
//! fails on a service account that has no annotations yet.

use crate::cmd::{Arg, Cmd, Effect};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Kubectl {
    pub kubeconfig: PathBuf,
}

/// The pod-template patch that sets `fsGroup` (a merge patch: works whether or not a
/// securityContext exists, unlike the tutorial's JSON-patch `add`).
pub fn fs_group_patch(fs_group: i64) -> String {
    serde_json::json!({"spec": {"template": {"spec": {"securityContext": {"fsGroup": fs_group}}}}}).to_string()
}

impl Kubectl {
    /// `k8s:<kubeconfig>:<namespace>/<kind>/<name>`; a prefix covers a whole namespace.
    fn key(&self, ns: Option<&str>, object: &str) -> String {
        format!("k8s:{}:{}/{object}", self.kubeconfig.display(), ns.unwrap_or(""))
    }

    /// Everything in the cluster: what a new kubeconfig invalidates.
    pub fn cluster_key(&self) -> String {
        format!("k8s:{}:", self.kubeconfig.display())
    }

    fn cmd<A: Into<Arg>>(&self, effect: Effect, purpose: String, args: impl IntoIterator<Item = A>) -> Cmd {
        // An EKS kubeconfig runs `aws eks get-token` with kubectl's environment.
        Cmd::new("kubectl", effect, purpose)
            .conventions(crate::tools::aws::CONVENTIONS)
            .args(["--kubeconfig", &self.kubeconfig.display().to_string()])
            .args(args)
    }

    pub fn get(&self, namespace: Option<&str>, kind: &str, name: &str) -> Cmd {
        let mut cmd = self.cmd(Effect::Read, format!("read {kind} {name}"), ["get", kind, name]);
        if let Some(ns) = namespace {
            cmd = cmd.args(["-n", ns]);
        }
        cmd.args(["-o", "json"])
            .resource(self.key(namespace, &format!("{kind}/{name}")))
    }

    /// Every object of a kind in a namespace.
    pub fn list(&self, ns: &str, kind: &str) -> Cmd {
        self.cmd(
            Effect::Read,
            format!("list {kind} in namespace {ns}"),
            ["get", kind, "-n", ns, "-o", "json"],
        )
        .resource(self.key(Some(ns), kind))
    }

    pub fn delete(&self, ns: &str, kind: &str, name: &str) -> Cmd {
        self.cmd(
            Effect::Mutate,
            format!("delete {kind} {name}"),
            ["-n", ns, "delete", kind, name],
        )
        .resource(self.key(Some(ns), &format!("{kind}/{name}")))
    }

    pub fn create_namespace(&self, ns: &str) -> Cmd {
        self.cmd(
            Effect::Mutate,
            format!("create namespace {ns}"),
            ["create", "namespace", ns],
        )
        .resource(self.key(None, &format!("namespace/{ns}")))
    }

    /// `what` completes "apply ..." in messages ("the agent manifest", "the Argo CD cluster secret").
    pub fn apply(&self, ns: &str, file: &Path, what: &str) -> Cmd {
        self.cmd(
            Effect::Mutate,
            format!("apply {what} {}", file.display()),
            ["-n", ns, "apply", "-f", &file.display().to_string()],
        )
        .resource(self.key(Some(ns), ""))
    }

    pub fn annotate(&self, ns: &str, kind: &str, name: &str, key: &str, value: Arg) -> Cmd {
        let mut pair = vec![crate::cmd::Val::known(format!("{key}="))];
        pair.extend(value.parts().iter().cloned());
        self.cmd(
            Effect::Mutate,
            format!("annotate {kind} {name}"),
            ["-n", ns, "annotate", kind, name],
        )
        .arg(Arg::concat(pair))
        .arg("--overwrite")
        .resource(self.key(Some(ns), &format!("{kind}/{name}")))
    }

    pub fn patch_merge(&self, ns: &str, kind: &str, name: &str, patch: &str) -> Cmd {
        self.cmd(
            Effect::Mutate,
            format!("patch {kind} {name}"),
            ["-n", ns, "patch", kind, name, "--type=merge", "-p", patch],
        )
        .resource(self.key(Some(ns), &format!("{kind}/{name}")))
    }

    pub fn rollout_restart(&self, ns: &str, kind: &str, name: &str) -> Cmd {
        self.cmd(
            Effect::Mutate,
            format!("restart {kind} {name}"),
            ["-n", ns, "rollout", "restart", &format!("{kind}/{name}")],
        )
        .resource(self.key(Some(ns), &format!("{kind}/{name}")))
    }

    pub fn rollout_status(&self, ns: &str, kind: &str, name: &str, wait: Duration) -> Cmd {
        let timeout = format!("--timeout={}s", wait.as_secs());
        self.cmd(
            Effect::Read,
            format!("wait for {kind} {name} to roll out"),
            ["-n", ns, "rollout", "status", &format!("{kind}/{name}"), &timeout],
        )
        .timeout(wait + Duration::from_secs(30))
        .resource(self.key(Some(ns), &format!("{kind}/{name}")))
    }
}

/// Whether a failed kubectl call means "not found".
pub fn is_not_found(stderr: &str) -> bool {
    stderr.contains("(NotFound)")
}

pub fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj["metadata"]["annotations"][key].as_str()
}

/// Whether the EKS pod identity webhook gave every container of a pod the role. It does so only
/// when the pod is created, so a pod older than the annotation runs without it.
pub fn pod_has_role(pod: &Value, arn: &str) -> bool {
    let containers = pod["spec"]["containers"].as_array().cloned().unwrap_or_default();
    !containers.is_empty()
        && containers.iter().all(|c| {
            c["env"]
                .as_array()
                .is_some_and(|env| env.iter().any(|e| e["name"] == "AWS_ROLE_ARN" && e["value"] == arn))
        })
}

/// The pods that run as a service account.
pub fn pods_of<'a>(pods: &'a Value, service_account: &str) -> Vec<&'a Value> {
    pods["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|p| p["spec"]["serviceAccountName"] == service_account)
                .collect()
        })
        .unwrap_or_default()
}

pub fn fs_group(obj: &Value) -> Option<i64> {
    obj["spec"]["template"]["spec"]["securityContext"]["fsGroup"].as_i64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::Val;
    use serde_json::json;

    #[test]
    fn annotate_uses_the_real_key_and_overwrite() {
        let k = Kubectl {
            kubeconfig: PathBuf::from(".gitops-iam/kubeconfig/mgmt-management"),
        };
        let arn = Arg::concat([
            Val::known("arn:aws:iam::"),
            Val::var("ACCOUNT_ID"),
            Val::known(":role/ArgoCD"),
        ]);
        assert_eq!(
            k.annotate(
                "iam",
                "serviceaccount",
                "gitops-agent",
                "eks.amazonaws.com/role-arn",
                arn
            )
            .to_string(),
            "kubectl --kubeconfig .gitops-iam/kubeconfig/mgmt-management -n iam annotate serviceaccount gitops-agent \"eks.amazonaws.com/role-arn=arn:aws:iam::${ACCOUNT_ID}:role/ArgoCD\" --overwrite"
        );
    }

    #[test]
    fn fs_group_patch_is_a_merge_patch() {
        assert_eq!(
            fs_group_patch(999),
            r#"{"spec":{"template":{"spec":{"securityContext":{"fsGroup":999}}}}}"#
        );
        let obj = json!({"spec": {"template": {"spec": {"securityContext": {"fsGroup": 999}}}}});
        assert_eq!(fs_group(&obj), Some(999));
        assert_eq!(
            fs_group(&json!({"spec": {"template": {"spec": {"securityContext": {}}}}})),
            None
        );
        let sa = json!({"metadata": {"annotations": {"eks.amazonaws.com/role-arn": "arn"}}});
        assert_eq!(annotation(&sa, "eks.amazonaws.com/role-arn"), Some("arn"));
        assert_eq!(annotation(&json!({"metadata": {}}), "eks.amazonaws.com/role-arn"), None);
    }

    #[test]
    fn not_found() {
        assert!(is_not_found(
            "Error from server (NotFound): serviceaccounts \"gitops-agent\" not found"
        ));
        assert!(!is_not_found("Error from server (Forbidden): nope"));
    }
}

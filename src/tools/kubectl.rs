//! `kubectl` calls, always with the tool's own `--kubeconfig` for the cluster and the context of
//! that cluster in it (`--context`): neither `KUBECONFIG` nor a current-context changed by hand
//! can point a call at another cluster.
//!
//! Annotations use `kubectl annotate --overwrite` (a merge patch): the tutorial's JSON patch to
//! `/metadata/annotations/` targets the empty key and fails with 422, and a JSON-patch `add` also
//! fails on a service account that has no annotations yet.

use crate::cmd::{Arg, Cmd, Effect, Val};
use crate::resource::Resource;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The field manager of gitops-iam's server-side applies (the fields it owns in `managedFields`).
pub(crate) const FIELD_MANAGER: &str = "gitops-iam";

/// The tool's own kubeconfig file of one cluster, `DIR/ACCOUNT-REGION-CLUSTER.yaml`: one state
/// directory serves several accounts and regions without two clusters sharing a file. The
/// account (and the region) may be known only when a dry-run script runs, so it is an [`Arg`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Kubeconfig(Arg);

impl Kubeconfig {
    pub(crate) fn new(dir: &Path, account: &Val, region: &Val, cluster: &str) -> Self {
        Kubeconfig(Arg::concat([
            Val::known(format!("{}/", dir.display())),
            account.clone(),
            Val::known("-"),
            region.clone(),
            Val::known(format!("-{cluster}.yaml")),
        ]))
    }

    pub(crate) fn arg(&self) -> Arg {
        self.0.clone()
    }

    /// The file, in a real run.
    pub(crate) fn path(&self) -> PathBuf {
        PathBuf::from(self.0.value())
    }

    /// The same text in a real run and a dry-run (variables as markers): for resource keys.
    pub(crate) fn key(&self) -> String {
        self.0.template()
    }
}

/// The name eksctl gives a cluster in a kubeconfig (`ClusterMeta.String()`, eksctl
/// `pkg/apis/eksctl.io/v1alpha5/types.go`); its context is `IDENTITY@` that name.
pub(crate) fn eksctl_cluster_entry(cluster: &str, region: &Val) -> Arg {
    Arg::concat([
        Val::known(format!("{cluster}.")),
        region.clone(),
        Val::known(".eksctl.io"),
    ])
}

/// Reads the context of cluster `entry` in a kubeconfig: eksctl names it after the caller's
/// identity, which only the file tells.
pub(crate) fn context_of(kubeconfig: &Kubeconfig, entry: &Arg) -> Cmd {
    let mut filter = vec![Val::known("jsonpath={.contexts[?(@.context.cluster==\"")];
    filter.extend(entry.parts().iter().cloned());
    filter.push(Val::known("\")].name}"));
    Cmd::new("kubectl", Effect::Read, "read the cluster's context in its kubeconfig")
        .conventions(crate::tools::aws::CONVENTIONS)
        .arg("--kubeconfig")
        .arg(kubeconfig.arg())
        .args(["config", "view", "-o"])
        .arg(Arg::concat(filter))
        .resource(cluster_key(kubeconfig))
}

#[derive(Clone, Debug)]
pub(crate) struct Kubectl {
    pub kubeconfig: Kubeconfig,
    /// The cluster's context in `kubeconfig`.
    pub context: Val,
}

/// The pod-template patch that sets `fsGroup` (a merge patch: works whether or not a
/// securityContext exists, unlike the tutorial's JSON-patch `add`).
pub(crate) fn fs_group_patch(fs_group: i64) -> String {
    serde_json::json!({"spec": {"template": {"spec": {"securityContext": {"fsGroup": fs_group}}}}}).to_string()
}

impl Kubectl {
    /// `NAMESPACE / KIND / NAME` in the cluster (an empty namespace for cluster-wide objects);
    /// a shorter path covers a whole namespace or kind.
    fn key<'s>(&self, path: impl IntoIterator<Item = &'s str>) -> Resource {
        Resource::kube(self.kubeconfig.key(), path)
    }

    fn cmd<A: Into<Arg>>(&self, effect: Effect, purpose: String, args: impl IntoIterator<Item = A>) -> Cmd {
        // An EKS kubeconfig runs `aws eks get-token` with kubectl's environment.
        Cmd::new("kubectl", effect, purpose)
            .conventions(crate::tools::aws::CONVENTIONS)
            .arg("--kubeconfig")
            .arg(self.kubeconfig.arg())
            .arg("--context")
            .arg(&self.context)
            .args(args)
    }

    pub(crate) fn get(&self, namespace: Option<&str>, kind: &str, name: &str) -> Cmd {
        let mut cmd = self.cmd(Effect::Read, format!("read {kind} {name}"), ["get", kind, name]);
        if let Some(ns) = namespace {
            cmd = cmd.args(["-n", ns]);
        }
        cmd.args(["-o", "json"])
            .resource(self.key([namespace.unwrap_or(""), kind, name]))
    }

    /// Every object of a kind in a namespace.
    pub(crate) fn list(&self, ns: &str, kind: &str) -> Cmd {
        self.cmd(
            Effect::Read,
            format!("list {kind} in namespace {ns}"),
            ["get", kind, "-n", ns, "-o", "json"],
        )
        .resource(self.key([ns, kind]))
    }

    pub(crate) fn delete(&self, ns: &str, kind: &str, name: &str) -> Cmd {
        self.cmd(
            Effect::Mutate,
            format!("delete {kind} {name}"),
            ["-n", ns, "delete", kind, name],
        )
        .resource(self.key([ns, kind, name]))
    }

    pub(crate) fn create_namespace(&self, ns: &str) -> Cmd {
        self.cmd(
            Effect::Mutate,
            format!("create namespace {ns}"),
            ["create", "namespace", ns],
        )
        .resource(self.key(["", "namespace", ns]))
    }

    /// `what` completes "apply ..." in messages ("the agent manifest", "the Argo CD cluster secret").
    pub(crate) fn apply(&self, ns: &str, file: &Path, what: &str) -> Cmd {
        self.cmd(
            Effect::Mutate,
            format!("apply {what} {}", file.display()),
            ["-n", ns, "apply", "-f", &file.display().to_string()],
        )
        .resource(self.key([ns]))
    }

    /// Server-side apply, for manifests whose objects are too big for client-side apply: that
    /// copies each object into its `last-applied-configuration` annotation, and the API server
    /// refuses annotations over 262144 bytes (Argo CD 3.3's ApplicationSet CRD is larger).
    /// `--force-conflicts`: the manifest is what the user asked for, so its fields win over
    /// another manager's, as they did with client-side apply. The flags follow `-f FILE`.
    pub(crate) fn apply_server_side(&self, ns: &str, file: &Path, what: &str) -> Cmd {
        self.cmd(
            Effect::Mutate,
            format!("apply {what} {}", file.display()),
            [
                "-n",
                ns,
                "apply",
                "-f",
                &file.display().to_string(),
                "--server-side",
                "--field-manager",
                FIELD_MANAGER,
                "--force-conflicts",
            ],
        )
        .resource(self.key([ns]))
    }

    pub(crate) fn annotate(&self, ns: &str, kind: &str, name: &str, key: &str, value: Arg) -> Cmd {
        let mut pair = vec![crate::cmd::Val::known(format!("{key}="))];
        pair.extend(value.parts().iter().cloned());
        self.cmd(
            Effect::Mutate,
            format!("annotate {kind} {name}"),
            ["-n", ns, "annotate", kind, name],
        )
        .arg(Arg::concat(pair))
        .arg("--overwrite")
        .resource(self.key([ns, kind, name]))
    }

    pub(crate) fn patch_merge(&self, ns: &str, kind: &str, name: &str, patch: &str) -> Cmd {
        self.cmd(
            Effect::Mutate,
            format!("patch {kind} {name}"),
            ["-n", ns, "patch", kind, name, "--type=merge", "-p", patch],
        )
        .resource(self.key([ns, kind, name]))
    }

    pub(crate) fn rollout_restart(&self, ns: &str, kind: &str, name: &str) -> Cmd {
        self.cmd(
            Effect::Mutate,
            format!("restart {kind} {name}"),
            ["-n", ns, "rollout", "restart", &format!("{kind}/{name}")],
        )
        .resource(self.key([ns, kind, name]))
    }

    /// `kubectl wait --for=jsonpath=...`: until a field of the object has a value.
    pub(crate) fn wait_for_field(&self, ns: &str, object: &str, path: &str, value: &str, wait: Duration) -> Cmd {
        let timeout = format!("--timeout={}s", wait.as_secs());
        let what = format!("--for=jsonpath={{{path}}}={value}");
        self.cmd(
            Effect::Read,
            format!("wait until {object} has {path} {value}"),
            ["-n", ns, "wait", object, &what, &timeout],
        )
        .timeout(wait + Duration::from_secs(30))
    }

    pub(crate) fn rollout_status(&self, ns: &str, kind: &str, name: &str, wait: Duration) -> Cmd {
        let timeout = format!("--timeout={}s", wait.as_secs());
        self.cmd(
            Effect::Read,
            format!("wait for {kind} {name} to roll out"),
            ["-n", ns, "rollout", "status", &format!("{kind}/{name}"), &timeout],
        )
        .timeout(wait + Duration::from_secs(30))
        .resource(self.key([ns, kind, name]))
    }
}

/// The whole cluster behind a kubeconfig: what a new kubeconfig invalidates.
pub(crate) fn cluster_key(kubeconfig: &Kubeconfig) -> Resource {
    Resource::kube(kubeconfig.key(), [])
}

/// Whether a failed kubectl call means "not found".
pub(crate) fn is_not_found(stderr: &str) -> bool {
    stderr.contains("(NotFound)")
}

pub(crate) fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj["metadata"]["annotations"][key].as_str()
}

/// Whether the EKS pod identity webhook gave every container of a pod the role. It does so only
/// when the pod is created, so a pod older than the annotation runs without it.
pub(crate) fn pod_has_role(pod: &Value, arn: &str) -> bool {
    let containers = pod["spec"]["containers"].as_array().cloned().unwrap_or_default();
    !containers.is_empty()
        && containers.iter().all(|c| {
            c["env"]
                .as_array()
                .is_some_and(|env| env.iter().any(|e| e["name"] == "AWS_ROLE_ARN" && e["value"] == arn))
        })
}

/// The pods that run as a service account.
pub(crate) fn pods_of<'a>(pods: &'a Value, service_account: &str) -> Vec<&'a Value> {
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

pub(crate) fn fs_group(obj: &Value) -> Option<i64> {
    obj["spec"]["template"]["spec"]["securityContext"]["fsGroup"].as_i64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::Val;
    use serde_json::json;

    #[test]
    fn annotate_uses_the_real_key_and_overwrite() {
        let kubeconfig = Kubeconfig::new(
            Path::new(".gitops-iam/kubeconfig"),
            &Val::var("ACCOUNT_ID"),
            &Val::known("us-east-1"),
            "management",
        );
        let k = Kubectl {
            kubeconfig,
            context: Val::var("MGMT_CONTEXT"),
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
            "kubectl --kubeconfig \".gitops-iam/kubeconfig/${ACCOUNT_ID}-us-east-1-management.yaml\" --context \"${MGMT_CONTEXT}\" -n iam annotate serviceaccount gitops-agent \"eks.amazonaws.com/role-arn=arn:aws:iam::${ACCOUNT_ID}:role/ArgoCD\" --overwrite"
        );
    }

    #[test]
    fn kubeconfig_names_account_region_and_cluster_and_the_context_is_read_from_it() {
        let dir = Path::new(".gitops-iam/kubeconfig");
        let known = Kubeconfig::new(dir, &Val::known("123456789012"), &Val::known("eu-west-1"), "m");
        assert_eq!(
            known.path(),
            PathBuf::from(".gitops-iam/kubeconfig/123456789012-eu-west-1-m.yaml")
        );
        let region = Val::var("AWS_REGION");
        let script = Kubeconfig::new(dir, &Val::var("ACCOUNT_ID"), &region, "m");
        let read = context_of(&script, &eksctl_cluster_entry("m", &region));
        assert!(!read.is_mutating());
        assert_eq!(
            read.to_string(),
            "kubectl --kubeconfig \".gitops-iam/kubeconfig/${ACCOUNT_ID}-${AWS_REGION}-m.yaml\" config view -o 'jsonpath={.contexts[?(@.context.cluster==\"'m.\"${AWS_REGION}\".eksctl.io'\")].name}'"
        );
        let read = context_of(&known, &eksctl_cluster_entry("m", &Val::known("eu-west-1")));
        assert_eq!(
            read.argv()[5],
            "jsonpath={.contexts[?(@.context.cluster==\"m.eu-west-1.eksctl.io\")].name}"
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

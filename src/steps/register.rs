//! `register`: the testing cluster into Harness GitOps with IRSA, or into Argo CD as a cluster
//! Secret. The endpoint and CA come from `aws eks describe-cluster`, never from copy and paste.

use super::Ctx;
use crate::cmd::Val;
use crate::error::Result;
use crate::exec::Transform;
use crate::harness::{self, ClusterSpec, Harness};
use crate::registration::Registration;
use crate::render::Doc;
use crate::report::Changes;
use crate::settings::TestingTarget;
use crate::tools::kubectl;

/// The testing cluster's API endpoint and base64 CA, read once per run.
pub(crate) async fn endpoint_and_ca(ctx: &Ctx<'_>, t: &TestingTarget) -> Result<(Val, Val)> {
    let aws = ctx.testing_tools(t);
    let cluster = t.cluster.as_str();
    let endpoint = ctx
        .exec
        .capture(
            &ctx.target_var("TESTING_ENDPOINT", t),
            &aws.cluster_field(cluster, "cluster.endpoint"),
            Transform::None,
        )
        .await?;
    let ca = ctx
        .exec
        .capture(
            &ctx.target_var("TESTING_CA", t),
            &aws.cluster_field(cluster, "cluster.certificateAuthority.data"),
            Transform::None,
        )
        .await?;
    Ok((endpoint, ca))
}

/// What differs between the Harness cluster `current` and `spec`; converged when empty (the
/// step and `verify`).
pub(crate) fn harness_drift(current: &serde_json::Value, spec: &ClusterSpec) -> Vec<String> {
    harness::differences(current, spec)
}

/// Whether the Argo CD cluster Secret `current` says what `desired` says (the step and `verify`).
pub(crate) fn argocd_secret_converged(current: &serde_json::Value, desired: &serde_json::Value) -> bool {
    crate::argocd::matches(current, desired)
}

async fn to_harness(ctx: &Ctx<'_>, h: &Harness, cluster_id: &Option<String>, t: &TestingTarget) -> Result<()> {
    let id = Registration::harness_cluster_id(cluster_id, t.cluster.as_str(), ctx.settings.testing.len());
    ctx.report
        .step(&format!("register: harness cluster {id}"), async {
            let (server, ca) = endpoint_and_ca(ctx, t).await?;
            let spec = ClusterSpec {
                identifier: id.clone(),
                name: t.cluster.to_string(),
                server: server.into(),
                role_arn: ctx.deployer_role_arn(t).await?,
                aws_cluster_name: t.cluster.to_string(),
                ca_data: ca.into(),
            };
            let get = h.get_cluster(&id);
            let current = match ctx.exec.http_observe(&get).await? {
                Some(resp) => h.parse_get(&get, &resp)?,
                None => None,
            };
            let mut changes = Changes::none();
            let diffs = current.as_ref().map(|c| harness_drift(c, &spec));
            if diffs.as_ref().is_some_and(Vec::is_empty) {
                return Ok((changes, ()));
            }
            if let Some(diffs) = &diffs {
                ctx.report
                    .info(&format!("Harness cluster {id} differs:\n  {}", diffs.join("\n  ")));
            }
            let post = h.upsert_cluster(&spec);
            let resp = ctx.exec.http_run(&post).await?;
            if !(200..300).contains(&resp.status) {
                return Err(h.api_error(&post, &resp));
            }
            changes.push(match diffs {
                Some(d) => format!("updated Harness cluster {id} ({})", d.join(", ")),
                None => format!("registered cluster {} in Harness as {id}", t.cluster),
            });
            Ok((changes, ()))
        })
        .await
}

async fn to_argocd(ctx: &Ctx<'_>, t: &TestingTarget) -> Result<()> {
    let s = ctx.settings;
    let name = crate::argocd::secret_name(t.cluster.as_str());
    ctx.report
        .step(&format!("register: argocd secret {name}"), async {
            let (server, ca_data) = endpoint_and_ca(ctx, t).await?;
            let doc = Doc::ArgocdSecret {
                namespace: s.namespace.clone(),
                cluster: t.cluster.to_string(),
                server,
                ca_data,
                role_arn: ctx.deployer_role_arn(t).await?,
            };
            let (path, desired) = ctx.write_doc(&format!("argocd-secret-{}", t.cluster), &doc)?;
            ctx.ensure_mgmt_kubeconfig().await?;
            let k = ctx.mgmt_kubectl().await?;
            let current = ctx
                .observe(
                    &k.get(Some(s.namespace.as_str()), "secret", &name),
                    |o| kubectl::is_not_found(&o.stderr),
                    crate::tools::parse_json,
                )
                .await?;
            let mut changes = Changes::none();
            let converged = matches!((&current, &desired), (Some(c), Some(d)) if argocd_secret_converged(c, d));
            if !converged {
                ctx.exec
                    .run(&k.apply(s.namespace.as_str(), &path, "the Argo CD cluster secret"))
                    .await?;
                changes.push(format!(
                    "{} Argo CD cluster secret {name}",
                    if current.is_some() { "updated" } else { "created" }
                ));
            }
            Ok((changes, ()))
        })
        .await
}

/// A dry-run script reads the API key from `--api-key-file` itself, once, before its first
/// request.
pub(crate) fn script_reads_key(ctx: &Ctx<'_>, reg: &Registration) {
    if let Registration::Harness {
        api_key_file: Some(file),
        ..
    } = reg
    {
        ctx.exec.script_only(&format!(
            "{}=\"$(cat {})\"",
            crate::http::API_KEY_VAR,
            crate::cmd::quote(&file.to_string_lossy())
        ));
    }
}

/// The whole `register` command, for every testing cluster.
pub(crate) async fn run(ctx: &Ctx<'_>, reg: &Registration) -> Result<()> {
    script_reads_key(ctx, reg);
    let results = futures_util::future::join_all(ctx.settings.testing.iter().map(|t| async move {
        match reg {
            Registration::Harness {
                harness, cluster_id, ..
            } => to_harness(ctx, harness, cluster_id, t).await,
            Registration::Argocd => to_argocd(ctx, t).await,
        }
    }))
    .await;
    results.into_iter().collect::<Result<Vec<()>>>().map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use serde_json::json;

    fn spec() -> ClusterSpec {
        ClusterSpec {
            identifier: "testing".into(),
            name: "testing".into(),
            server: "https://ABC.eks.amazonaws.com".into(),
            role_arn: "arn:aws:iam::444455556666:role/Deployer".into(),
            aws_cluster_name: "testing".into(),
            ca_data: "Q0E=".into(),
        }
    }

    fn registered(role_arn: &str) -> serde_json::Value {
        json!({
            "server": "https://ABC.eks.amazonaws.com",
            "name": "testing",
            "config": {
                "clusterConnectionType": "IRSA",
                "roleARN": role_arn,
                "awsClusterName": "testing",
                "tlsClientConfig": {"caData": "Q0E="}
            }
        })
    }

    #[test]
    fn harness_converged_when_nothing_differs() {
        assert!(harness_drift(&registered("arn:aws:iam::444455556666:role/Deployer"), &spec()).is_empty());
        assert_eq!(
            harness_drift(&registered("arn:aws:iam::444455556666:role/Old"), &spec()).len(),
            1
        );
    }

    #[test]
    fn argocd_secret_converged_when_its_data_says_what_is_desired() {
        let desired = |role: &str| crate::argocd::cluster_secret("iam", "testing", "https://s", "Q0E=", role);
        // What the cluster answers: `stringData` comes back base64-encoded in `data`.
        let stored = |secret: serde_json::Value| {
            let mut out = secret.clone();
            let data: serde_json::Map<String, serde_json::Value> = secret["stringData"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| {
                    let text = v.as_str().unwrap();
                    (k.clone(), json!(base64::engine::general_purpose::STANDARD.encode(text)))
                })
                .collect();
            out["data"] = serde_json::Value::Object(data);
            out
        };
        let deployer = "arn:aws:iam::444455556666:role/Deployer";
        assert!(argocd_secret_converged(&stored(desired(deployer)), &desired(deployer)));
        assert!(!argocd_secret_converged(
            &stored(desired("arn:aws:iam::444455556666:role/Old")),
            &desired(deployer)
        ));
    }
}

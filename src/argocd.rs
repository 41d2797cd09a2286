//! The declarative Argo CD cluster Secret: how plain Argo CD (and the agent's embedded Argo CD)
//! learns about a cluster it deploys to, here with IRSA (`awsAuthConfig`) authentication.

use base64::Engine;
use serde_json::{Value, json};

pub(crate) const SECRET_TYPE_LABEL: &str = "argocd.argoproj.io/secret-type";

pub(crate) fn secret_name(cluster: &str) -> String {
    format!("{cluster}-cluster")
}

/// The Secret, as JSON that `kubectl apply -f` takes.
pub(crate) fn cluster_secret(namespace: &str, cluster: &str, server: &str, ca_data: &str, role_arn: &str) -> Value {
    let config = json!({
        "awsAuthConfig": {"clusterName": cluster, "roleARN": role_arn},
        "tlsClientConfig": {"insecure": false, "caData": ca_data}
    });
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": secret_name(cluster),
            "namespace": namespace,
            "labels": {SECRET_TYPE_LABEL: "cluster"}
        },
        "type": "Opaque",
        "stringData": {"name": cluster, "server": server, "config": config.to_string()}
    })
}

/// Whether the Secret in the cluster (`kubectl get secret -o json`: base64 `data`) says what
/// `desired` (`stringData`) says. `config` is compared as JSON, not as text.
pub(crate) fn matches(current: &Value, desired: &Value) -> bool {
    if current["metadata"]["labels"][SECRET_TYPE_LABEL] != "cluster" {
        return false;
    }
    let decode = |key: &str| -> Option<String> {
        let b64 = current["data"][key].as_str()?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
        String::from_utf8(bytes).ok()
    };
    let want = &desired["stringData"];
    let same_text = |key: &str| decode(key).as_deref() == want[key].as_str();
    let same_config = match (decode("config"), want["config"].as_str()) {
        (Some(have), Some(want)) => {
            serde_json::from_str::<Value>(&have).ok() == serde_json::from_str::<Value>(want).ok()
        }
        _ => false,
    };
    same_text("name") && same_text("server") && same_config
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(secret: &Value) -> Value {
        let e = |s: &Value| base64::engine::general_purpose::STANDARD.encode(s.as_str().unwrap());
        let sd = &secret["stringData"];
        json!({
            "metadata": secret["metadata"].clone(),
            "data": {"name": e(&sd["name"]), "server": e(&sd["server"]), "config": e(&sd["config"])}
        })
    }

    #[test]
    fn secret_shape_and_comparison() {
        let s = cluster_secret(
            "iam",
            "testing",
            "https://X.eks.amazonaws.com",
            "Q0E=",
            "arn:aws:iam::1:role/Deployer",
        );
        assert_eq!(s["metadata"]["labels"][SECRET_TYPE_LABEL], "cluster");
        let config: Value = serde_json::from_str(s["stringData"]["config"].as_str().unwrap()).unwrap();
        assert_eq!(config["awsAuthConfig"]["clusterName"], "testing");
        assert_eq!(config["tlsClientConfig"]["caData"], "Q0E=");
        assert!(matches(&encoded(&s), &s));
        let other = cluster_secret(
            "iam",
            "testing",
            "https://Y.eks.amazonaws.com",
            "Q0E=",
            "arn:aws:iam::1:role/Deployer",
        );
        assert!(!matches(&encoded(&other), &s));
        let mut unlabeled = encoded(&s);
        unlabeled["metadata"]["labels"] = json!({});
        assert!(!matches(&unlabeled, &s));
    }
}

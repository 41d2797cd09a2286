//! The Harness GitOps API: register a cluster with IRSA authentication.
//!
//! There is no public guide for this API; the shapes follow harness-go-sdk and
//! terraform-provider-harness (see `docs/register.md` for what could not be confirmed offline).

use crate::cmd::{Arg, Effect};
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse, Method};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use secrecy::SecretString;
use serde_json::{Value, json};

pub(crate) const DEFAULT_URL: &str = "https://app.harness.io/gateway";

/// Where clusters are registered: an agent in an account, org or project.
#[derive(Clone, Debug)]
pub(crate) struct Harness {
    pub base_url: String,
    pub account: String,
    pub org: Option<String>,
    pub project: Option<String>,
    pub agent: String,
    pub api_key: Option<SecretString>,
}

/// What a cluster registration says; compared field by field with what Harness has.
#[derive(Clone, Debug)]
pub(crate) struct ClusterSpec {
    pub identifier: String,
    pub name: String,
    pub server: Arg,
    pub role_arn: Arg,
    pub aws_cluster_name: String,
    pub ca_data: Arg,
}

/// RFC 3986 unreserved characters stay as they are (`account.agent` reads as itself).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

pub(crate) fn enc(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

impl Harness {
    pub(crate) fn query(&self, identifier: Option<&str>) -> String {
        // harness-go-sdk sends the account as `routingId` on every agent and cluster call
        // (`harness/nextgen/api_clusters.go`); whether the server needs it is unknown, so do
        // as the SDK does.
        let account = enc(&self.account);
        let mut q = format!("accountIdentifier={account}&routingId={account}");
        if let Some(org) = &self.org {
            q.push_str(&format!("&orgIdentifier={}", enc(org)));
        }
        if let Some(project) = &self.project {
            q.push_str(&format!("&projectIdentifier={}", enc(project)));
        }
        if let Some(id) = identifier {
            q.push_str(&format!("&identifier={}", enc(id)));
        }
        q
    }

    fn clusters_url(&self) -> String {
        self.agent_url("clusters")
    }

    /// `{base}/gitops/api/v1/agents/{agent}/{collection}`: clusters, repositories, applications.
    pub(crate) fn agent_url(&self, collection: &str) -> String {
        format!(
            "{}/gitops/api/v1/agents/{}/{collection}",
            self.base_url.trim_end_matches('/'),
            enc(&self.agent)
        )
    }

    pub(crate) fn request(
        &self,
        method: Method,
        url: String,
        body: Option<Arg>,
        purpose: String,
        effect: Effect,
    ) -> HttpRequest {
        HttpRequest {
            method,
            url,
            body,
            api_key: self.api_key.clone(),
            purpose,
            effect,
            secret_param: None,
            output: None,
        }
    }

    pub(crate) fn get_cluster(&self, identifier: &str) -> HttpRequest {
        let url = format!("{}/{}?{}", self.clusters_url(), enc(identifier), self.query(None));
        self.request(
            Method::Get,
            url,
            None,
            format!("read Harness GitOps cluster {identifier}"),
            Effect::Read,
        )
    }

    pub(crate) fn upsert_cluster(&self, spec: &ClusterSpec) -> HttpRequest {
        let url = format!("{}?{}", self.clusters_url(), self.query(Some(&spec.identifier)));
        let body = json!({
            "upsert": true,
            "cluster": {
                "server": spec.server.template(),
                "name": spec.name,
                "config": {
                    "clusterConnectionType": "IRSA",
                    "roleARN": spec.role_arn.template(),
                    "awsClusterName": spec.aws_cluster_name,
                    "tlsClientConfig": {"insecure": false, "caData": spec.ca_data.template()}
                }
            }
        });
        self.request(
            Method::Post,
            url,
            Some(Arg::from_template(&body.to_string())),
            format!(
                "register cluster {} in Harness GitOps agent {}",
                spec.identifier, self.agent
            ),
            Effect::Mutate,
        )
    }

    pub(crate) fn delete_cluster(&self, identifier: &str) -> HttpRequest {
        let url = format!(
            "{}/{}?{}&forceDelete=true",
            self.clusters_url(),
            enc(identifier),
            self.query(None)
        );
        self.request(
            Method::Delete,
            url,
            None,
            format!("remove Harness GitOps cluster {identifier}"),
            Effect::Mutate,
        )
    }

    /// Where the agent is looked up, in the words of the flags: "account A, org O, project P".
    fn scope(&self) -> String {
        let mut s = format!("account {}", self.account);
        if let Some(org) = &self.org {
            s.push_str(&format!(", org {org}"));
        }
        if let Some(project) = &self.project {
            s.push_str(&format!(", project {project}"));
        }
        s
    }

    /// An error for a non-2xx answer, in words a user can act on. Never contains the key: the
    /// request's display form only refers to `$HARNESS_API_KEY`.
    pub(crate) fn api_error(&self, req: &HttpRequest, resp: &HttpResponse) -> Error {
        let msg = message(&resp.body);
        let meaning = match resp.status {
            400 => "Harness rejected the request".to_string(),
            401 => "the Harness API key was rejected (check HARNESS_API_KEY or --api-key-file)".to_string(),
            403 => "the API key has no permission for this agent, project or cluster".to_string(),
            404 => format!(
                "not found: check --agent-id, --harness-account, --harness-org and --harness-project (Harness has no GitOps agent {} in {}; an agent above project level is named account.ID or org.ID)",
                self.agent,
                self.scope()
            ),
            429 => "Harness is rate limiting requests; retried and gave up".to_string(),
            300..=399 => "Harness answered with a redirect, which is not followed: the API key is never sent to another address (check --harness-url)".to_string(),
            s if s >= 500 => "Harness had a server error; retried and gave up".to_string(),
            s => format!("unexpected HTTP status {s}"),
        };
        Error::Command(Box::new(crate::error::CommandError {
            purpose: req.purpose.clone(),
            command: req.to_string(),
            status: None,
            stderr: msg,
            detail: Some(format!("HTTP {}: {meaning}", resp.status)),
        }))
    }

    /// The registered cluster, if any. Absent: a 200 without `cluster`, or a 404 whose body
    /// carries a not-found code ([`is_not_found`]); any other 404 is an error (a wrong agent or
    /// scope must not read as "nothing registered yet").
    pub(crate) fn parse_get(&self, req: &HttpRequest, resp: &HttpResponse) -> Result<Option<Value>> {
        match resp.status {
            404 if is_not_found(resp) => Ok(None),
            200..=299 => {
                let v: Value = serde_json::from_str(&resp.body).map_err(|e| Error::Parse {
                    command: req.to_string(),
                    reason: e.to_string(),
                })?;
                Ok(v.get("cluster").filter(|c| !c.is_null()).cloned())
            }
            _ => Err(self.api_error(req, resp)),
        }
    }
}

/// gRPC's NotFound, as grpc-gateway writes it in `code` (harness-go-sdk `GatewayruntimeError`).
const GRPC_NOT_FOUND: i64 = 5;

/// Whether a 404 says the entity is absent, as terraform-provider-harness decides it
/// (`helpers/errors.go`): gRPC NotFound (5), or Harness's `ENTITY_NOT_FOUND` /
/// `RESOURCE_NOT_FOUND`. A bare 404 (a wrong path, an unknown agent) is not.
pub(crate) fn is_not_found(resp: &HttpResponse) -> bool {
    if resp.status != 404 {
        return false;
    }
    let v: Value = serde_json::from_str(&resp.body).unwrap_or(Value::Null);
    match &v["code"] {
        Value::Number(n) => n.as_i64() == Some(GRPC_NOT_FOUND),
        Value::String(s) => s == "ENTITY_NOT_FOUND" || s == "RESOURCE_NOT_FOUND",
        _ => false,
    }
}

/// Harness's own message from an error body (`{"message": ...}` or `{"error": ...}`).
fn message(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    v["message"]
        .as_str()
        .or_else(|| v["error"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| body.chars().take(300).collect())
}

/// The fields of a registered cluster that differ from `spec` (real runs: every value known).
pub(crate) fn differences(current: &Value, spec: &ClusterSpec) -> Vec<String> {
    let config = &current["config"];
    let checks = [
        ("server", current["server"].as_str(), spec.server.value()),
        ("name", current["name"].as_str(), spec.name.clone()),
        (
            "clusterConnectionType",
            config["clusterConnectionType"].as_str(),
            "IRSA".to_string(),
        ),
        ("roleARN", config["roleARN"].as_str(), spec.role_arn.value()),
        (
            "awsClusterName",
            config["awsClusterName"].as_str(),
            spec.aws_cluster_name.clone(),
        ),
        (
            "caData",
            config["tlsClientConfig"]["caData"].as_str(),
            spec.ca_data.value(),
        ),
        (
            "insecure",
            // Absent is false: the API's Go model declares it `omitempty` (harness-go-sdk
            // `model_clusters_tls_client_config.go`), so a GET may leave `false` out.
            Some(if config["tlsClientConfig"]["insecure"].as_bool().unwrap_or(false) {
                "true"
            } else {
                "false"
            }),
            "false".to_string(),
        ),
    ];
    field_differences(checks)
}

/// `field: "have" -> "want"` for each (field, what Harness has, what is wanted) that differs.
pub(crate) fn field_differences<'a>(
    checks: impl IntoIterator<Item = (&'a str, Option<&'a str>, String)>,
) -> Vec<String> {
    checks
        .into_iter()
        .filter(|(_, have, want)| *have != Some(want.as_str()))
        .map(|(field, have, want)| format!("{field}: {:?} -> {want:?}", have.unwrap_or("")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::Val;

    fn harness() -> Harness {
        Harness {
            base_url: "https://app.harness.io/gateway/".into(),
            account: "acc123".into(),
            org: Some("default".into()),
            project: Some("proj_1".into()),
            agent: "account.myagent".into(),
            api_key: Some(SecretString::from("pat.x.y")),
        }
    }

    fn spec() -> ClusterSpec {
        ClusterSpec {
            identifier: "testing".into(),
            name: "testing".into(),
            server: Arg::from("https://ABC.eks.amazonaws.com"),
            role_arn: Arg::from("arn:aws:iam::123456789012:role/Deployer"),
            aws_cluster_name: "testing".into(),
            ca_data: Arg::from("Q0E="),
        }
    }

    #[test]
    fn upsert_request_shape() {
        let req = harness().upsert_cluster(&spec());
        assert_eq!(
            req.url,
            "https://app.harness.io/gateway/gitops/api/v1/agents/account.myagent/clusters?accountIdentifier=acc123&routingId=acc123&orgIdentifier=default&projectIdentifier=proj_1&identifier=testing"
        );
        let body: Value = serde_json::from_str(&req.body.unwrap().value()).unwrap();
        assert_eq!(body["upsert"], true);
        assert_eq!(body["cluster"]["config"]["clusterConnectionType"], "IRSA");
        assert_eq!(body["cluster"]["config"]["tlsClientConfig"]["caData"], "Q0E=");
        assert_eq!(body["cluster"]["config"]["tlsClientConfig"]["insecure"], false);
    }

    #[test]
    fn every_call_sends_the_account_as_routing_id() {
        let h = harness();
        for req in [
            h.get_cluster("testing"),
            h.upsert_cluster(&spec()),
            h.delete_cluster("testing"),
        ] {
            assert!(
                req.url.contains("?accountIdentifier=acc123&routingId=acc123&"),
                "{}",
                req.url
            );
        }
    }

    #[test]
    fn dry_run_body_uses_variables() {
        let mut s = spec();
        s.server = Arg::from(Val::var("TESTING_ENDPOINT"));
        let req = harness().upsert_cluster(&s);
        let text = req.to_string();
        assert!(text.contains("\"server\":\"'\"${TESTING_ENDPOINT}\"'\""), "{text}");
        assert!(!text.contains("pat.x.y"));
    }

    #[test]
    fn get_and_diff() {
        let h = harness();
        let req = h.get_cluster("testing");
        let absent = HttpResponse {
            status: 200,
            body: "{}".into(),
        };
        assert!(h.parse_get(&req, &absent).unwrap().is_none());
        for body in [
            r#"{"error":"cluster not found","code":5,"message":"cluster not found","details":[]}"#,
            r#"{"status":"ERROR","code":"RESOURCE_NOT_FOUND","message":"Cluster testing not found"}"#,
            r#"{"status":"ERROR","code":"ENTITY_NOT_FOUND","message":"Cluster testing not found"}"#,
        ] {
            let missing = HttpResponse {
                status: 404,
                body: body.into(),
            };
            assert!(h.parse_get(&req, &missing).unwrap().is_none(), "{body}");
        }
        // Without a not-found code a 404 is not "absent": it names the agent and its scope.
        for body in [
            "{}",
            "404 page not found",
            r#"{"error":"agent","code":2,"message":"agent"}"#,
        ] {
            let bare = HttpResponse {
                status: 404,
                body: body.into(),
            };
            let err = h.parse_get(&req, &bare).unwrap_err().to_string();
            assert!(
                err.contains("no GitOps agent account.myagent in account acc123, org default, project proj_1"),
                "{err}"
            );
            assert!(err.contains("--agent-id"), "{err}");
        }
        let present = HttpResponse {
            status: 200,
            body: json!({"identifier": "testing", "cluster": {"server": "https://ABC.eks.amazonaws.com", "name": "testing",
                "config": {"clusterConnectionType": "IRSA", "roleARN": "arn:aws:iam::123456789012:role/Old", "awsClusterName": "testing",
                "tlsClientConfig": {"insecure": false, "caData": "Q0E="}}}}).to_string(),
        };
        let current = h.parse_get(&req, &present).unwrap().unwrap();
        assert_eq!(
            differences(&current, &spec()),
            vec![
                "roleARN: \"arn:aws:iam::123456789012:role/Old\" -> \"arn:aws:iam::123456789012:role/Deployer\""
                    .to_string()
            ]
        );
        // `insecure: false` left out (Go `omitempty`) is no difference.
        let mut omitted = current.clone();
        omitted["config"]["tlsClientConfig"]
            .as_object_mut()
            .unwrap()
            .remove("insecure");
        assert_eq!(differences(&omitted, &spec()).len(), 1);
        omitted["config"]["tlsClientConfig"]["insecure"] = json!(true);
        assert!(differences(&omitted, &spec()).contains(&"insecure: \"true\" -> \"false\"".to_string()));
        let unauthorized = HttpResponse {
            status: 401,
            body: r#"{"status":"ERROR","code":"INVALID_TOKEN","message":"Token is not valid."}"#.into(),
        };
        let err = h.parse_get(&req, &unauthorized).unwrap_err().to_string();
        assert!(err.contains("Token is not valid."), "{err}");
        assert!(err.contains("API key was rejected"), "{err}");
        assert!(!err.contains("pat.x.y"));
    }
}

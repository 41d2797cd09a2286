//! The Harness GitOps agent itself, through the Harness API: create it, read its health,
//! download its install manifest, delete it.
//!
//! Paths, fields and query parameters follow harness-go-sdk (`harness/nextgen/api_agents.go`),
//! terraform-provider-harness (`resource_gitops_agent.go`, `data_source_gitops_agent_deploy_yaml.go`)
//! and harness-open-api 2.0.1 (`V1Agent`, `V1AgentMetadata`, `V1AgentHealth`); what could not be
//! confirmed offline is listed in `docs/agent-install.md`.
//!
//! The agent API names an agent by its bare identifier and its scope (the query, or the body's
//! `accountIdentifier`/`orgIdentifier`/`projectIdentifier` on create), where the cluster API
//! takes `account.ID` / `org.ID`: `--agent-id account.X` is agent X at account scope.
//!
//! The manifest holds the agent's token, and downloading it without `privateKey` makes Harness
//! regenerate the token ("If provided authentication token will not be regenerated",
//! terraform-provider-harness), which cuts off an agent running with the old one. So the
//! private key travels only as a [`SecretString`], in a query parameter that is never printed.

use crate::cmd::{Arg, Effect};
use crate::error::{Error, Result};
use crate::harness::{Harness, enc};
use crate::http::{HttpRequest, HttpResponse, Method, SecretParam};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The tag gitops-iam puts on an agent it creates: `down` deletes only such an agent.
pub(crate) const CREATED_BY: (&str, &str) = ("created-by", "gitops-iam");

/// The Secret and key of the agent's token in its install manifest.
pub(crate) const TOKEN_SECRET: &str = "gitops-agent";
pub(crate) const TOKEN_KEY: &str = "GITOPS_AGENT_TOKEN";

/// The shell variable a printed deploy.yaml download names for the private key.
pub(crate) const PRIVATE_KEY_VAR: &str = "AGENT_PRIVATE_KEY";

/// `POST /gitops/api/v1/agents`: a `V1Agent` with the fields gitops-iam sets.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NewAgent<'a> {
    account_identifier: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_identifier: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    project_identifier: Option<&'a str>,
    identifier: &'a str,
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    metadata: NewMetadata<'a>,
    tags: BTreeMap<&'a str, &'a str>,
}

#[derive(Debug, Serialize)]
struct NewMetadata<'a> {
    namespace: &'a str,
}

/// What gitops-iam reads of a `V1Agent` answer.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Agent {
    #[serde(default)]
    pub identifier: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub health: Option<Health>,
    #[serde(default)]
    pub credentials: Option<Credentials>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Health {
    #[serde(default)]
    pub connection_status: Option<String>,
    #[serde(default)]
    pub harness_gitops_agent: Option<ComponentHealth>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ComponentHealth {
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Credentials {
    #[serde(default, deserialize_with = "secret")]
    pub private_key: Option<SecretString>,
}

/// Straight into a `SecretString`: the key never sits in a plain `String` field.
fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<SecretString>, D::Error> {
    Ok(Option::<String>::deserialize(d)?
        .filter(|k| !k.is_empty())
        .map(SecretString::from))
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials { .. }")
    }
}

impl Agent {
    /// Connected and healthy: `health.connectionStatus` CONNECTED and
    /// `health.harnessGitopsAgent.status` HEALTHY (`V1ConnectedStatus`, `Servicev1HealthStatus`).
    pub(crate) fn connected(&self) -> bool {
        let h = self.health.as_ref();
        h.and_then(|h| h.connection_status.as_deref()) == Some("CONNECTED")
            && h.and_then(|h| h.harness_gitops_agent.as_ref())
                .and_then(|c| c.status.as_deref())
                == Some("HEALTHY")
    }

    /// The health in words: "CONNECTED, agent HEALTHY".
    pub(crate) fn health_text(&self) -> String {
        let h = self.health.as_ref();
        format!(
            "{}, agent {}",
            h.and_then(|h| h.connection_status.as_deref()).unwrap_or("no status"),
            h.and_then(|h| h.harness_gitops_agent.as_ref())
                .and_then(|c| c.status.as_deref())
                .unwrap_or("no status")
        )
    }

    pub(crate) fn created_by_us(&self) -> bool {
        self.tags.get(CREATED_BY.0).map(String::as_str) == Some(CREATED_BY.1)
    }

    pub(crate) fn private_key(self) -> Option<SecretString> {
        self.credentials.and_then(|c| c.private_key)
    }
}

/// The agent's own scope: `account.X` at account level, `org.X` at org level, else the project.
#[derive(Debug)]
struct Scope<'a> {
    identifier: &'a str,
    org: Option<&'a str>,
    project: Option<&'a str>,
}

impl Harness {
    fn agent_scope(&self) -> Scope<'_> {
        if let Some(id) = self.agent.strip_prefix("account.") {
            return Scope {
                identifier: id,
                org: None,
                project: None,
            };
        }
        if let Some(id) = self.agent.strip_prefix("org.") {
            return Scope {
                identifier: id,
                org: self.org.as_deref(),
                project: None,
            };
        }
        Scope {
            identifier: &self.agent,
            org: self.org.as_deref(),
            project: self.project.as_deref(),
        }
    }

    /// A project-level agent needs its org and project; an org-level one its org.
    pub(crate) fn check_agent_scope(&self) -> Result<()> {
        let s = self.agent_scope();
        if self.agent.starts_with("org.") && s.org.is_none() {
            return Err(Error::Usage(format!(
                "the org-level agent {} needs --harness-org",
                self.agent
            )));
        }
        if !self.agent.contains('.') && (s.org.is_none() || s.project.is_none()) {
            return Err(Error::Usage(format!(
                "the project-level agent {} needs --harness-org and --harness-project (or name an agent above project level account.ID or org.ID)",
                self.agent
            )));
        }
        Ok(())
    }

    fn agent_query(&self) -> String {
        let s = self.agent_scope();
        let account = enc(&self.account);
        let mut q = format!("accountIdentifier={account}&routingId={account}");
        if let Some(org) = s.org {
            q.push_str(&format!("&orgIdentifier={}", enc(org)));
        }
        if let Some(project) = s.project {
            q.push_str(&format!("&projectIdentifier={}", enc(project)));
        }
        q
    }

    fn agents_url(&self) -> String {
        format!("{}/gitops/api/v1/agents", self.base_url.trim_end_matches('/'))
    }

    pub(crate) fn get_agent(&self) -> HttpRequest {
        let s = self.agent_scope();
        let url = format!("{}/{}?{}", self.agents_url(), enc(s.identifier), self.agent_query());
        self.request(
            Method::Get,
            url,
            None,
            format!("read Harness GitOps agent {}", self.agent),
            Effect::Read,
        )
    }

    pub(crate) fn create_agent(&self, namespace: &str) -> HttpRequest {
        let s = self.agent_scope();
        let body = NewAgent {
            account_identifier: &self.account,
            org_identifier: s.org,
            project_identifier: s.project,
            identifier: s.identifier,
            name: s.identifier,
            kind: "MANAGED_ARGO_PROVIDER",
            metadata: NewMetadata { namespace },
            tags: BTreeMap::from([CREATED_BY]),
        };
        let json = serde_json::to_string(&body).expect("a plain struct serialises");
        // harness-go-sdk sends the account as routingId here too (body.AccountIdentifier).
        let url = format!("{}?routingId={}", self.agents_url(), enc(&self.account));
        let mut req = self.request(
            Method::Post,
            url,
            Some(Arg::from(json.as_str())),
            format!("create Harness GitOps agent {}", self.agent),
            Effect::Mutate,
        );
        // The answer holds the agent's private key: a script does not print it.
        req.output = Some(crate::http::DISCARD.into());
        req
    }

    pub(crate) fn delete_agent(&self) -> HttpRequest {
        let s = self.agent_scope();
        let url = format!("{}/{}?{}", self.agents_url(), enc(s.identifier), self.agent_query());
        self.request(
            Method::Delete,
            url,
            None,
            format!("delete Harness GitOps agent {}", self.agent),
            Effect::Mutate,
        )
    }

    /// `GET .../deploy.yaml`, saved to `output`. Without `private_key` Harness regenerates the
    /// agent's token: that request is a mutation.
    pub(crate) fn deploy_yaml(
        &self,
        namespace: &str,
        private_key: Option<SecretString>,
        output: PathBuf,
    ) -> HttpRequest {
        let s = self.agent_scope();
        let url = format!(
            "{}/{}/deploy.yaml?{}&namespace={}",
            self.agents_url(),
            enc(s.identifier),
            self.agent_query(),
            enc(namespace)
        );
        let (effect, purpose) = match &private_key {
            Some(_) => (
                Effect::Read,
                format!("download the install manifest of Harness GitOps agent {}", self.agent),
            ),
            None => (
                Effect::Mutate,
                format!(
                    "download the install manifest of Harness GitOps agent {} (with a new token)",
                    self.agent
                ),
            ),
        };
        let mut req = self.request(Method::Get, url, None, purpose, effect);
        req.secret_param = private_key.map(|value| SecretParam {
            name: "privateKey",
            value,
            var: PRIVATE_KEY_VAR,
        });
        req.output = Some(output);
        req
    }

    /// The agent, or `None` when Harness has none: a 404 (any 404, as terraform-provider-harness
    /// `resource_gitops_agent.go` reads an agent: unlike a cluster's, an agent's path has no
    /// other thing that could be missing), or a 2xx without an identifier. Any other answer is an
    /// error.
    pub(crate) fn parse_agent(&self, req: &HttpRequest, resp: &HttpResponse) -> Result<Option<Agent>> {
        match resp.status {
            404 => Ok(None),
            200..=299 => {
                let agent: Agent = serde_json::from_str(&resp.body).map_err(|e| Error::Parse {
                    command: req.to_string(),
                    reason: e.to_string(),
                })?;
                Ok(Some(agent).filter(|a| !a.identifier.is_empty()))
            }
            _ => Err(self.api_error(req, resp)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn harness(agent: &str) -> Harness {
        Harness {
            base_url: "https://app.harness.io/gateway".into(),
            account: "acc1".into(),
            org: Some("default".into()),
            project: Some("gitops".into()),
            agent: agent.into(),
            api_key: Some(SecretString::from("pat.x")),
        }
    }

    #[test]
    fn create_sends_a_v1_agent_at_the_agents_scope() {
        let req = harness("myagent").create_agent("iam");
        assert_eq!(
            req.url,
            "https://app.harness.io/gateway/gitops/api/v1/agents?routingId=acc1"
        );
        let body: Value = serde_json::from_str(&req.body.unwrap().value()).unwrap();
        assert_eq!(
            body,
            json!({"accountIdentifier": "acc1", "orgIdentifier": "default", "projectIdentifier": "gitops",
                   "identifier": "myagent", "name": "myagent", "type": "MANAGED_ARGO_PROVIDER",
                   "metadata": {"namespace": "iam"}, "tags": {"created-by": "gitops-iam"}})
        );
        let body: Value =
            serde_json::from_str(&harness("account.shared").create_agent("iam").body.unwrap().value()).unwrap();
        assert_eq!(body["identifier"], "shared");
        assert!(body.get("orgIdentifier").is_none() && body.get("projectIdentifier").is_none());
    }

    #[test]
    fn get_delete_and_deploy_yaml_name_the_bare_identifier_and_its_scope() {
        let h = harness("org.shared");
        assert_eq!(
            h.get_agent().url,
            "https://app.harness.io/gateway/gitops/api/v1/agents/shared?accountIdentifier=acc1&routingId=acc1&orgIdentifier=default"
        );
        assert_eq!(h.delete_agent().url, h.get_agent().url);
        let fresh = h.deploy_yaml("iam", None, "s/a.yaml".into());
        assert_eq!(fresh.effect, Effect::Mutate);
        assert!(fresh.url.ends_with(
            "/agents/shared/deploy.yaml?accountIdentifier=acc1&routingId=acc1&orgIdentifier=default&namespace=iam"
        ));
        let again = h.deploy_yaml("iam", Some(SecretString::from("S3CR3T")), "s/a.yaml".into());
        assert_eq!(again.effect, Effect::Read);
        assert!(!again.to_string().contains("S3CR3T"), "{again}");
        assert!(!format!("{again:?}").contains("S3CR3T"));
        assert!(
            again.to_string().contains("'&privateKey='\"${AGENT_PRIVATE_KEY}\""),
            "{again}"
        );
    }

    #[test]
    fn a_project_agent_needs_org_and_project() {
        let mut h = harness("myagent");
        assert!(h.check_agent_scope().is_ok());
        h.project = None;
        assert!(
            h.check_agent_scope()
                .unwrap_err()
                .to_string()
                .contains("--harness-project")
        );
        assert!(harness("account.x").check_agent_scope().is_ok());
    }

    #[test]
    fn health_and_absence() {
        let h = harness("account.x");
        let req = h.get_agent();
        let resp = |status, body: &str| HttpResponse {
            status,
            body: body.into(),
        };
        let missing = resp(
            404,
            r#"{"error":"agent x not found","code":5,"message":"agent x not found","details":[]}"#,
        );
        assert!(h.parse_agent(&req, &missing).unwrap().is_none());
        assert!(h.parse_agent(&req, &resp(200, "{}")).unwrap().is_none());
        assert!(h.parse_agent(&req, &resp(404, "")).unwrap().is_none());
        assert!(h.parse_agent(&req, &resp(403, "{}")).is_err());
        let a = h
            .parse_agent(
                &req,
                &resp(
                    200,
                    r#"{"identifier":"x","tags":{"created-by":"gitops-iam"},"health":{"connectionStatus":"CONNECTED","harnessGitopsAgent":{"status":"HEALTHY"}},"credentials":{"privateKey":"S3CR3T"}}"#,
                ),
            )
            .unwrap()
            .unwrap();
        assert!(a.connected() && a.created_by_us());
        assert!(!format!("{a:?}").contains("S3CR3T"));
        let d = h
            .parse_agent(
                &req,
                &resp(
                    200,
                    r#"{"identifier":"x","health":{"connectionStatus":"DISCONNECTED"}}"#,
                ),
            )
            .unwrap()
            .unwrap();
        assert!(!d.connected() && !d.created_by_us());
        assert_eq!(d.health_text(), "DISCONNECTED, agent no status");
    }
}

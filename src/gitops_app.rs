//! A sample application in Harness GitOps: the repository it comes from, the application that
//! deploys it into a registered cluster, its sync, and what Harness says about its state.
//!
//! `register` makes the testing cluster reachable; nothing proves the chain works until the agent
//! deploys something through it. The guestbook of `argoproj/argocd-example-apps` is the smallest
//! thing that does: one Deployment and one Service. The shapes follow Harness's published OpenAPI
//! client (PyPI `harness-open-api`: `RepositoriesRepoCreateRequest`,
//! `ApplicationsApplicationCreateRequest`, `ApplicationsApplicationSyncRequest`,
//! `Servicev1Application`) and terraform-provider-harness (`harness_platform_gitops_repository`,
//! `harness_platform_gitops_applications`); docs/app.md lists what could not be confirmed offline.
//! Bodies are typed structs, serialised once with `Arg` markers for run-time values.

use crate::cmd::{Arg, Effect};
use crate::error::{Error, Result};
use crate::harness::{Harness, enc};
use crate::http::{HttpRequest, HttpResponse, Method};
use serde::Serialize;
use serde_json::Value;

/// The sample: `https://github.com/argoproj/argocd-example-apps`, path `guestbook`.
pub(crate) const REPO_URL: &str = "https://github.com/argoproj/argocd-example-apps";
pub(crate) const REPO_PATH: &str = "guestbook";
pub(crate) const REVISION: &str = "HEAD";
/// The repository's identifier in Harness (a Harness identifier: no `-`).
pub(crate) const REPO_ID: &str = "argocd_example_apps";
/// Where the guestbook goes in the testing cluster.
pub(crate) const DEST_NAMESPACE: &str = "default";
/// The Deployment that says whether it runs.
pub(crate) const DEPLOYMENT: &str = "guestbook-ui";

/// One application: its name, the registered cluster it targets, and that cluster's API server.
#[derive(Clone, Debug)]
pub(crate) struct AppSpec {
    pub name: String,
    pub cluster_id: String,
    pub server: Arg,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RepoCreate<'a> {
    repo: Repository<'a>,
    upsert: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Repository<'a> {
    repo: &'a str,
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    connection_type: &'a str,
}

#[derive(Serialize)]
struct AppCreate {
    application: Application,
    upsert: bool,
}

#[derive(Serialize)]
struct Application {
    metadata: Metadata,
    spec: Spec,
}

#[derive(Serialize)]
struct Metadata {
    name: String,
}

#[derive(Serialize)]
struct Spec {
    project: &'static str,
    source: Source,
    destination: Destination,
}

/// Where the guestbook comes from (`ApplicationsApplicationSource`, Argo CD's `spec.source`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Source {
    #[serde(rename = "repoURL")]
    repo_url: &'static str,
    path: &'static str,
    target_revision: &'static str,
}

impl Source {
    pub(crate) fn guestbook() -> Source {
        Source {
            repo_url: REPO_URL,
            path: REPO_PATH,
            target_revision: REVISION,
        }
    }
}

#[derive(Serialize)]
struct Destination {
    server: String,
    namespace: &'static str,
}

#[derive(Serialize)]
struct SyncRequest<'a> {
    name: &'a str,
    prune: bool,
}

/// What Harness says of an application: `app.status.sync.status`, `app.status.health.status`,
/// `app.status.operationState` (phase and message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AppState {
    pub sync: String,
    pub health: String,
    pub phase: Option<String>,
    pub message: String,
}

impl AppState {
    /// A Harness `Servicev1Application`: Argo CD's status is under `app.status`.
    pub(crate) fn of(app: &Value) -> AppState {
        AppState::of_status(&app["app"]["status"])
    }

    /// Argo CD's `Application.status`.
    pub(crate) fn of_status(status: &Value) -> AppState {
        let text = |v: &Value| v.as_str().unwrap_or("").to_string();
        AppState {
            sync: text(&status["sync"]["status"]),
            health: text(&status["health"]["status"]),
            phase: status["operationState"]["phase"].as_str().map(str::to_string),
            message: text(&status["operationState"]["message"]),
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.sync == "Synced" && self.health == "Healthy" && self.phase.as_deref() != Some("Running")
    }

    /// Argo CD's operation phases that end a sync without success.
    pub(crate) fn failed(&self) -> bool {
        matches!(self.phase.as_deref(), Some("Error" | "Failed"))
    }

    pub(crate) fn line(&self) -> String {
        let or = |s: &str| if s.is_empty() { "-".to_string() } else { s.to_string() };
        format!(
            "sync {}, health {}{}",
            or(&self.sync),
            or(&self.health),
            self.phase
                .as_deref()
                .map(|p| format!(", operation {p}"))
                .unwrap_or_default()
        )
    }
}

impl Harness {
    fn item_url(&self, collection: &str, name: &str, extra: &str) -> String {
        format!(
            "{}/{}{extra}?{}",
            self.agent_url(collection),
            enc(name),
            self.query(None)
        )
    }

    pub(crate) fn get_repository(&self) -> HttpRequest {
        self.request(
            Method::Get,
            self.item_url("repositories", REPO_ID, ""),
            None,
            format!("read Harness GitOps repository {REPO_ID}"),
            Effect::Read,
        )
    }

    pub(crate) fn create_repository(&self) -> HttpRequest {
        let body = RepoCreate {
            repo: Repository {
                repo: REPO_URL,
                name: "argocd-example-apps",
                kind: "git",
                connection_type: "HTTPS_ANONYMOUS",
            },
            upsert: true,
        };
        self.request(
            Method::Post,
            format!("{}?{}", self.agent_url("repositories"), self.query(Some(REPO_ID))),
            Some(Arg::from(serde_json::to_string(&body).expect("serialisable"))),
            format!("add repository {REPO_URL} to Harness GitOps agent {}", self.agent),
            Effect::Mutate,
        )
    }

    pub(crate) fn delete_repository(&self) -> HttpRequest {
        self.request(
            Method::Delete,
            self.item_url("repositories", REPO_ID, ""),
            None,
            format!("remove Harness GitOps repository {REPO_ID}"),
            Effect::Mutate,
        )
    }

    pub(crate) fn get_application(&self, name: &str) -> HttpRequest {
        self.request(
            Method::Get,
            self.item_url("applications", name, ""),
            None,
            format!("read Harness GitOps application {name}"),
            Effect::Read,
        )
    }

    pub(crate) fn create_application(&self, app: &AppSpec) -> HttpRequest {
        let body = AppCreate {
            application: Application {
                metadata: Metadata { name: app.name.clone() },
                spec: Spec {
                    project: "default",
                    source: Source::guestbook(),
                    destination: Destination {
                        server: app.server.template(),
                        namespace: DEST_NAMESPACE,
                    },
                },
            },
            upsert: true,
        };
        // terraform-provider-harness sends the cluster and repository as query parameters.
        let url = format!(
            "{}?{}&clusterIdentifier={}&repoIdentifier={}",
            self.agent_url("applications"),
            self.query(None),
            enc(&app.cluster_id),
            enc(REPO_ID)
        );
        self.request(
            Method::Post,
            url,
            Some(Arg::from_template(&serde_json::to_string(&body).expect("serialisable"))),
            format!(
                "create GitOps application {} for cluster {} in Harness GitOps agent {}",
                app.name, app.cluster_id, self.agent
            ),
            Effect::Mutate,
        )
    }

    pub(crate) fn sync_application(&self, name: &str) -> HttpRequest {
        let body = SyncRequest { name, prune: false };
        self.request(
            Method::Post,
            self.item_url("applications", name, "/sync"),
            Some(Arg::from(serde_json::to_string(&body).expect("serialisable"))),
            format!("sync GitOps application {name}"),
            Effect::Mutate,
        )
    }

    pub(crate) fn delete_application(&self, name: &str) -> HttpRequest {
        // cascade: Argo CD removes what the application deployed, as the UI's default delete does.
        self.request(
            Method::Delete,
            format!("{}&request.cascade=true", self.item_url("applications", name, "")),
            None,
            format!("remove Harness GitOps application {name}"),
            Effect::Mutate,
        )
    }

    /// The entity of a GET, if any: absent is a 404 with a not-found code, or a 200 without
    /// `field` (as for clusters: the real answer for a missing entity is not confirmed offline).
    pub(crate) fn parse_entity(&self, req: &HttpRequest, resp: &HttpResponse, field: &str) -> Result<Option<Value>> {
        match resp.status {
            404 if crate::harness::is_not_found(resp) => Ok(None),
            200..=299 => {
                let v: Value = serde_json::from_str(&resp.body).map_err(|e| Error::Parse {
                    command: req.to_string(),
                    reason: e.to_string(),
                })?;
                let present = v.get(field).is_some_and(|f| !f.is_null());
                Ok(present.then_some(v))
            }
            _ => Err(self.api_error(req, resp)),
        }
    }
}

/// Whether the registered repository is the sample's.
pub(crate) fn repository_matches(current: &Value) -> bool {
    current["repository"]["repo"].as_str() == Some(REPO_URL)
}

/// The fields of an application that differ from the desired ones (real runs: values known).
pub(crate) fn application_differences(current: &Value, app: &AppSpec) -> Vec<String> {
    let spec = &current["app"]["spec"];
    let checks = [
        (
            "source.repoURL",
            spec["source"]["repoURL"].as_str(),
            REPO_URL.to_string(),
        ),
        ("source.path", spec["source"]["path"].as_str(), REPO_PATH.to_string()),
        (
            "source.targetRevision",
            spec["source"]["targetRevision"].as_str(),
            REVISION.to_string(),
        ),
        (
            "destination.server",
            spec["destination"]["server"].as_str(),
            app.server.value(),
        ),
        (
            "destination.namespace",
            spec["destination"]["namespace"].as_str(),
            DEST_NAMESPACE.to_string(),
        ),
        (
            "clusterIdentifier",
            current["clusterIdentifier"].as_str(),
            app.cluster_id.clone(),
        ),
    ];
    crate::harness::field_differences(checks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::Val;
    use secrecy::SecretString;
    use serde_json::json;

    fn harness() -> Harness {
        Harness {
            base_url: "https://app.harness.io/gateway".into(),
            account: "acc123".into(),
            org: Some("default".into()),
            project: Some("proj_1".into()),
            agent: "myagent".into(),
            api_key: Some(SecretString::from("pat.x.y")),
        }
    }

    fn spec(server: Arg) -> AppSpec {
        AppSpec {
            name: "guestbook".into(),
            cluster_id: "testing".into(),
            server,
        }
    }

    #[test]
    fn request_shapes_follow_the_open_api_client() {
        let h = harness();
        let q = "accountIdentifier=acc123&routingId=acc123&orgIdentifier=default&projectIdentifier=proj_1";
        let base = "https://app.harness.io/gateway/gitops/api/v1/agents/myagent";
        assert_eq!(h.get_repository().url, format!("{base}/repositories/{REPO_ID}?{q}"));
        assert_eq!(
            h.create_repository().url,
            format!("{base}/repositories?{q}&identifier={REPO_ID}")
        );
        let repo: Value = serde_json::from_str(&h.create_repository().body.unwrap().value()).unwrap();
        assert_eq!(
            repo,
            json!({"repo": {"repo": REPO_URL, "name": "argocd-example-apps", "type": "git",
                "connectionType": "HTTPS_ANONYMOUS"}, "upsert": true})
        );
        let create = h.create_application(&spec(Arg::from("https://ABC.eks.amazonaws.com")));
        assert_eq!(
            create.url,
            format!("{base}/applications?{q}&clusterIdentifier=testing&repoIdentifier={REPO_ID}")
        );
        let app: Value = serde_json::from_str(&create.body.unwrap().value()).unwrap();
        assert_eq!(
            app,
            json!({"application": {"metadata": {"name": "guestbook"}, "spec": {"project": "default",
                "source": {"repoURL": REPO_URL, "path": "guestbook", "targetRevision": "HEAD"},
                "destination": {"server": "https://ABC.eks.amazonaws.com", "namespace": "default"}}},
                "upsert": true})
        );
        assert_eq!(
            h.sync_application("guestbook").url,
            format!("{base}/applications/guestbook/sync?{q}")
        );
        assert_eq!(
            h.delete_application("guestbook").url,
            format!("{base}/applications/guestbook?{q}&request.cascade=true")
        );
    }

    #[test]
    fn dry_run_body_refers_to_the_endpoint_variable() {
        let req = harness().create_application(&spec(Arg::from(Val::var("TESTING_ENDPOINT"))));
        let text = req.to_string();
        assert!(text.contains(r#""server":"'"${TESTING_ENDPOINT}"'""#), "{text}");
        assert!(!text.contains("pat.x.y"));
    }

    #[test]
    fn state_and_differences() {
        let current = json!({"name": "guestbook", "clusterIdentifier": "testing", "app": {"spec": {
            "source": {"repoURL": REPO_URL, "path": "guestbook", "targetRevision": "HEAD"},
            "destination": {"server": "https://OLD", "namespace": "default"}},
            "status": {"sync": {"status": "Synced"}, "health": {"status": "Healthy"},
                "operationState": {"phase": "Succeeded", "message": "ok"}}}});
        let s = AppState::of(&current);
        assert!(s.is_done() && !s.failed(), "{s:?}");
        assert_eq!(s.line(), "sync Synced, health Healthy, operation Succeeded");
        assert_eq!(
            application_differences(&current, &spec(Arg::from("https://NEW"))),
            vec![r#"destination.server: "https://OLD" -> "https://NEW""#.to_string()]
        );
        let failed = AppState::of(&json!({"app": {"status": {"operationState": {"phase": "Error", "message": "x"}}}}));
        assert!(failed.failed() && !failed.is_done());
    }
}

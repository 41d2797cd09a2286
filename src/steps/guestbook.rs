//! `app guestbook`: deploy Argo CD's guestbook sample through the agent, and wait for it.
//!
//! Every other step checks documents and links; this one has the agent do its job. It registers
//! the sample repository and an application targeting the registered testing cluster, syncs it,
//! and waits until Harness reports it Synced and Healthy: the agent took its service account's
//! token, assumed the agent role, assumed the Deployer, signed an EKS token and deployed. When
//! a link is broken the agent's own error is shown, with the command that walks the chain hop by
//! hop (`verify --live`).
//!
//! Observe, then act, as everywhere: a converged run reads the repository and the application
//! and sends nothing. A sync is sent only when the application is not Synced and Healthy (and no
//! sync is already running).

use super::Ctx;
use crate::error::{Error, Result};
use crate::exec::Scripted;
use crate::gitops_app::{self, AppSpec, AppState};
use crate::harness::Harness;
use crate::registration::Registration;
use crate::report::Changes;
use crate::settings::TestingTarget;
use std::time::{Duration, Instant};

/// How often Harness is asked about a running sync: soon at first, then every 2 s.
const FIRST_POLL: Duration = Duration::from_millis(250);
const POLL: Duration = Duration::from_secs(2);
/// A dry-run's script reads the application this often.
const SCRIPT_POLL: Duration = Duration::from_secs(5);

/// The application's name: `guestbook`, or `guestbook-CLUSTER` for each cluster of a fleet.
pub(crate) fn app_name(ctx: &Ctx<'_>, t: &TestingTarget) -> String {
    if ctx.settings.testing.len() == 1 {
        "guestbook".to_string()
    } else {
        format!("guestbook-{}", t.cluster.as_str().to_ascii_lowercase())
    }
}

/// The registration flags of a follow-up command (`verify --live`), as the user gave them.
fn registration_flags(h: &Harness, cluster_id: &Option<String>) -> String {
    let mut out = format!("--harness-account {} --agent-id {}", h.account, h.agent);
    for (flag, v) in [
        ("--harness-org", &h.org),
        ("--harness-project", &h.project),
        ("--cluster-id", cluster_id),
    ] {
        if let Some(v) = v {
            out.push_str(&format!(" {flag} {v}"));
        }
    }
    if h.base_url != crate::harness::DEFAULT_URL {
        out.push_str(&format!(" --harness-url {}", crate::cmd::quote(&h.base_url)));
    }
    out
}

/// What the agent's message means, when it names a link of the chain.
pub(crate) fn cause(message: &str) -> Option<&'static str> {
    [
        (
            "sts:AssumeRoleWithWebIdentity",
            "the agent role does not trust the agent's service account (or the OIDC provider is missing)",
        ),
        (
            "No OpenIDConnect provider",
            "IAM has no OIDC provider for the management cluster's issuer",
        ),
        (
            "sts:AssumeRole on resource",
            "the agent role cannot assume the Deployer role: the Deployer's trust must name the agent role, and the agent role's policy must allow sts:AssumeRole on it",
        ),
        (
            "provide credentials",
            "the testing cluster maps the Deployer role to no user (aws-auth or an access entry)",
        ),
        ("forbidden", "the Deployer role is mapped, but not as a cluster admin"),
    ]
    .into_iter()
    .find(|(needle, _)| message.contains(needle))
    .map(|(_, why)| why)
}

async fn repository(ctx: &Ctx<'_>, h: &Harness) -> Result<()> {
    ctx.report
        .step(&format!("app: repository {}", gitops_app::REPO_ID), async {
            let mut changes = Changes::none();
            let get = h.get_repository();
            let current = match ctx.exec.http_observe(&get).await? {
                Some(resp) => h.parse_entity(&get, &resp, "repository")?,
                None => None,
            };
            if current.as_ref().is_some_and(gitops_app::repository_matches) {
                return Ok((changes, ()));
            }
            let post = h.create_repository();
            let resp = ctx.exec.http_run(&post).await?;
            if !(200..300).contains(&resp.status) {
                return Err(h.api_error(&post, &resp));
            }
            changes.push(format!(
                "{} repository {} in Harness",
                if current.is_some() { "updated" } else { "added" },
                gitops_app::REPO_URL
            ));
            Ok((changes, ()))
        })
        .await
}

/// The registered cluster's server (what the application's destination must name).
async fn registered_server(ctx: &Ctx<'_>, h: &Harness, cluster_id: &str, t: &TestingTarget) -> Result<crate::cmd::Arg> {
    let get = h.get_cluster(cluster_id);
    let cluster = match ctx.exec.http_observe(&get).await? {
        Some(resp) => h.parse_get(&get, &resp)?,
        None => None,
    };
    match cluster.as_ref().and_then(|c| c["server"].as_str()) {
        Some(server) => Ok(crate::cmd::Arg::from(server)),
        // A dry-run, or a plan of `up --with-guestbook`: the registration is planned too; it
        // names this endpoint.
        None if !ctx.exec.waits() => Ok(super::register::endpoint_and_ca(ctx, t).await?.0.into()),
        None => Err(Error::Precondition {
            missing: vec![format!(
                "Harness cluster {cluster_id} (the testing cluster's registration)"
            )],
            run_first: vec![format!(
                "{} {}",
                ctx.settings.suggest("register"),
                registration_flags(h, &Some(cluster_id.to_string()))
            )],
        }),
    }
}

async fn application(
    ctx: &Ctx<'_>,
    h: &Harness,
    cluster_id: &Option<String>,
    t: &TestingTarget,
    timeout: Duration,
) -> Result<()> {
    let name = app_name(ctx, t);
    let id = Registration::harness_cluster_id(cluster_id, t.cluster.as_str(), ctx.settings.testing.len());
    ctx.report
        .step(&format!("app: application {name}"), async {
            let mut changes = Changes::none();
            let app = AppSpec {
                name: name.clone(),
                cluster_id: id.clone(),
                server: registered_server(ctx, h, &id, t).await?,
            };
            let get = h.get_application(&name);
            let current = match ctx.exec.http_observe(&get).await? {
                Some(resp) => h.parse_entity(&get, &resp, "app")?,
                None => None,
            };
            let diffs = current.as_ref().map(|c| gitops_app::application_differences(c, &app));
            let mut state = current.as_ref().map(AppState::of);
            if diffs.as_ref().is_none_or(|d| !d.is_empty()) {
                if let Some(d) = &diffs {
                    ctx.report
                        .info(&format!("application {name} differs:\n  {}", d.join("\n  ")));
                }
                let post = h.create_application(&app);
                let resp = ctx.exec.http_run(&post).await?;
                if !(200..300).contains(&resp.status) {
                    return Err(h.api_error(&post, &resp));
                }
                changes.push(format!(
                    "{} application {name} for cluster {id}",
                    if current.is_some() { "updated" } else { "created" }
                ));
                state = None;
            }
            if state.as_ref().is_some_and(AppState::is_done) {
                return Ok((changes, ()));
            }
            if state.as_ref().and_then(|s| s.phase.as_deref()) != Some("Running") {
                let sync = h.sync_application(&name);
                let resp = ctx.exec.http_run(&sync).await?;
                if !(200..300).contains(&resp.status) {
                    return Err(h.api_error(&sync, &resp));
                }
                changes.push(format!("synced {name}"));
            }
            wait(ctx, h, &name, &id, cluster_id, timeout).await?;
            Ok((changes, ()))
        })
        .await
}

/// Polls the application until it is Synced and Healthy, its operation failed, or `timeout`.
async fn wait(
    ctx: &Ctx<'_>,
    h: &Harness,
    name: &str,
    cluster: &str,
    cluster_id: &Option<String>,
    timeout: Duration,
) -> Result<()> {
    let get = h.get_application(name);
    let script = Scripted::Until {
        test: format!("{get} | grep -q '\"Healthy\"'"),
        within: timeout,
        every: SCRIPT_POLL,
        failure: format!(
            "application {name} not Healthy after {}",
            humantime::format_duration(timeout)
        ),
    };
    let watch = Watch {
        name: name.to_string(),
        shown: format!(
            "Harness shows it under GitOps > Applications > {name} (agent {})",
            h.agent
        ),
        look: format!(
            "Harness, GitOps > Applications > {name} (agent {}, cluster {cluster})",
            h.agent
        ),
        verify: format!(
            "{} {}",
            ctx.settings.suggest("verify --live"),
            registration_flags(h, cluster_id)
        ),
    };
    let run = async {
        if !ctx.exec.waits() {
            return Ok(());
        }
        poll(ctx, &watch, timeout, || async {
            let resp = ctx.exec.http_observe(&get).await?.expect("a real run answers");
            Ok(h.parse_entity(&get, &resp, "app")?
                .map(|a| AppState::of(&a))
                .unwrap_or(AppState {
                    sync: String::new(),
                    health: String::new(),
                    phase: None,
                    message: "the application is gone".into(),
                }))
        })
        .await
    };
    ctx.exec.either(script, run).await?;
    Ok(())
}

/// A waited-for application: where it is shown once Healthy, where to look when it is not, and
/// the `verify --live` command that walks the chain.
pub(crate) struct Watch {
    pub name: String,
    pub shown: String,
    pub look: String,
    pub verify: String,
}

/// Reads the application's state with `read` until it is Synced and Healthy, its operation
/// failed, or `timeout`; each change of state is a progress line.
pub(crate) async fn poll<F, Fut>(ctx: &Ctx<'_>, w: &Watch, timeout: Duration, mut read: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<AppState>>,
{
    let name = &w.name;
    let started = Instant::now();
    let mut last = String::new();
    let mut pause = FIRST_POLL;
    loop {
        let state = read().await?;
        let line = state.line();
        if line != last {
            ctx.report.info(&format!("application {name}: {line}"));
            last = line;
        }
        if state.is_done() {
            ctx.report.info(&format!(
                "application {name} is Synced and Healthy: {}; in the testing cluster: kubectl get deployment {} -n {}",
                w.shown,
                gitops_app::DEPLOYMENT,
                gitops_app::DEST_NAMESPACE
            ));
            return Ok(());
        }
        let timed_out = started.elapsed() >= timeout;
        if state.failed() || timed_out {
            let why = cause(&state.message).map(|w| format!("{w}\n  ")).unwrap_or_default();
            return Err(Error::Sync {
                app: name.clone(),
                state: if timed_out && !state.failed() {
                    format!("{} after {}", state.line(), humantime::format_duration(timeout))
                } else {
                    state.line()
                },
                message: if state.message.is_empty() {
                    "(no message)".into()
                } else {
                    state.message.clone()
                },
                hint: format!(
                    "{why}look: {}\n  next: walk the IRSA chain hop by hop, then re-run this command:\n    {}",
                    w.look, w.verify
                ),
            });
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(POLL);
    }
}

/// The whole `app guestbook` command (and the end of `up --with-guestbook`).
pub(crate) async fn run(ctx: &Ctx<'_>, reg: &Registration, timeout: Duration) -> Result<()> {
    let Registration::Harness {
        harness: h,
        cluster_id,
        api_key_file,
    } = reg
    else {
        return super::guestbook_argocd::run(ctx, timeout).await;
    };
    if let Some(file) = api_key_file {
        ctx.exec.script_only(&format!(
            "{}=\"$(cat {})\"",
            crate::http::API_KEY_VAR,
            crate::cmd::quote(&file.to_string_lossy())
        ));
    }
    repository(ctx, h).await?;
    let results = futures_util::future::join_all(
        ctx.settings
            .testing
            .iter()
            .map(|t| application(ctx, h, cluster_id, t, timeout)),
    )
    .await;
    super::all(results).map(|_| ())
}

/// `down`: the applications, then the repository, before the cluster registration goes.
pub(crate) async fn remove(ctx: &Ctx<'_>, h: &Harness) -> Result<()> {
    for t in &ctx.settings.testing {
        let name = app_name(ctx, t);
        ctx.report
            .step(&format!("down: application {name}"), async {
                let mut changes = Changes::none();
                if present(ctx, h, &h.get_application(&name), "app").await? {
                    delete(ctx, h, &h.delete_application(&name)).await?;
                    changes.push(format!("removed Harness GitOps application {name}"));
                }
                Ok((changes, ()))
            })
            .await?;
    }
    ctx.report
        .step(&format!("down: repository {}", gitops_app::REPO_ID), async {
            let mut changes = Changes::none();
            if present(ctx, h, &h.get_repository(), "repository").await? {
                delete(ctx, h, &h.delete_repository()).await?;
                changes.push(format!("removed Harness GitOps repository {}", gitops_app::REPO_ID));
            }
            Ok((changes, ()))
        })
        .await
}

/// A DELETE; gone already (a 404 with a not-found code) is fine. A dry-run's script cannot know
/// whether `up` ran with `--with-guestbook`, so its line accepts a 404 too.
async fn delete(ctx: &Ctx<'_>, h: &Harness, del: &crate::http::HttpRequest) -> Result<()> {
    ctx.exec
        .either(Scripted::Lines(vec![del.script_accepting_not_found()]), async {
            let resp = ctx.exec.http_run(del).await?;
            if !(200..300).contains(&resp.status) && !crate::harness::is_not_found(&resp) {
                return Err(h.api_error(del, &resp));
            }
            Ok(())
        })
        .await?;
    Ok(())
}

/// Whether a GET finds the entity; always true in a dry-run (down's script removes everything).
async fn present(ctx: &Ctx<'_>, h: &Harness, get: &crate::http::HttpRequest, field: &str) -> Result<bool> {
    Ok(match ctx.exec.http_observe(get).await? {
        Some(resp) => h.parse_entity(get, &resp, field)?.is_some(),
        None => true,
    })
}

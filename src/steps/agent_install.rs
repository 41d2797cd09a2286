//! `agent install`: the Harness GitOps agent from nothing, without a manual download.
//!
//! Creates the agent in Harness when it does not exist, downloads its install manifest into
//! the state directory (0600: it holds the agent's token), applies it server-side as
//! `--agent-manifest` does, patches it as `agent patch` does, and waits until Harness reports
//! it connected.
//!
//! The token is the delicate part: downloading the manifest without the agent's private key
//! makes Harness regenerate the token, which cuts off an agent that runs with the old one. So
//! the download passes the key the agent was created with (first run) or the key the installed
//! agent holds in its Secret (every later run), and a re-run applies the manifest only when it
//! differs from the one applied before. An agent that is connected but not installed here is
//! left alone (it runs somewhere else).

use super::{Ctx, agent};
use crate::error::{Error, Result};
use crate::exec::Scripted;
use crate::harness::Harness;
use crate::harness_agent::{Agent, CREATED_BY, TOKEN_KEY, TOKEN_SECRET};
use crate::registration::Registration;
use crate::report::Changes;
use crate::tools::kubectl;
use base64::Engine as _;
use secrecy::SecretString;
use std::path::Path;
use std::time::{Duration, Instant};

/// How often the health is read while waiting.
const POLL: Duration = Duration::from_secs(2);

/// The agent's record in Harness: read it, create it when it is absent. Returns the record (when
/// it existed) and the private key of a newly created agent.
async fn record(ctx: &Ctx<'_>, h: &Harness) -> Result<(Option<Agent>, Option<SecretString>)> {
    ctx.report
        .step(&format!("agent: harness agent {}", h.agent), async {
            let get = h.get_agent();
            let current = match ctx.exec.http_observe(&get).await? {
                Some(resp) => h.parse_agent(&get, &resp)?,
                None => None,
            };
            let mut changes = Changes::none();
            if current.is_some() {
                return Ok((changes, (current, None)));
            }
            let post = h.create_agent(ctx.settings.namespace.as_str());
            let resp = ctx.exec.http_run(&post).await?;
            // Created meanwhile (another run, or a retried POST whose first answer was lost):
            // use it as it is.
            if resp.status == 409
                && let Some(resp) = ctx.exec.http_observe(&get).await?
                && let Some(agent) = h.parse_agent(&get, &resp)?
            {
                ctx.report.info(&format!(
                    "Harness GitOps agent {} was created meanwhile: using it",
                    h.agent
                ));
                return Ok((changes, (Some(agent), None)));
            }
            if !(200..300).contains(&resp.status) {
                return Err(h.api_error(&post, &resp));
            }
            changes.push(format!("created Harness GitOps agent {}", h.agent));
            // A dry-run or a plan only printed the POST: there is no answer to read.
            let key = if resp.body.trim().is_empty() {
                None
            } else {
                h.parse_agent(&post, &resp)?.and_then(Agent::private_key)
            };
            Ok((changes, (None, key)))
        })
        .await
}

/// The private key the installed agent holds (its token Secret), if it is installed.
async fn installed_key(ctx: &Ctx<'_>) -> Result<Option<SecretString>> {
    let k = ctx.mgmt_kubectl().await?;
    let ns = ctx.settings.namespace.as_str();
    let secret: Option<serde_json::Value> = ctx
        .observe(
            &k.get(Some(ns), "secret", TOKEN_SECRET),
            |o| kubectl::is_not_found(&o.stderr),
            crate::tools::parse_json,
        )
        .await?;
    Ok(secret
        .as_ref()
        .and_then(|s| s["data"][TOKEN_KEY].as_str())
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|key| !key.is_empty())
        .map(SecretString::from))
}

/// Writes the manifest readable by its owner only.
fn write_secret_file(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
    let fail = |e: std::io::Error| Error::Other(anyhow::anyhow!("writing {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(fail)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(fail)?;
    // An older file keeps its mode through open(): set it again.
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(fail)?;
    f.write_all(contents.as_bytes()).map_err(fail)
}

/// Downloads the manifest with the key the agent has, and applies it when it changed or the
/// agent's objects are missing.
async fn manifest(
    ctx: &Ctx<'_>,
    h: &Harness,
    existing: Option<&Agent>,
    created_key: Option<SecretString>,
) -> Result<()> {
    let s = ctx.settings;
    ctx.report
        .step("agent: manifest", async {
            let mut changes = Changes::none();
            let installed = if created_key.is_some() {
                None
            } else {
                installed_key(ctx).await?
            };
            if let Some(agent) = existing
                && installed.is_none()
                && agent.connected()
            {
                return Err(Error::AgentInUse {
                    agent: h.agent.clone(),
                    namespace: s.namespace.to_string(),
                    cluster: s.mgmt_cluster.to_string(),
                });
            }
            let key = created_key.or(installed);
            let path = s.agent_manifest_file(&h.agent);
            let req = h.deploy_yaml(s.namespace.as_str(), key, path.clone());
            let resp = match req.effect {
                crate::cmd::Effect::Read => ctx.exec.http_observe(&req).await?,
                crate::cmd::Effect::Mutate => Some(ctx.exec.http_run(&req).await?),
            };
            let body = match &resp {
                Some(r) if !(200..300).contains(&r.status) => return Err(h.api_error(&req, r)),
                Some(r) => r.body.clone(),
                None => String::new(),
            };
            // A real answer (a dry-run or a plan printed the download instead).
            let downloaded = !body.is_empty();
            let unchanged = downloaded && std::fs::read_to_string(&path).is_ok_and(|old| old == body);
            if downloaded && !unchanged {
                write_secret_file(&path, &body)?;
            }
            // Not known (a dry-run) counts as missing: the agent did not run before.
            let missing = agent::missing_objects(ctx, false).await?;
            if req.effect == crate::cmd::Effect::Mutate {
                changes.push(format!("downloaded the manifest of {} with a new token", h.agent));
            }
            if !unchanged || !missing.is_empty() {
                let k = ctx.mgmt_kubectl().await?;
                ctx.exec
                    .run(&k.apply_server_side(s.namespace.as_str(), &path, "the agent manifest"))
                    .await?;
                changes.push(format!("applied {}", path.display()));
                // A running agent read its token when it started: with a new token in its Secret
                // it must start again (a Secret change restarts nothing).
                let ran_before = missing.is_empty();
                if ran_before && req.effect == crate::cmd::Effect::Mutate {
                    let (_, kind, name) = agent::WORKLOADS[0];
                    ctx.exec
                        .run(&k.rollout_restart(s.namespace.as_str(), kind, name))
                        .await?;
                    changes.push(format!("restarted {kind} {name} (new token)"));
                }
            }
            Ok((changes, ()))
        })
        .await
}

/// Waits until Harness reports the agent connected and healthy, showing its health as it goes.
async fn connected(ctx: &Ctx<'_>, h: &Harness, wait: Duration) -> Result<()> {
    let get = h.get_agent();
    let script = Scripted::Until {
        test: format!("{get} | grep -Eq '\"connectionStatus\" *: *\"CONNECTED\"'"),
        within: wait,
        every: POLL,
        failure: format!(
            "Harness does not report GitOps agent {} connected after {}s",
            h.agent,
            wait.as_secs()
        ),
    };
    let title = format!("agent: connected to Harness ({})", h.agent);
    let run = ctx.report.step(&title, async {
        let start = Instant::now();
        let mut shown = String::new();
        loop {
            let agent = match ctx.exec.http_observe(&get).await? {
                Some(resp) => h.parse_agent(&get, &resp)?,
                None => None,
            };
            let health = agent
                .as_ref()
                .map_or_else(|| "no such agent".to_string(), Agent::health_text);
            if agent.as_ref().is_some_and(Agent::connected) {
                return Ok((Changes::none(), ()));
            }
            // A plan reads once: it does not wait for what it only printed.
            if !ctx.exec.polls() {
                ctx.report.info(&format!(
                    "Harness reports agent {}: {health}; a run waits until it is connected",
                    h.agent
                ));
                return Ok((Changes::none(), ()));
            }
            if start.elapsed() >= wait {
                return Err(Error::AgentNotConnected {
                    agent: h.agent.clone(),
                    namespace: ctx.settings.namespace.to_string(),
                    waited: humantime::format_duration(Duration::from_secs(start.elapsed().as_secs())).to_string(),
                    health,
                    rerun: ctx.settings.suggest("agent install ..."),
                });
            }
            if health != shown {
                ctx.report.info(&format!(
                    "waiting for Harness to report agent {} connected: {health} ({}s of {}s)",
                    h.agent,
                    start.elapsed().as_secs(),
                    wait.as_secs()
                ));
                shown = health;
            }
            tokio::time::sleep(POLL).await;
        }
    });
    ctx.exec.either(script, run).await?;
    Ok(())
}

/// `agent install`: what the agent needs (the management cluster, its role), then the install.
pub(crate) async fn command(ctx: &Ctx<'_>, reg: &Registration, wait: Duration) -> Result<()> {
    let Registration::Harness { harness, .. } = reg else {
        unreachable!("registration::for_command gives agent install a Harness registration")
    };
    super::needs::agent_patch(ctx).await?;
    super::register::script_reads_key(ctx, reg);
    run(ctx, harness, wait).await
}

/// The whole `agent install` (also `up`'s agent step when Harness settings are given and no
/// `--agent-manifest`).
pub(crate) async fn run(ctx: &Ctx<'_>, h: &Harness, wait: Duration) -> Result<()> {
    agent::namespace(ctx, false).await?;
    let (existing, created_key) = record(ctx, h).await?;
    manifest(ctx, h, existing.as_ref(), created_key).await?;
    agent::patch_workloads(ctx, wait).await?;
    connected(ctx, h, wait).await
}

/// `down`: deletes the agent's record in Harness when gitops-iam created it (its in-cluster
/// objects go with the cluster). Its clusters are deleted before, by the registration step.
pub(crate) async fn delete(ctx: &Ctx<'_>, h: &Harness) -> Result<()> {
    ctx.report
        .step(&format!("down: harness agent {}", h.agent), async {
            let mut changes = Changes::none();
            let get = h.get_agent();
            // The script cannot know who created the agent: it asks Harness, as a run does.
            let script = Scripted::If {
                test: format!("{get} | grep -Eq '\"{}\" *: *\"{}\"'", CREATED_BY.0, CREATED_BY.1),
                then: h.delete_agent().to_string(),
            };
            let deleted = ctx.exec.either(script, async {
                let ours = match ctx.exec.http_observe(&get).await? {
                    Some(resp) => h.parse_agent(&get, &resp)?.is_some_and(|a| a.created_by_us()),
                    None => false,
                };
                if ours {
                    let del = h.delete_agent();
                    let resp = ctx.exec.http_run(&del).await?;
                    if !(200..300).contains(&resp.status) && !crate::harness::is_not_found(&resp) {
                        return Err(h.api_error(&del, &resp));
                    }
                }
                Ok(ours)
            });
            match deleted.await? {
                Some(false) => {}
                Some(true) => changes.push(format!("deleted Harness GitOps agent {}", h.agent)),
                None => changes.push(format!(
                    "deleted Harness GitOps agent {} (if gitops-iam created it)",
                    h.agent
                )),
            }
            Ok((changes, ()))
        })
        .await
}

//! `app guestbook --to argocd`: the guestbook as an Argo CD `Application` in the agent's
//! namespace of the management cluster, reconciled by the agent's Argo CD.
//!
//! The Application declares automated sync, so applying it is the request; then its
//! `status.sync.status` / `status.health.status` (written by Argo CD's controller) are read until
//! Synced and Healthy, or until its operation fails, with the controller's own message. Its
//! destination is the server of the cluster Secret that `register --to argocd` wrote (the EKS
//! endpoint). A converged run reads the Application and applies nothing.

use super::Ctx;
use crate::error::{Error, Result};
use crate::exec::Scripted;
use crate::gitops_app::AppState;
use crate::render::Doc;
use crate::report::Changes;
use crate::settings::TestingTarget;
use crate::tools::kubectl;
use std::time::Duration;

async fn application(ctx: &Ctx<'_>, t: &TestingTarget, timeout: Duration) -> Result<()> {
    let s = ctx.settings;
    let ns = s.namespace.as_str();
    let name = super::guestbook::app_name(ctx, t);
    ctx.report
        .step(&format!("app: argocd application {name}"), async {
            let mut changes = Changes::none();
            let (server, _) = super::register::endpoint_and_ca(ctx, t).await?;
            let doc = Doc::ArgocdApplication {
                namespace: s.namespace.clone(),
                name: name.clone(),
                server,
            };
            let (path, desired) = ctx.write_doc(&format!("argocd-application-{name}"), &doc)?;
            ctx.ensure_mgmt_kubeconfig().await?;
            let k = ctx.mgmt_kubectl().await?;
            let get = k.get(Some(ns), "applications.argoproj.io", &name);
            let not_installed = |o: &crate::exec::Output| o.stderr.contains("the server doesn't have a resource type");
            let current = match ctx.exec.observe(&get).await? {
                None => None,
                Some(o) if o.status == Some(0) => Some(crate::tools::parse_json::<serde_json::Value>(&get.to_string(), &o.stdout)?),
                Some(o) if kubectl::is_not_found(&o.stderr) => None,
                Some(o) if not_installed(&o) => {
                    return Err(Error::State(format!(
                        "the management cluster {} has no Argo CD Application resource (applications.argoproj.io): install the agent (it brings Argo CD's CRDs), then re-run this command",
                        s.mgmt_cluster
                    )));
                }
                Some(o) => return Err(crate::exec::command_error(&get, &o)),
            };
            let converged = matches!((&current, &desired), (Some(c), Some(d)) if crate::argocd_app::matches(c, d));
            let done = converged && current.as_ref().is_some_and(|c| AppState::of_status(&c["status"]).is_done());
            if done {
                return Ok((changes, ()));
            }
            if !converged {
                ctx.exec.run(&k.apply(ns, &path, "the Argo CD Application")).await?;
                changes.push(format!(
                    "{} Argo CD application {name}",
                    if current.is_some() { "updated" } else { "created" }
                ));
            }
            let object = format!("applications.argoproj.io/{name}");
            let script = Scripted::Cmd(k.wait_for_field(ns, &object, ".status.health.status", "Healthy", timeout));
            ctx.exec.either(script, wait(ctx, &get, &name, timeout)).await?;
            Ok((changes, ()))
        })
        .await
}

async fn wait(ctx: &Ctx<'_>, get: &crate::cmd::Cmd, name: &str, timeout: Duration) -> Result<()> {
    if !ctx.exec.waits() {
        return Ok(());
    }
    let ns = &ctx.settings.namespace;
    let watch = super::guestbook::Watch {
        name: name.to_string(),
        shown: format!("kubectl -n {ns} get applications.argoproj.io {name} (management cluster)"),
        look: format!("kubectl -n {ns} get applications.argoproj.io {name} -o yaml (status.conditions)"),
        verify: format!("{} --to argocd", ctx.settings.suggest("verify --live")),
    };
    super::guestbook::poll(ctx, &watch, timeout, || async {
        let out = ctx.exec.observe(get).await?.expect("a real run answers");
        let app: serde_json::Value = crate::tools::parse_json(&get.to_string(), &out.stdout).unwrap_or_default();
        Ok(AppState::of_status(&app["status"]))
    })
    .await
}

/// `app guestbook --to argocd`, for every testing cluster.
pub(crate) async fn run(ctx: &Ctx<'_>, timeout: Duration) -> Result<()> {
    let results =
        futures_util::future::join_all(ctx.settings.testing.iter().map(|t| application(ctx, t, timeout))).await;
    super::all(results).map(|_| ())
}

/// `down --to argocd`: the guestbook Application(s), before the cluster Secret. No
/// Application resource in the cluster (Argo CD not installed) is nothing to remove.
pub(crate) async fn remove(ctx: &Ctx<'_>, k: &kubectl::Kubectl, t: &TestingTarget) -> Result<Option<String>> {
    let ns = ctx.settings.namespace.as_str();
    let name = super::guestbook::app_name(ctx, t);
    let get = k.get(Some(ns), "applications.argoproj.io", &name);
    let present = match ctx.exec.observe(&get).await? {
        Some(o) => o.status == Some(0),
        // Not known (a script cannot know whether `up` ran with --with-guestbook): the delete
        // has `--ignore-not-found`.
        None => true,
    };
    if !present {
        return Ok(None);
    }
    ctx.exec
        .run(
            &k.delete(ns, "applications.argoproj.io", &name)
                .arg("--ignore-not-found"),
        )
        .await?;
    Ok(Some(format!("deleted Argo CD application {name}")))
}

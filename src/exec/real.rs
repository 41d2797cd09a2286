//! The real run: commands run as processes, requests sent, with the read-ahead cache and the
//! captured values in front of them.

use super::children::Children;
use super::readahead::ReadAheadCache;
use super::{BoxFuture, Executor, Output, ReadAhead, Transform, command_error};
use crate::cmd::{Cmd, Val};
use crate::error::{Error, Result, Signal};
use crate::http::{HttpPolicy, HttpRequest, HttpResponse};
use crate::render::Render;
use crate::report::Reporter;
use crate::resource::Selector;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

pub(crate) struct RealExecutor<'r> {
    children: Children<'r>,
    read_ahead: ReadAheadCache,
    /// Values read once for the whole run (`ACCOUNT_ID`, `OIDC_PROVIDER`), by variable.
    captured: Mutex<HashMap<String, String>>,
    pub http_policy: HttpPolicy,
    /// How long a documented propagation error is waited out (`--propagation-timeout`).
    pub propagation_timeout: Duration,
}

impl<'r> RealExecutor<'r> {
    pub(crate) fn new(report: &'r Reporter) -> Self {
        RealExecutor {
            children: Children::new(report),
            read_ahead: ReadAheadCache::default(),
            captured: Mutex::new(HashMap::new()),
            http_policy: HttpPolicy::default(),
            propagation_timeout: crate::propagation::DEFAULT_TIMEOUT,
        }
    }

    /// Number of (mutating, all) commands run so far.
    pub(crate) fn counts(&self) -> (usize, usize) {
        self.children.counts()
    }

    /// After SIGINT, SIGTERM or SIGHUP: each running child gets the signal exactly once, and
    /// every command from now on counts as interrupted (see [`Children::interrupt`]).
    pub(crate) fn interrupt(&self, signal: Signal) {
        self.children.interrupt(signal);
    }

    /// The signal that stopped the run, if one did.
    pub(crate) fn interrupted_by(&self) -> Option<Signal> {
        self.children.interrupted_by()
    }

    fn report(&self) -> &Reporter {
        self.children.report
    }

    /// Drops what was read ahead about what `cmd` changes.
    fn invalidate(&self, cmd: &Cmd) {
        for what in cmd.changes() {
            self.read_ahead.forget(&what);
        }
    }

    /// Runs a command that must succeed, waiting out the documented "not yet" error it may meet
    /// (bounded by `--propagation-timeout`, each wait a progress line).
    async fn run_waiting_out(&self, cmd: &Cmd) -> Result<Output> {
        let started = std::time::Instant::now();
        let mut attempt = 0;
        loop {
            let out = self.children.spawn(cmd).await?;
            if out.success() {
                return Ok(out);
            }
            // Only the documented "not yet" error of this command is waited out.
            let Some(p) = cmd.retry.filter(|p| p.matches(&out.stderr)) else {
                return Err(command_error(cmd, &out));
            };
            attempt += 1;
            let pause = crate::propagation::backoff(attempt);
            let waited = started.elapsed();
            if waited + pause > self.propagation_timeout {
                let mut err = command_error(cmd, &out);
                if let Error::Command(c) = &mut err {
                    c.detail = Some(format!(
                        "exit status {}; still refused after waiting {} for {} (--propagation-timeout {}): check that the principal exists, then re-run",
                        out.status.map_or("none".to_string(), |c| c.to_string()),
                        humantime::format_duration(Duration::from_secs(waited.as_secs())),
                        p.awaited(),
                        humantime::format_duration(self.propagation_timeout),
                    ));
                }
                return Err(err);
            }
            let note = format!(
                "waiting for {} ({}: retry {attempt} in {}s)",
                p.awaited(),
                cmd.purpose,
                pause.as_secs()
            );
            self.report().info(&note);
            self.report().output_line(&note);
            tokio::time::sleep(pause).await;
        }
    }
}

impl Executor for RealExecutor<'_> {
    fn knows(&self, _cmd: &Cmd) -> bool {
        true
    }

    fn observe<'a>(&'a self, cmd: &'a Cmd) -> BoxFuture<'a, Result<Option<Output>>> {
        Box::pin(async move {
            // A read-ahead answer stands until a command on its resource runs.
            if let Some(out) = self.read_ahead.answer(cmd).await {
                return Ok(Some(out));
            }
            self.children.spawn(cmd).await.map(Some)
        })
    }

    fn capture<'a>(&'a self, var: &'a str, cmd: &'a Cmd, transform: Transform) -> BoxFuture<'a, Result<Val>> {
        Box::pin(async move {
            if let Some(v) = self.captured.lock().unwrap().get(var) {
                return Ok(Val::Known(v.clone()));
            }
            let out = self.children.spawn(cmd).await?;
            if !out.success() {
                return Err(command_error(cmd, &out));
            }
            let value = transform.apply(out.stdout.trim());
            if value.is_empty() || value == "None" {
                return Err(Error::Parse {
                    command: cmd.to_string(),
                    reason: format!("expected a value for {var}, got nothing"),
                });
            }
            self.captured.lock().unwrap().insert(var.to_string(), value.clone());
            Ok(Val::Known(value))
        })
    }

    fn run<'a>(&'a self, cmd: &'a Cmd) -> BoxFuture<'a, Result<Output>> {
        Box::pin(async move {
            self.invalidate(cmd);
            let result = self.run_waiting_out(cmd).await;
            // What was read while it ran (a read ahead meanwhile) may predate its effect.
            self.invalidate(cmd);
            result
        })
    }

    fn write_file(&self, path: &Path, contents: &str, _render: &Render) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Other(anyhow::anyhow!("creating {}: {e}", dir.display())))?;
        }
        std::fs::write(path, contents).map_err(|e| Error::Other(anyhow::anyhow!("writing {}: {e}", path.display())))
    }

    fn comment(&self, text: &str) {
        self.report().info(text);
    }

    fn closing_note(&self, text: &str) {
        self.report().warn(text);
    }

    fn http_observe<'a>(&'a self, req: &'a HttpRequest) -> BoxFuture<'a, Result<Option<HttpResponse>>> {
        Box::pin(async move { self.children.send(req, &self.http_policy).await.map(Some) })
    }

    fn http_run<'a>(&'a self, req: &'a HttpRequest) -> BoxFuture<'a, Result<HttpResponse>> {
        Box::pin(self.children.send(req, &self.http_policy))
    }

    fn read_ahead(&self) -> Option<&dyn ReadAhead> {
        Some(self)
    }
}

impl ReadAhead for RealExecutor<'_> {
    fn prefetch(&self, rounds: Vec<Vec<Cmd>>) -> BoxFuture<'_, ()> {
        // In the cache at once, so a step observing one of them from now on waits for it.
        let rounds: Vec<_> = rounds.into_iter().map(|cmds| self.read_ahead.start(cmds)).collect();
        Box::pin(async move {
            for round in &rounds {
                futures_util::future::join_all(round.iter().map(|s| async {
                    s.answer(self.children.spawn(&s.cmd).await.ok());
                }))
                .await;
            }
        })
    }

    fn forget(&self, what: &Selector) {
        self.read_ahead.forget(what);
    }

    fn forget_failures(&self, what: &Selector) {
        self.read_ahead.forget_failures(what);
    }

    fn remember(&self, var: &str, value: &str) {
        self.captured.lock().unwrap().insert(var.to_string(), value.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::Effect;
    use crate::run::wait as block_on;

    #[test]
    fn real_executor_runs_argv_without_shell() {
        let report = Reporter::silent();
        let real = RealExecutor::new(&report);
        let cmd = Cmd::new("printf", Effect::Read, "print").args(["%s", "$HOME;`id`"]);
        let out = block_on(real.run(&cmd)).unwrap();
        assert_eq!(out.stdout, "$HOME;`id`");
        let v = block_on(real.capture(
            "X",
            &Cmd::new("echo", Effect::Read, "e").arg("https://a/b"),
            Transform::StripPrefix("https://"),
        ))
        .unwrap();
        assert_eq!(v, Val::known("a/b"));
        assert_eq!(real.counts(), (0, 2));
    }

    #[test]
    fn real_executor_reports_failures_and_missing_tools() {
        let report = Reporter::silent();
        let real = RealExecutor::new(&report);
        let fail = Cmd::new("sh", Effect::Mutate, "fail on purpose").args(["-c", "echo boom >&2; exit 3"]);
        let err = block_on(real.run(&fail)).unwrap_err().to_string();
        assert!(err.contains("failed to fail on purpose"), "{err}");
        assert!(err.contains("exit status: 3"), "{err}");
        assert!(err.contains("boom"), "{err}");
        let missing = Cmd::new("definitely-not-a-tool-xyz", Effect::Read, "x");
        assert!(matches!(block_on(real.run(&missing)), Err(Error::ToolMissing { .. })));
        let slow = Cmd::new("sleep", Effect::Read, "sleep")
            .arg("5")
            .timeout(Duration::from_millis(100));
        let err = block_on(real.run(&slow)).unwrap_err().to_string();
        assert!(err.contains("timed out after 100ms"), "{err}");
        assert_eq!(real.counts().0, 1);
    }
}

//! Executors: the one place where [`Cmd`]s turn into processes, or into lines of a script.
//!
//! Steps never spawn anything themselves; they hand `Cmd`s to an [`Executor`]. [`RealExecutor`]
//! runs them; [`ScriptExecutor`] prints them as a bash script for `--dry-run`. A step cannot tell
//! which one it has, except that in a dry-run observations return `None` ("nothing exists yet"),
//! so the script is the plan of a run from scratch.

use crate::cmd::{Cmd, Val};
use crate::error::{CommandError, Error, Result, Signal};
use crate::http::{HttpPolicy, HttpRequest, HttpResponse};
use crate::render::Render;
use crate::report::Reporter;
use crate::resource::Selector;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::io::ErrorKind;
use std::path::Path;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a finished command printed.
#[derive(Clone, Debug, Default)]
pub(crate) struct Output {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub(crate) fn success(&self) -> bool {
        self.status == Some(0)
    }
}

/// How a captured value is derived from the command's trimmed stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transform {
    None,
    /// Drop a prefix, e.g. `https://` from the OIDC issuer (the tutorial's `sed`).
    StripPrefix(&'static str),
}

impl Transform {
    fn apply(self, s: &str) -> String {
        match self {
            Transform::None => s.to_string(),
            Transform::StripPrefix(p) => s.strip_prefix(p).unwrap_or(s).to_string(),
        }
    }
}

pub(crate) trait Executor: Send + Sync {
    fn is_dry_run(&self) -> bool;

    /// Whether waiting for what a run changed means anything: not in a dry-run, nor in a plan
    /// (its changes are printed, not made).
    fn waits(&self) -> bool {
        !self.is_dry_run()
    }

    /// Runs a read-only command to learn the current state, whatever its exit status.
    /// `None` in a dry-run, where the plan is that of a run from scratch.
    fn observe<'a>(&'a self, cmd: &'a Cmd) -> BoxFuture<'a, Result<Option<Output>>>;

    /// Whether observing `cmd` tells the current state. Not in a dry-run, nor in a plan for what
    /// a planned command changes: there `None` means "not known yet", which a step reads as
    /// "absent" before the command that makes it and as "there" after it.
    fn knows(&self, cmd: &Cmd) -> bool;

    /// Runs a read-only command whose trimmed stdout later commands need, as `var`.
    fn capture<'a>(&'a self, var: &'a str, cmd: &'a Cmd, transform: Transform) -> BoxFuture<'a, Result<Val>>;

    /// Runs a command that must succeed (a mutation, or a wait such as `rollout status`).
    fn run<'a>(&'a self, cmd: &'a Cmd) -> BoxFuture<'a, Result<Output>>;

    /// Writes a file that a later command reads; the script writes it by running `render`.
    fn write_file(&self, path: &Path, contents: &str, render: &Render) -> Result<()>;

    /// A remark: a `#` comment in the script, a progress line in a real run.
    fn comment(&self, text: &str);

    /// What is left for the user at the end of a command: a warning in a real run (seen even
    /// with `-q`), a `#` comment at the end of a dry-run's script.
    fn closing_note(&self, text: &str) {
        self.comment(text);
    }

    /// Sends a read-only HTTP request; `None` in a dry-run.
    fn http_observe<'a>(&'a self, req: &'a HttpRequest) -> BoxFuture<'a, Result<Option<HttpResponse>>>;

    /// Sends an HTTP request that changes something; printed as `curl` in a dry-run.
    fn http_run<'a>(&'a self, req: &'a HttpRequest) -> BoxFuture<'a, Result<HttpResponse>>;

    /// A line only a dry-run script needs (e.g. reading the API key from its file).
    fn script_only(&self, line: &str);

    /// Whether a wait may poll (read again until a state is reached); a plan reads once.
    fn polls(&self) -> bool {
        true
    }

    /// Runs read-only commands at once, ahead of the steps that will observe them: a converged
    /// run then costs one round of reads instead of a chain. Only commands with a resource key
    /// are kept; running a command on a resource drops what was read about it.
    fn prefetch(&self, cmds: Vec<Cmd>) -> BoxFuture<'_, ()>;

    /// Drops what was read ahead about a resource and everything under it (keys as in
    /// [`Cmd::resource`]): for a thing whose state changed without a command of ours, e.g. a
    /// cluster that was not ACTIVE when it was read.
    fn forget(&self, what: &Selector);

    /// Drops the failed answers read ahead about a resource and everything under it: a read of
    /// a cluster's contents may have raced its becoming ACTIVE (eksctl refuses while it is not).
    fn forget_failures(&self, what: &Selector);

    /// A value learned from an observation (the issuer in `describe-cluster`), so a later
    /// capture of the same variable need not run its command.
    fn remember(&self, var: &str, value: &str);
}

/// Install hints shown when a tool is missing.
pub(crate) fn install_hint(program: &str) -> &'static str {
    match program {
        "aws" => {
            "install the AWS CLI: `pip install awscli` (v1) or https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html (v2)"
        }
        "eksctl" => "install eksctl: https://eksctl.io/installation/",
        "kubectl" => "install kubectl: https://kubernetes.io/docs/tasks/tools/",
        _ => "install it and make sure it is on PATH",
    }
}

/// Runs commands for real: argv only, stdin closed, output captured, bounded in time.
pub(crate) struct RealExecutor<'r> {
    report: &'r Reporter,
    default_timeout: Duration,
    captured: Mutex<HashMap<String, String>>,
    mutations: AtomicUsize,
    commands: AtomicUsize,
    /// The signal that stopped the run, if one did.
    interrupted: Mutex<Option<Signal>>,
    children: Mutex<HashSet<u32>>,
    /// Whether the process had a controlling terminal when the run started (see `interrupt`).
    had_terminal: bool,
    /// Prefetched observations by shell form, with the command (for its resource keys).
    prefetched: Mutex<HashMap<String, (Cmd, Output)>>,
    /// Every invalidation so far, in order: a read ahead that was in flight when one of its
    /// resources was invalidated is not kept.
    invalidations: Mutex<Vec<Selector>>,
    pub http_policy: HttpPolicy,
    /// How long a documented propagation error is waited out (`--propagation-timeout`).
    pub propagation_timeout: Duration,
}

impl<'r> RealExecutor<'r> {
    pub(crate) fn new(report: &'r Reporter) -> Self {
        RealExecutor {
            report,
            default_timeout: Duration::from_secs(15 * 60),
            captured: Mutex::new(HashMap::new()),
            mutations: AtomicUsize::new(0),
            commands: AtomicUsize::new(0),
            interrupted: Mutex::new(None),
            children: Mutex::new(HashSet::new()),
            had_terminal: terminal::foreground().is_some(),
            prefetched: Mutex::new(HashMap::new()),
            invalidations: Mutex::new(Vec::new()),
            http_policy: HttpPolicy::default(),
            propagation_timeout: crate::propagation::DEFAULT_TIMEOUT,
        }
    }

    /// Number of (mutating, all) commands run so far.
    pub(crate) fn counts(&self) -> (usize, usize) {
        (
            self.mutations.load(Ordering::Relaxed),
            self.commands.load(Ordering::Relaxed),
        )
    }

    /// After SIGINT, SIGTERM or SIGHUP: make sure each running child gets the signal exactly
    /// once, and count every command from now on as interrupted.
    ///
    /// The children share our process group. A signal the terminal sent went to the whole
    /// group, so the children already have it and a second one would mean "stop at once" to
    /// many tools; a signal sent to us alone (`kill`, a CI runner) reached nobody else. This is
    /// uv's rule (`crates/uv/src/child.rs`), made exact with the terminal's foreground group
    /// instead of "stdin is a terminal". Keeping the children in our group (rather than a group
    /// of their own) means a runner that kills the whole group still stops them.
    pub(crate) fn interrupt(&self, signal: Signal) {
        self.interrupted.lock().unwrap().get_or_insert(signal);
        if terminal::delivered_to_group(signal, self.had_terminal) {
            return;
        }
        for pid in self.children.lock().unwrap().iter() {
            // SAFETY: kill(2) with a pid we spawned and have not reaped yet.
            unsafe {
                libc::kill(*pid as libc::pid_t, signal.number());
            }
        }
    }

    /// The signal that stopped the run, if one did.
    pub(crate) fn interrupted_by(&self) -> Option<Signal> {
        *self.interrupted.lock().unwrap()
    }

    fn check_interrupted(&self) -> Result<()> {
        match self.interrupted_by() {
            Some(signal) => Err(Error::Interrupted(signal)),
            None => Ok(()),
        }
    }

    async fn send(&self, req: &HttpRequest) -> Result<HttpResponse> {
        crate::log::request(req, self.send_traced(req)).await
    }

    async fn send_traced(&self, req: &HttpRequest) -> Result<HttpResponse> {
        self.check_interrupted()?;
        self.report
            .command_text(&req.to_string(), req.effect == crate::cmd::Effect::Mutate);
        self.commands.fetch_add(1, Ordering::Relaxed);
        if req.effect == crate::cmd::Effect::Mutate {
            self.mutations.fetch_add(1, Ordering::Relaxed);
        }
        let (req2, policy) = (req.clone(), self.http_policy.clone());
        let result = tokio::task::spawn_blocking(move || crate::http::send(&req2, &policy))
            .await
            .map_err(|e| Error::Other(anyhow::anyhow!("HTTP task failed: {e}")))?;
        result.map_err(|e| {
            Error::Command(Box::new(CommandError {
                purpose: req.purpose.clone(),
                command: req.to_string(),
                status: None,
                stderr: String::new(),
                detail: Some(e),
            }))
        })
    }

    async fn spawn(&self, cmd: &Cmd) -> Result<Output> {
        crate::log::command(cmd, self.spawn_traced(cmd)).await
    }

    async fn spawn_traced(&self, cmd: &Cmd) -> Result<Output> {
        self.check_interrupted()?;
        self.report.command(cmd);
        self.commands.fetch_add(1, Ordering::Relaxed);
        if cmd.is_mutating() {
            self.mutations.fetch_add(1, Ordering::Relaxed);
        }
        let mut child = tokio::process::Command::new(cmd.program);
        child
            .args(cmd.argv())
            .envs(cmd.child_env())
            .envs(cmd.secret_env_values())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = child.spawn().map_err(|e| match e.kind() {
            ErrorKind::NotFound => Error::ToolMissing {
                tool: cmd.program.to_string(),
                hint: install_hint(cmd.program).to_string(),
            },
            _ => Error::Other(anyhow::anyhow!("could not start `{cmd}`: {e}")),
        })?;
        let pid = child.id();
        if let Some(pid) = pid {
            self.children.lock().unwrap().insert(pid);
        }
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let report = self.report;
        let live = cmd.is_mutating();
        // Read stdout line by line: the latest line of a mutation (eksctl's progress during a
        // cluster creation) is the step's live progress; reads print JSON, not worth showing.
        let read_out = async move {
            let mut buf = Vec::new();
            if let Some(out) = stdout {
                let mut reader = BufReader::new(out);
                let mut line = Vec::new();
                while reader.read_until(b'\n', &mut line).await.unwrap_or(0) > 0 {
                    if live {
                        report.output_line(&String::from_utf8_lossy(&line));
                    }
                    buf.append(&mut line);
                }
            }
            buf
        };
        let read_err = async move {
            let mut buf = Vec::new();
            if let Some(mut err) = stderr {
                let _ = err.read_to_end(&mut buf).await;
            }
            buf
        };
        let limit = cmd.timeout.unwrap_or(self.default_timeout);
        let finished = tokio::time::timeout(limit, async { tokio::join!(read_out, read_err, child.wait()) }).await;
        if let Some(pid) = pid {
            self.children.lock().unwrap().remove(&pid);
        }
        let Ok((out, err, status)) = finished else {
            return Err(Error::Command(Box::new(CommandError {
                purpose: cmd.purpose.clone(),
                command: cmd.to_string(),
                status: None,
                stderr: String::new(),
                detail: Some(format!("timed out after {}", humantime::format_duration(limit))),
            })));
        };
        let status = status.map_err(|e| Error::Other(anyhow::anyhow!("waiting for `{cmd}`: {e}")))?;
        self.check_interrupted()?;
        Ok(Output {
            status: status.code(),
            stdout: String::from_utf8_lossy(&out).into_owned(),
            stderr: String::from_utf8_lossy(&err).into_owned(),
        })
    }
}

/// The error for a command that exited non-zero.
pub(crate) fn command_error(cmd: &Cmd, out: &Output) -> Error {
    Error::Command(Box::new(CommandError {
        purpose: cmd.purpose.clone(),
        command: cmd.to_string(),
        status: out.status,
        stderr: out.stderr.clone(),
        detail: None,
    }))
}

impl Executor for RealExecutor<'_> {
    fn is_dry_run(&self) -> bool {
        false
    }

    fn knows(&self, _cmd: &Cmd) -> bool {
        true
    }

    fn observe<'a>(&'a self, cmd: &'a Cmd) -> BoxFuture<'a, Result<Option<Output>>> {
        Box::pin(async move {
            // A prefetched answer stands until a command on its resource runs (`invalidate`).
            if let Some((_, out)) = self.prefetched.lock().unwrap().get(&cmd.to_string()) {
                return Ok(Some(out.clone()));
            }
            self.spawn(cmd).await.map(Some)
        })
    }

    fn capture<'a>(&'a self, var: &'a str, cmd: &'a Cmd, transform: Transform) -> BoxFuture<'a, Result<Val>> {
        Box::pin(async move {
            if let Some(v) = self.captured.lock().unwrap().get(var) {
                return Ok(Val::Known(v.clone()));
            }
            let out = self.spawn(cmd).await?;
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
        self.report.info(text);
    }

    fn closing_note(&self, text: &str) {
        self.report.warn(text);
    }

    fn http_observe<'a>(&'a self, req: &'a HttpRequest) -> BoxFuture<'a, Result<Option<HttpResponse>>> {
        Box::pin(async move { self.send(req).await.map(Some) })
    }

    fn http_run<'a>(&'a self, req: &'a HttpRequest) -> BoxFuture<'a, Result<HttpResponse>> {
        Box::pin(self.send(req))
    }

    fn script_only(&self, _line: &str) {}

    fn prefetch(&self, cmds: Vec<Cmd>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let keyed: Vec<Cmd> = cmds
                .into_iter()
                .filter(|c| c.resource.is_some() && !c.is_mutating())
                .collect();
            let since = self.invalidations.lock().unwrap().len();
            let outs = futures_util::future::join_all(keyed.iter().map(|c| self.spawn(c))).await;
            let mut cache = self.prefetched.lock().unwrap();
            let invalidated = self.invalidations.lock().unwrap()[since..].to_vec();
            for (cmd, out) in keyed.into_iter().zip(outs) {
                let stale = invalidated.iter().any(|k| cmd.is_about(k));
                if let (Ok(out), false) = (out, stale) {
                    cache.insert(cmd.to_string(), (cmd, out));
                }
            }
        })
    }

    fn remember(&self, var: &str, value: &str) {
        self.captured.lock().unwrap().insert(var.to_string(), value.to_string());
    }

    fn forget(&self, what: &Selector) {
        self.invalidations.lock().unwrap().push(what.clone());
        self.prefetched.lock().unwrap().retain(|_, (c, _)| !c.is_about(what));
    }

    fn forget_failures(&self, what: &Selector) {
        self.prefetched
            .lock()
            .unwrap()
            .retain(|_, (c, out)| out.success() || !c.is_about(what));
    }
}

impl RealExecutor<'_> {
    /// Runs a command that must succeed, waiting out the documented "not yet" error it may meet
    /// (bounded by `--propagation-timeout`, each wait a progress line).
    async fn run_waiting_out(&self, cmd: &Cmd) -> Result<Output> {
        let started = std::time::Instant::now();
        let mut attempt = 0;
        loop {
            let out = self.spawn(cmd).await?;
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
            self.report.info(&note);
            self.report.output_line(&note);
            tokio::time::sleep(pause).await;
        }
    }

    /// Drops prefetched observations about what `cmd` is about to change.
    fn invalidate(&self, cmd: &Cmd) {
        let mut cache = self.prefetched.lock().unwrap();
        let mut log = self.invalidations.lock().unwrap();
        for what in cmd.changes() {
            cache.retain(|_, (c, _)| !c.is_about(&what));
            log.push(what);
        }
    }
}

/// Who already got a signal: the terminal sends its signals to its foreground process group.
mod terminal {
    use crate::error::Signal;

    /// The terminal's foreground process group, when we have a controlling terminal.
    pub(super) fn foreground() -> Option<libc::pid_t> {
        // SAFETY: open/tcgetpgrp/close on a path literal and the fd we opened.
        unsafe {
            let fd = libc::open(c"/dev/tty".as_ptr(), libc::O_RDONLY | libc::O_NOCTTY | libc::O_CLOEXEC);
            if fd < 0 {
                return None;
            }
            let pgrp = libc::tcgetpgrp(fd);
            libc::close(fd);
            (pgrp > 0).then_some(pgrp)
        }
    }

    /// Whether `signal` came from the terminal to our whole process group (children included).
    /// Ctrl-C: the terminal signals its foreground group, so it did when that group is ours.
    /// SIGHUP: a hangup detaches the terminal from the session and signals its leader (the
    /// shell), which passes it on to its jobs' whole process groups (or the kernel does, to the
    /// foreground group, when the leader exits); so it did when we had a terminal, it is gone
    /// and we are not the leader. SIGTERM never comes from a terminal.
    pub(super) fn delivered_to_group(signal: Signal, had_terminal: bool) -> bool {
        // SAFETY: getpgrp, getsid(0) and getpid cannot fail.
        let (pgrp, leader) = unsafe { (libc::getpgrp(), libc::getsid(0) == libc::getpid()) };
        match signal {
            Signal::Interrupt => foreground() == Some(pgrp),
            Signal::Hangup => had_terminal && foreground().is_none() && !leader,
            Signal::Terminate => false,
        }
    }
}

/// Prints commands as a bash script instead of running them (`--dry-run`).
pub(crate) struct ScriptExecutor {
    script: Mutex<String>,
    /// Numbers of the background jobs not waited for yet.
    background: Mutex<Vec<usize>>,
    jobs: AtomicUsize,
    captured: Mutex<Vec<String>>,
    /// Print the read-only observations too (for `verify`, which runs nothing else).
    list_reads: bool,
    /// Whether the script defines `wait_out_propagation` yet.
    wait_helper: AtomicBool,
    /// The bound the script's `wait_out_propagation` calls get (`--propagation-timeout`).
    pub propagation_timeout: Duration,
}

/// The script's twin of [`RealExecutor::run`]'s waiting: only the documented "not yet" error
/// (its message holds MARKER) is retried, 1, 2, 4, 8 then 10 s apart, for at most LIMIT seconds;
/// any other failure stops the script. The command's own argv is run unchanged.
const WAIT_OUT_HELPER: &str = r#"# IAM and EKS refuse a role created seconds ago as a principal: wait that out as gitops-iam
# does (only that error, at most LIMIT seconds); any other failure stops the script.
wait_out_propagation() {
  local marker=$1 limit=$2 pause=1 err start=$SECONDS
  shift 2
  until err=$("$@" 2>&1 >&3); do
    if [[ $err != *"$marker"* ]] || ((SECONDS - start + pause > limit)); then
      printf '%s\n' "$err" >&2
      return 1
    fi
    echo "waiting for IAM/EKS to accept a new role as a principal: retry in ${pause}s" >&2
    sleep "$pause"
    pause=$((pause * 2 > 10 ? 10 : pause * 2))
  done 3>&1
  if [[ -n $err ]]; then printf '%s\n' "$err" >&2; fi
}"#;

impl Default for ScriptExecutor {
    fn default() -> Self {
        Self::new()
    }
}

impl ScriptExecutor {
    pub(crate) fn new() -> Self {
        ScriptExecutor {
            script: Mutex::new(String::new()),
            background: Mutex::new(Vec::new()),
            jobs: AtomicUsize::new(0),
            captured: Mutex::new(Vec::new()),
            list_reads: false,
            wait_helper: AtomicBool::new(false),
            propagation_timeout: crate::propagation::DEFAULT_TIMEOUT,
        }
    }

    /// A script of the read-only commands (for read-only commands such as `verify`).
    pub(crate) fn listing_reads() -> Self {
        ScriptExecutor {
            list_reads: true,
            ..Self::new()
        }
    }

    /// Waits for the background jobs: `wait PID` fails with the job's status, so `set -e` stops
    /// the script when a cluster creation failed.
    fn join_background(&self) {
        let pending: Vec<usize> = std::mem::take(&mut *self.background.lock().unwrap());
        for job in pending {
            self.push(&format!("wait \"$JOB_{job}\""));
        }
    }

    fn push(&self, line: &str) {
        let mut script = self.script.lock().unwrap();
        script.push_str(line);
        script.push('\n');
    }

    pub(crate) fn line(&self, line: &str) {
        self.join_background();
        let mut script = self.script.lock().unwrap();
        script.push_str(line);
        script.push('\n');
    }

    /// The script's first lines: the invocation, what the script is, the shell options, the
    /// conventions every aws call gets, the region, the state directories.
    pub(crate) fn header(&self, settings: &crate::settings::Settings, plan: bool) {
        let invocation: Vec<String> = std::env::args().skip(1).map(|a| crate::cmd::quote(&a)).collect();
        self.line("#!/usr/bin/env bash");
        // A comment must stay one line whatever the arguments hold.
        let invocation = invocation.join(" ").replace('\r', "\\r").replace('\n', "\\n");
        self.line(&format!("# gitops-iam {invocation}"));
        if plan {
            self.line("# The commands a run issues from the state read at the time below, in order. Values that");
            self.line("# only exist once an earlier command has run are read into shell variables when it has.");
            let at = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
            self.line(&format!(
                "# Planned at {at}: re-plan if the environment may have changed since."
            ));
        } else {
            self.line("# The commands a run from scratch issues, in order. Values only known at run time are");
            self.line("# read into shell variables by the same read-only commands a real run uses.");
        }
        self.line(&format!("# Generated by gitops-iam {}.", env!("CARGO_PKG_VERSION")));
        self.line("set -euo pipefail");
        // What a real run gives every aws child (`Cmd::conventions`), exported once for the script.
        let pinned: Vec<String> = crate::tools::aws::CONVENTIONS
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        self.line(&format!("export {}", pinned.join(" ")));
        if !matches!(settings.region, crate::cmd::Val::Known(_)) {
            self.line(&format!(
                "{0}=\"${{{0}:-${{AWS_DEFAULT_REGION:?pass --region to gitops-iam or set AWS_REGION}}}}\"",
                crate::settings::REGION_VAR
            ));
            self.line(&format!(
                "{1}=$(case \"${{{0}}}\" in (cn-*) echo aws-cn ;; (us-gov-*) echo aws-us-gov ;; (*) echo aws ;; esac)",
                crate::settings::REGION_VAR,
                crate::settings::PARTITION_VAR
            ));
        }
        let dirs = [settings.kubeconfig_dir(), settings.policy_dir()]
            .map(|d| crate::cmd::quote(&d.to_string_lossy()))
            .join(" ");
        self.line(&format!("mkdir -p {dirs}"));
    }

    /// The script so far, waiting at the end for what still runs in the background.
    pub(crate) fn script(&self) -> String {
        self.join_background();
        self.script.lock().unwrap().clone()
    }
}

impl Executor for ScriptExecutor {
    fn is_dry_run(&self) -> bool {
        true
    }

    fn knows(&self, _cmd: &Cmd) -> bool {
        false
    }

    fn observe<'a>(&'a self, cmd: &'a Cmd) -> BoxFuture<'a, Result<Option<Output>>> {
        Box::pin(async move {
            if self.list_reads {
                self.line(&cmd.to_string());
            }
            Ok(None)
        })
    }

    fn capture<'a>(&'a self, var: &'a str, cmd: &'a Cmd, transform: Transform) -> BoxFuture<'a, Result<Val>> {
        Box::pin(async move {
            let first = {
                let mut captured = self.captured.lock().unwrap();
                let first = !captured.iter().any(|c| c == var);
                if first {
                    captured.push(var.to_string());
                }
                first
            };
            if first {
                self.line(&format!("{var}=$({cmd})"));
                if let Transform::StripPrefix(prefix) = transform {
                    self.line(&format!("{var}=\"${{{var}#{prefix}}}\""));
                }
            }
            Ok(Val::var(var))
        })
    }

    fn run<'a>(&'a self, cmd: &'a Cmd) -> BoxFuture<'a, Result<Output>> {
        Box::pin(async move {
            if cmd.background {
                // Started in the background; the other branches print their own long
                // commands before anything waits for it (a real run does them concurrently).
                let job = self.jobs.fetch_add(1, Ordering::Relaxed) + 1;
                self.push(&format!("{cmd} &"));
                self.push(&format!("JOB_{job}=$!"));
                self.background.lock().unwrap().push(job);
                tokio::task::yield_now().await;
            } else if let Some(p) = cmd.retry {
                // A real run waits out this error; so does the script, through its helper.
                if !self.wait_helper.swap(true, Ordering::Relaxed) {
                    for l in WAIT_OUT_HELPER.lines() {
                        self.line(l);
                    }
                }
                self.line(&format!(
                    "wait_out_propagation {} {} {cmd}",
                    crate::cmd::quote(p.marker()),
                    self.propagation_timeout.as_secs()
                ));
            } else {
                self.line(&cmd.to_string());
            }
            Ok(Output {
                status: Some(0),
                ..Output::default()
            })
        })
    }

    fn write_file(&self, path: &Path, _contents: &str, render: &Render) -> Result<()> {
        let path = crate::cmd::quote(&path.to_string_lossy());
        self.line(&format!("{render} > {path}"));
        Ok(())
    }

    fn comment(&self, text: &str) {
        for line in text.lines() {
            self.line(&format!("# {line}"));
        }
    }

    fn http_observe<'a>(&'a self, req: &'a HttpRequest) -> BoxFuture<'a, Result<Option<HttpResponse>>> {
        Box::pin(async move {
            if self.list_reads {
                self.line(&req.to_string());
            }
            Ok(None)
        })
    }

    fn http_run<'a>(&'a self, req: &'a HttpRequest) -> BoxFuture<'a, Result<HttpResponse>> {
        Box::pin(async move {
            self.line(&req.to_string());
            Ok(HttpResponse {
                status: 200,
                body: String::new(),
            })
        })
    }

    fn script_only(&self, line: &str) {
        let seen = self.script().lines().any(|l| l == line);
        if !seen {
            self.line(line);
        }
    }

    fn prefetch(&self, _cmds: Vec<Cmd>) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    fn remember(&self, _var: &str, _value: &str) {}

    fn forget(&self, _what: &Selector) {}

    fn forget_failures(&self, _what: &Selector) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::Effect;

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn only_the_terminal_signals_a_whole_group() {
        use crate::error::Signal;
        // SIGTERM never comes from a terminal; SIGHUP only from one we had.
        assert!(!terminal::delivered_to_group(Signal::Terminate, true));
        assert!(!terminal::delivered_to_group(Signal::Terminate, false));
        assert!(!terminal::delivered_to_group(Signal::Hangup, false));
    }

    #[test]
    fn script_captures_once_and_strips() {
        let s = ScriptExecutor::new();
        let cmd = Cmd::new("aws", Effect::Read, "read issuer").args(["eks", "describe-cluster"]);
        let v = block_on(s.capture("OIDC", &cmd, Transform::StripPrefix("https://"))).unwrap();
        assert_eq!(v, Val::var("OIDC"));
        block_on(s.capture("OIDC", &cmd, Transform::StripPrefix("https://"))).unwrap();
        assert_eq!(
            s.script(),
            "OIDC=$(aws eks describe-cluster)\nOIDC=\"${OIDC#https://}\"\n"
        );
        assert!(block_on(s.observe(&cmd)).unwrap().is_none());
    }

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

//! Dispatch: from a parsed command line to the command, and from its result to an exit code.

use crate::cli::{AgentCommand, Cli, Command};
use crate::error::{Error, Result};
use crate::exec::{RealExecutor, ScriptExecutor};
use crate::report::{Reporter, Verbosity};
use crate::settings::{Registration, Settings};
use crate::steps::agent::{DryRunAgent, Outcome};
use crate::steps::{Ctx, agent, down, mgmt, needs, register, testing, up, verify};
use clap::{CommandFactory, FromArgMatches};
use std::io::Write;

pub fn main() -> i32 {
    let matches = match Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return 2;
        }
    };
    let quiet = cli.global.quiet;
    let fleet = match cli.global.config.clone() {
        Some(path) => match crate::config::load(&path).and_then(|cfg| crate::config::apply(cfg, &mut cli, &matches)) {
            Ok(fleet) => fleet,
            Err(e) => {
                eprintln!("error: {e}");
                return e.code();
            }
        },
        None => None,
    };
    match dispatch(cli, fleet) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            if e.resumable() && !quiet {
                eprintln!("hint: fix the cause, then re-run the same command: finished steps are skipped");
            }
            e.code()
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Other(anyhow::anyhow!("starting the async runtime: {e}")))
}

fn print_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth reporting.
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Other(e.into())),
        _ => Ok(()),
    }
}

fn dispatch(cli: Cli, fleet: Option<Vec<crate::config::TestingEntry>>) -> Result<i32> {
    match &cli.command {
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "gitops-iam", &mut out);
            print_stdout(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
        Command::Man { dir: Some(dir) } => {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Other(anyhow::anyhow!("creating {}: {e}", dir.display())))?;
            clap_mangen::generate_to(Cli::command(), dir)
                .map_err(|e| Error::Other(anyhow::anyhow!("writing man pages to {}: {e}", dir.display())))?;
            Ok(0)
        }
        Command::Man { dir: None } => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(|e| Error::Other(e.into()))?;
            print_stdout(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
        Command::Render(cmd) => {
            print_stdout(&crate::render::run(cmd, &cli.global, &cli.env)?)?;
            Ok(0)
        }
        Command::Doctor if cli.global.dry_run => {
            print_stdout(&crate::doctor::script(&cli.global))?;
            Ok(0)
        }
        Command::Doctor => {
            let (text, ok) = runtime()?.block_on(crate::doctor::run(&cli.global));
            print_stdout(&text)?;
            Ok(if ok { 0 } else { 1 })
        }
        _ => run_steps(&cli, fleet),
    }
}

/// The programs a command drives; checked before a real run starts.
fn required_tools(command: &Command) -> &'static [&'static str] {
    match command {
        Command::Mgmt(_) | Command::Testing => &["aws", "eksctl"],
        _ => &["aws", "eksctl", "kubectl"],
    }
}

fn run_steps(cli: &Cli, fleet: Option<Vec<crate::config::TestingEntry>>) -> Result<i32> {
    let settings = Settings::resolve(&cli.global, &cli.env, fleet.as_deref())?;
    let registration = match &cli.command {
        Command::Register(args) => Some(Registration::resolve(args, settings.dry_run)?.ok_or_else(|| {
            Error::Usage("register needs --harness-account and --agent-id (Harness), or --to argocd".into())
        })?),
        Command::Up { register, .. }
        | Command::Verify(crate::cli::VerifyArgs { register, .. })
        | Command::Down { register, .. } => Registration::resolve(register, settings.dry_run)?,
        _ => None,
    };
    // A dry-run's progress lines would only repeat the script; -v still shows them.
    let verbosity = if settings.dry_run && settings.verbosity == Verbosity::Normal {
        Verbosity::Quiet
    } else {
        settings.verbosity
    };
    // A dry-run's output is its script: JSON events would corrupt it.
    let json = cli.global.output == crate::cli::OutputFormat::Json && !settings.dry_run;
    let report = Reporter::new(verbosity, json);
    let rt = runtime()?;
    if let Command::Down { yes: false, .. } = &cli.command
        && !settings.dry_run
    {
        confirm_down(&settings)?;
    }
    if settings.dry_run {
        let mut script = if matches!(cli.command, Command::Verify(_)) {
            ScriptExecutor::listing_reads()
        } else {
            ScriptExecutor::new()
        };
        script.propagation_timeout = cli.global.propagation_timeout;
        script_header(&script, &settings);
        let ctx = Ctx::new(&settings, &script, &report);
        rt.block_on(execute(cli, &ctx, registration.as_ref()))?;
        print_stdout(&script.script())?;
        return Ok(0);
    }
    for tool in required_tools(&cli.command) {
        if which::which(tool).is_err() {
            return Err(Error::ToolMissing {
                tool: tool.to_string(),
                hint: crate::exec::install_hint(tool).to_string(),
            });
        }
    }
    let manifest = match &cli.command {
        Command::Up { agent, .. } | Command::Agent(AgentCommand::Patch(agent)) => agent.agent_manifest.as_ref(),
        _ => None,
    };
    if let Some(m) = manifest
        && !m.is_file()
    {
        return Err(Error::invalid(
            "--agent-manifest",
            m.display().to_string(),
            "must be a readable file",
        ));
    }
    for dir in [settings.kubeconfig_dir(), settings.policy_dir()] {
        std::fs::create_dir_all(&dir).map_err(|e| Error::Other(anyhow::anyhow!("creating {}: {e}", dir.display())))?;
    }
    let mut real = RealExecutor::new(&report);
    real.propagation_timeout = cli.global.propagation_timeout;
    let ctx = Ctx::new(&settings, &real, &report);
    let result = rt.block_on(async {
        let mut signals = Signals::new()?;
        let run = execute(cli, &ctx, registration.as_ref());
        tokio::pin!(run);
        tokio::select! {
            r = &mut run => r,
            signal = signals.recv() => {
                real.interrupt(signal);
                report.warn(&format!(
                    "interrupted by {}: waiting for the running commands to stop ({} to stop at once)",
                    signal.name(),
                    if signal == crate::error::Signal::Interrupt { "Ctrl-C again" } else { "send it again" }
                ));
                tokio::select! {
                    _ = &mut run => {},
                    _ = signals.recv() => {},
                    _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => {},
                }
                Err(Error::Interrupted(signal))
            }
        }
    });
    // Dropping the runtime kills the children that are still running (kill_on_drop).
    drop(rt);
    let (mutations, commands) = real.counts();
    report.summary(&result, commands, mutations);
    if let Some(signal) = real.interrupted_by() {
        let done: Vec<String> = report
            .records()
            .iter()
            .filter(|r| r.status != crate::report::Status::Failed)
            .map(|r| r.step.clone())
            .collect();
        report.warn(&format!(
            "interrupted after {} finished step(s){}; re-run the same command to resume",
            done.len(),
            if done.is_empty() {
                String::new()
            } else {
                format!(" ({})", done.join(", "))
            }
        ));
        return Err(Error::Interrupted(signal));
    }
    result
}

/// The signals that stop a run: Ctrl-C, CI cancellation (SIGTERM), a closed terminal (SIGHUP).
/// One that was ignored when we started (`nohup`, a background job's SIGINT) stays ignored, as
/// it does for the children, which inherit that.
struct Signals {
    streams: Vec<(crate::error::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    fn new() -> Result<Self> {
        use crate::error::Signal;
        use tokio::signal::unix::{SignalKind, signal};
        let mut streams = Vec::new();
        for (sig, kind) in [
            (Signal::Interrupt, SignalKind::interrupt()),
            (Signal::Terminate, SignalKind::terminate()),
            (Signal::Hangup, SignalKind::hangup()),
        ] {
            if ignored(sig.number()) {
                continue;
            }
            let stream =
                signal(kind).map_err(|e| Error::Other(anyhow::anyhow!("listening for {}: {e}", sig.name())))?;
            streams.push((sig, stream));
        }
        Ok(Signals { streams })
    }

    /// The next signal; never, when every one is ignored.
    async fn recv(&mut self) -> crate::error::Signal {
        if self.streams.is_empty() {
            return std::future::pending().await;
        }
        let waits = self
            .streams
            .iter_mut()
            .map(|(sig, stream)| Box::pin(async move { stream.recv().await.map(|_| *sig) }));
        match futures_util::future::select_all(waits).await {
            (Some(sig), _, _) => sig,
            (None, _, _) => std::future::pending().await,
        }
    }
}

/// Whether the signal's disposition is "ignore".
fn ignored(signal: i32) -> bool {
    // SAFETY: sigaction(2) with a null new action only reads the current one into `old`.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}

async fn execute(cli: &Cli, ctx: &Ctx<'_>, registration: Option<&Registration>) -> Result<i32> {
    match &cli.command {
        Command::Mgmt(policy) => mgmt::run(ctx, policy.assume_any_role).await?,
        Command::Testing => testing::run(ctx).await?,
        Command::Agent(AgentCommand::Patch(args)) => {
            needs::agent_patch(ctx).await?;
            if let Outcome::AgentMissing(missing) = agent::patch(ctx, args, DryRunAgent::Installed).await? {
                return Err(agent::missing_error(ctx, &missing));
            }
        }
        Command::Verify(args) => {
            let mut checks = verify::run(ctx, registration).await?;
            if args.live {
                let live = crate::steps::live::run(ctx, &checks).await?;
                checks.extend(live);
            }
            if ctx.report.is_json() {
                for c in &checks {
                    ctx.report.event(serde_json::json!({
                        "event": "check", "check": c.name, "status": c.verdict.label(), "detail": c.detail, "fix": c.fix,
                    }));
                }
            } else if !ctx.exec.is_dry_run() {
                print_stdout(&verify::render(&checks))?;
            }
            if !ctx.exec.is_dry_run() && checks.iter().any(|c| c.verdict == verify::Verdict::Fail) {
                return Ok(1);
            }
        }
        Command::Down { keep_clusters, .. } => down::run(ctx, registration, *keep_clusters).await?,
        Command::Register(_) => {
            let reg = registration.expect("resolved before the run");
            needs::register(ctx).await?;
            register::run(ctx, reg).await?;
        }
        Command::Up { policy, agent, .. } => {
            let outcome = up::run(ctx, policy, agent).await?;
            let mut next = Vec::new();
            if let Outcome::AgentMissing(missing) = &outcome {
                next.push(format!(
                    "the Harness GitOps agent is not installed yet (missing in namespace {}: {}).\nInstall the agent, then run:\n  {}",
                    ctx.settings.namespace,
                    missing.join(", "),
                    ctx.settings.suggest("agent patch")
                ));
            }
            match (registration, &outcome) {
                (Some(reg), Outcome::Patched) => register::run(ctx, reg).await?,
                (Some(_), Outcome::AgentMissing(_)) => {
                    next.push(format!("then register the testing cluster: {}", ctx.settings.suggest("register ...")))
                }
                (None, _) => next.push(format!(
                    "to register the testing cluster in Harness, run:\n  {} --harness-account ID --agent-id ID [--harness-org ID --harness-project ID]\n(or `--to argocd` for an Argo CD cluster Secret)",
                    ctx.settings.suggest("register")
                )),
            }
            if !next.is_empty() {
                let text = format!("Everything else is done.\n{}", next.join("\n"));
                if ctx.exec.is_dry_run() {
                    ctx.exec.comment(&text);
                } else {
                    ctx.report.warn(&text);
                }
            }
        }
        _ => unreachable!("handled in dispatch"),
    }
    Ok(0)
}

/// `down` deletes clusters and roles: ask on a terminal, insist on --yes elsewhere.
fn confirm_down(s: &Settings) -> Result<()> {
    use std::io::IsTerminal;
    let clusters: Vec<String> = std::iter::once(s.mgmt_cluster.to_string())
        .chain(s.testing.iter().map(|t| t.cluster.to_string()))
        .collect();
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "down deletes clusters, roles and registrations: pass --yes to confirm (stdin is not a terminal)".into(),
        ));
    }
    eprint!(
        "This removes the registration, the IAM roles {} and {}, and (unless --keep-clusters) the clusters {}.\nType 'yes' to continue: ",
        s.agent_role,
        s.testing
            .iter()
            .map(|t| t.deployer_role.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        clusters.join(", ")
    );
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Error::Other(anyhow::anyhow!("reading the answer: {e}")))?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Error::Usage("not confirmed: nothing was removed".into()))
    }
}

fn script_header(script: &ScriptExecutor, settings: &Settings) {
    let invocation: Vec<String> = std::env::args().skip(1).map(|a| crate::cmd::quote(&a)).collect();
    script.line("#!/usr/bin/env bash");
    // A comment must stay one line whatever the arguments hold.
    let invocation = invocation.join(" ").replace('\r', "\\r").replace('\n', "\\n");
    script.line(&format!("# gitops-iam {invocation}"));
    script.line("# The commands a run from scratch issues, in order. Values only known at run time are");
    script.line("# read into shell variables by the same read-only commands a real run uses.");
    script.line(&format!("# Generated by gitops-iam {}.", env!("CARGO_PKG_VERSION")));
    script.line("set -euo pipefail");
    // What a real run gives every aws child (`Cmd::conventions`), exported once for the script.
    let pinned: Vec<String> = crate::tools::aws::CONVENTIONS
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    script.line(&format!("export {}", pinned.join(" ")));
    if !matches!(settings.region, crate::cmd::Val::Known(_)) {
        script.line(&format!(
            "{0}=\"${{{0}:-${{AWS_DEFAULT_REGION:?pass --region to gitops-iam or set AWS_REGION}}}}\"",
            crate::settings::REGION_VAR
        ));
        script.line(&format!(
            "{1}=$(case \"${{{0}}}\" in (cn-*) echo aws-cn ;; (us-gov-*) echo aws-us-gov ;; (*) echo aws ;; esac)",
            crate::settings::REGION_VAR,
            crate::settings::PARTITION_VAR
        ));
    }
    let dirs = [settings.kubeconfig_dir(), settings.policy_dir()]
        .map(|d| crate::cmd::quote(&d.to_string_lossy()))
        .join(" ");
    script.line(&format!("mkdir -p {dirs}"));
}

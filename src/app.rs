//! Dispatch: from a parsed command line to the command, and from its result to an exit code.

use crate::cli::{AgentCommand, AppCommand, Cli, Command};
use crate::error::{Error, Result};
use crate::exec::{RealExecutor, ScriptExecutor};
use crate::registration::Registration;
use crate::report::{Reporter, Verbosity};
use crate::settings::Settings;
use crate::steps::agent::{DryRunAgent, Outcome};
use crate::steps::{Ctx, agent, down, guestbook, mgmt, needs, register, testing, up, verify};
use clap::{CommandFactory, FromArgMatches};
use std::io::Write;

pub(crate) fn main() -> i32 {
    let matches = match Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            let detailed = std::env::args_os().any(|a| a == "--detailed-exitcode");
            return match (e.use_stderr(), detailed) {
                (false, _) => 0,
                (true, true) => 1,
                (true, false) => 2,
            };
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
                return if cli.global.detailed_exitcode { 1 } else { e.code() };
            }
        },
        None => None,
    };
    // Terraform's convention: with --detailed-exitcode, 2 means "changes pending", so every
    // error is 1.
    let detailed = cli.global.detailed_exitcode;
    match dispatch(cli, fleet) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            if e.resumable() && !quiet {
                eprintln!("hint: fix the cause, then re-run the same command: finished steps are skipped");
            }
            if detailed { 1 } else { e.code() }
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
    let changes_nothing = matches!(
        cli.command,
        Command::Verify(_) | Command::Doctor | Command::Render(_) | Command::Completions { .. } | Command::Man { .. }
    );
    if cli.global.plan && changes_nothing {
        return Err(Error::Usage(
            "--plan shows what a command would change; this one changes nothing: run it without --plan".into(),
        ));
    }
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
        Command::Agent(AgentCommand::Install(args)) => match Registration::resolve(&args.register, settings.dry_run)? {
            Some(reg @ Registration::Harness { .. }) => Some(reg),
            _ => {
                return Err(Error::Usage(
                    "agent install needs --harness-account and --agent-id (and --harness-org, --harness-project for a project-level agent)".into(),
                ));
            }
        },
        Command::App(AppCommand::Guestbook { register, .. }) => {
            Some(Registration::resolve(register, settings.dry_run)?.ok_or_else(|| {
                Error::Usage(
                    "app guestbook needs the registration's options: --harness-account and --agent-id (Harness), or --to argocd"
                        .into(),
                )
            })?)
        }
        Command::Up {
            register,
            with_guestbook: true,
            ..
        } => Some(Registration::resolve(register, settings.dry_run)?.ok_or_else(|| {
            Error::Usage(
                "--with-guestbook deploys through the registered cluster: give the registration's options (--harness-account and --agent-id, or --to argocd)"
                    .into(),
            )
        })?),
        Command::Up { register, .. }
        | Command::Verify(crate::cli::VerifyArgs { register, .. })
        | Command::Down { register, .. } => Registration::resolve(register, settings.dry_run)?,
        _ => None,
    };
    if let Some(Registration::Harness { harness, .. }) = &registration
        && installs_agent(&cli.command)
    {
        harness.check_agent_scope()?;
    }
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
        && !cli.global.plan
    {
        down::confirm(&settings)?;
    }
    if settings.dry_run {
        let mut script = if matches!(cli.command, Command::Verify(_)) {
            ScriptExecutor::listing_reads()
        } else {
            ScriptExecutor::new()
        };
        script.propagation_timeout = cli.global.propagation_timeout;
        script.header(&settings, false);
        let ctx = Ctx::new(&settings, &script, &report);
        rt.block_on(execute(cli, &ctx, registration.as_ref()))?;
        print_stdout(&script.script())?;
        return Ok(0);
    }
    prepare(cli, &settings)?;
    if cli.global.plan {
        return plan(cli, &settings, registration.as_ref(), &rt);
    }
    let mut real = RealExecutor::new(&report);
    real.propagation_timeout = cli.global.propagation_timeout;
    let ctx = Ctx::new(&settings, &real, &report);
    let result = rt.block_on(async {
        let mut signals = crate::signals::Signals::new()?;
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
                    () = tokio::time::sleep(std::time::Duration::from_secs(30)) => {},
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

/// Whether the command creates and installs the Harness agent: `agent install`, and `up` with
/// Harness settings but no `--agent-manifest`.
fn installs_agent(command: &Command) -> bool {
    match command {
        Command::Agent(AgentCommand::Install(_)) => true,
        Command::Up { agent, register, .. } => agent.agent_manifest.is_none() && register.harness_account.is_some(),
        _ => false,
    }
}

/// What a run needs before it starts: its tools, its input files, its state directories.
fn prepare(cli: &Cli, settings: &Settings) -> Result<()> {
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
    Ok(())
}

/// `--plan`: the command's steps with real reads and printed mutations (see `plan.rs`).
fn plan(
    cli: &Cli,
    settings: &Settings,
    registration: Option<&Registration>,
    rt: &tokio::runtime::Runtime,
) -> Result<i32> {
    // Its progress lines would only say "changed" of what it did not change; -v still shows them.
    let verbosity = match settings.verbosity {
        Verbosity::Normal => Verbosity::Quiet,
        v => v,
    };
    let report = Reporter::new(verbosity, cli.global.output == crate::cli::OutputFormat::Json).for_plan();
    let mut real = RealExecutor::new(&report);
    real.propagation_timeout = cli.global.propagation_timeout;
    let mut script = ScriptExecutor::new();
    script.propagation_timeout = cli.global.propagation_timeout;
    script.header(settings, true);
    let plan = crate::plan::PlanExecutor::new(real, script, &report);
    let ctx = Ctx::new(settings, &plan, &report);
    let code = rt.block_on(execute(cli, &ctx, registration))?;
    let planned = plan.planned();
    let code = match (code, cli.global.detailed_exitcode && !planned.is_empty()) {
        (0, true) => 2,
        (code, _) => code,
    };
    report.plan_summary(&planned, code);
    if !planned.is_empty() && !report.is_json() {
        print_stdout(&plan.script())?;
    }
    Ok(code)
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
        Command::Agent(AgentCommand::Install(args)) => {
            let Some(reg @ Registration::Harness { harness, .. }) = registration else {
                unreachable!("resolved before the run")
            };
            needs::agent_patch(ctx).await?;
            register::script_reads_key(ctx, reg);
            crate::steps::agent_install::run(ctx, harness, args.wait_timeout).await?;
        }
        Command::Verify(args) => {
            let mut checks = verify::run(ctx, registration).await?;
            if args.live {
                let live = crate::steps::live::run(ctx, &checks).await?;
                checks.extend(live);
            }
            if ctx.report.is_json() {
                for c in &checks {
                    ctx.report.event(&crate::event::Event::Check {
                        check: &c.name,
                        status: c.verdict.label(),
                        detail: &c.detail,
                        fix: c.fix.as_deref(),
                    });
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
        Command::Up {
            policy,
            agent,
            with_guestbook,
            app,
            ..
        } => {
            let guestbook = with_guestbook.then_some(app.app_timeout);
            up::command(ctx, policy, agent, registration, guestbook).await?;
        }
        Command::App(AppCommand::Guestbook { wait, .. }) => {
            let reg = registration.expect("resolved before the run");
            needs::register(ctx).await?;
            guestbook::run(ctx, reg, wait.app_timeout).await?;
        }
        _ => unreachable!("handled in dispatch"),
    }
    Ok(0)
}

//! Dispatch: from a parsed command line to the command, and from its result to an exit code.

use crate::cli::{AgentCommand, Cli, Command};
use crate::error::{Error, Result};
use crate::exec::{RealExecutor, ScriptExecutor};
use crate::report::{Reporter, Verbosity};
use crate::settings::Settings;
use crate::steps::agent::{DryRunAgent, Outcome};
use crate::steps::{Ctx, agent, mgmt, testing, up};
use clap::{CommandFactory, Parser};
use std::io::Write;

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let quiet = cli.global.quiet;
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            if e.resumable() && !quiet {
                eprintln!(
                    "hint: fix the cause, then re-run the same command: finished steps are skipped"
                );
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

fn dispatch(cli: Cli) -> Result<i32> {
    match &cli.command {
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "gitops-iam", &mut out);
            print_stdout(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
        Command::Man => {
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
        Command::Doctor => {
            let (text, ok) = runtime()?.block_on(crate::doctor::run(&cli.global));
            print_stdout(&text)?;
            Ok(if ok { 0 } else { 1 })
        }
        _ => run_steps(&cli),
    }
}

/// The programs a command drives; checked before a real run starts.
fn required_tools(command: &Command) -> &'static [&'static str] {
    match command {
        Command::Mgmt(_) | Command::Testing => &["aws", "eksctl"],
        _ => &["aws", "eksctl", "kubectl"],
    }
}

fn run_steps(cli: &Cli) -> Result<i32> {
    let settings = Settings::resolve(&cli.global, &cli.env)?;
    // A dry-run's progress lines would only repeat the script; -v still shows them.
    let verbosity = if settings.dry_run && settings.verbosity == Verbosity::Normal {
        Verbosity::Quiet
    } else {
        settings.verbosity
    };
    let report = Reporter::new(verbosity);
    let rt = runtime()?;
    if settings.dry_run {
        let script = ScriptExecutor::new();
        script_header(&script, &settings);
        let ctx = Ctx::new(&settings, &script, &report);
        rt.block_on(execute(cli, &ctx))?;
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
    for dir in [settings.kubeconfig_dir(), settings.policy_dir()] {
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::Other(anyhow::anyhow!("creating {}: {e}", dir.display())))?;
    }
    let real = RealExecutor::new(&report);
    let ctx = Ctx::new(&settings, &real, &report);
    let result = rt.block_on(async {
        tokio::select! {
            r = execute(cli, &ctx) => r,
            _ = tokio::signal::ctrl_c() => {
                real.interrupt();
                report.warn("interrupted: stopping the running commands");
                Err(Error::Interrupted)
            }
        }
    });
    // Dropping the runtime kills the children that are still running (kill_on_drop).
    drop(rt);
    report.summary();
    let (mutations, commands) = real.counts();
    report.info(&format!(
        "{commands} commands run, {mutations} of them mutating"
    ));
    result
}

async fn execute(cli: &Cli, ctx: &Ctx<'_>) -> Result<i32> {
    let code = match &cli.command {
        Command::Mgmt(policy) => mgmt::run(ctx, policy.assume_any_role).await.map(|()| 0),
        Command::Testing => testing::run(ctx).await.map(|()| 0),
        Command::Agent(AgentCommand::Patch(args)) => {
            match agent::patch(ctx, args, DryRunAgent::Installed).await? {
                Outcome::Patched => Ok(0),
                Outcome::AgentMissing(missing) => Err(agent::missing_error(ctx, &missing)),
            }
        }
        Command::Up { policy, agent } => match up::run(ctx, policy, agent).await? {
            Outcome::Patched => Ok(0),
            Outcome::AgentMissing(missing) => {
                let next = next_command();
                let text = format!(
                    "the Harness GitOps agent is not installed yet (missing in namespace {}: {}).\nEverything else is done. Install the agent, then run:\n  {next}",
                    ctx.settings.namespace,
                    missing.join(", ")
                );
                if ctx.exec.is_dry_run() {
                    ctx.exec.comment(&text);
                } else {
                    ctx.report.warn(&text);
                }
                Ok(0)
            }
        },
        _ => unreachable!("handled in dispatch"),
    }?;
    Ok(code)
}

/// `gitops-iam agent patch` with the environment flags of this run.
fn next_command() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut out = vec!["gitops-iam".to_string(), "agent".into(), "patch".into()];
    for a in &args {
        if a == "up" || a == "--dry-run" {
            continue;
        }
        out.push(crate::cmd::quote(a));
    }
    out.join(" ")
}

fn script_header(script: &ScriptExecutor, settings: &Settings) {
    let invocation: Vec<String> = std::env::args()
        .skip(1)
        .map(|a| crate::cmd::quote(&a))
        .collect();
    script.line("#!/usr/bin/env bash");
    script.line(&format!("# gitops-iam {}", invocation.join(" ")));
    script.line(
        "# The commands a run from scratch issues, in order. Values only known at run time are",
    );
    script.line("# read into shell variables by the same read-only commands a real run uses.");
    script.line(&format!(
        "# Generated by gitops-iam {}.",
        env!("CARGO_PKG_VERSION")
    ));
    script.line("set -euo pipefail");
    if !matches!(settings.region, crate::cmd::Val::Known(_)) {
        script.line(&format!(
            "{0}=\"${{{0}:-${{AWS_DEFAULT_REGION:?pass --region to gitops-iam or set AWS_REGION}}}}\"",
            crate::settings::REGION_VAR
        ));
    }
    let dirs = [settings.kubeconfig_dir(), settings.policy_dir()]
        .map(|d| crate::cmd::quote(&d.to_string_lossy()))
        .join(" ");
    script.line(&format!("mkdir -p {dirs}"));
}

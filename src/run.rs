//! The three ways a command's steps run, one executor each (docs/architecture.md): a dry-run
//! prints the script, a plan reads for real and prints what it would change, a real run runs,
//! stops cleanly on a signal and ends with its summary.

use crate::cli::Cli;
use crate::error::{Error, Result, Signal};
use crate::exec::{RealExecutor, ScriptExecutor};
use crate::output::Printer;
use crate::registration::Registration;
use crate::report::{Reporter, Status};
use crate::settings::Settings;
use crate::steps::{Ctx, command};
use std::time::Duration;

/// How long a run waits for its running commands after a signal before it stops anyway.
const STOP_GRACE: Duration = Duration::from_secs(30);

pub(crate) struct Run<'a> {
    pub(crate) cli: &'a Cli,
    pub(crate) settings: &'a Settings,
    pub(crate) registration: Option<&'a Registration>,
    pub(crate) printer: Printer,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Other(anyhow::anyhow!("starting the async runtime: {e}")))
}

/// Runs `f` on the tool's async runtime.
pub(crate) fn block_on<F: std::future::Future>(f: F) -> Result<F::Output> {
    Ok(runtime()?.block_on(f))
}

/// [`block_on`] for unit tests, where a runtime that cannot start is a failed test.
#[cfg(test)]
pub(crate) fn wait<F: std::future::Future>(f: F) -> F::Output {
    block_on(f).expect("a tokio runtime")
}

impl Run<'_> {
    fn real_executor<'r>(&self, report: &'r Reporter) -> RealExecutor<'r> {
        let mut real = RealExecutor::new(report);
        real.propagation_timeout = self.cli.global.propagation_timeout;
        real
    }

    /// The script of a dry-run (`listing_reads`: `verify`'s, which prints its reads) or a plan.
    fn script(&self, listing_reads: bool, plan: bool) -> ScriptExecutor {
        let mut script = if listing_reads {
            ScriptExecutor::listing_reads()
        } else {
            ScriptExecutor::new()
        };
        script.propagation_timeout = self.cli.global.propagation_timeout;
        script.header(self.settings, plan);
        script
    }

    /// `--dry-run`: the command's steps against the script, printed on stdout.
    pub(crate) fn dry_run(&self) -> Result<i32> {
        let report = Reporter::new(self.printer);
        let listing_reads = matches!(self.cli.command, crate::cli::Command::Verify(_));
        let script = self.script(listing_reads, false);
        let ctx = Ctx::new(self.settings, &script, &report);
        block_on(command::execute(self.cli, &ctx, self.registration))??;
        report.result(&script.script())?;
        Ok(0)
    }

    /// `--plan`: real reads, printed mutations (see `plan.rs`).
    pub(crate) fn plan(&self) -> Result<i32> {
        let report = Reporter::new(self.printer);
        let plan = crate::plan::PlanExecutor::new(self.real_executor(&report), self.script(false, true), &report);
        let ctx = Ctx::new(self.settings, &plan, &report);
        let code = block_on(command::execute(self.cli, &ctx, self.registration))??;
        let planned = plan.planned();
        let code = match (code, self.cli.global.detailed_exitcode && !planned.is_empty()) {
            (0, true) => 2,
            (code, _) => code,
        };
        report.plan_summary(&planned, code);
        if !planned.is_empty() && !report.is_json() {
            report.result(&plan.script())?;
        }
        Ok(code)
    }

    /// A real run: a first signal lets the running commands stop (a second stops at once); the
    /// summary says what finished, so that re-running resumes.
    pub(crate) fn real(&self) -> Result<i32> {
        let report = Reporter::new(self.printer);
        let rt = runtime()?;
        let real = self.real_executor(&report);
        let ctx = Ctx::new(self.settings, &real, &report);
        let result = rt.block_on(async {
            let mut signals = crate::signals::Signals::new()?;
            let run = command::execute(self.cli, &ctx, self.registration);
            tokio::pin!(run);
            tokio::select! {
                r = &mut run => r,
                signal = signals.recv() => {
                    real.interrupt(signal);
                    report.warn(&format!(
                        "interrupted by {}: waiting for the running commands to stop ({} to stop at once)",
                        signal.name(),
                        if signal == Signal::Interrupt { "Ctrl-C again" } else { "send it again" }
                    ));
                    tokio::select! {
                        _ = &mut run => {},
                        _ = signals.recv() => {},
                        () = tokio::time::sleep(STOP_GRACE) => {},
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
            report.warn(&interrupted_after(&report));
            return Err(Error::Interrupted(signal));
        }
        result
    }
}

/// What an interrupted run finished, and how to resume it.
fn interrupted_after(report: &Reporter) -> String {
    let done: Vec<String> = report
        .records()
        .into_iter()
        .filter(|r| r.status != Status::Failed)
        .map(|r| r.step)
        .collect();
    let list = if done.is_empty() {
        String::new()
    } else {
        format!(" ({})", done.join(", "))
    };
    format!(
        "interrupted after {} finished step(s){list}; re-run the same command to resume",
        done.len()
    )
}

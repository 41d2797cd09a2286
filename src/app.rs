//! Dispatch: from a parsed command line to the command, and from its result to an exit code.
//!
//! The path of a command: `main.rs` → [`main`] (clap, `--config`) → [`dispatch`] → for the
//! commands with steps, `run.rs` picks the executor and `steps::command` the steps.

use crate::cli::{Cli, Command};
use crate::error::{Error, Result};
use crate::output::{Mode, Printer};
use crate::run::{Run, block_on};
use crate::settings::Settings;
use clap::{CommandFactory, FromArgMatches};

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
    // Terraform's convention: with --detailed-exitcode, 2 means "changes pending", so every
    // error is 1.
    let code_of = |e: &Error, detailed: bool| if detailed { 1 } else { e.code() };
    let fleet = match cli.global.config.clone() {
        Some(path) => match crate::config::load(&path).and_then(|cfg| crate::config::apply(cfg, &mut cli, &matches)) {
            Ok(fleet) => fleet,
            Err(e) => {
                eprintln!("error: {e}");
                return code_of(&e, cli.global.detailed_exitcode);
            }
        },
        None => None,
    };
    let mode = match (cli.global.dry_run, cli.global.plan) {
        (true, _) => Mode::DryRun,
        (_, true) => Mode::Plan,
        _ => Mode::Run,
    };
    let printer = Printer::new(&cli.global, mode);
    if let Err(e) = crate::log::init(cli.global.verbose, cli.global.log_file.as_deref()) {
        printer.error(&e);
        return code_of(&e, cli.global.detailed_exitcode);
    }
    let started = std::time::Instant::now();
    let span = tracing::info_span!("gitops_iam", command = %command_name(&matches), mode = mode.label()).entered();
    let (code, error) = match dispatch(&cli, fleet, mode, printer) {
        Ok(code) => (code, None),
        Err(e) => {
            printer.error(&e);
            (code_of(&e, cli.global.detailed_exitcode), Some(e.to_string()))
        }
    };
    let duration_ms = crate::report::millis(started.elapsed());
    tracing::info!(exit_code = code, duration_ms, error, "finished");
    drop(span);
    code
}

/// The subcommand as typed: `agent install`.
fn command_name(matches: &clap::ArgMatches) -> String {
    let mut names = Vec::new();
    let mut m = matches;
    while let Some((name, sub)) = m.subcommand() {
        names.push(name);
        m = sub;
    }
    names.join(" ")
}

fn dispatch(cli: &Cli, fleet: Option<Vec<crate::config::TestingEntry>>, mode: Mode, out: Printer) -> Result<i32> {
    let changes_nothing = matches!(
        cli.command,
        Command::Verify(_) | Command::Doctor | Command::Render(_) | Command::Completions { .. } | Command::Man { .. }
    );
    if mode == Mode::Plan && changes_nothing {
        return Err(Error::Usage(
            "--plan shows what a command would change; this one changes nothing: run it without --plan".into(),
        ));
    }
    match &cli.command {
        Command::Completions { shell } => out.stdout(&crate::generate::completions(*shell))?,
        Command::Man { dir: Some(dir) } => crate::generate::man_pages(dir)?,
        Command::Man { dir: None } => out.stdout(&crate::generate::man()?)?,
        Command::Render(cmd) => out.stdout(&crate::render::run(cmd, &cli.global, &cli.env)?)?,
        Command::Doctor if mode == Mode::DryRun => out.stdout(&crate::doctor::script(&cli.global))?,
        Command::Doctor => {
            let (text, ok) = block_on(crate::doctor::run(&cli.global))?;
            out.stdout(&text)?;
            return Ok(i32::from(!ok));
        }
        _ => return run_steps(cli, fleet.as_deref(), mode, out),
    }
    Ok(0)
}

fn run_steps(cli: &Cli, fleet: Option<&[crate::config::TestingEntry]>, mode: Mode, printer: Printer) -> Result<i32> {
    let settings = Settings::resolve(&cli.global, &cli.env, fleet)?;
    let registration = crate::registration::for_command(&cli.command, mode == Mode::DryRun)?;
    if let Command::Down { yes: false, .. } = &cli.command
        && mode == Mode::Run
    {
        crate::steps::down::confirm(&settings)?;
    }
    let run = Run {
        cli,
        settings: &settings,
        registration: registration.as_ref(),
        printer,
    };
    if mode == Mode::DryRun {
        return run.dry_run();
    }
    crate::preflight::check(cli, &settings)?;
    match mode {
        Mode::Plan => run.plan(),
        _ => run.real(),
    }
}

//! The one value that decides what the user sees, built once per run from `-q`/`-v`,
//! `--output`, the mode (run, `--dry-run`, `--plan`) and whether stderr is a terminal; as uv's
//! `Printer` does. Every print goes through it or through the `Reporter` built from it, so no
//! other place asks these questions again.
//!
//! stdout carries results only (the dry-run script, `render` output, `verify`'s checks, JSON
//! events); human text goes to stderr.

use crate::cli::{GlobalArgs, OutputFormat};
use crate::error::{Error, Result};
use crate::report::Verbosity;
use std::io::{IsTerminal, Write};

/// How a command's steps run; it changes what is worth showing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Run,
    /// `--dry-run`: stdout is the script.
    DryRun,
    /// `--plan`: real reads, printed mutations; the drift is the result.
    Plan,
}

impl Mode {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Mode::Run => "run",
            Mode::DryRun => "dry-run",
            Mode::Plan => "plan",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Printer {
    pub(crate) verbosity: Verbosity,
    /// JSON events on stdout (`--output json`).
    pub(crate) json: bool,
    /// Live progress lines on stderr.
    pub(crate) live: bool,
    /// A plan's drift and summary are shown even with `-q`, and read as a document.
    pub(crate) plan: bool,
    /// Hints on how to go on after an error: all but `-q` (a dry-run's quiet progress included).
    pub(crate) hints: bool,
}

impl Printer {
    pub(crate) fn new(global: &GlobalArgs, mode: Mode) -> Self {
        let asked = match (global.quiet, global.verbose) {
            (true, _) => Verbosity::Quiet,
            (_, 0) => Verbosity::Normal,
            _ => Verbosity::Verbose,
        };
        // A dry-run's or a plan's progress lines would only repeat the script (or say "changed"
        // of what a plan does not change); -v still shows them.
        let verbosity = match (mode, asked) {
            (Mode::DryRun | Mode::Plan, Verbosity::Normal) => Verbosity::Quiet,
            (_, v) => v,
        };
        Printer {
            verbosity,
            // A dry-run's output is its script: JSON events would corrupt it.
            json: global.output == OutputFormat::Json && mode != Mode::DryRun,
            live: shows_live(
                verbosity,
                std::io::stderr().is_terminal(),
                crate::log::asked().is_some(),
            ),
            plan: mode == Mode::Plan,
            hints: !global.quiet,
        }
    }

    /// Prints nothing but warnings (unit tests, `doctor`'s own reads).
    pub(crate) fn quiet() -> Self {
        Printer {
            verbosity: Verbosity::Quiet,
            json: false,
            live: false,
            plan: false,
            hints: false,
        }
    }

    /// A result on stdout. A closed pipe (`| head`) is not an error worth reporting.
    pub(crate) fn stdout(&self, text: &str) -> Result<()> {
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Other(e.into())),
            _ => Ok(()),
        }
    }

    /// The error a run ends with, and how to go on when re-running resumes it.
    pub(crate) fn error(&self, e: &Error) {
        eprintln!("error: {e}");
        if e.resumable() && self.hints {
            eprintln!("hint: fix the cause, then re-run the same command: finished steps are skipped");
        }
    }
}

/// Live lines redraw stderr in place: only on a terminal, and not when the diagnostic log writes
/// there too (`GITOPS_IAM_LOG`), whose lines they would overwrite.
fn shows_live(verbosity: Verbosity, terminal: bool, log_on_stderr: bool) -> bool {
    verbosity == Verbosity::Normal && terminal && !log_on_stderr
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn printer(args: &[&str], mode: Mode) -> Printer {
        let cli = crate::cli::Cli::try_parse_from([&["gitops-iam"], args, &["mgmt"]].concat()).unwrap();
        Printer::new(&cli.global, mode)
    }

    #[test]
    fn a_dry_run_prints_only_its_script_unless_asked_for_more() {
        let p = printer(&["--output", "json"], Mode::DryRun);
        assert_eq!((p.verbosity, p.json, p.live), (Verbosity::Quiet, false, false));
        assert_eq!(printer(&["-v"], Mode::DryRun).verbosity, Verbosity::Verbose);
    }

    #[test]
    fn a_plan_keeps_json_events_and_quiets_progress() {
        let p = printer(&["--output", "json"], Mode::Plan);
        assert_eq!((p.verbosity, p.json, p.plan), (Verbosity::Quiet, true, true));
    }

    #[test]
    fn a_run_shows_progress_at_the_asked_verbosity() {
        assert_eq!(printer(&[], Mode::Run).verbosity, Verbosity::Normal);
        assert_eq!(printer(&["-q"], Mode::Run).verbosity, Verbosity::Quiet);
        let p = printer(&["-v", "--output", "json"], Mode::Run);
        assert_eq!((p.verbosity, p.json, p.live), (Verbosity::Verbose, true, false));
    }

    #[test]
    fn live_lines_only_on_a_terminal_without_the_log_on_it() {
        assert!(shows_live(Verbosity::Normal, true, false));
        assert!(!shows_live(Verbosity::Normal, false, false));
        assert!(!shows_live(Verbosity::Normal, true, true));
        assert!(!shows_live(Verbosity::Verbose, true, false));
    }
}

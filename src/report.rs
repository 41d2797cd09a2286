//! What the user sees while the tool works: progress, JSON events and a summary.
//!
//! stdout is reserved for results (the dry-run script, `render` output, `verify` checks, JSON
//! events), so human text goes to stderr. Verbosity is decided once: `-q` shows only warnings and
//! errors, `-v` also every command as it runs. On a terminal each running step gets a live line
//! with its elapsed time and the latest line its command printed (eksctl's progress during a
//! 15-minute cluster creation); elsewhere lines are plain and timestamped. With `--output json`,
//! stdout carries one JSON object per line (see docs/output.md).

use crate::cmd::Cmd;
use crate::event::{Event, StepSummary};
use crate::output::Printer;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::future::Future;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tracing::Instrument as _;

tokio::task_local! {
    /// The step the current task works for, so command output can be shown on its line.
    static CURRENT_STEP: String;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// The result of one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Changed,
    Unchanged,
    Failed,
    /// Could not run because a prerequisite is missing (e.g. the agent is not installed).
    Pending,
}

impl Status {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Status::Changed => "changed",
            Status::Unchanged => "unchanged",
            Status::Failed => "failed",
            Status::Pending => "pending",
        }
    }
}

/// What one step did, for the final summary.
#[derive(Clone, Debug)]
pub(crate) struct StepRecord {
    pub step: String,
    pub status: Status,
    pub duration: Duration,
    pub changes: Vec<String>,
}

/// The changes a step made, in words ("created role ArgoCD").
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Changes(pub Vec<String>);

impl Changes {
    pub(crate) fn none() -> Self {
        Changes(Vec::new())
    }

    pub(crate) fn push(&mut self, what: impl Into<String>) {
        self.0.push(what.into());
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

pub(crate) struct Reporter {
    /// What to show: decided once, read here, never copied.
    printer: Printer,
    start: Instant,
    records: Mutex<Vec<StepRecord>>,
    sink: Mutex<Box<dyn Write + Send>>,
    progress: Option<MultiProgress>,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Reporter {
    /// Shows what `printer` decided: events on stdout with JSON, live progress on a terminal.
    pub(crate) fn new(printer: Printer) -> Self {
        let mut r = Self::with_sink(printer.verbosity, Box::new(std::io::stderr()));
        r.printer = printer;
        r.progress = printer
            .live
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        r
    }

    pub(crate) fn with_sink(verbosity: Verbosity, sink: Box<dyn Write + Send>) -> Self {
        Reporter {
            printer: Printer {
                verbosity,
                ..Printer::quiet()
            },
            start: Instant::now(),
            records: Mutex::new(Vec::new()),
            sink: Mutex::new(sink),
            progress: None,
            bars: Mutex::new(HashMap::new()),
        }
    }

    /// A reporter that prints nothing (unit tests, `doctor`).
    pub(crate) fn silent() -> Self {
        Self::with_sink(Verbosity::Quiet, Box::new(std::io::sink()))
    }

    fn print(&self, min: Verbosity, text: &str) {
        if self.printer.verbosity < min {
            return;
        }
        let elapsed = self.start.elapsed().as_secs_f64();
        let mut out = String::new();
        for line in text.lines() {
            // A plan's result (its drift, its summary) is read as a document, a PR comment.
            if self.printer.plan && min == Verbosity::Quiet {
                let _ = writeln!(out, "{line}");
            } else {
                let _ = writeln!(out, "[{elapsed:>6.1}s] {line}");
            }
        }
        match &self.progress {
            // Printing above the live lines keeps them intact.
            Some(mp) => {
                let _ = mp.println(out.trim_end());
            }
            None => {
                let _ = self.sink.lock().unwrap().write_all(out.as_bytes());
            }
        }
    }

    /// One JSON object on a line of stdout (only with `--output json`).
    pub(crate) fn event(&self, event: &Event<'_>) {
        if self.printer.json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", serde_json::to_string(event).expect("events serialize"));
            let _ = out.flush();
        }
    }

    pub(crate) fn is_json(&self) -> bool {
        self.printer.json
    }

    /// A command's result on stdout (the script, the checks).
    pub(crate) fn result(&self, text: &str) -> crate::error::Result<()> {
        self.printer.stdout(text)
    }

    pub(crate) fn info(&self, text: &str) {
        self.print(Verbosity::Normal, text);
    }

    /// A line that must be seen even with `-q`.
    pub(crate) fn warn(&self, text: &str) {
        self.print(Verbosity::Quiet, text);
    }

    pub(crate) fn command(&self, cmd: &Cmd) {
        self.command_text(&cmd.to_string(), cmd.is_mutating());
    }

    /// A command (or HTTP request) as it starts: shown with `-v`, and as a JSON event then.
    pub(crate) fn command_text(&self, shell: &str, mutating: bool) {
        self.print(Verbosity::Verbose, &format!("$ {shell}"));
        if self.printer.verbosity == Verbosity::Verbose {
            self.event(&Event::Command {
                step: self.current_step(),
                command: shell,
                mutating,
            });
        }
    }

    /// A line a running command printed: the live line of its step shows the latest one.
    pub(crate) fn output_line(&self, line: &str) {
        let Ok(step) = CURRENT_STEP.try_with(Clone::clone) else {
            return;
        };
        if let Some(bar) = self.bars.lock().unwrap().get(&step) {
            bar.set_message(line.trim().to_string());
        }
    }

    /// Shows how a document drifted from what it should be.
    pub(crate) fn diff(&self, what: &str, current: &str, desired: &str) {
        let diff = similar::TextDiff::from_lines(current, desired);
        let body = diff
            .unified_diff()
            .context_radius(3)
            .header(&format!("{what} (current)"), &format!("{what} (desired)"))
            .to_string();
        // A value the plan's script reads when it runs shows as the shell variable it is there.
        let body = crate::cmd::Arg::from_template(&body).shell_text();
        self.event(&Event::Drift {
            object: what,
            diff: &body,
        });
        let level = if self.printer.plan {
            Verbosity::Quiet
        } else {
            Verbosity::Normal
        };
        self.print(level, &format!("drift in {what}:\n{body}"));
    }

    /// The step the calling task works for.
    pub(crate) fn current_step(&self) -> Option<String> {
        CURRENT_STEP.try_with(Clone::clone).ok()
    }

    /// A command that `--plan` prints instead of running: a JSON event.
    pub(crate) fn planned(&self, command: &str, purpose: &str, resource: Option<&str>) {
        self.event(&Event::Planned {
            step: self.current_step(),
            command,
            purpose,
            resource,
        });
    }

    fn start_bar(&self, name: &str) {
        let Some(mp) = &self.progress else { return };
        let bar = mp.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix} [{elapsed}] {wide_msg}")
                .expect("valid template")
                .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ "),
        );
        bar.set_prefix(name.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        self.bars.lock().unwrap().insert(name.to_string(), bar);
    }

    fn end_bar(&self, name: &str) {
        if let Some(bar) = self.bars.lock().unwrap().remove(name) {
            bar.finish_and_clear();
        }
    }

    /// Runs one named step: shows it while it runs, records the outcome, names it in errors.
    /// The body returns the changes it made and any value later steps need.
    pub(crate) async fn step<T, F>(&self, name: &str, body: F) -> crate::error::Result<T>
    where
        F: Future<Output = crate::error::Result<(Changes, T)>>,
    {
        self.event(&Event::StepStart { step: name });
        if self.progress.is_none() {
            self.info(&format!("{name}: started"));
        }
        self.start_bar(name);
        let started = Instant::now();
        let span = tracing::info_span!("step", step = name);
        let result = CURRENT_STEP
            .scope(name.to_string(), body)
            .instrument(span.clone())
            .await;
        let duration = started.elapsed();
        self.end_bar(name);
        let (status, changes) = match &result {
            Ok((c, _)) if c.is_empty() => (Status::Unchanged, Vec::new()),
            Ok((c, _)) => (Status::Changed, c.0.clone()),
            Err(_) => (Status::Failed, Vec::new()),
        };
        let secs = duration.as_secs_f64();
        match status {
            Status::Changed => self.info(&format!(
                "{name}: {} in {secs:.1}s ({})",
                status.label(),
                changes.join("; ")
            )),
            _ => self.info(&format!("{name}: {} in {secs:.1}s", status.label())),
        }
        let error = result.as_ref().err().map(std::string::ToString::to_string);
        span.in_scope(|| {
            tracing::info!(
                status = status.label(),
                duration_ms = millis(duration),
                changes = ?changes,
                error,
                "step finished"
            );
        });
        self.event(&Event::StepFinish {
            step: name,
            status: status.label(),
            changed: status == Status::Changed,
            changes: &changes,
            duration_ms: millis(duration),
            error,
        });
        self.record(StepRecord {
            step: name.to_string(),
            status,
            duration,
            changes,
        });
        result.map(|(_, value)| value).map_err(|e| e.in_step(name))
    }

    pub(crate) fn record(&self, record: StepRecord) {
        self.records.lock().unwrap().push(record);
    }

    pub(crate) fn records(&self) -> Vec<StepRecord> {
        self.records.lock().unwrap().clone()
    }

    /// The end of a plan: what it would change (stderr), and with `--output json` the `plan`
    /// event.
    pub(crate) fn plan_summary(&self, planned: &[crate::plan::Planned], exit_code: i32) {
        let mut text = match planned.len() {
            0 => "No changes: the environment matches the settings; a run would change nothing.".to_string(),
            1 => "Plan: 1 change:".to_string(),
            n => format!("Plan: {n} changes:"),
        };
        for p in planned {
            let _ = write!(text, "\n  {}: {}", p.step.as_deref().unwrap_or("-"), p.purpose);
        }
        if !planned.is_empty() && !self.printer.json {
            text.push_str("\nstdout has them as a bash script; the same command without --plan runs them.");
        }
        self.warn(&text);
        self.event(&Event::Plan {
            changes: planned.len(),
            exit_code,
            duration_ms: millis(self.start.elapsed()),
        });
    }

    /// The final table (stderr) and, with `--output json`, the summary event.
    pub(crate) fn summary(&self, outcome: &crate::error::Result<i32>, commands: usize, mutating: usize) {
        let records = self.records();
        let total = self.start.elapsed();
        if !records.is_empty() {
            let width = records.iter().map(|r| r.step.len()).max().unwrap_or(0);
            let mut text = String::from("summary:\n");
            for r in &records {
                let _ = writeln!(
                    text,
                    "  {:width$}  {:9}  {:>7.1}s  {}",
                    r.step,
                    r.status.label(),
                    r.duration.as_secs_f64(),
                    r.changes.join("; ")
                );
            }
            let _ = write!(
                text,
                "  total {:.1}s, {commands} commands, {mutating} of them mutating",
                total.as_secs_f64()
            );
            self.info(&text);
        }
        let status = match outcome {
            Ok(0) => "ok",
            Ok(_) => "failed",
            Err(e) if e.is_interrupted() => "interrupted",
            Err(_) => "failed",
        };
        self.event(&Event::Summary {
            status,
            exit_code: match outcome {
                Ok(c) => *c,
                Err(e) => e.code(),
            },
            error: outcome.as_ref().err().map(std::string::ToString::to_string),
            duration_ms: millis(total),
            commands,
            mutating_commands: mutating,
            steps: records
                .iter()
                .map(|r| StepSummary {
                    step: &r.step,
                    status: r.status.label(),
                    changed: r.status == Status::Changed,
                    changes: &r.changes,
                    duration_ms: millis(r.duration),
                })
                .collect(),
        });
    }
}

/// Milliseconds, as the events give durations.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

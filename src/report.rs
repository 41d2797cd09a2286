//! What the user sees while the tool works: progress and a summary on stderr.
//!
//! stdout is reserved for results (the dry-run script, `render` output, JSON), so everything here
//! goes to stderr. Verbosity is decided once: `-q` shows only errors, `-v` also every command as it
//! runs. Lines carry the elapsed time, since cluster creation runs for many minutes.

use crate::cmd::Cmd;
use std::fmt::Write as _;
use std::future::Future;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// The result of one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Changed,
    Unchanged,
    Failed,
    /// Could not run because a prerequisite is missing (e.g. the agent is not installed).
    Pending,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Changed => "changed",
            Status::Unchanged => "unchanged",
            Status::Failed => "FAILED",
            Status::Pending => "pending",
        }
    }
}

/// What one step did, for the final summary.
#[derive(Clone, Debug)]
pub struct StepRecord {
    pub step: String,
    pub status: Status,
    pub duration: Duration,
    pub changes: Vec<String>,
}

/// The changes a step made, in words ("created role ArgoCD").
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes(pub Vec<String>);

impl Changes {
    pub fn none() -> Self {
        Changes(Vec::new())
    }

    pub fn push(&mut self, what: impl Into<String>) {
        self.0.push(what.into());
    }

    pub fn extend(&mut self, other: Changes) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

pub struct Reporter {
    verbosity: Verbosity,
    start: Instant,
    records: Mutex<Vec<StepRecord>>,
    sink: Mutex<Box<dyn Write + Send>>,
}

impl Reporter {
    pub fn new(verbosity: Verbosity) -> Self {
        Self::with_sink(verbosity, Box::new(std::io::stderr()))
    }

    pub fn with_sink(verbosity: Verbosity, sink: Box<dyn Write + Send>) -> Self {
        Reporter {
            verbosity,
            start: Instant::now(),
            records: Mutex::new(Vec::new()),
            sink: Mutex::new(sink),
        }
    }

    /// A reporter that prints nothing (unit tests).
    pub fn silent() -> Self {
        Self::with_sink(Verbosity::Quiet, Box::new(std::io::sink()))
    }

    fn print(&self, min: Verbosity, text: &str) {
        if self.verbosity < min {
            return;
        }
        let elapsed = self.start.elapsed().as_secs_f64();
        let mut out = String::new();
        for line in text.lines() {
            let _ = writeln!(out, "[{elapsed:>6.1}s] {line}");
        }
        let _ = self.sink.lock().unwrap().write_all(out.as_bytes());
    }

    pub fn info(&self, text: &str) {
        self.print(Verbosity::Normal, text);
    }

    /// A line that must be seen even with `-q`.
    pub fn warn(&self, text: &str) {
        self.print(Verbosity::Quiet, text);
    }

    pub fn command(&self, cmd: &Cmd) {
        self.print(Verbosity::Verbose, &format!("$ {cmd}"));
    }

    /// A line shown only with `-v`.
    pub fn info_verbose(&self, text: &str) {
        self.print(Verbosity::Verbose, text);
    }

    /// Shows how a document drifted from what it should be.
    pub fn diff(&self, what: &str, current: &str, desired: &str) {
        let diff = similar::TextDiff::from_lines(current, desired);
        let body = diff
            .unified_diff()
            .context_radius(3)
            .header(&format!("{what} (current)"), &format!("{what} (desired)"))
            .to_string();
        self.info(&format!("drift in {what}:\n{body}"));
    }

    /// Runs one named step: prints its start and end, records the outcome, names it in errors.
    /// The body returns the changes it made and any value later steps need.
    pub async fn step<T, F>(&self, name: &str, body: F) -> crate::error::Result<T>
    where
        F: Future<Output = crate::error::Result<(Changes, T)>>,
    {
        self.info(&format!("{name}: started"));
        let started = Instant::now();
        let result = body.await;
        let duration = started.elapsed();
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
        self.record(StepRecord {
            step: name.to_string(),
            status,
            duration,
            changes,
        });
        result.map(|(_, value)| value).map_err(|e| e.in_step(name))
    }

    pub fn record(&self, record: StepRecord) {
        self.records.lock().unwrap().push(record);
    }

    pub fn records(&self) -> Vec<StepRecord> {
        self.records.lock().unwrap().clone()
    }

    /// The final table: one line per step with its result and duration.
    pub fn summary(&self) {
        let records = self.records();
        if records.is_empty() {
            return;
        }
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
        let _ = write!(text, "  total {:.1}s", self.start.elapsed().as_secs_f64());
        self.info(&text);
    }
}

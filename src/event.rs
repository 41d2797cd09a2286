//! The JSON events of `--output json`: one value per line of stdout, each with its `event` name
//! (docs/output.md documents each variant; a test checks that every one has its section there).

use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum Event<'a> {
    StepStart {
        step: &'a str,
    },
    StepFinish {
        step: &'a str,
        status: &'static str,
        changed: bool,
        changes: &'a [String],
        duration_ms: u64,
        error: Option<String>,
    },
    /// A command as it starts (with `-v`).
    Command {
        step: Option<String>,
        command: &'a str,
        mutating: bool,
    },
    /// One `verify` check.
    Check {
        check: &'a str,
        status: &'static str,
        detail: &'a str,
        fix: Option<&'a str>,
    },
    /// A document or object that differs from what it should be.
    Drift {
        object: &'a str,
        diff: &'a str,
    },
    /// A command `--plan` prints instead of running.
    Planned {
        step: Option<String>,
        command: &'a str,
        purpose: &'a str,
        resource: Option<&'a str>,
    },
    /// The end of a plan.
    Plan {
        changes: usize,
        exit_code: i32,
        duration_ms: u64,
    },
    /// The end of a run.
    Summary {
        status: &'static str,
        exit_code: i32,
        error: Option<String>,
        duration_ms: u64,
        commands: usize,
        mutating_commands: usize,
        steps: Vec<StepSummary<'a>>,
    },
}

/// One step in the `summary` event.
#[derive(Debug, Serialize)]
pub(crate) struct StepSummary<'a> {
    pub step: &'a str,
    pub status: &'static str,
    pub changed: bool,
    pub changes: &'a [String],
    pub duration_ms: u64,
}

impl Event<'_> {
    /// The `event` field.
    #[cfg(test)]
    fn name(&self) -> &'static str {
        match self {
            Event::StepStart { .. } => "step_start",
            Event::StepFinish { .. } => "step_finish",
            Event::Command { .. } => "command",
            Event::Check { .. } => "check",
            Event::Drift { .. } => "drift",
            Event::Planned { .. } => "planned",
            Event::Plan { .. } => "plan",
            Event::Summary { .. } => "summary",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each variant (the exhaustive `name` makes a new variant come here).
    fn every_event() -> Vec<Event<'static>> {
        vec![
            Event::StepStart { step: "s" },
            Event::StepFinish {
                step: "s",
                status: "changed",
                changed: true,
                changes: &[],
                duration_ms: 1,
                error: None,
            },
            Event::Command {
                step: None,
                command: "c",
                mutating: false,
            },
            Event::Check {
                check: "c",
                status: "ok",
                detail: "d",
                fix: None,
            },
            Event::Drift { object: "o", diff: "d" },
            Event::Planned {
                step: None,
                command: "c",
                purpose: "p",
                resource: None,
            },
            Event::Plan {
                changes: 0,
                exit_code: 0,
                duration_ms: 1,
            },
            Event::Summary {
                status: "ok",
                exit_code: 0,
                error: None,
                duration_ms: 1,
                commands: 0,
                mutating_commands: 0,
                steps: Vec::new(),
            },
        ]
    }

    #[test]
    fn every_event_is_named_by_its_tag_and_documented() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/output.md")).unwrap();
        for event in every_event() {
            let json = serde_json::to_value(&event).unwrap();
            assert_eq!(json["event"], event.name(), "{json}");
            let name = event.name();
            assert!(
                doc.lines()
                    .any(|l| l.starts_with("### ") && l.contains(&format!("`{name}`"))),
                "docs/output.md has no section for the `{name}` event"
            );
        }
    }
}

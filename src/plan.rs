//! `--plan`: what a run would change now, as a runnable script, without changing anything.
//!
//! The [`PlanExecutor`] answers every read-only observation for real (through a
//! [`RealExecutor`]), so the steps decide exactly as a real run from the current state would;
//! every mutating command they then issue is printed instead of run (through a
//! [`ScriptExecutor`], so in the dry-run's form: background creations, propagation waits).
//!
//! After a planned command, the plan cannot know the state it leaves: a read of a resource a
//! planned command changes (the nodegroups of a cluster it creates, the objects behind a
//! kubeconfig it writes) answers "not there yet", as in a dry-run, and a value such a read
//! would give (the new cluster's OIDC issuer) becomes a shell variable that the script reads
//! when it runs. Lines that only serve printed commands (reading such a value, writing a policy
//! file, reading the API key) are held back until a printed command uses them, so a converged
//! environment plans nothing at all.

use crate::cmd::{Cmd, Val};
use crate::error::Result;
use crate::exec::{BoxFuture, Executor, Output, ReadAhead, RealExecutor, ScriptExecutor, Transform};
use crate::http::{HttpRequest, HttpResponse};
use crate::render::Render;
use crate::report::Reporter;
use crate::resource::Selector;
use std::path::Path;
use std::sync::Mutex;

/// One command the plan prints.
#[derive(Clone, Debug)]
pub(crate) struct Planned {
    /// The step that needs it.
    pub step: Option<String>,
    pub purpose: String,
}

/// Script lines that printed commands may need, printed just before the first that does.
struct Pending {
    /// Text whose presence in a printed line means that line needs these (a `${VAR}`, a path).
    needed_by: String,
    lines: Vec<String>,
}

pub(crate) struct PlanExecutor<'r> {
    real: RealExecutor<'r>,
    script: ScriptExecutor,
    report: &'r Reporter,
    /// What planned commands change (see [`Cmd::changes`]).
    touched: Mutex<Vec<Selector>>,
    pending: Mutex<Vec<Pending>>,
    planned: Mutex<Vec<Planned>>,
}

impl<'r> PlanExecutor<'r> {
    pub(crate) fn new(real: RealExecutor<'r>, script: ScriptExecutor, report: &'r Reporter) -> Self {
        PlanExecutor {
            real,
            script,
            report,
            touched: Mutex::new(Vec::new()),
            pending: Mutex::new(Vec::new()),
            planned: Mutex::new(Vec::new()),
        }
    }

    /// The real executor behind the reads (its counters).
    #[cfg(test)]
    fn real(&self) -> &RealExecutor<'r> {
        &self.real
    }

    /// The commands planned so far, in order.
    pub(crate) fn planned(&self) -> Vec<Planned> {
        self.planned.lock().unwrap().clone()
    }

    /// The script: the header given to [`ScriptExecutor`], then what was planned.
    pub(crate) fn script(&self) -> String {
        self.script.script()
    }

    /// Whether the plan cannot run `cmd` for real: it reads what a planned command changes,
    /// or an argument is a value only the script will know.
    fn unseen(&self, cmd: &Cmd) -> bool {
        if !cmd.is_known() {
            return true;
        }
        let touched = self.touched.lock().unwrap();
        touched.iter().any(|t| cmd.is_about(t))
    }

    fn hold(&self, needed_by: String, lines: Vec<String>) {
        let mut pending = self.pending.lock().unwrap();
        // A file written again replaces what the first write would have printed.
        pending.retain(|p| p.needed_by != needed_by);
        pending.push(Pending { needed_by, lines });
    }

    /// Prints the held-back lines that `text` needs, and those they need in turn, in the order
    /// they were held back.
    fn release_for(&self, text: &str) {
        let mut pending = self.pending.lock().unwrap();
        let mut needed = vec![false; pending.len()];
        let mut frontier = vec![text.to_string()];
        while let Some(t) = frontier.pop() {
            for (i, p) in pending.iter().enumerate() {
                if !needed[i] && t.contains(&p.needed_by) {
                    needed[i] = true;
                    frontier.extend(p.lines.iter().cloned());
                }
            }
        }
        let mut i = 0;
        pending.retain(|p| {
            let keep = !needed[i];
            i += 1;
            if !keep {
                for line in &p.lines {
                    self.script.line(line);
                }
            }
            keep
        });
    }

    fn record(&self, command: String, purpose: &str, resource: Option<&str>) {
        self.report.planned(&command, purpose, resource);
        self.planned.lock().unwrap().push(Planned {
            step: self.report.current_step(),
            purpose: purpose.to_string(),
        });
    }

    fn success() -> Output {
        Output {
            status: Some(0),
            ..Output::default()
        }
    }
}

impl Executor for PlanExecutor<'_> {
    fn waits(&self) -> bool {
        false
    }

    fn knows(&self, cmd: &Cmd) -> bool {
        !self.unseen(cmd)
    }

    fn observe<'a>(&'a self, cmd: &'a Cmd) -> BoxFuture<'a, Result<Option<Output>>> {
        Box::pin(async move {
            if self.unseen(cmd) {
                return Ok(None);
            }
            self.real.observe(cmd).await
        })
    }

    fn capture<'a>(&'a self, var: &'a str, cmd: &'a Cmd, transform: Transform) -> BoxFuture<'a, Result<Val>> {
        Box::pin(async move {
            if !self.unseen(cmd) {
                return self.real.capture(var, cmd, transform).await;
            }
            let mut lines = vec![format!("{var}=$({cmd})")];
            if let Transform::StripPrefix(prefix) = transform {
                lines.push(format!("{var}=\"${{{var}#{prefix}}}\""));
            }
            self.hold(format!("${{{var}}}"), lines);
            Ok(Val::var(var))
        })
    }

    fn run<'a>(&'a self, cmd: &'a Cmd) -> BoxFuture<'a, Result<Output>> {
        Box::pin(async move {
            if !cmd.is_mutating() && !self.unseen(cmd) {
                // A wait or a local file (a kubeconfig) that the observations need.
                return self.real.run(cmd).await;
            }
            let shell = cmd.to_string();
            self.release_for(&shell);
            self.script.run(cmd).await?;
            if cmd.is_mutating() {
                // As the real executor drops what it read ahead: a command that names no
                // resource may change anything.
                self.touched.lock().unwrap().extend(cmd.changes());
                let resource = cmd.resource.as_ref().map(ToString::to_string);
                self.record(shell, &cmd.purpose, resource.as_deref());
            }
            Ok(Self::success())
        })
    }

    fn write_file(&self, path: &Path, _contents: &str, render: &Render) -> Result<()> {
        // Nothing is written: the script writes the file just before the command that reads it.
        let shown = path.to_string_lossy().into_owned();
        let line = format!("{render} > {}", crate::cmd::quote(&shown));
        self.hold(shown, vec![line]);
        Ok(())
    }

    fn comment(&self, text: &str) {
        self.report.info(text);
    }

    fn http_observe<'a>(&'a self, req: &'a HttpRequest) -> BoxFuture<'a, Result<Option<HttpResponse>>> {
        self.real.http_observe(req)
    }

    fn http_run<'a>(&'a self, req: &'a HttpRequest) -> BoxFuture<'a, Result<HttpResponse>> {
        Box::pin(async move {
            let shell = req.to_string();
            self.release_for(&shell);
            self.script.line(&shell);
            self.record(shell, &req.purpose, None);
            Ok(HttpResponse {
                status: 200,
                body: String::new(),
            })
        })
    }

    fn polls(&self) -> bool {
        false
    }

    fn script_only(&self, line: &str) {
        // `NAME=...` is needed by the lines that use `${NAME}`.
        let needed_by = match line.split_once('=') {
            Some((name, _)) if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                format!("${{{name}}}")
            }
            _ => String::new(),
        };
        self.hold(needed_by, vec![line.to_string()]);
    }

    fn read_ahead(&self) -> Option<&dyn ReadAhead> {
        Some(self)
    }
}

/// The plan reads ahead what it reads at all: what no planned command changes.
impl ReadAhead for PlanExecutor<'_> {
    fn prefetch(&self, rounds: Vec<Vec<Cmd>>) -> BoxFuture<'_, ()> {
        let seen = rounds
            .into_iter()
            .map(|cmds| cmds.into_iter().filter(|c| !self.unseen(c)).collect())
            .collect();
        self.real.prefetch(seen)
    }

    fn forget(&self, what: &Selector) {
        self.real.forget(what);
    }

    fn forget_failures(&self, what: &Selector) {
        self.real.forget_failures(what);
    }

    fn remember(&self, var: &str, value: &str) {
        self.real.remember(var, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::Effect;
    use crate::run::wait as block_on;

    fn key(path: &'static str) -> crate::resource::Resource {
        crate::resource::Resource::kube("k".into(), path.split('/'))
    }

    fn plan(report: &Reporter) -> PlanExecutor<'_> {
        PlanExecutor::new(RealExecutor::new(report), ScriptExecutor::new(), report)
    }

    #[test]
    fn reads_run_mutations_print() {
        let report = Reporter::silent();
        let p = plan(&report);
        let read = Cmd::new("echo", Effect::Read, "read").arg("state").resource(key("a/b"));
        let out = block_on(p.observe(&read)).unwrap().unwrap();
        assert_eq!(out.stdout.trim(), "state");
        let touch = Cmd::new("touch", Effect::Mutate, "change a")
            .arg("/nonexistent/x")
            .resource(key("a"));
        block_on(p.run(&touch)).unwrap();
        assert_eq!(p.script(), "touch /nonexistent/x\n");
        assert_eq!(p.real().counts(), (0, 1), "only the read ran");
        // What the planned command changes is not there yet for the plan.
        assert!(block_on(p.observe(&read)).unwrap().is_none());
        let other = Cmd::new("echo", Effect::Read, "read").arg("other").resource(key("ab"));
        assert!(
            block_on(p.observe(&other)).unwrap().is_some(),
            "a sibling key is not under r:a"
        );
        assert_eq!(p.planned().len(), 1);
    }

    #[test]
    fn held_lines_print_only_for_the_commands_that_need_them() {
        let report = Reporter::silent();
        let p = plan(&report);
        block_on(p.run(&Cmd::new("create", Effect::Mutate, "make c").resource(key("c")))).unwrap();
        let issuer = Cmd::new("describe", Effect::Read, "read issuer")
            .arg("c")
            .resource(key("c"));
        let v = block_on(p.capture("ISSUER", &issuer, Transform::StripPrefix("https://"))).unwrap();
        assert_eq!(v, Val::var("ISSUER"));
        let render = Render {
            cmd: Cmd::new("gitops-iam", Effect::Read, "render")
                .arg("render")
                .arg(crate::cmd::Arg::from(&v)),
            current: None,
        };
        p.write_file(Path::new("s/trust.json"), "", &render).unwrap();
        p.write_file(Path::new("s/unused.json"), "", &render).unwrap();
        p.script_only("API_KEY=\"$(cat f)\"");
        block_on(
            p.run(
                &Cmd::new("aws", Effect::Mutate, "create role")
                    .arg("file://s/trust.json")
                    .resource(key("role")),
            ),
        )
        .unwrap();
        assert_eq!(
            p.script(),
            "create\nISSUER=$(describe c)\nISSUER=\"${ISSUER#https://}\"\ngitops-iam render \"${ISSUER}\" > s/trust.json\naws file://s/trust.json\n"
        );
    }
}

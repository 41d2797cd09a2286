//! Child processes: spawning a [`Cmd`] (argv only, stdin closed, output captured, bounded in
//! time), the registry of running children that a signal reaches, and the command counters.

use super::{Output, install_hint};
use crate::cmd::Cmd;
use crate::error::{CommandError, Error, Result, Signal};
use crate::report::Reporter;
use std::collections::HashSet;
use std::io::ErrorKind;
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

pub(super) struct Children<'r> {
    pub(super) report: &'r Reporter,
    default_timeout: Duration,
    mutations: AtomicUsize,
    commands: AtomicUsize,
    /// The signal that stopped the run, if one did.
    interrupted: Mutex<Option<Signal>>,
    running: Mutex<HashSet<u32>>,
    /// Whether the process had a controlling terminal when the run started (see `interrupt`).
    had_terminal: bool,
}

impl<'r> Children<'r> {
    pub(super) fn new(report: &'r Reporter) -> Self {
        Children {
            report,
            default_timeout: Duration::from_secs(15 * 60),
            mutations: AtomicUsize::new(0),
            commands: AtomicUsize::new(0),
            interrupted: Mutex::new(None),
            running: Mutex::new(HashSet::new()),
            had_terminal: terminal::foreground().is_some(),
        }
    }

    /// Number of (mutating, all) commands and requests so far.
    pub(super) fn counts(&self) -> (usize, usize) {
        (
            self.mutations.load(Ordering::Relaxed),
            self.commands.load(Ordering::Relaxed),
        )
    }

    /// Counts a command or request about to go out; none goes out once the run was interrupted.
    pub(super) fn count(&self, mutating: bool) -> Result<()> {
        self.check_interrupted()?;
        self.commands.fetch_add(1, Ordering::Relaxed);
        if mutating {
            self.mutations.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// After SIGINT, SIGTERM or SIGHUP: make sure each running child gets the signal exactly
    /// once, and count every command from now on as interrupted.
    ///
    /// The children share our process group. A signal the terminal sent went to the whole
    /// group, so the children already have it and a second one would mean "stop at once" to
    /// many tools; a signal sent to us alone (`kill`, a CI runner) reached nobody else. This is
    /// uv's rule (`crates/uv/src/child.rs`), made exact with the terminal's foreground group
    /// instead of "stdin is a terminal". Keeping the children in our group (rather than a group
    /// of their own) means a runner that kills the whole group still stops them.
    pub(super) fn interrupt(&self, signal: Signal) {
        self.interrupted.lock().unwrap().get_or_insert(signal);
        if terminal::delivered_to_group(signal, self.had_terminal) {
            return;
        }
        for pid in self.running.lock().unwrap().iter() {
            // SAFETY: kill(2) with a pid we spawned and have not reaped yet.
            unsafe {
                libc::kill(*pid as libc::pid_t, signal.number());
            }
        }
    }

    /// The signal that stopped the run, if one did.
    pub(super) fn interrupted_by(&self) -> Option<Signal> {
        *self.interrupted.lock().unwrap()
    }

    pub(super) fn check_interrupted(&self) -> Result<()> {
        match self.interrupted_by() {
            Some(signal) => Err(Error::Interrupted(signal)),
            None => Ok(()),
        }
    }

    /// Runs `cmd` to the end (or its timeout), in a span of the diagnostic log.
    pub(super) async fn spawn(&self, cmd: &Cmd) -> Result<Output> {
        crate::log::command(cmd, self.spawn_traced(cmd)).await
    }

    async fn spawn_traced(&self, cmd: &Cmd) -> Result<Output> {
        self.count(cmd.is_mutating())?;
        self.report.command(cmd);
        let mut child = tokio::process::Command::new(cmd.program);
        child
            .args(cmd.argv())
            .envs(cmd.child_env())
            .envs(cmd.secret_env_values())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = child.spawn().map_err(|e| match e.kind() {
            ErrorKind::NotFound => Error::ToolMissing {
                tool: cmd.program.to_string(),
                hint: install_hint(cmd.program).to_string(),
            },
            _ => Error::Other(anyhow::anyhow!("could not start `{cmd}`: {e}")),
        })?;
        let pid = child.id();
        if let Some(pid) = pid {
            self.running.lock().unwrap().insert(pid);
        }
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let report = self.report;
        let live = cmd.is_mutating();
        // Read stdout line by line: the latest line of a mutation (eksctl's progress during a
        // cluster creation) is the step's live progress; reads print JSON, not worth showing.
        let read_out = async move {
            let mut buf = Vec::new();
            if let Some(out) = stdout {
                let mut reader = BufReader::new(out);
                let mut line = Vec::new();
                while reader.read_until(b'\n', &mut line).await.unwrap_or(0) > 0 {
                    if live {
                        report.output_line(&String::from_utf8_lossy(&line));
                    }
                    buf.append(&mut line);
                }
            }
            buf
        };
        let read_err = async move {
            let mut buf = Vec::new();
            if let Some(mut err) = stderr {
                let _ = err.read_to_end(&mut buf).await;
            }
            buf
        };
        let limit = cmd.timeout.unwrap_or(self.default_timeout);
        let finished = tokio::time::timeout(limit, async { tokio::join!(read_out, read_err, child.wait()) }).await;
        if let Some(pid) = pid {
            self.running.lock().unwrap().remove(&pid);
        }
        let Ok((out, err, status)) = finished else {
            return Err(Error::Command(Box::new(CommandError {
                purpose: cmd.purpose.clone(),
                command: cmd.to_string(),
                status: None,
                stderr: String::new(),
                detail: Some(format!("timed out after {}", humantime::format_duration(limit))),
            })));
        };
        let status = status.map_err(|e| Error::Other(anyhow::anyhow!("waiting for `{cmd}`: {e}")))?;
        self.check_interrupted()?;
        Ok(Output {
            status: status.code(),
            stdout: String::from_utf8_lossy(&out).into_owned(),
            stderr: String::from_utf8_lossy(&err).into_owned(),
        })
    }
}

/// Who already got a signal: the terminal sends its signals to its foreground process group.
mod terminal {
    use crate::error::Signal;

    /// The terminal's foreground process group, when we have a controlling terminal.
    pub(super) fn foreground() -> Option<libc::pid_t> {
        // SAFETY: open/tcgetpgrp/close on a path literal and the fd we opened.
        unsafe {
            let fd = libc::open(c"/dev/tty".as_ptr(), libc::O_RDONLY | libc::O_NOCTTY | libc::O_CLOEXEC);
            if fd < 0 {
                return None;
            }
            let pgrp = libc::tcgetpgrp(fd);
            libc::close(fd);
            (pgrp > 0).then_some(pgrp)
        }
    }

    /// Whether `signal` came from the terminal to our whole process group (children included).
    /// Ctrl-C: the terminal signals its foreground group, so it did when that group is ours.
    /// SIGHUP: a hangup detaches the terminal from the session and signals its leader (the
    /// shell), which passes it on to its jobs' whole process groups (or the kernel does, to the
    /// foreground group, when the leader exits); so it did when we had a terminal, it is gone
    /// and we are not the leader. SIGTERM never comes from a terminal.
    pub(super) fn delivered_to_group(signal: Signal, had_terminal: bool) -> bool {
        // SAFETY: getpgrp, getsid(0) and getpid cannot fail.
        let (pgrp, leader) = unsafe { (libc::getpgrp(), libc::getsid(0) == libc::getpid()) };
        match signal {
            Signal::Interrupt => foreground() == Some(pgrp),
            Signal::Hangup => had_terminal && foreground().is_none() && !leader,
            Signal::Terminate => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::terminal;
    use crate::error::Signal;

    #[test]
    fn only_the_terminal_signals_a_whole_group() {
        // SIGTERM never comes from a terminal; SIGHUP only from one we had.
        assert!(!terminal::delivered_to_group(Signal::Terminate, true));
        assert!(!terminal::delivered_to_group(Signal::Terminate, false));
        assert!(!terminal::delivered_to_group(Signal::Hangup, false));
    }
}

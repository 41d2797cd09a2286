//! Signals: SIGINT, SIGTERM and SIGHUP stop a run the same way. Each running child gets the
//! signal exactly once (from the terminal when the terminal sent it to the whole process group,
//! else forwarded by the tool), the tool waits for them, says which steps finished and how to
//! resume, and exits 128+n (130, 143, 129) as a shell reports a process killed by signal n.

use std::ffi::CString;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn script(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/bash\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// How the tool is started.
enum Start {
    /// In a process group of its own, as a CI runner's job: no terminal sends it anything.
    Detached,
    /// As the foreground job of a terminal (a pty whose master the test holds).
    Terminal,
}

struct Run {
    tmp: tempfile::TempDir,
    marks: PathBuf,
    child: Child,
    /// The pty's master side (Terminal only): writing ^C to it is pressing Ctrl-C.
    master: Option<std::fs::File>,
}

/// `up` from scratch whose two cluster creations run until a signal comes. Each creation
/// appends the name of every signal it gets to `marks/PID.signals`, and exits one second after
/// the first (so a second signal, forwarded later, is still counted).
fn start(how: Start) -> Run {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let marks = tmp.path().join("marks");
    std::fs::create_dir(&marks).unwrap();
    let m = marks.display();
    // the interpreter itself, not a version manager's shim (the tool runs with a bare PATH)
    let python = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 on PATH (the fake cluster creation)");
    let python = String::from_utf8(python.stdout).unwrap().trim().to_string();
    // Reads say "nothing exists"; the account id is fixed; writes succeed at once.
    script(
        &bin,
        "aws",
        r#"case "$*" in
  *get-caller-identity*) echo 123456789012 ;;
  *describe-cluster*) echo "An error occurred (ResourceNotFoundException) when calling the DescribeCluster operation: No cluster found" >&2; exit 255 ;;
  *get-role*|*list-open-id*) echo "An error occurred (NoSuchEntity) when calling the GetRole operation: not found" >&2; exit 255 ;;
esac"#,
    );
    // Python, not bash: bash runs a trap once however many signals came, Python's handler runs
    // once per signal delivered (the second of two signals 1 ms apart is counted).
    script(
        &bin,
        "eksctl",
        &format!(
            r#"case "$*" in
  "create cluster"*) exec {python} - <<'PY'
import os, signal, time
marks, first = "{m}", []
def note(sig, frame):
    with open("%s/%d.signals" % (marks, os.getpid()), "a") as f:
        f.write(signal.Signals(sig).name[3:] + "\n")
    first.append(time.monotonic())
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, note)
open("%s/%d.started" % (marks, os.getpid()), "w").close()
end = time.monotonic() + 30
while time.monotonic() < end:
    time.sleep(0.05)
    if first and time.monotonic() > first[0] + 1:
        raise SystemExit(1)
open("%s/%d.finished" % (marks, os.getpid()), "w").close()
PY
  ;;
  *) echo '[]' ;;
esac"#
        ),
    );
    script(&bin, "kubectl", "exit 0");
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let tool = env!("CARGO_BIN_EXE_gitops-iam");
    let args = ["up", "--region", "us-east-1", "--state-dir", ".gitops-iam"];
    let mut cmd = match how {
        Start::Detached => {
            let mut cmd = Command::new(tool);
            cmd.args(args).process_group(0);
            cmd
        }
        Start::Terminal => {
            // The session leader is a shell, as on a terminal; the tool is its foreground job
            // (in its process group, as `bash -c` runs it). The shell survives the signals
            // (handlers, which the tool does not inherit) and notes the tool's exit code.
            let mut cmd = Command::new("/bin/bash");
            cmd.arg("-c")
                .arg(r#"trap : INT HUP; "$0" "$@"; echo $? > code"#)
                .arg(tool)
                .args(args);
            cmd
        }
    };
    cmd.current_dir(tmp.path())
        .env_clear()
        .env("PATH", &path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let master = match how {
        Start::Detached => None,
        Start::Terminal => {
            let (master, slave) = open_pty();
            // SAFETY: between fork and exec only async-signal-safe calls: setsid, open, ioctl.
            unsafe {
                cmd.pre_exec(move || {
                    // A new session whose controlling terminal is the pty: its process group is
                    // the terminal's foreground group, as a job started from a shell.
                    if libc::setsid() < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    let fd = libc::open(slave.as_ptr(), libc::O_RDWR);
                    if fd < 0 || libc::ioctl(fd, libc::TIOCSCTTY, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            Some(master)
        }
    };
    let child = cmd.spawn().unwrap();
    let started = Instant::now();
    while count(&marks, ".started") < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the cluster creations never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Run {
        tmp,
        marks,
        child,
        master,
    }
}

/// A pty: its master (kept by the test) and the path of its slave side.
fn open_pty() -> (std::fs::File, CString) {
    use std::os::fd::FromRawFd;
    // SAFETY: the POSIX pty calls on the fd they return; ptsname_r writes into our buffer.
    unsafe {
        let fd = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        assert!(fd >= 0, "posix_openpt: {}", std::io::Error::last_os_error());
        assert_eq!(libc::grantpt(fd), 0);
        assert_eq!(libc::unlockpt(fd), 0);
        let mut buf = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(fd, buf.as_mut_ptr(), buf.len()), 0);
        let name = std::ffi::CStr::from_ptr(buf.as_ptr()).to_owned();
        (std::fs::File::from_raw_fd(fd), name)
    }
}

fn count(marks: &Path, suffix: &str) -> usize {
    std::fs::read_dir(marks)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(suffix))
        .count()
}

impl Run {
    /// Sends `signal` to the tool's process only (as `kill` from a CI runner does).
    /// (Detached only: there the child is the tool.)
    fn kill(&self, signal: libc::c_int) {
        // SAFETY: kill(2) on the child we spawned and have not waited for.
        assert_eq!(unsafe { libc::kill(self.child.id() as libc::pid_t, signal) }, 0);
    }

    /// Waits for the tool; checks it stopped soon, that each cluster creation got `signal`
    /// exactly once and did not run to the end, and returns the exit code and stderr.
    fn finish(mut self, signal: &str) -> (Option<i32>, String) {
        let at = Instant::now();
        let status = self.child.wait().unwrap();
        let mut stderr = String::new();
        self.child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        assert!(
            at.elapsed() < Duration::from_secs(10),
            "took {:?}\n{stderr}",
            at.elapsed()
        );
        let mut got = Vec::new();
        for e in std::fs::read_dir(&self.marks).unwrap() {
            let path = e.unwrap().path();
            if path.extension().is_some_and(|x| x == "signals") {
                got.push(std::fs::read_to_string(&path).unwrap());
            }
        }
        assert_eq!(
            got,
            vec![format!("{signal}\n"), format!("{signal}\n")],
            "each of the two cluster creations must get {signal} exactly once\n{stderr}"
        );
        assert_eq!(count(&self.marks, ".finished"), 0, "a child ran to the end\n{stderr}");
        drop(self.master);
        let code = match std::fs::read_to_string(self.tmp.path().join("code")) {
            Ok(code) => code.trim().parse().ok(),
            Err(_) => status.code(),
        };
        (code, stderr)
    }
}

fn assert_resume_hint(stderr: &str, signal: &str) {
    assert!(stderr.contains(&format!("interrupted by {signal}")), "{stderr}");
    assert!(stderr.contains("re-run the same command to resume"), "{stderr}");
}

#[test]
fn sigint_sent_to_the_tool_alone_is_forwarded_once_and_exits_130() {
    let run = start(Start::Detached);
    run.kill(libc::SIGINT);
    let (code, stderr) = run.finish("INT");
    assert_eq!(code, Some(130), "{stderr}");
    assert_resume_hint(&stderr, "SIGINT");
}

#[test]
fn sigterm_from_ci_cancellation_is_forwarded_once_and_exits_143() {
    let run = start(Start::Detached);
    run.kill(libc::SIGTERM);
    let (code, stderr) = run.finish("TERM");
    assert_eq!(code, Some(143), "{stderr}");
    assert_resume_hint(&stderr, "SIGTERM");
}

#[test]
fn sighup_sent_to_the_tool_alone_is_forwarded_once_and_exits_129() {
    let run = start(Start::Detached);
    run.kill(libc::SIGHUP);
    let (code, stderr) = run.finish("HUP");
    assert_eq!(code, Some(129), "{stderr}");
    assert_resume_hint(&stderr, "SIGHUP");
}

#[test]
fn ctrl_c_on_a_terminal_reaches_each_child_once_and_exits_130() {
    use std::io::Write;
    let mut run = start(Start::Terminal);
    // ^C on the terminal: the line discipline sends SIGINT to the whole foreground group, the
    // children included; the tool must not send a second one.
    run.master.as_mut().unwrap().write_all(b"\x03").unwrap();
    let (code, stderr) = run.finish("INT");
    assert_eq!(code, Some(130), "{stderr}");
    assert_resume_hint(&stderr, "SIGINT");
}

#[test]
fn hangup_of_the_terminal_reaches_each_child_once_and_exits_129() {
    let mut run = start(Start::Terminal);
    // Closing the master hangs the terminal up: the kernel detaches it from the session and
    // sends SIGHUP to the session leader; an interactive shell then sends SIGHUP to its job's
    // whole process group (bash: "resends the SIGHUP to all jobs"), which the test does here.
    drop(run.master.take());
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: kill(2) on the process group of the shell we spawned (its pid: setsid).
    assert_eq!(unsafe { libc::kill(-(run.child.id() as libc::pid_t), libc::SIGHUP) }, 0);
    let (code, stderr) = run.finish("HUP");
    assert_eq!(code, Some(129), "{stderr}");
    assert_resume_hint(&stderr, "SIGHUP");
}

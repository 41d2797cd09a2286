//! The `Sandbox` fixture: one local emulation of AWS + eksctl + two EKS API servers + Harness
//! (`tests/sandbox/sandbox start DIR`), stopped again when the fixture is dropped (also when the
//! test panics).
//!
//! Everything runs as separate processes with the environment `DIR/env.sh` describes, parsed
//! here into a map (no shell involved):
//!
//! ```text
//!   <tempdir>/sandbox   DIR: env.sh, commands.log, moto.log, clusters/, ...
//!   <tempdir>/work      the current directory of every command; the product's state dir is
//!                       `.gitops-iam` in it (the default)
//! ```
//!
//! `gitops-iam` itself is the binary cargo built for this test run; its directory is on PATH
//! right after the sandbox's `bin/`, so a dry-run script's `gitops-iam render ...` resolves to it.
//! `aws`, `eksctl` and `kubectl` resolve to the sandbox wrappers, which log every call to
//! `DIR/commands.log` and then run the real `aws` and `kubectl` (eksctl is emulated).
//!
//! Missing tools are a failure, never a skip: see [`Sandbox::start`].
//!
//! Set `GITOPS_IAM_E2E_KEEP=1` to keep the directories of a failing test, and
//! `GITOPS_IAM_E2E_TRACE=1` to print every command with its exit code and duration.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The binary under test.
pub const GITOPS_IAM: &str = env!("CARGO_BIN_EXE_gitops-iam");

/// The repository (the package root).
pub const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// The sandbox's agent manifest, by absolute path (commands run in their own work dir).
pub const AGENT_MANIFEST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sandbox/agent.yaml");

const SANDBOX_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sandbox/sandbox");

/// Longest any single command may run before the test kills it and fails.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

/// What `tests/sandbox/sandbox start` needs on PATH, with how to get it.
const REQUIRED_TOOLS: [(&str, &str); 6] = [
    ("moto_server", "pip install 'moto[server]>=5.2,<6'"),
    ("aws", "pip install 'awscli>=1.45,<2'"),
    ("kubectl", "install kubectl 1.32"),
    ("python3", "install Python 3.11+"),
    ("flock", "install util-linux"),
    ("bash", "install bash"),
];

/// Variables of the test's own environment that must not leak into the sandbox: they would
/// point the tools at another account, region, cluster or configuration.
fn leaks_into_sandbox(name: &str) -> bool {
    name.starts_with("AWS_")
        || name.starts_with("GITOPS_IAM_")
        || name.starts_with("SANDBOX_")
        || name.starts_with("KUBE")
        || name == "HARNESS_API_KEY"
}

pub struct Sandbox {
    root: Option<TempDir>,
    dir: PathBuf,
    work: PathBuf,
    env: BTreeMap<String, String>,
    counter: AtomicUsize,
}

impl Sandbox {
    /// Starts a fresh sandbox. Panics (never skips) when a tool it needs is missing, naming it.
    pub fn start() -> Sandbox {
        Self::start_with(&[])
    }

    /// Starts a fresh sandbox with settings of `sandbox start` (`SANDBOX_IAM_PROPAGATION_DELAY`).
    pub fn start_with(settings: &[(&str, &str)]) -> Sandbox {
        let missing: Vec<String> = REQUIRED_TOOLS
            .iter()
            .filter(|(tool, _)| which::which(tool).is_err())
            .map(|(tool, hint)| format!("{tool} ({hint})"))
            .collect();
        assert!(
            missing.is_empty(),
            "the sandbox end-to-end tests need tools that are not on PATH: {}.\n\
             `scripts/test` installs the Python ones; these tests fail rather than skip.",
            missing.join(", ")
        );
        let root = tempfile::Builder::new()
            .prefix("gitops-iam-e2e-")
            .tempdir()
            .expect("creating a temp dir");
        let dir = root.path().join("sandbox");
        let work = root.path().join("work");
        std::fs::create_dir(&work).unwrap();
        // from here on, Drop stops whatever `start` managed to start, even if it fails
        let mut sandbox = Sandbox {
            root: Some(root),
            dir,
            work,
            env: BTreeMap::new(),
            counter: AtomicUsize::new(0),
        };
        let dir = sandbox.dir.clone();
        let out = finish(
            &format!("{SANDBOX_SCRIPT} start {}", dir.display()),
            assert_cmd::Command::new(SANDBOX_SCRIPT)
                .arg("start")
                .arg(&dir)
                .current_dir(REPO)
                .env_remove("SANDBOX_IAM_PROPAGATION_DELAY")
                .envs(settings.iter().copied()),
            Duration::from_secs(120),
        );
        trace(&out);
        assert_eq!(out.code, Some(0), "the sandbox did not start:\n{}", out.describe());

        let mut env: BTreeMap<String, String> = std::env::vars().filter(|(k, _)| !leaks_into_sandbox(k)).collect();
        let env_sh = std::fs::read_to_string(dir.join("env.sh")).expect("reading env.sh");
        apply_env_sh(&env_sh, &mut env);
        for key in [
            "GITOPS_IAM_SANDBOX",
            "AWS_ENDPOINT_URL",
            "KUBECONFIG",
            "SANDBOX_HARNESS_URL",
        ] {
            assert!(env.contains_key(key), "env.sh does not set {key}:\n{env_sh}");
        }
        // the tests' own directory: `gitops-iam render` for dry-run scripts
        let bin_dir = Path::new(GITOPS_IAM).parent().unwrap().to_str().unwrap().to_owned();
        let sandbox_bin = env.get("SANDBOX_BIN").cloned().unwrap_or_default();
        let path = env.get("PATH").cloned().unwrap_or_default();
        let rest = path
            .strip_prefix(&format!("{sandbox_bin}:"))
            .unwrap_or_else(|| panic!("env.sh does not put SANDBOX_BIN {sandbox_bin:?} first on PATH {path:?}"));
        env.insert("PATH".into(), format!("{sandbox_bin}:{bin_dir}:{rest}"));
        // the emulators listen on 127.0.0.1; a proxy from the environment must not get those calls
        for key in ["NO_PROXY", "no_proxy"] {
            let old = env.get(key).cloned().unwrap_or_default();
            env.insert(
                key.into(),
                format!("127.0.0.1,localhost{}{old}", if old.is_empty() { "" } else { "," }),
            );
        }
        sandbox.env = env;
        sandbox
    }

    /// The current directory of every command run here.
    pub fn work(&self) -> &Path {
        &self.work
    }

    /// A variable of the sandbox environment (env.sh).
    pub fn var(&self, key: &str) -> &str {
        self.env
            .get(key)
            .unwrap_or_else(|| panic!("the sandbox environment has no {key}"))
    }

    /// A fresh path under DIR for the test's own files (never in the product's work dir).
    pub fn scratch(&self, name: &str) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let d = self.dir.join(format!("e2e-{n}"));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    /// Runs `gitops-iam ARGS` in the work dir.
    pub fn gitops_iam(&self, args: &[&str]) -> Output {
        self.gitops_iam_with(args, &[])
    }

    /// Runs `gitops-iam ARGS` in the work dir with extra environment variables.
    pub fn gitops_iam_with(&self, args: &[&str], extra: &[(&str, &str)]) -> Output {
        self.run_with(GITOPS_IAM, args, extra)
    }

    /// Starts `gitops-iam ARGS` in the work dir without waiting, in a process group of its own
    /// (so a test can kill it and its children as a dying laptop would). Output is discarded.
    pub fn spawn_gitops_iam_with(&self, args: &[&str], extra: &[(&str, &str)]) -> std::process::Child {
        use std::os::unix::process::CommandExt;
        // assert_cmd only runs to the end: this one caller takes the builder's std process
        self.process(GITOPS_IAM, args, extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("starting gitops-iam")
    }

    /// Runs PROGRAM (looked up on the sandbox PATH) in the work dir.
    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        self.run_with(program, args, &[])
    }

    /// Writes a script gitops-iam printed (`--dry-run`, `--plan`) into the work dir as FILE and
    /// runs it with bash; it must exit 0 (the failure shows the run and the script).
    #[track_caller]
    pub fn run_script(&self, file: &str, script: &str) -> Output {
        std::fs::write(self.work().join(file), script).unwrap();
        let run = self.run("bash", &[file]);
        assert_eq!(
            run.code,
            Some(0),
            "the script failed:\n{}\n--- script\n{}",
            run.describe(),
            script
        );
        run
    }

    /// Runs PROGRAM ARGS as [`Sandbox::command`] builds it, with extra environment variables.
    pub fn run_with(&self, program: &str, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let shown_env: String = extra.iter().map(|(k, v)| format!("{k}={v} ")).collect();
        let what = format!(
            "{shown_env}{}",
            shell_join(std::iter::once(program).chain(args.iter().copied()))
        );
        let out = finish(&what, &mut self.command(program, args, extra), COMMAND_TIMEOUT);
        trace(&out);
        out
    }

    /// The one builder of every command a test runs: PROGRAM (a path, such as [`GITOPS_IAM`],
    /// or looked up on the sandbox PATH) with ARGS in the work dir, with the sandbox environment
    /// (none of the test's own) plus EXTRA.
    pub fn command(&self, program: &str, args: &[&str], extra: &[(&str, &str)]) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.process(program, args, extra))
    }

    /// The process of [`Sandbox::command`], for the one caller that must not wait for it.
    fn process(&self, program: &str, args: &[&str], extra: &[(&str, &str)]) -> Command {
        let resolved = if program.contains('/') {
            PathBuf::from(program)
        } else {
            which::which_in(program, Some(self.var("PATH")), &self.work)
                .unwrap_or_else(|_| panic!("{program} is not on the sandbox PATH {}", self.var("PATH")))
        };
        let mut cmd = Command::new(resolved);
        cmd.args(args)
            .current_dir(&self.work)
            .env_clear()
            .envs(&self.env)
            .envs(extra.iter().copied());
        cmd
    }

    /// The real `aws` (through the sandbox wrapper).
    pub fn aws(&self, args: &[&str]) -> Output {
        self.run("aws", args)
    }

    /// The real `kubectl` (through the sandbox wrapper).
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.run("kubectl", args)
    }

    /// The eksctl emulator.
    pub fn eksctl(&self, args: &[&str]) -> Output {
        self.run("eksctl", args)
    }

    /// Writes a kubeconfig for CLUSTER (of the account PROFILE acts in) to a file of the test's
    /// own, through `eksctl utils write-kubeconfig` (a read: it changes nothing in the sandbox).
    pub fn kubeconfig_for(&self, cluster: &str, profile: Option<&str>) -> PathBuf {
        let path = self.scratch(&format!("{cluster}.kubeconfig"));
        let p = path.to_str().unwrap();
        let mut args = vec![
            "utils",
            "write-kubeconfig",
            "--cluster",
            cluster,
            "--region",
            super::REGION,
            "--kubeconfig",
            p,
        ];
        if let Some(profile) = profile {
            args.extend(["--profile", profile]);
        }
        self.eksctl(&args).success();
        path
    }

    /// The calls the fork servers could not serve warm (tests/sandbox/forkserver.py logs them in
    /// DIR/warm.log): they ran correctly, but at several times the CPU cost.
    pub fn cold_calls(&self) -> Vec<String> {
        let log = std::fs::read_to_string(self.dir.join("warm.log")).unwrap_or_default();
        log.lines()
            .filter(|l| l.contains(" runs cold: "))
            .map(str::to_owned)
            .collect()
    }

    /// Number of entries in commands.log now: pass it to `commands_since`.
    pub fn mark(&self) -> usize {
        self.commands().len()
    }

    /// Every logged aws/eksctl/kubectl call, in order.
    pub fn commands(&self) -> Vec<Logged> {
        read_command_log(&self.dir.join("commands.log"))
    }

    pub fn commands_since(&self, mark: usize) -> Vec<Logged> {
        self.commands().into_iter().skip(mark).collect()
    }

    pub fn mutating_commands(&self) -> Vec<Logged> {
        self.mutating_since(0)
    }

    pub fn mutating_since(&self, mark: usize) -> Vec<Logged> {
        self.commands_since(mark).into_iter().filter(|c| c.mutating).collect()
    }
}

impl Sandbox {
    /// utime + stime of the processes `DIR/pids` records (moto, the Harness stand-in, the kube
    /// emulators): they are not the test's children, so its rusage does not include them.
    fn daemon_cpu_seconds(&self) -> f64 {
        let pids = std::fs::read_to_string(self.dir.join("pids")).unwrap_or_default();
        let ticks: u64 = pids
            .lines()
            .filter_map(|l| l.split('\t').next())
            .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
            .filter_map(|stat| {
                // fields after the parenthesised command: state is field 3, utime 14, stime 15
                let rest = stat.rsplit_once(") ")?.1;
                let f: Vec<&str> = rest.split(' ').collect();
                Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
            })
            .sum();
        // SAFETY: sysconf has no preconditions
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1);
        ticks as f64 / hz as f64
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let panicking = std::thread::panicking();
        if panicking {
            let log = std::fs::read_to_string(self.dir.join("commands.log")).unwrap_or_default();
            let tail: Vec<&str> = log
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            eprintln!(
                "sandbox {}: last commands of the log:\n  {}",
                self.dir.display(),
                tail.join("\n  ")
            );
        }
        if tracing() {
            // SAFETY: getrusage only writes the struct it is given
            let children = unsafe {
                let mut r: libc::rusage = std::mem::zeroed();
                libc::getrusage(libc::RUSAGE_CHILDREN, &mut r);
                r.ru_utime.tv_sec as f64
                    + r.ru_stime.tv_sec as f64
                    + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) as f64 / 1e6
            };
            eprintln!(
                "[e2e] CPU seconds: sandbox processes {:.1}, commands run by this test process {:.1}",
                self.daemon_cpu_seconds(),
                children
            );
        }
        let stopping = Instant::now();
        match Command::new(SANDBOX_SCRIPT)
            .arg("stop")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .output()
        {
            Ok(out) if out.status.success() => {}
            Ok(out) => eprintln!(
                "warning: `sandbox stop {}` failed: {}",
                self.dir.display(),
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => eprintln!("warning: cannot run `sandbox stop`: {e}"),
        }
        if tracing() {
            eprintln!("[e2e {:6.2}s] sandbox stop", stopping.elapsed().as_secs_f64());
        }
        if panicking && std::env::var_os("GITOPS_IAM_E2E_KEEP").is_some() {
            if let Some(root) = self.root.take() {
                eprintln!("kept {}", root.keep().display());
            }
        } else if panicking {
            eprintln!("(set GITOPS_IAM_E2E_KEEP=1 to keep the sandbox directory of a failing test)");
        }
    }
}

/// A finished command.
pub struct Output {
    pub what: String,
    /// Exit code; None when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Output {
    pub fn describe(&self) -> String {
        format!(
            "$ {}\nexit: {:?} after {:.1?}\n--- stdout\n{}\n--- stderr\n{}\n---",
            self.what, self.code, self.elapsed, self.stdout, self.stderr
        )
    }

    #[track_caller]
    pub fn success(&self) -> &Self {
        self.code(0)
    }

    #[track_caller]
    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "unexpected exit status:\n{}", self.describe());
        self
    }

    /// stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.describe()))
    }
}

fn tracing() -> bool {
    std::env::var_os("GITOPS_IAM_E2E_TRACE").is_some()
}

fn trace(out: &Output) {
    if tracing() {
        eprintln!(
            "[e2e {:6.2}s] exit {:?}: {}",
            out.elapsed.as_secs_f64(),
            out.code,
            out.what
        );
    }
}

/// Runs CMD to its end, stdin closed and stdout and stderr captured; killed after TIMEOUT,
/// which fails the test.
fn finish(what: &str, cmd: &mut assert_cmd::Command, timeout: Duration) -> Output {
    let start = Instant::now();
    let out = cmd
        .timeout(timeout)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let output = Output {
        what: what.to_owned(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    };
    // assert_cmd kills a command at its timeout (SIGKILL) and returns what it had printed
    let timed_out = {
        use std::os::unix::process::ExitStatusExt;
        out.status.signal() == Some(libc::SIGKILL) && output.elapsed >= timeout
    };
    assert!(!timed_out, "killed after {timeout:?}:\n{}", output.describe());
    output
}

/// One entry of commands.log (docs/sandbox.md, "Command log").
#[derive(Debug, Clone)]
pub struct Logged {
    /// `argv[0]`.
    pub tool: String,
    pub mutating: bool,
    /// ARGV as one shell line ([`shell_join`]), what `SANDBOX_FAIL_MATCH` matches.
    pub line: String,
    /// The words, tool first.
    pub argv: Vec<String>,
    pub injected: bool,
}

/// A line of commands.log as the writers write it; any other field fails the reader.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    argv: Vec<String>,
    mutating: bool,
    injected: bool,
}

/// The one reader of the command log (JSON lines): every entry, in order; none when the file
/// does not exist. A line that is not an entry fails the test.
fn read_command_log(path: &Path) -> Vec<Logged> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|raw| {
            let Entry {
                argv,
                mutating,
                injected,
            } = serde_json::from_str(raw)
                .unwrap_or_else(|e| panic!("malformed {} line ({e}): {raw:?}", path.display()));
            let tool = argv
                .first()
                .unwrap_or_else(|| panic!("empty argv in {} line {raw:?}", path.display()))
                .clone();
            Logged {
                tool,
                mutating,
                line: shell_join(argv.iter().map(String::as_str)),
                argv,
                injected,
            }
        })
        .collect()
}

/// Shell-quotes words as the sandbox does (`sandboxlib.shell_quote`): safe words bare, `''` for
/// empty, `$'...'` for a word holding a control character (so a line stays one line), else
/// single quotes.
pub fn shell_join<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    words.into_iter().map(shell_quote).collect::<Vec<_>>().join(" ")
}

fn shell_quote(w: &str) -> String {
    if w.is_empty() {
        "''".to_owned()
    } else if w.chars().all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c)) {
        w.to_owned()
    } else if w.chars().any(char::is_control) {
        let mut out = String::from("$'");
        for c in w.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\'' => out.push_str("\\'"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if c.is_control() && u32::from(c) < 256 => out.push_str(&format!("\\x{:02x}", u32::from(c))),
                c => out.push(c),
            }
        }
        out.push('\'');
        out
    } else {
        format!("'{}'", w.replace('\'', r#"'"'"'"#))
    }
}

/// Applies env.sh to ENV: `export NAME=VALUE` (VALUE: single-quoted, double-quoted with `$X`,
/// `${X}`, `${X:-default}`, or bare, concatenated), `unset NAMES`, comments and blank lines.
/// Anything else fails the test, so a change of env.sh's format cannot go unnoticed.
fn apply_env_sh(text: &str, env: &mut BTreeMap<String, String>) {
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(names) = line.strip_prefix("unset ") {
            for name in names.split_whitespace() {
                env.remove(name);
            }
            continue;
        }
        let assignment = line
            .strip_prefix("export ")
            .unwrap_or_else(|| panic!("env.sh: unsupported line {line:?}"));
        let (name, value) = assignment
            .split_once('=')
            .unwrap_or_else(|| panic!("env.sh: unsupported line {line:?}"));
        let value = expand_value(value, env).unwrap_or_else(|| panic!("env.sh: cannot parse the value in {line:?}"));
        env.insert(name.to_owned(), value);
    }
}

fn expand_value(value: &str, env: &BTreeMap<String, String>) -> Option<String> {
    let mut out = String::new();
    let mut chars = value.chars().peekable();
    let mut in_double = false;
    while let Some(c) = chars.next() {
        match c {
            '\'' if !in_double => loop {
                match chars.next()? {
                    '\'' => break,
                    c => out.push(c),
                }
            },
            '"' => in_double = !in_double,
            '\\' => out.push(chars.next()?),
            '$' => {
                let braced = chars.peek() == Some(&'{');
                if braced {
                    chars.next();
                }
                let mut name = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        name.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if name.is_empty() {
                    return None;
                }
                let current = env.get(&name).filter(|v| !v.is_empty()).cloned();
                if braced {
                    let mut default = None;
                    if chars.peek() == Some(&':') {
                        chars.next();
                        if chars.next()? != '-' {
                            return None;
                        }
                        let mut d = String::new();
                        loop {
                            match chars.next()? {
                                '}' => break,
                                c => d.push(c),
                            }
                        }
                        default = Some(d);
                    } else if chars.next()? != '}' {
                        return None;
                    }
                    out.push_str(&current.or(default).unwrap_or_default());
                } else {
                    out.push_str(&current.unwrap_or_default());
                }
            }
            c if c.is_whitespace() && !in_double => return None,
            c => out.push(c),
        }
    }
    (!in_double).then_some(out)
}

#[test]
fn env_sh_parsing_handles_every_form_env_sh_uses() {
    let mut env = BTreeMap::from([("PATH".to_owned(), "/usr/bin".to_owned())]);
    apply_env_sh(
        "# comment\n\nexport A='x y'\nexport Q='it'\"'\"'s'\nexport PATH='/sb/bin':\"$PATH\"\n\
         export R=\"${AWS_DEFAULT_REGION:-us-east-1}\"\nexport S=\"${A}\"\nunset A B\n",
        &mut env,
    );
    assert_eq!(env["PATH"], "/sb/bin:/usr/bin");
    assert_eq!(env["Q"], "it's");
    assert_eq!(env["R"], "us-east-1");
    assert_eq!(env["S"], "x y");
    assert!(!env.contains_key("A"));
}

/// Words a command log must carry unchanged (as `AWKWARD` in tests/sandbox/test_sandbox.py).
const AWKWARD: [&str; 11] = [
    "-p",
    r#"{"a": 1}"#,
    "it's",
    "",
    "a\nb\\",
    "t\tr\r",
    r#"\u0041 \""#,
    "\x01\x1f\x7f\x08\x0c",
    "é ü 日本 😀",
    "x=y",
    "$HOME `id`",
];

#[test]
fn command_log_of_both_writers_reads_back_into_argv() {
    let dir = tempfile::tempdir().unwrap();
    let lib = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sandbox");
    let write = |program: &str, script: &str| {
        let out = Command::new(program)
            .arg("-c")
            .arg(script)
            .arg(lib)
            .args(AWKWARD)
            .env("GITOPS_IAM_SANDBOX", dir.path())
            .env_remove("SANDBOX_FAIL_NTH")
            .env_remove("SANDBOX_FAIL_MATCH")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        assert!(
            out.status.success(),
            "{program}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // bash: `$0` is the library's directory, `$@` the words
    write(
        "bash",
        r#"source "$0/wrapperlib.sh"; SB_TOOL=kubectl; sb_record mutating "$@""#,
    );
    write(
        "python3",
        r#"import sys; sys.path.insert(0, sys.argv[1]); import sandboxlib
sandboxlib.record_command("kubectl", False, sys.argv[2:])"#,
    );
    let log = read_command_log(&dir.path().join("commands.log"));
    let argv: Vec<&str> = std::iter::once("kubectl").chain(AWKWARD).collect();
    let got: Vec<_> = log
        .iter()
        .map(|c| (c.tool.as_str(), c.mutating, c.injected, c.argv.clone()))
        .collect();
    let want = |mutating| {
        (
            "kubectl",
            mutating,
            false,
            argv.iter().map(|w| (*w).to_owned()).collect(),
        )
    };
    assert_eq!(got, [want(true), want(false)]);
    assert!(log.iter().all(|c| !c.line.contains('\n')), "{log:?}");
}

#[test]
fn command_log_line_quotes_as_the_sandbox_does() {
    // what sandboxlib.shell_join writes for these words, and bash reads back into them
    let words = ["kubectl", "-p", r#"{"a": 1}"#, "it's", "", "a\nb\\", "x=y", "\x01é"];
    let line = shell_join(words);
    assert_eq!(line, r#"kubectl -p '{"a": 1}' 'it'"'"'s' '' $'a\nb\\' x=y $'\x01é'"#);
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(r#"printf '%s\0' {line}"#))
        .output()
        .unwrap();
    let back: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .split_terminator('\0')
        .map(str::to_owned)
        .collect();
    assert_eq!(back, words);
}

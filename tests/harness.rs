//! The harness every integration test uses: run `gitops-iam` (or bash on a script it printed)
//! in a temporary directory, against fake `aws`, `eksctl` and `kubectl`, and check what happened.
//!
//! Why fakes rather than mocks inside the binary: the contracts users rely on are about processes
//! (which commands run, in what order, with which argv; exit codes; what stdout and stderr say),
//! so the tests observe exactly that, from outside, through the same PATH lookup a user has.
//!
//! Each test gets its own directory:
//! ```text
//!   bin/     the fakes (links to fake.py), first on PATH
//!   sys/     links to bash, python3, env, mkdir and gitops-iam: everything else on PATH, so a
//!            real aws or kubectl in /usr/bin can never be reached
//!   work/    the current directory; the state dir is `.gitops-iam` in it
//!   rules.json, log.jsonl   what the fakes answer, and what they were asked
//! ```
//! [`Test`] is a `#[must_use]` builder in the style of casey/just's `tests/test.rs`; [`Output`]
//! carries `#[track_caller]` assertions that print a diff and the whole run when they fail.

use crate::fakes::Rules;
use serde::Deserialize;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// The binary under test, built once by cargo.
pub const BIN: &str = env!("CARGO_BIN_EXE_gitops-iam");

const FAKE: &str = include_str!("fakes/fake.py");

/// The programs the fake stands in for.
pub const FAKE_PROGRAMS: [&str; 3] = ["aws", "eksctl", "kubectl"];

/// The only other programs on a test's PATH: bash runs dry-run scripts, python3 (via env) runs
/// the fake, a script calls mkdir.
const SYSTEM_PROGRAMS: [&str; 4] = ["bash", "python3", "env", "mkdir"];

/// An empty list of expected lines.
pub const NOTHING: &[&str] = &[];

/// The state directory every test passes unless it names its own.
pub const STATE_DIR: &str = ".gitops-iam";

#[must_use]
pub struct Test {
    tempdir: TempDir,
    program: Program,
    args: Vec<OsString>,
    env: Vec<(String, String)>,
    rules: Rules,
    fakes: Vec<&'static str>,
    state_dir: bool,
}

enum Program {
    GitopsIam,
    Bash,
}

impl Test {
    pub fn new() -> Self {
        let tempdir = tempfile::Builder::new()
            .prefix("gitops-iam-test-")
            .tempdir()
            .expect("creating a temp dir");
        std::fs::create_dir(tempdir.path().join("work")).unwrap();
        Test {
            tempdir,
            program: Program::GitopsIam,
            args: Vec::new(),
            env: Vec::new(),
            rules: Rules::default(),
            fakes: FAKE_PROGRAMS.to_vec(),
            state_dir: true,
        }
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<A: Into<OsString>>(mut self, args: impl IntoIterator<Item = A>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// What the fakes answer.
    pub fn rules(mut self, rules: Rules) -> Self {
        self.rules = rules;
        self
    }

    /// Leaves `program` out of `bin/`, as if it were not installed.
    pub fn without(mut self, program: &str) -> Self {
        self.fakes.retain(|p| *p != program);
        self
    }

    /// No fake at all on PATH: only bash, python3, env, mkdir and gitops-iam.
    pub fn no_fakes(mut self) -> Self {
        self.fakes.clear();
        self
    }

    /// Does not add `--state-dir .gitops-iam` (for tests of argument parsing or of the state
    /// dir itself).
    pub fn no_state_dir(mut self) -> Self {
        self.state_dir = false;
        self
    }

    /// Runs `bash ARGS` in the work dir instead of gitops-iam (for dry-run scripts).
    pub fn bash<A: Into<OsString>>(mut self, args: impl IntoIterator<Item = A>) -> Self {
        self.program = Program::Bash;
        self.args(args)
    }

    /// Writes a file into the work dir.
    pub fn write(self, path: &str, contents: &str) -> Self {
        let path = self.work_dir().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    fn work_dir(&self) -> PathBuf {
        self.tempdir.path().join("work")
    }

    fn install(&self) -> (PathBuf, PathBuf) {
        let root = self.tempdir.path();
        let bin = root.join("bin");
        let sys = root.join("sys");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&sys).unwrap();
        let fake = root.join("fake.py");
        std::fs::write(&fake, FAKE).unwrap();
        make_executable(&fake);
        for program in &self.fakes {
            std::os::unix::fs::symlink(&fake, bin.join(program)).unwrap();
        }
        for program in SYSTEM_PROGRAMS {
            std::os::unix::fs::symlink(system_program(program), sys.join(program)).unwrap();
        }
        std::os::unix::fs::symlink(BIN, sys.join("gitops-iam")).unwrap();
        std::fs::write(root.join("rules.json"), self.rules.to_json()).unwrap();
        (bin, sys)
    }

    #[track_caller]
    pub fn run(self) -> Output {
        let (bin, sys) = self.install();
        let root = self.tempdir.path();
        let log = root.join("log.jsonl");
        let mut args = self.args.clone();
        let mut command = match self.program {
            Program::GitopsIam => {
                let names_state_dir = args.iter().any(|a| {
                    let a = a.to_string_lossy();
                    a == "--state-dir" || a.starts_with("--state-dir=")
                });
                if self.state_dir && !names_state_dir {
                    args.extend(["--state-dir".into(), STATE_DIR.into()]);
                }
                Command::new(BIN)
            }
            Program::Bash => Command::new(sys.join("bash")),
        };
        let path = std::env::join_paths([&bin, &sys]).unwrap();
        command
            .args(&args)
            .env_clear()
            .env("PATH", path)
            .env("HOME", root)
            .env("FAKE_LOG", &log)
            .env("FAKE_RULES", root.join("rules.json"))
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.work_dir());
        let out = command.output().expect("running the program under test");
        let output = Output {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
            calls: read_log(&log),
            args: args.iter().map(|a| a.to_string_lossy().into_owned()).collect(),
            tempdir: self.tempdir,
        };
        let waited_out: Vec<String> = output.calls.iter().filter(|c| c.waited_out).map(Call::line).collect();
        assert!(
            waited_out.is_empty(),
            "a wait rule of the fake gave up waiting (the order it pins did not happen) for:\n{}\n{}",
            waited_out.join("\n"),
            output.context()
        );
        output
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The system's own copy of `program`: the standard directories first (a pyenv shim on the
/// developer's PATH needs more than this test's PATH offers), then PATH.
fn system_program(program: &str) -> PathBuf {
    ["/usr/bin", "/bin", "/usr/local/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.is_file())
        .or_else(|| which::which(program).ok())
        .and_then(|p| p.canonicalize().ok())
        .unwrap_or_else(|| panic!("the tests need {program}"))
}

/// One call a fake received.
#[derive(Clone, Debug, Deserialize)]
pub struct Call {
    pub program: String,
    pub argv: Vec<String>,
    /// Index of the answering rule; `None` when no rule matched (exit 0, no output).
    pub rule: Option<usize>,
    pub exit: i32,
    pub waited_out: bool,
}

impl Call {
    /// The call as one readable shell line.
    pub fn line(&self) -> String {
        std::iter::once(self.program.as_str())
            .chain(self.argv.iter().map(String::as_str))
            .map(quote)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether the call changes anything, judged from the argv alone (not from gitops-iam's
    /// own idea of it): aws create-/put-/update-/delete-/associate-; eksctl create, delete,
    /// `utils associate-iam-oidc-provider`; kubectl create, apply, annotate, patch, delete,
    /// `rollout restart`.
    pub fn is_mutating(&self) -> bool {
        let words = positional(&self.argv);
        let word = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
        match self.program.as_str() {
            "aws" => ["create-", "put-", "update-", "delete-", "associate-"]
                .iter()
                .any(|p| word(1).starts_with(p)),
            "eksctl" => {
                matches!(word(0), "create" | "delete")
                    || (word(0) == "utils" && word(1) == "associate-iam-oidc-provider")
            }
            "kubectl" => {
                matches!(word(0), "create" | "apply" | "annotate" | "patch" | "delete")
                    || (word(0) == "rollout" && word(1) == "restart")
            }
            other => panic!("unexpected program {other}"),
        }
    }
}

/// The words of an argv that are not options or option values.
fn positional(argv: &[String]) -> Vec<String> {
    const WITH_VALUE: [&str; 8] = [
        "--region",
        "--profile",
        "--output",
        "--query",
        "--kubeconfig",
        "--context",
        "--namespace",
        "-n",
    ];
    let mut out = Vec::new();
    let mut words = argv.iter();
    while let Some(w) = words.next() {
        if WITH_VALUE.contains(&w.as_str()) {
            words.next();
        } else if !w.starts_with('-') {
            out.push(w.clone());
        }
    }
    out
}

fn read_log(path: &Path) -> Vec<Call> {
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("a fake log line"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("reading the fake log: {e}"),
    }
}

/// Quotes a word for display; plain words stay as they are.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ",._+:@%/-=".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// What a finished run did.
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    /// Every call the fakes received, in the order they took effect.
    pub calls: Vec<Call>,
    args: Vec<String>,
    tempdir: TempDir,
}

impl Output {
    /// The directory the program ran in.
    pub fn work_dir(&self) -> PathBuf {
        self.tempdir.path().join("work")
    }

    /// A file the run left in the work dir.
    #[track_caller]
    pub fn file(&self, path: &str) -> String {
        let full = self.work_dir().join(path);
        std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("reading {}: {e}\n{}", full.display(), self.context()))
    }

    /// The files of a directory of the work dir: name -> bytes, sorted by name.
    #[track_caller]
    pub fn files(&self, dir: &str) -> Vec<(String, Vec<u8>)> {
        let full = self.work_dir().join(dir);
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&full)
            .unwrap_or_else(|e| panic!("listing {}: {e}\n{}", full.display(), self.context()))
            .map(|entry| {
                let entry = entry.unwrap();
                (
                    entry.file_name().to_string_lossy().into_owned(),
                    std::fs::read(entry.path()).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    }

    /// Every call, one readable line each.
    pub fn commands(&self) -> Vec<String> {
        self.calls.iter().map(Call::line).collect()
    }

    /// The mutating calls, one readable line each, in order.
    pub fn mutating_commands(&self) -> Vec<String> {
        self.calls.iter().filter(|c| c.is_mutating()).map(Call::line).collect()
    }

    /// The mutating calls as exact argv (program first).
    pub fn mutating_argv(&self) -> Vec<Vec<String>> {
        self.calls
            .iter()
            .filter(|c| c.is_mutating())
            .map(|c| std::iter::once(c.program.clone()).chain(c.argv.clone()).collect())
            .collect()
    }

    /// The stderr lines without the reporter's `[  1.0s] ` time stamps.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .map(|l| match l.strip_prefix('[').and_then(|r| r.split_once("s] ")) {
                Some((secs, rest)) if secs.trim().parse::<f64>().is_ok() => rest,
                _ => l,
            })
            .collect()
    }

    /// Everything about the run, for failure messages.
    pub fn context(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "--- args: {}", self.args.join(" "));
        let _ = writeln!(text, "--- exit status: {}", self.status);
        let _ = writeln!(text, "--- stdout:\n{}", self.stdout);
        let _ = writeln!(text, "--- stderr:\n{}", self.stderr);
        let _ = writeln!(text, "--- calls (rule index, exit):");
        for c in &self.calls {
            let rule = c.rule.map_or("-".to_string(), |r| r.to_string());
            let _ = writeln!(text, "  [{rule:>2} {:>3}] {}", c.exit, c.line());
        }
        text
    }

    #[track_caller]
    pub fn status(&self, code: i32) -> &Self {
        if self.status != code {
            panic!("expected exit status {code}, got {}\n{}", self.status, self.context());
        }
        self
    }

    #[track_caller]
    pub fn success(&self) -> &Self {
        self.status(0)
    }

    #[track_caller]
    pub fn stdout_eq(&self, want: &str) -> &Self {
        assert_text_eq("stdout", &self.stdout, want, &self.context());
        self
    }

    #[track_caller]
    pub fn stdout_contains(&self, needle: &str) -> &Self {
        if !self.stdout.contains(needle) {
            panic!("stdout lacks {needle:?}\n{}", self.context());
        }
        self
    }

    #[track_caller]
    pub fn stderr_contains(&self, needle: &str) -> &Self {
        if !self.stderr.contains(needle) {
            panic!("stderr lacks {needle:?}\n{}", self.context());
        }
        self
    }

    #[track_caller]
    pub fn stderr_lacks(&self, needle: &str) -> &Self {
        if self.stderr.contains(needle) {
            panic!("stderr has {needle:?}\n{}", self.context());
        }
        self
    }

    /// stdout is JSON equal to `want`.
    #[track_caller]
    pub fn stdout_json(&self, want: serde_json::Value) -> &Self {
        let have: serde_json::Value = serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", self.context()));
        assert_text_eq(
            "stdout JSON",
            &serde_json::to_string_pretty(&have).unwrap(),
            &serde_json::to_string_pretty(&want).unwrap(),
            &self.context(),
        );
        self
    }

    /// The mutating calls are exactly `want`, in this order (lines as [`Call::line`] prints).
    #[track_caller]
    pub fn mutating(&self, want: &[&str]) -> &Self {
        assert_lines_eq("mutating commands", &self.mutating_commands(), want, &self.context());
        self
    }

    /// The mutating calls are exactly `want` as a multiset: each as often as listed, in any
    /// order (for commands of concurrent branches; pin what must be ordered with [`Self::before`]).
    #[track_caller]
    pub fn mutating_unordered(&self, want: &[&str]) -> &Self {
        assert_lines_eq_unordered("mutating commands", &self.mutating_commands(), want, &self.context());
        self
    }

    /// Every call containing `a` took effect before every call containing `b`, and both occur:
    /// for real dependencies between steps (commands of concurrent branches may come in either
    /// order). Substrings of [`Call::line`], so a quoted word must be given quoted.
    #[track_caller]
    pub fn before(&self, a: &str, b: &str) -> &Self {
        if let Err(e) = check_before(&self.commands(), a, b) {
            panic!("{e}\n{}", self.context());
        }
        self
    }

    #[track_caller]
    pub fn no_mutations(&self) -> &Self {
        self.mutating(&[])
    }

    /// No fake was called at all: no external command ran.
    #[track_caller]
    pub fn no_calls(&self) -> &Self {
        assert_lines_eq("external commands", &self.commands(), NOTHING, &self.context());
        self
    }

    /// Every read-only call was answered by a rule (none fell through to the default).
    #[track_caller]
    pub fn no_unmatched_reads(&self) -> &Self {
        let unmatched: Vec<String> = self
            .calls
            .iter()
            .filter(|c| c.rule.is_none() && !c.is_mutating())
            .map(Call::line)
            .collect();
        assert_lines_eq("read-only calls no rule answered", &unmatched, NOTHING, &self.context());
        self
    }
}

/// Panics with a unified diff (want -> have) when the texts differ.
#[track_caller]
pub fn assert_text_eq(what: &str, have: &str, want: &str, context: &str) {
    if have == want {
        return;
    }
    let diff = similar::TextDiff::from_lines(want, have)
        .unified_diff()
        .context_radius(5)
        .header("want", "have")
        .to_string();
    panic!("{what} differ (- want, + have):\n{diff}\n{context}");
}

/// Panics with a diff when the lines differ.
#[track_caller]
pub fn assert_lines_eq<S: AsRef<str>>(what: &str, have: &[String], want: &[S], context: &str) {
    let join = |lines: Vec<&str>| lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    let have = join(have.iter().map(String::as_str).collect());
    let want = join(want.iter().map(AsRef::as_ref).collect());
    assert_text_eq(what, &have, &want, context);
}

/// Panics with a diff when the lines differ as multisets (each line as often, in any order).
#[track_caller]
pub fn assert_lines_eq_unordered<S: AsRef<str>>(what: &str, have: &[String], want: &[S], context: &str) {
    let mut have = have.to_vec();
    have.sort();
    let mut want: Vec<&str> = want.iter().map(AsRef::as_ref).collect();
    want.sort();
    assert_lines_eq(&format!("{what} (sorted)"), &have, &want, context);
}

/// Whether every command containing `a` comes before every command containing `b` in the log
/// (the order the calls took effect), each occurring at least once. For real dependencies
/// only; two commands of concurrent branches may come in either order. The error lists the
/// commands.
fn check_before(commands: &[String], a: &str, b: &str) -> Result<(), String> {
    let positions = |needle: &str| -> Vec<usize> {
        commands
            .iter()
            .enumerate()
            .filter(|(_, c)| c.contains(needle))
            .map(|(i, _)| i)
            .collect()
    };
    let (of_a, of_b) = (positions(a), positions(b));
    let listing: String = commands
        .iter()
        .enumerate()
        .map(|(i, c)| format!("  #{i:<3} {c}\n"))
        .collect();
    match (of_a.last(), of_b.first()) {
        (None, _) => Err(format!("no command contains {a:?}:\n{listing}")),
        (_, None) => Err(format!("no command contains {b:?}:\n{listing}")),
        (Some(&last_a), Some(&first_b)) if last_a >= first_b => Err(format!(
            "expected every command containing {a:?} before every command containing {b:?}, \
             but #{first_b} comes before #{last_a}:\n{listing}"
        )),
        _ => Ok(()),
    }
}

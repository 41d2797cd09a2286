//! `scripts/install.sh`, offline: a local release directory laid out as GitHub serves one
//! (`download/vVERSION/ASSET` and `latest/download/ASSET`), served by `python3 -m http.server` on
//! 127.0.0.1, and pointed at with `GITOPS_IAM_RELEASE_URL`. The archive holds the binary under
//! test, so "installs and runs" means `gitops-iam --version` answers from the installed copy.
//!
//! The server is a child process owned by a guard that kills it on drop, so it stops when a test
//! fails too.

use crate::harness::BIN;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use tempfile::TempDir;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/install.sh");

/// The archive name release.yml writes for this machine.
fn archive_name() -> String {
    let os = match std::env::consts::OS {
        "linux" => "unknown-linux-musl",
        "macos" => "apple-darwin",
        other => panic!("no release target for {other}"),
    };
    format!("gitops-iam-{VERSION}-{}-{os}.tar.gz", std::env::consts::ARCH)
}

/// `python3 -m http.server` on 127.0.0.1, on a port the OS picks; killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(root: &Path) -> Server {
        let mut child = Command::new("python3")
            .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory"])
            .arg(root)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting python3 -m http.server");
        // It prints "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..." once
        // it listens: reading the port from it needs no free-port guess and no polling.
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let mut server = Server {
            child,
            url: String::new(),
        };
        let port = line
            .split_whitespace()
            .skip_while(|word| *word != "port")
            .nth(1)
            .unwrap_or_else(|| panic!("http.server said {line:?}"));
        server.url = format!("http://127.0.0.1:{port}");
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A release directory with one archive holding the binary under test, and SHA256SUMS.
struct Release {
    root: TempDir,
}

impl Release {
    fn new() -> Release {
        let root = tempfile::Builder::new()
            .prefix("gitops-iam-install-")
            .tempdir()
            .unwrap();
        let stage = root.path().join("stage");
        std::fs::create_dir(&stage).unwrap();
        // The debug binary is ~100 MB, mostly debug info: stripped, archiving it takes 0.3 s
        // rather than 5 (a release build's binary is stripped the same way).
        let binary = stage.join("gitops-iam");
        let stripped = Command::new("strip").arg("-o").arg(&binary).arg(BIN).status();
        if !stripped.is_ok_and(|status| status.success()) {
            std::fs::copy(BIN, &binary).unwrap();
        }
        let dir = root.path().join(format!("releases/download/v{VERSION}"));
        std::fs::create_dir_all(&dir).unwrap();
        let archive = dir.join(archive_name());
        run(Command::new("tar")
            .arg("-czf")
            .arg(&archive)
            .arg("-C")
            .arg(&stage)
            .arg("gitops-iam"));
        // `sha256sum` writes the format release.yml publishes; macOS has `shasum -a 256`.
        let sums = Command::new("sha256sum").arg(archive_name()).current_dir(&dir).output();
        let sums = match sums {
            Ok(output) if output.status.success() => output,
            _ => run(Command::new("shasum")
                .args(["-a", "256"])
                .arg(archive_name())
                .current_dir(&dir)),
        };
        std::fs::write(dir.join("SHA256SUMS"), &sums.stdout).unwrap();
        // GitHub redirects latest/download/ASSET to the newest tag's asset; a copy is the same.
        let latest = root.path().join("releases/latest");
        std::fs::create_dir_all(&latest).unwrap();
        run(Command::new("cp").arg("-R").arg(&dir).arg(latest.join("download")));
        Release { root }
    }

    fn archive(&self, tag: &str) -> PathBuf {
        let dir = if tag == "latest" {
            "latest/download".to_string()
        } else {
            format!("download/{tag}")
        };
        self.root.path().join("releases").join(dir).join(archive_name())
    }

    /// `sh scripts/install.sh ARGS` with INSTALL_DIR in this release's temp dir.
    fn install(&self, server: &Server, args: &[&str]) -> Output {
        Command::new("sh")
            .arg(SCRIPT)
            .args(args)
            .env("GITOPS_IAM_RELEASE_URL", format!("{}/releases", server.url))
            .env("INSTALL_DIR", self.install_dir())
            .output()
            .unwrap()
    }

    fn install_dir(&self) -> PathBuf {
        self.root.path().join("bin")
    }
}

fn run(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_verified_archive_installs_and_runs() {
    let release = Release::new();
    let server = Server::start(release.root.path());
    for version in [VERSION.to_string(), format!("v{VERSION}")] {
        let _ = std::fs::remove_dir_all(release.install_dir());
        let output = release.install(&server, &[&version]);
        assert!(
            output.status.success(),
            "install.sh {version} failed:\n{}",
            stderr(&output)
        );
        let installed = release.install_dir().join("gitops-iam");
        let version_line = run(Command::new(&installed).arg("--version"));
        assert_eq!(
            String::from_utf8_lossy(&version_line.stdout).trim(),
            format!("gitops-iam {VERSION}")
        );
        assert!(stderr(&output).contains("SHA-256 verified"), "{}", stderr(&output));
        assert!(
            stderr(&output).contains(&format!("installed {}", installed.display())),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn without_a_version_it_installs_the_latest_release() {
    let release = Release::new();
    let server = Server::start(release.root.path());
    let output = release.install(&server, &[]);
    assert!(output.status.success(), "install.sh failed:\n{}", stderr(&output));
    assert!(
        stderr(&output).contains("/releases/latest/download/"),
        "{}",
        stderr(&output)
    );
    run(Command::new(release.install_dir().join("gitops-iam")).arg("--version"));
}

#[test]
fn a_corrupted_archive_is_refused_and_nothing_is_installed() {
    let release = Release::new();
    // One flipped byte in the archive: SHA256SUMS no longer matches it.
    let archive = release.archive(&format!("v{VERSION}"));
    let mut bytes = std::fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&archive, bytes).unwrap();
    let server = Server::start(release.root.path());

    let output = release.install(&server, &[VERSION]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("SHA-256 mismatch"), "{}", stderr(&output));
    assert!(stderr(&output).contains("refusing to install"), "{}", stderr(&output));
    assert!(
        !release.install_dir().exists(),
        "install.sh created {}",
        release.install_dir().display()
    );
}

#[test]
fn a_release_without_this_machines_archive_is_refused() {
    let release = Release::new();
    let dir = release.root.path().join(format!("releases/download/v{VERSION}"));
    std::fs::write(
        dir.join("SHA256SUMS"),
        format!("{}  gitops-iam-{VERSION}-riscv64-unknown-none.tar.gz\n", "0".repeat(64)),
    )
    .unwrap();
    let server = Server::start(release.root.path());

    let output = release.install(&server, &[VERSION]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("has no archive for"), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cargo install --locked gitops-iam"),
        "{}",
        stderr(&output)
    );
    assert!(!release.install_dir().exists());
}

//! Ctrl-C: the children get the signal, the tool waits for them, says which steps finished and
//! how to resume, and exits 130 (issue 6).

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn script(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/bash\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn ctrl_c_during_cluster_creation_stops_the_children_and_exits_130() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let marks = tmp.path().join("marks");
    std::fs::create_dir(&marks).unwrap();
    let m = marks.display();
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
    // A cluster creation that takes long and notes the signal it gets.
    script(
        &bin,
        "eksctl",
        &format!(
            r#"case "$*" in
  "create cluster"*) trap 'echo INT > {m}/$$.int; exit 130' INT; touch {m}/$$.started; for i in $(seq 300); do sleep 0.1; done; touch {m}/$$.finished ;;
  *) echo '[]' ;;
esac"#
        ),
    );
    script(&bin, "kubectl", "exit 0");
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_gitops-iam"))
        .args(["up", "--region", "us-east-1", "--state-dir", ".gitops-iam"])
        .current_dir(tmp.path())
        .env_clear()
        .env("PATH", &path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Wait until both cluster creations run, then interrupt the tool only (as `kill -INT` from a
    // CI runner does: the children do not get the terminal's signal).
    let started = Instant::now();
    loop {
        let n = std::fs::read_dir(&marks)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "started"))
            .count();
        if n == 2 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the cluster creations never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = child.id() as libc::pid_t;
    // SAFETY: kill(2) on the child we spawned and have not waited for.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let interrupted_at = Instant::now();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();

    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        interrupted_at.elapsed() < Duration::from_secs(10),
        "took {:?}\n{stderr}",
        interrupted_at.elapsed()
    );
    let names: Vec<String> = std::fs::read_dir(&marks)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names.iter().filter(|n| n.ends_with(".int")).count(),
        2,
        "children got no SIGINT: {names:?}"
    );
    assert!(
        !names.iter().any(|n| n.ends_with(".finished")),
        "a child ran to the end: {names:?}"
    );
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(stderr.contains("re-run the same command to resume"), "{stderr}");
}

//! The docs tell the truth: what README.md and `examples/` show is what the binary does.
//!
//! - README's sample script (after "The first command prints") is, line for line and in order,
//!   in the script the quick start's dry-run prints (its `...` stands for lines left out).
//! - Every command an example config documents in its header (`#   gitops-iam ...`) dry-runs
//!   from the repository's layout, and bash accepts the script it prints.
//!
//! (That every flag of the environment has its config key is a unit test in `src/config.rs`.)

use crate::harness::{Output, Test};

const README: &str = include_str!("../README.md");
const AGENT_MANIFEST: &str = include_str!("sandbox/agent.yaml");

/// The fenced block of `lang` that follows the first line containing `after`.
fn block_after<'a>(text: &'a str, after: &str, lang: &str) -> Vec<&'a str> {
    let start = text.find(after).unwrap_or_else(|| panic!("README has no {after:?}"));
    let rest = &text[start..];
    let fence = format!("```{lang}\n");
    let open = rest
        .find(&fence)
        .unwrap_or_else(|| panic!("no ```{lang} block after {after:?}"))
        + fence.len();
    let close = rest[open..].find("```").expect("an unclosed block");
    rest[open..open + close].lines().collect()
}

/// `gitops-iam ARGS` as the README's quick start gives them, from a checkout's layout.
fn quick_start_args() -> Vec<String> {
    let block = block_after(README, "## Quick start", "sh");
    let line = block
        .iter()
        .find(|l| l.starts_with("cargo run --release -- "))
        .expect("the quick start runs the binary with cargo run");
    let command = line.split('#').next().unwrap().trim();
    command
        .trim_start_matches("cargo run --release -- ")
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[track_caller]
fn bash_accepts(out: &Output, what: &str) {
    let script = out.work_dir().join("script.sh");
    std::fs::write(&script, &out.stdout).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "bash -n refuses the script of {what}: {}\n{}",
        String::from_utf8_lossy(&check.stderr),
        out.stdout
    );
}

#[test]
fn the_readme_sample_script_is_what_the_quick_start_prints() {
    let args = quick_start_args();
    assert!(
        args.iter().any(|a| a == "--dry-run"),
        "the quick start is a dry-run: {args:?}"
    );
    let out = Test::new()
        .no_fakes()
        .write("tests/sandbox/agent.yaml", AGENT_MANIFEST)
        .args(&args)
        .run();
    out.success();
    let printed: Vec<&str> = out.stdout.lines().collect();
    let sample = block_after(README, "The first command prints", "bash");
    assert!(sample.len() > 10, "the sample is the script, shortened: {sample:?}");
    // each sample line in order; `...` skips any number of printed lines
    let mut at = 0;
    // the sample starts somewhere in the script (after its preamble)
    let mut gap = true;
    for line in sample {
        if line == "..." {
            gap = true;
            continue;
        }
        let found = if gap {
            printed[at..].iter().position(|p| *p == line).map(|i| at + i)
        } else {
            // without `...`, the next printed line that is a command (the sample leaves out
            // blank lines, comments and the script's functions)
            printed[at..]
                .iter()
                .position(|p| !p.is_empty() && !p.starts_with('#'))
                .map(|i| at + i)
                .filter(|&i| printed[i] == line)
        };
        let Some(i) = found else {
            panic!(
                "README's sample line is not what `gitops-iam {}` prints next:\n  {line}\nprinted:\n{}",
                args.join(" "),
                out.stdout
            );
        };
        at = i + 1;
        gap = false;
    }
}

#[test]
fn every_command_an_example_config_documents_dry_runs() {
    let mut ran = 0;
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let config = std::fs::read_to_string(&path).unwrap();
        let commands: Vec<&str> = config
            .lines()
            .filter_map(|l| l.strip_prefix("#   gitops-iam "))
            .map(|l| l.split(" #").next().unwrap().trim())
            .collect();
        assert!(
            !commands.is_empty(),
            "examples/{name} documents no command in its header"
        );
        for command in commands {
            let mut args: Vec<&str> = command.split_whitespace().collect();
            if !args.contains(&"--dry-run") {
                args.push("--dry-run");
            }
            let out = Test::new()
                .no_fakes()
                .write(&format!("examples/{name}"), &config)
                .write("gitops-agent.yaml", AGENT_MANIFEST)
                .args(&args)
                .run();
            out.success();
            assert!(
                out.stdout.starts_with("#!/usr/bin/env bash\n"),
                "`gitops-iam {command}` (examples/{name}) printed no script:\n{}",
                out.stdout
            );
            bash_accepts(&out, &format!("`gitops-iam {command}` (examples/{name})"));
            ran += 1;
        }
    }
    assert!(ran >= 5, "only {ran} documented commands found in examples/");
}

//! `gitops-iam doctor`: is this machine ready for a real run?
//!
//! Checks each tool (installed, version), the region and the credentials, and prints an install
//! or configuration hint for each gap. Exit 1 if anything is missing.

use crate::cli::GlobalArgs;
use crate::cmd::{Cmd, Effect, Val};
use crate::exec::{Executor, RealExecutor, install_hint};
use crate::names::{Profile, Region};
use crate::report::Reporter;
use crate::tools::ToolCtx;
use std::fmt::Write as _;

struct Check {
    ok: bool,
    what: String,
    detail: String,
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

/// The programs doctor checks and how it asks each for its version.
const TOOLS: [(&str, &[&str]); 3] = [
    ("eksctl", &["version"]),
    ("aws", &["--version"]),
    ("kubectl", &["version", "--client"]),
];

fn version_cmd(program: &'static str, version_args: &[&str]) -> Cmd {
    Cmd::new(program, Effect::Read, format!("read the {program} version")).args(version_args.iter().copied())
}

/// `doctor --dry-run`: the read-only commands doctor runs, as a script.
/// `--profile`, else `AWS_PROFILE`: whose `region` applies when nothing else gives one.
fn profile_name(global: &GlobalArgs) -> Option<String> {
    global.profile.clone().or_else(|| std::env::var("AWS_PROFILE").ok())
}

pub(crate) fn script(global: &GlobalArgs) -> String {
    let mut out = String::from("#!/usr/bin/env bash\n# gitops-iam doctor: the read-only commands it runs\n");
    for (program, args) in TOOLS {
        let _ = writeln!(out, "command -v {program}");
        let _ = writeln!(out, "{}", version_cmd(program, args));
    }
    let region = global
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .filter(|r| !r.is_empty())
        .or_else(|| crate::settings::region_of_profile(profile_name(global).as_deref()))
        .map(Val::Known)
        .unwrap_or_else(|| Val::var(crate::settings::REGION_VAR));
    let profile = global
        .profile
        .as_deref()
        .and_then(|p| Profile::parse("--profile", p).ok());
    let _ = writeln!(out, "{}", ToolCtx { region, profile }.caller_account());
    out
}

async fn tool(exec: &RealExecutor<'_>, program: &'static str, version_args: &[&str]) -> Check {
    if which::which(program).is_err() {
        return Check {
            ok: false,
            what: program.into(),
            detail: format!("not found on PATH; {}", install_hint(program)),
        };
    }
    let cmd = version_cmd(program, version_args);
    let detail = match exec.observe(&cmd).await {
        Ok(Some(out)) if out.success() => {
            // aws v1 prints its version on stderr.
            let text = if out.stdout.trim().is_empty() {
                &out.stderr
            } else {
                &out.stdout
            };
            first_line(text)
        }
        Ok(Some(out)) => format!("installed, but `{cmd}` failed: {}", first_line(&out.stderr)),
        Ok(None) => String::new(),
        Err(e) => format!("installed, but `{cmd}` failed: {e}"),
    };
    Check {
        ok: true,
        what: program.into(),
        detail,
    }
}

/// Runs every check; returns the report text and whether all passed.
pub(crate) async fn run(global: &GlobalArgs) -> (String, bool) {
    let report = Reporter::silent();
    let exec = RealExecutor::new(&report);
    let mut checks = Vec::new();
    for (program, args) in TOOLS {
        checks.push(tool(&exec, program, args).await);
    }

    let region_value = global
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .filter(|r| !r.is_empty())
        .or_else(|| crate::settings::region_of_profile(profile_name(global).as_deref()));
    let region = region_value.as_deref().map(|r| Region::parse("--region", r));
    checks.push(match &region {
        Some(Ok(r)) => Check {
            ok: true,
            what: "region".into(),
            detail: r.to_string(),
        },
        Some(Err(e)) => Check {
            ok: false,
            what: "region".into(),
            detail: e.to_string(),
        },
        None => Check {
            ok: false,
            what: "region".into(),
            detail: "not set; pass --region or export AWS_REGION, or give the profile a region (aws configure set region REGION)".into(),
        },
    });

    let aws_installed = checks[1].ok;
    let profile = global
        .profile
        .clone()
        .or_else(|| std::env::var("AWS_PROFILE").ok())
        .filter(|p| !p.is_empty())
        .and_then(|p| Profile::parse("--profile", &p).ok());
    checks.push(match (aws_installed, &region) {
        (true, Some(Ok(r))) => {
            let aws = ToolCtx {
                region: Val::known(r.as_str()),
                profile,
            };
            let cmd = aws.caller_account();
            match exec.observe(&cmd).await {
                Ok(Some(out)) if out.success() => Check {
                    ok: true,
                    what: "credentials".into(),
                    detail: format!("account {}", out.stdout.trim()),
                },
                Ok(Some(out)) => Check {
                    ok: false,
                    what: "credentials".into(),
                    detail: format!(
                        "`{cmd}` failed: {}; run `aws configure` or set AWS_PROFILE",
                        first_line(&out.stderr)
                    ),
                },
                Ok(None) | Err(_) => Check {
                    ok: false,
                    what: "credentials".into(),
                    detail: format!("could not run `{cmd}`"),
                },
            }
        }
        _ => Check {
            ok: false,
            what: "credentials".into(),
            detail: "not checked: needs aws and a region".into(),
        },
    });

    let mut text = String::new();
    for c in &checks {
        let _ = writeln!(
            text,
            "{:7} {:12} {}",
            if c.ok { "ok" } else { "MISSING" },
            c.what,
            c.detail
        );
    }
    (text, checks.iter().all(|c| c.ok))
}

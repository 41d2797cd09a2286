//! A failure of any mutating command of `up` (injected by the sandbox with `SANDBOX_FAIL_NTH=N`,
//! looking like the real tool's failure) stops `up` with exit 1, naming the step, the command
//! and the tool's stderr; re-running `up` without the fault converges to the state of a run from
//! scratch.
//!
//! One test per N, so the test runner spreads them over its threads. `FAULT_POINTS` must equal
//! the number of mutating commands of `up` from scratch: the `up` test checks it, and
//! `fault_tests_cover_every_mutating_command_of_up` checks the list below against it.

use super::sandbox::Sandbox;
use super::*;

/// Mutating commands of `up --agent-manifest` from scratch.
pub const FAULT_POINTS: usize = 12;

macro_rules! fault_tests {
    ($($name:ident: $n:literal,)*) => {
        $(
            #[test]
            fn $name() {
                fault_then_rerun($n);
            }
        )*
        const GENERATED: &[usize] = &[$($n),*];
    };
}

fault_tests! {
    fault_at_mutating_command_01_fails_up_naming_it_and_a_rerun_converges: 1,
    fault_at_mutating_command_02_fails_up_naming_it_and_a_rerun_converges: 2,
    fault_at_mutating_command_03_fails_up_naming_it_and_a_rerun_converges: 3,
    fault_at_mutating_command_04_fails_up_naming_it_and_a_rerun_converges: 4,
    fault_at_mutating_command_05_fails_up_naming_it_and_a_rerun_converges: 5,
    fault_at_mutating_command_06_fails_up_naming_it_and_a_rerun_converges: 6,
    fault_at_mutating_command_07_fails_up_naming_it_and_a_rerun_converges: 7,
    fault_at_mutating_command_08_fails_up_naming_it_and_a_rerun_converges: 8,
    fault_at_mutating_command_09_fails_up_naming_it_and_a_rerun_converges: 9,
    fault_at_mutating_command_10_fails_up_naming_it_and_a_rerun_converges: 10,
    fault_at_mutating_command_11_fails_up_naming_it_and_a_rerun_converges: 11,
    fault_at_mutating_command_12_fails_up_naming_it_and_a_rerun_converges: 12,
}

#[test]
fn fault_tests_cover_every_mutating_command_of_up() {
    assert_eq!(GENERATED, (1..=FAULT_POINTS).collect::<Vec<_>>());
}

/// `create-role` -> `CreateRole`, as the aws CLI names the operation in its errors.
fn operation_name(cli_name: &str) -> String {
    cli_name
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<String>()
        .replace("OpenIdConnect", "OpenIDConnect")
}

fn fault_then_rerun(n: usize) {
    // Every distinct mutating command gets its fault: without a propagation delay no create-role
    // is attempted twice, so the Nth command of the log is the Nth command of the reference run.
    // (IAM principal validation stays on; e2e::realworld_iam covers the delay.)
    let sb = Sandbox::start_with(&[("SANDBOX_IAM_PROPAGATION_DELAY", "0")]);
    let nth = n.to_string();
    let out = sb.gitops_iam_with(&up_args(&[]), &[("SANDBOX_FAIL_NTH", &nth)]);

    let mutating = sb.mutating_commands();
    let injected: Vec<_> = mutating.iter().enumerate().filter(|(_, c)| c.injected).collect();
    assert_eq!(
        injected.len(),
        1,
        "SANDBOX_FAIL_NTH={n}: expected one injected fault (did `up` issue fewer than {n} mutating \
         commands?):\n{}\n{}",
        mutating_lines(&mutating).join("\n"),
        out.describe()
    );
    let (index, failed) = injected[0];
    assert_eq!(
        index + 1,
        n,
        "the fault hit mutating command {} instead of {n}",
        index + 1
    );

    out.code(1);
    let err = &out.stderr;
    // the step
    let step = err
        .split_once("step `")
        .and_then(|(_, rest)| rest.split_once("` failed"))
        .map(|(step, _)| step)
        .unwrap_or_else(|| {
            panic!(
                "stderr does not name the failed step (step `...` failed):\n{}",
                out.describe()
            )
        });
    assert!(!step.is_empty(), "{}", out.describe());
    assert!(summary_line(err, step).contains("failed"), "{}", out.describe());
    // the command, word for word
    let named = stderr_lines(err).iter().any(|l| {
        l.trim_start()
            .strip_prefix("command: ")
            .and_then(shlex::split)
            .is_some_and(|argv| argv == failed.argv)
    });
    assert!(
        named,
        "stderr does not name the failed command {:?}:\n{}",
        failed.line,
        out.describe()
    );
    // the tool's own stderr
    let tool_stderr = match failed.tool.as_str() {
        "aws" => format!(
            "An error occurred (ServiceFailure) when calling the {} operation: injected fault (sandbox)",
            operation_name(&failed.argv[2])
        ),
        "kubectl" => "Error from server (InternalError): injected fault (sandbox)".to_owned(),
        "eksctl" => "Error: injected fault (sandbox)".to_owned(),
        other => panic!("unexpected tool {other}"),
    };
    assert!(
        err.contains(&tool_stderr),
        "stderr does not carry {tool_stderr:?}:\n{}",
        out.describe()
    );

    // resume
    let mark = sb.mark();
    let rerun = sb.gitops_iam(&up_args(&[]));
    rerun.success();
    let redone = sb.mutating_since(mark);
    assert!(
        redone.iter().any(|c| c.argv == failed.argv),
        "the re-run did not issue the failed command {:?} again:\n{}\n{}",
        failed.line,
        mutating_lines(&redone).join("\n"),
        rerun.describe()
    );
    sb.snapshot().assert_matches_reference("up", false);
}

#[test]
fn operation_names_follow_the_aws_cli() {
    assert_eq!(operation_name("create-role"), "CreateRole");
    assert_eq!(
        operation_name("create-open-id-connect-provider"),
        "CreateOpenIDConnectProvider"
    );
}

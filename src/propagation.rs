//! Eventual consistency: the documented errors that mean "not yet", and how long to wait them out.
//!
//! IAM, STS and EKS are eventually consistent: a role created a second ago is not yet a valid
//! principal everywhere. Each service says so with one specific error, and only those are
//! waited out (with backoff, bounded, shown as progress); any other error still fails at once,
//! so a real mistake is never hidden behind minutes of retries. A command that may meet one of
//! them carries it ([`crate::cmd::Cmd::retry_on`]); the executor does the waiting.

use std::time::Duration;

/// A propagation error a command may meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Propagation {
    /// IAM refuses a trust policy naming a role it has not propagated yet:
    /// `MalformedPolicyDocument: Invalid principal in policy: "AWS":"arn:..."`
    /// (terraform-provider-aws retries CreateRole and UpdateAssumeRolePolicy on this message).
    IamPrincipal,
    /// EKS refuses an access entry for a role it does not know yet:
    /// `InvalidParameterException: The specified principalArn is invalid: invalid principal.`
    EksPrincipal,
    /// STS refuses to let a just-created role be assumed: `AccessDenied` on AssumeRole.
    AssumeRole,
}

impl Propagation {
    /// Whether a failed command's stderr is this error (and nothing else).
    pub(crate) fn matches(self, stderr: &str) -> bool {
        let code = crate::tools::aws::error_code(stderr);
        match self {
            Propagation::IamPrincipal => {
                code == Some("MalformedPolicyDocument") && stderr.contains("Invalid principal in policy")
            }
            Propagation::EksPrincipal => {
                code == Some("InvalidParameterException") && stderr.contains("principalArn is invalid")
            }
            Propagation::AssumeRole => code == Some("AccessDenied") && stderr.contains("AssumeRole"),
        }
    }

    /// A fixed string of the error's message, for the dry-run script's `wait_out_propagation`.
    pub(crate) fn marker(self) -> &'static str {
        match self {
            Propagation::IamPrincipal => "Invalid principal in policy",
            Propagation::EksPrincipal => "principalArn is invalid",
            Propagation::AssumeRole => "(AccessDenied) when calling the AssumeRole operation",
        }
    }

    /// What is awaited, completing "waiting for ...".
    pub(crate) fn awaited(self) -> &'static str {
        match self {
            Propagation::IamPrincipal => "IAM to accept a new role as a principal",
            Propagation::EksPrincipal => "EKS to accept a new role as an access-entry principal",
            Propagation::AssumeRole => "STS to let a new role be assumed",
        }
    }
}

/// The default bound on waiting for one propagation (`--propagation-timeout`): IAM documents
/// "a few seconds", and terraform-provider-aws waits up to two minutes.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// The pause before retry number `attempt` (1-based): 1, 2, 4, 8, then 10 seconds.
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_secs((1u64 << attempt.saturating_sub(1).min(4)).min(10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_documented_errors() {
        let iam = "\nAn error occurred (MalformedPolicyDocument) when calling the CreateRole operation: Invalid principal in policy: \"AWS\":\"arn:aws:iam::123456789012:role/ArgoCD\"\n";
        assert!(Propagation::IamPrincipal.matches(iam));
        assert!(!Propagation::EksPrincipal.matches(iam));
        // Another malformed document is a real error: never waited out.
        let syntax = "An error occurred (MalformedPolicyDocument) when calling the CreateRole operation: Syntax errors in policy.";
        assert!(!Propagation::IamPrincipal.matches(syntax));
        let eks = "An error occurred (InvalidParameterException) when calling the CreateAccessEntry operation: The specified principalArn is invalid: invalid principal.";
        assert!(Propagation::EksPrincipal.matches(eks));
        let group = "An error occurred (InvalidParameterException) when calling the CreateAccessEntry operation: The kubernetes group name system:x is invalid";
        assert!(!Propagation::EksPrincipal.matches(group));
        let sts = "An error occurred (AccessDenied) when calling the AssumeRole operation: User: x is not authorized";
        assert!(Propagation::AssumeRole.matches(sts));
        assert!(
            !Propagation::AssumeRole.matches("An error occurred (AccessDenied) when calling the CreateRole operation")
        );
    }

    #[test]
    fn backoff_doubles_then_caps() {
        let secs: Vec<u64> = (1..=6).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 10, 10]);
    }
}

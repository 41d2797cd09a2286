//! Validated names: every value that reaches an external command is one of these newtypes.
//!
//! AWS and Kubernetes reject bad names only after minutes of work (a cluster creation that fails
//! at the CloudFormation stage, a role created under a typo). Checking the documented rules up
//! front turns those into an immediate exit 2 naming the flag, the value and the rule.

use crate::error::{Error, Result};
use std::fmt;

/// Declares a string newtype whose only constructor checks `$check`.
macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $rule:expr, $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub(crate) struct $name(String);

        impl $name {
            /// The rule, as shown to users.
            pub(crate) const RULE: &'static str = $rule;

            /// Validates `value` given for `flag`.
            pub(crate) fn parse(flag: &str, value: &str) -> Result<Self> {
                let check: fn(&str) -> bool = $check;
                if check(value) {
                    Ok(Self(value.to_string()))
                } else {
                    Err(Error::invalid(flag, value, Self::RULE))
                }
            }

            pub(crate) fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

fn all(s: &str, ok: impl Fn(char) -> bool) -> bool {
    s.chars().all(ok)
}

/// What both eksctl and EKS accept: eksctl refuses anything but letters, digits and '-'
/// (`IsInvalidNameArg`, eksctl `pkg/apis/eksctl.io/v1alpha5/validation.go`), EKS a first
/// character that is not alphanumeric and more than 100 characters (CreateCluster's `name`).
fn is_eks_cluster_name(s: &str) -> bool {
    let first = s.chars().next();
    (1..=100).contains(&s.len())
        && first.is_some_and(|c| c.is_ascii_alphanumeric())
        && all(s, |c| c.is_ascii_alphanumeric() || c == '-')
}

fn is_iam_name(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len()) && all(s, |c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// DNS-1123 label: what Kubernetes requires of a namespace name.
pub(crate) fn is_dns1123_label(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && all(s, |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_region(s: &str) -> bool {
    // Partition prefix, one or more words, a number: us-east-1, us-gov-west-1, cn-north-1.
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && all(p, |c| c.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|n| !n.is_empty() && n.len() <= 2 && all(n, |c| c.is_ascii_digit()))
}

fn is_k8s_subject(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && all(s, |c| c.is_ascii_graphic())
}

name_type!(
    /// An EKS cluster name.
    ClusterName,
    "1-100 characters: letters, digits and '-', starting with a letter or digit (eksctl and EKS)",
    is_eks_cluster_name
);
name_type!(
    /// An IAM role name.
    RoleName,
    "1-64 characters: letters, digits and +=,.@_- (IAM role names)",
    |s| is_iam_name(s, 64)
);
name_type!(
    /// A Kubernetes namespace.
    Namespace,
    "a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
    is_dns1123_label
);
name_type!(
    /// A 12-digit AWS account id.
    AccountId,
    "exactly 12 digits (an AWS account id)",
    |s| s.len() == 12 && all(s, |c| c.is_ascii_digit())
);
name_type!(
    /// An AWS region such as `us-east-1`.
    Region,
    "an AWS region such as us-east-1 or us-gov-west-1 (lowercase words and a number, joined by '-')",
    is_region
);
name_type!(
    /// An AWS CLI profile name.
    Profile,
    "a non-empty profile name without whitespace",
    |s| !s.is_empty() && all(s, |c| c.is_ascii_graphic())
);
name_type!(
    /// A Kubernetes user or group name used in an identity mapping.
    Subject,
    "1-253 printable characters without whitespace",
    is_k8s_subject
);

/// The OIDC provider host and path (the cluster's issuer URL without `https://`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OidcProvider(String);

impl OidcProvider {
    pub(crate) const RULE: &'static str = "the issuer's host and path without https://, e.g. oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";

    /// Accepts the issuer URL too: the `https://` prefix is what the tutorial strips with sed.
    pub(crate) fn parse(flag: &str, value: &str) -> Result<Self> {
        let host_path = value.strip_prefix("https://").unwrap_or(value);
        let ok = !host_path.is_empty()
            && !host_path.contains("://")
            && host_path.contains('.')
            && !host_path.starts_with('/')
            && !host_path.ends_with('/')
            && all(host_path, |c| c.is_ascii_graphic() && c != '"' && c != '\\');
        if ok {
            Ok(Self(host_path.to_string()))
        } else {
            Err(Error::invalid(flag, value, Self::RULE))
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// Turns any cluster name into a valid Harness identifier (`^[a-zA-Z_][0-9a-zA-Z_]{0,127}$`).
pub(crate) fn harness_identifier(name: &str) -> String {
    let mut id: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if id.is_empty() || id.starts_with(|c: char| c.is_ascii_digit()) {
        id.insert(0, '_');
    }
    id.truncate(128);
    id
}

/// Whether `s` is a valid Harness identifier.
pub(crate) fn is_harness_identifier(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && all(s, |c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_names() {
        for ok in ["management", "testing", "a", "my-cluster-2", "2nd", &"x".repeat(100)] {
            assert!(ClusterName::parse("--c", ok).is_ok(), "{ok}");
        }
        // eksctl: "validation for my_cluster failed, name must satisfy regular expression ...".
        for bad in [
            "",
            "-x",
            "_x",
            "my_cluster",
            "has space",
            "dot.name",
            "ü",
            &"x".repeat(101),
        ] {
            assert!(ClusterName::parse("--c", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn role_names() {
        for ok in ["ArgoCD", "Deployer", "a+b=c,d.e@f_g-h", &"r".repeat(64)] {
            assert!(RoleName::parse("--r", ok).is_ok(), "{ok}");
        }
        for bad in ["", "with space", "slash/role", "colon:x", &"r".repeat(65)] {
            assert!(RoleName::parse("--r", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn namespaces() {
        for ok in ["iam", "a", "gitops-agent", "a1", &"n".repeat(63)] {
            assert!(Namespace::parse("--n", ok).is_ok(), "{ok}");
        }
        for bad in ["", "IAM", "-iam", "iam-", "i_am", "i.am", &"n".repeat(64)] {
            assert!(Namespace::parse("--n", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn account_ids() {
        assert!(AccountId::parse("--a", "123456789012").is_ok());
        for bad in ["", "12345678901", "1234567890123", "12345678901a", " 23456789012"] {
            assert!(AccountId::parse("--a", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn regions() {
        for ok in [
            "us-east-1",
            "eu-central-1",
            "us-gov-west-1",
            "ap-southeast-2",
            "cn-north-1",
        ] {
            assert!(Region::parse("--region", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "us",
            "us-east",
            "US-EAST-1",
            "us-east-x",
            "us_east_1",
            "useast1",
            "u-east-1",
        ] {
            assert!(Region::parse("--region", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn oidc_provider_strips_scheme() {
        let p = OidcProvider::parse("--oidc-provider", "https://oidc.eks.us-east-1.amazonaws.com/id/AB").unwrap();
        assert_eq!(p.as_str(), "oidc.eks.us-east-1.amazonaws.com/id/AB");
        for bad in ["", "http://x.y/z", "https://", "noDots", "a.b/", "/a.b"] {
            assert!(OidcProvider::parse("--oidc-provider", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn invalid_message_names_flag_value_and_rule() {
        let err = Namespace::parse("--namespace", "Bad_NS").unwrap_err().to_string();
        assert!(err.contains("--namespace"), "{err}");
        assert!(err.contains("\"Bad_NS\""), "{err}");
        assert!(err.contains("DNS-1123"), "{err}");
    }

    #[test]
    fn harness_identifiers() {
        assert_eq!(harness_identifier("testing"), "testing");
        assert_eq!(harness_identifier("my-test.cluster"), "my_test_cluster");
        assert_eq!(harness_identifier("1st"), "_1st");
        assert_eq!(harness_identifier(&"a".repeat(200)).len(), 128);
        for name in ["testing", "my-test.cluster", "1st", "ü-x", ""] {
            assert!(is_harness_identifier(&harness_identifier(name)), "{name}");
        }
        assert!(!is_harness_identifier("has-hyphen"));
    }
}

//! The three IAM documents, as typed serde structs.
//!
//! The tutorial builds them with heredocs that lose their braces and so are not JSON. Here each
//! document is a value, serialized once; `gitops-iam render` prints the same bytes the real run
//! sends, and the dry-run script writes its policy files by calling `render`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const VERSION: &str = "2012-10-17";
pub const SERVICE_ACCOUNT_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
/// Name of the agent role's inline policy (the tutorial's).
pub const AGENT_POLICY_NAME: &str = "AssumeRole";
/// The service accounts of the Harness GitOps agent that need the role.
pub const AGENT_SERVICE_ACCOUNTS: [&str; 2] = ["gitops-agent", "argocd-application-controller"];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    pub version: String,
    pub statement: Vec<Statement>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn from_vec(mut items: Vec<String>) -> Self {
        if items.len() == 1 {
            OneOrMany::One(items.remove(0))
        } else {
            OneOrMany::Many(items)
        }
    }

    pub fn items(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    #[serde(rename = "Federated", skip_serializing_if = "Option::is_none", default)]
    pub federated: Option<String>,
    #[serde(rename = "AWS", skip_serializing_if = "Option::is_none", default)]
    pub aws: Option<OneOrMany>,
}

/// Operator (`StringEquals`) -> key -> value(s).
pub type Condition = BTreeMap<String, BTreeMap<String, OneOrMany>>;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sid: Option<String>,
    pub effect: Effect,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub principal: Option<Principal>,
    pub action: OneOrMany,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub resource: Option<OneOrMany>,
    // The tutorial's empty `"Condition": {}` is never produced: `None` is skipped.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub condition: Option<Condition>,
}

impl PolicyDocument {
    fn single(statement: Statement) -> Self {
        PolicyDocument {
            version: VERSION.to_string(),
            statement: vec![statement],
        }
    }

    /// Pretty JSON, the exact bytes written to policy files and printed by `render`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("policy documents always serialize") + "\n"
    }
}

/// The AWS partition of a region: ARNs in China and GovCloud differ.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

pub fn role_arn(partition: &str, account: &str, role: &str) -> String {
    format!("arn:{partition}:iam::{account}:role/{role}")
}

pub fn oidc_provider_arn(partition: &str, account: &str, oidc_provider: &str) -> String {
    format!("arn:{partition}:iam::{account}:oidc-provider/{oidc_provider}")
}

/// Trust of the agent role: the cluster's OIDC provider, for the agent's service accounts only.
///
/// The tutorial trusts `system:serviceaccount:NS:*` with no audience check; AWS recommends pinning
/// both `sub` and `aud`, so any other workload in the namespace cannot take the role.
pub fn agent_trust(partition: &str, account: &str, oidc_provider: &str, namespace: &str) -> PolicyDocument {
    let subjects = AGENT_SERVICE_ACCOUNTS
        .iter()
        .map(|sa| format!("system:serviceaccount:{namespace}:{sa}"))
        .collect();
    let equals = BTreeMap::from([
        (
            format!("{oidc_provider}:aud"),
            OneOrMany::One("sts.amazonaws.com".into()),
        ),
        (format!("{oidc_provider}:sub"), OneOrMany::from_vec(subjects)),
    ]);
    PolicyDocument::single(Statement {
        sid: None,
        effect: Effect::Allow,
        principal: Some(Principal {
            federated: Some(oidc_provider_arn(partition, account, oidc_provider)),
            aws: None,
        }),
        action: OneOrMany::One("sts:AssumeRoleWithWebIdentity".into()),
        resource: None,
        condition: Some(BTreeMap::from([("StringEquals".to_string(), equals)])),
    })
}

/// Inline policy of the agent role: assume the given Deployer roles (or `*`).
pub fn assume_role_policy(resources: &[String]) -> PolicyDocument {
    PolicyDocument::single(Statement {
        sid: Some("AssumeRole".into()),
        effect: Effect::Allow,
        principal: None,
        action: OneOrMany::One("sts:AssumeRole".into()),
        resource: Some(OneOrMany::from_vec(resources.to_vec())),
        condition: None,
    })
}

/// Trust of the Deployer role: the agent role's ARN (possibly in another account).
pub fn deployer_trust(agent_role_arn: &str) -> PolicyDocument {
    PolicyDocument::single(Statement {
        sid: None,
        effect: Effect::Allow,
        principal: Some(Principal {
            federated: None,
            aws: Some(OneOrMany::One(agent_role_arn.to_string())),
        }),
        action: OneOrMany::One("sts:AssumeRole".into()),
        resource: None,
        condition: None,
    })
}

/// The resources an existing inline policy lets the role assume (`sts:AssumeRole`, Allow).
///
/// Used to add a Deployer ARN without dropping the ones other environments added before.
pub fn assumable_resources(doc: &serde_json::Value) -> Vec<String> {
    let Ok(doc) = serde_json::from_value::<PolicyDocument>(doc.clone()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for st in &doc.statement {
        let allows = st.effect == Effect::Allow
            && st
                .action
                .items()
                .iter()
                .any(|a| *a == "sts:AssumeRole" || *a == "sts:*" || *a == "*");
        if let (true, Some(res)) = (allows, &st.resource) {
            out.extend(res.items().into_iter().map(str::to_string));
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISSUER: &str = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";

    #[test]
    fn agent_trust_exact_json() {
        let doc = agent_trust("aws", "123456789012", ISSUER, "iam");
        let value: serde_json::Value = serde_json::from_str(&doc.to_json()).unwrap();
        assert_eq!(
            value,
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Federated": format!("arn:aws:iam::123456789012:oidc-provider/{ISSUER}")},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {
                        format!("{ISSUER}:aud"): "sts.amazonaws.com",
                        format!("{ISSUER}:sub"): [
                            "system:serviceaccount:iam:gitops-agent",
                            "system:serviceaccount:iam:argocd-application-controller"
                        ]
                    }}
                }]
            })
        );
    }

    #[test]
    fn assume_policy_exact_json() {
        let one = assume_role_policy(&["arn:aws:iam::123456789012:role/Deployer".into()]);
        assert_eq!(
            one.to_json(),
            "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Sid\": \"AssumeRole\",\n      \"Effect\": \"Allow\",\n      \"Action\": \"sts:AssumeRole\",\n      \"Resource\": \"arn:aws:iam::123456789012:role/Deployer\"\n    }\n  ]\n}\n"
        );
        let any = assume_role_policy(&["*".into()]);
        assert_eq!(
            serde_json::to_value(&any).unwrap()["Statement"][0]["Resource"],
            json!("*")
        );
        let two = assume_role_policy(&["a".into(), "b".into()]);
        assert_eq!(
            serde_json::to_value(&two).unwrap()["Statement"][0]["Resource"],
            json!(["a", "b"])
        );
    }

    #[test]
    fn deployer_trust_has_no_empty_condition() {
        let doc = deployer_trust("arn:aws:iam::111111111111:role/ArgoCD");
        assert_eq!(
            serde_json::to_value(&doc).unwrap(),
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111111111111:role/ArgoCD"},
                    "Action": "sts:AssumeRole"
                }]
            })
        );
        assert!(!doc.to_json().contains("Condition"));
    }

    #[test]
    fn partitions() {
        assert_eq!(partition("us-east-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
    }

    #[test]
    fn reads_assumable_resources_of_any_shape() {
        let doc = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "AssumeRole", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ["b", "a"]},
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "s3"},
            {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "c"},
            {"Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": "a"}
        ]});
        assert_eq!(assumable_resources(&doc), vec!["a".to_string(), "b".to_string()]);
        assert!(assumable_resources(&json!({"not": "a policy"})).is_empty());
    }

    #[test]
    fn documents_round_trip_through_serde() {
        for doc in [
            agent_trust("aws", "123456789012", ISSUER, "iam"),
            assume_role_policy(&["*".into()]),
            deployer_trust("arn:aws:iam::1:role/A"),
        ] {
            let back: PolicyDocument = serde_json::from_str(&doc.to_json()).unwrap();
            assert_eq!(back, doc);
        }
    }
}

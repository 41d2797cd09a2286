//! The three IAM documents, as typed serde structs.
//!
//! The tutorial builds them with heredocs that lose their braces and so are not JSON. Here each
//! document is a value, serialized once; `gitops-iam render` prints the same bytes the real run
//! sends, and the dry-run script writes its policy files by calling `render`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub(crate) const VERSION: &str = "2012-10-17";
pub(crate) const SERVICE_ACCOUNT_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
/// Name of the agent role's inline policy (the tutorial's).
pub(crate) const AGENT_POLICY_NAME: &str = "AssumeRole";
/// The service accounts of the Harness GitOps agent that need the role.
pub(crate) const AGENT_SERVICE_ACCOUNTS: [&str; 2] = ["gitops-agent", "argocd-application-controller"];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PolicyDocument {
    pub version: String,
    pub statement: Vec<Statement>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
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

    pub(crate) fn items(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Effect {
    Allow,
    Deny,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Principal {
    #[serde(rename = "Federated", skip_serializing_if = "Option::is_none", default)]
    pub federated: Option<String>,
    #[serde(rename = "AWS", skip_serializing_if = "Option::is_none", default)]
    pub aws: Option<OneOrMany>,
}

/// Operator (`StringEquals`) -> key -> value(s).
pub(crate) type Condition = BTreeMap<String, BTreeMap<String, OneOrMany>>;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Statement {
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
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("policy documents always serialize") + "\n"
    }
}

/// The AWS partition of a region: ARNs in China and GovCloud differ.
pub(crate) fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

pub(crate) fn role_arn(partition: &str, account: &str, role: &str) -> String {
    format!("arn:{partition}:iam::{account}:role/{role}")
}

pub(crate) fn oidc_provider_arn(partition: &str, account: &str, oidc_provider: &str) -> String {
    format!("arn:{partition}:iam::{account}:oidc-provider/{oidc_provider}")
}

/// Trust of the agent role: the cluster's OIDC provider, for the agent's service accounts only.
///
/// The tutorial trusts `system:serviceaccount:NS:*` with no audience check; AWS recommends pinning
/// both `sub` and `aud`, so any other workload in the namespace cannot take the role.
pub(crate) fn agent_trust(partition: &str, account: &str, oidc_provider: &str, namespace: &str) -> PolicyDocument {
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
pub(crate) fn assume_role_policy(resources: &[String]) -> PolicyDocument {
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
pub(crate) fn deployer_trust(agent_role_arn: &str) -> PolicyDocument {
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
pub(crate) fn assumable_resources(doc: &serde_json::Value) -> Vec<String> {
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

/// Whose statement in a trust policy gitops-iam owns: the one for its own principal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    /// The agent role: the statement for the management cluster's OIDC provider.
    Federated(String),
    /// The Deployer role: the statement for the agent role.
    Aws(String),
}

impl Owner {
    /// The principal of a document gitops-iam renders (its one statement's).
    pub(crate) fn of(doc: &PolicyDocument) -> Option<Owner> {
        let p = doc.statement.first()?.principal.as_ref()?;
        match (&p.federated, &p.aws) {
            (Some(f), _) => Some(Owner::Federated(f.clone())),
            (None, Some(OneOrMany::One(a))) => Some(Owner::Aws(a.clone())),
            _ => None,
        }
    }

    fn key(&self) -> (&'static str, &str) {
        match self {
            Owner::Federated(arn) => ("Federated", arn),
            Owner::Aws(arn) => ("AWS", arn),
        }
    }
}

/// An IAM unique id (`AROA…` a role, `AIDA…` a user), as IAM shows a principal that was deleted.
fn is_unique_id(s: &str) -> bool {
    (s.starts_with("AROA") || s.starts_with("AIDA"))
        && s.len() >= 16
        && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A document gitops-iam rendered itself (always valid).
pub(crate) fn document(json: &str) -> PolicyDocument {
    serde_json::from_str(json).expect("rendered documents parse")
}

/// `current` with the owner's statements replaced by `ours`, every other statement kept as it
/// is (another environment sharing the role name must not be cut off). A statement that names
/// the owner among other principals keeps the others. `ours` takes the place of the first
/// statement it replaces, else comes last. Returns the document and how many statements of
/// `current` were kept.
pub(crate) fn merge_trust(
    current: &serde_json::Value,
    ours: &PolicyDocument,
    owner: &Owner,
) -> (serde_json::Value, usize) {
    use serde_json::Value;
    let (key, arn) = owner.key();
    let statements = match &current["Statement"] {
        Value::Array(list) => list.clone(),
        Value::Object(_) => vec![current["Statement"].clone()],
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    let mut at = None;
    let mut kept = 0;
    for mut st in statements {
        let names: Vec<String> = match &st["Principal"][key] {
            Value::String(p) => vec![p.clone()],
            Value::Array(list) => list.iter().filter_map(|p| p.as_str().map(str::to_string)).collect(),
            _ => Vec::new(),
        };
        // IAM shows a deleted principal as its unique id (AROA..., AIDA...): it can never
        // match again, so a statement left with only those is dropped, not kept.
        let dead = |n: &String| key == "AWS" && is_unique_id(n);
        if !names.iter().any(|n| n == arn || dead(n)) {
            out.push(st);
            kept += 1;
            continue;
        }
        if names.iter().any(|n| n == arn) {
            at.get_or_insert(out.len());
        }
        let others: Vec<String> = names.into_iter().filter(|n| n != arn && !dead(n)).collect();
        if !others.is_empty() {
            st["Principal"][key] = match others.as_slice() {
                [one] => Value::String(one.clone()),
                _ => Value::from(others),
            };
            out.push(st);
            kept += 1;
        }
    }
    let mine = ours
        .statement
        .iter()
        .map(|st| serde_json::to_value(st).expect("serializable"));
    let at = at.unwrap_or(out.len());
    out.splice(at..at, mine);
    let mut doc = serde_json::json!({"Version": ours.version, "Statement": out});
    if let Some(id) = current.get("Id") {
        doc["Id"] = id.clone();
    }
    (doc, kept)
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

/// Glob match of IAM's `StringLike` (`*` any run, `?` one character).
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

fn allow_statements(doc: &serde_json::Value) -> Vec<&serde_json::Value> {
    let st = &doc["Statement"];
    let list: Vec<&serde_json::Value> = match st {
        serde_json::Value::Array(a) => a.iter().collect(),
        serde_json::Value::Object(_) => vec![st],
        _ => Vec::new(),
    };
    list.into_iter().filter(|s| s["Effect"] == "Allow").collect()
}

fn has_action(statement: &serde_json::Value, action: &str) -> bool {
    strings(&statement["Action"]).iter().any(|a| glob_match(a, action))
}

/// Whether a condition key (any `StringEquals`/`StringLike` operator) allows `value`.
fn condition_allows(statement: &serde_json::Value, key: &str, value: &str) -> Option<bool> {
    let cond = statement["Condition"].as_object()?;
    let mut seen = false;
    for (op, entries) in cond {
        let Some(wanted) = entries.get(key) else { continue };
        seen = true;
        let ok = match op.as_str() {
            "StringEquals" => strings(wanted).iter().any(|w| w == value),
            "StringLike" => strings(wanted).iter().any(|w| glob_match(w, value)),
            _ => false,
        };
        if ok {
            return Some(true);
        }
    }
    seen.then_some(false)
}

/// Checks the agent role's trust: the provider, `aud` and every subject. `Err` says what is wrong.
pub(crate) fn check_web_identity_trust(
    doc: &serde_json::Value,
    provider_arn: &str,
    provider: &str,
    subjects: &[String],
) -> Result<(), String> {
    let statements: Vec<&serde_json::Value> = allow_statements(doc)
        .into_iter()
        .filter(|s| strings(&s["Principal"]["Federated"]).iter().any(|f| f == provider_arn))
        .filter(|s| has_action(s, "sts:AssumeRoleWithWebIdentity"))
        .collect();
    if statements.is_empty() {
        return Err(format!(
            "no statement allows sts:AssumeRoleWithWebIdentity for {provider_arn}"
        ));
    }
    let aud_key = format!("{provider}:aud");
    let sub_key = format!("{provider}:sub");
    let verdict = |st: &serde_json::Value| -> Result<(), String> {
        let missing: Vec<&str> = subjects
            .iter()
            .filter(|s| condition_allows(st, &sub_key, s) != Some(true))
            .map(String::as_str)
            .collect();
        match condition_allows(st, &aud_key, "sts.amazonaws.com") {
            Some(true) if missing.is_empty() => Ok(()),
            Some(true) => Err(format!("the {sub_key} condition does not allow {}", missing.join(", "))),
            Some(false) => Err(format!("the {aud_key} condition does not allow sts.amazonaws.com")),
            None => Err(format!("no {aud_key} condition (any token audience would be accepted)")),
        }
    };
    // Any statement that passes is enough; otherwise explain what is wrong with the first.
    let verdicts: Vec<Result<(), String>> = statements.iter().map(|st| verdict(st)).collect();
    if verdicts.iter().any(Result::is_ok) {
        return Ok(());
    }
    verdicts.into_iter().next().expect("statements is not empty")
}

/// Whether a policy allows `sts:AssumeRole` on `role_arn`.
pub(crate) fn allows_assume(doc: &serde_json::Value, role_arn: &str) -> bool {
    allow_statements(doc)
        .into_iter()
        .filter(|s| has_action(s, "sts:AssumeRole"))
        .any(|s| strings(&s["Resource"]).iter().any(|r| glob_match(r, role_arn)))
}

/// Whether a trust policy lets `principal_arn` (a role) call `sts:AssumeRole`.
pub(crate) fn trusts_role(doc: &serde_json::Value, principal_arn: &str) -> bool {
    let account_root = principal_arn.split(':').nth(4).map(|acc| {
        (
            format!(
                "arn:{}:iam::{acc}:root",
                principal_arn.split(':').nth(1).unwrap_or("aws")
            ),
            acc.to_string(),
        )
    });
    allow_statements(doc)
        .into_iter()
        .filter(|s| has_action(s, "sts:AssumeRole"))
        .any(|s| {
            strings(&s["Principal"]["AWS"])
                .iter()
                .any(|p| p == principal_arn || account_root.as_ref().is_some_and(|(root, acc)| p == root || p == acc))
        })
}

#[cfg(test)]
mod check_tests {
    use super::*;
    use serde_json::json;

    const P: &str = "oidc.eks.us-east-1.amazonaws.com/id/AB";

    #[test]
    fn globs() {
        assert!(glob_match(
            "system:serviceaccount:iam:*",
            "system:serviceaccount:iam:gitops-agent"
        ));
        assert!(!glob_match(
            "system:serviceaccount:iam:*",
            "system:serviceaccount:other:x"
        ));
        assert!(glob_match("a?c", "abc"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("abc", "abcd"));
    }

    #[test]
    fn web_identity_trust() {
        let subjects = vec!["system:serviceaccount:iam:gitops-agent".to_string()];
        let arn = oidc_provider_arn("aws", "123456789012", P);
        let ours = serde_json::to_value(agent_trust("aws", "123456789012", P, "iam")).unwrap();
        assert_eq!(check_web_identity_trust(&ours, &arn, P, &subjects), Ok(()));
        let tutorial = json!({"Statement": [{"Effect": "Allow", "Principal": {"Federated": arn}, "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {format!("{P}:sub"): "system:serviceaccount:iam:*"}}}]});
        assert!(
            check_web_identity_trust(&tutorial, &arn, P, &subjects)
                .unwrap_err()
                .contains(":aud condition")
        );
        let other_ns = serde_json::to_value(agent_trust("aws", "123456789012", P, "other")).unwrap();
        assert!(
            check_web_identity_trust(&other_ns, &arn, P, &subjects)
                .unwrap_err()
                .contains("gitops-agent")
        );
        let other_provider = serde_json::to_value(agent_trust("aws", "123456789012", "x.y/z", "iam")).unwrap();
        assert!(check_web_identity_trust(&other_provider, &arn, P, &subjects).is_err());
    }

    #[test]
    fn assume_and_trust() {
        let policy = serde_json::to_value(assume_role_policy(&["arn:aws:iam::1:role/Deployer".into()])).unwrap();
        assert!(allows_assume(&policy, "arn:aws:iam::1:role/Deployer"));
        assert!(!allows_assume(&policy, "arn:aws:iam::1:role/Other"));
        assert!(allows_assume(
            &serde_json::to_value(assume_role_policy(&["*".into()])).unwrap(),
            "arn:aws:iam::1:role/Other"
        ));
        let trust = serde_json::to_value(deployer_trust("arn:aws:iam::123456789012:role/ArgoCD")).unwrap();
        assert!(trusts_role(&trust, "arn:aws:iam::123456789012:role/ArgoCD"));
        assert!(!trusts_role(&trust, "arn:aws:iam::123456789012:role/Other"));
        let root = serde_json::to_value(deployer_trust("arn:aws:iam::123456789012:root")).unwrap();
        assert!(trusts_role(&root, "arn:aws:iam::123456789012:role/ArgoCD"));
    }

    #[test]
    fn merge_trust_keeps_other_environments_and_repairs_its_own() {
        let ours = agent_trust("aws", "123456789012", "oidc.eks.us-east-1.amazonaws.com/id/ABC", "iam");
        let owner = Owner::of(&ours).unwrap();
        let mine = serde_json::to_value(&ours).unwrap();
        // converged: unchanged, nothing kept
        assert_eq!(merge_trust(&mine, &ours, &owner), (mine.clone(), 0));
        // another management cluster's provider shares the role: its statement stays, first
        let other = json!({"Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/OTHER"},
            "Action": "sts:AssumeRoleWithWebIdentity"});
        let mut drifted = mine["Statement"][0].clone();
        drifted["Condition"] = json!({"StringLike": {"x:sub": "system:serviceaccount:iam:*"}});
        let current = json!({"Version": "2012-10-17", "Statement": [other.clone(), drifted]});
        let (merged, kept) = merge_trust(&current, &ours, &owner);
        assert_eq!(kept, 1);
        assert_eq!(merged["Statement"], json!([other, mine["Statement"][0]]));
        // a lone statement object, and no statement of ours: ours is appended
        let root = json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"});
        let (merged, kept) = merge_trust(&json!({"Version": "2012-10-17", "Statement": root}), &ours, &owner);
        assert_eq!((kept, merged["Statement"].as_array().unwrap().len()), (1, 2));
        assert_eq!(merged["Statement"][1], mine["Statement"][0]);
    }

    #[test]
    fn merge_trust_takes_its_principal_out_of_a_shared_statement() {
        let agent = "arn:aws:iam::123456789012:role/ArgoCD";
        let ours = deployer_trust(agent);
        let owner = Owner::of(&ours).unwrap();
        assert_eq!(owner, Owner::Aws(agent.into()));
        let current = json!({"Version": "2012-10-17", "Id": "keep", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": [agent, "arn:aws:iam::999999999999:role/ArgoCD"]}, "Action": "sts:AssumeRole"}]});
        let (merged, kept) = merge_trust(&current, &ours, &owner);
        assert_eq!(kept, 1);
        assert_eq!(merged["Id"], "keep");
        assert_eq!(
            merged["Statement"][0],
            serde_json::to_value(&ours.statement[0]).unwrap()
        );
        assert_eq!(
            merged["Statement"][1]["Principal"]["AWS"],
            "arn:aws:iam::999999999999:role/ArgoCD"
        );
        // the unique id of a deleted agent role (after it was re-created) is dropped, not kept
        let stale = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "AROAEXAMPLEID1234567"}, "Action": "sts:AssumeRole"}]});
        let (merged, kept) = merge_trust(&stale, &ours, &owner);
        assert_eq!((kept, merged), (0, serde_json::to_value(&ours).unwrap()));
    }
}

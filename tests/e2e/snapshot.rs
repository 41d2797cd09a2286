//! `Sandbox::snapshot`: the whole environment's state, read through the real clients, in a form
//! two sandboxes can compare.
//!
//! What is read (every account the sandbox serves: the default credentials act as
//! 123456789012, `--profile testing` as 222222222222):
//!
//! - `aws eks list-clusters` + `describe-cluster`: each EKS cluster, its status, issuer, endpoint;
//! - `aws iam list-open-id-connect-providers` + `get-open-id-connect-provider`;
//! - `aws iam get-account-authorization-details --filter Role`: every role with its trust policy,
//!   inline policies (as JSON documents), attached policies and tags;
//!
//!   [`Sandbox::snapshot`] makes those AWS reads in one process (`tests/sandbox/aws_state.py`:
//!   botocore, the library the aws CLI is built on, set up as the CLI sets it up), which prints
//!   what each `aws ... --output json` would; [`Sandbox::snapshot_via_aws_cli`] runs the aws CLI
//!   for each. The `up` test takes both and checks they are equal. (A dozen CLI start-ups per
//!   snapshot were a tenth of the suite's CPU time.)
//! - for each cluster, through a kubeconfig of the test's own (`eksctl utils write-kubeconfig`):
//!   `eksctl get iamidentitymapping -o json`, `kubectl get namespaces`, and outside the system
//!   namespaces the service accounts (annotations, labels), Deployments and StatefulSets (pod
//!   template: service account, securityContext/fsGroup, containers; rollout state) and pods
//!   (workload, service account, phase, readiness, env such as `AWS_ROLE_ARN`, mounts, volumes);
//! - `GET $SANDBOX_HARNESS_URL/_sandbox/clusters`: the clusters registered in the Harness stand-in.
//!
//! [`Snapshot::raw`] keeps the values as read (for assertions on real ids); [`Snapshot::normalized`]
//! replaces what differs between two sandboxes that did the same thing: see [`normalize`].

use super::sandbox::{REPO, Sandbox};
use super::{MGMT_ACCOUNT, REGION, TESTING_ACCOUNT};
use base64::Engine as _;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The accounts the sandbox serves, and the aws profile that acts in each.
pub const ACCOUNTS: [(&str, Option<&str>); 2] = [(MGMT_ACCOUNT, None), (TESTING_ACCOUNT, Some("testing"))];

const SYSTEM_NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

pub struct Snapshot {
    /// As read, random ids included.
    pub raw: Value,
    /// Comparable between sandboxes.
    pub normalized: Value,
}

impl Sandbox {
    /// Reads the whole state (reads only: the mutating-command counter of `SANDBOX_FAIL_NTH`
    /// does not move), the AWS part in one process per account.
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot_with(|profile| {
            let reads = self.aws_state(profile);
            move |args: &[&str]| {
                let key = args.join(" ");
                reads
                    .get(&key)
                    .unwrap_or_else(|| panic!("aws_state.py did not read `aws {key}`"))
                    .clone()
            }
        })
    }

    /// [`Sandbox::snapshot`], every AWS read made by the aws CLI.
    pub fn snapshot_via_aws_cli(&self) -> Snapshot {
        self.snapshot_with(|profile| move |args: &[&str]| self.aws_json(profile, args))
    }

    /// READER(profile) answers `aws ARGS --output json` in that profile's account.
    fn snapshot_with<R, F>(&self, reader: R) -> Snapshot
    where
        R: Fn(Option<&'static str>) -> F + Sync,
        F: Fn(&[&str]) -> Value,
    {
        let accounts: Vec<Value> = std::thread::scope(|s| {
            let handles: Vec<_> = ACCOUNTS
                .iter()
                .map(|&(_, profile)| {
                    let reader = &reader;
                    s.spawn(move || account_state(&reader(profile)))
                })
                .collect();
            handles.into_iter().map(join).collect()
        });
        let clusters: Vec<(&str, Option<&str>, String)> = ACCOUNTS
            .iter()
            .zip(&accounts)
            .flat_map(|(&(account, profile), state)| {
                state["clusters"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(move |name| (account, profile, name.clone()))
            })
            .collect();
        let kube: Vec<Value> = std::thread::scope(|s| {
            let handles: Vec<_> = clusters
                .iter()
                .map(|(_, profile, name)| s.spawn(move || self.cluster_state(name, *profile)))
                .collect();
            handles.into_iter().map(join).collect()
        });
        let mut raw_accounts = Map::new();
        for ((account, _), state) in ACCOUNTS.iter().zip(accounts) {
            raw_accounts.insert(account.to_string(), state);
        }
        let mut raw_kube: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
        for ((account, _, name), state) in clusters.iter().zip(kube) {
            raw_kube
                .entry(account.to_string())
                .or_default()
                .insert(name.clone(), state);
        }
        let raw = json!({
            "accounts": raw_accounts,
            "kubernetes": raw_kube,
            "harness": self.harness_state(),
        });
        let normalized = normalize(&raw);
        Snapshot { raw, normalized }
    }

    fn aws_json(&self, profile: Option<&str>, args: &[&str]) -> Value {
        let mut argv = args.to_vec();
        argv.extend(["--region", REGION, "--output", "json"]);
        if let Some(profile) = profile {
            argv.extend(["--profile", profile]);
        }
        self.aws(&argv).success().json()
    }

    /// Every AWS read of a snapshot in PROFILE's account, made by `tests/sandbox/aws_state.py`:
    /// `aws ARGS` (joined by spaces) -> its JSON output.
    fn aws_state(&self, profile: Option<&str>) -> Map<String, Value> {
        let script = format!("{REPO}/tests/sandbox/aws_state.py");
        let mut args = vec!["--region", REGION];
        if let Some(profile) = profile {
            args.extend(["--profile", profile]);
        }
        match self.run(&script, &args).success().json() {
            Value::Object(reads) => reads,
            other => panic!("aws_state.py printed {other}"),
        }
    }
}

/// The state of one account, read by AWS (`aws ARGS --output json` -> JSON).
fn account_state(aws: &dyn Fn(&[&str]) -> Value) -> Value {
    let mut clusters = Map::new();
    let list = aws(&["eks", "list-clusters"]);
    for name in list["clusters"].as_array().expect("list-clusters: clusters") {
        let name = name.as_str().unwrap();
        let described = aws(&["eks", "describe-cluster", "--name", name]);
        clusters.insert(name.to_owned(), described["cluster"].clone());
    }

    let mut providers = Vec::new();
    let list = aws(&["iam", "list-open-id-connect-providers"]);
    for p in list["OpenIDConnectProviderList"]
        .as_array()
        .expect("OpenIDConnectProviderList")
    {
        let arn = p["Arn"].as_str().unwrap();
        let got = aws(&[
            "iam",
            "get-open-id-connect-provider",
            "--open-id-connect-provider-arn",
            arn,
        ]);
        providers.push(json!({
            "Arn": arn,
            "Url": got["Url"],
            "ClientIDList": got["ClientIDList"],
            "ThumbprintList": got["ThumbprintList"],
            "Tags": got["Tags"],
        }));
    }

    let mut roles = Map::new();
    let details = aws(&["iam", "get-account-authorization-details", "--filter", "Role"]);
    assert_ne!(
        details["IsTruncated"],
        json!(true),
        "get-account-authorization-details is truncated"
    );
    for r in details["RoleDetailList"].as_array().expect("RoleDetailList") {
        let inline: Map<String, Value> = r["RolePolicyList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["PolicyName"].as_str().unwrap().to_owned(),
                    p["PolicyDocument"].clone(),
                )
            })
            .collect();
        roles.insert(
            r["RoleName"].as_str().unwrap().to_owned(),
            json!({
                "Arn": r["Arn"],
                "Path": r["Path"],
                "AssumeRolePolicyDocument": r["AssumeRolePolicyDocument"],
                "InlinePolicies": inline,
                "AttachedManagedPolicies": r["AttachedManagedPolicies"],
                "Tags": r["Tags"],
            }),
        );
    }
    json!({ "clusters": clusters, "oidc_providers": providers, "roles": roles })
}

impl Sandbox {
    fn cluster_state(&self, cluster: &str, profile: Option<&str>) -> Value {
        let kubeconfig: PathBuf = self.kubeconfig_for(cluster, profile);
        let kc = kubeconfig.to_str().unwrap();

        let mut args = vec![
            "get",
            "iamidentitymapping",
            "--cluster",
            cluster,
            "--region",
            REGION,
            "-o",
            "json",
        ];
        if let Some(profile) = profile {
            args.extend(["--profile", profile]);
        }
        let mappings = self.eksctl(&args).success().json();

        let namespaces: Vec<Value> = self
            .kubectl(&["--kubeconfig", kc, "get", "namespaces", "-o", "json"])
            .success()
            .json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|ns| ns["metadata"]["name"].clone())
            .collect();

        let objects = self
            .kubectl(&[
                "--kubeconfig",
                kc,
                "get",
                "serviceaccounts,deployments,statefulsets,pods",
                "-A",
                "-o",
                "json",
            ])
            .success()
            .json();
        let mut service_accounts: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
        let mut workloads: BTreeMap<String, BTreeMap<String, Map<String, Value>>> = BTreeMap::new();
        let mut pods: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for o in objects["items"].as_array().unwrap() {
            let meta = &o["metadata"];
            let ns = meta["namespace"].as_str().unwrap().to_owned();
            if SYSTEM_NAMESPACES.contains(&ns.as_str()) {
                continue;
            }
            let name = meta["name"].as_str().unwrap().to_owned();
            match o["kind"].as_str().unwrap() {
                "ServiceAccount" => {
                    service_accounts.entry(ns).or_default().insert(
                        name,
                        json!({ "annotations": meta["annotations"], "labels": meta["labels"] }),
                    );
                }
                kind @ ("Deployment" | "StatefulSet") => {
                    let template = &o["spec"]["template"];
                    let containers: Vec<Value> = template["spec"]["containers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| json!({ "name": c["name"], "image": c["image"] }))
                        .collect();
                    let status = &o["status"];
                    workloads
                        .entry(ns)
                        .or_default()
                        .entry(kind.to_lowercase())
                        .or_default()
                        .insert(
                            name,
                            json!({
                                "labels": meta["labels"],
                                "generation": meta["generation"],
                                "replicas": o["spec"]["replicas"],
                                "status": {
                                    "observedGeneration": status["observedGeneration"],
                                    "replicas": status["replicas"],
                                    "readyReplicas": status["readyReplicas"],
                                    "updatedReplicas": status["updatedReplicas"],
                                    "availableReplicas": status["availableReplicas"],
                                },
                                "template": {
                                    "labels": template["metadata"]["labels"],
                                    "annotations": template["metadata"]["annotations"],
                                    "serviceAccountName": template["spec"]["serviceAccountName"],
                                    "securityContext": template["spec"]["securityContext"],
                                    "containers": containers,
                                },
                            }),
                        );
                }
                "Pod" => {
                    let owner = &meta["ownerReferences"][0];
                    let owner_name = owner["name"].as_str().unwrap_or("");
                    let workload = match owner["kind"].as_str() {
                        // Deployment pods belong to ReplicaSet DEPLOYMENT-HASH
                        Some("ReplicaSet") => owner_name.rsplit_once('-').map_or(owner_name, |(d, _)| d),
                        _ => owner_name,
                    };
                    let containers: Vec<Value> = o["spec"]["containers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| {
                            let env: Map<String, Value> = c["env"]
                                .as_array()
                                .map(std::vec::Vec::as_slice)
                                .unwrap_or_default()
                                .iter()
                                .map(|e| {
                                    let v = if e.get("value").is_some() {
                                        e["value"].clone()
                                    } else {
                                        e["valueFrom"].clone()
                                    };
                                    (e["name"].as_str().unwrap().to_owned(), v)
                                })
                                .collect();
                            let mounts: Vec<Value> = c["volumeMounts"]
                                .as_array()
                                .map(|m| m.iter().map(|m| m["mountPath"].clone()).collect())
                                .unwrap_or_default();
                            json!({ "name": c["name"], "image": c["image"], "env": env, "mounts": mounts })
                        })
                        .collect();
                    let volumes: Vec<Value> = o["spec"]["volumes"]
                        .as_array()
                        .map(|v| v.iter().map(|v| v["name"].clone()).collect())
                        .unwrap_or_default();
                    let ready = o["status"]["conditions"]
                        .as_array()
                        .map(|cs| cs.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
                        .unwrap_or(false);
                    pods.entry(ns).or_default().push(json!({
                        "name": name,
                        "owner": format!("{}/{}", owner["kind"].as_str().unwrap_or(""), owner_name),
                        "workload": workload,
                        "serviceAccountName": o["spec"]["serviceAccountName"],
                        "phase": o["status"]["phase"],
                        "ready": ready,
                        "containers": containers,
                        "volumes": volumes,
                    }));
                }
                other => panic!("unexpected kind {other}"),
            }
        }
        for list in pods.values_mut() {
            list.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        }
        json!({
            "identity_mappings": mappings,
            "namespaces": namespaces,
            "service_accounts": service_accounts,
            "workloads": workloads,
            "pods": pods,
        })
    }

    fn harness_state(&self) -> Value {
        let url = format!("{}/_sandbox/clusters", self.var("SANDBOX_HARNESS_URL"));
        let agent: ureq::Agent = ureq::Agent::config_builder().proxy(None).build().into();
        let body = agent
            .get(&url)
            .call()
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
            .body_mut()
            .read_to_string()
            .unwrap();
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {body}"));
        json!({ "clusters": v["clusters"] })
    }
}

fn join<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    h.join().unwrap_or_else(|payload| std::panic::resume_unwind(payload))
}

/// What differs between two sandboxes that did the same thing, and how it is replaced:
///
/// - the random hex id of each cluster (in its OIDC issuer, the provider ARN, the trust policy's
///   condition keys, its endpoint) → `<CLUSTER-id>`;
/// - the random parts of eksctl's role names (`eksctl-N-cluster-ServiceRole-<random>`,
///   `eksctl-N-nodegroup-ng-<random>-NodeInstanceRole-<random>`), wherever they appear (roles,
///   cluster roleArn, aws-auth);
/// - dropped: cluster `createdAt`, `clientRequestToken`, the made-up subnet/security-group ids,
///   the sandbox's `ready-at` tag; the certificate data → `<base64 PEM certificate>` (checked);
///   Harness `createdAt`/`lastModifiedAt`;
/// - workloads: `generation`/`observedGeneration` → `rolled_out` (observedGeneration ==
///   generation); the pod template's `kubectl.kubernetes.io/restartedAt` annotation (a restart
///   is seen in the pods instead);
/// - pods: the ReplicaSet hash and random suffix of Deployment pod names, the ReplicaSet name of
///   the owner, the random suffix of the `kube-api-access-*` volume.
///
/// resourceVersions, uids and timestamps of Kubernetes objects are never read.
pub fn normalize(raw: &Value) -> Value {
    let mut v = raw.clone();
    let mut replacements: Vec<(String, String)> = Vec::new();
    for (_, account) in v["accounts"].as_object_mut().unwrap().iter_mut() {
        for (name, cluster) in account["clusters"].as_object_mut().unwrap().iter_mut() {
            let placeholder = format!("<{name}-id>");
            if let Some(issuer) = cluster["identity"]["oidc"]["issuer"].as_str()
                && let Some((_, id)) = issuer.rsplit_once("/id/")
            {
                replacements.push((id.to_owned(), placeholder.clone()));
            }
            if let Some(endpoint) = cluster["endpoint"].as_str()
                && let Some(host) = endpoint.strip_prefix("https://")
                && let Some((id, _)) = host.split_once('.')
            {
                replacements.push((id.to_owned(), placeholder.clone()));
            }
            let c = cluster.as_object_mut().unwrap();
            c.remove("createdAt");
            c.remove("clientRequestToken");
            if let Some(vpc) = c.get_mut("resourcesVpcConfig").and_then(Value::as_object_mut) {
                for key in ["subnetIds", "securityGroupIds", "vpcId", "clusterSecurityGroupId"] {
                    if let Some(ids) = vpc.get_mut(key) {
                        *ids = json!("<made up>");
                    }
                }
            }
            if let Some(tags) = c.get_mut("tags").and_then(Value::as_object_mut) {
                tags.remove("sandbox.gitops-iam/ready-at");
            }
            if let Some(data) = c.get_mut("certificateAuthority").and_then(|ca| ca.get_mut("data")) {
                *data = pem_placeholder(data);
            }
        }
        for role in account["roles"].as_object().unwrap().keys() {
            if let Some(n) = normalize_eksctl_role(role) {
                replacements.push((role.clone(), n));
            }
        }
    }
    if let Some(kube) = v["kubernetes"].as_object_mut() {
        for cluster in kube.values_mut().flat_map(|a| a.as_object_mut().unwrap().values_mut()) {
            for kinds in cluster["workloads"].as_object_mut().unwrap().values_mut() {
                for w in kinds
                    .as_object_mut()
                    .unwrap()
                    .values_mut()
                    .flat_map(|k| k.as_object_mut().unwrap().values_mut())
                {
                    let w = w.as_object_mut().unwrap();
                    let generation = w.remove("generation").unwrap_or(Value::Null);
                    let status = w["status"].as_object_mut().unwrap();
                    let observed = status.remove("observedGeneration").unwrap_or(Value::Null);
                    status.insert(
                        "rolled_out".into(),
                        json!(!generation.is_null() && generation == observed),
                    );
                    if let Some(a) = w["template"]["annotations"].as_object_mut() {
                        a.remove("kubectl.kubernetes.io/restartedAt");
                        if a.is_empty() {
                            w["template"]["annotations"] = Value::Null;
                        }
                    }
                }
            }
            for list in cluster["pods"].as_object_mut().unwrap().values_mut() {
                let list = list.as_array_mut().unwrap();
                for pod in list.iter_mut() {
                    if pod["owner"].as_str().is_some_and(|o| o.starts_with("ReplicaSet/")) {
                        pod["owner"] = json!("ReplicaSet/<workload>-<hash>");
                        pod["name"] = json!(format!("{}-<hash>-<random>", pod["workload"].as_str().unwrap()));
                    }
                    let volumes = pod["volumes"].as_array_mut().unwrap();
                    for vol in volumes.iter_mut() {
                        if vol.as_str().is_some_and(|n| n.starts_with("kube-api-access-")) {
                            *vol = json!("kube-api-access-<random>");
                        }
                    }
                }
                list.sort_by_key(|p| (p["workload"].to_string(), p["name"].to_string(), p.to_string()));
            }
        }
    }
    for c in v["harness"]["clusters"].as_array_mut().into_iter().flatten() {
        if let Some(o) = c.as_object_mut() {
            o.remove("createdAt");
            o.remove("lastModifiedAt");
        }
        if let Some(data) = c.pointer_mut("/cluster/config/tlsClientConfig/caData") {
            *data = pem_placeholder(data);
        }
    }
    if let Some(list) = v["harness"]["clusters"].as_array_mut() {
        list.sort_by_key(std::string::ToString::to_string);
    }
    // longest first, so no replacement cuts into a longer one
    replacements.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.cmp(b)));
    replacements.dedup_by(|a, b| a.0 == b.0);
    replacements.push((REPO.to_owned(), "$REPO".to_owned()));
    replace_strings(&mut v, &replacements);
    if let Some(accounts) = v["accounts"].as_object_mut() {
        for account in accounts.values_mut() {
            if let Some(p) = account["oidc_providers"].as_array_mut() {
                p.sort_by_key(std::string::ToString::to_string);
            }
        }
    }
    v
}

fn pem_placeholder(data: &Value) -> Value {
    let decoded = data
        .as_str()
        .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    match decoded {
        Some(pem) if pem.starts_with("-----BEGIN CERTIFICATE-----") => json!("<base64 PEM certificate>"),
        _ => json!(format!("<not a base64 PEM certificate: {data}>")),
    }
}

/// `eksctl-N-cluster-ServiceRole-RANDOM`, `eksctl-N-nodegroup-ng-RANDOM-NodeInstanceRole-RANDOM`.
fn normalize_eksctl_role(name: &str) -> Option<String> {
    if !name.starts_with("eksctl-") {
        return None;
    }
    if let Some(i) = name.find("-cluster-ServiceRole-") {
        return Some(format!("{}-cluster-ServiceRole-<random>", &name[..i]));
    }
    if let Some(i) = name.find("-nodegroup-ng-")
        && name.contains("-NodeInstanceRole-")
    {
        return Some(format!(
            "{}-nodegroup-ng-<random>-NodeInstanceRole-<random>",
            &name[..i]
        ));
    }
    None
}

fn replace_strings(v: &mut Value, replacements: &[(String, String)]) {
    let apply = |s: &str| {
        let mut s = s.to_owned();
        for (from, to) in replacements {
            if s.contains(from.as_str()) {
                s = s.replace(from.as_str(), to);
            }
        }
        s
    };
    match v {
        Value::String(s) => *s = apply(s),
        Value::Array(a) => a.iter_mut().for_each(|x| replace_strings(x, replacements)),
        Value::Object(o) => {
            let old = std::mem::take(o);
            for (k, mut x) in old {
                replace_strings(&mut x, replacements);
                o.insert(apply(&k), x);
            }
        }
        _ => {}
    }
}

impl Snapshot {
    /// A value of the raw snapshot by path; panics naming the path and what is there instead.
    #[track_caller]
    pub fn get(&self, path: &[&str]) -> &Value {
        let mut v = &self.raw;
        for (i, key) in path.iter().enumerate() {
            v = match v {
                Value::Object(o) => o.get(*key),
                Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            }
            .unwrap_or_else(|| {
                panic!(
                    "the snapshot has no {:?}; at {:?} it has:\n{}",
                    path,
                    &path[..i],
                    serde_json::to_string_pretty(v).unwrap()
                )
            });
        }
        v
    }

    /// Keys of an object of the raw snapshot, sorted.
    #[track_caller]
    pub fn keys(&self, path: &[&str]) -> Vec<String> {
        self.get(path)
            .as_object()
            .unwrap_or_else(|| panic!("{path:?} is not an object"))
            .keys()
            .cloned()
            .collect()
    }

    /// The normalized snapshot must equal `tests/e2e/reference/NAME.json`. With
    /// `GITOPS_IAM_E2E_BLESS=1`, a test that may bless writes the file instead.
    #[track_caller]
    pub fn assert_matches_reference(&self, name: &str, may_bless: bool) {
        let text = serde_json::to_string_pretty(&self.normalized).unwrap() + "\n";
        super::assert_matches_reference_file(&format!("{name}.json"), &text, may_bless);
    }
}

#[test]
fn eksctl_role_names_lose_only_their_random_parts() {
    assert_eq!(
        normalize_eksctl_role("eksctl-management-cluster-ServiceRole-MX33ZANSTIZ0").unwrap(),
        "eksctl-management-cluster-ServiceRole-<random>"
    );
    assert_eq!(
        normalize_eksctl_role("eksctl-testing-nodegroup-ng-8cd274-NodeInstanceRole-UHBZ6P9RYUUA").unwrap(),
        "eksctl-testing-nodegroup-ng-<random>-NodeInstanceRole-<random>"
    );
    assert_eq!(normalize_eksctl_role("Deployer"), None);
}

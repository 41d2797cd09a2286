//! Resolved, validated settings: everything a run needs, checked before any command runs.
//!
//! Flags arrive as strings; this module turns them into the newtypes of `names` (exit 2 with the
//! flag, the value and the rule on a bad one) and fills in defaults from the environment.

use crate::cli::{ClusterAccess, EnvArgs, GlobalArgs};
use crate::cmd::Val;
use crate::config::TestingEntry;
use crate::error::{Error, Result};
use crate::names::{AccountId, ClusterName, Namespace, Profile, Region, RoleName, Subject};
use std::path::{Path, PathBuf};

/// One testing cluster and the Deployer role that deploys into it.
#[derive(Clone, Debug)]
pub(crate) struct TestingTarget {
    pub cluster: ClusterName,
    pub account_id: Option<AccountId>,
    pub profile: Option<Profile>,
    pub deployer_role: RoleName,
    /// `None` with access entries when no group was asked for.
    pub identity_group: Option<Subject>,
    pub identity_username: Subject,
    pub access: ClusterAccess,
}

impl TestingTarget {
    /// Whether the target lives in another account than the management cluster, as far as the
    /// settings tell (an explicit different account id, or its own profile).
    pub(crate) fn cross_account(&self, mgmt_account: Option<&AccountId>, mgmt_profile: Option<&Profile>) -> bool {
        match (&self.account_id, mgmt_account) {
            (Some(t), Some(m)) => t != m,
            (Some(_), None) => true,
            (None, _) => self.profile.is_some() && self.profile.as_ref() != mgmt_profile,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// A known region, or `$AWS_REGION` in a dry-run script when none was given.
    pub region: Val,
    pub profile: Option<Profile>,
    /// `--replace-trust`: a role's whole trust document is gitops-iam's (others' statements dropped).
    pub replace_trust: bool,
    pub state_dir: PathBuf,
    pub mgmt_cluster: ClusterName,
    pub namespace: Namespace,
    pub agent_role: RoleName,
    pub account_id: Option<AccountId>,
    pub testing: Vec<TestingTarget>,
    /// The config file, repeated in suggested follow-up commands.
    pub config: Option<PathBuf>,
    /// `--enable-access-entries`: may switch a CONFIG_MAP testing cluster to API_AND_CONFIG_MAP.
    pub enable_access_entries: bool,
}

/// The shell variable a dry-run script uses for the region when none was given.
pub(crate) const REGION_VAR: &str = "AWS_REGION";
/// The shell variable a dry-run script derives the partition into from the region.
pub(crate) const PARTITION_VAR: &str = "AWS_PARTITION";

/// The testing clusters of a fleet: each entry overrides the top-level target's settings.
fn fleet_targets(entries: &[TestingEntry], base: &TestingTarget, env: &EnvArgs) -> Result<Vec<TestingTarget>> {
    entries
        .iter()
        .map(|e| {
            let mut env = EnvArgs { ..env.clone() };
            if let Some(g) = &e.identity_group {
                env.identity_group = Some(g.clone());
            }
            Ok(TestingTarget {
                cluster: ClusterName::parse("testing[].name", &e.name)?,
                account_id: match &e.account_id {
                    Some(a) => Some(AccountId::parse("testing[].account_id", a)?),
                    None => base.account_id.clone(),
                },
                profile: match &e.profile {
                    Some(p) => Some(Profile::parse("testing[].profile", p)?),
                    None => base.profile.clone(),
                },
                deployer_role: match &e.deployer_role {
                    Some(r) => RoleName::parse("testing[].deployer_role", r)?,
                    None => base.deployer_role.clone(),
                },
                identity_group: identity_group(&env)?,
                identity_username: match &e.identity_username {
                    Some(u) => Subject::parse("testing[].identity_username", u)?,
                    None => base.identity_username.clone(),
                },
                access: base.access,
            })
        })
        .collect()
}

/// The group of the Deployer role: aws-auth defaults to `system:masters`; access entries reject
/// `system:` groups (EKS does) and need none, since the access policy grants the rights.
fn identity_group(env: &EnvArgs) -> Result<Option<Subject>> {
    match (env.cluster_access, env.identity_group.as_deref()) {
        (ClusterAccess::AwsAuth, None) => Ok(Some(Subject::parse("--identity-group", "system:masters")?)),
        (ClusterAccess::AccessEntry, Some(g)) if g.starts_with("system:") => Err(Error::invalid(
            "--identity-group",
            g,
            "access entries reject groups starting with system: (use --cluster-access aws-auth, or a group of your own bound by RBAC)",
        )),
        (_, Some(g)) => Subject::parse("--identity-group", g).map(Some),
        (ClusterAccess::AccessEntry, None) => Ok(None),
    }
}

/// An environment variable, when it is set to something.
pub(crate) fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The shared config file the aws CLI and eksctl read: `AWS_CONFIG_FILE`, else `~/.aws/config`.
fn aws_config_file() -> Option<PathBuf> {
    env_nonempty("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| env_nonempty("HOME").map(|h| Path::new(&h).join(".aws").join("config")))
}

/// `region` of a profile in the shared config file (`[default]`, `[profile NAME]`), read here
/// rather than by `aws configure get` so that a dry-run needs neither the CLI nor credentials.
fn profile_region(file: &Path, profile: Option<&Profile>) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    let wanted = match profile.map(Profile::as_str) {
        None | Some("default") => "default".to_string(),
        Some(p) => format!("profile {p}"),
    };
    let mut in_section = false;
    let mut region = None;
    for line in text.lines().map(str::trim) {
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_section = section.split_whitespace().collect::<Vec<_>>().join(" ") == wanted;
        } else if in_section
            && let Some((key, value)) = line.split_once(['=', ':'])
            && key.trim() == "region"
        {
            // The last one wins, as in configparser; an empty value is no region.
            region = Some(value.trim().to_string()).filter(|v| !v.is_empty());
        }
    }
    region
}

/// The region of a profile (`--profile`/`AWS_PROFILE` value, `None` for the default) in the
/// shared config file, for `doctor`, which resolves the region the way `resolve` does.
pub(crate) fn region_of_profile(profile: Option<&str>) -> Option<String> {
    let profile = profile
        .filter(|p| !p.is_empty())
        .map(|p| Profile::parse("--profile", p));
    profile_region(&aws_config_file()?, profile.transpose().ok()?.as_ref())
}

impl Settings {
    pub(crate) fn resolve(global: &GlobalArgs, env: &EnvArgs, fleet: Option<&[TestingEntry]>) -> Result<Settings> {
        let profile = global
            .profile
            .clone()
            .or_else(|| env_nonempty("AWS_PROFILE"))
            .map(|p| Profile::parse("--profile", &p))
            .transpose()?;
        // The order the aws CLI and eksctl resolve it in, the profile's `region` last.
        let from_profile = || {
            let file = aws_config_file()?;
            let region = profile_region(&file, profile.as_ref())?;
            let profile = profile.as_ref().map_or("default", Profile::as_str);
            Some((format!("region (profile {profile} in {})", file.display()), region))
        };
        let region = match global
            .region
            .clone()
            .or_else(|| env_nonempty("AWS_REGION"))
            .or_else(|| env_nonempty("AWS_DEFAULT_REGION"))
            .map(|r| ("--region".to_string(), r))
            .or_else(from_profile)
        {
            Some((source, r)) => Val::Known(Region::parse(&source, &r)?.to_string()),
            None if global.dry_run => Val::var(REGION_VAR),
            None => {
                return Err(Error::Usage(
                    "no AWS region: pass --region, set AWS_REGION, or give the profile one (aws configure set region REGION); every aws and eksctl call gets it explicitly"
                        .into(),
                ));
            }
        };
        let testing_profile = env
            .testing_profile
            .as_deref()
            .map(|p| Profile::parse("--testing-profile", p))
            .transpose()?;
        let target = TestingTarget {
            cluster: ClusterName::parse("--testing-cluster", &env.testing_cluster)?,
            account_id: env
                .testing_account_id
                .as_deref()
                .map(|a| AccountId::parse("--testing-account-id", a))
                .transpose()?,
            profile: testing_profile,
            deployer_role: RoleName::parse("--deployer-role", &env.deployer_role)?,
            identity_group: identity_group(env)?,
            identity_username: Subject::parse("--identity-username", &env.identity_username)?,
            access: env.cluster_access,
        };
        let settings = Settings {
            region,
            profile,
            replace_trust: global.replace_trust,
            state_dir: global.state_dir.clone(),
            mgmt_cluster: ClusterName::parse("--mgmt-cluster", &env.mgmt_cluster)?,
            namespace: Namespace::parse("--namespace", &env.namespace)?,
            agent_role: RoleName::parse("--agent-role", &env.agent_role)?,
            account_id: env
                .account_id
                .as_deref()
                .map(|a| AccountId::parse("--account-id", a))
                .transpose()?,
            config: global.config.clone(),
            enable_access_entries: env.enable_access_entries,
            testing: match fleet {
                Some(entries) => fleet_targets(entries, &target, env)?,
                None => vec![target],
            },
        };
        settings.check_distinct()?;
        Ok(settings)
    }

    /// Rules that involve two settings.
    fn check_distinct(&self) -> Result<()> {
        for (i, t) in self.testing.iter().enumerate() {
            let same_place =
                |o: &TestingTarget| o.cluster == t.cluster && o.account_id == t.account_id && o.profile == t.profile;
            if self.testing[..i].iter().any(same_place) {
                return Err(Error::invalid(
                    "testing (config)",
                    t.cluster.as_str(),
                    "each testing cluster must appear once",
                ));
            }
            let cross = t.cross_account(self.account_id.as_ref(), self.profile.as_ref());
            if let (Some(ta), Some(ma), None) = (&t.account_id, &self.account_id, &t.profile)
                && ta != ma
            {
                return Err(Error::invalid(
                    "--testing-account-id",
                    ta.as_str(),
                    format!(
                        "differs from the management account {ma}: pass --testing-profile with credentials for it (the management credentials cannot act in another account)"
                    ),
                ));
            }
            if t.cluster == self.mgmt_cluster && !cross {
                return Err(Error::invalid(
                    "--testing-cluster",
                    t.cluster.as_str(),
                    "must differ from --mgmt-cluster in the same account",
                ));
            }
            if t.deployer_role == self.agent_role && !cross {
                return Err(Error::invalid(
                    "--deployer-role",
                    t.deployer_role.as_str(),
                    "must differ from --agent-role in the same account",
                ));
            }
        }
        Ok(())
    }

    /// The region as a string, for places that need the value itself (the partition).
    pub(crate) fn region_str(&self) -> &str {
        match &self.region {
            Val::Known(r) => r,
            Val::Var(_) => "",
        }
    }

    /// The AWS partition of the region (real runs; `aws` when the region is only a variable).
    pub(crate) fn partition(&self) -> &'static str {
        crate::policy::partition(self.region_str())
    }

    /// The partition inside ARNs: known, or `$AWS_PARTITION`, which a dry-run script derives
    /// from `$AWS_REGION` when no region was given.
    pub(crate) fn partition_val(&self) -> Val {
        match &self.region {
            Val::Known(r) => Val::known(crate::policy::partition(r)),
            Val::Var(_) => Val::var(PARTITION_VAR),
        }
    }

    pub(crate) fn kubeconfig_dir(&self) -> PathBuf {
        self.state_dir.join("kubeconfig")
    }

    pub(crate) fn policy_dir(&self) -> PathBuf {
        self.state_dir.join("policies")
    }

    /// The Harness agent's install manifest (it holds the agent's token: a 0600 file in a 0700
    /// directory).
    pub(crate) fn agent_manifest_file(&self, agent: &str) -> PathBuf {
        self.state_dir.join("agent").join(format!("{agent}.yaml"))
    }

    /// The tool's own kubeconfig for a cluster: named by account, region and cluster, so that
    /// one state directory used for several accounts or regions never mixes two clusters up.
    pub(crate) fn kubeconfig(&self, account: &Val, cluster: &ClusterName) -> crate::tools::kubectl::Kubeconfig {
        crate::tools::kubectl::Kubeconfig::new(&self.kubeconfig_dir(), account, &self.region, cluster.as_str())
    }

    pub(crate) fn policy_file(&self, name: &str) -> PathBuf {
        self.policy_dir().join(format!("{name}.json"))
    }

    /// A follow-up command (`agent patch`, `register`...) with the environment of this run.
    pub(crate) fn suggest(&self, command: &str) -> String {
        use crate::cmd::quote;
        let mut out = format!("gitops-iam {command}");
        if let Some(c) = &self.config {
            out.push_str(&format!(" --config {}", quote(&c.to_string_lossy())));
        }
        if let Val::Known(r) = &self.region {
            out.push_str(&format!(" --region {r}"));
        }
        if let Some(p) = &self.profile {
            out.push_str(&format!(" --profile {}", quote(p.as_str())));
        }
        out.push_str(&format!(
            " --mgmt-cluster {} --namespace {} --agent-role {}",
            self.mgmt_cluster, self.namespace, self.agent_role
        ));
        if let Some(a) = &self.account_id {
            out.push_str(&format!(" --account-id {a}"));
        }
        // With a config file the fleet comes from the file.
        if let [t] = self.testing.as_slice()
            && self.config.is_none()
        {
            out.push_str(&format!(
                " --testing-cluster {} --deployer-role {}",
                t.cluster, t.deployer_role
            ));
            if let Some(a) = &t.account_id {
                out.push_str(&format!(" --testing-account-id {a}"));
            }
            if let Some(p) = &t.profile {
                out.push_str(&format!(" --testing-profile {}", quote(p.as_str())));
            }
            if t.access == ClusterAccess::AccessEntry {
                out.push_str(" --cluster-access access-entry");
            }
            if let Some(g) = &t.identity_group {
                out.push_str(&format!(" --identity-group {}", quote(g.as_str())));
            }
            if t.identity_username.as_str() != default_of("identity-username") {
                out.push_str(&format!(" --identity-username {}", quote(t.identity_username.as_str())));
            }
        }
        if self.state_dir != Path::new(&default_of("state-dir")) {
            out.push_str(&format!(" --state-dir {}", quote(&self.state_dir.to_string_lossy())));
        }
        out
    }
}

/// A flag's default as clap declares it: the one place every default is written.
fn default_of(long: &str) -> String {
    use clap::CommandFactory;
    crate::cli::Cli::command()
        .get_arguments()
        .find(|a| a.get_long() == Some(long))
        .and_then(|a| a.get_default_values().first())
        .map(|v| v.to_string_lossy().into_owned())
        .unwrap_or_else(|| panic!("--{long} has a default in cli.rs"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn defaults_come_from_clap() {
        assert_eq!(super::default_of("state-dir"), ".gitops-iam");
        assert_eq!(super::default_of("identity-username"), "deployer");
    }

    use super::*;

    #[test]
    fn region_of_a_profile_in_the_shared_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        std::fs::write(
            &file,
            "[default]\nregion = eu-west-1\n\n[profile prod]\noutput = json\nregion=us-west-2\n[profile  empty ]\nregion =\n[sso-session x]\nregion = ap-south-1\n",
        )
        .unwrap();
        let p = |name: &str| Profile::parse("--profile", name).unwrap();
        assert_eq!(profile_region(&file, None).as_deref(), Some("eu-west-1"));
        assert_eq!(profile_region(&file, Some(&p("default"))).as_deref(), Some("eu-west-1"));
        assert_eq!(profile_region(&file, Some(&p("prod"))).as_deref(), Some("us-west-2"));
        assert_eq!(profile_region(&file, Some(&p("empty"))), None);
        assert_eq!(profile_region(&file, Some(&p("x"))), None);
        assert_eq!(profile_region(&dir.path().join("missing"), None), None);
    }
}

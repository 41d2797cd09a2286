//! `--config FILE`: the environment described in a YAML file under version control.
//!
//! Keys are the long flags in snake_case. Precedence, highest first: a flag on the command line,
//! its `GITOPS_IAM_*` variable, the file, the built-in default. Unknown keys are errors that name
//! the key and its line, so a typo cannot silently fall back to a default. A `testing:` list
//! describes a fleet of testing clusters, each entry needing only `name`.

use crate::cli::{AgentArgs, AgentCommand, AppCommand, AppWaitArgs, Cli, Command, PolicyArgs, RegisterArgs};
use crate::error::{Error, Result};
use clap::ArgMatches;
use clap::ValueEnum;
use clap::parser::ValueSource;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub state_dir: Option<PathBuf>,
    pub propagation_timeout: Option<String>,
    pub mgmt_cluster: Option<String>,
    pub testing_cluster: Option<String>,
    pub namespace: Option<String>,
    pub agent_role: Option<String>,
    pub deployer_role: Option<String>,
    pub account_id: Option<String>,
    pub testing_account_id: Option<String>,
    pub testing_profile: Option<String>,
    pub identity_group: Option<String>,
    pub identity_username: Option<String>,
    pub cluster_access: Option<String>,
    pub enable_access_entries: Option<bool>,
    pub assume_any_role: Option<bool>,
    pub agent_manifest: Option<PathBuf>,
    pub wait_timeout: Option<String>,
    pub app_timeout: Option<String>,
    pub to: Option<String>,
    pub harness_account: Option<String>,
    pub harness_org: Option<String>,
    pub harness_project: Option<String>,
    pub agent_id: Option<String>,
    pub cluster_id: Option<String>,
    pub harness_url: Option<String>,
    pub api_key_file: Option<PathBuf>,
    /// A fleet of testing clusters (replaces --testing-cluster and friends).
    pub testing: Option<Vec<TestingEntry>>,
}

/// One testing cluster of a fleet; unset fields take the top-level settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TestingEntry {
    pub name: String,
    pub account_id: Option<String>,
    pub profile: Option<String>,
    pub deployer_role: Option<String>,
    pub identity_group: Option<String>,
    pub identity_username: Option<String>,
}

pub(crate) fn load(path: &Path) -> Result<ConfigFile> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::invalid(
            "--config",
            path.display().to_string(),
            format!("a readable YAML file ({e})"),
        )
    })?;
    let mut cfg: ConfigFile = serde_saphyr::from_str(&text)
        .map_err(|e| Error::Usage(format!("invalid config file {}: {e}", path.display())))?;
    // Files named in the config are relative to the config file, like includes in most tools.
    let base = path.parent().unwrap_or(Path::new("."));
    for p in [&mut cfg.agent_manifest, &mut cfg.api_key_file].into_iter().flatten() {
        if p.is_relative() {
            *p = base.join(&*p);
        }
    }
    if let Some(list) = &cfg.testing
        && list.is_empty()
    {
        return Err(Error::Usage(format!(
            "invalid config file {}: `testing` is an empty list",
            path.display()
        )));
    }
    Ok(cfg)
}

/// Whether the user set `id` on the command line or through its environment variable.
fn explicit(matches: &ArgMatches, id: &str) -> bool {
    let here = matches
        .try_contains_id(id)
        .ok()
        .filter(|&present| present)
        .and_then(|_| matches.value_source(id))
        .is_some_and(|s| matches!(s, ValueSource::CommandLine | ValueSource::EnvVariable));
    here || matches.subcommand().is_some_and(|(_, sub)| explicit(sub, id))
}

fn parse_enum<T: ValueEnum>(key: &str, value: &str) -> Result<T> {
    T::from_str(value, true).map_err(|_| {
        let allowed: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        Error::invalid(
            &format!("{key} (config)"),
            value,
            format!("one of {}", allowed.join(", ")),
        )
    })
}

/// A duration key (`90s`, `10m`), as its flag parses it.
fn duration(key: &str, value: Option<&str>) -> Result<Option<std::time::Duration>> {
    value
        .map(|v| {
            humantime::parse_duration(v).map_err(|err| Error::invalid(&format!("{key} (config)"), v, err.to_string()))
        })
        .transpose()
}

/// Fills every setting the user did not give explicitly from the file. Returns the fleet, unless
/// --testing-cluster was given explicitly.
pub(crate) fn apply(cfg: ConfigFile, cli: &mut Cli, matches: &ArgMatches) -> Result<Option<Vec<TestingEntry>>> {
    macro_rules! set {
        ($field:expr, $key:literal, $value:expr) => {
            if let Some(v) = $value
                && !explicit(matches, $key)
            {
                $field = v.into();
            }
        };
    }
    let (g, e) = (&mut cli.global, &mut cli.env);
    set!(g.region, "region", cfg.region.map(Some));
    set!(g.profile, "profile", cfg.profile.map(Some));
    set!(g.state_dir, "state_dir", cfg.state_dir);
    set!(e.mgmt_cluster, "mgmt_cluster", cfg.mgmt_cluster);
    set!(e.testing_cluster, "testing_cluster", cfg.testing_cluster);
    set!(e.namespace, "namespace", cfg.namespace);
    set!(e.agent_role, "agent_role", cfg.agent_role);
    set!(e.deployer_role, "deployer_role", cfg.deployer_role);
    set!(e.account_id, "account_id", cfg.account_id.map(Some));
    set!(
        e.testing_account_id,
        "testing_account_id",
        cfg.testing_account_id.map(Some)
    );
    set!(e.testing_profile, "testing_profile", cfg.testing_profile.map(Some));
    set!(e.identity_group, "identity_group", cfg.identity_group.map(Some));
    set!(e.identity_username, "identity_username", cfg.identity_username);
    if let Some(v) = &cfg.cluster_access {
        set!(
            e.cluster_access,
            "cluster_access",
            Some(parse_enum::<crate::cli::ClusterAccess>("cluster_access", v)?)
        );
    }
    set!(
        e.enable_access_entries,
        "enable_access_entries",
        cfg.enable_access_entries
    );
    set!(
        g.propagation_timeout,
        "propagation_timeout",
        duration("propagation_timeout", cfg.propagation_timeout.as_deref())?
    );
    let wait = duration("wait_timeout", cfg.wait_timeout.as_deref())?;
    let app_wait = duration("app_timeout", cfg.app_timeout.as_deref())?;
    let app = |w: &mut AppWaitArgs| {
        set!(w.app_timeout, "app_timeout", app_wait);
    };
    let to = cfg
        .to
        .as_deref()
        .map(|t| parse_enum::<crate::cli::RegisterTarget>("to", t))
        .transpose()?;

    let policy = |p: &mut PolicyArgs| {
        set!(p.assume_any_role, "assume_any_role", cfg.assume_any_role);
    };
    let agent = |a: &mut AgentArgs| {
        set!(a.agent_manifest, "agent_manifest", cfg.agent_manifest.clone().map(Some));
        set!(a.wait_timeout, "wait_timeout", wait);
    };
    let register = |r: &mut RegisterArgs| {
        set!(r.to, "to", to.map(Some));
        set!(
            r.harness_account,
            "harness_account",
            cfg.harness_account.clone().map(Some)
        );
        set!(r.harness_org, "harness_org", cfg.harness_org.clone().map(Some));
        set!(
            r.harness_project,
            "harness_project",
            cfg.harness_project.clone().map(Some)
        );
        set!(r.agent_id, "agent_id", cfg.agent_id.clone().map(Some));
        set!(r.cluster_id, "cluster_id", cfg.cluster_id.clone().map(Some));
        set!(r.harness_url, "harness_url", cfg.harness_url.clone());
        set!(r.api_key_file, "api_key_file", cfg.api_key_file.clone().map(Some));
    };
    match &mut cli.command {
        Command::Mgmt(p) => policy(p),
        Command::Agent(AgentCommand::Patch(a)) => agent(a),
        Command::Agent(AgentCommand::Install(a)) => {
            set!(a.wait_timeout, "wait_timeout", wait);
            register(&mut a.register);
        }
        Command::Up {
            policy: p,
            agent: a,
            register: r,
            app: w,
            ..
        } => {
            app(w);
            policy(p);
            agent(a);
            register(r);
        }
        Command::App(AppCommand::Guestbook { register: r, wait: w }) => {
            register(r);
            app(w);
        }
        Command::Register(r)
        | Command::Verify(crate::cli::VerifyArgs { register: r, .. })
        | Command::Down { register: r, .. } => register(r),
        _ => {}
    }
    Ok(if explicit(matches, "testing_cluster") {
        None
    } else {
        cfg.testing
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches};

    fn parse(args: &[&str], yaml: &str) -> Result<(Cli, Option<Vec<TestingEntry>>)> {
        let matches = Cli::command().try_get_matches_from(args).unwrap();
        let mut cli = Cli::from_arg_matches(&matches).unwrap();
        let cfg: ConfigFile = serde_saphyr::from_str(yaml).map_err(|e| Error::Usage(e.to_string()))?;
        let fleet = apply(cfg, &mut cli, &matches)?;
        Ok((cli, fleet))
    }

    #[test]
    fn file_fills_defaults_and_flags_win() {
        let yaml =
            "region: eu-west-1\nnamespace: agents\nmgmt_cluster: mgmt-a\nassume_any_role: true\nwait_timeout: 2m\n";
        let (cli, _) = parse(&["gitops-iam", "up", "--namespace", "flagged"], yaml).unwrap();
        assert_eq!(cli.global.region.as_deref(), Some("eu-west-1"));
        assert_eq!(cli.env.namespace, "flagged");
        assert_eq!(cli.env.mgmt_cluster, "mgmt-a");
        let Command::Up { policy, agent, .. } = cli.command else {
            panic!()
        };
        assert!(policy.assume_any_role);
        assert_eq!(agent.wait_timeout, std::time::Duration::from_secs(120));
    }

    #[test]
    fn global_flag_after_subcommand_still_wins() {
        let (cli, _) = parse(&["gitops-iam", "mgmt", "--region", "us-west-2"], "region: eu-west-1\n").unwrap();
        assert_eq!(cli.global.region.as_deref(), Some("us-west-2"));
    }

    #[test]
    fn fleet_unless_testing_cluster_flag() {
        let yaml = "testing:\n  - name: a\n  - name: b\n    account_id: '222222222222'\n    profile: b\n";
        let (_, fleet) = parse(&["gitops-iam", "testing"], yaml).unwrap();
        let fleet = fleet.unwrap();
        assert_eq!(fleet.len(), 2);
        assert_eq!(fleet[1].account_id.as_deref(), Some("222222222222"));
        let (_, fleet) = parse(&["gitops-iam", "testing", "--testing-cluster", "x"], yaml).unwrap();
        assert!(fleet.is_none());
    }

    #[test]
    fn bad_values_and_unknown_keys() {
        let err = parse(&["gitops-iam", "up"], "cluster_access: magic\n").unwrap_err();
        assert!(err.to_string().contains("aws-auth, access-entry"), "{err}");
        assert_eq!(err.code(), 2);
        let err = serde_saphyr::from_str::<ConfigFile>("regoin: x\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1") && err.contains("regoin"), "{err}");
        let err = serde_saphyr::from_str::<ConfigFile>("testing:\n  - name: a\n    deployer: x\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3") && err.contains("deployer"), "{err}");
    }

    /// Flags that are a decision of one run, not a setting of the environment: no config key.
    const PER_RUN_FLAGS: &[&str] = &[
        "config",
        "dry-run",
        "plan",
        "detailed-exitcode",
        "output",
        "verbose",
        "quiet",
        "log-file",
        // destructive or one-off choices are made on the command line, each time
        "replace-trust",
        "yes",
        "keep-clusters",
        "live",
        // the guestbook sample proves the chain once; it is no part of the environment
        "with-guestbook",
        // `render` and `man` take their inputs as arguments; they read no environment
        "name",
        "oidc-provider",
        "deployer-role-arn",
        "agent-role-arn",
        "merge-current",
        "server",
        "ca-data",
        "role-arn",
        "dir",
    ];

    fn long_flags(cmd: &clap::Command, path: &str, out: &mut Vec<(String, String)>) {
        for arg in cmd.get_arguments() {
            if let Some(long) = arg.get_long() {
                out.push((path.to_owned(), long.to_owned()));
            }
        }
        for sub in cmd.get_subcommands() {
            long_flags(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_flag_of_the_environment_has_its_config_key_documented_in_configuration_md() {
        let docs = include_str!("../docs/configuration.md");
        let mut flags = Vec::new();
        long_flags(&Cli::command(), "gitops-iam", &mut flags);
        let mut missing = Vec::new();
        for (path, flag) in &flags {
            if PER_RUN_FLAGS.contains(&flag.as_str()) {
                continue;
            }
            let key = flag.replace('-', "_");
            let unknown = serde_saphyr::from_str::<ConfigFile>(&format!("{key}: x\n"))
                .err()
                .is_some_and(|e| e.to_string().contains("unknown field"));
            if unknown {
                missing.push(format!("{path} --{flag}: no config key `{key}`"));
            } else if !docs.contains(&format!("| `{key}` | `--{flag}")) {
                missing.push(format!("{path} --{flag}: key `{key}` is not in docs/configuration.md"));
            }
        }
        assert!(
            missing.is_empty(),
            "flags without a config key (add one, or list the flag in PER_RUN_FLAGS with why):\n{}",
            missing.join("\n")
        );
        // the list names real flags only
        for flag in PER_RUN_FLAGS {
            assert!(flags.iter().any(|(_, f)| f == flag), "--{flag} is no flag any more");
        }
    }

    #[test]
    fn propagation_timeout_and_enable_access_entries_come_from_the_file() {
        let yaml = "propagation_timeout: 30s\nenable_access_entries: true\n";
        let (cli, _) = parse(&["gitops-iam", "testing"], yaml).unwrap();
        assert_eq!(cli.global.propagation_timeout, std::time::Duration::from_secs(30));
        assert!(cli.env.enable_access_entries);
        let (cli, _) = parse(&["gitops-iam", "testing", "--propagation-timeout", "5m"], yaml).unwrap();
        assert_eq!(cli.global.propagation_timeout, std::time::Duration::from_secs(300));
        let err = parse(&["gitops-iam", "up"], "propagation_timeout: soon\n").unwrap_err();
        assert!(err.to_string().contains("propagation_timeout (config)"), "{err}");
    }
}

//! Where and how `register` registers the testing cluster(s): Harness GitOps or an Argo CD
//! cluster Secret, resolved from the registration flags (and the API key from the environment
//! or a file, never from a flag).

use crate::cli::{AgentCommand, AppCommand, Command, RegisterArgs};
use crate::error::{Error, Result};
use crate::settings::env_nonempty;
use std::path::PathBuf;

/// Where and how `register` registers the testing cluster(s).
#[derive(Clone, Debug)]
pub(crate) enum Registration {
    Harness {
        harness: crate::harness::Harness,
        /// The cluster identifier for a single testing cluster (fleets derive one per cluster).
        cluster_id: Option<String>,
        /// Read by the dry-run script when the key comes from a file.
        api_key_file: Option<PathBuf>,
    },
    Argocd,
}

fn harness_id(flag: &str, value: &str) -> Result<String> {
    if crate::names::is_harness_identifier(value) {
        Ok(value.to_string())
    } else {
        Err(Error::invalid(
            flag,
            value,
            "a Harness identifier: a letter or '_', then letters, digits and '_' (at most 128)",
        ))
    }
}

impl Registration {
    /// The Harness identifier of a testing cluster: `--cluster-id` for a single cluster,
    /// otherwise its name turned into a valid identifier (each cluster of a fleet needs its own).
    pub(crate) fn harness_cluster_id(explicit: &Option<String>, cluster: &str, fleet_size: usize) -> String {
        match explicit {
            Some(id) if fleet_size == 1 => id.clone(),
            _ => crate::names::harness_identifier(cluster),
        }
    }

    /// `None` when nothing says where to register (then `up` prints the command to run next).
    pub(crate) fn resolve(args: &crate::cli::RegisterArgs, dry_run: bool) -> Result<Option<Registration>> {
        use crate::cli::RegisterTarget;
        let target = match (args.to, &args.harness_account) {
            (Some(t), _) => t,
            (None, Some(_)) => RegisterTarget::Harness,
            (None, None) => return Ok(None),
        };
        if target == RegisterTarget::Argocd {
            return Ok(Some(Registration::Argocd));
        }
        let account = args.harness_account.as_deref().ok_or_else(|| {
            Error::Usage("registering in Harness needs --harness-account (or GITOPS_IAM_HARNESS_ACCOUNT)".into())
        })?;
        if account.is_empty()
            || !account
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(Error::invalid(
                "--harness-account",
                account,
                "letters, digits, '_' and '-'",
            ));
        }
        let agent = args
            .agent_id
            .as_deref()
            .ok_or_else(|| Error::Usage("registering in Harness needs --agent-id".into()))?;
        let bare = agent
            .strip_prefix("account.")
            .or_else(|| agent.strip_prefix("org."))
            .unwrap_or(agent);
        harness_id("--agent-id", bare).map_err(|_| {
            Error::invalid(
                "--agent-id",
                agent,
                "a Harness identifier, optionally prefixed account. or org.",
            )
        })?;
        let org = args
            .harness_org
            .as_deref()
            .map(|o| harness_id("--harness-org", o))
            .transpose()?;
        let project = args
            .harness_project
            .as_deref()
            .map(|p| harness_id("--harness-project", p))
            .transpose()?;
        if project.is_some() && org.is_none() {
            return Err(Error::Usage("--harness-project needs --harness-org".into()));
        }
        let cluster_id = args
            .cluster_id
            .as_deref()
            .map(|c| harness_id("--cluster-id", c))
            .transpose()?;
        let url = args.harness_url.trim_end_matches('/');
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(Error::invalid("--harness-url", url, "an http(s) URL"));
        }
        let api_key = match (&args.api_key_file, env_nonempty(crate::http::API_KEY_VAR)) {
            // A dry-run script reads the file itself when it runs.
            (Some(_), _) if dry_run => None,
            (Some(file), _) => {
                let key = std::fs::read_to_string(file).map_err(|e| {
                    Error::invalid(
                        "--api-key-file",
                        file.display().to_string(),
                        format!("a readable file ({e})"),
                    )
                })?;
                let key = key.trim().to_string();
                if key.is_empty() {
                    return Err(Error::invalid(
                        "--api-key-file",
                        file.display().to_string(),
                        "must not be empty",
                    ));
                }
                Some(key)
            }
            (None, Some(key)) => Some(key.trim().to_string()),
            (None, None) if dry_run => None,
            (None, None) => {
                return Err(Error::Usage(format!(
                    "no Harness API key: set {} or pass --api-key-file FILE (never the key itself as a flag)",
                    crate::http::API_KEY_VAR
                )));
            }
        };
        if let Some(key) = &api_key
            && !key.chars().all(|c| c.is_ascii_graphic())
        {
            // Never echo the key itself.
            return Err(Error::invalid(
                crate::http::API_KEY_VAR,
                "(hidden)",
                "printable ASCII without spaces (is it the whole key, on one line?)",
            ));
        }
        Ok(Some(Registration::Harness {
            harness: crate::harness::Harness {
                base_url: url.to_string(),
                account: account.to_string(),
                org,
                project,
                agent: agent.to_string(),
                // In a dry-run the key is never read by the tool: the script refers to it.
                api_key: Some(secrecy::SecretString::from(api_key.unwrap_or_default())),
            },
            cluster_id,
            api_key_file: args.api_key_file.clone(),
        }))
    }
}

/// The registration a command needs, from its flags: required by `register`, `agent install`,
/// `app guestbook` and `up --with-guestbook`; optional for `up`, `verify` and `down`.
pub(crate) fn for_command(command: &Command, dry_run: bool) -> Result<Option<Registration>> {
    let required = |args: &RegisterArgs, what: &str| {
        Registration::resolve(args, dry_run)?
            .map(Some)
            .ok_or_else(|| Error::Usage(what.into()))
    };
    let registration = match command {
        Command::Register(args) => required(
            args,
            "register needs --harness-account and --agent-id (Harness), or --to argocd",
        )?,
        Command::Agent(AgentCommand::Install(args)) => match Registration::resolve(&args.register, dry_run)? {
            reg @ Some(Registration::Harness { .. }) => reg,
            _ => {
                return Err(Error::Usage(
                    "agent install needs --harness-account and --agent-id (and --harness-org, --harness-project for a project-level agent)".into(),
                ));
            }
        },
        Command::App(AppCommand::Guestbook { register, .. }) => required(
            register,
            "app guestbook needs the registration's options: --harness-account and --agent-id (Harness), or --to argocd",
        )?,
        Command::Up {
            register,
            with_guestbook: true,
            ..
        } => required(
            register,
            "--with-guestbook deploys through the registered cluster: give the registration's options (--harness-account and --agent-id, or --to argocd)",
        )?,
        Command::Up { register, .. }
        | Command::Verify(crate::cli::VerifyArgs { register, .. })
        | Command::Down { register, .. } => Registration::resolve(register, dry_run)?,
        _ => None,
    };
    if let Some(Registration::Harness { harness, .. }) = &registration
        && installs_agent(command)
    {
        harness.check_agent_scope()?;
    }
    Ok(registration)
}

/// Whether the command creates and installs the Harness agent: `agent install`, and `up` with
/// Harness settings but no `--agent-manifest`.
fn installs_agent(command: &Command) -> bool {
    match command {
        Command::Agent(AgentCommand::Install(_)) => true,
        Command::Up { agent, register, .. } => agent.agent_manifest.is_none() && register.harness_account.is_some(),
        _ => false,
    }
}

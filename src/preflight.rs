//! What a real run (or a plan) needs before its first command: its tools on PATH, its input
//! files, its state directories. Checked up front so that a missing piece fails in a second,
//! with what to install, instead of halfway through a 15-minute creation.

use crate::cli::{AgentCommand, Cli, Command};
use crate::error::{Error, Result};
use crate::settings::Settings;

/// The programs a command drives.
fn required_tools(command: &Command) -> &'static [&'static str] {
    match command {
        Command::Mgmt(_) | Command::Testing => &["aws", "eksctl"],
        _ => &["aws", "eksctl", "kubectl"],
    }
}

pub(crate) fn check(cli: &Cli, settings: &Settings) -> Result<()> {
    for tool in required_tools(&cli.command) {
        if which::which(tool).is_err() {
            return Err(Error::ToolMissing {
                tool: tool.to_string(),
                hint: crate::exec::install_hint(tool).to_string(),
            });
        }
    }
    let manifest = match &cli.command {
        Command::Up { agent, .. } | Command::Agent(AgentCommand::Patch(agent)) => agent.agent_manifest.as_ref(),
        _ => None,
    };
    if let Some(m) = manifest
        && !m.is_file()
    {
        return Err(Error::invalid(
            "--agent-manifest",
            m.display().to_string(),
            "must be a readable file",
        ));
    }
    for dir in [settings.kubeconfig_dir(), settings.policy_dir()] {
        std::fs::create_dir_all(&dir).map_err(|e| Error::Other(anyhow::anyhow!("creating {}: {e}", dir.display())))?;
    }
    Ok(())
}

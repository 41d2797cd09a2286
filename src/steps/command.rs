//! Which steps a command runs, whichever executor runs them (`run.rs`).

use super::agent::{DryRunAgent, Outcome};
use super::{Ctx, agent, agent_install, down, guestbook, mgmt, needs, register, testing, up, verify};
use crate::cli::{AgentCommand, AppCommand, Cli, Command};
use crate::error::Result;
use crate::registration::Registration;

/// Runs the command's steps; the exit code (`verify`'s failed checks give 1).
pub(crate) async fn execute(cli: &Cli, ctx: &Ctx<'_>, registration: Option<&Registration>) -> Result<i32> {
    let registered = || registration.expect("resolved before the run (registration::for_command)");
    match &cli.command {
        Command::Mgmt(policy) => mgmt::run(ctx, policy.assume_any_role).await?,
        Command::Testing => testing::run(ctx).await?,
        Command::Agent(AgentCommand::Patch(args)) => {
            needs::agent_patch(ctx).await?;
            if let Outcome::AgentMissing(missing) = agent::patch(ctx, args, DryRunAgent::Installed).await? {
                return Err(agent::missing_error(ctx, &missing));
            }
        }
        Command::Agent(AgentCommand::Install(args)) => {
            agent_install::command(ctx, registered(), args.wait_timeout).await?;
        }
        Command::Verify(args) => return verify::command(ctx, registration, args.live).await,
        Command::Down { keep_clusters, .. } => down::run(ctx, registration, *keep_clusters).await?,
        Command::Register(_) => {
            needs::register(ctx).await?;
            register::run(ctx, registered()).await?;
        }
        Command::Up {
            policy,
            agent,
            with_guestbook,
            app,
            ..
        } => {
            let guestbook = with_guestbook.then_some(app.app_timeout);
            up::command(ctx, policy, agent, registration, guestbook).await?;
        }
        Command::App(AppCommand::Guestbook { wait, .. }) => {
            needs::register(ctx).await?;
            guestbook::run(ctx, registered(), wait.app_timeout).await?;
        }
        Command::Render(_) | Command::Doctor | Command::Completions { .. } | Command::Man { .. } => {
            unreachable!("runs no steps (app::dispatch)")
        }
    }
    Ok(0)
}

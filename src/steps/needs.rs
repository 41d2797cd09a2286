//! Preconditions: what a command needs that another command makes.
//!
//! Run on their own (one CI job each), `testing`, `agent patch` and `register` depend on what
//! `mgmt` or `testing` made. Without it they would spend minutes (a cluster creation) and then
//! fail on a raw error, or create a Deployer role whose trust names a role that does not exist
//! (IAM refuses it). So each first reads what it needs, with the read-only calls it makes anyway
//! (read ahead, so free), and stops before changing anything, naming the command to run first.
//! Only a read that says "absent" stops a command: a dry-run reads nothing, so it has no
//! preconditions.

use super::Ctx;
use super::observed::Observed;
use crate::cmd::Cmd;
use crate::error::{Error, Result};
use crate::tools::aws;

/// Something a command needs, how to see it, and the command that makes it.
struct Need {
    what: String,
    observe: Cmd,
    made_by: &'static str,
}

async fn check(ctx: &Ctx<'_>, needs: Vec<Need>) -> Result<()> {
    let mut missing = Vec::new();
    let mut made_by = Vec::new();
    for n in &needs {
        let found = ctx.read(&n.observe, aws::is_not_found, |_, _| Ok(())).await?;
        if found == Observed::Absent {
            missing.push(n.what.clone());
            if !made_by.contains(&n.made_by) {
                made_by.push(n.made_by);
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::Precondition {
        missing,
        run_first: made_by.iter().map(|c| ctx.settings.suggest(c)).collect(),
    })
}

fn agent_role(ctx: &Ctx<'_>) -> Need {
    let role = ctx.settings.agent_role.as_str();
    Need {
        what: format!("IAM role {role} (the agent role, in the management account)"),
        observe: ctx.mgmt_tools().get_role(role),
        made_by: "mgmt",
    }
}

/// `testing`: the Deployer role's trust names the agent role, which IAM requires to exist.
pub(crate) async fn testing(ctx: &Ctx<'_>) -> Result<()> {
    check(ctx, vec![agent_role(ctx)]).await
}

/// `agent patch`: the management cluster holds the agent; the annotation names the agent role.
pub(crate) async fn agent_patch(ctx: &Ctx<'_>) -> Result<()> {
    let cluster = ctx.settings.mgmt_cluster.as_str();
    let mgmt = Need {
        what: format!("EKS cluster {cluster} (the management cluster)"),
        observe: ctx.mgmt_tools().describe_cluster(cluster),
        made_by: "mgmt",
    };
    check(ctx, vec![mgmt, agent_role(ctx)]).await
}

/// `register`: each testing cluster's endpoint and CA, and the Deployer role it is reached with.
pub(crate) async fn register(ctx: &Ctx<'_>) -> Result<()> {
    let mut needs = Vec::new();
    for t in &ctx.settings.testing {
        let aws = ctx.testing_tools(t);
        needs.push(Need {
            what: format!("EKS cluster {} (a testing cluster)", t.cluster),
            observe: aws.describe_cluster(t.cluster.as_str()),
            made_by: "testing",
        });
        needs.push(Need {
            what: format!("IAM role {} (the Deployer role)", t.deployer_role),
            observe: aws.get_role(t.deployer_role.as_str()),
            made_by: "testing",
        });
    }
    check(ctx, needs).await
}

//! Waiting for an EKS cluster, and what to say when it will never be usable.
//!
//! `aws eks wait cluster-active` is botocore's waiter (`botocore/data/eks/2017-11-01/waiters-2.json`):
//! 40 polls 30 s apart, so it gives up after 20 minutes, and it fails at once when the cluster is
//! DELETING or FAILED. A cluster creation may take longer than 20 minutes, so `up` runs the waiter
//! again until its own limit ([`CLUSTER_TIMEOUT`], as long as it lets `eksctl create cluster` run);
//! after each round it reads the cluster again, because what was read before (its status, and
//! anything read through it while it was not ACTIVE) is stale.

use super::Ctx;
use crate::error::{Error, Result};
use crate::names::ClusterName;
use crate::report::Changes;
use crate::resource::Selector;
use crate::tools::ToolCtx;
use crate::tools::aws::{self, ClusterInfo};
use std::time::{Duration, Instant};

/// How long `up` waits for a cluster in all: the timeout it gives `eksctl create cluster`.
pub(crate) const CLUSTER_TIMEOUT: Duration = Duration::from_secs(45 * 60);

/// What a cluster's status means for a run that needs it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Active,
    /// It will become ACTIVE by itself: wait.
    Pending,
    /// It is going away: wait until it is gone, then run again (it will be created anew).
    Deleting,
    /// It will never be ACTIVE: delete it, then run again.
    Failed,
}

impl Status {
    pub(crate) fn of(status: &str) -> Status {
        match status {
            "ACTIVE" => Status::Active,
            "CREATING" | "UPDATING" | "PENDING" => Status::Pending,
            "DELETING" => Status::Deleting,
            _ => Status::Failed,
        }
    }
}

/// The error for a cluster that cannot be used, with the commands that get out of it.
pub(crate) fn unusable(tools: &ToolCtx, cluster: &ClusterName, status: &str) -> Error {
    match Status::of(status) {
        Status::Deleting => Error::State(format!(
            "EKS cluster {cluster} is DELETING: wait until it is gone, then run this command again (it \
             creates the cluster anew):\n  {}",
            tools.wait_cluster_deleted(cluster.as_str())
        )),
        Status::Pending => Error::State(format!(
            "EKS cluster {cluster} is still {status} after {} minutes: run this command again later; to \
             follow it: {}",
            CLUSTER_TIMEOUT.as_secs() / 60,
            tools.describe_cluster(cluster.as_str())
        )),
        Status::Active | Status::Failed => Error::State(format!(
            "EKS cluster {cluster} is {status}: it cannot be used. Delete it (this also removes what \
             eksctl made for it), then run this command again:\n  {}",
            tools.delete_cluster(cluster.as_str())
        )),
    }
}

/// The error for a stack `eksctl-N-cluster` without an EKS cluster: a creation that failed and
/// rolled back, or was cut off before the control plane. `eksctl delete cluster` removes such a
/// stack (eksctl's `pkg/actions/cluster/cluster.go` treats the cluster as its own).
pub(crate) fn stack_without_cluster(tools: &ToolCtx, cluster: &ClusterName) -> Error {
    Error::State(format!(
        "the CloudFormation stack eksctl-{cluster}-cluster exists but EKS cluster {cluster} does not (an \
         earlier `eksctl create cluster` failed or was cut off). Remove the stack, then run this command \
         again:\n  {}",
        tools.delete_cluster(cluster.as_str())
    ))
}

/// After `create cluster` answered that its stack exists while no EKS cluster is there: another
/// run is creating it right now (wait for its stack, then use the cluster), or the stack is what
/// a failed creation left (name the clean-up).
pub(crate) async fn after_stack_exists(ctx: &Ctx<'_>, tools: &ToolCtx, cluster: &ClusterName) -> Result<ClusterInfo> {
    let name = cluster.as_str();
    let status = ctx
        .observe(
            &tools.describe_cluster_stack(name),
            aws::is_stack_not_found,
            aws::parse_stack_status,
        )
        .await?;
    if status.as_deref() == Some("CREATE_IN_PROGRESS") {
        ctx.report.info(&format!(
            "another run is creating cluster {cluster} (stack eksctl-{cluster}-cluster): waiting for it"
        ));
        // A stack that then fails leaves no cluster: the observation below says so.
        let _ = ctx.exec.run(&tools.wait_cluster_stack(name)).await;
    } else {
        // The stack may have got its cluster (and completed) since the cluster was read.
        ctx.forget(&Selector::Under(tools.key(["eks", cluster.as_str()])));
    }
    if let Some(info) = ctx
        .observe(&tools.describe_cluster(name), aws::is_not_found, aws::parse_cluster)
        .await?
    {
        return Ok(info);
    }
    Err(stack_without_cluster(tools, cluster))
}

/// How long a run that met another run's creation gives that run to make its nodegroup: eksctl
/// creates the nodegroup stack as soon as the cluster stack is complete, and EKS lists the
/// nodegroup once the stack has made it, within a minute or two of ACTIVE.
pub(crate) const CREATOR_NODEGROUP_TIMEOUT: Duration = Duration::from_secs(3 * 60);

/// Makes sure the cluster has a nodegroup: a creation cut off after the control plane leaves an
/// ACTIVE cluster without nodes, where no pod would ever start (eksctl's `pkg/ctl/create/cluster.go`
/// creates the nodegroup stack only once the control plane is ready).
///
/// `another_run`: this run's `create cluster` met another run's (its stack appeared between our
/// read and our create). Then "no nodegroup yet" is that run's next step, not a cut-off
/// creation: wait for it ([`CREATOR_NODEGROUP_TIMEOUT`]), and make one only if it never comes
/// (that run was cut off after all). `eksctl create nodegroup` names every nodegroup afresh, so
/// making one at once would leave the cluster with two. A cluster that was merely CREATING
/// when first read is not waited for: that is also what a cut-off creation leaves, and its
/// re-run should not pay minutes for a nodegroup that will never come.
pub(crate) async fn ensure_nodegroup(
    ctx: &Ctx<'_>,
    tools: &ToolCtx,
    cluster: &ClusterName,
    another_run: bool,
) -> Result<Changes> {
    let mut changes = Changes::none();
    let name = cluster.as_str();
    let list = tools.list_nodegroups(name);
    let mut groups = ctx.observe(&list, aws::is_not_found, aws::parse_nodegroups).await?;
    if another_run && groups.as_ref().is_some_and(Vec::is_empty) {
        ctx.report.info(&format!(
            "cluster {cluster} has no nodegroup yet: waiting for the run that is creating it to make one"
        ));
        let start = Instant::now();
        let mut pause = Duration::from_secs(2);
        while groups.as_ref().is_some_and(Vec::is_empty) && start.elapsed() < CREATOR_NODEGROUP_TIMEOUT {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(15));
            // a fresh answer each time, not the one read ahead
            ctx.forget(&Selector::Under(tools.key(["eks", cluster.as_str(), "nodegroups"])));
            groups = ctx.observe(&list, aws::is_not_found, aws::parse_nodegroups).await?;
        }
    }
    if groups.is_some_and(|g| g.is_empty()) {
        ctx.report.info(&format!(
            "cluster {cluster} has no nodegroup (its creation was cut off): creating one as `eksctl create cluster` does"
        ));
        ctx.exec.run(&tools.create_nodegroup(name)).await?;
        changes.push(format!("created a nodegroup in cluster {cluster}"));
    }
    Ok(changes)
}

/// Waits until the cluster is ACTIVE and returns what `describe-cluster` then says.
pub(crate) async fn wait_active(ctx: &Ctx<'_>, tools: &ToolCtx, cluster: &ClusterName) -> Result<ClusterInfo> {
    let name = cluster.as_str();
    let start = Instant::now();
    loop {
        // Running the waiter drops what was read about the cluster (its resource covers them).
        let waited = ctx.exec.run(&tools.wait_cluster_active(name)).await;
        let found = ctx
            .observe(&tools.describe_cluster(name), aws::is_not_found, aws::parse_cluster)
            .await?;
        let Some(info) = found else {
            return Err(Error::State(format!(
                "EKS cluster {cluster} was deleted while this run waited for it: run this command again \
                 to create it"
            )));
        };
        let in_time = start.elapsed() < CLUSTER_TIMEOUT;
        match (Status::of(&info.status), waited) {
            (Status::Active, _) => return Ok(info),
            // The waiter failed for another reason (credentials, throttling...): that error.
            (Status::Pending, Err(e)) if in_time && !gave_up(&e) => return Err(e),
            (Status::Pending, _) if in_time => ctx.report.info(&format!(
                "cluster {cluster} is still {} after {} minutes: waiting again",
                info.status,
                start.elapsed().as_secs() / 60
            )),
            _ => return Err(unusable(tools, cluster, &info.status)),
        }
    }
}

/// The waiter ran out of attempts (botocore: `Waiter ClusterActive failed: Max attempts exceeded`).
fn gave_up(e: &Error) -> bool {
    match e {
        Error::Command(c) => c.stderr.contains("Max attempts exceeded"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::Val;

    fn tools() -> ToolCtx {
        ToolCtx {
            region: Val::known("eu-west-1"),
            profile: Some(crate::names::Profile::parse("--profile", "prod").unwrap()),
        }
    }

    #[test]
    fn waiter_giving_up_is_told_from_other_failures() {
        let failed = |stderr: &str| {
            Error::Command(Box::new(crate::error::CommandError {
                purpose: "wait".into(),
                command: "aws eks wait cluster-active".into(),
                status: Some(255),
                stderr: stderr.into(),
                detail: None,
            }))
        };
        // botocore `waiter.py`: the message after 40 attempts
        assert!(gave_up(&failed(
            "\nWaiter ClusterActive failed: Max attempts exceeded\n"
        )));
        assert!(!gave_up(&failed(
            "\nWaiter ClusterActive failed: Waiter encountered a terminal failure state: For expression \"cluster.status\" we matched expected path: \"FAILED\"\n"
        )));
        assert!(!gave_up(&Error::Interrupted(crate::error::Signal::Interrupt)));
    }

    #[test]
    fn answers_about_stacks_nodegroups_and_instance_profiles() {
        use crate::exec::Output;
        let missing = Output {
            status: Some(255),
            stdout: String::new(),
            stderr: "\nAn error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id eksctl-t-cluster does not exist\n".into(),
        };
        assert!(aws::is_stack_not_found(&missing));
        let stacks = r#"{"Stacks": [{"StackName": "eksctl-t-cluster", "StackStatus": "ROLLBACK_COMPLETE"}]}"#;
        assert_eq!(aws::parse_stack_status("c", stacks).unwrap(), "ROLLBACK_COMPLETE");
        assert_eq!(
            aws::parse_nodegroups("c", r#"{"nodegroups": []}"#).unwrap(),
            Vec::<String>::new()
        );
        let ng = aws::parse_nodegroup(
            "c",
            r#"{"nodegroup": {"status": "ACTIVE", "scalingConfig": {"desiredSize": 2}}}"#,
        )
        .unwrap();
        assert_eq!(
            (ng.status.as_str(), ng.scaling.and_then(|s| s.desired)),
            ("ACTIVE", Some(2))
        );
        let profiles = r#"{"InstanceProfiles": [{"InstanceProfileName": "p1", "Roles": []}]}"#;
        assert_eq!(aws::parse_instance_profiles("c", profiles).unwrap(), ["p1"]);
    }

    #[test]
    fn statuses_as_eks_names_them() {
        assert_eq!(Status::of("ACTIVE"), Status::Active);
        for s in ["CREATING", "UPDATING", "PENDING"] {
            assert_eq!(Status::of(s), Status::Pending);
        }
        assert_eq!(Status::of("DELETING"), Status::Deleting);
        assert_eq!(Status::of("FAILED"), Status::Failed);
    }

    #[test]
    fn advice_names_the_command_with_region_and_profile() {
        let tools = tools();
        let c = ClusterName::parse("--testing-cluster", "testing").unwrap();
        let failed = unusable(&tools, &c, "FAILED").to_string();
        assert!(
            failed.contains("eksctl delete cluster --name testing --wait --region eu-west-1 --profile prod"),
            "{failed}"
        );
        let deleting = unusable(&tools, &c, "DELETING").to_string();
        assert!(
            deleting.contains("wait until it is gone, then run this command again"),
            "{deleting}"
        );
        assert!(
            deleting.contains("aws eks wait cluster-deleted --name testing --region eu-west-1 --profile prod"),
            "{deleting}"
        );
    }
}

//! `gitops-iam`: bootstrap a Harness GitOps agent with IRSA across two EKS clusters.
//!
//! All logic lives in the library so that tests can reach it; this file only hands the exit code
//! that `run` returns to the operating system.

fn main() {
    std::process::exit(gitops_iam::run());
}

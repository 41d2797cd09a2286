//! gitops-iam: from an empty AWS account to a Harness GitOps agent that deploys into a testing
//! EKS cluster through IRSA, by driving eksctl, aws and kubectl.
//!
//! The library holds everything; `main.rs` only calls [`run`]. See `docs/architecture.md`.

pub mod argocd;
pub mod arn;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod doctor;
pub mod error;
pub mod exec;
pub mod harness;
pub mod http;
pub mod names;
pub mod plan;
pub mod policy;
pub mod propagation;
pub mod render;
pub mod report;
pub mod settings;
pub mod steps;
pub mod tools;

mod app;

/// Parses the command line, runs the command and returns the process exit code.
pub fn run() -> i32 {
    app::main()
}

//! gitops-iam: from an empty AWS account to a Harness GitOps agent that deploys into a testing
//! EKS cluster through IRSA, by driving eksctl, aws and kubectl.
//!
//! The library holds everything; `main.rs` only calls [`run`]. See `docs/architecture.md`.

mod argocd;
mod argocd_app;
mod arn;
mod cli;
mod cmd;
mod config;
mod doctor;
mod error;
mod event;
mod exec;
mod generate;
mod gitops_app;
mod harness;
mod harness_agent;
mod http;
mod log;
mod names;
mod output;
mod plan;
mod policy;
mod preflight;
mod propagation;
mod registration;
mod render;
mod report;
mod resource;
mod run;
mod settings;
mod signals;
mod steps;
mod tools;

mod app;

/// Parses the command line, runs the command and returns the process exit code.
pub fn run() -> i32 {
    app::main()
}

//! gitops-iam's integration tests: one test binary (as casey/just has it), so cargo links once
//! and every module shares one harness.
//!
//! - `harness`: the `Test` builder and `Output` assertions; runs the real binary in a temp dir.
//! - `fakes`: the fake `aws`/`eksctl`/`kubectl` and the accounts they pretend to be.
//! - `harness_api`: the sandbox's Harness GitOps API stand-in as a process of one test.
//! - `cli`, `converge`, `failures`, `bad_input`, `dry_run`, `docs`: one contract each (see each module).
//! - `install`: `scripts/install.sh` against a local release directory served on 127.0.0.1.
//!
//! Sandbox end-to-end modules (`e2e/`) are meant to join this binary as further `mod`s.

// The test modules share their helpers with each other: that visibility is no API.
#![allow(unreachable_pub)]

mod fakes;
mod harness;
mod harness_api;

mod access_entry;
mod bad_input;
mod cli;
mod converge;
mod docs;
mod dry_run;
mod e2e;
mod failures;
mod install;
mod interrupt;
mod plan;
mod races;
mod register;

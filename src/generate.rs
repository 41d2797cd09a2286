//! `completions` and `man`: what clap can say about the command line, as shell completion
//! scripts and man pages.

use crate::cli::Cli;
use crate::error::{Error, Result};
use clap::CommandFactory;
use std::path::Path;

/// The completion script for `shell`.
pub(crate) fn completions(shell: clap_complete::Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "gitops-iam", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The top-level man page.
pub(crate) fn man() -> Result<String> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| Error::Other(e.into()))?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// A man page per command in `dir`.
pub(crate) fn man_pages(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Other(anyhow::anyhow!("creating {}: {e}", dir.display())))?;
    clap_mangen::generate_to(Cli::command(), dir)
        .map_err(|e| Error::Other(anyhow::anyhow!("writing man pages to {}: {e}", dir.display())))
}

//! `slipway plan`: the pull-request comment Slipway would post for a change, printed.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `slipway plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The infrastructure repository (a git work tree).
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// The revision the change starts from (the pull request's base branch).
    #[arg(long)]
    pub base: String,
    /// The revision with the change (default: HEAD).
    #[arg(long, default_value = "HEAD")]
    pub head: String,
}

pub fn run(_args: PlanArgs) -> anyhow::Result<ExitCode> {
    Ok(super::not_yet("plan"))
}

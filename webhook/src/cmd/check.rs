//! `slipway check`: rules and cost on one plan JSON.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `slipway check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Plan JSON written by `terraform show -json PLANFILE`.
    #[arg(long)]
    pub plan: PathBuf,
    /// Environment the plan belongs to (for example dev, staging, prod).
    #[arg(long)]
    pub env: String,
}

pub fn run(_args: CheckArgs) -> ExitCode {
    super::not_yet("check")
}

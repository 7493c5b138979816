//! `slipway prices`: maintain the price book used for cost estimates.

use std::process::ExitCode;

/// Arguments of `slipway prices`.
#[derive(Debug, clap::Args)]
pub struct PricesArgs {}

pub fn run(_args: PricesArgs) -> ExitCode {
    super::not_yet("prices")
}

//! One module per `slipway` subcommand.

pub mod affected;
pub mod check;
pub mod graph;
pub mod plan;
pub mod prices;

use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code of a subcommand that exists in the CLI but is not built yet.
pub const EXIT_NOT_AVAILABLE: u8 = 2;

/// Says plainly that a subcommand is not available in this build, and exits 2.
pub fn not_yet(name: &str) -> ExitCode {
    eprintln!("slipway {name}: not available yet in this version of Slipway");
    ExitCode::from(EXIT_NOT_AVAILABLE)
}

/// Arguments of `slipway serve` and `slipway worker`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Service configuration file.
    #[arg(long, env = "SLIPWAY_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Prints an error chain and turns it into exit code 2 (1 is kept for "blocking findings").
pub fn report(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("slipway: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Logs to stderr; quiet unless `RUST_LOG` asks for more.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The change a command looks at: a repository and two revisions (`affected`, `plan`).
#[derive(Debug, Clone, clap::Args)]
pub struct ChangeArgs {
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

/// Output format of listing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

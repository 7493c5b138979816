//! `slipway affected`: the units a change affects, with the reason for each.

use std::path::PathBuf;
use std::process::ExitCode;

use agent::affected::Status;
use agent::repo::Repo;

use super::ListFormat;

/// Arguments of `slipway affected`.
#[derive(Debug, clap::Args)]
pub struct AffectedArgs {
    /// The infrastructure repository (a git work tree).
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// The revision the change starts from (the pull request's base branch).
    #[arg(long)]
    pub base: String,
    /// The revision with the change (default: HEAD).
    #[arg(long, default_value = "HEAD")]
    pub head: String,
    /// Also list the units downstream of affected ones.
    #[arg(long)]
    pub include_dependents: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

pub fn run(args: AffectedArgs) -> anyhow::Result<ExitCode> {
    let repo = Repo::open(&args.repo)?;
    let change = repo.affected(&args.base, &args.head, args.include_dependents)?;
    match args.format {
        ListFormat::Json => {
            let out = serde_json::json!({
                "base": change.base.to_string(),
                "head": change.head.to_string(),
                "units": change.units,
                "errors": change.errors.iter().map(|e| serde_json::json!({
                    "file": e.file, "line": e.line, "construct": e.construct, "message": e.message,
                })).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        ListFormat::Text => {
            if change.units.is_empty() {
                println!("no unit is affected");
            }
            for u in &change.units {
                let status = match u.status {
                    Status::Changed => "",
                    Status::Removed => " (removed: destroy)",
                    Status::Dependent => " (dependent)",
                };
                println!(
                    "{} [{}]{status}",
                    u.path,
                    u.env.as_deref().unwrap_or("no env")
                );
                for r in &u.reasons {
                    println!("  - {r}");
                }
            }
            for e in &change.errors {
                eprintln!("error: {e}");
            }
        }
    }
    Ok(if change.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

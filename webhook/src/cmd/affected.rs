//! `slipway affected`: the units a change affects, with the reason for each.

use std::process::ExitCode;

use agent::affected::Status;
use agent::repo::Repo;

use super::ListFormat;

/// Arguments of `slipway affected`.
#[derive(Debug, clap::Args)]
pub struct AffectedArgs {
    #[command(flatten)]
    pub change: super::ChangeArgs,
    /// Also list the units downstream of affected ones.
    #[arg(long)]
    pub include_dependents: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

pub fn run(args: AffectedArgs) -> anyhow::Result<ExitCode> {
    let repo = Repo::open(&args.change.repo)?;
    let change = repo.affected(
        &args.change.base,
        &args.change.head,
        args.include_dependents,
    )?;
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
            for e in agent::terragrunt::summarize(&change.errors) {
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

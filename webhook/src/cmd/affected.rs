//! `slipway affected`: the units a change affects, with the reason for each.

use std::fmt::Write as _;
use std::process::ExitCode;

use agent::affected::Status;
use agent::repo::Repo;

use super::{printable, ListFormat};

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
                "settings": {
                    "commit": change.settings.commit.to_string(),
                    "present": change.settings.present,
                },
                "units": change.units,
                "errors": change.errors.iter().map(|e| serde_json::json!({
                    "path": e.unit.clone().unwrap_or_else(|| agent::snapshot::parent(&e.file).to_string()),
                    "file": e.file, "line": e.line, "construct": e.construct, "message": e.message,
                })).collect::<Vec<_>>(),
            });
            super::emitln(&serde_json::to_string_pretty(&out)?);
        }
        ListFormat::Text => {
            let mut text = String::new();
            if change.units.is_empty() {
                text.push_str("no unit is affected\n");
            }
            for u in &change.units {
                let status = match u.status {
                    Status::Changed => "",
                    Status::Removed => " (removed: destroy)",
                    Status::Dependent => " (dependent)",
                    Status::Failed => " (failed: could not be evaluated)",
                };
                let _ = writeln!(
                    text,
                    "{} [{}]{status}",
                    printable(&u.path),
                    printable(u.env.as_deref().unwrap_or("no env"))
                );
                for r in &u.reasons {
                    let _ = writeln!(text, "  - {}", printable(&r.to_string()));
                }
            }
            super::emit(&text);
        }
    }
    super::note_settings(&args.change.base, &change.settings);
    // Units that cannot be evaluated are listed above as failed; the others are right, so the
    // command succeeds, with a warning for each distinct error.
    for e in agent::terragrunt::summarize(&change.errors) {
        eprintln!("warning: {}", printable(&e));
    }
    super::warn_skipped(&change.head_view.snapshot);
    Ok(ExitCode::SUCCESS)
}

//! `slipway plan`: the pull-request comment Slipway would post for a change, printed.

use std::path::PathBuf;
use std::process::ExitCode;

use agent::affected::Status;
use agent::engine::{self, EngineSettings};
use agent::repo::Repo;
use anyhow::Context;

use crate::comment::{self, Outcome, Review, UnitReview};

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
    /// Where working directories go (default: a temporary directory, removed afterwards).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
}

pub fn run(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let settings_env = Vec::new();
    let (review, failed) = review(&args, settings_env)?;
    print!("{}", comment::render(&review));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Plans every unit the change affects and builds the review; `true` when something failed.
/// `env` is added to every terraform process's environment.
pub fn review(args: &PlanArgs, env: Vec<(String, String)>) -> anyhow::Result<(Review, bool)> {
    let repo = Repo::open(&args.repo)?;
    let change = repo.affected(&args.base, &args.head, false)?;
    let tmp;
    let work_root = match &args.work_dir {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::Builder::new()
                .prefix("slipway-plan-")
                .tempdir()
                .context("cannot create a working directory")?;
            tmp.path().to_path_buf()
        }
    };
    let mut settings = EngineSettings::from_env(&work_root);
    settings.env = env;
    let view = &change.head_view;
    let mut units = Vec::new();
    let mut failed = false;
    // Dependencies first, as they would be applied.
    let mut affected = change.units.clone();
    affected.sort_by_key(|a| {
        view.graph
            .order
            .iter()
            .position(|p| *p == a.path)
            .unwrap_or(usize::MAX)
    });
    for a in &affected {
        let reasons = a.reasons.iter().map(ToString::to_string).collect();
        let outcome = match a.status {
            Status::Removed => Outcome::Removed,
            _ => match view.inventory.units.get(&a.path) {
                Some(unit) if unit.skip => Outcome::Skipped("skip = true".into()),
                Some(unit) => {
                    tracing::info!(unit = %unit.path, "planning");
                    match engine::plan_unit(&view.snapshot, unit, &settings) {
                        Ok(run) => match rules::plan::Plan::parse(&run.plan_json) {
                            Ok(plan) => Outcome::Planned(Box::new(plan)),
                            Err(e) => {
                                failed = true;
                                Outcome::Failed(format!("cannot read the plan: {e}"))
                            }
                        },
                        Err(e) => {
                            failed = true;
                            Outcome::Failed(e.to_string())
                        }
                    }
                }
                None => Outcome::Failed("the unit could not be evaluated".into()),
            },
        };
        units.push(UnitReview {
            path: a.path.clone(),
            env: a.env.clone(),
            reasons,
            outcome,
        });
    }
    let review = Review {
        head: change.head.to_string(),
        base: change.merge_base.to_string(),
        units,
        errors: change.errors.iter().map(ToString::to_string).collect(),
    };
    let failed = failed || !change.errors.is_empty();
    Ok((review, failed))
}

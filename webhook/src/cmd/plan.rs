//! `slipway plan`: the pull-request comment Slipway would post for a change, printed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use agent::affected::{Reason, Status};
use agent::artifacts::DirStore;
use agent::engine::{self, EngineSettings, RunEvent, Runner, Workspace};
use agent::repo::Repo;
use anyhow::Context;

use crate::comment::{self, Outcome, Review, UnitReview};

/// Arguments of `slipway plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub change: super::ChangeArgs,
    /// Where working directories go (default: a temporary directory, removed afterwards).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
}

pub fn run(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let settings_env = Vec::new();
    let (review, failed) = review(&args, settings_env)?;
    super::emit(&comment::render(&review));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Plans every unit the change affects and builds the review; `true` when something failed.
/// `env` is added to every terraform process's environment. Units are planned in parallel by
/// the run engine (settings from the environment, see `EngineSettings::from_env`); plans are
/// stored in an artifact directory under the working directory.
pub fn review(args: &PlanArgs, env: Vec<(String, String)>) -> anyhow::Result<(Review, bool)> {
    let repo = Repo::open(&args.change.repo)?;
    let change = repo.affected(&args.change.base, &args.change.head, false)?;
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
    std::fs::create_dir_all(&work_root)
        .with_context(|| format!("cannot create {}", work_root.display()))?;
    let mut settings = EngineSettings::from_env(&work_root).map_err(anyhow::Error::msg)?;
    settings.env = env;
    let store = Arc::new(DirStore::new(work_root.join("artifacts")));
    let view = &change.head_view;
    // A local review has no GitHub name: the directory's name stands for it.
    let repo_name = format!(
        "local/{}",
        args.change
            .repo
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "repo".into())
    );
    let ws = Arc::new(Workspace::from_view(&repo_name, None, view));

    // Dependencies first, as they would be applied.
    let mut affected = change.units.clone();
    affected.sort_by_key(|a| {
        view.graph
            .order
            .iter()
            .position(|p| *p == a.path)
            .unwrap_or(usize::MAX)
    });
    let to_plan: Vec<String> = affected
        .iter()
        .filter(|a| a.status != Status::Removed)
        .filter_map(|a| view.inventory.units.get(&a.path))
        .filter(|u| !u.skip)
        .map(|u| u.path.clone())
        .collect();
    let results = engine::block_on(async {
        let (tx, mut rx) = engine::event_channel();
        let runner = Runner::new(settings, store, Some(tx)).await;
        let progress = engine::spawn(async move {
            while let Some(event) = rx.recv().await {
                if let RunEvent::Line { unit, step, line } = event {
                    tracing::info!(%unit, %step, "{line}");
                }
            }
        });
        let results = runner.plan_all(ws, &to_plan).await;
        drop(runner);
        let _ = progress.await;
        results
    })?;
    let mut results: std::collections::HashMap<String, _> = results.into_iter().collect();

    let mut units = Vec::new();
    let mut failed = false;
    for a in &affected {
        let reasons = a.reasons.iter().map(ToString::to_string).collect();
        let mut report = None;
        let mut sources = Vec::new();
        let outcome = match a.status {
            Status::Removed => Outcome::Removed,
            _ => match view.inventory.units.get(&a.path) {
                Some(unit) if unit.skip => Outcome::Skipped("skip = true".into()),
                Some(unit) => match results.remove(&unit.path) {
                    Some(Ok(run)) => match rules::plan::Plan::parse(&run.plan_json) {
                        Ok(plan) => {
                            sources = run.sources;
                            let ctx = rules::Context {
                                env: unit.env.as_deref().unwrap_or("unknown"),
                                region: unit.region.as_deref(),
                                policy: &view.config.policy,
                            };
                            let r = rules::evaluate(&plan, &ctx);
                            if r.is_blocking() {
                                failed = true;
                            }
                            report = Some(r);
                            Outcome::Planned(Box::new(plan))
                        }
                        Err(e) => {
                            failed = true;
                            Outcome::Failed(format!("cannot read the plan: {e}"))
                        }
                    },
                    Some(Err(e)) => {
                        failed = true;
                        Outcome::Failed(e.to_string())
                    }
                    None => {
                        failed = true;
                        Outcome::Failed("the unit was not planned".into())
                    }
                },
                None => {
                    failed = true;
                    Outcome::Failed(
                        a.reasons
                            .iter()
                            .find(|r| matches!(r, Reason::Unevaluated { .. }))
                            .map_or_else(
                                || "the unit could not be evaluated".into(),
                                |r| r.to_string(),
                            ),
                    )
                }
            },
        };
        units.push(UnitReview {
            path: a.path.clone(),
            env: a.env.clone(),
            reasons,
            outcome,
            report,
            sources,
        });
    }
    let review = Review {
        head: change.head.to_string(),
        base: change.merge_base.to_string(),
        units,
        errors: agent::terragrunt::summarize(&change.errors),
    };
    let failed = failed || !change.errors.is_empty();
    Ok((review, failed))
}

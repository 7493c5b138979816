//! A change's review, shared by `slipway plan` and the service's workers: the affected units
//! in the order a reviewer reads them (environments in promotion order, dependencies first),
//! their plans, and the [`Review`] the comment renders.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use agent::affected::{Affected, Reason, Status};
use agent::artifacts::ArtifactStore;
use agent::engine::{self, EngineSettings, PlanOutcome, RunError, RunEvent, Runner, Workspace};
use agent::repo::{ChangeSet, Repo};

use crate::comment::{Outcome, Review, UnitReview};

/// A change, its affected units in reading order, and which of them are planned.
pub struct Prepared {
    pub change: ChangeSet,
    /// The affected units: environments in promotion order, then dependencies first.
    pub affected: Vec<Affected>,
    /// The units to plan (not removed, not skipped, not held back), in the same order.
    pub to_plan: Vec<String>,
    /// Affected units held back from this plan, with the reason the comment gives (a fork's
    /// pull request, a `/plan` naming other units).
    pub held_back: BTreeMap<String, String>,
    /// Units another pull request holds locked, with its number.
    pub locked_by: BTreeMap<String, u64>,
    /// Why the pull request is planned again, when it is.
    pub why: Option<String>,
}

impl Prepared {
    /// Leaves `unit` out of the plan, saying why.
    pub fn hold_back(&mut self, unit: &str, reason: String) {
        if let Some(i) = self.to_plan.iter().position(|u| u == unit) {
            self.to_plan.remove(i);
            self.held_back.insert(unit.to_string(), reason);
        }
    }
}

/// Finds what a change affects between `base` and `head`.
pub fn prepare(repo: &Repo, base: &str, head: &str) -> anyhow::Result<Prepared> {
    let change = repo.affected(base, head, false)?;
    let view = change.head_view.clone();
    let promotion = &view.config.promotion;
    let mut affected = change.units.clone();
    affected.sort_by_key(|a| {
        (
            a.env
                .as_ref()
                .and_then(|e| promotion.iter().position(|p| p == e))
                .unwrap_or(usize::MAX),
            view.graph
                .order
                .iter()
                .position(|p| *p == a.path)
                .unwrap_or(usize::MAX),
        )
    });
    let to_plan = affected
        .iter()
        .filter(|a| a.status != Status::Removed)
        .filter_map(|a| view.inventory.units.get(&a.path))
        .filter(|u| !u.skip)
        .map(|u| u.path.clone())
        .collect();
    Ok(Prepared {
        change,
        affected,
        to_plan,
        held_back: BTreeMap::new(),
        locked_by: BTreeMap::new(),
        why: None,
    })
}

/// The result of planning one unit.
pub type UnitResult = Result<PlanOutcome, RunError>;

/// Plans the prepared units with the run engine (in parallel, as its settings allow);
/// `events` receives the engine's progress.
pub async fn plan(
    prepared: &Prepared,
    repo_name: &str,
    pr: Option<u64>,
    settings: EngineSettings,
    store: Arc<dyn ArtifactStore>,
    events: Option<tokio::sync::mpsc::UnboundedSender<RunEvent>>,
) -> HashMap<String, UnitResult> {
    let ws = Arc::new(Workspace::from_view(
        repo_name,
        pr,
        &prepared.change.head_view,
    ));
    let runner = Runner::new(settings, store, events).await;
    let results = runner.plan_all(ws, &prepared.to_plan).await;
    results.into_iter().collect()
}

/// The review while units are still planning: every unit to plan shows `planning`, or the
/// state `done` says it reached.
pub fn pending(prepared: &Prepared, done: &HashMap<String, bool>) -> Review {
    let units = prepared
        .affected
        .iter()
        .map(|a| {
            let outcome = if prepared.to_plan.contains(&a.path) {
                match done.get(&a.path) {
                    None => Outcome::Planning,
                    Some(true) => Outcome::Progress("planned; the review follows".into()),
                    Some(false) => Outcome::Progress("failed; the error follows".into()),
                }
            } else {
                outcome_without_plan(prepared, a)
            };
            unit_review(prepared, a, outcome)
        })
        .collect();
    Review {
        head: prepared.change.head.to_string(),
        base: prepared.change.merge_base.to_string(),
        units,
        errors: agent::terragrunt::summarize(&prepared.change.errors),
        settings: Some(prepared.change.settings.clone()),
        locked_by: prepared.locked_by.clone(),
        why: prepared.why.clone(),
    }
}

fn unit_review(prepared: &Prepared, a: &Affected, outcome: Outcome) -> UnitReview {
    let dependencies = prepared
        .change
        .head_view
        .inventory
        .units
        .get(&a.path)
        .map(|u| u.dependencies.iter().map(|d| d.to_string()).collect())
        .unwrap_or_default();
    UnitReview {
        dependencies,
        path: a.path.clone(),
        env: a.env.clone(),
        reasons: a.reasons.iter().map(ToString::to_string).collect(),
        outcome,
        report: None,
        sources: Vec::new(),
    }
}

/// A unit that is not planned: removed, skipped, or not evaluated.
fn outcome_without_plan(prepared: &Prepared, a: &Affected) -> Outcome {
    let view = &prepared.change.head_view;
    if let Some(why) = prepared.held_back.get(&a.path) {
        return Outcome::Skipped(why.clone());
    }
    match a.status {
        Status::Removed => Outcome::Removed,
        _ => match view.inventory.units.get(&a.path) {
            Some(unit) if unit.skip => Outcome::Skipped("skip = true".into()),
            Some(_) => Outcome::Failed("the unit was not planned".into()),
            None => Outcome::Failed(
                a.reasons
                    .iter()
                    .find(|r| matches!(r, Reason::Unevaluated { .. }))
                    .map_or_else(
                        || "the unit could not be evaluated".into(),
                        |r| r.to_string(),
                    ),
            ),
        },
    }
}

/// The finished review; `true` when something failed or blocks.
pub fn assemble(prepared: &Prepared, mut results: HashMap<String, UnitResult>) -> (Review, bool) {
    let view = &prepared.change.head_view;
    let mut units = Vec::new();
    let mut failed = false;
    for a in &prepared.affected {
        let mut review = unit_review(prepared, a, Outcome::Removed);
        review.outcome = match results.remove(&a.path) {
            None => outcome_without_plan(prepared, a),
            Some(Err(e)) => Outcome::Failed(e.to_string()),
            Some(Ok(run)) => match rules::plan::Plan::parse(&run.plan_json) {
                Ok(plan) => {
                    review.sources = run.sources;
                    if let Some(unit) = view.inventory.units.get(&a.path) {
                        let ctx = rules::Context {
                            env: unit.env.as_deref().unwrap_or("unknown"),
                            region: unit.region.as_deref(),
                            policy: &view.config.policy,
                        };
                        let r = rules::evaluate(&plan, &ctx);
                        failed |= r.is_blocking();
                        review.report = Some(r);
                    }
                    Outcome::Planned(Box::new(plan))
                }
                Err(e) => Outcome::Failed(format!("cannot read the plan: {e}")),
            },
        };
        failed |= matches!(review.outcome, Outcome::Failed(_));
        units.push(review);
    }
    let review = Review {
        head: prepared.change.head.to_string(),
        base: prepared.change.merge_base.to_string(),
        units,
        errors: agent::terragrunt::summarize(&prepared.change.errors),
        settings: Some(prepared.change.settings.clone()),
        locked_by: prepared.locked_by.clone(),
        why: prepared.why.clone(),
    };
    // A change whose own slipway.toml cannot be used would stop Slipway once merged.
    let bad_settings = matches!(
        prepared.change.settings.head,
        Some(agent::repo::HeadSettings::Invalid(_))
    );
    (
        review,
        failed || bad_settings || !prepared.change.errors.is_empty(),
    )
}

/// Plans a change start to end (the command line's way: its own runtime).
pub fn review_blocking(
    prepared: &Prepared,
    repo_name: &str,
    settings: EngineSettings,
    store: Arc<dyn ArtifactStore>,
) -> anyhow::Result<(Review, bool)> {
    let results = engine::block_on(async {
        let (tx, mut rx) = engine::event_channel();
        let progress = engine::spawn(async move {
            while let Some(event) = rx.recv().await {
                if let RunEvent::Line { unit, step, line } = event {
                    tracing::info!(%unit, %step, "{line}");
                }
            }
        });
        let results = plan(prepared, repo_name, None, settings, store, Some(tx)).await;
        let _ = progress.await;
        results
    })?;
    Ok(assemble(prepared, results))
}

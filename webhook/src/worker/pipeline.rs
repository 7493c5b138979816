//! Merge-to-apply, as a worker drives it: a merged pull request gets its pipeline (stages in
//! promotion order under the settings the base had before the merge), and a stage job runs it
//! as far as it may go: each applying stage's units in dependency order, independent ones in
//! parallel, then the next stage, until a gate is closed, a stage fails, or all applied. The
//! pipeline is saved after every step, so a job taken over after a crash resumes where it was;
//! a unit that was applying then is interrupted and waits for a person.

use std::collections::BTreeSet;
use std::sync::Arc;

use agent::artifacts::DirStore;
use agent::engine::{Runner, Workspace};
use agent::pipeline::{
    Action, Event, Gate, Pipeline, Refused, StageSpec, StageState, UnitState, NO_ENVIRONMENT,
};
use agent::store::{CommitSha, Job, PrNumber, RunRecord};
use tokio::sync::watch;

use super::{store_failure, Ended, Failure, Publisher, Worker};
use crate::github::client::{CheckStatus, Conclusion, RepoClient};
use crate::github::events::Repository;
use crate::jobs::{apply_check, StageRequest};

/// How many times a step is tried again when another writer saved the pipeline first.
const SAVE_TRIES: usize = 20;

impl Worker {
    /// A merged pull request: its pipeline is made and its first stage job queued. Nothing is
    /// made when the merge changes no unit, or the pull request has a pipeline already.
    pub(super) async fn start_pipeline(
        &self,
        gh: &RepoClient,
        repo: &Repository,
        pr: PrNumber,
        commit: &CommitSha,
    ) -> Result<String, Failure> {
        let current = gh.pull_request(pr).await?;
        let base_ref = current.base_ref.clone();
        // What the merge changed, under the settings the base had before it.
        let prepared = match self
            .prepare_range(gh, repo, pr, &format!("{commit}^"), commit, &base_ref)
            .await?
        {
            Ok(p) => p,
            Err(e) => return Ok(format!("no pipeline: the merge cannot be evaluated: {e:#}")),
        };
        let view = &prepared.change.head_view;
        let config = &view.config;
        let mut order: Vec<String> = config.promotion.clone();
        for env in config.environments.keys() {
            if !order.contains(env) {
                order.push(env.clone());
            }
        }
        let mut stages: Vec<StageSpec> = Vec::new();
        let mut seen = BTreeSet::new();
        for env in &order {
            let units: Vec<_> = prepared
                .affected
                .iter()
                .filter(|a| a.env.as_deref() == Some(env))
                .collect();
            if units.is_empty() {
                continue;
            }
            let names: BTreeSet<&str> = units.iter().map(|a| a.path.as_str()).collect();
            let specs = units
                .iter()
                .map(|a| {
                    seen.insert(a.path.clone());
                    let deps = view
                        .inventory
                        .units
                        .get(&a.path)
                        .map(|u| {
                            u.dependencies
                                .iter()
                                .filter(|d| names.contains(d.as_str()) && **d != a.path)
                                .cloned()
                                .collect()
                        })
                        .unwrap_or_default();
                    (a.path.clone(), deps)
                })
                .collect();
            let gate = config
                .environments
                .get(env)
                .map_or(Gate::Auto, |e| e.apply.into());
            stages.push((env.clone(), gate, specs));
        }
        let outside: Vec<(String, Vec<String>)> = prepared
            .affected
            .iter()
            .filter(|a| !seen.contains(&a.path))
            .map(|a| (a.path.clone(), Vec::new()))
            .collect();
        if stages.is_empty() && outside.is_empty() {
            return Ok("merged: no unit to apply".into());
        }
        // Units of no environment have no apply role: listed, never applied.
        if !outside.is_empty() {
            stages.push((NO_ENVIRONMENT.into(), Gate::Command, outside));
        }
        let mut pipeline =
            Pipeline::new(commit.as_str(), &prepared.change.base.to_string(), stages);
        if let Some(stage) = pipeline.stages.iter_mut().find(|s| s.env == NO_ENVIRONMENT) {
            for u in &mut stage.units {
                u.state = UnitState::NotApplied(
                    "the unit is in no environment, so it has no apply role".into(),
                );
            }
            stage.state = StageState::Blocked;
        }
        // Removed units are not destroyed by this version: shown, never silently dropped.
        for stage in &mut pipeline.stages {
            for u in &mut stage.units {
                let removed = prepared
                    .affected
                    .iter()
                    .any(|a| a.path == u.unit && a.status == agent::affected::Status::Removed);
                if removed {
                    u.state = UnitState::NotApplied(
                        "the merge removes the unit; destroying it is not run by this version"
                            .into(),
                    );
                }
            }
        }
        let doc = serde_json::to_value(&pipeline).map_err(|e| {
            Failure::Store(agent::store::StoreError::Invalid(format!(
                "the pipeline: {e}"
            )))
        })?;
        let made = self
            .store
            .create_pipeline(&repo.name, pr, commit, &doc)
            .await
            .map_err(store_failure)?;
        if !made {
            return Ok("merged: the pipeline exists already".into());
        }
        let req = StageRequest {
            repo: repo.clone(),
            pr,
            commit: commit.clone(),
            base_ref,
        };
        self.store
            .enqueue(&[crate::jobs::stage_job(&req)])
            .await
            .map_err(store_failure)?;
        Ok(format!(
            "merged: a pipeline of {} stage(s)",
            pipeline.stages.len()
        ))
    }

    /// Applies `event`-like `change` to the stored pipeline: read, changed, saved from the
    /// version read (again, from a fresh read, when another writer saved first).
    pub(super) async fn update_pipeline(
        &self,
        repo: &Repository,
        pr: PrNumber,
        change: impl Fn(&mut Pipeline) -> Result<Vec<Action>, Refused>,
    ) -> Result<Option<Result<(Pipeline, Vec<Action>), Refused>>, Failure> {
        for _ in 0..SAVE_TRIES {
            let Some((version, doc)) = self
                .store
                .pipeline(&repo.name, pr)
                .await
                .map_err(store_failure)?
            else {
                return Ok(None);
            };
            let mut p: Pipeline = serde_json::from_value(doc).map_err(|e| {
                Failure::Store(agent::store::StoreError::Corrupt(format!(
                    "the pipeline of {pr}: {e}"
                )))
            })?;
            let actions = match change(&mut p) {
                Ok(a) => a,
                Err(refused) => return Ok(Some(Err(refused))),
            };
            let doc = serde_json::to_value(&p).map_err(|e| {
                Failure::Store(agent::store::StoreError::Invalid(format!(
                    "the pipeline: {e}"
                )))
            })?;
            if self
                .store
                .save_pipeline(&repo.name, pr, version, &doc)
                .await
                .map_err(store_failure)?
            {
                return Ok(Some(Ok((p, actions))));
            }
        }
        Err(Failure::Store(agent::store::StoreError::Invalid(format!(
            "the pipeline of {pr} kept changing under this worker"
        ))))
    }

    /// A stage job: runs the pipeline as far as it may go now.
    pub(super) async fn run_pipeline(
        &self,
        holder: &str,
        job: &Job,
        req: StageRequest,
        stop: watch::Receiver<bool>,
    ) -> Ended {
        let gh = match self.github.repo(&req.repo.name, req.repo.installation) {
            Ok(gh) => gh,
            Err(e) => return Ended::Failed(e.to_string()),
        };
        let mut publisher = self.publisher(&gh, req.pr, &req.commit, stop, job, holder);
        match self.run_pipeline_inner(job, &req, &mut publisher).await {
            Ok(e) => e,
            Err(Failure::Stopped) => Ended::Stopped,
            Err(e) => Ended::Failed(e.to_string()),
        }
    }

    async fn run_pipeline_inner(
        &self,
        job: &Job,
        req: &StageRequest,
        publisher: &mut Publisher,
    ) -> Result<Ended, Failure> {
        // A new pipeline takes its first turn.
        let started = self
            .update_pipeline(&req.repo, req.pr, |p| {
                if p.stages
                    .iter()
                    .all(|s| matches!(s.state, StageState::Pending | StageState::Blocked))
                {
                    p.step(Event::Started)
                } else {
                    Ok(Vec::new())
                }
            })
            .await?;
        let Some(Ok((mut pipeline, _))) = started else {
            return Ok(Ended::Done("no pipeline".into()));
        };
        let mut runner: Option<(Arc<Workspace>, Runner)> = None;
        while let Some(env) = pipeline
            .stages
            .iter()
            .find(|s| s.state == StageState::Applying)
            .map(|s| s.env.clone())
        {
            // A pull request merged earlier applies the units it shares with this one first.
            let blocker = self.earlier_merge(req, &pipeline, &env).await?;
            let waiting = blocker.clone();
            if let Some(Ok((p, _))) = self
                .update_pipeline(&req.repo, req.pr, |p| {
                    if let Some(s) = p.stages.iter_mut().find(|s| s.env == env) {
                        s.waiting_for = waiting.clone();
                    }
                    Ok(Vec::new())
                })
                .await?
            {
                pipeline = p;
            }
            if let Some(blocker) = blocker {
                self.show(publisher, &pipeline).await?;
                return Ok(Ended::Done(format!("{env} waits for {blocker}")));
            }
            let now = agent::store::now_ms();
            let claimed = self
                .update_pipeline(&req.repo, req.pr, |p| {
                    p.step(Event::StageClaimed {
                        env: env.clone(),
                        at_ms: now,
                    })
                })
                .await?;
            let Some(Ok((p, _))) = claimed else {
                break;
            };
            pipeline = p;
            self.show(publisher, &pipeline).await?;
            if runner.is_none() {
                runner = Some(
                    self.apply_runner(&publisher.gh, job, req, &pipeline.settings_commit)
                        .await?,
                );
            }
            let Some((ws, engine)) = runner.as_ref() else {
                break;
            };
            // Round by round: what is ready applies in parallel, its dependents after it.
            loop {
                let ready = pipeline.ready(&env);
                if ready.is_empty() {
                    break;
                }
                for unit in &ready {
                    let u = unit.clone();
                    if let Some(Ok((p, _))) = self
                        .update_pipeline(&req.repo, req.pr, |p| {
                            p.step(Event::UnitApplying { unit: u.clone() })
                        })
                        .await?
                    {
                        pipeline = p;
                    }
                }
                self.show(publisher, &pipeline).await?;
                let runs = ready.iter().map(|unit| {
                    let (engine, ws, unit) = (engine.clone(), ws.clone(), unit.clone());
                    async move {
                        let r = engine.apply(ws, &unit, None).await;
                        (unit, r)
                    }
                });
                let results = futures_join_all(runs).await;
                for (unit, result) in results {
                    let event = match &result {
                        Ok(outcome) => Event::UnitApplied {
                            unit: unit.clone(),
                            plan_sha256: match &outcome.source {
                                agent::engine::PlanSource::Stored { sha256 }
                                | agent::engine::PlanSource::Replanned { sha256, .. } => {
                                    sha256.clone()
                                }
                            },
                        },
                        Err(e) => Event::UnitFailed {
                            unit: unit.clone(),
                            error: e.to_string(),
                        },
                    };
                    self.record_apply(job, &env, &unit, &event).await;
                    if let Some(Ok((p, _))) = self
                        .update_pipeline(&req.repo, req.pr, |p| p.step(event.clone()))
                        .await?
                    {
                        pipeline = p;
                    }
                }
                self.show(publisher, &pipeline).await?;
            }
            let at = agent::store::now_ms();
            let settled = self
                .update_pipeline(&req.repo, req.pr, |p| Ok(p.settle(&env, at)))
                .await?;
            if let Some(Ok((p, _))) = settled {
                pipeline = p;
            }
            self.show(publisher, &pipeline).await?;
        }
        // Where it stopped: a closed gate, a failure, or the end.
        self.show(publisher, &pipeline).await?;
        self.wake_later_merges(req).await?;
        let summary: Vec<String> = pipeline
            .stages
            .iter()
            .map(|s| format!("{} {}", s.env, s.state.name()))
            .collect();
        Ok(Ended::Done(summary.join(", ")))
    }

    /// The earlier merged pull request whose pipeline still has to apply a unit of `env`'s
    /// stage, when there is one. One that is stuck on those units (its stage failed or is
    /// blocked) is superseded instead: this later merge applies them.
    async fn earlier_merge(
        &self,
        req: &StageRequest,
        pipeline: &Pipeline,
        env: &str,
    ) -> Result<Option<String>, Failure> {
        let ours: Vec<String> = pipeline
            .stages
            .iter()
            .filter(|s| s.env == env)
            .flat_map(|s| s.units.iter().map(|u| u.unit.clone()))
            .collect();
        let others = self
            .store
            .pipelines(&req.repo.name)
            .await
            .map_err(store_failure)?;
        for (pr, doc) in others {
            if pr == req.pr {
                continue;
            }
            let Ok(theirs) = serde_json::from_value::<Pipeline>(doc) else {
                continue;
            };
            let shared: Vec<String> = theirs
                .unfinished_units()
                .into_iter()
                .filter(|u| ours.iter().any(|o| o == u))
                .map(str::to_string)
                .collect();
            if shared.is_empty() || !self.merged_before(req, &theirs.commit).await {
                continue;
            }
            if shared.iter().all(|u| theirs.stuck_on(u)) {
                let by = req.pr.to_string();
                let repo = req.repo.clone();
                self.update_pipeline(&repo, pr, |p| {
                    for u in &shared {
                        p.supersede(u, &by);
                    }
                    Ok(Vec::new())
                })
                .await?;
                continue;
            }
            return Ok(Some(pr.to_string()));
        }
        Ok(None)
    }

    /// Whether `theirs` (a merge commit) came before this pipeline's merge on the branch: an
    /// ancestor of it. When that cannot be told, it is taken as earlier (waiting is safe).
    async fn merged_before(&self, req: &StageRequest, theirs: &str) -> bool {
        let mirror = self.mirror_dir(&req.repo);
        let (ours, theirs) = (req.commit.to_string(), theirs.to_string());
        let answer = tokio::task::spawn_blocking(move || -> anyhow::Result<bool> {
            let git = git2::Repository::open_bare(&mirror)?;
            let ours = git2::Oid::from_str(&ours)?;
            let theirs = git2::Oid::from_str(&theirs)?;
            Ok(git.graph_descendant_of(ours, theirs)?)
        })
        .await;
        match answer {
            Ok(Ok(before)) => before,
            other => {
                tracing::warn!("cannot tell the order of two merges ({other:?}); waiting");
                true
            }
        }
    }

    /// Queues the stage jobs of the pipelines that waited for this one.
    async fn wake_later_merges(&self, req: &StageRequest) -> Result<(), Failure> {
        let me = req.pr.to_string();
        let others = self
            .store
            .pipelines(&req.repo.name)
            .await
            .map_err(store_failure)?;
        let mut jobs = Vec::new();
        for (pr, doc) in others {
            let Ok(p) = serde_json::from_value::<Pipeline>(doc) else {
                continue;
            };
            let waits = p
                .stages
                .iter()
                .any(|s| s.state == StageState::Applying && s.waiting_for.as_deref() == Some(&me));
            if let (true, Ok(commit)) = (waits, CommitSha::parse(&p.commit)) {
                jobs.push(crate::jobs::stage_job(&StageRequest {
                    repo: req.repo.clone(),
                    pr,
                    commit,
                    base_ref: req.base_ref.clone(),
                }));
            }
        }
        if !jobs.is_empty() {
            self.store.enqueue(&jobs).await.map_err(store_failure)?;
        }
        Ok(())
    }

    /// The engine and workspace a pipeline applies with: the merge commit's units under the
    /// settings of `settings_commit`, which the pipeline recorded.
    async fn apply_runner(
        &self,
        gh: &RepoClient,
        job: &Job,
        req: &StageRequest,
        settings_commit: &str,
    ) -> Result<(Arc<Workspace>, Runner), Failure> {
        let (commit, settings_commit) = (req.commit.clone(), settings_commit.to_string());
        let view = self
            .in_mirror(gh, &req.repo, &req.base_ref, None, move |repo| {
                let commit = repo.resolve(commit.as_str())?;
                let settings = repo.resolve(&settings_commit)?;
                repo.view_under(commit, settings)
            })
            .await?
            .map_err(|e| {
                Failure::Store(agent::store::StoreError::Invalid(format!(
                    "the merge commit cannot be evaluated: {e:#}"
                )))
            })?;
        let ws = Arc::new(Workspace::from_view(
            req.repo.name.as_str(),
            Some(req.pr.0),
            &view,
        ));
        let work_root = self
            .settings
            .data_dir
            .join("work")
            .join(format!("job-{}", job.id));
        let settings = self
            .engine_settings(&work_root)
            .map_err(|e| Failure::Store(agent::store::StoreError::Config(e)))?;
        let artifacts = Arc::new(DirStore::new(self.settings.data_dir.join("artifacts")));
        let runner = Runner::new(settings, artifacts, None).await;
        Ok((ws, runner))
    }

    async fn record_apply(&self, job: &Job, env: &str, unit: &str, event: &Event) {
        let (state, checksum, outcome) = match event {
            Event::UnitApplied { plan_sha256, .. } => ("applied", Some(plan_sha256.clone()), None),
            Event::UnitFailed { error, .. } => {
                ("failed", None, Some(error.chars().take(500).collect()))
            }
            _ => return,
        };
        let run = RunRecord {
            job: job.id,
            unit: unit.to_string(),
            env: Some(env.to_string()),
            action: "apply".into(),
            state: state.into(),
            plan_checksum: checksum,
            started_at_ms: None,
            finished_at_ms: Some(agent::store::now_ms()),
            outcome,
        };
        if let Err(e) = self.store.record_run(&run).await {
            tracing::warn!(unit, "cannot record the apply: {e}");
        }
    }

    /// The pipeline's comment (one, edited as it moves) and one check run per environment on
    /// the merge commit.
    async fn show(&self, publisher: &mut Publisher, p: &Pipeline) -> Result<(), Failure> {
        publisher.check_stop().await?;
        let body = crate::comment::render_pipeline(publisher.pr.0, p);
        let existing = publisher
            .marked()
            .await?
            .into_iter()
            .find(|(_, m)| m.kind.as_deref() == Some("pipeline") && m.head == p.commit)
            .map(|(c, _)| c.id);
        match existing {
            Some(id) => {
                publisher.gh.update_comment(id, &body).await?;
            }
            None => {
                publisher.gh.create_comment(publisher.pr, &body).await?;
            }
        }
        for s in &p.stages {
            if s.env == NO_ENVIRONMENT {
                continue;
            }
            let (status, conclusion, title) = match s.state {
                StageState::Pending => (
                    CheckStatus::Queued,
                    None,
                    "Waiting for the stage before".to_string(),
                ),
                StageState::AwaitingGate => (
                    CheckStatus::Queued,
                    None,
                    format!("Waiting for /apply {}", s.env),
                ),
                StageState::Applying => (CheckStatus::InProgress, None, "Applying".to_string()),
                StageState::Applied => (
                    CheckStatus::Completed,
                    Some(Conclusion::Success),
                    format!("Applied {} unit(s)", s.units.len()),
                ),
                StageState::Failed => {
                    let failed: Vec<&str> = s
                        .units
                        .iter()
                        .filter(|u| {
                            matches!(u.state, UnitState::Failed(_) | UnitState::Interrupted)
                        })
                        .map(|u| u.unit.as_str())
                        .collect();
                    (
                        CheckStatus::Completed,
                        Some(Conclusion::Failure),
                        format!("Failed: {}", failed.join(", ")),
                    )
                }
                StageState::Blocked => (
                    CheckStatus::Completed,
                    Some(Conclusion::Cancelled),
                    "Not applied: an earlier stage failed".to_string(),
                ),
            };
            publisher
                .check(
                    &apply_check(&s.env),
                    status,
                    conclusion,
                    crate::comment::cut(&title, 1_000),
                    String::new(),
                    Vec::new(),
                )
                .await?;
        }
        Ok(())
    }
}

/// Runs futures at once and collects their results in order.
async fn futures_join_all<F, T>(futures: impl IntoIterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        if let Ok(v) = h.await {
            out.push(v);
        }
    }
    out
}

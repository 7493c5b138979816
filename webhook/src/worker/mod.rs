//! Workers: claim a job from the store, renew its lease while it runs, run it through the
//! agent, publish the result on GitHub.
//!
//! A plan job: fetch the repository's mirror, find the affected units, post (or edit) the
//! sticky comment listing them as planning and put `slipway/plan` in progress, plan the units
//! (the comment edited as they finish, at most once every few seconds), then the final review,
//! split into continuation comments when long, and both check runs. A job whose lease is lost
//! or that a newer head cancelled stops at once and publishes nothing more.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use agent::artifacts::DirStore;
use agent::engine::{EngineSettings, RunEvent};
use agent::repo::Repo;
use agent::store::{Job, JobKind, JobState, Lease, PrNumber, RunRecord, Store};
use tokio::sync::watch;

use crate::comment::{self, Review};
use crate::github::client::{
    Annotation, CheckOutput, CheckRunBody, CheckStatus, Conclusion, Github, GithubError,
    IssueComment, RepoClient,
};
use crate::jobs::{
    CloseRequest, CommandRequest, PlanRequest, LOCK_CHECK, PLAN_CHECK, POLICY_CHECK,
};
use crate::review;

mod command;
mod pipeline;
mod push;

/// How workers run.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Where mirrors, working directories and artifacts go.
    pub data_dir: PathBuf,
    /// Jobs run at once by this process.
    pub slots: usize,
    /// How long a claim holds before another worker may take the job; renewed every third.
    pub lease: Duration,
    /// How often an idle worker looks for work.
    pub poll: Duration,
    /// The live comment is edited at most this often while units plan.
    pub edit_every: Duration,
    /// Names this process's claims (`host-pid`).
    pub id: String,
    /// What the service fixes and allows in every repository's `slipway.toml`.
    pub overrides: agent::config::Overrides,
    /// Plan pull requests from forks with every environment's roles (the service's
    /// `--plan-forks`; otherwise each environment's `plan_forks` decides).
    pub plan_forks: bool,
}

impl WorkerSettings {
    pub fn new(data_dir: PathBuf) -> WorkerSettings {
        WorkerSettings {
            data_dir,
            slots: std::thread::available_parallelism().map_or(2, |n| n.get()),
            lease: Duration::from_secs(60),
            poll: Duration::from_millis(250),
            edit_every: Duration::from_secs(3),
            id: format!(
                "{}-{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "slipway".into()),
                std::process::id()
            ),
            overrides: agent::config::Overrides::default(),
            plan_forks: false,
        }
    }
}

/// What a worker works with.
#[derive(Debug, Clone)]
pub struct Worker {
    pub store: Arc<dyn Store>,
    pub github: Github,
    pub settings: WorkerSettings,
    /// GitHub's answers about people (permissions, teams), cached for a minute.
    pub access: crate::rights::Access,
}

/// How a job ended, as the worker saw it.
#[derive(Debug)]
enum Ended {
    Done(String),
    Failed(String),
    /// Cancelled or taken by another worker: nothing more is published.
    Stopped,
}

impl Worker {
    /// Runs `slots` job loops until `shutdown` turns true; jobs running then are finished
    /// first (a restart takes over the others after their lease).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let mut set = tokio::task::JoinSet::new();
        for slot in 0..self.settings.slots.max(1) {
            let me = self.clone();
            let shutdown = shutdown.clone();
            set.spawn(async move { me.slot(slot, shutdown).await });
        }
        while set.join_next().await.is_some() {}
    }

    async fn slot(&self, slot: usize, mut shutdown: watch::Receiver<bool>) {
        let holder = format!("{}-{slot}", self.settings.id);
        loop {
            if *shutdown.borrow() {
                return;
            }
            match self.store.claim(&holder, self.settings.lease).await {
                Ok(Some(job)) => self.work(&holder, job).await,
                Ok(None) => {
                    tokio::select! {
                        _ = tokio::time::sleep(self.settings.poll) => {}
                        _ = shutdown.changed() => {}
                    }
                }
                Err(e) => {
                    tracing::error!("cannot claim a job: {e}");
                    tokio::time::sleep(self.settings.poll * 4).await;
                }
            }
        }
    }

    /// Runs one claimed job with its lease renewed, and records how it ended; its logs carry
    /// the job, its kind, repository and pull request.
    async fn work(&self, holder: &str, job: Job) {
        use tracing::Instrument;
        let span = tracing::info_span!("job", job = job.id, kind = job.kind.as_str(), repo = %job.repo, pr = job.pr.map(|p| p.0));
        self.work_in_span(holder, job).instrument(span).await;
    }

    async fn work_in_span(&self, holder: &str, job: Job) {
        tracing::info!(attempt = job.attempts, "job claimed");
        let (stop_tx, stop_rx) = watch::channel(false);
        let renewer = {
            let store = self.store.clone();
            let holder = holder.to_string();
            let lease = self.settings.lease;
            let id = job.id;
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(lease / 3).await;
                    match store.renew(id, &holder, lease).await {
                        Ok(Lease::Held) => {}
                        Ok(Lease::Cancelled | Lease::Lost) => {
                            let _ = stop_tx.send(true);
                            return;
                        }
                        Err(e) => tracing::warn!("cannot renew the lease of job {id}: {e}"),
                    }
                }
            })
        };
        let mut stopped = stop_rx.clone();
        let ended = tokio::select! {
            e = self.dispatch(holder, &job, stop_rx) => e,
            _ = stopped.wait_for(|s| *s) => Ended::Stopped,
        };
        renewer.abort();
        let (state, outcome) = match &ended {
            Ended::Done(o) => (JobState::Done, o.as_str()),
            Ended::Failed(o) => (JobState::Failed, o.as_str()),
            Ended::Stopped => {
                tracing::info!("job stopped: cancelled or taken over");
                return;
            }
        };
        match self.store.finish(job.id, holder, state, outcome).await {
            Ok(true) => tracing::info!(state = state.as_str(), "job finished: {outcome}"),
            Ok(false) => tracing::info!("job no longer held when it finished"),
            Err(e) => tracing::error!("cannot record the end of job {}: {e}", job.id),
        }
    }

    async fn dispatch(&self, holder: &str, job: &Job, stop: watch::Receiver<bool>) -> Ended {
        match job.kind {
            JobKind::Plan => match serde_json::from_value::<PlanRequest>(job.payload.clone()) {
                Ok(req) => self.plan(holder, job, req, stop).await,
                Err(e) => Ended::Failed(format!("the job's payload: {e}")),
            },
            JobKind::Close => match serde_json::from_value::<CloseRequest>(job.payload.clone()) {
                Ok(req) => self.close(req).await,
                Err(e) => Ended::Failed(format!("the job's payload: {e}")),
            },
            JobKind::Command => {
                match serde_json::from_value::<CommandRequest>(job.payload.clone()) {
                    Ok(req) => self.command(req).await,
                    Err(e) => Ended::Failed(format!("the job's payload: {e}")),
                }
            }
            JobKind::Push => match serde_json::from_value(job.payload.clone()) {
                Ok(push) => self.push(push).await,
                Err(e) => Ended::Failed(format!("the job's payload: {e}")),
            },
            JobKind::ApplyStage => match serde_json::from_value(job.payload.clone()) {
                Ok(req) => self.run_pipeline(holder, job, req, stop).await,
                Err(e) => Ended::Failed(format!("the job's payload: {e}")),
            },
        }
    }

    async fn close(&self, req: CloseRequest) -> Ended {
        let cancelled = match self
            .store
            .cancel_jobs(&req.repo.name, req.pr, JobKind::Plan)
            .await
        {
            Ok(n) => n,
            Err(e) => return Ended::Failed(e.to_string()),
        };
        // A closed pull request holds nothing. Merged, its units apply in the pipeline from the
        // merge commit; the locks go now, the pipeline's order across pull requests being merge
        // order.
        let released = match self.release_locks(&req.repo, req.pr, None).await {
            Ok(n) => n,
            Err(e) => return Ended::Failed(e.to_string()),
        };
        let mut pipeline = String::new();
        if let (true, Some(commit)) = (req.merged, &req.merge_commit) {
            let gh = match self.github.repo(&req.repo.name, req.repo.installation) {
                Ok(gh) => gh,
                Err(e) => return Ended::Failed(e.to_string()),
            };
            match self.start_pipeline(&gh, &req.repo, req.pr, commit).await {
                Ok(s) => pipeline = format!("; {s}"),
                Err(e) => return Ended::Failed(e.to_string()),
            }
        }
        Ended::Done(format!(
            "closed{}; {cancelled} plan job(s) cancelled, {released} lock(s) released{pipeline}",
            if req.merged { " by merge" } else { "" }
        ))
    }

    /// Releases `pr`'s locks (all, or of `units`) and plans again every pull request that
    /// waited for one of them; returns how many were released.
    async fn release_locks(
        &self,
        repo: &crate::github::events::Repository,
        pr: PrNumber,
        units: Option<&[String]>,
    ) -> Result<u64, agent::store::StoreError> {
        let released = self.store.unlock_units(&repo.name, pr, units).await?;
        let jobs: Vec<_> = released
            .waiting
            .iter()
            .map(|(other, head)| {
                crate::jobs::plan_job(PlanRequest {
                    repo: repo.clone(),
                    pr: *other,
                    head: head.clone(),
                    base_ref: None,
                    reason: format!("{pr} released its lock"),
                    units: None,
                    fork_allowed: false,
                })
            })
            .collect();
        if !jobs.is_empty() {
            self.store.enqueue(&jobs).await?;
        }
        Ok(released.count)
    }

    /// Fetches the repository's mirror and finds what `head` changes against `base_ref`,
    /// under the base's settings: git and evaluation, off the async threads.
    async fn prepare(
        &self,
        gh: &RepoClient,
        repo: &crate::github::events::Repository,
        pr: PrNumber,
        head: &agent::store::CommitSha,
        base_ref: &str,
    ) -> Result<anyhow::Result<review::Prepared>, Failure> {
        self.prepare_range(
            gh,
            repo,
            pr,
            &format!("refs/heads/{base_ref}"),
            head,
            base_ref,
        )
        .await
    }

    /// [`Worker::prepare`] against any base revision (`<merge commit>^`: what a merge changed).
    async fn prepare_range(
        &self,
        gh: &RepoClient,
        repo: &crate::github::events::Repository,
        pr: PrNumber,
        base_rev: &str,
        head: &agent::store::CommitSha,
        base_ref: &str,
    ) -> Result<anyhow::Result<review::Prepared>, Failure> {
        let (head, base_rev) = (head.clone(), base_rev.to_string());
        // The review runs under the base's slipway.toml, with the service's overrides.
        self.in_mirror(gh, repo, base_ref, Some(pr), move |repo| {
            review::prepare(&repo, &base_rev, head.as_str())
        })
        .await
    }

    /// Where the repository's mirror is.
    fn mirror_dir(&self, repo: &crate::github::events::Repository) -> PathBuf {
        agent::mirror::path(
            &self.settings.data_dir.join("repos"),
            repo.name.owner(),
            repo.name.name(),
        )
    }

    /// Fetches the mirror (`branch`, and `pull`'s head when given; HTTPS with the
    /// installation token), opens it with the service's overrides, and runs `work` on it off
    /// the async threads.
    async fn in_mirror<T: Send + 'static>(
        &self,
        gh: &RepoClient,
        repo: &crate::github::events::Repository,
        branch: &str,
        pull: Option<PrNumber>,
        work: impl FnOnce(Repo) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<anyhow::Result<T>, Failure> {
        let token = gh.git_token().await?.map(|t| {
            use octocrab::secrecy::ExposeSecret;
            t.expose_secret().to_string()
        });
        let mirror_dir = self.mirror_dir(repo);
        let overrides = self.settings.overrides.clone();
        let url = repo.clone_url.clone();
        let branch = branch.to_string();
        let done = tokio::task::spawn_blocking(move || -> anyhow::Result<T> {
            let spec = agent::mirror::FetchSpec {
                url: &url,
                token: token.as_deref(),
                branches: &[branch.as_str()],
                pull: pull.map(|p| p.0),
            };
            agent::mirror::fetch(&mirror_dir, &spec)?;
            work(Repo::open(&mirror_dir)?.with_overrides(overrides))
        })
        .await;
        Ok(done.unwrap_or_else(|e| Err(anyhow::anyhow!("the evaluation stopped: {e}"))))
    }

    async fn plan(
        &self,
        holder: &str,
        job: &Job,
        req: PlanRequest,
        stop: watch::Receiver<bool>,
    ) -> Ended {
        let gh = match self.github.repo(&req.repo.name, req.repo.installation) {
            Ok(gh) => gh,
            Err(e) => return Ended::Failed(e.to_string()),
        };
        let mut publisher = self.publisher(&gh, req.pr, &req.head, stop.clone(), job, holder);
        if job.attempts <= 1 {
            publisher.fresh = [PLAN_CHECK, POLICY_CHECK, LOCK_CHECK]
                .into_iter()
                .map(str::to_string)
                .collect();
        } else {
            publisher.newest_first = true;
        }
        match self.plan_inner(job, &req, &gh, &mut publisher).await {
            Ok(e) => e,
            Err(Failure::Stopped) => Ended::Stopped,
            Err(e @ (Failure::Github(_) | Failure::Store(_))) => {
                // One try to leave the check saying what happened rather than "in progress".
                let _ = publisher
                    .check(
                        PLAN_CHECK,
                        CheckStatus::Completed,
                        Some(Conclusion::Failure),
                        "Slipway could not finish this plan".into(),
                        e.to_string(),
                        Vec::new(),
                    )
                    .await;
                Ended::Failed(e.to_string())
            }
        }
    }

    async fn plan_inner(
        &self,
        job: &Job,
        req: &PlanRequest,
        gh: &RepoClient,
        publisher: &mut Publisher,
    ) -> Result<Ended, Failure> {
        // The pull request as GitHub has it now: a job for a head it no longer has, or for a
        // closed pull request, is over (a late or repeated delivery, a re-run of an old check).
        let current = gh.pull_request(req.pr).await?;
        if current.head != req.head || current.state != "open" {
            return Ok(Ended::Done(format!(
                "not planned: the pull request is {} at {}",
                current.state,
                current.head.short()
            )));
        }
        let base_ref = req.base_ref.clone().unwrap_or(current.base_ref.clone());
        let mut prepared = match self
            .prepare(gh, &req.repo, req.pr, &req.head, &base_ref)
            .await?
        {
            Ok(p) => p,
            Err(e) => {
                let message = format!("{e:#}");
                publisher.error(&message).await?;
                return Ok(Ended::Failed(message));
            }
        };
        self.narrow(&mut prepared, req, &current);
        // What GitHub's own events say needs no explaining; a re-plan does.
        if !matches!(
            req.reason.as_str(),
            "opened" | "new commits" | "reopened" | "ready for review"
        ) {
            prepared.why = Some(req.reason.clone());
        }
        let locks = self.take_locks(gh, req, &mut prepared).await?;
        publisher.check_stop().await?;

        // At once: the units, each planning, and the check in progress.
        let mut done: HashMap<String, bool> = HashMap::new();
        publisher
            .comment(&review::pending(&prepared, &done))
            .await?;
        publisher
            .check(
                PLAN_CHECK,
                CheckStatus::InProgress,
                None,
                format!("Planning {} unit(s)", prepared.to_plan.len()),
                String::new(),
                Vec::new(),
            )
            .await?;

        let work_root = self
            .settings
            .data_dir
            .join("work")
            .join(format!("job-{}", job.id));
        // What an earlier attempt of this job left (its process was killed) is not reused.
        let _ = tokio::fs::remove_dir_all(&work_root).await;
        let settings = match self.engine_settings(&work_root) {
            Ok(s) => s,
            Err(e) => return Ok(Ended::Failed(e)),
        };
        let artifacts = Arc::new(DirStore::new(self.settings.data_dir.join("artifacts")));
        let (tx, mut rx) = agent::engine::event_channel();
        let repo_name = req.repo.name.to_string();
        let planning = review::plan(
            &prepared,
            &repo_name,
            Some(req.pr.0),
            settings,
            artifacts,
            Some(tx),
        );
        tokio::pin!(planning);
        let mut last_edit = Instant::now();
        let mut dirty = false;
        let results = loop {
            tokio::select! {
                results = &mut planning => break results,
                Some(event) = rx.recv() => {
                    if let RunEvent::Finished { unit, ok, .. } = event {
                        self.record_run(job, &prepared, &unit, ok).await;
                        done.insert(unit, ok);
                        dirty = true;
                    }
                }
                _ = tokio::time::sleep(self.settings.edit_every / 2), if dirty => {}
            }
            if dirty && last_edit.elapsed() >= self.settings.edit_every {
                publisher
                    .comment(&review::pending(&prepared, &done))
                    .await?;
                last_edit = Instant::now();
                dirty = false;
            }
        };
        // The runs as they ended: what the planning returned is the record (progress events
        // still queued when it returned are not waited for).
        for (unit, result) in &results {
            if done.get(unit) != Some(&result.is_ok()) {
                self.record_run(job, &prepared, unit, result.is_ok()).await;
            }
        }
        let _ = tokio::fs::remove_dir_all(&work_root).await;
        publisher.check_stop().await?;

        let (review, failed) = review::assemble(&prepared, results);
        let parts = comment::render_parts(&review);
        // The check run shows at most 65,535 characters of text: the first part, cut.
        let text: String = parts
            .first()
            .map_or_else(String::new, |p| p.chars().take(60_000).collect());
        publisher.publish_parts(parts).await?;
        let summary = summary(&review);
        // A change whose own slipway.toml cannot be used would stop Slipway once merged.
        let bad_settings = review
            .settings
            .as_ref()
            .is_some_and(|s| matches!(s.head, Some(agent::repo::HeadSettings::Invalid(_))));
        let broken = !review.errors.is_empty()
            || bad_settings
            || review.units.iter().any(|u| match &u.outcome {
                comment::Outcome::Failed(_) => true,
                comment::Outcome::Planned(p) => p.errored || !p.complete,
                _ => false,
            });
        let conclusion = if broken {
            Conclusion::Failure
        } else if review.units.is_empty() {
            Conclusion::Neutral
        } else {
            Conclusion::Success
        };
        let annotations = annotations(&prepared, &review);
        publisher
            .check(
                PLAN_CHECK,
                CheckStatus::Completed,
                Some(conclusion),
                summary.clone(),
                text,
                annotations.clone(),
            )
            .await?;
        let policy = if blocking(&review) {
            Conclusion::Failure
        } else {
            Conclusion::Success
        };
        publisher
            .check(
                POLICY_CHECK,
                CheckStatus::Completed,
                Some(policy),
                if policy == Conclusion::Failure {
                    "Blocking findings: apply is refused until they are fixed or exempted".into()
                } else {
                    "No blocking finding".into()
                },
                String::new(),
                annotations,
            )
            .await?;
        if let Some(lockable) = locks {
            let (conclusion, title) = if prepared.locked_by.is_empty() {
                (
                    Conclusion::Success,
                    format!("This pull request holds the lock of {lockable} unit(s)"),
                )
            } else {
                let held: Vec<String> = prepared
                    .locked_by
                    .iter()
                    .map(|(unit, pr)| format!("{unit} by #{pr}"))
                    .collect();
                (
                    Conclusion::Failure,
                    format!("Locked by another pull request: {}", held.join(", ")),
                )
            };
            publisher
                .check(
                    LOCK_CHECK,
                    CheckStatus::Completed,
                    Some(conclusion),
                    comment::cut(&title, 1_000),
                    String::new(),
                    Vec::new(),
                )
                .await?;
        }
        // Folding old comments away is a courtesy: its failure fails nothing.
        match publisher.minimize_outdated().await {
            Err(Failure::Stopped) => return Err(Failure::Stopped),
            Err(e) => tracing::warn!("cannot minimise outdated comments: {e}"),
            Ok(()) => {}
        }
        Ok(if failed {
            Ended::Done(format!("planned with failures: {summary}"))
        } else {
            Ended::Done(summary)
        })
    }

    /// Holds back what this plan must not run: a fork's units in environments that do not
    /// allow forks (unless a `/plan` allowed it once), and units a `/plan` did not name.
    fn narrow(
        &self,
        prepared: &mut review::Prepared,
        req: &PlanRequest,
        current: &crate::github::client::PullRequest,
    ) {
        let config = prepared.change.head_view.config.clone();
        let units = prepared.to_plan.clone();
        for unit in units {
            let env = prepared
                .change
                .head_view
                .inventory
                .units
                .get(&unit)
                .and_then(|u| u.env.clone());
            if let Some(only) = &req.units {
                if !only.contains(&unit) {
                    prepared.hold_back(
                        &unit,
                        "not named by the `/plan` that asked for this plan".into(),
                    );
                    continue;
                }
            }
            let forks_allowed = self.settings.plan_forks
                || req.fork_allowed
                || env
                    .as_deref()
                    .and_then(|e| config.environments.get(e))
                    .is_some_and(|e| e.plan_forks);
            if current.from_fork && !forks_allowed {
                let roles = env
                    .as_deref()
                    .map(|e| format!("`{e}`'s role"))
                    .unwrap_or_else(|| "Slipway's credentials".into());
                prepared.hold_back(
                    &unit,
                    format!("not planned: this pull request comes from a fork, and its configuration would run with {roles}; `/plan` from someone with write permission plans it once"),
                );
            }
        }
    }

    /// Takes the locks of the units this plan runs in environments that lock; records in
    /// `prepared` the units another pull request holds. A holder whose pull request is closed
    /// loses its locks here. `None` when no unit is in a locking environment.
    async fn take_locks(
        &self,
        gh: &RepoClient,
        req: &PlanRequest,
        prepared: &mut review::Prepared,
    ) -> Result<Option<usize>, Failure> {
        let view = &prepared.change.head_view;
        let lockable: Vec<(String, Option<String>)> = prepared
            .to_plan
            .iter()
            .filter_map(|u| {
                let env = view.inventory.units.get(u)?.env.clone()?;
                view.config.locks(&env).then(|| (u.clone(), Some(env)))
            })
            .collect();
        if lockable.is_empty() {
            return Ok(None);
        }
        let repo = &req.repo.name;
        let mut others = self
            .store
            .lock_units(repo, req.pr, &req.head, &lockable)
            .await
            .map_err(store_failure)?;
        let holders: std::collections::BTreeSet<PrNumber> = others.iter().map(|l| l.pr).collect();
        let mut freed = false;
        for holder in holders {
            let open = match gh.pull_request(holder).await {
                Ok(p) => p.state == "open",
                Err(e) if e.is_not_found() => false,
                Err(e) => return Err(e.into()),
            };
            if !open {
                tracing::info!(
                    holder = holder.0,
                    "releasing the locks of a closed pull request"
                );
                self.release_locks(&req.repo, holder, None)
                    .await
                    .map_err(store_failure)?;
                freed = true;
            }
        }
        if freed {
            others = self
                .store
                .lock_units(repo, req.pr, &req.head, &lockable)
                .await
                .map_err(store_failure)?;
        }
        prepared.locked_by = others.into_iter().map(|l| (l.unit, l.pr.0)).collect();
        Ok(Some(lockable.len()))
    }

    /// What a job publishes through: on `pr`, about `head`, stopping when the job is no longer
    /// this worker's.
    fn publisher(
        &self,
        gh: &RepoClient,
        pr: PrNumber,
        head: &agent::store::CommitSha,
        stop: watch::Receiver<bool>,
        job: &Job,
        holder: &str,
    ) -> Publisher {
        Publisher {
            store: self.store.clone(),
            gh: gh.clone(),
            pr,
            head: head.clone(),
            stop,
            job: job.id,
            holder: holder.to_string(),
            checks_refused: false,
            fresh: Default::default(),
            newest_first: false,
        }
    }

    fn engine_settings(&self, work_root: &std::path::Path) -> Result<EngineSettings, String> {
        std::fs::create_dir_all(work_root)
            .map_err(|e| format!("cannot create {}: {e}", work_root.display()))?;
        let mut s = EngineSettings::from_env(work_root)?;
        if s.plugin_cache.is_none() {
            s.plugin_cache = Some(self.settings.data_dir.join("plugin-cache"));
        }
        if s.sources.cache_dir.is_none() {
            s.sources.cache_dir = Some(self.settings.data_dir.join("module-cache"));
        }
        // A run sees only what its environment's configuration gives it.
        s.user_env = false;
        Ok(s)
    }

    async fn record_run(&self, job: &Job, prepared: &review::Prepared, unit: &str, ok: bool) {
        let env = prepared
            .affected
            .iter()
            .find(|a| a.path == unit)
            .and_then(|a| a.env.clone());
        let run = RunRecord {
            job: job.id,
            unit: unit.to_string(),
            env,
            action: "plan".into(),
            state: if ok { "planned" } else { "failed" }.into(),
            plan_checksum: None,
            started_at_ms: None,
            finished_at_ms: Some(agent::store::now_ms()),
            outcome: None,
        };
        if let Err(e) = self.store.record_run(&run).await {
            tracing::warn!(unit, "cannot record the run: {e}");
        }
    }
}

/// Why a plan job stopped early.
enum Failure {
    Stopped,
    Github(GithubError),
    /// The store could not be read or written.
    Store(agent::store::StoreError),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Stopped => f.write_str("stopped: cancelled or taken over"),
            Failure::Github(e) => e.fmt(f),
            Failure::Store(e) => e.fmt(f),
        }
    }
}

impl From<GithubError> for Failure {
    fn from(e: GithubError) -> Failure {
        Failure::Github(e)
    }
}

/// Publishes one job's comment and check runs, idempotently: the ids of what it posted are
/// kept in the store, and found again by their marker on GitHub when the store has none (a
/// worker that died between posting and recording).
struct Publisher {
    store: Arc<dyn Store>,
    gh: RepoClient,
    pr: PrNumber,
    head: agent::store::CommitSha,
    stop: watch::Receiver<bool>,
    job: i64,
    holder: String,
    /// GitHub refused a check run once: the others are not tried again by this job.
    checks_refused: bool,
    /// Check runs this job makes anew on its first write (a plan of a head planned before gets
    /// new check runs, as GitHub expects of a re-run, so nothing of the old one is carried).
    fresh: std::collections::BTreeSet<String>,
    /// Find this job's check runs on GitHub (newest first) before the store: after a crash, the
    /// run the first attempt made may not be in the store yet.
    newest_first: bool,
}

impl Publisher {
    /// Stops the job when it was cancelled or taken over: the renewer's word, and the
    /// store's own, read before anything is published (a newer head cancels a job at once,
    /// between two renewals).
    async fn check_stop(&self) -> Result<(), Failure> {
        if *self.stop.borrow() {
            return Err(Failure::Stopped);
        }
        match self.store.job(self.job).await {
            Ok(Some(j))
                if j.state == JobState::Running
                    && j.lease_holder.as_deref() == Some(self.holder.as_str()) =>
            {
                Ok(())
            }
            Ok(_) => Err(Failure::Stopped),
            Err(e) => Err(store_failure(e)),
        }
    }

    /// The comment for a change whose configuration could not be read: the error, and a
    /// failed plan check.
    async fn error(&mut self, message: &str) -> Result<(), Failure> {
        let message = &comment::cut(message, 50_000);
        let body = format!(
            "{} {{\"version\":1,\"kind\":\"review\",\"head\":\"{}\",\"units\":[]}} -->\n## Slipway plan for `{}`\n\nNo unit was planned: the change cannot be evaluated.\n\n```\n{}\n```\n",
            comment::MARKER,
            self.head,
            self.head.short(),
            message.replace("```", "'''")
        );
        self.publish_parts(vec![body]).await?;
        self.check(
            PLAN_CHECK,
            CheckStatus::Completed,
            Some(Conclusion::Failure),
            "The change cannot be evaluated".into(),
            message.to_string(),
            Vec::new(),
        )
        .await
    }

    async fn comment(&mut self, review: &Review) -> Result<(), Failure> {
        self.publish_parts(comment::render_parts(review)).await
    }

    /// Makes the pull request's Slipway comments exactly `parts`: the first edited in place
    /// (or posted once), continuations edited, posted or deleted.
    async fn publish_parts(&mut self, parts: Vec<String>) -> Result<(), Failure> {
        self.check_stop().await?;
        let repo = self.gh.repo().clone();
        let mut ids = self
            .store
            .comments(&repo, self.pr)
            .await
            .map_err(store_failure)?;
        if ids.is_empty() {
            ids = self.find_comments().await?;
        }
        let mut kept = Vec::new();
        for (i, body) in parts.iter().enumerate() {
            self.check_stop().await?;
            let id = match ids.get(i) {
                Some(&id) => match self.gh.update_comment(id, body).await {
                    Ok(_) => id,
                    // Deleted by someone: post it again.
                    Err(e) if e.is_not_found() => self.create_part(i + 1, body).await?,
                    Err(e) => return Err(e.into()),
                },
                None => self.create_part(i + 1, body).await?,
            };
            kept.push(id);
            self.store
                .set_comments(&repo, self.pr, &kept)
                .await
                .map_err(store_failure)?;
        }
        for &extra in ids.iter().skip(parts.len()) {
            self.gh.delete_comment(extra).await?;
        }
        self.store
            .set_comments(&repo, self.pr, &kept)
            .await
            .map_err(store_failure)?;
        Ok(())
    }

    /// Folds away Slipway's other comments on the pull request that speak of an earlier head
    /// (GraphQL `minimizeComment`, as outdated); the sticky comment and its continuations stay.
    async fn minimize_outdated(&self) -> Result<(), Failure> {
        self.check_stop().await?;
        let sticky = self
            .store
            .comments(self.gh.repo(), self.pr)
            .await
            .map_err(store_failure)?;
        for (c, marker) in self.marked().await? {
            // The pipeline's comment speaks of the merge commit, not of a head.
            let review = marker.kind.as_deref() != Some("pipeline");
            if review && !sticky.contains(&c.id) && marker.head != self.head.as_str() {
                self.gh.minimize_comment(&c.node_id).await?;
            }
        }
        Ok(())
    }

    /// Posts part `part` of the review. When GitHub's answer is lost or a 5xx, the comment may
    /// exist all the same: it is looked for by its marker before posting again, so a part is
    /// never posted twice.
    async fn create_part(&self, part: usize, body: &str) -> Result<u64, Failure> {
        let mut wait = Duration::from_millis(500);
        for _ in 0..8 {
            match self.gh.create_comment(self.pr, body).await {
                Ok(c) => return Ok(c.id),
                Err(GithubError::Uncertain { last, .. }) => {
                    tracing::warn!(
                        part,
                        "posting the comment may have failed ({last}); looking for it"
                    );
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(30));
                    self.check_stop().await?;
                    if let Some(id) = self.find_part(part).await? {
                        self.gh.update_comment(id, body).await?;
                        return Ok(id);
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Failure::Github(GithubError::Unavailable {
            method: "POST",
            route: "issue comments".into(),
            last: "no answer after 8 tries".into(),
        }))
    }

    /// The id of part `part` of Slipway's review on the pull request, as GitHub lists it.
    async fn find_part(&self, part: usize) -> Result<Option<u64>, Failure> {
        Ok(self
            .marked()
            .await?
            .into_iter()
            .find(|(_, m)| m.kind.as_deref() == Some("review") && m.part.unwrap_or(1) == part)
            .map(|(c, _)| c.id))
    }

    /// Slipway's sticky comment and continuations already on the pull request, in order.
    async fn find_comments(&self) -> Result<Vec<u64>, Failure> {
        let mut found: Vec<(usize, u64)> = self
            .marked()
            .await?
            .into_iter()
            .filter(|(_, m)| m.kind.as_deref() == Some("review"))
            .map(|(c, m)| (m.part.unwrap_or(1), c.id))
            .collect();
        found.sort();
        found.dedup_by_key(|(part, _)| *part);
        Ok(found.into_iter().map(|(_, id)| id).collect())
    }

    /// The comments Slipway wrote on the pull request that carry its marker, oldest first.
    async fn marked(&self) -> Result<Vec<(IssueComment, comment::MarkerInfo)>, Failure> {
        let me = self.gh.login().await?;
        Ok(self
            .gh
            .list_comments(self.pr)
            .await?
            .into_iter()
            .filter(|c| c.user.as_ref().map(|u| u.login.as_str()) == Some(me.as_str()))
            .filter_map(|c| {
                let m = comment::read_marker(c.body.as_deref()?)?;
                Some((c, m))
            })
            .collect())
    }

    async fn check(
        &mut self,
        name: &str,
        status: CheckStatus,
        conclusion: Option<Conclusion>,
        title: String,
        text: String,
        annotations: Vec<Annotation>,
    ) -> Result<(), Failure> {
        self.check_stop().await?;
        if self.checks_refused {
            return Ok(());
        }
        let repo = self.gh.repo().clone();
        let body = CheckRunBody {
            status,
            conclusion,
            output: CheckOutput {
                summary: title.clone(),
                title,
                text: (!text.is_empty()).then_some(text),
                annotations,
            },
        };
        let known = if self.fresh.remove(name) {
            None
        } else if self.newest_first {
            match self.gh.find_check_runs(&self.head, name).await?.first() {
                Some(&id) => Some(id),
                None => self
                    .store
                    .check_run(&repo, &self.head, name)
                    .await
                    .map_err(store_failure)?,
            }
        } else {
            match self
                .store
                .check_run(&repo, &self.head, name)
                .await
                .map_err(store_failure)?
            {
                Some(id) => Some(id),
                None => self
                    .gh
                    .find_check_runs(&self.head, name)
                    .await?
                    .first()
                    .copied(),
            }
        };
        let written = match known {
            Some(id) => self.gh.update_check_run(id, &body).await.map(|()| None),
            None => match self.gh.create_check_run(name, &self.head, &body).await {
                // Made or not: look, and update what is there, or make it once more.
                Err(GithubError::Uncertain { .. }) => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    match self.gh.find_check_runs(&self.head, name).await?.first() {
                        Some(&id) => self.gh.update_check_run(id, &body).await.map(|()| Some(id)),
                        None => self
                            .gh
                            .create_check_run(name, &self.head, &body)
                            .await
                            .map(Some),
                    }
                }
                other => other.map(Some),
            },
        };
        match written {
            Ok(Some(id)) => self
                .store
                .set_check_run(&repo, &self.head, name, id)
                .await
                .map_err(store_failure)?,
            Ok(None) => {}
            // Only GitHub Apps may write check runs: with a plain token the review is the
            // comment alone.
            Err(GithubError::Refused {
                status: 403 | 404, ..
            }) if !self.checks_refused => {
                tracing::warn!("GitHub refuses Slipway's check runs (a plain token cannot write them; a GitHub App can): the review is the comment alone");
                self.checks_refused = true;
            }
            Err(GithubError::Refused {
                status: 403 | 404, ..
            }) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }
}

fn store_failure(e: agent::store::StoreError) -> Failure {
    Failure::Store(e)
}

fn blocking(review: &Review) -> bool {
    review
        .units
        .iter()
        .filter_map(|u| u.report.as_ref())
        .any(rules::Report::is_blocking)
}

/// One line: how many units planned, failed, changed.
fn summary(review: &Review) -> String {
    let mut planned = 0;
    let mut failed = 0;
    let mut changing = 0;
    for u in &review.units {
        match &u.outcome {
            comment::Outcome::Planned(p) => {
                planned += 1;
                if !p.summary().is_empty() {
                    changing += 1;
                }
                if p.errored {
                    failed += 1;
                }
            }
            comment::Outcome::Failed(_) => failed += 1,
            _ => {}
        }
    }
    if review.units.is_empty() {
        return "No Terragrunt unit is affected".into();
    }
    format!("{planned} unit(s) planned, {changing} with changes, {failed} failed")
}

/// Annotations: each evaluation error on its file and line; a unit that failed to plan, or
/// has blocking findings, on its `terragrunt.hcl`.
fn annotations(prepared: &review::Prepared, review: &Review) -> Vec<Annotation> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for e in &prepared.change.errors {
        if e.file.is_empty() || !seen.insert((e.file.clone(), e.line, e.message.clone())) {
            continue;
        }
        let line = u32::try_from(e.line.max(1)).unwrap_or(1);
        out.push(Annotation {
            path: e.file.clone(),
            start_line: line,
            end_line: line,
            annotation_level: "failure",
            message: format!("{}: {}", e.construct, e.message)
                .chars()
                .take(4_000)
                .collect(),
            title: Some("Slipway cannot evaluate this".into()),
        });
    }
    for u in &review.units {
        if !prepared
            .change
            .head_view
            .inventory
            .units
            .contains_key(&u.path)
        {
            continue;
        }
        let file = format!("{}/terragrunt.hcl", u.path);
        match &u.outcome {
            comment::Outcome::Failed(e) => out.push(Annotation {
                path: file.clone(),
                start_line: 1,
                end_line: 1,
                annotation_level: "failure",
                message: e.chars().take(4_000).collect(),
                title: Some("Plan failed".into()),
            }),
            _ => {
                if let Some(r) = &u.report {
                    for f in r.blocking() {
                        let (path, line) = resource_line(prepared, &u.path, &f.address)
                            .unwrap_or_else(|| (file.clone(), 1));
                        out.push(Annotation {
                            path,
                            start_line: line,
                            end_line: line,
                            annotation_level: "failure",
                            message: format!("{} on {}: {}", f.rule, f.address, f.message),
                            title: Some(format!("Blocking: {}", f.rule)),
                        });
                    }
                }
            }
        }
    }
    out
}

/// Where a resource of a unit's plan is declared: the `resource "TYPE" "NAME"` (or `data`)
/// block of the unit's local modules whose type and name end the address, as file and line.
fn resource_line(prepared: &review::Prepared, unit: &str, address: &str) -> Option<(String, u32)> {
    let view = &prepared.change.head_view;
    let u = view.inventory.units.get(unit)?;
    let header = block_header(address)?;
    let mut dirs: Vec<&str> = u.module_dirs.iter().map(String::as_str).collect();
    dirs.push(u.path.as_str());
    for dir in dirs {
        for file in view
            .snapshot
            .files_under(dir)
            .filter(|f| f.ends_with(".tf"))
        {
            // Only the module's own files, not those of directories below it.
            if file[dir.len()..].trim_start_matches('/').contains('/') {
                continue;
            }
            let Ok(text) = view.snapshot.read_text(file) else {
                continue;
            };
            if let Some(i) = text
                .lines()
                .position(|l| l.trim_start().starts_with(&header))
            {
                return Some((file.to_string(), u32::try_from(i + 1).unwrap_or(1)));
            }
        }
    }
    None
}

/// The block header declaring the resource at `address`:
/// `module.db.aws_db_instance.this["a"]` -> `resource "aws_db_instance" "this"`,
/// `data.aws_iam_policy_document.p` -> `data "aws_iam_policy_document" "p"`.
fn block_header(address: &str) -> Option<String> {
    let mut depth = 0i32;
    let plain: String = address
        .chars()
        .filter(|c| {
            match c {
                '[' => depth += 1,
                ']' => {
                    depth -= 1;
                    return false;
                }
                _ => {}
            }
            depth == 0
        })
        .collect();
    let parts: Vec<&str> = plain.split('.').collect();
    let n = parts.len();
    if n < 2 || parts[n - 2].is_empty() || parts[n - 1].is_empty() {
        return None;
    }
    // `module.data.aws_x.y` is a resource in a module named `data`.
    let kind = if n >= 3 && parts[n - 3] == "data" && (n < 4 || parts[n - 4] != "module") {
        "data"
    } else {
        "resource"
    };
    Some(format!("{kind} \"{}\" \"{}\"", parts[n - 2], parts[n - 1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_address_names_the_block_that_declares_it() {
        assert_eq!(
            block_header("module.db.aws_db_instance.this[\"a.b\"]").as_deref(),
            Some("resource \"aws_db_instance\" \"this\"")
        );
        assert_eq!(
            block_header("data.aws_iam_policy_document.p").as_deref(),
            Some("data \"aws_iam_policy_document\" \"p\"")
        );
        assert_eq!(
            block_header("null_resource.task[0]").as_deref(),
            Some("resource \"null_resource\" \"task\"")
        );
        assert_eq!(
            block_header("module.data.aws_s3_bucket.b").as_deref(),
            Some("resource \"aws_s3_bucket\" \"b\"")
        );
        assert_eq!(block_header("weird"), None);
    }
}

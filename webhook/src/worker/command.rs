//! A comment's commands, as a worker runs them: acknowledged at once (eyes), checked against
//! the rights of the environments they concern and, for `/apply`, the requirements; answered in
//! one reply when there is something to say. Every command, accepted or refused, is recorded
//! in the store with who gave it, on which commit and for which environment.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use agent::config::{Permission, RepoConfig, Rights};
use agent::store::{CommandRecord, CommitSha, JobKind, JobState};

use super::{store_failure, Ended, Failure, Worker};
use crate::command::{self, Command, CommandKind, Known, Scope};
use crate::comment::{code_list, inline};
use crate::github::client::{PullRequest, RepoClient};
use crate::jobs::{CommandRequest, PlanRequest};
use crate::review::Prepared;
use crate::rights::{self, Decision, Facts};

/// What one command came to: the reply's lines, and the audit's rows.
struct Outcome {
    reply: Vec<String>,
    audit: Vec<(Option<String>, &'static str, String)>,
}

impl Outcome {
    fn new() -> Outcome {
        Outcome {
            reply: Vec::new(),
            audit: Vec::new(),
        }
    }

    fn accepted(&mut self, env: Option<&str>, detail: impl Into<String>) {
        self.audit
            .push((env.map(str::to_string), "accepted", detail.into()));
    }

    fn refused(&mut self, env: Option<&str>, detail: impl Into<String>) {
        let detail = detail.into();
        self.reply.push(format!("❌ {}", inline(&detail)));
        self.audit
            .push((env.map(str::to_string), "refused", detail));
    }
}

impl Worker {
    pub(super) async fn command(&self, req: CommandRequest) -> Ended {
        let gh = match self.github.repo(&req.repo.name, req.repo.installation) {
            Ok(gh) => gh,
            Err(e) => return Ended::Failed(e.to_string()),
        };
        match self.command_inner(&gh, &req).await {
            Ok(e) => e,
            Err(Failure::Stopped) => Ended::Stopped,
            Err(e) => Ended::Failed(e.to_string()),
        }
    }

    async fn command_inner(&self, gh: &RepoClient, req: &CommandRequest) -> Result<Ended, Failure> {
        // The canonical lines read back into the commands the edge parsed.
        let parsed = command::parse_comment(&req.commands.join("\n"), None, false);
        if !parsed.commands.is_empty() {
            gh.react(req.comment_id, "eyes").await?;
        }
        let current = gh.pull_request(req.pr).await?;
        let mut sections: Vec<String> = req.error_reply.iter().cloned().collect();
        for line in &req.errors {
            self.audit(req, &current.head, line, None, "refused", line)
                .await?;
        }
        let mut prepared: Option<Result<Prepared, String>> = None;
        for cmd in &parsed.commands {
            let out = if cmd.kind() == CommandKind::Help {
                let mut o = Outcome::new();
                o.reply.push(command::help_text());
                o.accepted(None, "help");
                o
            } else if current.state != "open" && !current.merged {
                let mut o = Outcome::new();
                o.refused(
                    None,
                    format!("this pull request is closed: `{cmd}` does nothing"),
                );
                o
            } else if cmd.kind() == CommandKind::Cancel {
                self.cancel(gh, req, &current).await?
            } else if current.merged && cmd.kind() == CommandKind::Apply {
                self.open_gate(gh, req, &current, cmd).await?
            } else if current.merged {
                let mut o = Outcome::new();
                o.refused(
                    None,
                    format!("this pull request is merged: `{cmd}` does nothing; `/apply <env>` opens a stage of its pipeline"),
                );
                o
            } else {
                // Evaluated once for every command of the comment that needs it.
                let p = match prepared.take() {
                    Some(p) => p,
                    None => self
                        .prepare(gh, &req.repo, req.pr, &current.head, &current.base_ref)
                        .await?
                        .map_err(|e| format!("{e:#}")),
                };
                let out = match &p {
                    Ok(p) => self.targeted(gh, req, &current, p, cmd).await?,
                    Err(e) => {
                        let mut o = Outcome::new();
                        o.refused(
                            None,
                            format!("`{cmd}`: the change cannot be evaluated: {e}"),
                        );
                        o
                    }
                };
                prepared = Some(p);
                out
            };
            for (env, outcome, detail) in &out.audit {
                self.audit(
                    req,
                    &current.head,
                    &cmd.to_string(),
                    env.as_deref(),
                    outcome,
                    detail,
                )
                .await?;
            }
            if !out.reply.is_empty() {
                sections.push(format!("**`{}`**\n\n{}", cmd, out.reply.join("\n\n")));
            }
        }
        if !sections.is_empty() {
            let body = crate::comment::cut(&sections.join("\n\n"), 60_000);
            gh.create_comment(req.pr, &body).await?;
        }
        Ok(Ended::Done(format!(
            "{} command(s), {} line(s) not read",
            parsed.commands.len(),
            req.errors.len()
        )))
    }

    async fn audit(
        &self,
        req: &CommandRequest,
        head: &CommitSha,
        command: &str,
        env: Option<&str>,
        outcome: &str,
        detail: &str,
    ) -> Result<(), Failure> {
        let record = CommandRecord {
            repo: req.repo.name.clone(),
            pr: req.pr,
            comment_id: req.comment_id,
            author: req.author.clone(),
            command: command.chars().take(300).collect(),
            env: env.map(str::to_string),
            head: Some(head.clone()),
            outcome: outcome.to_string(),
            detail: detail.chars().take(2_000).collect(),
            at_ms: agent::store::now_ms(),
        };
        self.store
            .record_command(&record)
            .await
            .map_err(store_failure)
    }

    /// `/cancel`: stops the pull request's plans; needs write permission.
    async fn cancel(
        &self,
        gh: &RepoClient,
        req: &CommandRequest,
        current: &PullRequest,
    ) -> Result<Outcome, Failure> {
        let mut o = Outcome::new();
        let d = self
            .access
            .decide(gh, &Rights::default(), &req.author, "cancel plans")
            .await?;
        if let Decision::Refused(why) = d {
            o.refused(None, why);
            return Ok(o);
        }
        let n = self
            .store
            .cancel_jobs(&req.repo.name, req.pr, JobKind::Plan)
            .await
            .map_err(store_failure)?;
        o.reply.push(if n == 0 {
            format!("No plan of {} is running.", current.head.short())
        } else {
            format!("Cancelled {n} plan(s).")
        });
        o.accepted(None, format!("{n} plan(s) cancelled"));
        Ok(o)
    }

    /// `/plan`, `/apply` and `/unlock`: their targets resolved against the repository.
    async fn targeted(
        &self,
        gh: &RepoClient,
        req: &CommandRequest,
        current: &PullRequest,
        prepared: &Prepared,
        cmd: &Command,
    ) -> Result<Outcome, Failure> {
        let view = &prepared.change.head_view;
        let config = &view.config;
        let environments: Vec<String> = config.environments.keys().cloned().collect();
        let units: Vec<String> = view.inventory.units.keys().cloned().collect();
        let known = Known {
            environments: &environments,
            units: &units,
        };
        let mut o = Outcome::new();
        let resolved = match command::resolve(cmd, &known) {
            Ok(r) => r,
            Err(e) => {
                o.reply.push(e.reply());
                o.audit.push((None, "refused", e.to_string()));
                return Ok(o);
            }
        };
        // The affected units the command concerns, by environment.
        let env_of = |unit: &str| view.inventory.units.get(unit).and_then(|u| u.env.clone());
        let selected: Vec<String> = prepared
            .affected
            .iter()
            .map(|a| a.path.clone())
            .filter(|path| match &resolved.scope {
                Scope::Default => true,
                Scope::Selected {
                    environments,
                    units,
                } => {
                    units.contains(path) || env_of(path).is_some_and(|e| environments.contains(&e))
                }
            })
            .collect();
        if let Scope::Selected {
            environments,
            units,
        } = &resolved.scope
        {
            let unaffected: Vec<&String> = units
                .iter()
                .filter(|u| !prepared.affected.iter().any(|a| &a.path == *u))
                .collect();
            if !unaffected.is_empty() {
                o.reply.push(format!(
                    "Not changed by this pull request, so not part of it: {}.",
                    code_list(unaffected)
                ));
            }
            for env in environments {
                if !selected.iter().any(|u| env_of(u).as_deref() == Some(env)) {
                    o.reply.push(format!(
                        "This pull request changes no unit of `{}`.",
                        inline(env)
                    ));
                }
            }
        }
        let mut by_env: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
        for unit in &selected {
            by_env.entry(env_of(unit)).or_default().push(unit.clone());
        }
        match resolved.kind {
            CommandKind::Plan => {
                self.plan_command(gh, req, current, config, &by_env, &mut o)
                    .await?
            }
            CommandKind::Apply => {
                self.apply_command(gh, req, current, config, &by_env, &mut o)
                    .await?
            }
            CommandKind::Unlock => {
                self.unlock_command(gh, req, config, &resolved.scope, &mut o)
                    .await?
            }
            CommandKind::Cancel | CommandKind::Help => {}
        }
        Ok(o)
    }

    async fn plan_command(
        &self,
        gh: &RepoClient,
        req: &CommandRequest,
        current: &PullRequest,
        config: &RepoConfig,
        by_env: &BTreeMap<Option<String>, Vec<String>>,
        o: &mut Outcome,
    ) -> Result<(), Failure> {
        let mut units = Vec::new();
        for (env, env_units) in by_env {
            let rights = env
                .as_deref()
                .and_then(|e| config.environments.get(e))
                .map(|e| e.plan_rights.clone())
                .unwrap_or_default();
            let what = match env {
                Some(e) => format!("plan {e}"),
                None => "plan units outside every environment".into(),
            };
            match self.access.decide(gh, &rights, &req.author, &what).await? {
                Decision::Allowed(why) => {
                    units.extend(env_units.iter().cloned());
                    o.accepted(env.as_deref(), why);
                }
                Decision::Refused(why) => o.refused(env.as_deref(), why),
            }
        }
        if units.is_empty() {
            if by_env.is_empty() {
                o.reply
                    .push("This pull request changes no unit: nothing to plan.".into());
            }
            return Ok(());
        }
        // A fork's configuration runs with the roles only on the word of someone who may
        // write to the repository.
        let mut fork_allowed = false;
        if current.from_fork {
            let has = self.access.permission(gh, &req.author).await?;
            if has.is_some_and(|p| p >= Permission::Write) {
                fork_allowed = true;
            } else {
                o.reply.push(format!(
                    "This pull request comes from a fork: its units are planned with the roles only on a `/plan` from someone with write permission, which {} has not.",
                    inline(&req.author)
                ));
            }
        }
        let all = by_env.values().map(Vec::len).sum::<usize>() == units.len();
        let job = crate::jobs::plan_job(PlanRequest {
            repo: req.repo.clone(),
            pr: req.pr,
            head: current.head.clone(),
            base_ref: Some(current.base_ref.clone()),
            reason: format!("/plan by {}", req.author),
            units: if all && fork_allowed == current.from_fork {
                None
            } else {
                Some(units)
            },
            fork_allowed,
        });
        let made = self.store.enqueue(&[job]).await.map_err(store_failure)?;
        if made.is_empty() {
            o.reply.push(format!(
                "A plan of {} is already running.",
                current.head.short()
            ));
        }
        Ok(())
    }

    async fn apply_command(
        &self,
        gh: &RepoClient,
        req: &CommandRequest,
        current: &PullRequest,
        config: &RepoConfig,
        by_env: &BTreeMap<Option<String>, Vec<String>>,
        o: &mut Outcome,
    ) -> Result<(), Failure> {
        if by_env.is_empty() {
            o.reply
                .push("This pull request changes no unit: nothing to apply.".into());
            return Ok(());
        }
        let mut envs: Vec<&Option<String>> = by_env.keys().collect();
        envs.sort_by_key(|e| {
            e.as_ref()
                .and_then(|e| config.promotion.iter().position(|p| p == e))
                .unwrap_or(usize::MAX)
        });
        // Read once for every environment.
        let reviews = gh.reviews(req.pr).await?;
        let checks = gh.check_runs(&current.head).await?;
        let mut allowed = Vec::new();
        for env in envs {
            let Some(name) = env.as_deref() else {
                o.refused(
                    None,
                    "units outside every environment have no apply role: they are never applied",
                );
                continue;
            };
            let Some(env_config) = config.environments.get(name) else {
                continue;
            };
            let what = format!("apply {name}");
            match self
                .access
                .decide(gh, &env_config.apply_rights, &req.author, &what)
                .await?
            {
                Decision::Refused(why) => {
                    o.refused(Some(name), why);
                    continue;
                }
                Decision::Allowed(_) => {}
            }
            let units = by_env.get(env).map(Vec::as_slice).unwrap_or_default();
            let plan_problem = self.plan_problem(req, current, units).await?;
            let req_cfg = &env_config.requirements;
            let mut approvers = rights::approvers(&reviews, &current.author, &current.head);
            if let Some(team) = &req_cfg.approvals_team {
                let mut members = Vec::new();
                for a in approvers {
                    if self.access.in_team(gh, team, &a).await? {
                        members.push(a);
                    }
                }
                approvers = members;
            }
            let facts = Facts {
                pr: current,
                checks: &checks,
                plan_problem,
            };
            let unmet = rights::unmet(req_cfg, &facts, &approvers);
            if unmet.is_empty() {
                allowed.push(name.to_string());
                o.accepted(Some(name), "rights and requirements hold");
            } else {
                let detail = format!("{name}: the requirements do not hold: {}", unmet.join("; "));
                let mut text = format!("❌ `{}`: the requirements do not hold:", inline(name));
                for u in &unmet {
                    let _ = write!(text, "\n- {}", inline(u));
                }
                o.reply.push(text);
                o.audit.push((Some(name.to_string()), "refused", detail));
            }
        }
        if !allowed.is_empty() {
            let list = code_list(&allowed);
            o.reply.push(if current.merged {
                format!("✅ {} may apply {list}, and its requirements hold. This version of Slipway does not run the promotion pipeline yet: nothing is applied.", inline(&req.author))
            } else {
                format!(
                    "✅ {} may apply {list}, and its requirements hold now. Slipway applies after merge, in promotion order ({}); a stage that waits for a command is opened by `/apply <env>` on the merged pull request.",
                    inline(&req.author),
                    config.promotion.join(" → ")
                )
            });
        }
        Ok(())
    }

    /// Why the head's plan of `units` cannot be applied; `None` when it can.
    async fn plan_problem(
        &self,
        req: &CommandRequest,
        current: &PullRequest,
        units: &[String],
    ) -> Result<Option<String>, Failure> {
        let short = current.head.short();
        let jobs = self
            .store
            .jobs_of_pr(&req.repo.name, req.pr)
            .await
            .map_err(store_failure)?;
        let Some(last) = jobs
            .iter()
            .rev()
            .find(|j| j.kind == JobKind::Plan && j.head.as_ref() == Some(&current.head))
        else {
            return Ok(Some(format!(
                "plan: {short} has not been planned yet; comment `/plan` first"
            )));
        };
        match last.state {
            JobState::Queued | JobState::Running => {
                return Ok(Some(format!("plan: the plan of {short} is still running")))
            }
            JobState::Failed | JobState::Cancelled => {
                return Ok(Some(format!(
                    "plan: the plan of {short} did not finish; comment `/plan` to plan again"
                )))
            }
            JobState::Done => {}
        }
        let runs = self.store.runs(last.id).await.map_err(store_failure)?;
        let mut problems = BTreeSet::new();
        for unit in units {
            match runs.iter().find(|r| &r.unit == unit) {
                Some(r) if r.state == "planned" => {}
                Some(_) => {
                    problems.insert(format!("{unit} failed to plan"));
                }
                None => {
                    problems.insert(format!("{unit} was not planned"));
                }
            }
        }
        Ok((!problems.is_empty()).then(|| {
            format!(
                "plan of {short}: {}",
                problems.into_iter().collect::<Vec<_>>().join(", ")
            )
        }))
    }

    /// `/unlock`: releases this pull request's locks (all, or the targets'); each needs apply
    /// rights for its environment.
    async fn unlock_command(
        &self,
        gh: &RepoClient,
        req: &CommandRequest,
        config: &RepoConfig,
        scope: &Scope,
        o: &mut Outcome,
    ) -> Result<(), Failure> {
        let held: Vec<_> = self
            .store
            .locks(&req.repo.name)
            .await
            .map_err(store_failure)?
            .into_iter()
            .filter(|l| l.pr == req.pr)
            .filter(|l| match scope {
                Scope::Default => true,
                Scope::Selected {
                    environments,
                    units,
                } => {
                    units.contains(&l.unit)
                        || l.env.as_ref().is_some_and(|e| environments.contains(e))
                }
            })
            .collect();
        if held.is_empty() {
            o.reply
                .push("This pull request holds no lock to release.".into());
            o.accepted(None, "no lock held");
            return Ok(());
        }
        let mut by_env: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
        for l in held {
            by_env.entry(l.env).or_default().push(l.unit);
        }
        let mut released = Vec::new();
        for (env, units) in &by_env {
            let rights = env
                .as_deref()
                .and_then(|e| config.environments.get(e))
                .map(|e| e.apply_rights.clone())
                .unwrap_or_default();
            let what = format!("unlock {}", env.as_deref().unwrap_or("these units"));
            match self.access.decide(gh, &rights, &req.author, &what).await? {
                Decision::Refused(why) => o.refused(env.as_deref(), why),
                Decision::Allowed(_) => {
                    let repo = req.repo.clone();
                    self.release_locks(&repo, req.pr, Some(units))
                        .await
                        .map_err(store_failure)?;
                    o.accepted(env.as_deref(), format!("released {}", units.join(", ")));
                    released.extend(units.iter().cloned());
                }
            }
        }
        if !released.is_empty() {
            o.reply
                .push(format!("🔓 Released: {}.", code_list(&released)));
        }
        Ok(())
    }
}

impl Worker {
    /// `/apply <env>` on a merged pull request: opens the gate of a stage waiting for it (or
    /// retries a failed one) for someone the environment's apply rights allow, as the settings
    /// the pipeline recorded say.
    async fn open_gate(
        &self,
        gh: &RepoClient,
        req: &CommandRequest,
        current: &PullRequest,
        cmd: &Command,
    ) -> Result<Outcome, Failure> {
        let mut o = Outcome::new();
        let Some((_, doc)) = self
            .store
            .pipeline(&req.repo.name, req.pr)
            .await
            .map_err(store_failure)?
        else {
            o.refused(
                None,
                "this pull request has no pipeline: its merge changed no unit",
            );
            return Ok(o);
        };
        let Ok(pipeline) = serde_json::from_value::<agent::pipeline::Pipeline>(doc) else {
            o.refused(None, "this pull request's pipeline cannot be read");
            return Ok(o);
        };
        let envs: Vec<String> = pipeline
            .stages
            .iter()
            .filter(|s| s.env != agent::pipeline::NO_ENVIRONMENT)
            .map(|s| s.env.clone())
            .collect();
        let units: Vec<String> = pipeline
            .stages
            .iter()
            .flat_map(|s| s.units.iter().map(|u| u.unit.clone()))
            .collect();
        let resolved = match command::resolve(
            cmd,
            &Known {
                environments: &envs,
                units: &units,
            },
        ) {
            Ok(r) => r,
            Err(e) => {
                o.reply.push(e.reply());
                o.audit.push((None, "refused", e.to_string()));
                return Ok(o);
            }
        };
        let wanted: Vec<String> = match &resolved.scope {
            Scope::Default => pipeline
                .stages
                .iter()
                .find(|s| {
                    matches!(
                        s.state,
                        agent::pipeline::StageState::AwaitingGate
                            | agent::pipeline::StageState::Failed
                    )
                })
                .map(|s| vec![s.env.clone()])
                .unwrap_or_default(),
            Scope::Selected {
                environments,
                units,
            } => pipeline
                .stages
                .iter()
                .filter(|s| {
                    environments.contains(&s.env) || s.units.iter().any(|u| units.contains(&u.unit))
                })
                .map(|s| s.env.clone())
                .collect(),
        };
        if wanted.is_empty() {
            o.refused(
                None,
                "no stage of this pull request's pipeline waits for a command",
            );
            return Ok(o);
        }
        // The rights are the pipeline's own settings', or none: never a default that would let
        // anyone with write permission open a gate.
        let Some(config) = self
            .settings_of(req, &pipeline.settings_commit, &current.base_ref)
            .await?
        else {
            o.refused(
                None,
                "the settings this pipeline runs under cannot be read now; try again in a moment",
            );
            return Ok(o);
        };
        for env in wanted {
            let rights = config
                .environments
                .get(&env)
                .map(|e| e.apply_rights.clone())
                .unwrap_or_default();
            match self
                .access
                .decide(gh, &rights, &req.author, &format!("apply {env}"))
                .await?
            {
                Decision::Refused(why) => {
                    o.refused(Some(&env), why);
                    continue;
                }
                Decision::Allowed(_) => {}
            }
            let at = agent::store::now_ms();
            let by = req.author.clone();
            let opened = self
                .update_pipeline(&req.repo, req.pr, |p| {
                    p.step(agent::pipeline::Event::GateOpened {
                        env: env.clone(),
                        by: by.clone(),
                        at_ms: at,
                    })
                })
                .await?;
            match opened {
                Some(Ok(_)) => {
                    self.enqueue_stage(req, &pipeline.commit, &current.base_ref)
                        .await?;
                    o.reply.push(format!(
                        "✅ {} opened `{}`: applying.",
                        inline(&req.author),
                        inline(&env)
                    ));
                    o.accepted(Some(&env), "gate opened");
                }
                Some(Err(refused)) => o.refused(Some(&env), refused.to_string()),
                None => o.refused(Some(&env), "this pull request has no pipeline"),
            }
        }
        Ok(o)
    }

    /// The settings of `commit`'s `slipway.toml`, read from the mirror (`None` when they cannot
    /// be read: the caller refuses rather than guess).
    async fn settings_of(
        &self,
        req: &CommandRequest,
        commit: &str,
        base_ref: &str,
    ) -> Result<Option<RepoConfig>, Failure> {
        let mirror = self.mirror_dir(&req.repo);
        let overrides = self.settings.overrides.clone();
        let (commit, _base_ref) = (commit.to_string(), base_ref.to_string());
        let config = tokio::task::spawn_blocking(move || -> anyhow::Result<RepoConfig> {
            let repo = agent::repo::Repo::open(&mirror)?.with_overrides(overrides);
            let oid = repo.resolve(&commit)?;
            Ok(repo
                .settings_at(oid)?
                .map(|a| a.config)
                .unwrap_or(RepoConfig::parse("", agent::config::FILE_NAME)?))
        })
        .await;
        match config {
            Ok(Ok(c)) => Ok(Some(c)),
            Ok(Err(e)) => {
                tracing::warn!("cannot read the pipeline's settings: {e:#}");
                Ok(None)
            }
            Err(e) => {
                tracing::warn!("cannot read the pipeline's settings: {e}");
                Ok(None)
            }
        }
    }

    /// Queues the pipeline's stage job; while one is still finishing, tries again for a while
    /// (an active job of the same pull request and commit is not made twice).
    async fn enqueue_stage(
        &self,
        req: &CommandRequest,
        commit: &str,
        base_ref: &str,
    ) -> Result<(), Failure> {
        let Ok(commit) = CommitSha::parse(commit) else {
            return Ok(());
        };
        let stage = crate::jobs::StageRequest {
            repo: req.repo.clone(),
            pr: req.pr,
            commit,
            base_ref: base_ref.to_string(),
        };
        for _ in 0..60 {
            let made = self
                .store
                .enqueue(&[crate::jobs::stage_job(&stage)])
                .await
                .map_err(store_failure)?;
            if !made.is_empty() {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        tracing::warn!(
            "a stage job of {} is still active; it takes the gate up",
            req.pr
        );
        Ok(())
    }
}

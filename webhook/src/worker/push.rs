//! A push to the default branch: every open pull request whose planned units read a file the
//! push changed is planned again, and its comment says why. A pull request the push leaves
//! alone keeps its plan.

use agent::repo::Repo;
use agent::store::{CommitSha, PrNumber};

use super::{store_failure, Ended, Failure, Worker};
use crate::github::client::RepoClient;
use crate::github::events::PushEvent;
use crate::jobs::PlanRequest;

/// At most this many files are named in a re-plan's reason.
const NAMED_FILES: usize = 3;

impl Worker {
    pub(super) async fn push(&self, push: PushEvent) -> Ended {
        let gh = match self.github.repo(&push.repo.name, push.repo.installation) {
            Ok(gh) => gh,
            Err(e) => return Ended::Failed(e.to_string()),
        };
        match self.push_inner(&gh, &push).await {
            Ok(e) => e,
            Err(Failure::Stopped) => Ended::Stopped,
            Err(e) => Ended::Failed(e.to_string()),
        }
    }

    async fn push_inner(&self, gh: &RepoClient, push: &PushEvent) -> Result<Ended, Failure> {
        let branch = push
            .git_ref
            .strip_prefix("refs/heads/")
            .unwrap_or(&push.git_ref)
            .to_string();
        let (Ok(before), Ok(after)) = (
            CommitSha::parse(&push.before),
            CommitSha::parse(&push.after),
        ) else {
            return Ok(Ended::Done(
                "a branch made or deleted: nothing to compare".into(),
            ));
        };
        let pulls = gh.open_pulls(&branch).await?;
        let mut replanned = Vec::new();
        for (pr, head) in pulls {
            let prepared = match self.prepare(gh, &push.repo, pr, &head, &branch).await? {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(pr = pr.0, "cannot evaluate after the push: {e:#}");
                    continue;
                }
            };
            let Some(why) = self
                .moved_under(&push.repo, &prepared, &before, &after)
                .await
            else {
                continue;
            };
            let job = crate::jobs::plan_job(PlanRequest {
                repo: push.repo.clone(),
                pr,
                head,
                base_ref: Some(branch.clone()),
                reason: format!("{branch} moved to {}: {why}", after.short()),
                units: None,
                fork_allowed: false,
            });
            self.store.enqueue(&[job]).await.map_err(store_failure)?;
            replanned.push(pr);
        }
        Ok(Ended::Done(format!(
            "{} pull request(s) planned again{}",
            replanned.len(),
            if replanned.is_empty() {
                String::new()
            } else {
                format!(
                    ": {}",
                    replanned
                        .iter()
                        .map(PrNumber::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        )))
    }

    /// Why the push from `before` to `after` changes what `prepared`'s units read, when it
    /// does: "modules/app/main.tf changed, which live/prod/app reads".
    async fn moved_under(
        &self,
        repo: &crate::github::events::Repository,
        prepared: &crate::review::Prepared,
        before: &CommitSha,
        after: &CommitSha,
    ) -> Option<String> {
        let mirror = self.mirror_dir(repo);
        let (before, after) = (before.clone(), after.clone());
        let changes = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let repo = Repo::open(&mirror)?;
            let git = agent::git::open(repo.dir())?;
            let from = agent::git::resolve(&git, before.as_str())?;
            let to = agent::git::resolve(&git, after.as_str())?;
            agent::git::changed_files(&git, from, to)
        })
        .await
        .ok()?
        .ok()?;
        let reasons =
            agent::affected::reasons_by_unit(&prepared.change.head_view.inventory, &changes);
        let mut hits: Vec<(String, String)> = Vec::new();
        for unit in &prepared.to_plan {
            if reasons.contains_key(unit) {
                let file = changes
                    .iter()
                    .map(|c| c.path.clone())
                    .find(|p| agent::config::path_has_prefix(p, unit))
                    .unwrap_or_else(|| changes.first().map(|c| c.path.clone()).unwrap_or_default());
                hits.push((unit.clone(), file));
            }
        }
        if hits.is_empty() {
            return None;
        }
        let named: Vec<String> = reasons
            .iter()
            .filter(|(u, _)| hits.iter().any(|(h, _)| h == *u))
            .take(NAMED_FILES)
            .map(|(unit, why)| {
                let what = why
                    .iter()
                    .next()
                    .map(ToString::to_string)
                    .unwrap_or_else(|| "a file it reads changed".into());
                format!("{unit}: {what}")
            })
            .collect();
        Some(format!(
            "{}{}",
            named.join("; "),
            if hits.len() > NAMED_FILES {
                format!("; and {} more unit(s)", hits.len() - NAMED_FILES)
            } else {
                String::new()
            }
        ))
    }
}

//! What a delivery asks Slipway to do: [`Event`] -> the jobs to enqueue. Pure.

use agent::store::{CommitSha, JobKind, NewJob, PrNumber};
use serde::{Deserialize, Serialize};

use crate::github::events::{Event, PrAction, Repository};

/// The check runs Slipway publishes.
pub const PLAN_CHECK: &str = "slipway/plan";
pub const POLICY_CHECK: &str = "slipway/policy";
/// Fails while another pull request holds a lock on a unit the pull request plans.
pub const LOCK_CHECK: &str = "slipway/lock";

/// How deliveries become jobs.
#[derive(Debug, Clone, Copy, Default)]
pub struct JobPolicy {
    /// Plan draft pull requests too (default: wait until they are ready for review).
    pub plan_drafts: bool,
}

/// The payload of a [`JobKind::Plan`] job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRequest {
    pub repo: Repository,
    pub pr: PrNumber,
    pub head: CommitSha,
    /// The branch the pull request merges into; `None` when the event did not say (a check
    /// re-run): the worker asks GitHub.
    pub base_ref: Option<String>,
    /// Why the plan runs (`opened`, `synchronize`, `check re-run by ada`, ...).
    pub reason: String,
    /// Only these units (a `/plan` naming targets); `None`: every affected unit.
    #[serde(default)]
    pub units: Option<Vec<String>>,
    /// A pull request from a fork is planned with the roles this once (a `/plan` by someone
    /// with write permission).
    #[serde(default)]
    pub fork_allowed: bool,
}

/// The payload of a [`JobKind::ApplyStage`] job: run the merged pull request's pipeline as far
/// as it may go now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageRequest {
    pub repo: Repository,
    pub pr: PrNumber,
    /// The merge commit.
    pub commit: CommitSha,
    /// The branch merged into.
    pub base_ref: String,
}

/// A job running `req`'s pipeline.
pub fn stage_job(req: &StageRequest) -> NewJob {
    NewJob {
        kind: JobKind::ApplyStage,
        repo: req.repo.name.clone(),
        pr: Some(req.pr),
        head: Some(req.commit.clone()),
        payload: to_value(req),
    }
}

/// The check run of an environment's apply stage.
pub fn apply_check(env: &str) -> String {
    format!("slipway/apply/{env}")
}

/// The payload of a [`JobKind::Command`] job: the commands a comment gave, parsed at the edge
/// (only the canonical command lines and the rendered reply to the lines that could not be
/// read are kept, never the comment itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRequest {
    pub repo: Repository,
    pub pr: PrNumber,
    pub comment_id: u64,
    pub author: String,
    /// The commands, one canonical line each (`/apply prod`).
    pub commands: Vec<String>,
    /// The reply to what could not be read, when something could not.
    pub error_reply: Option<String>,
    /// The lines that could not be read, for the audit.
    pub errors: Vec<String>,
}

/// The payload of a [`JobKind::Close`] job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseRequest {
    pub repo: Repository,
    pub pr: PrNumber,
    pub merged: bool,
    pub merge_commit: Option<CommitSha>,
}

/// The jobs an event makes (none for events Slipway only records).
pub fn jobs_for(event: &Event, policy: JobPolicy) -> Vec<NewJob> {
    match event {
        Event::PullRequest(e) => match e.action {
            PrAction::Opened
            | PrAction::Synchronize
            | PrAction::Reopened
            | PrAction::ReadyForReview => {
                // A fork's pull request is planned too: the worker holds back its units in
                // environments that do not allow forks, and says so.
                if e.draft && !policy.plan_drafts {
                    return Vec::new();
                }
                let reason = match e.action {
                    PrAction::Opened => "opened",
                    PrAction::Synchronize => "new commits",
                    PrAction::Reopened => "reopened",
                    _ => "ready for review",
                };
                vec![plan_job(PlanRequest {
                    repo: e.repo.clone(),
                    pr: e.pr,
                    head: e.head.clone(),
                    base_ref: Some(e.base_ref.clone()),
                    reason: reason.into(),
                    units: None,
                    fork_allowed: false,
                })]
            }
            PrAction::Closed => vec![NewJob {
                kind: JobKind::Close,
                repo: e.repo.name.clone(),
                pr: Some(e.pr),
                head: Some(e.head.clone()),
                payload: to_value(&CloseRequest {
                    repo: e.repo.clone(),
                    pr: e.pr,
                    merged: e.merged,
                    merge_commit: e.merge_commit.clone(),
                }),
            }],
            PrAction::ConvertedToDraft => Vec::new(),
        },
        Event::CheckRerun(e) if e.check_name.starts_with("slipway/") => e
            .prs
            .iter()
            .map(|pr| {
                plan_job(PlanRequest {
                    repo: e.repo.clone(),
                    pr: *pr,
                    head: e.head.clone(),
                    base_ref: None,
                    reason: format!("check re-run by {}", e.sender),
                    units: None,
                    fork_allowed: false,
                })
            })
            .collect(),
        Event::Push(e) if e.to_default_branch => vec![NewJob {
            kind: JobKind::Push,
            repo: e.repo.name.clone(),
            pr: None,
            head: CommitSha::parse(&e.after).ok(),
            payload: to_value(e),
        }],
        Event::Comment(e) => {
            // Read at the edge: a comment that says nothing to Slipway makes no job.
            let parsed =
                crate::command::parse_comment(&e.body, e.previous_body.as_deref(), e.author_is_bot);
            if parsed.is_empty() {
                return Vec::new();
            }
            let req = CommandRequest {
                repo: e.repo.clone(),
                pr: e.pr,
                comment_id: e.comment_id,
                author: e.author.clone(),
                commands: parsed.commands.iter().map(ToString::to_string).collect(),
                error_reply: parsed.error_reply(),
                errors: parsed
                    .errors
                    .iter()
                    .map(|l| match l.line {
                        Some(n) => format!("line {n}: {}", l.error),
                        None => l.error.to_string(),
                    })
                    .collect(),
            };
            vec![NewJob {
                kind: JobKind::Command,
                repo: e.repo.name.clone(),
                pr: Some(e.pr),
                head: None,
                payload: to_value(&req),
            }]
        }
        Event::CheckRerun(_) | Event::Push(_) | Event::Ping | Event::Ignored { .. } => Vec::new(),
    }
}

/// A plan job.
pub fn plan_job(req: PlanRequest) -> NewJob {
    NewJob {
        kind: JobKind::Plan,
        repo: req.repo.name.clone(),
        pr: Some(req.pr),
        head: Some(req.head.clone()),
        payload: to_value(&req),
    }
}

fn to_value<T: Serialize>(v: &T) -> serde_json::Value {
    // Slipway's own payload types always serialize.
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::events::{PullRequestEvent, Repository};
    use agent::store::RepoName;

    fn opened(from_fork: bool, draft: bool) -> Event {
        Event::PullRequest(PullRequestEvent {
            action: PrAction::Opened,
            repo: Repository {
                name: RepoName::parse("acme/infra").expect("name"),
                clone_url: "https://github.com/acme/infra.git".into(),
                default_branch: "main".into(),
                installation: None,
            },
            pr: PrNumber(1),
            head: CommitSha::parse(&"a".repeat(40)).expect("sha"),
            head_ref: "f".into(),
            base_ref: "main".into(),
            base: CommitSha::parse(&"b".repeat(40)).expect("sha"),
            draft,
            merged: false,
            merge_commit: None,
            author: "mallory".into(),
            from_fork,
            sender: "mallory".into(),
        })
    }

    #[test]
    fn drafts_are_not_planned_unless_the_service_says_so_and_forks_go_to_the_worker() {
        let none = JobPolicy::default();
        assert!(
            jobs_for(&opened(false, true), none).is_empty(),
            "a draft was planned"
        );
        assert_eq!(jobs_for(&opened(false, false), none).len(), 1);
        // The worker shows a fork's units as not planned, with the reason.
        assert_eq!(jobs_for(&opened(true, false), none).len(), 1);
        let all = JobPolicy { plan_drafts: true };
        assert_eq!(jobs_for(&opened(true, true), all).len(), 1);
    }
}

//! GitHub webhook payloads -> Slipway's own event type. This is the only module that sees
//! payload shapes: everything after it works with [`Event`].
//!
//! Only the fields Slipway uses are read, so a payload GitHub grows stays readable; a field
//! Slipway needs that is missing or malformed is an error naming it.

use agent::store::{CommitSha, PrNumber, RepoName};
use serde::{Deserialize, Serialize};

/// A webhook delivery, converted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    PullRequest(PullRequestEvent),
    Comment(CommentEvent),
    /// Someone asked GitHub to run Slipway's check again.
    CheckRerun(CheckRerunEvent),
    Push(PushEvent),
    /// GitHub's hello when a webhook is set up.
    Ping,
    /// An event or action Slipway does not act on (recorded, answered 202).
    Ignored {
        event: String,
        action: Option<String>,
    },
}

impl Event {
    /// The repository the event is about, when it is about one.
    pub fn repo(&self) -> Option<&Repository> {
        match self {
            Event::PullRequest(e) => Some(&e.repo),
            Event::Comment(e) => Some(&e.repo),
            Event::CheckRerun(e) => Some(&e.repo),
            Event::Push(e) => Some(&e.repo),
            Event::Ping | Event::Ignored { .. } => None,
        }
    }
}

/// The repository of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    pub name: RepoName,
    /// What the worker fetches (any URL git fetches; HTTPS with the installation token).
    pub clone_url: String,
    pub default_branch: String,
    /// The GitHub App installation the delivery came through, when it came through one.
    pub installation: Option<u64>,
}

/// What happened to a pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrAction {
    Opened,
    /// New commits were pushed to the head.
    Synchronize,
    Reopened,
    ReadyForReview,
    ConvertedToDraft,
    Closed,
}

impl PrAction {
    fn parse(s: &str) -> Option<PrAction> {
        Some(match s {
            "opened" => PrAction::Opened,
            "synchronize" => PrAction::Synchronize,
            "reopened" => PrAction::Reopened,
            "ready_for_review" => PrAction::ReadyForReview,
            "converted_to_draft" => PrAction::ConvertedToDraft,
            "closed" => PrAction::Closed,
            _ => return None,
        })
    }
}

/// A pull request event Slipway acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequestEvent {
    pub action: PrAction,
    pub repo: Repository,
    pub pr: PrNumber,
    pub head: CommitSha,
    pub head_ref: String,
    pub base_ref: String,
    pub base: CommitSha,
    pub draft: bool,
    /// Closed by a merge (only meaningful with [`PrAction::Closed`]).
    pub merged: bool,
    pub merge_commit: Option<CommitSha>,
    /// Who opened the pull request.
    pub author: String,
    /// Whether the head lives in another repository (a fork).
    pub from_fork: bool,
    pub sender: String,
}

/// A comment on a pull request, created or edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentEvent {
    pub repo: Repository,
    pub pr: PrNumber,
    pub comment_id: u64,
    pub body: String,
    /// The body before an edit (for an edit, only commands new in the edit count).
    pub previous_body: Option<String>,
    pub author: String,
    /// Written by a bot (Slipway's own comments included): never parsed for commands.
    pub author_is_bot: bool,
}

/// `check_run` re-requested on one of Slipway's check runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRerunEvent {
    pub repo: Repository,
    pub head: CommitSha,
    pub check_name: String,
    /// The pull requests of the head, as GitHub lists them.
    pub prs: Vec<PrNumber>,
    pub sender: String,
}

/// A push to a branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushEvent {
    pub repo: Repository,
    /// `refs/heads/main`, ...
    pub git_ref: String,
    pub before: String,
    pub after: String,
    /// The push is to the repository's default branch.
    pub to_default_branch: bool,
    pub sender: String,
}

/// A payload that does not carry what its event needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("the payload is not JSON: {0}")]
    NotJson(String),
    #[error("the {event} payload: {detail}")]
    Invalid { event: String, detail: String },
}

/// A delivery's body, converted, with the payload's `action` as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub event: Event,
    pub action: Option<String>,
}

/// Converts a delivery's body, given its `X-GitHub-Event` name, into an [`Event`].
pub fn parse(event: &str, body: &[u8]) -> Result<Event, EventError> {
    parse_delivery(event, body).map(|p| p.event)
}

/// [`parse`], keeping the payload's `action`.
pub fn parse_delivery(event: &str, body: &[u8]) -> Result<Parsed, EventError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| EventError::NotJson(e.to_string()))?;
    let action = value
        .get("action")
        .and_then(|a| a.as_str())
        .map(str::to_string);
    let event = convert(event, value, action.clone())?;
    Ok(Parsed { event, action })
}

fn convert(
    event: &str,
    value: serde_json::Value,
    action: Option<String>,
) -> Result<Event, EventError> {
    let invalid = |detail: String| EventError::Invalid {
        event: event.to_string(),
        detail,
    };
    let ignored = || Event::Ignored {
        event: event.to_string(),
        action: action.clone(),
    };
    let read = |v: serde_json::Value| -> Result<Payload, EventError> {
        serde_path_to_error::deserialize(v).map_err(|e| invalid(e.to_string()))
    };
    match event {
        "ping" => Ok(Event::Ping),
        "pull_request" => {
            let Some(pr_action) = action.as_deref().and_then(PrAction::parse) else {
                return Ok(ignored());
            };
            let p = read(value)?;
            let repo = repository(&p).map_err(invalid)?;
            let pr = p
                .pull_request
                .ok_or_else(|| invalid("no pull_request".into()))?;
            let head_repo = pr.head.repo.as_ref().map(|r| r.full_name.as_str());
            Ok(Event::PullRequest(PullRequestEvent {
                action: pr_action,
                pr: PrNumber(pr.number),
                head: sha(&pr.head.sha, "pull_request.head.sha").map_err(invalid)?,
                head_ref: pr.head.r#ref,
                base_ref: pr.base.r#ref,
                base: sha(&pr.base.sha, "pull_request.base.sha").map_err(invalid)?,
                draft: pr.draft.unwrap_or(false),
                merged: pr.merged.unwrap_or(false),
                merge_commit: pr
                    .merge_commit_sha
                    .as_deref()
                    .map(|s| sha(s, "pull_request.merge_commit_sha"))
                    .transpose()
                    .map_err(invalid)?,
                author: pr.user.login,
                from_fork: head_repo != Some(repo.name.as_str()),
                sender: p.sender.map(|s| s.login).unwrap_or_default(),
                repo,
            }))
        }
        "issue_comment" => {
            if !matches!(action.as_deref(), Some("created" | "edited")) {
                return Ok(ignored());
            }
            let p = read(value)?;
            let repo = repository(&p).map_err(invalid)?;
            let issue = p.issue.ok_or_else(|| invalid("no issue".into()))?;
            // Comments on plain issues are not Slipway's business.
            if issue.pull_request.is_none() {
                return Ok(ignored());
            }
            let comment = p.comment.ok_or_else(|| invalid("no comment".into()))?;
            Ok(Event::Comment(CommentEvent {
                repo,
                pr: PrNumber(issue.number),
                comment_id: comment.id,
                body: comment.body.unwrap_or_default(),
                previous_body: p.changes.and_then(|c| c.body).map(|b| b.from),
                author_is_bot: comment.user.r#type.as_deref() == Some("Bot")
                    || comment.user.login.ends_with("[bot]"),
                author: comment.user.login,
            }))
        }
        "check_run" => {
            if action.as_deref() != Some("rerequested") {
                return Ok(ignored());
            }
            let p = read(value)?;
            let repo = repository(&p).map_err(invalid)?;
            let run = p.check_run.ok_or_else(|| invalid("no check_run".into()))?;
            Ok(Event::CheckRerun(CheckRerunEvent {
                repo,
                head: sha(&run.head_sha, "check_run.head_sha").map_err(invalid)?,
                check_name: run.name,
                prs: run
                    .pull_requests
                    .iter()
                    .map(|p| PrNumber(p.number))
                    .collect(),
                sender: p.sender.map(|s| s.login).unwrap_or_default(),
            }))
        }
        "push" => {
            let p = read(value)?;
            let repo = repository(&p).map_err(invalid)?;
            let git_ref = p.r#ref.ok_or_else(|| invalid("no ref".into()))?;
            let to_default_branch = git_ref == format!("refs/heads/{}", repo.default_branch);
            Ok(Event::Push(PushEvent {
                git_ref,
                before: p.before.unwrap_or_default(),
                after: p.after.unwrap_or_default(),
                to_default_branch,
                sender: p.sender.map(|s| s.login).unwrap_or_default(),
                repo,
            }))
        }
        _ => Ok(ignored()),
    }
}

fn sha(s: &str, field: &str) -> Result<CommitSha, String> {
    CommitSha::parse(s).map_err(|e| format!("{field}: {e}"))
}

fn repository(p: &Payload) -> Result<Repository, String> {
    let r = p.repository.as_ref().ok_or("no repository")?;
    Ok(Repository {
        name: RepoName::parse(&r.full_name).map_err(|e| format!("repository.full_name: {e}"))?,
        clone_url: r.clone_url.clone().ok_or("no repository.clone_url")?,
        default_branch: r
            .default_branch
            .clone()
            .or_else(|| r.master_branch.clone())
            .unwrap_or_else(|| "main".into()),
        installation: p.installation.as_ref().map(|i| i.id),
    })
}

// The payload fields Slipway reads. Unknown fields are ignored; missing optional ones default.

#[derive(Deserialize)]
struct Payload {
    repository: Option<RepoPayload>,
    installation: Option<Installation>,
    sender: Option<User>,
    pull_request: Option<PullRequest>,
    issue: Option<Issue>,
    comment: Option<Comment>,
    changes: Option<Changes>,
    check_run: Option<CheckRun>,
    r#ref: Option<String>,
    before: Option<String>,
    after: Option<String>,
}

#[derive(Deserialize)]
struct RepoPayload {
    full_name: String,
    clone_url: Option<String>,
    default_branch: Option<String>,
    master_branch: Option<String>,
}

#[derive(Deserialize)]
struct Installation {
    id: u64,
}

#[derive(Deserialize)]
struct User {
    login: String,
    r#type: Option<String>,
}

#[derive(Deserialize)]
struct PullRequest {
    number: u64,
    head: Branch,
    base: Branch,
    draft: Option<bool>,
    merged: Option<bool>,
    merge_commit_sha: Option<String>,
    user: User,
}

#[derive(Deserialize)]
struct Branch {
    r#ref: String,
    sha: String,
    repo: Option<BranchRepo>,
}

#[derive(Deserialize)]
struct BranchRepo {
    full_name: String,
}

#[derive(Deserialize)]
struct Issue {
    number: u64,
    pull_request: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Comment {
    id: u64,
    body: Option<String>,
    user: User,
}

#[derive(Deserialize)]
struct Changes {
    body: Option<From>,
}

#[derive(Deserialize)]
struct From {
    from: String,
}

#[derive(Deserialize)]
struct CheckRun {
    head_sha: String,
    name: String,
    #[serde(default)]
    pull_requests: Vec<PrRef>,
}

#[derive(Deserialize)]
struct PrRef {
    number: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pr_payload(action: &str) -> String {
        serde_json::json!({
            "action": action,
            "number": 7,
            "pull_request": {
                "number": 7, "draft": false, "merged": false, "merge_commit_sha": null,
                "user": {"login": "ada", "type": "User"},
                "head": {"ref": "feature", "sha": "a".repeat(40), "repo": {"full_name": "acme/infra"}},
                "base": {"ref": "main", "sha": "b".repeat(40), "repo": {"full_name": "acme/infra"}}
            },
            "repository": {"full_name": "acme/infra", "clone_url": "https://github.com/acme/infra.git", "default_branch": "main"},
            "installation": {"id": 42},
            "sender": {"login": "ada"}
        })
        .to_string()
    }

    #[test]
    fn a_pull_request_becomes_slipways_event() {
        let Ok(Event::PullRequest(e)) = parse("pull_request", pr_payload("opened").as_bytes())
        else {
            panic!("not a pull request event");
        };
        assert_eq!(e.action, PrAction::Opened);
        assert_eq!(e.pr, PrNumber(7));
        assert_eq!(e.repo.name.as_str(), "acme/infra");
        assert_eq!(e.repo.installation, Some(42));
        assert!(!e.from_fork);
    }

    #[test]
    fn actions_slipway_does_not_act_on_are_ignored_not_errors() {
        assert_eq!(
            parse("pull_request", pr_payload("labeled").as_bytes()),
            Ok(Event::Ignored {
                event: "pull_request".into(),
                action: Some("labeled".into())
            })
        );
        assert!(matches!(
            parse("star", b"{\"action\":\"created\"}"),
            Ok(Event::Ignored { .. })
        ));
    }

    #[test]
    fn a_bad_field_is_named() {
        let body = pr_payload("opened").replace(&"a".repeat(40), "not-a-sha");
        let Err(e) = parse("pull_request", body.as_bytes()) else {
            panic!("a bad sha was accepted");
        };
        assert!(e.to_string().contains("pull_request.head.sha"), "{e}");
        assert!(matches!(
            parse("pull_request", b"{not json"),
            Err(EventError::NotJson(_))
        ));
    }
}

//! What the fake GitHub knows: repositories, pull requests, comments, check runs, rights, tokens,
//! and everything it was asked. Handlers change it under the fake's one lock; tests read it.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::faults::Fault;

/// A user or bot account. Accounts are created on first mention, with fresh ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The login, e.g. `alice` or `slipway[bot]`.
    pub login: String,
    /// GitHub's numeric id.
    pub id: u64,
    /// `User`, `Bot` (logins ending in `[bot]`) or `Organization` (repository owners).
    pub kind: String,
}

/// A repository, named `owner/name`.
#[derive(Debug, Clone, PartialEq)]
pub struct Repo {
    /// The owning organization's login.
    pub owner: String,
    /// The repository's name.
    pub name: String,
    /// GitHub's numeric id.
    pub id: u64,
    /// The default branch, `main` unless a test says otherwise.
    pub default_branch: String,
    /// Pull requests by number.
    pub pulls: BTreeMap<u64, PullRequest>,
    /// Collaborators' permission (`admin`, `maintain`, `write`, `triage`, `read`) by login.
    pub permissions: BTreeMap<String, String>,
}

impl Repo {
    /// `owner/name`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

/// What a test says about a pull request it opens with [`super::FakeGithub::add_pull`].
#[derive(Debug, Clone, PartialEq)]
pub struct PullSpec {
    /// The pull request's number (shared with issues).
    pub number: u64,
    /// The head commit.
    pub head_sha: String,
    /// The head branch.
    pub head_ref: String,
    /// The base branch.
    pub base_ref: String,
    /// The base commit.
    pub base_sha: String,
    /// The author's login.
    pub author: String,
    /// The title.
    pub title: String,
    /// `open` or `closed`.
    pub state: String,
    /// Whether it is a draft.
    pub draft: bool,
    /// Whether it was merged.
    pub merged: bool,
    /// GitHub's mergeability (`None`: not computed yet).
    pub mergeable: Option<bool>,
    /// The owner of the fork the head is in (`None`: the repository itself).
    pub fork_owner: Option<String>,
}

impl PullSpec {
    /// An open, mergeable pull request `number` from branch `feature` onto `main`, by `alice`.
    pub fn new(number: u64, head_sha: &str) -> PullSpec {
        PullSpec {
            number,
            head_sha: head_sha.to_string(),
            head_ref: "feature".to_string(),
            base_ref: "main".to_string(),
            base_sha: "0".repeat(40),
            author: "alice".to_string(),
            title: format!("Pull request {number}"),
            state: "open".to_string(),
            draft: false,
            merged: false,
            mergeable: Some(true),
            fork_owner: None,
        }
    }
}

/// A pull request and its reviews.
#[derive(Debug, Clone, PartialEq)]
pub struct PullRequest {
    /// What the test said about it (head, base, state...).
    pub spec: PullSpec,
    /// GitHub's numeric id (not the number).
    pub id: u64,
    /// Its reviews, oldest first.
    pub reviews: Vec<Review>,
    /// When it was opened.
    pub created_at: SystemTime,
}

/// A pull request review.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    /// GitHub's numeric id.
    pub id: u64,
    /// The reviewer's login.
    pub user: String,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED` or `PENDING`.
    pub state: String,
    /// The commit reviewed.
    pub commit_id: String,
    /// The review's text.
    pub body: String,
    /// When it was submitted.
    pub submitted_at: SystemTime,
}

/// An issue or pull request comment, with its history.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    /// GitHub's numeric id.
    pub id: u64,
    /// The GraphQL node id (what `minimizeComment` takes).
    pub node_id: String,
    /// `owner/name` of its repository.
    pub repo: String,
    /// The issue or pull request number it was posted on.
    pub issue_number: u64,
    /// Its author's login.
    pub author: String,
    /// The current body.
    pub body: String,
    /// Earlier bodies, oldest first: one per edit.
    pub previous_bodies: Vec<String>,
    /// The classifier it was minimized with (`OUTDATED`, ...), if it is minimized.
    pub minimized: Option<String>,
    /// Whether it was deleted (deleted comments are kept for tests to inspect).
    pub deleted: bool,
    /// When it was posted.
    pub created_at: SystemTime,
    /// When it was last edited.
    pub updated_at: SystemTime,
}

impl Comment {
    /// How many times it was edited.
    pub fn edits(&self) -> usize {
        self.previous_bodies.len()
    }
}

/// A reaction on a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    /// GitHub's numeric id.
    pub id: u64,
    /// The comment reacted to.
    pub comment_id: u64,
    /// Who reacted.
    pub user: String,
    /// `+1`, `-1`, `laugh`, `confused`, `heart`, `hooray`, `rocket` or `eyes`.
    pub content: String,
}

/// A check run and every request that shaped it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRun {
    /// GitHub's numeric id.
    pub id: u64,
    /// `owner/name` of its repository.
    pub repo: String,
    /// Its name, e.g. `slipway/plan`.
    pub name: String,
    /// The commit it reports on.
    pub head_sha: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    /// The conclusion once completed.
    pub conclusion: Option<String>,
    /// The output's title.
    pub title: Option<String>,
    /// The output's summary.
    pub summary: Option<String>,
    /// The output's text.
    pub text: Option<String>,
    /// Annotations, accumulated over the create and every update as GitHub does.
    pub annotations: Vec<Value>,
    /// The details URL.
    pub details_url: Option<String>,
    /// The integrator's id for the run.
    pub external_id: Option<String>,
    /// When it started.
    pub started_at: Option<String>,
    /// When it completed.
    pub completed_at: Option<String>,
    /// The body of the create request, then of every update, in order.
    pub updates: Vec<Value>,
}

/// One token the fake accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// The account acting with it.
    pub login: String,
    /// The installation it was issued for, if it is an installation token.
    pub installation_id: Option<u64>,
    /// When it stops being accepted.
    pub expires_at: Option<SystemTime>,
}

/// One request the fake received, as answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The HTTP method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// The description's path template it matched (`/graphql` for GraphQL), if any.
    pub route: Option<String>,
    /// The method of the operation it matched: the method sent, except that GitHub takes a
    /// `POST` where it describes a `PATCH` (clients that cannot send `PATCH` do so).
    pub operation_method: Option<String>,
    /// The body: JSON when it parsed, else a JSON string of the raw text; `None` when empty.
    pub body: Option<Value>,
    /// The status it was answered with.
    pub status: u16,
}

impl Request {
    /// `METHOD template` of the operation (a `POST` that GitHub takes as a `PATCH` counts as
    /// the `PATCH`), the key of [`super::FakeGithub::requests_per_route`].
    pub fn route_key(&self) -> String {
        format!(
            "{} {}",
            self.operation_method.as_deref().unwrap_or(&self.method),
            self.route.as_deref().unwrap_or(self.path.as_str())
        )
    }
}

/// A request GitHub would refuse or that its description does not allow, or a feature the fake
/// does not model. Any violation fails a service test.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The HTTP method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.method, self.path, self.message)
    }
}

/// The GitHub App the fake hosts: its id, slug and bot account.
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    /// The App's id (the JWT's issuer).
    pub id: u64,
    /// The App's slug; its bot account is `<slug>[bot]`.
    pub slug: String,
}

impl App {
    /// The login of the App's bot account.
    pub fn bot_login(&self) -> String {
        format!("{}[bot]", self.slug)
    }
}

/// Everything the fake GitHub knows. Tests read it through [`super::FakeGithub::with_state`] and
/// the inspection helpers.
#[derive(Debug)]
pub struct State {
    /// The App hosted (one installation per repository owner).
    pub app: App,
    /// Accounts by login.
    pub users: BTreeMap<String, User>,
    /// Repositories by `owner/name`.
    pub repos: BTreeMap<String, Repo>,
    /// Installation ids by owner login.
    pub installations: BTreeMap<String, u64>,
    /// Issue comments by id, deleted ones included.
    pub comments: BTreeMap<u64, Comment>,
    /// Reactions, oldest first.
    pub reactions: Vec<Reaction>,
    /// Check runs by id.
    pub check_runs: BTreeMap<u64, CheckRun>,
    /// Team members' role (`member`, `maintainer`) by (org, team slug, login).
    pub team_members: BTreeMap<(String, String, String), String>,
    /// Tokens accepted.
    pub tokens: BTreeMap<String, Token>,
    /// How many installation tokens were issued.
    pub tokens_issued: usize,
    /// Every request, in order of arrival.
    pub requests: Vec<Request>,
    /// Every violation, in order.
    pub violations: Vec<Violation>,
    /// Answers of the fake that do not match GitHub's description of them: bugs of the fake.
    pub defects: Vec<String>,
    /// Failures still to inject.
    pub faults: Vec<Fault>,
    /// How long every answer waits.
    pub delay: Duration,
    /// Requests counted against the primary rate limit this hour.
    pub rate_used: u64,
    /// When the primary rate limit resets.
    pub rate_reset: SystemTime,
    next_id: u64,
}

/// The primary rate limit of an installation, per hour.
pub const RATE_LIMIT: u64 = 5000;

impl State {
    pub(crate) fn new(app: App) -> State {
        State {
            app,
            users: BTreeMap::new(),
            repos: BTreeMap::new(),
            installations: BTreeMap::new(),
            comments: BTreeMap::new(),
            reactions: Vec::new(),
            check_runs: BTreeMap::new(),
            team_members: BTreeMap::new(),
            tokens: BTreeMap::new(),
            tokens_issued: 0,
            requests: Vec::new(),
            violations: Vec::new(),
            defects: Vec::new(),
            faults: Vec::new(),
            delay: Duration::ZERO,
            rate_used: 0,
            rate_reset: SystemTime::now() + Duration::from_secs(3600),
            next_id: 1000,
        }
    }

    /// A fresh id, unique across every kind of object.
    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The account `login`, created on first mention.
    pub(crate) fn user(&mut self, login: &str) -> User {
        if let Some(user) = self.users.get(login) {
            return user.clone();
        }
        let kind = if login.ends_with("[bot]") {
            "Bot"
        } else if self.repos.values().any(|r| r.owner == login) {
            "Organization"
        } else {
            "User"
        };
        let user = User {
            login: login.to_string(),
            id: self.next_id(),
            kind: kind.to_string(),
        };
        self.users.insert(login.to_string(), user.clone());
        user
    }

    /// The repository `owner/name`, if a test created it.
    pub fn repo(&self, owner: &str, name: &str) -> Option<&Repo> {
        self.repos.get(&format!("{owner}/{name}"))
    }

    /// The pull request `number` of `owner/name`.
    pub fn pull(&self, repo: &str, number: u64) -> Option<&PullRequest> {
        self.repos.get(repo).and_then(|r| r.pulls.get(&number))
    }

    /// The comments posted on `repo`'s issue or pull request `number`, deleted ones included,
    /// oldest first.
    pub fn comments_on(&self, repo: &str, number: u64) -> Vec<&Comment> {
        self.comments
            .values()
            .filter(|c| c.repo == repo && c.issue_number == number)
            .collect()
    }

    /// The comment with GraphQL node id `node_id`.
    pub fn comment_by_node_id(&self, node_id: &str) -> Option<&Comment> {
        self.comments.values().find(|c| c.node_id == node_id)
    }

    /// The reactions on comment `comment_id`, oldest first.
    pub fn reactions_on(&self, comment_id: u64) -> Vec<&Reaction> {
        self.reactions
            .iter()
            .filter(|r| r.comment_id == comment_id)
            .collect()
    }

    /// The check runs on `repo` at commit `sha`, oldest first.
    pub fn check_runs_at(&self, repo: &str, sha: &str) -> Vec<&CheckRun> {
        self.check_runs
            .values()
            .filter(|c| c.repo == repo && c.head_sha == sha)
            .collect()
    }

    /// The latest check run named `name` on `repo` at `sha`.
    pub fn check_run_named(&self, repo: &str, sha: &str, name: &str) -> Option<&CheckRun> {
        self.check_runs_at(repo, sha)
            .into_iter()
            .rev()
            .find(|c| c.name == name)
    }

    /// How many requests matched `METHOD template` (e.g.
    /// `POST /repos/{owner}/{repo}/issues/{issue_number}/comments`).
    pub fn count(&self, route_key: &str) -> usize {
        self.requests
            .iter()
            .filter(|r| r.route_key() == route_key)
            .count()
    }
}

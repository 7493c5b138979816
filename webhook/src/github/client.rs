//! Slipway's one GitHub client. It speaks to the REST API (and GraphQL for what REST cannot
//! do) through octocrab, which holds the authentication (a token, or a GitHub App whose
//! installation tokens it caches and refreshes before they expire) and the HTTP connection.
//! On top: retries with backoff on 5xx and on primary and secondary rate limits
//! (`Retry-After`, `x-ratelimit-reset`), a bound on concurrent calls, and Slipway's own types:
//! no octocrab type leaves this module.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent::store::{CommitSha, PrNumber, RepoName};
use http_body_util::BodyExt;
use octocrab::secrecy::{ExposeSecret, SecretString};
use octocrab::Octocrab;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

/// How Slipway authenticates to GitHub.
#[derive(Clone)]
pub enum Credentials {
    /// A personal access token or any token GitHub accepts as `Bearer`.
    Token(SecretString),
    /// A GitHub App: its id and its private key (PEM).
    App {
        app_id: u64,
        private_key: SecretString,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Token(_) => f.write_str("Token(..)"),
            Credentials::App { app_id, .. } => write!(f, "App {{ app_id: {app_id}, .. }}"),
        }
    }
}

/// How the client behaves.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// `https://api.github.com`, a GitHub Enterprise Server's `https://HOST/api/v3`, or a fake.
    pub api_url: String,
    /// At most this many calls in flight at once.
    pub max_concurrent: usize,
    /// A call that keeps failing for a retryable reason is given up after this long.
    pub retry_for: Duration,
    /// The first backoff; it doubles up to [`ClientSettings::max_backoff`].
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            api_url: "https://api.github.com".into(),
            max_concurrent: 8,
            retry_for: Duration::from_secs(600),
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// A call GitHub refused or that could not be made.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GithubError {
    /// GitHub answered with an error status that retrying does not change (4xx).
    #[error("GitHub answered {status} to {method} {route}: {message}")]
    Refused {
        status: u16,
        method: &'static str,
        route: String,
        message: String,
    },
    /// GitHub kept failing (5xx, rate limits, no connection) for the whole retry period.
    #[error("GitHub is unavailable for {method} {route}: {last}")]
    Unavailable {
        method: &'static str,
        route: String,
        last: String,
    },
    /// A creation's answer was lost or an error (5xx, no connection): it may or may not have
    /// been made. The caller looks for it before trying again.
    #[error("GitHub may or may not have made POST {route}: {last}")]
    Uncertain { route: String, last: String },
    #[error("GitHub's answer to {route} cannot be read: {detail}")]
    BadAnswer { route: String, detail: String },
    #[error("GitHub credentials: {0}")]
    Credentials(String),
}

impl GithubError {
    /// The resource does not exist (a deleted comment, a missing membership).
    pub fn is_not_found(&self) -> bool {
        matches!(self, GithubError::Refused { status: 404, .. })
    }
}

/// Counters a metrics endpoint can show.
#[derive(Debug, Default)]
pub struct ClientStats {
    pub calls: std::sync::atomic::AtomicU64,
    pub errors: std::sync::atomic::AtomicU64,
    pub retries: std::sync::atomic::AtomicU64,
    /// The last `x-ratelimit-remaining` seen, or -1.
    pub rate_limit_remaining: AtomicI64,
}

/// The client: one per process, shared.
#[derive(Debug, Clone)]
pub struct Github {
    inner: Arc<Inner>,
}

struct Inner {
    root: Octocrab,
    /// The GitHub App's id, when Slipway is one (its check runs are looked up by it).
    app_id: Option<u64>,
    /// `root` shared, for a plain token.
    token_client: Arc<Octocrab>,
    app: bool,
    settings: ClientSettings,
    gate: Semaphore,
    /// One client per installation, shared, so that its cached token is shared too (a copy of an
    /// octocrab client carries a copy of the cache).
    installations: Mutex<HashMap<u64, Arc<Octocrab>>>,
    stats: ClientStats,
    /// The login Slipway's comments are written by, once known.
    login: tokio::sync::OnceCell<String>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Github")
            .field("api_url", &self.settings.api_url)
            .field("app", &self.app)
            .finish_non_exhaustive()
    }
}

impl Github {
    pub fn new(credentials: &Credentials, settings: ClientSettings) -> Result<Github, GithubError> {
        // A call that hangs must not hold a worker (whose lease keeps being renewed) forever.
        let builder = Octocrab::builder()
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(Duration::from_secs(60)))
            .base_uri(settings.api_url.as_str())
            .map_err(|e| GithubError::Credentials(format!("the API URL: {e}")))?;
        let (builder, app) = match credentials {
            Credentials::Token(t) => (builder.personal_token(t.clone()), false),
            Credentials::App {
                app_id,
                private_key,
            } => {
                let key =
                    octocrab::EncodingKey::from_rsa_pem(private_key.expose_secret().as_bytes())
                        .map_err(|e| {
                            GithubError::Credentials(format!(
                                "the GitHub App private key is not an RSA key in PEM: {e}"
                            ))
                        })?;
                (builder.app((*app_id).into(), key), true)
            }
        };
        let root = builder
            .build()
            .map_err(|e| GithubError::Credentials(e.to_string()))?;
        Ok(Github {
            inner: Arc::new(Inner {
                app_id: match credentials {
                    Credentials::App { app_id, .. } => Some(*app_id),
                    Credentials::Token(_) => None,
                },
                token_client: Arc::new(root.clone()),
                root,
                app,
                gate: Semaphore::new(settings.max_concurrent.max(1)),
                settings,
                installations: Mutex::new(HashMap::new()),
                stats: ClientStats::default(),
                login: tokio::sync::OnceCell::new(),
            }),
        })
    }

    pub fn stats(&self) -> &ClientStats {
        &self.inner.stats
    }

    /// A client acting on `repo`, through `installation` when Slipway is a GitHub App.
    pub fn repo(
        &self,
        repo: &RepoName,
        installation: Option<u64>,
    ) -> Result<RepoClient, GithubError> {
        let crab = if self.inner.app {
            let id = installation.ok_or_else(|| {
                GithubError::Credentials(format!(
                    "the delivery for {repo} names no GitHub App installation"
                ))
            })?;
            let mut cache = self
                .inner
                .installations
                .lock()
                .map_err(|_| GithubError::Credentials("the token cache is poisoned".into()))?;
            match cache.get(&id) {
                Some(c) => c.clone(),
                None => {
                    let c = Arc::new(
                        self.inner
                            .root
                            .installation(id.into())
                            .map_err(|e| GithubError::Credentials(e.to_string()))?,
                    );
                    cache.insert(id, c.clone());
                    c
                }
            }
        } else {
            self.inner.token_client.clone()
        };
        Ok(RepoClient {
            github: self.clone(),
            crab,
            repo: repo.clone(),
        })
    }
}

/// A comment as listed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IssueComment {
    pub id: u64,
    pub node_id: String,
    #[serde(default)]
    pub body: Option<String>,
    pub user: Option<Login>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Login {
    pub login: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// What a check run shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckRunBody {
    pub status: CheckStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<Conclusion>,
    pub output: CheckOutput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Queued,
    InProgress,
    Completed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Conclusion {
    Success,
    Failure,
    Neutral,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckOutput {
    pub title: String,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<Annotation>,
}

/// A note on a line of a file, shown in the pull request's files view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Annotation {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    /// `notice`, `warning` or `failure`.
    pub annotation_level: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// GitHub takes at most this many annotations per check-run request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;

/// What Slipway reads of a pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    pub number: PrNumber,
    pub head: CommitSha,
    pub base_ref: String,
    pub state: String,
    pub draft: bool,
    pub merged: bool,
    /// GitHub's mergeability; `None` while GitHub is still computing it.
    pub mergeable: Option<bool>,
    /// The author's login.
    pub author: String,
    /// The head is in another repository (a fork).
    pub from_fork: bool,
}

/// A review of a pull request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReviewInfo {
    /// The reviewer's login.
    pub user: String,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED`, ...
    pub state: String,
    /// The commit the review was given on.
    pub commit_id: Option<String>,
}

/// A GitHub account as answers name it.
#[derive(Debug, Clone, Deserialize)]
struct User {
    login: String,
}

/// A check run on a commit, as the apply requirements read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInfo {
    pub name: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    pub conclusion: Option<String>,
}

/// A client for one repository.
#[derive(Debug, Clone)]
pub struct RepoClient {
    github: Github,
    crab: Arc<Octocrab>,
    repo: RepoName,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
    /// A POST that makes something (a comment, a check run): not retried blindly, since a
    /// failed answer may follow a creation GitHub did make.
    Create,
    Patch,
    Delete,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post | Method::Create => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

impl RepoClient {
    pub fn repo(&self) -> &RepoName {
        &self.repo
    }

    /// A token for git over HTTPS: the installation token (refreshed when near expiry), or the
    /// plain token. `None` when the client has no token to give.
    pub async fn git_token(&self) -> Result<Option<SecretString>, GithubError> {
        if self.github.inner.app {
            self.crab
                .installation_token()
                .await
                .map(Some)
                .map_err(|e| GithubError::Credentials(format!("installation token: {e}")))
        } else {
            Ok(None)
        }
    }

    /// The login Slipway acts as: the token's user, or the App's bot (`<slug>[bot]`).
    pub async fn login(&self) -> Result<String, GithubError> {
        let inner = &self.github.inner;
        inner
            .login
            .get_or_try_init(|| async {
                #[derive(Deserialize)]
                struct Who {
                    login: Option<String>,
                    slug: Option<String>,
                }
                if inner.app {
                    // `/app` takes the App's own token, not an installation's.
                    let answer =
                        inner
                            .root
                            ._get("/app")
                            .await
                            .map_err(|e| GithubError::Unavailable {
                                method: "GET",
                                route: "/app".into(),
                                last: e.to_string(),
                            })?;
                    let body = answer
                        .into_body()
                        .collect()
                        .await
                        .map_err(|e| GithubError::BadAnswer {
                            route: "/app".into(),
                            detail: e.to_string(),
                        })?
                        .to_bytes();
                    let who: Who =
                        serde_json::from_slice(&body).map_err(|e| GithubError::BadAnswer {
                            route: "/app".into(),
                            detail: e.to_string(),
                        })?;
                    who.slug
                        .map(|s| format!("{s}[bot]"))
                        .ok_or_else(|| GithubError::BadAnswer {
                            route: "/app".into(),
                            detail: "no slug".into(),
                        })
                } else {
                    let who: Who = self.json(Method::Get, "/user", None).await?;
                    who.login.ok_or_else(|| GithubError::BadAnswer {
                        route: "/user".into(),
                        detail: "no login".into(),
                    })
                }
            })
            .await
            .cloned()
    }

    fn path(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", self.repo.owner(), self.repo.name())
    }

    /// One call with retries. `route` is relative to the API URL.
    async fn call(
        &self,
        method: Method,
        route: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, GithubError> {
        let settings = &self.github.inner.settings;
        let stats = &self.github.inner.stats;
        let started = std::time::Instant::now();
        let mut backoff = settings.first_backoff;
        loop {
            let outcome = {
                let _permit =
                    self.github.inner.gate.acquire().await.map_err(|_| {
                        GithubError::Credentials("the client is shutting down".into())
                    })?;
                stats.calls.fetch_add(1, Ordering::Relaxed);
                self.send_once(method, route, body).await
            };
            let wait = match outcome {
                Ok(answer) if answer.status < 400 => return Ok(answer),
                Ok(answer) => {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                    let message = error_message(&answer.body);
                    match retry_wait(answer.status, &answer.headers, &message) {
                        // A 5xx may come after the creation was made: the caller looks first.
                        Some(_) if method == Method::Create && answer.status >= 500 => {
                            return Err(GithubError::Uncertain {
                                route: route.to_string(),
                                last: format!("{} {message}", answer.status),
                            })
                        }
                        Some(w) => (w, format!("{} {message}", answer.status)),
                        None => {
                            return Err(GithubError::Refused {
                                status: answer.status,
                                method: method.name(),
                                route: route.to_string(),
                                message,
                            })
                        }
                    }
                }
                Err(e) if method == Method::Create => {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                    return Err(GithubError::Uncertain {
                        route: route.to_string(),
                        last: e,
                    });
                }
                Err(e) => {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                    (None, e)
                }
            };
            let (wait, last) = wait;
            // GitHub's own word (`Retry-After`, the limit's reset) is waited out in full; the
            // backoff doubles up to its cap. Past the retry period the call is given up.
            let wait = wait.unwrap_or(backoff);
            if started.elapsed() + wait > settings.retry_for {
                return Err(GithubError::Unavailable {
                    method: method.name(),
                    route: route.to_string(),
                    last,
                });
            }
            stats.retries.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                route,
                wait_ms = wait.as_millis() as u64,
                "GitHub: {last}; retrying"
            );
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(settings.max_backoff);
        }
    }

    async fn send_once(
        &self,
        method: Method,
        route: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, String> {
        let response = match method {
            Method::Get => self.crab._get(route).await,
            Method::Post | Method::Create => self.crab._post(route, body).await,
            Method::Patch => self.crab._patch(route, body).await,
            Method::Delete => self.crab._delete(route, body).await,
        }
        .map_err(|e| format!("{e}"))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if let Some(left) = headers
            .get("x-ratelimit-remaining")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i64>().ok())
        {
            self.github
                .inner
                .stats
                .rate_limit_remaining
                .store(left, Ordering::Relaxed);
        }
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("reading the answer: {e}"))?
            .to_bytes()
            .to_vec();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        route: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T, GithubError> {
        let answer = self.call(method, route, body).await?;
        serde_json::from_slice(&answer.body).map_err(|e| GithubError::BadAnswer {
            route: route.to_string(),
            detail: e.to_string(),
        })
    }

    /// Posts a comment on a pull request; returns its id and node id.
    pub async fn create_comment(
        &self,
        pr: PrNumber,
        body: &str,
    ) -> Result<IssueComment, GithubError> {
        let route = self.path(&format!("/issues/{}/comments", pr.0));
        self.json(
            Method::Create,
            &route,
            Some(&serde_json::json!({ "body": body })),
        )
        .await
    }

    pub async fn update_comment(&self, id: u64, body: &str) -> Result<IssueComment, GithubError> {
        let route = self.path(&format!("/issues/comments/{id}"));
        self.json(
            Method::Patch,
            &route,
            Some(&serde_json::json!({ "body": body })),
        )
        .await
    }

    /// Deletes a comment; one already gone is not an error.
    pub async fn delete_comment(&self, id: u64) -> Result<(), GithubError> {
        let route = self.path(&format!("/issues/comments/{id}"));
        match self.call(Method::Delete, &route, None).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every comment of a pull request, oldest first (all pages).
    pub async fn list_comments(&self, pr: PrNumber) -> Result<Vec<IssueComment>, GithubError> {
        self.all_pages(&self.path(&format!("/issues/{}/comments", pr.0)))
            .await
    }

    /// Every item of a listing, oldest first: pages of 100 followed by their `Link` header.
    async fn all_pages<T: serde::de::DeserializeOwned>(
        &self,
        base: &str,
    ) -> Result<Vec<T>, GithubError> {
        let mut all = Vec::new();
        let mut page = 1;
        let join = if base.contains('?') { '&' } else { '?' };
        loop {
            let route = format!("{base}{join}per_page=100&page={page}");
            let answer = self.call(Method::Get, &route, None).await?;
            let batch: Vec<T> =
                serde_json::from_slice(&answer.body).map_err(|e| GithubError::BadAnswer {
                    route: route.clone(),
                    detail: e.to_string(),
                })?;
            let more = answer
                .headers
                .get("link")
                .and_then(|l| l.to_str().ok())
                .is_some_and(|l| l.contains("rel=\"next\""));
            let n = batch.len();
            all.extend(batch);
            if !more || n == 0 || page >= 100 {
                return Ok(all);
            }
            page += 1;
        }
    }

    /// Folds a comment away as outdated (GraphQL `minimizeComment`; REST cannot).
    pub async fn minimize_comment(&self, node_id: &str) -> Result<(), GithubError> {
        let body = serde_json::json!({
            "query": "mutation($id: ID!) { minimizeComment(input: {subjectId: $id, classifier: OUTDATED}) { minimizedComment { isMinimized } } }",
            "variables": { "id": node_id },
        });
        let answer: serde_json::Value = self.json(Method::Post, "/graphql", Some(&body)).await?;
        if let Some(errors) = answer.get("errors").filter(|e| !e.is_null()) {
            return Err(GithubError::Refused {
                status: 200,
                method: "POST",
                route: "/graphql".into(),
                message: errors.to_string(),
            });
        }
        Ok(())
    }

    /// Reacts to a comment (`eyes`, `+1`, `confused`, ...).
    pub async fn react(&self, comment_id: u64, content: &str) -> Result<(), GithubError> {
        let route = self.path(&format!("/issues/comments/{comment_id}/reactions"));
        self.call(
            Method::Post,
            &route,
            Some(&serde_json::json!({ "content": content })),
        )
        .await
        .map(|_| ())
    }

    /// Creates a check run on `head`; returns its id. Annotations beyond the first 50 are sent
    /// by [`RepoClient::update_check_run`] in batches, as GitHub requires.
    pub async fn create_check_run(
        &self,
        name: &str,
        head: &CommitSha,
        run: &CheckRunBody,
    ) -> Result<u64, GithubError> {
        let (first, rest) = split_annotations(run);
        let mut body = serde_json::to_value(&first).map_err(|e| GithubError::BadAnswer {
            route: "check-runs".into(),
            detail: e.to_string(),
        })?;
        body["name"] = name.into();
        body["head_sha"] = head.as_str().into();
        #[derive(Deserialize)]
        struct Made {
            id: u64,
        }
        let made: Made = self
            .json(Method::Create, &self.path("/check-runs"), Some(&body))
            .await?;
        for batch in rest {
            self.patch_check_run(made.id, &batch).await?;
        }
        Ok(made.id)
    }

    /// Updates a check run; annotations go 50 per request.
    pub async fn update_check_run(&self, id: u64, run: &CheckRunBody) -> Result<(), GithubError> {
        let (first, rest) = split_annotations(run);
        self.patch_check_run(id, &first).await?;
        for batch in rest {
            self.patch_check_run(id, &batch).await?;
        }
        Ok(())
    }

    async fn patch_check_run(&self, id: u64, run: &CheckRunBody) -> Result<(), GithubError> {
        let body = serde_json::to_value(run).map_err(|e| GithubError::BadAnswer {
            route: "check-runs".into(),
            detail: e.to_string(),
        })?;
        self.call(
            Method::Patch,
            &self.path(&format!("/check-runs/{id}")),
            Some(&body),
        )
        .await
        .map(|_| ())
    }

    /// The check runs named `name` on `head`, newest first (ids).
    pub async fn find_check_runs(
        &self,
        head: &CommitSha,
        name: &str,
    ) -> Result<Vec<u64>, GithubError> {
        #[derive(Deserialize)]
        struct List {
            check_runs: Vec<Item>,
        }
        #[derive(Deserialize)]
        struct Item {
            id: u64,
        }
        // Only Slipway's own: a workflow job of the same name is another app's check run.
        let app = self
            .github
            .inner
            .app_id
            .map(|id| format!("&app_id={id}"))
            .unwrap_or_default();
        let route = self.path(&format!(
            "/commits/{head}/check-runs?check_name={}&per_page=100{app}",
            percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC)
        ));
        let list: List = self.json(Method::Get, &route, None).await?;
        Ok(list.check_runs.into_iter().map(|i| i.id).collect())
    }

    /// The open pull requests into `base` (a branch): number and head.
    pub async fn open_pulls(&self, base: &str) -> Result<Vec<(PrNumber, CommitSha)>, GithubError> {
        #[derive(Deserialize)]
        struct Pr {
            number: u64,
            head: Head,
        }
        #[derive(Deserialize)]
        struct Head {
            sha: String,
        }
        let route = self.path(&format!(
            "/pulls?state=open&base={}",
            percent_encoding::utf8_percent_encode(base, percent_encoding::NON_ALPHANUMERIC)
        ));
        let pulls: Vec<Pr> = self.all_pages(&route).await?;
        Ok(pulls
            .into_iter()
            .filter_map(|p| Some((PrNumber(p.number), CommitSha::parse(&p.head.sha).ok()?)))
            .collect())
    }

    /// The reviews of a pull request, oldest first.
    pub async fn reviews(&self, pr: PrNumber) -> Result<Vec<ReviewInfo>, GithubError> {
        #[derive(Deserialize)]
        struct Review {
            user: Option<User>,
            state: String,
            commit_id: Option<String>,
        }
        let reviews: Vec<Review> = self
            .all_pages(&self.path(&format!("/pulls/{}/reviews", pr.0)))
            .await?;
        Ok(reviews
            .into_iter()
            .filter_map(|r| {
                Some(ReviewInfo {
                    user: r.user?.login,
                    state: r.state,
                    commit_id: r.commit_id,
                })
            })
            .collect())
    }

    /// `login`'s permission on the repository (its role, as fine-grained as GitHub tells:
    /// `maintain` and `triage` included); `None` for someone who is no collaborator.
    pub async fn permission(
        &self,
        login: &str,
    ) -> Result<Option<agent::config::Permission>, GithubError> {
        use agent::config::Permission;
        #[derive(Deserialize)]
        struct Answer {
            permission: String,
            role_name: Option<String>,
        }
        let route = self.path(&format!(
            "/collaborators/{}/permission",
            percent_encoding::utf8_percent_encode(login, percent_encoding::NON_ALPHANUMERIC)
        ));
        let a: Answer = match self.json(Method::Get, &route, None).await {
            Ok(a) => a,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let role = a.role_name.unwrap_or(a.permission);
        Ok(match role.as_str() {
            "admin" => Some(Permission::Admin),
            "maintain" => Some(Permission::Maintain),
            "write" => Some(Permission::Write),
            "triage" => Some(Permission::Triage),
            "read" => Some(Permission::Read),
            _ => None,
        })
    }

    /// Whether `login` is an active member of the team `org/slug`.
    pub async fn is_team_member(
        &self,
        org: &str,
        slug: &str,
        login: &str,
    ) -> Result<bool, GithubError> {
        #[derive(Deserialize)]
        struct Membership {
            state: String,
        }
        let enc = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        let route = format!(
            "/orgs/{}/teams/{}/memberships/{}",
            enc(org),
            enc(slug),
            enc(login)
        );
        match self.json::<Membership>(Method::Get, &route, None).await {
            Ok(m) => Ok(m.state == "active"),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Every check run on `head` (first 100 pages' worth), of every app.
    pub async fn check_runs(&self, head: &CommitSha) -> Result<Vec<CheckInfo>, GithubError> {
        #[derive(Deserialize)]
        struct List {
            check_runs: Vec<Item>,
        }
        #[derive(Deserialize)]
        struct Item {
            name: String,
            status: String,
            conclusion: Option<String>,
        }
        let route = self.path(&format!("/commits/{head}/check-runs?per_page=100"));
        let list: List = self.json(Method::Get, &route, None).await?;
        Ok(list
            .check_runs
            .into_iter()
            .map(|i| CheckInfo {
                name: i.name,
                status: i.status,
                conclusion: i.conclusion,
            })
            .collect())
    }

    pub async fn pull_request(&self, pr: PrNumber) -> Result<PullRequest, GithubError> {
        #[derive(Deserialize)]
        struct Pr {
            number: u64,
            state: String,
            draft: Option<bool>,
            merged: Option<bool>,
            mergeable: Option<bool>,
            user: Option<User>,
            head: Branch,
            base: Branch,
        }
        #[derive(Deserialize)]
        struct Branch {
            sha: String,
            r#ref: String,
            repo: Option<BranchRepo>,
        }
        #[derive(Deserialize)]
        struct BranchRepo {
            full_name: String,
        }
        let route = self.path(&format!("/pulls/{}", pr.0));
        let p: Pr = self.json(Method::Get, &route, None).await?;
        Ok(PullRequest {
            number: PrNumber(p.number),
            head: CommitSha::parse(&p.head.sha).map_err(|detail| GithubError::BadAnswer {
                route: route.clone(),
                detail,
            })?,
            // A head repository GitHub no longer shows (a deleted fork) counts as a fork.
            from_fork: match (&p.head.repo, &p.base.repo) {
                (Some(h), Some(b)) => h.full_name != b.full_name,
                _ => true,
            },
            base_ref: p.base.r#ref,
            state: p.state,
            draft: p.draft.unwrap_or(false),
            merged: p.merged.unwrap_or(false),
            mergeable: p.mergeable,
            author: p.user.map(|u| u.login).unwrap_or_default(),
        })
    }
}

/// The first request's share of a check run (at most 50 annotations) and the batches after.
fn split_annotations(run: &CheckRunBody) -> (CheckRunBody, Vec<CheckRunBody>) {
    let mut chunks = run.output.annotations.chunks(ANNOTATIONS_PER_REQUEST);
    let mut first = run.clone();
    first.output.annotations = chunks.next().map(<[_]>::to_vec).unwrap_or_default();
    let rest = chunks
        .map(|c| {
            let mut b = run.clone();
            b.output.annotations = c.to_vec();
            b
        })
        .collect();
    (first, rest)
}

/// An answer, read whole.
struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned())
}

/// How long to wait before retrying an error answer, or `None` when retrying cannot help.
/// 5xx: back off. 403/429 with `Retry-After` (a secondary rate limit) or with
/// `x-ratelimit-remaining: 0` (the primary limit): wait as told, or until the reset.
fn retry_wait(status: u16, headers: &http::HeaderMap, message: &str) -> Option<Option<Duration>> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    if status >= 500 {
        return Some(header("retry-after").map(Duration::from_secs));
    }
    if status == 403 || status == 429 {
        if let Some(s) = header("retry-after") {
            return Some(Some(Duration::from_secs(s)));
        }
        if header("x-ratelimit-remaining") == Some(0) {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let reset = header("x-ratelimit-reset").unwrap_or(now + 60);
            return Some(Some(Duration::from_secs(reset.saturating_sub(now) + 1)));
        }
        if message
            .to_ascii_lowercase()
            .contains("secondary rate limit")
        {
            return Some(Some(Duration::from_secs(60)));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secondary_and_primary_limits_and_5xx_are_retried_other_refusals_are_not() {
        let mut h = http::HeaderMap::new();
        assert_eq!(retry_wait(502, &h, ""), Some(None));
        assert_eq!(retry_wait(404, &h, "Not Found"), None);
        assert_eq!(
            retry_wait(403, &h, "Resource not accessible by integration"),
            None
        );
        h.insert("retry-after", http::HeaderValue::from_static("7"));
        assert_eq!(retry_wait(403, &h, ""), Some(Some(Duration::from_secs(7))));
        let mut h = http::HeaderMap::new();
        h.insert("x-ratelimit-remaining", http::HeaderValue::from_static("0"));
        assert!(matches!(retry_wait(429, &h, ""), Some(Some(_))));
    }

    #[test]
    fn annotations_go_fifty_per_request() {
        let a = Annotation {
            path: "live/x/terragrunt.hcl".into(),
            start_line: 1,
            end_line: 1,
            annotation_level: "warning",
            message: "m".into(),
            title: None,
        };
        let run = CheckRunBody {
            status: CheckStatus::Completed,
            conclusion: Some(Conclusion::Failure),
            output: CheckOutput {
                title: "t".into(),
                summary: "s".into(),
                text: None,
                annotations: vec![a; 120],
            },
        };
        let (first, rest) = split_annotations(&run);
        assert_eq!(first.output.annotations.len(), 50);
        assert_eq!(
            rest.iter()
                .map(|r| r.output.annotations.len())
                .collect::<Vec<_>>(),
            vec![50, 20]
        );
    }
}

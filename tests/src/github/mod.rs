//! A stateful fake GitHub for Slipway's end-to-end tests.
//!
//! [`FakeGithub::start`] serves GitHub's REST API and `POST /graphql` on a free port of
//! 127.0.0.1, on its own runtime in a background thread, so sync and async tests alike can use
//! it. Every request is recorded and checked against GitHub's official descriptions (REST:
//! `@octokit/openapi`; GraphQL: `@octokit/graphql-schema`, both installed by
//! `scripts/tools.sh github`): a request GitHub does not serve, a body its description does
//! not allow, or a limit GitHub enforces (65,536 characters a comment, 50 annotations a
//! request) is refused as GitHub would and recorded as a [`Violation`]. Tests set the world up
//! (repositories, pull requests, rights, comments by people), inject failures as flags
//! ([`Fault`]), and read what the service did ([`State`], [`FakeGithub::wait_until`]).
//!
//! Authentication: [`TOKEN`] acts as the App's bot account; an App JWT (any `a.b.c`) may read
//! `GET /repos/{owner}/{repo}/installation` and trade itself for an installation token at
//! `POST /app/installations/{id}/access_tokens`, valid for an hour.

mod apps;
mod checks;
mod comments;
mod faults;
mod graphql;
mod objects;
mod pulls;
mod rest;
mod rights;
mod server;
mod state;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

pub use apps::TOKEN_LIFETIME;
pub use comments::MAX_COMMENT_CHARS;
pub use faults::{Fault, FaultKind};
pub use state::{
    App, CheckRun, Comment, PullRequest, PullSpec, Reaction, Repo, Request, Review, State, Token,
    User, Violation, RATE_LIMIT,
};

use server::Shared;

/// A personal token the fake accepts from the start, acting as the App's bot account.
pub const TOKEN: &str = "ghp_slipwayfaketoken0000000000000000000";

/// The App the fake hosts: id 1, slug `slipway`, bot account `slipway[bot]`.
pub const APP_ID: u64 = 1;

/// A running fake GitHub. Dropping it stops the server.
pub struct FakeGithub {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeGithub {
    /// Starts a fake GitHub on a free port of 127.0.0.1, hosting the App `slipway` and
    /// accepting [`TOKEN`]. Panics, telling to run `scripts/tools.sh github`, when GitHub's
    /// descriptions are not installed.
    pub fn start() -> FakeGithub {
        rest::RestDescription::get();
        graphql::preload();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let addr = listener.local_addr().expect("the listener's address");
        let app = App {
            id: APP_ID,
            slug: "slipway".to_string(),
        };
        let mut state = State::new(app);
        let bot = state.app.bot_login();
        state.user(&bot);
        state.tokens.insert(
            TOKEN.to_string(),
            Token {
                login: bot,
                installation_id: None,
                expires_at: None,
            },
        );
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            changed: Condvar::new(),
            api: format!("http://{addr}"),
        });
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let for_server = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("fake-github".to_string())
            .spawn(move || serve(listener, for_server, stopped))
            .expect("spawn the fake GitHub's thread");
        FakeGithub {
            shared,
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// The API base URL, `http://127.0.0.1:PORT` (GraphQL is at `{url}/graphql`).
    pub fn url(&self) -> String {
        self.shared.api.clone()
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Runs `f` on the state, under the lock (keep it short; no waiting inside).
    pub fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self.shared.lock();
        let out = f(&mut state);
        drop(state);
        self.shared.changed.notify_all();
        out
    }

    // ---- the world, as tests set it up ----

    /// Creates the repository `owner/name` (default branch `main`), installs the App on its
    /// owner, and returns its id.
    pub fn add_repo(&self, owner: &str, name: &str) -> u64 {
        self.with_state(|s| {
            let full = format!("{owner}/{name}");
            if let Some(repo) = s.repos.get(&full) {
                return repo.id;
            }
            let id = s.next_id();
            s.repos.insert(
                full,
                Repo {
                    owner: owner.to_string(),
                    name: name.to_string(),
                    id,
                    default_branch: "main".to_string(),
                    pulls: BTreeMap::new(),
                    permissions: BTreeMap::new(),
                },
            );
            if let Some(user) = s.users.get_mut(owner) {
                user.kind = "Organization".to_string();
            }
            s.user(owner);
            if !s.installations.contains_key(owner) {
                let installation = s.next_id();
                s.installations.insert(owner.to_string(), installation);
            }
            id
        })
    }

    /// The installation id of the App on `owner`, once a repository of `owner` exists.
    pub fn installation_id(&self, owner: &str) -> Option<u64> {
        self.with_state(|s| s.installations.get(owner).copied())
    }

    /// Opens (or replaces) a pull request on `repo` (`owner/name`, created if needed).
    pub fn add_pull(&self, repo: &str, spec: PullSpec) {
        let (owner, name) = repo.split_once('/').expect("a repository named owner/name");
        self.add_repo(owner, name);
        self.with_state(|s| {
            let id = s.next_id();
            s.user(&spec.author);
            let created_at = SystemTime::now();
            if let Some(r) = s.repos.get_mut(repo) {
                let reviews = r
                    .pulls
                    .get(&spec.number)
                    .map(|p| p.reviews.clone())
                    .unwrap_or_default();
                r.pulls.insert(
                    spec.number,
                    PullRequest {
                        spec,
                        id,
                        reviews,
                        created_at,
                    },
                );
            }
        });
    }

    /// Changes a pull request already opened (a push: `|p| p.head_sha = ...`; a merge...).
    pub fn update_pull(&self, repo: &str, number: u64, change: impl FnOnce(&mut PullSpec)) {
        self.with_state(|s| {
            let pull = s
                .repos
                .get_mut(repo)
                .and_then(|r| r.pulls.get_mut(&number))
                .expect("update_pull on a pull request the test opened");
            change(&mut pull.spec);
        });
    }

    /// Adds a review by `user` (`APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`...) of `commit_id`.
    pub fn add_review(&self, repo: &str, number: u64, user: &str, state: &str, commit_id: &str) {
        self.with_state(|s| {
            let id = s.next_id();
            s.user(user);
            let pull = s
                .repos
                .get_mut(repo)
                .and_then(|r| r.pulls.get_mut(&number))
                .expect("add_review on a pull request the test opened");
            pull.reviews.push(Review {
                id,
                user: user.to_string(),
                state: state.to_string(),
                commit_id: commit_id.to_string(),
                body: String::new(),
                submitted_at: SystemTime::now(),
            });
        });
    }

    /// Posts a comment as `author` (a person, in a test), returning its id.
    pub fn add_comment(&self, repo: &str, number: u64, author: &str, body: &str) -> u64 {
        self.with_state(|s| comments::post(s, repo, number, author, body))
    }

    /// Gives `login` a permission on `repo`: `admin`, `maintain`, `write`, `triage` or `read`.
    pub fn set_permission(&self, repo: &str, login: &str, permission: &str) {
        self.with_state(|s| {
            s.user(login);
            s.repos
                .get_mut(repo)
                .expect("set_permission on a repository the test created")
                .permissions
                .insert(login.to_string(), permission.to_string());
        });
    }

    /// Makes `login` a member (`member` or `maintainer`) of team `team` of `org`.
    pub fn add_team_member(&self, org: &str, team: &str, login: &str, role: &str) {
        self.with_state(|s| {
            s.user(login);
            s.team_members.insert(
                (org.to_string(), team.to_string(), login.to_string()),
                role.to_string(),
            );
        });
    }

    /// Accepts `token` as acting for `login`.
    pub fn add_token(&self, token: &str, login: &str) {
        self.with_state(|s| {
            s.user(login);
            s.tokens.insert(
                token.to_string(),
                Token {
                    login: login.to_string(),
                    installation_id: None,
                    expires_at: None,
                },
            );
        });
    }

    /// Expires every installation token issued so far (as if an hour had passed).
    pub fn expire_installation_tokens(&self) {
        self.with_state(|s| {
            s.tokens.retain(|_, t| t.installation_id.is_none());
        });
    }

    // ---- failures, as flags ----

    /// Injects a failure into the next matching requests. Failed requests change nothing.
    pub fn inject(&self, fault: Fault) {
        self.with_state(|s| s.faults.push(fault));
    }

    /// The next `n` requests fail with server error `status`.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.inject(Fault::status(status).times(n));
    }

    /// Delays every answer by `delay` (zero: no delay).
    pub fn set_delay(&self, delay: Duration) {
        self.with_state(|s| s.delay = delay);
    }

    /// Removes every failure not yet injected.
    pub fn clear_faults(&self) {
        self.with_state(|s| s.faults.clear());
    }

    // ---- what happened ----

    /// The comments on `repo`'s pull request `number`, deleted ones included, oldest first.
    pub fn comments(&self, repo: &str, number: u64) -> Vec<Comment> {
        self.with_state(|s| s.comments_on(repo, number).into_iter().cloned().collect())
    }

    /// The comment `id`.
    pub fn comment(&self, id: u64) -> Option<Comment> {
        self.with_state(|s| s.comments.get(&id).cloned())
    }

    /// The reactions on comment `id`, oldest first.
    pub fn reactions(&self, comment_id: u64) -> Vec<Reaction> {
        self.with_state(|s| s.reactions_on(comment_id).into_iter().cloned().collect())
    }

    /// The check runs on `repo` at `sha`, oldest first.
    pub fn check_runs(&self, repo: &str, sha: &str) -> Vec<CheckRun> {
        self.with_state(|s| s.check_runs_at(repo, sha).into_iter().cloned().collect())
    }

    /// The latest check run named `name` on `repo` at `sha`, with all its updates.
    pub fn check_run(&self, repo: &str, sha: &str, name: &str) -> Option<CheckRun> {
        self.with_state(|s| s.check_run_named(repo, sha, name).cloned())
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.with_state(|s| s.requests.clone())
    }

    /// How many requests each `METHOD template` received.
    pub fn requests_per_route(&self) -> BTreeMap<String, usize> {
        self.with_state(|s| {
            let mut counts = BTreeMap::new();
            for r in &s.requests {
                *counts.entry(r.route_key()).or_insert(0) += 1;
            }
            counts
        })
    }

    /// How many requests `METHOD template` received, e.g.
    /// `count("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}")`.
    pub fn count(&self, route_key: &str) -> usize {
        self.with_state(|s| s.count(route_key))
    }

    /// How many installation tokens were issued (to check that the service caches them).
    pub fn tokens_issued(&self) -> usize {
        self.with_state(|s| s.tokens_issued)
    }

    /// Every violation so far.
    pub fn violations(&self) -> Vec<Violation> {
        self.with_state(|s| s.violations.clone())
    }

    /// Forgets the violations so far (after a test provoked some on purpose).
    pub fn take_violations(&self) -> Vec<Violation> {
        self.with_state(|s| std::mem::take(&mut s.violations))
    }

    /// Panics listing the violations, if any.
    pub fn assert_no_violations(&self) {
        let violations = self.violations();
        assert!(
            violations.is_empty(),
            "the fake GitHub saw requests GitHub would refuse:\n  {}",
            violations
                .iter()
                .map(Violation::to_string)
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }

    /// Answers of the fake that GitHub's description does not allow: bugs of the fake itself.
    pub fn defects(&self) -> Vec<String> {
        self.with_state(|s| s.defects.clone())
    }

    // ---- waiting for the service ----

    /// Blocks until `condition` holds on the state, or `timeout` passes; tells which. Woken by
    /// every request. For sync tests; async tests use [`FakeGithub::wait_until_async`].
    pub fn wait_until(&self, timeout: Duration, condition: impl FnMut(&State) -> bool) -> bool {
        let mut condition = condition;
        self.wait_for(timeout, |s| condition(s).then_some(()))
            .is_some()
    }

    /// Blocks until `probe` returns something on the state, or `timeout` passes.
    pub fn wait_for<T>(
        &self,
        timeout: Duration,
        mut probe: impl FnMut(&State) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if let Some(found) = probe(&state) {
                return Some(found);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits, without blocking the async runtime, until `condition` holds or `timeout` passes.
    pub async fn wait_until_async(
        &self,
        timeout: Duration,
        mut condition: impl FnMut(&State) -> bool,
    ) -> bool {
        self.wait_for_async(timeout, |s| condition(s).then_some(()))
            .await
            .is_some()
    }

    /// Waits, without blocking the async runtime, until `probe` returns something.
    pub async fn wait_for_async<T>(
        &self,
        timeout: Duration,
        mut probe: impl FnMut(&State) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(found) = probe(&self.shared.lock()) {
                return Some(found);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for FakeGithub {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves until told to stop; in-flight connections are dropped with the runtime.
fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the fake GitHub's runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
        let app = axum::Router::new().fallback(
            move |method: axum::http::Method,
                  uri: axum::http::Uri,
                  headers: axum::http::HeaderMap,
                  body: axum::body::Bytes| {
                server::handle(Arc::clone(&shared), method, uri, headers, body)
            },
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let _ = stopped.await;
    });
}

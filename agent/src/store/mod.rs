//! The durable store: webhook deliveries, the job queue with leases, unit runs, and the ids of
//! what Slipway posted (sticky comments, check runs) so that a retried job edits rather than
//! posts again.
//!
//! One interface, [`Store`], two implementations with the same schema: SQLite (the embedded
//! default, one file in the data directory) and PostgreSQL (several replicas share one queue,
//! jobs claimed with `FOR UPDATE SKIP LOCKED`). Migrations run when a store is opened.
//!
//! The store knows repositories, change numbers and commits, never GitHub's payloads: the
//! service converts a delivery into a [`NewJob`] at its edge.

mod postgres;
mod rows;
mod sqlite;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// A repository's full name, `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RepoName(String);

impl RepoName {
    /// `owner/name`: exactly one `/`, neither side empty, no whitespace or control characters.
    pub fn parse(s: &str) -> std::result::Result<RepoName, String> {
        let ok = s.split('/').count() == 2
            && s.split('/').all(|p| !p.is_empty() && p != "." && p != "..")
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(RepoName(s.to_string()))
        } else {
            Err(format!(
                "{s:?} is not a repository name of the form owner/name"
            ))
        }
    }
    /// The name as written, `owner/name`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The part before the `/`.
    pub fn owner(&self) -> &str {
        self.0.split('/').next().unwrap_or_default()
    }
    /// The part after the `/`.
    pub fn name(&self) -> &str {
        self.0.split('/').nth(1).unwrap_or_default()
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A pull request's number in its repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PrNumber(pub u64);

impl fmt::Display for PrNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A full commit id (40 hexadecimal digits, lower case; 64 for SHA-256 repositories).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CommitSha(String);

impl CommitSha {
    /// A full commit id as GitHub writes it; anything else is refused.
    pub fn parse(s: &str) -> std::result::Result<CommitSha, String> {
        let ok = (s.len() == 40 || s.len() == 64)
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if ok {
            Ok(CommitSha(s.to_string()))
        } else {
            Err(format!("{s:?} is not a full commit id"))
        }
    }
    /// The full id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The first seven digits, as people write a commit.
    pub fn short(&self) -> &str {
        &self.0[..7]
    }
}

impl fmt::Display for CommitSha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Plan the units a pull request's head affects and publish the review.
    Plan,
    /// A pull request was closed without merge: drop its plans and locks.
    Close,
    /// A push to the default branch (recorded for the promotion pipeline).
    Push,
    /// A comment command (`/plan`, `/apply`, ...).
    Command,
    /// A stage of the promotion pipeline.
    ApplyStage,
}

impl JobKind {
    /// Every kind, for parsing and exhaustive tests.
    pub const ALL: [JobKind; 5] = [
        JobKind::Plan,
        JobKind::Close,
        JobKind::Push,
        JobKind::Command,
        JobKind::ApplyStage,
    ];
    /// The name the store writes in `jobs.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Plan => "plan",
            JobKind::Close => "close",
            JobKind::Push => "push",
            JobKind::Command => "command",
            JobKind::ApplyStage => "apply_stage",
        }
    }
    /// The kind [`JobKind::as_str`] names.
    pub fn parse(s: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for a worker.
    Queued,
    /// Claimed by a worker whose lease may have run out.
    Running,
    /// Finished: the work was done.
    Done,
    /// Finished: the work failed, or no worker finished it within [`MAX_ATTEMPTS`] claims.
    Failed,
    /// Finished: superseded by a newer head, or cancelled with its pull request.
    Cancelled,
}

impl JobState {
    /// Every state, for parsing and exhaustive tests.
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Failed,
        JobState::Cancelled,
    ];
    /// The name the store writes in `jobs.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }
    /// The state [`JobState::as_str`] names.
    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// Done, failed or cancelled: nothing more happens to the job.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::Done | JobState::Failed | JobState::Cancelled
        )
    }
}

/// A webhook delivery as received (its id is `X-GitHub-Delivery`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `X-GitHub-Delivery`: the same for a redelivery.
    pub id: String,
    /// The event name (`pull_request`, `issue_comment`, ...).
    pub event: String,
    /// The payload's `action`, when it has one.
    pub action: Option<String>,
    /// The repository the event is about, when it is about one.
    pub repo: Option<RepoName>,
    /// Whether Slipway acts on this event (unhandled events are recorded all the same).
    pub handled: bool,
    /// Milliseconds since the Unix epoch.
    pub received_at_ms: i64,
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// What the job does.
    pub kind: JobKind,
    /// The repository it acts on.
    pub repo: RepoName,
    /// The pull request, for jobs about one.
    pub pr: Option<PrNumber>,
    /// The commit it acts on (a pull request's head, a pushed commit).
    pub head: Option<CommitSha>,
    /// What the job needs, in Slipway's own terms (the converted event).
    pub payload: serde_json::Value,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The store's id: jobs are claimed in the order of their ids.
    pub id: i64,
    /// What the job does.
    pub kind: JobKind,
    /// The repository it acts on.
    pub repo: RepoName,
    /// The pull request, for jobs about one.
    pub pr: Option<PrNumber>,
    /// The commit it acts on.
    pub head: Option<CommitSha>,
    /// What the job needs, as [`NewJob::payload`] gave it.
    pub payload: serde_json::Value,
    /// Where the job is in its life.
    pub state: JobState,
    /// How many times a worker claimed it (1 on the first run).
    pub attempts: u32,
    /// The worker that claimed it last (kept after it finished).
    pub lease_holder: Option<String>,
    /// When the last lease runs or ran out, in milliseconds since the Unix epoch.
    pub lease_expires_at_ms: Option<i64>,
    /// When it was enqueued, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// The outcome written when the job finished.
    pub outcome: Option<String>,
}

/// What [`Store::record_delivery`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The delivery is new: it and its jobs are stored (ids of the jobs made; a job equal to one
    /// already queued or running is not made twice, so this may hold fewer ids than jobs given).
    New { jobs: Vec<i64> },
    /// The delivery id was seen before: nothing was stored.
    Duplicate,
}

/// The state of a lease a worker holds, as [`Store::renew`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    /// The worker still holds the job; the lease now runs until the new expiry.
    Held,
    /// The job was cancelled (a newer head superseded it): stop, and publish nothing.
    Cancelled,
    /// Another worker holds it now, or it finished: stop, and publish nothing.
    Lost,
}

/// A comment command as given, and what came of it: the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRecord {
    pub repo: RepoName,
    pub pr: PrNumber,
    /// The comment that gave it.
    pub comment_id: u64,
    /// The GitHub login that gave it.
    pub author: String,
    /// The command as written back canonically (`/apply prod`), or the line it could not read.
    pub command: String,
    /// The environment it concerned, when one.
    pub env: Option<String>,
    /// The pull request's head when the command was handled.
    pub head: Option<CommitSha>,
    /// `accepted`, `refused` or `error`.
    pub outcome: String,
    /// Why, in a line.
    pub detail: String,
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
}

/// A unit held by a pull request whose plan of it is not yet applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitLock {
    pub unit: String,
    pub env: Option<String>,
    pub pr: PrNumber,
    /// The head whose plan took or renewed the lock.
    pub head: CommitSha,
    /// When the lock was first taken, in milliseconds since the Unix epoch.
    pub since_ms: i64,
}

/// What [`Store::unlock_units`] released.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Released {
    /// Locks released.
    pub count: u64,
    /// The other pull requests that waited for a released unit, with the head that waited.
    pub waiting: Vec<(PrNumber, CommitSha)>,
}

/// One unit's run within a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    /// The job the run belongs to.
    pub job: i64,
    /// The unit's path in the repository.
    pub unit: String,
    /// The environment the unit belongs to, when it belongs to one.
    pub env: Option<String>,
    /// `plan` or `apply`.
    pub action: String,
    /// `planning`, `planned`, `failed`, `applied`, ...
    pub state: String,
    /// The checksum of the saved plan an apply must match.
    pub plan_checksum: Option<String>,
    /// When the run started, in milliseconds since the Unix epoch.
    pub started_at_ms: Option<i64>,
    /// When the run finished, in milliseconds since the Unix epoch.
    pub finished_at_ms: Option<i64>,
    /// What came of it, in a line.
    pub outcome: Option<String>,
}

/// A store error: the database could not be reached or answered unexpectedly.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed or refused a statement.
    #[error("the store's database: {0}")]
    Database(#[from] sqlx::Error),
    /// The migrations could not be applied.
    #[error("the store's migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value does not parse (the message names the row and column).
    #[error("the store holds a value it cannot read: {0}")]
    Corrupt(String),
    /// The store's URL or location is unusable.
    #[error("{0}")]
    Config(String),
    /// The database answers but is not ready for use (migrations missing).
    #[error("the store is not ready: {0}")]
    NotReady(String),
    /// A caller's value the store cannot hold (a number out of range, a state `finish` cannot
    /// set).
    #[error("the store refuses a value: {0}")]
    Invalid(String),
}

/// A store result.
pub type Result<T> = std::result::Result<T, StoreError>;

/// How many times a job is claimed at most. A job whose lease ran out after its last attempt
/// is not claimed again but failed ("gave up after 5 attempts"): a job that kills its worker
/// every time must not take the queue down with it.
pub const MAX_ATTEMPTS: u32 = 5;

/// The durable store. Every method is one transaction.
#[async_trait::async_trait]
pub trait Store: Send + Sync + fmt::Debug {
    /// Stores a delivery and the jobs it makes, in one transaction. A delivery id seen before
    /// stores nothing ([`Recorded::Duplicate`]). A [`JobKind::Plan`] job for a head cancels
    /// the queued and running plan jobs of the same pull request for other heads.
    async fn record_delivery(&self, delivery: &Delivery, jobs: &[NewJob]) -> Result<Recorded>;

    /// Enqueues jobs outside a delivery (a command, a pipeline stage); same rules as above.
    async fn enqueue(&self, jobs: &[NewJob]) -> Result<Vec<i64>>;

    /// Claims the oldest claimable job: queued, or running with an expired lease. The job
    /// becomes running, held by `worker` until now + `lease`, its attempts counted. A job
    /// whose lease expired after [`MAX_ATTEMPTS`] claims is failed instead. Two workers, even
    /// in two processes on one database, never hold the same job at once.
    async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Job>>;

    /// Extends `worker`'s lease on `job` to now + `lease`, or says why it cannot.
    async fn renew(&self, job: i64, worker: &str, lease: Duration) -> Result<Lease>;

    /// Finishes a job `worker` holds: `state` is done, failed or cancelled. `false` when the
    /// worker no longer held it, or it was cancelled meanwhile (nothing changed). A state that
    /// is not final is [`StoreError::Invalid`].
    async fn finish(&self, job: i64, worker: &str, state: JobState, outcome: &str) -> Result<bool>;

    /// Cancels the queued and running jobs of `kind` of a pull request (a closed pull
    /// request's plans); returns how many.
    async fn cancel_jobs(&self, repo: &RepoName, pr: PrNumber, kind: JobKind) -> Result<u64>;

    /// The job of an id.
    async fn job(&self, id: i64) -> Result<Option<Job>>;

    /// The jobs of a pull request, oldest first.
    async fn jobs_of_pr(&self, repo: &RepoName, pr: PrNumber) -> Result<Vec<Job>>;

    /// Jobs queued or running (for `/readyz` and metrics).
    async fn queue_depth(&self) -> Result<u64>;

    /// Whether a delivery id was recorded.
    async fn has_delivery(&self, id: &str) -> Result<bool>;

    /// The store answers and its migrations are applied.
    async fn ready(&self) -> Result<()>;

    /// Inserts or replaces the run of `run.unit` in `run.job`.
    async fn record_run(&self, run: &RunRecord) -> Result<()>;

    /// The runs of a job, by unit.
    async fn runs(&self, job: i64) -> Result<Vec<RunRecord>>;

    /// The ids of a pull request's sticky comment and its continuations, in order.
    async fn comments(&self, repo: &RepoName, pr: PrNumber) -> Result<Vec<u64>>;

    /// Replaces the ids of a pull request's sticky comment and its continuations.
    async fn set_comments(&self, repo: &RepoName, pr: PrNumber, ids: &[u64]) -> Result<()>;

    /// The id of the check run `name` on `head`, when Slipway made one.
    async fn check_run(&self, repo: &RepoName, head: &CommitSha, name: &str)
        -> Result<Option<u64>>;

    /// Remembers the id of the check run `name` on `head`.
    async fn set_check_run(
        &self,
        repo: &RepoName,
        head: &CommitSha,
        name: &str,
        id: u64,
    ) -> Result<()>;

    /// Records a command and what came of it.
    async fn record_command(&self, command: &CommandRecord) -> Result<()>;

    /// The commands given on a pull request, oldest first.
    async fn commands_of_pr(&self, repo: &RepoName, pr: PrNumber) -> Result<Vec<CommandRecord>>;

    /// Takes the locks of `units` (path, environment) for `pr` at `head`, in one transaction: a
    /// unit that is free, or already `pr`'s, is (re)taken; the locks other pull requests hold
    /// on the rest are returned, nothing of theirs changes, and `pr` waits for them.
    async fn lock_units(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        head: &CommitSha,
        units: &[(String, Option<String>)],
    ) -> Result<Vec<UnitLock>>;

    /// Releases `pr`'s locks: all of them (and its waits), or those of `units`. Returns how
    /// many, and the other pull requests that waited for a released unit (each once, with the
    /// head that waited), their waits cleared.
    async fn unlock_units(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        units: Option<&[String]>,
    ) -> Result<Released>;

    /// Every lock held in a repository, by unit.
    async fn locks(&self, repo: &RepoName) -> Result<Vec<UnitLock>>;

    /// Stores a merged pull request's new pipeline (version 1); `false` when it has one.
    async fn create_pipeline(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        commit: &CommitSha,
        state: &serde_json::Value,
    ) -> Result<bool>;

    /// A pull request's pipeline and its version.
    async fn pipeline(
        &self,
        repo: &RepoName,
        pr: PrNumber,
    ) -> Result<Option<(i64, serde_json::Value)>>;

    /// Every pipeline of a repository: pull request and document.
    async fn pipelines(&self, repo: &RepoName) -> Result<Vec<(PrNumber, serde_json::Value)>>;

    /// Saves a pipeline read at `version` as `version + 1`; `false` (nothing saved) when it
    /// changed since.
    async fn save_pipeline(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        version: i64,
        state: &serde_json::Value,
    ) -> Result<bool>;
}

/// Opens the store a URL names, running its migrations: `sqlite://PATH` (created if missing)
/// or `postgres://...` / `postgresql://...`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open(url).await?))
    } else if let Some(path) = url.strip_prefix("sqlite://") {
        Ok(Arc::new(
            SqliteStore::open(std::path::Path::new(path)).await?,
        ))
    } else {
        Err(StoreError::Config(format!(
            "the database URL must start with sqlite:// or postgres:// (it starts with {:?})",
            url.split(':').next().unwrap_or_default()
        )))
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

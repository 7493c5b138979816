//! What both stores share: a job row as read, its checked conversion into a [`Job`], the
//! conversion of arguments into column values, and the texts the queue writes as outcomes.
//! The SQL lives with each store; only the dialect differs.

use std::time::Duration;

use sqlx::migrate::Migrator;

use super::{CommandRecord, Job, RunRecord, UnitLock};
use super::{
    CommitSha, JobKind, JobState, NewJob, PrNumber, RepoName, Result, StoreError, MAX_ATTEMPTS,
};

/// The columns of `jobs` a [`Job`] is read from, in the order both stores select them.
macro_rules! job_columns {
    () => {
        "id, kind, repo, pr, head, payload, state, attempts, lease_holder, lease_expires_at, \
         created_at, outcome"
    };
}
pub(super) use job_columns;

/// A `jobs` row as the database returned it, before its values are checked.
pub(super) struct JobRow {
    pub id: i64,
    pub kind: String,
    pub repo: String,
    pub pr: Option<i64>,
    pub head: Option<String>,
    pub payload: String,
    pub state: String,
    pub attempts: i64,
    pub lease_holder: Option<String>,
    pub lease_expires_at: Option<i64>,
    pub created_at: i64,
    pub outcome: Option<String>,
}

impl JobRow {
    /// The job, or [`StoreError::Corrupt`] naming the job and the column that does not parse.
    pub fn into_job(self) -> Result<Job> {
        let id = self.id;
        let corrupt = |column: &str, why: String| {
            StoreError::Corrupt(format!("job {id}, column {column}: {why}"))
        };
        let kind = JobKind::parse(&self.kind)
            .ok_or_else(|| corrupt("kind", format!("{:?} is not a job kind", self.kind)))?;
        let state = JobState::parse(&self.state)
            .ok_or_else(|| corrupt("state", format!("{:?} is not a job state", self.state)))?;
        let repo = RepoName::parse(&self.repo).map_err(|e| corrupt("repo", e))?;
        let pr = self
            .pr
            .map(|pr| {
                u64::try_from(pr)
                    .map(PrNumber)
                    .map_err(|_| corrupt("pr", format!("{pr} is not a pull request number")))
            })
            .transpose()?;
        let head = self
            .head
            .as_deref()
            .map(CommitSha::parse)
            .transpose()
            .map_err(|e| corrupt("head", e))?;
        let payload = serde_json::from_str(&self.payload)
            .map_err(|e| corrupt("payload", format!("not JSON: {e}")))?;
        let attempts = u32::try_from(self.attempts)
            .map_err(|_| corrupt("attempts", format!("{} is not a count", self.attempts)))?;
        Ok(Job {
            id,
            kind,
            repo,
            pr,
            head,
            payload,
            state,
            attempts,
            lease_holder: self.lease_holder,
            lease_expires_at_ms: self.lease_expires_at,
            created_at_ms: self.created_at,
            outcome: self.outcome,
        })
    }
}

/// A [`NewJob`] as column values.
pub(super) struct JobValues {
    pub kind: &'static str,
    pub repo: String,
    pub pr: Option<i64>,
    pub head: Option<String>,
    pub payload: String,
}

impl JobValues {
    pub fn of(job: &NewJob) -> Result<JobValues> {
        Ok(JobValues {
            kind: job.kind.as_str(),
            repo: job.repo.as_str().to_string(),
            pr: job.pr.map(pr_value).transpose()?,
            head: job.head.as_ref().map(|h| h.as_str().to_string()),
            payload: serde_json::to_string(&job.payload)
                .map_err(|e| StoreError::Invalid(format!("a job's payload: {e}")))?,
        })
    }

    /// The pull request and head a plan job supersedes others with, when it is one.
    pub fn supersedes(&self) -> Option<(i64, &str)> {
        match (self.kind == JobKind::Plan.as_str(), self.pr, &self.head) {
            (true, Some(pr), Some(head)) => Some((pr, head.as_str())),
            _ => None,
        }
    }
}

/// A `runs` row as the database returned it.
pub(super) struct RunRow {
    pub job: i64,
    pub unit: String,
    pub env: Option<String>,
    pub action: String,
    pub state: String,
    pub plan_checksum: Option<String>,
    pub started: Option<i64>,
    pub finished: Option<i64>,
    pub outcome: Option<String>,
}

impl From<RunRow> for RunRecord {
    fn from(r: RunRow) -> RunRecord {
        RunRecord {
            job: r.job,
            unit: r.unit,
            env: r.env,
            action: r.action,
            state: r.state,
            plan_checksum: r.plan_checksum,
            started_at_ms: r.started,
            finished_at_ms: r.finished,
            outcome: r.outcome,
        }
    }
}

/// A pull request number as a column value (`BIGINT` is signed).
pub(super) fn pr_value(pr: PrNumber) -> Result<i64> {
    i64::try_from(pr.0)
        .map_err(|_| StoreError::Invalid(format!("pull request {pr} is out of range")))
}

/// A GitHub id (comment, check run) as a column value.
pub(super) fn id_value(id: u64, what: &str) -> Result<i64> {
    i64::try_from(id).map_err(|_| StoreError::Invalid(format!("{what} id {id} is out of range")))
}

/// A GitHub id read back.
pub(super) fn id_of(value: i64, what: &str) -> Result<u64> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} id {value} is negative")))
}

/// The attempts limit as a column value.
pub(super) fn max_attempts() -> i64 {
    i64::from(MAX_ATTEMPTS)
}

/// When a lease taken at `now` for `lease` runs out.
pub(super) fn expiry(now: i64, lease: Duration) -> i64 {
    now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
}

/// The outcome of a plan job a newer head made obsolete.
pub(super) fn superseded_by(head: &str) -> String {
    format!("superseded by {head}")
}

/// The outcome of a job no worker finished within [`MAX_ATTEMPTS`] claims.
pub(super) fn gave_up() -> String {
    format!("gave up after {MAX_ATTEMPTS} attempts")
}

/// The outcome of a job [`super::Store::cancel_jobs`] cancelled.
pub(super) const CANCELLED: &str = "cancelled";

/// Refuses a state `finish` cannot set.
pub(super) fn check_final(state: JobState) -> Result<()> {
    if state.is_final() {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "a job cannot be finished as {}",
            state.as_str()
        )))
    }
}

/// Checks that every migration `migrator` embeds is among the `applied` versions.
pub(super) fn check_applied(migrator: &Migrator, applied: &[i64]) -> Result<()> {
    let missing: Vec<String> = migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration() && !applied.contains(&m.version))
        .map(|m| format!("{} ({})", m.version, m.description))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(StoreError::NotReady(format!(
            "migrations not applied: {}",
            missing.join(", ")
        )))
    }
}

/// A `commands` row as read.
pub(super) struct CommandRow {
    pub repo: String,
    pub pr: i64,
    pub comment_id: i64,
    pub author: String,
    pub command: String,
    pub env: Option<String>,
    pub head: Option<String>,
    pub outcome: String,
    pub detail: String,
    pub at: i64,
}

impl CommandRow {
    pub fn into_record(self) -> Result<CommandRecord> {
        let corrupt = |column: &str, e: String| {
            StoreError::Corrupt(format!(
                "commands row of comment {}: {column}: {e}",
                self.comment_id
            ))
        };
        Ok(CommandRecord {
            repo: RepoName::parse(&self.repo).map_err(|e| corrupt("repo", e))?,
            pr: PrNumber(u64::try_from(self.pr).map_err(|_| corrupt("pr", "negative".into()))?),
            comment_id: id_of(self.comment_id, "comment")?,
            author: self.author.clone(),
            command: self.command.clone(),
            env: self.env.clone(),
            head: self
                .head
                .as_deref()
                .map(CommitSha::parse)
                .transpose()
                .map_err(|e| corrupt("head", e))?,
            outcome: self.outcome.clone(),
            detail: self.detail.clone(),
            at_ms: self.at,
        })
    }
}

/// A `locks` row as read.
pub(super) struct LockRow {
    pub unit: String,
    pub env: Option<String>,
    pub pr: i64,
    pub head: String,
    pub since: i64,
}

impl LockRow {
    pub fn into_lock(self) -> Result<UnitLock> {
        let corrupt = |column: &str, e: String| {
            StoreError::Corrupt(format!("lock of {}: {column}: {e}", self.unit))
        };
        Ok(UnitLock {
            pr: PrNumber(u64::try_from(self.pr).map_err(|_| corrupt("pr", "negative".into()))?),
            head: CommitSha::parse(&self.head).map_err(|e| corrupt("head", e))?,
            unit: self.unit,
            env: self.env,
            since_ms: self.since,
        })
    }
}

/// The statements of commands and locks, written once with `?` placeholders; PostgreSQL's
/// store numbers them ([`numbered`]).
pub(super) mod sql {
    pub const RECORD_COMMAND: &str = "INSERT INTO commands \
        (repo, pr, comment_id, author, command, env, head, outcome, detail, at) \
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    pub const COMMANDS_OF_PR: &str = "SELECT repo, pr, comment_id, author, command, env, head, \
        outcome, detail, at FROM commands WHERE repo = ? AND pr = ? ORDER BY id";
    /// Takes a free unit, or renews the pull request's own lock; leaves another's alone.
    pub const TAKE_LOCK: &str = "INSERT INTO locks (repo, unit, env, pr, head, since) \
        VALUES (?, ?, ?, ?, ?, ?) \
        ON CONFLICT (repo, unit) DO UPDATE SET head = excluded.head, env = excluded.env \
        WHERE locks.pr = excluded.pr";
    pub const LOCK_OF_UNIT: &str =
        "SELECT unit, env, pr, head, since FROM locks WHERE repo = ? AND unit = ?";
    /// The units of a pull request's locks (to release them and find who waits).
    pub const UNITS_OF_PR: &str = "SELECT unit FROM locks WHERE repo = ? AND pr = ?";
    pub const UNLOCK_UNIT: &str = "DELETE FROM locks WHERE repo = ? AND pr = ? AND unit = ?";
    pub const WAIT: &str = "INSERT INTO lock_waits (repo, unit, pr, head) VALUES (?, ?, ?, ?) \
        ON CONFLICT (repo, unit, pr) DO UPDATE SET head = excluded.head";
    pub const STOP_WAITING: &str = "DELETE FROM lock_waits WHERE repo = ? AND unit = ? AND pr = ?";
    pub const STOP_ALL_WAITING: &str = "DELETE FROM lock_waits WHERE repo = ? AND pr = ?";
    /// Who waits for a unit, removed as they are read (`DELETE ... RETURNING`).
    pub const TAKE_WAITERS: &str =
        "DELETE FROM lock_waits WHERE repo = ? AND unit = ? RETURNING pr, head";
    pub const CREATE_PIPELINE: &str = "INSERT INTO pipelines \
        (repo, pr, commit_sha, state, version, created_at, updated_at) \
        VALUES (?, ?, ?, ?, 1, ?, ?) ON CONFLICT (repo, pr) DO NOTHING";
    pub const PIPELINE: &str = "SELECT version, state FROM pipelines WHERE repo = ? AND pr = ?";
    pub const PIPELINES: &str = "SELECT pr, state FROM pipelines WHERE repo = ? ORDER BY pr";
    pub const SAVE_PIPELINE: &str = "UPDATE pipelines SET state = ?, version = version + 1, \
        updated_at = ? WHERE repo = ? AND pr = ? AND version = ?";
    pub const LOCKS: &str =
        "SELECT unit, env, pr, head, since FROM locks WHERE repo = ? ORDER BY unit";
}

/// `sql` with its `?` placeholders numbered `$1`, `$2`, ... (PostgreSQL's form). The
/// statements above hold no `?` inside a literal.
pub(super) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// A stored pipeline document read back.
pub(super) fn pipeline_of(repo: &RepoName, pr: PrNumber, text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("pipeline of {repo} {pr}: {e}")))
}

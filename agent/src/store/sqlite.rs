//! The embedded store: SQLite in one file, WAL journal.
//!
//! SQLite has one writer at a time. Every transaction that writes begins with `BEGIN
//! IMMEDIATE`, which takes the write lock before the transaction reads anything: two tasks (or
//! two processes on one file) never decide on the same snapshot, and `busy_timeout` makes the
//! others wait their turn instead of failing. Single statements take the lock by themselves.

use std::path::Path;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::Row;

use super::rows::{self, job_columns, JobRow, JobValues, RunRow};
use super::{
    now_ms, CommandRecord, CommitSha, Delivery, Job, JobKind, JobState, Lease, NewJob, PrNumber,
    Recorded, Released, RepoName, Result, RunRecord, Store, StoreError, UnitLock,
};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// How long a statement waits for another connection's write lock before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections in the pool: readers run beside each other in WAL mode; writers take turns.
const MAX_CONNECTIONS: u32 = 4;

/// The statement every writing transaction begins with.
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating it and its directory if missing) the database at `path` and applies the
    /// migrations it lacks.
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Config(format!(
                    "cannot create the directory {}: {e}",
                    dir.display()
                ))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL loses no committed transaction on a crash of the process, only
            // possibly the last ones on a loss of power.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore { pool })
    }

    /// The connection pool, for maintenance and tests that look at the rows themselves.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn job_row(row: &SqliteRow) -> Result<Job> {
    JobRow {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        repo: row.try_get("repo")?,
        pr: row.try_get("pr")?,
        head: row.try_get("head")?,
        payload: row.try_get("payload")?,
        state: row.try_get("state")?,
        attempts: row.try_get("attempts")?,
        lease_holder: row.try_get("lease_holder")?,
        lease_expires_at: row.try_get("lease_expires_at")?,
        created_at: row.try_get("created_at")?,
        outcome: row.try_get("outcome")?,
    }
    .into_job()
}

fn run_row(row: &SqliteRow) -> Result<RunRecord> {
    Ok(RunRow {
        job: row.try_get("job")?,
        unit: row.try_get("unit")?,
        env: row.try_get("env")?,
        action: row.try_get("action")?,
        state: row.try_get("state")?,
        plan_checksum: row.try_get("plan_checksum")?,
        started: row.try_get("started")?,
        finished: row.try_get("finished")?,
        outcome: row.try_get("outcome")?,
    }
    .into())
}

/// Inserts `jobs` (of `delivery`, if any) inside the caller's write transaction: a plan job
/// first cancels the active plan jobs of its pull request for other heads; a job equal to an
/// active one is not made (the partial unique index refuses it).
async fn insert_jobs(
    conn: &mut SqliteConnection,
    delivery: Option<&str>,
    jobs: &[NewJob],
    now: i64,
) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(jobs.len());
    for job in jobs {
        let values = JobValues::of(job)?;
        if let Some((pr, head)) = values.supersedes() {
            sqlx::query(
                "UPDATE jobs SET state = 'cancelled', outcome = ?, updated_at = ? \
                 WHERE repo = ? AND pr = ? AND kind = 'plan' \
                   AND state IN ('queued', 'running') AND (head IS NULL OR head <> ?)",
            )
            .bind(rows::superseded_by(head))
            .bind(now)
            .bind(&values.repo)
            .bind(pr)
            .bind(head)
            .execute(&mut *conn)
            .await?;
        }
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO jobs (delivery, kind, repo, pr, head, payload, state, attempts, \
                               created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(delivery)
        .bind(values.kind)
        .bind(&values.repo)
        .bind(values.pr)
        .bind(&values.head)
        .bind(&values.payload)
        .bind(now)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
        ids.extend(id);
    }
    Ok(ids)
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn record_delivery(&self, delivery: &Delivery, jobs: &[NewJob]) -> Result<Recorded> {
        let now = now_ms();
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        let inserted = sqlx::query(
            "INSERT INTO deliveries (id, event, action, repo, handled, received_at) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&delivery.id)
        .bind(&delivery.event)
        .bind(&delivery.action)
        .bind(delivery.repo.as_ref().map(RepoName::as_str))
        .bind(delivery.handled)
        .bind(delivery.received_at_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            tx.rollback().await?;
            return Ok(Recorded::Duplicate);
        }
        let ids = insert_jobs(&mut tx, Some(&delivery.id), jobs, now).await?;
        tx.commit().await?;
        Ok(Recorded::New { jobs: ids })
    }

    async fn enqueue(&self, jobs: &[NewJob]) -> Result<Vec<i64>> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        let ids = insert_jobs(&mut tx, None, jobs, now_ms()).await?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Job>> {
        let now = now_ms();
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        sqlx::query(
            "UPDATE jobs SET state = 'failed', outcome = ?, updated_at = ? \
             WHERE state = 'running' AND lease_expires_at < ? AND attempts >= ?",
        )
        .bind(rows::gave_up())
        .bind(now)
        .bind(now)
        .bind(rows::max_attempts())
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(concat!(
            "UPDATE jobs SET state = 'running', lease_holder = ?, lease_expires_at = ?, \
                             attempts = attempts + 1, updated_at = ? \
             WHERE id = (SELECT id FROM jobs \
                         WHERE (state = 'queued' OR (state = 'running' AND lease_expires_at < ?)) \
                           AND attempts < ? \
                         ORDER BY id LIMIT 1) \
             RETURNING ",
            job_columns!()
        ))
        .bind(worker)
        .bind(rows::expiry(now, lease))
        .bind(now)
        .bind(now)
        .bind(rows::max_attempts())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.as_ref().map(job_row).transpose()
    }

    async fn renew(&self, job: i64, worker: &str, lease: Duration) -> Result<Lease> {
        let now = now_ms();
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        let held = sqlx::query(
            "UPDATE jobs SET lease_expires_at = ?, updated_at = ? \
             WHERE id = ? AND state = 'running' AND lease_holder = ?",
        )
        .bind(rows::expiry(now, lease))
        .bind(now)
        .bind(job)
        .bind(worker)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let lease = if held == 1 {
            Lease::Held
        } else {
            let state: Option<String> = sqlx::query_scalar("SELECT state FROM jobs WHERE id = ?")
                .bind(job)
                .fetch_optional(&mut *tx)
                .await?;
            if state.as_deref() == Some(JobState::Cancelled.as_str()) {
                Lease::Cancelled
            } else {
                Lease::Lost
            }
        };
        tx.commit().await?;
        Ok(lease)
    }

    async fn finish(&self, job: i64, worker: &str, state: JobState, outcome: &str) -> Result<bool> {
        rows::check_final(state)?;
        let done = sqlx::query(
            "UPDATE jobs SET state = ?, outcome = ?, updated_at = ? \
             WHERE id = ? AND state = 'running' AND lease_holder = ?",
        )
        .bind(state.as_str())
        .bind(outcome)
        .bind(now_ms())
        .bind(job)
        .bind(worker)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(done == 1)
    }

    async fn cancel_jobs(&self, repo: &RepoName, pr: PrNumber, kind: JobKind) -> Result<u64> {
        let cancelled = sqlx::query(
            "UPDATE jobs SET state = 'cancelled', outcome = ?, updated_at = ? \
             WHERE repo = ? AND pr = ? AND kind = ? AND state IN ('queued', 'running')",
        )
        .bind(rows::CANCELLED)
        .bind(now_ms())
        .bind(repo.as_str())
        .bind(rows::pr_value(pr)?)
        .bind(kind.as_str())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(cancelled)
    }

    async fn job(&self, id: i64) -> Result<Option<Job>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(job_row).transpose()
    }

    async fn jobs_of_pr(&self, repo: &RepoName, pr: PrNumber) -> Result<Vec<Job>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs WHERE repo = ? AND pr = ? ORDER BY id"
        ))
        .bind(repo.as_str())
        .bind(rows::pr_value(pr)?)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_row).collect()
    }

    async fn queue_depth(&self) -> Result<u64> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')")
                .fetch_one(&self.pool)
                .await?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    async fn has_delivery(&self, id: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM deliveries WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    async fn ready(&self) -> Result<()> {
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await?;
        rows::check_applied(&MIGRATOR, &applied)
    }

    async fn record_run(&self, run: &RunRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO runs (job, unit, env, action, state, plan_checksum, started, finished, \
                               outcome) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (job, unit) DO UPDATE SET \
                 env = excluded.env, action = excluded.action, state = excluded.state, \
                 plan_checksum = excluded.plan_checksum, started = excluded.started, \
                 finished = excluded.finished, outcome = excluded.outcome",
        )
        .bind(run.job)
        .bind(&run.unit)
        .bind(&run.env)
        .bind(&run.action)
        .bind(&run.state)
        .bind(&run.plan_checksum)
        .bind(run.started_at_ms)
        .bind(run.finished_at_ms)
        .bind(&run.outcome)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn runs(&self, job: i64) -> Result<Vec<RunRecord>> {
        let rows = sqlx::query(
            "SELECT job, unit, env, action, state, plan_checksum, started, finished, outcome \
             FROM runs WHERE job = ? ORDER BY unit",
        )
        .bind(job)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(run_row).collect()
    }

    async fn comments(&self, repo: &RepoName, pr: PrNumber) -> Result<Vec<u64>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT comment_id FROM comments WHERE repo = ? AND pr = ? ORDER BY position",
        )
        .bind(repo.as_str())
        .bind(rows::pr_value(pr)?)
        .fetch_all(&self.pool)
        .await?;
        ids.into_iter()
            .map(|id| rows::id_of(id, "comment"))
            .collect()
    }

    async fn set_comments(&self, repo: &RepoName, pr: PrNumber, ids: &[u64]) -> Result<()> {
        let pr = rows::pr_value(pr)?;
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        sqlx::query("DELETE FROM comments WHERE repo = ? AND pr = ?")
            .bind(repo.as_str())
            .bind(pr)
            .execute(&mut *tx)
            .await?;
        for (position, id) in (0i64..).zip(ids) {
            sqlx::query(
                "INSERT INTO comments (repo, pr, position, comment_id) VALUES (?, ?, ?, ?)",
            )
            .bind(repo.as_str())
            .bind(pr)
            .bind(position)
            .bind(rows::id_value(*id, "comment")?)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn check_run(
        &self,
        repo: &RepoName,
        head: &CommitSha,
        name: &str,
    ) -> Result<Option<u64>> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT check_run_id FROM check_runs WHERE repo = ? AND head = ? AND name = ?",
        )
        .bind(repo.as_str())
        .bind(head.as_str())
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        id.map(|id| rows::id_of(id, "check run")).transpose()
    }

    async fn set_check_run(
        &self,
        repo: &RepoName,
        head: &CommitSha,
        name: &str,
        id: u64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO check_runs (repo, head, name, check_run_id) VALUES (?, ?, ?, ?) \
             ON CONFLICT (repo, head, name) DO UPDATE SET check_run_id = excluded.check_run_id",
        )
        .bind(repo.as_str())
        .bind(head.as_str())
        .bind(name)
        .bind(rows::id_value(id, "check run")?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
    async fn record_command(&self, c: &CommandRecord) -> Result<()> {
        sqlx::query(rows::sql::RECORD_COMMAND)
            .bind(c.repo.as_str())
            .bind(rows::pr_value(c.pr)?)
            .bind(rows::id_value(c.comment_id, "comment")?)
            .bind(&c.author)
            .bind(&c.command)
            .bind(&c.env)
            .bind(c.head.as_ref().map(CommitSha::as_str))
            .bind(&c.outcome)
            .bind(&c.detail)
            .bind(c.at_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn commands_of_pr(&self, repo: &RepoName, pr: PrNumber) -> Result<Vec<CommandRecord>> {
        let rows = sqlx::query(rows::sql::COMMANDS_OF_PR)
            .bind(repo.as_str())
            .bind(rows::pr_value(pr)?)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(command_row).collect()
    }

    async fn lock_units(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        head: &CommitSha,
        units: &[(String, Option<String>)],
    ) -> Result<Vec<UnitLock>> {
        let now = now_ms();
        let pr_value = rows::pr_value(pr)?;
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        let mut others = Vec::new();
        for (unit, env) in units {
            sqlx::query(rows::sql::TAKE_LOCK)
                .bind(repo.as_str())
                .bind(unit)
                .bind(env)
                .bind(pr_value)
                .bind(head.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let held = sqlx::query(rows::sql::LOCK_OF_UNIT)
                .bind(repo.as_str())
                .bind(unit)
                .fetch_optional(&mut *tx)
                .await?;
            let held = held.as_ref().map(lock_row).transpose()?;
            match held {
                Some(lock) if lock.pr != pr => {
                    sqlx::query(rows::sql::WAIT)
                        .bind(repo.as_str())
                        .bind(unit)
                        .bind(pr_value)
                        .bind(head.as_str())
                        .execute(&mut *tx)
                        .await?;
                    others.push(lock);
                }
                _ => {
                    sqlx::query(rows::sql::STOP_WAITING)
                        .bind(repo.as_str())
                        .bind(unit)
                        .bind(pr_value)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(others)
    }

    async fn unlock_units(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        units: Option<&[String]>,
    ) -> Result<Released> {
        let pr_value = rows::pr_value(pr)?;
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        let units: Vec<String> = match units {
            Some(u) => u.to_vec(),
            None => {
                sqlx::query(rows::sql::STOP_ALL_WAITING)
                    .bind(repo.as_str())
                    .bind(pr_value)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query_scalar(rows::sql::UNITS_OF_PR)
                    .bind(repo.as_str())
                    .bind(pr_value)
                    .fetch_all(&mut *tx)
                    .await?
            }
        };
        let mut released = Released::default();
        for unit in &units {
            let n = sqlx::query(rows::sql::UNLOCK_UNIT)
                .bind(repo.as_str())
                .bind(pr_value)
                .bind(unit)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            released.count += n;
            if n == 0 {
                continue;
            }
            let waiting = sqlx::query_as::<_, (i64, String)>(rows::sql::TAKE_WAITERS)
                .bind(repo.as_str())
                .bind(unit)
                .fetch_all(&mut *tx)
                .await?;
            for (other, head) in waiting {
                let other = PrNumber(u64::try_from(other).map_err(|_| {
                    StoreError::Corrupt(format!("lock_waits of {unit}: pr {other} is negative"))
                })?);
                let head = CommitSha::parse(&head)
                    .map_err(|e| StoreError::Corrupt(format!("lock_waits of {unit}: head: {e}")))?;
                if !released.waiting.iter().any(|(p, _)| *p == other) {
                    released.waiting.push((other, head));
                }
            }
        }
        tx.commit().await?;
        Ok(released)
    }

    async fn locks(&self, repo: &RepoName) -> Result<Vec<UnitLock>> {
        let rows = sqlx::query(rows::sql::LOCKS)
            .bind(repo.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(lock_row).collect()
    }
    async fn create_pipeline(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        commit: &CommitSha,
        state: &serde_json::Value,
    ) -> Result<bool> {
        let now = now_ms();
        let made = sqlx::query(rows::sql::CREATE_PIPELINE)
            .bind(repo.as_str())
            .bind(rows::pr_value(pr)?)
            .bind(commit.as_str())
            .bind(state.to_string())
            .bind(now)
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(made == 1)
    }

    async fn pipeline(
        &self,
        repo: &RepoName,
        pr: PrNumber,
    ) -> Result<Option<(i64, serde_json::Value)>> {
        let row = sqlx::query_as::<_, (i64, String)>(rows::sql::PIPELINE)
            .bind(repo.as_str())
            .bind(rows::pr_value(pr)?)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|(v, text)| Ok((v, rows::pipeline_of(repo, pr, &text)?)))
            .transpose()
    }

    async fn pipelines(&self, repo: &RepoName) -> Result<Vec<(PrNumber, serde_json::Value)>> {
        let rows = sqlx::query_as::<_, (i64, String)>(rows::sql::PIPELINES)
            .bind(repo.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|(pr, text)| {
                let pr = PrNumber(u64::try_from(pr).map_err(|_| {
                    StoreError::Corrupt(format!("pipelines of {repo}: pr {pr} is negative"))
                })?);
                Ok((pr, rows::pipeline_of(repo, pr, &text)?))
            })
            .collect()
    }

    async fn save_pipeline(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        version: i64,
        state: &serde_json::Value,
    ) -> Result<bool> {
        let saved = sqlx::query(rows::sql::SAVE_PIPELINE)
            .bind(state.to_string())
            .bind(now_ms())
            .bind(repo.as_str())
            .bind(rows::pr_value(pr)?)
            .bind(version)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(saved == 1)
    }
}

fn command_row(row: &SqliteRow) -> Result<CommandRecord> {
    rows::CommandRow {
        repo: row.try_get("repo")?,
        pr: row.try_get("pr")?,
        comment_id: row.try_get("comment_id")?,
        author: row.try_get("author")?,
        command: row.try_get("command")?,
        env: row.try_get("env")?,
        head: row.try_get("head")?,
        outcome: row.try_get("outcome")?,
        detail: row.try_get("detail")?,
        at: row.try_get("at")?,
    }
    .into_record()
}

fn lock_row(row: &SqliteRow) -> Result<UnitLock> {
    rows::LockRow {
        unit: row.try_get("unit")?,
        env: row.try_get("env")?,
        pr: row.try_get("pr")?,
        head: row.try_get("head")?,
        since: row.try_get("since")?,
    }
    .into_lock()
}

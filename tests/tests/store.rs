//! The durable store, on real databases: every behaviour runs against SQLite (a file in a
//! temporary directory) and PostgreSQL (a fresh schema of the `slipway_test` database, or of
//! the database `SLIPWAY_TEST_DATABASE_URL` names; `scripts/services.sh` starts it).
//!
//! Deliveries are recorded once; a newer head supersedes older plans; an equal job is not made
//! twice while one is active; leases expire, are renewed, and give up after the last attempt;
//! and two processes claiming from one queue never hold one job at once.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agent::store::{
    self, now_ms, CommandRecord, CommitSha, Delivery, JobKind, JobState, Lease, NewJob, PgStore,
    PrNumber, Recorded, RepoName, RunRecord, SqliteStore, Store, StoreError, MAX_ATTEMPTS,
};
use tempfile::TempDir;

const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/slipway_test";
const LONG_LEASE: Duration = Duration::from_secs(30);

/// A store under test, with what a test needs to look at its rows.
struct TestStore {
    backend: Backend,
}

enum Backend {
    Sqlite {
        store: SqliteStore,
        dir: TempDir,
    },
    Postgres {
        store: PgStore,
        url: String,
        schema: String,
    },
}

/// The PostgreSQL URL: `SLIPWAY_TEST_DATABASE_URL`, else `postgres` or, where that role does
/// not exist, `root` on the local server.
async fn database_url() -> String {
    static URL: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    URL.get_or_init(|| async {
        if let Ok(url) = std::env::var("SLIPWAY_TEST_DATABASE_URL") {
            return url;
        }
        let root = DEFAULT_DATABASE_URL.replace("postgres@", "root@");
        for url in [DEFAULT_DATABASE_URL.to_string(), root] {
            if let Ok(pool) = sqlx::PgPool::connect(&url).await {
                pool.close().await;
                return url;
            }
        }
        panic!(
            "no PostgreSQL at {DEFAULT_DATABASE_URL} (as postgres or root): run \
             scripts/services.sh or set SLIPWAY_TEST_DATABASE_URL"
        )
    })
    .await
    .clone()
}

impl TestStore {
    async fn sqlite() -> TestStore {
        let dir = tempfile::tempdir().expect("a temporary directory");
        // A directory that does not exist yet: the store makes it.
        let store = SqliteStore::open(&dir.path().join("data/slipway.db"))
            .await
            .expect("the SQLite store opens");
        TestStore {
            backend: Backend::Sqlite { store, dir },
        }
    }

    async fn postgres(test: &str) -> TestStore {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let url = database_url().await;
        let mut name: String = test.chars().take(36).collect();
        name.make_ascii_lowercase();
        let schema = format!(
            "t_{name}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let store = PgStore::open_in_schema(&url, &schema)
            .await
            .expect("the PostgreSQL store opens in a fresh schema");
        TestStore {
            backend: Backend::Postgres { store, url, schema },
        }
    }

    fn store(&self) -> &dyn Store {
        match &self.backend {
            Backend::Sqlite { store, .. } => store,
            Backend::Postgres { store, .. } => store,
        }
    }

    /// The store, shareable between tasks.
    fn shared(&self) -> Arc<dyn Store> {
        match &self.backend {
            Backend::Sqlite { store, .. } => Arc::new(store.clone()),
            Backend::Postgres { store, .. } => Arc::new(store.clone()),
        }
    }

    /// A second store on the same database, with its own pool: what a second process sees.
    async fn another(&self) -> Arc<dyn Store> {
        match &self.backend {
            Backend::Sqlite { dir, .. } => Arc::new(
                SqliteStore::open(&dir.path().join("data/slipway.db"))
                    .await
                    .expect("a second SQLite store on the same file"),
            ),
            Backend::Postgres { url, schema, .. } => Arc::new(
                PgStore::open_in_schema(url, schema)
                    .await
                    .expect("a second PostgreSQL store on the same schema"),
            ),
        }
    }

    /// Runs a statement (the same text on both dialects) on the rows themselves.
    async fn execute(&self, sql: &'static str) {
        match &self.backend {
            Backend::Sqlite { store, .. } => sqlx::query(sql)
                .execute(store.pool())
                .await
                .map(|r| r.rows_affected()),
            Backend::Postgres { store, .. } => sqlx::query(sql)
                .execute(store.pool())
                .await
                .map(|r| r.rows_affected()),
        }
        .expect("the statement runs");
    }

    /// The text one query answers.
    async fn text(&self, sql: &'static str) -> Option<String> {
        match &self.backend {
            Backend::Sqlite { store, .. } => {
                sqlx::query_scalar(sql).fetch_optional(store.pool()).await
            }
            Backend::Postgres { store, .. } => {
                sqlx::query_scalar(sql).fetch_optional(store.pool()).await
            }
        }
        .expect("the query runs")
    }

    /// Drops what the test made (a PostgreSQL schema; the temporary directory goes by itself).
    async fn finish(self) {
        if let Backend::Postgres { store, schema, .. } = self.backend {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA \"{schema}\" CASCADE"
            )))
            .execute(store.pool())
            .await
            .expect("the test's schema is dropped");
            store.pool().close().await;
        }
    }
}

/// Runs each case on both stores: `case::sqlite` and `case::postgres`.
macro_rules! on_both_stores {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let store = super::TestStore::sqlite().await;
                super::$case(&store).await;
                store.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let store = super::TestStore::postgres(stringify!($case)).await;
                super::$case(&store).await;
                store.finish().await;
            }
        }
    )*};
}

on_both_stores!(
    a_duplicate_delivery_stores_nothing_and_makes_no_second_job,
    a_newer_head_cancels_an_older_queued_plan,
    a_newer_head_cancels_a_running_plan_whose_worker_then_stops,
    an_equal_active_job_is_made_once_and_again_after_it_finished,
    an_expired_lease_is_claimed_by_another_worker,
    renewing_keeps_the_lease,
    a_job_gives_up_after_the_last_attempt,
    finish_takes_only_a_final_state_from_the_holder,
    cancel_jobs_cancels_the_active_jobs_of_a_pull_request,
    runs_are_upserted_by_unit,
    comments_and_check_runs_round_trip,
    a_corrupt_row_is_a_corrupt_error_naming_job_and_column,
    ready_checks_the_migrations,
    two_processes_claim_every_job_exactly_once,
    many_tasks_on_one_store_claim_every_job_exactly_once,
    two_comments_on_one_pull_request_are_two_command_jobs,
    commands_are_audited_in_order,
    a_unit_locked_by_one_pull_request_is_refused_to_another_until_released,
    two_pull_requests_racing_for_one_unit_never_both_hold_it,
    a_pipeline_is_made_once_and_saved_only_from_the_version_read,
);

fn repo() -> RepoName {
    RepoName::parse("acme/infra").expect("a repository name")
}

fn sha(n: u32) -> CommitSha {
    CommitSha::parse(&format!("{n:040x}")).expect("a commit id")
}

fn job(kind: JobKind, pr: Option<u64>, head: Option<u32>) -> NewJob {
    NewJob {
        kind,
        repo: repo(),
        pr: pr.map(PrNumber),
        head: head.map(sha),
        payload: serde_json::json!({ "kind": kind.as_str(), "pr": pr, "head": head }),
    }
}

fn plan(pr: u64, head: u32) -> NewJob {
    job(JobKind::Plan, Some(pr), Some(head))
}

fn delivery(id: &str, event: &str) -> Delivery {
    Delivery {
        id: id.to_string(),
        event: event.to_string(),
        action: Some("synchronize".to_string()),
        repo: Some(repo()),
        handled: true,
        received_at_ms: now_ms(),
    }
}

fn made(recorded: Recorded) -> Vec<i64> {
    match recorded {
        Recorded::New { jobs } => jobs,
        Recorded::Duplicate => panic!("the delivery was taken for a duplicate"),
    }
}

async fn job_of(store: &dyn Store, id: i64) -> agent::store::Job {
    store
        .job(id)
        .await
        .expect("the job is read")
        .expect("the job exists")
}

async fn claim(store: &dyn Store, worker: &str, lease: Duration) -> Option<agent::store::Job> {
    store.claim(worker, lease).await.expect("claim answers")
}

async fn a_duplicate_delivery_stores_nothing_and_makes_no_second_job(t: &TestStore) {
    let s = t.store();
    let first = made(
        s.record_delivery(&delivery("d-1", "pull_request"), &[plan(1, 1)])
            .await
            .expect("the delivery is recorded"),
    );
    assert_eq!(first.len(), 1);
    assert!(s.has_delivery("d-1").await.expect("has_delivery answers"));
    assert!(!s.has_delivery("d-2").await.expect("has_delivery answers"));

    // The redelivery carries other jobs and another event: none of it is stored.
    let again = s
        .record_delivery(
            &delivery("d-1", "issue_comment"),
            &[plan(1, 1), plan(2, 2), job(JobKind::Push, None, Some(3))],
        )
        .await
        .expect("the redelivery is answered");
    assert_eq!(again, Recorded::Duplicate);
    assert_eq!(
        s.jobs_of_pr(&repo(), PrNumber(1))
            .await
            .expect("jobs")
            .len(),
        1
    );
    assert!(s
        .jobs_of_pr(&repo(), PrNumber(2))
        .await
        .expect("jobs")
        .is_empty());
    assert_eq!(s.queue_depth().await.expect("queue depth"), 1);
    assert_eq!(
        t.text("SELECT event FROM deliveries WHERE id = 'd-1'")
            .await
            .as_deref(),
        Some("pull_request")
    );
    assert_eq!(
        t.text("SELECT delivery FROM jobs").await.as_deref(),
        Some("d-1"),
        "the job remembers its delivery"
    );

    // A delivery Slipway does not act on is recorded all the same, with no job.
    let unhandled = Delivery {
        handled: false,
        action: None,
        repo: None,
        ..delivery("d-2", "star")
    };
    assert_eq!(
        s.record_delivery(&unhandled, &[]).await.expect("recorded"),
        Recorded::New { jobs: vec![] }
    );
    assert!(s.has_delivery("d-2").await.expect("has_delivery answers"));
}

async fn a_newer_head_cancels_an_older_queued_plan(t: &TestStore) {
    let s = t.store();
    let old = made(
        s.record_delivery(&delivery("d-1", "pull_request"), &[plan(1, 1)])
            .await
            .expect("recorded"),
    );
    // What must survive: another pull request's plan, and a command on the old head.
    let others = s
        .enqueue(&[plan(2, 1), job(JobKind::Command, Some(1), Some(1))])
        .await
        .expect("enqueued");
    let new = made(
        s.record_delivery(&delivery("d-2", "pull_request"), &[plan(1, 2)])
            .await
            .expect("recorded"),
    );
    assert_eq!(new.len(), 1);

    let old = job_of(s, old[0]).await;
    assert_eq!(old.state, JobState::Cancelled);
    assert_eq!(
        old.outcome.as_deref(),
        Some(format!("superseded by {}", sha(2)).as_str())
    );
    assert_eq!(job_of(s, new[0]).await.state, JobState::Queued);
    for id in others {
        assert_eq!(job_of(s, id).await.state, JobState::Queued);
    }
    // The queue hands out the new head's plan, never the cancelled one.
    let mut claimed = Vec::new();
    while let Some(job) = claim(s, "w1", LONG_LEASE).await {
        claimed.push(job.id);
    }
    assert_eq!(claimed.len(), 3);
    assert!(!claimed.contains(&old.id));
}

async fn a_newer_head_cancels_a_running_plan_whose_worker_then_stops(t: &TestStore) {
    let s = t.store();
    let old = s.enqueue(&[plan(1, 1)]).await.expect("enqueued");
    let running = claim(s, "w1", LONG_LEASE).await.expect("a job to claim");
    assert_eq!(running.id, old[0]);
    assert_eq!(running.state, JobState::Running);

    let new = s.enqueue(&[plan(1, 2)]).await.expect("enqueued");
    assert_eq!(new.len(), 1);

    assert_eq!(
        s.renew(running.id, "w1", LONG_LEASE)
            .await
            .expect("renew answers"),
        Lease::Cancelled
    );
    assert!(
        !s.finish(running.id, "w1", JobState::Done, "planned")
            .await
            .expect("finish answers"),
        "a cancelled job is not finished"
    );
    let old = job_of(s, running.id).await;
    assert_eq!(old.state, JobState::Cancelled);
    assert_eq!(
        old.outcome.as_deref(),
        Some(format!("superseded by {}", sha(2)).as_str())
    );
    assert_eq!(s.queue_depth().await.expect("queue depth"), 1);
}

async fn an_equal_active_job_is_made_once_and_again_after_it_finished(t: &TestStore) {
    let s = t.store();
    let first = s.enqueue(&[plan(1, 1)]).await.expect("enqueued");
    assert_eq!(first.len(), 1);
    assert!(s.enqueue(&[plan(1, 1)]).await.expect("enqueued").is_empty());
    assert_eq!(
        s.record_delivery(&delivery("d-1", "pull_request"), &[plan(1, 1)])
            .await
            .expect("recorded"),
        Recorded::New { jobs: vec![] },
        "the delivery is new, its job is not"
    );
    // The same head's job of another kind, and the same job of another pull request, are
    // other jobs.
    assert_eq!(
        s.enqueue(&[job(JobKind::Close, Some(1), Some(1)), plan(2, 1)])
            .await
            .expect("enqueued")
            .len(),
        2
    );
    // Jobs without a pull request are compared all the same, within one call too.
    assert_eq!(
        s.enqueue(&[
            job(JobKind::Push, None, Some(7)),
            job(JobKind::Push, None, Some(7))
        ])
        .await
        .expect("enqueued")
        .len(),
        1
    );

    let running = claim(s, "w1", LONG_LEASE).await.expect("a job to claim");
    assert_eq!(running.id, first[0]);
    assert!(
        s.enqueue(&[plan(1, 1)]).await.expect("enqueued").is_empty(),
        "a running job is active too"
    );
    assert!(s
        .finish(running.id, "w1", JobState::Done, "planned")
        .await
        .expect("finish answers"));

    // A re-requested plan of the same head, once the first finished.
    let again = s.enqueue(&[plan(1, 1)]).await.expect("enqueued");
    assert_eq!(again.len(), 1);
    assert_ne!(again[0], first[0]);
    let plans: Vec<_> = s
        .jobs_of_pr(&repo(), PrNumber(1))
        .await
        .expect("jobs")
        .into_iter()
        .filter(|j| j.kind == JobKind::Plan)
        .map(|j| (j.id, j.state))
        .collect();
    assert_eq!(
        plans,
        vec![(first[0], JobState::Done), (again[0], JobState::Queued)]
    );
}

async fn an_expired_lease_is_claimed_by_another_worker(t: &TestStore) {
    let s = t.store();
    let id = s.enqueue(&[plan(1, 1)]).await.expect("enqueued")[0];
    let first = claim(s, "w1", Duration::from_millis(50))
        .await
        .expect("claimed");
    assert_eq!((first.id, first.attempts), (id, 1));
    assert_eq!(first.lease_holder.as_deref(), Some("w1"));
    assert!(
        claim(s, "w2", LONG_LEASE).await.is_none(),
        "w1's lease runs"
    );

    tokio::time::sleep(Duration::from_millis(120)).await;
    let second = claim(s, "w2", LONG_LEASE).await.expect("claimed again");
    assert_eq!((second.id, second.attempts), (id, 2));
    assert_eq!(second.lease_holder.as_deref(), Some("w2"));
    assert!(second.lease_expires_at_ms > first.lease_expires_at_ms);

    assert_eq!(
        s.renew(id, "w1", LONG_LEASE).await.expect("renew answers"),
        Lease::Lost
    );
    assert!(!s
        .finish(id, "w1", JobState::Done, "late")
        .await
        .expect("finish answers"));
    assert!(s
        .finish(id, "w2", JobState::Done, "planned")
        .await
        .expect("finish answers"));
    let done = job_of(s, id).await;
    assert_eq!(done.state, JobState::Done);
    assert_eq!(done.outcome.as_deref(), Some("planned"));
    assert_eq!(
        s.renew(id, "w2", LONG_LEASE).await.expect("renew answers"),
        Lease::Lost,
        "a finished job's lease is gone"
    );
}

async fn renewing_keeps_the_lease(t: &TestStore) {
    let s = t.store();
    let lease = Duration::from_millis(1000);
    let id = s.enqueue(&[plan(1, 1)]).await.expect("enqueued")[0];
    let started = Instant::now();
    claim(s, "w1", lease).await.expect("claimed");
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(
            s.renew(id, "w1", lease).await.expect("renew answers"),
            Lease::Held
        );
        assert!(claim(s, "w2", LONG_LEASE).await.is_none());
    }
    assert!(
        started.elapsed() > lease,
        "the first lease alone would have run out"
    );
    let job = job_of(s, id).await;
    assert_eq!((job.attempts, job.lease_holder.as_deref()), (1, Some("w1")));
    assert!(s
        .finish(id, "w1", JobState::Done, "planned")
        .await
        .expect("finish answers"));
}

async fn a_job_gives_up_after_the_last_attempt(t: &TestStore) {
    let s = t.store();
    let doomed = s.enqueue(&[plan(1, 1)]).await.expect("enqueued")[0];
    let next = s.enqueue(&[plan(2, 1)]).await.expect("enqueued")[0];
    for attempt in 1..=MAX_ATTEMPTS {
        let job = claim(s, &format!("w{attempt}"), Duration::from_millis(1))
            .await
            .expect("claimed");
        assert_eq!((job.id, job.attempts), (doomed, attempt));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The queue moves on to the next job; the doomed one is failed, not claimed a sixth time.
    let job = claim(s, "w9", LONG_LEASE).await.expect("the next job");
    assert_eq!(job.id, next);
    let failed = job_of(s, doomed).await;
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.attempts, MAX_ATTEMPTS);
    assert_eq!(failed.outcome.as_deref(), Some("gave up after 5 attempts"));
    assert_eq!(
        s.renew(doomed, "w5", LONG_LEASE)
            .await
            .expect("renew answers"),
        Lease::Lost
    );
    assert_eq!(s.queue_depth().await.expect("queue depth"), 1);
}

async fn finish_takes_only_a_final_state_from_the_holder(t: &TestStore) {
    let s = t.store();
    let id = s.enqueue(&[plan(1, 1)]).await.expect("enqueued")[0];
    assert!(
        !s.finish(id, "w1", JobState::Done, "unclaimed")
            .await
            .expect("finish answers"),
        "a queued job has no holder"
    );
    claim(s, "w1", LONG_LEASE).await.expect("claimed");
    assert!(!s
        .finish(id, "w2", JobState::Done, "not mine")
        .await
        .expect("finish answers"));
    for state in [JobState::Queued, JobState::Running] {
        assert!(matches!(
            s.finish(id, "w1", state, "?").await,
            Err(StoreError::Invalid(_))
        ));
    }
    assert_eq!(job_of(s, id).await.state, JobState::Running);
    assert!(s
        .finish(id, "w1", JobState::Failed, "terraform exited with 1")
        .await
        .expect("finish answers"));
    assert!(
        !s.finish(id, "w1", JobState::Done, "twice")
            .await
            .expect("finish answers"),
        "a finished job is not finished again"
    );
    let job = job_of(s, id).await;
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(job.outcome.as_deref(), Some("terraform exited with 1"));
}

async fn cancel_jobs_cancels_the_active_jobs_of_a_pull_request(t: &TestStore) {
    let s = t.store();
    let running = s.enqueue(&[plan(1, 1)]).await.expect("enqueued")[0];
    claim(s, "w1", LONG_LEASE).await.expect("claimed");
    let finished = s
        .enqueue(&[job(JobKind::Command, Some(1), Some(1))])
        .await
        .expect("enqueued")[0];
    claim(s, "w1", LONG_LEASE).await.expect("claimed");
    assert!(s
        .finish(finished, "w1", JobState::Done, "replied")
        .await
        .expect("finish answers"));
    let ids = s
        .enqueue(&[
            job(JobKind::Command, Some(1), Some(2)),
            plan(2, 1),
            job(JobKind::Close, Some(1), None),
        ])
        .await
        .expect("enqueued");
    let (command, other_pr, close) = (ids[0], ids[1], ids[2]);

    assert_eq!(
        s.cancel_jobs(&repo(), PrNumber(1), JobKind::Plan)
            .await
            .expect("cancel answers"),
        1
    );
    assert_eq!(
        s.cancel_jobs(&repo(), PrNumber(1), JobKind::Command)
            .await
            .expect("cancel answers"),
        1,
        "the finished command stays as it is"
    );
    assert_eq!(
        s.renew(running, "w1", LONG_LEASE)
            .await
            .expect("renew answers"),
        Lease::Cancelled
    );
    assert_eq!(job_of(s, running).await.state, JobState::Cancelled);
    assert_eq!(job_of(s, command).await.state, JobState::Cancelled);
    assert_eq!(job_of(s, finished).await.state, JobState::Done);
    assert_eq!(job_of(s, other_pr).await.state, JobState::Queued);
    assert_eq!(job_of(s, close).await.state, JobState::Queued);
    assert_eq!(s.queue_depth().await.expect("queue depth"), 2);
}

async fn runs_are_upserted_by_unit(t: &TestStore) {
    let s = t.store();
    let id = s.enqueue(&[plan(1, 1)]).await.expect("enqueued")[0];
    let planning = RunRecord {
        job: id,
        unit: "live/prod/vpc".to_string(),
        env: Some("prod".to_string()),
        action: "plan".to_string(),
        state: "planning".to_string(),
        plan_checksum: None,
        started_at_ms: Some(1_700_000_000_000),
        finished_at_ms: None,
        outcome: None,
    };
    s.record_run(&planning).await.expect("the run is recorded");
    let planned = RunRecord {
        state: "planned".to_string(),
        plan_checksum: Some("sha256:abc".to_string()),
        finished_at_ms: Some(1_700_000_060_000),
        outcome: Some("2 to add".to_string()),
        ..planning.clone()
    };
    s.record_run(&planned).await.expect("the run is replaced");
    let other = RunRecord {
        unit: "live/dev/vpc".to_string(),
        env: None,
        ..planning.clone()
    };
    s.record_run(&other).await.expect("another unit's run");

    assert_eq!(
        s.runs(id).await.expect("runs"),
        vec![other, planned],
        "one run per unit, by unit"
    );
    assert!(s.runs(id + 1).await.expect("runs").is_empty());
    let orphan = RunRecord {
        job: id + 1000,
        ..planning
    };
    assert!(
        matches!(s.record_run(&orphan).await, Err(StoreError::Database(_))),
        "a run belongs to a job that exists"
    );
}

async fn comments_and_check_runs_round_trip(t: &TestStore) {
    let s = t.store();
    let big = 1u64 << 40;
    assert!(s
        .comments(&repo(), PrNumber(1))
        .await
        .expect("comments")
        .is_empty());
    s.set_comments(&repo(), PrNumber(1), &[big + 3, 1, 2])
        .await
        .expect("comments set");
    s.set_comments(&repo(), PrNumber(2), &[9])
        .await
        .expect("comments set");
    assert_eq!(
        s.comments(&repo(), PrNumber(1)).await.expect("comments"),
        vec![big + 3, 1, 2]
    );
    s.set_comments(&repo(), PrNumber(1), &[5])
        .await
        .expect("comments replaced");
    assert_eq!(
        s.comments(&repo(), PrNumber(1)).await.expect("comments"),
        vec![5]
    );
    assert_eq!(
        s.comments(&repo(), PrNumber(2)).await.expect("comments"),
        vec![9]
    );
    assert!(matches!(
        s.set_comments(&repo(), PrNumber(1), &[u64::MAX]).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        s.comments(&repo(), PrNumber(1)).await.expect("comments"),
        vec![5],
        "a refused replacement changes nothing"
    );

    let name = "slipway / plan";
    assert_eq!(
        s.check_run(&repo(), &sha(1), name)
            .await
            .expect("check run"),
        None
    );
    s.set_check_run(&repo(), &sha(1), name, big)
        .await
        .expect("check run set");
    s.set_check_run(&repo(), &sha(2), name, 7)
        .await
        .expect("check run set");
    assert_eq!(
        s.check_run(&repo(), &sha(1), name)
            .await
            .expect("check run"),
        Some(big)
    );
    s.set_check_run(&repo(), &sha(1), name, big + 1)
        .await
        .expect("check run replaced");
    assert_eq!(
        s.check_run(&repo(), &sha(1), name)
            .await
            .expect("check run"),
        Some(big + 1)
    );
    assert_eq!(
        s.check_run(&repo(), &sha(2), name)
            .await
            .expect("check run"),
        Some(7)
    );
    assert_eq!(
        s.check_run(&repo(), &sha(1), "slipway / apply")
            .await
            .expect("check run"),
        None
    );
}

async fn a_corrupt_row_is_a_corrupt_error_naming_job_and_column(t: &TestStore) {
    let s = t.store();
    let id = s.enqueue(&[plan(1, 1)]).await.expect("enqueued")[0];
    let corrupt = |result: Result<(), StoreError>, column: &str| match result {
        Err(StoreError::Corrupt(message)) => assert!(
            message.contains(&format!("job {id}")) && message.contains(column),
            "{message:?} names job {id} and column {column}"
        ),
        other => panic!("expected a corrupt {column}, got {other:?}"),
    };

    t.execute("UPDATE jobs SET kind = 'teleport'").await;
    corrupt(s.job(id).await.map(|_| ()), "kind");
    corrupt(s.jobs_of_pr(&repo(), PrNumber(1)).await.map(|_| ()), "kind");
    t.execute("UPDATE jobs SET kind = 'plan', state = 'limbo'")
        .await;
    corrupt(s.job(id).await.map(|_| ()), "state");
    t.execute("UPDATE jobs SET state = 'queued', repo = 'not a repository'")
        .await;
    corrupt(s.job(id).await.map(|_| ()), "repo");
    t.execute("UPDATE jobs SET repo = 'acme/infra', head = 'HEAD'")
        .await;
    corrupt(s.job(id).await.map(|_| ()), "head");
    t.execute("UPDATE jobs SET head = NULL, payload = '{not json'")
        .await;
    corrupt(s.job(id).await.map(|_| ()), "payload");

    // A worker claiming the corrupt job is told so; the job runs out its lease like any
    // other, and the queue moves on.
    let next = s.enqueue(&[plan(2, 1)]).await.expect("enqueued")[0];
    corrupt(s.claim("w1", LONG_LEASE).await.map(|_| ()), "payload");
    let job = claim(s, "w1", LONG_LEASE).await.expect("the next job");
    assert_eq!(job.id, next);
}

async fn ready_checks_the_migrations(t: &TestStore) {
    let s = t.store();
    s.ready().await.expect("a freshly opened store is ready");
    t.execute("DELETE FROM _sqlx_migrations").await;
    match s.ready().await {
        Err(StoreError::NotReady(message)) => {
            assert!(message.contains('1'), "{message:?} names the migration")
        }
        other => panic!("expected not ready, got {other:?}"),
    }
}

const JOBS: u32 = 200;

async fn two_processes_claim_every_job_exactly_once(t: &TestStore) {
    let stores = vec![t.shared(), t.another().await];
    drain_concurrently(t, stores, 4).await;
}

async fn many_tasks_on_one_store_claim_every_job_exactly_once(t: &TestStore) {
    drain_concurrently(t, vec![t.shared()], 8).await;
}

/// Enqueues [`JOBS`] jobs, lets `tasks` workers per store claim and finish them until the
/// queue is empty, and checks that every job was claimed and finished exactly once and never
/// held by two workers at once.
async fn drain_concurrently(t: &TestStore, stores: Vec<Arc<dyn Store>>, tasks: usize) {
    let jobs: Vec<NewJob> = (1..=JOBS)
        .map(|n| job(JobKind::Command, Some(u64::from(n)), Some(n)))
        .collect();
    let ids: BTreeSet<i64> = t
        .store()
        .enqueue(&jobs)
        .await
        .expect("enqueued")
        .into_iter()
        .collect();
    assert_eq!(ids.len(), JOBS as usize);

    // Which worker holds which job right now, as the workers themselves saw it.
    let held: Arc<Mutex<HashMap<i64, String>>> = Arc::default();
    let overlaps: Arc<Mutex<Vec<String>>> = Arc::default();
    let claims: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for (p, store) in stores.iter().enumerate() {
        for w in 0..tasks {
            let (store, held, overlaps, claims) = (
                store.clone(),
                held.clone(),
                overlaps.clone(),
                claims.clone(),
            );
            let worker = format!("p{p}-w{w}");
            workers.spawn(async move {
                while let Some(job) = store.claim(&worker, LONG_LEASE).await.expect("claim") {
                    assert_eq!(job.attempts, 1, "job {} was claimed before", job.id);
                    claims
                        .lock()
                        .expect("claims")
                        .push((job.id, worker.clone()));
                    if let Some(other) = held.lock().expect("held").insert(job.id, worker.clone()) {
                        overlaps
                            .lock()
                            .expect("overlaps")
                            .push(format!("job {} held by {other} and {worker}", job.id));
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    let finished = store
                        .finish(job.id, &worker, JobState::Done, "done")
                        .await
                        .expect("finish");
                    assert!(finished, "{worker} finishes job {}", job.id);
                    held.lock().expect("held").remove(&job.id);
                }
            });
        }
    }
    while let Some(result) = workers.join_next().await {
        result.expect("a worker ran to the end");
    }
    let elapsed = started.elapsed();

    let overlaps = overlaps.lock().expect("overlaps").clone();
    assert!(overlaps.is_empty(), "{overlaps:#?}");
    let claims = claims.lock().expect("claims").clone();
    let claimed: BTreeSet<i64> = claims.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        claims.len(),
        JOBS as usize,
        "every job claimed exactly once"
    );
    assert_eq!(claimed, ids);
    let s = t.store();
    assert_eq!(s.queue_depth().await.expect("queue depth"), 0);
    for (id, worker) in &claims {
        let job = job_of(s, *id).await;
        assert_eq!(
            (job.state, job.attempts, job.lease_holder.as_deref()),
            (JobState::Done, 1, Some(worker.as_str()))
        );
    }
    let mut per_worker: HashMap<&str, usize> = HashMap::new();
    for (_, worker) in &claims {
        *per_worker.entry(worker).or_default() += 1;
    }
    let mut per_worker: Vec<_> = per_worker.into_iter().collect();
    per_worker.sort();
    eprintln!(
        "{JOBS} jobs claimed and finished by {} workers in {} ms ({:.0} jobs/s): {per_worker:?}",
        stores.len() * tasks,
        elapsed.as_millis(),
        f64::from(JOBS) / elapsed.as_secs_f64()
    );
}

#[tokio::test]
async fn open_makes_the_sqlite_file_and_its_directory() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("a/b/slipway.db");
    let url = format!("sqlite://{}", path.display());
    let store = store::open(&url).await.expect("the store opens");
    store.ready().await.expect("ready");
    assert!(path.exists());
    let id = store.enqueue(&[plan(1, 1)]).await.expect("enqueued")[0];
    drop(store);

    // Reopened, the job is still there and the migrations are not applied twice.
    let store = store::open(&url).await.expect("the store opens again");
    assert_eq!(job_of(store.as_ref(), id).await.state, JobState::Queued);
}

#[tokio::test]
async fn open_refuses_an_unknown_database() {
    assert!(matches!(
        store::open("mysql://localhost/slipway").await,
        Err(StoreError::Config(_))
    ));
    assert!(matches!(
        PgStore::open_in_schema(DEFAULT_DATABASE_URL, "x\"; DROP TABLE jobs; --").await,
        Err(StoreError::Config(_))
    ));
}

async fn two_comments_on_one_pull_request_are_two_command_jobs(t: &TestStore) {
    let s = t.store();
    let command = || job(JobKind::Command, Some(1), None);
    let first = made(
        s.record_delivery(&delivery("c-1", "issue_comment"), &[command()])
            .await
            .expect("recorded"),
    );
    let second = made(
        s.record_delivery(&delivery("c-2", "issue_comment"), &[command()])
            .await
            .expect("recorded"),
    );
    assert_eq!(
        (first.len(), second.len()),
        (1, 1),
        "neither comment is lost"
    );
    assert_eq!(
        s.record_delivery(&delivery("c-2", "issue_comment"), &[command()])
            .await
            .expect("recorded"),
        Recorded::Duplicate,
        "a redelivery still makes nothing"
    );
}

async fn commands_are_audited_in_order(t: &TestStore) {
    let s = t.store();
    let record = |n: u64, command: &str, outcome: &str| CommandRecord {
        repo: repo(),
        pr: PrNumber(3),
        comment_id: 100 + n,
        author: "ada".into(),
        command: command.into(),
        env: Some("prod".into()),
        head: Some(sha(9)),
        outcome: outcome.into(),
        detail: format!("detail {n}"),
        at_ms: now_ms(),
    };
    let given = [
        record(1, "/apply prod", "refused"),
        record(2, "/plan", "accepted"),
    ];
    for c in &given {
        s.record_command(c).await.expect("recorded");
    }
    let read = s.commands_of_pr(&repo(), PrNumber(3)).await.expect("read");
    assert_eq!(read, given);
    assert!(s
        .commands_of_pr(&repo(), PrNumber(4))
        .await
        .expect("read")
        .is_empty());
}

async fn a_unit_locked_by_one_pull_request_is_refused_to_another_until_released(t: &TestStore) {
    let s = t.store();
    let units = |names: &[&str]| -> Vec<(String, Option<String>)> {
        names
            .iter()
            .map(|n| (n.to_string(), Some("prod".to_string())))
            .collect()
    };
    let held = s
        .lock_units(
            &repo(),
            PrNumber(1),
            &sha(1),
            &units(&["live/prod/db", "live/prod/app"]),
        )
        .await
        .expect("locked");
    assert!(held.is_empty(), "free units are taken: {held:?}");
    // A new head of the same pull request renews its own locks.
    assert!(s
        .lock_units(&repo(), PrNumber(1), &sha(2), &units(&["live/prod/db"]))
        .await
        .expect("locked")
        .is_empty());
    let refused = s
        .lock_units(
            &repo(),
            PrNumber(2),
            &sha(3),
            &units(&["live/prod/db", "live/prod/web"]),
        )
        .await
        .expect("answered");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(
        (refused[0].unit.as_str(), refused[0].pr, &refused[0].head),
        ("live/prod/db", PrNumber(1), &sha(2))
    );
    let all: Vec<(String, PrNumber)> = s
        .locks(&repo())
        .await
        .expect("locks")
        .into_iter()
        .map(|l| (l.unit, l.pr))
        .collect();
    assert_eq!(
        all,
        [
            ("live/prod/app".to_string(), PrNumber(1)),
            ("live/prod/db".to_string(), PrNumber(1)),
            ("live/prod/web".to_string(), PrNumber(2)),
        ]
    );
    // Another pull request cannot release what it does not hold.
    assert_eq!(
        s.unlock_units(&repo(), PrNumber(2), Some(&["live/prod/db".to_string()]))
            .await
            .expect("answered")
            .count,
        0
    );
    let released = s
        .unlock_units(&repo(), PrNumber(1), None)
        .await
        .expect("released");
    assert_eq!(released.count, 2);
    assert_eq!(
        released.waiting,
        [(PrNumber(2), sha(3))],
        "the pull request refused the lock is named, to be checked again"
    );
    assert!(s
        .lock_units(&repo(), PrNumber(2), &sha(3), &units(&["live/prod/db"]))
        .await
        .expect("locked")
        .is_empty());
    assert!(
        s.unlock_units(&repo(), PrNumber(2), None)
            .await
            .expect("released")
            .waiting
            .is_empty(),
        "a wait is cleared once it is answered"
    );
}

async fn two_pull_requests_racing_for_one_unit_never_both_hold_it(t: &TestStore) {
    for round in 0..20u32 {
        let unit = vec![(format!("live/prod/unit-{round}"), Some("prod".to_string()))];
        let (a, b) = (t.shared(), t.shared());
        let (ua, ub) = (unit.clone(), unit.clone());
        let ta =
            tokio::spawn(async move { a.lock_units(&repo(), PrNumber(1), &sha(1), &ua).await });
        let tb =
            tokio::spawn(async move { b.lock_units(&repo(), PrNumber(2), &sha(2), &ub).await });
        let ra = ta.await.expect("task").expect("answered");
        let rb = tb.await.expect("task").expect("answered");
        assert_eq!(
            usize::from(ra.is_empty()) + usize::from(rb.is_empty()),
            1,
            "exactly one pull request holds the unit: {ra:?} {rb:?}"
        );
    }
}

async fn a_pipeline_is_made_once_and_saved_only_from_the_version_read(t: &TestStore) {
    let s = t.store();
    let first = serde_json::json!({"stage": "dev"});
    assert!(s
        .create_pipeline(&repo(), PrNumber(5), &sha(1), &first)
        .await
        .expect("made"));
    assert!(
        !s.create_pipeline(&repo(), PrNumber(5), &sha(2), &serde_json::json!({}))
            .await
            .expect("answered"),
        "a pull request has one pipeline"
    );
    let (version, state) = s
        .pipeline(&repo(), PrNumber(5))
        .await
        .expect("read")
        .expect("there");
    assert_eq!((version, &state), (1, &first));
    let next = serde_json::json!({"stage": "prod"});
    assert!(s
        .save_pipeline(&repo(), PrNumber(5), version, &next)
        .await
        .expect("saved"));
    assert!(
        !s.save_pipeline(
            &repo(),
            PrNumber(5),
            version,
            &serde_json::json!({"stale": true})
        )
        .await
        .expect("answered"),
        "a writer that read version 1 cannot overwrite version 2"
    );
    let (version, state) = s
        .pipeline(&repo(), PrNumber(5))
        .await
        .expect("read")
        .expect("there");
    assert_eq!((version, state), (2, next));
}

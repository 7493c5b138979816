//! The service survives its own death: `slipway serve` killed with SIGKILL while a plan runs
//! and started again on the same data directory takes the job again and ends the comment
//! right, posting nothing twice; and two `slipway worker` processes on one PostgreSQL queue
//! run every job exactly once.

use std::time::Duration;

use agent::store::{CommitSha, JobKind, JobState, NewJob, RepoName};
use slipway_tests::github::{FakeGithub, PullSpec, TOKEN};
use slipway_tests::service::{one_unit_repo, pull_request_payload, Service};
use slipway_tests::{terraform, terraform_env};

const WAIT: Duration = Duration::from_secs(240);

/// Real terraform behind a wrapper that takes `secs` seconds before each plan.
fn slow_terraform(dir: &std::path::Path, secs: u32) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("terraform");
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\ncase \"$1\" in plan) sleep {secs};; esac\nexec '{}' \"$@\"\n",
            terraform().display()
        ),
    )
    .expect("write wrapper");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    p
}

#[test]
fn a_service_killed_while_planning_takes_the_job_again_and_posts_nothing_twice() {
    let github = FakeGithub::start();
    github.add_repo("acme", "infra");
    let repo = one_unit_repo();
    let base = repo.commit("infrastructure");
    repo.edit("live/dev/app/terragrunt.hcl", "\"v1\"", "\"v2\"");
    let head = repo.commit("v2");
    let base_oid = git2::Oid::from_str(&base).expect("oid");
    let head_oid = git2::Oid::from_str(&head).expect("oid");
    repo.repo
        .reference("refs/pull/5/head", head_oid, true, "pr")
        .expect("pull ref");
    repo.repo
        .reference("refs/heads/main", base_oid, true, "main at the base")
        .expect("main");

    let tmp = tempfile::tempdir().expect("tmp");
    let wrapper = slow_terraform(tmp.path(), 6);
    let mut env = vec![
        ("SLIPWAY_GITHUB_TOKEN".to_string(), TOKEN.to_string()),
        ("SLIPWAY_GITHUB_API_URL".to_string(), github.url()),
        (
            "SLIPWAY_TERRAFORM".to_string(),
            wrapper.display().to_string(),
        ),
        ("SLIPWAY_ASSUME_ROLES".to_string(), "0".to_string()),
        ("SLIPWAY_LEASE_SECONDS".to_string(), "3".to_string()),
        (
            "SLIPWAY_COMMENT_EDIT_SECONDS".to_string(),
            "0.2".to_string(),
        ),
    ];
    env.extend(terraform_env());
    let mut service = Service::serve(&tmp.path().join("data"), &env);

    let mut spec = PullSpec::new(5, &head);
    spec.base_sha = base.clone();
    github.add_pull("acme/infra", spec);
    let url = format!("file://{}", repo.path().display());
    let (status, body) = service.deliver(
        "pull_request",
        &pull_request_payload("opened", "acme/infra", &url, 5, &head, "main", &base, false),
    );
    assert_eq!(status, 202, "{body}");

    // The live comment is up and terraform is planning: kill the service there.
    let planning = github.wait_until(WAIT, |s| {
        s.comments_on("acme/infra", 5)
            .iter()
            .any(|c| c.body.contains("⏳ planning"))
    });
    assert!(planning, "no live comment:\n{}", service.log());
    std::thread::sleep(Duration::from_millis(500));
    service.kill();
    service.start();

    let done = github.wait_until(WAIT, |s| {
        s.comments_on("acme/infra", 5)
            .iter()
            .any(|c| c.body.contains("null_resource.app will be created"))
            && s.check_runs
                .values()
                .filter(|c| c.name == "slipway/policy" && c.status == "completed")
                .count()
                == 1
    });
    assert!(
        done,
        "the job was not finished after the restart:\n{}",
        service.log()
    );
    let comments: Vec<_> = github
        .comments("acme/infra", 5)
        .into_iter()
        .filter(|c| !c.deleted)
        .collect();
    assert_eq!(comments.len(), 1, "posted twice: {comments:#?}");
    for name in ["slipway/plan", "slipway/policy"] {
        let runs = github.with_state(|s| {
            s.check_runs
                .values()
                .filter(|c| c.name == name && c.head_sha == head)
                .count()
        });
        assert_eq!(runs, 1, "{name} was created {runs} times");
    }
    assert_eq!(
        github
            .check_run("acme/infra", &head, "slipway/plan")
            .and_then(|c| c.conclusion),
        Some("success".to_string())
    );
    assert!(
        service.log().contains("attempt=2"),
        "the job was not taken again:\n{}",
        service.log()
    );
    github.assert_no_violations();
}

/// A fresh database on the PostgreSQL `make test` starts, for one test.
fn fresh_database() -> String {
    let admin = std::env::var("SLIPWAY_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/slipway_test".to_string());
    let name = format!(
        "slipway_workers_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| {
                panic!("PostgreSQL at {admin}: {e} (make test starts it: scripts/services.sh)")
            });
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut c)
            .await
            .expect("create database");
    });
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .expect("a database URL");
    format!("{base}/{name}")
}

#[test]
fn two_worker_processes_on_one_postgresql_queue_run_every_job_exactly_once() {
    let github = FakeGithub::start();
    let url = fresh_database();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let store = rt
        .block_on(agent::store::open(&url))
        .expect("open the store");
    let tmp = tempfile::tempdir().expect("tmp");
    let env = vec![
        ("SLIPWAY_GITHUB_TOKEN".to_string(), TOKEN.to_string()),
        ("SLIPWAY_GITHUB_API_URL".to_string(), github.url()),
        ("SLIPWAY_DATABASE_URL".to_string(), url.clone()),
        ("SLIPWAY_WORKERS".to_string(), "4".to_string()),
    ];
    let _a = Service::worker(&tmp.path().join("a"), &env);
    let _b = Service::worker(&tmp.path().join("b"), &env);
    let repo = RepoName::parse("acme/infra").expect("name");
    // Pull requests closed unmerged: each job asks nothing of GitHub.
    let jobs: Vec<NewJob> = (1..=200u64)
        .map(|i| NewJob {
            kind: JobKind::Close,
            repo: repo.clone(),
            pr: Some(agent::store::PrNumber(i)),
            head: Some(CommitSha::parse(&format!("{i:040x}")).expect("sha")),
            payload: serde_json::json!({
                "repo": {"name": "acme/infra", "clone_url": "file:///nowhere", "default_branch": "main", "installation": null},
                "pr": i, "merged": false, "merge_commit": null
            }),
        })
        .collect();
    let ids = rt.block_on(store.enqueue(&jobs)).expect("enqueue");
    assert_eq!(ids.len(), 200);
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let left = rt.block_on(store.queue_depth()).expect("depth");
        if left == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{left} jobs left");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut holders = std::collections::BTreeSet::new();
    for id in ids {
        let job = rt.block_on(store.job(id)).expect("job").expect("exists");
        assert_eq!(job.state, JobState::Done, "job {id}: {job:?}");
        assert_eq!(
            job.attempts, 1,
            "job {id} was claimed {} times",
            job.attempts
        );
        if let Some(h) = job.lease_holder {
            holders.insert(h.rsplit_once('-').map(|(p, _)| p.to_string()).unwrap_or(h));
        }
    }
    assert!(!holders.is_empty());
}
